"""The committed complete platforms (`platforms/`) and what the generator derives from the runtime
table: manylinux platforms, compatible tags and marker environments."""

from __future__ import annotations

import json
import pkgutil
import re

import pytest

from pants_aws_lambda.facts.architectures import ARCHITECTURES
from pants_aws_lambda.facts.runtimes import RUNTIMES, LambdaRuntime
from pants_aws_lambda.runtimes.complete_platforms import (
    complete_platform,
    file_name,
    generate_all,
    manylinux_platforms,
    platforms_dir,
)

REGENERATE = "./pants run pants-plugins/pants_aws_lambda/runtimes/complete_platforms.py"


# --------------------------------------------------------------------------------------------------
# The committed files
# --------------------------------------------------------------------------------------------------


def test_committed_platforms_equal_generator_output() -> None:
    directory = platforms_dir()
    assert (
        directory.is_dir()
    ), f"{directory} is missing: the test needs the `:platforms` resources target as a dependency."
    committed = {path.name: path.read_text() for path in directory.glob("*.json")}
    expected = generate_all()

    missing = sorted(expected.keys() - committed.keys())
    extra = sorted(committed.keys() - expected.keys())
    stale = sorted(
        name for name in expected.keys() & committed.keys() if committed[name] != expected[name]
    )
    assert not (missing or extra or stale), (
        "The committed complete platforms do not match the runtime table "
        f"(missing: {missing}, not generated: {extra}, out of date: {stale}). "
        f"Regenerate them with `{REGENERATE}` and commit the result."
    )


@pytest.mark.parametrize("runtime", RUNTIMES.values(), ids=lambda r: r.name)
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_committed_complete_platform_matches_the_row(
    runtime: LambdaRuntime, architecture: str
) -> None:
    content = pkgutil.get_data(
        "pants_aws_lambda.runtimes", f"platforms/{file_name(runtime.name, architecture)}"
    )
    assert content is not None
    platform = json.loads(content)
    machine = ARCHITECTURES[architecture].machine
    assert platform["marker_environment"]["python_version"] == str(runtime.python_version)
    assert platform["marker_environment"]["platform_machine"] == machine
    interpreter = "cp" + str(runtime.python_version).replace(".", "")
    # Most preferred: a wheel for exactly this CPython and the newest glibc of the runtime's OS.
    assert (
        platform["compatible_tags"][0]
        == f"{interpreter}-{interpreter}-{runtime.manylinux}_{machine}"
    )
    newer_glibc = "manylinux_{}_{}_{}".format(runtime.glibc[0], runtime.glibc[1] + 1, machine)
    assert not any(tag.endswith(newer_glibc) for tag in platform["compatible_tags"])


def test_one_file_per_runtime_and_architecture() -> None:
    expected_names = {
        f"{runtime}-{architecture}.json" for runtime in RUNTIMES for architecture in ARCHITECTURES
    }
    assert set(generate_all()) == expected_names
    assert len(expected_names) == 2 * len(RUNTIMES)


def test_rendered_files_are_pex_complete_platforms() -> None:
    for name, content in generate_all().items():
        platform_json = json.loads(content)
        assert set(platform_json) == {"marker_environment", "compatible_tags"}, name
        assert platform_json["compatible_tags"], name
        assert content.endswith("}\n"), name


# --------------------------------------------------------------------------------------------------
# manylinux_platforms
# --------------------------------------------------------------------------------------------------


def test_manylinux_platforms_x86_64_spelled_out() -> None:
    assert list(manylinux_platforms("x86_64", (2, 18))) == [
        "manylinux_2_18_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
        "manylinux_2_16_x86_64",
        "manylinux_2_15_x86_64",
        "manylinux_2_14_x86_64",
        "manylinux_2_13_x86_64",
        "manylinux_2_12_x86_64",
        "manylinux2010_x86_64",
        "manylinux_2_11_x86_64",
        "manylinux_2_10_x86_64",
        "manylinux_2_9_x86_64",
        "manylinux_2_8_x86_64",
        "manylinux_2_7_x86_64",
        "manylinux_2_6_x86_64",
        "manylinux_2_5_x86_64",
        "manylinux1_x86_64",
        "linux_x86_64",
    ]


def test_manylinux_platforms_x86_64_al2023() -> None:
    platforms = list(manylinux_platforms("x86_64", (2, 34)))
    assert platforms[0] == "manylinux_2_34_x86_64"
    assert platforms[-1] == "linux_x86_64"
    # 2_34 down to 2_5, three legacy aliases, and linux_x86_64.
    assert len(platforms) == (34 - 5 + 1) + 3 + 1
    assert len(set(platforms)) == len(platforms)
    for glibc_minor, legacy in [(17, "manylinux2014"), (12, "manylinux2010"), (5, "manylinux1")]:
        index = platforms.index(f"manylinux_2_{glibc_minor}_x86_64")
        assert platforms[index + 1] == f"{legacy}_x86_64"
    # Newest first.
    minors = [int(m.group(1)) for m in map(re.compile(r"manylinux_2_(\d+)_").match, platforms) if m]
    assert minors == sorted(minors, reverse=True)


def test_manylinux_platforms_aarch64_stops_at_manylinux2014() -> None:
    assert list(manylinux_platforms("aarch64", (2, 17))) == [
        "manylinux_2_17_aarch64",
        "manylinux2014_aarch64",
        "linux_aarch64",
    ]
    platforms = list(manylinux_platforms("aarch64", (2, 26)))
    assert platforms[0] == "manylinux_2_26_aarch64"
    assert platforms[-3:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"]
    assert len(platforms) == (26 - 17 + 1) + 1 + 1
    assert not any("manylinux2010" in p or "manylinux1" in p for p in platforms)


# --------------------------------------------------------------------------------------------------
# compatible_tags and marker_environment
# --------------------------------------------------------------------------------------------------


def _platform_of(tag: str) -> str:
    return tag.split("-")[2]


def _newest_manylinux_minor(tags: list[str]) -> int:
    matches = (re.match(r"manylinux_2_(\d+)_", _platform_of(tag)) for tag in tags)
    return max(int(m.group(1)) for m in matches if m)


def test_compatible_tags_python312_x86_64() -> None:
    runtime = RUNTIMES["python3.12"]
    tags = complete_platform(runtime, "x86_64")["compatible_tags"]
    assert tags[0] == "cp312-cp312-manylinux_2_34_x86_64"
    assert _newest_manylinux_minor(tags) == 34
    assert "cp312-abi3-manylinux_2_34_x86_64" in tags
    assert "cp38-abi3-manylinux2014_x86_64" in tags
    assert "cp312-none-any" in tags
    assert "py3-none-any" in tags
    assert "py3-none-manylinux1_x86_64" in tags
    # The interpreter's own ABI, the stable ABI or none: never another CPython version's ABI.
    assert {tag.split("-")[1] for tag in tags} == {"cp312", "abi3", "none"}
    assert all(_platform_of(tag) == "any" or _platform_of(tag).endswith("_x86_64") for tag in tags)
    assert len(set(tags)) == len(tags)
    # The most specific tag is preferred over the stable ABI, which is preferred over pure Python.
    assert tags.index("cp312-cp312-linux_x86_64") < tags.index("cp312-abi3-manylinux_2_34_x86_64")
    assert tags.index("cp312-abi3-linux_x86_64") < tags.index("py3-none-any")


def test_compatible_tags_al2_arm64() -> None:
    tags = complete_platform(RUNTIMES["python3.9"], "arm64")["compatible_tags"]
    assert tags[0] == "cp39-cp39-manylinux_2_26_aarch64"
    assert _newest_manylinux_minor(tags) == 26
    assert "cp39-cp39-manylinux2014_aarch64" in tags
    assert not any("x86_64" in tag or "manylinux1" in tag or "manylinux2010" in tag for tag in tags)
    assert {tag.split("-")[1] for tag in tags} == {"cp39", "abi3", "none"}


@pytest.mark.parametrize("runtime", RUNTIMES.values(), ids=lambda r: r.name)
def test_no_tag_needs_a_newer_glibc_than_the_runtime(runtime: LambdaRuntime) -> None:
    for architecture in ARCHITECTURES:
        tags = complete_platform(runtime, architecture)["compatible_tags"]
        assert _newest_manylinux_minor(tags) == runtime.glibc[1]


def test_marker_environment() -> None:
    markers = complete_platform(RUNTIMES["python3.12"], "arm64")["marker_environment"]
    assert markers["platform_machine"] == "aarch64"
    assert markers["python_version"] == "3.12"
    assert markers["python_full_version"] == "3.12.0"
    assert markers["sys_platform"] == "linux"
    assert markers["platform_system"] == "Linux"
    assert markers["implementation_name"] == "cpython"
    x86_markers = complete_platform(RUNTIMES["python3.8"], "x86_64")["marker_environment"]
    assert x86_markers["platform_machine"] == "x86_64"
    assert x86_markers["python_version"] == "3.8"
