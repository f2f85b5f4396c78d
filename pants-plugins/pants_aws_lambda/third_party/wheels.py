"""Which locked requirements have a wheel a Lambda runtime can use, and what to say if one has not.

PEX, given a `--complete-platform`, installs the wheels whose tags the platform accepts, and builds
an sdist only when a requirement has no wheel at all. A requirement whose release publishes wheels,
none of them for the runtime, is compiled code that PEX would have to build for a foreign platform:
it fails late and cryptically, or builds for the machine running it. This module answers the
question up front from the lockfile alone (`find_incompatible_requirements`), explains the answer
(`describe_incompatible`), lists what PEX will build from an sdist (`find_sdist_only_requirements`),
and checks the wheels a resolve actually produced (`is_compatible_wheel`, `is_platform_specific`).

No Pants engine imports: the rules, the tests and any script use it alike.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Collection, Iterable, Iterator, Mapping, Sequence
from urllib.parse import unquote, urlparse

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pants_aws_lambda.runtimes.table import RUNTIMES, LambdaRuntime, runtime_for_python_version

# packaging 21.3 (the one Pants 2.17 ships) builds its grammars with pyparsing names that pyparsing
# 3.3 and newer deprecate, so importing these modules warns ten times in a Pants environment that
# has such a pyparsing. The warnings concern Pants' environment, not the user's build: keep them out.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"packaging(\.|$)")
    from packaging.markers import Marker
    from packaging.requirements import InvalidRequirement, Requirement

# Pants 2.17's default pex (2.1.137) cannot identify CPython 3.12+ and writes universal lockfiles
# with version-specific wheels (`cp3XY`) only up to CPython 3.12: from such a lock, newer runtimes can
# use only a requirement's `abi3` or pure-Python wheels. MIN_PEX_VERSION is the pex this plugin is
# tested with for python3.13 and python3.14 (`[pex-cli]` in docs/reference.md).
NEWEST_PYTHON_IN_OLD_PEX_LOCKS = (3, 12)
MIN_PEX_VERSION = "2.105.2"

# How many items a message lists before it says "and N more".
_MAX_LISTED = 6
_PREFERRED_TAGS_SHOWN = 3

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

_CPYTHON_INTERPRETER = re.compile(r"^cp(\d)(\d+)$")
_INTERPRETER = re.compile(r"^([a-z]+)(\d)(\d*)$")
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_LEGACY_MANYLINUX = re.compile(r"^(manylinux2014|manylinux2010|manylinux1)_(.+)$")
_LEGACY_MANYLINUX_GLIBC = {"manylinux2014": "2_17", "manylinux2010": "2_12", "manylinux1": "2_5"}
# The order in which messages list platform families: Linux with glibc first, as Lambda has.
_PLATFORM_FAMILIES = ("manylinux_", "linux_", "musllinux_", "macosx_", "win")


# --------------------------------------------------------------------------------------------------
# Wheel file names and tags
# --------------------------------------------------------------------------------------------------


def is_wheel(filename: str) -> bool:
    return filename.lower().endswith(".whl")


def _wheel_tag_part(filename: str) -> str:
    """The `py-abi-plat` part of a wheel file name (PEP 427), validated."""
    if not is_wheel(filename):
        raise ValueError(f"Not a wheel file name (it must end in `.whl`): {filename!r}")
    parts = filename[: -len(".whl")].split("-")
    if len(parts) not in (5, 6) or not all(parts):
        raise ValueError(
            f"Not a valid wheel file name: {filename!r}. Expected "
            "`{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`."
        )
    if len(parts) == 6 and not parts[2][0].isdigit():
        raise ValueError(
            f"Not a valid wheel file name: {filename!r}. Its build tag {parts[2]!r} must start "
            "with a digit."
        )
    return "-".join(parts[-3:])


def _parsed_wheel_tags(filename: str) -> frozenset[Tag]:
    return parse_tag(_wheel_tag_part(filename))


def wheel_tags(filename: str) -> frozenset[str]:
    """The expanded `python-abi-platform` tags of a wheel file name.

    A compressed tag set (`cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64`) expands to one
    tag per combination. Tags are lower case, as `packaging.tags` and complete platforms spell them.
    Raises `ValueError` if `filename` is not a wheel's file name.
    """
    return frozenset(str(tag) for tag in _parsed_wheel_tags(filename))


def is_compatible_wheel(filename: str, compatible_tags: Collection[str]) -> bool:
    """Whether an interpreter with `compatible_tags` can install the wheel `filename`.

    Raises `ValueError` if `filename` is not a wheel's file name.
    """
    accepted = (
        compatible_tags if isinstance(compatible_tags, (set, frozenset)) else set(compatible_tags)
    )
    return not wheel_tags(filename).isdisjoint(accepted)


def artifact_file_name(url: str) -> str:
    """The file name a lockfile artifact URL ends in (`.../pydantic-2.5.0-py3-none-any.whl`)."""
    path = urlparse(url).path or url
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


# --------------------------------------------------------------------------------------------------
# Lockfiles
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------------


def _python_tag_sort_key(interpreter: str) -> tuple:
    match = _INTERPRETER.match(interpreter)
    if not match:
        return (1, interpreter, 0, 0)
    impl, major, minor = match.groups()
    return (0, impl, int(major), int(minor or -1))


def _limited(items: Sequence[str], limit: int = _MAX_LISTED) -> str:
    shown = ", ".join(items[:limit])
    hidden = len(items) - limit
    return f"{shown} and {hidden} more" if hidden > 0 else shown


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
            yield from _parsed_wheel_tags(wheel)

    @property
    def wheel_platforms(self) -> tuple[str, ...]:
        """The distinct platform tags of the lock's wheels (`manylinux_2_17_x86_64`, `any`)."""
        return tuple(sorted({tag.platform for tag in self._tags()}))

    @property
    def wheel_interpreters(self) -> tuple[str, ...]:
        """The distinct Python tags of the lock's wheels (`cp39`, `cp310`, `py3`), oldest first."""
        return tuple(sorted({tag.interpreter for tag in self._tags()}, key=_python_tag_sort_key))

    @property
    def wheel_abis(self) -> tuple[str, ...]:
        return tuple(sorted({tag.abi for tag in self._tags()}))

    @property
    def newest_cpython_wheel(self) -> tuple[int, int] | None:
        """The newest CPython version a version-specific (`cp3XY-cp3XY`) wheel exists for."""
        versions = [
            (int(m.group(1)), int(m.group(2)))
            for tag in self._tags()
            if tag.abi == tag.interpreter and (m := _CPYTHON_INTERPRETER.match(tag.interpreter))
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


def is_platform_specific(filename: str) -> bool:
    """Whether a wheel holds code for one platform (a tag other than `any`): compiled code."""
    return any(tag.platform != "any" for tag in _parsed_wheel_tags(filename))


def is_bare_linux(filename: str) -> bool:
    """Whether every platform tag of a wheel is a bare `linux_<arch>`, which says nothing about the
    glibc its compiled code needs (unlike `manylinux_X_Y_<arch>`)."""
    platforms = {tag.platform for tag in _parsed_wheel_tags(filename)}
    return all(p.startswith("linux_") for p in platforms)


def newest_glibc(compatible_tags: Sequence[str]) -> tuple[int, int] | None:
    """The glibc of a platform: the newest `manylinux_X_Y` among its compatible tags, if any."""
    return _Platform.from_tags(compatible_tags).glibc


def project_name(filename: str) -> str:
    """The canonical project name of a wheel file name."""
    return canonicalize_name(filename.split("-", 1)[0])


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


# --------------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------------


def _pep600_platform(platform: str) -> str:
    """`manylinux2014_x86_64` -> `manylinux_2_17_x86_64`; other platforms as they are."""
    match = _LEGACY_MANYLINUX.match(platform)
    if not match:
        return platform
    return f"manylinux_{_LEGACY_MANYLINUX_GLIBC[match.group(1)]}_{match.group(2)}"


@dataclass(frozen=True)
class _Platform:
    """What a platform's compatible tags say about it."""

    python: tuple[int, int] | None  # the CPython version, from its `cp3XY` tags
    machine: str | None  # from its `manylinux_*` tags
    glibc: tuple[int, int] | None  # the newest `manylinux_X_Y` it accepts
    tags: frozenset[str]
    interpreter_abis: frozenset[tuple[str, str]]
    platforms: frozenset[str]

    @classmethod
    def from_tags(cls, compatible_tags: Sequence[str]) -> _Platform:
        parsed = [tag for text in compatible_tags for tag in parse_tag(text)]
        python = None
        for tag in parsed:
            match = _CPYTHON_INTERPRETER.match(tag.interpreter)
            if match:
                python = (int(match.group(1)), int(match.group(2)))
                break
        manylinux = [
            (int(m.group(1)), int(m.group(2)), m.group(3))
            for tag in parsed
            if (m := _MANYLINUX.match(tag.platform))
        ]
        newest = max(manylinux) if manylinux else None
        return cls(
            python=python,
            machine=newest[2] if newest else None,
            glibc=newest[:2] if newest else None,
            tags=frozenset(str(tag) for tag in parsed),
            interpreter_abis=frozenset((tag.interpreter, tag.abi) for tag in parsed),
            platforms=frozenset(tag.platform for tag in parsed),
        )

    def python_of(self, wheel: str) -> bool:
        return any(
            (t.interpreter, t.abi) in self.interpreter_abis for t in _parsed_wheel_tags(wheel)
        )

    def platform_of(self, wheel: str) -> bool:
        return any(t.platform in self.platforms for t in _parsed_wheel_tags(wheel))

    def platform_sort_key(self, platform: str) -> tuple:
        # This machine's platforms first: they are the ones a user is most likely to be after.
        same_machine = self.machine is not None and platform.endswith(f"_{self.machine}")
        family = next(
            (i for i, prefix in enumerate(_PLATFORM_FAMILIES) if platform.startswith(prefix)),
            len(_PLATFORM_FAMILIES),
        )
        return (not same_machine, family, platform)

    def display_platforms(self, platforms: Iterable[str]) -> list[str]:
        """Distinct platforms in the order messages list them; legacy manylinux names as PEP 600."""
        return sorted({_pep600_platform(p) for p in platforms}, key=self.platform_sort_key)

    def needs_newer_glibc(self, platform: str) -> tuple[int, int] | None:
        match = _MANYLINUX.match(platform)
        if not match or self.glibc is None or match.group(3) != self.machine:
            return None
        glibc = (int(match.group(1)), int(match.group(2)))
        return glibc if glibc > self.glibc else None


def _dotted(version: tuple[int, int]) -> str:
    return "{}.{}".format(*version)


def _version(text: str | None) -> Version | None:
    if not text:
        return None
    try:
        return Version(text.lstrip("v"))
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class LockOrigin:
    """What decided which releases and wheels a lock holds: the pex and the interpreter constraints."""

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
        parsed = _version(version)
        return parsed is not None and parsed < Version(MIN_PEX_VERSION)

    @property
    def configured_pex_too_old(self) -> bool:
        return self._too_old(self.configured_pex_version)

    @property
    def lock_pex_too_old(self) -> bool:
        return self._too_old(self.lock_pex_version)

    def allows_older_python_than(self, python: tuple[int, int]) -> tuple[int, int] | None:
        """The oldest CPython 3.x before `python` that the lock's constraints allow, if any."""
        for minor in range(0, python[1]):
            version = f"{python[0]}.{minor}"
            for constraint in self.requires_python:
                # Interpreter constraints name the implementation: `CPython<3.15,>=3.9`.
                specifier = re.sub(r"^[A-Za-z]+", "", constraint.strip())
                try:
                    if SpecifierSet(specifier).contains(f"{version}.0", prereleases=True):
                        return (python[0], minor)
                except InvalidSpecifier:
                    return None
        return None


def _newest_python_wheel_for_platform(
    problem: IncompatibleRequirement, platform: _Platform
) -> tuple[int, int] | None:
    """The newest CPython a version-specific wheel of `problem` exists for, on this platform."""
    versions = [
        (int(m.group(1)), int(m.group(2)))
        for wheel in problem.wheels
        for tag in _parsed_wheel_tags(wheel)
        if tag.platform in platform.platforms
        and tag.abi == tag.interpreter
        and (m := _CPYTHON_INTERPRETER.match(tag.interpreter))
    ]
    return max(versions) if versions else None


def _python_cause(problem: IncompatibleRequirement, platform: _Platform, origin: LockOrigin) -> str | None:
    """Why the lock has this platform's wheels only for older Pythons, if that is the case.

    `old-pex`: Pants runs a pex that cannot lock this runtime's wheels; `old-lock`: the lock was
    written by such a pex; `wide-resolve`: the lock's constraints admit older Pythons, and a
    universal lock picks one release for all of them; `old-release` otherwise.
    """
    newest = _newest_python_wheel_for_platform(problem, platform)
    if platform.python is None or newest is None or newest >= platform.python:
        return None
    if platform.python > NEWEST_PYTHON_IN_OLD_PEX_LOCKS and newest <= NEWEST_PYTHON_IN_OLD_PEX_LOCKS:
        if origin.configured_pex_too_old:
            return "old-pex"
        if origin.lock_pex_too_old:
            return "old-lock"
    if origin.allows_older_python_than(_oldest_python_of_generation(platform.python)) is not None:
        return "wide-resolve"
    return "old-release"


def _oldest_python_of_generation(python: tuple[int, int]) -> tuple[int, int]:
    """The oldest Python of the runtimes on the same operating system as `python`'s runtime.

    Lambda's runtimes come in generations (Amazon Linux 2, Amazon Linux 2023); a resolve that
    spans generations gets releases old enough for the oldest of them.
    """
    runtime = runtime_for_python_version(python)
    if runtime is None:
        return python
    return min(r.python_version for r in RUNTIMES.values() if r.os == runtime.os)


def _describe_offer(
    problem: IncompatibleRequirement, platform: _Platform, origin: LockOrigin
) -> list[str]:
    """Lines saying what the lock has for `problem` and why none of it fits."""
    lines = []
    if problem.excluded_by_requires_python:
        runtime_python = f"Python {_dotted(platform.python)}" if platform.python else "its Python"
        lines.append(
            f"It requires Python {problem.excluded_by_requires_python}, and the runtime has "
            f"{runtime_python}."
        )
        if any(is_compatible_wheel(w, platform.tags) for w in problem.wheels):
            return lines
    if not problem.artifacts:
        return [*lines, "The lock has no artifact for it at all."]
    if problem.only_sdist:
        # Only reached when its `requires_python` excludes the runtime: PEX builds other sdists.
        return [*lines, f"The lock offers only an sdist ({_limited(problem.sdists)})."]
    wheels = problem.wheels
    for_this_python = [w for w in wheels if platform.python_of(w)]
    for_this_platform = [w for w in wheels if platform.platform_of(w)]
    if for_this_python:
        platforms = platform.display_platforms(
            t.platform for w in for_this_python for t in _parsed_wheel_tags(w)
        )
        lines.append(
            "The lock has wheels for this Python only for other platforms: "
            f"{_limited(platforms)}."
        )
        too_new = sorted({g for p in platforms if (g := platform.needs_newer_glibc(p))})
        if too_new and platform.glibc:
            lines.append(
                f"Its manylinux wheels for {platform.machine} need glibc {_dotted(too_new[0])} "
                f"or newer; the runtime has glibc {_dotted(platform.glibc)}."
            )
    elif for_this_platform:
        interpreters = sorted(
            {t.interpreter for w in for_this_platform for t in _parsed_wheel_tags(w)},
            key=_python_tag_sort_key,
        )
        lines.append(
            "The lock has wheels for this platform only for other Python versions: "
            f"{_limited(interpreters)}."
        )
    else:
        platforms = platform.display_platforms(problem.wheel_platforms)
        lines.append(
            "The lock has wheels only for other Python versions and platforms: Python "
            f"{_limited(problem.wheel_interpreters)}; platforms {_limited(platforms)}."
        )
    if problem.has_sdist:
        lines.append(
            f"Its sdist ({_limited(problem.sdists)}) does not help: the release publishes "
            "platform-specific wheels, so it holds compiled code, and a build would be for the "
            "machine running Pants, not for the Lambda runtime."
        )
    cause = _python_cause(problem, platform, origin)
    if cause is not None:
        assert platform.python is not None
        runtime_python = _dotted(platform.python)
        newest = _newest_python_wheel_for_platform(problem, platform)
        assert newest is not None
        if cause == "old-pex":
            lines.append(
                f"Pants runs pex {origin.configured_pex_version} (`[pex-cli].version`), which "
                "writes universal lockfiles with wheels for CPython up to "
                f"{_dotted(NEWEST_PYTHON_IN_OLD_PEX_LOCKS)} only, so the lock has nothing for "
                f"Python {runtime_python}, even if PyPI does."
            )
        elif cause == "old-lock":
            lines.append(
                f"The lockfile was written by pex {origin.lock_pex_version}, which locks wheels for "
                f"CPython up to {_dotted(NEWEST_PYTHON_IN_OLD_PEX_LOCKS)} only, so it has nothing "
                f"for Python {runtime_python}, even if PyPI does."
            )
        elif cause == "wide-resolve":
            oldest = origin.allows_older_python_than(_oldest_python_of_generation(platform.python))
            assert oldest is not None
            lines.append(
                f"The lock's interpreter constraints ({', '.join(origin.requires_python)}) allow "
                f"Python {_dotted(oldest)} too, and a universal lock picks one release of each "
                f"requirement for all of them: {problem.project_name} {problem.version} has "
                f"wheels for CPython up to {_dotted(newest)}."
            )
        else:
            lines.append(
                f"{problem.project_name} {problem.version} publishes wheels for CPython up to "
                f"{_dotted(newest)}; a newer release may support Python {runtime_python}."
            )
    return lines


def _describe_needed_tags(compatible_tags: Sequence[str]) -> list[str]:
    shown = list(compatible_tags[:_PREFERRED_TAGS_SHOWN])
    lines = ["The runtime needs wheels tagged like these (most preferred first):"]
    lines.extend(f"  {tag}" for tag in shown)
    rest = len(compatible_tags) - len(shown)
    if rest > 0:
        kinds = []
        if any("-abi3-" in tag for tag in compatible_tags):
            kinds.append("abi3")
        if any(tag.endswith("-none-any") for tag in compatible_tags):
            kinds.append("pure-Python (`py3-none-any`)")
        including = f", including {' and '.join(kinds)} wheels" if kinds else ""
        lines.append(f"  ... or one of its {rest} other compatible tags{including}.")
    return lines


def describe_incompatible(
    problems: Sequence[IncompatibleRequirement],
    *,
    address: str,
    runtime_description: str,
    compatible_tags: Sequence[str],
    resolve: str | None = None,
    origin: LockOrigin = LockOrigin(),
) -> str:
    """A message for a user whose target cannot be packaged because of `problems`.

    `runtime_description` names the runtime for a person (`python3.12 (x86_64, glibc 2.34)`);
    `compatible_tags` are its tags, most preferred first; `resolve` names the target's resolve in
    the `pants generate-lockfiles` command it suggests; `origin` says which pex wrote the lock,
    which one Pants runs, and the lock's interpreter constraints.
    """
    assert problems, "Only incompatible requirements need a message."
    platform = _Platform.from_tags(compatible_tags)
    count = (
        "one of the requirements it needs"
        if len(problems) == 1
        else f"{len(problems)} of the requirements it needs"
    )
    lines = [
        f"Cannot package `{address}` for the Lambda runtime {runtime_description}: the lockfile "
        f"has no wheel this runtime can use for {count}.",
        "",
    ]
    for problem in problems:
        pulled_in = (
            f" (required by {' -> '.join(problem.required_by)})"
            if problem.required_by
            else " (a direct requirement)"
        )
        lines.append(f"- {problem.requirement}{pulled_in}")
        lines.extend(f"  {line}" for line in _describe_offer(problem, platform, origin))
    lines.append("")
    lines.extend(_describe_needed_tags(compatible_tags))
    lines.append("")

    generate = "pants generate-lockfiles" + (f" --resolve={resolve}" if resolve else "")
    causes = {p.project_name: _python_cause(p, platform, origin) for p in problems}
    ways_out = []
    if "old-pex" in causes.values():
        ways_out.append(
            f"Run a current pex: set `[pex-cli]` to pex {MIN_PEX_VERSION} or newer (`version`, "
            "`known_versions` with its sha256 and size, and `url_template`: the `[pex-cli]` "
            f"section of the plugin's reference), then run `{generate}`."
        )
    elif "old-lock" in causes.values():
        ways_out.append(f"Regenerate the lockfile with the pex Pants runs now: `{generate}`.")
    if "wide-resolve" in causes.values():
        assert platform.python is not None
        ways_out.append(
            "Give the functions of the Amazon Linux 2023 runtimes a resolve of their own whose "
            "interpreter constraints start at their Python (e.g. `CPython>=3.12,<3.15` in "
            "`[python].resolves_to_interpreter_constraints`), so its lock can pick releases with "
            f"wheels for Python {_dotted(platform.python)}; then run `pants generate-lockfiles`."
        )
    others = [name for name, cause in causes.items() if cause not in ("old-pex", "old-lock", "wide-resolve")]
    if others:
        ways_out.append(
            f"Pin a version of {', '.join(others)} that publishes a wheel for this runtime: pin "
            f"it (for example `{others[0]}==<version>`) in the requirements file of the target's "
            f"resolve, then run `{generate}`."
        )
    ways_out.append(
        "Choose another runtime or architecture for the target, one the lock has wheels for."
    )
    if any(p.has_sdist for p in problems):
        ways_out.append(
            "Build a wheel of it yourself, on Linux with the runtime's CPython and a glibc no newer "
            "than the runtime's (e.g. in a manylinux build container), serve it from a directory "
            "named in `[python-repos].find_links`, and regenerate the lockfile."
        )
    lines.append("Ways out:")
    lines.extend(f"- {way}" for way in ways_out)
    return "\n".join(lines)


def describe_runtime(runtime: LambdaRuntime, architecture: str) -> str:
    """`python3.12 (x86_64, Amazon Linux 2023, glibc 2.34)`: a runtime as messages name it."""
    return f"{runtime.name} ({architecture}, {runtime.os}, glibc {_dotted(runtime.glibc)})"


@dataclass(frozen=True)
class Distribution:
    name: str  # canonical project name
    version: str

    @classmethod
    def from_wheel(cls, wheel_filename: str) -> Distribution:
        name, version = wheel_filename.split("-")[:2]
        return cls(str(canonicalize_name(name)), version)

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"
