"""Lambda's deployment limits, and the checks of built artifacts against them.

The size error that lists the ways out of the unzipped limit is rendered by `remedies.py`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping, NamedTuple, Sequence

from pants.engine.addresses import Address
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact.artifact import LambdaArtifact
from pants_aws_lambda.artifact.output import ArtifactOutput
from pants_aws_lambda.artifact.sizes import format_exact
from pants_aws_lambda.facts.quotas import (
    CONTAINER_IMAGE_BYTES,
    DIRECT_UPLOAD_ZIPPED_BYTES,
    UNZIPPED_BYTES,
    Limit,
)

logger = logging.getLogger(__name__)


class LabelledSize(NamedTuple):
    """A part of an artifact in the size breakdown: what it is, and its unzipped bytes."""

    label: str
    bytes: int


def size_breakdown(
    top_level_sizes: Mapping[str, int], owners: Mapping[str, str], *, limit: int = 8
) -> list[LabelledSize]:
    """The largest contributors: top-level entries, labelled with the distribution they come from.

    `owners` maps a top-level entry to a label (e.g. the distribution providing it); entries of
    the same label are summed, so a distribution's package and its `.dist-info` count as one.
    """
    totals: dict[str, int] = {}
    for top, size in top_level_sizes.items():
        label = owners.get(top, first_party_label(top))
        totals[label] = totals.get(label, 0) + size
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [LabelledSize(label, size) for label, size in ordered]


def first_party_label(top: str, where: str = "") -> str:
    """How the size breakdown names a first-party top-level entry: `proj/ (first-party)`."""
    return f"{top}{'/' if '.' not in top else ''} (first-party{where})"


def over_direct_upload(output: ArtifactOutput) -> int | None:
    """The zipped bytes of an artifact over the direct-upload limit; None within it (or flat)."""
    zipped_bytes = output.zipped_bytes
    if zipped_bytes is not None and zipped_bytes > DIRECT_UPLOAD_ZIPPED_BYTES.value:
        return zipped_bytes
    return None


def direct_upload_warning(address: Address, output_path: str, zipped_bytes: int) -> str:
    """The warning for a zip over the direct-upload limit."""
    return softwrap(
        f"""
        {address}: {output_path} is {format_exact(zipped_bytes)}
        zipped, over Lambda's {DIRECT_UPLOAD_ZIPPED_BYTES.what}
        ({DIRECT_UPLOAD_ZIPPED_BYTES.value:,} bytes): upload it to S3
        and deploy from there (e.g. `aws lambda update-function-code --s3-bucket ...`),
        or move distributions to a `python_aws_lambda_layer` listed in `layers`: each zip
        is uploaded apart, so each counts on its own against this limit (not against
        the {UNZIPPED_BYTES.stated} unzipped, which counts the function and its layers
        together).
        """
    )


def warn_if_too_big_to_upload(address: Address, output: ArtifactOutput, output_path: str) -> None:
    zipped_bytes = over_direct_upload(output)
    if zipped_bytes is not None:
        logger.warning(direct_upload_warning(address, output_path, zipped_bytes))


class LayerArtifact(NamedTuple):
    """A layer a function deploys with, for the unzipped size they count together."""

    address: Address
    artifact: LambdaArtifact


@dataclass(frozen=True)
class UnzippedSize:
    """The unzipped bytes of a function with its layers (or of a layer), and the limit they meet."""

    total: int
    limit: Limit

    @property
    def over(self) -> bool:
        return self.total > self.limit.value


def unzipped_size(artifact: LambdaArtifact, layers: Sequence[LayerArtifact] = ()) -> UnzippedSize:
    total = artifact.output.unzipped_bytes + sum(
        layer.artifact.output.unzipped_bytes for layer in layers
    )
    # A `flat` artifact goes into a container image, which has its own, larger limit.
    limit = UNZIPPED_BYTES if artifact.output.zipped_bytes is not None else CONTAINER_IMAGE_BYTES
    return UnzippedSize(total, limit)
