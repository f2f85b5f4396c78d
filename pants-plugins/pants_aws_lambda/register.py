"""The `pants_aws_lambda` backend: AWS Lambda functions and layers from Python code.

`pants package` writes them (`goals/package.py`); `pants run` calls a function's handler
(`goals/run.py`). See the package's README for how the parts fit together.
"""

from __future__ import annotations

from typing import Iterable

from pants.engine.rules import Rule
from pants.engine.target import Target
from pants.engine.unions import UnionRule

# Before anything that imports a name an unsupported Pants release lacks: one clear error there.
from pants.version import PANTS_SEMVER

from pants_aws_lambda.pants_versions import unsupported_message

_unsupported = unsupported_message((PANTS_SEMVER.major, PANTS_SEMVER.minor))
if _unsupported:
    raise ImportError(_unsupported)

# First of the backend's modules: the differences between Pants releases (see its docstring).
# isort: off
from pants_aws_lambda import pants_compat  # noqa: E402
from pants_aws_lambda import aliases  # noqa: E402
from pants_aws_lambda import target_types as lambda_target_types  # noqa: E402
from pants_aws_lambda.goals import package, run  # noqa: E402

# isort: on


def rules() -> Iterable[Rule | UnionRule]:
    return (*package.rules(), *run.rules(), *aliases.rules(), *pants_compat.rules())


def target_types() -> list[type[Target]]:
    return lambda_target_types.target_types()
