"""The invoke runner on its own: hand-made zips in, stdout, stderr and exit status out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from pants_aws_lambda.facts.runtimes import RUNTIMES, LambdaRuntime
from pants_aws_lambda.invoke import runner as invoke_runner
from pants_aws_lambda.invoke.runner_direct_child import LogSink

# The runtime the tests that are not about runtimes invoke with.
RUNTIME = "python3.9"

HANDLER = """\
import decimal, json, logging, os, stat, sys, time

logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    print("a print")
    logging.info("a log line")
    action = event.get("action")
    if action == "fail":
        raise ValueError("bad order")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "decimal":
        return {
            "price": decimal.Decimal("1.10"),
            "count": decimal.Decimal("3"),
            "name": "caf\u00e9",
        }
    if action == "unserializable":
        return {"value": object()}
    import greeting
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    return {
        "event": event,
        "greeting": greeting.WHO,
        "sys_path": sys.path,
        "cwd": os.getcwd(),
        "task_root_writable": bool(stat.S_IMODE(os.stat(task_root).st_mode) & 0o222),
        "env": {k: os.environ.get(k) for k in (
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION",
            "_HANDLER", "AWS_EXECUTION_ENV", "STAGE", "PASSED", "UNSET", "HOME")},
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "remaining": context.get_remaining_time_in_millis(),
        },
    }
"""


def make_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return path


@pytest.fixture
def function_zip(tmp_path: Path) -> Path:
    return make_zip(
        tmp_path / "function.zip",
        {"lambda_function.py": HANDLER, "greeting.py": "WHO = 'function'\n"},
    )


def run(
    tmp_path: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    runtime: str = RUNTIME,
) -> subprocess.CompletedProcess:
    # The runtime's arguments, from the runtime table (`goals/run_test.py` checks that `pants run`
    # passes the same).
    non_ascii = "escape" if RUNTIMES[runtime].json_ensure_ascii else "keep"
    runtime_args = ("--runtime", runtime, "--non-ascii", non_ascii)
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", invoke_runner.__file__, *runtime_args, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        timeout=60,
    )


def test_event_in_response_out(tmp_path: Path, function_zip: Path) -> None:
    result = run(
        tmp_path,
        "--function",
        str(function_zip),
        "--function-name",
        "orders",
        "--memory-size",
        "512",
        "--region",
        "eu-west-1",
        "--timeout",
        "30",
        "--env",
        "STAGE=dev",
        "--env",
        "PASSED",
        "--env",
        "UNSET",
        "--",
        '{"name": "Ada"}',
        env={"PASSED": "from-outside", "HOME": "/home/someone"},
    )
    assert result.returncode == 0, result.stderr
    # stdout is the response and nothing else; prints and logs go to stderr.
    (line,) = result.stdout.splitlines()
    response = json.loads(line)
    assert "a print" in result.stderr and "a log line" in result.stderr
    assert "START RequestId:" in result.stderr and "REPORT RequestId:" in result.stderr

    assert response["event"] == {"name": "Ada"}
    assert response["greeting"] == "function"
    task_root = response["cwd"]
    assert response["sys_path"][0] == task_root
    assert not response["task_root_writable"]
    assert response["env"] == {
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_REGION": "eu-west-1",
        "_HANDLER": "lambda_function.handler",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{RUNTIME}",
        "STAGE": "dev",
        "PASSED": "from-outside",
        "UNSET": None,
        # Only what `--env` names gets through.
        "HOME": None,
    }
    context = response["context"]
    assert context["function_name"] == "orders"
    assert context["memory_limit_in_mb"] == "512"
    assert (
        context["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:orders"
    )
    assert context["log_group_name"] == "/aws/lambda/orders"
    assert f"START RequestId: {context['aws_request_id']}" in result.stderr
    assert 25_000 < context["remaining"] <= 30_000
    # The fresh directory is gone afterwards.
    assert not os.path.exists(task_root)


def test_layers_follow_lambdas_sys_path_order(tmp_path: Path) -> None:
    function = make_zip(tmp_path / "function.zip", {"lambda_function.py": HANDLER})
    first = make_zip(
        tmp_path / "first.zip",
        {"python/greeting.py": "WHO = 'first layer'\n", "python/only_first.py": ""},
    )
    second = make_zip(tmp_path / "second.zip", {"python/greeting.py": "WHO = 'second layer'\n"})
    result = run(
        tmp_path,
        "--function",
        str(function),
        "--layer",
        str(first),
        "--layer",
        str(second),
        "--",
        "{}",
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    # Layers are unpacked in order into one directory: the later layer's file wins.
    assert response["greeting"] == "second layer"
    task_root = response["cwd"]
    opt = os.path.join(os.path.dirname(task_root), "opt")
    assert response["sys_path"][:3] == [
        task_root,
        os.path.join(
            opt, "python", "lib", "python{}.{}".format(*sys.version_info[:2]), "site-packages"
        ),
        os.path.join(opt, "python"),
    ]
    # Then the standard library only: no site-packages, no runner directory.
    assert not any("site-packages" in p for p in response["sys_path"][3:])
    assert os.path.dirname(invoke_runner.__file__) not in response["sys_path"]


def test_event_from_stdin_file_and_default(tmp_path: Path, function_zip: Path) -> None:
    (tmp_path / "event.json").write_text('{"from": "file"}')
    from_file = run(tmp_path, "--function", str(function_zip), "--", "@event.json")
    from_stdin = run(
        tmp_path, "--function", str(function_zip), "--", "-", stdin='{"from": "stdin"}'
    )
    default = run(tmp_path, "--function", str(function_zip))
    assert json.loads(from_file.stdout)["event"] == {"from": "file"}
    assert json.loads(from_stdin.stdout)["event"] == {"from": "stdin"}
    assert json.loads(default.stdout)["event"] == {}


@pytest.mark.parametrize(
    "event, message",
    [("{not json", "is not JSON"), ("@missing.json", "Cannot read the event file missing.json")],
)
def test_bad_event(tmp_path: Path, function_zip: Path, event: str, message: str) -> None:
    result = run(tmp_path, "--function", str(function_zip), "--", event)
    assert result.returncode == invoke_runner.EXIT_USAGE
    assert result.stdout == ""
    assert message in result.stderr


def test_exception_gives_lambdas_error_shape(tmp_path: Path, function_zip: Path) -> None:
    result = run(tmp_path, "--function", str(function_zip), "--", '{"action": "fail"}')
    assert result.returncode == invoke_runner.EXIT_ERROR
    error = json.loads(result.stdout)
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorMessage"] == "bad order"
    assert error["errorType"] == "ValueError"
    # The handler's frames only, as the runtime reports them.
    (frame,) = error["stackTrace"]
    assert "lambda_function.py" in frame and 'raise ValueError("bad order")' in frame
    assert "[ERROR] ValueError: bad order" in result.stderr
    assert "invoke_runner" not in result.stderr


def test_unserializable_response(tmp_path: Path, function_zip: Path) -> None:
    result = run(tmp_path, "--function", str(function_zip), "--", '{"action": "unserializable"}')
    assert result.returncode == invoke_runner.EXIT_ERROR
    error = json.loads(result.stdout)
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"].startswith("Unable to marshal response:")


@pytest.mark.parametrize("runtime", RUNTIMES.values(), ids=lambda r: r.name)
def test_response_encoded_as_the_runtime_does(
    tmp_path: Path, function_zip: Path, runtime: LambdaRuntime
) -> None:
    result = run(
        tmp_path,
        "--function",
        str(function_zip),
        "--",
        '{"action": "decimal"}',
        runtime=runtime.name,
    )
    assert result.returncode == 0, result.stderr
    # Decimals keep their digits; non-ASCII is escaped or kept as the runtime's encoder does.
    name = "caf\\u00e9" if runtime.json_ensure_ascii else "caf\u00e9"
    assert result.stdout == '{"price": 1.10, "count": 3, "name": "%s"}\n' % name


def test_the_encoding_rule_is_required(tmp_path: Path, function_zip: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            invoke_runner.__file__,
            "--runtime",
            RUNTIME,
            "--function",
            str(function_zip),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == invoke_runner.EXIT_USAGE
    assert "--non-ascii" in result.stderr


def test_import_error(tmp_path: Path) -> None:
    function = make_zip(tmp_path / "function.zip", {"lambda_function.py": "import not_there\n"})
    result = run(tmp_path, "--function", str(function))
    assert result.returncode == invoke_runner.EXIT_ERROR
    error = json.loads(result.stdout)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert (
        error["errorMessage"]
        == "Unable to import module 'lambda_function': No module named 'not_there'"
    )
    # As the runtime reports a failed initialisation: no request yet.
    assert error["requestId"] == ""


def _stderr_order(stderr: str, *markers: str) -> list[int]:
    """Where each marker first appears in `stderr` (all of them must)."""
    positions = [stderr.find(marker) for marker in markers]
    assert -1 not in positions, (markers, stderr)
    return positions


def test_the_initialisation_logs_before_the_first_start(tmp_path: Path) -> None:
    """The handler module's prints and logs belong to the initialisation: before the first
    `START`, as Lambda logs them, and only once for a warm second invocation."""
    function = make_zip(
        tmp_path / "function.zip",
        {
            "lambda_function.py": (
                "import logging, time\n"
                "print('init print')\n"
                "time.sleep(0.2)\n"
                "logging.getLogger().warning('init log')\n"
                "def handler(event, context):\n"
                "    print('handler print')\n"
                "    return event\n"
            )
        },
    )
    result = run(tmp_path, "--function", str(function), "--", "{}", "{}")
    assert result.returncode == 0, result.stderr
    order = _stderr_order(
        result.stderr, "INIT_START", "init print", "init log", "START RequestId", "handler print"
    )
    assert order == sorted(order), result.stderr
    assert result.stderr.count("init log") == 1 and result.stderr.count("START RequestId") == 2


def test_a_failed_import_is_logged_by_the_initialisation(tmp_path: Path) -> None:
    """As the runtime client does: the module's logs, then the warning and the `[ERROR]` record
    of the failed import, all before the first `START`; that invocation gets the error, and the
    environment ends."""
    function = make_zip(
        tmp_path / "function.zip",
        {
            "lambda_function.py": (
                "import logging\n"
                "logging.getLogger().warning('before the import')\n"
                "import not_there\n"
            )
        },
    )
    result = run(tmp_path, "--function", str(function), "--", "{}", "{}")
    assert result.returncode == invoke_runner.EXIT_ERROR
    order = _stderr_order(
        result.stderr,
        "INIT_START",
        "before the import",
        "LAMBDA_WARNING: Unhandled exception.",
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'lambda_function'",
        "START RequestId",
        "END RequestId",
        "REPORT RequestId",
        "the 1 remaining event(s) are not invoked",
    )
    assert order == sorted(order), result.stderr
    assert result.stderr.count("START RequestId") == 1
    assert json.loads(result.stdout)["errorType"] == "Runtime.ImportModuleError"


class _SlowStderr:
    """A stderr that takes `delay` seconds per write: a copier thread scheduled slowly."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        time.sleep(self.delay)
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_drain_waits_for_every_frame_written_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """`END` follows the invocation's logs however long copying them takes."""
    slow = _SlowStderr(0.25)
    monkeypatch.setattr(sys, "stderr", slow)
    read_fd, write_fd = os.pipe()
    copier = invoke_runner.LogCopier(read_fd)
    # Written as the runtime writes its records.
    sink = LogSink(write_fd)
    for n in range(12):
        sink.log(f"record {n}")
    copier.drain()
    assert slow.lines == [f"record {n}\n" for n in range(12)]
    sink.file.close()
    copier.join()


def test_drain_does_not_wait_for_a_handler_that_keeps_logging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only what the pipe held when `drain` began is waited for: a background thread that logs
    every 10 ms without end does not hold up `END` (waiting for the pipe to fall quiet would)."""
    slow = _SlowStderr(0.005)
    monkeypatch.setattr(sys, "stderr", slow)
    read_fd, write_fd = os.pipe()
    copier = invoke_runner.LogCopier(read_fd)
    sink = LogSink(write_fd)
    written: list[int] = []
    stop = threading.Event()

    def keep_logging() -> None:
        while not stop.is_set():
            sink.log(f"record {len(written)}")
            written.append(1)
            time.sleep(0.01)

    logger = threading.Thread(target=keep_logging, daemon=True)
    logger.start()
    try:
        time.sleep(0.2)
        before = len(written)
        started = time.monotonic()
        copier.drain()
        assert time.monotonic() - started < 1.5
        assert len(slow.lines) >= before
    finally:
        stop.set()
        logger.join()
        sink.file.close()
        copier.join()


def test_timeout_kills_the_handler(tmp_path: Path, function_zip: Path) -> None:
    started = time.monotonic()
    result = run(
        tmp_path,
        "--function",
        str(function_zip),
        "--timeout",
        "1",
        "--",
        '{"action": "sleep", "seconds": 30}',
    )
    assert time.monotonic() - started < 15
    assert result.returncode == invoke_runner.EXIT_TIMEOUT
    error = json.loads(result.stdout)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert (
        "Task timed out after 1.00 seconds: the handler ran out of time and was killed"
        in result.stderr
    )


def test_handler_within_its_timeout(tmp_path: Path, function_zip: Path) -> None:
    result = run(
        tmp_path,
        "--function",
        str(function_zip),
        "--timeout",
        "5",
        "--",
        '{"action": "sleep", "seconds": 0.5}',
    )
    assert result.returncode == 0, result.stderr
    assert 0 < json.loads(result.stdout)["context"]["remaining"] <= 4_500


def test_flat_directories_and_file_modes(tmp_path: Path) -> None:
    """A `flat` function and layer are directories; an executable file stays executable, from a
    directory as from the Unix mode a zip entry stores (Lambda keeps it)."""
    function = tmp_path / "function"
    function.mkdir()
    (function / "lambda_function.py").write_text(
        "import os, subprocess\n"
        "def handler(event, context):\n"
        "    run = lambda p: subprocess.run([p], capture_output=True, text=True, "
        "check=True).stdout.strip()\n"
        "    return {'task': run(os.path.join(os.environ['LAMBDA_TASK_ROOT'], 'bin', 'tool')),\n"
        "            'layer': run('layer-tool'), 'greeting': __import__('greeting').WHO}\n"
    )
    (function / "bin").mkdir()
    (function / "bin" / "tool").write_text("#!/bin/sh\necho from the task root\n")
    (function / "bin" / "tool").chmod(0o755)
    layer = tmp_path / "layer.zip"
    with zipfile.ZipFile(layer, "w") as zf:
        zf.writestr("python/greeting.py", "WHO = 'layer'\n")
        info = zipfile.ZipInfo("bin/layer-tool")
        info.external_attr = (0o100755) << 16
        zf.writestr(info, "#!/bin/sh\necho from the layer\n")
    flat_layer = tmp_path / "flat-layer"
    (flat_layer / "python").mkdir(parents=True)
    (flat_layer / "python" / "greeting.py").write_text("WHO = 'flat layer'\n")

    result = run(
        tmp_path,
        "--function",
        str(function),
        "--layer",
        str(layer),
        "--layer",
        str(flat_layer),
        "--",
        "{}",
    )
    assert result.returncode == 0, result.stderr
    # `/opt/bin` is on PATH, as on Lambda; the later (flat) layer's file wins.
    assert json.loads(result.stdout) == {
        "task": "from the task root",
        "layer": "from the layer",
        "greeting": "flat layer",
    }
    # The artifact itself is untouched.
    assert os.access(function / "bin" / "tool", os.X_OK)


def test_a_file_without_a_stored_mode_is_not_executable(tmp_path: Path) -> None:
    function = make_zip(
        tmp_path / "function.zip",
        {
            "lambda_function.py": (
                "import os, stat\n"
                "def handler(event, context):\n"
                "    mode = os.stat(os.path.join(os.environ['LAMBDA_TASK_ROOT'], "
                "'data.txt')).st_mode\n"
                "    return oct(stat.S_IMODE(mode))\n"
            ),
            "data.txt": "x",
        },
    )
    result = run(tmp_path, "--function", str(function))
    assert result.returncode == 0, result.stderr
    # Read-only, not executable.
    assert not int(json.loads(result.stdout), 8) & 0o333


def test_logs_and_errors_are_framed_as_the_runtime_writes_them(
    tmp_path: Path, function_zip: Path
) -> None:
    failed = run(tmp_path, "--function", str(function_zip), "--", '{"action": "fail"}')
    # The runtime's `[ERROR]` record: the traceback's lines indented with no-break spaces.
    assert (
        "[ERROR] ValueError: bad order\nTraceback (most recent call last):\n\u00a0\u00a0File "
        in failed.stderr
    )
    assert '\n\u00a0\u00a0\u00a0\u00a0raise ValueError("bad order")\n' in failed.stderr
    # Log records carry the request id once the invocation started.
    request_id = json.loads(failed.stdout)["requestId"]
    assert f"Z\t{request_id}\ta log line\n" in failed.stderr
