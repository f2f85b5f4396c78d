"""Every difference between the supported Pants releases (2.17 to 2.31) that the backend meets.

The rest of the backend imports a name that moved or changed between those releases from here,
never from Pants. A difference is an `if PANTS_VERSION < (2, N):` branch: `apicheck` reads these
branches and checks the names used in each one against the releases it covers only
(`apicheck/compat_test.py`; the per-release facts are `apicheck/pants_facts.json`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.subsystems.python_tool_base import PythonToolRequirementsBase
from pants.engine.rules import Rule, collect_rules, rule
from pants.version import PANTS_SEMVER

# The running Pants release series, (major, minor).
PANTS_VERSION: tuple[int, int] = (PANTS_SEMVER.major, PANTS_SEMVER.minor)

# 2.30 and 2.31 warn at start-up about every `Get(...)` in a rule (84 in this backend) that it is
# deprecated; they still run it. The warnings are about this backend's code, which users cannot
# change: they are silenced for its modules only (the port is planned in the backend's README).
if PANTS_VERSION >= (2, 30):
    warnings.filterwarnings("ignore", message=r"Get\(\) is deprecated.*pants_aws_lambda")

# 2.28 moved the `environment` field to its own module, leaving no alias behind (re-exported here).
if PANTS_VERSION < (2, 28):
    from pants.core.util_rules.environments import EnvironmentField
else:
    from pants.core.environments.target_types import EnvironmentField  # noqa: F401

# A tool with a pinned lockfile shipped in the backend (`default_lockfile_resource`). 2.17 needs
# `LockfileRules.SIMPLE` for `generate-lockfiles --resolve=<tool>` and for installing from that
# lockfile; 2.18 removed `LockfileRules`: a tool installs from its `default_lockfile_resource`
# unless the user names a resolve of their own in `[<tool>].install_from_resolve`.
if PANTS_VERSION < (2, 18):
    from pants.backend.python.subsystems.python_tool_base import LockfileRules

    class PinnedLockfileTool(PythonToolRequirementsBase):
        lockfile_rules_type = LockfileRules.SIMPLE

else:

    class PinnedLockfileTool(PythonToolRequirementsBase):
        pass


@dataclass(frozen=True)
class SystemBinarySearchPath:
    """Where Pants looks for system programs: `SEARCH_PATHS` until 2.18, then the
    `[system-binaries].system_binary_paths` option (2.19 removed `SEARCH_PATHS`)."""

    paths: tuple[str, ...]


if PANTS_VERSION < (2, 19):
    from pants.core.util_rules.system_binaries import SEARCH_PATHS

    @rule
    async def system_binary_search_path() -> SystemBinarySearchPath:
        return SystemBinarySearchPath(tuple(SEARCH_PATHS))

else:
    from pants.core.util_rules.system_binaries import SystemBinariesSubsystem

    @rule
    async def system_binary_search_path(
        system_binaries: SystemBinariesSubsystem.EnvironmentAware,
    ) -> SystemBinarySearchPath:
        return SystemBinarySearchPath(tuple(system_binaries.system_binary_paths))


def rules() -> Iterable[Rule]:
    return collect_rules()
