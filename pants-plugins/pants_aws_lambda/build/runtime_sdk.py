"""The AWS SDK for Python that every Lambda Python runtime provides in `/var/runtime` (`boto3`,
`botocore`, `s3transfer`, `jmespath`, `python-dateutil`, `six`, `urllib3`), as a tool with its own
pinned, lockfile-resolved version, installed for a function's platform so that `pants run` finds
it where Lambda has it: after the function, its layers and the standard library on `sys.path`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.util_rules.pex import Pex, PexRequest
from pants.engine.addresses import Address
from pants.engine.fs import EMPTY_DIGEST, AddPrefix, Digest
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.strutil import help_text

from pants_aws_lambda.artifact.bytecode import Bytecode, BytecodeRequest
from pants_aws_lambda.facts.paths import RUNTIME_ROOT
from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.invoke.runtime_client import loose_tool_pex_request
from pants_aws_lambda.pants_compat import PinnedLockfileTool
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform
from pants_aws_lambda.target_types import BytecodeMode

# The directory of the installed SDK in a `RuntimeSdk`'s digest.
RUNTIME_SDK_PEX = "lambda-runtime-sdk.pex"


def _every_runtime_constraint() -> str:
    versions = sorted(r.python_version for r in RUNTIMES.values())
    (major, first), (_, last) = versions[0], versions[-1]
    return f"CPython>={major}.{first},<{major}.{last + 1}"


class LambdaRuntimeSdk(PinnedLockfileTool):
    options_scope = "lambda-runtime-sdk"
    help = help_text(
        """
        The AWS SDK for Python (`boto3` and its dependencies) that the Lambda Python runtimes
        provide in `/var/runtime`. `pants run` of a `python_aws_lambda_function` puts it on
        `sys.path` after the function and its layers, as Lambda does, so that a function that
        relies on the runtime's SDK runs locally; a `boto3` in the function or its layers comes
        first. `[lambda-invoke].runtime_sdk = false` leaves it out.
        """
    )

    # One lockfile serves every runtime, python3.8 to python3.14: 1.37.38 is the last release of
    # boto3 and botocore for Python 3.8 (AWS's SDKs left 3.8 in April 2025), and it imports on
    # 3.14 too. The runtimes' own SDKs are newer (AWS updates them with the runtime); to move,
    # see docs/local-invoke.md.
    default_version = "boto3==1.37.38"

    register_interpreter_constraints = True
    default_interpreter_constraints = [_every_runtime_constraint()]

    default_lockfile_resource = ("pants_aws_lambda.build", "lambda-runtime-sdk.lock")


@dataclass(frozen=True)
class RuntimeSdkRequest:
    address: Address
    platform: LambdaPlatform
    # Whether `[lambda-invoke].runtime_sdk` asks for it.
    wanted: bool


@dataclass(frozen=True)
class RuntimeSdk:
    """The installed SDK under `sdk/` in `digest`, and the runner's arguments; or nothing."""

    digest: Digest = EMPTY_DIGEST
    runner_args: tuple[str, ...] = ()


@rule(desc="Installing the AWS SDK the Lambda runtime provides")
async def install_runtime_sdk(request: RuntimeSdkRequest, sdk: LambdaRuntimeSdk) -> RuntimeSdk:
    if not request.wanted:
        return RuntimeSdk()
    pex = await Get(Pex, PexRequest, loose_tool_pex_request(sdk, request.platform, RUNTIME_SDK_PEX))
    # Compiled, as in `/var/runtime`: the runner's sandbox is new at every run, and botocore
    # alone takes minutes to compile under an emulator. Bytecode is the same for every CPU, so
    # a native CPython of the runtime's version compiles it for an emulated one too.
    compiled = await Get(
        Bytecode,
        BytecodeRequest(
            request.address,
            pex.digest,
            request.platform.python_version,
            BytecodeMode.COMPILED,
            runtime_root=RUNTIME_ROOT,
            what="runtime's AWS SDK",
            warn_if_no_interpreter=False,
        ),
    )
    digest = await Get(Digest, AddPrefix(compiled.digest, "sdk"))
    return RuntimeSdk(digest, ("--runtime-sdk", f"{{chroot}}/sdk/{RUNTIME_SDK_PEX}"))


def rules() -> Iterable[Rule | UnionRule]:
    return (*collect_rules(), *LambdaRuntimeSdk.rules())
