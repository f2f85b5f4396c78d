"""Errors of the Lambda targets that the user must fix; each message says why and what to do."""

from __future__ import annotations


class LambdaPackagingError(Exception):
    """A Lambda artifact cannot be built as configured; the message says why and what to do."""
