"""Rule tests for `pants run` of a function: the `RunRequest` is built, then really run."""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from pants.engine.internals.scheduler import ExecutionError
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.facts.runtimes import RUNTIMES, LambdaRuntime
from pants_aws_lambda.invoke import runner as invoke_runner
from pants_aws_lambda.testutil.interpreters import (
    host_architecture,
    interpreter_options,
    require_cpython,
)
from pants_aws_lambda.testutil.rules import new_rule_runner, run_it, run_request, set_options

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
    rule_runner = new_rule_runner()
    rule_runner.write_files(
        {
            "src/shared/greeting.py": "def greet(name):\n    return f'Hello, {name}!'\n",
            "src/shared/BUILD": "python_sources()\n",
            "src/proj/app.py": APP,
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_layer(name='lib', runtime='python3.12', "
                "dependencies=['src/shared'], "
                "include_requirements=False)\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', "
                "layers=[':lib'])\n"
                "python_aws_lambda_function(name='fn-arm64', runtime='python3.12', "
                "architecture='arm64', "
                "handler='app.py:handler')\n"
            ),
        }
    )
    return rule_runner


@pytest.mark.parametrize("client", ["awslambdaric", "direct"])
def test_invoke_function_with_layer(rule_runner: RuleRunner, client: str) -> None:
    require_cpython("3.12", "the function is not invoked")
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
    assert json.loads(timed_out.stdout)["errorMessage"].endswith(
        "Task timed out after 2.00 seconds"
    )


def test_refuses_another_architecture_without_an_emulated_interpreter(
    rule_runner: RuleRunner,
) -> None:
    # This machine is the one the tests run on: ask for the other architecture.
    other = "x86_64" if host_architecture() == "arm64" else "arm64"
    set_options(rule_runner, "--lambda-invoke-emulators={}")
    rule_runner.write_files(
        {
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_function(name='other', runtime='python3.12', "
                f"architecture='{other}', "
                "handler='app.py:handler')\n"
            )
        }
    )
    with pytest.raises(ExecutionError) as e:
        run_request(rule_runner, "other")
    message = str(e.value)
    assert "LambdaInvokeError" in message
    assert f"src/proj:other is built for python3.12 on {other}" in message
    # What to install and configure, named exactly.
    assert f'`[lambda-invoke].emulators` names no emulator for "{other}"' in message
    assert f'`[lambda-invoke].interpreter_roots` has no root for "{other}"' in message
    assert "`usr/bin/python3.12`" in message and "apt-get install qemu-user-static" in message
    assert f"run `pants run` on an {other} machine" in message


def test_refuses_a_root_without_the_runtimes_python(
    rule_runner: RuleRunner, tmp_path: Path
) -> None:
    other = "x86_64" if host_architecture() == "arm64" else "arm64"
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    rule_runner.write_files(
        {
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_function(name='other', runtime='python3.12', "
                f"architecture='{other}', "
                "handler='app.py:handler')\n"
            )
        }
    )
    set_options(
        rule_runner,
        f"--lambda-invoke-emulators={json.dumps({other: '/nonexistent/qemu-static'})}",
        f"--lambda-invoke-interpreter-roots={json.dumps({other: [str(tmp_path)]})}",
    )
    with pytest.raises(ExecutionError) as e:
        run_request(rule_runner, "other")
    message = str(e.value)
    assert "no emulator `/nonexistent/qemu-static` is installed" in message
    assert (
        f'no root of `[lambda-invoke].interpreter_roots` for "{other}" has `usr/bin/python3.12`'
        in message
    )


def test_refuses_without_the_runtimes_interpreter(rule_runner: RuleRunner) -> None:
    set_options(rule_runner, "--python-bootstrap-search-path=['/nonexistent']")
    with pytest.raises(ExecutionError) as e:
        run_request(rule_runner, "fn")
    message = str(e.value)
    assert "src/proj:fn runs on CPython 3.12, and there is no `python3.12`" in message
    assert "pyenv install 3.12" in message
    # Or an emulated one, configured as the message says.
    assert f'`[lambda-invoke].interpreter_roots` has no root for "{host_architecture()}"' in message


def test_refuses_a_timeout_lambda_does_not_allow(rule_runner: RuleRunner) -> None:
    set_options(rule_runner, "--lambda-invoke-timeout=901")
    with pytest.raises(
        ExecutionError, match=r"`\[lambda-invoke\].timeout` is 901; Lambda allows 1 to 900"
    ):
        run_request(rule_runner, "fn")


# --------------------------------------------------------------------------------------------------
# awslambdaric and the direct runner: the same bytes for the same handler, on every runtime
# --------------------------------------------------------------------------------------------------

PARITY_APP = """\
import collections, decimal, logging, os

logging.getLogger().setLevel(logging.INFO)
print("module printed")
logging.info("module logged")
if os.environ.get("FAIL_AT_IMPORT"):
    import not_a_module

Point = collections.namedtuple("Point", "x y")


def handler(event, context):
    logging.info("caf\\u00e9 %s", event["action"])
    context.log("from the context")
    if event["action"] == "fail":
        raise ValueError("caf\\u00e9 is closed")
    if event["action"] == "unserializable":
        return {"value": object()}
    return {
        "name": "caf\\u00e9 \\u2615",
        "price": decimal.Decimal("1.10"),
        "point": Point(1, 2.5),
        "nan": float("nan"),
        "nested": [("a", None, True)],
    }
"""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalized(result: subprocess.CompletedProcess) -> tuple[int, str, str]:
    """What differs between two invocations of the same handler: ids, times, temporary paths."""

    def norm(text: str) -> str:
        text = _UUID.sub("<request id>", text)
        text = re.sub(r"lambda-invoke-[A-Za-z0-9_]+", "lambda-invoke-<dir>", text)
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "<time>", text)
        text = re.sub(r"Duration: [0-9.]+ ms", "Duration: <ms>", text)
        return re.sub(r"Max Memory Used: \d+ MB", "Max Memory Used: <mb>", text)

    return result.returncode, norm(result.stdout), norm(result.stderr)


CLIENT_RUNTIMES = [r for r in RUNTIMES.values() if r.awslambdaric]


@pytest.mark.parametrize("runtime", CLIENT_RUNTIMES, ids=lambda r: r.name)
def test_awslambdaric_and_the_direct_runner_answer_alike(
    rule_runner: RuleRunner, runtime: LambdaRuntime
) -> None:
    options = interpreter_options(str(runtime.python_version), host_architecture())
    rule_runner.write_files(
        {
            "src/parity/app.py": PARITY_APP,
            "src/parity/BUILD": (
                "python_sources()\n"
                f"python_aws_lambda_function(name='fn', runtime='{runtime.name}', "
                "handler='app.py:handler')\n"
            ),
        }
    )
    results: dict[str, dict[str, subprocess.CompletedProcess]] = {}
    for client in ("awslambdaric", "direct"):
        set_options(rule_runner, f"--lambda-invoke-runtime-client={client}", *options)
        request = run_request(rule_runner, "fn", "src/parity")
        assert ("--runtime-client" in request.args) == (client == "awslambdaric")
        results[client] = {
            action: run_it(rule_runner, request, json.dumps({"action": action}))
            for action in ("ok", "fail", "unserializable")
        }
        results[client]["import"] = run_it(
            rule_runner, request, runner_args=("--env", "FAIL_AT_IMPORT=1")
        )

    for action, result in results["direct"].items():
        # The initialisation's print and log before the first `START`, with either client.
        for client in ("awslambdaric", "direct"):
            stderr = results[client][action].stderr
            assert (
                stderr.index("module printed")
                < stderr.index("module logged")
                < stderr.index("START RequestId")
            ), stderr
        client_says, direct_says = normalized(results["awslambdaric"][action]), normalized(result)
        assert client_says == direct_says, "\n".join(
            [
                action,
                *difflib.unified_diff(client_says[2].splitlines(), direct_says[2].splitlines()),
            ]
        )

    # And the bytes are the runtime's: its rule for non-ASCII, Decimals' digits, named tuples as
    # objects, NaN.
    name = "caf\\u00e9 \\u2615" if runtime.json_ensure_ascii else "caf\u00e9 \u2615"
    ok = results["direct"]["ok"]
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == (
        '{"name": "%s", "price": 1.10, "point": {"x": 1, "y": 2.5}, "nan": NaN, "nested": [["a", '
        "null, true]]}\n" % name
    )
    assert "\tcaf\u00e9 ok\n" in ok.stderr and "from the context\n" in ok.stderr

    failed = results["direct"]["fail"]
    assert failed.returncode == invoke_runner.EXIT_ERROR
    error = json.loads(failed.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "caf\u00e9 is closed")
    assert ("caf\\u00e9 is closed" in failed.stdout) == runtime.json_ensure_ascii
    assert (
        "[ERROR] ValueError: caf\u00e9 is closed\nTraceback (most recent call last):\n"
        in failed.stderr
    )

    assert (
        json.loads(results["direct"]["unserializable"].stdout)["errorType"]
        == "Runtime.MarshalError"
    )
    imported = results["direct"]["import"]
    assert json.loads(imported.stdout)["errorType"] == "Runtime.ImportModuleError"
    assert "LAMBDA_WARNING: Unhandled exception." in imported.stderr
