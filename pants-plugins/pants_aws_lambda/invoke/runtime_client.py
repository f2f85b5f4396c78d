"""`awslambdaric`, the Lambda Runtime Interface Client that AWS's Python images run handlers with,
as a tool with its own pinned, lockfile-resolved version, installed for a runtime's CPython."""

from __future__ import annotations

import logging
import platform as host_platform
from dataclasses import dataclass
from typing import Iterable

from packaging.requirements import Requirement
from pants.backend.python.target_types import PexLayout
from pants.backend.python.util_rules.pex import Pex, PexRequest
from pants.engine.addresses import Address
from pants.engine.fs import EMPTY_DIGEST, AddPrefix, Digest
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import help_text, softwrap

from pants_aws_lambda.facts.python_version import PythonVersion
from pants_aws_lambda.facts.runtimes import runtime_client_interpreter_constraints
from pants_aws_lambda.pants_compat import PinnedLockfileTool
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform

logger = logging.getLogger(__name__)

# The directory of the installed client in a `RuntimeClient`'s digest.
RUNTIME_CLIENT_PEX = "awslambdaric.pex"


class Awslambdaric(PinnedLockfileTool):
    options_scope = "awslambdaric"
    help = help_text(
        """
        The AWS Lambda Runtime Interface Client for Python (https://pypi.org/project/awslambdaric/):
        what AWS's Lambda base images run handlers with. `pants run` of a
        `python_aws_lambda_function` runs the handler through it, against a local Runtime API.
        """
    )

    # 4.x: the first line whose JSON encoder keeps non-ASCII characters on python3.14 as AWS's
    # runtime does (3.1.1 did so for python3.12 and python3.13 only). It requires Python 3.10+
    # (the pex of `[pex-cli]` checks that against the runtime's platform, not Pants' CPython 3.9).
    # The runtimes it has wheels for are the ones marked `awslambdaric` in the runtime table.
    default_version = "awslambdaric==4.2.2"
    default_requirements = ["awslambdaric>=4.2,<5"]

    register_interpreter_constraints = True
    # The CPythons of those runtimes; a new one there needs `pants generate-lockfiles
    # --resolve=awslambdaric`, since the lockfile records the constraints it was made for.
    default_interpreter_constraints = runtime_client_interpreter_constraints()

    default_lockfile_resource = ("pants_aws_lambda.invoke", "awslambdaric.lock")

    def supports(self, python_version: PythonVersion) -> bool:
        """Whether the runtime client's interpreter constraints allow this CPython minor version."""
        version = f"{python_version}.0"
        requirements = (Requirement(str(c)) for c in self.interpreter_constraints)
        return any(r.name == "CPython" and version in r.specifier for r in requirements)


@dataclass(frozen=True)
class RuntimeClientRequest:
    platform: LambdaPlatform


@dataclass(frozen=True)
class RuntimeClient:
    """The installed runtime client: `RUNTIME_CLIENT_PEX/.deps/<wheel>/` directories to put on
    `sys.path`."""

    digest: Digest


def loose_tool_pex_request(
    tool: PinnedLockfileTool, platform: LambdaPlatform, output_filename: str
) -> PexRequest:
    """A tool of the runtime installed for the function's Lambda platform, as the function's own
    distributions are (the runtime's CPython need not be one that PEX can inspect): a loose PEX
    whose `.deps/<wheel>/` directories go on `sys.path`."""
    return PexRequest(
        output_filename=output_filename,
        internal_only=False,
        requirements=tool.pex_requirements(),
        interpreter_constraints=tool.interpreter_constraints,
        complete_platforms=platform.complete_platforms,
        layout=PexLayout.LOOSE,
        description=f"Installing {tool.options_scope} for {platform.description}",
    )


@rule(desc="Installing the Lambda Runtime Interface Client")
async def install_runtime_client(
    request: RuntimeClientRequest, awslambdaric: Awslambdaric
) -> RuntimeClient:
    pex = await Get(
        Pex, PexRequest, loose_tool_pex_request(awslambdaric, request.platform, RUNTIME_CLIENT_PEX)
    )
    return RuntimeClient(pex.digest)


@dataclass(frozen=True)
class ChosenRuntimeClientRequest:
    address: Address
    platform: LambdaPlatform
    # Whether `[lambda-invoke].runtime_client` asks for `awslambdaric` (else the direct runner).
    wanted: bool


@dataclass(frozen=True)
class ChosenRuntimeClient:
    """What calls the handler: the installed runtime client under `runtime-client/` in
    `digest`, or the direct runner (empty `digest`, no arguments)."""

    digest: Digest = EMPTY_DIGEST
    runner_args: tuple[str, ...] = ()


def direct_runner_reason(
    platform: LambdaPlatform, awslambdaric: Awslambdaric, host_system: str
) -> str | None:
    """Why the runtime client cannot call the handler on this machine (`host_system`, as
    `platform.system()` names it) for `platform`; None when it can."""
    if host_system != "Linux":
        return f"`awslambdaric` is a Linux program, and this machine runs {host_system}"
    if not awslambdaric.supports(platform.python_version):
        constraints = " ".join(str(c) for c in awslambdaric.interpreter_constraints)
        version = str(platform.python_version)
        return f"`[{Awslambdaric.options_scope}]` supports {constraints}, not CPython {version}"
    return None


def _direct_runner_warning(address: Address, reason: str) -> str:
    return softwrap(
        f"""
        {address}: {reason}: invoking the handler with the direct runner instead
        (`[lambda-invoke].runtime_client = "direct"`).
        """
    )


@rule(desc="Choosing the Lambda Runtime Interface Client", level=LogLevel.DEBUG)
async def choose_runtime_client(
    request: ChosenRuntimeClientRequest, awslambdaric: Awslambdaric
) -> ChosenRuntimeClient:
    if not request.wanted:
        return ChosenRuntimeClient()
    reason = direct_runner_reason(request.platform, awslambdaric, host_platform.system())
    if reason is not None:
        logger.warning(_direct_runner_warning(request.address, reason))
        return ChosenRuntimeClient()
    runtime_client = await Get(RuntimeClient, RuntimeClientRequest(request.platform))
    digest = await Get(Digest, AddPrefix(runtime_client.digest, "runtime-client"))
    return ChosenRuntimeClient(
        digest, ("--runtime-client", f"{{chroot}}/runtime-client/{RUNTIME_CLIENT_PEX}")
    )


def rules() -> Iterable[Rule | UnionRule]:
    return (*collect_rules(), *Awslambdaric.rules())
