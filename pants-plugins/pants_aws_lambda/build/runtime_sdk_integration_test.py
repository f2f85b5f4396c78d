"""`pants run` of a function that relies on the runtime's AWS SDK, as functions on Lambda do (no
boto3 among its requirements), on python3.9 and the Amazon Linux 2023 runtimes, and on arm64; the
function's own boto3 shadowing the runtime's; the SDK turned off; the package log; and warm
invocations, several events handled by one runtime process, through both runners.

One rule runner serves the whole module: the targets are written once, and each test builds and
runs the ones it needs (the SDK is installed once per runtime and architecture).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.build.runtime_sdk import RUNTIME_SDK_PEX
from pants_aws_lambda.invoke import runner as invoke_runner
from pants_aws_lambda.testutil import TESTDATA
from pants_aws_lambda.testutil.interpreters import interpreter_options, require_cpython
from pants_aws_lambda.testutil.rules import (
    build_package,
    new_rule_runner,
    run_it,
    run_request,
    set_options,
)

SDK_LOCKFILE = Path(__file__).parent / "lambda-runtime-sdk.lock"
OWN_BOTO3 = "1.35.99"

# Imports boto3 at module level without requiring it, and makes a client at init (no network
# call), as functions on Lambda do; counts its calls, to show a warm execution environment.
APP = """\
import os, platform, sys

import boto3
import botocore

# STS: a small service model, quick to load under an emulator too.
CLIENT = boto3.client("sts", region_name="us-east-1")
CALLS = 0
print("init: client for", CLIENT.meta.service_model.service_name)


def handler(event, context):
    global CALLS
    CALLS += 1
    if event.get("fail"):
        raise ValueError(f"call {CALLS} fails")
    sdk = os.path.dirname(os.path.dirname(boto3.__file__))
    return {
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "sdk_dir": sdk,
        "sdk_after_task_root": sys.path.index(sdk) > sys.path.index(os.environ["LAMBDA_TASK_ROOT"]),
        "calls": CALLS,
        "request_id": context.aws_request_id,
        "python": "%d.%d" % sys.version_info[:2],
        "machine": platform.machine(),
    }
"""

# python3.9: an Amazon Linux 2 runtime, which the pinned awslambdaric leaves to the direct runner.
CELLS = [
    ("python3.9", "x86_64"),
    ("python3.12", "x86_64"),
    ("python3.13", "x86_64"),
    ("python3.14", "x86_64"),
    ("python3.13", "arm64"),
]
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}


def locked_version(lockfile: Path, project: str) -> str:
    """The version of `project` in a Pants lockfile (its `//` header lines, then PEX's JSON)."""
    text = "\n".join(
        line for line in lockfile.read_text().splitlines() if not line.startswith("//")
    )
    versions = {
        requirement["project_name"]: requirement["version"]
        for resolve in json.loads(text)["locked_resolves"]
        for requirement in resolve["locked_requirements"]
    }
    return versions[project]


def target_name(runtime: str, architecture: str) -> str:
    return f"fn-{runtime.replace('.', '')}-{architecture}"


@pytest.fixture(scope="module")
def rule_runner() -> RuleRunner:
    rule_runner = new_rule_runner()
    targets = "".join(
        f"python_aws_lambda_function(name='{target_name(runtime, arch)}', runtime='{runtime}', "
        f"architecture='{arch}', handler='app.py:handler')\n"
        for runtime, arch in CELLS
    )
    rule_runner.write_files(
        {
            "lock/boto3-old.lock": (TESTDATA / f"boto3-{OWN_BOTO3}.lock").read_text(),
            "src/proj/app.py": APP,
            "src/proj/BUILD": "python_sources()\n" + targets,
            # The same function with its own boto3, older than the runtime's.
            "src/own/app.py": APP,
            "src/own/BUILD": (
                "python_sources(resolve='boto3-old')\n"
                f"python_requirement(name='boto3', requirements=['boto3=={OWN_BOTO3}'], "
                "resolve='boto3-old')\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', "
                "resolve='boto3-old', dependencies=[':boto3'])\n"
            ),
        }
    )
    return rule_runner


def options(*extra: str) -> tuple[str, ...]:
    return (
        "--python-resolves={'python-default': 'lock/default.lock', 'boto3-old': "
        "'lock/boto3-old.lock'}",
        "--python-resolves-to-interpreter-constraints={'boto3-old': ['CPython>=3.12,<3.15']}",
        "--python-infer-unowned-dependency-behavior=ignore",
        "--lambda-invoke-timeout=60",
        *extra,
    )


@pytest.mark.parametrize("runtime, architecture", CELLS, ids=[f"{r}-{a}" for r, a in CELLS])
def test_the_runtimes_sdk(rule_runner: RuleRunner, runtime: str, architecture: str) -> None:
    version = runtime[len("python") :]
    set_options(rule_runner, *options(*interpreter_options(version, architecture)))
    request = run_request(rule_runner, target_name(runtime, architecture))
    assert "--runtime-sdk" in request.args
    assert ("--runtime-client" in request.args) == (runtime != "python3.9")

    ok = run_it(rule_runner, request, "{}")
    assert ok.returncode == 0, ok.stderr
    response = json.loads(ok.stdout)
    # The SDK the plugin's lockfile pins, installed for the runtime, after the task root.
    assert response["boto3"] == locked_version(SDK_LOCKFILE, "boto3")
    assert response["botocore"] == locked_version(SDK_LOCKFILE, "botocore")
    assert RUNTIME_SDK_PEX in response["sdk_dir"]
    assert response["sdk_after_task_root"] is True
    assert (response["python"], response["machine"]) == (version, MACHINES[architecture])
    assert "init: client for sts" in ok.stderr


def test_the_functions_own_boto3_comes_first(rule_runner: RuleRunner) -> None:
    require_cpython("3.12", "the function is not invoked")
    set_options(rule_runner, *options())
    ok = run_it(rule_runner, run_request(rule_runner, "fn", "src/own"), "{}")
    assert ok.returncode == 0, ok.stderr
    response = json.loads(ok.stdout)
    assert response["boto3"] == OWN_BOTO3 != locked_version(SDK_LOCKFILE, "boto3")
    assert RUNTIME_SDK_PEX not in response["sdk_dir"]
    assert response["sdk_dir"].endswith("/task")


@pytest.mark.parametrize("client", ["awslambdaric", "direct"])
def test_without_the_sdk_a_function_that_relies_on_it_fails(
    rule_runner: RuleRunner, client: str
) -> None:
    require_cpython("3.12", "the function is not invoked")
    set_options(
        rule_runner,
        *options("--no-lambda-invoke-runtime-sdk", f"--lambda-invoke-runtime-client={client}"),
    )
    request = run_request(rule_runner, target_name("python3.12", "x86_64"))
    assert "--runtime-sdk" not in request.args
    failed = run_it(rule_runner, request, "{}")
    assert failed.returncode == invoke_runner.EXIT_ERROR, failed.stderr
    error = json.loads(failed.stdout)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'boto3'" in error["errorMessage"]


@pytest.mark.parametrize("client", ["awslambdaric", "direct"])
def test_warm_invocations(rule_runner: RuleRunner, client: str, tmp_path: Path) -> None:
    require_cpython("3.12", "the function is not invoked")
    set_options(rule_runner, *options(f"--lambda-invoke-runtime-client={client}"))
    request = run_request(rule_runner, target_name("python3.12", "x86_64"))
    events = tmp_path / "events.jsonl"
    events.write_text('{"n": 2}\n\n{"n": 3}\n')
    # Three events, then two more from a JSON Lines file.
    result = run_it(rule_runner, request, "{}", '{"fail": true}', "{}", f"@{events}")
    # An error in one invocation does not end the others; the exit status says there was one.
    assert result.returncode == invoke_runner.EXIT_ERROR, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5, result.stdout
    first, failed, *rest = map(json.loads, lines)
    assert [first["calls"], *(r["calls"] for r in rest)] == [1, 3, 4, 5]
    assert (failed["errorType"], failed["errorMessage"]) == ("ValueError", "call 2 fails")
    # One initialisation; each invocation its own request id and REPORT, the first with the
    # initialisation's duration.
    assert result.stderr.count("init: client for sts") == 1
    assert result.stderr.count("INIT_START") == 1
    reports = re.findall(r"^REPORT RequestId: (\S+)\t.*$", result.stderr, re.M)
    starts = re.findall(r"^START RequestId: (\S+) ", result.stderr, re.M)
    ids = [first["request_id"], failed["requestId"], *(r["request_id"] for r in rest)]
    assert starts == reports == ids and len(set(ids)) == 5
    report_lines = re.findall(r"^REPORT .*$", result.stderr, re.M)
    assert ["Init Duration: " in line for line in report_lines] == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_the_package_log_says_what_the_runtime_provides(rule_runner: RuleRunner) -> None:
    set_options(rule_runner, *options())
    relying, _ = build_package(
        rule_runner, Address("src/proj", target_name=target_name("python3.12", "x86_64"))
    )
    assert "    Provided by the runtime: boto3, botocore" in relying.artifacts[0].extra_log_lines
    # With its own boto3 (and botocore, its dependency), the function relies on nothing of it.
    own, _ = build_package(rule_runner, Address("src/own", target_name="fn"))
    assert not any("Provided by the runtime" in line for line in own.artifacts[0].extra_log_lines)
