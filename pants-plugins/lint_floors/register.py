"""This repository's own lint: every target's dependencies checked against the visibility rules.

Pants 2.17 checks `__dependencies_rules__` when it computes dependencies (`check`, `test`,
`package`), but its `lint` goal computes none, so an import that runs up one of the plugin's floors
(pants-plugins/README.md, "Floors") would pass `./pants lint ::`. This linter computes each
target's dependencies and reports every denied one. Not part of the distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, cast

from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.goals.multi_tool_goal_helper import SkippableSubsystem
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.addresses import Addresses
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.target import Dependencies, DependenciesRequest, FieldSet
from pants.engine.unions import UnionRule
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import pluralize


class Floors(Subsystem):
    options_scope = "floors"
    name = "floors"
    help = (
        "Every target's dependencies checked against the `__dependencies_rules__` in BUILD files."
    )

    skip = SkipOption("lint")


@dataclass(frozen=True)
class FloorsFieldSet(FieldSet):
    required_fields = (Dependencies,)

    dependencies: Dependencies


class FloorsRequest(LintTargetsRequest):
    field_set_type = FloorsFieldSet
    # Pants 2.17 types this as its `SkippableSubsystem` protocol, which mypy does not match with
    # a `Subsystem` class whose `skip` is the option's descriptor.
    tool_subsystem = cast("type[SkippableSubsystem]", Floors)
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


@rule(desc="Check dependencies against the visibility rules")
async def lint_floors(request: FloorsRequest.Batch) -> LintResult:
    denied = []
    for field_set in request.elements:
        try:
            await Get(Addresses, DependenciesRequest(field_set.dependencies))
        except Exception as e:  # Pants' DependencyRuleActionDeniedError, as the engine raises it.
            denied.append(str(e).strip())
    checked = pluralize(len(request.elements), "target")
    if denied:
        report = "\n\n".join(denied)
        summary = f"Dependency rules broken by {pluralize(len(denied), 'target')} of {checked}."
        return LintResult(1, f"{report}\n\n{summary}\n", "", Floors.options_scope)
    return LintResult(0, f"{checked}: every dependency allowed.\n", "", Floors.options_scope)


def rules() -> Iterable[Rule | UnionRule]:
    return (*collect_rules(), *FloorsRequest.rules())
