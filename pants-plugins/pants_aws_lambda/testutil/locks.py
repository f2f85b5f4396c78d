"""Small hand-written PEX locks and the runtimes' complete platforms, for the tests of the
lockfile walk (`requirements/lockfile.py`), its message (`requirements/diagnosis.py`) and wheel
names (`requirements/wheels.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.requirements.lockfile import (
    IncompatibleRequirement,
    find_incompatible_requirements,
)
from pants_aws_lambda.runtimes.complete_platforms import complete_platform

# The examples' lockfiles: the tests reading them declare them as dependencies, so they are in the
# sandbox at these paths.
DEFAULT_LOCK = Path("3rdparty/python/default.lock")
AL2023_LOCK = Path("3rdparty/python/al2023.lock")


def platform(runtime: str, architecture: str = "x86_64") -> dict:
    """The committed complete platform of a runtime and architecture."""
    return complete_platform(RUNTIMES[runtime], architecture)


def find(
    lock: dict, requirements: list[str], runtime: str, architecture: str = "x86_64"
) -> tuple[IncompatibleRequirement, ...]:
    p = platform(runtime, architecture)
    return find_incompatible_requirements(
        lock, requirements, p["marker_environment"], p["compatible_tags"]
    )


# Wheel tags of the hand-written locks' artifacts.
PURE = "py3-none-any"
NATIVE_MAC = "cp312-cp312-macosx_11_0_arm64"
NATIVE_X86 = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"


def locked(
    name: str,
    *requires_dists: str,
    wheels: tuple[str, ...] = (PURE,),
    sdist: bool = True,
    version: str = "1.0",
    requires_python: str | None = None,
) -> dict:
    stem = f"{name.replace('-', '_')}-{version}"
    urls = [f"https://files.example.com/{stem}-{tags}.whl" for tags in wheels]
    if sdist:
        urls.append(f"https://files.example.com/{stem}.tar.gz")
    return {
        "project_name": name,
        "version": version,
        "requires_dists": list(requires_dists),
        "requires_python": requires_python,
        "artifacts": [{"url": u, "algorithm": "sha256", "hash": "0" * 64} for u in urls],
    }


def lock_of(*requirements: dict) -> dict:
    return {"locked_resolves": [{"locked_requirements": list(requirements)}]}


def names(problems: Iterable[IncompatibleRequirement]) -> list[str]:
    return [p.project_name for p in problems]


def locked_entry(lock: dict, name: str) -> dict:
    [entry] = [
        r for r in lock["locked_resolves"][0]["locked_requirements"] if r["project_name"] == name
    ]
    return entry


def problem(
    name: str = "native",
    *wheel_tag_sets: str,
    sdist: bool = False,
    required_by: tuple[str, ...] = (),
    version: str = "1.0",
) -> IncompatibleRequirement:
    stem = f"{name.replace('-', '_')}-{version}"
    artifacts = [f"{stem}-{tags}.whl" for tags in wheel_tag_sets]
    if sdist:
        artifacts.append(f"{stem}.tar.gz")
    return IncompatibleRequirement(name, version, required_by, tuple(sorted(artifacts)))
