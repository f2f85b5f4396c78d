"""Rule tests for layers, layer-aware functions, `exclude` and Lambda's size limits."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.testutil import TESTDATA
from pants_aws_lambda.testutil.interpreters import require_cpython
from pants_aws_lambda.testutil.rules import (
    assert_package_error,
    package_zip,
    set_options,
)

PYDANTIC_APP = (
    "import pydantic\n"
    "from shared.greeting import greet\n\n"
    "class Greeting(pydantic.BaseModel):\n"
    "    name: str\n\n"
    "def handler(event, context):\n"
    "    return {'message': greet(Greeting.model_validate(event).name), 'pydantic': "
    "pydantic.VERSION}\n"
)


def write_layered_project(rule_runner: RuleRunner, function_fields: str = "") -> None:
    rule_runner.write_files(
        {
            "src/shared/greeting.py": "def greet(name):\n    return f'Hello, {name}!'\n",
            "src/shared/BUILD": "python_sources()\n",
            "src/proj/app.py": PYDANTIC_APP,
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_requirement(name='pydantic', requirements=['pydantic>=2.5,<3'])\n"
                "python_aws_lambda_layer(name='deps', runtime='python3.12', "
                "dependencies=[':pydantic'], include_sources=False)\n"
                "python_aws_lambda_layer(name='lib', runtime='python3.12', "
                "dependencies=['src/shared'], include_requirements=False)\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', "
                f"dependencies=[':pydantic'], layers=[':deps', ':lib'], {function_fields})\n"
            ),
        }
    )


def test_function_and_layers_run_together_in_lambdas_sys_path_order(
    rule_runner: RuleRunner, tmp_path: Path
) -> None:
    write_layered_project(rule_runner)
    layer_deps, _ = package_zip(rule_runner, Address("src/proj", target_name="deps"))
    layer_lib, _ = package_zip(rule_runner, Address("src/proj", target_name="lib"))
    function, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))

    for layer in (layer_deps, layer_lib):
        assert {n.split("/", 1)[0] for n in layer.namelist()} == {"python"}
    assert any(n.startswith("python/pydantic_core/") for n in layer_deps.namelist())
    assert "python/shared/greeting.py" in layer_lib.namelist()
    # The function leaves out everything its layers provide.
    assert not any(
        n.startswith(("pydantic", "typing_", "annotated_types", "shared/"))
        for n in function.namelist()
    )
    assert "proj/app.py" in function.namelist()
    log = "\n".join(built.artifacts[0].extra_log_lines)
    assert "Left out, provided by layers: annotated-types==" in log
    assert "pydantic-core==" in log and "(layer src/proj:deps)" in log
    assert "1 first-party file" in log and "1 first-party files" not in log

    python = require_cpython("3.12", "the layered function is not run")
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    function.extractall(task_root)
    layer_deps.extractall(opt)
    layer_lib.extractall(opt)
    script = (
        "import sys, json\n"
        f"sys.path[:0] = [{str(task_root)!r}, {str(opt / 'python')!r}]\n"
        "import lambda_function\n"
        "print(json.dumps(lambda_function.handler({'name': 'layers'}, None)))\n"
    )
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout)["message"] == "Hello, layers!"


# The error tests share one shape on purpose: each writes its case and lists what the message
# must say.
def test_layer_version_conflict(rule_runner: RuleRunner) -> None:
    testdata = TESTDATA
    rule_runner.write_files(
        {
            "lock/te-old.lock": (testdata / "typing-extensions-4.12.2.lock").read_text(),
            "lock/te-new.lock": (testdata / "typing-extensions-4.13.2.lock").read_text(),
            "src/proj/app.py": (
                "import typing_extensions\n\ndef handler(event, context):\n    return 1\n"
            ),
            "src/proj/BUILD": (
                "python_sources(resolve='new')\n"
                "python_requirement(name='te-old', requirements=['typing-extensions==4.12.2'], "
                "resolve='old')\n"
                "python_requirement(name='te-new', requirements=['typing-extensions==4.13.2'], "
                "resolve='new')\n"
                "python_aws_lambda_layer(name='layer', runtime='python3.12', resolve='old', "
                "dependencies=[':te-old'])\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', resolve='new', "
                "handler='app.py:handler', dependencies=[':te-new'], layers=[':layer'])\n"
            ),
        }
    )
    set_options(
        rule_runner,
        "--python-resolves={'python-default': 'lock/default.lock', 'old': 'lock/te-old.lock', "
        "'new': 'lock/te-new.lock'}",
        "--python-invalid-lockfile-behavior=ignore",
    )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "typing-extensions 4.13.2",
        "src/proj:layer",
        "typing-extensions 4.12.2",
    )


def test_layer_platform_must_match(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "src/proj/app.py": "def handler(event, context):\n    return 1\n",
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_layer(name='layer', runtime='python3.12', "
                "architecture='arm64', dependencies=[':proj'])\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', layers=[':layer'])\n"
            ),
        }
    )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "python3.12 on x86_64",
        "src/proj:layer",
        "python3.12 on arm64",
    )


def test_too_many_layers(rule_runner: RuleRunner) -> None:
    layers = "".join(
        f"python_aws_lambda_layer(name='l{i}', runtime='python3.12', dependencies=[':proj'])\n"
        for i in range(6)
    )
    rule_runner.write_files(
        {
            "src/proj/app.py": "def handler(event, context):\n    return 1\n",
            "src/proj/BUILD": (
                f"python_sources()\n{layers}"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', "
                f"layers={[f':l{i}' for i in range(6)]!r})\n"
            ),
        }
    )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`layers`",
        "6 layers",
        "allows 5",
    )


def test_exclude_removes_exactly_what_it_matches(rule_runner: RuleRunner) -> None:
    write_layered_project(rule_runner)
    build = Path(rule_runner.build_root, "src/proj/BUILD")
    # A function that carries its own requirements, with and without `exclude`.
    build.write_text(
        build.read_text()
        + (
            "python_aws_lambda_function(name='all', runtime='python3.12', "
            "handler='app.py:handler', bytecode='none')\n"
            "python_aws_lambda_function(name='some', runtime='python3.12', "
            "handler='app.py:handler', bytecode='none', "
            "exclude=['pydantic/v1/**', '**/*.pyi', 'shared/**'])\n"
        )
    )
    everything, _ = package_zip(rule_runner, Address("src/proj", target_name="all"))
    some, built = package_zip(rule_runner, Address("src/proj", target_name="some"))

    all_files = {i.filename: i.file_size for i in everything.infolist() if not i.is_dir()}
    kept = {i.filename for i in some.infolist() if not i.is_dir()}
    dropped = {
        n for n in all_files if n.startswith(("pydantic/v1/", "shared/")) or n.endswith(".pyi")
    }
    assert dropped and any(n.startswith("pydantic/v1/") for n in dropped)
    assert kept == set(all_files) - dropped
    log = "\n".join(built.artifacts[0].extra_log_lines)
    assert f"Excluded: {len(dropped)} files" in log


def test_excluding_the_handler_module_is_an_error(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "src/proj/app.py": "def handler(event, context):\n    return 1\n",
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', exclude=['proj/**'])\n"
            ),
        }
    )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`exclude`",
        "proj/app.py",
        "handler",
    )


def test_oversized_function_fails_with_the_largest_parts(rule_runner: RuleRunner) -> None:
    big = 140_000_000
    rule_runner.write_files(
        {
            "src/proj/app.py": "def handler(event, context):\n    return 1\n",
            "src/proj/data/a.bin": b"\0" * big,
            "src/shared/data/b.bin": b"\0" * big,
            "src/shared/BUILD": "resource(name='b', source='data/b.bin')\n",
            "src/proj/BUILD": (
                "python_sources()\n"
                "resource(name='a', source='data/a.bin')\n"
                "python_aws_lambda_layer(name='layer', runtime='python3.12', "
                "dependencies=['src/shared:b'])\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', "
                "bytecode='none', dependencies=[':a'], layers=[':layer'])\n"
            ),
        }
    )
    message = assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "267.0 MiB (280,000,081 bytes) unzipped together with its layers src/proj:layer",
        "250 MiB unzipped, function and all its layers together (262,144,000 bytes)",
        "proj/ (first-party): 133.5 MiB",
        "shared/ (first-party in layer src/proj:layer): 133.5 MiB",
        # The way out measured on the function: its largest directory, without which it fits.
        '1. exclude=["proj/data/*"]: saves 133.5 MiB here (133.5 MiB, fits)',
        'layout="flat"',
        "A layer does not help with this limit",
    )
    assert "Wrote" not in message


def test_over_50_mb_zipped_warns_but_packages(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # Random bytes do not compress: the zip stays over the direct-upload limit.
    rule_runner.write_files(
        {
            "src/proj/app.py": "def handler(event, context):\n    return 1\n",
            "src/proj/data/blob.bin": os.urandom(53_000_000),
            "src/proj/BUILD": (
                "python_sources()\n"
                "resource(name='blob', source='data/blob.bin')\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='app.py:handler', "
                "bytecode='none', dependencies=[':blob'])\n"
            ),
        }
    )
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert "proj/data/blob.bin" in zf.namelist()
    assert "over Lambda's 50 MiB zipped for direct upload (52,428,800 bytes)" in caplog.text
    assert "S3" in caplog.text
