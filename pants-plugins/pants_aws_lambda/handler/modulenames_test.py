"""The script that reads a module's top-level names with the runtime's CPython: its error report,
and the script run on the CPython of each runtime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from pants_aws_lambda.handler import modulenames
from pants_aws_lambda.handler.names import module_level_names
from pants_aws_lambda.testutil.interpreters import require_cpython

SCRIPT = Path(modulenames.__file__)


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
