"""Sizes as messages write them: binary units, as AWS's limits count."""

from __future__ import annotations

from typing import NamedTuple

from pants_aws_lambda.facts.quotas import BINARY_UNITS


class NamedSize(NamedTuple):
    """The unzipped bytes of something named: a top-level entry, a directory, a `bytecode` value."""

    name: str
    bytes: int


def format_bytes(size: int) -> str:
    """A size in binary units, as AWS's limits count: `243.2 MiB` is 243.2 x 2^20 bytes."""
    for unit, scale in BINARY_UNITS:
        if size >= scale:
            # Never round up to the next tenth: a size just under a limit must not read as it.
            tenths = size * 10 // scale
            return f"{tenths // 10}.{tenths % 10} {unit}"
    return f"{size} B"


def format_exact(size: int) -> str:
    """A size in binary units with its exact byte count, for messages about a crossed limit."""
    return f"{format_bytes(size)} ({size:,} bytes)"
