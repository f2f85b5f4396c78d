"""The runtime client (`runtime_client.py`): its locked `awslambdaric` and its interpreter
constraints checked against the runtime table's `awslambdaric` column."""

from __future__ import annotations

import json
import pkgutil

import pytest
from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from pants_aws_lambda.facts.architectures import ARCHITECTURES
from pants_aws_lambda.facts.runtimes import (
    RUNTIMES,
    LambdaRuntime,
    runtime_client_interpreter_constraints,
)
from pants_aws_lambda.invoke.runtime_client import Awslambdaric
from pants_aws_lambda.runtimes.complete_platforms import compatible_tags

BY_VERSION = sorted(RUNTIMES.values(), key=lambda r: r.python_version)


def _awslambdaric_lock() -> tuple[dict, dict]:
    """The `[awslambdaric]` lockfile's metadata header and its PEX lock."""
    content = pkgutil.get_data("pants_aws_lambda.invoke", "awslambdaric.lock")
    assert content is not None
    lines = content.decode().splitlines()
    begin = next(i for i, line in enumerate(lines) if "BEGIN PANTS LOCKFILE METADATA" in line)
    end = next(i for i, line in enumerate(lines) if "END PANTS LOCKFILE METADATA" in line)
    metadata = json.loads("\n".join(line[2:] for line in lines[begin + 1 : end]))
    lock = json.loads("\n".join(line for line in lines if not line.startswith("//")))
    return metadata, lock


def _allowed_versions(constraints: list[str]) -> set[tuple[int, int]]:
    """The CPython minor versions 3.0-3.99 that interpreter constraints (alternatives) allow."""
    requirements = [Requirement(c) for c in constraints]
    assert all(r.name == "CPython" for r in requirements), constraints
    return {
        (3, minor)
        for minor in range(100)
        if any(r.specifier.contains(f"3.{minor}.0") for r in requirements)
    }


@pytest.mark.parametrize("runtime", BY_VERSION, ids=lambda r: r.name)
def test_awslambdaric_column_is_where_the_locked_client_has_wheels(runtime: LambdaRuntime) -> None:
    _, lock = _awslambdaric_lock()
    wheels = [
        artifact["url"].rsplit("/", 1)[-1]
        for resolve in lock["locked_resolves"]
        for requirement in resolve["locked_requirements"]
        if requirement["project_name"] == "awslambdaric"
        for artifact in requirement["artifacts"]
        if artifact["url"].endswith(".whl")
    ]
    assert wheels, "awslambdaric.lock locks no awslambdaric wheels"
    wheel_tags = {str(tag) for wheel in wheels for tag in parse_wheel_filename(wheel)[3]}
    installable = {
        architecture: bool(
            wheel_tags.intersection(
                compatible_tags(runtime.python_version, a.machine, runtime.glibc)
            )
        )
        for architecture, a in ARCHITECTURES.items()
    }
    assert installable == {architecture: runtime.awslambdaric for architecture in ARCHITECTURES}


def test_client_interpreter_constraints_are_the_supported_runtimes() -> None:
    constraints = runtime_client_interpreter_constraints()
    assert Awslambdaric.default_interpreter_constraints == constraints
    assert _allowed_versions(constraints) == {
        r.python_version for r in BY_VERSION if r.awslambdaric
    }


def test_client_lockfile_is_for_these_constraints() -> None:
    metadata, _ = _awslambdaric_lock()
    assert _allowed_versions(metadata["valid_for_interpreter_constraints"]) == _allowed_versions(
        runtime_client_interpreter_constraints()
    ), (
        "awslambdaric.lock was made for other interpreter constraints than the runtime table's: "
        "run `pants generate-lockfiles --resolve=awslambdaric`."
    )
