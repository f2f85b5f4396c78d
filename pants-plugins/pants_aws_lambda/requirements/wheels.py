"""Wheel file names and tags: what a wheel is built for, and what a platform's tags accept.

No Pants engine imports: the rules, the tests and any script use it alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection, Iterable, Sequence
from urllib.parse import unquote, urlparse

from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pants_aws_lambda.facts.manylinux import LEGACY_MANYLINUX, GlibcVersion
from pants_aws_lambda.facts.python_version import PythonVersion

CPYTHON_INTERPRETER = re.compile(r"^cp(\d)(\d+)$")
_INTERPRETER = re.compile(r"^([a-z]+)(\d)(\d*)$")
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_LEGACY_MANYLINUX = re.compile(rf"^({'|'.join(LEGACY_MANYLINUX)})_(.+)$")
# The order in which messages list platform families: Linux with glibc first, as Lambda has.
_PLATFORM_FAMILIES = ("manylinux_", "linux_", "musllinux_", "macosx_", "win")


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


def parsed_wheel_tags(filename: str) -> frozenset[Tag]:
    return parse_tag(_wheel_tag_part(filename))


def wheel_tags(filename: str) -> frozenset[str]:
    """The expanded `python-abi-platform` tags of a wheel file name.

    A compressed tag set (`cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64`) expands to one
    tag per combination. Tags are lower case, as `packaging.tags` and complete platforms spell them.
    Raises `ValueError` if `filename` is not a wheel's file name.
    """
    return frozenset(str(tag) for tag in parsed_wheel_tags(filename))


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


def is_platform_specific(filename: str) -> bool:
    """Whether a wheel holds code for one platform (a tag other than `any`): compiled code."""
    return any(tag.platform != "any" for tag in parsed_wheel_tags(filename))


def is_bare_linux(filename: str) -> bool:
    """Whether every platform tag of a wheel is a bare `linux_<arch>`, which says nothing about the
    glibc its compiled code needs (unlike `manylinux_X_Y_<arch>`)."""
    platforms = {tag.platform for tag in parsed_wheel_tags(filename)}
    return all(p.startswith("linux_") for p in platforms)


def newest_glibc(compatible_tags: Sequence[str]) -> GlibcVersion | None:
    """The glibc of a platform: the newest `manylinux_X_Y` among its compatible tags, if any."""
    return TagPlatform.from_tags(compatible_tags).glibc


def project_name(filename: str) -> str:
    """The canonical project name of a wheel file name."""
    return canonicalize_name(filename.split("-", 1)[0])


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


def python_tag_sort_key(interpreter: str) -> tuple:
    match = _INTERPRETER.match(interpreter)
    if not match:
        return (1, interpreter, 0, 0)
    impl, major, minor = match.groups()
    return (0, impl, int(major), int(minor or -1))


def _pep600_platform(platform: str) -> str:
    """`manylinux2014_x86_64` -> `manylinux_2_17_x86_64`; other platforms as they are."""
    match = _LEGACY_MANYLINUX.match(platform)
    if not match:
        return platform
    return f"{LEGACY_MANYLINUX[match.group(1)].manylinux}_{match.group(2)}"


@dataclass(frozen=True)
class TagPlatform:
    """What a platform's compatible tags say about it."""

    python: PythonVersion | None  # the CPython version, from its `cp3XY` tags
    machine: str | None  # from its `manylinux_*` tags
    glibc: GlibcVersion | None  # the newest `manylinux_X_Y` it accepts
    tags: frozenset[str]
    interpreter_abis: frozenset[tuple[str, str]]
    platforms: frozenset[str]

    @classmethod
    def from_tags(cls, compatible_tags: Sequence[str]) -> TagPlatform:
        parsed = [tag for text in compatible_tags for tag in parse_tag(text)]
        python = None
        for tag in parsed:
            match = CPYTHON_INTERPRETER.match(tag.interpreter)
            if match:
                python = PythonVersion(int(match.group(1)), int(match.group(2)))
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
            glibc=GlibcVersion(newest[0], newest[1]) if newest else None,
            tags=frozenset(str(tag) for tag in parsed),
            interpreter_abis=frozenset((tag.interpreter, tag.abi) for tag in parsed),
            platforms=frozenset(tag.platform for tag in parsed),
        )

    def python_of(self, wheel: str) -> bool:
        return any(
            (t.interpreter, t.abi) in self.interpreter_abis for t in parsed_wheel_tags(wheel)
        )

    def platform_of(self, wheel: str) -> bool:
        return any(t.platform in self.platforms for t in parsed_wheel_tags(wheel))

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

    def needs_newer_glibc(self, platform: str) -> GlibcVersion | None:
        match = _MANYLINUX.match(platform)
        if not match or self.glibc is None or match.group(3) != self.machine:
            return None
        glibc = GlibcVersion(int(match.group(1)), int(match.group(2)))
        return glibc if glibc > self.glibc else None


def parse_version(text: str | None) -> Version | None:
    if not text:
        return None
    try:
        return Version(text.lstrip("v"))
    except InvalidVersion:
        return None
