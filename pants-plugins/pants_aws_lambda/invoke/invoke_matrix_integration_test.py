"""`pants run` of every kind of artifact `package` makes: the `zip` and `flat` layouts, for the
Amazon Linux 2023 runtimes, on both architectures (this machine's natively, the other one under
QEMU), each with a compiled dependency (pydantic-core), an executable resource and Lambda's error
shape, through the default runtime client (awslambdaric, resolved for the function's platform).

A cell without a CPython of its runtime and architecture (native, or in a root filesystem of
`testutil/emulated.py`'s cache or `$PANTS_AWS_LAMBDA_INTERPRETER_ROOTS`) is skipped, and
fails under `PANTS_AWS_LAMBDA_REQUIRE_INTERPRETERS=1` or `PANTS_AWS_LAMBDA_REQUIRE_EMULATION=1`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.invoke import runner as invoke_runner
from pants_aws_lambda.testutil.interpreters import interpreter_options
from pants_aws_lambda.testutil.rules import new_rule_runner, run_it, run_request, set_options

AL2023_LOCKFILE = Path("3rdparty/python/al2023.lock")

# Written out whole, like the end-to-end tests' handlers: what runs is readable in one place.
APP = """\
import os, platform, subprocess, sys

import pydantic


class Order(pydantic.BaseModel):
    item: str
    quantity: int


def handler(event, context):
    order = Order.model_validate(event)
    tool = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "proj", "tool.sh")
    packed = subprocess.run([tool, order.item], capture_output=True, text=True, check=True).stdout
    return {
        "order": order.model_dump(),
        "packed": packed.strip(),
        "pydantic": pydantic.VERSION,
        "python": "%d.%d" % sys.version_info[:2],
        "machine": platform.machine(),
    }
"""

TOOL = '#!/bin/sh\necho "packed $1"\n'

MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}


@pytest.fixture
def rule_runner() -> RuleRunner:
    rule_runner = new_rule_runner()
    rule_runner.write_files({"lock/al2023.lock": AL2023_LOCKFILE.read_text()})
    return rule_runner


def write_function(rule_runner: RuleRunner, runtime: str, architecture: str, layout: str) -> None:
    common = (
        f"runtime='{runtime}', architecture='{architecture}', layout='{layout}', resolve='al2023'"
    )
    if layout == "zip":
        # The zip holds everything.
        targets = (
            f"python_aws_lambda_function(name='fn', {common}, handler='app.py:handler', "
            "dependencies=[':tool', ':pydantic'])\n"
        )
    else:
        # The flat directory leaves pydantic to a flat layer.
        targets = (
            f"python_aws_lambda_layer(name='deps', {common}, dependencies=[':pydantic'], "
            "include_sources=False)\n"
            f"python_aws_lambda_function(name='fn', {common}, handler='app.py:handler', "
            "dependencies=[':tool', ':pydantic'], layers=[':deps'])\n"
        )
    rule_runner.write_files(
        {
            "src/proj/app.py": APP,
            "src/proj/tool.sh": TOOL,
            "src/proj/BUILD": (
                "python_sources(resolve='al2023')\n"
                "resource(name='tool', source='tool.sh')\n"
                "python_requirement(name='pydantic', requirements=['pydantic>=2.9,<3'], "
                "resolve='al2023')\n" + targets
            ),
        }
    )
    # An executable resource: the digest, the artifact and the task root keep the mode.
    os.chmod(os.path.join(rule_runner.build_root, "src/proj/tool.sh"), 0o755)


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
@pytest.mark.parametrize("runtime", ["python3.12", "python3.13", "python3.14"])
@pytest.mark.parametrize("layout", ["zip", "flat"])
def test_run_every_artifact(
    rule_runner: RuleRunner, layout: str, runtime: str, architecture: str
) -> None:
    version = runtime[len("python") :]
    options = interpreter_options(version, architecture)
    set_options(
        rule_runner,
        "--python-resolves={'python-default': 'lock/default.lock', 'al2023': 'lock/al2023.lock'}",
        "--python-resolves-to-interpreter-constraints={'al2023': ['CPython>=3.12,<3.15']}",
        "--lambda-invoke-timeout=60",
        *options,
    )
    write_function(rule_runner, runtime, architecture, layout)
    request = run_request(rule_runner, "fn")
    # awslambdaric, resolved for the function's platform, calls the handler.
    assert "--runtime-client" in request.args
    assert ("--emulator" in request.args) == bool(options)

    ok = run_it(rule_runner, request, '{"item": "caf\u00e9", "quantity": 2}')
    assert ok.returncode == 0, ok.stderr
    response = json.loads(ok.stdout)
    assert response["order"] == {"item": "caf\u00e9", "quantity": 2}
    assert response["packed"] == "packed caf\u00e9"
    assert response["pydantic"].startswith("2.")
    assert response["python"] == version
    assert response["machine"] == MACHINES[architecture]
    # The runtime's encoding: python3.12+ keep non-ASCII characters.
    assert '"item": "caf\u00e9"' in ok.stdout

    failed = run_it(rule_runner, request, '{"item": "tea", "quantity": "many"}')
    assert failed.returncode == invoke_runner.EXIT_ERROR, failed.stderr
    error = json.loads(failed.stdout)
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorType"] == "ValidationError"
    assert "quantity" in error["errorMessage"]
    assert any("proj/app.py" in frame for frame in error["stackTrace"])
    assert "[ERROR] ValidationError: " in failed.stderr
