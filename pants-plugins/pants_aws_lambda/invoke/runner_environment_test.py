"""What the runner's programs share (`runner_environment.py`): ARNs, Lambda's `sys.path`, a loose
PEX's distributions, and the handler's isolation from the runner."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from pants_aws_lambda.facts.handler_names import REEXPORTED_HANDLER_FUNC, REEXPORTED_HANDLER_MODULE
from pants_aws_lambda.invoke import runner_environment
from pants_aws_lambda.invoke.runner_environment import (
    RUNNER_MODULES,
    function_arn,
    isolate,
    lambda_sys_path,
    loose_pex_path,
)


def test_function_arn() -> None:
    assert function_arn("eu-west-1", "orders") == (
        f"arn:aws:lambda:eu-west-1:{runner_environment.ACCOUNT_ID}:function:orders"
    )
    assert len(runner_environment.ACCOUNT_ID) == 12 and runner_environment.ACCOUNT_ID.isdigit()


def test_lambda_sys_path_is_the_task_root_then_the_layers() -> None:
    version = "python{}.{}".format(*sys.version_info[:2])
    assert lambda_sys_path("/var/task", "/opt") == [
        "/var/task",
        f"/opt/python/lib/{version}/site-packages",
        "/opt/python",
    ]


def test_loose_pex_path(tmp_path: Path) -> None:
    assert loose_pex_path("") == []
    for wheel in ("zeta-1.0-py3-none-any.whl", "alpha-2.0-py3-none-any.whl"):
        (tmp_path / ".deps" / wheel).mkdir(parents=True)
    assert loose_pex_path(str(tmp_path)) == [
        str(tmp_path / ".deps" / "alpha-2.0-py3-none-any.whl"),
        str(tmp_path / ".deps" / "zeta-1.0-py3-none-any.whl"),
    ]


def test_isolate_leaves_no_trace_of_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", ["", "/runner", "/stdlib", "/runner", "/stdlib/lib-dynload"])
    for name in RUNNER_MODULES:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    path = sys.path
    isolate("/task", "/layers", ["/client"], "/runner")
    # The same list, changed in place: what the interpreter reads.
    assert sys.path is path
    assert sys.path == [
        *lambda_sys_path("/task", "/layers"),
        "/stdlib",
        "/stdlib/lib-dynload",
        "/client",
    ]
    assert not any(name in sys.modules for name in RUNNER_MODULES)


def test_the_runner_calls_the_re_export() -> None:
    # The runner is a standard-library script shipped alone into the sandbox, so it cannot import
    # the facts: its copy of the handler's name must be the re-export's.
    assert runner_environment.HANDLER == f"{REEXPORTED_HANDLER_MODULE}.{REEXPORTED_HANDLER_FUNC}"
