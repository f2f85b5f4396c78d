from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from pants_aws_lambda.handler import modulenames
from pants_aws_lambda.handler.names import (
    ModuleNames,
    module_file_candidates,
    module_level_names,
)
from pants_aws_lambda.handler.reexport import render_shim
from pants_aws_lambda.testutil.interpreters import require_cpython

SCRIPT = Path(modulenames.__file__)


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


def test_error_report_has_message_and_line() -> None:
    try:
        module_level_names("x = 1\ndef handler(:\n", "app.py")
    except SyntaxError as e:
        report = modulenames.error_report(e)
    assert report["line"] == 2
    assert report["message"]
    assert modulenames.error_report(ValueError("source code cannot contain null bytes")) == {
        "message": "source code cannot contain null bytes",
        "line": None,
        "offset": None,
    }


def test_from_report() -> None:
    report = modulenames.analyze(b"from x import *\ndef handler(e, c): pass\n", "app.py")
    assert ModuleNames.from_report(report) == ModuleNames(frozenset({"handler"}), True)


# ---------------------------------------------------------------------------------------------
# The script on the CPython of each runtime
# ---------------------------------------------------------------------------------------------

# Python 3.12+ only: a `type` alias (PEP 695), a PEP 701 f-string, a `match` binding the handler.
MODERN = dedent(
    """\
    type Readings = list[float]

    LABEL = f"{"series"!r}"

    match LABEL:
        case str():
            def handler(event, context):
                return LABEL
        case _:
            pass

    try:
        import tomllib
    except* ImportError:
        fallback = True
    """
)


def local_python(version: str) -> str:
    return require_cpython(version, "the script is not checked on it")


def run_script(python: str, source: str | bytes, tmp_path: Path) -> dict:
    module = tmp_path / "module.py"
    module.write_bytes(source.encode() if isinstance(source, str) else source)
    # As the rule runs it: isolated, no site-packages, from another directory.
    result = subprocess.run(
        [python, "-I", "-S", str(SCRIPT), str(module), "proj/app.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_script_reads_modern_syntax_on_the_runtime_python(version: str, tmp_path: Path) -> None:
    report = run_script(local_python(version), MODERN, tmp_path)
    assert report == {
        "names": ["LABEL", "Readings", "fallback", "handler", "tomllib"],
        "open_ended": False,
    }


def test_pants_python_cannot_parse_modern_syntax() -> None:
    # Why the check runs on the runtime's CPython: the Python that runs Pants refuses this module.
    if sys.version_info >= (3, 12):
        pytest.skip("This Python parses 3.12 syntax.")
    with pytest.raises(SyntaxError):
        module_level_names(MODERN, "proj/app.py")


@pytest.mark.parametrize("version", ["3.8", "3.9"])
def test_script_reports_syntax_the_runtime_lacks(version: str, tmp_path: Path) -> None:
    source = "import sys\n\nmatch sys.argv:\n    case _:\n        pass\n\ndef handler(e, c): pass\n"
    report = run_script(local_python(version), source, tmp_path)
    assert report["error"]["line"] == 3
    assert report["error"]["message"] == "invalid syntax"
    assert set(report) == {"error"}


@pytest.mark.parametrize("version", ["3.8", "3.12", "3.13"])
def test_script_on_each_python(version: str, tmp_path: Path) -> None:
    python = local_python(version)
    assert run_script(python, "from x import *\nhandler = 1\n", tmp_path) == {
        "names": ["handler"],
        "open_ended": True,
    }
    report = run_script(python, "def f():\n    pass\nreturn 1\n", tmp_path)
    assert report["error"]["line"] == 3
    assert "outside function" in report["error"]["message"]
    # Not decodable as the declared (default UTF-8) encoding: an error, not a crash.
    report = run_script(python, b"x = '\xff'\n", tmp_path)
    assert "error" in report and report["error"]["message"]
