"""`pants run` of a `python_aws_lambda_function`: invoke the built handler locally.

The rule finds what can run the function here (`invoke/interpreters.py`) before building
anything, takes the built function with its layers (the same `BuiltFunction` that `pants
package` writes), and returns a `RunRequest` for `invoke/runner.py`, which unpacks the zips (or
copies the `flat` directories) read-only with their file modes and has that CPython call
`lambda_function.handler`, as the Lambda runtime would: through `awslambdaric`
(`invoke/runtime_client.py`) against a Runtime API on loopback, or with its own direct runner.
"""

from __future__ import annotations

from typing import Iterable

from pants.core.goals.run import RunRequest
from pants.engine.fs import AddPrefix, CreateDigest, Digest, MergeDigests
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from pants_aws_lambda.build import function, runtime_sdk
from pants_aws_lambda.build.field_sets import PythonAwsLambdaFunctionFieldSet
from pants_aws_lambda.build.function import BuiltFunction
from pants_aws_lambda.build.runtime_sdk import RuntimeSdk, RuntimeSdkRequest
from pants_aws_lambda.facts.runtimes import LambdaRuntime, closest_runtime
from pants_aws_lambda.invoke import interpreters, runtime_client
from pants_aws_lambda.invoke.interpreters import InvokeInterpreter, InvokeInterpreterRequest
from pants_aws_lambda.invoke.runner_files import RUNNER_ENTRY, runner_files
from pants_aws_lambda.invoke.runtime_client import ChosenRuntimeClient, ChosenRuntimeClientRequest
from pants_aws_lambda.invoke.subsystem import (
    LambdaInvokeSubsystem,
    RuntimeClientChoice,
    check_ranges,
)
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform, LambdaPlatformRequest


def runtime_args(platform: LambdaPlatform) -> tuple[str, ...]:
    """The runner's arguments for the function's runtime: its name and its JSON encoding rule,
    from the runtime table (for a `complete_platforms` target, the closest runtime's rule)."""
    runtime = platform.runtime or closest_runtime(platform.python_version)
    name = platform.runtime.name if platform.runtime else platform.python_version.runtime_name
    return ("--runtime", name, *encoding_args(runtime))


def encoding_args(runtime: LambdaRuntime) -> tuple[str, ...]:
    return ("--non-ascii", "escape" if runtime.json_ensure_ascii else "keep")


async def _sandbox(built: BuiltFunction, client: ChosenRuntimeClient, sdk: RuntimeSdk) -> Digest:
    """The runner, the function under `function/`, its layers under `layers/<i>/`, the client
    and the SDK."""
    digests = await MultiGet(
        Get(Digest, CreateDigest, runner_files()),
        Get(Digest, AddPrefix(built.artifact.output.digest, "function")),
        *(
            Get(Digest, AddPrefix(layer.artifact.output.digest, f"layers/{i}"))
            for i, layer in enumerate(built.layers)
        ),
    )
    return await Get(Digest, MergeDigests([*digests, client.digest, sdk.digest]))


def _runner_args(
    built: BuiltFunction,
    invoke: LambdaInvokeSubsystem,
    interpreter: InvokeInterpreter,
    client: ChosenRuntimeClient,
    sdk: RuntimeSdk,
) -> tuple[str, ...]:
    return (
        *interpreter.command,
        "-I",
        "-S",
        "-B",
        f"{{chroot}}/{RUNNER_ENTRY}",
        "--function",
        f"{{chroot}}/function/{built.output_path}",
        *(
            arg
            for i, layer in enumerate(built.layers)
            for arg in ("--layer", f"{{chroot}}/layers/{i}/{layer.output_path}")
        ),
        *runtime_args(built.platform),
        "--timeout",
        str(invoke.timeout),
        "--memory-size",
        str(invoke.memory_size),
        "--region",
        invoke.region,
        "--function-name",
        invoke.function_name or built.address.target_name,
        *(arg for entry in invoke.env for arg in ("--env", entry)),
        *client.runner_args,
        *sdk.runner_args,
        *interpreter.emulation_args,
        # What follows are the events, from `pants run <target> -- EVENT ...`.
        "--",
    )


@rule(desc="Preparing a local invocation of an AWS Lambda function", level=LogLevel.DEBUG)
async def invoke_lambda_function(
    field_set: PythonAwsLambdaFunctionFieldSet, invoke: LambdaInvokeSubsystem
) -> RunRequest:
    check_ranges(invoke)
    platform = await Get(LambdaPlatform, LambdaPlatformRequest, field_set.platform_request())
    # Refuse before building anything: what cannot run here must not run with something else.
    interpreter = await Get(
        InvokeInterpreter, InvokeInterpreterRequest(field_set.address, platform)
    )
    built = await Get(BuiltFunction, PythonAwsLambdaFunctionFieldSet, field_set)
    client, sdk = await MultiGet(
        Get(
            ChosenRuntimeClient,
            ChosenRuntimeClientRequest(
                field_set.address,
                platform,
                invoke.runtime_client == RuntimeClientChoice.AWSLAMBDARIC,
            ),
        ),
        Get(RuntimeSdk, RuntimeSdkRequest(field_set.address, platform, invoke.runtime_sdk)),
    )
    digest = await _sandbox(built, client, sdk)
    return RunRequest(digest=digest, args=_runner_args(built, invoke, interpreter, client, sdk))


def rules() -> Iterable[Rule | UnionRule]:
    return (
        *collect_rules(),
        *function.rules(),
        *interpreters.rules(),
        *runtime_client.rules(),
        *runtime_sdk.rules(),
        *PythonAwsLambdaFunctionFieldSet.rules(),
    )
