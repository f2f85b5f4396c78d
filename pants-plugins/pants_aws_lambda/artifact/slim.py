"""Slim mode: third-party files no import reaches are left out, shared objects are stripped, and
the result is proven to work by the runtime's CPython before it is shipped.

`SlimRequest` -> `SlimTree`: the plan (`slimming.py`) says which files go, by kind; `llvm-strip`
strips the shared objects in a sandbox; then the runtime's CPython for the artifact's CPU (native,
or under QEMU as `pants run` uses it) imports every extension module and top-level package of the
slimmed tree and looks up every distribution with `importlib.metadata` (`slimcheck.py`). What a
failed check points at is taken back (first the one shared object unstripped, then its whole
distribution as it was), and the proof runs again, until it passes. Checks that fail without slim
too cannot prove anything: their distributions are kept as they were.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pkgutil
from dataclasses import dataclass
from typing import Iterable, Mapping, NamedTuple

from pants.core.util_rules.system_binaries import (
    BashBinary,
    BinaryPathRequest,
    BinaryPaths,
    BinaryPathTest,
)
from pants.engine.addresses import Address
from pants.engine.fs import (
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    DigestEntries,
    FileContent,
    FileEntry,
    MergeDigests,
)
from pants.engine.process import FallibleProcessResult, Process, ProcessResult
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import slimcheck, slimming
from pants_aws_lambda.artifact.bytecode import Bytecode, BytecodeRequest
from pants_aws_lambda.artifact.slimming import CheckFailure, CheckKind, Saving, SlimKind
from pants_aws_lambda.caching import REMOTE_CACHE_SPECULATION_DELAY_MS
from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.facts.paths import TASK_ROOT
from pants_aws_lambda.invoke import interpreters
from pants_aws_lambda.invoke.interpreters import RuntimeCommand, RuntimeCommandRequest
from pants_aws_lambda.pants_compat import SystemBinarySearchPath
from pants_aws_lambda.requirements.tree import ThirdPartyFile
from pants_aws_lambda.requirements.wheels import Distribution
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform
from pants_aws_lambda.target_types import BytecodeMode

logger = logging.getLogger(__name__)

STRIP_TOOL = "llvm-strip"
STRIP_INSTALL = (
    "LLVM's `llvm-strip`, which strips x86_64 and arm64 shared objects on any machine "
    "(Debian/Ubuntu: `apt-get install llvm`; macOS: `brew install llvm` and put its `bin` on "
    "`/usr/local/bin` or `/opt/homebrew/bin`)"
)
# Proofs of a slimmed tree: failures take back single shared objects while that finds new ones,
# then whole distributions; a tree still failing after this many proofs ships nothing of slim.
_MAX_ROUNDS = 6
_SCRIPT = "__lambda_slimcheck.py"
_TREE = "tree"
_ONLY = "__lambda_slimcheck_only.json"
# Where the field and the option are named in messages.
SLIM_SETTING = "the `slim` field (or `[aws-lambda].slim`)"


@dataclass(frozen=True)
class SlimRequest:
    address: Address
    platform: LambdaPlatform
    # The third-party files chosen for the artifact, with the wheel of each.
    files: tuple[ThirdPartyFile, ...]


class KeptAsItWas(NamedTuple):
    """A file kept unstripped, or a distribution kept whole, by slim mode."""

    # A path in the tree, a distribution's wheel, or a check (`import numpy`).
    item: str
    # Why, as the warning and the package log say it: `kept unstripped: ...`.
    why: str


@dataclass(frozen=True)
class SlimReport:
    saved: tuple[Saving, ...]
    kept: tuple[KeptAsItWas, ...]
    # What the proof imported, and with what.
    proof: str

    @property
    def saved_bytes(self) -> int:
        return sum(s.bytes for s in self.saved)


@dataclass(frozen=True)
class SlimTree:
    files: tuple[FileEntry, ...]
    report: SlimReport


@dataclass(frozen=True)
class _Stripped:
    # path -> the stripped file, for those that got smaller.
    entries: tuple[tuple[str, FileEntry], ...]
    # Files kept unstripped because stripping misaligned their loadable segments.
    misaligned: tuple[str, ...] = ()


@dataclass(frozen=True)
class _StripRequest:
    address: Address
    entries: tuple[FileEntry, ...]


@rule(desc="Stripping shared objects for slim mode", level=LogLevel.DEBUG)
async def strip_slim_shared_objects(
    request: _StripRequest, bash: BashBinary, system: SystemBinarySearchPath
) -> _Stripped:
    paths = await Get(
        BinaryPaths,
        BinaryPathRequest(
            binary_name=STRIP_TOOL,
            search_path=system.paths,
            # Its version fingerprints the results: another strip re-runs the step.
            test=BinaryPathTest(["--version"]),
        ),
    )
    if paths.first_path is None:
        raise LambdaPackagingError(
            softwrap(
                f"""
                {request.address} sets {SLIM_SETTING}, which strips debug symbols from
                shared objects with `{STRIP_TOOL}`, and it is not installed in
                {', '.join(system.paths)}. Install {STRIP_INSTALL}, or set `slim=False` on the
                target. No artifact was written.
                """
            )
        )
    digest = await Get(Digest, CreateDigest(request.entries))
    # One file at a time, so that a file the tool cannot read (not ELF after all) stays as it was.
    script = (
        'strip="$1"; shift; '
        'for f in "$@"; do "$strip" --strip-unneeded "$f" 2>/dev/null || true; done'
    )
    paths_in = tuple(e.path for e in request.entries)
    result = await Get(
        ProcessResult,
        Process(
            argv=(bash.path, "-c", script, "strip", paths.first_path.path, *paths_in),
            input_digest=digest,
            output_files=paths_in,
            description=f"Stripping {len(paths_in)} shared objects of {request.address}",
            level=LogLevel.DEBUG,
            remote_cache_speculation_delay_millis=REMOTE_CACHE_SPECULATION_DELAY_MS,
        ),
    )
    entries, contents = await MultiGet(
        Get(DigestEntries, Digest, result.output_digest),
        Get(DigestContents, Digest, result.output_digest),
    )
    before = {e.path: e for e in request.entries}
    # A stripped file whose loadable segments the loader would refuse is not used.
    misaligned = {c.path for c in contents if not slimming.load_segments_aligned(c.content)}
    smaller = tuple(
        (e.path, e)
        for e in entries
        if isinstance(e, FileEntry)
        and _size(e) < _size(before[e.path])
        and e.path not in misaligned
    )
    return _Stripped(tuple(sorted(smaller)), tuple(sorted(misaligned)))


class CheckKey(NamedTuple):
    """One check of the proof: its kind (`CheckKind`'s value) and what it imports or loads."""

    kind: str
    name: str


@dataclass(frozen=True)
class _ProofRequest:
    address: Address
    command: tuple[str, ...]
    what: str
    entries: tuple[FileEntry, ...]
    distributions: tuple[str, ...]
    # Only these checks; None for every check of the tree.
    only: tuple[CheckKey, ...] | None = None


@dataclass(frozen=True)
class _Proof:
    failures: tuple[CheckFailure, ...]
    extensions: int
    packages: int
    distributions: int
    # Checks that a crash kept from running.
    unreached: tuple[CheckKey, ...] = ()


def _parse_proof(stdout: bytes, exit_code: int, stderr: bytes) -> _Proof:
    started: dict[tuple, None] = {}
    planned: list[CheckKey] = []
    done: set[CheckKey] = set()
    loading: list[str] = []
    failures = []
    counts = {kind: 0 for kind in CheckKind}
    for line in stdout.decode("utf-8", "replace").splitlines():
        record = json.loads(line)
        if "plan" in record:
            planned = [CheckKey(kind, name) for kind, name, _ in record["plan"]]
        elif "loading" in record:
            loading.append(record["loading"])
        elif "loaded" in record:
            loading.remove(record["loaded"])
        elif "start" in record:
            started[tuple(record["start"])] = None
            done.add(CheckKey(*record["start"][:2]))
            loading = []
        else:
            key = tuple(record["done"])
            started.pop(key, None)
            kind, name, path = key
            counts[CheckKind(kind)] += 1
            if record["error"] is not None:
                failures.append(
                    CheckFailure(
                        CheckKind(kind), name, path, record["error"], tuple(record["files"])
                    )
                )
    crashed = list(started)
    if exit_code != 0 and not crashed:
        raise LambdaPackagingError(
            f"The proof of slim mode failed to run (exit {exit_code}):\n"
            f"{stderr.decode('utf-8', 'replace')[-2000:]}"
        )
    for kind, name, path in crashed:
        counts[CheckKind(kind)] += 1
        message = (
            f"the interpreter crashed (exit {exit_code}) loading {loading[-1] if loading else name}"
        )
        failures.append(CheckFailure(CheckKind(kind), name, path, message, tuple(loading[-1:])))
    return _Proof(
        tuple(failures),
        counts[CheckKind.EXTENSION],
        counts[CheckKind.PACKAGE],
        counts[CheckKind.DISTRIBUTION],
        tuple(key for key in planned if key not in done),
    )


@rule
async def run_slim_proof(request: _ProofRequest) -> _Proof:
    script = pkgutil.get_data(slimcheck.__name__, "slimcheck.py")
    assert script is not None
    script_digest, tree = await MultiGet(
        Get(Digest, CreateDigest([FileContent(_SCRIPT, script)])),
        Get(Digest, CreateDigest(request.entries)),
    )
    tree = await Get(Digest, AddPrefix(tree, _TREE))
    only: tuple[str, ...] = ()
    inputs = [script_digest, tree]
    if request.only is not None:
        only = ("--only", _ONLY)
        inputs.append(
            await Get(
                Digest,
                CreateDigest([FileContent(_ONLY, json.dumps(sorted(request.only)).encode())]),
            )
        )
    input_digest = await Get(Digest, MergeDigests(inputs))
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(*request.command, "-I", "-S", _SCRIPT, _TREE, *only, *request.distributions),
            input_digest=input_digest,
            env={"LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"},
            description=(
                f"Importing {'every' if request.only is None else len(request.only)} extension "
                f"modules and packages of {request.what} of {request.address}"
            ),
            level=LogLevel.DEBUG,
            remote_cache_speculation_delay_millis=REMOTE_CACHE_SPECULATION_DELAY_MS,
        ),
    )
    return _parse_proof(result.stdout, result.exit_code, result.stderr)


def _size(entry: FileEntry) -> int:
    return entry.file_digest.serialized_bytes_length


def _no_interpreter(request: SlimRequest, command: RuntimeCommand) -> LambdaPackagingError:
    return LambdaPackagingError(
        softwrap(
            f"""
            {request.address} sets {SLIM_SETTING}, and slim artifacts are only shipped once
            the runtime's CPython has imported them, for {request.platform.description}; nothing
            here can run it. Install {command.missing}. Or set `slim=False` on the target. No
            artifact was written.
            """
        )
    )


def _tree(
    files: tuple[ThirdPartyFile, ...],
    removed: dict[str, SlimKind],
    stripped: dict[str, FileEntry],
    unstripped: frozenset[str],
    whole: frozenset[str],
) -> tuple[FileEntry, ...]:
    entries = []
    for f in files:
        if f.wheel in whole:
            entries.append(f.entry)
        elif f.path in removed:
            continue
        elif f.path in stripped and f.path not in unstripped:
            entries.append(stripped[f.path])
        else:
            entries.append(f.entry)
    return tuple(entries)


async def _proof_bytecode(request: SlimRequest) -> dict[str, tuple[FileEntry, ...]]:
    """Source path -> its `__pycache__` bytecode, compiled once by this machine's CPython of the
    runtime's version where there is one: an emulated CPython imports it instead of compiling
    thousands of modules itself, many times slower."""
    digest = await Get(Digest, CreateDigest(tuple(f.entry for f in request.files)))
    compiled = await Get(
        Bytecode,
        BytecodeRequest(
            request.address,
            digest,
            request.platform.python_version,
            BytecodeMode.COMPILED,
            TASK_ROOT,
            "third-party distributions, for the proof of slim mode,",
            warn_if_no_interpreter=False,
        ),
    )
    entries = await Get(DigestEntries, Digest, compiled.digest)
    by_source: dict[str, list[FileEntry]] = {}
    for e in entries:
        if isinstance(e, FileEntry) and "/__pycache__/" in f"/{e.path}" and e.path.endswith(".pyc"):
            directory, _, name = e.path.rpartition("__pycache__/")
            by_source.setdefault(f"{directory}{name.split('.', 1)[0]}.py", []).append(e)
    return {source: tuple(pycs) for source, pycs in by_source.items()}


def _with_bytecode(
    tree: tuple[FileEntry, ...], bytecode_by_source: dict[str, tuple[FileEntry, ...]]
) -> tuple[FileEntry, ...]:
    return tree + tuple(pyc for e in tree for pyc in bytecode_by_source.get(e.path, ()))


def _key(failure: CheckFailure) -> CheckKey:
    return CheckKey(failure.kind.value, failure.name)


@dataclass
class _TakenBack:
    """What a failed proof took back so far, and why, for the log."""

    unstripped: frozenset[str] = frozenset()
    whole: frozenset[str] = frozenset()
    why: dict[str, str] = dataclasses.field(default_factory=dict)
    # Checks that fail alike without slim: label -> why.
    inherent: dict[str, str] = dataclasses.field(default_factory=dict)

    def take_back(
        self,
        failures: list[CheckFailure],
        owners: Mapping[str, str],
        stripped: Mapping[str, FileEntry],
        *,
        per_file: bool,
        reason: str,
    ) -> None:
        unstrip, whole = slimming.changes_to_take_back(
            failures, owners, stripped, whole_wheels=not per_file
        )
        for f in failures:
            for item in [p for p in f.files if p in unstrip] or [
                slimming.owner_of(f, owners) or f.name
            ]:
                self.why.setdefault(item, reason.format(what=_label(f), message=f.message))
        self.unstripped |= unstrip
        self.whole |= whole

    def note_inherent(
        self, failures: list[CheckFailure], stripped: Mapping[str, FileEntry]
    ) -> None:
        for f in failures:
            files = [p for p in f.files if p in stripped]
            self.unstripped |= frozenset(files)
            self.inherent.setdefault(
                _label(f),
                f"fails without slim too, so it is not slim's doing ({f.message})"
                + (f"; kept unstripped: {', '.join(files)}" if files else ""),
            )

    def kept(self, owners: dict[str, str]) -> tuple[KeptAsItWas, ...]:
        return tuple(
            sorted(
                [
                    KeptAsItWas(p, f"kept unstripped: {self.why[p]}")
                    for p in self.unstripped
                    if owners[p] not in self.whole
                ]
                + [
                    KeptAsItWas(w, f"kept as it was: {self.why.get(w, 'slim was taken back')}")
                    for w in self.whole
                ]
                + [KeptAsItWas(what, why) for what, why in self.inherent.items()]
            )
        )


@rule(desc="Slimming and proving a Lambda artifact", level=LogLevel.DEBUG)
async def slim_third_party(request: SlimRequest) -> SlimTree:
    the_plan = slimming.plan(f.path for f in request.files)
    if not the_plan.removed and not the_plan.to_strip:
        return SlimTree(
            tuple(f.entry for f in request.files), SlimReport((), (), "nothing to change")
        )
    command = await Get(RuntimeCommand, RuntimeCommandRequest(request.platform))
    if not command.command:
        raise _no_interpreter(request, command)
    by_path = {f.path: f for f in request.files}
    stripped_result = await Get(
        _Stripped,
        _StripRequest(request.address, tuple(by_path[p].entry for p in the_plan.to_strip)),
    )
    removed = dict(the_plan.removed)
    stripped = dict(stripped_result.entries)
    bytecode_by_source = await _proof_bytecode(request)
    owners = {f.path: f.wheel for f in request.files}
    owners.update({f.path.split("/", 1)[0]: f.wheel for f in request.files})
    distributions = tuple(sorted({str(Distribution.from_wheel(f.wheel)) for f in request.files}))

    def proof(
        entries: tuple[FileEntry, ...], what: str, only: tuple[CheckKey, ...] | None
    ) -> Get[_Proof]:
        return Get(
            _Proof,
            _ProofRequest(request.address, command.command, what, entries, distributions, only),
        )

    taken = _TakenBack()
    original = tuple(f.entry for f in request.files)
    # (kind, name) -> the message of the check's failure before slimming (None: it passed).
    before: dict[CheckKey, str | None] = {}
    only: tuple[CheckKey, ...] | None = None
    first: _Proof | None = None
    per_file = True
    for _ in range(_MAX_ROUNDS):
        tree = _tree(request.files, removed, stripped, taken.unstripped, taken.whole)
        result = await proof(_with_bytecode(tree, bytecode_by_source), "the slimmed tree", only)
        first = first or result
        unknown = tuple(sorted({_key(f) for f in result.failures} - set(before)))
        if unknown:
            # What failed is checked in the tree before slimming too.
            baseline = await proof(
                _with_bytecode(original, bytecode_by_source), "the tree before slimming", unknown
            )
            before.update({key: None for key in unknown})
            before.update({_key(f): f.message for f in baseline.failures})
        # A check that fails alike without slim is not slim's doing: the shared objects it loaded
        # stay unstripped, and the warning says so.
        inherent = [f for f in result.failures if before.get(_key(f)) == f.message]
        caused = [f for f in result.failures if before.get(_key(f)) != f.message]
        taken.note_inherent(inherent, stripped)
        logger.debug(
            f"{request.address}: slim proof: {len(caused)} failed checks, {len(result.unreached)} "
            f"not reached: {[(f.name, f.message[:200], f.files) for f in caused[:5]]}"
        )
        if not caused and not result.unreached:
            break
        unstripped_before = taken.unstripped
        taken.take_back(
            caused, owners, stripped, per_file=per_file, reason="with slim, {what} fails: {message}"
        )
        # Single files while that finds more to keep unstripped, then whole distributions.
        per_file = per_file and taken.unstripped != unstripped_before
        # A change taken back restores a file as it was, which only the failed checks can notice.
        only = tuple(sorted({_key(f) for f in caused} | set(result.unreached)))
    else:
        # Still failing: nothing of slim is shipped.
        taken.whole |= frozenset(f.wheel for f in request.files)
        first = None
    proven = first
    kept = tuple(
        sorted(
            taken.kept(owners)
            + tuple(
                KeptAsItWas(
                    p,
                    "kept unstripped: stripped, its loadable segments would be misaligned "
                    "(ELF load command address/offset not page-aligned)",
                )
                for p in stripped_result.misaligned
            )
        )
    )
    _warn_kept(request.address, kept)
    final = _tree(request.files, removed, stripped, taken.unstripped, taken.whole)
    final_paths = {e.path: e for e in final}
    sizes = {f.path: _size(f.entry) for f in request.files}
    kept_removed = [(p, k) for p, k in removed.items() if p not in final_paths]
    kept_stripped = {
        p: (sizes[p], _size(e)) for p, e in stripped.items() if final_paths.get(p) == e
    }
    proof_line = (
        f"{proven.extensions} extension modules, {proven.packages} top-level modules and "
        f"{proven.distributions} distributions' metadata checked with "
        f"{command.describe(request.platform.python_version)}"
        if proven is not None
        else "taken back entirely: the proof kept failing"
    )
    report = SlimReport(slimming.savings(kept_removed, kept_stripped, sizes), kept, proof_line)
    return SlimTree(final, report)


def _warn_kept(address: Address, kept: tuple[KeptAsItWas, ...]) -> None:
    for item, why in kept:
        logger.warning(f"{address}: slim mode: {item} {why}.")


def _label(failure: CheckFailure) -> str:
    if failure.kind is CheckKind.DISTRIBUTION:
        return f"the metadata of {failure.name}"
    return f"`import {failure.name}`" + (f" ({failure.path})" if failure.path else "")


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *interpreters.rules())
