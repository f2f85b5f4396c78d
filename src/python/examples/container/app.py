"""A Lambda function deployed as a container image."""

from __future__ import annotations

import platform
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = event.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"the event needs a non-empty 'name', got {name!r}")
    return {
        "greeting": f"Hello, {name}!",
        "function": context.function_name,
        "python": platform.python_version(),
    }
