"""Packaging a `python_aws_lambda_function`: resolve, lay out, zip.

The mechanism is shared by every Lambda artifact:

1. `LambdaPlatformRequest` -> `LambdaPlatform`: the runtime, architecture and complete platform.
2. `LambdaContentRequest` -> `LambdaContent`: third-party distributions (resolved by PEX for that
   platform, one installed wheel per directory, unpacked to the root) merged with first-party
   sources, checked for wheel compatibility and for files that two sources both claim.
3. `LambdaZipRequest` -> `LambdaZip`: one process writes the reproducible zip.
"""

from __future__ import annotations

import json
import logging
import pkgutil
from collections import defaultdict
from dataclasses import dataclass

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import (
    EntryPoint,
    PexLayout,
    PythonRequirementsField,
    PythonResolveField,
)
from pants.backend.python.util_rules import pex_from_targets
from pants.backend.python.util_rules.faas import (
    ResolvedPythonFaaSHandler,
    ResolvePythonFaaSHandlerRequest,
)
from pants.backend.python.util_rules.faas import rules as faas_rules
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import Pex, PexRequest, VenvPex, VenvPexProcess
from pants.backend.python.util_rules.pex_from_targets import PexFromTargetsRequest
from pants.backend.python.util_rules.pex_requirements import (
    LoadedLockfile,
    LoadedLockfileRequest,
    Lockfile,
    PexRequirements,
    Resolve,
)
from pants.backend.python.util_rules.python_sources import (
    PythonSourceFilesRequest,
    StrippedPythonSourceFiles,
)
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, PackageFieldSet
from pants.core.target_types import FileSourceField
from pants.core.util_rules.environments import EnvironmentField
from pants.engine.addresses import Address
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    DigestEntries,
    DigestSubset,
    FileContent,
    FileEntry,
    MergeDigests,
    PathGlobs,
)
from pants.engine.process import ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import InvalidFieldException, TransitiveTargets, TransitiveTargetsRequest
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_aws_lambda import handler as handler_lib
from pants_aws_lambda import bytecode_rules, platform_rules, wheels, zipwriter
from pants_aws_lambda.bytecode_rules import Bytecode, BytecodeMode, BytecodeRequest
from pants_aws_lambda.platform_rules import LambdaPlatform, LambdaPlatformRequest
from pants_aws_lambda.target_types import (
    PythonAwsLambdaArchitectureField,
    PythonAwsLambdaBytecodeField,
    PythonAwsLambdaCompletePlatformsField,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaIncludeRequirementsField,
    PythonAwsLambdaOutputPathField,
    PythonAwsLambdaRuntimeField,
)

logger = logging.getLogger(__name__)

# Where Lambda unpacks a function's code.
LAMBDA_TASK_ROOT = "/var/task"
_REQUIREMENTS_PEX = "requirements.pex"
_DEPS_PREFIX = f"{_REQUIREMENTS_PEX}/.deps/"
# In an installed wheel chroot, PEX's bookkeeping and the stash of files that `pip install
# --target` would put outside the import path (console scripts in `bin/`, headers, data).
_CHROOT_METADATA = ".layout.json"
_CHROOT_STASH = ".prefix/"


class LambdaPackagingError(Exception):
    """A Lambda artifact cannot be built as configured; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------
# Third-party distributions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementsWheelCheckRequest:
    address: Address
    resolve: str
    requirements: tuple[str, ...]
    platform: LambdaPlatform


@dataclass(frozen=True)
class RequirementsWheelCheck:
    pass


@rule
async def check_requirements_have_wheels(
    request: RequirementsWheelCheckRequest, python_setup: PythonSetup
) -> RequirementsWheelCheck:
    """Refuse, before PEX runs, requirements whose locked artifacts hold no compatible wheel."""
    if not request.requirements or request.resolve not in python_setup.resolves:
        return RequirementsWheelCheck()
    lockfile = await Get(Lockfile, Resolve(request.resolve, False))
    loaded = await Get(LoadedLockfile, LoadedLockfileRequest(lockfile))
    if not loaded.is_pex_native:
        return RequirementsWheelCheck()
    contents = await Get(DigestContents, Digest, loaded.lockfile_digest)
    lock_text = next(c.content for c in contents if c.path == loaded.lockfile_path).decode()
    problems = wheels.find_incompatible_requirements(
        wheels.load_lock(lock_text),
        request.requirements,
        request.platform.marker_environment,
        request.platform.compatible_tags,
    )
    if problems:
        raise LambdaPackagingError(
            wheels.describe_incompatible(
                problems,
                address=str(request.address),
                runtime_description=request.platform.description,
                compatible_tags=request.platform.compatible_tags,
            )
        )
    return RequirementsWheelCheck()


@dataclass(frozen=True)
class ThirdPartyTreeRequest:
    address: Address
    pex: Pex
    platform: LambdaPlatform


@dataclass(frozen=True)
class ThirdPartyTree:
    digest: Digest
    # Wheel file names, sorted.
    wheels: tuple[str, ...]
    # Path in the artifact -> wheel file name it comes from.
    owners: tuple[tuple[str, str], ...]


@rule
async def lay_out_third_party(request: ThirdPartyTreeRequest) -> ThirdPartyTree:
    """Unpack each installed wheel of a loose PEX to the root, keeping only importable files."""
    entries = await Get(DigestEntries, Digest, request.pex.digest)
    by_path: dict[str, tuple[str, FileEntry]] = {}
    wheel_names: set[str] = set()
    conflicts: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if not isinstance(entry, FileEntry) or not entry.path.startswith(_DEPS_PREFIX):
            continue
        wheel, _, rel = entry.path[len(_DEPS_PREFIX) :].partition("/")
        wheel_names.add(wheel)
        if rel == _CHROOT_METADATA or rel.startswith(_CHROOT_STASH):
            continue
        seen = by_path.get(rel)
        if seen is not None and seen[1].file_digest != entry.file_digest:
            conflicts[rel].update((seen[0], wheel))
            continue
        by_path[rel] = (wheel, entry)

    incompatible = sorted(
        w for w in wheel_names if not wheels.is_compatible_wheel(w, request.platform.compatible_tags)
    )
    if incompatible:
        raise LambdaPackagingError(
            softwrap(
                f"""
                Building {request.address} for {request.platform.description} resolved wheels
                that {request.platform.description} cannot load: {', '.join(incompatible)}.
                Its compatible tags start with {', '.join(request.platform.compatible_tags[:3])}.
                Pin versions of these requirements that publish compatible wheels and run
                `pants generate-lockfiles`.
                """
            )
        )
    if conflicts:
        listing = "\n".join(
            f"  - {path}: {', '.join(sorted(owners))}" for path, owners in sorted(conflicts.items())[:10]
        )
        raise LambdaPackagingError(
            f"Third-party distributions of {request.address} install different files at the same "
            f"path, so one would silently replace the other:\n{listing}\n"
            "Remove one of the conflicting requirements from the target's dependencies "
            "(e.g. with a `!` exclude) or pin versions that agree."
        )

    digest = await Get(
        Digest,
        CreateDigest(
            FileEntry(path, entry.file_digest, entry.is_executable)
            for path, (_, entry) in sorted(by_path.items())
        ),
    )
    return ThirdPartyTree(
        digest=digest,
        wheels=tuple(sorted(wheel_names)),
        owners=tuple((path, wheel) for path, (wheel, _) in sorted(by_path.items())),
    )


# ---------------------------------------------------------------------------------------------
# Content: third-party + first-party
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaContentRequest:
    address: Address
    platform: LambdaPlatform
    resolve: PythonResolveField
    include_requirements: bool
    include_sources: bool = True


@dataclass(frozen=True)
class LambdaContent:
    # Every file at its final path in the artifact.
    digest: Digest
    third_party_digest: Digest
    wheels: tuple[str, ...]
    first_party_files: tuple[str, ...]
    first_party_digest: Digest


@rule
async def assemble_lambda_content(
    request: LambdaContentRequest, python_setup: PythonSetup
) -> LambdaContent:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))

    third_party = ThirdPartyTree(EMPTY_DIGEST, (), ())
    if request.include_requirements:
        requirements = PexRequirements.req_strings_from_requirement_fields(
            tgt[PythonRequirementsField]
            for tgt in transitive.closure
            if tgt.has_field(PythonRequirementsField)
        )
        await Get(
            RequirementsWheelCheck,
            RequirementsWheelCheckRequest(
                request.address,
                request.resolve.normalized_value(python_setup),
                tuple(requirements),
                request.platform,
            ),
        )
        requirements_pex = await Get(
            Pex,
            PexFromTargetsRequest(
                [request.address],
                output_filename=_REQUIREMENTS_PEX,
                internal_only=False,
                layout=PexLayout.LOOSE,
                include_source_files=False,
                complete_platforms=request.platform.complete_platforms,
                description=(
                    f"Resolving third-party requirements of {request.address} for "
                    f"{request.platform.description}"
                ),
            ),
        )
        third_party = await Get(
            ThirdPartyTree,
            ThirdPartyTreeRequest(request.address, requirements_pex, request.platform),
        )

    first_party_digest = EMPTY_DIGEST
    first_party_files: tuple[str, ...] = ()
    if request.include_sources:
        file_targets = sorted(str(t.address) for t in transitive.closure if t.has_field(FileSourceField))
        if file_targets:
            logger.warning(
                softwrap(
                    f"""
                    {request.address} depends on `file` targets, which are not put into Lambda
                    artifacts: {', '.join(file_targets)}. Code reads packaged data relative to
                    its module, so use `resource` targets for data the function needs.
                    """
                )
            )
        sources = await Get(
            StrippedPythonSourceFiles,
            PythonSourceFilesRequest(transitive.closure, include_resources=True, include_files=False),
        )
        first_party_digest = sources.stripped_source_files.snapshot.digest
        first_party_files = sources.stripped_source_files.snapshot.files

    owners = dict(third_party.owners)
    clashes = sorted(f for f in first_party_files if f in owners)
    if clashes:
        listing = "\n".join(f"  - {f} (also in {owners[f]})" for f in clashes[:10])
        raise LambdaPackagingError(
            f"First-party files of {request.address} have the same paths as files of its "
            f"third-party distributions:\n{listing}\n"
            "Rename the first-party module, or exclude the requirement with a `!` dependency."
        )

    digest = await Get(Digest, MergeDigests([third_party.digest, first_party_digest]))
    return LambdaContent(
        digest=digest,
        third_party_digest=third_party.digest,
        wheels=third_party.wheels,
        first_party_files=first_party_files,
        first_party_digest=first_party_digest,
    )


# ---------------------------------------------------------------------------------------------
# The zip
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipWriter:
    pex: VenvPex


@rule
async def build_zip_writer() -> ZipWriter:
    script = pkgutil.get_data(zipwriter.__name__, "zipwriter.py")
    assert script is not None
    sources = await Get(Digest, CreateDigest([FileContent("__lambda_zipwriter.py", script)]))
    pex = await Get(
        VenvPex,
        PexRequest(
            output_filename="lambda_zipwriter.pex",
            internal_only=True,
            sources=sources,
            main=EntryPoint("__lambda_zipwriter", "main"),
            interpreter_constraints=InterpreterConstraints(["CPython>=3.8,<4"]),
        ),
    )
    return ZipWriter(pex)


@dataclass(frozen=True)
class LambdaZipRequest:
    address: Address
    content: Digest
    output_path: str


@dataclass(frozen=True)
class LambdaZip:
    digest: Digest
    zipped_bytes: int
    unzipped_bytes: int
    files: int


@rule
async def write_lambda_zip(request: LambdaZipRequest, writer: ZipWriter) -> LambdaZip:
    input_digest = await Get(Digest, AddPrefix(request.content, "content"))
    result = await Get(
        ProcessResult,
        VenvPexProcess(
            writer.pex,
            argv=("content", request.output_path),
            input_digest=input_digest,
            output_files=(request.output_path,),
            description=f"Writing {request.output_path} for {request.address}",
            level=LogLevel.DEBUG,
        ),
    )
    report = json.loads(result.stdout)
    return LambdaZip(
        digest=result.output_digest,
        zipped_bytes=report["zipped_bytes"],
        unzipped_bytes=report["unzipped_bytes"],
        files=report["files"],
    )


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# The function
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PythonAwsLambdaFunctionFieldSet(PackageFieldSet):
    required_fields = (PythonAwsLambdaHandlerField,)

    handler: PythonAwsLambdaHandlerField
    runtime: PythonAwsLambdaRuntimeField
    architecture: PythonAwsLambdaArchitectureField
    complete_platforms: PythonAwsLambdaCompletePlatformsField
    include_requirements: PythonAwsLambdaIncludeRequirementsField
    bytecode: PythonAwsLambdaBytecodeField
    output_path: PythonAwsLambdaOutputPathField
    resolve: PythonResolveField
    environment: EnvironmentField


@dataclass(frozen=True)
class HandlerShimRequest:
    field_set: PythonAwsLambdaFunctionFieldSet
    handler: ResolvedPythonFaaSHandler
    content: LambdaContent


@dataclass(frozen=True)
class HandlerShim:
    digest: Digest


@rule
async def check_handler_and_render_shim(request: HandlerShimRequest) -> HandlerShim:
    """Check the handler statically and return the digest of the `lambda_function.py` shim."""
    field_set, handler, content = request.field_set, request.handler, request.content
    alias = PythonAwsLambdaHandlerField.alias
    where = f"The `{alias}` field of {field_set.address} is {field_set.handler.value!r}"
    candidates = handler_lib.module_file_candidates(handler.module)
    module_file = next((f for f in candidates if f in content.first_party_files), None)
    if module_file is None:
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, but its module `{handler.module}` ({' or '.join(candidates)} under a
                source root) is not among the target's first-party sources. Check the spelling,
                or add the target that owns the module to `dependencies`.
                """
            )
        )
    source = await Get(DigestContents, DigestSubset(content.first_party_digest, PathGlobs([module_file])))
    try:
        names = handler_lib.module_level_names(source[0].content.decode(), module_file)
    except SyntaxError as e:
        raise InvalidFieldException(f"{where}, but {module_file} does not parse: {e}")
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

    shim = handler_lib.render_shim(handler.module, handler.func)
    reexport = f"{handler_lib.REEXPORTED_HANDLER_MODULE}.py"
    if shim is None:
        if handler.func != handler_lib.REEXPORTED_HANDLER_FUNC:
            raise InvalidFieldException(
                softwrap(
                    f"""
                    {where}: the module `{handler_lib.REEXPORTED_HANDLER_MODULE}` is where the
                    artifact re-exports the handler as
                    `{handler_lib.REEXPORTED_HANDLER_MODULE}.{handler_lib.REEXPORTED_HANDLER_FUNC}`.
                    Rename the function to `{handler_lib.REEXPORTED_HANDLER_FUNC}`, or move it to
                    a module with another name.
                    """
                )
            )
        return HandlerShim(EMPTY_DIGEST)
    if reexport in content.first_party_files:
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, and the target also has a first-party top-level `{reexport}`, the file
                the artifact uses to re-export the handler. Rename that module, or make it the
                handler (`{reexport}:{handler_lib.REEXPORTED_HANDLER_FUNC}`).
                """
            )
        )
    return HandlerShim(await Get(Digest, CreateDigest([FileContent(reexport, shim.encode())])))


@rule(desc="Packaging an AWS Lambda function", level=LogLevel.DEBUG)
async def package_python_aws_lambda_function(
    field_set: PythonAwsLambdaFunctionFieldSet,
) -> BuiltPackage:
    platform, handler = await MultiGet(
        Get(
            LambdaPlatform,
            LambdaPlatformRequest(
                field_set.address,
                field_set.runtime,
                field_set.architecture,
                field_set.complete_platforms,
                field_set.resolve,
            ),
        ),
        Get(ResolvedPythonFaaSHandler, ResolvePythonFaaSHandlerRequest(field_set.handler)),
    )
    content = await Get(
        LambdaContent,
        LambdaContentRequest(
            field_set.address,
            platform,
            field_set.resolve,
            include_requirements=field_set.include_requirements.value,
        ),
    )
    shim = await Get(HandlerShim, HandlerShimRequest(field_set, handler, content))
    first_party = await Get(Digest, MergeDigests([content.first_party_digest, shim.digest]))
    mode = BytecodeMode(field_set.bytecode.value)
    # Compiled apart, so that a first-party edit reuses the third-party bytecode from the cache.
    third_party_bytecode, first_party_bytecode = await MultiGet(
        Get(
            Bytecode,
            BytecodeRequest(
                field_set.address,
                content.third_party_digest,
                platform.python_version,
                mode,
                LAMBDA_TASK_ROOT,
                "third-party distributions",
            ),
        ),
        Get(
            Bytecode,
            BytecodeRequest(
                field_set.address,
                first_party,
                platform.python_version,
                mode,
                LAMBDA_TASK_ROOT,
                "first-party sources",
            ),
        ),
    )
    output_path = field_set.output_path.value_or_default(file_ending="zip")
    zipped = await Get(
        LambdaZip,
        LambdaZipRequest(
            field_set.address,
            await Get(
                Digest, MergeDigests([third_party_bytecode.digest, first_party_bytecode.digest])
            ),
            output_path,
        ),
    )
    modules = third_party_bytecode.compiled + first_party_bytecode.compiled
    bytecode_line = (
        f"    Bytecode: {mode.value}, {modules} modules for CPython "
        f"{'.'.join(map(str, platform.python_version))}"
        if modules
        else "    Bytecode: none"
    )
    return BuiltPackage(
        digest=zipped.digest,
        artifacts=(
            BuiltPackageArtifact(
                output_path,
                extra_log_lines=(
                    f"    Handler: {handler_lib.REEXPORTED_HANDLER_MODULE}."
                    f"{handler_lib.REEXPORTED_HANDLER_FUNC} (calls {handler.module}:{handler.func})",
                    f"    Runtime: {platform.description}",
                    bytecode_line,
                    f"    Size: {format_size(zipped.zipped_bytes)} zipped, "
                    f"{format_size(zipped.unzipped_bytes)} unzipped, {zipped.files} files, "
                    f"{len(content.wheels)} third-party distributions",
                ),
            ),
        ),
    )


def rules():
    return (
        *collect_rules(),
        *platform_rules.rules(),
        *bytecode_rules.rules(),
        *faas_rules(),
        *pex_from_targets.rules(),
        UnionRule(PackageFieldSet, PythonAwsLambdaFunctionFieldSet),
    )
