"""What a function imports that neither its artifact nor its layers hold and that the Lambda
runtime provides (the AWS SDK in `/var/runtime`): told at package time, so that a user knows the
artifact relies on the runtime for it.

The imports are those Pants' dependency inference parses from the function's first-party sources
(the same requests, so the results come from the engine's memo once inference has run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.dependency_inference.parse_python_dependencies import (
    ParsedPythonDependencies,
    ParsePythonDependenciesRequest,
)
from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import InterpreterConstraintsField, PythonSourceField
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import TransitiveTargets, TransitiveTargetsRequest
from pants.util.logging import LogLevel

from pants_aws_lambda.artifact.artifact import LambdaArtifact
from pants_aws_lambda.facts.runtimes import RUNTIME_PROVIDED_MODULES


@dataclass(frozen=True)
class RuntimeProvidedImportsRequest:
    address: Address
    # The function's artifact and its layers' artifacts: what they hold is not the runtime's.
    artifacts: tuple[LambdaArtifact, ...]


@dataclass(frozen=True)
class RuntimeProvidedImports:
    """Top-level modules the function's sources import and only the runtime provides, sorted."""

    modules: tuple[str, ...]


def runtime_provided(imported: set[str], artifacts: tuple[LambdaArtifact, ...]) -> tuple[str, ...]:
    """Of the top-level modules `imported`, those the runtime provides and no artifact holds
    (as a distribution, or as a first-party module of that name)."""
    held_distributions = {d.name for a in artifacts for d in a.distributions}
    held_modules = {
        path.split("/", 1)[0].split(".", 1)[0] for a in artifacts for path in a.first_party_files
    }
    return tuple(
        sorted(
            module
            for module in imported
            if module in RUNTIME_PROVIDED_MODULES
            and RUNTIME_PROVIDED_MODULES[module] not in held_distributions
            and module not in held_modules
        )
    )


@rule(desc="Finding what a function imports from the Lambda runtime", level=LogLevel.DEBUG)
async def find_runtime_provided_imports(
    request: RuntimeProvidedImportsRequest, python_setup: PythonSetup
) -> RuntimeProvidedImports:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))
    sources = [t for t in transitive.closure if t.has_field(PythonSourceField)]
    parsed = await MultiGet(
        Get(
            ParsedPythonDependencies,
            ParsePythonDependenciesRequest(
                t[PythonSourceField],
                InterpreterConstraints.create_from_compatibility_fields(
                    [t[InterpreterConstraintsField]], python_setup
                ),
            ),
        )
        for t in sources
    )
    imported = {name.split(".", 1)[0] for result in parsed for name in result.imports}
    return RuntimeProvidedImports(runtime_provided(imported, request.artifacts))


def rules() -> Iterable[Rule]:
    return collect_rules()
