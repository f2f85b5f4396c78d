"""The CPythons of this machine: one of a given X.Y, and how a test runs a runtime's CPython."""

from __future__ import annotations

import functools
import glob
import json
import os
import platform
import shutil
import subprocess
from typing import Iterator

from pants_aws_lambda.testutil import emulated
from pants_aws_lambda.testutil.require import REQUIRE_INTERPRETERS_ENV, unavailable

# Prints `CPython 3.12 <abiflags>` (`t` for a free-threaded build, `d` for a debug one), then the
# interpreter's real path.
_PROBE = (
    "import platform, sys; "
    "print(platform.python_implementation(), '%d.%d' % sys.version_info[:2], sys.abiflags); "
    "print(sys.executable)"
)


def _candidates(version: str) -> Iterator[str]:
    exe = f"python{version}"
    on_path = shutil.which(exe)
    if on_path:
        yield on_path
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    versions = os.path.join(pyenv_root, "versions")
    # Newest patch release first.
    for pattern in (version, f"{version}.*"):
        yield from sorted(glob.glob(os.path.join(versions, pattern, "bin", exe)), reverse=True)
    yield from (f"/usr/local/bin/{exe}", f"/usr/bin/{exe}", f"/opt/homebrew/bin/{exe}")


def _child_env() -> dict[str, str]:
    # Pants runs the tests from a PEX: its `PEX_*` settings must not reach another interpreter.
    return {k: v for k, v in os.environ.items() if not k.startswith("PEX_")}


@functools.lru_cache(maxsize=None)
def find_cpython(version: str) -> str | None:
    """The real path of a CPython `version` (`3.12`; a regular build, neither free-threaded nor
    debug) that really runs, from PATH, pyenv, /usr/local/bin or /usr/bin; or None. A pyenv shim
    on PATH for a version that is not selected fails, and the next candidate is tried."""
    for candidate in _candidates(version):
        if not os.access(candidate, os.X_OK):
            continue
        try:
            probe = subprocess.run(
                [candidate, "-I", "-S", "-c", _PROBE],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                env=_child_env(),
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = probe.stdout.splitlines()
        if probe.returncode == 0 and len(lines) == 2 and lines[0].split() == ["CPython", version]:
            return lines[1].strip()
    return None


def require_cpython(version: str, purpose: str = "") -> str:
    """A CPython `version` of this machine (see `find_cpython`), or skip the test; fail instead
    under `PANTS_AWS_LAMBDA_REQUIRE_INTERPRETERS=1`. `purpose` says what the test wanted it for."""
    found = find_cpython(version)
    if found:
        return found
    unavailable(
        f"no CPython {version} found (looked for python{version} on PATH, in "
        f"$PYENV_ROOT/versions/{version}*/bin and in /usr/local/bin, /usr/bin)"
        + (f": {purpose}" if purpose else ""),
        REQUIRE_INTERPRETERS_ENV,
    )


def host_architecture() -> str:
    """This machine's CPU as a Lambda architecture: `x86_64` or `arm64`."""
    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else "x86_64"


def interpreter_options(version: str, architecture: str) -> list[str]:
    """Options that let `pants run` invoke a function of CPython `version` on `architecture`
    here: none when this machine has that CPython natively, else an emulated root's; or skip
    (fail under `PANTS_AWS_LAMBDA_REQUIRE_INTERPRETERS=1` or `..._REQUIRE_EMULATION=1`)."""
    if architecture == host_architecture() and find_cpython(version) is not None:
        return []
    root = emulated.require_root(version, architecture)
    return [f"--lambda-invoke-interpreter-roots={json.dumps({architecture: [root]})}"]
