"""The backend's Pants uses (`uses.py`) checked against each release's facts (`pants_facts.json`).

    python3 pants-plugins/pants_aws_lambda/apicheck/check.py

prints every problem on every release in the facts, the unsupported ones too (what a port to
them has to change), and what a port to call-by-name rules replaces (`Get`/`MultiGet` calls).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Tuple

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = HERE.parent.parent  # pants-plugins/
if __name__ == "__main__":
    sys.path.insert(0, str(SOURCE_ROOT))

from pants_aws_lambda.apicheck.facts import decode  # noqa: E402
from pants_aws_lambda.apicheck.uses import (  # noqa: E402
    COMPAT_MODULE,
    Use,
    Version,
    plugin_modules,
    plugin_uses,
)

FACTS = HERE / "pants_facts.json"
EXTRACT_COMMAND = (
    "python3 pants-plugins/pants_aws_lambda/apicheck/extract.py"
    " --git-dir <clone of pantsbuild/pants>/.git --series 2.17-<newest series>"
)
_NOT_EXTRACTED = object()


@dataclass(frozen=True)
class Release:
    version: Version
    tag: str
    supported: bool
    modules: Dict[str, Optional[dict]]
    builtin_lambda_aliases: tuple

    @property
    def series(self) -> str:
        return "{}.{}".format(*self.version)


def load_releases(path: Path = FACTS) -> list[Release]:
    releases = []
    for series, release in decode(path.read_text()).items():
        releases.append(
            Release(
                version=tuple(int(p) for p in series.split(".")),  # type: ignore[arg-type]
                tag=release["tag"],
                supported=release["supported"],
                modules=release["modules"],
                builtin_lambda_aliases=tuple(release["builtin_lambda_aliases"]),
            )
        )
    return sorted(releases, key=lambda r: r.version)


@dataclass(frozen=True)
class Problem:
    use: Use
    missing: Tuple[Version, ...]  # the releases where the use fails
    present: Tuple[Version, ...]  # the releases (of those checked) where it holds
    what: str  # e.g. "`SEARCH_PATHS` in `pants.core.util_rules.system_binaries`"
    not_extracted: bool = False

    def message(self) -> str:
        use = self.use
        if self.not_extracted:
            return (
                f"{use.where()}: {self.what} is not in the facts of Pants "
                f"{_series(self.missing)} (apicheck/pants_facts.json): the facts hold only the "
                "Pants modules the backend used when they were extracted. Run "
                f"`{EXTRACT_COMMAND}` and "
                "commit the file."
            )
        text = f"{use.where()}: {self.what} does not exist on Pants {_series(self.missing)}"
        if self.present:
            text += f" (it does on {_series(self.present)})"
        text += ". "
        first_missing = min(self.missing)
        if use.path == COMPAT_MODULE:
            return text + (
                f"This use in pants_compat.py runs on {_series(self.missing)}: narrow the "
                "`if PANTS_VERSION ...` condition around it so that it runs only where the name "
                "exists."
            )
        if self.present and first_missing > min(self.present):
            branch = (
                f"`if PANTS_VERSION < {first_missing}:` (the old name) with the replacement "
                "under `else:`"
            )
        elif self.present:
            branch = (
                f"`if PANTS_VERSION >= {min(self.present)}:` with a fallback for older releases "
                "under `else:`"
            )
        else:
            branch = "`if PANTS_VERSION ...:` branches, one per spelling"
        return text + (
            "Route it through pants_aws_lambda/pants_compat.py: there, import or use it under "
            f"{branch}, and import what pants_compat.py defines from "
            f"`pants_aws_lambda.pants_compat` in {use.path} instead of from `{use.module}`."
        )


def _series(versions: Iterable[Version]) -> str:
    return ", ".join("{}.{}".format(*v) for v in sorted(versions))


def _find(release: Release, module: str, name: str, depth: int = 0) -> Any:
    """("class" | "function" | "module" | "name", facts) for `name` in `module`, following
    re-exports; None if absent; _NOT_EXTRACTED if the module is not in the facts."""
    if module not in release.modules:
        return _NOT_EXTRACTED
    facts = release.modules[module]
    if facts is None:
        return None
    if name in facts["classes"]:
        return "class", facts["classes"][name], module
    head = name.split(".")[0]
    if head in facts["functions"] and head == name:
        return "function", facts["functions"][name], module
    if head in facts["imports"] and depth < 8:
        target = facts["imports"][head]
        for cut in range(target.count("."), 0, -1):
            parts = target.split(".")
            target_module, target_name = ".".join(parts[:cut]), ".".join(parts[cut:])
            if target_module in release.modules:
                rest = name[len(head) :]
                return _find(release, target_module, target_name + rest, depth + 1)
    if head in facts["names"]:
        return ("name", None, module) if head == name else ("unknown", None, module)
    submodule = f"{module}.{head}"
    if facts.get("package") and head == name:
        if submodule not in release.modules:
            return _NOT_EXTRACTED
        return (
            ("module", release.modules[submodule], submodule)
            if release.modules[submodule]
            else None
        )
    return None


def _class_chain(
    release: Release, cls: dict, module: str, seen: set[str] | None = None
) -> tuple[list[dict], bool]:
    """The class and its bases' facts; the flag says whether every base was known."""
    seen = seen or set()
    chain, complete = [cls], True
    for base in cls["bases"]:
        if base in seen or base in (
            "typing.Generic",
            "typing.Protocol",
            "abc.ABC",
            "builtins.object",
        ):
            continue
        seen.add(base)
        found = None
        parts = base.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            found = _find(release, ".".join(parts[:cut]), ".".join(parts[cut:]))
            if found is not None and found is not _NOT_EXTRACTED:
                break
        if found is None or found is _NOT_EXTRACTED or found[0] != "class":
            complete = False
            continue
        sub_chain, sub_complete = _class_chain(release, found[1], found[2], seen)
        chain.extend(sub_chain)
        complete = complete and sub_complete
    return chain, complete


def _holds(use: Use, release: Release) -> Any:
    """True, False, None (nothing known to check) or _NOT_EXTRACTED."""
    found = _find(release, use.module, use.name)
    if found is _NOT_EXTRACTED:
        return _NOT_EXTRACTED
    if use.kind == "import":
        return found is not None
    if found is None:
        return False
    kind, facts, _module = found
    if kind == "module":
        return use.kind != "attribute" or use.detail in facts["names"]
    if kind == "function":
        return use.kind != "call" or facts["varkw"] or use.detail in facts["params"]
    if kind != "class":
        return None
    chain, complete = _class_chain(release, facts, found[2])
    if use.kind in ("attribute", "override"):
        if use.detail.startswith("__") or any(use.detail in c["members"] for c in chain):
            return True
        return False if complete else None
    # A constructor's keywords: an explicit __init__'s parameters, else the dataclass fields.
    for cls in chain:
        if cls["init"] is not None:
            return cls["init"]["varkw"] or use.detail in cls["init"]["params"]
    if any(c["dataclass"] for c in chain):
        return any(use.detail in c["fields"] for c in chain) or (None if not complete else False)
    return None


def _describe(use: Use) -> str:
    if use.kind == "import":
        return f"`from {use.module} import {use.name}`"
    if use.kind == "call":
        return f"the keyword `{use.detail}=` of `{use.name}(...)` (from `{use.module}`)"
    if use.kind == "override":
        return (
            f"the attribute `{use.detail}` that a backend class sets or reads over "
            f"`{use.name}`'s (from `{use.module}`)"
        )
    return f"the attribute `{use.detail}` of `{use.name}` (from `{use.module}`)"


def check(uses: Iterable[Use], releases: Iterable[Release]) -> list[Problem]:
    releases = list(releases)
    problems = []
    for use in uses:
        missing, present, unextracted = [], [], []
        for release in releases:
            if use.versions is not None and release.version not in use.versions:
                continue
            holds = _holds(use, release)
            if holds is _NOT_EXTRACTED:
                unextracted.append(release.version)
            elif holds is False:
                missing.append(release.version)
            elif holds is True:
                present.append(release.version)
        if use.kind == "override" and not present:
            continue  # the backend's own attribute, not an override
        if unextracted:
            problems.append(
                Problem(use, tuple(unextracted), tuple(present), _describe(use), not_extracted=True)
            )
        elif missing:
            problems.append(Problem(use, tuple(missing), tuple(present), _describe(use)))
    return problems


def get_call_sites(root: Path = SOURCE_ROOT) -> dict:
    """What a port to call-by-name rules replaces in the backend's modules: the `Get(...)` and
    `MultiGet(...)` calls per module, the `@rule`s, and each distinct `Get(Output, Input)` pair
    (each becomes a call of the rule that makes Output from Input)."""
    gets: Counter = Counter()
    multigets: Counter = Counter()
    rules: Counter = Counter()
    pairs: Counter = Counter()
    for path in plugin_modules(root):
        module = path.relative_to(root / "pants_aws_lambda").as_posix()
        tree = ast.parse(path.read_text())
        from_pants = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pants.")
            for alias in node.names
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Get"
            ):
                gets[module] += 1
                names = [ast.unparse(a) for a in node.args[:2]]
                if len(node.args) == 2 and isinstance(node.args[1], ast.Call):
                    names[1] = ast.unparse(node.args[1].func)
                owner = "Pants" if names[0] in from_pants else "backend"
                pairs[f"{owner}: Get({', '.join(names)})"] += 1
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "MultiGet"
            ):
                multigets[module] += 1
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                ast.unparse(d).split("(")[0] == "rule" for d in node.decorator_list
            ):
                rules[module] += 1
    return {"Get": gets, "MultiGet": multigets, "@rule": rules, "Get pairs": pairs}


def main() -> None:
    releases = load_releases()
    uses = plugin_uses(SOURCE_ROOT, [r.version for r in releases])
    problems = check(uses, releases)
    for release in releases:
        found = [p for p in problems if release.version in p.missing]
        status = "supported" if release.supported else "not supported"
        print(f"Pants {release.series} ({release.tag}, {status}): {len(found)} problem(s)")
        for problem in found:
            print(f"  {problem.message()}")
    sites = get_call_sites()
    print(
        f"Call-by-name port: {sum(sites['Get'].values())} Get calls, "
        f"{sum(sites['MultiGet'].values())} MultiGet calls, {sum(sites['@rule'].values())} "
        f"@rules, {len(sites['Get pairs'])} distinct Get(Output, Input) pairs"
    )
    modules = sorted(set(sites["Get"]) | set(sites["MultiGet"]) | set(sites["@rule"]))
    for module in modules:
        print(
            f"  {module}: {sites['Get'][module]} Get, {sites['MultiGet'][module]} MultiGet, "
            f"{sites['@rule'][module]} @rule"
        )
    owners = Counter(pair.split(":")[0] for pair in sites["Get pairs"])
    print(
        f"  Get pairs whose output is a Pants type: {owners['Pants']}, "
        f"a backend type: {owners['backend']}"
    )
    for pair, count in sorted(sites["Get pairs"].items()):
        print(f"  {pair}: {count}")


if __name__ == "__main__":
    main()
