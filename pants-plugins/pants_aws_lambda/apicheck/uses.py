"""What the backend's modules use from Pants, read from their source with `ast`.

A use is an import (`from pants.x import Name`), a call of an imported name with keywords (a
dataclass's fields, a function's parameters), or an attribute read on an imported name or on a
parameter or `Get` result of an imported type (`PexLayout.LOOSE`, `loaded.is_pex_native`). In
`pants_compat.py` a use under `if PANTS_VERSION < (2, N):` (or any comparison of `PANTS_VERSION`
with a tuple) holds only for the releases that branch runs on.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Iterator, Optional, Tuple

Version = Tuple[int, int]

# The module whose version branches are honoured; elsewhere every use holds on every release.
COMPAT_MODULE = "pants_aws_lambda/pants_compat.py"
VERSION_NAME = "PANTS_VERSION"
# Not loaded by the backend: the tests' helpers and this checker.
SKIPPED_DIRS = ("testutil", "apicheck")

_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


@dataclass(frozen=True)
class Use:
    path: str  # relative to the backend's source root, e.g. "pants_aws_lambda/register.py"
    line: int
    kind: str  # "import", "call", "attribute", "override" (a class attribute a backend class sets)
    module: str  # the Pants module the name comes from
    name: str  # the name in that module ("Outer.Inner" for a nested class)
    detail: str = ""  # the keyword (call) or the attribute read (attribute)
    versions: Optional[FrozenSet[Version]] = None  # None: every release

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def plugin_modules(root: Path) -> Iterator[Path]:
    """The backend's modules under `root` (the source root holding `pants_aws_lambda`)."""
    for path in sorted((root / "pants_aws_lambda").rglob("*.py")):
        relative = path.relative_to(root / "pants_aws_lambda")
        if path.name.endswith("_test.py") or path.name == "conftest.py":
            continue
        if relative.parts[0] in SKIPPED_DIRS:
            continue
        yield path


def _branch_versions(test: ast.expr, versions: Iterable[Version]) -> Optional[FrozenSet[Version]]:
    """The releases for which `test` (a comparison of PANTS_VERSION with a tuple) is true, or
    None if `test` is no such comparison."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, right = test.left, test.comparators[0]
    op = _COMPARE.get(type(test.ops[0]))
    names = (left, right)
    if op is None or not any(
        (isinstance(n, ast.Name) and n.id == VERSION_NAME)
        or (isinstance(n, ast.Attribute) and n.attr == VERSION_NAME)
        for n in names
    ):
        return None
    try:
        bound = tuple(
            ast.literal_eval(right if not isinstance(right, (ast.Name, ast.Attribute)) else left)
        )
    except ValueError:
        return None
    if isinstance(left, (ast.Name, ast.Attribute)):
        return frozenset(v for v in versions if op(v, bound))
    return frozenset(v for v in versions if op(bound, v))


@dataclass(frozen=True)
class _PluginClass:
    pants_bases: Tuple[Tuple[str, str], ...]
    plugin_bases: Tuple[Tuple[str, str], ...]  # (module, class) of the backend's own bases
    assigned: Tuple[Tuple[str, int], ...]  # class attributes set in the body, with their lines
    versions: Optional[FrozenSet[Version]]


class _Collector(ast.NodeVisitor):
    def __init__(self, path: str, versions: Iterable[Version], honour_branches: bool) -> None:
        self.path = path
        self.all_versions = tuple(versions)
        self.honour_branches = honour_branches
        self.scope: Optional[FrozenSet[Version]] = None
        self.imported: Dict[str, Tuple[str, str]] = {}  # local name -> (module, name)
        self.typed: Dict[str, Tuple[str, str]] = {}  # variable -> (module, class)
        self.uses: list[Use] = []
        self.module = path[: -len(".py")].replace("/", ".")
        self.plugin_imported: Dict[str, Tuple[str, str]] = {}
        self.classes: Dict[str, _PluginClass] = {}
        # Parameters of the backend's own classes, and the attributes read on them.
        self.plugin_typed: Dict[str, Tuple[str, str]] = {}
        self.inherited_reads: list = []

    def _add(self, node: ast.AST, kind: str, module: str, name: str, detail: str = "") -> None:
        line = getattr(node, "lineno", 0)
        self.uses.append(Use(self.path, line, kind, module, name, detail, self.scope))

    def visit_If(self, node: ast.If) -> None:
        versions = _branch_versions(node.test, self.all_versions) if self.honour_branches else None
        if versions is None:
            self.generic_visit(node)
            return
        outer = self.scope
        within = frozenset(self.all_versions) if outer is None else outer
        self.scope = within & versions
        for stmt in node.body:
            self.visit(stmt)
        self.scope = within - versions
        for stmt in node.orelse:
            self.visit(stmt)
        self.scope = outer

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module and node.module.split(".")[0] == "pants":
            for alias in node.names:
                self.imported[alias.asname or alias.name] = (node.module, alias.name)
                self._add(node, "import", node.module, alias.name)
        elif node.level == 0 and node.module and node.module.split(".")[0] == "pants_aws_lambda":
            for alias in node.names:
                self.plugin_imported[alias.asname or alias.name] = (node.module, alias.name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        """A class of the backend: its bases (Pants' or the backend's own) and the class
        attributes it sets, which override its Pants ancestors' (see `plugin_uses`)."""
        pants_bases, plugin_bases = [], []
        for base in node.bases:
            resolved = self._resolve(base)
            if resolved:
                pants_bases.append(resolved)
            elif isinstance(base, ast.Name) and base.id in self.plugin_imported:
                plugin_bases.append(self.plugin_imported[base.id])
            elif isinstance(base, ast.Name):
                plugin_bases.append((self.module, base.id))
        assigned: list[tuple[str, int]] = []
        for item in node.body:
            targets = (
                item.targets
                if isinstance(item, ast.Assign)
                else [item.target] if isinstance(item, ast.AnnAssign) and item.value else []
            )
            assigned.extend((t.id, item.lineno) for t in targets if isinstance(t, ast.Name))
        self.classes[node.name] = _PluginClass(
            tuple(pants_bases), tuple(plugin_bases), tuple(assigned), self.scope
        )
        self.generic_visit(node)

    def _resolve(self, node: ast.expr) -> Optional[Tuple[str, str]]:
        """The imported (module, name) an expression stands for: `Name`, `Name.Inner`."""
        if isinstance(node, ast.Name) and node.id in self.imported:
            return self.imported[node.id]
        if isinstance(node, ast.Attribute):
            inner = self._resolve(node.value)
            if inner and node.attr[:1].isupper():
                return inner[0], f"{inner[1]}.{node.attr}"
        return None

    def _annotation(self, node: Optional[ast.expr]) -> Optional[Tuple[str, str]]:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        return self._resolve(node)

    def _plugin_class(self, node: Optional[ast.expr]) -> Optional[Tuple[str, str]]:
        """The backend's own class an annotation names (imported from it, or of this module)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.Name):
            if node.id in self.plugin_imported:
                return self.plugin_imported[node.id]
            if node.id not in self.imported:
                return self.module, node.id
        return None

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        saved, saved_plugin = dict(self.typed), dict(self.plugin_typed)
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            resolved = self._annotation(arg.annotation)
            if resolved:
                self.typed[arg.arg] = resolved
            else:
                plugin_class = self._plugin_class(arg.annotation)
                if plugin_class:
                    self.plugin_typed[arg.arg] = plugin_class
        self.generic_visit(node)
        self.typed, self.plugin_typed = saved, saved_plugin

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _get_type(self, node: ast.expr) -> Optional[Tuple[str, str]]:
        """The output type of `Get(T, ...)` / `await Get(T, ...)`, if T is imported from Pants."""
        if isinstance(node, ast.Await):
            node = node.value
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Get"
            and node.args
        ):
            return self._resolve(node.args[0])
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        value = node.value.value if isinstance(node.value, ast.Await) else node.value
        for target in node.targets:
            if isinstance(target, ast.Name):
                resolved = self._get_type(value)
                if resolved:
                    self.typed[target.id] = resolved
            elif (
                isinstance(target, ast.Tuple)
                and isinstance(value, ast.Call)
                and getattr(value.func, "id", "") == "MultiGet"
            ):
                for element, get in zip(target.elts, value.args):
                    resolved = self._get_type(get)
                    if isinstance(element, ast.Name) and resolved:
                        self.typed[element.id] = resolved
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        resolved = self._resolve(node.func)
        if resolved:
            for keyword in node.keywords:
                if keyword.arg:
                    self._add(node, "call", resolved[0], resolved[1], keyword.arg)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id in self.plugin_typed:
            self.inherited_reads.append(
                (self.plugin_typed[node.value.id], node.attr, node.lineno, self.scope)
            )
        if isinstance(node.value, ast.Name) and node.value.id in self.typed:
            module, name = self.typed[node.value.id]
            self._add(node, "attribute", module, name, node.attr)
        else:
            owner = self._resolve(node.value)
            if owner:
                self._add(node, "attribute", owner[0], owner[1], node.attr)
        self.generic_visit(node)


def _collect(source: str, path: str, versions: Iterable[Version]) -> _Collector:
    collector = _Collector(path, versions, honour_branches=path == COMPAT_MODULE)
    collector.visit(ast.parse(source))
    return collector


def _overrides(collectors: Iterable[_Collector]) -> list[Use]:
    """ "override" uses: a class attribute that a backend class sets, or an attribute read on a
    parameter of a backend class, on each Pants class among its ancestors (through the backend's
    own classes). It matters if the Pants class had it on a
    release and lost it on another (e.g. a tool's `lockfile_rules_type`); a name that no release
    of the Pants class has is the backend's own (an option it declares) and is no problem."""
    collectors = list(collectors)
    classes = {(c.module, name): (c, cls) for c in collectors for name, cls in c.classes.items()}

    def pants_ancestors(key: tuple[str, str], seen: set[tuple[str, str]]) -> set:
        if key in seen or key not in classes:
            return set()
        seen.add(key)
        cls = classes[key][1]
        result = set(cls.pants_bases)
        for base in cls.plugin_bases:
            result |= pants_ancestors(base, seen)
        return result

    uses = []
    for key, (collector, cls) in classes.items():
        for module, name in sorted(pants_ancestors(key, set())):
            for attribute, line in cls.assigned:
                uses.append(
                    Use(collector.path, line, "override", module, name, attribute, cls.versions)
                )
    # An attribute read on a parameter of a backend class, which its Pants ancestors may provide
    # (`awslambdaric.interpreter_constraints`); the same rule: a problem only where an ancestor
    # had it on one release and lost it on another.
    for collector in collectors:
        for key, attribute, line, versions in collector.inherited_reads:
            for module, name in sorted(pants_ancestors(key, set())):
                uses.append(
                    Use(collector.path, line, "override", module, name, attribute, versions)
                )
    return uses


def module_uses(source: str, path: str, versions: Iterable[Version]) -> list[Use]:
    """The Pants uses of one module's source; `path` names it in messages (and is the compat
    module's path if its version branches are to be honoured)."""
    collector = _collect(source, path, versions)
    return collector.uses + _overrides([collector])


def plugin_uses(root: Path, versions: Iterable[Version]) -> list[Use]:
    versions = tuple(versions)
    collectors = [
        _collect(module.read_text(), module.relative_to(root).as_posix(), versions)
        for module in plugin_modules(root)
    ]
    return [use for c in collectors for use in c.uses] + _overrides(collectors)
