"""The legacy manylinux platform tags, and the glibc each stands for (PEP 600)."""

from __future__ import annotations

# Legacy tag -> the glibc (major, minor) it is an alias of.
LEGACY_MANYLINUX: dict[str, tuple[int, int]] = {
    "manylinux2014": (2, 17),
    "manylinux2010": (2, 12),
    "manylinux1": (2, 5),
}
