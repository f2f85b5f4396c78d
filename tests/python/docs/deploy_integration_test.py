"""docs/deploy.md's Terraform snippet reads only keys that a real metadata file has.

Terraform cannot run here, so the snippet is checked against the metadata that `pants package`
writes for the examples it names: every `local.<name>.<key>` it reads must be a key of that file,
and every `jsondecode(file(...))` must name a metadata file of an example target.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.testutil.rules import (
    build_package_and_metadata,
)


def deploy_doc() -> str:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "docs" / "deploy.md"
        if candidate.is_file():
            return candidate.read_text()
    raise AssertionError("docs/deploy.md is not in the test's sandbox")


def terraform_snippet() -> str:
    blocks = re.findall(r"```hcl\n(.*?)```", deploy_doc(), re.S)
    assert len(blocks) == 1, "docs/deploy.md should have one ```hcl block"
    return blocks[0]


def test_snippet_feeds_every_setting_from_the_metadata() -> None:
    hcl = terraform_snippet()
    for resource in ("aws_lambda_function", "aws_lambda_layer_version"):
        assert f'resource "{resource}"' in hcl
    for argument, key in [
        ("filename", "artifact"),
        ("code_sha256", "code_sha256"),
        ("handler", "handler"),
        ("runtime", "runtime"),
        ("architectures", "architecture"),
        ("compatible_runtimes", "compatible_runtimes"),
    ]:
        assert re.search(rf"^\s*{argument}\s*=.*local\.\w+\.{key}\b", hcl, re.M), (argument, key)
    assert re.search(r"^\s*layers\s*=", hcl, re.M)


@pytest.fixture
def examples(rule_runner: RuleRunner) -> dict[str, dict]:
    """The metadata of a function and a layer like the snippet's examples, packaged for real."""
    rule_runner.write_files(
        {
            "src/lib/shared.py": "X = 1\n",
            "src/lib/BUILD": "python_sources()\n",
            "src/hello/app.py": "def handler(event, context):\n    return 1\n",
            "src/hello/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_layer(name='shared', runtime='python3.12', "
                "dependencies=['src/lib'])\n"
                "python_aws_lambda_function(name='lambda', runtime='python3.12', "
                "handler='app.py:handler', "
                "layers=[':shared'])\n"
            ),
        }
    )
    found = {}
    for name in ("lambda", "shared"):
        _, _, data = build_package_and_metadata(rule_runner, Address("src/hello", target_name=name))
        found[name] = data
    return found


def test_every_key_the_snippet_reads_exists(examples: dict[str, dict]) -> None:
    hcl = terraform_snippet()
    files = dict(
        re.findall(r'^\s*(\w+)\s*=\s*jsondecode\(file\("[^"]*/([^"/]+/[^"/]+)"\)\)', hcl, re.M)
    )
    assert set(files) == {"hello", "shared"}, files
    kinds = {"hello": "function", "shared": "layer"}
    metadata = {
        local: examples["lambda" if kinds[local] == "function" else "shared"] for local in files
    }
    for local, path in files.items():
        assert path.endswith(".metadata.json"), path
        assert metadata[local]["kind"] == kinds[local]
    reads = re.findall(r"local\.(hello|shared)\.(\w+)", hcl)
    assert reads
    missing = sorted({f"{local}.{key}" for local, key in reads if key not in metadata[local]})
    assert not missing, f"docs/deploy.md's Terraform reads keys no metadata file has: {missing}"
