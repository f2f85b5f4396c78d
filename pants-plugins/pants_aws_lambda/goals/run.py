"""`pants run` of a `python_aws_lambda_function`: invoke the packaged handler locally.

The rule builds the function's artifact and its layers, finds what can run them here (a CPython
of the runtime's minor version and of the artifact's CPU on `[python-bootstrap].search_path`, or
else one in a root filesystem of `[lambda-invoke].interpreter_roots`, run under QEMU's user-mode
emulator), and returns a `RunRequest` for `invoke_runner.py`, which unpacks the zips (or copies
the `flat` directories) read-only with their file modes and has that CPython call
`lambda_function.handler`, as the Lambda runtime would: through `awslambdaric` (installed by
`runtime_client` for the runtime's platform) against a Runtime API on loopback, or with its own
direct runner.
"""

from __future__ import annotations

import logging
import os
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
from pants.core.util_rules.system_binaries import (
    SEARCH_PATHS,
    BinaryPath,
    BinaryPathRequest,
    BinaryPaths,
)
from pants.option.option_types import DictOption, EnumOption, IntOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import help_text, softwrap

from pants_aws_lambda.invoke import runner as invoke_runner
from pants_aws_lambda.invoke import runtime_client
from pants_aws_lambda.artifact.bytecode import RuntimeInterpreter, RuntimeInterpreterRequest
from pants_aws_lambda.build.field_sets import PythonAwsLambdaFunctionFieldSet
from pants_aws_lambda.goals.package import FunctionLayers, FunctionLayersRequest
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform, LambdaPlatformRequest
from pants_aws_lambda.invoke.runtime_client import (
    RUNTIME_CLIENT_PEX,
    Awslambdaric,
    RuntimeClient,
    RuntimeClientRequest,
)
from pants_aws_lambda.runtimes.table import ARCHITECTURES, LambdaArchitecture, LambdaRuntime, closest_runtime
from pants_aws_lambda.target_types import (
    PythonAwsLambdaArchitectureField,
    PythonAwsLambdaCompletePlatformsField,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaLayersField,
    PythonAwsLambdaRuntimeField,
)

logger = logging.getLogger(__name__)

# How much longer than Lambda's 10 seconds the initialisation (importing the handler) may take
# under an emulator: CPython and compiled extensions run many times slower there.
EMULATED_INIT_TIMEOUT_FACTOR = 10

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
    emulators = DictOption[str](
        default={"arm64": "qemu-aarch64-static", "x86_64": "qemu-x86_64-static"},
        help=help_text(
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
        help=help_text(
            """
            Root filesystems holding a Lambda runtime's CPython as `usr/bin/python3.X`, for each
            Lambda architecture: `{"arm64": ["/srv/roots/trixie-arm64"], "x86_64":
            ["/srv/roots/sid-amd64"]}`. `pants run` uses the first root with the runtime's
            `python3.X`, under the architecture's emulator (`emulators`), when this machine
            cannot run the function natively (another CPU, or no CPython of that version on
            `[python-bootstrap].search_path`). A root can be made with `debootstrap
            --arch=arm64 --foreign --variant=minbase --include=python3.13 trixie ROOT
            http://deb.debian.org/debian`, then `dpkg -x` of each `ROOT/var/cache/apt/archives/*.deb`
            into ROOT.
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


def artifact_architecture(platform: LambdaPlatform, host_machine: str) -> LambdaArchitecture:
    """The artifact's Lambda architecture; this machine's when its complete platform does not say."""
    wanted = artifact_machine(platform) or _machine(host_machine)
    return next(
        (a for a in ARCHITECTURES.values() if a.machine == wanted),
        LambdaArchitecture(wanted, wanted),
    )


def _root_instructions(architecture: LambdaArchitecture, version: str) -> str:
    debian_arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(architecture.machine, architecture.machine)
    return (
        f"a root filesystem holding an {architecture.name} CPython {version} as "
        f"`usr/bin/python{version}` in `[lambda-invoke].interpreter_roots` under "
        f'"{architecture.name}" (e.g. `debootstrap --arch={debian_arch} --foreign --variant=minbase '
        f"--include=python{version} SUITE ROOT http://deb.debian.org/debian` with a Debian suite "
        f"that ships python{version}, then `dpkg -x` of each `ROOT/var/cache/apt/archives/*.deb` "
        f"into ROOT), and QEMU's user-mode emulator for it (`apt-get install qemu-user-static`, "
        f'or `[lambda-invoke].emulators` naming it under "{architecture.name}")'
    )


def host_mismatch(
    address: Address, platform: LambdaPlatform, host_machine: str, missing: str
) -> str:
    """Why this machine cannot run an artifact of another CPU, and what to install/configure."""
    architecture = artifact_architecture(platform, host_machine)
    host = _machine(host_machine)
    host_aws = next((a.name for a in ARCHITECTURES.values() if a.machine == host), host)
    version = "{}.{}".format(*platform.python_version)
    return softwrap(
        f"""
        {address} is built for {platform.description}, and this machine is {host_aws}: the
        native code of its distributions runs here only under an emulator, and {missing}.
        To invoke it locally, configure {_root_instructions(architecture, version)}. Or run
        `pants run` on an {architecture.name} machine, or, to test the handler's logic here,
        give a second `python_aws_lambda_function` target the same handler with
        `{PythonAwsLambdaArchitectureField.alias}="{host_aws}"` and run that one.
        """
    )


def missing_interpreter(
    address: Address,
    python_version: tuple[int, int],
    architecture: LambdaArchitecture | None = None,
    missing: str = "",
) -> str:
    version = "{}.{}".format(*python_version)
    emulated = (
        f" Or configure {_root_instructions(architecture, version)}; {missing}."
        if architecture is not None
        else ""
    )
    return softwrap(
        f"""
        {address} runs on CPython {version}, and there is no `python{version}` on the
        interpreter search path (`[python-bootstrap].search_path`), so it cannot be invoked
        locally: another Python would not be what Lambda runs. Install CPython {version} (e.g.
        `pyenv install {version}`, or your package manager's `python{version}`) where Pants
        looks for interpreters, or add its directory to `[python-bootstrap].search_path`.{emulated}
        """
    )


@dataclass(frozen=True)
class EmulatedInterpreterRequest:
    architecture: str  # the Lambda architecture's name
    python_version: tuple[int, int]


@dataclass(frozen=True)
class EmulatedInterpreter:
    """A CPython in a root filesystem and the emulator that runs it; or why there is none."""

    emulator: BinaryPath | None
    root: str | None
    python: str | None
    missing: str

    @property
    def found(self) -> bool:
        return self.emulator is not None and self.python is not None

    def command(self) -> tuple[str, ...]:
        assert self.emulator is not None and self.root is not None and self.python is not None
        return (self.emulator.path, "-L", self.root, self.python)


@rule(desc="Finding an emulated CPython for a Lambda runtime", level=LogLevel.DEBUG)
async def find_emulated_interpreter(
    request: EmulatedInterpreterRequest, invoke: LambdaInvokeSubsystem
) -> EmulatedInterpreter:
    arch = request.architecture
    version = "{}.{}".format(*request.python_version)
    roots = [str(r).rstrip("/") for r in invoke.interpreter_roots.get(arch, ())]
    emulator_name = invoke.emulators.get(arch)
    emulator_paths, pythons = await MultiGet(
        Get(
            BinaryPaths,
            BinaryPathRequest(
                binary_name=os.path.basename(emulator_name or "qemu"),
                search_path=(
                    (emulator_name,) if emulator_name and os.path.isabs(emulator_name) else SEARCH_PATHS
                ),
                check_file_entries=True,
            ),
        ),
        Get(
            BinaryPaths,
            BinaryPathRequest(
                binary_name=f"python{version}",
                search_path=tuple(f"{root}/usr/bin/python{version}" for root in roots),
                check_file_entries=True,
            ),
        ),
    )
    emulator = emulator_paths.first_path if emulator_name else None
    python = pythons.first_path.path if pythons.first_path else None
    root = next((r for r in roots if python == f"{r}/usr/bin/python{version}"), None)
    missing = []
    if emulator is None:
        missing.append(
            f"no emulator `{emulator_name}` is installed" if emulator_name
            else f'`[lambda-invoke].emulators` names no emulator for "{arch}"'
        )
    if python is None:
        missing.append(
            f'no root of `[lambda-invoke].interpreter_roots` for "{arch}" has `usr/bin/python{version}`'
            if roots
            else f'`[lambda-invoke].interpreter_roots` has no root for "{arch}"'
        )
    return EmulatedInterpreter(emulator, root, python, " and ".join(missing))


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
    field_set: PythonAwsLambdaFunctionFieldSet, invoke: LambdaInvokeSubsystem, awslambdaric: Awslambdaric
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
    architecture = artifact_architecture(platform, host_platform.machine())
    native = architecture.machine == _machine(host_platform.machine())
    if not sys.platform.startswith("linux"):
        logger.warning(
            softwrap(
                f"""
                {field_set.address} is built for Lambda's Linux, and this machine runs
                {host_platform.system()}: compiled extensions in the artifact will fail to import.
                """
            )
        )
    python: tuple[str, ...] = ()
    emulation_args: tuple[str, ...] = ()
    if native:
        interpreter = await Get(RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version))
        if interpreter.binary is not None:
            python = (interpreter.binary.path,)
    if not python:
        emulated = await Get(
            EmulatedInterpreter,
            EmulatedInterpreterRequest(architecture.name, platform.python_version),
        )
        if not emulated.found:
            raise LambdaInvokeError(
                missing_interpreter(field_set.address, platform.python_version, architecture, emulated.missing)
                if native
                else host_mismatch(field_set.address, platform, host_platform.machine(), emulated.missing)
            )
        python = emulated.command()
        assert emulated.emulator is not None and emulated.root is not None
        emulation_args = (
            "--emulator",
            emulated.emulator.path,
            "--emulator-root",
            emulated.root,
            "--init-timeout",
            str(invoke_runner.INIT_TIMEOUT_S * EMULATED_INIT_TIMEOUT_FACTOR),
        )

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
    script = pkgutil.get_data(invoke_runner.__name__, "runner.py")
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
        *python,
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
        *emulation_args,
        # What follows is the event, from `pants run <target> -- EVENT`.
        "--",
    ]
    return RunRequest(digest=digest, args=args)


def rules():
    return (*collect_rules(), *runtime_client.rules(), *PythonAwsLambdaFunctionFieldSet.rules())
