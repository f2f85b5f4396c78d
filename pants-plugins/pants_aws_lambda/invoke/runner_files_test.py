"""The runner's files shipped into `pants run`'s sandbox (`runner_files.py`)."""

from __future__ import annotations

from pathlib import Path

from pants.engine.fs import FileContent

from pants_aws_lambda.invoke import runner_environment
from pants_aws_lambda.invoke.runner_environment import RUNNER_MODULES
from pants_aws_lambda.invoke.runner_files import RUNNER_DIR, RUNNER_ENTRY, runner_files

HERE = Path(runner_environment.__file__).parent


def test_every_runner_module_is_shipped_as_it_is() -> None:
    shipped = {}
    for entry in runner_files():
        assert isinstance(entry, FileContent)
        shipped[entry.path] = entry.content
    assert sorted(shipped) == sorted(f"{RUNNER_DIR}/{module}.py" for module in RUNNER_MODULES)
    assert RUNNER_ENTRY in shipped
    for module in RUNNER_MODULES:
        assert shipped[f"{RUNNER_DIR}/{module}.py"] == (HERE / f"{module}.py").read_bytes()


def test_no_runner_program_is_left_behind() -> None:
    # A new `runner_*.py` program must be listed in `RUNNER_MODULES` (and its target a dependency
    # of `runner_files.py`), or the parent fails to import it in the sandbox.
    programs = {
        path.stem
        for path in HERE.glob("runner*.py")
        if path.name != "runner_files.py" and not path.stem.endswith("_test")
    }
    assert programs == set(RUNNER_MODULES)
