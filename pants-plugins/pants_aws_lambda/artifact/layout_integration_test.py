"""Rule tests of `layout="flat"`: the zip's tree as a directory, for container images."""

from __future__ import annotations

import io
import zipfile

from pants.core.goals.package import BuiltPackage
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.testutil.rules import build_package

APP = (
    "import typing_extensions\n\n"
    "def handler(event, context):\n"
    "    return {'hello': event['name']}\n"
)


def write_project(rule_runner: RuleRunner, layout: str) -> None:
    rule_runner.write_files(
        {
            "src/proj/app.py": APP,
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_requirement(name='te', requirements=['typing-extensions'])\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', "
                f"dependencies=[':te'], layout='{layout}')\n"
                "python_aws_lambda_layer(name='layer', runtime='python3.12', "
                "dependencies=[':te', ':proj'], "
                f"layout='{layout}')\n"
            ),
        }
    )


def build(rule_runner: RuleRunner, name: str) -> tuple[BuiltPackage, dict[str, bytes]]:
    return build_package(rule_runner, Address("src/proj", target_name=name))


def zip_files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def flat_equals_zip(rule_runner: RuleRunner, name: str, directory: str) -> dict[str, bytes]:
    write_project(rule_runner, "zip")
    zipped, zipped_files = build(rule_runner, name)
    assert zipped.artifacts[0].relpath == f"{directory}.zip"
    expected = zip_files(zipped_files[f"{directory}.zip"])
    assert " zipped," in "\n".join(zipped.artifacts[0].extra_log_lines)

    write_project(rule_runner, "flat")
    flat, flat_files = build(rule_runner, name)
    assert flat.artifacts[0].relpath == directory
    prefix = f"{directory}/"
    assert all(path.startswith(prefix) for path in flat_files), sorted(flat_files)
    tree = {path[len(prefix) :]: content for path, content in flat_files.items()}
    # The same files with the same bytes (bytecode included) as the zip of the other layout.
    assert tree == expected

    log = "\n".join(flat.artifacts[0].extra_log_lines)
    assert "Layout: flat directory" in log
    assert "unzipped (flat layout)" in log
    assert " zipped," not in log
    return tree


def test_flat_function_is_the_zip_unpacked(rule_runner: RuleRunner) -> None:
    tree = flat_equals_zip(rule_runner, "fn", "src.proj/fn")
    assert "lambda_function.py" in tree
    assert tree["proj/app.py"] == APP.encode()
    assert "proj/__pycache__/app.cpython-312.pyc" in tree
    assert any(p.startswith("typing_extensions-") and p.endswith("/METADATA") for p in tree)


def test_flat_layer_keeps_its_python_prefix(rule_runner: RuleRunner) -> None:
    tree = flat_equals_zip(rule_runner, "layer", "src.proj/layer")
    assert tree, "the layer is empty"
    assert all(path.startswith("python/") for path in tree), sorted(tree)
    assert "python/proj/app.py" in tree
    assert "python/typing_extensions.py" in tree
