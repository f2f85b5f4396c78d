"""End to end: loading the plugin adds no warning to a run, whatever pyparsing Pants' environment has.

Pants 2.17.1 leaves pyparsing unpinned, so `pip install pantsbuild.pants==2.17.1` gets the newest,
and from pyparsing 3.3 on, `packaging` 21.3 (which Pants ships and the plugin uses) warns when it is
imported. The repository's launcher pins pyparsing, but users' environments do not: this test runs
Pants from an environment with pyparsing 3.3 or newer, as such a user would, and counts warnings.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from e2e import emulated
from e2e.repo import REQUIRE_INTERPRETERS_ENV, _nested_env, copy_repo, find_cpython, rmtree, run_pants

PANTS_VERSION = "2.17.1"
TARGET = "src/python/examples/pydantic_app:lambda"


def pants_with_new_pyparsing() -> Path:
    """A Pants 2.17.1 environment with pyparsing 3.3 or newer, made once (under a lock)."""
    python = find_cpython("3.9")
    if python is None:
        message = "No CPython 3.9 to install Pants 2.17.1 with (it runs on 3.9 only)."
        if os.environ.get(REQUIRE_INTERPRETERS_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    root = emulated.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"pants-{PANTS_VERSION}-py39-pyparsing-3.3"
    with open(root / ".pyparsing-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([python, "-m", "venv", str(venv)], check=True)
            env = {**_nested_env(), "PIP_CONFIG_FILE": os.devnull}
            subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    f"pantsbuild.pants=={PANTS_VERSION}",
                    "pyparsing>=3.3",
                ],
                check=True,
                env=env,
            )
            (venv / ".complete").touch()
    return venv


@pytest.fixture(scope="module")
def buildroot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("e2e-warnings")
    repo = copy_repo(root / "repo")
    # The launcher provisions the pinned pex where `[pex-cli]` points.
    result = run_pants(repo, "--version")
    assert result.returncode == 0, result.describe()
    yield repo
    rmtree(root)


def warning_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "Warning" in line]


def test_no_pyparsing_warnings_from_the_plugin(buildroot: Path) -> None:
    venv = pants_with_new_pyparsing()
    python = str(venv / "bin" / "python")
    version = subprocess.run(
        [python, "-c", "import pyparsing; print(pyparsing.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert tuple(int(p) for p in version.split(".")[:2]) >= (3, 3), version
    # The environment does warn when `packaging` is imported unguarded: the test can fail.
    control = subprocess.run(
        [python, "-W", "default", "-c", "import packaging.requirements"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert any("PyparsingDeprecationWarning" in line for line in warning_lines(control.stderr)), control.stderr

    env = {**_nested_env(), "NO_SCIE_WARNING": "1"}
    proc = subprocess.run(
        [
            str(venv / "bin" / "pants"),
            "--no-pantsd",
            "--no-pantsrc",
            "--no-dynamic-ui",
            "--no-watch-filesystem",
            "package",
            TARGET,
        ],
        cwd=buildroot,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "Wrote dist/src.python.examples.pydantic_app/lambda.zip" in output
    assert warning_lines(output) == [], "\n".join(warning_lines(output))
    print(f"pyparsing {version}: `pants package {TARGET}` printed no warning", file=sys.stderr)
