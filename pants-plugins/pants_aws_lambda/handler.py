"""The handler: where its module lives, whether it defines the function, and the re-export shim.

Pure functions; no Pants engine imports.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, Iterator

REEXPORTED_HANDLER_MODULE = "lambda_function"
REEXPORTED_HANDLER_FUNC = "handler"


def module_file_candidates(module: str) -> tuple[str, str]:
    """Paths, relative to a source root, that may hold `module`."""
    base = module.replace(".", "/")
    return f"{base}.py", f"{base}/__init__.py"


def _top_level_statements(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import time at module level, through `if`/`try`/`with` blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level_statements(node.body)
            yield from _top_level_statements(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level_statements(node.body)
            yield from _top_level_statements(node.orelse)
            yield from _top_level_statements(node.finalbody)
            for handler in node.handlers:
                yield from _top_level_statements(handler.body)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield from _top_level_statements(node.body)


def _assigned_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _assigned_names(element)
    elif isinstance(target, ast.Starred):
        yield from _assigned_names(target.value)


@dataclass(frozen=True)
class ModuleNames:
    names: frozenset[str]
    # `from x import *` or a module-level `__getattr__`: the name may exist without being visible.
    open_ended: bool

    def may_define(self, name: str) -> bool:
        return name in self.names or self.open_ended


def module_level_names(source: str, filename: str = "<handler>") -> ModuleNames:
    """The names a module binds at import time, found without running it.

    Raises `SyntaxError` if the source does not parse.
    """
    tree = ast.parse(source, filename=filename)
    names: set[str] = set()
    open_ended = False
    for node in _top_level_statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(_assigned_names(target))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            names.update(_assigned_names(node.target))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    open_ended = True
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
    if "__getattr__" in names:
        open_ended = True
    return ModuleNames(frozenset(names), open_ended)


def render_shim(module: str, func: str) -> str | None:
    """The source of `lambda_function.py`, or None when the handler already is that function."""
    if module == REEXPORTED_HANDLER_MODULE:
        return None
    # Configure the handler as `lambda_function.handler`. It ships in every artifact, so it is the
    # one statement and nothing else, not even a final newline.
    return f"from {module} import {func} as {REEXPORTED_HANDLER_FUNC}"
