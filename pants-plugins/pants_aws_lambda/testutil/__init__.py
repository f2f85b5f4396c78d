"""What the plugin's tests and the end-to-end tests share. Not part of the distribution.

- `require`: skip a test for want of something on this machine, or fail when CI requires it;
- `interpreters`: a CPython X.Y of this machine, and how `pants run` can invoke a runtime's CPython;
- `emulated`: Debian root filesystems whose CPython runs under QEMU (user mode);
- `rules`: a rule runner with the repository's own settings, and packaging helpers;
- `run`: `pants run`'s request for a function, and running it as Pants would;
- `elf_builder`: minimal ELF shared objects with chosen GLIBC version needs.
"""

from __future__ import annotations

import os
from pathlib import Path

# Lockfiles the rule tests resolve against (`files` target `testutil:testdata`).
TESTDATA = Path(__file__).parent / "testdata"


def cache_root() -> Path:
    """The launcher's cache directory, under which the tests keep what they build once (root
    filesystems, virtualenvs)."""
    explicit = os.environ.get("PANTS_AWS_LAMBDA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(xdg) / "pants-aws-lambda"
