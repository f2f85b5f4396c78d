"""Facts about AWS Lambda's Python runtimes, as data.

Everything the plugin knows about a runtime (its Python version, the glibc of its operating system,
its support dates, how it encodes responses, whether the runtime client runs on it) lives in
`RUNTIMES`; everything it knows about an architecture lives in `ARCHITECTURES` (in
`architectures.py`). Every other place (the complete platforms, the `runtime` field's help, the
`[awslambdaric]` interpreter constraints, the local runner's JSON encoding, the tests and the docs'
tables) derives from them, so a new runtime is one new row. Nothing here imports the Pants engine.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable

from pants_aws_lambda.facts.manylinux import GlibcVersion
from pants_aws_lambda.facts.python_version import PythonVersion


@dataclass(frozen=True)
class LambdaRuntime:
    name: str
    python_version: PythonVersion
    os: str
    glibc: GlibcVersion
    # Whether the runtime's JSON encoder escapes non-ASCII characters in a response (`json.dumps`'s
    # `ensure_ascii`): the runtimes before python3.12 do, the later ones keep them as UTF-8.
    json_ensure_ascii: bool
    # Whether the plugin's pinned `awslambdaric` (see `invoke/runtime_client.py`) has wheels for
    # the runtime's CPython; the `[awslambdaric]` interpreter constraints are those of these
    # runtimes.
    awslambdaric: bool
    # AWS's published dates (YYYY-MM-DD; `DATES_CHECKED_ON` says when they were last compared with
    # AWS's runtimes page, which moves them): when AWS deprecates the runtime (stops patching it),
    # then blocks creating functions with it, then blocks updating them. None: not announced.
    deprecation_on: str
    create_blocked_on: str | None = None
    update_blocked_on: str | None = None

    def is_deprecated(self, today: datetime.date) -> bool:
        """Whether AWS has deprecated the runtime by `today` (given, so that the status is a pure
        function of the date: the caller decides which day it is)."""
        return datetime.date.fromisoformat(self.deprecation_on) <= today

    @property
    def manylinux(self) -> str:
        return self.glibc.manylinux

    def deprecation_message(self, today: datetime.date) -> str | None:
        """What to tell a user of a runtime AWS has deprecated by `today`; None before that."""
        if not self.is_deprecated(today):
            return None
        message = f"AWS deprecated the `{self.name}` runtime on {self.deprecation_on}"
        if self.create_blocked_on:
            message += f"; creating functions with it is blocked from {self.create_blocked_on}"
        if self.update_blocked_on:
            message += f", updating them from {self.update_blocked_on}"
        return message + "."


# What every Python runtime provides in `/var/runtime`, after the function and its layers on
# `sys.path`: the AWS SDK for Python, as top-level module -> distribution.
RUNTIME_PROVIDED_MODULES: dict[str, str] = {
    "boto3": "boto3",
    "botocore": "botocore",
    "s3transfer": "s3transfer",
    "jmespath": "jmespath",
    "dateutil": "python-dateutil",
    "six": "six",
    "urllib3": "urllib3",
}

# The day the dates below were last compared with AWS's Lambda runtimes page.
DATES_CHECKED_ON = "2026-12-06"

AL2 = "Amazon Linux 2"
AL2023 = "Amazon Linux 2023"

# fmt: off
RUNTIMES: dict[str, LambdaRuntime] = {
    r.name: r
    for r in (
        # name, Python, OS, glibc, json_ensure_ascii, awslambdaric, then AWS's dates: deprecation,
        # creating blocked, updating blocked.
        LambdaRuntime("python3.8", PythonVersion(3, 8), AL2, GlibcVersion(2, 26), True, False,
                      "2024-10-14", "2025-02-28", "2025-03-31"),
        LambdaRuntime("python3.9", PythonVersion(3, 9), AL2, GlibcVersion(2, 26), True, False,
                      "2025-12-15", "2026-08-31", "2026-09-30"),
        LambdaRuntime("python3.10", PythonVersion(3, 10), AL2, GlibcVersion(2, 26), True, True,
                      "2026-10-31", "2026-11-30", "2027-01-15"),
        LambdaRuntime("python3.11", PythonVersion(3, 11), AL2, GlibcVersion(2, 26), True, True,
                      "2027-06-30", "2027-07-31", "2027-08-31"),
        LambdaRuntime("python3.12", PythonVersion(3, 12), AL2023, GlibcVersion(2, 34), False, True,
                      "2028-10-31"),
        LambdaRuntime("python3.13", PythonVersion(3, 13), AL2023, GlibcVersion(2, 34), False, True,
                      "2029-06-30"),
        LambdaRuntime("python3.14", PythonVersion(3, 14), AL2023, GlibcVersion(2, 34), False, True,
                      "2029-06-30"),
    )
}
# fmt: on


def runtime_for_python_version(version: tuple[int, int]) -> LambdaRuntime | None:
    for runtime in RUNTIMES.values():
        if runtime.python_version == version:
            return runtime
    return None


def closest_runtime(
    version: tuple[int, int], runtimes: Iterable[LambdaRuntime] | None = None
) -> LambdaRuntime:
    """The runtime of CPython `version`; for a version the table lacks (a `complete_platforms`
    target), the newest runtime not newer than it, or else the oldest runtime."""
    ordered = sorted(
        RUNTIMES.values() if runtimes is None else runtimes, key=lambda r: r.python_version
    )
    older = [r for r in ordered if r.python_version <= version]
    return older[-1] if older else ordered[0]


def _contiguous_minors(minors: list[int]) -> list[tuple[int, int]]:
    """Sorted minor versions as inclusive (first, last) runs: [9, 10, 11, 13] -> [(9, 11),
    (13, 13)]."""
    runs: list[tuple[int, int]] = []
    for minor in sorted(set(minors)):
        if runs and runs[-1][1] == minor - 1:
            runs[-1] = (runs[-1][0], minor)
        else:
            runs.append((minor, minor))
    return runs


def interpreter_constraints(runtimes: Iterable[LambdaRuntime]) -> list[str]:
    """The CPythons of `runtimes` as `CPython>=3.X,<3.Y` ranges (alternatives, one per run of
    consecutive versions)."""
    by_major: dict[int, list[int]] = {}
    for runtime in runtimes:
        major, minor = runtime.python_version
        by_major.setdefault(major, []).append(minor)
    return [
        f"CPython>={major}.{first},<{major}.{last + 1}"
        for major, minors in sorted(by_major.items())
        for first, last in _contiguous_minors(minors)
    ]


def runtime_client_interpreter_constraints(
    runtimes: Iterable[LambdaRuntime] | None = None,
) -> list[str]:
    """The `[awslambdaric]` interpreter constraints: the CPythons of the runtimes it supports."""
    return interpreter_constraints(
        r for r in (RUNTIMES.values() if runtimes is None else runtimes) if r.awslambdaric
    )
