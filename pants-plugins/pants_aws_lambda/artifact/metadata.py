"""The deploy metadata written beside every artifact: `<output_path>.metadata.json`.

What a deploy tool needs to create the function or layer from the artifact, so that nobody copies
the handler, runtime, architecture and layers from a BUILD file into CDK, SAM or Terraform by hand:
the keys that Pants' own Lambda backend writes (`handler`, `runtime`, `architecture`) and the
artifact's hashes in AWS's formats, its sizes, and for a function the artifacts of its layers.
`schema/metadata.schema.json` (shipped with the plugin) and docs/reference.md describe every key.

Pure functions of the build's results; nothing here imports the Pants engine. The bytes are the
same for the same inputs: sorted keys, two-space indentation, one trailing newline.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

FORMAT_VERSION = 1
METADATA_SUFFIX = ".metadata.json"
SCHEMA_RESOURCE = "schema/metadata.schema.json"


def metadata_path(output_path: str) -> str:
    """The metadata file of the artifact at `output_path` (a zip, or the directory of `flat`)."""
    return f"{output_path}{METADATA_SUFFIX}"


def code_sha256(sha256_hex: str) -> str:
    """AWS's `CodeSha256` of a zip: the base64 of the SHA-256 of its bytes (not the hex)."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def tree_sha256(files: Iterable[tuple[str, str]]) -> str:
    """The hash of a `flat` artifact: given (path relative to the directory, SHA-256 hex of the
    file) for every file, the SHA-256 hex of the lines `<sha256 hex>  <path>\\n` sorted by path,
    which is what `sha256sum` prints for the sorted files. Directories, modes and times do not
    count.
    """
    lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArtifactFacts:
    """One written artifact, as the metadata describes it."""

    address: str
    # Relative to `dist/`.
    output_path: str
    # None for the `flat` layout.
    zipped_bytes: int | None
    unzipped_bytes: int
    files: int
    # SHA-256 hex of the zip, or for the `flat` layout of the tree (`tree_sha256`).
    sha256: str

    @property
    def is_zip(self) -> bool:
        return self.zipped_bytes is not None

    def hashes(self) -> dict[str, str]:
        if self.is_zip:
            return {"code_sha256": code_sha256(self.sha256), "sha256": self.sha256}
        return {"tree_sha256": self.sha256}

    def common(self, kind: str, runtime: str | None, architecture: str | None) -> dict[str, Any]:
        size: dict[str, int] = {"files": self.files, "unzipped_bytes": self.unzipped_bytes}
        if self.zipped_bytes is not None:
            size["zipped_bytes"] = self.zipped_bytes
        return {
            "format_version": FORMAT_VERSION,
            "kind": kind,
            "address": self.address,
            "artifact": self.output_path,
            "package_type": "zip" if self.is_zip else "flat",
            "runtime": runtime,
            "architecture": architecture,
            "size": size,
            **self.hashes(),
        }


def layer_metadata(
    layer: ArtifactFacts, runtime: str | None, architecture: str | None
) -> dict[str, Any]:
    return {
        **layer.common("layer", runtime, architecture),
        "compatible_runtimes": [runtime] if runtime else [],
        "compatible_architectures": [architecture] if architecture else [],
    }


def function_metadata(
    function: ArtifactFacts,
    runtime: str | None,
    architecture: str | None,
    handler: str,
    wrapped_handler: str,
    layers: Iterable[ArtifactFacts] = (),
) -> dict[str, Any]:
    """`layers` in the order of the function's `layers` field, which is the order Lambda merges
    them."""
    layers = tuple(layers)
    data = function.common("function", runtime, architecture)
    data["handler"] = handler
    data["wrapped_handler"] = wrapped_handler
    data["layers"] = [
        {
            "address": layer.address,
            "artifact": layer.output_path,
            "package_type": "zip" if layer.is_zip else "flat",
            **layer.hashes(),
        }
        for layer in layers
    ]
    everything = (function, *layers)
    data["size"]["unzipped_bytes_with_layers"] = sum(a.unzipped_bytes for a in everything)
    if all(a.zipped_bytes is not None for a in everything):
        data["size"]["zipped_bytes_with_layers"] = sum(a.zipped_bytes or 0 for a in everything)
    return data


def render(metadata: dict[str, Any]) -> bytes:
    """The file's bytes: the same for the same metadata."""
    return (json.dumps(metadata, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )
