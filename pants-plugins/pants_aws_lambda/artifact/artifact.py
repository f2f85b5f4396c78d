"""The mechanism every Lambda artifact (function or layer) is built with.

1. `LambdaContentRequest` -> `LambdaContent`: third-party distributions (resolved by PEX for the
   platform, one installed wheel per directory, unpacked to the import root) and first-party
   sources, checked for wheel compatibility and for files that two sources both claim.
2. `LambdaArtifactRequest` -> `LambdaArtifact`: what layers already provide and what `exclude`
   matches is dropped, bytecode is compiled for the runtime, everything is put under the
   artifact's prefix (`python/` for layers), and one process writes the reproducible zip (or,
   with the `flat` layout, the same tree is put at the output path as a directory).
"""

from __future__ import annotations

import dataclasses
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
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import Pex, PexRequest, VenvPex, VenvPexProcess
from pants.backend.python.util_rules.pex_cli import PexCli
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
from pants.core.target_types import FileSourceField
from pants.engine.addresses import Address
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    DigestEntries,
    FileContent,
    FileEntry,
    MergeDigests,
)
from pants.engine.process import Process, ProcessExecutionFailure, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import TransitiveTargets, TransitiveTargetsRequest
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import bytecode as bytecode_rules
from pants_aws_lambda.third_party import elf
from pants_aws_lambda.artifact import limits
from pants_aws_lambda.runtimes import platform_rules
from pants_aws_lambda.third_party import wheels
from pants_aws_lambda.artifact import zipwriter
from pants_aws_lambda.artifact.bytecode import Bytecode, BytecodeRequest, CompileFailure
from pants_aws_lambda.caching import REMOTE_CACHE_SPECULATION_DELAY_MS
from pants_aws_lambda.target_types import BytecodeMode, Layout
from pants_aws_lambda.artifact.limits import Distribution
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform

logger = logging.getLogger(__name__)

_REQUIREMENTS_PEX = "requirements.pex"
_DEPS_PREFIX = f"{_REQUIREMENTS_PEX}/.deps/"
# In an installed wheel chroot, PEX's bookkeeping (`.layout.json`, and with current pex releases a
# `<project>-<version>.pex-info/` directory with the original wheel's file list) and the stash of
# files that `pip install --target` would put outside the import path (console scripts in `bin/`,
# headers, data).
_CHROOT_METADATA = ".layout.json"
_CHROOT_STASH = ".prefix/"
_CHROOT_PEX_INFO_SUFFIX = ".pex-info"


def _is_pex_bookkeeping(rel: str) -> bool:
    top = rel.split("/", 1)[0]
    return rel == _CHROOT_METADATA or rel.startswith(_CHROOT_STASH) or top.endswith(_CHROOT_PEX_INFO_SUFFIX)


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
    # Whether the requirements come from a lockfile (else PEX resolves them from the indexes).
    locked: bool
    # Canonical names of the locked requirements PEX builds from an sdist.
    sdist_only: tuple[str, ...] = ()


@rule
async def check_requirements_have_wheels(
    request: RequirementsWheelCheckRequest, python_setup: PythonSetup, pex_cli: PexCli
) -> RequirementsWheelCheck:
    """Refuse, before PEX runs, requirements whose locked artifacts hold no compatible wheel."""
    if not python_setup.enable_resolves or request.resolve not in python_setup.resolves:
        return RequirementsWheelCheck(locked=False)
    if not request.requirements:
        return RequirementsWheelCheck(locked=True)
    lockfile = await Get(Lockfile, Resolve(request.resolve, False))
    loaded = await Get(LoadedLockfile, LoadedLockfileRequest(lockfile))
    if not loaded.is_pex_native:
        return RequirementsWheelCheck(locked=True)
    contents = await Get(DigestContents, Digest, loaded.lockfile_digest)
    lock_text = next(c.content for c in contents if c.path == loaded.lockfile_path).decode()
    lock = wheels.load_lock(lock_text)
    problems = wheels.find_incompatible_requirements(
        lock,
        request.requirements,
        request.platform.marker_environment,
        request.platform.compatible_tags,
    )
    if problems:
        raise LambdaPackagingError(
            wheels.describe_incompatible(
                problems,
                address=str(request.address),
                runtime_description=(
                    wheels.describe_runtime(request.platform.runtime, request.platform.architecture)
                    if request.platform.runtime is not None and request.platform.architecture
                    else request.platform.description
                ),
                compatible_tags=request.platform.compatible_tags,
                resolve=request.resolve,
                origin=wheels.LockOrigin.of(lock, pex_cli.version),
            )
        )
    return RequirementsWheelCheck(
        locked=True,
        sdist_only=wheels.find_sdist_only_requirements(
            lock, request.requirements, request.platform.marker_environment
        ),
    )


@dataclass(frozen=True)
class ThirdPartyFile:
    path: str
    wheel: str
    entry: FileEntry


@dataclass(frozen=True)
class ThirdPartyTreeRequest:
    address: Address
    pex: Pex
    platform: LambdaPlatform
    # What the wheel check found: which wheels PEX built from sdists.
    check: RequirementsWheelCheck = RequirementsWheelCheck(locked=True)


@dataclass(frozen=True)
class ThirdPartyTree:
    # Wheel file names, sorted.
    wheels: tuple[str, ...]
    # Every importable file, sorted by path.
    files: tuple[ThirdPartyFile, ...]


@rule
async def lay_out_third_party(request: ThirdPartyTreeRequest) -> ThirdPartyTree:
    """Unpack each installed wheel of a loose PEX to the root, keeping only importable files."""
    entries = await Get(DigestEntries, Digest, request.pex.digest)
    by_path: dict[str, ThirdPartyFile] = {}
    wheel_names: set[str] = set()
    conflicts: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if not isinstance(entry, FileEntry) or not entry.path.startswith(_DEPS_PREFIX):
            continue
        wheel, _, rel = entry.path[len(_DEPS_PREFIX) :].partition("/")
        wheel_names.add(wheel)
        if _is_pex_bookkeeping(rel):
            continue
        seen = by_path.get(rel)
        if seen is not None and seen.entry.file_digest != entry.file_digest:
            conflicts[rel].update((seen.wheel, wheel))
            continue
        by_path[rel] = ThirdPartyFile(rel, wheel, FileEntry(rel, entry.file_digest, entry.is_executable))

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
    built = sorted(w for w in wheel_names if _built_for_this_machine(w, request.check))
    if built:
        raise LambdaPackagingError(_describe_built_wheels(request, built))

    # Locked wheels tagged `linux_<arch>`: their tags say nothing about glibc, their ELF files do.
    # Only these wheels' shared objects are read, so other builds read no file contents.
    bare_linux = sorted(
        w
        for w in wheel_names
        if request.check.locked and wheels.is_platform_specific(w) and wheels.is_bare_linux(w)
    )
    if bare_linux:
        shared_objects = [
            entry
            for entry in entries
            if isinstance(entry, FileEntry)
            and entry.path.startswith(_DEPS_PREFIX)
            and entry.path[len(_DEPS_PREFIX) :].partition("/")[0] in bare_linux
            and elf.is_shared_object(entry.path)
        ]
        so_digest = await Get(Digest, CreateDigest(shared_objects))
        so_contents = await Get(DigestContents, Digest, so_digest)
        needs = _glibc_needs(bare_linux, so_contents)
        platform_glibc = (
            request.platform.runtime.glibc
            if request.platform.runtime is not None
            else wheels.newest_glibc(request.platform.compatible_tags)
        )
        too_new = [
            (wheel, need)
            for wheel, need in needs.items()
            if need is not None and platform_glibc is not None and need[0] > platform_glibc
        ]
        if too_new:
            assert platform_glibc is not None
            listing = "; ".join(
                f"{Distribution.from_wheel(w)} ({w}) needs GLIBC_{_dotted(v)} in {f}"
                for w, (v, f) in too_new
            )
            raise LambdaPackagingError(
                softwrap(
                    f"""
                    Cannot package {request.address} for {request.platform.description}: the
                    shared objects of a locked wheel with a bare `linux_<arch>` platform tag
                    require a newer glibc than the runtime's glibc {_dotted(platform_glibc)}:
                    {listing}. Such a tag says nothing about glibc, so nothing stopped the wheel
                    earlier; on Lambda it would fail to load ("version `GLIBC_...' not found").
                    Ways out: build a manylinux wheel for the runtime's glibc (with the runtime's
                    CPython in a manylinux_{platform_glibc[0]}_{platform_glibc[1]} build container), or
                    run `auditwheel repair` on a wheel built for glibc {_dotted(platform_glibc)}
                    or older, serve it from a directory in `[python-repos].find_links` and
                    regenerate the lockfile; or pin another release that publishes manylinux
                    wheels for the runtime.
                    """
                )
            )
        for wheel, need in sorted(needs.items()):
            if need is None:
                needed = "its shared objects require no versioned glibc symbols (GLIBC_x.y)"
            else:
                version, so_file = _dotted(need[0]), need[1]
                needed = f"its shared objects require glibc {version} (GLIBC_{version} in {so_file})"
            runtime_glibc = (
                f"the runtime has glibc {_dotted(platform_glibc)}"
                if platform_glibc is not None
                else "the platform's compatible tags name no manylinux glibc to compare with"
            )
            logger.warning(
                softwrap(
                    f"""
                    {request.address} packages {Distribution.from_wheel(wheel)} from the locked
                    wheel {wheel}, whose bare `linux_<arch>` platform tag says nothing about the
                    glibc it needs: it was built on some machine, not as a manylinux wheel.
                    From its ELF files, {needed}; {runtime_glibc}. Prefer a manylinux wheel
                    (`auditwheel repair` names the glibc in its tag).
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
            "(a `!!` exclude drops it from the whole closure) or pin versions that agree."
        )
    return ThirdPartyTree(tuple(sorted(wheel_names)), tuple(by_path[p] for p in sorted(by_path)))


def _dotted(version: tuple[int, int]) -> str:
    return "{}.{}".format(*version)


def _glibc_needs(
    wheel_names: list[str], contents: DigestContents
) -> dict[str, tuple[tuple[int, int], str] | None]:
    """Wheel -> the newest glibc its shared objects need and the file that needs it, or None."""
    needs: dict[str, tuple[tuple[int, int], str] | None] = {w: None for w in wheel_names}
    for content in sorted(contents, key=lambda c: c.path):
        wheel, _, rel = content.path[len(_DEPS_PREFIX) :].partition("/")
        version = elf.max_glibc(content.content)
        seen = needs.get(wheel)
        if version is not None and (seen is None or version > seen[0]):
            needs[wheel] = (version, rel)
    return needs


def _built_for_this_machine(wheel: str, check: RequirementsWheelCheck) -> bool:
    """Whether PEX built this platform-specific wheel from an sdist, on the machine running Pants.

    From a lockfile: the lock has only an sdist of it. Without one: a bare `linux_<arch>` wheel,
    which PyPI does not accept, so it was built here (or taken from another index as it is).
    """
    if not wheels.is_platform_specific(wheel):
        return False
    if check.locked:
        return wheels.project_name(wheel) in check.sdist_only
    return any(tag.split("-")[-1].startswith("linux_") for tag in wheels.wheel_tags(wheel))


def _describe_built_wheels(request: ThirdPartyTreeRequest, built: list[str]) -> str:
    origin = "the lockfile has only an sdist of" if request.check.locked else "PEX built from an sdist"
    return softwrap(
        f"""
        Cannot package {request.address} for {request.platform.description}: {origin}
        {', '.join(wheels.project_name(w) for w in built)}, and building it made a
        platform-specific wheel ({', '.join(built)}). It holds code compiled on the machine
        running Pants, for its glibc and CPU, not for the Lambda runtime, so it is not shipped.
        Ways out: pin a release that publishes manylinux wheels for the runtime; or build a
        manylinux wheel yourself (with the runtime's CPython in a manylinux container, then
        `auditwheel repair`), serve it from a directory in `[python-repos].find_links` and
        regenerate the lockfile; or drop the requirement. Pure-Python sdists, which build into
        `py3-none-any` wheels, are fine.
        """
    )


def _describe_failed_resolve(
    request: LambdaContentRequest, check: RequirementsWheelCheck, failure: ProcessExecutionFailure
) -> str:
    """PEX failed where it had to build sdists: say which, and keep what PEX said."""
    said = failure.stderr.decode(errors="replace").strip().splitlines()[-12:]
    built = (
        f"the requirements the lockfile has only sdists of ({', '.join(check.sdist_only)})"
        if check.locked
        else "requirements without a wheel for the runtime (no lockfile: PEX looked on the indexes)"
    )
    return "\n".join(
        [
            softwrap(
                f"""
                Cannot package {request.address} for {request.platform.description}: PEX could
                not install {built}. An sdist that builds into a platform-specific wheel (compiled
                code) cannot be built for a Lambda platform here; only pure-Python sdists can.
                Pin a release that publishes manylinux wheels for the runtime, or build a
                manylinux wheel yourself (with the runtime's CPython in a manylinux container,
                then `auditwheel repair`) and serve it from a directory in
                `[python-repos].find_links`. PEX said:
                """
            ),
            *(f"  {line}" for line in said),
        ]
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
    include_sources: bool


@dataclass(frozen=True)
class LambdaContent:
    third_party: ThirdPartyTree
    # First-party sources and resources, source roots stripped.
    first_party: tuple[FileEntry, ...]

    @property
    def first_party_files(self) -> frozenset[str]:
        return frozenset(e.path for e in self.first_party)

    @property
    def distributions(self) -> tuple[Distribution, ...]:
        return tuple(Distribution.from_wheel(w) for w in self.third_party.wheels)


@rule
async def assemble_lambda_content(
    request: LambdaContentRequest, python_setup: PythonSetup
) -> LambdaContent:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))

    third_party = ThirdPartyTree((), ())
    if request.include_requirements:
        requirements = PexRequirements.req_strings_from_requirement_fields(
            tgt[PythonRequirementsField]
            for tgt in transitive.closure
            if tgt.has_field(PythonRequirementsField)
        )
        version = "{}.{}".format(*request.platform.python_version)
        known_version = version in python_setup.interpreter_versions_universe
        if requirements and not known_version:
            raise LambdaPackagingError(
                softwrap(
                    f"""
                    Cannot resolve the requirements of {request.address} for Python {version}:
                    `[python].interpreter_versions_universe`
                    ({', '.join(python_setup.interpreter_versions_universe)}) does not list it,
                    and Pants 2.17 lists only versions up to 3.12 by default. Add "{version}" to
                    it in pants.toml.
                    """
                )
            )
        check = await Get(
            RequirementsWheelCheck,
            RequirementsWheelCheckRequest(
                request.address,
                request.resolve.normalized_value(python_setup),
                tuple(requirements),
                request.platform,
            ),
        )
        pex_request = PexFromTargetsRequest(
            [request.address],
            output_filename=_REQUIREMENTS_PEX,
            internal_only=False,
            layout=PexLayout.LOOSE,
            include_source_files=False,
            complete_platforms=request.platform.complete_platforms,
            # The runtime's Python, not the union of the closure's constraints: a lock for
            # `CPython>=3.12,<3.15` serves a python3.13 function whose sources carry
            # `[python].interpreter_constraints` of 3.9 and up.
            # (Without requirements, a Python that Pants does not know is no obstacle.)
            hardcoded_interpreter_constraints=(
                InterpreterConstraints([f"CPython=={version}.*"]) if known_version else None
            ),
            # Without a lockfile, the newest release with a wheel the runtime can load wins
            # over a newer one that would have to be built from its sdist.
            additional_args=() if check.locked else ("--prefer-binary",),
            description=(
                f"Resolving third-party requirements of {request.address} for "
                f"{request.platform.description}"
            ),
        )
        try:
            requirements_pex = await Get(Pex, PexFromTargetsRequest, pex_request)
        except ProcessExecutionFailure as e:
            if check.locked and not check.sdist_only:
                raise
            raise LambdaPackagingError(_describe_failed_resolve(request, check, e)) from e
        third_party = await Get(
            ThirdPartyTree,
            ThirdPartyTreeRequest(request.address, requirements_pex, request.platform, check),
        )

    first_party: tuple[FileEntry, ...] = ()
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
        entries = await Get(DigestEntries, Digest, sources.stripped_source_files.snapshot.digest)
        first_party = tuple(e for e in entries if isinstance(e, FileEntry))

    third_party_paths = {f.path: f.wheel for f in third_party.files}
    clashes = sorted(e.path for e in first_party if e.path in third_party_paths)
    if clashes:
        listing = "\n".join(f"  - {p} (also in {third_party_paths[p]})" for p in clashes[:10])
        raise LambdaPackagingError(
            f"First-party files of {request.address} have the same paths as files of its "
            f"third-party distributions:\n{listing}\n"
            "Rename the first-party module, or drop the requirement with a `!!` exclude in `dependencies`."
        )
    return LambdaContent(third_party, first_party)


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


_ZIP_CONTENT = "content"
_ZIP_PART = "__lambda_part/third-party.zip"


@dataclass(frozen=True)
class LambdaZipPartRequest:
    address: Address
    # The third-party part of the tree, under the artifact's prefix.
    content: Digest


@dataclass(frozen=True)
class LambdaZipPart:
    """The third-party part of a zip, compressed once: a zip holding `_ZIP_PART`."""

    digest: Digest


async def _run_zip_writer(
    writer: ZipWriter, input_digest: Digest, argv: tuple[str, ...], output: str, description: str
) -> ProcessResult:
    process = await Get(
        Process,
        VenvPexProcess(
            writer.pex,
            argv=argv,
            input_digest=input_digest,
            output_files=(output,),
            description=description,
            level=LogLevel.DEBUG,
        ),
    )
    return await Get(
        ProcessResult,
        Process,
        dataclasses.replace(
            process, remote_cache_speculation_delay_millis=REMOTE_CACHE_SPECULATION_DELAY_MS
        ),
    )


@rule
async def compress_third_party_part(request: LambdaZipPartRequest, writer: ZipWriter) -> LambdaZipPart:
    """Compress the third-party files once; a first-party edit leaves this process cached.

    The process depends only on the third-party tree (and the writer), so every build of the same
    requirements for the same runtime and options reuses it, and the artifact's zip copies its
    compressed entries instead of compressing 10s of MB again.
    """
    input_digest = await Get(Digest, AddPrefix(request.content, _ZIP_CONTENT))
    result = await _run_zip_writer(
        writer,
        input_digest,
        (_ZIP_CONTENT, _ZIP_PART),
        _ZIP_PART,
        f"Compressing third-party distributions of {request.address}",
    )
    return LambdaZipPart(result.output_digest)


@dataclass(frozen=True)
class LambdaZipRequest:
    address: Address
    content: Digest
    output_path: str
    import_root: str = ""
    # Entries already compressed, merged into the zip as they are.
    part: LambdaZipPart | None = None


@dataclass(frozen=True)
class LambdaZip:
    """The written artifact: the zip, or with the `flat` layout the same tree as a directory."""

    digest: Digest
    # None for the `flat` layout.
    zipped_bytes: int | None
    unzipped_bytes: int
    files: int
    # Unzipped bytes per top-level entry of the artifact.
    top_level: tuple[tuple[str, int], ...]


@rule
async def write_lambda_zip(request: LambdaZipRequest, writer: ZipWriter) -> LambdaZip:
    content = await Get(Digest, AddPrefix(request.content, _ZIP_CONTENT))
    argv = [_ZIP_CONTENT, request.output_path, "--import-root", request.import_root]
    if request.part is not None:
        content = await Get(Digest, MergeDigests([content, request.part.digest]))
        argv.extend(("--merge", _ZIP_PART))
    result = await _run_zip_writer(
        writer,
        content,
        tuple(argv),
        request.output_path,
        f"Writing {request.output_path} for {request.address}",
    )
    report = json.loads(result.stdout)
    return LambdaZip(
        digest=result.output_digest,
        zipped_bytes=report["zipped_bytes"],
        unzipped_bytes=report["unzipped_bytes"],
        files=report["files"],
        top_level=tuple(sorted(report["top_level"].items())),
    )


@dataclass(frozen=True)
class LambdaTreeRequest:
    """The `flat` layout: the tree the zip would hold, as a directory at `output_path`."""

    content: Digest
    output_path: str
    import_root: str = ""


@rule
async def place_lambda_tree(request: LambdaTreeRequest) -> LambdaZip:
    digest, entries = await MultiGet(
        Get(Digest, AddPrefix(request.content, request.output_path)),
        Get(DigestEntries, Digest, request.content),
    )
    report = zipwriter.summarize(
        ((e.path, _size(e)) for e in entries if isinstance(e, FileEntry)), request.import_root
    )
    return LambdaZip(
        digest=digest,
        zipped_bytes=None,
        unzipped_bytes=report["unzipped_bytes"],
        files=report["files"],
        top_level=tuple(sorted(report["top_level"].items())),
    )


# ---------------------------------------------------------------------------------------------
# The artifact
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provided:
    """What a function's layers already put on `sys.path`."""

    # Canonical project name -> (version, the layer that provides it).
    distributions: tuple[tuple[str, str, str], ...] = ()
    first_party_files: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LambdaArtifactRequest:
    address: Address
    what: str  # "function", "layer"
    platform: LambdaPlatform
    content: LambdaContent
    # Generated first-party files (the handler re-export), added after `exclude`.
    generated: Digest
    bytecode: BytecodeMode
    exclude: tuple[str, ...]
    # Files that `exclude` must not drop (the handler's module): path -> why.
    protected: tuple[tuple[str, str], ...]
    provided: Provided
    # The directory inside the zip that Lambda puts on `sys.path` (`""` or `python`), and where
    # that directory is on Lambda (`/var/task`, `/opt/python`).
    prefix: str
    runtime_root: str
    output_path: str
    layout: Layout = Layout.ZIP


@dataclass(frozen=True)
class LambdaArtifact:
    zip: LambdaZip
    distributions: tuple[Distribution, ...]
    first_party_files: frozenset[str]
    bytecode_modules: int
    excluded_files: int
    excluded_bytes: int
    # What a layer already provides and so was left out: (layer, distribution).
    omitted_distributions: tuple[tuple[str, str], ...]
    omitted_first_party: int
    # Top-level entry -> label naming the distribution it belongs to.
    owners: tuple[tuple[str, str], ...]


def _size(entry: FileEntry) -> int:
    return entry.file_digest.serialized_bytes_length


def _list_compile_failures(prefix: str, failed: tuple[CompileFailure, ...]) -> str:
    """One line per file, with its path in the artifact."""
    lines = [
        f"  - {prefix + '/' if prefix else ''}{f.path}"
        f"{', line ' + str(f.line) if f.line is not None else ''}: {f.message}"
        for f in failed[:10]
    ]
    if len(failed) > 10:
        lines.append(f"  - ... and {len(failed) - 10} more")
    return "\n".join(lines)


@rule
async def build_lambda_artifact(request: LambdaArtifactRequest) -> LambdaArtifact:
    patterns = [limits.glob_to_regex(p) for p in request.exclude]
    for path, why in request.protected:
        if limits.matches_any(path, patterns):
            raise LambdaPackagingError(
                softwrap(
                    f"""
                    The `exclude` field of {request.address} drops {path}, {why}. Narrow the
                    patterns ({', '.join(request.exclude)}) so they leave it in.
                    """
                )
            )

    provided_versions = {name: (version, layer) for name, version, layer in request.provided.distributions}
    omitted: list[tuple[str, str]] = []
    keep_wheels: set[str] = set()
    for wheel in request.content.third_party.wheels:
        dist = Distribution.from_wheel(wheel)
        if dist.name not in provided_versions:
            keep_wheels.add(wheel)
            continue
        version, layer = provided_versions[dist.name]
        if version != dist.version:
            raise LambdaPackagingError(
                softwrap(
                    f"""
                    {request.address} needs {dist.name} {dist.version}, but its layer {layer}
                    provides {dist.name} {version}. On Lambda the function's copy would shadow
                    the layer's for some modules and not others. Make both use one version (the
                    same resolve and lockfile), or drop the requirement from one of them.
                    """
                )
            )
        omitted.append((layer, str(dist)))

    excluded_files = excluded_bytes = omitted_first_party = 0
    third_party_entries = []
    for f in request.content.third_party.files:
        if f.wheel not in keep_wheels:
            continue
        if limits.matches_any(f.path, patterns):
            excluded_files += 1
            excluded_bytes += _size(f.entry)
            continue
        third_party_entries.append(f.entry)
    first_party_entries = []
    for e in request.content.first_party:
        if e.path in request.provided.first_party_files:
            omitted_first_party += 1
        elif limits.matches_any(e.path, patterns):
            excluded_files += 1
            excluded_bytes += _size(e)
        else:
            first_party_entries.append(e)

    third_party_digest, first_party_sources = await MultiGet(
        Get(Digest, CreateDigest(third_party_entries)),
        Get(Digest, CreateDigest(first_party_entries)),
    )
    first_party_digest = await Get(Digest, MergeDigests([first_party_sources, request.generated]))
    # Compiled apart, so that a first-party edit reuses the third-party bytecode from the cache.
    third_party_bytecode, first_party_bytecode = await MultiGet(
        Get(
            Bytecode,
            BytecodeRequest(
                request.address,
                third_party_digest,
                request.platform.python_version,
                request.bytecode,
                request.runtime_root,
                f"third-party distributions of the {request.what}",
                warn_if_no_interpreter=False,
            ),
        ),
        Get(
            Bytecode,
            BytecodeRequest(
                request.address,
                first_party_digest,
                request.platform.python_version,
                request.bytecode,
                request.runtime_root,
                f"first-party sources of the {request.what}",
            ),
        ),
    )
    if first_party_bytecode.failed:
        version = ".".join(map(str, request.platform.python_version))
        raise LambdaPackagingError(
            f"First-party sources of {request.address} do not compile with Python {version}, the "
            f"Python of {request.platform.description}, so Lambda could not import them:\n"
            f"{_list_compile_failures(request.prefix, first_party_bytecode.failed)}\n"
            f"Fix the code, or keep to the syntax that Python {version} supports (a newer "
            "`runtime` supports newer syntax). No artifact was written."
        )
    third_party_tree, first_party_tree = third_party_bytecode.digest, first_party_bytecode.digest
    if request.prefix:
        third_party_tree, first_party_tree = await MultiGet(
            Get(Digest, AddPrefix(third_party_tree, request.prefix)),
            Get(Digest, AddPrefix(first_party_tree, request.prefix)),
        )
    if request.layout is Layout.FLAT:
        tree = await Get(Digest, MergeDigests([third_party_tree, first_party_tree]))
        zipped = await Get(LambdaZip, LambdaTreeRequest(tree, request.output_path, request.prefix))
    else:
        # Third-party files are compressed in their own cached process, so that a first-party
        # edit only compresses the first-party files again.
        part = None
        if third_party_entries:
            part = await Get(LambdaZipPart, LambdaZipPartRequest(request.address, third_party_tree))
        zipped = await Get(
            LambdaZip,
            LambdaZipRequest(request.address, first_party_tree, request.output_path, request.prefix, part),
        )

    kept = tuple(sorted(keep_wheels))
    owners = {}
    for f in request.content.third_party.files:
        if f.wheel in keep_wheels:
            top = f.path.split("/", 1)[0]
            owners[top] = str(Distribution.from_wheel(f.wheel))
    return LambdaArtifact(
        zip=zipped,
        distributions=tuple(Distribution.from_wheel(w) for w in kept),
        first_party_files=frozenset(e.path for e in first_party_entries),
        bytecode_modules=third_party_bytecode.compiled + first_party_bytecode.compiled,
        excluded_files=excluded_files,
        excluded_bytes=excluded_bytes,
        omitted_distributions=tuple(omitted),
        omitted_first_party=omitted_first_party,
        owners=tuple(sorted(owners.items())),
    )


def rules():
    return (
        *collect_rules(),
        *platform_rules.rules(),
        *bytecode_rules.rules(),
    )
