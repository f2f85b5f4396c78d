"""The `exclude` field's path globs: `*` and `?` within a segment, `**` across segments."""

from __future__ import annotations

import pytest

from pants_aws_lambda.artifact.globs import glob_to_regex, matches_any


def matches(pattern: str, path: str) -> bool:
    return glob_to_regex(pattern).match(path) is not None


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        # `*` stays within a segment.
        ("*.txt", "notes.txt", True),
        ("*.txt", "docs/notes.txt", False),
        ("boto3/*", "boto3/session.py", True),
        ("boto3/*", "boto3/data/s3.json", False),
        # `?` is one character, never `/`.
        ("lib?.so", "libc.so", True),
        ("lib?.so", "libcc.so", False),
        ("a?b", "a/b", False),
        # `**` spans segments.
        ("boto3/**", "boto3/session.py", True),
        ("boto3/**", "boto3/data/s3/2006-03-01/service-2.json", True),
        ("boto3/**", "botocore/session.py", False),
        # `**/` also matches no directory at all.
        ("**/tests/**", "tests/test_x.py", True),
        ("**/tests/**", "scipy/linalg/tests/test_basic.py", True),
        ("**/tests/**", "scipy/linalg/contests/x.py", False),
        ("**/*.pyi", "stub.pyi", True),
        ("**/*.pyi", "pkg/sub/stub.pyi", True),
        ("**/*.pyi", "pkg/sub/stub.py", False),
        # A directory's name alone matches no file: globs match file paths.
        ("boto3", "boto3/session.py", False),
        ("boto3", "boto3", True),
    ],
)
def test_glob_matches(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


def test_glob_matches_the_whole_path() -> None:
    # Anchored at both ends: a match of a prefix or of a suffix is no match.
    assert not matches("boto3/*.py", "boto3/session.pyc")
    assert not matches("*.py", "x.py/inner")
    assert not matches("session.py", "boto3/session.py")


@pytest.mark.parametrize("pattern", ["a.b", "a+b", "(a)", "a[0]", "a$", "^a", "a{1}", "a|b"])
def test_regex_characters_are_literal(pattern: str) -> None:
    assert matches(pattern, pattern)
    assert not matches(pattern, pattern.replace(pattern[1], "x", 1) + "y")


def test_dot_is_not_any_character() -> None:
    assert matches("a.b", "a.b")
    assert not matches("a.b", "axb")


def test_empty_pattern_matches_only_the_empty_path() -> None:
    assert matches("", "")
    assert not matches("", "a")


def test_matches_any() -> None:
    patterns = [glob_to_regex("**/tests/**"), glob_to_regex("*.md")]
    assert matches_any("pkg/tests/test_a.py", patterns)
    assert matches_any("README.md", patterns)
    assert not matches_any("pkg/README.md", patterns)
    assert not matches_any("pkg/a.py", patterns)
    assert not matches_any("pkg/a.py", [])
