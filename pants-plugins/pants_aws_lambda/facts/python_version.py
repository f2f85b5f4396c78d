"""A CPython version as Lambda names it: `3.13`, the runtime `python3.13`, the tag `cp313`."""

from __future__ import annotations

from typing import NamedTuple


class PythonVersion(NamedTuple):
    """A CPython `major.minor`; a tuple, so it compares and sorts as one (and with plain tuples)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> PythonVersion:
        """`3.13`, `python3.13` or `cp313` (a runtime's name, a wheel tag) as a version."""
        if text.startswith("python"):
            text = text[len("python") :]
        elif text.startswith("cp") and "." not in text:
            return cls(int(text[2]), int(text[3:]))
        major, minor = text.split(".")[:2]
        return cls(int(major), int(minor))

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
