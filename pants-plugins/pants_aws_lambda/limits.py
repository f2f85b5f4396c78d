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


# AWS Lambda quotas for .zip deployments.
UNZIPPED_BYTES = Limit(262_144_000, "250 MB unzipped, function and all its layers together")
DIRECT_UPLOAD_ZIPPED_BYTES = Limit(52_428_800, "50 MB zipped for direct upload")
LAYERS_PER_FUNCTION = Limit(5, "5 layers per function")
# ... and for container images, which the `flat` layout is for.
CONTAINER_IMAGE_BYTES = Limit(10_737_418_240, "10 GB per container image")


def format_bytes(size: int) -> str:
    for unit, scale in (("GB", 1_000_000_000), ("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


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
