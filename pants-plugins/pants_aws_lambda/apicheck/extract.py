"""Write `pants_facts.json`: the facts of each Pants release series that the backend relies on,
read from Pants' source at the release tags of a clone of github.com/pantsbuild/pants.

    python3 pants-plugins/pants_aws_lambda/apicheck/extract.py --git-dir PANTS_CLONE/.git \\
        --series 2.17-2.32

takes the last final release of each series (e.g. release_2.31.0) from the clone's tags; name
tags instead with `--tags release_2.17.1 release_2.18.3 ...`. What is extracted is what the
backend's modules use now (`uses.py`), so run it again after a change that uses a new Pants
module. Only the standard library is needed (any CPython 3.9+).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = HERE.parent.parent  # pants-plugins/
sys.path.insert(0, str(SOURCE_ROOT))

from pants_aws_lambda import pants_versions  # noqa: E402
from pants_aws_lambda.apicheck import facts as facts_module  # noqa: E402
from pants_aws_lambda.apicheck.uses import plugin_uses  # noqa: E402

OUTPUT = HERE / "pants_facts.json"
# Pants' own Lambda backend: its target aliases, for the alias table (docs/migration.md).
BUILTIN_LAMBDA_TARGET_TYPES = "src/python/pants/backend/awslambda/python/target_types.py"
_FINAL_TAG = re.compile(r"^release_(\d+)\.(\d+)\.(\d+)$")


# Beyond the modules the backend uses, the top-level names of every module of these packages, so
# that a new import from them is checked without a new extraction.
NAMES_OF_PACKAGES = (
    "pants/base",
    "pants/build_graph",
    "pants/core",
    "pants/engine",
    "pants/option",
    "pants/testutil",
    "pants/util",
    "pants/backend/python",
    "pants/backend/awslambda",
    "pants/backend/docker",
)


class _Blobs:
    """Files at a tag, read through one `git cat-file --batch`."""

    def __init__(self, git_dir: str) -> None:
        self._process = subprocess.Popen(
            ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def read(self, tag: str, path: str) -> Optional[str]:
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(f"{tag}:{path}\n".encode())
        self._process.stdin.flush()
        header = self._process.stdout.readline().decode().split()
        if len(header) != 3 or header[1] != "blob":
            return None
        data = self._process.stdout.read(int(header[2]))
        self._process.stdout.read(1)  # the newline after the contents
        return data.decode()


def modules_of_packages(git_dir: str, tag: str) -> list[str]:
    listing = _git(
        git_dir,
        "ls-tree",
        "-r",
        "--name-only",
        tag,
        *(f"{facts_module.SOURCE_ROOT}/{p}" for p in NAMES_OF_PACKAGES),
    )
    modules = []
    for path in (listing or "").split():
        if not path.endswith((".py", ".pyi")) or path.endswith("_test.py") or "/tests/" in path:
            continue
        module = path[len(facts_module.SOURCE_ROOT) + 1 :].rsplit(".", 1)[0].replace("/", ".")
        modules.append(module[: -len(".__init__")] if module.endswith(".__init__") else module)
    return modules


def _git(git_dir: str, *args: str) -> Optional[str]:
    result = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def last_releases(git_dir: str, first: tuple[int, int], last: tuple[int, int]) -> dict:
    """(major, minor) -> the tag of that series' last final release, for the series in range."""
    best: dict = {}
    for tag in (_git(git_dir, "tag", "-l", "release_*") or "").split():
        match = _FINAL_TAG.match(tag)
        if not match:
            continue
        major, minor, patch = map(int, match.groups())
        if first <= (major, minor) <= last and patch >= best.get((major, minor), (-1, ""))[0]:
            best[(major, minor)] = (patch, tag)
    return {series: tag for series, (_, tag) in sorted(best.items())}


def _series(text: str) -> tuple[int, int]:
    """`2.17` -> (2, 17)."""
    major, minor = text.split(".")
    return int(major), int(minor)


def builtin_lambda_aliases(source: Optional[str]) -> list:
    """The aliases (and deprecated aliases) of the target types of Pants' Lambda backend."""
    if source is None:
        return []
    aliases = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        found = {}
        for item in node.body:
            target = (
                item.targets[0] if isinstance(item, ast.Assign) else getattr(item, "target", None)
            )
            value = getattr(item, "value", None)
            if (
                isinstance(target, ast.Name)
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                if target.id in ("alias", "deprecated_alias"):
                    found[target.id] = value.value
        if found.get("alias", "").startswith("python_aws"):
            aliases.append({"class": node.name, **found})
    return aliases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--git-dir", required=True, help="the .git directory of a clone of pantsbuild/pants"
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--series", help="FIRST-LAST, e.g. 2.17-2.32: the last final release of each"
    )
    group.add_argument("--tags", nargs="+", help="release tags, e.g. release_2.31.0")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()

    if args.series:
        first, last = (_series(s) for s in args.series.split("-"))
        tags = last_releases(args.git_dir, first, last)
    else:
        tags = {}
        for tag in args.tags:
            match = _FINAL_TAG.match(tag)
            if not match:
                parser.error(f"{tag} is not a final release tag (release_X.Y.Z)")
            tags[(int(match.group(1)), int(match.group(2)))] = tag
    if not tags:
        parser.error("no release tags found")

    uses = plugin_uses(SOURCE_ROOT, tags)
    wanted = sorted({(use.module, use.name.split(".")[0]) for use in uses})
    releases = {}
    blobs = _Blobs(args.git_dir)
    for series, tag in tags.items():

        def read(path: str, tag: str = tag) -> Optional[str]:
            return blobs.read(tag, path)

        releases[pants_versions.series(series)] = {
            "tag": tag,
            "supported": pants_versions.unsupported_message(series) is None,
            "modules": facts_module.release_facts(
                read, wanted, modules_of_packages(args.git_dir, tag)
            ),
            "builtin_lambda_aliases": builtin_lambda_aliases(read(BUILTIN_LAMBDA_TARGET_TYPES)),
        }
        print(
            f"{tag}: {len(releases[pants_versions.series(series)]['modules'])} modules",
            file=sys.stderr,
        )
    args.output.write_text(facts_module.encode(releases))
    print(f"Wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
