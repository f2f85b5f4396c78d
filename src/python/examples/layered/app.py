import pydantic

from examples.layered.shared.greeting import greet


class Greeting(pydantic.BaseModel):
    name: str


def handler(event, context):
    request = Greeting.model_validate(event)
    return {"message": greet(request.name), "pydantic": pydantic.VERSION}
