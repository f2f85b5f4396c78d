"""The `[lambda-invoke]` options of `pants run` on a function: the function's configuration and
what runs its handler here."""

from __future__ import annotations

from enum import Enum

from pants.option.option_types import (
    BoolOption,
    DictOption,
    EnumOption,
    IntOption,
    StrListOption,
    StrOption,
)
from pants.option.subsystem import Subsystem
from pants.util.strutil import help_text, softwrap

from pants_aws_lambda.invoke.runtime_client import Awslambdaric

# Lambda's bounds for a function's configuration.
TIMEOUT_RANGE_S = (1, 900)
MEMORY_RANGE_MB = (128, 10240)


class LambdaInvokeError(Exception):
    """A function cannot be invoked on this machine as asked; the message says why and what to
    do."""


class RuntimeClientChoice(Enum):
    AWSLAMBDARIC = "awslambdaric"
    DIRECT = "direct"


class LambdaInvokeSubsystem(Subsystem):
    options_scope = "lambda-invoke"
    help = help_text(
        """
        Options for `pants run` of a `python_aws_lambda_function`: invoking its handler locally,
        as the Lambda runtime calls it.
        """
    )

    timeout = IntOption(
        default=3,
        help=softwrap(
            f"""
            The function's timeout in seconds ({TIMEOUT_RANGE_S[0]}-{TIMEOUT_RANGE_S[1]}; 3 is
            Lambda's default). The context's `get_remaining_time_in_millis()` counts down from
            it, and a handler still running after it is killed.
            """
        ),
    )
    memory_size = IntOption(
        default=128,
        help=softwrap(
            f"""
            The function's memory size in MB ({MEMORY_RANGE_MB[0]}-{MEMORY_RANGE_MB[1]}; 128 is
            Lambda's default), as `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` and the context's
            `memory_limit_in_mb` report it. Memory is not limited locally.
            """
        ),
    )
    region = StrOption(
        default="us-east-1",
        help="The AWS region the function runs in: `AWS_REGION`, `AWS_DEFAULT_REGION`, the ARN.",
    )
    function_name = StrOption(
        default=None,
        help=softwrap(
            """
            The function's name (`AWS_LAMBDA_FUNCTION_NAME`, the context's `function_name`);
            the target's name when unset.
            """
        ),
    )
    runtime_client = EnumOption(
        default=RuntimeClientChoice.AWSLAMBDARIC,
        help=softwrap(
            f"""
            What calls the handler. `awslambdaric`: the Runtime Interface Client AWS's images
            run (the version `[{Awslambdaric.options_scope}]` pins), against a Runtime API
            served on loopback, one invocation after the other; for runtimes older than it
            supports, the direct runner, with a warning. `direct`: a small runner shipped with
            the plugin that imports and calls the handler itself, reporting in the runtime's
            formats; it needs no download.
            """
        ),
    )
    runtime_sdk = BoolOption(
        default=True,
        help=softwrap(
            """
            Whether the handler finds the AWS SDK for Python (`boto3`, `botocore` and their
            dependencies) where every Lambda Python runtime provides it: after the function, its
            layers and the standard library on `sys.path` (`/var/runtime` on Lambda), in the
            version `[lambda-runtime-sdk]` pins. A `boto3` in the function or its layers comes
            first, as on Lambda. `false` leaves it out, to check that the artifact holds
            everything it imports.
            """
        ),
    )
    emulators = DictOption[str](
        default={"arm64": "qemu-aarch64-static", "x86_64": "qemu-x86_64-static"},
        help=softwrap(
            """
            QEMU's user-mode emulator for each Lambda architecture (`arm64`, `x86_64`): a name
            looked up in `/usr/bin`, `/bin` and `/usr/local/bin`, or an absolute path. It runs
            the CPython of an `interpreter_roots` root filesystem, as
            `EMULATOR -L ROOT ROOT/usr/bin/python3.X`: for a function of another CPU than this
            machine's, or of a Python version this machine has no CPython of. Debian/Ubuntu:
            `apt-get install qemu-user-static`.
            """
        ),
    )
    interpreter_roots = DictOption[list](
        default={},
        help=softwrap(
            """
            Root filesystems holding a Lambda runtime's CPython as `usr/bin/python3.X`, for each
            Lambda architecture: `{"arm64": ["/srv/roots/trixie-arm64"], "x86_64":
            ["/srv/roots/sid-amd64"]}`. `pants run` uses the first root with the runtime's
            `python3.X`, under the architecture's emulator (`emulators`), when this machine
            cannot run the function natively (another CPU, or no CPython of that version on
            `[python-bootstrap].search_path`). A root can be made with `debootstrap
            --arch=arm64 --foreign --variant=minbase --include=python3.13 trixie ROOT
            http://deb.debian.org/debian`, then `dpkg -x` of each
            `ROOT/var/cache/apt/archives/*.deb` into ROOT.
            """
        ),
    )
    env = StrListOption(
        help=softwrap(
            """
            Environment variables for the handler, on top of (and able to override) the ones
            Lambda sets: `NAME=value`, or `NAME` to pass the variable from the environment
            `pants` runs in (e.g. `AWS_PROFILE` and `HOME` for a handler that calls AWS).
            Nothing else of that environment reaches the handler.
            """
        ),
    )


def _check_range(option: str, value: int, bounds: tuple[int, int], unit: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise LambdaInvokeError(
            f"`[lambda-invoke].{option}` is {value}; Lambda allows {low} to {high} {unit}."
        )


def check_ranges(invoke: LambdaInvokeSubsystem) -> None:
    """The function's configuration must be one Lambda accepts."""
    _check_range("timeout", invoke.timeout, TIMEOUT_RANGE_S, "seconds")
    _check_range("memory_size", invoke.memory_size, MEMORY_RANGE_MB, "MB")
