"""End to end: `./pants run` of an example function with layers prints the handler's response on
stdout, and nothing else, as the real Lambda runtime would return it.

One nested Pants run: the rule tests (`pants_aws_lambda/invoke_test.py`) cover errors, timeouts
and the refusals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from e2e.repo import Artifact, copy_repo, require_cpython, require_host_for, rmtree, run_pants

LAYERED = Artifact("src/python/examples/layered:lambda", "python3.12", "x86_64")


@pytest.fixture(scope="module")
def buildroot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("e2e-invoke")
    yield copy_repo(root / "repo")
    rmtree(root)


def test_run_function_with_layers(buildroot: Path) -> None:
    require_host_for(LAYERED)
    require_cpython(LAYERED.python_version)
    result = run_pants(
        buildroot,
        "--lambda-invoke-function-name=layered",
        "run",
        LAYERED.address,
        "--",
        '{"name": "Ada"}',
    )
    assert result.returncode == 0, result.describe()
    # pydantic and the greeting come from the layers, which the function's zip leaves out.
    response = json.loads(result.stdout)
    assert response["message"] == "Hello, Ada!"
    assert response["pydantic"].startswith("2.")
    assert "START RequestId:" in result.stderr and "REPORT RequestId:" in result.stderr


MODERN_ARM64 = Artifact("src/python/examples/modern:lambda-arm64", "python3.13", "arm64")


def test_run_an_arm64_function_under_qemu(buildroot: Path) -> None:
    """numpy, pydantic-core, orjson and cryptography for arm64, and awslambdaric's arm64 wheels,
    run by an arm64 CPython 3.13 under QEMU on any machine (natively on an arm64 one)."""
    from pants_aws_lambda.invoke_test import interpreter_options

    options = interpreter_options(MODERN_ARM64.python_version, MODERN_ARM64.architecture)
    result = run_pants(
        buildroot,
        "--lambda-invoke-timeout=120",
        *options,
        "run",
        MODERN_ARM64.address,
        "--",
        '{"series": [{"name": "caf\u00e9", "readings": [1.5, 2.5]}]}',
    )
    assert result.returncode == 0, result.describe()
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == [
        {"name": "caf\u00e9", "mean": 2.0, "max": 2.5, "sha256": json.loads(response["body"])[0]["sha256"]}
    ]
    assert response["python"] == "3.13"
    assert "REPORT RequestId:" in result.stderr
