from __future__ import annotations

import base64
import hashlib
import json
import pkgutil
import subprocess
from pathlib import Path

from pants_aws_lambda.artifact import metadata
from pants_aws_lambda.artifact.metadata import ArtifactFacts


def facts(name: str, zipped: int | None, sha: str) -> ArtifactFacts:
    return ArtifactFacts(f"src/proj:{name}", f"src.proj/{name}.zip", zipped, 1000, 3, sha)


def test_code_sha256_is_base64_of_the_digest() -> None:
    digest = hashlib.sha256(b"PK\x05\x06" + bytes(18))
    assert metadata.code_sha256(digest.hexdigest()) == base64.b64encode(digest.digest()).decode()
    assert (
        metadata.code_sha256(hashlib.sha256(b"").hexdigest())
        == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    )


def test_tree_sha256_is_sha256sum_of_the_sorted_files(tmp_path: Path) -> None:
    files = {"b.py": b"B", "a/z.py": b"Z", "a/b c.py": b"space", "lambda_function.py": b"L"}
    for path, content in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    # What docs/reference.md tells users to run on a `flat` directory.
    listing = subprocess.run(
        "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum",
        shell=True,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[0]
    ours = metadata.tree_sha256((p, hashlib.sha256(c).hexdigest()) for p, c in files.items())
    assert ours == listing
    # The order the files come in does not matter.
    assert ours == metadata.tree_sha256(
        sorted(((p, hashlib.sha256(c).hexdigest()) for p, c in files.items()), reverse=True)
    )


def test_rendering_is_stable_and_sorted() -> None:
    layer = facts("layer", 500, "1" * 64)
    data = metadata.function_metadata(
        facts("fn", 100, "2" * 64),
        "python3.12",
        "x86_64",
        "lambda_function.handler",
        "proj.app:handler",
        [layer],
    )
    raw = metadata.render(data)
    assert raw == metadata.render(json.loads(raw))
    assert raw.endswith(b"}\n") and not raw.endswith(b"\n\n")
    keys = list(json.loads(raw))
    assert keys == sorted(keys)
    assert raw.startswith(b'{\n  "address": "src/proj:fn",\n')
    assert data["size"] == {
        "files": 3,
        "unzipped_bytes": 1000,
        "zipped_bytes": 100,
        "unzipped_bytes_with_layers": 2000,
        "zipped_bytes_with_layers": 600,
    }


def test_flat_artifacts_have_a_tree_hash_and_no_code_sha256() -> None:
    flat = ArtifactFacts("src/proj:fn", "src.proj/fn", None, 1000, 3, "3" * 64)
    data = metadata.function_metadata(
        flat, "python3.12", "arm64", "lambda_function.handler", "app:handler"
    )
    assert data["package_type"] == "flat"
    assert data["tree_sha256"] == "3" * 64
    assert "code_sha256" not in data and "sha256" not in data
    assert "zipped_bytes" not in data["size"] and "zipped_bytes_with_layers" not in data["size"]
    assert data["layers"] == []


def test_schema_ships_with_the_plugin_and_names_every_key() -> None:
    raw = pkgutil.get_data("pants_aws_lambda.artifact", metadata.SCHEMA_RESOURCE)
    assert raw is not None
    schema = json.loads(raw)
    function = metadata.function_metadata(
        facts("fn", 100, "2" * 64),
        "python3.12",
        "x86_64",
        "lambda_function.handler",
        "app:handler",
        [facts("layer", 5, "1" * 64)],
    )
    layer = metadata.layer_metadata(facts("layer", 5, "1" * 64), "python3.12", "x86_64")
    for data in (function, layer):
        assert set(data) <= set(schema["properties"]), set(data) - set(schema["properties"])
        assert set(schema["required"]) <= set(data)
        assert set(data["size"]) <= set(schema["properties"]["size"]["properties"])
    assert set(function["layers"][0]) <= set(schema["properties"]["layers"]["items"]["properties"])
