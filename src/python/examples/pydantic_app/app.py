import pydantic
class Order(pydantic.BaseModel):
    id: int
    items: list[str]
def handler(event, context):
    return {"order": Order.model_validate(event).model_dump(), "pydantic": pydantic.VERSION}
