"""The handler module's top-level names, as `package` reads them to check the handler exists."""

from __future__ import annotations

import pytest

from pants_aws_lambda.handler import modulenames
from pants_aws_lambda.handler.names import ModuleNames, module_file_candidates, module_level_names


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


def test_compile_errors_beyond_the_parser_propagate() -> None:
    # The parser accepts these; the compiler does not, and neither would Lambda's import.
    for source in ("return 1\n", "def f():\n    nonlocal x\n"):
        with pytest.raises(SyntaxError):
            module_level_names(source, "app.py")


def test_future_imports_of_this_module_do_not_leak() -> None:
    # `modulenames` has `from __future__ import annotations`; the module checked must not inherit
    # it.
    names = module_level_names("from __future__ import annotations\nx: int = 1\n")
    assert names.names == frozenset({"annotations", "x"})


def test_feature_version_parses_with_an_older_grammar() -> None:
    with pytest.raises(SyntaxError):
        module_level_names('print(f"{x=}")\n', "app.py", feature_version=(3, 7))
    assert (
        module_level_names('print(f"{x=}")\n', "app.py", feature_version=(3, 8)).names
        == frozenset()
    )


def test_from_report() -> None:
    report = modulenames.analyze(b"from x import *\ndef handler(e, c): pass\n", "app.py")
    assert ModuleNames.from_report(report) == ModuleNames(frozenset({"handler"}), True)
