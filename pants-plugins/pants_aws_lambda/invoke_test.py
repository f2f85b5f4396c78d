"""Rule tests for `pants run` of a function: the `RunRequest` is built, then really run."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from pants.backend.python.target_types import PythonSourcesGeneratorTarget, PythonSourceTarget
from pants.backend.python.target_types_rules import rules as python_target_types_rules
from pants.core.goals.run import RunRequest
from pants.core.target_types import rules as core_target_types_rules
from pants.engine.addresses import Address
from pants.engine.internals.scheduler import ExecutionError
from pants.testutil.rule_runner import QueryRule, RuleRunner

from pants_aws_lambda import invoke, invoke_runner, package
from pants_aws_lambda.invoke import LambdaInvokeFieldSet
from pants_aws_lambda.layers_test import find_python
from pants_aws_lambda.package_test import LOCKFILE, set_options
from pants_aws_lambda.target_types import target_types as lambda_target_types

APP = """\
import sys, time
from shared.greeting import greet

def handler(event, context):
    print("a print goes to stderr")
    if event.get("fail"):
        raise RuntimeError(f"cannot greet {event['name']}")
    time.sleep(event.get("sleep", 0))
    return {
        "message": greet(event["name"]),
        "function": context.function_name,
        "awslambdaric": "awslambdaric" in sys.modules,
    }
"""


@pytest.fixture
def rule_runner() -> RuleRunner:
    rule_runner = RuleRunner(
        rules=[
            *package.rules(),
            *invoke.rules(),
            *core_target_types_rules(),
            *python_target_types_rules(),
            QueryRule(RunRequest, (LambdaInvokeFieldSet,)),
        ],
        target_types=[*lambda_target_types(), PythonSourcesGeneratorTarget, PythonSourceTarget],
    )
    rule_runner.write_files(
        {
            "lock/default.lock": LOCKFILE.read_text(),
            "src/shared/greeting.py": "def greet(name):\n    return f'Hello, {name}!'\n",
            "src/shared/BUILD": "python_sources()\n",
            "src/proj/app.py": APP,
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_layer(name='lib', runtime='python3.12', dependencies=['src/shared'], "
                "include_requirements=False)\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', handler='app.py:handler', "
                "layers=[':lib'])\n"
                "python_aws_lambda_function(name='fn-arm64', runtime='python3.12', architecture='arm64', "
                "handler='app.py:handler')\n"
            ),
        }
    )
    set_options(rule_runner)
    return rule_runner


def run_request(rule_runner: RuleRunner, name: str) -> RunRequest:
    target = rule_runner.get_target(Address("src/proj", target_name=name))
    return rule_runner.request(RunRequest, [LambdaInvokeFieldSet.create(target)])


def run_it(rule_runner: RuleRunner, request: RunRequest, *user_args: str) -> subprocess.CompletedProcess:
    """What `pants run` does with the request: the digest in a fresh directory, then the args."""
    chroot = os.path.join(rule_runner.build_root, ".run")
    rule_runner.write_digest(request.digest, path_prefix=".run")
    args = [arg.replace("{chroot}", chroot) for arg in request.args]
    return subprocess.run(
        [*args, *user_args],
        capture_output=True,
        text=True,
        cwd=rule_runner.build_root,
        env={"PATH": os.environ.get("PATH", ""), **request.extra_env},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def require_python312() -> None:
    if find_python("3.12") is None:
        if os.environ.get("PANTS_AWS_LAMBDA_REQUIRE_INTERPRETERS") == "1":
            pytest.fail("CPython 3.12 is required to invoke the function.")
        pytest.skip("No CPython 3.12 to invoke the function with.")


@pytest.mark.parametrize("client", ["awslambdaric", "direct"])
def test_invoke_function_with_layer(rule_runner: RuleRunner, client: str) -> None:
    require_python312()
    set_options(
        rule_runner,
        "--lambda-invoke-timeout=2",
        "--lambda-invoke-function-name=greeter",
        f"--lambda-invoke-runtime-client={client}",
    )
    request = run_request(rule_runner, "fn")
    assert os.path.basename(request.args[0]).startswith("python3.12")
    assert request.args[1:4] == ("-I", "-S", "-B")
    assert ("--runtime-client" in request.args) == (client == "awslambdaric")

    ok = run_it(rule_runner, request, '{"name": "Ada"}')
    assert ok.returncode == 0, ok.stderr
    # The greeting comes from the layer: the function's zip leaves the library out.
    assert json.loads(ok.stdout) == {
        "message": "Hello, Ada!",
        "function": "greeter",
        "awslambdaric": client == "awslambdaric",
    }
    assert "a print goes to stderr" in ok.stderr

    failed = run_it(rule_runner, request, '{"name": "Bob", "fail": true}')
    assert failed.returncode == invoke_runner.EXIT_ERROR
    error = json.loads(failed.stdout)
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "cannot greet Bob"
    assert any("proj/app.py" in frame for frame in error["stackTrace"])

    timed_out = run_it(rule_runner, request, '{"name": "Cy", "sleep": 30}')
    assert timed_out.returncode == invoke_runner.EXIT_TIMEOUT
    assert json.loads(timed_out.stdout)["errorMessage"].endswith("Task timed out after 2.00 seconds")


def test_refuses_another_architecture(rule_runner: RuleRunner) -> None:
    # This machine is the one the tests run on: ask for the other architecture.
    import platform

    host = invoke._machine(platform.machine())
    other = "x86_64" if host == "aarch64" else "arm64"
    rule_runner.write_files(
        {
            "src/proj/BUILD": (
                "python_sources()\n"
                f"python_aws_lambda_function(name='other', runtime='python3.12', architecture='{other}', "
                "handler='app.py:handler')\n"
            )
        }
    )
    with pytest.raises(ExecutionError) as e:
        run_request(rule_runner, "other")
    message = str(e.value)
    assert "LambdaInvokeError" in message
    assert f"src/proj:other is built for python3.12 on {other}" in message
    assert f"Run `pants run` on an {other} machine" in message


def test_refuses_without_the_runtimes_interpreter(rule_runner: RuleRunner) -> None:
    set_options(rule_runner, "--python-bootstrap-search-path=['/nonexistent']")
    with pytest.raises(ExecutionError) as e:
        run_request(rule_runner, "fn")
    message = str(e.value)
    assert "src/proj:fn runs on CPython 3.12, and there is no `python3.12`" in message
    assert "pyenv install 3.12" in message


def test_refuses_a_timeout_lambda_does_not_allow(rule_runner: RuleRunner) -> None:
    set_options(rule_runner, "--lambda-invoke-timeout=901")
    with pytest.raises(ExecutionError, match=r"`\[lambda-invoke\].timeout` is 901; Lambda allows 1 to 900"):
        run_request(rule_runner, "fn")
