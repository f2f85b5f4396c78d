"""What an artifact zip holds and whether it is well-formed, read straight from the zip file."""

from __future__ import annotations

import csv
import io
import re
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from packaging.tags import parse_tag

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
# World-readable and writable by no one else, as Lambda's runtime user needs: 0644, or 0755 for
# the files a wheel installs as executable (extension modules often are).
FILE_MODES = (0o644, 0o755)
DIR_MODE = 0o755
# ELF e_machine values.
EM_X86_64 = 62
EM_AARCH64 = 183
ELF_MACHINES = {"x86_64": EM_X86_64, "arm64": EM_AARCH64}


def hygiene_problems(zf: zipfile.ZipFile) -> list[str]:
    """Every way the zip departs from the artifact contract (empty when it is clean)."""
    problems = []
    infos = zf.infolist()
    names = [info.filename for info in infos]
    if names != sorted(names):
        first = next(a for a, b in zip(names, names[1:]) if a > b)
        problems.append(f"entries are not sorted (first out of order: {first})")
    if len(set(names)) != len(names):
        problems.append("duplicate entries")
    for info in infos:
        name = info.filename
        path = PurePosixPath(name)
        mode = info.external_attr >> 16
        if name.startswith("/") or "\\" in name or ".." in path.parts or ":" in path.parts[0]:
            problems.append(f"{name}: not a plain relative path")
        if path.parts[0] == "bin":
            problems.append(f"{name}: the artifact has a top-level bin/ (console scripts)")
        if info.date_time != FIXED_DATE_TIME:
            problems.append(f"{name}: timestamp {info.date_time}, expected {FIXED_DATE_TIME}")
        if info.create_system != 3:
            problems.append(f"{name}: created by system {info.create_system}, not Unix (3)")
        if stat.S_ISLNK(mode):
            problems.append(f"{name}: a symlink")
        elif info.is_dir():
            if not stat.S_ISDIR(mode) or stat.S_IMODE(mode) != DIR_MODE:
                problems.append(f"{name}: directory mode {oct(mode)}, expected 0o{DIR_MODE:o}")
        elif not stat.S_ISREG(mode) or stat.S_IMODE(mode) not in FILE_MODES:
            problems.append(f"{name}: file mode {oct(mode)}, expected 0o644 (or 0o755)")
    return problems


@dataclass(frozen=True)
class Distribution:
    dist_info: str  # `pydantic_core-2.46.5.dist-info`
    name: str  # normalised: `pydantic-core`
    version: str
    tags: frozenset[str]  # expanded `Tag:` lines of its WHEEL file
    files: frozenset[str] | None  # paths its RECORD lists, when the artifact keeps RECORD


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(zf: zipfile.ZipFile) -> dict[str, Distribution]:
    """The third-party distributions at the root of the zip, by normalised project name."""
    names = set(zf.namelist())
    found = {}
    for name in sorted(names):
        parts = name.split("/")
        if len(parts) != 2 or not parts[0].endswith(".dist-info") or parts[1] != "WHEEL":
            continue
        dist_info = parts[0]
        project, _, version = dist_info[: -len(".dist-info")].partition("-")
        tags = frozenset(
            str(tag)
            for line in zf.read(name).decode().splitlines()
            if line.startswith("Tag:")
            for tag in parse_tag(line.split(":", 1)[1].strip())
        )
        files = None
        if f"{dist_info}/RECORD" in names:
            record = zf.read(f"{dist_info}/RECORD").decode()
            files = frozenset(row[0] for row in csv.reader(io.StringIO(record)) if row)
        found[normalise(project)] = Distribution(
            dist_info, normalise(project), version, tags, files
        )
    return found


def owner_of(path: str, dists: dict[str, Distribution]) -> Distribution | None:
    """The distribution that installed `path`: by its RECORD when kept, else the distribution
    named like the top-level package `path` is in (`pydantic_core/...` -> `pydantic-core`)."""
    recorded = [d for d in dists.values() if d.files is not None and path in d.files]
    if recorded:
        assert len(recorded) == 1, f"{path} is in the RECORD of {[d.dist_info for d in recorded]}"
        return recorded[0]
    return dists.get(normalise(path.split("/", 1)[0]))


def native_libraries(zf: zipfile.ZipFile) -> list[str]:
    return sorted(n for n in zf.namelist() if n.endswith(".so") or ".so." in PurePosixPath(n).name)


def elf_machine(data: bytes) -> int:
    """The e_machine of a little-endian ELF file."""
    assert data[:4] == b"\x7fELF", "not an ELF file"
    assert data[5] == 1, "not little-endian"
    return struct.unpack_from("<H", data, 18)[0]


def bytecode_problems(zf: zipfile.ZipFile, cache_tag: str) -> list[str]:
    """How the zip's bytecode departs from `bytecode="compiled"`: every `.py` has a hash-based
    `__pycache__/<name>.<cache_tag>.pyc` beside it, and every `.pyc` is such a file."""
    names = set(zf.namelist())
    sources = {n for n in names if n.endswith(".py")}
    pycs = {n for n in names if n.endswith(".pyc")}
    problems = []
    if not pycs:
        return ["no bytecode at all"]
    for source in sorted(sources):
        path = PurePosixPath(source)
        expected = str(path.parent / "__pycache__" / f"{path.stem}.{cache_tag}.pyc")
        expected = expected[2:] if expected.startswith("./") else expected
        if expected not in pycs:
            problems.append(f"{source}: no {expected}")
    for pyc in sorted(pycs):
        path = PurePosixPath(pyc)
        stem, _, rest = path.name.partition(".")
        source = str(path.parent.parent / f"{stem}.py")
        source = source[2:] if source.startswith("./") else source
        if path.parent.name != "__pycache__" or rest != f"{cache_tag}.pyc":
            problems.append(f"{pyc}: not a __pycache__/*.{cache_tag}.pyc")
        elif source not in sources:
            problems.append(f"{pyc}: its source {source} is missing")
        flags = int.from_bytes(zf.read(pyc)[4:8], "little")
        if not flags & 0b1:
            problems.append(f"{pyc}: timestamp-based, stale once timestamps are normalised")
    return problems
