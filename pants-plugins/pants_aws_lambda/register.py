"""The `pants_aws_lambda` backend: AWS Lambda functions from Python code."""

from __future__ import annotations

from pants_aws_lambda.goals import run as invoke
from pants_aws_lambda.goals import package
from pants_aws_lambda import target_types as lambda_target_types


def rules():
    return (*package.rules(), *invoke.rules())


def target_types():
    return lambda_target_types.target_types()
