"""The re-export every function artifact carries: `lambda_function.handler`, whatever the handler.

Pure; no Pants engine imports.
"""

from __future__ import annotations

# The module and function that every artifact's entry point is re-exported as.
REEXPORTED_HANDLER_MODULE = "lambda_function"
REEXPORTED_HANDLER_FUNC = "handler"


def render_shim(module: str, func: str) -> str | None:
    """The source of `lambda_function.py`, or None when the handler already is that function."""
    if module == REEXPORTED_HANDLER_MODULE:
        return None
    # Configure the handler as `lambda_function.handler`. It ships in every artifact, so it is the
    # one statement and nothing else, not even a final newline.
    return f"from {module} import {func} as {REEXPORTED_HANDLER_FUNC}"
