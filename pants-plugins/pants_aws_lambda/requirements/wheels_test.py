from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable, Sequence

import pytest

from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.requirements.diagnosis import describe_incompatible, describe_runtime
from pants_aws_lambda.requirements.lockfile import (
    MIN_PEX_VERSION,
    IncompatibleRequirement,
    LockOrigin,
    find_incompatible_requirements,
    find_sdist_only_requirements,
    load_lock,
)
from pants_aws_lambda.requirements.wheels import (
    artifact_file_name,
    is_compatible_wheel,
    is_platform_specific,
    project_name,
    wheel_tags,
)
from pants_aws_lambda.runtimes.complete_platforms import complete_platform

# Declared as a `file` dependency of this test, so it is in the sandbox at this path.
DEFAULT_LOCK = Path("3rdparty/python/default.lock")
AL2023_LOCK = Path("3rdparty/python/al2023.lock")
ADDRESS = "src/python/app:lambda"


def platform(runtime: str, architecture: str = "x86_64") -> dict:
    return complete_platform(RUNTIMES[runtime], architecture)


def find(
    lock: dict, requirements: list[str], runtime: str, architecture: str = "x86_64"
) -> tuple[IncompatibleRequirement, ...]:
    p = platform(runtime, architecture)
    return find_incompatible_requirements(
        lock, requirements, p["marker_environment"], p["compatible_tags"]
    )


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
# Wheel file names
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, expected",
    [
        ("pydantic-2.13.5-py3-none-any.whl", {"py3-none-any"}),
        ("six-1.16.0-py2.py3-none-any.whl", {"py2-none-any", "py3-none-any"}),
        (
            "pydantic_core-2.46.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            {"cp312-cp312-manylinux_2_17_aarch64", "cp312-cp312-manylinux2014_aarch64"},
        ),
        (
            "cryptography-42.0.5-cp39-abi3-manylinux_2_28_x86_64.whl",
            {"cp39-abi3-manylinux_2_28_x86_64"},
        ),
        (
            "numpy-1.26.4-cp312-cp312-macosx_10_9_x86_64.macosx_11_0_arm64.whl",
            {"cp312-cp312-macosx_10_9_x86_64", "cp312-cp312-macosx_11_0_arm64"},
        ),
        # Build tags (a sixth part starting with a digit) are not tags.
        ("foo-1.0-1-cp312-cp312-linux_x86_64.whl", {"cp312-cp312-linux_x86_64"}),
        ("foo-1.0-2build-py3-none-any.whl", {"py3-none-any"}),
        # Tags compare lower case, as `packaging.tags` spells them.
        ("foo-1.0-cp39-cp39-win_AMD64.whl", {"cp39-cp39-win_amd64"}),
        ("Foo-1.0-py3-none-any.WHL", {"py3-none-any"}),
    ],
)
def test_wheel_tags(filename: str, expected: set[str]) -> None:
    assert wheel_tags(filename) == frozenset(expected)


def test_wheel_tags_expand_every_combination() -> None:
    tags = wheel_tags("foo-1.0-cp311.cp312-cp311.cp312-manylinux1_x86_64.manylinux2010_x86_64.whl")
    assert len(tags) == 8
    assert "cp312-cp311-manylinux2010_x86_64" in tags


@pytest.mark.parametrize(
    "filename",
    [
        "pydantic_core-2.46.5.tar.gz",
        "foo-1.0.zip",
        "foo-1.0-py3-none-any.egg",
        "foo-1.0-py3-none.whl",  # too few parts
        "foo-1.0-1-2-py3-none-any.whl",  # too many parts
        "foo-1.0-build-py3-none-any.whl",  # a build tag must start with a digit
        "foo-1.0--none-any.whl",  # an empty part
        ".whl",
    ],
)
def test_wheel_tags_rejects_non_wheels(filename: str) -> None:
    with pytest.raises(ValueError, match="wheel"):
        wheel_tags(filename)


def test_is_compatible_wheel_rejects_non_wheels() -> None:
    with pytest.raises(ValueError, match="Not a wheel"):
        is_compatible_wheel("pydantic_core-2.46.5.tar.gz", ["py3-none-any"])


def test_is_compatible_wheel_with_any_collection() -> None:
    wheel = "foo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    for tags in (
        ["cp312-cp312-manylinux2014_x86_64"],
        ("cp312-cp312-manylinux2014_x86_64",),
        {"cp312-cp312-manylinux_2_17_x86_64"},
        frozenset({"cp312-cp312-manylinux2014_x86_64", "py3-none-any"}),
    ):
        assert is_compatible_wheel(wheel, tags)
    assert not is_compatible_wheel(wheel, ["cp312-cp312-manylinux_2_17_aarch64", "py3-none-any"])
    assert not is_compatible_wheel(wheel, [])


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "https://files.pythonhosted.org/packages/a1/b2/pydantic-2.13.5-py3-none-any.whl",
            "pydantic-2.13.5-py3-none-any.whl",
        ),
        (
            "https://example.com/simple/foo/foo-1.0%2Blocal-py3-none-any.whl",
            "foo-1.0+local-py3-none-any.whl",
        ),
        ("https://example.com/foo-1.0.tar.gz#sha256=abc", "foo-1.0.tar.gz"),
        ("file:///wheels/foo-1.0-py3-none-any.whl", "foo-1.0-py3-none-any.whl"),
        ("foo-1.0-py3-none-any.whl", "foo-1.0-py3-none-any.whl"),
    ],
)
def test_artifact_file_name(url: str, expected: str) -> None:
    assert artifact_file_name(url) == expected


# --------------------------------------------------------------------------------------------------
# Wheels against the runtimes' complete platforms
# --------------------------------------------------------------------------------------------------

CORE = "pydantic_core-2.46.5"


# Cases as rows of data, like the markers' below: the rows look alike on purpose.
@pytest.mark.parametrize(
    "wheel, runtime, architecture, compatible",
    [
        (
            f"{CORE}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "python3.12",
            "x86_64",
            True,
        ),
        (
            f"{CORE}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "python3.12",
            "arm64",
            False,
        ),
        (
            f"{CORE}-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "python3.12",
            "arm64",
            True,
        ),
        (
            f"{CORE}-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "python3.12",
            "x86_64",
            False,
        ),
        (
            f"{CORE}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "python3.12",
            "x86_64",
            False,
        ),
        (
            f"{CORE}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "python3.13",
            "x86_64",
            False,
        ),
        (f"{CORE}-cp312-cp312-macosx_11_0_arm64.whl", "python3.12", "arm64", False),
        (f"{CORE}-cp312-cp312-musllinux_1_1_x86_64.whl", "python3.12", "x86_64", False),
        (f"{CORE}-cp312-cp312-win_amd64.whl", "python3.12", "x86_64", False),
        (
            f"{CORE}-pp311-pypy311_pp73-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "python3.11",
            "x86_64",
            False,
        ),
        # Free-threaded builds have their own ABI.
        ("foo-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl", "python3.13", "x86_64", False),
        # glibc: AL2023 runtimes have 2.34, AL2 runtimes 2.26.
        ("foo-1.0-cp312-cp312-manylinux_2_34_x86_64.whl", "python3.12", "x86_64", True),
        ("foo-1.0-cp312-cp312-manylinux_2_35_x86_64.whl", "python3.12", "x86_64", False),
        ("foo-1.0-cp311-cp311-manylinux_2_26_aarch64.whl", "python3.11", "arm64", True),
        ("foo-1.0-cp311-cp311-manylinux_2_28_aarch64.whl", "python3.11", "arm64", False),
        ("foo-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", "python3.11", "x86_64", False),
        # Legacy manylinux aliases, which exist for x86_64 only from manylinux2014 down.
        ("foo-1.0-cp39-cp39-manylinux1_x86_64.whl", "python3.9", "x86_64", True),
        ("foo-1.0-cp39-cp39-manylinux2010_x86_64.whl", "python3.9", "x86_64", True),
        ("foo-1.0-cp39-cp39-manylinux_2_12_aarch64.whl", "python3.9", "arm64", False),
        ("foo-1.0-cp312-cp312-linux_x86_64.whl", "python3.12", "x86_64", True),
        # abi3 wheels serve their own and every newer CPython.
        (
            "foo-1.0-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "python3.14",
            "x86_64",
            True,
        ),
        (
            "foo-1.0-cp38-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "python3.13",
            "arm64",
            True,
        ),
        ("foo-1.0-cp313-abi3-manylinux_2_17_x86_64.whl", "python3.12", "x86_64", False),
        # Pure-Python wheels.
        ("foo-1.0-py3-none-any.whl", "python3.14", "arm64", True),
        ("foo-1.0-py2.py3-none-any.whl", "python3.8", "x86_64", True),
        ("foo-1.0-py2-none-any.whl", "python3.12", "x86_64", False),
    ],
)
def test_is_compatible_wheel_on_lambda_runtimes(
    wheel: str, runtime: str, architecture: str, compatible: bool
) -> None:
    tags = platform(runtime, architecture)["compatible_tags"]
    assert is_compatible_wheel(wheel, tags) is compatible


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_every_runtime_accepts_pure_wheels_and_refuses_other_machines(
    runtime: str, architecture: str
) -> None:
    tags = platform(runtime, architecture)["compatible_tags"]
    other = "aarch64" if architecture == "x86_64" else "x86_64"
    assert is_compatible_wheel("foo-1.0-py3-none-any.whl", tags)
    assert not is_compatible_wheel(f"foo-1.0-py3-none-manylinux2014_{other}.whl", tags)
    assert not is_compatible_wheel("foo-1.0-py3-none-macosx_11_0_arm64.whl", tags)


# --------------------------------------------------------------------------------------------------
# Lockfiles
# --------------------------------------------------------------------------------------------------


def test_load_lock_strips_the_header() -> None:
    text = (
        "// This lockfile was autogenerated by Pants.\n"
        "//\n"
        '// {"version": 3}\n'
        "\n"
        '{"locked_resolves": [{"locked_requirements": []}], "pex_version": "2.1.137"}\n'
    )
    assert load_lock(text) == {
        "locked_resolves": [{"locked_requirements": []}],
        "pex_version": "2.1.137",
    }


def test_load_lock_without_header() -> None:
    assert load_lock('{"locked_resolves": []}') == {"locked_resolves": []}


@pytest.mark.parametrize(
    "text", ["", "// only a header\n", "// header\nnot json", '{"requirements": []}', "[]"]
)
def test_load_lock_rejects_non_locks(text: str) -> None:
    with pytest.raises(ValueError, match="lockfile"):
        load_lock(text)


def test_load_lock_reads_the_real_lock() -> None:
    lock = load_lock(DEFAULT_LOCK.read_text())
    names = {r["project_name"] for r in lock["locked_resolves"][0]["locked_requirements"]}
    assert {"pydantic", "pydantic-core"} <= names


# --------------------------------------------------------------------------------------------------
# The walk, on small hand-written locks
# --------------------------------------------------------------------------------------------------

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


def test_all_pure_requirements_are_compatible() -> None:
    lock = lock_of(locked("app", "lib>=1"), locked("lib"))
    assert find(lock, ["app"], "python3.12") == ()


def test_a_top_level_requirement_without_a_compatible_wheel() -> None:
    lock = lock_of(locked("native", wheels=(NATIVE_MAC,), version="2.1"))
    [problem] = find(lock, ["native>=2"], "python3.12")
    assert problem == IncompatibleRequirement(
        project_name="native",
        version="2.1",
        required_by=(),
        artifacts=(
            f"native-2.1-{NATIVE_MAC}.whl",
            "native-2.1.tar.gz",
        ),
    )
    assert problem.has_sdist and not problem.only_sdist
    assert problem.wheel_platforms == ("macosx_11_0_arm64",)


def test_one_compatible_wheel_is_enough() -> None:
    lock = lock_of(locked("native", wheels=(NATIVE_MAC, NATIVE_X86)))
    assert find(lock, ["native"], "python3.12", "x86_64") == ()
    assert names(find(lock, ["native"], "python3.12", "arm64")) == ["native"]


def test_required_by_is_the_chain_from_the_top_level_requirement() -> None:
    lock = lock_of(
        locked("app", "mid"),
        locked("mid", "native"),
        locked("native", wheels=(NATIVE_MAC,)),
    )
    [problem] = find(lock, ["app"], "python3.12")
    assert problem.project_name == "native"
    assert problem.required_by == ("app", "mid")


def test_required_by_is_a_shortest_chain() -> None:
    lock = lock_of(
        locked("app", "long-1", "short"),
        locked("long-1", "long-2"),
        locked("long-2", "native"),
        locked("short", "native"),
        locked("native", wheels=(NATIVE_MAC,)),
    )
    [problem] = find(lock, ["app"], "python3.12")
    assert problem.required_by == ("app", "short")


def test_a_requirement_that_is_also_top_level_has_no_chain() -> None:
    lock = lock_of(locked("app", "native"), locked("native", wheels=(NATIVE_MAC,)))
    [problem] = find(lock, ["app", "native"], "python3.12")
    assert problem.required_by == ()


def test_extras_are_followed_only_when_requested() -> None:
    lock = lock_of(
        locked("app", 'native>=1; extra == "fast"', "lib"),
        locked("lib"),
        locked("native", wheels=(NATIVE_MAC,)),
    )
    assert find(lock, ["app"], "python3.12") == ()
    [problem] = find(lock, ["app[fast]"], "python3.12")
    assert problem.project_name == "native"
    assert problem.required_by == ("app",)


def test_extras_of_dependencies_are_followed() -> None:
    lock = lock_of(
        locked("app", 'mid[speedups]; extra == "fast"'),
        locked("mid", 'native; extra == "speedups"', 'other; extra == "unused"'),
        locked("native", wheels=(NATIVE_MAC,)),
        locked("other", wheels=(NATIVE_MAC,)),
    )
    assert find(lock, ["app"], "python3.12") == ()
    [problem] = find(lock, ["app[fast]"], "python3.12")
    assert (problem.project_name, problem.required_by) == ("native", ("app", "mid"))


def test_extras_are_matched_however_they_are_spelled() -> None:
    lock = lock_of(
        locked("app", 'native; extra == "fast-path"'),
        locked("native", wheels=(NATIVE_MAC,)),
    )
    assert names(find(lock, ["app[Fast_Path]"], "python3.12")) == ["native"]
    assert names(find(lock, ["app[fast-path]"], "python3.12")) == ["native"]
    assert names(find(lock, ["app[fast]"], "python3.12")) == []


def test_an_extra_reached_later_is_still_followed() -> None:
    # `mid` is reached first without extras, then with one: its extra's dependencies count.
    lock = lock_of(
        locked("app", "mid", "other"),
        locked("other", "mid[x]"),
        locked("mid", 'native; extra == "x"'),
        locked("native", wheels=(NATIVE_MAC,)),
    )
    [problem] = find(lock, ["app"], "python3.12")
    assert problem.required_by == ("app", "mid")


@pytest.mark.parametrize(
    "marker, runtime, architecture, reported",
    [
        ('python_version < "3.10"', "python3.12", "x86_64", False),
        ('python_version < "3.10"', "python3.9", "x86_64", True),
        ('python_full_version >= "3.12.1"', "python3.12", "x86_64", False),
        ('sys_platform == "win32"', "python3.12", "x86_64", False),
        ('sys_platform == "linux"', "python3.12", "x86_64", True),
        ('platform_system == "Windows"', "python3.12", "x86_64", False),
        ('platform_machine == "aarch64"', "python3.12", "x86_64", False),
        ('platform_machine == "aarch64"', "python3.12", "arm64", True),
        ('implementation_name == "pypy"', "python3.12", "x86_64", False),
        ('python_version >= "3.9" and os_name == "posix"', "python3.12", "x86_64", True),
        (
            '(python_version >= "3.9" and platform_system == "Windows") and extra == "tz"',
            "python3.12",
            "x86_64",
            False,
        ),
    ],
)
def test_markers_are_evaluated_for_the_runtime(
    marker: str, runtime: str, architecture: str, reported: bool
) -> None:
    lock = lock_of(locked("app", f"native; {marker}"), locked("native", wheels=(NATIVE_MAC,)))
    assert names(find(lock, ["app"], runtime, architecture)) == (["native"] if reported else [])


def test_markers_of_top_level_requirements_are_evaluated() -> None:
    lock = lock_of(locked("native", wheels=(NATIVE_MAC,)))
    assert find(lock, ['native; python_version < "3.9"'], "python3.12") == ()
    assert names(find(lock, ['native; python_version >= "3.9"'], "python3.12")) == ["native"]


def test_missing_marker_variables_are_empty_not_the_hosts() -> None:
    lock = lock_of(locked("app", 'native; sys_platform == "linux"'), locked("native", wheels=()))
    result = find_incompatible_requirements(
        lock, ["app"], {"python_version": "3.12"}, platform("python3.12")["compatible_tags"]
    )
    assert result == ()


def test_cycles_terminate() -> None:
    lock = lock_of(
        locked("a", "b"),
        locked("b", "a", "native"),
        locked("native", "a", wheels=(NATIVE_MAC,)),
    )
    [problem] = find(lock, ["a"], "python3.12")
    assert problem.required_by == ("a", "b")


def test_requirements_missing_from_the_lock_are_skipped() -> None:
    lock = lock_of(locked("app", "ghost>=1", "native"), locked("native", wheels=(NATIVE_MAC,)))
    assert names(find(lock, ["app", "not-locked==1.0"], "python3.12")) == ["native"]


def test_names_are_canonicalized() -> None:
    lock = lock_of(
        locked("My_App", "Zope.Interface"),
        locked("zope-interface", wheels=(NATIVE_MAC,)),
    )
    [problem] = find(lock, ["my.app"], "python3.12")
    assert (problem.project_name, problem.required_by) == ("zope-interface", ("my-app",))


def test_output_is_sorted_and_independent_of_input_order() -> None:
    lock = lock_of(
        locked("b-app", "zeta", "alpha"),
        locked("a-app", "alpha"),
        locked("zeta", wheels=(NATIVE_MAC,)),
        locked("alpha", wheels=(NATIVE_MAC,)),
        locked("a-app-native", wheels=("cp312-cp312-win_amd64",)),
    )
    requirements = ["b-app", "a-app", "a-app-native"]
    forward = find(lock, requirements, "python3.12")
    assert names(forward) == ["a-app-native", "alpha", "zeta"]
    assert find(lock, list(reversed(requirements)), "python3.12") == forward
    reversed_lock = lock_of(*reversed(lock["locked_resolves"][0]["locked_requirements"]))
    assert find(reversed_lock, requirements, "python3.12") == forward
    assert dict((p.project_name, p.required_by) for p in forward)["alpha"] == ("a-app",)


def test_an_sdist_only_requirement_is_left_to_pex_to_build() -> None:
    lock = lock_of(locked("app", "legacy"), locked("legacy", wheels=()))
    assert find(lock, ["app"], "python3.12") == ()
    assert find_sdist_only_requirements(
        lock, ["app"], platform("python3.12")["marker_environment"]
    ) == ("legacy",)
    # Only what is reached: an unreferenced sdist-only requirement is not built.
    assert find_sdist_only_requirements(lock, ["legacy"], {}) == ("legacy",)
    assert (
        find_sdist_only_requirements(
            lock_of(locked("app"), locked("legacy", wheels=())), ["app"], {}
        )
        == ()
    )


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


@pytest.mark.parametrize(
    "wheel, specific",
    [
        ("docopt-0.6.2-py2.py3-none-any.whl", False),
        ("crcmod-1.7-cp312-cp312-linux_x86_64.whl", True),
        ("numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", True),
        ("cryptography-50.0.2-cp311-abi3-manylinux_2_34_aarch64.whl", True),
    ],
)
def test_is_platform_specific(wheel: str, specific: bool) -> None:
    assert is_platform_specific(wheel) is specific


def test_project_name() -> None:
    assert (
        project_name("Pydantic_Core-2.46.5-cp313-cp313-manylinux_2_17_x86_64.whl")
        == "pydantic-core"
    )


def test_requires_python_excluding_the_runtime_is_reported() -> None:
    lock = lock_of(locked("modern", requires_python=">=3.13"))
    assert find(lock, ["modern"], "python3.13") == ()
    [problem] = find(lock, ["modern"], "python3.12")
    assert problem.excluded_by_requires_python == ">=3.13"
    message = describe([*find(lock, ["modern"], "python3.12")], "python3.12")
    assert "requires Python >=3.13" in message
    assert "Python 3.12" in message


def test_invalid_requirements_are_user_errors() -> None:
    lock = lock_of(locked("app", "not a requirement!"))
    with pytest.raises(ValueError, match="requires_dists` of app"):
        find(lock, ["app"], "python3.12")
    with pytest.raises(ValueError, match="among the requirements"):
        find(lock, ["app[x"], "python3.12")


# --------------------------------------------------------------------------------------------------
# The real lockfile
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_lock() -> dict:
    return load_lock(DEFAULT_LOCK.read_text())


@pytest.fixture(scope="module")
def lock_requirements(default_lock: dict) -> list[str]:
    requirements = default_lock["requirements"]
    assert any(r.startswith("pydantic") for r in requirements)
    return requirements


def locked_entry(lock: dict, name: str) -> dict:
    [entry] = [
        r for r in lock["locked_resolves"][0]["locked_requirements"] if r["project_name"] == name
    ]
    return entry


@pytest.mark.parametrize("runtime", [r for r in RUNTIMES if r != "python3.8"])
@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_real_lock_serves_pydantic_on_every_runtime_it_allows(
    default_lock: dict, lock_requirements: list[str], runtime: str, architecture: str
) -> None:
    # Written by a current pex: version-specific wheels up to the newest runtime's CPython.
    assert find(default_lock, lock_requirements, runtime, architecture) == ()
    # Extras whose requirements the lock lacks, or whose markers exclude Linux, change nothing.
    assert find(default_lock, ["pydantic[email,timezone]"], runtime, architecture) == ()


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


def test_the_al2023_lock_serves_todays_runtimes() -> None:
    lock = load_lock(AL2023_LOCK.read_text())
    assert lock["requires_python"] == ["CPython<3.15,>=3.12"]
    for runtime in ("python3.12", "python3.13", "python3.14"):
        for architecture in ("x86_64", "arm64"):
            assert find(lock, lock["requirements"], runtime, architecture) == (), (
                runtime,
                architecture,
            )


def test_real_lock_refuses_python38_by_requires_python(default_lock: dict) -> None:
    problems = {p.project_name: p for p in find(default_lock, ["pydantic>=2.5"], "python3.8")}
    assert problems["pydantic"].excluded_by_requires_python == ">=3.9"
    assert "pydantic-core" in problems


def test_real_lock_sdist_only(default_lock: dict, lock_requirements: list[str]) -> None:
    lock = copy.deepcopy(default_lock)
    core = locked_entry(lock, "pydantic-core")
    core["artifacts"] = [a for a in core["artifacts"] if not a["url"].endswith(".whl")]
    # PEX builds it; what it builds is checked after the resolve.
    assert find(lock, lock_requirements, "python3.12", "arm64") == ()
    env = platform("python3.12", "arm64")["marker_environment"]
    assert find_sdist_only_requirements(lock, lock_requirements, env) == ("pydantic-core",)


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


def test_incompatible_requirement_helpers() -> None:
    p = problem(
        "native",
        "cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp39-cp39-macosx_11_0_arm64",
        "cp312-abi3-win_amd64",
        "pp311-pypy311_pp73-manylinux_2_17_x86_64",
        sdist=True,
    )
    assert p.requirement == "native==1.0"
    assert p.sdists == ("native-1.0.tar.gz",)
    assert len(p.wheels) == 4
    assert p.has_sdist and not p.only_sdist
    assert p.wheel_platforms == (
        "macosx_11_0_arm64",
        "manylinux2014_x86_64",
        "manylinux_2_17_x86_64",
        "win_amd64",
    )
    assert p.wheel_interpreters == ("cp39", "cp310", "cp312", "pp311")
    assert p.wheel_abis == ("abi3", "cp310", "cp39", "pypy311_pp73")
    # abi3 and PyPy wheels are not version-specific CPython wheels.
    assert p.newest_cpython_wheel == (3, 10)
    assert problem("pure", "py3-none-any").newest_cpython_wheel is None


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
