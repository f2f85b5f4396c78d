"""A module's top-level names and syntax, checked with the grammar of the Lambda runtime's Python.

With the runtime's CPython on the interpreter search path, `modulenames.py` runs on it in a
sandbox: exactly what Lambda will accept. Without it, Pants' own Python parses the module, which is
exact for the same minor version, told the older grammar of an older runtime (`feature_version`),
and cannot judge a module for a newer runtime that it fails to parse.
"""

from __future__ import annotations

import json
import pkgutil
import sys
from dataclasses import dataclass
from typing import Iterable

from pants.engine.addresses import Address
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    FileContent,
    FileEntry,
    MergeDigests,
)
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.util.logging import LogLevel

from pants_aws_lambda.facts.python_version import PythonVersion
from pants_aws_lambda.handler import modulenames
from pants_aws_lambda.handler import names as handler_names
from pants_aws_lambda.runtimes import interpreter as runtime_interpreter
from pants_aws_lambda.runtimes.interpreter import (
    RuntimeInterpreter,
    RuntimeInterpreterRequest,
    script_process,
)

_SCRIPT = "__lambda_modulenames.py"
_MODULE = "module.py"


@dataclass(frozen=True)
class ModuleAnalysisRequest:
    address: Address
    # The module's file, source root stripped (its path in the artifact).
    entry: FileEntry
    python_version: PythonVersion


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    line: int | None


@dataclass(frozen=True)
class ModuleAnalysis:
    # None when the module does not compile, or could not be parsed by an older Pants' Python.
    names: handler_names.ModuleNames | None
    problem: SyntaxProblem | None
    # What read the module: "CPython 3.12.1", or "Pants' Python 3.9".
    checked_with: str
    # The runtime's own CPython read it.
    exact: bool

    @property
    def unchecked(self) -> bool:
        """Pants' Python could not parse a module for a newer runtime: nothing is known."""
        return self.names is None and self.problem is None


@rule(desc="Checking a module with the grammar of a Lambda runtime", level=LogLevel.DEBUG)
async def analyze_module(request: ModuleAnalysisRequest) -> ModuleAnalysis:
    interpreter = await Get(RuntimeInterpreter, RuntimeInterpreterRequest(request.python_version))
    path = request.entry.path
    if interpreter.binary is not None:
        script = pkgutil.get_data(modulenames.__name__, "modulenames.py")
        assert script is not None
        script_digest, module_digest = await MultiGet(
            Get(Digest, CreateDigest([FileContent(_SCRIPT, script)])),
            Get(Digest, CreateDigest([FileEntry(_MODULE, request.entry.file_digest)])),
        )
        input_digest = await Get(Digest, MergeDigests([script_digest, module_digest]))
        process = script_process(
            interpreter.binary,
            # Isolated and without site-packages: the script needs the stdlib only.
            ("-I", "-S"),
            _SCRIPT,
            (_MODULE, path),
            input_digest=input_digest,
            description=(
                f"Checking {path} of {request.address} with CPython " f"{request.python_version}"
            ),
        )
        result = await Get(ProcessResult, Process, process)
        report = json.loads(result.stdout)
        checked_with = f"CPython {request.python_version}"
        if "error" in report:
            problem = SyntaxProblem(report["error"]["message"], report["error"]["line"])
            return ModuleAnalysis(None, problem, checked_with, exact=True)
        return ModuleAnalysis(
            handler_names.ModuleNames.from_report(report), None, checked_with, exact=True
        )

    # No CPython of the runtime's version: Pants' own parser, as well as it can.
    pants_version = PythonVersion(*sys.version_info[:2])
    checked_with = f"Pants' Python {pants_version}"
    digest = await Get(Digest, CreateDigest([request.entry]))
    contents = await Get(DigestContents, Digest, digest)
    source = contents[0].content
    runtime_is_newer = request.python_version > pants_version
    try:
        names = handler_names.module_level_names(
            source, path, feature_version=None if runtime_is_newer else request.python_version
        )
    except (SyntaxError, ValueError) as e:
        if runtime_is_newer:
            # Possibly grammar that Pants' Python predates: no verdict.
            return ModuleAnalysis(None, None, checked_with, exact=False)
        report = modulenames.error_report(e)
        return ModuleAnalysis(
            None, SyntaxProblem(report["message"], report["line"]), checked_with, exact=False
        )
    return ModuleAnalysis(names, None, checked_with, exact=request.python_version == pants_version)


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *runtime_interpreter.rules())
