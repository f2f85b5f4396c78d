"""Facts about AWS Lambda's Python runtimes, as data.

Everything the plugin knows about a runtime (its Python version, the glibc of its operating system,
its support status) lives in `RUNTIMES`; everything it knows about an architecture lives in
`ARCHITECTURES`. Nothing here imports the Pants engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LambdaArchitecture:
    name: str  # as AWS spells it: `x86_64`, `arm64`
    machine: str  # as `platform.machine()` and wheel tags spell it: `x86_64`, `aarch64`


ARCHITECTURES: dict[str, LambdaArchitecture] = {
    a.name: a for a in (LambdaArchitecture("x86_64", "x86_64"), LambdaArchitecture("arm64", "aarch64"))
}
DEFAULT_ARCHITECTURE = "x86_64"


@dataclass(frozen=True)
class LambdaRuntime:
    name: str
    python_version: tuple[int, int]
    os: str
    glibc: tuple[int, int]
    # AWS's published dates (YYYY-MM-DD). A runtime whose `deprecated_on` is set is deprecated: AWS
    # no longer patches it, and from `create_blocked_on` new functions cannot use it.
    deprecated_on: str | None = None
    create_blocked_on: str | None = None
    deprecation_planned_on: str | None = None

    @property
    def is_deprecated(self) -> bool:
        return self.deprecated_on is not None

    @property
    def python_version_str(self) -> str:
        return "{}.{}".format(*self.python_version)

    @property
    def manylinux(self) -> str:
        return "manylinux_{}_{}".format(*self.glibc)

    def deprecation_message(self) -> str | None:
        if not self.is_deprecated:
            return None
        return (
            f"AWS deprecated the `{self.name}` runtime on {self.deprecated_on} and blocks creating new "
            f"functions with it from {self.create_blocked_on}."
        )


_AL2 = "Amazon Linux 2"
_AL2023 = "Amazon Linux 2023"

RUNTIMES: dict[str, LambdaRuntime] = {
    r.name: r
    for r in (
        LambdaRuntime("python3.8", (3, 8), _AL2, (2, 26), "2024-10-14", "2025-02-28"),
        LambdaRuntime("python3.9", (3, 9), _AL2, (2, 26), "2025-12-15", "2026-02-03"),
        LambdaRuntime("python3.10", (3, 10), _AL2, (2, 26), "2026-06-30", "2026-07-31"),
        LambdaRuntime("python3.11", (3, 11), _AL2, (2, 26), "2026-06-30", "2026-07-31"),
        LambdaRuntime("python3.12", (3, 12), _AL2023, (2, 34), deprecation_planned_on="2028-10-31"),
        LambdaRuntime("python3.13", (3, 13), _AL2023, (2, 34), deprecation_planned_on="2029-06-30"),
        LambdaRuntime("python3.14", (3, 14), _AL2023, (2, 34), deprecation_planned_on="2029-06-30"),
    )
}


def runtime_for_python_version(version: tuple[int, int]) -> LambdaRuntime | None:
    for runtime in RUNTIMES.values():
        if runtime.python_version == version:
            return runtime
    return None
