"""The runtime table (`runtimes.py`) checked against what does not come from it: the rules AWS's
runtimes follow (one OS change, deprecations in version order) and `packaging.tags`. No test here
repeats the table's rows. The committed complete platforms are checked against it in
`runtimes/complete_platforms_test.py`, the locked `awslambdaric` in `invoke/runtime_client_test.py`.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from packaging import tags

from pants_aws_lambda.facts.runtimes import (
    DATES_CHECKED_ON,
    RUNTIMES,
    LambdaRuntime,
    closest_runtime,
    runtime_for_python_version,
)

# The glibc of each operating system Lambda's Python runtimes run on: a fact of the OS, whatever
# runtime runs on it.
OS_GLIBC = {"Amazon Linux 2": (2, 26), "Amazon Linux 2023": (2, 34)}


# AWS's runtimes escape non-ASCII characters in responses up to python3.11; "starting with the
# Python 3.12 runtime, functions return Unicode characters" (AWS's Lambda runtime notes).
FIRST_VERSION_KEEPING_NON_ASCII = (3, 12)


BY_VERSION = sorted(RUNTIMES.values(), key=lambda r: r.python_version)


ids = pytest.mark.parametrize("runtime", BY_VERSION, ids=lambda r: r.name)


def _day(value: str | None) -> date:
    assert value is not None
    return date.fromisoformat(value)


# --------------------------------------------------------------------------------------------------
# Names and versions
# --------------------------------------------------------------------------------------------------


def test_rows_are_in_version_order_without_gaps() -> None:
    assert list(RUNTIMES.values()) == BY_VERSION, "keep `RUNTIMES` ordered by Python version"
    versions = [r.python_version for r in BY_VERSION]
    assert all(major == 3 for major, _ in versions)
    minors = [minor for _, minor in versions]
    assert minors == list(range(minors[0], minors[0] + len(minors))), "a Python version is missing"


@ids
def test_name_is_the_python_version(runtime: LambdaRuntime) -> None:
    assert RUNTIMES[runtime.name] is runtime
    assert runtime.name == f"python{str(runtime.python_version)}"
    # `packaging` names the interpreter the way the runtime's wheels do.
    first = next(iter(tags.cpython_tags(runtime.python_version, platforms=["linux_x86_64"])))
    assert first.interpreter == "cp" + str(runtime.python_version).replace(".", "")


def test_runtime_for_python_version() -> None:
    for runtime in BY_VERSION:
        assert runtime_for_python_version(runtime.python_version) is runtime
    (oldest_major, oldest_minor), (newest_major, newest_minor) = (
        BY_VERSION[0].python_version,
        BY_VERSION[-1].python_version,
    )
    assert runtime_for_python_version((oldest_major, oldest_minor - 1)) is None
    assert runtime_for_python_version((newest_major, newest_minor + 1)) is None
    assert runtime_for_python_version((2, 7)) is None


def test_closest_runtime() -> None:
    for runtime in BY_VERSION:
        assert closest_runtime(runtime.python_version) is runtime
    newest, oldest = BY_VERSION[-1], BY_VERSION[0]
    assert closest_runtime((newest.python_version[0], newest.python_version[1] + 1)) is newest
    assert closest_runtime((oldest.python_version[0], oldest.python_version[1] - 1)) is oldest


# --------------------------------------------------------------------------------------------------
# Operating system and glibc
# --------------------------------------------------------------------------------------------------


@ids
def test_glibc_is_the_operating_systems(runtime: LambdaRuntime) -> None:
    assert runtime.os in OS_GLIBC, f"{runtime.name}: add the glibc of {runtime.os} to OS_GLIBC"
    assert runtime.glibc == OS_GLIBC[runtime.os]
    assert runtime.manylinux == "manylinux_{}_{}".format(*OS_GLIBC[runtime.os])


def test_newer_runtimes_never_run_on_an_older_os() -> None:
    glibcs = [r.glibc for r in BY_VERSION]
    assert glibcs == sorted(glibcs)
    # Each OS serves one run of consecutive versions.
    oses = [r.os for r in BY_VERSION]
    runs = [os for i, os in enumerate(oses) if i == 0 or oses[i - 1] != os]
    assert len(runs) == len(set(runs))


# --------------------------------------------------------------------------------------------------
# Status and dates
# --------------------------------------------------------------------------------------------------


# The day the table's dates were checked, and days around python3.11's deprecation (2027-06-30).
CHECKED = _day(DATES_CHECKED_ON)


@pytest.mark.parametrize(
    "today", [CHECKED, _day("2027-06-29"), _day("2027-06-30"), _day("2030-01-01")]
)
def test_deprecated_runtimes_are_the_oldest(today: date) -> None:
    statuses = [r.is_deprecated(today) for r in BY_VERSION]
    assert statuses == sorted(statuses, reverse=True), "a runtime is deprecated before an older one"


def test_the_status_depends_on_the_day_given() -> None:
    python311 = RUNTIMES["python3.11"]
    # Not deprecated on the day the dates were checked: AWS moved its deprecation to 2027-06-30.
    assert not python311.is_deprecated(CHECKED)
    assert python311.deprecation_message(CHECKED) is None
    assert not python311.is_deprecated(_day("2027-06-29"))
    assert python311.is_deprecated(_day("2027-06-30"))
    assert python311.deprecation_message(_day("2027-06-30")) == (
        "AWS deprecated the `python3.11` runtime on 2027-06-30; creating functions with it is "
        "blocked from 2027-07-31, updating them from 2027-08-31."
    )
    assert [r.name for r in BY_VERSION if r.is_deprecated(CHECKED)] == [
        "python3.8",
        "python3.9",
        "python3.10",
    ]
    assert not BY_VERSION[-1].is_deprecated(CHECKED), "the newest runtime is deprecated"


@ids
def test_dates(runtime: LambdaRuntime) -> None:
    days = [
        _day(d)
        for d in (runtime.deprecation_on, runtime.create_blocked_on, runtime.update_blocked_on)
        if d
    ]
    assert days == sorted(days) and len(set(days)) == len(days), runtime.name
    # A runtime deprecated by the day the dates were checked has AWS's block dates.
    if runtime.is_deprecated(CHECKED):
        assert runtime.create_blocked_on and runtime.update_blocked_on, runtime.name


def test_dates_follow_version_order() -> None:
    days = [_day(r.deprecation_on) for r in BY_VERSION]
    assert days == sorted(days)


@ids
def test_deprecation_message(runtime: LambdaRuntime) -> None:
    assert runtime.deprecation_message(_day(runtime.deprecation_on) - timedelta(days=1)) is None
    message = runtime.deprecation_message(_day(runtime.deprecation_on))
    assert message is not None
    assert f"`{runtime.name}`" in message
    assert f"on {runtime.deprecation_on}" in message
    for day in (runtime.create_blocked_on, runtime.update_blocked_on):
        assert day is None or f"from {day}" in message


# --------------------------------------------------------------------------------------------------
# Response encoding
# --------------------------------------------------------------------------------------------------


@ids
def test_json_encoding_rule(runtime: LambdaRuntime) -> None:
    assert runtime.json_ensure_ascii == (runtime.python_version < FIRST_VERSION_KEEPING_NON_ASCII)
