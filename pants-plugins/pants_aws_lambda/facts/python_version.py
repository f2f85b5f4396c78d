"""A CPython version as Lambda names it: `3.13`, the runtime `python3.13`, the tag `cp313`."""

from __future__ import annotations

import re
from typing import NamedTuple

# `3.13`, `python3.13`, `3.13.1` (of a full version, only major and minor count).
_DOTTED = re.compile(r"(?:python)?(\d+)\.(\d+)(?:\..*)?")
# A CPython wheel tag, `cp313`: one digit of major version, then the minor.
_TAG = re.compile(r"cp(\d)(\d+)")


class PythonVersion(NamedTuple):
    """A CPython `major.minor`; a tuple, so it compares and sorts as one (and with plain tuples)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> PythonVersion:
        """`3.13`, `python3.13` or `cp313` (a runtime's name, a wheel tag) as a version."""
        dotted = _DOTTED.fullmatch(text)
        if dotted:
            return cls(int(dotted.group(1)), int(dotted.group(2)))
        tag = _TAG.fullmatch(text)
        if tag:
            return cls(int(tag.group(1)), int(tag.group(2)))
        raise ValueError(f"{text!r} is not a Python version (`3.13`, `python3.13` or `cp313`).")

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def runtime_name(self) -> str:
        """The Lambda runtime, and the interpreter's file name: `python3.13`."""
        return f"python{self}"

    @property
    def tag(self) -> str:
        """The wheel tag of the CPython: `cp313`."""
        return f"cp{self.major}{self.minor}"


def install_hint(version: PythonVersion) -> str:
    """How messages suggest installing a CPython: `` `pyenv install 3.13` ``."""
    return f"`pyenv install {version}`"
