"""Sizes and Lambda's limits: one binary convention, as AWS counts, and the exact bytes at a
limit."""

from __future__ import annotations

import pytest
from pants.engine.addresses import Address
from pants.engine.fs import EMPTY_DIGEST

from pants_aws_lambda.artifact import limits, remedies
from pants_aws_lambda.artifact.artifact import LambdaArtifact
from pants_aws_lambda.artifact.output import ArtifactOutput
from pants_aws_lambda.artifact.sizes import NamedSize
from pants_aws_lambda.errors import LambdaPackagingError

ADDRESS = Address("src/proj", target_name="fn")


@pytest.mark.parametrize(
    "size, expected",
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (2**20, "1.0 MiB"),
        (255_000_000, "243.1 MiB"),
        (250 * 2**20, "250.0 MiB"),
        # One byte under the limit never reads as the limit.
        (250 * 2**20 - 1, "249.9 MiB"),
        (10 * 2**30, "10.0 GiB"),
    ],
)
def test_format_bytes_is_binary(size: int, expected: str) -> None:
    assert limits.format_bytes(size) == expected


def test_limits_are_what_aws_calls_mb() -> None:
    assert limits.UNZIPPED_BYTES.value == 262_144_000
    assert limits.UNZIPPED_BYTES.what.startswith("250 MiB")
    assert limits.DIRECT_UPLOAD_ZIPPED_BYTES.value == 52_428_800
    assert limits.DIRECT_UPLOAD_ZIPPED_BYTES.what.startswith("50 MiB")
    assert limits.CONTAINER_IMAGE_BYTES.value == 10_737_418_240
    assert limits.CONTAINER_IMAGE_BYTES.what.startswith("10 GiB")


def artifact(unzipped: int, *, zipped: int | None = 1) -> LambdaArtifact:
    return LambdaArtifact(
        output=ArtifactOutput(
            digest=EMPTY_DIGEST,
            zipped_bytes=zipped,
            unzipped_bytes=unzipped,
            files=1,
            top_level=(NamedSize("proj", unzipped),),
            sha256="0" * 64,
        ),
        distributions=(),
        first_party_files=frozenset(),
        bytecode_modules=0,
        excluded_files=0,
        excluded_bytes=0,
        omitted_distributions=(),
        omitted_first_party=0,
        owners=(),
    )


@pytest.mark.parametrize("unzipped", [255_000_000, 262_144_000 - 1, 262_144_000])
def test_a_function_at_or_just_under_250_mib_packages(unzipped: int) -> None:
    # 255 MB in SI units is under AWS's 250 MB (MiB): it must pass, and read as under.
    assert remedies.check_unzipped_size(ADDRESS, artifact(unzipped)) == unzipped


def test_a_function_just_over_250_mib_fails_with_exact_bytes() -> None:
    with pytest.raises(LambdaPackagingError) as e:
        remedies.check_unzipped_size(ADDRESS, artifact(262_144_001))
    message = str(e.value)
    assert "src/proj:fn is 250.0 MiB (262,144,001 bytes) unzipped" in message
    assert (
        "over Lambda's limit of 250 MiB unzipped, function and all its layers together "
        "(262,144,000 bytes)" in message
    )
    assert "proj/ (first-party): 250.0 MiB" in message


def test_a_flat_artifact_has_the_container_limit() -> None:
    assert remedies.check_unzipped_size(ADDRESS, artifact(262_144_001, zipped=None)) == 262_144_001
    with pytest.raises(
        LambdaPackagingError, match=r"10 GiB per container image \(10,737,418,240 bytes\)"
    ):
        remedies.check_unzipped_size(ADDRESS, artifact(10 * 2**30 + 1, zipped=None))
