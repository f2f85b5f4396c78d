"""Invoke `lambda_function.handler` of an unpacked Lambda zip the way the Lambda runtime would.

Run with the runtime's CPython in isolated mode, without site-packages:

    python3.12 -I -S -B invoke_handler.py TASK_ROOT EVENT_JSON OUTPUT_JSON

`sys.path` becomes TASK_ROOT followed by the standard library only, like `/var/task` on Lambda.
The handler gets the event and a context object shaped like the runtime's. OUTPUT_JSON receives
`{"result": ..., "modules": {name: file}, "foreign_modules": [...], "python": "3.12.1",
"machine": "x86_64"}`, where
`foreign_modules` lists every loaded module that came from neither TASK_ROOT nor the standard
library (it must be empty for a self-contained artifact). `compiled_from_source` lists the source
files under TASK_ROOT that the import system had to compile because no valid `.pyc` came with
them (what a cold start on Lambda pays for), and `bytecode` checks every shipped `.pyc` against
this interpreter: its magic number and, for hash-based `.pyc`, the hash of its source.

Standard library only, CPython 3.8+ (the tests run it on 3.11 to 3.14).
"""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import sys
import sysconfig
import time
from typing import Any

_REPORTED_MODULES = (
    "lambda_function",
    "pydantic",
    "pydantic_core",
    "pydantic_core._pydantic_core",
    "numpy",
    "numpy._core._multiarray_umath",
    "orjson",
    "cryptography.hazmat.bindings._rust",
    "pandas",
    "pandas._libs.lib",
    "scipy",
    "scipy.special._ufuncs",
)


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


def record_compilations(task_root: str) -> list:
    """Record the files under `task_root` that are compiled from source when imported."""
    compiled = []
    loader = importlib.machinery.SourceFileLoader
    original = loader.source_to_code

    def source_to_code(
        self: importlib.machinery.SourceFileLoader, data: Any, path: str, *args: Any, **kwargs: Any
    ) -> Any:
        if _within(path, task_root):
            compiled.append(os.path.relpath(path, task_root))
        return original(self, data, path, *args, **kwargs)

    setattr(loader, "source_to_code", source_to_code)
    return compiled


def check_bytecode(task_root: str) -> dict:
    """Every `.pyc` under `task_root`: does this interpreter accept it without recompiling?"""
    pycs = invalid = 0
    problems = []
    for dirpath, _, filenames in os.walk(task_root):
        for name in filenames:
            if not name.endswith(".pyc"):
                continue
            pycs += 1
            pyc = os.path.join(dirpath, name)
            rel = os.path.relpath(pyc, task_root)
            with open(pyc, "rb") as fp:
                header = fp.read(16)
            flags = int.from_bytes(header[4:8], "little")
            problem = None
            if header[:4] != importlib.util.MAGIC_NUMBER:
                problem = "magic number of another Python version"
            elif not flags & 0b1:
                problem = "timestamp-based: stale once zip timestamps are normalised"
            elif os.path.basename(dirpath) == "__pycache__":
                source = importlib.util.source_from_cache(pyc)
                if not os.path.exists(source):
                    problem = "no source next to its __pycache__"
                else:
                    with open(source, "rb") as fp:
                        if importlib.util.source_hash(fp.read()) != header[8:16]:
                            problem = "source hash does not match its source"
            if problem:
                invalid += 1
                problems.append(f"{rel}: {problem}")
    return {"pyc": pycs, "invalid": invalid, "problems": sorted(problems)[:20]}


def main() -> None:
    task_root, event_json, output = sys.argv[1:4]
    task_root = os.path.abspath(task_root)
    stdlib_dirs = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    sys.path[:] = [task_root] + [p for p in sys.path if p and os.path.isdir(p)]
    os.chdir(task_root)
    compiled_from_source = record_compilations(task_root)

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
        "compiled_from_source": sorted(compiled_from_source),
        "bytecode": check_bytecode(task_root),
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "machine": platform.machine(),
        "sys_path": sys.path,
    }
    with open(output, "w") as fp:
        json.dump(report, fp, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
