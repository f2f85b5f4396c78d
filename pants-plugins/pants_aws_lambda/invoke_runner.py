"""Invoke a Lambda function's artifact locally, the way the Lambda Python runtime calls it.

Runs as a standalone script, by the CPython of the Lambda runtime's minor version, stdlib only
(CPython 3.8+); `pants run` of a `python_aws_lambda_function` target runs it as:

    python3.X -I -S -B invoke_runner.py --function ZIP [--layer ZIP ...] --runtime NAME
        [--timeout S] [--memory-size MB] [--region R] [--function-name N] [--env NAME[=VALUE] ...]
        [--] [EVENT]

EVENT is a JSON document, `@path` to read it from a file, or `-` to read it from stdin; `{}` when
omitted. The script unpacks the function's zip into a fresh task root and its layers, in order,
into a fresh `/opt` equivalent, makes both read-only, and invokes `lambda_function.handler` in a
child process of the same interpreter in isolated mode, with only the task root, the layers'
`python/lib/python3.X/site-packages` and `python/` and the standard library on `sys.path` (Lambda's
order), Lambda's environment variables and a context object like the runtime's.

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


def unpack(zip_path: str, dest: str) -> None:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)


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


def run_child(argv: list[str], env: dict[str, str], cwd: str, timeout: float) -> tuple[str, bytes, float]:
    """Run the child; return (`ok`|`timeout`|`init-timeout`|`crashed:<status>`, report, seconds)."""
    read_fd, write_fd = os.pipe()
    env = dict(env, _LAMBDA_INVOKE_FD=str(write_fd))
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        # The handler's prints are logs: they go to stderr, stdout is for the response only.
        stdout=sys.stderr.fileno(),
        pass_fds=(write_fd,),
        # Its own process group, so that a timeout kills whatever the handler started too.
        start_new_session=True,
    )
    os.close(write_fd)
    data = b""
    started_at = None
    deadline = time.monotonic() + INIT_TIMEOUT_S
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(proc)
                state = "timeout" if started_at is not None else "init-timeout"
                return state, data, time.monotonic() - (started_at or deadline - INIT_TIMEOUT_S)
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            data += chunk
            if started_at is None and data.startswith(_STARTED):
                started_at = time.monotonic()
                deadline = started_at + timeout
        status = proc.wait()
    finally:
        os.close(read_fd)
        _kill(proc)
    elapsed = time.monotonic() - started_at if started_at is not None else 0.0
    if started_at is not None:
        data = data[len(_STARTED) :]
    if status != 0 or not data:
        return f"crashed:{status}", data, elapsed
    return "ok", data, elapsed


def _max_rss_mb() -> int:
    try:
        import resource
    except ImportError:
        return 0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(rss / (1024 * 1024 if sys.platform == "darwin" else 1024))


def parent_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pants run <lambda function>")
    parser.add_argument("--function", required=True)
    parser.add_argument("--layer", action="append", default=[])
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--memory-size", type=int, default=128)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--function-name", default="local-function")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("event", nargs="?", default=None)
    args = parser.parse_args(argv)
    try:
        event = read_event(args.event)
        overrides = parse_env(args.env, dict(os.environ))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE

    request_id = str(uuid.uuid4())
    work = tempfile.mkdtemp(prefix="lambda-invoke-")
    task_root, opt = os.path.join(work, "task"), os.path.join(work, "opt")
    try:
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
        env = lambda_environment(args, task_root, opt, request_id, overrides)
        # `-u`: prints reach stderr as they happen (`-I` ignores PYTHONUNBUFFERED).
        child = [sys.executable, "-I", "-S", "-B", "-u", os.path.abspath(__file__), "--child", opt, work]
        print(f"START RequestId: {request_id} Version: $LATEST", file=sys.stderr, flush=True)
        state, report, elapsed = run_child(child, env, task_root, args.timeout)
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
        outcome = json.loads(report.decode("utf-8"))
        # The response exactly as the runtime encoded it; a `bytes` response as its bytes.
        if "bytes" in outcome:
            sys.stdout.buffer.write(base64.b64decode(outcome["bytes"]))
        else:
            sys.stdout.buffer.write(outcome["payload"].encode("utf-8") + b"\n")
        sys.stdout.flush()
        return 0 if outcome["ok"] else EXIT_ERROR
    if state in ("timeout", "init-timeout"):
        seconds = args.timeout if state == "timeout" else INIT_TIMEOUT_S
        phase = "the handler" if state == "timeout" else "the initialisation (importing the handler)"
        print(
            f"{request_id} Task timed out after {seconds:.2f} seconds: {phase} ran out of time "
            "and was killed. The timeout comes from `[lambda-invoke].timeout` (`--lambda-invoke-timeout`).",
            file=sys.stderr,
        )
        print(json.dumps(timeout_error(request_id, seconds)), flush=True)
        return EXIT_TIMEOUT
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
    stack = traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }


def _log_error(error: dict, exc: BaseException | None = None, tb=None) -> None:
    sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n")
    if exc is not None:
        traceback.print_exception(type(exc), exc, tb, file=sys.stderr)
    sys.stderr.flush()


def to_json(value) -> str:
    """JSON as the runtime encodes it: a `Decimal` as its exact digits, NaN ones as `NaN`."""
    literals = {}

    def default(obj):
        if isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return math.nan
            key = f"\x00decimal{len(literals)}\x00"
            literals[key] = str(obj)
            return key
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    # The runtime of Python 3.12 keeps non-ASCII characters; the others escape them.
    ensure_ascii = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    text = json.dumps(value, default=default, ensure_ascii=ensure_ascii)
    for key, literal in literals.items():
        text = text.replace(json.dumps(key), literal)
    return text


class _RequestIdFilter:
    def __init__(self, request_id: str) -> None:
        self.request_id = request_id

    def filter(self, record) -> bool:
        record.aws_request_id = self.request_id
        return True


def _setup_logging(request_id: str) -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter(request_id))
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.getLogger().addHandler(handler)


def child_main(opt: str, work: str) -> int:
    report_fd = int(os.environ.pop("_LAMBDA_INVOKE_FD"))
    request_id = os.environ.pop("_LAMBDA_INVOKE_REQUEST_ID")
    timeout_s = float(os.environ.pop("_LAMBDA_INVOKE_TIMEOUT_S"))
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    # Lambda's order; then the standard library, and nothing else (no site-packages, `-I -S`).
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = _lambda_sys_path(task_root, opt) + [p for p in sys.path if p and p != here]
    with open(os.path.join(work, "event.json"), encoding="utf-8") as fp:
        event = json.load(fp)
    _setup_logging(request_id)
    # The runner's own module is `__main__`: the handler's `import` must not find anything else.
    sys.modules.pop("invoke_runner", None)

    def report(ok: bool, response, started: bool) -> int:
        if isinstance(response, bytes):
            message = {"ok": ok, "bytes": base64.b64encode(response).decode("ascii")}
        else:
            message = {"ok": ok, "payload": to_json(response)}
        with os.fdopen(report_fd, "wb") as out:
            if not started:
                out.write(_STARTED)
            out.write(json.dumps(message).encode("utf-8"))
        return 0

    module_name, _, func_name = HANDLER.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        error = _error("", "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}")
        _log_error(error, e, e.__traceback__)
        return report(False, error, started=False)
    except SyntaxError as e:
        error = _error("", "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}")
        error["stackTrace"] = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        _log_error(error, e, e.__traceback__)
        return report(False, error, started=False)
    except Exception as e:
        tb = e.__traceback__.tb_next
        error = _error("", type(e).__name__, str(e), tb)
        _log_error(error, e, tb)
        return report(False, error, started=False)
    handler = getattr(module, func_name, None)
    if handler is None:
        error = _error("", "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'")
        _log_error(error)
        return report(False, error, started=False)

    deadline_ms = int(time.time() * 1000 + timeout_s * 1000)
    context = LambdaContext(request_id, deadline_ms)
    os.write(report_fd, _STARTED)
    try:
        result = handler(event, context)
    except Exception as e:
        # The handler's own frames, as the runtime reports them (the runner's frame left out).
        tb = e.__traceback__.tb_next
        error = _error(request_id, type(e).__name__, str(e), tb)
        _log_error(error, e, tb)
        return report(False, error, started=True)
    if not isinstance(result, bytes):
        try:
            to_json(result)
        except (TypeError, ValueError) as e:
            error = _error(request_id, "Runtime.MarshalError", f"Unable to marshal response: {e}")
            _log_error(error)
            return report(False, error, started=True)
    return report(True, result, started=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(*argv[1:3])
    return parent_main(argv)


if __name__ == "__main__":
    sys.exit(main())
