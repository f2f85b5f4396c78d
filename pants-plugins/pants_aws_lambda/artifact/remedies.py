"""The ways out of Lambda's 250 MiB unzipped limit, with what each would save for this artifact.

`remedy_rows(facts)` returns the rows of the size error, best first: those that bring the function
(with its layers) within the limit, in order of what they cost the function, then the others by
bytes saved, and last a container image, which lifts the limit instead. Each row names the exact
field value to set. A kind of remedy is a function from `RemedyFacts` to rows, listed in
`REMEDY_KINDS`: a new kind is one more function there.

`check_unzipped_size` measures a built artifact against its limit (`limits.py`) and raises the
size error, with its breakdown and these rows, when it is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from pants.engine.addresses import Address

from pants_aws_lambda.artifact.limits import (
    LayerArtifact,
    UnzippedSize,
    first_party_label,
    size_breakdown,
    unzipped_size,
)
from pants_aws_lambda.artifact.sizes import NamedSize, format_bytes, format_exact
from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.facts.quotas import (
    CONTAINER_IMAGE_BYTES,
    DIRECT_UPLOAD_ZIPPED_BYTES,
    UNZIPPED_BYTES,
)

if TYPE_CHECKING:
    from pants_aws_lambda.artifact.artifact import LambdaArtifact

# How much a remedy costs the function, lowest first, among the rows that fit.
COST_BYTECODE_ONLY = 10  # tracebacks without source lines
COST_EXCLUDE_TESTS = 20  # nothing imports test suites at run time
COST_SLIM = 25  # a proof with the runtime's CPython at package time
COST_BYTECODE_NONE = 30  # every cold start compiles what it imports
COST_EXCLUDE_DIRECTORY = 40  # only if the function never reads it
COST_EXCLUDE_DISTRIBUTION = 50  # only if the function never imports it
COST_CONTAINER = 90  # another way to deploy


@dataclass(frozen=True)
class Distribution:
    """A third-party distribution of the function: its label and its top-level entries' bytes."""

    label: str  # `scipy==1.18.1`
    entries: tuple[NamedSize, ...]  # `scipy`, `scipy.libs`, `scipy-1.18.1.dist-info`

    @property
    def bytes(self) -> int:
        return sum(entry.bytes for entry in self.entries)

    @property
    def globs(self) -> tuple[str, ...]:
        """`exclude` globs for its entries: a directory's files, or a top-level module file."""
        return tuple(
            entry.name if _is_file(entry.name) else f"{entry.name}/**" for entry in self.entries
        )


def _is_file(top: str) -> bool:
    return top.endswith((".py", ".pyc", ".so", ".pth", ".pyi")) or ".so." in top


@dataclass(frozen=True)
class RemedyFacts:
    """What the size error knows of the function it refuses."""

    # Unzipped bytes: the function's own artifact, and with its layers.
    function_bytes: int
    total_bytes: int
    limit: int
    # The `bytecode` field's value (`auto`, `compiled`, `only`, `none`).
    bytecode: str
    # The function's unzipped bytes with each `bytecode` value (empty when not measured).
    by_bytecode: tuple[NamedSize, ...]
    # Third-party top-level entry -> bytes of its `tests` directories.
    tests_bytes: tuple[NamedSize, ...]
    # The function's distributions, largest first.
    distributions: tuple[Distribution, ...]
    has_layers: bool = False
    # First-party directories -> bytes of the files directly in them, largest first.
    first_party_dirs: tuple[NamedSize, ...] = ()
    # What slim mode's removals alone would save (0 when the artifact is already slim).
    slim_bytes: int = 0


@dataclass(frozen=True)
class Remedy:
    # The exact field value to set, e.g. `bytecode="only"`.
    field: str
    # Unzipped bytes this saves here; None for a remedy that lifts the limit instead.
    saves: int | None
    # What it costs the function, in a few words.
    tradeoff: str
    cost: int

    def fits(self, facts: RemedyFacts) -> bool:
        return self.saves is None or facts.total_bytes - self.saves <= facts.limit


def _bytecode(facts: RemedyFacts) -> Iterable[Remedy]:
    sizes = dict(facts.by_bytecode)
    # `auto` that is still over the limit stayed `compiled`.
    current = sizes.get("compiled" if facts.bytecode == "auto" else facts.bytecode)
    if current is None:
        return
    tradeoffs = {
        "only": ("sourceless bytecode: tracebacks show no source lines", COST_BYTECODE_ONLY),
        "none": ("sources only: each cold start compiles what it imports", COST_BYTECODE_NONE),
    }
    for mode, (tradeoff, cost) in tradeoffs.items():
        size = sizes.get(mode)
        if mode != facts.bytecode and size is not None and size < current:
            yield Remedy(f'bytecode="{mode}"', current - size, tradeoff, cost)


def _exclude_tests(facts: RemedyFacts) -> Iterable[Remedy]:
    largest = [(top, size) for top, size in facts.tests_bytes if size >= 2**20][:5]
    if largest:
        globs = ", ".join(f'"{top}/**/tests/**"' for top, _ in largest)
        yield Remedy(
            f"exclude=[{globs}]",
            sum(size for _, size in largest),
            "the test suites the distributions ship; nothing imports them at run time",
            COST_EXCLUDE_TESTS,
        )


def _slim(facts: RemedyFacts) -> Iterable[Remedy]:
    if facts.slim_bytes >= 2**20:
        yield Remedy(
            "slim=True",
            facts.slim_bytes,
            "leaves out test suites, type stubs, C and Cython sources and strips shared objects "
            "(which saves more than this), proven by importing everything with the runtime's "
            "CPython",
            COST_SLIM,
        )


def _exclude_distribution(facts: RemedyFacts) -> Iterable[Remedy]:
    if facts.distributions:
        dist = facts.distributions[0]
        globs = ", ".join(f'"{g}"' for g in dist.globs)
        yield Remedy(
            f"exclude=[{globs}]",
            dist.bytes,
            f"leaves out {dist.label}: only if nothing the function runs imports it "
            "(better: drop the requirement)",
            COST_EXCLUDE_DISTRIBUTION,
        )


def _exclude_first_party_directory(facts: RemedyFacts) -> Iterable[Remedy]:
    for directory, size in facts.first_party_dirs[:1]:
        if size >= 2**20:
            yield Remedy(
                f'exclude=["{directory}/*"]',
                size,
                f"leaves out the files of {directory}/: only if the function never reads them",
                COST_EXCLUDE_DIRECTORY,
            )


def _container(facts: RemedyFacts) -> Iterable[Remedy]:
    yield Remedy(
        'layout="flat" with a `docker_image` that copies it',
        None,
        f"a container image, up to {CONTAINER_IMAGE_BYTES.stated} (docs/docker.md)",
        COST_CONTAINER,
    )


# Each kind of remedy: add a function here for a new one.
REMEDY_KINDS: list[Callable[[RemedyFacts], Iterable[Remedy]]] = [
    _bytecode,
    _exclude_tests,
    _slim,
    _exclude_first_party_directory,
    _exclude_distribution,
    _container,
]


def remedy_rows(
    facts: RemedyFacts, kinds: Sequence[Callable[[RemedyFacts], Iterable[Remedy]]] = ()
) -> list[Remedy]:
    """Every remedy for `facts`, best first: the ones that fit by cost, then the others by bytes
    saved."""
    rows = [row for kind in (kinds or REMEDY_KINDS) for row in kind(facts)]
    return sorted(
        rows, key=lambda r: (0, r.cost, 0) if r.fits(facts) else (1, -(r.saves or 0), r.cost)
    )


def format_rows(facts: RemedyFacts, format_bytes: Callable[[int], str]) -> str:
    """The rows as the size error lists them."""
    rows = remedy_rows(facts)
    lines = []
    for i, row in enumerate(rows, 1):
        if row.saves is None:
            effect = "lifts the limit"
        else:
            after = facts.total_bytes - row.saves
            verdict = "fits" if row.fits(facts) else "still over"
            effect = f"saves {format_bytes(row.saves)} here ({format_bytes(after)}, {verdict})"
        lines.append(f"  {i}. {row.field}: {effect}; {row.tradeoff}")
    if any(not row.fits(facts) for row in rows):
        lines.append("  Remedies still over the limit can be combined.")
    layer = (
        "A layer does not help with this limit: Lambda counts the function and its layers together "
        f"(a layer only helps the {DIRECT_UPLOAD_ZIPPED_BYTES.stated} zipped upload limit, "
        "being uploaded apart)."
    )
    return "\n".join(lines + [layer])


def remedy_facts(artifact: LambdaArtifact, total: int, has_layers: bool) -> RemedyFacts:
    """What the remedies need to know of a function (or layer) over the limit."""
    by_label: dict[str, list[NamedSize]] = {}
    owners = {owner.entry: owner.distribution for owner in artifact.owners}
    for entry in artifact.output.top_level:
        if entry.name in owners:
            by_label.setdefault(owners[entry.name], []).append(entry)
    distributions = sorted(
        (Distribution(label, tuple(entries)) for label, entries in by_label.items()),
        key=lambda d: (-d.bytes, d.label),
    )
    facts = artifact.size_facts
    return RemedyFacts(
        function_bytes=artifact.output.unzipped_bytes,
        total_bytes=total,
        limit=UNZIPPED_BYTES.value,
        bytecode=facts.bytecode,
        by_bytecode=facts.by_bytecode,
        tests_bytes=facts.tests_bytes,
        distributions=tuple(distributions),
        has_layers=has_layers,
        first_party_dirs=facts.first_party_dirs,
        slim_bytes=artifact.slim_removable_bytes,
    )


def _largest_parts(artifact: LambdaArtifact, layers: Sequence[LayerArtifact]) -> str:
    """The size breakdown of a function and its layers, one line per part."""
    sizes: dict[str, int] = {}
    owners: dict[str, str] = {}
    parts = [("", artifact)] + [(f" in layer {layer.address}", layer.artifact) for layer in layers]
    for where, built in parts:
        built_owners = {owner.entry: owner.distribution for owner in built.owners}
        for top, size in built.output.top_level:
            key = f"{top}{where}"
            sizes[key] = size
            if top in built_owners:
                owners[key] = f"{built_owners[top]}{where}"
            else:
                owners[key] = first_party_label(top, where)
    return "\n".join(
        f"  - {part.label}: {format_bytes(part.bytes)}" for part in size_breakdown(sizes, owners)
    )


def size_error(
    address: Address,
    artifact: LambdaArtifact,
    layers: Sequence[LayerArtifact],
    size: UnzippedSize,
) -> LambdaPackagingError:
    """The error for an artifact over its unzipped limit: its largest parts, and the ways out."""
    with_layers = (
        f" together with its layers {', '.join(str(layer.address) for layer in layers)}"
        if layers
        else ""
    )
    if size.limit is UNZIPPED_BYTES:
        ways_out = (
            "Ways out, with what each saves here (best first; set the field on the target):\n"
            + format_rows(remedy_facts(artifact, size.total, bool(layers)), format_bytes)
        )
    else:
        ways_out = "Cut what the image does not need: drop requirements, or use `exclude`."
    return LambdaPackagingError(
        f"{address} is {format_exact(size.total)} unzipped{with_layers}, over Lambda's limit of "
        f"{size.limit.what} ({size.limit.value:,} bytes). The largest "
        f"parts:\n{_largest_parts(artifact, layers)}\n{ways_out}\nNo artifact was written."
    )


def check_unzipped_size(
    address: Address, artifact: LambdaArtifact, layers: Sequence[LayerArtifact] = ()
) -> int:
    """The unzipped size of a function with its layers (or of a layer); the size error over the
    limit."""
    size = unzipped_size(artifact, layers)
    if size.over:
        raise size_error(address, artifact, layers, size)
    return size.total
