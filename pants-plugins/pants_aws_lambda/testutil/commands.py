"""Running a command that a test's set-up needs, failing with its output when it fails."""

from __future__ import annotations

import subprocess
from typing import Any, Sequence


def run_checked(
    argv: Sequence[str], timeout: float, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """`argv` with no stdin and captured text output; a non-zero exit raises with the output's
    end."""
    proc = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(argv)}` exited {proc.returncode}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc
