"""Writing an artifact's tree: a reproducible zip (third-party entries compressed once, in
their own cached process), or with the `flat` layout the same tree as a directory."""

from __future__ import annotations

import dataclasses
import json
import pkgutil
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.target_types import EntryPoint
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.engine.addresses import Address
from pants.engine.fs import (
    AddPrefix,
    CreateDigest,
    Digest,
    DigestEntries,
    FileContent,
    FileEntry,
    MergeDigests,
)
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.util.logging import LogLevel

from pants_aws_lambda.artifact import metadata, zipwriter
from pants_aws_lambda.artifact.sizes import NamedSize
from pants_aws_lambda.caching import REMOTE_CACHE_SPECULATION_DELAY_MS


@dataclass(frozen=True)
class ZipWriter:
    pex: VenvPex


@rule
async def build_zip_writer() -> ZipWriter:
    script = pkgutil.get_data(zipwriter.__name__, "zipwriter.py")
    assert script is not None
    sources = await Get(Digest, CreateDigest([FileContent("__lambda_zipwriter.py", script)]))
    pex = await Get(
        VenvPex,
        PexRequest(
            output_filename="lambda_zipwriter.pex",
            internal_only=True,
            sources=sources,
            main=EntryPoint("__lambda_zipwriter", "main"),
            interpreter_constraints=InterpreterConstraints(["CPython>=3.8,<4"]),
        ),
    )
    return ZipWriter(pex)


_ZIP_CONTENT = "content"
_ZIP_PART = "__lambda_part/third-party.zip"


@dataclass(frozen=True)
class ThirdPartyZipPartRequest:
    address: Address
    # The third-party part of the tree, under the artifact's import root.
    content: Digest


@dataclass(frozen=True)
class ThirdPartyZipPart:
    """The third-party part of a zip, compressed once: a zip holding `_ZIP_PART`."""

    digest: Digest


async def _run_zip_writer(
    writer: ZipWriter, input_digest: Digest, argv: tuple[str, ...], output: str, description: str
) -> ProcessResult:
    process = await Get(
        Process,
        VenvPexProcess(
            writer.pex,
            argv=argv,
            input_digest=input_digest,
            output_files=(output,),
            description=description,
            level=LogLevel.DEBUG,
        ),
    )
    return await Get(
        ProcessResult,
        Process,
        dataclasses.replace(
            process, remote_cache_speculation_delay_millis=REMOTE_CACHE_SPECULATION_DELAY_MS
        ),
    )


@rule
async def compress_third_party_part(
    request: ThirdPartyZipPartRequest, writer: ZipWriter
) -> ThirdPartyZipPart:
    """Compress the third-party files once; a first-party edit leaves this process cached.

    The process depends only on the third-party tree (and the writer), so every build of the same
    requirements for the same runtime and options reuses it, and the artifact's zip copies its
    compressed entries instead of compressing 10s of MB again.
    """
    input_digest = await Get(Digest, AddPrefix(request.content, _ZIP_CONTENT))
    result = await _run_zip_writer(
        writer,
        input_digest,
        (_ZIP_CONTENT, _ZIP_PART),
        _ZIP_PART,
        f"Compressing third-party distributions of {request.address}",
    )
    return ThirdPartyZipPart(result.output_digest)


@dataclass(frozen=True)
class ZipRequest:
    address: Address
    content: Digest
    output_path: str
    import_root: str = ""
    # Entries already compressed, merged into the zip as they are.
    part: ThirdPartyZipPart | None = None


@dataclass(frozen=True)
class ArtifactOutput:
    """The written artifact: the zip, or with the `flat` layout the same tree as a directory."""

    digest: Digest
    # None for the `flat` layout.
    zipped_bytes: int | None
    unzipped_bytes: int
    files: int
    # Unzipped bytes per top-level entry of the artifact.
    top_level: tuple[NamedSize, ...]
    # SHA-256 hex of the zip's bytes, or for the `flat` layout of the tree (`metadata.tree_sha256`).
    sha256: str


@rule
async def write_zip_artifact(request: ZipRequest, writer: ZipWriter) -> ArtifactOutput:
    content = await Get(Digest, AddPrefix(request.content, _ZIP_CONTENT))
    argv = [_ZIP_CONTENT, request.output_path, "--import-root", request.import_root]
    if request.part is not None:
        content = await Get(Digest, MergeDigests([content, request.part.digest]))
        argv.extend(("--merge", _ZIP_PART))
    result = await _run_zip_writer(
        writer,
        content,
        tuple(argv),
        request.output_path,
        f"Writing {request.output_path} for {request.address}",
    )
    report = json.loads(result.stdout)
    # Pants' file digests are SHA-256 of the content: the zip's hash costs no extra read.
    entries = await Get(DigestEntries, Digest, result.output_digest)
    (written,) = (e for e in entries if isinstance(e, FileEntry) and e.path == request.output_path)
    return ArtifactOutput(
        digest=result.output_digest,
        zipped_bytes=report["zipped_bytes"],
        unzipped_bytes=report["unzipped_bytes"],
        files=report["files"],
        top_level=_named_sizes(report["top_level"]),
        sha256=written.file_digest.fingerprint,
    )


@dataclass(frozen=True)
class FlatTreeRequest:
    """The `flat` layout: the tree the zip would hold, as a directory at `output_path`."""

    content: Digest
    output_path: str
    import_root: str = ""


@rule
async def place_flat_tree(request: FlatTreeRequest) -> ArtifactOutput:
    digest, entries = await MultiGet(
        Get(Digest, AddPrefix(request.content, request.output_path)),
        Get(DigestEntries, Digest, request.content),
    )
    files = [e for e in entries if isinstance(e, FileEntry)]
    report = zipwriter.summarize(((e.path, _size(e)) for e in files), request.import_root)
    return ArtifactOutput(
        digest=digest,
        zipped_bytes=None,
        unzipped_bytes=report["unzipped_bytes"],
        files=report["files"],
        top_level=_named_sizes(report["top_level"]),
        sha256=metadata.tree_sha256((e.path, e.file_digest.fingerprint) for e in files),
    )


def _named_sizes(top_level: dict[str, int]) -> tuple[NamedSize, ...]:
    return tuple(NamedSize(*kv) for kv in sorted(top_level.items()))


def _size(entry: FileEntry) -> int:
    return entry.file_digest.serialized_bytes_length


def rules() -> Iterable[Rule]:
    return collect_rules()
