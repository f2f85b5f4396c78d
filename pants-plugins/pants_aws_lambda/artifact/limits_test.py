"""Lambda's limits checked on built artifacts: the exact bytes at a limit, and the limit of flat
artifacts (sizes as messages write them: `sizes_test.py`; the quotas: `facts/quotas_test.py`)."""

from __future__ import annotations

import pytest
from pants.engine.addresses import Address
from pants.engine.fs import EMPTY_DIGEST

from pants_aws_lambda.artifact import remedies
from pants_aws_lambda.artifact.artifact import LambdaArtifact
from pants_aws_lambda.artifact.output import ArtifactOutput
from pants_aws_lambda.artifact.sizes import NamedSize
from pants_aws_lambda.errors import LambdaPackagingError

ADDRESS = Address("src/proj", target_name="fn")


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
