"""The repository's lint of the visibility rules: a denied dependency fails, an allowed one
passes."""

from __future__ import annotations

from typing import Any

import pytest
from lint_floors.register import FloorsFieldSet, FloorsRequest, rules
from pants.backend.visibility import rules as visibility_rules
from pants.core.goals.lint import LintResult
from pants.core.target_types import GenericTarget
from pants.engine.addresses import Address
from pants.testutil.rule_runner import QueryRule, RuleRunner

BUILD_RULES = """\
__dependencies_rules__(
    # The ground floor may not depend on the floor above it.
    ("*", "!//above/**", "*"),
)
"""


@pytest.fixture
def rule_runner() -> RuleRunner:
    return RuleRunner(
        rules=[*rules(), *visibility_rules.rules(), QueryRule(LintResult, [FloorsRequest.Batch])],
        target_types=[GenericTarget],
    )


def lint(rule_runner: RuleRunner, *addresses: Address) -> LintResult:
    field_sets = tuple(FloorsFieldSet.create(rule_runner.get_target(a)) for a in addresses)
    # A single partition's batch carries no metadata (Pants passes None, untyped).
    no_metadata: Any = None
    batch = FloorsRequest.Batch("floors", field_sets, no_metadata)
    return rule_runner.request(LintResult, [batch])


def test_a_dependency_up_a_floor_fails(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "ground/BUILD": BUILD_RULES
            + 'target(name="t", dependencies=["above:t"])\ntarget(name="ok")\n',
            "above/BUILD": 'target(name="t", dependencies=["ground:ok"])\n',
        }
    )
    result = lint(
        rule_runner, Address("ground", target_name="t"), Address("above", target_name="t")
    )
    assert result.exit_code == 1, result.stdout
    assert "ground:t" in result.stdout and "DENY" in result.stdout, result.stdout
    assert "broken by 1 target of 2 targets" in result.stdout, result.stdout


def test_dependencies_down_a_floor_pass(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "ground/BUILD": BUILD_RULES + 'target(name="ok")\n',
            "above/BUILD": 'target(name="t", dependencies=["ground:ok"])\n',
        }
    )
    result = lint(
        rule_runner, Address("above", target_name="t"), Address("ground", target_name="ok")
    )
    assert result.exit_code == 0, result.stdout
    assert "2 targets: every dependency allowed" in result.stdout, result.stdout
