from __future__ import annotations

from textwrap import dedent

import pytest

from pants_aws_lambda.handler import module_file_candidates, module_level_names, render_shim


def test_module_file_candidates() -> None:
    assert module_file_candidates("a.b.c") == ("a/b/c.py", "a/b/c/__init__.py")
    assert module_file_candidates("app") == ("app.py", "app/__init__.py")


@pytest.mark.parametrize(
    "source",
    [
        "def handler(event, context): pass",
        "async def handler(event, context): pass",
        "class handler: pass",
        "handler = make()",
        "a, (b, handler) = 1, (2, 3)",
        "handler: Callable = make()",
        "from impl import run as handler",
        "import handler",
        "if True:\n    def handler(e, c): pass",
        "try:\n    pass\nexcept ImportError:\n    handler = None",
        "with ctx():\n    handler = 1",
    ],
)
def test_defines_handler(source: str) -> None:
    names = module_level_names(source)
    assert names.may_define("handler")
    assert not names.open_ended


@pytest.mark.parametrize(
    "source",
    [
        "def other(event, context): pass",
        "def outer():\n    def handler(e, c): pass",
        "class C:\n    handler = 1",
        "import handler.sub as other",
        "handler.x = 1",
        "print(handler)",
    ],
)
def test_does_not_define_handler(source: str) -> None:
    assert not module_level_names(source).may_define("handler")


def test_dotted_import_binds_its_first_component() -> None:
    assert module_level_names("import os.path").names == frozenset({"os"})


@pytest.mark.parametrize("source", ["from impl import *", "def __getattr__(name): ..."])
def test_open_ended_modules_may_define_anything(source: str) -> None:
    names = module_level_names(source)
    assert names.open_ended
    assert names.may_define("handler")


def test_syntax_error_propagates() -> None:
    with pytest.raises(SyntaxError):
        module_level_names("def handler(:\n", "app.py")


def test_render_shim() -> None:
    shim = render_shim("proj.app", "main")
    assert shim is not None
    assert shim == "from proj.app import main as handler"
    # Valid Python that binds `handler`.
    assert module_level_names(shim).names == frozenset({"handler"})


def test_no_shim_when_the_handler_is_the_reexport_module() -> None:
    assert render_shim("lambda_function", "handler") is None
