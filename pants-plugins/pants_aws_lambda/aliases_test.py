"""Which backend owns the Lambda aliases when Pants' own Lambda backend is enabled too.

On Pants 2.17 the built-in backend registers `python_awslambda` only; from 2.18 it registers
`python_aws_lambda_function` and `python_aws_lambda_layer` as well. The later releases' target
types are stood in for by look-alikes with their aliases, registered in either order.
"""

from __future__ import annotations

import logging

import pytest
from pants.backend.awslambda.python.target_types import PythonAWSLambda
from pants.engine.target import COMMON_TARGET_FIELDS, FieldDefaults, RegisteredTargetTypes, Target
from pants.testutil.rule_runner import QueryRule, RuleRunner

from pants_aws_lambda import aliases, register
from pants_aws_lambda.target_types import PythonAwsLambdaFunction, PythonAwsLambdaLayer

BUILTIN = aliases.BUILTIN_BACKEND
PLUGIN = aliases.PLUGIN_BACKEND


class NewerBuiltinFunction(Target):
    """Pants 2.18-2.20's `python_aws_lambda_function`, with its deprecated `python_awslambda`."""

    alias = "python_aws_lambda_function"
    deprecated_alias = "python_awslambda"
    deprecated_alias_removal_version = "2.21.0.dev0"
    core_fields = COMMON_TARGET_FIELDS
    help = "A stand-in for Pants' own Lambda function target."


class NewerBuiltinLayer(Target):
    alias = "python_aws_lambda_layer"
    core_fields = COMMON_TARGET_FIELDS
    help = "A stand-in for Pants' own Lambda layer target."


# The stand-ins belong to the built-in backend, as the real target types do.
for _stand_in in (NewerBuiltinFunction, NewerBuiltinLayer):
    _stand_in.__module__ = "pants.backend.awslambda.python.target_types"

PLUGIN_TYPES = [PythonAwsLambdaFunction, PythonAwsLambdaLayer]


def _runner(target_types: list) -> RuleRunner:
    return RuleRunner(
        rules=[
            *aliases.rules(),
            QueryRule(aliases.AliasClashes, [aliases.AliasClashesRequest]),
            QueryRule(FieldDefaults, []),
            QueryRule(RegisteredTargetTypes, []),
        ],
        target_types=target_types,
    )


def _owners(rule_runner: RuleRunner) -> dict:
    clashes = rule_runner.request(aliases.AliasClashes, [aliases.AliasClashesRequest()])
    return {owner.alias: (owner.owner, owner.others) for owner in clashes.owners}


def _resolved_backend(rule_runner: RuleRunner, alias: str) -> str:
    """Which backend's target type Pants itself resolves `alias` to."""
    registered = rule_runner.request(RegisteredTargetTypes, [])
    return PLUGIN if registered.aliases_to_types[alias].__module__.startswith(PLUGIN) else BUILTIN


def test_the_plugin_alone_has_no_clash() -> None:
    rule_runner = _runner(PLUGIN_TYPES)
    clashes = rule_runner.request(aliases.AliasClashes, [aliases.AliasClashesRequest()])
    assert clashes.owners == () and clashes.message() is None


@pytest.mark.parametrize("builtin_first", [True, False])
def test_pants_2_17_s_builtin_backend_always_owns_python_awslambda(builtin_first: bool) -> None:
    types = [PythonAWSLambda, *PLUGIN_TYPES] if builtin_first else [*PLUGIN_TYPES, PythonAWSLambda]
    rule_runner = _runner(types)
    # Its main alias sorts after the plugin's `python_aws_lambda_function`, whatever the order.
    assert _owners(rule_runner) == {"python_awslambda": (BUILTIN, (PLUGIN,))}
    assert _resolved_backend(rule_runner, "python_awslambda") == BUILTIN
    assert _resolved_backend(rule_runner, "python_aws_lambda_function") == PLUGIN


@pytest.mark.parametrize("plugin_last", [True, False])
def test_from_pants_2_18_the_backend_listed_later_owns_every_alias(plugin_last: bool) -> None:
    builtin = [NewerBuiltinFunction, NewerBuiltinLayer]
    rule_runner = _runner([*builtin, *PLUGIN_TYPES] if plugin_last else [*PLUGIN_TYPES, *builtin])
    owner, other = (PLUGIN, BUILTIN) if plugin_last else (BUILTIN, PLUGIN)
    expected = {
        alias: (owner, (other,))
        for alias in ("python_aws_lambda_function", "python_aws_lambda_layer", "python_awslambda")
    }
    assert _owners(rule_runner) == expected
    for alias in expected:
        assert _resolved_backend(rule_runner, alias) == owner


def test_the_warning_names_each_owner_and_how_to_choose(caplog: pytest.LogCaptureFixture) -> None:
    rule_runner = _runner([*PLUGIN_TYPES, NewerBuiltinFunction, NewerBuiltinLayer])
    with caplog.at_level(logging.WARNING):
        # What every goal that resolves targets computes.
        rule_runner.request(FieldDefaults, [])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert f"`python_aws_lambda_function`: {BUILTIN}'s target (not {PLUGIN}'s)" in warnings[0]
    assert f"`python_aws_lambda_layer`: {BUILTIN}'s target (not {PLUGIN}'s)" in warnings[0]
    assert f"remove `{BUILTIN}` from `[GLOBAL].backend_packages`" in warnings[0]
    assert f"(or list `{PLUGIN}` after it); to use Pants' own, remove `{PLUGIN}`" in warnings[0]


def test_the_check_is_registered_by_the_backend() -> None:
    assert any(
        getattr(r, "union_member", None) is aliases.AliasCheckRequest for r in register.rules()
    )
