"""Compile a tree's Python files to bytecode that stays valid on Lambda's read-only file system.

Runs as a standalone script, by the CPython of the Lambda runtime's minor version (a `.pyc` is only
read by the minor version that wrote it), stdlib only:

    PYTHONHASHSEED=0 python -S -s pycompile.py MODE SOURCE_DIR OUTPUT_DIR DISPLAY_PREFIX

MODE `compiled` writes `__pycache__/<name>.<tag>.pyc` next to where each `.py` goes; MODE `only`
writes sourceless `<name>.pyc` in place of each `.py` (a `.py` that does not compile is copied
instead, so the artifact still has it). Files are written under OUTPUT_DIR with the same relative
paths. The bytecode is hash-based (PEP 552, unchecked): zip timestamps are normalised, so
timestamp-based `.pyc` would be stale, and the deployed sources never change. DISPLAY_PREFIX is the
directory the tree lands in on Lambda (`/var/task`, `/opt/python`): tracebacks from sourceless
bytecode show it. PYTHONHASHSEED=0 makes the
output byte-reproducible (set constants are marshalled in hash order); `-I` would ignore it.

Prints a JSON report: `compiled` (count) and `failed`, the files that did not compile, each with
its relative `path`, the `line` of the error (null when it has none, as for undecodable bytes) and
its `message`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import shutil
import sys


def describe_failure(rel: str, error: Exception) -> dict:
    # `py_compile` wraps the compiler's exception, which has the line.
    cause = getattr(error, "exc_value", error)
    if isinstance(cause, SyntaxError):
        return {"path": rel, "line": cause.lineno, "message": str(cause.msg)}
    return {"path": rel, "line": None, "message": str(cause) or type(cause).__name__}


def compile_tree(mode: str, source_dir: str, output_dir: str, runtime_root: str) -> dict:
    compiled = 0
    failed = []
    sources: list[str] = []
    for dirpath, dirnames, filenames in os.walk(source_dir):
        dirnames.sort()
        sources.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    for path in sources:
        rel = os.path.relpath(path, source_dir)
        if mode == "compiled":
            target = importlib.util.cache_from_source(os.path.join(output_dir, rel))
        else:
            target = os.path.join(output_dir, rel + "c")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            py_compile.compile(
                path,
                cfile=target,
                dfile=f"{runtime_root.rstrip('/')}/{rel}",
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            compiled += 1
        except (py_compile.PyCompileError, SyntaxError, ValueError) as e:
            # Not every `.py` in a distribution is a module for this Python (templates, examples
            # for other versions): such files keep their source, as `pip install` does. The
            # plugin refuses first-party files that do not compile.
            failed.append(describe_failure(rel, e))
            if mode == "only":
                shutil.copyfile(path, os.path.join(output_dir, rel))
    return {"compiled": compiled, "failed": failed}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv if argv is None else argv
    if len(argv) != 5 or argv[1] not in ("compiled", "only"):
        raise SystemExit(f"usage: {argv[0]} compiled|only SOURCE_DIR OUTPUT_DIR DISPLAY_PREFIX")
    os.makedirs(argv[3], exist_ok=True)
    print(json.dumps(compile_tree(argv[1], argv[2], argv[3], argv[4]), sort_keys=True))


if __name__ == "__main__":
    main()
