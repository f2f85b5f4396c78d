"""docs/troubleshooting.md covers every error the plugin raises and every warning it logs.

Each `raise` and `logger.warning(...)` of the plugin's modules is read from the source: its
message's literal text is split into phrases, and at least one phrase of three or more words must
appear in the page (whitespace aside). A new error without its entry fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator

import pytest

import pants_aws_lambda

# Messages that a user cannot meet through Pants: the plugin's own invariants, checked by the
# plugin before these could fire, and the usage lines of its sandboxed scripts.
INTERNAL = {
    ("pycompile.py", "SOURCE_DIR OUTPUT_DIR"): "the plugin calls the script with fixed arguments",
    ("wheels.py", "Not a wheel file name (it must end in"): "only `.whl` URLs are parsed",
    ("zipwriter.py", "no local header for"): "the merged part is written by the same writer",
    ("zipwriter.py", "is both in"): "clashing paths are refused with a documented error first",
    ("python_version.py", "is not a Python version"): (
        "versions come from the runtime table, interpreter constraints and markers, already valid"
    ),
}


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def troubleshooting() -> str:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "docs" / "troubleshooting.md"
        if candidate.is_file():
            return normalize(candidate.read_text())
    raise AssertionError("docs/troubleshooting.md is not in the test's sandbox")


def phrases(message: ast.expr) -> list[str]:
    """The literal runs of a message (f-string parts, `softwrap` text), three words or more."""
    found = []
    for node in ast.walk(message):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for piece in re.split(r"[`{}\n]| {2,}", node.value):
                piece = normalize(piece).strip(" .,:;()")
                if len(piece.split()) >= 3:
                    found.append(piece)
    return found


def messages() -> Iterator[tuple[str, int, list[str]]]:
    """(file, line, phrases) of each raise and warning with a literal message in the plugin."""
    package = Path(pants_aws_lambda.__file__).parent
    modules = sorted(
        p
        for p in package.rglob("*.py")
        if not p.name.endswith("_test.py") and "testutil" not in p.relative_to(package).parts
    )
    assert len(modules) > 10, f"the plugin's modules are not in the sandbox: {modules}"
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            call = None
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                call = node.exc
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "warning"
            ):
                call = node
            if call is not None and call.args:
                found = phrases(call.args[0])
                if found:
                    yield path.name, call.lineno, found


def internal(name: str, found: list[str]) -> bool:
    return any(name == file and any(marker in p for p in found) for file, marker in INTERNAL)


ALL = list(messages())
USER_FACING = [m for m in ALL if not internal(m[0], m[2])]


def test_the_plugin_has_messages_to_check() -> None:
    # The harvest itself must work: the plugin raises dozens of errors with literal messages.
    assert len(USER_FACING) > 30, ALL


def test_every_exemption_still_names_a_message() -> None:
    stale = [
        (file, marker)
        for file, marker in INTERNAL
        if not any(name == file and any(marker in p for p in found) for name, _, found in ALL)
    ]
    assert not stale, f"INTERNAL lists messages the plugin no longer has: {stale}"


@pytest.mark.parametrize("name, line, found", USER_FACING, ids=lambda v: str(v)[:40])
def test_each_message_is_documented(name: str, line: int, found: list[str]) -> None:
    page = troubleshooting()
    assert any(p in page for p in found), (
        f"{name}:{line} raises or warns with a message docs/troubleshooting.md does not mention "
        f"(none of {found!r}): add an entry with what it means and the fix."
    )
