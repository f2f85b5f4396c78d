"""The fixtures of the requirements' tests: the examples' real lockfile and its requirements."""

from __future__ import annotations

import pytest

from pants_aws_lambda.requirements.lockfile import load_lock
from pants_aws_lambda.testutil.locks import DEFAULT_LOCK


@pytest.fixture(scope="module")
def default_lock() -> dict:
    return load_lock(DEFAULT_LOCK.read_text())


@pytest.fixture(scope="module")
def lock_requirements(default_lock: dict) -> list[str]:
    requirements = default_lock["requirements"]
    assert any(r.startswith("pydantic") for r in requirements)
    return requirements
