from __future__ import annotations

from datetime import date

import pytest

from pants_aws_lambda.runtimes import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    RUNTIMES,
    runtime_for_python_version,
)

# The runtime table of LAMBDA_FACTS.md. Amazon Linux 2 (glibc 2.26): name -> (deprecated, create
# blocked); Amazon Linux 2023 (glibc 2.34): name -> planned deprecation.
AL2_RUNTIMES = {
    "python3.8": ("2024-10-14", "2025-02-28"),
    "python3.9": ("2025-12-15", "2026-02-03"),
    "python3.10": ("2026-06-30", "2026-07-31"),
    "python3.11": ("2026-06-30", "2026-07-31"),
}
AL2023_RUNTIMES = {
    "python3.12": "2028-10-31",
    "python3.13": "2029-06-30",
    "python3.14": "2029-06-30",
}


def test_every_python_runtime_is_known() -> None:
    assert set(RUNTIMES) == {f"python3.{minor}" for minor in range(8, 15)}
    for name, runtime in RUNTIMES.items():
        assert runtime.name == name
        assert f"python{runtime.python_version_str}" == name


def test_operating_system_and_glibc() -> None:
    for name in AL2_RUNTIMES:
        assert (RUNTIMES[name].os, RUNTIMES[name].glibc) == ("Amazon Linux 2", (2, 26)), name
        assert RUNTIMES[name].manylinux == "manylinux_2_26"
    for name in AL2023_RUNTIMES:
        assert (RUNTIMES[name].os, RUNTIMES[name].glibc) == ("Amazon Linux 2023", (2, 34)), name
        assert RUNTIMES[name].manylinux == "manylinux_2_34"


def test_deprecated_runtimes_are_exactly_the_al2_ones() -> None:
    deprecated = {
        r.name: (r.deprecated_on, r.create_blocked_on) for r in RUNTIMES.values() if r.is_deprecated
    }
    assert deprecated == AL2_RUNTIMES


def test_supported_runtimes_have_a_planned_deprecation_only() -> None:
    for name, planned in AL2023_RUNTIMES.items():
        runtime = RUNTIMES[name]
        assert not runtime.is_deprecated
        assert runtime.create_blocked_on is None
        assert runtime.deprecation_planned_on == planned
        assert runtime.deprecation_message() is None


@pytest.mark.parametrize("name", sorted(AL2_RUNTIMES))
def test_deprecation_message_names_runtime_and_dates(name: str) -> None:
    deprecated_on, create_blocked_on = AL2_RUNTIMES[name]
    message = RUNTIMES[name].deprecation_message()
    assert message is not None
    assert f"`{name}`" in message
    assert deprecated_on in message
    assert create_blocked_on in message


def test_dates_are_iso_and_blocking_follows_deprecation() -> None:
    for runtime in RUNTIMES.values():
        if runtime.is_deprecated:
            assert runtime.create_blocked_on is not None, runtime.name
            deprecated_on = date.fromisoformat(runtime.deprecated_on)
            assert deprecated_on < date.fromisoformat(runtime.create_blocked_on), runtime.name
        if runtime.deprecation_planned_on is not None:
            date.fromisoformat(runtime.deprecation_planned_on)


def test_runtime_for_python_version() -> None:
    for minor in range(8, 15):
        runtime = runtime_for_python_version((3, minor))
        assert runtime is not None and runtime.name == f"python3.{minor}"
    assert runtime_for_python_version((3, 7)) is None
    assert runtime_for_python_version((3, 15)) is None
    assert runtime_for_python_version((2, 7)) is None


def test_architectures() -> None:
    assert {name: a.machine for name, a in ARCHITECTURES.items()} == {
        "x86_64": "x86_64",
        "arm64": "aarch64",
    }
    assert DEFAULT_ARCHITECTURE in ARCHITECTURES
