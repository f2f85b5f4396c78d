"""Wheel file names (`wheels.py`): their tags, and which wheels the runtimes' complete platforms
accept."""

from __future__ import annotations

import pytest

from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.requirements.wheels import (
    artifact_file_name,
    is_compatible_wheel,
    is_platform_specific,
    project_name,
    wheel_tags,
)
from pants_aws_lambda.testutil.locks import platform

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
