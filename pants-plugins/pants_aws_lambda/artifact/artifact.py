"""A Lambda artifact (function or layer) from its content.

`LambdaArtifactRequest` -> `LambdaArtifact`: the selection (`selection.py`) drops what layers
provide and what `exclude` matches; bytecode is compiled for the runtime, third-party and
first-party apart (`bytecode.py`); everything goes under the artifact's import root (`python/`
for layers); and the tree is written as a reproducible zip, or with the `flat` layout as a directory
(`output.py`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from pants.engine.addresses import Address
from pants.engine.fs import AddPrefix, CreateDigest, Digest, DigestEntries, FileEntry, MergeDigests
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule

from pants_aws_lambda.artifact import (
    bytecode,
    bytecode_policy,
    content,
    output,
    selection,
    slim,
    slimming,
)
from pants_aws_lambda.artifact.bytecode import Bytecode, BytecodeRequest, CompileFailure
from pants_aws_lambda.artifact.bytecode_policy import AutoChoice, AutoPlan
from pants_aws_lambda.artifact.content import LambdaContent
from pants_aws_lambda.artifact.output import (
    ArtifactOutput,
    FlatTreeRequest,
    ThirdPartyZipPart,
    ThirdPartyZipPartRequest,
    ZipRequest,
)
from pants_aws_lambda.artifact.selection import (
    OmittedDistribution,
    ProtectedFile,
    Provided,
    Selection,
    TopLevelOwner,
)
from pants_aws_lambda.artifact.sizes import NamedSize
from pants_aws_lambda.artifact.slim import SlimReport, SlimRequest, SlimTree
from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.facts.paths import LAYER_PYTHON_DIR, LAYERS_ROOT, TASK_ROOT
from pants_aws_lambda.facts.quotas import UNZIPPED_BYTES
from pants_aws_lambda.requirements.wheels import Distribution
from pants_aws_lambda.runtimes import platform_rules
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform
from pants_aws_lambda.subsystem import AwsLambdaSubsystem
from pants_aws_lambda.target_types import BytecodeMode, Layout


class ArtifactKind(Enum):
    """A function's code is unpacked to `/var/task`; a layer's `python/` directory is
    `/opt/python`."""

    FUNCTION = "function"
    LAYER = "layer"

    @property
    def import_root(self) -> str:
        """The directory inside the artifact that Lambda puts on `sys.path`."""
        return "" if self is ArtifactKind.FUNCTION else LAYER_PYTHON_DIR

    @property
    def runtime_root(self) -> str:
        """Where that directory is on Lambda."""
        return TASK_ROOT if self is ArtifactKind.FUNCTION else f"{LAYERS_ROOT}/{self.import_root}"


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
    # Files that `exclude` must not drop (the handler's module).
    protected: tuple[ProtectedFile, ...]
    provided: Provided
    output_path: str
    layout: Layout = Layout.ZIP
    # Unzipped bytes of the layers the artifact deploys with: they count toward the same limit.
    layers_unzipped_bytes: int = 0
    # The target's `slim` field; unset means `[aws-lambda].slim`.
    slim: bool | None = None


@dataclass(frozen=True)
class SizeFacts:
    """What the artifact's bytes are made of, for the remedies of the size error (`remedies.py`)."""

    # The `bytecode` field's value, and the unzipped bytes of the whole artifact with each explicit
    # value (measured when it was over its limit; empty otherwise).
    bytecode: str = BytecodeMode.AUTO.value
    by_bytecode: tuple[NamedSize, ...] = ()
    # Third-party top-level entry -> unzipped bytes of the `tests` directories below it.
    tests_bytes: tuple[NamedSize, ...] = ()
    # First-party directories -> unzipped bytes of the files directly in them, largest first.
    first_party_dirs: tuple[NamedSize, ...] = ()


@dataclass(frozen=True)
class LambdaArtifact:
    output: ArtifactOutput
    distributions: tuple[Distribution, ...]
    first_party_files: frozenset[str]
    bytecode_modules: int
    excluded_files: int
    excluded_bytes: int
    # What a layer already provides and so was left out.
    omitted_distributions: tuple[OmittedDistribution, ...]
    omitted_first_party: int
    # The distribution each third-party top-level entry belongs to.
    owners: tuple[TopLevelOwner, ...]
    # What `bytecode="auto"` chose, when it measured alternatives (None: it did not need to).
    auto_choice: AutoChoice | None = None
    size_facts: SizeFacts = SizeFacts()
    # What slim mode saved and kept, when it ran.
    slim: SlimReport | None = None
    # Without slim mode: the bytes its removals alone would save (stripping saves more).
    slim_removable_bytes: int = 0


def _list_compile_failures(import_root: str, failed: tuple[CompileFailure, ...]) -> str:
    """One line per file, with its path in the artifact."""
    lines = [
        f"  - {import_root + '/' if import_root else ''}{f.path}"
        f"{', line ' + str(f.line) if f.line is not None else ''}: {f.message}"
        for f in failed[:10]
    ]
    if len(failed) > 10:
        lines.append(f"  - ... and {len(failed) - 10} more")
    return "\n".join(lines)


def _check_compiled(request: LambdaArtifactRequest, first_party: Bytecode) -> None:
    if not first_party.failed:
        return
    version = str(request.platform.python_version)
    raise LambdaPackagingError(
        f"First-party sources of {request.address} do not compile with Python {version}, the "
        f"Python of {request.platform.description}, so Lambda could not import them:\n"
        f"{_list_compile_failures(request.kind.import_root, first_party.failed)}\n"
        f"Fix the code, or keep to the syntax that Python {version} supports (a newer "
        "`runtime` supports newer syntax). No artifact was written."
    )


def _first_mode(request: LambdaArtifactRequest) -> BytecodeMode:
    """`auto` starts from `compiled`: the same request, so the same bytes and cache entries."""
    return BytecodeMode.COMPILED if request.bytecode is BytecodeMode.AUTO else request.bytecode


def _bytecode_request(
    request: LambdaArtifactRequest,
    digest: Digest,
    third_party: bool,
    mode: BytecodeMode | None = None,
) -> BytecodeRequest:
    what = "third-party distributions" if third_party else "first-party sources"
    # An alternative measured for the size error or `auto` does not warn again.
    measuring = mode is not None
    if mode is None:
        mode = _first_mode(request)
    return BytecodeRequest(
        request.address,
        digest,
        request.platform.python_version,
        mode,
        request.kind.runtime_root,
        f"{what} of the {request.kind.value}",
        # One warning per artifact is enough: its first-party request gives it.
        warn_if_no_interpreter=not third_party and not measuring,
    )


async def _slimmed(
    request: LambdaArtifactRequest, chosen: Selection, aws_lambda: AwsLambdaSubsystem
) -> tuple[Selection, SlimReport | None]:
    """The chosen selection with slim mode applied when the target asks for it, and its report."""
    if not aws_lambda.slim_for(request.slim) or not chosen.third_party:
        return chosen, None
    by_path = {f.path: f for f in request.content.third_party.files}
    slimmed = await Get(
        SlimTree,
        SlimRequest(
            request.address, request.platform, tuple(by_path[e.path] for e in chosen.third_party)
        ),
    )
    return dataclasses.replace(chosen, third_party=slimmed.files), slimmed.report


def _tree_bytes(entries: DigestEntries) -> int:
    return sum(size for _, size in _file_sizes(entries))


def bytes_in_tests(sizes: Iterable[tuple[str, int]]) -> tuple[NamedSize, ...]:
    """Top-level entry -> bytes of the files under a `tests` directory below it."""
    totals: dict[str, int] = {}
    for path, size in sizes:
        parts = path.split("/")
        if "tests" in parts[1:-1]:
            totals[parts[0]] = totals.get(parts[0], 0) + size
    return _largest_first(totals)


def directory_bytes(sizes: Iterable[tuple[str, int]], *, limit: int = 3) -> tuple[NamedSize, ...]:
    """The directories holding the most bytes in files directly in them (not the root)."""
    totals: dict[str, int] = {}
    for path, size in sizes:
        parent = path.rpartition("/")[0]
        if parent:
            totals[parent] = totals.get(parent, 0) + size
    return _largest_first(totals)[:limit]


def _largest_first(totals: dict[str, int]) -> tuple[NamedSize, ...]:
    return tuple(NamedSize(*kv) for kv in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def _file_sizes(entries: DigestEntries) -> list[tuple[str, int]]:
    return [
        (e.path, e.file_digest.serialized_bytes_length) for e in entries if isinstance(e, FileEntry)
    ]


@dataclass(frozen=True)
class _Fitted:
    third_party: Bytecode
    choice: AutoChoice | None
    facts: SizeFacts


async def _fit_within_limit(
    request: LambdaArtifactRequest,
    third_party_sources: Digest,
    first_party_sources: Digest,
    third_party: Bytecode,
    first_party: Bytecode,
) -> _Fitted:
    """Apply `bytecode="auto"` (see `bytecode_policy.py`), and measure the artifact with each
    `bytecode` value when it is over its limit, for the remedies of the size error.

    Nothing is measured for a `flat` artifact (a container image has the larger
    `CONTAINER_IMAGE_BYTES`), nor for one that fits: those are built exactly as `compiled` (or
    their explicit mode) builds them.
    """
    unchanged = _Fitted(third_party, None, SizeFacts())
    if request.layout is Layout.FLAT:
        return unchanged
    third_entries, first_entries = await MultiGet(
        Get(DigestEntries, Digest, third_party.digest),
        Get(DigestEntries, Digest, first_party.digest),
    )
    first_bytes = _tree_bytes(first_entries)
    size = _tree_bytes(third_entries) + first_bytes
    budget = UNZIPPED_BYTES.value - request.layers_unzipped_bytes
    if size <= budget:
        return unchanged
    # Over: measure the alternatives (one more compile, of the third-party part, sourceless).
    source_entries, sourceless, first_sourceless = await MultiGet(
        Get(DigestEntries, Digest, third_party_sources),
        Get(
            Bytecode,
            BytecodeRequest,
            _bytecode_request(request, third_party_sources, True, BytecodeMode.ONLY),
        ),
        Get(
            Bytecode,
            BytecodeRequest,
            _bytecode_request(request, first_party_sources, False, BytecodeMode.ONLY),
        ),
    )
    sourceless_entries, first_sourceless_entries, first_source_entries = await MultiGet(
        Get(DigestEntries, Digest, sourceless.digest),
        Get(DigestEntries, Digest, first_sourceless.digest),
        Get(DigestEntries, Digest, first_party_sources),
    )
    sources_bytes, sourceless_bytes = _tree_bytes(source_entries), _tree_bytes(sourceless_entries)
    by_bytecode = {
        BytecodeMode.ONLY.value: sourceless_bytes + _tree_bytes(first_sourceless_entries),
        BytecodeMode.NONE.value: sources_bytes + _tree_bytes(first_source_entries),
        # As built now (`auto` is `compiled` here).
        _first_mode(request).value: size,
    }
    facts = SizeFacts(
        request.bytecode.value,
        tuple(NamedSize(*kv) for kv in sorted(by_bytecode.items())),
        bytes_in_tests(_file_sizes(third_entries)),
        directory_bytes(_file_sizes(first_entries)),
    )
    if request.bytecode is not BytecodeMode.AUTO:
        return _Fitted(third_party, None, facts)
    choice = bytecode_policy.choose(
        budget,
        {
            AutoPlan.COMPILED: size,
            AutoPlan.THIRD_PARTY_SOURCELESS: sourceless_bytes + first_bytes,
            AutoPlan.THIRD_PARTY_SOURCES: sources_bytes + first_bytes,
        },
    )
    if choice.plan is AutoPlan.THIRD_PARTY_SOURCELESS:
        return _Fitted(sourceless, choice, facts)
    if choice.plan is AutoPlan.THIRD_PARTY_SOURCES:
        return _Fitted(Bytecode(third_party_sources, 0), choice, facts)
    return _Fitted(third_party, choice, facts)


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
    fitted = await _fit_within_limit(
        request, third_party_digest, first_party_digest, third_party_bytecode, first_party_bytecode
    )
    third_party_bytecode = fitted.third_party
    third_party_tree, first_party_tree = third_party_bytecode.digest, first_party_bytecode.digest
    import_root = request.kind.import_root
    if import_root:
        third_party_tree, first_party_tree = await MultiGet(
            Get(Digest, AddPrefix(third_party_tree, import_root)),
            Get(Digest, AddPrefix(first_party_tree, import_root)),
        )
    if request.layout is Layout.FLAT:
        tree = await Get(Digest, MergeDigests([third_party_tree, first_party_tree]))
        written = await Get(ArtifactOutput, FlatTreeRequest(tree, request.output_path, import_root))
    else:
        # Third-party files are compressed in their own cached process, so that a first-party
        # edit only compresses the first-party files again.
        part = None
        if chosen.third_party:
            part = await Get(
                ThirdPartyZipPart, ThirdPartyZipPartRequest(request.address, third_party_tree)
            )
        written = await Get(
            ArtifactOutput,
            ZipRequest(request.address, first_party_tree, request.output_path, import_root, part),
        )
    return _artifact(
        request,
        chosen,
        written,
        third_party_bytecode.compiled + first_party_bytecode.compiled,
        fitted.choice,
        fitted.facts,
        slim_report,
    )


def _artifact(
    request: LambdaArtifactRequest,
    chosen: Selection,
    written: ArtifactOutput,
    compiled: int,
    choice: AutoChoice | None,
    facts: SizeFacts,
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
        auto_choice=choice,
        size_facts=facts,
        slim=slim_report,
        slim_removable_bytes=(
            0
            if slim_report is not None
            else slimming.removable_bytes((e.path, selection.size(e)) for e in chosen.third_party)
        ),
    )


def rules() -> Iterable[Rule]:
    return (
        *collect_rules(),
        *content.rules(),
        *output.rules(),
        *bytecode.rules(),
        *platform_rules.rules(),
        *slim.rules(),
    )
