"""Harness for the end-to-end tests: a fresh copy of the repository, the real `./pants`, the real
interpreters of Lambda runtimes, and the artifacts it builds.

Under `./pants test` the test's sandbox holds the repository's files through the `//:repo` files
target; run directly with pytest, the work tree itself is the source. Either way the tests copy
those files into a temporary directory and run `./pants` there, so a build never touches the
user's `dist/` or `.pants.d/`, and Pants' test cache reruns the tests whenever any of the files
changes. Pants' own caches (`~/.cache/pants`) and the launcher's environment
(`~/.cache/pants-aws-lambda`) are shared with the user's, which keeps nested runs fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import pytest

from pants_aws_lambda.testutil.interpreters import host_architecture

# What a copy of the repository is made of: the `//:repo` files target owns exactly these.
REPO_FILES = ("pants", "pants.toml", "BUILD")
REPO_DIRS = ("pants-plugins", "src", "3rdparty")
# Never copied: the launcher provisions the pex tool, and Python writes bytecode caches.
_SKIPPED_DIRS = {"__pycache__", ".pants.d", "dist"}
_SKIPPED_PARTS = (("3rdparty", "tools"),)

NESTED_PANTS_TIMEOUT_S = 600
INVOKE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Artifact:
    """A `python_aws_lambda_function` target of the examples and where its zip must land."""

    address: str
    runtime: str
    architecture: str

    @property
    def dist_path(self) -> str:
        spec_path, _, name = self.address.partition(":")
        return f"dist/{spec_path.replace('/', '.')}/{name}.zip"

    @property
    def python_version(self) -> str:
        return self.runtime[len("python") :]


def source_repo() -> Path:
    """The directory holding the repository's files: the test sandbox, or the work tree."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pants.toml").is_file() and (parent / "pants").is_file():
            return parent
    raise AssertionError(
        f"No `pants.toml` and `pants` above {__file__}: the test must depend on the `//:repo` "
        "files target, which puts the repository's files into its sandbox."
    )


def _skipped(rel: Path) -> bool:
    if any(part in _SKIPPED_DIRS for part in rel.parts) or rel.suffix == ".pyc":
        return True
    return any(rel.parts[: len(prefix)] == prefix for prefix in _SKIPPED_PARTS)


def copy_repo(dest: Path) -> Path:
    """Copy the repository's files into `dest`, a fresh build root, and return it."""
    src = source_repo()
    missing = [name for name in (*REPO_FILES, *REPO_DIRS) if not (src / name).exists()]
    assert (
        not missing
    ), f"{src} lacks {', '.join(missing)}: does the test depend on the `//:repo` files target?"
    dest.mkdir(parents=True, exist_ok=True)
    for name in REPO_FILES:
        shutil.copy2(src / name, dest / name)
    for top in REPO_DIRS:
        for path in sorted((src / top).rglob("*")):
            rel = path.relative_to(src)
            if _skipped(rel) or path.is_dir():
                continue
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / rel)
    # A sandbox may not keep the executable bit.
    (dest / "pants").chmod(0o755)
    return dest


def module_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A new directory for a test module's fixtures, removed afterwards with the read-only trees
    in it (`yield from` it in a module-scoped fixture)."""
    root = tmp_path_factory.mktemp(name)
    yield root
    rmtree(root)


def fresh_repo(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A fresh copy of the repository in a `module_dir` (`yield from` it in a fixture)."""
    for root in module_dir(tmp_path_factory, name):
        yield copy_repo(root / "repo")


# The launcher's settings; every other `PANTS_*` variable would configure the nested Pants.
_LAUNCHER_ENV = ("PANTS_PYTHON", "PANTS_AWS_LAMBDA_CACHE_DIR")


def _nested_env() -> dict[str, str]:
    """The test's environment, less what the outer Pants and its pytest PEX set for themselves."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PEX_", "_PEX", "PYTHON", "VIRTUAL_ENV"))
        and not (k.startswith("PANTS_") and k not in _LAUNCHER_ENV)
    }
    env.setdefault("LANG", "C.UTF-8")
    return env


@dataclass(frozen=True)
class PantsResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        tail = "\n".join(self.output.splitlines()[-60:])
        return (
            f"`./pants {' '.join(self.args)}` exited {self.returncode} after {self.seconds:.0f}s; "
            f"last lines of its output:\n{tail}"
        )


def run_pants(
    buildroot: Path, *args: str, pantsd: bool = False, timeout: float = NESTED_PANTS_TIMEOUT_S
) -> PantsResult:
    """Run the repository's `./pants` in `buildroot`: no daemon (unless `pantsd`, then stop it
    with `stop_pantsd`), no rc files, plain output."""
    daemon = ("--pantsd",) if pantsd else ("--no-pantsd", "--no-watch-filesystem")
    argv = (*daemon, "--no-pantsrc", "--no-dynamic-ui", *args)
    started = time.monotonic()
    proc = subprocess.run(
        [str(buildroot / "pants"), *argv],
        cwd=buildroot,
        env=_nested_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    result = PantsResult(
        argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started
    )
    print(f"./pants {' '.join(argv)}: exit {result.returncode} in {result.seconds:.1f}s")
    return result


def nested_env() -> dict[str, str]:
    """The environment of a nested `./pants` (for tools that run it themselves)."""
    return _nested_env()


def stop_pantsd(buildroot: Path) -> None:
    """Stop the daemon a `./pants` with `--pantsd` started in `buildroot`, by the pid it wrote."""
    for pid_file in buildroot.glob(".pids/*/pantsd/pid"):
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ValueError, OSError):
            pass


def package(
    buildroot: Path,
    artifacts: Iterable[Artifact],
    *options: str,
    timeout: float = NESTED_PANTS_TIMEOUT_S,
) -> PantsResult:
    result = run_pants(
        buildroot, *options, "package", *(a.address for a in artifacts), timeout=timeout
    )
    assert result.returncode == 0, result.describe()
    return result


def packaged_copy(dest: Path, artifacts: Iterable[Artifact], *options: str) -> Path:
    """A fresh copy of the repository at `dest` after one `./pants package` of `artifacts`."""
    buildroot = copy_repo(dest)
    package(buildroot, artifacts, *options)
    return buildroot


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Interpreters: `pants_aws_lambda.testutil.interpreters` finds them
# ---------------------------------------------------------------------------------------------


def require_host_for(artifact: Artifact) -> None:
    """Skip unless this machine can load the artifact's native code (Linux on its CPU)."""
    if sys.platform != "linux" or host_architecture() != artifact.architecture:
        pytest.skip(
            f"{artifact.address} is for Linux {artifact.architecture}; this machine is "
            f"{sys.platform} {platform.machine()}."
        )


# ---------------------------------------------------------------------------------------------
# Using an artifact
# ---------------------------------------------------------------------------------------------


def unpack_read_only(zip_path: Path, dest: Path) -> Path:
    """Unpack like Lambda does into `/var/task`, then make the tree read-only like `/var/task`."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    for path in (dest, *dest.rglob("*")):
        mode = path.stat().st_mode
        path.chmod(stat.S_IMODE(mode) & ~0o222)
    return dest


def make_writable(root: Path) -> None:
    """Undo `unpack_read_only` so that the tree can be deleted."""
    if not root.exists():
        return
    for path in (root, *root.rglob("*")):
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o200)


def rmtree(root: Path) -> None:
    make_writable(root)
    shutil.rmtree(root, ignore_errors=True)


def invoke(
    python: str | Sequence[str],
    task_root: Path,
    event: Mapping[str, Any],
    work_dir: Path,
    function_name: str = "e2e-function",
    timeout: float = INVOKE_TIMEOUT_S,
) -> dict[str, Any]:
    """Call `lambda_function.handler(event, context)` from `task_root` with `python` in isolated
    mode, with only `task_root` and the standard library on `sys.path`; return the runner's report.

    `python` is an interpreter's path, or a command prefix that runs one (an emulated CPython:
    `[qemu, "-L", root, root/usr/bin/python3.13]`, see `pants_aws_lambda.testutil.emulated`).
    """
    command = [python] if isinstance(python, str) else list(python)
    runner = Path(__file__).with_name("invoke_handler.py")
    output = work_dir / f"invoke-{uuid.uuid4().hex}.json"
    request_id = str(uuid.uuid4())
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "E2E_REQUEST_ID": request_id,
    }
    proc = subprocess.run(
        [*command, "-I", "-S", "-B", str(runner), str(task_root), json.dumps(event), str(output)],
        cwd=task_root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, (
        f"Invoking the handler in {task_root} with {' '.join(command)} failed "
        f"(exit {proc.returncode}):\n"
        f"{proc.stdout}\n{proc.stderr}"
    )
    report = json.loads(output.read_text())
    report["request_id"] = request_id
    return report
