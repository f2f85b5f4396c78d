"""The names a module binds at import time, found without running it, and whether it compiles.

Imported by the plugin (with the Python that runs Pants) and run as a standalone script by the
CPython of the Lambda runtime's minor version, whose grammar is the one that matters: stdlib only,
and valid on CPython 3.8 to 3.14.

    python -I -S modulenames.py FILE DISPLAY_NAME

Prints a JSON report: `names` (sorted) and `open_ended`, or `error` (`message`, `line`, `offset`)
when the module does not compile. It exits 0 either way: the report is the result.
"""

from __future__ import annotations

import ast
import json
import sys
from typing import Any, Iterator, Sequence

# Statements whose blocks run at module level when the module is imported. Newer grammar is looked
# up by name, so that the script runs on Pythons without it.
_TRY = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))
_MATCH = getattr(ast, "Match", None)
_TYPE_ALIAS = getattr(ast, "TypeAlias", None)


def parse_module(
    source: str | bytes, filename: str, feature_version: tuple[int, int] | None = None
) -> ast.Module:
    """The module's tree, once the compiler accepts it (the parser alone misses some errors,
    such as `return` outside a function).

    Raises `SyntaxError`, or `ValueError` for source that cannot be decoded.
    """
    if feature_version is None:
        tree = ast.parse(source, filename=filename)
    else:
        tree = ast.parse(source, filename=filename, feature_version=feature_version)
    # `dont_inherit`: the module's own `__future__` imports count, not this file's.
    compile(tree, filename, "exec", dont_inherit=True)
    return tree


def _top_level_statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import time at module level, through compound statements."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level_statements(node.body)
            yield from _top_level_statements(node.orelse)
        elif isinstance(node, _TRY):
            yield from _top_level_statements(node.body)
            yield from _top_level_statements(node.orelse)
            yield from _top_level_statements(node.finalbody)
            for handler in node.handlers:
                yield from _top_level_statements(handler.body)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield from _top_level_statements(node.body)
        elif _MATCH is not None and isinstance(node, _MATCH):
            for case in node.cases:
                yield from _top_level_statements(case.body)


def _assigned_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _assigned_names(element)
    elif isinstance(target, ast.Starred):
        yield from _assigned_names(target.value)


def bound_names(tree: ast.Module) -> tuple[set[str], bool]:
    """(names, open_ended): `open_ended` when `from x import *` or a module-level `__getattr__`
    may bind names that cannot be seen."""
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
        elif _TYPE_ALIAS is not None and isinstance(node, _TYPE_ALIAS):
            names.update(_assigned_names(node.name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    open_ended = True
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
    if "__getattr__" in names:
        open_ended = True
    return names, open_ended


def error_report(error: SyntaxError | ValueError) -> dict[str, Any]:
    """The JSON form of a `SyntaxError` (or `ValueError`) from `parse_module`."""
    if isinstance(error, SyntaxError):
        return {"message": str(error.msg), "line": error.lineno, "offset": error.offset}
    return {"message": str(error), "line": None, "offset": None}


def analyze(source: str | bytes, filename: str) -> dict[str, Any]:
    try:
        tree = parse_module(source, filename)
    except (SyntaxError, ValueError) as e:
        return {"error": error_report(e)}
    names, open_ended = bound_names(tree)
    return {"names": sorted(names), "open_ended": open_ended}


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv if argv is None else argv
    if len(argv) != 3:
        raise SystemExit("usage: {} FILE DISPLAY_NAME".format(argv[0]))
    with open(argv[1], "rb") as f:
        source = f.read()
    print(json.dumps(analyze(source, argv[2]), sort_keys=True))


if __name__ == "__main__":
    main()
