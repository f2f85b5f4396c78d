"""The runtime's CPython on this machine, and running a stdlib-only script with it in a sandbox.

Bytecode and the handler's module check both need the exact minor version Lambda runs; it is
looked up on `[python-bootstrap].search_path`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from pants.core.subsystems.python_bootstrap import PythonBootstrap
from pants.core.util_rules.system_binaries import (
    BinaryPath,
    BinaryPathRequest,
    BinaryPaths,
    BinaryPathTest,
)
from pants.engine.fs import Digest
from pants.engine.process import Process
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.util.logging import LogLevel

from pants_aws_lambda.caching import REMOTE_CACHE_SPECULATION_DELAY_MS
from pants_aws_lambda.facts.python_version import PythonVersion


@dataclass(frozen=True)
class RuntimeInterpreterRequest:
    python_version: PythonVersion


@dataclass(frozen=True)
class RuntimeInterpreter:
    """A local CPython of a runtime's minor version, if the search path has one."""

    python_version: PythonVersion
    binary: BinaryPath | None


@rule(desc="Finding a CPython for a Lambda runtime", level=LogLevel.DEBUG)
async def find_runtime_interpreter(
    request: RuntimeInterpreterRequest, python_bootstrap: PythonBootstrap
) -> RuntimeInterpreter:
    major, minor = request.python_version
    # The test pins the implementation and minor version; its output (the full version)
    # fingerprints the binary, so an upgrade in place re-runs what depends on it.
    check = (
        "import platform, sys; "
        "assert platform.python_implementation() == 'CPython' and sys.version_info[:2] == "
        f"({major}, {minor}); "
        "print(sys.version)"
    )
    paths = await Get(
        BinaryPaths,
        BinaryPathRequest(
            binary_name=request.python_version.runtime_name,
            search_path=python_bootstrap.interpreter_search_paths,
            test=BinaryPathTest(["-c", check]),
        ),
    )
    return RuntimeInterpreter(request.python_version, paths.first_path)


def script_process(
    interpreter: BinaryPath,
    flags: tuple[str, ...],
    script: str,
    args: tuple[str, ...],
    *,
    input_digest: Digest,
    description: str,
    output_directories: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
) -> Process:
    """A process running `script` (in `input_digest`) with the runtime's CPython; cacheable
    remotely."""
    return Process(
        argv=(interpreter.path, *flags, script, *args),
        input_digest=input_digest,
        output_directories=output_directories,
        env=env,
        description=description,
        level=LogLevel.DEBUG,
        remote_cache_speculation_delay_millis=REMOTE_CACHE_SPECULATION_DELAY_MS,
    )


def rules() -> Iterable[Rule]:
    return collect_rules()
