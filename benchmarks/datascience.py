#!/usr/bin/env python3
"""Benchmark the numpy + pandas + scipy function: unzipped size and cold import, per `bytecode`.

    python3 benchmarks/datascience.py [--markdown docs/performance.md] [--imports 15]

Stdlib only, any CPython >= 3.9; shares `run.py`'s helpers. It builds one throwaway Pants
repository in a temporary directory (this repository's `pants`, `pants.toml`, `pants-plugins/`,
`3rdparty/python/` and the example `src/python/examples/datascience/`), adds one
`python3.12`/`x86_64` function per variant of `VARIANTS` (the same sources, requirements and
lockfile `datascience`), and packages them all in one `./pants package`.

Measured, for each variant:

  * zip size and unzipped size (sum of the entries' sizes), against Lambda's 250 MiB;
  * cold start: each artifact is unpacked and made read-only, then a fresh CPython 3.12
    (`-I -S -B`) times `import lambda_function` in-process; median of `--imports` runs, the
    variants interleaved. The handler is called once per artifact first, and must work.

The baseline is `bytecode="none"` (sources only, what most other packagers ship), measured in the
same run: the report gives each variant's ratio to it. A new variant is one more entry of
`VARIANTS` (its BUILD fields).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (the sibling script's helpers)
from run import BenchmarkError, Repo, log, time_import, unpack, set_writable, zip_sizes  # noqa: E402

EXAMPLE = "src/python/examples/datascience"
LIMIT = 250 * 2**20
BASELINE = "none"
# Variant -> extra fields of its `python_aws_lambda_function`. The baseline comes first.
VARIANTS: Dict[str, str] = {
    "none": 'bytecode="none"',
    "default (auto)": "",
    # Slim mode on top of the default (its proof runs CPython 3.12 at package time).
    "slim": "slim=True",
}
EVENT = '{"readings": {"a": [1.0, 2.0, 4.5], "b": [-3.25, 0.5, 2.0]}, "expected": 1.0}'
MARKERS = ("<!-- datascience-benchmark:begin -->", "<!-- datascience-benchmark:end -->")


def target_name(variant: str) -> str:
    """`default (auto)` -> `bench-default-auto`."""
    return "bench-" + re.sub(r"[^0-9a-z]+", "-", variant.lower()).strip("-")


def make_repo(dest: Path) -> None:
    dest.mkdir(parents=True)
    for name in ("pants", "pants.toml"):
        shutil.copy2(run.REPO_ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for tree in ("pants-plugins", "3rdparty/python", EXAMPLE):
        shutil.copytree(run.REPO_ROOT / tree, dest / tree, ignore=ignore)
    build = dest / EXAMPLE / "BUILD"
    extra = "".join(
        f"\npython_aws_lambda_function(name={target_name(v)!r}, runtime='python3.12', "
        f"architecture='x86_64', handler='app.py:handler', resolve='datascience'"
        f"{', ' + fields if fields else ''})\n"
        for v, fields in VARIANTS.items()
    )
    build.write_text(build.read_text() + extra)


# The handler must work from the artifact, with numpy, pandas and scipy from it.
HANDLER_CHECK = (
    "import json, sys\n"
    "root = sys.argv[1]\n"
    "sys.path.insert(0, root)\n"
    "import lambda_function\n"
    "result = lambda_function.handler(json.loads(sys.argv[2]), None)\n"
    "assert result['statusCode'] == 200, result\n"
    "for name in ('numpy', 'pandas', 'scipy'):\n"
    "    assert sys.modules[name].__file__.startswith(root + '/'), name\n"
)


def check_handler(python: str, root: Path) -> None:
    proc = subprocess.run(
        [python, "-I", "-S", "-B", "-c", HANDLER_CHECK, str(root), EVENT],
        capture_output=True,
        text=True,
        cwd=root.parent,
    )
    if proc.returncode != 0:
        raise BenchmarkError(f"The handler in {root} does not work:\n{proc.stderr[-3000:]}")


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def report(sizes: Dict[str, Dict[str, int]], imports: Dict[str, List[float]], python: str) -> str:
    base_size = sizes[BASELINE]["unzipped"]
    base_import = statistics.median(imports[BASELINE])
    lines = [
        f"numpy + pandas + scipy, `python3.12` on x86_64, lockfile `datascience`; cold import of "
        f"`lambda_function` by {python} (`-I -S -B`, read-only tree), median of "
        f"{len(imports[BASELINE])} runs. Ratios are to `bytecode=\"{BASELINE}\"`, measured in the "
        "same run.",
        "",
        "| variant | zipped | unzipped | unzipped ratio | within 250 MiB | cold import | import ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant in VARIANTS:
        size = sizes[variant]
        median = statistics.median(imports[variant])
        lines.append(
            f"| {variant} | {mib(size['zipped'])} | {mib(size['unzipped'])} | "
            f"{size['unzipped'] / base_size:.2f}x | {'yes' if size['unzipped'] <= LIMIT else 'no'} | "
            f"{median * 1000:.0f} ms | {median / base_import:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, text: str) -> None:
    begin, end = MARKERS
    block = f"{begin}\n{text}{end}"
    doc = path.read_text() if path.exists() else "# Performance\n"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--imports", type=int, default=15, help="timed imports per artifact (default 15)")
    parser.add_argument("--python", help="CPython 3.12 to time imports with (default: PATH, pyenv)")
    parser.add_argument("--markdown", type=Path, help="also write the results into this Markdown file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    python = run.find_runtime_python(args.python)
    work = Path(tempfile.mkdtemp(prefix="datascience-bench-"))
    try:
        root = work / "repo"
        make_repo(root)
        (work / "logs").mkdir()
        repo = Repo("datascience", root, work / "logs")
        targets = [f"{EXAMPLE}:{target_name(v)}" for v in VARIANTS]
        log(f"packaging {len(targets)} variants in {root}")
        repo.pants("--no-pantsd", "package", *targets)
        sizes, trees = {}, {}
        for variant in VARIANTS:
            zip_path = root / "dist" / EXAMPLE.replace("/", ".") / f"{target_name(variant)}.zip"
            sizes[variant] = zip_sizes(zip_path)
            trees[variant] = tree = work / "unpacked" / target_name(variant) / "task"
            unpack(zip_path, tree)
            set_writable(tree, False)
            check_handler(python, tree)
        imports: Dict[str, List[float]] = {v: [] for v in VARIANTS}
        for i in range(args.imports):
            for variant in VARIANTS:
                imports[variant].append(time_import(python, trees[variant])[0])
        text = report(sizes, imports, python)
        print(text)
        if args.markdown:
            write_markdown(args.markdown, text)
        return 0
    except BenchmarkError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            for tree in (work / "unpacked").glob("*/task"):
                set_writable(tree, True)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
