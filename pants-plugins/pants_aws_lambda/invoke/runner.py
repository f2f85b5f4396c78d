"""Invoke a Lambda function's artifact locally, the way the Lambda Python runtime calls it.

The runner is one program per file, shipped together into `pants run`'s sandbox
(`runner_files.py`): this parent; the Runtime API it serves the runtime client
(`runner_runtime_api.py`); the runtime it starts as a child, either `runner_direct_child.py` or
`runner_runtime_client_child.py` (`awslambdaric`); and what they share (`runner_environment.py`).

The parent runs as a standalone script, by the CPython of the Lambda runtime's minor version,
stdlib only (CPython 3.8+); `pants run` of a `python_aws_lambda_function` target runs it as:

    python3.X -I -S -B runner.py --function ZIP_OR_DIR [--layer ZIP_OR_DIR ...]
        --runtime NAME --non-ascii {escape,keep} [--timeout S] [--memory-size MB] [--region R]
        [--function-name N] [--env NAME[=VALUE] ...] [--runtime-client AWSLAMBDARIC_PEX_DIR]
        [--runtime-sdk SDK_PEX_DIR] [--emulator QEMU --emulator-root ROOT] [--init-timeout S]
        [--] [EVENT ...]

or, for a CPython of another CPU (or another root filesystem), under QEMU's user-mode emulator:

    qemu-aarch64-static -L ROOT ROOT/usr/bin/python3.X -I -S -B runner.py ...
        --emulator qemu-aarch64-static --emulator-root ROOT

(`--emulator` tells the script to start its child, the runtime, the same way.)

An EVENT is a JSON document, `@path` to read it from a file (`@path.jsonl`: one event per line),
or `-` to read it from stdin; `{}` when none is given. The script unpacks the function's zip (or
copies its `flat` directory) into a fresh task root and its layers, in order, into a fresh `/opt`
equivalent, with the file modes the artifact stores (an executable stays executable, as on
Lambda), makes both read-only, and starts the runtime once: a child process of the same
interpreter in isolated mode, with only the task root, the layers'
`python/lib/python3.X/site-packages` and `python/`, the standard library and the SDK
(`--runtime-sdk`, where `/var/runtime` is on Lambda) on `sys.path` (Lambda's order), Lambda's
environment variables and a context object like the runtime's. The runtime imports the handler
once and handles every event in turn, as a warm execution environment does. With
`--runtime-client` (a loose PEX of `awslambdaric`), the child is `awslambdaric` itself, with its
distributions last on `sys.path`, and this script serves it the Lambda Runtime API on a loopback
port, one invocation after the other.

stdout gets each handler's response as JSON, one document per line, and nothing else; the
handler's prints and logs go to stderr, between `START`, `END` and `REPORT` lines for each
invocation (the first `REPORT` with the `Init Duration`), those of its module's import before the
first `START`. An error the handler raises ends its invocation only; a crash (the runtime exits),
a timeout or a failed initialisation ends the execution environment, and the remaining events are
not invoked. Exit status: 0 when every event got a response, else the last failure's: 1 for an
error (the response is then Lambda's error shape, `errorMessage`, `errorType`, `requestId`,
`stackTrace`), 124 when an invocation timed out (the handler is killed); 2 for a bad command line
or event.
"""

from __future__ import annotations

import argparse
import array
import base64
import datetime
import fcntl
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import termios
import threading
import time
import uuid
import zipfile
from typing import TYPE_CHECKING, NamedTuple, TextIO

if TYPE_CHECKING or __package__:
    from pants_aws_lambda.invoke.runner_environment import HANDLER, function_arn
    from pants_aws_lambda.invoke.runner_runtime_api import RuntimeApi
else:  # A script: its sibling modules sit beside it (`-I` leaves its directory off `sys.path`).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from runner_environment import HANDLER, function_arn  # pants: no-infer-dep
    from runner_runtime_api import RuntimeApi  # pants: no-infer-dep

# Lambda gives a function's initialisation (importing the handler's module) 10 seconds.
INIT_TIMEOUT_S = 10.0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124

# `--non-ascii`: `escape` as `\u00e9` (`json.dumps`'s `ensure_ascii`), or `keep` as UTF-8.
NON_ASCII_CHOICES = ("escape", "keep")

# The children, beside this script: the direct runtime, or the runtime client's launcher.
_DIRECT_CHILD = "runner_direct_child.py"
_RUNTIME_CLIENT_CHILD = "runner_runtime_client_child.py"


class UsageError(Exception):
    pass


def read_event(arg: str | None, stdin: TextIO | None = None) -> str:
    """The event's JSON text, from the command line, `@file` or `-` (stdin); checked to parse."""
    if arg is None:
        text, where = "{}", "the default event"
    elif arg == "-":
        text, where = (stdin or sys.stdin).read(), "stdin"
    elif arg.startswith("@"):
        path = arg[1:]
        try:
            with open(path, encoding="utf-8") as fp:
                text = fp.read()
        except OSError as e:
            raise UsageError(f"Cannot read the event file {path}: {e.strerror}.")
        where = path
    else:
        text, where = arg, "the event argument"
    try:
        json.loads(text)
    except ValueError as e:
        raise UsageError(
            f"The event in {where} is not JSON ({e}). Pass a JSON document, `@file.json` to read "
            "it from a file, or `-` to read it from stdin."
        )
    return text


def read_events(arg: str | None, stdin: TextIO | None = None) -> list[str]:
    """The events of one argument: a JSON Lines file (`@events.jsonl`, one event per non-empty
    line) gives several, anything else one (`read_event`)."""
    if arg is None or not (arg.startswith("@") and arg.endswith(".jsonl")):
        return [read_event(arg, stdin)]
    path = arg[1:]
    try:
        with open(path, encoding="utf-8") as fp:
            lines = [line for line in fp.read().splitlines() if line.strip()]
    except OSError as e:
        raise UsageError(f"Cannot read the events file {path}: {e.strerror}.")
    if not lines:
        raise UsageError(f"The events file {path} holds no event (one JSON document per line).")
    events = []
    for number, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except ValueError as e:
            raise UsageError(f"Line {number} of the events file {path} is not JSON ({e}).")
        events.append(line)
    return events


def parse_env(entries: list[str], environ: dict[str, str]) -> dict[str, str]:
    """`NAME=VALUE` entries, and `NAME` entries taken from `environ` (skipped when unset)."""
    env = {}
    for entry in entries:
        name, sep, value = entry.partition("=")
        if not name:
            raise UsageError(f"`{entry}` is not an environment variable: use NAME=VALUE or NAME.")
        if sep:
            env[name] = value
        elif name in environ:
            env[name] = environ[name]
    return env


def unpack(artifact: str, dest: str) -> None:
    """A zip, or the directory of the `flat` layout, into `dest` (merged with what is there: a
    later layer's file replaces an earlier one's). File modes come along, as Lambda keeps them:
    the Unix mode a zip entry stores (`zipfile` alone would drop it), a directory's as they are."""
    if os.path.isdir(artifact):
        shutil.copytree(artifact, dest, symlinks=True, dirs_exist_ok=True)
        return
    with zipfile.ZipFile(artifact) as zf:
        for info in zf.infolist():
            path = zf.extract(info, dest)
            mode = stat.S_IMODE(info.external_attr >> 16)
            if mode and not info.is_dir():
                os.chmod(path, mode)


def set_writable(root: str, writable: bool) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for path in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            if os.path.islink(path):
                continue
            mode = stat.S_IMODE(os.stat(path).st_mode)
            os.chmod(path, (mode | 0o200) if writable else (mode & ~0o222))


def lambda_environment(
    args: argparse.Namespace, task_root: str, opt: str, overrides: dict[str, str]
) -> dict[str, str]:
    name = args.function_name
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    env = {
        "PATH": os.pathsep.join([os.path.join(opt, "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LD_LIBRARY_PATH": os.pathsep.join(
            [task_root, os.path.join(task_root, "lib"), os.path.join(opt, "lib")]
        ),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": task_root,
        "_HANDLER": HANDLER,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{args.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(args.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
        "_X_AMZN_TRACE_ID": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        "_LAMBDA_INVOKE_NON_ASCII": args.non_ascii,
    }
    env.update(overrides)
    return env


def timeout_error(request_id: str, seconds: float) -> dict:
    return {
        "errorMessage": (
            f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds"
        ),
        "errorType": "Sandbox.Timedout",
    }


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _spawn(
    argv: list[str], env: dict[str, str], cwd: str, pass_fds: tuple[int, ...]
) -> subprocess.Popen[bytes]:
    """Start the child (the direct runtime or the runtime client) the way both runners do."""
    return subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        # The handler's prints are logs: they go to stderr, stdout is for the response only.
        stdout=sys.stderr.fileno(),
        pass_fds=pass_fds,
        # Its own process group, so that a timeout kills whatever the handler started too.
        start_new_session=True,
    )


class LogCopier:
    """Copies the log frames of `fd` to stderr in a daemon thread. Frames: type (4 bytes), length
    (4, big-endian), timestamp (8), message (length bytes). `drain()` waits until everything
    written to the pipe so far is copied, so that `START`, `END` and `REPORT` lines follow the logs
    written before them, however slowly this thread is scheduled.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.copied = 0  # bytes taken from the pipe and written to stderr
        self.busy = False  # a frame is being taken from the pipe and written
        self.closed = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read_exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = os.read(self.fd, n - len(data))
            if not chunk:
                return data
            data += chunk
        return data

    def _copy_frame(self) -> bool:
        """One frame from the pipe to stderr: False at the end of the pipe."""
        header = self._read_exactly(16)
        if len(header) < 16:
            return False
        message = self._read_exactly(int.from_bytes(header[4:8], "big"))
        text = message.decode("utf-8", "replace")
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()
        with self.changed:
            self.copied += len(header) + len(message)
            self.busy = False
            self.changed.notify_all()
        return True

    def _run(self) -> None:
        try:
            while True:
                select.select([self.fd], [], [])
                # Marked before anything leaves the pipe: what `drain` does not find in the pipe
                # is then in this frame.
                with self.changed:
                    self.busy = True
                if not self._copy_frame():
                    return
        finally:
            os.close(self.fd)
            with self.changed:
                self.closed = True
                self.changed.notify_all()

    def _unread(self) -> int:
        """The bytes waiting in the pipe."""
        buffer = array.array("i", [0])
        try:
            fcntl.ioctl(self.fd, termios.FIONREAD, buffer, True)
        except OSError:
            return 0
        return buffer[0]

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until what the pipe holds now is on stderr: the frame being copied, then those
        still in the pipe (only these, so a handler that keeps logging does not hold it up)."""
        with self.changed:
            if not self.changed.wait_for(lambda: self.closed or not self.busy, timeout):
                return
            if self.closed:
                return
            target = self.copied + self._unread()
            self.changed.wait_for(
                lambda: self.closed or (not self.busy and self.copied >= target), timeout
            )

    def join(self, timeout: float = 5.0) -> None:
        self.thread.join(timeout)


def _read_line(fd: int, pending: bytearray, deadline: float) -> bytes | None:
    """The next line of `fd` (without its newline), b"" at the end of the pipe, None once
    `deadline` (monotonic) has passed. `pending` keeps what was read past the line."""
    while True:
        newline = pending.find(b"\n")
        if newline >= 0:
            line = bytes(pending[:newline])
            del pending[: newline + 1]
            return line
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b""
        pending.extend(chunk)


class Outcome(NamedTuple):
    """How one invocation ended: `ok` (the handler's result or error is in `report`), `timeout`,
    `init-timeout` or `crashed:<exit status>`; and the seconds it took."""

    state: str
    report: bytes
    elapsed: float


class DirectChild:
    """`runner_direct_child.py` as the runtime: started once, it initialises (imports the handler),
    then handles the invocations it is sent one by one, as a warm execution environment does.
    Invocations go to it as JSON lines on a pipe; outcomes come back as JSON lines on another."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, init_timeout: float) -> None:
        report_read, report_write = os.pipe()
        self.next_read, self.next_write = os.pipe()
        log_read, self.log_write = os.pipe()
        env = dict(
            env,
            _LAMBDA_INVOKE_FD=str(report_write),
            _LAMBDA_INVOKE_NEXT_FD=str(self.next_read),
            _LAMBDA_TELEMETRY_LOG_FD=str(self.log_write),
        )
        self.begun = time.monotonic()
        self.proc = _spawn(argv, env, cwd, (report_write, self.next_read, self.log_write))
        for fd in (report_write, self.next_read, self.log_write):
            os.close(fd)
        self.report_fd = report_read
        self.pending = bytearray()
        self.logs = LogCopier(log_read)
        self.init_timeout = init_timeout
        self.init_duration: float | None = None  # seconds, once the handler is imported
        self.init_error: bytes | None = None  # the report of a failed initialisation

    def initialise(self) -> str | None:
        """Wait until the child has imported the handler (or failed to, and logged why): None,
        else the execution environment's end (`init-timeout`, `crashed:<status>`)."""
        line = _read_line(self.report_fd, self.pending, self.begun + self.init_timeout)
        if line is None:
            return "init-timeout"
        if not line:
            return f"crashed:{self.proc.wait()}"
        self.init_duration = time.monotonic() - self.begun
        if not json.loads(line.decode("utf-8")).get("ready"):
            self.init_error = line
        return None

    def invoke(self, event: str, request_id: str, timeout: float) -> Outcome:
        if self.init_error is not None:
            # The child has exited: the invocation gets the initialisation's error.
            return Outcome("ok", self.init_error, 0.0)
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        invocation = {"event": event, "request_id": request_id, "deadline_ms": deadline_ms}
        started = time.monotonic()
        try:
            os.write(self.next_write, json.dumps(invocation).encode("utf-8") + b"\n")
        except BrokenPipeError:
            return Outcome(f"crashed:{self.proc.wait()}", b"", 0.0)
        line = _read_line(self.report_fd, self.pending, started + timeout)
        elapsed = time.monotonic() - started
        if line is None:
            return Outcome("timeout", b"", elapsed)
        if not line:
            return Outcome(f"crashed:{self.proc.wait()}", b"", elapsed)
        return Outcome("ok", line, elapsed)

    def drain_logs(self) -> None:
        self.logs.drain()

    def pid(self) -> int | None:
        return self.proc.pid if self.proc.poll() is None else None

    def close(self) -> None:
        os.close(self.next_write)
        os.close(self.report_fd)
        _kill(self.proc)
        self.logs.join()


class RuntimeClientChild:
    """`awslambdaric` as the runtime (`runner_runtime_client_child.py`), against a `RuntimeApi` on
    loopback that offers it one invocation after the other: started once, as a warm execution
    environment."""

    def __init__(
        self, argv: list[str], env: dict[str, str], cwd: str, function_arn: str, init_timeout: float
    ) -> None:
        self.function_arn = function_arn
        self.init_timeout = init_timeout
        self.api = RuntimeApi(function_arn).__enter__()
        # Like on Lambda, the client writes log records as frames to a telemetry fd: one record
        # per frame, multi-line tracebacks included. They are written to stderr line by line.
        read_fd, write_fd = os.pipe()
        env = dict(
            env, AWS_LAMBDA_RUNTIME_API=self.api.address, _LAMBDA_TELEMETRY_LOG_FD=str(write_fd)
        )
        self.begun = time.monotonic()
        self.proc = _spawn(argv, env, cwd, (write_fd,))
        os.close(write_fd)
        self.logs = LogCopier(read_fd)
        self.init_duration: float | None = None

    def initialise(self) -> str | None:
        """Wait until the client has imported the handler (its first poll for an invocation) or
        posted an initialisation error: None, else the execution environment's end
        (`init-timeout`, `crashed:<status>`)."""
        api, proc = self.api, self.proc
        while not (api.polled.wait(0.02) or api.done.is_set()):
            if time.monotonic() - self.begun > self.init_timeout:
                return "init-timeout"
            if proc.poll() is not None:
                # The client posts an initialisation error before it exits; a last look.
                if api.done.wait(0.5):
                    break
                return f"crashed:{proc.returncode}"
        self.init_duration = (api.first_polled_at or time.monotonic()) - self.begun
        return None

    def _watch(self, begun: float, timeout: float) -> Outcome | None:
        """None once the API has the client's result, else the outcome of a timeout or a crash."""
        api, proc = self.api, self.proc
        while not api.done.wait(0.02):
            served_at = api.served_at
            if time.monotonic() - (served_at or begun) > timeout:
                return Outcome("timeout", b"", time.monotonic() - (served_at or begun))
            if proc.poll() is not None:
                # The client posts its result before it exits; a last look.
                if api.done.wait(0.5):
                    return None
                return Outcome(f"crashed:{proc.returncode}", b"", 0.0)
        return None

    def invoke(self, event: str, request_id: str, timeout: float) -> Outcome:
        if self.api.init_error is not None:
            # Posted during the initialisation: the client has exited.
            return Outcome("ok", self.api.report(), 0.0)
        begun = time.monotonic()
        self.api.offer(event, request_id, timeout)
        failed = self._watch(begun, timeout)
        if failed is not None:
            return failed
        return Outcome("ok", self.api.report(), time.monotonic() - (self.api.served_at or begun))

    def drain_logs(self) -> None:
        self.logs.drain()

    def pid(self) -> int | None:
        return self.proc.pid if self.proc.poll() is None else None

    def close(self) -> None:
        _kill(self.proc)
        self.api.__exit__(None, None, None)
        self.logs.join()


def _max_rss_mb(pid: int | None = None) -> int:
    """The runtime's peak memory: the live process's (`VmHWM`, Linux), else that of the children
    that have exited."""
    if pid is not None:
        try:
            with open(f"/proc/{pid}/status") as fp:
                for line in fp:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            pass
    try:
        import resource
    except ImportError:
        return 0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(rss / (1024 * 1024 if sys.platform == "darwin" else 1024))


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pants run <lambda function>")
    parser.add_argument("--function", required=True)
    parser.add_argument("--layer", action="append", default=[])
    parser.add_argument("--runtime", required=True)
    # How the runtime's JSON encoder treats non-ASCII characters: given by the plugin, from its
    # runtime table (the runner runs on the runtime's CPython alone and imports nothing of it).
    parser.add_argument("--non-ascii", required=True, choices=NON_ASCII_CHOICES)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--memory-size", type=int, default=128)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--function-name", default="local-function")
    parser.add_argument("--env", action="append", default=[])
    # An installed `awslambdaric` (a loose PEX): run the handler through it.
    parser.add_argument("--runtime-client", default=None)
    # An installed AWS SDK (a loose PEX): on `sys.path` after the function, its layers and the
    # standard library, where `/var/runtime` is on Lambda.
    parser.add_argument("--runtime-sdk", default=None)
    # QEMU's user-mode emulator and the root filesystem this interpreter runs from: the child (the
    # runtime) is started the same way.
    parser.add_argument("--emulator", default=None)
    parser.add_argument("--emulator-root", default=None)
    # Lambda's 10 seconds for the initialisation; more under an emulator, which is many times
    # slower.
    parser.add_argument("--init-timeout", type=float, default=INIT_TIMEOUT_S)
    # One event, or several handled by one runtime process (a warm execution environment).
    parser.add_argument("events", nargs="*", default=[])
    return parser


def _work_dirs(work: str) -> tuple[str, str]:
    """The task root and the `/opt` equivalent in the invocation's work directory."""
    return os.path.join(work, "task"), os.path.join(work, "opt")


def _lay_out(work: str, args: argparse.Namespace) -> None:
    """The function and its layers unpacked read-only in `work`."""
    task_root, opt = _work_dirs(work)
    os.makedirs(task_root)
    os.makedirs(opt)
    unpack(args.function, task_root)
    for layer in args.layer:
        # Layers are unpacked in order; a later layer's file replaces an earlier one's.
        unpack(layer, opt)
    set_writable(task_root, False)
    set_writable(opt, False)


def _start_runtime(
    args: argparse.Namespace, work: str, env: dict[str, str]
) -> DirectChild | RuntimeClientChild:
    """The runtime, not started yet: the direct child, or `awslambdaric`."""
    task_root, opt = _work_dirs(work)
    # `-u`: prints reach stderr as they happen (`-I` ignores PYTHONUNBUFFERED).
    python = [sys.executable]
    if args.emulator:
        python = [args.emulator, "-L", args.emulator_root, sys.executable]
    python = [*python, "-I", "-S", "-B", "-u"]
    here = os.path.dirname(os.path.abspath(__file__))
    sdk = os.path.abspath(args.runtime_sdk) if args.runtime_sdk else ""
    if args.runtime_client:
        arn = function_arn(args.region, args.function_name)
        runtime_client = os.path.abspath(args.runtime_client)
        child = [*python, os.path.join(here, _RUNTIME_CLIENT_CHILD), opt, runtime_client, sdk]
        return RuntimeClientChild(child, env, task_root, arn, args.init_timeout)
    child = [*python, os.path.join(here, _DIRECT_CHILD), opt, sdk]
    return DirectChild(child, env, task_root, args.init_timeout)


def _write_response(report: bytes) -> None:
    outcome = json.loads(report.decode("utf-8"))
    # The response exactly as the runtime encoded it; a `bytes` response as its bytes.
    if "bytes" in outcome:
        sys.stdout.buffer.write(base64.b64decode(outcome["bytes"]))
    else:
        sys.stdout.buffer.write(outcome["payload"].encode("utf-8") + b"\n")
    sys.stdout.flush()


def _write_timeout(state: str, args: argparse.Namespace, request_id: str) -> None:
    seconds = args.timeout if state == "timeout" else args.init_timeout
    phase = "the handler" if state == "timeout" else "the initialisation (importing the handler)"
    print(
        f"{request_id} Task timed out after {seconds:.2f} seconds: {phase} ran out of time "
        "and was killed. The timeout comes from `[lambda-invoke].timeout` "
        "(`--lambda-invoke-timeout`).",
        file=sys.stderr,
    )
    print(json.dumps(timeout_error(request_id, seconds)), flush=True)


def _write_crash(state: str, request_id: str) -> None:
    status = state.split(":", 1)[1]
    print(f"The runtime process exited unexpectedly (status {status}).", file=sys.stderr)
    print(
        json.dumps(
            {
                "errorMessage": (
                    f"RequestId: {request_id} Error: Runtime exited with status {status}"
                ),
                "errorType": "Runtime.ExitError",
            }
        ),
        flush=True,
    )


def _is_init_error(report: bytes) -> bool:
    return bool(report) and bool(json.loads(report.decode("utf-8")).get("init_error"))


_TIMEOUT_STATES = ("timeout", "init-timeout")


def _status(state: str, report: bytes) -> int:
    """The invocation's exit status: 0 for a response, else its failure's."""
    if state == "ok":
        return 0 if json.loads(report.decode("utf-8"))["ok"] else EXIT_ERROR
    return EXIT_TIMEOUT if state in _TIMEOUT_STATES else EXIT_ERROR


def _write_outcome(state: str, report: bytes, args: argparse.Namespace, request_id: str) -> None:
    """The invocation's response on stdout (one JSON document per line)."""
    if state == "ok":
        _write_response(report)
    elif state in _TIMEOUT_STATES:
        _write_timeout(state, args, request_id)
    else:
        _write_crash(state, request_id)


def _report_record(
    request_id: str,
    elapsed: float,
    memory_size: int,
    max_memory_mb: int,
    init_duration: float | None,
) -> str:
    """The runtime's `REPORT` line of an invocation (`init_duration` for the first one)."""
    return (
        f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms\t"
        f"Memory Size: {memory_size} MB\tMax Memory Used: {max_memory_mb} MB"
        + (f"\tInit Duration: {init_duration * 1000:.2f} ms" if init_duration is not None else "")
    )


def _exit_status(statuses: list[int]) -> int:
    """0 when every invocation answered; else the last failure's status."""
    failures = [s for s in statuses if s != 0]
    return failures[-1] if failures else 0


def parent_main(argv: list[str]) -> int:
    args = _argument_parser().parse_args(argv)
    try:
        events = [e for arg in (args.events or [None]) for e in read_events(arg)]
        overrides = parse_env(args.env, dict(os.environ))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE

    statuses: list[int] = []
    work = tempfile.mkdtemp(prefix="lambda-invoke-")
    runtime = None
    try:
        _lay_out(work, args)
        env = lambda_environment(args, *_work_dirs(work), overrides)
        print(f"INIT_START Runtime Version: {args.runtime}", file=sys.stderr, flush=True)
        runtime = _start_runtime(args, work, env)
        # The initialisation's logs (the handler module's prints and logs, a failed import's
        # error) come before the first `START`, as on Lambda.
        ended = runtime.initialise()
        runtime.drain_logs()
        for number, event in enumerate(events, 1):
            request_id = str(uuid.uuid4())
            print(f"START RequestId: {request_id} Version: $LATEST", file=sys.stderr, flush=True)
            if ended is not None:
                state, report, elapsed = ended, b"", 0.0
            else:
                state, report, elapsed = runtime.invoke(event, request_id, args.timeout)
            runtime.drain_logs()
            init = runtime.init_duration
            print(f"END RequestId: {request_id}", file=sys.stderr)
            report_record = _report_record(
                request_id,
                elapsed,
                args.memory_size,
                _max_rss_mb(runtime.pid()),
                init if number == 1 else None,
            )
            print(report_record, file=sys.stderr, flush=True)
            _write_outcome(state, report, args, request_id)
            statuses.append(_status(state, report))
            if state != "ok" or _is_init_error(report):
                # The execution environment is gone (a crash, a timeout, a failed initialisation).
                if number < len(events):
                    print(
                        f"The runtime process ended: the {len(events) - number} remaining "
                        "event(s) are not invoked.",
                        file=sys.stderr,
                    )
                break
    finally:
        if runtime is not None:
            runtime.close()
        set_writable(work, True)
        shutil.rmtree(work, ignore_errors=True)
    return _exit_status(statuses)


def main(argv: list[str] | None = None) -> int:
    return parent_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
