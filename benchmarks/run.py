#!/usr/bin/env python3
"""Benchmark `python_aws_lambda_function` against Pants 2.17's built-in `python_awslambda`.

    python3 benchmarks/run.py [--markdown docs/performance.md] [--runs 5] [--imports 30]

Stdlib only, any CPython >= 3.9. It builds two throwaway Pants repositories in a temporary
directory, with the same launcher, pex, lockfile and functions:

  ours      this repository's `pants`, `pants.toml`, `pants-plugins/` and `3rdparty/python/`,
            the functions as `python_aws_lambda_function` (bytecode `compiled`, `only`, `none`);
  built-in  `pants.backend.python` + `pants.backend.awslambda.python` with `[lambdex].layout =
            "zip"`, the functions as `python_awslambda`.

The two backends are never enabled in one repository: this plugin registers `python_awslambda`
as a deprecated alias of its own target.

Two functions: `hello` (no third-party dependencies) and `heavy` (imports pydantic, requests and
boto3 at module level). Their requirements are locked in `benchmarks/default.lock`, so that runs
compare the same distributions; the same lockfile serves both repositories. `--relock` runs
`./pants generate-lockfiles` instead (also done when the committed lock no longer matches the
requirements or this repository's interpreter constraints); the new lock is left in the work
directory.

Measured, for each function:

  * package time with pantsd warm, after a source-only edit of the handler module (a new constant
    appended, unique per run so that no cache can answer), and with no change: wall time of
    `./pants package`, median of `--runs` runs, the two repositories' runs interleaved;
  * zip size and unzipped size (sum of the entries' sizes);
  * cold start: each artifact is unpacked into its own directory and made read-only, then a fresh
    CPython of the runtime's version (`-I -S -B`: isolated, no site-packages, no bytecode writing)
    times `import lambda_function` in-process with `time.perf_counter` (so interpreter start-up is
    left out); median of `--imports` runs, all artifacts interleaved. The floor is the same import
    from the sources-only artifact after that interpreter wrote its own `.pyc` there.

It prints the results as a Markdown table, with PASS/MISS against the targets:

  * source-only rebuild at most 1/3 of the built-in's time;
  * cold start at least 1.5x faster than the built-in's zip, and within 10% of the floor;
  * zip size with `bytecode="none"` no larger than the built-in's.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
COMMITTED_LOCK = Path(__file__).resolve().parent / "default.lock"
RUNTIME = "python3.12"
RUNTIME_VERSION = (3, 12)

# The dependency-heavy function's requirements (resolve `python-default` in both repositories).
REQUIREMENTS = """\
# Requirements of the benchmark functions.
pydantic>=2.5,<3
requests>=2.31,<3
boto3>=1.34,<2
"""

FUNCTIONS: Dict[str, Dict[str, str]] = {
    "hello": {
        "description": "no third-party dependencies",
        "source": '''\
"""A function with no third-party dependencies."""

import json


def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    return {"statusCode": 200, "body": json.dumps({"message": f"Hello, {name}!"})}
''',
        "event": '{"name": "benchmark"}',
        "third_party": "",
    },
    "heavy": {
        "description": "pydantic + requests + boto3, imported at module level",
        "source": '''\
"""A function that imports pydantic, requests and boto3 at module level, as real ones do."""

from typing import List, Optional

import boto3
import pydantic
import requests


class Order(pydantic.BaseModel):
    id: int
    items: List[str]
    callback_url: Optional[str] = None


def handler(event, context):
    order = Order.model_validate(event)
    return {
        "order": order.model_dump(),
        "versions": {
            "boto3": boto3.__version__,
            "pydantic": pydantic.VERSION,
            "requests": requests.__version__,
        },
    }
''',
        "event": '{"id": 1, "items": ["a", "b"]}',
        "third_party": "boto3,pydantic,requests",
    },
}

# Pants sections the built-in repository takes verbatim from this repository's pants.toml, so that
# both tools resolve with the same interpreters, pex, lockfile settings and subprocess environment.
SHARED_SECTIONS = (
    "source",
    "python",
    "python.resolves",
    "python.resolves_to_interpreter_constraints",
    "python-infer",
    "python-bootstrap",
    "pex-cli",
    "subprocess-environment",
    "anonymous-telemetry",
)

# Timed in-process by the cold-start child: the only thing on sys.path besides the stdlib is the
# unpacked artifact (-I: isolated, -S: no site-packages).
IMPORT_TIMER = (
    "import sys, time\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "t = time.perf_counter()\n"
    "import lambda_function\n"
    "t = time.perf_counter() - t\n"
    "print(repr(t))\n"
)

# Run once per artifact before timing: the handler must work, and every third-party module must
# come from the artifact.
IMPORT_CHECK = (
    "import json, sys\n"
    "root = sys.argv[1]\n"
    "sys.path.insert(0, root)\n"
    "import lambda_function\n"
    "result = lambda_function.handler(json.loads(sys.argv[2]), None)\n"
    "for name in filter(None, sys.argv[3].split(',')):\n"
    "    path = sys.modules[name].__file__\n"
    "    assert path.startswith(root + '/'), (name, path)\n"
    "print(json.dumps(result, sort_keys=True))\n"
)


# 1-minute load average, sampled before every `./pants` run: how busy the machine was.
LOAD_SAMPLES: List[float] = []


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchmarkError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The throwaway repositories
# ---------------------------------------------------------------------------------------------


def toml_sections(text: str) -> Dict[str, str]:
    """Top-level `[section]` blocks of a TOML file, each with its header, by name."""
    sections: Dict[str, str] = {}
    name: Optional[str] = None
    lines: List[str] = []
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\[([^\[\]]+)\]\s*$", line)
        if header:
            if name is not None:
                sections[name] = "".join(lines)
            name, lines = header.group(1).strip(), []
        if name is not None:
            lines.append(line)
    if name is not None:
        sections[name] = "".join(lines)
    return sections


def _specifier_set(requirement: str) -> "tuple[str, frozenset]":
    """`CPython>=3.9,<3.15` -> ('cpython', {'>=3.9', '<3.15'}), for order-insensitive comparison."""
    requirement = requirement.replace(" ", "")
    match = re.match(r"^([A-Za-z0-9_.\-]*)(.*)$", requirement)
    assert match is not None
    return match.group(1).lower(), frozenset(filter(None, match.group(2).split(",")))


def lock_is_current(lock_text: str) -> bool:
    """Whether a lock was generated for REQUIREMENTS and this repository's interpreter constraints."""
    header = re.search(
        r"--- BEGIN PANTS LOCKFILE METADATA: DO NOT EDIT OR REMOVE ---\n(.*?)\n// --- END", lock_text, re.S
    )
    if not header:
        return False
    metadata = json.loads("\n".join(line[2:] for line in header.group(1).splitlines()))
    python = toml_sections((REPO_ROOT / "pants.toml").read_text()).get("python", "")
    ics = re.search(r"^interpreter_constraints\s*=\s*\[(.*?)\]", python, re.M | re.S)
    wanted_ics = re.findall(r'"([^"]+)"', ics.group(1)) if ics else []
    wanted_reqs = [l for l in (l.strip() for l in REQUIREMENTS.splitlines()) if l and not l.startswith("#")]
    return {_specifier_set(r) for r in metadata.get("valid_for_interpreter_constraints", [])} == {
        _specifier_set(r) for r in wanted_ics
    } and {_specifier_set(r) for r in metadata.get("generated_with_requirements", [])} == {
        _specifier_set(r) for r in wanted_reqs
    }


def pants_version() -> str:
    match = re.search(r'^pants_version\s*=\s*"([^"]+)"', (REPO_ROOT / "pants.toml").read_text(), re.M)
    if not match:
        raise BenchmarkError("pants.toml sets no pants_version.")
    return match.group(1)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def copy_common(dest: Path) -> None:
    dest.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "pants", dest / "pants")
    # Not 3rdparty/tools/pex/: the launcher provisions the pinned pex from its cache.
    shutil.copytree(
        REPO_ROOT / "3rdparty" / "python",
        dest / "3rdparty" / "python",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    write(dest / "3rdparty" / "python" / "requirements.txt", REQUIREMENTS)


def make_ours(dest: Path) -> None:
    copy_common(dest)
    shutil.copy2(REPO_ROOT / "pants.toml", dest / "pants.toml")
    shutil.copytree(
        REPO_ROOT / "pants-plugins",
        dest / "pants-plugins",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    for name in FUNCTIONS:
        package = dest / "src" / "python" / f"bench_{name}"
        write(package / "__init__.py", "")
        write(package / "handler.py", FUNCTIONS[name]["source"])
        targets = "".join(
            f'python_aws_lambda_function(\n    name="lambda-{mode}",\n    runtime="{RUNTIME}",\n'
            f'    handler="handler.py:handler",\n    bytecode="{mode}",\n'
            f'    output_path="{name}-ours-{mode}.zip",\n)\n'
            for mode in ("compiled", "only", "none")
        )
        write(package / "BUILD", "python_sources()\n\n" + targets)


def make_builtin(dest: Path) -> None:
    copy_common(dest)
    sections = toml_sections((REPO_ROOT / "pants.toml").read_text())
    missing = [s for s in ("python", "python.resolves", "pex-cli", "subprocess-environment") if s not in sections]
    if missing:
        raise BenchmarkError(f"pants.toml has no {', '.join(missing)} section(s).")
    text = (
        "[GLOBAL]\n"
        f'pants_version = "{pants_version()}"\n'
        'backend_packages = ["pants.backend.python", "pants.backend.awslambda.python"]\n'
        'pants_ignore.add = ["/3rdparty/tools/pex/"]\n\n'
        + "\n".join(sections[s].rstrip() + "\n" for s in SHARED_SECTIONS if s in sections)
        + '\n[lambdex]\nlayout = "zip"\n'
    )
    write(dest / "pants.toml", text)
    # Only the requirements: the plugin's own resolves have no targets here.
    write(dest / "3rdparty" / "python" / "BUILD", 'python_requirements(name="reqs", source="requirements.txt")\n')
    for name in FUNCTIONS:
        package = dest / "src" / "python" / f"bench_{name}"
        write(package / "__init__.py", "")
        write(package / "handler.py", FUNCTIONS[name]["source"])
        write(
            package / "BUILD",
            "python_sources()\n\n"
            f'python_awslambda(\n    name="lambda",\n    runtime="{RUNTIME}",\n'
            f'    handler="handler.py:handler",\n    output_path="{name}-builtin.zip",\n)\n',
        )


@dataclass
class Repo:
    name: str
    root: Path
    logs: Path
    runs: int = 0

    def pants(self, *args: str, timeout: float = 1800) -> float:
        """Run `./pants ARGS`, return its wall time in seconds; fail loudly with its log."""
        self.runs += 1
        LOAD_SAMPLES.append(os.getloadavg()[0])
        log_path = self.logs / f"{self.name}-{self.runs:03d}-{args[0]}.log"
        with open(log_path, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.run(
                ["./pants", *args],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
            elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            tail = log_path.read_text(errors="replace")[-4000:]
            raise BenchmarkError(f"`./pants {' '.join(args)}` failed in {self.root}:\n{tail}")
        return elapsed

    def stop_pantsd(self) -> None:
        for pid_file in glob.glob(str(self.root / ".pids" / "*" / "pantsd" / "pid")):
            try:
                pid = int(Path(pid_file).read_text().strip())
                os.kill(pid, signal.SIGTERM)
            except (ValueError, OSError):
                pass


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


@dataclass
class Samples:
    values: List[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def spread(self, scale: float = 1.0, digits: int = 2) -> str:
        return (
            f"{self.median * scale:.{digits}f} "
            f"({min(self.values) * scale:.{digits}f}–{max(self.values) * scale:.{digits}f}, n={len(self.values)})"
        )


def edit_handler(repo: Repo, function: str, nonce: str) -> None:
    """A source-only edit: the original module plus one new constant."""
    path = repo.root / "src" / "python" / f"bench_{function}" / "handler.py"
    path.write_text(FUNCTIONS[function]["source"] + f'\nBENCH_EDIT = "{nonce}"\n')


def artifact_has(zip_path: Path, member: str, needle: str) -> bool:
    with zipfile.ZipFile(zip_path) as zf:
        try:
            return needle in zf.read(member).decode()
        except KeyError:
            return False


def time_packaging(
    repos: Sequence[Repo],
    targets: Dict[str, str],
    artifacts: Dict[str, Path],
    function: str,
    runs: int,
) -> Dict[str, Dict[str, Samples]]:
    """Per repo: `edit` and `nochange` package times, pantsd warm, runs interleaved."""
    results = {repo.name: {"edit": Samples(), "nochange": Samples()} for repo in repos}
    member = f"bench_{function}/handler.py"
    # Warm pantsd and the caches, including one edit that is not timed.
    for repo in repos:
        edit_handler(repo, function, f"warmup-{os.getpid()}-{time.time_ns()}")
        repo.pants("package", targets[repo.name])
    for i in range(runs):
        for repo in repos:
            # Unique per run, so neither pantsd's memo nor the persistent cache has seen it.
            nonce = f"run-{os.getpid()}-{time.time_ns()}-{i}"
            edit_handler(repo, function, nonce)
            results[repo.name]["edit"].values.append(repo.pants("package", targets[repo.name]))
            if not artifact_has(artifacts[repo.name], member, nonce):
                raise BenchmarkError(
                    f"{artifacts[repo.name]} does not hold the edit {nonce!r} just made: the "
                    "timed build did not see the change."
                )
    for _ in range(runs):
        for repo in repos:
            results[repo.name]["nochange"].values.append(repo.pants("package", targets[repo.name]))
    return results


def zip_sizes(path: Path) -> Dict[str, int]:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        return {
            "zipped": path.stat().st_size,
            "unzipped": sum(i.file_size for i in infos),
            "files": sum(1 for i in infos if not i.is_dir()),
            "pyc": sum(1 for i in infos if i.filename.endswith(".pyc")),
        }


def find_runtime_python(explicit: Optional[str]) -> str:
    candidates = [explicit] if explicit else []
    candidates.append(shutil.which(f"python{RUNTIME_VERSION[0]}.{RUNTIME_VERSION[1]}"))
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates.extend(sorted(glob.glob(f"{pyenv}/versions/3.12*/bin/python3.12")))
    for candidate in filter(None, candidates):
        try:
            # The real executable, not a pyenv shim: its start-up is then the interpreter's own.
            out = subprocess.run(
                [candidate, "-I", "-c", "import sys; print(sys.executable); print(sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()
        except (OSError, subprocess.CalledProcessError):
            continue
        if out[1] == str(RUNTIME_VERSION):
            return out[0]
    raise BenchmarkError(f"No CPython {RUNTIME_VERSION[0]}.{RUNTIME_VERSION[1]} found (PATH, pyenv); pass --python.")


def unpack(zip_path: Path, dest: Path) -> None:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)


def tree_files(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        os.chmod(path, (mode | 0o200) if writable else (mode & ~0o222))


def check_artifact(python: str, root: Path, function: str) -> str:
    spec = FUNCTIONS[function]
    proc = subprocess.run(
        [python, "-I", "-S", "-B", "-c", IMPORT_CHECK, str(root), spec["event"], spec["third_party"]],
        capture_output=True,
        text=True,
        cwd=root.parent,
    )
    if proc.returncode != 0:
        raise BenchmarkError(f"The handler in {root} does not work:\n{proc.stderr[-3000:]}")
    return proc.stdout.strip()


def time_import(python: str, root: Path) -> "tuple[float, float]":
    """(in-process import time, whole process wall time), seconds."""
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-I", "-S", "-B", "-c", IMPORT_TIMER, str(root)],
        capture_output=True,
        text=True,
        cwd=root.parent,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchmarkError(f"Importing lambda_function from {root} failed:\n{proc.stderr[-3000:]}")
    return float(proc.stdout.strip()), wall


def measure_cold_start(
    python: str, work: Path, zips: Dict[str, Path], floor_zip: Path, function: str, imports: int
) -> Dict[str, Dict[str, Samples]]:
    """Per variant (the artifacts in `zips`, plus `floor`): `import` and `process` samples."""
    roots: Dict[str, Path] = {}
    for variant, zip_path in zips.items():
        roots[variant] = work / variant / "task"
        unpack(zip_path, roots[variant])
    # The floor: the sources-only artifact, with the .pyc this interpreter writes itself on a
    # first import (timestamp-based, as the import system writes them).
    roots["floor"] = work / "floor" / "task"
    unpack(floor_zip, roots["floor"])
    proc = subprocess.run(
        [python, "-I", "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]); import lambda_function", str(roots["floor"])],
        capture_output=True,
        text=True,
        cwd=roots["floor"].parent,
    )
    if proc.returncode != 0:
        raise BenchmarkError(f"Writing the floor's .pyc failed:\n{proc.stderr[-3000:]}")
    for variant, root in roots.items():
        check_artifact(python, root, function)
        set_writable(root, False)
    before = {variant: tree_files(root) for variant, root in roots.items()}

    results = {variant: {"import": Samples(), "process": Samples()} for variant in roots}
    for _ in range(imports):
        for variant, root in roots.items():
            imported, wall = time_import(python, root)
            results[variant]["import"].values.append(imported)
            results[variant]["process"].values.append(wall)

    for variant, root in roots.items():
        if tree_files(root) != before[variant]:
            raise BenchmarkError(f"The import wrote into the read-only {root}.")
        set_writable(root, True)
    return results


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def kib(size: int) -> str:
    if size < 10 * 1024:
        return f"{size:,} B"
    return f"{size / 1024:,.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:,.2f} MiB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


def machine_info(python: str) -> List[str]:
    def read(path: str) -> str:
        try:
            return Path(path).read_text()
        except OSError:
            return ""

    cpu = re.search(r"^model name\s*:\s*(.+)$", read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo"), re.M)
    os_name = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', read("/etc/os-release"), re.M)
    runtime_version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True
    ).stdout.strip()
    cache = os.environ.get("PANTS_AWS_LAMBDA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pants-aws-lambda"
    )
    # The launcher's environment: `pants-<version>-py39-<revision>`.
    pants_python = sorted(glob.glob(os.path.join(cache, "pants-*-py39-[0-9]*", "bin", "python")))
    pants_python_version = (
        subprocess.run(
            [pants_python[-1], "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if pants_python
        else "3.9"
    )
    return [
        f"- CPUs: {os.cpu_count()} (`nproc`), {cpu.group(1).strip() if cpu else platform.processor() or 'unknown'}",
        f"- Memory: {int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "- Memory: unknown",
        f"- OS: {os_name.group(1) if os_name else platform.system()}, kernel {platform.release()}",
        f"- Python: runtime interpreter CPython {runtime_version} (`{python}`), Pants {pants_version()} "
        f"on CPython {pants_python_version}, this script on CPython {platform.python_version()}",
        "- Load average (1, 5, 15 min) before / after: {load_before} / {load_after}; 1-min load "
        "before each `./pants` run: min {load_min}, median {load_median}, max {load_max}",
    ]


def locked_versions(lock_path: Path) -> str:
    text = "\n".join(l for l in lock_path.read_text().splitlines() if not l.startswith("//"))
    lock = json.loads(text)
    versions = {
        req["project_name"]: req["version"]
        for resolve in lock["locked_resolves"]
        for req in resolve["locked_requirements"]
    }
    wanted = ("pydantic", "pydantic-core", "requests", "urllib3", "boto3", "botocore", "s3transfer")
    return ", ".join(f"{name} {versions[name]}" for name in wanted if name in versions)


def build_report(
    results: Dict[str, dict], args: argparse.Namespace, python: str, lock_path: Path, machine: List[str], elapsed: float
) -> str:
    rows: List[List[str]] = []
    details: List[List[str]] = []
    targets_met: List[bool] = []

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}"

    for function, r in results.items():
        fn = f"`{function}`"
        pack = r["package"]
        ours_edit, bi_edit = pack["ours"]["edit"].median, pack["builtin"]["edit"].median
        ok = ours_edit <= bi_edit / 3
        targets_met.append(ok)
        rows.append([fn, "package after a source-only edit, pantsd warm (s)", f"{ours_edit:.2f}", f"{bi_edit:.2f}", ratio(ours_edit, bi_edit), "≤ 0.33", verdict(ok)])
        ours_nc, bi_nc = pack["ours"]["nochange"].median, pack["builtin"]["nochange"].median
        rows.append([fn, "package with no change, pantsd warm (s)", f"{ours_nc:.2f}", f"{bi_nc:.2f}", ratio(ours_nc, bi_nc), "", ""])

        sizes = r["sizes"]
        bi = sizes["builtin"]
        for mode in ("compiled", "only", "none"):
            ours = sizes[f"ours-{mode}"]
            target, result = "", ""
            if mode == "none":
                ok = ours["zipped"] <= bi["zipped"]
                targets_met.append(ok)
                target, result = "≤ 1.00", verdict(ok)
            rows.append([fn, f'zip size, ours `bytecode="{mode}"`', kib(ours["zipped"]), kib(bi["zipped"]), ratio(ours["zipped"], bi["zipped"]), target, result])
        for mode in ("compiled", "only", "none"):
            ours = sizes[f"ours-{mode}"]
            rows.append([fn, f'unzipped size, ours `bytecode="{mode}"`', kib(ours["unzipped"]), kib(bi["unzipped"]), ratio(ours["unzipped"], bi["unzipped"]), "", ""])

        cold = r["cold"]
        bi_imp = cold["builtin"]["import"].median
        floor = cold["floor"]["import"].median
        for mode in ("compiled", "only"):
            ours_imp = cold[f"ours-{mode}"]["import"].median
            target, result = "", ""
            if mode == "compiled":
                ok = bi_imp / ours_imp >= 1.5
                targets_met.append(ok)
                target, result = "≤ 0.67 (≥ 1.5x faster)", verdict(ok)
            rows.append([fn, f'cold start: import, ours `bytecode="{mode}"` (ms)', f"{ours_imp * 1000:.2f}", f"{bi_imp * 1000:.2f}", ratio(ours_imp, bi_imp), target, result])
        ours_imp = cold["ours-compiled"]["import"].median
        ok = ours_imp <= floor * 1.10
        targets_met.append(ok)
        rows.append([fn, 'cold start: import, ours `bytecode="compiled"` vs the floor (ms)', f"{ours_imp * 1000:.2f}", f"floor {floor * 1000:.2f}", f"{ours_imp / floor:.2f} (ours / floor)", "≤ 1.10", verdict(ok)])
        rows.append([fn, "cold start: import, built-in vs the floor (ms)", "", f"{bi_imp * 1000:.2f}", f"{bi_imp / floor:.2f} (built-in / floor)", "", ""])

        for tool in ("ours", "builtin"):
            for kind, label in (("edit", "package after edit"), ("nochange", "package, no change")):
                details.append([fn, tool, label, "s", pack[tool][kind].spread()])
        for variant in ("ours-compiled", "ours-only", "builtin", "floor"):
            details.append([fn, variant, "import lambda_function (in-process)", "ms", cold[variant]["import"].spread(1000)])
            details.append([fn, variant, "whole interpreter process (wall)", "ms", cold[variant]["process"].spread(1000)])
        for variant, s in sizes.items():
            details.append([fn, variant, "files in zip (of which .pyc)", "", f"{s['files']} ({s['pyc']})"])

    def table(header: List[str], body: List[List[str]]) -> str:
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        fmt = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"  # noqa: E731
        return "\n".join([fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, body)])

    command = "python3 benchmarks/run.py" + (f" --markdown {args.markdown}" if args.markdown else "")
    if args.runs != 5:
        command += f" --runs {args.runs}"
    if args.imports != 30:
        command += f" --imports {args.imports}"
    if args.relock:
        command += " --relock"
    if args.functions != ",".join(FUNCTIONS):
        command += f" --functions {args.functions}"
    lines = [
        f"Run on {time.strftime('%Y-%m-%d')} with `{command}` ({elapsed / 60:.1f} min), "
        f"runtime `{RUNTIME}` on x86_64, package times median of {args.runs} runs, "
        f"import times median of {args.imports} runs. Locked: {locked_versions(lock_path)}.",
        "",
        *machine,
        "",
        table(["Function", "Measure", "Ours", "Built-in", "Ours / built-in", "Target", "Result"], rows),
        "",
        f"Targets met: {sum(targets_met)} of {len(targets_met)}.",
        "",
        "Spread: median (min–max, n).",
        "",
        table(["Function", "Artifact", "Measure", "Unit", "Median (min–max, n)"], details),
    ]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- benchmark results: begin -->", "<!-- benchmark results: end -->"


def write_markdown(path: Path, report: str) -> None:
    """Replace the results between the markers of an existing document, or write a new one."""
    block = f"{BEGIN}\n{report}{END}\n"
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1].lstrip("\n")
            path.write_text(head + block + ("\n" + tail if tail else ""))
            return
    write(path, "# Performance\n\n" + block)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed `./pants package` runs per case (default 5)")
    parser.add_argument("--imports", type=int, default=30, help="timed imports per artifact (default 30)")
    parser.add_argument("--markdown", type=Path, help="also write the results into this Markdown file")
    parser.add_argument("--json", type=Path, help="also write the raw samples as JSON")
    parser.add_argument(
        "--lockfile", type=Path, default=COMMITTED_LOCK, help="the lockfile to use (default: benchmarks/default.lock)"
    )
    parser.add_argument("--relock", action="store_true", help="lock the requirements anew with `./pants generate-lockfiles`")
    parser.add_argument("--python", help=f"the CPython {RUNTIME[6:]} for the cold-start measurements")
    parser.add_argument("--workdir", type=Path, help="build the repositories here (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--functions", default=",".join(FUNCTIONS), help="comma-separated subset of: " + ", ".join(FUNCTIONS))
    args = parser.parse_args(argv)
    functions = [f for f in args.functions.split(",") if f]
    unknown = sorted(set(functions) - set(FUNCTIONS))
    if unknown:
        parser.error(f"unknown function(s): {', '.join(unknown)}")

    started = time.perf_counter()
    python = find_runtime_python(args.python)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = Path(args.workdir or tempfile.mkdtemp(prefix="pants-aws-lambda-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    log(f"work directory {work}; pants logs in {logs}")

    ours = Repo("ours", work / "ours", logs)
    builtin = Repo("builtin", work / "builtin", logs)
    repos = [ours, builtin]
    try:
        make_ours(ours.root)
        make_builtin(builtin.root)

        lock_rel = Path("3rdparty/python/default.lock")
        relock = args.relock or not args.lockfile.is_file()
        if not relock and not lock_is_current(args.lockfile.read_text()):
            log(f"{args.lockfile} does not match the requirements or interpreter constraints: relocking")
            relock = True
        if relock:
            log("locking pydantic, requests and boto3 (generate-lockfiles, once)")
            ours.pants("generate-lockfiles", "--resolve=python-default")
        else:
            shutil.copy2(args.lockfile, ours.root / lock_rel)
        shutil.copy2(ours.root / lock_rel, builtin.root / lock_rel)
        shutil.copy2(ours.root / lock_rel, work / "default.lock")

        results: Dict[str, dict] = {}
        for function in functions:
            spec = f"src/python/bench_{function}"
            log(f"{function}: first builds (cold caches possible)")
            for mode in ("compiled", "only", "none"):
                ours.pants("package", f"{spec}:lambda-{mode}")
            builtin.pants("package", f"{spec}:lambda")

            log(f"{function}: package timings, {args.runs} runs each, pantsd warm")
            artifacts = {"ours": ours.root / "dist" / f"{function}-ours-compiled.zip", "builtin": builtin.root / "dist" / f"{function}-builtin.zip"}
            package_times = time_packaging(
                repos, {"ours": f"{spec}:lambda-compiled", "builtin": f"{spec}:lambda"}, artifacts, function, args.runs
            )
            # The edited sources are what the cold start measures too: rebuild the other variants.
            for mode in ("only", "none"):
                ours.pants("package", f"{spec}:lambda-{mode}")

            zips = {f"ours-{mode}": ours.root / "dist" / f"{function}-ours-{mode}.zip" for mode in ("compiled", "only", "none")}
            zips["builtin"] = artifacts["builtin"]
            sizes = {variant: zip_sizes(path) for variant, path in zips.items()}
            for variant, path in zips.items():
                shutil.copy2(path, work / path.name)

            log(f"{function}: cold-start imports with {python}, {args.imports} runs each")
            cold = measure_cold_start(
                python,
                work / "cold" / function,
                {v: zips[v] for v in ("ours-compiled", "ours-only", "builtin")},
                zips["ours-none"],
                function,
                args.imports,
            )
            results[function] = {"package": package_times, "sizes": sizes, "cold": cold}
    finally:
        for repo in repos:
            repo.stop_pantsd()

    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    loads = {
        "load_min": f"{min(LOAD_SAMPLES):.2f}",
        "load_median": f"{statistics.median(LOAD_SAMPLES):.2f}",
        "load_max": f"{max(LOAD_SAMPLES):.2f}",
    }
    machine = [
        line.format(load_before=load_before, load_after=load_after, **loads) if "{load" in line else line
        for line in machine_info(python)
    ]
    report = build_report(results, args, python, work / "default.lock", machine, time.perf_counter() - started)
    print(report)
    if args.markdown:
        write_markdown(args.markdown, report)
        log(f"wrote {args.markdown}")
    if args.json:
        raw = {
            fn: {
                "package": {t: {k: s.values for k, s in v.items()} for t, v in r["package"].items()},
                "sizes": r["sizes"],
                "cold": {t: {k: s.values for k, s in v.items()} for t, v in r["cold"].items()},
            }
            for fn, r in results.items()
        }
        write(args.json, json.dumps(raw, indent=2, sort_keys=True) + "\n")
    if args.keep or args.workdir:
        log(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        sys.exit(1)
