"""Invoke `lambda_function.handler` of an unpacked Lambda zip the way the Lambda runtime would.

Run with the runtime's CPython in isolated mode, without site-packages:

    python3.12 -I -S -B invoke_handler.py TASK_ROOT EVENT_JSON OUTPUT_JSON

`sys.path` becomes TASK_ROOT followed by the standard library only, like `/var/task` on Lambda.
The handler gets the event and a context object shaped like the runtime's. OUTPUT_JSON receives
`{"result": ..., "modules": {name: file}, "foreign_modules": [...], "python": "3.12.1"}`, where
`foreign_modules` lists every loaded module that came from neither TASK_ROOT nor the standard
library (it must be empty for a self-contained artifact).

Standard library only, CPython 3.8+.
"""

import importlib
import json
import os
import sys
import sysconfig
import time

_REPORTED_MODULES = ("lambda_function", "pydantic", "pydantic_core", "pydantic_core._pydantic_core")


class LambdaContext:
    """The attributes and method of the context object the AWS Python runtime passes."""

    def __init__(self, function_name: str, request_id: str, timeout_s: float = 30.0) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = "128"  # A string, as the runtime passes it.
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _within(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([path, root]) == root


def main() -> None:
    task_root, event_json, output = sys.argv[1:4]
    task_root = os.path.abspath(task_root)
    stdlib_dirs = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    sys.path[:] = [task_root] + [p for p in sys.path if p and os.path.isdir(p)]
    os.chdir(task_root)

    handler = importlib.import_module("lambda_function").handler
    context = LambdaContext(
        function_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "e2e-function"),
        request_id=os.environ.get("E2E_REQUEST_ID", "00000000-0000-0000-0000-000000000000"),
    )
    result = handler(json.loads(event_json), context)

    module_files = {
        name: getattr(module, "__file__", None) for name, module in sorted(sys.modules.items())
    }
    foreign = sorted(
        name
        for name, path in module_files.items()
        if path
        and name != "__main__"  # this script
        and not _within(path, task_root)
        and not any(_within(path, d) for d in stdlib_dirs)
    )
    report = {
        "result": result,
        "modules": {name: module_files.get(name) for name in _REPORTED_MODULES},
        "foreign_modules": foreign,
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "sys_path": sys.path,
    }
    with open(output, "w") as fp:
        json.dump(report, fp, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
