"""Sizes as messages write them (`sizes.py`): one binary convention, as AWS counts, and the exact
bytes at a limit."""

from __future__ import annotations

import pytest

from pants_aws_lambda.artifact import sizes


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
