"""The handler's module: where it lives, and the names it defines at top level.

Pure functions; no Pants engine imports. The analysis itself is in `modulenames`, which also runs
as a script on the runtime's CPython.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from pants_aws_lambda.handler import modulenames


def module_file_candidates(module: str) -> tuple[str, str]:
    """Paths, relative to a source root, that may hold `module`."""
    base = module.replace(".", "/")
    return f"{base}.py", f"{base}/__init__.py"


@dataclass(frozen=True)
class ModuleNames:
    names: frozenset[str]
    # `from x import *` or a module-level `__getattr__`: the name may exist without being visible.
    open_ended: bool

    def may_define(self, name: str) -> bool:
        return name in self.names or self.open_ended

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> ModuleNames:
        """From the JSON report of `modulenames.py` run as a script (without an `error`)."""
        return cls(frozenset(report["names"]), bool(report["open_ended"]))


def module_level_names(
    source: str | bytes,
    filename: str = "<handler>",
    feature_version: tuple[int, int] | None = None,
) -> ModuleNames:
    """The names a module binds at import time, found without running it, by this Python.

    `feature_version` parses with the grammar of an older Python (see `ast.parse`). Raises
    `SyntaxError` if the source does not compile, `ValueError` if it cannot be decoded.
    """
    tree = modulenames.parse_module(source, filename, feature_version)
    names, open_ended = modulenames.bound_names(tree)
    return ModuleNames(frozenset(names), open_ended)
