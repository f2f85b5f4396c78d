"""AWS Lambda's deployment quotas (`quotas.py`): the values AWS states, in bytes."""

from __future__ import annotations

from pants_aws_lambda.facts import quotas


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
