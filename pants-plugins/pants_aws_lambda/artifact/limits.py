"""Lambda's deployment limits, artifact path globs, and the size breakdown shown when over a limit.

Pure functions; no Pants engine imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Limit:
    value: int
    what: str


# AWS Lambda quotas for .zip deployments. AWS writes "250 MB" for 250 x 2^20 bytes: sizes here are
# binary (KiB, MiB, GiB), so a size and a limit always compare as their numbers read.
UNZIPPED_BYTES = Limit(250 * 2**20, "250 MiB unzipped, function and all its layers together")
DIRECT_UPLOAD_ZIPPED_BYTES = Limit(50 * 2**20, "50 MiB zipped for direct upload")
LAYERS_PER_FUNCTION = Limit(5, "5 layers per function")
# ... and for container images, which the `flat` layout is for.
CONTAINER_IMAGE_BYTES = Limit(10 * 2**30, "10 GiB per container image")


def format_bytes(size: int) -> str:
    """A size in binary units, as AWS's limits count: `243.2 MiB` is 243.2 x 2^20 bytes."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            # Never round up to the next tenth: a size just under a limit must not read as it.
            tenths = size * 10 // scale
            return f"{tenths // 10}.{tenths % 10} {unit}"
    return f"{size} B"


def format_exact(size: int) -> str:
    """A size in binary units with its exact byte count, for messages about a crossed limit."""
    return f"{format_bytes(size)} ({size:,} bytes)"


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """A path glob: `*` and `?` stay within a path segment, `**` spans segments.

    `boto3/**` matches everything below `boto3/`; `**/tests/**` matches any `tests` directory's
    contents; a pattern without `/` that names a directory (`boto3`) matches nothing by itself:
    globs match file paths.
    """
    i, out = 0, []
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches_any(path: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    return any(p.match(path) for p in patterns)


@dataclass(frozen=True)
class Distribution:
    name: str  # canonical project name
    version: str

    @classmethod
    def from_wheel(cls, wheel_filename: str) -> Distribution:
        name, version = wheel_filename.split("-")[:2]
        return cls(str(canonicalize_name(name)), version)

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def size_breakdown(
    top_level_sizes: Mapping[str, int], owners: Mapping[str, str], *, limit: int = 8
) -> list[tuple[str, int]]:
    """The largest contributors: top-level entries, labelled with the distribution they come from.

    `owners` maps a top-level entry to a label (e.g. the distribution providing it); entries of
    the same label are summed, so a distribution's package and its `.dist-info` count as one.
    """
    totals: dict[str, int] = {}
    for top, size in top_level_sizes.items():
        label = owners.get(top, f"{top}{'/' if '.' not in top else ''} (first-party)")
        totals[label] = totals.get(label, 0) + size
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
