"""The smallest useful Lambda: no third-party code, greets whoever the event names."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = event.get("name") or "world"
    return {
        "message": f"Hello, {name}!",
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_time_ms": context.get_remaining_time_in_millis(),
    }
