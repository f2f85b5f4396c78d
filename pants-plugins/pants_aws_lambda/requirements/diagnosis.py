"""What to tell a user whose locked requirements have no wheel for the function's runtime: what the
lock offers instead, why (an old pex, a resolve spanning Amazon Linux generations, an old release),
and the ways out.

No Pants engine imports: the rules, the tests and any script use it alike.
"""

from __future__ import annotations

from typing import Sequence

from pants_aws_lambda.facts.python_version import PythonVersion
from pants_aws_lambda.facts.runtimes import (
    AL2023,
    RUNTIMES,
    LambdaRuntime,
    interpreter_constraints,
    runtime_for_python_version,
)
from pants_aws_lambda.requirements.lockfile import (
    MIN_PEX_VERSION,
    NEWEST_PYTHON_IN_OLD_PEX_LOCKS,
    IncompatibleRequirement,
    LockOrigin,
)
from pants_aws_lambda.requirements.wheels import (
    CPYTHON_INTERPRETER,
    TagPlatform,
    is_compatible_wheel,
    parsed_wheel_tags,
    python_tag_sort_key,
)

# How many items a message lists before it says "and N more".
_MAX_LISTED = 6
_PREFERRED_TAGS_SHOWN = 3


def _limited(items: Sequence[str], limit: int = _MAX_LISTED) -> str:
    shown = ", ".join(items[:limit])
    hidden = len(items) - limit
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def _al2023_constraint() -> str:
    return interpreter_constraints(r for r in RUNTIMES.values() if r.os == AL2023)[0]


def _newest_python_wheel_for_platform(
    problem: IncompatibleRequirement, platform: TagPlatform
) -> PythonVersion | None:
    """The newest CPython a version-specific wheel of `problem` exists for, on this platform."""
    versions = [
        PythonVersion(int(m.group(1)), int(m.group(2)))
        for wheel in problem.wheels
        for tag in parsed_wheel_tags(wheel)
        if tag.platform in platform.platforms
        and tag.abi == tag.interpreter
        and (m := CPYTHON_INTERPRETER.match(tag.interpreter))
    ]
    return max(versions) if versions else None


def _python_cause(
    problem: IncompatibleRequirement, platform: TagPlatform, origin: LockOrigin
) -> str | None:
    """Why the lock has this platform's wheels only for older Pythons, if that is the case.

    `old-pex`: Pants runs a pex that cannot lock this runtime's wheels; `old-lock`: the lock was
    written by such a pex; `wide-resolve`: the lock's constraints admit older Pythons, and a
    universal lock picks one release for all of them; `old-release` otherwise.
    """
    newest = _newest_python_wheel_for_platform(problem, platform)
    if platform.python is None or newest is None or newest >= platform.python:
        return None
    if (
        platform.python > NEWEST_PYTHON_IN_OLD_PEX_LOCKS
        and newest <= NEWEST_PYTHON_IN_OLD_PEX_LOCKS
    ):
        if origin.configured_pex_too_old:
            return "old-pex"
        if origin.lock_pex_too_old:
            return "old-lock"
    if origin.allows_older_python_than(_oldest_python_of_generation(platform.python)) is not None:
        return "wide-resolve"
    return "old-release"


def _oldest_python_of_generation(python: PythonVersion) -> PythonVersion:
    """The oldest Python of the runtimes on the same operating system as `python`'s runtime.

    Lambda's runtimes come in generations (Amazon Linux 2, Amazon Linux 2023); a resolve that
    spans generations gets releases old enough for the oldest of them.
    """
    runtime = runtime_for_python_version(python)
    if runtime is None:
        return python
    return min(r.python_version for r in RUNTIMES.values() if r.os == runtime.os)


def _describe_offer(
    problem: IncompatibleRequirement, platform: TagPlatform, origin: LockOrigin
) -> list[str]:
    """Lines saying what the lock has for `problem` and why none of it fits."""
    lines = []
    if problem.excluded_by_requires_python:
        runtime_python = f"Python {platform.python}" if platform.python else "its Python"
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
    lines.extend(_describe_other_wheels(problem, platform))
    lines.extend(_describe_python_cause(problem, platform, origin))
    return lines


def _describe_other_wheels(problem: IncompatibleRequirement, platform: TagPlatform) -> list[str]:
    """What the lock's wheels of `problem` are for, since none is for the runtime."""
    lines = []
    wheels = problem.wheels
    for_this_python = [w for w in wheels if platform.python_of(w)]
    for_this_platform = [w for w in wheels if platform.platform_of(w)]
    if for_this_python:
        platforms = platform.display_platforms(
            t.platform for w in for_this_python for t in parsed_wheel_tags(w)
        )
        lines.append(
            "The lock has wheels for this Python only for other platforms: "
            f"{_limited(platforms)}."
        )
        too_new = sorted({g for p in platforms if (g := platform.needs_newer_glibc(p))})
        if too_new and platform.glibc:
            lines.append(
                f"Its manylinux wheels for {platform.machine} need glibc {too_new[0]} "
                f"or newer; the runtime has glibc {platform.glibc}."
            )
    elif for_this_platform:
        interpreters = sorted(
            {t.interpreter for w in for_this_platform for t in parsed_wheel_tags(w)},
            key=python_tag_sort_key,
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
    return lines


def _describe_python_cause(
    problem: IncompatibleRequirement, platform: TagPlatform, origin: LockOrigin
) -> list[str]:
    """Why the lock has no wheel for the runtime's Python, when the Python is the reason."""
    lines: list[str] = []
    cause = _python_cause(problem, platform, origin)
    if cause is not None:
        assert platform.python is not None
        runtime_python = platform.python
        newest = _newest_python_wheel_for_platform(problem, platform)
        assert newest is not None
        if cause == "old-pex":
            lines.append(
                f"Pants runs pex {origin.configured_pex_version} (`[pex-cli].version`), which "
                "writes universal lockfiles with wheels for CPython up to "
                f"{NEWEST_PYTHON_IN_OLD_PEX_LOCKS} only, so the lock has nothing "
                f"for Python {runtime_python}, even if PyPI does."
            )
        elif cause == "old-lock":
            lines.append(
                f"The lockfile was written by pex {origin.lock_pex_version}, which locks wheels "
                f"for CPython up to {NEWEST_PYTHON_IN_OLD_PEX_LOCKS} only, so it "
                f"has nothing for Python {runtime_python}, even if PyPI does."
            )
        elif cause == "wide-resolve":
            oldest = origin.allows_older_python_than(_oldest_python_of_generation(platform.python))
            assert oldest is not None
            lines.append(
                f"The lock's interpreter constraints ({', '.join(origin.requires_python)}) allow "
                f"Python {oldest} too, and a universal lock picks one release of "
                f"each requirement for all of them: {problem.project_name} {problem.version} has "
                f"wheels for CPython up to {newest}."
            )
        else:
            lines.append(
                f"{problem.project_name} {problem.version} publishes wheels for CPython up to "
                f"{newest}; a newer release may support Python {runtime_python}."
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
    platform = TagPlatform.from_tags(compatible_tags)
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

    lines.append("Ways out:")
    lines.extend(f"- {way}" for way in _ways_out(problems, platform, origin, resolve))
    return "\n".join(lines)


def _ways_out(
    problems: Sequence[IncompatibleRequirement],
    platform: TagPlatform,
    origin: LockOrigin,
    resolve: str | None,
) -> list[str]:
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
            f"Give the functions of the {AL2023} runtimes a resolve of their own whose "
            f"interpreter constraints start at their Python (e.g. `{_al2023_constraint()}` in "
            "`[python].resolves_to_interpreter_constraints`), so its lock can pick releases with "
            f"wheels for Python {platform.python}; then run "
            "`pants generate-lockfiles`."
        )
    others = [
        name
        for name, cause in causes.items()
        if cause not in ("old-pex", "old-lock", "wide-resolve")
    ]
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
            "Build a wheel of it yourself, on Linux with the runtime's CPython and a glibc no "
            "newer than the runtime's (e.g. in a manylinux build container), serve it from a "
            "directory named in `[python-repos].find_links`, and regenerate the lockfile."
        )
    return ways_out


def describe_runtime(runtime: LambdaRuntime, architecture: str) -> str:
    """`python3.12 (x86_64, Amazon Linux 2023, glibc 2.34)`: a runtime as messages name it."""
    return f"{runtime.name} ({architecture}, {runtime.os}, glibc {runtime.glibc})"
