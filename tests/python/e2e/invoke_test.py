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
