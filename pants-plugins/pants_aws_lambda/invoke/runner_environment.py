"""What the runner's programs share about Lambda's execution environment: the handler's name, the
account in ARNs, and the `sys.path` the runtime gives the handler.

Stdlib only (CPython 3.8+): imported by `runner.py` (the parent), `runner_direct_child.py` and
`runner_runtime_client_child.py` (the runtime), both as scripts beside it and as the plugin's
modules.
"""

from __future__ import annotations

import os
import sys

# The re-export `package` writes (facts/handler_names.py; this script cannot import it: a test
# keeps the two equal).
HANDLER = "lambda_function.handler"
ACCOUNT_ID = "123456789012"

# The runner's modules, shipped together into `pants run`'s sandbox (`runner_files.py`): the
# parent imports the Runtime API server and this module, each child this module.
RUNNER_MODULES = (
    "runner",
    "runner_environment",
    "runner_runtime_api",
    "runner_direct_child",
    "runner_runtime_client_child",
)


def function_arn(region: str, function_name: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"


def lambda_sys_path(task_root: str, opt: str) -> list[str]:
    version = "python{}.{}".format(*sys.version_info[:2])
    return [
        task_root,
        os.path.join(opt, "python", "lib", version, "site-packages"),
        os.path.join(opt, "python"),
    ]


def loose_pex_path(pex: str) -> list[str]:
    """The distributions of an installed tool (a loose PEX's `.deps/<wheel>/`), or nothing."""
    if not pex:
        return []
    deps = os.path.join(pex, ".deps")
    return [os.path.join(deps, d) for d in sorted(os.listdir(deps))]


def isolate(task_root: str, opt: str, after: list[str], here: str) -> None:
    """Lambda's `sys.path`, then the standard library and nothing else (no site-packages, `-I -S`),
    then `after`; and no trace of the runner (its directory `here`, its modules) for the
    handler's imports."""
    sys.path[:] = lambda_sys_path(task_root, opt) + [p for p in sys.path if p and p != here] + after
    for name in RUNNER_MODULES:
        sys.modules.pop(name, None)
