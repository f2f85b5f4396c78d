"""Wheels built by tests, and lockfiles of them made by the pinned pex from a `--find-links`
directory, as a user serving a home-built wheel would."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Mapping

import pytest

from pants_aws_lambda.testutil.interpreters import find_cpython
from pants_aws_lambda.testutil.rules import pinned_pex


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(
    directory: Path, name: str, version: str, tag: str, files: Mapping[str, bytes]
) -> Path:
    """`name-version-tag.whl` in `directory`, holding `files` and its metadata (with a RECORD)."""
    dist_info = f"{name}-{version}.dist-info"
    contents = {
        **files,
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: false\nTag: {tag}\n".encode()
        ),
    }
    record = "\n".join(_record_line(n, d) for n, d in contents.items())
    contents[f"{dist_info}/RECORD"] = f"{record}\n{dist_info}/RECORD,,\n".encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file_name, data in contents.items():
            zf.writestr(file_name, data)
    return path


def python39() -> str:
    found = find_cpython("3.9")
    if found:
        return found
    if sys.version_info[:2] == (3, 9):
        return sys.executable
    pytest.fail("No CPython 3.9 to run the pinned pex with (looked on PATH and in pyenv).")


def lock(find_links: Path, output: Path, requirement: str, *wheels: str) -> str:
    """Lock `requirement` from the wheels of `find_links` alone; the lock must name `wheels`."""
    pex = pinned_pex()
    # A PEX_ROOT of its own, empty every time: the lock needs nothing but the find-links
    # directory, and no cache can hide a download it would need on a fresh machine.
    env = {
        **os.environ,
        "PEX_SCRIPT": "pex3",
        "PIP_CONFIG_FILE": "/dev/null",
        "PEX_ROOT": str(output.parent / "pex_root"),
    }
    proc = subprocess.run(
        [
            python39(),
            pex,
            "lock",
            "create",
            "--no-pypi",
            "--find-links",
            str(find_links),
            "--style",
            "universal",
            "--target-system",
            "linux",
            "--resolver-version",
            "pip-2020-resolver",
            # The pip vendored in pex: with `--no-pypi`, pex could not fetch another one.
            "--pip-version",
            "vendored",
            "--interpreter-constraint",
            "CPython<3.15,>=3.9",
            "--indent",
            "2",
            "-o",
            str(output),
            requirement,
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"pex3 lock create failed:\n{proc.stdout}\n{proc.stderr}"
    text = output.read_text()
    for wheel in wheels:
        assert wheel in text, text
    return text
