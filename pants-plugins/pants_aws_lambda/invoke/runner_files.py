"""The runner's files (`runner.py` and its sibling programs), shipped together into the sandbox
of `pants run`, where the runtime's CPython runs them as scripts."""

from __future__ import annotations

import pkgutil

from pants.engine.fs import CreateDigest, FileContent

from pants_aws_lambda.invoke import runner_environment
from pants_aws_lambda.invoke.runner_environment import RUNNER_MODULES

# The sandbox's directory of the runner's files, and the parent's path, relative to the sandbox.
RUNNER_DIR = "__lambda_invoke"
RUNNER_ENTRY = f"{RUNNER_DIR}/runner.py"


def runner_files() -> CreateDigest:
    package = runner_environment.__name__.rpartition(".")[0]
    contents = []
    for module in RUNNER_MODULES:
        data = pkgutil.get_data(package, f"{module}.py")
        assert data is not None, module
        contents.append(FileContent(f"{RUNNER_DIR}/{module}.py", data))
    return CreateDigest(contents)
