"""Virtualenvs the end-to-end tests install once per machine under the cache directory."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from pants_aws_lambda.testutil import cache_root

INSTALL_TIMEOUT_S = 1200


class VirtualenvError(Exception):
    """The virtualenv could not be made (no network, no such release, ...)."""


def cached_virtualenv(
    name: str, python: str, requirements: Sequence[str], env: Mapping[str, str] | None = None
) -> Path:
    """The virtualenv `name` under the cache directory, made by `python` with `requirements`
    installed by pip (in environment `env`, the test's by default) unless it already is. A
    virtualenv's scripts name its path, so it is built in place, under a lock; `.complete` marks it
    usable. Raise `VirtualenvError` with pip's last words when it cannot be made."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / name
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".complete").is_file():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        pip_install = [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        try:
            for argv in ([python, "-m", "venv", str(venv)], [*pip_install, *requirements]):
                subprocess.run(
                    argv,
                    check=True,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT_S,
                    env=dict(os.environ if env is None else env),
                )
        except (OSError, subprocess.SubprocessError) as e:
            shutil.rmtree(venv, ignore_errors=True)
            detail = getattr(e, "stderr", None) or str(e)
            raise VirtualenvError(
                f"could not install {' '.join(requirements)} with {python}: "
                f"{str(detail).strip()[-800:]}"
            ) from e
        (venv / ".complete").touch()
    return venv
