"""A Pants release's facts, read from its source with `ast`: for each module, the names it binds
at the top level (definitions, assignments, imports), and for each class its bases, members and
constructor parameters, for each function its parameters."""

from __future__ import annotations

import ast
import hashlib
import json
from typing import Callable, Dict, Iterable, Optional

# A source reader: module path in the Pants tree (e.g. "src/python/pants/engine/rules.py") to
# its text, or None when the release has no such file.
Reader = Callable[[str], Optional[str]]

SOURCE_ROOT = "src/python"


def module_paths(module: str) -> tuple[str, str, str]:
    """A module's source, its package's `__init__.py`, or the type stub of a Rust-defined module
    (`native_engine.pyi`, where e.g. `Address` is declared)."""
    base = f"{SOURCE_ROOT}/{module.replace('.', '/')}"
    return f"{base}.py", f"{base}/__init__.py", f"{base}.pyi"


def _signature(args: ast.arguments, skip_first: bool) -> dict:
    positional = [a.arg for a in (*getattr(args, "posonlyargs", []), *args.args)]
    if skip_first:
        positional = positional[1:]
    return {
        "params": positional + [a.arg for a in args.kwonlyargs],
        "positional": len(positional),
        "varargs": args.vararg is not None,
        "varkw": args.kwarg is not None,
    }


def _is_classvar(annotation: ast.expr) -> bool:
    text = ast.dump(annotation)
    return "ClassVar" in text


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Subscript):  # Generic[T], EngineAwareParameter etc.
        return _dotted(node.value)
    return None


def _imports(tree: ast.Module, module: str, is_package: bool) -> Dict[str, str]:
    """Top-level imported name -> the dotted name it stands for."""
    result: Dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                source = ".".join(parts[:keep] + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                result[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                result[alias.asname or alias.name.split(".")[0]] = (
                    alias.asname and alias.name or alias.name.split(".")[0]
                )
    return result


def _class_facts(node: ast.ClassDef, resolve: Callable[[str], str]) -> Dict[str, dict]:
    """The class and its nested classes ("Outer.Inner"), each: bases, members, init."""
    members: list[str] = []
    fields: list[str] = []
    init = None
    nested: Dict[str, dict] = {}
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members.append(item.name)
            if item.name == "__init__" or (item.name == "__new__" and init is None):
                init = _signature(item.args, skip_first=True)
        elif isinstance(item, ast.ClassDef):
            members.append(item.name)
            for name, facts in _class_facts(item, resolve).items():
                nested[f"{node.name}.{name}"] = facts
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members.append(item.target.id)
            if not _is_classvar(item.annotation):
                fields.append(item.target.id)
        elif isinstance(item, ast.Assign):
            for target in item.targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        members.append(leaf.id)
    bases = [resolve(d) for d in (_dotted(b) for b in node.bases) if d]
    facts = {
        node.name: {
            "bases": bases,
            "members": sorted(set(members)),
            "fields": fields,
            "init": init,
            "dataclass": any("dataclass" in ast.dump(d) for d in node.decorator_list),
        }
    }
    facts.update(nested)
    return facts


def module_facts(source: str, module: str, is_package: bool) -> dict:
    tree = ast.parse(source)
    imports = _imports(tree, module, is_package)

    def resolve(dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        if head in imports:
            return imports[head] + (f".{rest}" if rest else "")
        return f"{module}.{dotted}"

    names: set[str] = set(imports)
    classes: Dict[str, dict] = {}
    functions: Dict[str, dict] = {}

    def visit(body: Iterable[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
                functions[node.name] = _signature(node.args, skip_first=False)
            elif isinstance(node, ast.ClassDef):
                names.add(node.name)
                classes.update(_class_facts(node, resolve))
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, (ast.Name, ast.Attribute))
                and (assigned := _dotted(node.value))
                and resolve(assigned).startswith("pants.")
            ):
                # A re-export by assignment: `LockfileRules = lockfile.LockfileRules`.
                names.add(node.targets[0].id)
                imports[node.targets[0].id] = resolve(assigned)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            names.add(name.id)
            elif isinstance(node, (ast.If, ast.Try)):
                # `if TYPE_CHECKING:` / try-import blocks bind names too.
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))

    visit(tree.body)
    return {
        "names": sorted(names),
        "imports": {k: v for k, v in sorted(imports.items()) if v.startswith("pants.")},
        "classes": classes,
        "functions": functions,
    }


def release_facts(
    read: Reader, wanted: Iterable[tuple[str, str]], names_only: Iterable[str] = ()
) -> Dict[str, Optional[dict]]:
    """Facts of the modules of the (module, name) pairs in `wanted`: every module's top-level
    names, and the classes and functions reached from those names (through re-exports and base
    classes, into other Pants modules); and the top-level names of the `names_only` modules, so
    that a new import from them is checked too. None for a module the release does not have."""
    parsed: Dict[str, Optional[dict]] = {}
    kept: Dict[str, dict] = {}

    def load(module: str) -> Optional[dict]:
        if module not in parsed:
            plain, package, stub = module_paths(module)
            source, is_package = read(plain), False
            if source is None:
                source = read(package)
                is_package = source is not None
            if source is None:
                source = read(stub)
            found = module_facts(source, module, is_package) if source is not None else None
            if found is not None:
                found["package"] = is_package
            parsed[module] = found
        return parsed[module]

    def split(dotted: str) -> Optional[tuple[str, str]]:
        """ "pants.x.Outer.Inner" -> ("pants.x", "Outer.Inner"), by the module that exists."""
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if load(module) is not None:
                return module, ".".join(parts[cut:])
        return None

    queue = list(wanted)
    seen: set = set()
    while queue:
        module, name = queue.pop()
        if (module, name) in seen:
            continue
        seen.add((module, name))
        facts = load(module)
        if facts is None:
            continue
        entry = kept.setdefault(
            module,
            {
                "names": facts["names"],
                "package": facts["package"],
                "imports": {},
                "classes": {},
                "functions": {},
            },
        )
        if name in facts["imports"]:
            entry["imports"][name] = facts["imports"][name]
            target = split(facts["imports"][name])
            if target:
                queue.append(target)
        if name in facts["functions"]:
            entry["functions"][name] = facts["functions"][name]
        for cls_name, cls in facts["classes"].items():
            # The class, and the classes nested in it ("Outer.Inner").
            if cls_name == name or cls_name.startswith(f"{name}."):
                entry["classes"][cls_name] = cls
                for base in cls["bases"]:
                    if base.startswith("pants."):
                        target = split(base)
                        if target:
                            queue.append(target)
        # A submodule imported by name: `from pants.backend.python import util_rules`.
        if facts["package"] and name not in facts["names"]:
            load(f"{module}.{name}")
    for module in names_only:
        load(module)
    result: Dict[str, Optional[dict]] = dict(kept)
    for module, facts in parsed.items():
        if facts is None:
            result[module] = None
        elif module not in result:
            result[module] = {
                "names": facts["names"],
                "package": facts["package"],
                "imports": {},
                "classes": {},
                "functions": {},
            }
    return result


# The facts file. Per module: the releases it exists in, is a package in, and each public
# top-level name's releases, as ranges of series ("2.17-2.27,2.29"); the classes, functions and
# re-exports of the modules the backend uses are stored once per distinct content ("details"),
# which each release names by key.


def _ranges(series: list, among: list) -> str:
    """The series in `series` as ranges over the ordered list `among`."""
    index = {s: i for i, s in enumerate(among)}
    parts, start, previous = [], None, None
    for s in sorted(series, key=index.__getitem__):
        if start is not None and index[s] == index[previous] + 1:
            previous = s
            continue
        if start is not None:
            parts.append(start if start == previous else f"{start}-{previous}")
        start = previous = s
    if start is not None:
        parts.append(start if start == previous else f"{start}-{previous}")
    return ",".join(parts)


def _expand(ranges: str, among: list) -> set:
    result: set = set()
    for part in filter(None, ranges.split(",")):
        first, _, last = part.partition("-")
        result.update(among[among.index(first) : among.index(last or first) + 1])
    return result


def encode(releases: dict) -> str:
    """`releases`: series -> {"tag", "supported", "builtin_lambda_aliases", "modules"} with the
    modules as `release_facts` returns them."""
    order = list(releases)
    modules: Dict[str, dict] = {}
    details: Dict[str, str] = {}
    out_releases = {}
    for series, release in releases.items():
        keys = {}
        for module, facts in release["modules"].items():
            entry = modules.setdefault(module, {"in": [], "package": [], "names": {}})
            if facts is None:
                continue
            entry["in"].append(series)
            if facts["package"]:
                entry["package"].append(series)
            for name in facts["names"]:
                if (
                    not name.startswith("_")
                    or name in facts["classes"]
                    or name in facts["functions"]
                ):
                    entry["names"].setdefault(name, []).append(series)
            rest = {k: facts[k] for k in ("imports", "classes", "functions")}
            if any(rest.values()):
                text = json.dumps(rest, sort_keys=True, separators=(",", ":"))
                key = hashlib.sha256(text.encode()).hexdigest()[:16]
                details[key] = text
                keys[module] = key
        out_releases[series] = {k: v for k, v in release.items() if k != "modules"}
        out_releases[series]["details"] = keys
    lines = [
        '{"releases": ' + json.dumps(out_releases, sort_keys=True, indent=1) + ",",
        '"modules": {',
    ]
    lines.append(
        ",\n".join(
            json.dumps(module)
            + ": "
            + json.dumps(
                {
                    "in": _ranges(entry["in"], order),
                    "package": _ranges(entry["package"], order),
                    "names": {n: _ranges(v, order) for n, v in sorted(entry["names"].items())},
                },
                separators=(",", ":"),
            )
            for module, entry in sorted(modules.items())
        )
    )
    lines.append('},\n"details": {')
    lines.append(",\n".join(f"{json.dumps(key)}: {text}" for key, text in sorted(details.items())))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def decode(text: str) -> Dict[str, dict]:
    """The inverse of `encode`: series -> release, its "modules" as `release_facts` returned
    them (but for private names)."""
    data = json.loads(text)
    order = sorted(data["releases"], key=lambda s: tuple(int(p) for p in s.split(".")))
    expanded = {
        module: (
            _expand(entry["in"], order),
            _expand(entry["package"], order),
            {n: _expand(r, order) for n, r in entry["names"].items()},
        )
        for module, entry in data["modules"].items()
    }
    releases = {}
    for series in order:
        release = dict(data["releases"][series])
        keys = release.pop("details")
        modules: Dict[str, Optional[dict]] = {}
        for module, (present, package, names) in expanded.items():
            if series not in present:
                modules[module] = None
                continue
            rest = (
                data["details"][keys[module]]
                if module in keys
                else {"imports": {}, "classes": {}, "functions": {}}
            )
            modules[module] = {
                "names": sorted(n for n, versions in names.items() if series in versions),
                "package": series in package,
                **rest,
            }
        release["modules"] = modules
        releases[series] = release
    return releases
