"""Lambda's deployment limits, checked on built artifacts, with the size breakdown shown when over one."""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

from pants.engine.addresses import Address
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import remedies
from pants_aws_lambda.artifact.artifact import LambdaArtifact
from pants_aws_lambda.artifact.output import ArtifactOutput
from pants_aws_lambda.artifact.sizes import format_bytes, format_exact
from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.facts.quotas import (
    CONTAINER_IMAGE_BYTES,
    DIRECT_UPLOAD_ZIPPED_BYTES,
    UNZIPPED_BYTES,
)

logger = logging.getLogger(__name__)


def size_breakdown(
    top_level_sizes: Mapping[str, int], owners: Mapping[str, str], *, limit: int = 8
) -> list[tuple[str, int]]:
    """The largest contributors: top-level entries, labelled with the distribution they come from.

    `owners` maps a top-level entry to a label (e.g. the distribution providing it); entries of
    the same label are summed, so a distribution's package and its `.dist-info` count as one.
    """
    totals: dict[str, int] = {}
    for top, size in top_level_sizes.items():
        label = owners.get(top, f"{top}{'/' if '.' not in top else ''} (first-party)")
        totals[label] = totals.get(label, 0) + size
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def warn_if_too_big_to_upload(address: Address, output: ArtifactOutput, output_path: str) -> None:
    zipped_bytes = output.zipped_bytes
    if zipped_bytes is not None and zipped_bytes > DIRECT_UPLOAD_ZIPPED_BYTES.value:
        logger.warning(
            softwrap(
                f"""
                {address}: {output_path} is {format_exact(zipped_bytes)}
                zipped, over Lambda's {DIRECT_UPLOAD_ZIPPED_BYTES.what}
                ({DIRECT_UPLOAD_ZIPPED_BYTES.value:,} bytes): upload it to S3
                and deploy from there (e.g. `aws lambda update-function-code --s3-bucket ...`),
                or move distributions to a `python_aws_lambda_layer` listed in `layers`: each zip
                is uploaded apart, so each counts on its own against this limit (not against
                the 250 MiB unzipped, which counts the function and its layers together).
                """
            )
        )


def check_unzipped_size(
    address: Address,
    artifact: LambdaArtifact,
    layers: Sequence[tuple[Address, LambdaArtifact]] = (),
) -> int:
    """The unzipped size of a function with its layers (or of a layer); an error over the limit."""
    total = artifact.output.unzipped_bytes + sum(layer.output.unzipped_bytes for _, layer in layers)
    # A `flat` artifact goes into a container image, which has its own, larger limit.
    limit = UNZIPPED_BYTES if artifact.output.zipped_bytes is not None else CONTAINER_IMAGE_BYTES
    if total <= limit.value:
        return total
    sizes: dict[str, int] = {}
    owners: dict[str, str] = {}
    for built, suffix in [(artifact, "")] + [
        (layer, f" in layer {layer_address}") for layer_address, layer in layers
    ]:
        artifact_owners = dict(built.owners)
        for top, size in built.output.top_level:
            key = f"{top}{suffix}"
            sizes[key] = size
            if top in artifact_owners:
                owners[key] = f"{artifact_owners[top]}{suffix}"
            else:
                owners[key] = f"{top}{'/' if '.' not in top else ''} (first-party{suffix})"
    listing = "\n".join(
        f"  - {label}: {format_bytes(size)}" for label, size in size_breakdown(sizes, owners)
    )
    with_layers = (
        f" together with its layers {', '.join(str(a) for a, _ in layers)}" if layers else ""
    )
    if limit is UNZIPPED_BYTES:
        ways_out = (
            "Ways out, with what each saves here (best first; set the field on the target):\n"
            + remedies.format_rows(remedy_facts(artifact, total, bool(layers)), format_bytes)
        )
    else:
        ways_out = "Cut what the image does not need: drop requirements, or use `exclude`."
    raise LambdaPackagingError(
        f"{address} is {format_exact(total)} unzipped{with_layers}, over Lambda's limit of "
        f"{limit.what} ({limit.value:,} bytes). The largest "
        f"parts:\n{listing}\n{ways_out}\nNo artifact was written."
    )


def remedy_facts(artifact: LambdaArtifact, total: int, has_layers: bool) -> remedies.RemedyFacts:
    """What the remedies need to know of a function (or layer) over the limit."""
    owners = dict(artifact.owners)
    by_label: dict[str, list[tuple[str, int]]] = {}
    for top, size in artifact.output.top_level:
        if top in owners:
            by_label.setdefault(owners[top], []).append((top, size))
    distributions = sorted(
        (remedies.Distribution(label, tuple(entries)) for label, entries in by_label.items()),
        key=lambda d: (-d.bytes, d.label),
    )
    facts = artifact.size_facts
    return remedies.RemedyFacts(
        function_bytes=artifact.output.unzipped_bytes,
        total_bytes=total,
        limit=UNZIPPED_BYTES.value,
        bytecode=facts.bytecode,
        by_bytecode=facts.by_bytecode,
        tests_bytes=facts.tests_bytes,
        distributions=tuple(distributions),
        has_layers=has_layers,
        first_party_dirs=facts.first_party_dirs,
        slim_bytes=artifact.slim_removable_bytes,
    )
