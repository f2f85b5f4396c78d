"""`pants run` of a `python_aws_lambda_function`: invoke the packaged handler locally.

The rule builds the function's artifact and its layers, checks that this machine can run them
(its CPU, and a CPython of the runtime's minor version on `[python-bootstrap].search_path`), and
returns a `RunRequest` for `invoke_runner.py`, which unpacks the zips read-only and has that CPython
call `lambda_function.handler`, as the Lambda runtime would: through `awslambdaric` (installed by
`runtime_client`) against a Runtime API on loopback, or with its own direct runner.
"""

from __future__ import annotations

import logging
import pkgutil
import platform as host_platform
import sys
from dataclasses import dataclass
from enum import Enum

from pants.backend.python.target_types import PythonResolveField
from pants.core.goals.package import BuiltPackage
from pants.core.goals.run import RunFieldSet, RunInSandboxBehavior, RunRequest
from pants.engine.addresses import Address
from pants.engine.fs import AddPrefix, CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import WrappedTarget, WrappedTargetRequest
from pants.option.option_types import EnumOption, IntOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import help_text, softwrap

from pants_aws_lambda import invoke_runner, runtime_client
from pants_aws_lambda.bytecode_rules import RuntimeInterpreter, RuntimeInterpreterRequest
from pants_aws_lambda.package import (
    FunctionLayers,
    FunctionLayersRequest,
    PythonAwsLambdaFunctionFieldSet,
)
from pants_aws_lambda.platform_rules import LambdaPlatform, LambdaPlatformRequest
from pants_aws_lambda.runtime_client import (
    RUNTIME_CLIENT_PEX,
    Awslambdaric,
    RuntimeClient,
    RuntimeClientRequest,
)
from pants_aws_lambda.runtimes import ARCHITECTURES, LambdaRuntime, closest_runtime
from pants_aws_lambda.target_types import (
    PythonAwsLambdaArchitectureField,
    PythonAwsLambdaCompletePlatformsField,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaLayersField,
    PythonAwsLambdaRuntimeField,
)

logger = logging.getLogger(__name__)

# Lambda's bounds for a function's configuration.
TIMEOUT_RANGE_S = (1, 900)
MEMORY_RANGE_MB = (128, 10240)


class LambdaInvokeError(Exception):
    """A function cannot be invoked on this machine as asked; the message says why and what to do."""


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
        help=help_text(
            f"""
            The function's timeout in seconds ({TIMEOUT_RANGE_S[0]}-{TIMEOUT_RANGE_S[1]}; 3 is
            Lambda's default). The context's `get_remaining_time_in_millis()` counts down from
            it, and a handler still running after it is killed.
            """
        ),
    )
    memory_size = IntOption(
        default=128,
        help=help_text(
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
        help=help_text(
            """
            The function's name (`AWS_LAMBDA_FUNCTION_NAME`, the context's `function_name`);
            the target's name when unset.
            """
        ),
    )
    runtime_client = EnumOption(
        default=RuntimeClientChoice.AWSLAMBDARIC,
        help=help_text(
            f"""
            What calls the handler. `awslambdaric`: the Runtime Interface Client AWS's images
            run (the version `[{Awslambdaric.options_scope}]` pins), against a Runtime API
            served on loopback for the one invocation; for runtimes older than it supports, the
            direct runner, with a warning. `direct`: a small runner shipped with the plugin
            that imports and calls the handler itself, reporting in the runtime's formats; it
            needs no download.
            """
        ),
    )
    env = StrListOption(
        help=help_text(
            """
            Environment variables for the handler, on top of (and able to override) the ones
            Lambda sets: `NAME=value`, or `NAME` to pass the variable from the environment
            `pants` runs in (e.g. `AWS_PROFILE` and `HOME` for a handler that calls AWS).
            Nothing else of that environment reaches the handler.
            """
        ),
    )


@dataclass(frozen=True)
class LambdaInvokeFieldSet(RunFieldSet):
    required_fields = (PythonAwsLambdaHandlerField,)
    run_in_sandbox_behavior = RunInSandboxBehavior.NOT_SUPPORTED

    handler: PythonAwsLambdaHandlerField
    runtime: PythonAwsLambdaRuntimeField
    architecture: PythonAwsLambdaArchitectureField
    complete_platforms: PythonAwsLambdaCompletePlatformsField
    resolve: PythonResolveField
    layers: PythonAwsLambdaLayersField


def _machine(name: str) -> str:
    """A CPU as wheel tags spell it (`x86_64`, `aarch64`), from `platform.machine()` or AWS."""
    lowered = name.lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(lowered, lowered)


def artifact_machine(platform: LambdaPlatform) -> str | None:
    """The CPU the artifact is built for, from its architecture or its complete platform's tags."""
    if platform.architecture is not None:
        return ARCHITECTURES[platform.architecture].machine
    machines = {a.machine for a in ARCHITECTURES.values() if any(a.machine in t for t in platform.compatible_tags)}
    return machines.pop() if len(machines) == 1 else None


def host_mismatch(address: Address, platform: LambdaPlatform, host_machine: str) -> str | None:
    """Why this machine's CPU cannot run the artifact, and what to do; None when it can."""
    wanted = artifact_machine(platform)
    host = _machine(host_machine)
    if wanted is None or wanted == host:
        return None
    aws_name = next((a.name for a in ARCHITECTURES.values() if a.machine == wanted), wanted)
    host_aws = next((a.name for a in ARCHITECTURES.values() if a.machine == host), host)
    return softwrap(
        f"""
        {address} is built for {platform.description}, and this machine is {host_aws}: the
        native code of its distributions cannot run here, so it cannot be invoked locally.
        Run `pants run` on an {aws_name} machine, or, to test the handler's logic here, give
        a second `python_aws_lambda_function` target the same handler with
        `{PythonAwsLambdaArchitectureField.alias}="{host_aws}"` and run that one.
        """
    )


def missing_interpreter(address: Address, python_version: tuple[int, int]) -> str:
    version = "{}.{}".format(*python_version)
    return softwrap(
        f"""
        {address} runs on CPython {version}, and there is no `python{version}` on the
        interpreter search path (`[python-bootstrap].search_path`), so it cannot be invoked
        locally: another Python would not be what Lambda runs. Install CPython {version} (e.g.
        `pyenv install {version}`, or your package manager's `python{version}`) where Pants
        looks for interpreters, or add its directory to `[python-bootstrap].search_path`.
        """
    )


def _check_range(option: str, value: int, bounds: tuple[int, int], unit: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise LambdaInvokeError(
            f"`[lambda-invoke].{option}` is {value}; Lambda allows {low} to {high} {unit}."
        )


_RUNNER = "__lambda_invoke.py"


def runtime_args(platform: LambdaPlatform) -> tuple[str, ...]:
    """The runner's arguments for the function's runtime: its name and its JSON encoding rule,
    from the runtime table (for a `complete_platforms` target, the closest runtime's rule)."""
    runtime = platform.runtime or closest_runtime(platform.python_version)
    name = platform.runtime.name if platform.runtime else "python{}.{}".format(*platform.python_version)
    return ("--runtime", name, *encoding_args(runtime))


def encoding_args(runtime: LambdaRuntime) -> tuple[str, ...]:
    return ("--non-ascii", "escape" if runtime.json_ensure_ascii else "keep")


@rule(desc="Preparing a local invocation of an AWS Lambda function", level=LogLevel.DEBUG)
async def invoke_lambda_function(
    field_set: LambdaInvokeFieldSet, invoke: LambdaInvokeSubsystem, awslambdaric: Awslambdaric
) -> RunRequest:
    _check_range("timeout", invoke.timeout, TIMEOUT_RANGE_S, "seconds")
    _check_range("memory_size", invoke.memory_size, MEMORY_RANGE_MB, "MB")
    platform = await Get(
        LambdaPlatform,
        LambdaPlatformRequest(
            field_set.address,
            field_set.runtime,
            field_set.architecture,
            field_set.complete_platforms,
            field_set.resolve,
        ),
    )
    # Refuse before building anything: what cannot run here must not run with something else.
    mismatch = host_mismatch(field_set.address, platform, host_platform.machine())
    if mismatch:
        raise LambdaInvokeError(mismatch)
    if not sys.platform.startswith("linux"):
        logger.warning(
            softwrap(
                f"""
                {field_set.address} is built for Lambda's Linux, and this machine runs
                {host_platform.system()}: compiled extensions in the artifact will fail to import.
                """
            )
        )
    interpreter = await Get(RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version))
    if interpreter.binary is None:
        raise LambdaInvokeError(missing_interpreter(field_set.address, platform.python_version))

    wrapped = await Get(
        WrappedTarget,
        WrappedTargetRequest(field_set.address, description_of_origin="the `run` goal"),
    )
    built, layers = await MultiGet(
        Get(
            BuiltPackage,
            PythonAwsLambdaFunctionFieldSet,
            PythonAwsLambdaFunctionFieldSet.create(wrapped.target),
        ),
        Get(FunctionLayers, FunctionLayersRequest(field_set.address, field_set.layers, platform)),
    )
    (artifact,) = built.artifacts
    assert artifact.relpath is not None
    script = pkgutil.get_data(invoke_runner.__name__, "invoke_runner.py")
    assert script is not None
    digests = await MultiGet(
        Get(Digest, CreateDigest([FileContent(_RUNNER, script)])),
        Get(Digest, AddPrefix(built.digest, "function")),
        *(
            Get(Digest, AddPrefix(layer.artifact.zip.digest, f"layers/{i}"))
            for i, layer in enumerate(layers.layers)
        ),
    )
    client_args: tuple[str, ...] = ()
    if invoke.runtime_client == RuntimeClientChoice.AWSLAMBDARIC:
        if not sys.platform.startswith("linux"):
            logger.warning(
                softwrap(
                    f"""
                    {field_set.address}: `awslambdaric` is a Linux program, and this machine runs
                    {host_platform.system()}: invoking the handler with the direct runner instead
                    (`[lambda-invoke].runtime_client = "direct"`).
                    """
                )
            )
        elif awslambdaric.supports(platform.python_version):
            client = await Get(RuntimeClient, RuntimeClientRequest(platform))
            digests = (*digests, await Get(Digest, AddPrefix(client.digest, "client")))
            client_args = ("--runtime-client", f"{{chroot}}/client/{RUNTIME_CLIENT_PEX}")
        else:
            logger.warning(
                softwrap(
                    f"""
                    {field_set.address}: `[{Awslambdaric.options_scope}]` supports
                    {' '.join(awslambdaric.interpreter_constraints)}, not CPython
                    {'.'.join(map(str, platform.python_version))}: invoking the handler with the
                    direct runner instead (`[lambda-invoke].runtime_client = "direct"`).
                    """
                )
            )
    digest = await Get(Digest, MergeDigests(digests))

    args = [
        interpreter.binary.path,
        "-I",
        "-S",
        "-B",
        f"{{chroot}}/{_RUNNER}",
        "--function",
        f"{{chroot}}/function/{artifact.relpath}",
        *(
            arg
            for i, layer in enumerate(layers.layers)
            for arg in ("--layer", f"{{chroot}}/layers/{i}/{layer.output_path}")
        ),
        *runtime_args(platform),
        "--timeout",
        str(invoke.timeout),
        "--memory-size",
        str(invoke.memory_size),
        "--region",
        invoke.region,
        "--function-name",
        invoke.function_name or field_set.address.target_name,
        *(arg for entry in invoke.env for arg in ("--env", entry)),
        *client_args,
        # What follows is the event, from `pants run <target> -- EVENT`.
        "--",
    ]
    return RunRequest(digest=digest, args=args)


def rules():
    return (*collect_rules(), *runtime_client.rules(), *LambdaInvokeFieldSet.rules())
