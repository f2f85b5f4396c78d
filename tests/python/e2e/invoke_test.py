"""End to end: `./pants run` of an example function with layers prints the handler's response on
stdout, and nothing else, as the real Lambda runtime would return it.

One nested Pants run: the rule tests (`pants_aws_lambda/invoke/invoke_integration_test.py`) cover
errors, timeouts and the refusals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from e2e.repo import Artifact, fresh_repo, require_host_for, run_pants
from pants_aws_lambda.testutil.interpreters import interpreter_options, require_cpython

LAYERED = Artifact("src/python/examples/layered:lambda", "python3.12", "x86_64")


@pytest.fixture(scope="module")
def buildroot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_repo(tmp_path_factory, "e2e-invoke")


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


# Written out whole, like the rule tests' handlers: what runs is readable in one place.
ARM64_APP = """\
import platform, sys

import pydantic


class Order(pydantic.BaseModel):
    item: str
    quantity: int


def handler(event, context):
    order = Order.model_validate(event)
    return {"order": order.model_dump(), "machine": platform.machine(),
            "python": "%d.%d" % sys.version_info[:2], "pydantic": pydantic.VERSION}
"""


def test_run_an_arm64_function_under_qemu(buildroot: Path) -> None:
    """pydantic-core's and awslambdaric's arm64 wheels, run by an arm64 CPython 3.13 under QEMU on
    an x86_64 machine (natively on an arm64 one)."""
    options = interpreter_options("3.13", "arm64")
    # A function of its own in the test's copy of the repository, from the `al2023` resolve.
    app = buildroot / "src/python/examples/e2e_arm64"
    app.mkdir(parents=True, exist_ok=True)
    (app / "app.py").write_text(ARM64_APP)
    (app / "BUILD").write_text(
        'python_sources(resolve="al2023")\n'
        'python_aws_lambda_function(name="lambda", runtime="python3.13", architecture="arm64", '
        'handler="app.py:handler", resolve="al2023")\n'
    )
    result = run_pants(
        buildroot,
        "--lambda-invoke-timeout=120",
        *options,
        "run",
        "src/python/examples/e2e_arm64:lambda",
        "--",
        '{"item": "caf\u00e9", "quantity": 2}',
    )
    assert result.returncode == 0, result.describe()
    response = json.loads(result.stdout)
    assert response["order"] == {"item": "caf\u00e9", "quantity": 2}
    assert response["machine"] == "aarch64"
    assert response["python"] == "3.13"
    assert response["pydantic"].startswith("2.")
    assert "REPORT RequestId:" in result.stderr
