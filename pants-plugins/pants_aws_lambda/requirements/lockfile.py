"""Which locked requirements have a wheel a Lambda runtime can use, read from the lockfile alone.

PEX, given a `--complete-platform`, installs the wheels whose tags the platform accepts, and builds
an sdist only when a requirement has no wheel at all. A requirement whose release publishes wheels,
none of them for the runtime, is compiled code that PEX would have to build for a foreign platform:
it fails late and cryptically, or builds for the machine running it. This module answers the
question up front (`find_incompatible_requirements`), lists what PEX will build from an sdist
(`find_sdist_only_requirements`), and says which pex wrote the lock (`LockOrigin`);
`diagnosis.py` words the answer for the user.

No Pants engine imports: the rules, the tests and any script use it alike.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from pants_aws_lambda.facts.python_version import PythonVersion
from pants_aws_lambda.requirements.wheels import (
    CPYTHON_INTERPRETER,
    artifact_file_name,
    is_compatible_wheel,
    is_wheel,
    parse_version,
    parsed_wheel_tags,
    python_tag_sort_key,
)

# packaging 21.3 (the one Pants 2.17 ships) builds its grammars with pyparsing names that pyparsing
# 3.3 and newer deprecate, so importing these modules warns ten times in a Pants environment that
# has such a pyparsing. The warnings concern Pants' environment, not the user's build: keep them
# out.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"packaging(\.|$)")
    from packaging.markers import Marker
    from packaging.requirements import InvalidRequirement, Requirement


# Pants 2.17's default pex (2.1.137) cannot identify CPython 3.12+ and writes universal lockfiles
# with version-specific wheels (`cp3XY`) only up to CPython 3.12: from such a lock, newer runtimes
# can use only a requirement's `abi3` or pure-Python wheels. MIN_PEX_VERSION is the pex this plugin
# is tested with for python3.13 and python3.14 (`[pex-cli]` in docs/reference.md).
NEWEST_PYTHON_IN_OLD_PEX_LOCKS = PythonVersion(3, 12)
MIN_PEX_VERSION = "2.105.2"
# Every PEP 508 marker variable but `extra`. Values a caller's environment lacks are empty strings,
# never the values of the machine running Pants.
_MARKER_VARIABLES = (
    "implementation_name",
    "implementation_version",
    "os_name",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_full_version",
    "python_version",
    "sys_platform",
)


def load_lock(text: str) -> dict:
    """Parse a Pants lockfile: JSON after a header of `//` comment lines."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and (
        not lines[start].strip() or lines[start].lstrip().startswith("//")
    ):
        start += 1
    try:
        lock = json.loads("\n".join(lines[start:]))
    except json.JSONDecodeError as e:
        raise ValueError(f"Not a Pants lockfile: its body is not valid JSON ({e}).") from e
    if not isinstance(lock, dict) or not isinstance(lock.get("locked_resolves"), list):
        raise ValueError("Not a Pants (PEX) lockfile: it has no `locked_resolves` list.")
    return lock


def _locked_requirements(lock: Mapping) -> dict[str, dict]:
    """Canonical project name -> locked requirement, from the lock's (first) resolve.

    A Pants universal lockfile has exactly one resolve.
    """
    resolves = lock.get("locked_resolves") or []
    if not resolves:
        return {}
    return {
        canonicalize_name(locked["project_name"]): locked
        for locked in resolves[0].get("locked_requirements", [])
    }


def _marker_environment(environment: Mapping[str, str]) -> dict[str, str]:
    env = {name: "" for name in _MARKER_VARIABLES}
    env.update(environment)
    return env


def _extra_spellings(extra: str) -> set[str]:
    # Markers in older metadata spell extras as published (`Foo_Bar`), newer metadata normalizes
    # them (`foo-bar`); packaging 21.3 compares the strings as they are, so try each spelling.
    return {
        extra,
        extra.lower(),
        canonicalize_name(extra),
        re.sub(r"[^a-z0-9.]+", "_", extra.lower()),
        re.sub(r"[^a-z0-9.-]+", "_", extra.lower()),  # setuptools' `safe_extra`
    }


def _marker_applies(marker: Marker | None, env: Mapping[str, str], extra: str) -> bool:
    if marker is None:
        return True
    spellings = _extra_spellings(extra) if extra else {""}
    return any(marker.evaluate({**env, "extra": spelling}) for spelling in sorted(spellings))


def _parse_requirement(requirement: str, *, context: str) -> Requirement:
    try:
        with warnings.catch_warnings():
            # packaging 21.3 (Pants 2.17's) calls pyparsing APIs that newer pyparsing deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            return Requirement(requirement)
    except InvalidRequirement as e:
        raise ValueError(f"Invalid requirement {requirement!r} {context}: {e}") from e


@dataclass(frozen=True)
class IncompatibleRequirement:
    """A locked requirement for which the lock has no wheel the target platform accepts."""

    project_name: str
    version: str
    # Project names from a top-level requirement down to this one's parent; empty if top level.
    required_by: tuple[str, ...]
    # The file names of all the lock's artifacts for this requirement, sorted.
    artifacts: tuple[str, ...]
    # The locked requirement's `requires_python`, when it excludes the platform's Python: then even
    # a wheel with matching tags cannot be installed.
    excluded_by_requires_python: str | None = None

    @property
    def requirement(self) -> str:
        return f"{self.project_name}=={self.version}"

    @property
    def wheels(self) -> tuple[str, ...]:
        return tuple(a for a in self.artifacts if is_wheel(a))

    @property
    def sdists(self) -> tuple[str, ...]:
        """Every artifact that is not a wheel: sdists, and other sources PEX would have to build."""
        return tuple(a for a in self.artifacts if not is_wheel(a))

    @property
    def has_sdist(self) -> bool:
        return bool(self.sdists)

    @property
    def only_sdist(self) -> bool:
        return self.has_sdist and not self.wheels

    def _tags(self) -> Iterator[Tag]:
        for wheel in self.wheels:
            yield from parsed_wheel_tags(wheel)

    @property
    def wheel_platforms(self) -> tuple[str, ...]:
        """The distinct platform tags of the lock's wheels (`manylinux_2_17_x86_64`, `any`)."""
        return tuple(sorted({tag.platform for tag in self._tags()}))

    @property
    def wheel_interpreters(self) -> tuple[str, ...]:
        """The distinct Python tags of the lock's wheels (`cp39`, `cp310`, `py3`), oldest first."""
        return tuple(sorted({tag.interpreter for tag in self._tags()}, key=python_tag_sort_key))

    @property
    def wheel_abis(self) -> tuple[str, ...]:
        return tuple(sorted({tag.abi for tag in self._tags()}))

    @property
    def newest_cpython_wheel(self) -> PythonVersion | None:
        """The newest CPython version a version-specific (`cp3XY-cp3XY`) wheel exists for."""
        versions = [
            PythonVersion(int(m.group(1)), int(m.group(2)))
            for tag in self._tags()
            if tag.abi == tag.interpreter and (m := CPYTHON_INTERPRETER.match(tag.interpreter))
        ]
        return max(versions) if versions else None


def _reachable(
    lock: Mapping, requirements: Iterable[str], marker_environment: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """Canonical project name -> the chain that pulls it in, for every locked requirement reached.

    Walks from the top-level requirement strings through the lock's `requires_dists`, honouring
    extras and evaluating markers against `marker_environment`. A requirement the lock does not
    hold is skipped: PEX reports those itself.
    """
    locked_by_name = _locked_requirements(lock)
    env = _marker_environment(marker_environment)

    # Breadth first, so a chain is a shortest one; sorted, so it is the same every run.
    chains: dict[str, tuple[str, ...]] = {}
    expanded: set[tuple[str, str]] = set()  # (project, extra); "" is the project without extras
    queue: deque[tuple[str, str]] = deque()

    def reach(requirement: Requirement, chain: tuple[str, ...], *, parent_extra: str) -> None:
        if not _marker_applies(requirement.marker, env, parent_extra):
            return
        name = canonicalize_name(requirement.name)
        if name not in locked_by_name:
            return
        chains.setdefault(name, chain)
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) not in expanded:
                expanded.add((name, extra))
                queue.append((name, extra))

    top_level = sorted(
        (_parse_requirement(r, context="among the requirements") for r in requirements), key=str
    )
    for requirement in top_level:
        reach(requirement, (), parent_extra="")

    while queue:
        name, extra = queue.popleft()
        locked = locked_by_name[name]
        for dist_string in sorted(locked.get("requires_dists", [])):
            dist = _parse_requirement(
                dist_string, context=f"in the lock's `requires_dists` of {name}"
            )
            # Dependencies that apply without an extra were reached when the project was; reaching
            # them again is harmless.
            reach(dist, (*chains[name], name), parent_extra=extra)
    return chains


def _artifact_names(locked: Mapping) -> tuple[str, ...]:
    return tuple(sorted(artifact_file_name(a["url"]) for a in locked.get("artifacts", [])))


def find_incompatible_requirements(
    lock: Mapping,
    requirements: Iterable[str],
    marker_environment: Mapping[str, str],
    compatible_tags: Sequence[str],
) -> tuple[IncompatibleRequirement, ...]:
    """The locked requirements reachable from `requirements` that the platform cannot install.

    A requirement fits when the lock has a wheel the platform accepts, or when the lock has no
    wheel for it at all, only an sdist: PEX builds that, and the built wheel is checked afterwards
    (a pure-Python one fits every platform). A requirement whose `requires_python` excludes the
    platform's Python never fits. The result is sorted by project name.
    """
    locked_by_name = _locked_requirements(lock)
    env = _marker_environment(marker_environment)
    accepted = frozenset(tag.lower() for tag in compatible_tags)
    chains = _reachable(lock, requirements, marker_environment)

    problems = []
    for name in sorted(chains):
        locked = locked_by_name[name]
        artifacts = _artifact_names(locked)
        excluded_by = _excluding_requires_python(locked, env["python_full_version"])
        if excluded_by is None:
            wheels = [a for a in artifacts if is_wheel(a)]
            if any(is_compatible_wheel(a, accepted) for a in wheels):
                continue
            if artifacts and not wheels:
                continue  # only an sdist: PEX builds it
        problems.append(
            IncompatibleRequirement(
                project_name=name,
                version=str(locked["version"]),
                required_by=chains[name],
                artifacts=artifacts,
                excluded_by_requires_python=excluded_by,
            )
        )
    return tuple(problems)


def find_sdist_only_requirements(
    lock: Mapping, requirements: Iterable[str], marker_environment: Mapping[str, str]
) -> tuple[str, ...]:
    """Canonical names of the reachable locked requirements that PEX must build from an sdist."""
    locked_by_name = _locked_requirements(lock)
    return tuple(
        name
        for name in sorted(_reachable(lock, requirements, marker_environment))
        if (artifacts := _artifact_names(locked_by_name[name]))
        and not any(is_wheel(a) for a in artifacts)
    )


def _excluding_requires_python(locked: Mapping, python_full_version: str) -> str | None:
    """The locked requirement's `requires_python` if it excludes `python_full_version`."""
    requires_python = locked.get("requires_python")
    if not requires_python or not python_full_version:
        return None
    try:
        specifiers = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return None  # Not ours to judge: PEX reports a broken lock itself.
    if specifiers.contains(python_full_version, prereleases=True):
        return None
    return requires_python


@dataclass(frozen=True)
class LockOrigin:
    """What decided which releases and wheels a lock holds: the pex and the interpreter
    constraints."""

    # The pex that wrote the lock (its `pex_version`), and the one Pants runs now (`[pex-cli]`).
    lock_pex_version: str | None = None
    configured_pex_version: str | None = None
    # The lock's interpreter constraints (its `requires_python`), e.g. `<3.15,>=3.9`.
    requires_python: tuple[str, ...] = ()

    @classmethod
    def of(cls, lock: Mapping, configured_pex_version: str | None = None) -> LockOrigin:
        return cls(
            lock_pex_version=lock.get("pex_version"),
            configured_pex_version=configured_pex_version,
            requires_python=tuple(lock.get("requires_python") or ()),
        )

    @staticmethod
    def _too_old(version: str | None) -> bool:
        parsed = parse_version(version)
        return parsed is not None and parsed < Version(MIN_PEX_VERSION)

    @property
    def configured_pex_too_old(self) -> bool:
        return self._too_old(self.configured_pex_version)

    @property
    def lock_pex_too_old(self) -> bool:
        return self._too_old(self.lock_pex_version)

    def allows_older_python_than(self, python: PythonVersion) -> PythonVersion | None:
        """The oldest CPython 3.x before `python` that the lock's constraints allow, if any."""
        for minor in range(0, python.minor):
            version = PythonVersion(python.major, minor)
            for constraint in self.requires_python:
                # Interpreter constraints name the implementation: `CPython<3.15,>=3.9`.
                specifier = re.sub(r"^[A-Za-z]+", "", constraint.strip())
                try:
                    if SpecifierSet(specifier).contains(f"{version}.0", prereleases=True):
                        return version
                except InvalidSpecifier:
                    return None
        return None
