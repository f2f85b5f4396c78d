"""The re-export module `lambda_function.py`, which binds `handler` to the configured function."""

from __future__ import annotations

from pants_aws_lambda.handler.names import module_level_names
from pants_aws_lambda.handler.reexport import render_shim


def test_render_shim() -> None:
    shim = render_shim("proj.app", "main")
    assert shim is not None
    assert shim == "from proj.app import main as handler"
    # Valid Python that binds `handler`.
    assert module_level_names(shim).names == frozenset({"handler"})


def test_no_shim_when_the_handler_is_the_reexport_module() -> None:
    assert render_shim("lambda_function", "handler") is None
