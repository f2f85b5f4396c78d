"""A Lambda that validates its event with pydantic v2 (and so needs pydantic-core's native code)."""

from __future__ import annotations

import json
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_price_cents: int = Field(ge=0)


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: int
    customer: str = Field(min_length=1)
    items: list[LineItem] = Field(min_length=1)

    @property
    def total_cents(self) -> int:
        return sum(item.quantity * item.unit_price_cents for item in self.items)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        order = Order.model_validate(event)
    except ValidationError as e:
        return {
            "statusCode": 400,
            "errors": json.loads(e.json(include_url=False)),
            "pydantic_version": pydantic.VERSION,
            "request_id": context.aws_request_id,
        }
    return {
        "statusCode": 200,
        "order": order.model_dump(mode="json"),
        "total_cents": order.total_cents,
        "pydantic_version": pydantic.VERSION,
        "request_id": context.aws_request_id,
    }
