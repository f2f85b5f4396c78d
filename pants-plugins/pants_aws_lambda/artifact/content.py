"""What goes into a Lambda artifact: third-party distributions and first-party sources.

The target's requirements are resolved for its platform (`requirements/resolve.py`); its first-party
sources and resources are taken with their source roots stripped; no path may come from both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import PythonRequirementsField, PythonResolveField
from pants.backend.python.util_rules.pex_requirements import PexRequirements
from pants.backend.python.util_rules.python_sources import (
    PythonSourceFilesRequest,
    StrippedPythonSourceFiles,
)
from pants.core.target_types import FileSourceField
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestEntries, FileEntry
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.target import TransitiveTargets, TransitiveTargetsRequest
from pants.util.strutil import softwrap

from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.requirements import resolve
from pants_aws_lambda.requirements.resolve import ThirdPartyRequest
from pants_aws_lambda.requirements.tree import ThirdPartyTree
from pants_aws_lambda.requirements.wheels import Distribution
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LambdaContentRequest:
    address: Address
    platform: LambdaPlatform
    resolve: PythonResolveField
    include_requirements: bool
    include_sources: bool


@dataclass(frozen=True)
class LambdaContent:
    third_party: ThirdPartyTree
    # First-party sources and resources, source roots stripped.
    first_party: tuple[FileEntry, ...]

    @property
    def first_party_files(self) -> frozenset[str]:
        return frozenset(e.path for e in self.first_party)

    @property
    def distributions(self) -> tuple[Distribution, ...]:
        return tuple(Distribution.from_wheel(w) for w in self.third_party.wheels)


@rule
async def assemble_lambda_content(
    request: LambdaContentRequest, python_setup: PythonSetup
) -> LambdaContent:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))

    third_party = ThirdPartyTree((), ())
    if request.include_requirements:
        requirements = PexRequirements.req_strings_from_requirement_fields(
            tgt[PythonRequirementsField]
            for tgt in transitive.closure
            if tgt.has_field(PythonRequirementsField)
        )
        third_party = await Get(
            ThirdPartyTree,
            ThirdPartyRequest(
                request.address,
                request.platform,
                request.resolve.normalized_value(python_setup),
                tuple(requirements),
            ),
        )

    first_party: tuple[FileEntry, ...] = ()
    if request.include_sources:
        file_targets = _file_targets(transitive)
        if file_targets:
            logger.warning(_file_targets_warning(request.address, file_targets))
        sources = await Get(
            StrippedPythonSourceFiles,
            PythonSourceFilesRequest(
                transitive.closure, include_resources=True, include_files=False
            ),
        )
        entries = await Get(DigestEntries, Digest, sources.stripped_source_files.snapshot.digest)
        first_party = tuple(e for e in entries if isinstance(e, FileEntry))
    found = clashes(third_party, first_party)
    if found:
        raise _clashes_error(request.address, found)
    return LambdaContent(third_party, first_party)


def _file_targets(transitive: TransitiveTargets) -> list[str]:
    """The `file` targets among the dependencies, which artifacts do not hold."""
    return sorted(str(t.address) for t in transitive.closure if t.has_field(FileSourceField))


def _file_targets_warning(address: Address, file_targets: list[str]) -> str:
    return softwrap(
        f"""
        {address} depends on `file` targets, which are not put into Lambda
        artifacts: {', '.join(file_targets)}. Code reads packaged data relative to
        its module, so use `resource` targets for data the function needs.
        """
    )


class PathClash(NamedTuple):
    """A first-party file with the path of a file of a third-party distribution."""

    path: str
    # The wheel that also has a file at `path`.
    wheel: str


def clashes(
    third_party: ThirdPartyTree, first_party: tuple[FileEntry, ...]
) -> tuple[PathClash, ...]:
    """First-party files that third-party files would overwrite (or be overwritten by), sorted."""
    third_party_paths = {f.path: f.wheel for f in third_party.files}
    return tuple(
        PathClash(path, third_party_paths[path])
        for path in sorted(e.path for e in first_party if e.path in third_party_paths)
    )


def _clashes_error(address: Address, found: tuple[PathClash, ...]) -> LambdaPackagingError:
    listing = "\n".join(f"  - {c.path} (also in {c.wheel})" for c in found[:10])
    return LambdaPackagingError(
        f"First-party files of {address} have the same paths as files of its "
        f"third-party distributions:\n{listing}\n"
        "Rename the first-party module, or drop the requirement with a `!!` exclude in "
        "`dependencies`."
    )


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *resolve.rules())
