"""The CPU architectures Lambda runs functions on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LambdaArchitecture:
    name: str  # as AWS spells it: `x86_64`, `arm64`
    machine: str  # as `platform.machine()` and wheel tags spell it: `x86_64`, `aarch64`


ARCHITECTURES: dict[str, LambdaArchitecture] = {
    a.name: a
    for a in (LambdaArchitecture("x86_64", "x86_64"), LambdaArchitecture("arm64", "aarch64"))
}
DEFAULT_ARCHITECTURE = "x86_64"
