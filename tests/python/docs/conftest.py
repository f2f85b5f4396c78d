"""The docs tests' pytest fixtures, which every test module in this directory receives by name."""

from __future__ import annotations

import pytest
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.testutil.rules import new_rule_runner


@pytest.fixture
def rule_runner() -> RuleRunner:
    """A fresh rule runner with the backend's rules and the repository's settings."""
    return new_rule_runner()
