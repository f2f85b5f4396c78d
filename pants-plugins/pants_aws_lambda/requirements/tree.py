"""The installed wheels of a loose PEX, laid out as the files Lambda imports.

Each installed wheel's importable files go to the import root, without PEX's bookkeeping. The
wheels are checked for the platform: tags it can load, nothing built for the machine running
Pants, the glibc of wheels whose tags do not name one, and no two wheels writing one path.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.util_rules.pex import Pex
from pants.engine.addresses import Address
from pants.engine.fs import CreateDigest, Digest, DigestContents, DigestEntries, FileEntry
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.util.strutil import softwrap

from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.requirements import glibc, wheels
from pants_aws_lambda.requirements.glibc import InWheel, WheelEntry
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform

REQUIREMENTS_PEX = "requirements.pex"
_DEPS_PREFIX = f"{REQUIREMENTS_PEX}/.deps/"
# In an installed wheel chroot, PEX's bookkeeping (`.layout.json`, and with current pex releases a
# `<project>-<version>.pex-info/` directory with the original wheel's file list) and the stash of
# files that `pip install --target` would put outside the import path (console scripts in `bin/`,
# headers, data).
_CHROOT_METADATA = ".layout.json"
_CHROOT_STASH = ".prefix/"
_CHROOT_PEX_INFO_SUFFIX = ".pex-info"


def _is_pex_bookkeeping(rel: str) -> bool:
    top = rel.split("/", 1)[0]
    return (
        rel == _CHROOT_METADATA
        or rel.startswith(_CHROOT_STASH)
        or top.endswith(_CHROOT_PEX_INFO_SUFFIX)
    )


def _wheel_and_path(pex_path: str) -> InWheel:
    """`requirements.pex/.deps/<wheel>/<path>` -> the wheel and the path in it."""
    wheel, _, rel = pex_path[len(_DEPS_PREFIX) :].partition("/")
    return InWheel(wheel, rel)


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
    # Whether the requirements come from a lockfile, and the locked ones it has only sdists of.
    locked: bool = True
    sdist_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThirdPartyTree:
    # Wheel file names, sorted.
    wheels: tuple[str, ...]
    # Every importable file, sorted by path.
    files: tuple[ThirdPartyFile, ...]


@dataclass(frozen=True)
class _Installed:
    """What a loose PEX installed: each wheel's entries, and the files by their import path."""

    wheels: frozenset[str]
    entries: tuple[WheelEntry, ...]
    by_path: dict[str, ThirdPartyFile]
    # Paths that two wheels install with different contents -> the wheels.
    conflicts: dict[str, set[str]]


def _installed(entries: DigestEntries) -> _Installed:
    by_path: dict[str, ThirdPartyFile] = {}
    wheel_names: set[str] = set()
    in_wheels: list[WheelEntry] = []
    conflicts: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if not isinstance(entry, FileEntry) or not entry.path.startswith(_DEPS_PREFIX):
            continue
        wheel, rel = _wheel_and_path(entry.path)
        wheel_names.add(wheel)
        in_wheels.append(WheelEntry(wheel, entry))
        if _is_pex_bookkeeping(rel):
            continue
        seen = by_path.get(rel)
        if seen is not None and seen.entry.file_digest != entry.file_digest:
            conflicts[rel].update((seen.wheel, wheel))
            continue
        by_path[rel] = ThirdPartyFile(
            rel, wheel, FileEntry(rel, entry.file_digest, entry.is_executable)
        )
    return _Installed(frozenset(wheel_names), tuple(in_wheels), by_path, dict(conflicts))


def _check_wheels(request: ThirdPartyTreeRequest, wheel_names: frozenset[str]) -> None:
    """Refuse wheels the platform cannot load, and wheels built for the machine running Pants."""
    incompatible = sorted(
        w
        for w in wheel_names
        if not wheels.is_compatible_wheel(w, request.platform.compatible_tags)
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
    built = sorted(w for w in wheel_names if _built_for_this_machine(w, request))
    if built:
        raise LambdaPackagingError(_describe_built_wheels(request, built))


def _check_conflicts(address: Address, conflicts: dict[str, set[str]]) -> None:
    if not conflicts:
        return
    listing = "\n".join(
        f"  - {path}: {', '.join(sorted(owners))}"
        for path, owners in sorted(conflicts.items())[:10]
    )
    raise LambdaPackagingError(
        f"Third-party distributions of {address} install different files at the same "
        f"path, so one would silently replace the other:\n{listing}\n"
        "Remove one of the conflicting requirements from the target's dependencies "
        "(a `!!` exclude drops it from the whole closure) or pin versions that agree."
    )


@rule
async def lay_out_third_party(request: ThirdPartyTreeRequest) -> ThirdPartyTree:
    """Unpack each installed wheel of a loose PEX to the root, keeping only importable files."""
    entries = await Get(DigestEntries, Digest, request.pex.digest)
    installed = _installed(entries)
    _check_wheels(request, installed.wheels)
    # Locked wheels tagged `linux_<arch>`: their tags say nothing about glibc, their ELF files do.
    # Only these wheels' shared objects are read, so other builds read no file contents.
    bare_linux = glibc.bare_linux_wheels(installed.wheels) if request.locked else []
    if bare_linux:
        so_digest = await Get(
            Digest, CreateDigest(glibc.shared_objects(installed.entries, bare_linux))
        )
        so_contents = await Get(DigestContents, Digest, so_digest)
        needs = glibc.glibc_needs(bare_linux, so_contents, _wheel_and_path)
        glibc.check_glibc_needs(request.address, request.platform, needs)
    _check_conflicts(request.address, installed.conflicts)
    by_path = installed.by_path
    return ThirdPartyTree(
        tuple(sorted(installed.wheels)), tuple(by_path[p] for p in sorted(by_path))
    )


def _built_for_this_machine(wheel: str, request: ThirdPartyTreeRequest) -> bool:
    """Whether PEX built this platform-specific wheel from an sdist, on the machine running Pants.

    From a lockfile: the lock has only an sdist of it. Without one: a bare `linux_<arch>` wheel,
    which PyPI does not accept, so it was built here (or taken from another index as it is).
    """
    if not wheels.is_platform_specific(wheel):
        return False
    if request.locked:
        return wheels.project_name(wheel) in request.sdist_only
    return any(tag.split("-")[-1].startswith("linux_") for tag in wheels.wheel_tags(wheel))


def _describe_built_wheels(request: ThirdPartyTreeRequest, built: list[str]) -> str:
    origin = "the lockfile has only an sdist of" if request.locked else "PEX built from an sdist"
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


def rules() -> Iterable[Rule]:
    return collect_rules()
