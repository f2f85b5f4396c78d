"""End to end: loading the plugin adds no warning to a run, whatever pyparsing Pants' environment
has.

Pants 2.17.1 leaves pyparsing unpinned, so `pip install pantsbuild.pants==2.17.1` gets the newest,
and from pyparsing 3.3 on, `packaging` 21.3 (which Pants ships and the plugin uses) warns when it is
imported. The repository's launcher pins pyparsing, but users' environments do not: this test runs
Pants from an environment with pyparsing 3.3 or newer, as such a user would, and counts warnings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from e2e.repo import _nested_env, copy_repo, rmtree, run_pants
from pants_aws_lambda.testutil.interpreters import require_cpython
from pants_aws_lambda.testutil.venvs import cached_virtualenv

PANTS_VERSION = "2.17.1"
TARGET = "src/python/examples/pydantic_app:lambda"


def pants_with_new_pyparsing() -> Path:
    """A Pants 2.17.1 environment with pyparsing 3.3 or newer, made once (under a lock)."""
    python = require_cpython("3.9", "Pants 2.17.1 runs on 3.9 only")
    return cached_virtualenv(
        f"pants-{PANTS_VERSION}-py39-pyparsing-3.3",
        python,
        [f"pantsbuild.pants=={PANTS_VERSION}", "pyparsing>=3.3"],
        env={**_nested_env(), "PIP_CONFIG_FILE": os.devnull},
    )


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
    assert any(
        "PyparsingDeprecationWarning" in line for line in warning_lines(control.stderr)
    ), control.stderr

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
