"""Sizes as messages write them (`sizes.py`): one binary convention, as AWS counts, and the exact
bytes at a limit."""

from __future__ import annotations

import pytest

from pants_aws_lambda.artifact import sizes
from pants_aws_lambda.facts import quotas
from pants_aws_lambda.facts.quotas import Limit


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
    assert sizes.format_bytes(size) == expected


def test_format_exact_adds_the_bytes() -> None:
    assert sizes.format_exact(262_144_001) == "250.0 MiB (262,144,001 bytes)"
    assert sizes.format_exact(512) == "512 B (512 bytes)"


@pytest.mark.parametrize(
    "limit",
    [quotas.UNZIPPED_BYTES, quotas.DIRECT_UPLOAD_ZIPPED_BYTES, quotas.CONTAINER_IMAGE_BYTES],
)
def test_format_quota_is_how_the_quota_reads(limit: Limit) -> None:
    assert limit.what.startswith(sizes.format_quota(limit) + " ")


@pytest.mark.parametrize(
    "value, expected",
    [
        (250 * 2**20, "250 MiB"),
        (10 * 2**30, "10 GiB"),
        (2**10, "1 KiB"),
        # Not a whole number of any unit: as a size.
        (250 * 2**20 + 1, "250.0 MiB"),
        (1000, "1000 B"),
    ],
)
def test_format_quota_in_whole_units(value: int, expected: str) -> None:
    assert sizes.format_quota(Limit(value, "a quota")) == expected
