"""Checking a function's handler against its module, and the `lambda_function.py` re-exporting it.

The handler's module must be among the function's first-party sources, parse with the runtime's
Python and define the handler's function at top level (`module_rules` reads it with the
runtime's CPython when there is one); the re-export is added to the artifact after `exclude`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.util_rules.faas import ResolvedPythonFaaSHandler
from pants.engine.fs import EMPTY_DIGEST, CreateDigest, Digest, FileContent, FileEntry
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.target import InvalidFieldException
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact.content import LambdaContent
from pants_aws_lambda.build.field_sets import PythonAwsLambdaFunctionFieldSet
from pants_aws_lambda.handler import module_rules
from pants_aws_lambda.handler import names as handler_names
from pants_aws_lambda.handler import reexport
from pants_aws_lambda.handler.module_rules import ModuleAnalysis, ModuleAnalysisRequest
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform
from pants_aws_lambda.target_types import BytecodeMode, PythonAwsLambdaHandlerField

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandlerShimRequest:
    field_set: PythonAwsLambdaFunctionFieldSet
    handler: ResolvedPythonFaaSHandler
    content: LambdaContent
    platform: LambdaPlatform


@dataclass(frozen=True)
class HandlerShim:
    digest: Digest
    module_file: str


@dataclass(frozen=True)
class _Check:
    """The handler being checked, and how messages name it."""

    request: HandlerShimRequest
    where: str

    @property
    def handler(self) -> ResolvedPythonFaaSHandler:
        return self.request.handler

    @property
    def version(self) -> str:
        return str(self.request.platform.python_version)


def _module_entry(check: _Check) -> FileEntry:
    handler, where = check.handler, check.where
    candidates = handler_names.module_file_candidates(handler.module)
    module_entry = next(
        (e for c in candidates for e in check.request.content.first_party if e.path == c), None
    )
    if module_entry is None:
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, but its module `{handler.module}` ({' or '.join(candidates)} under a
                source root) is not among the target's first-party sources. Check the spelling,
                or add the target that owns the module to `dependencies`.
                """
            )
        )
    return module_entry


def _check_parses(check: _Check, module_file: str, analysis: ModuleAnalysis) -> None:
    where, version, platform = check.where, check.version, check.request.platform
    if analysis.problem is not None:
        at = f" at line {analysis.problem.line}" if analysis.problem.line is not None else ""
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, but {module_file} does not parse with Python {version}, the Python of
                {platform.description} (checked with {analysis.checked_with}){at}:
                {analysis.problem.message}. Fix the code, or keep to the syntax that Python
                {version} supports (a newer `runtime` supports newer syntax).
                """
            )
        )


def _warn_if_checked_loosely(check: _Check, module_file: str, analysis: ModuleAnalysis) -> None:
    field_set, handler, version = check.request.field_set, check.handler, check.version
    platform = check.request.platform
    if not analysis.exact and field_set.bytecode.mode == BytecodeMode.NONE:
        if analysis.unchecked:
            how = softwrap(
                f"""
                which cannot parse it (it may use syntax newer than that Python): whether it
                defines `{handler.func}` is not checked
                """
            )
        elif platform.python_version > sys.version_info[:2]:
            how = f"whose grammar is older than that of Python {version}"
        else:
            how = f"with the grammar of Python {version} as far as that Python knows it"
        logger.warning(
            softwrap(
                f"""
                {field_set.address}: no CPython {version} on the interpreter search path, so the
                handler's module {module_file} is checked with {analysis.checked_with}, {how};
                with `bytecode="none"`, the other first-party sources are not compiled, so a
                syntax error in them shows only when Lambda imports them. Install CPython
                {version} where Pants looks for interpreters (`[python-bootstrap].search_path`) to
                check the handler's module with the runtime's grammar, and use
                `bytecode="compiled"` to check every first-party source.
                """
            )
        )


def _check_defines_handler(check: _Check, module_file: str, analysis: ModuleAnalysis) -> None:
    where, handler = check.where, check.handler
    names = analysis.names
    if names is None:
        names = handler_names.ModuleNames(frozenset(), open_ended=True)
    if not names.may_define(handler.func):
        defined = sorted(n for n in names.names if not n.startswith("_"))
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, but `{handler.module}` ({module_file}) defines no top-level
                `{handler.func}`. It defines: {', '.join(defined) or 'nothing public'}. Fix the
                function name after the `:`.
                """
            )
        )


def _shim_file(check: _Check) -> FileContent | None:
    """The re-export, or None when the handler already is `lambda_function.handler`."""
    where, handler, content = check.where, check.handler, check.request.content
    shim = reexport.render_shim(handler.module, handler.func)
    reexport_file = f"{reexport.REEXPORTED_HANDLER_MODULE}.py"
    if shim is None:
        if handler.func != reexport.REEXPORTED_HANDLER_FUNC:
            raise InvalidFieldException(
                softwrap(
                    f"""
                    {where}: the module `{reexport.REEXPORTED_HANDLER_MODULE}` is where the
                    artifact re-exports the handler as
                    `{reexport.REEXPORTED_HANDLER_MODULE}.{reexport.REEXPORTED_HANDLER_FUNC}`.
                    Rename the function to `{reexport.REEXPORTED_HANDLER_FUNC}`, or move it to
                    a module with another name.
                    """
                )
            )
        return None
    if reexport_file in content.first_party_files:
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, and the target also has a first-party top-level `{reexport_file}`, the file
                the artifact uses to re-export the handler. Rename that module, or make it the
                handler (`{reexport_file}:{reexport.REEXPORTED_HANDLER_FUNC}`).
                """
            )
        )
    return FileContent(reexport_file, shim.encode())


@rule
async def check_handler_and_render_shim(request: HandlerShimRequest) -> HandlerShim:
    """Check the handler statically and return the digest of the `lambda_function.py` shim."""
    field_set = request.field_set
    alias = PythonAwsLambdaHandlerField.alias
    check = _Check(
        request, f"The `{alias}` field of {field_set.address} is {field_set.handler.value!r}"
    )
    module_entry = _module_entry(check)
    analysis = await Get(
        ModuleAnalysis,
        ModuleAnalysisRequest(field_set.address, module_entry, request.platform.python_version),
    )
    _check_parses(check, module_entry.path, analysis)
    _warn_if_checked_loosely(check, module_entry.path, analysis)
    _check_defines_handler(check, module_entry.path, analysis)
    shim_file = _shim_file(check)
    if shim_file is None:
        return HandlerShim(EMPTY_DIGEST, module_entry.path)
    digest = await Get(Digest, CreateDigest([shim_file]))
    return HandlerShim(digest, module_entry.path)


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *module_rules.rules())
