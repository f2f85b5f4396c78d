"""The architectures Lambda runs functions on (`architectures.py`)."""

from __future__ import annotations

from pants_aws_lambda.facts.architectures import ARCHITECTURES, DEFAULT_ARCHITECTURE


def test_architectures() -> None:
    assert {name: a.machine for name, a in ARCHITECTURES.items()} == {
        "x86_64": "x86_64",
        "arm64": "aarch64",
    }
    assert DEFAULT_ARCHITECTURE in ARCHITECTURES
