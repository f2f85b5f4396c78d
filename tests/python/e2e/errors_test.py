"""End to end: mistakes in a `python_aws_lambda_function` fail `./pants package` with a message
that names the target, the field and the bad value, and leave no zip behind.

The assertions hold on robust fragments of the plugin's messages, not their exact wording.
"""

from __future__ import annotations

import shutil
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from e2e.repo import PantsResult, fresh_repo, run_pants
from pants_aws_lambda.facts.runtimes import RUNTIMES


@pytest.fixture(scope="module")
def buildroot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_repo(tmp_path_factory, "e2e-errors")


@contextmanager
def broken_lambda(buildroot: Path, directory: str, build: str, app: str) -> Iterator[None]:
    """Add a target to the copy for the duration of one test: Pants reads every BUILD file to
    infer dependencies, so a broken one would fail the other tests too."""
    path = buildroot / "src" / "python" / directory
    path.mkdir(parents=True)
    (path / "BUILD").write_text(textwrap.dedent(build))
    (path / "app.py").write_text(textwrap.dedent(app))
    try:
        yield
    finally:
        shutil.rmtree(path)


def package_fails(buildroot: Path, address: str) -> PantsResult:
    result = run_pants(buildroot, "package", address)
    assert result.returncode != 0, f"packaging {address} should fail:\n{result.describe()}"
    zips = sorted(str(p.relative_to(buildroot)) for p in (buildroot / "dist").rglob("*.zip"))
    assert zips == [], f"a failed `package` left {zips}"
    return result


def test_unknown_runtime_lists_the_valid_ones(buildroot: Path) -> None:
    with broken_lambda(
        buildroot,
        "broken/old_runtime",
        """\
        python_sources()
        python_aws_lambda_function(name="lambda", runtime="python3.7", handler="app.py:handler")
        """,
        """\
        def handler(event, context):
            return {}
        """,
    ):
        result = package_fails(buildroot, "src/python/broken/old_runtime:lambda")
    output = result.output
    for fragment in ("src/python/broken/old_runtime:lambda", "runtime", "python3.7"):
        assert fragment in output, f"{fragment!r} missing from:\n{result.describe()}"
    missing = [runtime for runtime in RUNTIMES if runtime not in output]
    assert not missing, f"valid runtimes {missing} not listed in:\n{result.describe()}"


def test_handler_naming_a_missing_function(buildroot: Path) -> None:
    with broken_lambda(
        buildroot,
        "broken/missing_function",
        """\
        python_sources()
        python_aws_lambda_function(
            name="lambda", runtime="python3.12", handler="app.py:no_such_function"
        )
        """,
        """\
        def handler(event, context):
            return {}
        """,
    ):
        result = package_fails(buildroot, "src/python/broken/missing_function:lambda")
    for fragment in ("src/python/broken/missing_function:lambda", "handler", "no_such_function"):
        assert fragment in result.output, f"{fragment!r} missing from:\n{result.describe()}"
