"""The generator (`complete_platforms.py`) against real interpreters: what `pex3 interpreter
inspect` reports for a CPython must equal what we derive for the same version, CPU and glibc. The
CPython is this machine's own, or Debian's under QEMU (user mode) where the tests have a root
filesystem for it (`testutil.emulated`): the runtimes of other CPUs, and CPythons newer than this
machine's.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pants_aws_lambda.facts.architectures import ARCHITECTURES
from pants_aws_lambda.facts.runtimes import RUNTIMES, LambdaRuntime
from pants_aws_lambda.runtimes.complete_platforms import compatible_tags, marker_environment
from pants_aws_lambda.testutil import emulated
from pants_aws_lambda.testutil.interpreters import find_cpython, host_architecture, require_cpython

PEX3 = Path("3rdparty.python/pex3.pex")
# Markers we pin to the `.0` release on purpose; only their `X.Y` prefix must agree.
PATCH_LEVEL_MARKERS = ("implementation_version", "python_full_version")

# Every runtime on this machine's CPU, and every runtime on another CPU that an emulated root has.
INSPECTED = [
    *((runtime, host_architecture()) for runtime in RUNTIMES.values()),
    *(
        (runtime, architecture)
        for runtime in RUNTIMES.values()
        for architecture in ARCHITECTURES
        if architecture != host_architecture()
        and (str(runtime.python_version), architecture) in emulated.ROOTS
    ),
]

# Prints the interpreter's `platform.machine()`, then its C library (`glibc 2.34`, or None).
_PLATFORM_PROBE = """\
import os, platform
try:
    libc = os.confstr("CS_GNU_LIBC_VERSION")
except (ValueError, OSError):
    libc = None
print(platform.machine())
print(libc)
"""


def _child_env() -> dict[str, str]:
    # Pants runs the test itself from a PEX; its `PEX_*` settings must not leak into pex3's run.
    return {k: v for k, v in os.environ.items() if not k.startswith("PEX_")}


def _interpreter(version: str, architecture: str, tmp_path: Path) -> tuple[str, list[str]]:
    """An executable running CPython `version` for `architecture` (`pex3 --python` takes one
    path), and the command that runs it: this machine's own, or an emulated one behind a script."""
    if architecture == host_architecture():
        native = find_cpython(version)
        if native is not None:
            return native, [native]
    if (version, architecture) not in emulated.ROOTS:
        require_cpython(version, "the complete platforms are not checked against it")
    command = emulated.require_python(version, architecture)
    script = tmp_path / f"python{version}"
    script.write_text(f'#!/bin/sh\nexec {" ".join(shlex.quote(arg) for arg in command)} "$@"\n')
    script.chmod(0o755)
    return str(script), command


def _platform(command: list[str]) -> tuple[str, tuple[int, int] | None]:
    """The interpreter's CPU (as `platform.machine()` names it) and glibc version (None for
    another C library)."""
    probe = subprocess.run(
        [*command, "-I", "-S", "-c", _PLATFORM_PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        env=_child_env(),
        check=True,
    )
    machine, libc = probe.stdout.splitlines()
    match = re.fullmatch(r"glibc (\d+)\.(\d+)", libc)
    return machine, (int(match.group(1)), int(match.group(2))) if match else None


@pytest.mark.parametrize(
    "runtime, architecture",
    INSPECTED,
    ids=[f"{runtime.name}-{arch}" for runtime, arch in INSPECTED],
)
def test_matches_pex_interpreter_inspect(
    runtime: LambdaRuntime, architecture: str, tmp_path: Path
) -> None:
    version = runtime.python_version
    minor = version[1]
    interpreter, command = _interpreter(str(runtime.python_version), architecture, tmp_path)
    machine, glibc = _platform(command)
    if glibc is None:
        pytest.skip("This interpreter's C library is not glibc: manylinux tags do not apply.")
    assert (
        PEX3.is_file()
    ), f"{PEX3} is missing: the test needs `3rdparty/python:pex3` as a runtime package."

    # The PEX's shebang may land on a pyenv shim that fails; run it with the test's own CPython 3.9.
    result = subprocess.run(
        [
            sys.executable,
            str(PEX3),
            *("interpreter", "inspect", "--python", interpreter, "--markers", "--tags"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_child_env(),
    )
    assert result.returncode == 0, f"pex3 interpreter inspect failed:\n{result.stderr}"
    inspected = json.loads(result.stdout)

    assert compatible_tags(version, machine, glibc) == inspected["compatible_tags"]

    ours = marker_environment(version, machine)
    theirs = inspected["marker_environment"]
    for key, value in ours.items():
        if key in PATCH_LEVEL_MARKERS:
            assert value == f"3.{minor}.0"
            assert theirs[key].split(".")[:2] == ["3", str(minor)], key
        else:
            assert theirs[key] == value, key
