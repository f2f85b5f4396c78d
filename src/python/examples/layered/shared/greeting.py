"""A first-party library shared by several functions through a layer."""


def greet(name: str) -> str:
    return f"Hello, {name}!"
