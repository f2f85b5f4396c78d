"""The message about requirements without a wheel for a runtime (`diagnosis.py`): what it names,
the causes it tells apart and the ways out it offers."""

from __future__ import annotations

import copy
from typing import Any, Sequence

import pytest

from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.requirements.diagnosis import describe_incompatible, describe_runtime
from pants_aws_lambda.requirements.lockfile import (
    MIN_PEX_VERSION,
    IncompatibleRequirement,
    LockOrigin,
)
from pants_aws_lambda.testutil.locks import (
    NATIVE_MAC,
    NATIVE_X86,
    find,
    lock_of,
    locked,
    locked_entry,
    names,
    platform,
    problem,
)

ADDRESS = "src/python/app:lambda"


def describe(
    problems: Sequence[IncompatibleRequirement],
    runtime: str,
    architecture: str = "x86_64",
    **kwargs: Any,
) -> str:
    return describe_incompatible(
        problems,
        address=ADDRESS,
        runtime_description=describe_runtime(RUNTIMES[runtime], architecture),
        compatible_tags=platform(runtime, architecture)["compatible_tags"],
        **kwargs,
    )


# --------------------------------------------------------------------------------------------------
# Causes found by the walk, as the message reports them
# --------------------------------------------------------------------------------------------------


def test_an_sdist_only_requirement_excluded_by_requires_python_is_reported() -> None:
    lock = lock_of(locked("legacy", wheels=(), requires_python="<3.10"))
    [problem] = find(lock, ["legacy"], "python3.12")
    assert problem.only_sdist
    assert problem.sdists == ("legacy-1.0.tar.gz",)
    assert "only an sdist" in describe([problem], "python3.12")


def test_compiled_wheels_for_other_platforms_and_an_sdist_are_reported() -> None:
    lock = lock_of(locked("native", wheels=(NATIVE_MAC,)))
    [problem] = find(lock, ["native"], "python3.12")
    assert problem.has_sdist and not problem.only_sdist
    message = describe([problem], "python3.12")
    assert "holds compiled code" in message
    assert "not for the Lambda runtime" in message


def test_requires_python_excluding_the_runtime_is_reported() -> None:
    lock = lock_of(locked("modern", requires_python=">=3.13"))
    assert find(lock, ["modern"], "python3.13") == ()
    [problem] = find(lock, ["modern"], "python3.12")
    assert problem.excluded_by_requires_python == ">=3.13"
    message = describe([*find(lock, ["modern"], "python3.12")], "python3.12")
    assert "requires Python >=3.13" in message
    assert "Python 3.12" in message


# --------------------------------------------------------------------------------------------------
# The real lockfile, made to fail (fixtures in conftest.py)
# --------------------------------------------------------------------------------------------------


def without_newer_wheels(lock: dict, name: str, newest: int = 12) -> dict:
    """A copy of `lock` whose `name` has version-specific wheels up to CPython 3.`newest` only."""
    lock = copy.deepcopy(lock)
    entry = locked_entry(lock, name)
    entry["artifacts"] = [
        a
        for a in entry["artifacts"]
        if not any(f"-cp3{minor}-" in a["url"] for minor in range(newest + 1, 20))
    ]
    return lock


@pytest.mark.parametrize("runtime", ["python3.13", "python3.14"])
@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_a_lock_of_the_old_pex_explains_itself(
    default_lock: dict, lock_requirements: list[str], runtime: str, architecture: str
) -> None:
    lock = without_newer_wheels(default_lock, "pydantic-core")
    lock["pex_version"] = "2.1.137"
    problems = find(lock, lock_requirements, runtime, architecture)
    assert names(problems) == ["pydantic-core"]
    [core] = problems
    assert core.required_by == ("pydantic",)
    assert core.newest_cpython_wheel == (3, 12)
    version = runtime[len("python3.") :]
    machine = "x86_64" if architecture == "x86_64" else "aarch64"

    # Pants runs the old pex: the way out is `[pex-cli]`.
    message = describe(
        problems,
        runtime,
        architecture,
        resolve="python-default",
        origin=LockOrigin.of(lock, "v2.1.137"),
    )
    for expected in (
        ADDRESS,
        f"pydantic-core=={core.version} (required by pydantic)",
        "only for other Python versions: cp39, cp310, cp311, cp312",
        f"pydantic_core-{core.version}.tar.gz",
        "Pants runs pex v2.1.137 (`[pex-cli].version`)",
        f"nothing for Python 3.{version}",
        f"set `[pex-cli]` to pex {MIN_PEX_VERSION} or newer",
        "`known_versions`",
        "`url_template`",
        f"cp3{version}-cp3{version}-manylinux_2_34_{machine}",
        "pants generate-lockfiles --resolve=python-default",
    ):
        assert expected in message, f"{expected!r} not in:\n{message}"
    assert f"cp3{version}-cp3{version}-manylinux_2_31_{machine}" not in message

    # Pants runs a current pex, but the lock is older: the way out is to regenerate it.
    message = describe(
        problems,
        runtime,
        architecture,
        resolve="r",
        origin=LockOrigin.of(lock, f"v{MIN_PEX_VERSION}"),
    )
    assert "The lockfile was written by pex 2.1.137" in message
    assert (
        "Regenerate the lockfile with the pex Pants runs now: `pants generate-lockfiles "
        "--resolve=r`" in message
    )
    assert "[pex-cli]" not in message


def test_a_resolve_spanning_old_pythons_explains_itself(
    default_lock: dict, lock_requirements: list[str]
) -> None:
    # Locked by a current pex for CPython 3.9-3.14, with a release whose wheels stop at 3.12.
    lock = without_newer_wheels(default_lock, "pydantic-core")
    assert lock["requires_python"] == ["CPython<3.15,>=3.9"]
    problems = find(lock, lock_requirements, "python3.13")
    message = describe(problems, "python3.13", origin=LockOrigin.of(lock, f"v{MIN_PEX_VERSION}"))
    assert "The lock's interpreter constraints (CPython<3.15,>=3.9) allow Python 3.9 too" in message
    assert "a universal lock picks one release of each requirement for all of them" in message
    assert "has wheels for CPython up to 3.12" in message
    assert "a resolve of their own" in message
    assert "`CPython>=3.12,<3.15`" in message
    assert "[pex-cli]" not in message
    # A lock for the Amazon Linux 2023 runtimes only: the release itself is too old.
    lock["requires_python"] = ["CPython<3.15,>=3.12"]
    message = describe(problems, "python3.13", origin=LockOrigin.of(lock, f"v{MIN_PEX_VERSION}"))
    assert "a resolve of their own" not in message
    assert (
        "publishes wheels for CPython up to 3.12; a newer release may support Python 3.13"
        in message
    )
    assert "Pin a version of pydantic-core" in message


def test_real_lock_without_wheels_for_the_architecture(
    default_lock: dict, lock_requirements: list[str]
) -> None:
    lock = copy.deepcopy(default_lock)
    core = locked_entry(lock, "pydantic-core")
    core["artifacts"] = [a for a in core["artifacts"] if "x86_64" not in a["url"]]
    assert find(lock, lock_requirements, "python3.12", "arm64") == ()
    problems = find(lock, lock_requirements, "python3.12", "x86_64")
    assert names(problems) == ["pydantic-core"]
    message = describe(problems, "python3.12", "x86_64")
    assert "wheels for this Python only for other platforms: " in message
    assert "manylinux_2_17_aarch64" in message


# --------------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------------


def test_message_names_the_target_the_runtime_and_the_requirements() -> None:
    message = describe(
        [
            problem("alpha", NATIVE_MAC, required_by=("app", "mid")),
            problem("beta", NATIVE_MAC, version="2.0"),
        ],
        "python3.12",
    )
    assert message.startswith(
        f"Cannot package `{ADDRESS}` for the Lambda runtime "
        "python3.12 (x86_64, Amazon Linux 2023, glibc 2.34)"
    )
    assert "for 2 of the requirements it needs" in message
    assert "- alpha==1.0 (required by app -> mid)" in message
    assert "- beta==2.0 (a direct requirement)" in message
    assert "Pin a version of alpha, beta" in message
    assert "pants generate-lockfiles`" in message  # no `--resolve` unless given


def test_message_is_plain_lines() -> None:
    message = describe([problem("native", NATIVE_MAC, sdist=True)], "python3.12")
    assert "\t" not in message
    assert not any(line.startswith("#") for line in message.splitlines())
    assert "Ways out:" in message


def test_message_for_wheels_of_other_platforms_lists_this_machine_first() -> None:
    p = problem(
        "native",
        "cp312-cp312-macosx_11_0_arm64",
        "cp312-cp312-manylinux_2_35_x86_64",
        "cp312-cp312-win_amd64",
    )
    message = describe([p], "python3.12", "x86_64")
    assert (
        "wheels for this Python only for other platforms: "
        "manylinux_2_35_x86_64, macosx_11_0_arm64, win_amd64." in message
    )
    assert "need glibc 2.35 or newer; the runtime has glibc 2.34" in message


def test_message_lists_this_machine_before_other_families() -> None:
    p = problem("native", "cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-musllinux_1_1_aarch64")
    message = describe([p], "python3.12", "arm64")
    assert "other platforms: musllinux_1_1_aarch64, manylinux_2_17_x86_64." in message


def test_message_does_not_blame_glibc_for_other_machines() -> None:
    p = problem("native", "cp312-cp312-manylinux_2_35_aarch64")
    message = describe([p], "python3.12", "x86_64")
    assert "manylinux_2_35_aarch64" in message
    assert "glibc 2.35" not in message


def test_message_for_wheels_of_other_pythons_and_platforms() -> None:
    p = problem("native", "cp39-cp39-macosx_11_0_arm64", "cp310-cp310-win_amd64")
    message = describe([p], "python3.12", "x86_64")
    assert (
        "wheels only for other Python versions and platforms: Python cp39, cp310; "
        "platforms macosx_11_0_arm64, win_amd64." in message
    )


def test_message_trims_long_platform_lists() -> None:
    platforms = [f"macosx_{v}_0_x86_64" for v in range(10, 20)]
    p = problem("native", f"cp312-cp312-{'.'.join(platforms)}")
    message = describe([p], "python3.12", "arm64")
    assert "and 4 more." in message
    assert sum(platform in message for platform in platforms) == 6


def test_message_lists_the_most_preferred_tags() -> None:
    message = describe([problem("native", NATIVE_MAC)], "python3.11", "arm64")
    tags = platform("python3.11", "arm64")["compatible_tags"]
    assert tags[:3] == [
        "cp311-cp311-manylinux_2_26_aarch64",
        "cp311-cp311-manylinux_2_25_aarch64",
        "cp311-cp311-manylinux_2_24_aarch64",
    ]
    for tag in tags[:3]:
        assert f"\n  {tag}\n" in message
    assert tags[3] not in message
    assert f"one of its {len(tags) - 3} other compatible tags" in message


def test_message_about_old_pex_only_when_it_applies() -> None:
    old = LockOrigin(lock_pex_version="2.1.137", configured_pex_version="v2.1.137")
    cp312_only = problem("native", NATIVE_X86, sdist=True)
    assert "Pants runs pex v2.1.137" in describe([cp312_only], "python3.13", origin=old)
    assert "Pants runs pex v2.1.137" in describe([cp312_only], "python3.14", origin=old)
    assert "Pants runs pex v2.1.137" not in describe([cp312_only], "python3.11", origin=old)
    # A current pex everywhere: not the cause.
    assert "pex" not in describe(
        [cp312_only], "python3.13", origin=LockOrigin("2.105.2", "v2.105.2")
    )
    # Nothing version-specific in the lock: the pex is not what is missing.
    assert "Pants runs pex" not in describe(
        [problem("native", "py3-none-macosx_11_0_arm64")], "python3.13", origin=old
    )
    # Version-specific wheels only for other platforms: python3.12 would not help either.
    assert "Pants runs pex" not in describe(
        [problem("native", NATIVE_MAC)], "python3.13", origin=old
    )
    # cp313 wheels exist in the lock, for other platforms: a platform problem.
    cp313_mac = problem("native", "cp313-cp313-macosx_11_0_arm64")
    message = describe([cp313_mac], "python3.13", origin=old)
    assert "Pants runs pex" not in message
    assert "only for other platforms: macosx_11_0_arm64" in message


def test_message_suggests_building_a_wheel_only_when_there_is_an_sdist() -> None:
    assert "`[python-repos].find_links`" not in describe(
        [problem("native", NATIVE_MAC)], "python3.12"
    )
    assert "`[python-repos].find_links`" in describe(
        [problem("native", NATIVE_MAC, sdist=True)], "python3.12"
    )


def test_message_for_a_requirement_without_artifacts() -> None:
    message = describe([problem("native")], "python3.12")
    assert "no artifact for it at all" in message


def test_describe_runtime() -> None:
    assert describe_runtime(RUNTIMES["python3.9"], "arm64") == (
        "python3.9 (arm64, Amazon Linux 2, glibc 2.26)"
    )


def test_message_names_legacy_manylinux_platforms_once() -> None:
    p = problem("native", "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64")
    message = describe([p], "python3.12", "x86_64")
    assert "only for other platforms: manylinux_2_17_aarch64." in message
    assert "manylinux2014" not in message


def test_message_ways_out_follow_the_cause() -> None:
    cp312_only = problem("native-a", NATIVE_X86, sdist=True)
    mac_only = problem("native-b", NATIVE_MAC)
    origin = LockOrigin(lock_pex_version="2.1.137", configured_pex_version="v2.1.137")
    message = describe([cp312_only, mac_only], "python3.13", resolve="lambdas", origin=origin)
    ways_out = message.split("Ways out:\n")[1].splitlines()
    assert ways_out[0].startswith(f"- Run a current pex: set `[pex-cli]` to pex {MIN_PEX_VERSION}")
    assert "pants generate-lockfiles --resolve=lambdas" in ways_out[0]
    assert ways_out[1].startswith("- Pin a version of native-b that publishes a wheel")
    assert "`native-b==<version>`" in ways_out[1]
    assert ways_out[2].startswith("- Choose another runtime or architecture")
    assert ways_out[3].startswith("- Build a wheel of it yourself, on Linux")
    assert len(ways_out) == 4
    # Without an old pex, no advice about it.
    assert "[pex-cli]" not in describe([mac_only], "python3.13", origin=origin)
