"""A glibc version, the manylinux tag that names it, and the legacy manylinux tags (PEP 600)."""

from __future__ import annotations

from typing import NamedTuple


class GlibcVersion(NamedTuple):
    """A glibc `major.minor`; a tuple, so it compares and sorts as one (and with plain tuples)."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def manylinux(self) -> str:
        """The PEP 600 platform tag's prefix for wheels built for it: `manylinux_2_34`."""
        return f"manylinux_{self.major}_{self.minor}"


# Legacy tag -> the glibc it is an alias of.
LEGACY_MANYLINUX: dict[str, GlibcVersion] = {
    "manylinux2014": GlibcVersion(2, 17),
    "manylinux2010": GlibcVersion(2, 12),
    "manylinux1": GlibcVersion(2, 5),
}
