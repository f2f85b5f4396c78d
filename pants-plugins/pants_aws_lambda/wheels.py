"""Which locked requirements have a wheel a Lambda runtime can use, and what to say if one has not.

PEX, given a `--complete-platform`, can only install wheels whose tags the platform accepts: it
cannot build an sdist for a foreign interpreter. When a requirement in the lockfile has no such
wheel, PEX fails late and cryptically. This module answers the question up front from the lockfile
alone (`find_incompatible_requirements`), explains the answer (`describe_incompatible`), and checks
the wheels a resolve actually produced (`is_compatible_wheel`).

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

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name

from pants_aws_lambda.runtimes import LambdaRuntime

# The newest CPython that Pants 2.17's PEX (2.1.137) knows when it writes a universal lockfile: the
# lock holds version-specific wheels (`cp3XY`) only up to this version. Newer runtimes can use only
# a requirement's `abi3` or pure-Python wheels from such a lock.
NEWEST_PYTHON_IN_PEX_LOCKS = (3, 12)
PEX_VERSION_OF_PANTS = "2.1.137"

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


def find_incompatible_requirements(
    lock: Mapping,
    requirements: Iterable[str],
    marker_environment: Mapping[str, str],
    compatible_tags: Sequence[str],
) -> tuple[IncompatibleRequirement, ...]:
    """The locked requirements reachable from `requirements` that have no wheel for the platform.

    Walks from the top-level requirement strings through the lock's `requires_dists`, honouring
    extras and evaluating markers against `marker_environment`. A requirement the lock does not
    hold is skipped: PEX reports those itself. The result is sorted by project name.
    """
    locked_by_name = _locked_requirements(lock)
    env = _marker_environment(marker_environment)
    accepted = frozenset(tag.lower() for tag in compatible_tags)

    # Breadth first, so `required_by` is a shortest chain; sorted, so it is the same every run.
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

    problems = []
    for name in sorted(chains):
        locked = locked_by_name[name]
        artifacts = tuple(sorted(artifact_file_name(a["url"]) for a in locked.get("artifacts", [])))
        excluded_by = _excluding_requires_python(locked, env["python_full_version"])
        if excluded_by is None and any(
            is_wheel(a) and is_compatible_wheel(a, accepted) for a in artifacts
        ):
            continue
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


def _hits_pex_lock_limit(problem: IncompatibleRequirement, platform: _Platform) -> bool:
    """Whether the lock lacks this Python's wheels because PEX 2.1.137 does not lock them.

    That is the case when the runtime's Python is newer than any PEX 2.1.137 locks, and the lock
    has this platform's version-specific wheels only for the Pythons it does lock.
    """
    if platform.python is None or platform.python <= NEWEST_PYTHON_IN_PEX_LOCKS:
        return False
    versions = [
        (int(m.group(1)), int(m.group(2)))
        for wheel in problem.wheels
        for tag in _parsed_wheel_tags(wheel)
        if tag.platform in platform.platforms
        and tag.abi == tag.interpreter
        and (m := _CPYTHON_INTERPRETER.match(tag.interpreter))
    ]
    return bool(versions) and max(versions) <= NEWEST_PYTHON_IN_PEX_LOCKS


def _describe_offer(problem: IncompatibleRequirement, platform: _Platform) -> list[str]:
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
        return [
            *lines,
            f"The lock offers only an sdist ({_limited(problem.sdists)}), and PEX cannot build an "
            "sdist for a Lambda platform: it needs a wheel.",
        ]
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
            f"Its sdist ({_limited(problem.sdists)}) does not help: PEX cannot build an sdist for "
            "a Lambda platform."
        )
    if _hits_pex_lock_limit(problem, platform):
        assert platform.python is not None
        lines.append(
            f"Known limitation: Pants 2.17's PEX ({PEX_VERSION_OF_PANTS}) writes universal "
            "lockfiles with wheels for CPython up to "
            f"{_dotted(NEWEST_PYTHON_IN_PEX_LOCKS)} only. The lock has no abi3 or pure-Python "
            f"wheel of {problem.project_name}, so it has nothing for Python "
            f"{_dotted(platform.python)}, even if PyPI does."
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
) -> str:
    """A message for a user whose target cannot be packaged because of `problems`.

    `runtime_description` names the runtime for a person (`python3.12 (x86_64, glibc 2.34)`);
    `compatible_tags` are its tags, most preferred first; `resolve` names the target's resolve in
    the `pants generate-lockfiles` command it suggests.
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
        lines.extend(f"  {line}" for line in _describe_offer(problem, platform))
    lines.append("")
    lines.extend(_describe_needed_tags(compatible_tags))
    lines.append("")

    generate = "pants generate-lockfiles" + (f" --resolve={resolve}" if resolve else "")
    limited = [p.project_name for p in problems if _hits_pex_lock_limit(p, platform)]
    others = [p.project_name for p in problems if p.project_name not in limited]
    ways_out = []
    if limited:
        newest = "python{}.{}".format(*NEWEST_PYTHON_IN_PEX_LOCKS)
        ways_out.append(
            f"Use the `{newest}` runtime, or a version of {', '.join(limited)} that publishes "
            "abi3 or pure-Python wheels (pin it in the requirements file of the target's resolve, "
            f"then run `{generate}`)."
        )
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
