"""The runtime client as the runtime: the child `runner.py` starts to run `awslambdaric`.

Runs as a script, by the runtime's CPython in isolated mode, stdlib only (CPython 3.8+):

    python3.X -I -S -B -u runner_runtime_client_child.py OPT RUNTIME_CLIENT_PEX_DIR SDK_PEX_DIR

It runs `awslambdaric` as AWS's images' entry point does, with Lambda's `sys.path`, then the SDK
and the runtime client's own distributions after it (where `/var/runtime` is on Lambda), against
the Runtime API the parent serves (`runner_runtime_api.py`).
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING or __package__:
    from pants_aws_lambda.invoke.runner_environment import HANDLER, isolate, loose_pex_path
else:  # A script: its sibling modules sit beside it (`-I` leaves its directory off `sys.path`).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from runner_environment import HANDLER, isolate, loose_pex_path  # pants: no-infer-dep

_HERE = os.path.dirname(os.path.abspath(__file__))


def main(opt: str, runtime_client_pex: str, sdk: str) -> int:
    os.environ.pop("_LAMBDA_INVOKE_NON_ASCII", None)
    isolate(
        os.environ["LAMBDA_TASK_ROOT"],
        opt,
        loose_pex_path(sdk) + loose_pex_path(runtime_client_pex),
        _HERE,
    )
    sys.argv = ["awslambdaric", HANDLER]
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
