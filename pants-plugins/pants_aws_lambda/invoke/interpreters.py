"""What runs a function's handler on this machine: the runtime's CPython on the interpreter search
path when the CPU matches, else one in a root filesystem of `[lambda-invoke].interpreter_roots`
under QEMU's user-mode emulator; or a message saying what to install."""

from __future__ import annotations

import logging
import os
import platform as host_platform
import sys
from dataclasses import dataclass
from typing import Iterable

from pants.core.util_rules.system_binaries import BinaryPath, BinaryPathRequest, BinaryPaths
from pants.engine.addresses import Address
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_aws_lambda import pants_compat
from pants_aws_lambda.facts.architectures import ARCHITECTURES, LambdaArchitecture
from pants_aws_lambda.facts.python_version import PythonVersion, install_hint
from pants_aws_lambda.invoke import runner
from pants_aws_lambda.invoke.subsystem import LambdaInvokeError, LambdaInvokeSubsystem
from pants_aws_lambda.pants_compat import SystemBinarySearchPath
from pants_aws_lambda.runtimes import interpreter as runtime_interpreter
from pants_aws_lambda.runtimes.interpreter import RuntimeInterpreter, RuntimeInterpreterRequest
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform
from pants_aws_lambda.target_types import PythonAwsLambdaArchitectureField

logger = logging.getLogger(__name__)


# How much longer than Lambda's 10 seconds the initialisation (importing the handler) may take
# under an emulator: CPython and compiled extensions run many times slower there, and importing
# the runtime's AWS SDK and making a client (botocore reads its JSON service models) took 60 to
# 240 seconds under QEMU on a loaded 2-core machine.
EMULATED_INIT_TIMEOUT_FACTOR = 30


def _machine(name: str) -> str:
    """A CPU as wheel tags spell it (`x86_64`, `aarch64`), from `platform.machine()` or AWS."""
    lowered = name.lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(lowered, lowered)


def artifact_machine(platform: LambdaPlatform) -> str | None:
    """The CPU the artifact is built for, from its architecture or its complete platform's tags."""
    if platform.architecture is not None:
        return platform.architecture.machine
    machines = {
        a.machine
        for a in ARCHITECTURES.values()
        if any(a.machine in t for t in platform.compatible_tags)
    }
    return machines.pop() if len(machines) == 1 else None


def artifact_architecture(platform: LambdaPlatform, host_machine: str) -> LambdaArchitecture:
    """The artifact's Lambda architecture; this machine's when its complete platform does not
    say."""
    wanted = artifact_machine(platform) or _machine(host_machine)
    return next(
        (a for a in ARCHITECTURES.values() if a.machine == wanted),
        LambdaArchitecture(wanted, wanted),
    )


def _root_instructions(architecture: LambdaArchitecture, version: str) -> str:
    debian_arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(
        architecture.machine, architecture.machine
    )
    return (
        f"a root filesystem holding an {architecture.name} CPython {version} as "
        f"`usr/bin/python{version}` in `[lambda-invoke].interpreter_roots` under "
        f'"{architecture.name}" (e.g. `debootstrap --arch={debian_arch} --foreign '
        "--variant=minbase "
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
    version = str(platform.python_version)
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
    python_version: PythonVersion,
    architecture: LambdaArchitecture | None = None,
    missing: str = "",
) -> str:
    version = str(python_version)
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
        {install_hint(python_version)}, or your package manager's
        `python{version}`) where Pants looks for interpreters, or add its directory to
        `[python-bootstrap].search_path`.{emulated}
        """
    )


@dataclass(frozen=True)
class EmulatedInterpreterRequest:
    architecture: str  # the Lambda architecture's name
    python_version: PythonVersion


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
    request: EmulatedInterpreterRequest,
    invoke: LambdaInvokeSubsystem,
    system: SystemBinarySearchPath,
) -> EmulatedInterpreter:
    arch = request.architecture
    version = str(request.python_version)
    roots = [str(r).rstrip("/") for r in invoke.interpreter_roots.get(arch, ())]
    emulator_name = invoke.emulators.get(arch)
    emulator_paths, pythons = await MultiGet(
        Get(
            BinaryPaths,
            BinaryPathRequest(
                binary_name=os.path.basename(emulator_name or "qemu"),
                search_path=(
                    (emulator_name,)
                    if emulator_name and os.path.isabs(emulator_name)
                    else system.paths
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
            f"no emulator `{emulator_name}` is installed"
            if emulator_name
            else f'`[lambda-invoke].emulators` names no emulator for "{arch}"'
        )
    if python is None:
        missing.append(
            f'no root of `[lambda-invoke].interpreter_roots` for "{arch}" has '
            f"`usr/bin/python{version}`"
            if roots
            else f'`[lambda-invoke].interpreter_roots` has no root for "{arch}"'
        )
    return EmulatedInterpreter(emulator, root, python, " and ".join(missing))


@dataclass(frozen=True)
class RuntimeCommandRequest:
    platform: LambdaPlatform


@dataclass(frozen=True)
class RuntimeCommand:
    """The command that runs the runtime's CPython for the artifact's CPU here (native, else under
    QEMU), for sandboxed checks of an artifact; or, when there is none, what is missing."""

    command: tuple[str, ...]
    emulated: bool
    # What to install or configure, when `command` is empty.
    missing: str = ""

    def describe(self, python_version: PythonVersion) -> str:
        how = "under QEMU" if self.emulated else "natively"
        return f"CPython {python_version} ({how})"


@rule(desc="Finding the runtime's CPython for checks of an artifact", level=LogLevel.DEBUG)
async def find_runtime_command(request: RuntimeCommandRequest) -> RuntimeCommand:
    platform = request.platform
    architecture = artifact_architecture(platform, host_platform.machine())
    if architecture.machine == _machine(host_platform.machine()):
        interpreter = await Get(
            RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version)
        )
        if interpreter.binary is not None:
            return RuntimeCommand((interpreter.binary.path,), emulated=False)
    emulated = await Get(
        EmulatedInterpreter, EmulatedInterpreterRequest(architecture.name, platform.python_version)
    )
    if emulated.found:
        return RuntimeCommand(emulated.command(), emulated=True)
    version = str(platform.python_version)
    native = (
        f"`python{version}` on `[python-bootstrap].search_path` "
        f"(e.g. {install_hint(platform.python_version)}), or "
        if architecture.machine == _machine(host_platform.machine())
        else ""
    )
    return RuntimeCommand(
        (),
        emulated=False,
        missing=f"{native}{_root_instructions(architecture, version)}; {emulated.missing}",
    )


@dataclass(frozen=True)
class InvokeInterpreterRequest:
    address: Address
    platform: LambdaPlatform


@dataclass(frozen=True)
class InvokeInterpreter:
    """The command that runs the runtime's CPython here, and the runner's emulation arguments."""

    command: tuple[str, ...]
    emulation_args: tuple[str, ...] = ()


def _emulation_args(emulated: EmulatedInterpreter) -> tuple[str, ...]:
    assert emulated.emulator is not None and emulated.root is not None
    return (
        "--emulator",
        emulated.emulator.path,
        "--emulator-root",
        emulated.root,
        "--init-timeout",
        str(runner.INIT_TIMEOUT_S * EMULATED_INIT_TIMEOUT_FACTOR),
    )


@rule(desc="Finding a CPython to invoke a Lambda function with", level=LogLevel.DEBUG)
async def find_invoke_interpreter(request: InvokeInterpreterRequest) -> InvokeInterpreter:
    """The runtime's CPython of the artifact's CPU: native when this machine has one, else
    emulated."""
    platform = request.platform
    architecture = artifact_architecture(platform, host_platform.machine())
    native = architecture.machine == _machine(host_platform.machine())
    if not sys.platform.startswith("linux"):
        logger.warning(
            softwrap(
                f"""
                {request.address} is built for Lambda's Linux, and this machine runs
                {host_platform.system()}: compiled extensions in the artifact will fail to import.
                """
            )
        )
    if native:
        interpreter = await Get(
            RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version)
        )
        if interpreter.binary is not None:
            return InvokeInterpreter((interpreter.binary.path,))
    emulated = await Get(
        EmulatedInterpreter, EmulatedInterpreterRequest(architecture.name, platform.python_version)
    )
    if not emulated.found:
        raise LambdaInvokeError(
            missing_interpreter(
                request.address, platform.python_version, architecture, emulated.missing
            )
            if native
            else host_mismatch(request.address, platform, host_platform.machine(), emulated.missing)
        )
    return InvokeInterpreter(emulated.command(), _emulation_args(emulated))


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *runtime_interpreter.rules(), *pants_compat.rules())
