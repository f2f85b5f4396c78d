"""Resolving a Lambda target's third-party requirements for its platform with PEX.

Before PEX runs, the lockfile's artifacts are checked for wheels the runtime can load
(`RequirementsWheelCheck`); PEX then installs the requirements for the platform's complete
platforms into a loose PEX, whose installed wheels `tree` lays out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import PexLayout
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import Pex
from pants.backend.python.util_rules.pex_cli import PexCli
from pants.backend.python.util_rules.pex_from_targets import PexFromTargetsRequest
from pants.backend.python.util_rules.pex_requirements import (
    LoadedLockfile,
    LoadedLockfileRequest,
    Lockfile,
    Resolve,
)
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents
from pants.engine.process import ProcessExecutionFailure
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.util.strutil import softwrap

from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.requirements import diagnosis, lockfile, tree
from pants_aws_lambda.requirements.tree import (
    REQUIREMENTS_PEX,
    ThirdPartyTree,
    ThirdPartyTreeRequest,
)
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform


@dataclass(frozen=True)
class ThirdPartyRequest:
    address: Address
    platform: LambdaPlatform
    resolve: str
    requirements: tuple[str, ...]


@dataclass(frozen=True)
class RequirementsWheelCheckRequest:
    address: Address
    resolve: str
    requirements: tuple[str, ...]
    platform: LambdaPlatform


@dataclass(frozen=True)
class RequirementsWheelCheck:
    # Whether the requirements come from a lockfile (else PEX resolves them from the indexes).
    locked: bool
    # Canonical names of the locked requirements PEX builds from an sdist.
    sdist_only: tuple[str, ...] = ()


@rule
async def check_requirements_have_wheels(
    request: RequirementsWheelCheckRequest, python_setup: PythonSetup, pex_cli: PexCli
) -> RequirementsWheelCheck:
    """Refuse, before PEX runs, requirements whose locked artifacts hold no compatible wheel."""
    if not python_setup.enable_resolves or request.resolve not in python_setup.resolves:
        return RequirementsWheelCheck(locked=False)
    if not request.requirements:
        return RequirementsWheelCheck(locked=True)
    lock_file = await Get(Lockfile, Resolve(request.resolve, False))
    loaded = await Get(LoadedLockfile, LoadedLockfileRequest(lock_file))
    if not loaded.is_pex_native:
        return RequirementsWheelCheck(locked=True)
    contents = await Get(DigestContents, Digest, loaded.lockfile_digest)
    lock_text = next(c.content for c in contents if c.path == loaded.lockfile_path).decode()
    lock = lockfile.load_lock(lock_text)
    problems = lockfile.find_incompatible_requirements(
        lock,
        request.requirements,
        request.platform.marker_environment,
        request.platform.compatible_tags,
    )
    if problems:
        raise LambdaPackagingError(
            diagnosis.describe_incompatible(
                problems,
                address=str(request.address),
                runtime_description=(
                    diagnosis.describe_runtime(
                        request.platform.runtime, request.platform.architecture.name
                    )
                    if request.platform.runtime is not None and request.platform.architecture
                    else request.platform.description
                ),
                compatible_tags=request.platform.compatible_tags,
                resolve=request.resolve,
                origin=lockfile.LockOrigin.of(lock, pex_cli.version),
            )
        )
    return RequirementsWheelCheck(
        locked=True,
        sdist_only=lockfile.find_sdist_only_requirements(
            lock, request.requirements, request.platform.marker_environment
        ),
    )


def _describe_failed_resolve(
    request: ThirdPartyRequest, check: RequirementsWheelCheck, failure: ProcessExecutionFailure
) -> str:
    """PEX failed where it had to build sdists: say which, and keep what PEX said."""
    said = failure.stderr.decode(errors="replace").strip().splitlines()[-12:]
    built = (
        f"the requirements the lockfile has only sdists of ({', '.join(check.sdist_only)})"
        if check.locked
        else "requirements without a wheel for the runtime (no lockfile: PEX looked on the indexes)"
    )
    return "\n".join(
        [
            softwrap(
                f"""
                Cannot package {request.address} for {request.platform.description}: PEX could
                not install {built}. An sdist that builds into a platform-specific wheel (compiled
                code) cannot be built for a Lambda platform here; only pure-Python sdists can.
                Pin a release that publishes manylinux wheels for the runtime, or build a
                manylinux wheel yourself (with the runtime's CPython in a manylinux container,
                then `auditwheel repair`) and serve it from a directory in
                `[python-repos].find_links`. PEX said:
                """
            ),
            *(f"  {line}" for line in said),
        ]
    )


def _check_known_version(request: ThirdPartyRequest, python_setup: PythonSetup) -> bool:
    """Whether Pants knows the runtime's Python; requirements cannot be resolved for one it does
    not."""
    version = str(request.platform.python_version)
    known_version = version in python_setup.interpreter_versions_universe
    if request.requirements and not known_version:
        raise LambdaPackagingError(
            softwrap(
                f"""
                Cannot resolve the requirements of {request.address} for Python {version}:
                `[python].interpreter_versions_universe`
                ({', '.join(python_setup.interpreter_versions_universe)}) does not list it,
                and Pants 2.17 lists only versions up to 3.12 by default. Add "{version}" to
                it in pants.toml.
                """
            )
        )
    return known_version


def _requirements_pex_request(
    request: ThirdPartyRequest, check: RequirementsWheelCheck, known_version: bool
) -> PexFromTargetsRequest:
    version = str(request.platform.python_version)
    return PexFromTargetsRequest(
        [request.address],
        output_filename=REQUIREMENTS_PEX,
        internal_only=False,
        layout=PexLayout.LOOSE,
        include_source_files=False,
        complete_platforms=request.platform.complete_platforms,
        # The runtime's Python, not the union of the closure's constraints: a lock for
        # `CPython>=3.12,<3.15` serves a python3.13 function whose sources carry
        # `[python].interpreter_constraints` of 3.9 and up.
        # (Without requirements, a Python that Pants does not know is no obstacle.)
        hardcoded_interpreter_constraints=(
            InterpreterConstraints([f"CPython=={version}.*"]) if known_version else None
        ),
        # Without a lockfile, the newest release with a wheel the runtime can load wins
        # over a newer one that would have to be built from its sdist.
        additional_args=() if check.locked else ("--prefer-binary",),
        description=(
            f"Resolving third-party requirements of {request.address} for "
            f"{request.platform.description}"
        ),
    )


@rule
async def resolve_third_party(
    request: ThirdPartyRequest, python_setup: PythonSetup
) -> ThirdPartyTree:
    """The requirements installed by PEX for the platform, after the lockfile's wheels are
    checked."""
    known_version = _check_known_version(request, python_setup)
    check = await Get(
        RequirementsWheelCheck,
        RequirementsWheelCheckRequest(
            request.address, request.resolve, request.requirements, request.platform
        ),
    )
    pex_request = _requirements_pex_request(request, check, known_version)
    try:
        requirements_pex = await Get(Pex, PexFromTargetsRequest, pex_request)
    except ProcessExecutionFailure as e:
        if check.locked and not check.sdist_only:
            raise
        raise LambdaPackagingError(_describe_failed_resolve(request, check, e)) from e
    return await Get(
        ThirdPartyTree,
        ThirdPartyTreeRequest(
            request.address, requirements_pex, request.platform, check.locked, check.sdist_only
        ),
    )


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *tree.rules())
