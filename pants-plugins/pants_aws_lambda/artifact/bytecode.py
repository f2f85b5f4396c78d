"""Bytecode for the exact runtime: a tree compiled by the runtime's CPython in a sandbox."""

from __future__ import annotations

import json
import logging
import pkgutil
from dataclasses import dataclass
from typing import Iterable

from pants.core.util_rules.system_binaries import BinaryPath
from pants.engine.addresses import Address
from pants.engine.fs import (
    AddPrefix,
    CreateDigest,
    Digest,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
    RemovePrefix,
)
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import pycompile
from pants_aws_lambda.facts.python_version import PythonVersion, install_hint
from pants_aws_lambda.runtimes import interpreter
from pants_aws_lambda.runtimes.interpreter import (
    RuntimeInterpreter,
    RuntimeInterpreterRequest,
    script_process,
)
from pants_aws_lambda.target_types import BytecodeMode

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BytecodeRequest:
    address: Address
    digest: Digest
    python_version: PythonVersion
    mode: BytecodeMode
    # Where the tree lands on Lambda, shown in tracebacks of sourceless bytecode.
    runtime_root: str
    what: str
    # Only one of an artifact's requests says that the interpreter is missing.
    warn_if_no_interpreter: bool = True


@dataclass(frozen=True)
class CompileFailure:
    """A `.py` file of the tree that the runtime's CPython does not compile."""

    path: str
    line: int | None
    message: str


@dataclass(frozen=True)
class Bytecode:
    digest: Digest
    compiled: int
    # Kept as source; for third-party trees that is expected (templates, other-version files).
    failed: tuple[CompileFailure, ...] = ()


_SCRIPT = "__lambda_pycompile.py"


def _warn_no_interpreter(request: BytecodeRequest) -> None:
    version = str(request.python_version)
    logger.warning(
        softwrap(
            f"""
            {request.address}: no CPython {version} on the interpreter search path
            (`[python-bootstrap].search_path`), so it is packaged without bytecode and
            Lambda compiles every module at each cold start. Nor are its first-party sources
            checked to compile with Python {version} (the handler's module is checked with
            Pants' own Python, as far as it can parse it). Install CPython {version} (e.g.
            {install_hint(request.python_version)}) where Pants looks for
            interpreters, or set `bytecode="none"` on the target to package without bytecode on
            purpose.
            """
        )
    )


def _compile_process(
    request: BytecodeRequest, interpreter: BinaryPath, input_digest: Digest
) -> Process:
    return script_process(
        interpreter,
        # No site-packages: the script needs the stdlib only. Not `-I`, which would
        # ignore PYTHONHASHSEED.
        ("-S", "-s"),
        _SCRIPT,
        (request.mode.value, "tree", "out", request.runtime_root),
        input_digest=input_digest,
        output_directories=("out",),
        # String hashing orders set constants in code objects: fix it for reproducible bytes.
        env={"PYTHONHASHSEED": "0"},
        description=(
            f"Compiling bytecode of the {request.what} of {request.address} with "
            f"CPython {request.python_version}"
        ),
    )


@rule
async def compile_bytecode(request: BytecodeRequest) -> Bytecode:
    """The tree with bytecode added (`compiled`) or its `.py` replaced by `.pyc` (`only`)."""
    if request.mode == BytecodeMode.NONE:
        return Bytecode(request.digest, 0)
    interpreter = await Get(RuntimeInterpreter, RuntimeInterpreterRequest(request.python_version))
    if interpreter.binary is None:
        if request.warn_if_no_interpreter:
            _warn_no_interpreter(request)
        return Bytecode(request.digest, 0)
    script = pkgutil.get_data(pycompile.__name__, "pycompile.py")
    assert script is not None
    script_digest, tree = await MultiGet(
        Get(Digest, CreateDigest([FileContent(_SCRIPT, script)])),
        Get(Digest, AddPrefix(request.digest, "tree")),
    )
    input_digest = await Get(Digest, MergeDigests([script_digest, tree]))
    result = await Get(
        ProcessResult, Process, _compile_process(request, interpreter.binary, input_digest)
    )
    report = json.loads(result.stdout)
    compiled = await Get(Digest, RemovePrefix(result.output_digest, "out"))
    if request.mode == BytecodeMode.COMPILED:
        digest = await Get(Digest, MergeDigests([request.digest, compiled]))
    else:
        kept = await Get(Digest, DigestSubset(request.digest, PathGlobs(["**", "!**/*.py"])))
        digest = await Get(Digest, MergeDigests([kept, compiled]))
    failed = tuple(CompileFailure(f["path"], f["line"], f["message"]) for f in report["failed"])
    return Bytecode(digest, report["compiled"], failed)


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *interpreter.rules())
