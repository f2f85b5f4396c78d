"""AWS Lambda's deployment quotas (`quotas.py`): the values AWS states, in bytes."""

from __future__ import annotations

import pytest

from pants_aws_lambda.facts import quotas
from pants_aws_lambda.facts.quotas import Limit


def test_limits_are_what_aws_calls_mb() -> None:
    assert quotas.UNZIPPED_BYTES.value == 262_144_000
    assert quotas.UNZIPPED_BYTES.what.startswith("250 MiB")
    assert quotas.DIRECT_UPLOAD_ZIPPED_BYTES.value == 52_428_800
    assert quotas.DIRECT_UPLOAD_ZIPPED_BYTES.what.startswith("50 MiB")
    assert quotas.CONTAINER_IMAGE_BYTES.value == 10_737_418_240
    assert quotas.CONTAINER_IMAGE_BYTES.what.startswith("10 GiB")


def test_layers_per_function() -> None:
    assert quotas.LAYERS_PER_FUNCTION.value == 5
    assert quotas.LAYERS_PER_FUNCTION.what.startswith("5 layers")


def test_quotas_read_as_aws_words_them() -> None:
    assert quotas.UNZIPPED_BYTES.what == "250 MiB unzipped, function and all its layers together"
    assert quotas.DIRECT_UPLOAD_ZIPPED_BYTES.what == "50 MiB zipped for direct upload"
    assert quotas.LAYERS_PER_FUNCTION.what == "5 layers per function"
    assert quotas.CONTAINER_IMAGE_BYTES.what == "10 GiB per container image"


@pytest.mark.parametrize(
    "limit, expected",
    [
        (Limit(250 * 2**20, "a quota"), "250 MiB"),
        (Limit(10 * 2**30, "a quota"), "10 GiB"),
        (Limit(2**10, "a quota"), "1 KiB"),
        # Not a whole number of any unit: the exact bytes.
        (Limit(250 * 2**20 + 1, "a quota"), "262,144,001 bytes"),
        (Limit(1000, "a quota"), "1,000 bytes"),
        # A number of things, not bytes.
        (Limit(2048, "things", in_bytes=False), "2048"),
    ],
)
def test_stated_in_whole_units(limit: Limit, expected: str) -> None:
    assert limit.stated == expected
