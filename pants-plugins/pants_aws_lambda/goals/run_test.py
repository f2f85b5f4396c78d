"""`pants run`'s arguments to the runner (`run.py`), from the runtime table."""

from __future__ import annotations

import pytest

from pants_aws_lambda.facts.runtimes import RUNTIMES, LambdaRuntime
from pants_aws_lambda.goals.run import encoding_args
from pants_aws_lambda.invoke.runner import NON_ASCII_CHOICES


@pytest.mark.parametrize("runtime", RUNTIMES.values(), ids=lambda r: r.name)
def test_encoding_args_follow_the_runtime_table(runtime: LambdaRuntime) -> None:
    flag, value = encoding_args(runtime)
    assert flag == "--non-ascii"
    # A value the runner accepts, and the one the runner's tests pass for the runtime.
    assert value in NON_ASCII_CHOICES
    assert value == ("escape" if runtime.json_ensure_ascii else "keep")


def test_runtimes_before_python312_escape_non_ascii() -> None:
    assert encoding_args(RUNTIMES["python3.11"]) == ("--non-ascii", "escape")
    assert encoding_args(RUNTIMES["python3.12"]) == ("--non-ascii", "keep")
