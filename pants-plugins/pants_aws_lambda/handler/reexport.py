"""The re-export every function artifact carries: `lambda_function.handler`, whatever the handler.

Pure; no Pants engine imports.
"""

from __future__ import annotations

from pants_aws_lambda.facts.handler_names import REEXPORTED_HANDLER_FUNC, REEXPORTED_HANDLER_MODULE


def render_shim(module: str, func: str) -> str | None:
    """The source of `lambda_function.py`, or None when the handler already is that function."""
    if module == REEXPORTED_HANDLER_MODULE:
        return None
    # Configure the handler as `lambda_function.handler`. It ships in every artifact, so it is the
    # one statement and nothing else, not even a final newline.
    return f"from {module} import {func} as {REEXPORTED_HANDLER_FUNC}"
