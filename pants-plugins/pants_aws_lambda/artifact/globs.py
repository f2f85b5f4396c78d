"""Path globs of the `exclude` field: `*` and `?` stay within a path segment, `**` spans
segments."""

from __future__ import annotations

import re
from typing import Iterable


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
