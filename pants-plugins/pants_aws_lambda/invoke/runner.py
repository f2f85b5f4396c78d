"""Invoke a Lambda function's artifact locally, the way the Lambda Python runtime calls it.

Runs as a standalone script, by the CPython of the Lambda runtime's minor version, stdlib only
(CPython 3.8+); `pants run` of a `python_aws_lambda_function` target runs it as:

    python3.X -I -S -B runner.py --function ZIP_OR_DIR [--layer ZIP_OR_DIR ...]
        --runtime NAME --non-ascii {escape,keep} [--timeout S] [--memory-size MB] [--region R]
        [--function-name N] [--env NAME[=VALUE] ...] [--runtime-client AWSLAMBDARIC_PEX_DIR]
        [--emulator QEMU --emulator-root ROOT] [--init-timeout S] [--] [EVENT]

or, for a CPython of another CPU (or another root filesystem), under QEMU's user-mode emulator:

    qemu-aarch64-static -L ROOT ROOT/usr/bin/python3.X -I -S -B runner.py ...
        --emulator qemu-aarch64-static --emulator-root ROOT

(`--emulator` tells the script to start its child, the runtime, the same way.)

EVENT is a JSON document, `@path` to read it from a file, or `-` to read it from stdin; `{}` when
omitted. The script unpacks the function's zip (or copies its `flat` directory) into a fresh task
root and its layers, in order, into a fresh `/opt` equivalent, with the file modes the artifact
stores (an executable stays executable, as on Lambda), makes both read-only, and invokes `lambda_function.handler` in a
child process of the same interpreter in isolated mode, with only the task root, the layers'
`python/lib/python3.X/site-packages` and `python/` and the standard library on `sys.path` (Lambda's
order), Lambda's environment variables and a context object like the runtime's. With
`--runtime-client` (a loose PEX of `awslambdaric`), the child is `awslambdaric` itself, with its
distributions last on `sys.path`, and this script serves it the Lambda Runtime API for the one
invocation on a loopback port.

stdout gets the handler's response as JSON and nothing else; the handler's prints and logs go to
stderr. Exit status: 0 for a response, 1 for an error (the response is then Lambda's error shape,
`errorMessage`, `errorType`, `requestId`, `stackTrace`), 2 for a bad command line or event, 124
when the invocation timed out (the handler is killed).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import decimal
import importlib
import json
import math
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import zipfile

HANDLER = "lambda_function.handler"
ACCOUNT_ID = "123456789012"
# Lambda gives a function's initialisation (importing the handler's module) 10 seconds.
INIT_TIMEOUT_S = 10.0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124

_STARTED = b"S"

# `--non-ascii`: `escape` as `\u00e9` (`json.dumps`'s `ensure_ascii`), or `keep` as UTF-8.
NON_ASCII_CHOICES = ("escape", "keep")


# ---------------------------------------------------------------------------------------------
# The parent: unpack, set up the environment, run and time the child.
# ---------------------------------------------------------------------------------------------


class UsageError(Exception):
    pass


def read_event(arg: str | None, stdin=None) -> str:
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
    args: argparse.Namespace, task_root: str, opt: str, request_id: str, overrides: dict[str, str]
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
        "_LAMBDA_INVOKE_REQUEST_ID": request_id,
        "_LAMBDA_INVOKE_TIMEOUT_S": str(args.timeout),
        "_LAMBDA_INVOKE_NON_ASCII": args.non_ascii,
    }
    env.update(overrides)
    return env


def timeout_error(request_id: str, seconds: float) -> dict:
    return {
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
        "errorType": "Sandbox.Timedout",
    }


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _spawn(argv: list[str], env: dict[str, str], cwd: str, pass_fds: tuple[int, ...]) -> subprocess.Popen:
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


def _copy_log_frames(fd: int) -> None:
    """Frames: type (4 bytes), length (4, big-endian), timestamp (8), message (length bytes)."""
    with os.fdopen(fd, "rb") as frames:
        while True:
            header = frames.read(16)
            if len(header) < 16:
                return
            message = frames.read(int.from_bytes(header[4:8], "big"))
            text = message.decode("utf-8", "replace")
            sys.stderr.write(text if text.endswith("\n") else text + "\n")
            sys.stderr.flush()


def _copy_logs_in_background(fd: int):
    """A started daemon thread that copies the log frames of `fd` to stderr."""
    import threading

    thread = threading.Thread(target=_copy_log_frames, args=(fd,), daemon=True)
    thread.start()
    return thread


def _read_report(
    read_fd: int, begun: float, timeout: float, init_timeout: float
) -> tuple[bool, bytes, float | None]:
    """Read the report pipe until the child closes it (True) or runs out of time (False, the
    initialisation's `init_timeout` from `begun`, then the handler's `timeout` from its start).
    Also returns the bytes read and the monotonic time the handler started (None before)."""
    data = b""
    started_at = None
    deadline = begun + init_timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, data, started_at
        ready, _, _ = select.select([read_fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_fd, 65536)
        if not chunk:
            return True, data, started_at
        data += chunk
        if started_at is None and data.startswith(_STARTED):
            started_at = time.monotonic()
            deadline = started_at + timeout


def run_child(
    argv: list[str], env: dict[str, str], cwd: str, timeout: float, init_timeout: float = INIT_TIMEOUT_S
) -> tuple[str, bytes, float]:
    """Run the child; return (`ok`|`timeout`|`init-timeout`|`crashed:<status>`, report, seconds)."""
    read_fd, write_fd = os.pipe()
    # Log records as the client writes them (see `run_with_runtime_api`), copied the same way.
    log_read_fd, log_write_fd = os.pipe()
    env = dict(env, _LAMBDA_INVOKE_FD=str(write_fd), _LAMBDA_TELEMETRY_LOG_FD=str(log_write_fd))
    proc = _spawn(argv, env, cwd, (write_fd, log_write_fd))
    os.close(write_fd)
    os.close(log_write_fd)
    logs = _copy_logs_in_background(log_read_fd)
    begun = time.monotonic()
    try:
        closed, data, started_at = _read_report(read_fd, begun, timeout, init_timeout)
        if not closed:
            _kill(proc)
            state = "timeout" if started_at is not None else "init-timeout"
            return state, data, time.monotonic() - (started_at or begun)
        status = proc.wait()
    finally:
        os.close(read_fd)
        _kill(proc)
        logs.join(timeout=5)
    elapsed = time.monotonic() - started_at if started_at is not None else 0.0
    if started_at is not None:
        data = data[len(_STARTED) :]
    if status != 0 or not data:
        return f"crashed:{status}", data, elapsed
    return "ok", data, elapsed


# ---------------------------------------------------------------------------------------------
# With the Runtime Interface Client: a Runtime API on loopback that serves one invocation.
# ---------------------------------------------------------------------------------------------

_API = "/2018-06-01/runtime"
_NO_TRACE_ID = "Root=1-00000000-000000000000000000000000;Sampled=0"


class RuntimeApi:
    """The Lambda Runtime API for one invocation of `event`, as `awslambdaric` expects it: HTTP/1.1,
    `Content-Length` on every response, and every header of a real `next` response.

    `done` is set once the client has posted the response, an error, or an initialisation error;
    `outcome` is then (ok, body, content_type), or `init_error` the body of the latter."""

    def __init__(self, event: str, request_id: str, function_arn: str, timeout: float) -> None:
        import threading

        self.event = event.encode("utf-8")
        self.request_id = request_id
        self.function_arn = function_arn
        self.timeout = timeout
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.stop = threading.Event()
        self.served_at = None  # monotonic time the invocation went out
        self.outcome = None  # (ok, body, content_type)
        self.init_error = None
        self.server = _runtime_api_server(self)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return "127.0.0.1:{}".format(self.server.server_address[1])

    def __enter__(self) -> RuntimeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def next_invocation(self) -> tuple[bytes, dict] | None:
        """The body and headers of the answer to `invocation/next`: the event the first time;
        None after (one invocation only: the caller holds the poll until the API stops)."""
        with self.lock:
            if self.served_at is not None:
                return None
            self.served_at = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.timeout * 1000)
        return self.event, {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": os.environ.get("_X_AMZN_TRACE_ID", _NO_TRACE_ID),
            "Content-Type": "application/json",
        }

    def record(self, path: str, body: bytes, content_type: str) -> bool:
        """Keep what the client posted to `path`: False for a path the API does not know."""
        if path == f"{_API}/invocation/{self.request_id}/response":
            self.outcome = (True, body, content_type)
        elif path == f"{_API}/invocation/{self.request_id}/error":
            self.outcome = (False, body, content_type)
        elif path == f"{_API}/init/error":
            self.init_error = body
        else:
            return False
        return True

    def report(self) -> bytes:
        """What the client posted, as the direct child reports it to `run_child`."""
        if self.init_error is not None:
            message = {"ok": False, "payload": self.init_error.decode("utf-8")}
        else:
            ok, body, content_type = self.outcome
            if content_type == "application/json":
                message = {"ok": ok, "payload": body.decode("utf-8")}
            else:
                message = {"ok": ok, "bytes": base64.b64encode(body).decode("ascii")}
        return json.dumps(message).encode("utf-8")


def _runtime_api_server(api: RuntimeApi):
    """An HTTP server on a free loopback port that answers the client's requests from `api`.
    (`http.server` is imported here: the direct child, which runs this script too, needs none.)"""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass

        def _reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            headers = {"Content-Type": "application/json", **(headers or {})}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self) -> None:
            if self.path != f"{_API}/invocation/next":
                return self._reply(404, b'{"errorMessage": "not found"}')
            invocation = api.next_invocation()
            if invocation is None:
                # One invocation only: the client waits here until it is stopped.
                api.stop.wait()
                self.close_connection = True
                return
            self._reply(200, *invocation)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            content_type = self.headers.get("Content-Type", "application/json")
            if not api.record(self.path, body, content_type):
                return self._reply(404, b'{"errorMessage": "not found"}')
            self._reply(202, b'{"status": "OK"}')
            api.done.set()

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address) -> None:
            # The client is killed once its invocation is done: a reset connection is expected.
            pass

    return Server(("127.0.0.1", 0), Handler)


def _watch_client(
    proc: subprocess.Popen, api: RuntimeApi, begun: float, timeout: float, init_timeout: float
) -> tuple[str, bytes, float] | None:
    """Wait for the client's result: None once `api` has it, else what `run_child` returns for a
    timeout or a crash."""
    while not api.done.wait(0.02):
        served_at = api.served_at
        now = time.monotonic()
        if served_at is None and now - begun > init_timeout:
            return "init-timeout", b"", 0.0
        if served_at is not None and now - served_at > timeout:
            return "timeout", b"", now - served_at
        if proc.poll() is not None:
            # The client posts its result before it exits; a last look.
            if api.done.wait(0.5):
                return None
            return f"crashed:{proc.returncode}", b"", 0.0
    return None


def run_with_runtime_api(
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    timeout: float,
    api: RuntimeApi,
    init_timeout: float = INIT_TIMEOUT_S,
) -> tuple[str, bytes, float]:
    """Run the client against `api`; return what `run_child` returns."""
    # Like on Lambda, the client writes log records as frames to a telemetry fd: one record per
    # frame, multi-line tracebacks included. They are written to stderr line by line.
    read_fd, write_fd = os.pipe()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address, _LAMBDA_TELEMETRY_LOG_FD=str(write_fd))
    proc = _spawn(argv, env, cwd, (write_fd,))
    os.close(write_fd)
    logs = _copy_logs_in_background(read_fd)
    begun = time.monotonic()
    try:
        failed = _watch_client(proc, api, begun, timeout, init_timeout)
    finally:
        _kill(proc)
        logs.join(timeout=5)
    if failed is not None:
        return failed
    return "ok", api.report(), time.monotonic() - (api.served_at or begun)


def _max_rss_mb() -> int:
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
    # runtime table (this script runs on the runtime's CPython alone and imports nothing of it).
    parser.add_argument("--non-ascii", required=True, choices=NON_ASCII_CHOICES)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--memory-size", type=int, default=128)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--function-name", default="local-function")
    parser.add_argument("--env", action="append", default=[])
    # An installed `awslambdaric` (a loose PEX): run the handler through it.
    parser.add_argument("--runtime-client", default=None)
    # QEMU's user-mode emulator and the root filesystem this interpreter runs from: the child (the
    # runtime) is started the same way.
    parser.add_argument("--emulator", default=None)
    parser.add_argument("--emulator-root", default=None)
    # Lambda's 10 seconds for the initialisation; more under an emulator, which is many times slower.
    parser.add_argument("--init-timeout", type=float, default=INIT_TIMEOUT_S)
    parser.add_argument("event", nargs="?", default=None)
    return parser


def _work_dirs(work: str) -> tuple[str, str]:
    """The task root and the `/opt` equivalent in the invocation's work directory."""
    return os.path.join(work, "task"), os.path.join(work, "opt")


def _lay_out(work: str, args: argparse.Namespace, event: str) -> None:
    """The function and its layers unpacked read-only in `work`, and the event beside them."""
    task_root, opt = _work_dirs(work)
    os.makedirs(task_root)
    os.makedirs(opt)
    unpack(args.function, task_root)
    for layer in args.layer:
        # Layers are unpacked in order; a later layer's file replaces an earlier one's.
        unpack(layer, opt)
    set_writable(task_root, False)
    set_writable(opt, False)
    with open(os.path.join(work, "event.json"), "w", encoding="utf-8") as fp:
        fp.write(event)


def _invoke(
    args: argparse.Namespace, work: str, env: dict[str, str], event: str, request_id: str
) -> tuple[str, bytes, float]:
    """Run the runtime (this script as the direct child, or `awslambdaric`) once, as `run_child`."""
    task_root, opt = _work_dirs(work)
    # `-u`: prints reach stderr as they happen (`-I` ignores PYTHONUNBUFFERED).
    python = [sys.executable]
    if args.emulator:
        python = [args.emulator, "-L", args.emulator_root, sys.executable]
    runner = [*python, "-I", "-S", "-B", "-u", os.path.abspath(__file__)]
    if args.runtime_client:
        arn = f"arn:aws:lambda:{args.region}:{ACCOUNT_ID}:function:{args.function_name}"
        child = [*runner, "--client-child", opt, os.path.abspath(args.runtime_client)]
        with RuntimeApi(event, request_id, arn, args.timeout) as api:
            return run_with_runtime_api(child, env, task_root, args.timeout, api, args.init_timeout)
    child = [*runner, "--child", opt, work]
    return run_child(child, env, task_root, args.timeout, args.init_timeout)


def _write_response(report: bytes) -> int:
    outcome = json.loads(report.decode("utf-8"))
    # The response exactly as the runtime encoded it; a `bytes` response as its bytes.
    if "bytes" in outcome:
        sys.stdout.buffer.write(base64.b64decode(outcome["bytes"]))
    else:
        sys.stdout.buffer.write(outcome["payload"].encode("utf-8") + b"\n")
    sys.stdout.flush()
    return 0 if outcome["ok"] else EXIT_ERROR


def _timed_out(state: str, args: argparse.Namespace, request_id: str) -> int:
    seconds = args.timeout if state == "timeout" else args.init_timeout
    phase = "the handler" if state == "timeout" else "the initialisation (importing the handler)"
    print(
        f"{request_id} Task timed out after {seconds:.2f} seconds: {phase} ran out of time "
        "and was killed. The timeout comes from `[lambda-invoke].timeout` (`--lambda-invoke-timeout`).",
        file=sys.stderr,
    )
    print(json.dumps(timeout_error(request_id, seconds)), flush=True)
    return EXIT_TIMEOUT


def _crashed(state: str, request_id: str) -> int:
    status = state.split(":", 1)[1]
    print(f"The runtime process exited unexpectedly (status {status}).", file=sys.stderr)
    print(
        json.dumps(
            {
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with status {status}",
                "errorType": "Runtime.ExitError",
            }
        ),
        flush=True,
    )
    return EXIT_ERROR


def parent_main(argv: list[str]) -> int:
    args = _argument_parser().parse_args(argv)
    try:
        event = read_event(args.event)
        overrides = parse_env(args.env, dict(os.environ))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE

    request_id = str(uuid.uuid4())
    work = tempfile.mkdtemp(prefix="lambda-invoke-")
    try:
        _lay_out(work, args, event)
        env = lambda_environment(args, *_work_dirs(work), request_id, overrides)
        print(f"START RequestId: {request_id} Version: $LATEST", file=sys.stderr, flush=True)
        state, report, elapsed = _invoke(args, work, env, event, request_id)
    finally:
        set_writable(work, True)
        shutil.rmtree(work, ignore_errors=True)

    print(f"END RequestId: {request_id}", file=sys.stderr)
    print(
        f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms\t"
        f"Memory Size: {args.memory_size} MB\tMax Memory Used: {_max_rss_mb()} MB",
        file=sys.stderr,
    )
    if state == "ok":
        return _write_response(report)
    if state in ("timeout", "init-timeout"):
        return _timed_out(state, args, request_id)
    return _crashed(state, request_id)


# ---------------------------------------------------------------------------------------------
# The child: the runtime. Imports the handler and calls it once.
# ---------------------------------------------------------------------------------------------


class LambdaContext:
    """The attributes and methods of the context object the AWS Python runtime passes."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        region = env.get("AWS_REGION", "us-east-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{self.function_name}"
        # A string, as the runtime passes it.
        self.memory_limit_in_mb = env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = request_id
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg: str) -> None:
        # As the runtime's: one record of the telemetry log.
        if _SINK is not None:
            _SINK.log(str(msg))
        else:
            sys.stderr.write(str(msg))
            sys.stderr.flush()


def _lambda_sys_path(task_root: str, opt: str) -> list[str]:
    version = "python{}.{}".format(*sys.version_info[:2])
    return [
        task_root,
        os.path.join(opt, "python", "lib", version, "site-packages"),
        os.path.join(opt, "python"),
    ]


def _error(request_id: str, error_type: str, message: str, tb=None) -> dict:
    # Frames as plain (file, line, function, source) tuples, as the runtime formats them: no
    # column carets (which `FrameSummary` objects get from CPython 3.11 on).
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    stack = traceback.format_list(frames) if tb is not None else []
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }


# The runtime's telemetry log: one frame per record (see `_copy_log_frames`).
_LOG_FRAME_TEXT = 0xA55A0003
_LOG_FRAME_ERROR = 0xA55A0017
# How the runtime indents a traceback's lines in its `[ERROR]` record: with no-break spaces.
_ERROR_LOG_INDENT = "\u00a0"
# What the runtime logs, as a warning, before an error in the initialisation.
UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class _LogSink:
    """Writes log records as frames to the telemetry fd the parent copies to stderr."""

    def __init__(self, fd: int) -> None:
        self.file = os.fdopen(fd, "wb", 0)

    def log(self, msg: str, frame_type: int = _LOG_FRAME_TEXT) -> None:
        data = msg.encode("utf-8")
        timestamp = int(time.time_ns() / 1000)
        self.file.write(
            frame_type.to_bytes(4, "big") + len(data).to_bytes(4, "big")
            + timestamp.to_bytes(8, "big") + data
        )


_SINK: _LogSink | None = None


def _log_error(error: dict) -> None:
    """The runtime's `[ERROR]` record: type, message, then the stack trace's lines."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(_ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    assert _SINK is not None
    _SINK.log("\n".join(lines), _LOG_FRAME_ERROR)


def _as_objects(value):
    """What the runtime's encoder (simplejson, `namedtuple_as_object`) writes as a JSON object:
    anything with an `_asdict()` method, named tuples included (which `json` writes as arrays)."""
    if isinstance(value, dict):
        return {k: _as_objects(v) for k, v in value.items()}
    if callable(getattr(value, "_asdict", None)):
        asdict = value._asdict()
        if not isinstance(asdict, dict):
            raise TypeError(f"_asdict() must return a dict, not {type(asdict).__name__}")
        return _as_objects(asdict)
    if isinstance(value, (list, tuple)):
        return [_as_objects(v) for v in value]
    return value


def to_json(value, ensure_ascii: bool) -> str:
    """JSON as the runtime encodes it: a `Decimal` as its exact digits, NaN ones as `NaN`, and
    non-ASCII characters escaped when `ensure_ascii` (the runtime's rule, from `--non-ascii`)."""
    literals = {}

    def default(obj):
        if isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return math.nan
            key = f"\x00decimal{len(literals)}\x00"
            literals[key] = str(obj)
            return key
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    text = json.dumps(_as_objects(value), default=default, ensure_ascii=ensure_ascii, allow_nan=True)
    for key, literal in literals.items():
        text = text.replace(json.dumps(key), literal)
    return text


class _RequestIdFilter:
    """The request's id on every record; empty during the initialisation, as on Lambda."""

    def __init__(self) -> None:
        self.request_id = ""

    def filter(self, record) -> bool:
        record.aws_request_id = self.request_id
        return True


def _setup_logging(sink: _LogSink) -> _RequestIdFilter:
    """The runtime's root logger handler: its text format, one frame per record."""
    import logging

    class Handler(logging.Handler):
        def emit(self, record) -> None:
            sink.log(self.format(record))

    logging.Formatter.converter = time.gmtime
    handler = Handler()
    request_ids = _RequestIdFilter()
    handler.addFilter(request_ids)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    logging.getLogger().addHandler(handler)
    return request_ids


def _import_handler() -> tuple[object | None, dict | None]:
    """The handler, or the runtime's error for a failed initialisation."""
    module_name, _, func_name = HANDLER.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        return None, _error("", "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}")
    except SyntaxError as e:
        error = _error("", "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}")
        error["stackTrace"] = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        return None, error
    except Exception as e:
        # From the import on: the runner's own frame left out, as the runtime leaves out its own.
        return None, _error("", type(e).__name__, str(e), e.__traceback__.tb_next)
    handler = getattr(module, func_name, None)
    if handler is None:
        return None, _error("", "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'")
    return handler, None


def _isolate(task_root: str, opt: str, after: list[str]) -> None:
    """Lambda's `sys.path`, then the standard library and nothing else (no site-packages, `-I -S`),
    then `after`; and no trace of this script for the handler's imports."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = _lambda_sys_path(task_root, opt) + [p for p in sys.path if p and p != here] + after
    # The runner's own module is `__main__`: the handler's `import` must not find anything else.
    sys.modules.pop("invoke_runner", None)


def _report(fd: int, ok: bool, response, ensure_ascii: bool, started: bool) -> int:
    """The outcome to the parent (`run_child`), `_STARTED` first unless the handler was called."""
    if isinstance(response, bytes):
        message = {"ok": ok, "bytes": base64.b64encode(response).decode("ascii")}
    else:
        message = {"ok": ok, "payload": to_json(response, ensure_ascii)}
    with os.fdopen(fd, "wb") as out:
        if not started:
            out.write(_STARTED)
        out.write(json.dumps(message).encode("utf-8"))
    return 0


def _call_handler(handler, event, context: LambdaContext, ensure_ascii: bool) -> tuple[bool, object]:
    """(True, the handler's response), or (False, the runtime's error for it)."""
    request_id = context.aws_request_id
    try:
        result = handler(event, context)
    except Exception as e:
        # The handler's own frames, as the runtime reports them (the runner's frame left out).
        return False, _error(request_id, type(e).__name__, str(e), e.__traceback__.tb_next)
    if not isinstance(result, bytes):
        try:
            to_json(result, ensure_ascii)
        except Exception as e:
            return False, _error(request_id, "Runtime.MarshalError", f"Unable to marshal response: {e}")
    return True, result


def child_main(opt: str, work: str) -> int:
    global _SINK
    import logging

    report_fd = int(os.environ.pop("_LAMBDA_INVOKE_FD"))
    _SINK = _LogSink(int(os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD")))
    request_id = os.environ.pop("_LAMBDA_INVOKE_REQUEST_ID")
    timeout_s = float(os.environ.pop("_LAMBDA_INVOKE_TIMEOUT_S"))
    ensure_ascii = os.environ.pop("_LAMBDA_INVOKE_NON_ASCII") == "escape"
    _isolate(os.environ["LAMBDA_TASK_ROOT"], opt, [])
    with open(os.path.join(work, "event.json"), encoding="utf-8") as fp:
        event = json.load(fp)
    request_ids = _setup_logging(_SINK)

    handler, error = _import_handler()
    if error is not None:
        logging.warning(UNHANDLED_EXCEPTION_WARNING)
        _log_error(error)
        return _report(report_fd, False, error, ensure_ascii, started=False)

    deadline_ms = int(time.time() * 1000 + timeout_s * 1000)
    context = LambdaContext(request_id, deadline_ms)
    request_ids.request_id = request_id
    os.write(report_fd, _STARTED)
    ok, response = _call_handler(handler, event, context, ensure_ascii)
    if not ok:
        _log_error(response)
    return _report(report_fd, ok, response, ensure_ascii, started=True)


def client_child_main(opt: str, client_pex: str) -> int:
    """Run `awslambdaric` as the image's entry point does, with Lambda's `sys.path` and the
    client's own distributions after it (where `/var/runtime` is on Lambda)."""
    import runpy

    os.environ.pop("_LAMBDA_INVOKE_REQUEST_ID", None)
    os.environ.pop("_LAMBDA_INVOKE_TIMEOUT_S", None)
    os.environ.pop("_LAMBDA_INVOKE_NON_ASCII", None)
    deps = os.path.join(client_pex, ".deps")
    _isolate(os.environ["LAMBDA_TASK_ROOT"], opt, [os.path.join(deps, d) for d in sorted(os.listdir(deps))])
    sys.argv = ["awslambdaric", HANDLER]
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(*argv[1:3])
    if argv[:1] == ["--client-child"]:
        return client_child_main(*argv[1:3])
    return parent_main(argv)


if __name__ == "__main__":
    sys.exit(main())
