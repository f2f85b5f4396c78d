"""The module and function that every artifact's entry point is re-exported as
(`lambda_function.handler`, whatever the handler)."""

from __future__ import annotations

REEXPORTED_HANDLER_MODULE = "lambda_function"
REEXPORTED_HANDLER_FUNC = "handler"
