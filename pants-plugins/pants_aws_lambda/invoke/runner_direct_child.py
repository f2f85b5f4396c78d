"""The direct runtime: the child `runner.py` starts (without a runtime client) to call the handler.

Runs as a script, by the runtime's CPython in isolated mode, stdlib only (CPython 3.8+):

    python3.X -I -S -B -u runner_direct_child.py OPT SDK_PEX_DIR

It initialises once (imports the handler, with Lambda's `sys.path`), then handles each invocation
the parent sends as a JSON line on a pipe, reporting each outcome as a JSON line on another, and
writes the runtime's log records as frames to the telemetry fd the parent copies to stderr.
"""

from __future__ import annotations

import base64
import decimal
import importlib
import json
import logging
import math
import os
import sys
import time
import traceback
from types import TracebackType
from typing import TYPE_CHECKING, Callable, Tuple, cast

if TYPE_CHECKING or __package__:
    from pants_aws_lambda.invoke.runner_environment import (
        HANDLER,
        function_arn,
        isolate,
        loose_pex_path,
    )
else:  # A script: its sibling modules sit beside it (`-I` leaves its directory off `sys.path`).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from runner_environment import HANDLER  # pants: no-infer-dep
    from runner_environment import function_arn  # pants: no-infer-dep
    from runner_environment import isolate  # pants: no-infer-dep
    from runner_environment import loose_pex_path  # pants: no-infer-dep

_HERE = os.path.dirname(os.path.abspath(__file__))


class LambdaContext:
    """The attributes and methods of the context object the AWS Python runtime passes."""

    def __init__(self, request_id: str, deadline_ms: int, sink: LogSink | None = None) -> None:
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        region = env.get("AWS_REGION", "us-east-1")
        self.invoked_function_arn = function_arn(region, self.function_name)
        # A string, as the runtime passes it.
        self.memory_limit_in_mb = env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = request_id
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms
        self._sink = sink

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg: str) -> None:
        # As the runtime's: one record of the telemetry log.
        if self._sink is not None:
            self._sink.log(str(msg))
        else:
            sys.stderr.write(str(msg))
            sys.stderr.flush()


# The handler, as the runtime calls it: `handler(event, context)`.
Handler = Callable[[object, "LambdaContext"], object]
# A frame as `traceback.format_list` takes it: file, line, function, source.
_Frame = Tuple[str, int, str, "str | None"]


def _error(request_id: str, error_type: str, message: str, tb: TracebackType | None = None) -> dict:
    # Frames as plain (file, line, function, source) tuples, as the runtime formats them: no
    # column carets (which `FrameSummary` objects get from CPython 3.11 on).
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    # A traceback's frames always have a line number (`FrameSummary` allows none).
    stack = traceback.format_list(cast("list[_Frame]", frames)) if tb is not None else []
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }


# The runtime's telemetry log: one frame per record (see `LogCopier` in `runner.py`).
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


class LogSink:
    """Writes log records as frames to the telemetry fd the parent copies to stderr."""

    def __init__(self, fd: int) -> None:
        self.file = os.fdopen(fd, "wb", 0)

    def log(self, msg: str, frame_type: int = _LOG_FRAME_TEXT) -> None:
        data = msg.encode("utf-8")
        timestamp = int(time.time_ns() / 1000)
        self.file.write(
            frame_type.to_bytes(4, "big")
            + len(data).to_bytes(4, "big")
            + timestamp.to_bytes(8, "big")
            + data
        )


def _log_error(sink: LogSink, error: dict) -> None:
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
    sink.log("\n".join(lines), _LOG_FRAME_ERROR)


def _after_this_frame(e: BaseException) -> TracebackType | None:
    """The traceback of `e` from the frame the function that caught it called on."""
    return e.__traceback__.tb_next if e.__traceback__ is not None else None


def _as_objects(value: object) -> object:
    """What the runtime's encoder (simplejson, `namedtuple_as_object`) writes as a JSON object:
    anything with an `_asdict()` method, named tuples included (which `json` writes as arrays)."""
    if isinstance(value, dict):
        return {k: _as_objects(v) for k, v in value.items()}
    asdict_method = getattr(value, "_asdict", None)
    if callable(asdict_method):
        asdict = asdict_method()
        if not isinstance(asdict, dict):
            raise TypeError(f"_asdict() must return a dict, not {type(asdict).__name__}")
        return _as_objects(asdict)
    if isinstance(value, (list, tuple)):
        return [_as_objects(v) for v in value]
    return value


def to_json(value: object, ensure_ascii: bool) -> str:
    """JSON as the runtime encodes it: a `Decimal` as its exact digits, NaN ones as `NaN`, and
    non-ASCII characters escaped when `ensure_ascii` (the runtime's rule, from `--non-ascii`)."""
    literals: dict[str, str] = {}

    def default(obj: object) -> object:
        if isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return math.nan
            key = f"\x00decimal{len(literals)}\x00"
            literals[key] = str(obj)
            return key
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    text = json.dumps(
        _as_objects(value), default=default, ensure_ascii=ensure_ascii, allow_nan=True
    )
    for key, literal in literals.items():
        text = text.replace(json.dumps(key), literal)
    return text


class _RequestIdFilter:
    """The request's id on every record; empty during the initialisation, as on Lambda."""

    def __init__(self) -> None:
        self.request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _setup_logging(sink: LogSink) -> _RequestIdFilter:
    """The runtime's root logger handler: its text format, one frame per record."""

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
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


def _import_handler() -> tuple[Handler | None, dict | None]:
    """The handler, or the runtime's error for a failed initialisation."""
    module_name, _, func_name = HANDLER.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        return None, _error(
            "", "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}"
        )
    except SyntaxError as e:
        error = _error(
            "", "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}"
        )
        error["stackTrace"] = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        return None, error
    except Exception as e:
        # From the import on: the runner's own frame left out, as the runtime leaves out its own.
        return None, _error("", type(e).__name__, str(e), _after_this_frame(e))
    handler = getattr(module, func_name, None)
    if handler is None:
        return None, _error(
            "",
            "Runtime.HandlerNotFound",
            f"Handler '{func_name}' missing on module '{module_name}'",
        )
    return handler, None


def _report_line(ok: bool, response: object, ensure_ascii: bool, init_error: bool = False) -> bytes:
    """An outcome for the parent (`DirectChild`): one JSON line."""
    if isinstance(response, bytes):
        message = {"ok": ok, "bytes": base64.b64encode(response).decode("ascii")}
    else:
        message = {"ok": ok, "payload": to_json(response, ensure_ascii)}
    if init_error:
        message["init_error"] = True
    return json.dumps(message).encode("utf-8") + b"\n"


def _call_handler(
    handler: Handler, event: object, context: LambdaContext, ensure_ascii: bool
) -> tuple[object, dict | None]:
    """(the handler's response, None), or (None, the runtime's error for it)."""
    request_id = context.aws_request_id
    try:
        result = handler(event, context)
    except Exception as e:
        # The handler's own frames, as the runtime reports them (the runner's frame left out).
        return None, _error(request_id, type(e).__name__, str(e), _after_this_frame(e))
    if not isinstance(result, bytes):
        try:
            to_json(result, ensure_ascii)
        except Exception as e:
            return None, _error(
                request_id, "Runtime.MarshalError", f"Unable to marshal response: {e}"
            )
    return result, None


def main(opt: str, sdk: str) -> int:
    """Initialise once (import the handler), then handle each invocation the parent sends."""
    report = os.fdopen(int(os.environ.pop("_LAMBDA_INVOKE_FD")), "wb", 0)
    invocations = os.fdopen(int(os.environ.pop("_LAMBDA_INVOKE_NEXT_FD")), "rb")
    sink = LogSink(int(os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD")))
    ensure_ascii = os.environ.pop("_LAMBDA_INVOKE_NON_ASCII") == "escape"
    isolate(os.environ["LAMBDA_TASK_ROOT"], opt, loose_pex_path(sdk), _HERE)
    request_ids = _setup_logging(sink)

    handler, error = _import_handler()
    if error is not None:
        logging.warning(UNHANDLED_EXCEPTION_WARNING)
        _log_error(sink, error)
        report.write(_report_line(False, error, ensure_ascii, init_error=True))
        return 0
    # Without an error, `_import_handler` gives the handler.
    assert handler is not None
    report.write(b'{"ready": true}\n')

    for line in invocations:
        invocation = json.loads(line.decode("utf-8"))
        request_id = invocation["request_id"]
        context = LambdaContext(request_id, invocation["deadline_ms"], sink)
        request_ids.request_id = request_id
        response, error = _call_handler(
            handler, json.loads(invocation["event"]), context, ensure_ascii
        )
        if error is not None:
            _log_error(sink, error)
            report.write(_report_line(False, error, ensure_ascii))
        else:
            report.write(_report_line(True, response, ensure_ascii))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
