"""`PythonVersion` (`python_version.py`): the spellings it reads and writes, and its order."""

from __future__ import annotations

import pytest

from pants_aws_lambda.facts.python_version import PythonVersion, install_hint


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3.13", (3, 13)),
        ("3.9", (3, 9)),
        # A full version: the micro version is not part of it.
        ("3.12.4", (3, 12)),
        ("python3.13", (3, 13)),
        ("python3.8", (3, 8)),
        ("cp313", (3, 13)),
        ("cp39", (3, 9)),
        ("cp310", (3, 10)),
    ],
)
def test_parse(text: str, expected: tuple[int, int]) -> None:
    version = PythonVersion.parse(text)
    assert version == expected
    assert (version.major, version.minor) == expected


@pytest.mark.parametrize(
    "text", ["", "3", "python3", "three.twelve", "3.x", "cp3", "cp", "pythonX.Y"]
)
def test_parse_refuses_what_is_no_version(text: str) -> None:
    with pytest.raises(ValueError):
        PythonVersion.parse(text)


@pytest.mark.parametrize(
    "version", [PythonVersion(3, 8), PythonVersion(3, 10), PythonVersion(3, 14)]
)
def test_each_spelling_reads_back(version: PythonVersion) -> None:
    assert PythonVersion.parse(str(version)) == version
    assert PythonVersion.parse(version.runtime_name) == version
    assert PythonVersion.parse(version.tag) == version


def test_spellings() -> None:
    version = PythonVersion(3, 13)
    assert str(version) == "3.13"
    assert f"{version}" == "3.13"
    assert version.runtime_name == "python3.13"
    assert version.tag == "cp313"
    assert PythonVersion(3, 9).tag == "cp39"
    assert install_hint(version) == "`pyenv install 3.13`"


def test_order_is_numeric_not_textual() -> None:
    versions = [
        PythonVersion(3, 10),
        PythonVersion(3, 9),
        PythonVersion(3, 14),
        PythonVersion(3, 8),
    ]
    assert [str(v) for v in sorted(versions)] == ["3.8", "3.9", "3.10", "3.14"]
    assert PythonVersion(3, 9) < PythonVersion(3, 10)
    assert max(versions) == PythonVersion(3, 14)


def test_compares_with_plain_tuples() -> None:
    assert PythonVersion(3, 12) == (3, 12)
    assert PythonVersion(3, 12) < (3, 13)
    assert (3, 11) < PythonVersion(3, 12)
    assert PythonVersion(3, 12) != (3, 13)
    assert hash(PythonVersion(3, 12)) == hash((3, 12))
