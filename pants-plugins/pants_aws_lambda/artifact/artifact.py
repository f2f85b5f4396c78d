"""A Lambda artifact (function or layer) from its content.

`LambdaArtifactRequest` -> `LambdaArtifact`: the selection (`selection.py`) drops what layers
provide and what `exclude` matches; bytecode is compiled for the runtime, third-party and
first-party apart (`bytecode.py`); everything goes under the artifact's prefix (`python/` for
layers); and the tree is written as a reproducible zip, or with the `flat` layout as a directory
(`output.py`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum

from pants.engine.addresses import Address
from pants.engine.fs import AddPrefix, CreateDigest, Digest, MergeDigests
from pants.engine.rules import Get, MultiGet, collect_rules, rule

from pants_aws_lambda.artifact import bytecode, content, output, selection, slim, slimming
from pants_aws_lambda.artifact.bytecode import Bytecode, BytecodeRequest, CompileFailure
from pants_aws_lambda.artifact.content import LambdaContent
from pants_aws_lambda.artifact.output import (
    ArtifactOutput,
    FlatTreeRequest,
    ThirdPartyZipPart,
    ThirdPartyZipPartRequest,
    ZipRequest,
)
from pants_aws_lambda.artifact.selection import Provided, Selection
from pants_aws_lambda.artifact.slim import SlimReport, SlimRequest, SlimTree
from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.runtimes import platform_rules
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform
from pants_aws_lambda.runtimes.table import LAYER_PYTHON_DIR, LAYERS_ROOT, TASK_ROOT
from pants_aws_lambda.target_types import BytecodeMode, Layout
from pants_aws_lambda.requirements.wheels import Distribution
from pants_aws_lambda.subsystem import AwsLambdaSubsystem


class ArtifactKind(Enum):
    """A function's code is unpacked to `/var/task`; a layer's `python/` directory is `/opt/python`."""

    FUNCTION = "function"
    LAYER = "layer"

    @property
    def prefix(self) -> str:
        """The directory inside the artifact that Lambda puts on `sys.path`."""
        return "" if self is ArtifactKind.FUNCTION else LAYER_PYTHON_DIR

    @property
    def runtime_root(self) -> str:
        """Where that directory is on Lambda."""
        return TASK_ROOT if self is ArtifactKind.FUNCTION else f"{LAYERS_ROOT}/{self.prefix}"


@dataclass(frozen=True)
class LambdaArtifactRequest:
    address: Address
    kind: ArtifactKind
    platform: LambdaPlatform
    content: LambdaContent
    # Generated first-party files (the handler re-export), added after `exclude`.
    generated: Digest
    bytecode: BytecodeMode
    exclude: tuple[str, ...]
    # Files that `exclude` must not drop (the handler's module): path -> why.
    protected: tuple[tuple[str, str], ...]
    provided: Provided
    output_path: str
    layout: Layout = Layout.ZIP
    # The target's `slim` field; unset means `[aws-lambda].slim`.
    slim: bool | None = None


@dataclass(frozen=True)
class LambdaArtifact:
    output: ArtifactOutput
    distributions: tuple[Distribution, ...]
    first_party_files: frozenset[str]
    bytecode_modules: int
    excluded_files: int
    excluded_bytes: int
    # What a layer already provides and so was left out: (layer, distribution).
    omitted_distributions: tuple[tuple[str, str], ...]
    omitted_first_party: int
    # Top-level entry -> label naming the distribution it belongs to.
    owners: tuple[tuple[str, str], ...]
    # What slim mode saved and kept, when it ran.
    slim: SlimReport | None = None
    # Without slim mode: the bytes its removals alone would save (stripping saves more).
    slim_removable_bytes: int = 0


def _list_compile_failures(prefix: str, failed: tuple[CompileFailure, ...]) -> str:
    """One line per file, with its path in the artifact."""
    lines = [
        f"  - {prefix + '/' if prefix else ''}{f.path}"
        f"{', line ' + str(f.line) if f.line is not None else ''}: {f.message}"
        for f in failed[:10]
    ]
    if len(failed) > 10:
        lines.append(f"  - ... and {len(failed) - 10} more")
    return "\n".join(lines)


def _check_compiled(request: LambdaArtifactRequest, first_party: Bytecode) -> None:
    if not first_party.failed:
        return
    version = ".".join(map(str, request.platform.python_version))
    raise LambdaPackagingError(
        f"First-party sources of {request.address} do not compile with Python {version}, the "
        f"Python of {request.platform.description}, so Lambda could not import them:\n"
        f"{_list_compile_failures(request.kind.prefix, first_party.failed)}\n"
        f"Fix the code, or keep to the syntax that Python {version} supports (a newer "
        "`runtime` supports newer syntax). No artifact was written."
    )


def _bytecode_request(request: LambdaArtifactRequest, digest: Digest, third_party: bool) -> BytecodeRequest:
    what = "third-party distributions" if third_party else "first-party sources"
    return BytecodeRequest(
        request.address,
        digest,
        request.platform.python_version,
        request.bytecode,
        request.kind.runtime_root,
        f"{what} of the {request.kind.value}",
        # One warning per artifact is enough: the first-party request gives it.
        warn_if_no_interpreter=not third_party,
    )


async def _slimmed(request: LambdaArtifactRequest, chosen: Selection, aws_lambda: AwsLambdaSubsystem):
    """The chosen selection with slim mode applied when the target asks for it, and its report."""
    if not aws_lambda.slim_for(request.slim) or not chosen.third_party:
        return chosen, None
    by_path = {f.path: f for f in request.content.third_party.files}
    slimmed = await Get(
        SlimTree,
        SlimRequest(request.address, request.platform, tuple(by_path[e.path] for e in chosen.third_party)),
    )
    return dataclasses.replace(chosen, third_party=slimmed.files), slimmed.report


@rule
async def build_lambda_artifact(
    request: LambdaArtifactRequest, aws_lambda: AwsLambdaSubsystem
) -> LambdaArtifact:
    chosen = selection.select(
        request.address, request.content, request.exclude, request.protected, request.provided
    )
    chosen, slim_report = await _slimmed(request, chosen, aws_lambda)
    third_party_digest, first_party_sources = await MultiGet(
        Get(Digest, CreateDigest(chosen.third_party)),
        Get(Digest, CreateDigest(chosen.first_party)),
    )
    first_party_digest = await Get(Digest, MergeDigests([first_party_sources, request.generated]))
    # Compiled apart, so that a first-party edit reuses the third-party bytecode from the cache.
    third_party_bytecode, first_party_bytecode = await MultiGet(
        Get(Bytecode, BytecodeRequest, _bytecode_request(request, third_party_digest, True)),
        Get(Bytecode, BytecodeRequest, _bytecode_request(request, first_party_digest, False)),
    )
    _check_compiled(request, first_party_bytecode)
    third_party_tree, first_party_tree = third_party_bytecode.digest, first_party_bytecode.digest
    prefix = request.kind.prefix
    if prefix:
        third_party_tree, first_party_tree = await MultiGet(
            Get(Digest, AddPrefix(third_party_tree, prefix)),
            Get(Digest, AddPrefix(first_party_tree, prefix)),
        )
    if request.layout is Layout.FLAT:
        tree = await Get(Digest, MergeDigests([third_party_tree, first_party_tree]))
        written = await Get(ArtifactOutput, FlatTreeRequest(tree, request.output_path, prefix))
    else:
        # Third-party files are compressed in their own cached process, so that a first-party
        # edit only compresses the first-party files again.
        part = None
        if chosen.third_party:
            part = await Get(ThirdPartyZipPart, ThirdPartyZipPartRequest(request.address, third_party_tree))
        written = await Get(
            ArtifactOutput,
            ZipRequest(request.address, first_party_tree, request.output_path, prefix, part),
        )
    return _artifact(
        request, chosen, written, third_party_bytecode.compiled + first_party_bytecode.compiled, slim_report
    )


def _artifact(
    request: LambdaArtifactRequest,
    chosen: Selection,
    written: ArtifactOutput,
    compiled: int,
    slim_report: SlimReport | None,
) -> LambdaArtifact:
    return LambdaArtifact(
        output=written,
        distributions=chosen.distributions,
        first_party_files=frozenset(e.path for e in chosen.first_party),
        bytecode_modules=compiled,
        excluded_files=chosen.excluded_files,
        excluded_bytes=chosen.excluded_bytes,
        omitted_distributions=chosen.omitted_distributions,
        omitted_first_party=chosen.omitted_first_party,
        owners=selection.owners(request.content, chosen),
        slim=slim_report,
        slim_removable_bytes=(
            0
            if slim_report is not None
            else slimming.removable_bytes((e.path, selection.size(e)) for e in chosen.third_party)
        ),
    )


def rules():
    return (
        *collect_rules(),
        *content.rules(),
        *output.rules(),
        *bytecode.rules(),
        *platform_rules.rules(),
        *slim.rules(),
    )
