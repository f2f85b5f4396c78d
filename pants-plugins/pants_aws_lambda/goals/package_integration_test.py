"""Rule tests: real PEX resolves against the examples' lockfile, assertions on the zip's bytes."""

from __future__ import annotations

from textwrap import dedent

import pytest
from packaging.requirements import Requirement
from pants.core.goals.package import BuiltPackage
from pants.engine.addresses import Address
from pants.engine.internals.scheduler import ExecutionError
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.build.field_sets import PythonAwsLambdaLayerFieldSet
from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.testutil.rules import (
    INTERPRETER_CONSTRAINTS,
    assert_package_error,
    build_package_and_metadata,
    package_zip,
    set_options,
)

HELLO = dedent(
    """\
    def handler(event, context):
        return {"hello": event["name"]}
    """
)


def write_function(
    rule_runner: RuleRunner, fields: str, app: str = HELLO, extra_build: str = ""
) -> None:
    rule_runner.write_files(
        {
            "src/proj/app.py": app,
            "src/proj/BUILD": (
                f"python_sources()\n{extra_build}\n"
                f"python_aws_lambda_function(name='fn', {fields})\n"
            ),
        }
    )


def test_first_party_only_zip(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.12', handler='app.py:handler'")
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))

    assert built.artifacts[0].relpath == "src.proj/fn.zip"
    assert zf.namelist() == [
        "__pycache__/",
        "__pycache__/lambda_function.cpython-312.pyc",
        "lambda_function.py",
        "proj/",
        "proj/__pycache__/",
        "proj/__pycache__/app.cpython-312.pyc",
        "proj/app.py",
    ]
    assert b"from proj.app import handler as handler" in zf.read("lambda_function.py")
    assert zf.read("proj/app.py") == HELLO.encode()
    for info in zf.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        mode = info.external_attr >> 16
        assert mode == (0o40755 if info.is_dir() else 0o100644), info.filename
    log = "\n".join(built.artifacts[0].extra_log_lines)
    assert "Handler: lambda_function.handler" in log
    assert "Runtime: python3.12 on x86_64" in log


@pytest.mark.parametrize(
    "architecture, machine, glibc_tag",
    [("x86_64", "x86_64", "manylinux"), ("arm64", "aarch64", "manylinux")],
)
def test_native_requirement_for_each_architecture(
    rule_runner: RuleRunner, architecture: str, machine: str, glibc_tag: str
) -> None:
    write_function(
        rule_runner,
        f"runtime='python3.12', architecture='{architecture}', handler='app.py:handler', "
        "dependencies=[':pydantic']",
        app="import pydantic\n\ndef handler(event, context):\n    return pydantic.VERSION\n",
        extra_build="python_requirement(name='pydantic', requirements=['pydantic>=2.5,<3'])",
    )
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    names = zf.namelist()

    assert names == sorted(names)
    extensions = [
        n for n in names if n.startswith("pydantic_core/_pydantic_core") and n.endswith(".so")
    ]
    assert extensions == [f"pydantic_core/_pydantic_core.cpython-312-{machine}-linux-gnu.so"]
    wheel_file = next(
        n for n in names if n.startswith("pydantic_core-") and n.endswith(".dist-info/WHEEL")
    )
    assert f"Tag: cp312-cp312-{glibc_tag}" in zf.read(wheel_file).decode()
    assert any(n.startswith("pydantic-2.") and n.endswith(".dist-info/METADATA") for n in names)
    top_level = {n.split("/", 1)[0] for n in names}
    assert not top_level & {"bin", ".prefix", ".deps", "__pex__", "PEX-INFO"}
    assert not any(n.endswith(".layout.json") for n in names)
    # A current pex adds `<project>-<version>.pex-info/` to each installed wheel: PEX bookkeeping.
    assert not any(t.endswith(".pex-info") for t in top_level), sorted(top_level)
    assert f"Runtime: python3.12 on {architecture}" in "\n".join(built.artifacts[0].extra_log_lines)


def test_include_requirements_false(rule_runner: RuleRunner) -> None:
    write_function(
        rule_runner,
        "runtime='python3.12', handler='app.py:handler', include_requirements=False, "
        "bytecode='none', "
        "dependencies=[':pydantic']",
        extra_build="python_requirement(name='pydantic', requirements=['pydantic>=2.5,<3'])",
    )
    zf, _ = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert zf.namelist() == ["lambda_function.py", "proj/", "proj/app.py"]


# The error tests share one shape on purpose: each writes its case and lists what the message
# must say.
def test_missing_function(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.12', handler='app.py:hander'")
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`handler`",
        "`hander`",
        "It defines: handler",
    )


def test_missing_module(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.12', handler='proj.nope:handler'")
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`proj.nope`",
        "proj/nope.py",
        "dependencies",
    )


def test_handler_function_found_through_conditional_import(rule_runner: RuleRunner) -> None:
    app = "try:\n    from proj.impl import run as handler\nexcept ImportError:\n    raise\n"
    rule_runner.write_files({"src/proj/impl.py": "def run(event, context):\n    return 1\n"})
    write_function(rule_runner, "runtime='python3.12', handler='app.py:handler'", app=app)
    zf, _ = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert "proj/impl.py" in zf.namelist()


def test_unknown_runtime(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.7', handler='app.py:handler'")
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "'python3.7'",
        ", ".join(RUNTIMES),
    )


def test_malformed_handler(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.12', handler='app.py'")
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`handler`",
        "dotted.module:func",
    )


@pytest.mark.parametrize("field", ["runtime='python3.12'", "architecture='x86_64'"])
def test_runtime_or_architecture_and_complete_platforms_conflict(
    rule_runner: RuleRunner, field: str
) -> None:
    write_function(
        rule_runner,
        f"{field}, handler='app.py:handler', complete_platforms=[':platform']",
        extra_build="file(name='platform', source='platform.json')",
    )
    rule_runner.write_files({"src/proj/platform.json": "{}"})
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        f"`{field.split('=')[0]}`",
        "`complete_platforms`",
        "Drop",
    )


def test_custom_complete_platform(rule_runner: RuleRunner) -> None:
    from pants_aws_lambda.facts.runtimes import RUNTIMES
    from pants_aws_lambda.runtimes.complete_platforms import complete_platform, render

    write_function(
        rule_runner,
        "handler='app.py:handler', complete_platforms=[':platform']",
        extra_build="file(name='platform', source='platform.json')",
    )
    rule_runner.write_files(
        {"src/proj/platform.json": render(complete_platform(RUNTIMES["python3.11"], "arm64"))}
    )
    built, _, data = build_package_and_metadata(rule_runner, Address("src/proj", target_name="fn"))
    assert "src/proj/platform.json" in "\n".join(built.artifacts[0].extra_log_lines)
    # No Lambda runtime was named: the metadata says so rather than guess one.
    assert (data["runtime"], data["architecture"]) == (None, None)


def test_runtime_inferred_from_resolve_interpreter_constraints(rule_runner: RuleRunner) -> None:
    set_options(
        rule_runner,
        "--python-resolves-to-interpreter-constraints={'python-default': ['CPython==3.11.*']}",
    )
    write_function(rule_runner, "handler='app.py:handler'")
    _, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert "Runtime: python3.11 on x86_64" in "\n".join(built.artifacts[0].extra_log_lines)


def test_runtime_not_inferable(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "handler='app.py:handler'")
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`runtime`",
        "python-default",
        # The Python versions of the runtimes that the constraints allow.
        ", ".join(
            str(r.python_version)
            for r in RUNTIMES.values()
            if Requirement(INTERPRETER_CONSTRAINTS).specifier.contains(f"{str(r.python_version)}.0")
        ),
    )


def test_deprecated_target_alias_still_packages(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "src/proj/app.py": HELLO,
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_awslambda(name='fn', runtime='python3.9', handler='app.py:handler')\n"
            ),
        }
    )
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert "lambda_function.py" in zf.namelist()
    assert "Runtime: python3.9 on x86_64" in "\n".join(built.artifacts[0].extra_log_lines)


def test_handler_module_named_like_the_reexport(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "src/lambda_function.py": "def main(event, context):\n    return 1\n",
            "src/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', "
                "handler='lambda_function.py:main')\n"
            ),
        }
    )
    assert_package_error(
        rule_runner, Address("src", target_name="fn"), "src:fn", "Rename the function to `handler`"
    )


# Python 3.12+ only: a `type` alias (PEP 695), a PEP 701 f-string, and a `match` statement.
MODERN = dedent(
    """\
    type Event = dict[str, object]


    def handler(event: Event, context):
        match event:
            case {"name": str(name)}:
                return f"{"hello"!r} {name}"
            case _:
                return None
    """
)


def test_handler_with_syntax_of_the_runtime_python(rule_runner: RuleRunner) -> None:
    # Pants runs on an older Python, whose parser refuses this module; the runtime's accepts it.
    write_function(rule_runner, "runtime='python3.12', handler='app.py:handler'", app=MODERN)
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert "proj/__pycache__/app.cpython-312.pyc" in zf.namelist()
    assert zf.read("proj/app.py") == MODERN.encode()


def test_handler_with_syntax_newer_than_the_runtime(rule_runner: RuleRunner) -> None:
    app = (
        "import sys\n\nmatch sys.argv:\n    case _:\n        pass\n\n"
        "def handler(event, context):\n    return 1\n"
    )
    write_function(
        rule_runner, "runtime='python3.9', handler='app.py:handler', bytecode='none'", app=app
    )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "proj/app.py does not parse with Python 3.9",
        "python3.9 on x86_64",
        "at line 3",
        "invalid syntax",
        "keep to the syntax that Python 3.9 supports",
    )


@pytest.mark.parametrize(
    "bytecode, runtime", [("auto", "python3.12"), ("compiled", "python3.12"), ("only", "python3.9")]
)
def test_first_party_module_that_does_not_compile(
    rule_runner: RuleRunner, bytecode: str, runtime: str
) -> None:
    rule_runner.write_files({"src/proj/util.py": "X = 1\n\ndef broken(:\n    pass\n"})
    write_function(
        rule_runner,
        f"runtime='{runtime}', handler='app.py:handler', bytecode='{bytecode}', "
        "dependencies=['./util.py']",
    )
    message = assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "First-party sources of src/proj:fn do not compile with Python 3.",
        f"{runtime} on x86_64",
        "proj/util.py, line 3: invalid syntax",
        "No artifact was written",
    )
    assert "proj/app.py" not in message


def test_layer_module_that_does_not_compile_names_its_path_in_the_layer(
    rule_runner: RuleRunner,
) -> None:
    rule_runner.write_files(
        {
            "src/lib/shared.py": "def f():\n    return 1\nreturn 2\n",
            "src/lib/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_layer(name='layer', runtime='python3.12', "
                "dependencies=['./shared.py'])\n"
            ),
        }
    )
    tgt = rule_runner.get_target(Address("src/lib", target_name="layer"))
    with pytest.raises(ExecutionError) as exc:
        rule_runner.request(BuiltPackage, [PythonAwsLambdaLayerFieldSet.create(tgt)])
    assert "python/lib/shared.py, line 3: 'return' outside function" in str(exc.value)


def write_function_for_python399(rule_runner: RuleRunner, fields: str, app: str = HELLO) -> None:
    """A function for a CPython 3.99 platform: no machine has that interpreter."""
    from pants_aws_lambda.runtimes.complete_platforms import (
        compatible_tags,
        marker_environment,
        render,
    )

    platform = {
        "marker_environment": marker_environment((3, 99), "x86_64"),
        "compatible_tags": compatible_tags((3, 99), "x86_64", (2, 34)),
    }
    rule_runner.write_files({"src/proj/platform.json": render(platform)})
    write_function(
        rule_runner,
        f"handler='app.py:handler', complete_platforms=[':platform']{fields}",
        app=app,
        extra_build="file(name='platform', source='platform.json')",
    )


def test_handler_unreadable_by_pants_python_without_the_runtime_python(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # Pants' older parser cannot judge a CPython 3.99 grammar, so it packages.
    write_function_for_python399(rule_runner, ", bytecode='none'", app=MODERN)
    zf, _ = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert zf.namelist() == ["lambda_function.py", "proj/", "proj/app.py"]
    assert "no CPython 3.99 on the interpreter search path" in caplog.text
    assert "which cannot parse it" in caplog.text
    assert "whether it defines `handler` is not checked" in caplog.text
    assert "the other first-party sources are not compiled" in caplog.text


def pyc_flags(data: bytes) -> int:
    # PEP 552 header: magic (4 bytes), then a little-endian flags word.
    return int.from_bytes(data[4:8], "little")


def test_bytecode_compiled_is_hash_based_for_the_runtime(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.11', handler='app.py:handler'")
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    pyc = zf.read("proj/__pycache__/app.cpython-311.pyc")
    assert pyc_flags(pyc) == 0b01  # hash-based, unchecked
    assert "Bytecode: 2 modules compiled for CPython 3.11" in "\n".join(
        built.artifacts[0].extra_log_lines
    )
    assert not any(".cpython-312" in n for n in zf.namelist())


def test_bytecode_only_replaces_sources(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.12', handler='app.py:handler', bytecode='only'")
    zf, _ = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert zf.namelist() == ["lambda_function.pyc", "proj/", "proj/app.pyc"]
    assert pyc_flags(zf.read("proj/app.pyc")) == 0b01


def test_bytecode_none(rule_runner: RuleRunner) -> None:
    write_function(rule_runner, "runtime='python3.12', handler='app.py:handler', bytecode='none'")
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert zf.namelist() == ["lambda_function.py", "proj/", "proj/app.py"]
    assert "Bytecode: none" in "\n".join(built.artifacts[0].extra_log_lines)


def test_bytecode_without_interpreter_warns_and_packages(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # No machine has a CPython 3.99 to compile with.
    write_function_for_python399(rule_runner, "")
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    assert zf.namelist() == ["lambda_function.py", "proj/", "proj/app.py"]
    assert "no CPython 3.99 on the interpreter search path" in caplog.text
    assert 'bytecode="none"' in caplog.text
    assert "Bytecode: none" in "\n".join(built.artifacts[0].extra_log_lines)


@pytest.mark.parametrize(
    "platform_targets, fragment",
    [
        ("resource(name='p1', source='p1.json')", "yields 0 files"),
        ("file(name='p1', source='p1.json')\nfile(name='p2', source='p2.json')", "yields 2 files"),
    ],
)
def test_complete_platforms_must_be_one_file(
    rule_runner: RuleRunner, platform_targets: str, fragment: str
) -> None:
    from pants_aws_lambda.facts.runtimes import RUNTIMES
    from pants_aws_lambda.runtimes.complete_platforms import complete_platform, render

    platform = render(complete_platform(RUNTIMES["python3.12"], "x86_64"))
    rule_runner.write_files({"src/proj/p1.json": platform, "src/proj/p2.json": platform})
    targets = "[':p1', ':p2']" if "p2" in platform_targets else "[':p1']"
    write_function(
        rule_runner,
        f"handler='app.py:handler', complete_platforms={targets}",
        extra_build=platform_targets,
    )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`complete_platforms`",
        fragment,
        "`file`",
    )


def test_metadata_of_a_function_and_its_layer(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "src/lib/shared.py": "X = 1\n",
            "src/lib/BUILD": "python_sources()\n",
            "src/proj/app.py": HELLO,
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_aws_lambda_layer(name='layer', runtime='python3.12', architecture='arm64', "
                "dependencies=['src/lib'])\n"
                "python_aws_lambda_function(name='fn', runtime='python3.12', architecture='arm64', "
                "handler='app.py:handler', layers=[':layer'])\n"
            ),
        }
    )
    # `build_package_and_metadata` recomputes every hash and size from the artifact's bytes.
    layer, _, layer_data = build_package_and_metadata(
        rule_runner, Address("src/proj", target_name="layer")
    )
    built, files, data = build_package_and_metadata(
        rule_runner, Address("src/proj", target_name="fn")
    )

    assert [a.relpath for a in built.artifacts] == [
        "src.proj/fn.zip",
        "src.proj/fn.zip.metadata.json",
    ]
    assert {k: data[k] for k in ("handler", "runtime", "architecture")} == {
        "handler": "lambda_function.handler",
        "runtime": "python3.12",
        "architecture": "arm64",
    }
    assert data["format_version"] == 1
    assert data["kind"] == "function"
    assert data["package_type"] == "zip"
    assert data["address"] == "src/proj:fn"
    assert data["wrapped_handler"] == "proj.app:handler"
    assert data["layers"] == [
        {
            "address": "src/proj:layer",
            "artifact": "src.proj/layer.zip",
            "package_type": "zip",
            "code_sha256": layer_data["code_sha256"],
            "sha256": layer_data["sha256"],
        }
    ]
    size, layer_size = data["size"], layer_data["size"]
    assert size["zipped_bytes_with_layers"] == size["zipped_bytes"] + layer_size["zipped_bytes"]
    assert (
        size["unzipped_bytes_with_layers"] == size["unzipped_bytes"] + layer_size["unzipped_bytes"]
    )
    assert f"    CodeSha256: {data['code_sha256']}" in built.artifacts[0].extra_log_lines

    assert layer_data["kind"] == "layer"
    assert layer_data["compatible_runtimes"] == ["python3.12"]
    assert layer_data["compatible_architectures"] == ["arm64"]
    assert "handler" not in layer_data and "layers" not in layer_data
    assert f"    CodeSha256: {layer_data['code_sha256']}" in layer.artifacts[0].extra_log_lines

    # The same inputs give the same bytes; an edit of the function changes its hash, not the
    # layer's.
    _, _, again = build_package_and_metadata(rule_runner, Address("src/proj", target_name="fn"))
    assert again == data
    rule_runner.write_files({"src/proj/app.py": HELLO + "\n# edited\n"})
    _, _, edited = build_package_and_metadata(rule_runner, Address("src/proj", target_name="fn"))
    assert edited["code_sha256"] != data["code_sha256"]
    assert edited["layers"] == data["layers"]
