"""The `pants_aws_lambda` backend: AWS Lambda functions and layers from Python code.

`pants package` writes them (`goals/package.py`); `pants run` calls a function's handler
(`goals/run.py`). See the package's README for how the parts fit together.
"""

from __future__ import annotations

from pants_aws_lambda import target_types as lambda_target_types
from pants_aws_lambda.goals import package, run


def rules():
    return (*package.rules(), *run.rules())


def target_types():
    return lambda_target_types.target_types()
