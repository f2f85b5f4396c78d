"""Slim mode's decisions, as pure functions: which third-party files go, by kind, which shared
objects are stripped, which changes a failed proof takes back, and the report.

No rules and no processes: the rules (`slim.py`) and the tests use it alike.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Mapping

from pants.util.strutil import pluralize

from pants_aws_lambda.artifact.sizes import format_bytes
from pants_aws_lambda.requirements.elf import is_shared_object


class SlimKind(Enum):
    """What slim mode leaves out or shrinks; the values are the report's words."""

    TESTS = "tests"
    STUBS = "type stubs"
    C_SOURCES = "C/C++ sources and headers"
    CYTHON = "Cython sources"
    BUILD_FILES = "build-only files"
    SYMBOLS = "stripped symbols"


# Directories of a distribution's package that hold its own test suite.
_TEST_DIRS = frozenset({"tests", "test"})
_TEST_FILES = frozenset({"conftest.py"})
_SUFFIXES = {
    ".pyi": SlimKind.STUBS,
    ".c": SlimKind.C_SOURCES,
    ".h": SlimKind.C_SOURCES,
    ".cc": SlimKind.C_SOURCES,
    ".cpp": SlimKind.C_SOURCES,
    ".cxx": SlimKind.C_SOURCES,
    ".hh": SlimKind.C_SOURCES,
    ".hpp": SlimKind.C_SOURCES,
    ".hxx": SlimKind.C_SOURCES,
    ".pyx": SlimKind.CYTHON,
    ".pxd": SlimKind.CYTHON,
    ".pxi": SlimKind.CYTHON,
    # What only building against a distribution reads: static libraries, pkg-config files,
    # Fortran sources.
    ".a": SlimKind.BUILD_FILES,
    ".pc": SlimKind.BUILD_FILES,
    ".f": SlimKind.BUILD_FILES,
    ".f90": SlimKind.BUILD_FILES,
}


def _is_metadata(top: str) -> bool:
    """A distribution's metadata directory, which `importlib.metadata` and `pkg_resources` read."""
    return top.endswith((".dist-info", ".egg-info"))


def removal_kind(path: str) -> SlimKind | None:
    """The kind of a third-party file that slim mode leaves out, or None to keep it.

    Metadata directories are never touched, nor `py.typed` markers. Test suites are the `tests`
    and `test` directories below a distribution's top level (and pytest's `conftest.py`).
    """
    parts = path.split("/")
    if _is_metadata(parts[0]):
        return None
    if any(part in _TEST_DIRS for part in parts[1:-1]) or parts[-1] in _TEST_FILES:
        return SlimKind.TESTS
    name = parts[-1]
    dot = name.rfind(".")
    return _SUFFIXES.get(name[dot:].lower()) if dot > 0 else None


def is_strippable(path: str) -> bool:
    """A shared object (extension module or vendored library) outside metadata directories."""
    return is_shared_object(path) and not _is_metadata(path.split("/", 1)[0])


_PT_LOAD = 1
# The smallest page size of Lambda's CPUs (x86_64 and arm64 both run 4 KiB pages).
_PAGE_SIZE = 4096


def load_segments_aligned(data: bytes) -> bool:
    """Whether the dynamic loader accepts the ELF file's loadable segments: each one's file offset
    and address agree modulo the page size and its alignment. A stripper that rewrites program
    headers carelessly breaks this ("ELF load command address/offset not page-aligned"); a
    file that is not ELF, or is too short to read, is not judged here (True)."""
    if len(data) < 0x34 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return True
    is64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    try:
        if is64:
            (phoff,) = struct.unpack_from(endian + "Q", data, 0x20)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
        else:
            (phoff,) = struct.unpack_from(endian + "I", data, 0x1C)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x2A)
        for i in range(phnum):
            at = phoff + i * phentsize
            if is64:
                p_type, _, offset, vaddr, _, _, _, align = struct.unpack_from(
                    endian + "IIQQQQQQ", data, at
                )
            else:
                p_type, offset, vaddr, _, _, _, _, align = struct.unpack_from(
                    endian + "IIIIIIII", data, at
                )
            if p_type != _PT_LOAD:
                continue
            if (vaddr - offset) % _PAGE_SIZE or (align > 1 and (vaddr - offset) % align):
                return False
    except struct.error:
        return False
    return True


@dataclass(frozen=True)
class SlimPlan:
    """What slim mode would change: path -> kind of the files left out, and the shared objects to
    strip."""

    removed: tuple[tuple[str, SlimKind], ...]
    to_strip: tuple[str, ...]


def plan(paths: Iterable[str]) -> SlimPlan:
    removed = []
    to_strip = []
    for path in sorted(paths):
        kind = removal_kind(path)
        if kind is not None:
            removed.append((path, kind))
        elif is_strippable(path):
            to_strip.append(path)
    return SlimPlan(tuple(removed), tuple(to_strip))


def removable_bytes(paths_and_sizes: Iterable[tuple[str, int]]) -> int:
    """What leaving files out would save, before stripping: the size error's figure for slim."""
    return sum(size for path, size in paths_and_sizes if removal_kind(path) is not None)


@dataclass(frozen=True)
class Saving:
    kind: SlimKind
    files: int
    bytes: int


def savings(
    removed: Iterable[tuple[str, SlimKind]],
    stripped: Mapping[str, tuple[int, int]],
    sizes: Mapping[str, int],
) -> tuple[Saving, ...]:
    """Bytes saved per kind, in `SlimKind` order; `stripped` maps path -> (size before, after)."""
    files: dict[SlimKind, int] = {}
    saved: dict[SlimKind, int] = {}
    for path, kind in removed:
        files[kind] = files.get(kind, 0) + 1
        saved[kind] = saved.get(kind, 0) + sizes[path]
    for before, after in stripped.values():
        files[SlimKind.SYMBOLS] = files.get(SlimKind.SYMBOLS, 0) + 1
        saved[SlimKind.SYMBOLS] = saved.get(SlimKind.SYMBOLS, 0) + before - after
    return tuple(Saving(kind, files[kind], saved[kind]) for kind in SlimKind if kind in files)


# --------------------------------------------------------------------------------------------------
# The proof: what it checks, and what a failure takes back
# --------------------------------------------------------------------------------------------------


class CheckKind(Enum):
    EXTENSION = "extension"
    PACKAGE = "package"
    DISTRIBUTION = "distribution"


@dataclass(frozen=True)
class CheckFailure:
    kind: CheckKind
    # A module name, or a distribution's `name==version`.
    name: str
    # The file the check imported (an extension module's), when there is one.
    path: str | None
    message: str
    # The shared objects whose loading raised during the check (or crashed the interpreter).
    files: tuple[str, ...] = ()


def owner_of(failure: CheckFailure, owners: Mapping[str, str]) -> str | None:
    """The wheel a failed check belongs to; `owners` maps a path (or top-level name) to its
    wheel."""
    if failure.path is not None and failure.path in owners:
        return owners[failure.path]
    if failure.kind is CheckKind.DISTRIBUTION:
        project = failure.name.split("==", 1)[0]
        return next((w for w in set(owners.values()) if _project(w) == project), None)
    return owners.get(failure.name.split(".", 1)[0])


def _project(wheel: str) -> str:
    return wheel.split("-", 1)[0].lower().replace("_", "-").replace(".", "-")


def canonical_project(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def named_in(message: str, paths: Iterable[str]) -> tuple[str, ...]:
    """The shared objects a loader's message names by file name: a library an extension module
    links (`libscipy_openblas-5f890258.so: ELF load command address/offset not page-aligned`)."""
    return tuple(
        sorted(
            p
            for p in paths
            if re.search(rf"(^|[/\s'\"(]){re.escape(p.rsplit('/', 1)[-1])}\b", message)
        )
    )


def changes_to_take_back(
    failures: Iterable[CheckFailure],
    owners: Mapping[str, str],
    stripped: Iterable[str],
    whole_wheels: bool,
) -> tuple[frozenset[str], frozenset[str]]:
    """(files to keep unstripped, wheels to keep whole) so that the failed checks pass again.

    Shared objects that were stripped and whose loading failed (or that the failure's message
    names, such as a library an extension module links) are first kept unstripped, alone,
    and the other failures of their wheels wait for the next proof; any other failure, or one
    that remains after that (`whole_wheels`), keeps its whole wheel as it was.
    """
    failures = list(failures)
    stripped = set(stripped)
    unstrip: set[str] = set()
    if not whole_wheels:
        unstrip = {
            p for f in failures for p in f.files + named_in(f.message, stripped) if p in stripped
        }
        # Libraries vendored beside a distribution (`scipy.libs/`, patched by auditwheel) go
        # together: one that fails stripped usually has siblings that do too.
        vendored = {p.split("/", 1)[0] for p in unstrip if p.split("/", 1)[0].endswith(".libs")}
        unstrip |= {p for p in stripped if p.split("/", 1)[0] in vendored}
    waiting = {owners.get(p) for p in unstrip}
    wheels: set[str] = set()
    for failure in failures:
        wheel = owner_of(failure, owners)
        if wheel is None or wheel in waiting or (failure.files and set(failure.files) <= unstrip):
            continue
        wheels.add(wheel)
    return frozenset(unstrip), frozenset(wheels)


def describe_savings(saved: Iterable[Saving]) -> str:
    """`41.4 MiB saved: tests 37.4 MiB (2,103 files), ...`"""
    saved = list(saved)
    total = sum(s.bytes for s in saved)
    parts = [
        f"{s.kind.value} {format_bytes(s.bytes)} "
        f"({s.files:,} {pluralize(s.files, 'file', include_count=False)})"
        for s in saved
    ]
    return f"{format_bytes(total)} saved" + (f": {', '.join(parts)}" if parts else "")
