"""Prove that a tree of third-party distributions still works: run by the runtime's CPython.

    python -I -S slimcheck.py TREE [--only ONLY.json] NAME==VERSION ...

With TREE first on `sys.path` (as Lambda puts its task root first), it imports every extension
module of the tree, every top-level package and module, and asks `importlib.metadata` for every
distribution named on the command line (found at that version, its metadata readable).

It prints the checks it will make first (`{"plan": [[kind, name, path], ...]}`), then one line
per check to its standard output, as JSON: `{"start": [kind, name, path]}` before a check and
`{"done": [kind, name, path], "error": null | message, "files": [...]}` after it, where `files`
are the extension modules whose loading raised during the check (a package's import fails because
of the shared object it loads). Around the loading of every extension module it prints
`{"loading": path}` and `{"loaded": path}`, so that a shared object that crashes the interpreter
(a broken one can) is the last one loading. What the imported code prints goes to standard error.

Standard library only, for every CPython from 3.8 on: it runs in a sandbox with the runtime's
interpreter, natively or under an emulator, and imports nothing of the plugin.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.metadata
import json
import os
import sys
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

# A check returns None when it passes, or the reason it fails (or raises).
Check = Callable[[], Optional[str]]


def _identifiers(parts: Sequence[str]) -> bool:
    return all(p.isidentifier() for p in parts)


def extension_modules(tree: str) -> List[Tuple[str, str]]:
    """(module name, path) of every importable extension module of the tree, sorted by path."""
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    found: List[Tuple[str, str]] = []
    for directory, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        rel_dir = os.path.relpath(directory, tree)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        if not _identifiers(parts):
            # Vendored libraries (`numpy.libs/`), metadata, data directories: not importable.
            dirnames[:] = []
            continue
        for name in sorted(filenames):
            suffix = next((s for s in suffixes if name.endswith(s)), None)
            if suffix is None:
                continue
            stem = name[: -len(suffix)]
            if stem.isidentifier():
                path = "/".join(parts + [name])
                found.append((".".join(parts + [stem]), path))
    return sorted(found, key=lambda item: item[1])


def top_level_modules(tree: str) -> List[str]:
    """Top-level packages (directories with `__init__.py`) and modules of the tree."""
    suffixes = [".py"] + list(importlib.machinery.EXTENSION_SUFFIXES)
    names = set()
    for entry in sorted(os.listdir(tree)):
        full = os.path.join(tree, entry)
        if os.path.isdir(full):
            if entry.isidentifier() and os.path.isfile(os.path.join(full, "__init__.py")):
                names.add(entry)
            continue
        suffix = next((s for s in suffixes if entry.endswith(s)), None)
        if suffix is not None and entry[: -len(suffix)].isidentifier():
            names.add(entry[: -len(suffix)])
    return sorted(names)


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def check_distribution(tree: str, name: str, version: str) -> Optional[str]:
    found: Dict[str, importlib.metadata.Distribution] = {}
    for dist in importlib.metadata.distributions(path=[tree]):
        found.setdefault(_canonical(dist.metadata["Name"] or ""), dist)
    wanted = found.get(_canonical(name))
    if wanted is None:
        return "importlib.metadata finds no distribution of this name"
    if wanted.version != version:
        return "importlib.metadata finds version %s" % wanted.version
    return None


class _Reporter:
    def __init__(self, tree: str) -> None:
        self._tree = tree
        self._failed_files: List[str] = []
        # Our own copy of the standard output; what imported code prints goes to standard error.
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)
        self._watch_extension_loading()

    def _watch_extension_loading(self) -> None:
        loader_class = importlib.machinery.ExtensionFileLoader
        create_module = loader_class.create_module
        reporter = self

        def watched(loader: Any, spec: Any) -> ModuleType:
            path = os.path.relpath(loader.path, reporter._tree).replace(os.sep, "/")
            reporter.write({"loading": path})
            try:
                module = create_module(loader, spec)
            except BaseException:
                reporter._failed_files.append(path)
                raise
            reporter.write({"loaded": path})
            return module

        # The class attribute, not a method of ours: every extension module loads through it.
        setattr(loader_class, "create_module", watched)

    def run(self, kind: str, name: str, path: Optional[str], check: Check) -> None:
        self._failed_files = []
        self.write({"start": [kind, name, path]})
        try:
            error = check()
        except BaseException as e:  # noqa: B902 (anything an import raises fails the check)
            # Paths relative to the tree, so that a failure reads alike in every sandbox.
            error = ("%s: %s" % (type(e).__name__, e)).replace(self._tree + os.sep, "")
        self.write(
            {"done": [kind, name, path], "error": error, "files": sorted(set(self._failed_files))}
        )

    def write(self, record: Dict[str, Any]) -> None:
        self._out.write(json.dumps(record) + "\n")
        self._out.flush()


def _import(name: str) -> Check:
    def check() -> None:
        # The package first, as code imports it: a package whose `__init__` imports its own
        # extension modules would otherwise see one of them partially initialized.
        parent = name.rpartition(".")[0]
        if parent:
            importlib.import_module(parent)
        importlib.import_module(name)

    return check


def plan(tree: str, distributions: Sequence[str]) -> List[Tuple[str, str, Optional[str], Check]]:
    """Every check of the tree, in order: (kind, name, path, check)."""
    checks: List[Tuple[str, str, Optional[str], Check]] = [
        ("extension", name, path, _import(name)) for name, path in extension_modules(tree)
    ]
    checks += [("package", name, None, _import(name)) for name in top_level_modules(tree)]
    for requirement in distributions:
        name, _, version = requirement.partition("==")
        checks.append(
            (
                "distribution",
                requirement,
                None,
                _distribution_check(tree, name, version),
            )
        )
    return checks


def _distribution_check(tree: str, name: str, version: str) -> Check:
    return lambda: check_distribution(tree, name, version)


def main(argv: List[str]) -> None:
    """`TREE [--only ONLY.json] NAME==VERSION...`: with `--only`, just the checks it lists as
    `[kind, name]` pairs (a proof run again after a change was taken back)."""
    tree = os.path.abspath(argv[0])
    args = argv[1:]
    only: Optional[Set[Tuple[str, ...]]] = None
    if args[:1] == ["--only"]:
        with open(args[1], encoding="utf-8") as fp:
            only = {tuple(pair) for pair in json.load(fp)}
        args = args[2:]
    sys.path.insert(0, tree)
    reporter = _Reporter(tree)
    checks = [c for c in plan(tree, args) if only is None or (c[0], c[1]) in only]
    reporter.write({"plan": [[kind, name, path] for kind, name, path, _ in checks]})
    for kind, name, path, check in checks:
        reporter.run(kind, name, path, check)


if __name__ == "__main__":
    main(sys.argv[1:])
