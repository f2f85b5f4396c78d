"""Lambda's deployment limits, and the checks of built artifacts against them.

The size error that lists the ways out of the unzipped limit is rendered by `remedies.py`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, NamedTuple, Sequence

from pants.engine.addresses import Address
from pants.util.strutil import softwrap

if TYPE_CHECKING:
    # Only for annotations: the artifact's modules use the field types, whose help quotes
    # the limits.
    from pants_aws_lambda.artifact.artifact import LambdaArtifact
    from pants_aws_lambda.artifact.output import ArtifactOutput

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    value: int
    what: str


# AWS Lambda quotas for .zip deployments. AWS writes "250 MB" for 250 x 2^20 bytes: sizes here are
# binary (KiB, MiB, GiB), so a size and a limit always compare as their numbers read.
UNZIPPED_BYTES = Limit(250 * 2**20, "250 MiB unzipped, function and all its layers together")
DIRECT_UPLOAD_ZIPPED_BYTES = Limit(50 * 2**20, "50 MiB zipped for direct upload")
LAYERS_PER_FUNCTION = Limit(5, "5 layers per function")
# ... and for container images, which the `flat` layout is for.
CONTAINER_IMAGE_BYTES = Limit(10 * 2**30, "10 GiB per container image")


_BINARY_UNITS = (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


def format_bytes(size: int) -> str:
    """A size in binary units, as AWS's limits count: `243.2 MiB` is 243.2 x 2^20 bytes."""
    for unit, scale in _BINARY_UNITS:
        if size >= scale:
            # Never round up to the next tenth: a size just under a limit must not read as it.
            tenths = size * 10 // scale
            return f"{tenths // 10}.{tenths % 10} {unit}"
    return f"{size} B"


def format_quota(limit: Limit) -> str:
    """A limit's size as AWS states it, in whole binary units: `250 MiB`, `10 GiB`."""
    for unit, scale in _BINARY_UNITS:
        if limit.value >= scale and limit.value % scale == 0:
            return f"{limit.value // scale} {unit}"
    return format_bytes(limit.value)


def format_exact(size: int) -> str:
    """A size in binary units with its exact byte count, for messages about a crossed limit."""
    return f"{format_bytes(size)} ({size:,} bytes)"


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
        the {format_quota(UNZIPPED_BYTES)} unzipped, which counts the function and its layers
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
