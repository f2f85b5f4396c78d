"""The `[aws-lambda]` options: repository-wide defaults of the Lambda targets' fields."""

from __future__ import annotations

from pants.option.option_types import BoolOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import help_text, softwrap


class AwsLambdaSubsystem(Subsystem):
    options_scope = "aws-lambda"
    help = help_text(
        """
        Defaults for every `python_aws_lambda_function` and `python_aws_lambda_layer` of the
        repository; a target's own field wins.
        """
    )

    slim = BoolOption(
        default=False,
        help=softwrap(
            """
            Whether targets that do not set their `slim` field are slimmed: third-party test
            suites, type stubs, C/C++ and Cython sources and build-only files left out, shared
            objects stripped with `llvm-strip`, and the result imported by the runtime's CPython
            before it is shipped. See the `slim` field.
            """
        ),
    )

    def slim_for(self, field_value: bool | None) -> bool:
        """A target's `slim` field, or this default when the field is unset."""
        return self.slim if field_value is None else field_value
