"""The `pants_aws_lambda` backend: AWS Lambda functions from Python code."""

from __future__ import annotations


def rules():
    return []


def target_types():
    return []
