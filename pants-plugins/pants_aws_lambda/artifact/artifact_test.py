"""What the size error's remedies are measured from (`artifact.py`): `tests` directories and
first-party directories."""

from __future__ import annotations

from pants_aws_lambda.artifact.artifact import bytes_in_tests, directory_bytes


def test_tests_bytes_by_top_level_entry() -> None:
    sizes = [
        ("scipy/linalg/tests/test_basic.py", 100),
        ("scipy/linalg/tests/__pycache__/test_basic.cpython-313.pyc", 50),
        ("scipy/tests/test_import.py", 7),
        ("scipy/linalg/basic.py", 1000),
        ("pandas/tests/frame/test_api.py", 300),
        # A module named tests, a top-level `tests` package, a file called `tests`: not test suites
        # of a distribution.
        ("numpy/testing/tests.py", 999),
        ("tests/test_x.py", 999),
        ("six/tests", 999),
    ]
    assert bytes_in_tests(sizes) == (("pandas", 300), ("scipy", 157))


def test_directory_bytes_counts_files_directly_in_each_directory() -> None:
    sizes = [
        ("proj/data/a.bin", 500),
        ("proj/data/b.bin", 500),
        ("proj/data/deep/c.bin", 2000),
        ("proj/app.py", 10),
        ("lambda_function.py", 44),
    ]
    assert directory_bytes(sizes) == (("proj/data/deep", 2000), ("proj/data", 1000), ("proj", 10))
    assert directory_bytes(sizes, limit=1) == (("proj/data/deep", 2000),)
    assert directory_bytes([("lambda_function.py", 44)]) == ()
