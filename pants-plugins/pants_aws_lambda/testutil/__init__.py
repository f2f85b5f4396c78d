"""What the plugin's tests share: the repository's options, a rule runner, interpreters, test data.

Not part of the distribution.
"""

from __future__ import annotations

from pathlib import Path

# Lockfiles the rule tests resolve against (`files` target `testutil:testdata`).
TESTDATA = Path(__file__).parent / "testdata"
