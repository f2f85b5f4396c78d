"""End to end: `./pants package` the example Lambdas in a fresh copy of the repository, then use
the zips: run their handlers with the runtime's CPython, check their layout and native code, and
build them again from scratch to check that the bytes are the same.

Two nested Pants runs in all: the first with Pants' process cache (as a user runs it), the second
with `--no-local-cache` in another fresh copy, so that every process really runs again.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from e2e import zip_facts
from e2e.repo import (
    Artifact,
    invoke,
    module_dir,
    packaged_copy,
    require_host_for,
    sha256,
    unpack_read_only,
)
from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.runtimes.complete_platforms import complete_platform
from pants_aws_lambda.testutil.interpreters import require_cpython

HELLO = Artifact("src/python/examples/hello:lambda", "python3.12", "x86_64")
PYDANTIC = Artifact("src/python/examples/pydantic_app:lambda", "python3.12", "x86_64")
PYDANTIC_ARM64 = Artifact("src/python/examples/pydantic_app:lambda-arm64", "python3.12", "arm64")
ARTIFACTS = (HELLO, PYDANTIC, PYDANTIC_ARM64)
ARTIFACT_IDS = ("hello", "pydantic", "pydantic-arm64")

VALID_ORDER = {
    "order_id": "42",  # pydantic (lax mode) turns the string into an int
    "customer": "Ada",
    "items": [
        {"sku": "pencil", "quantity": 3, "unit_price_cents": 150},
        {"sku": "paper", "quantity": 1, "unit_price_cents": 499},
    ],
}
INVALID_ORDER = {"order_id": "not-a-number", "customer": "", "items": [], "coupon": "FREE"}


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_dir(tmp_path_factory, "e2e-package")


@pytest.fixture(scope="module")
def first_build(work_dir: Path) -> Path:
    """The build root of a fresh copy after `./pants package` of every example artifact."""
    return packaged_copy(work_dir / "first", ARTIFACTS)


@pytest.fixture(scope="module")
def second_build(work_dir: Path, first_build: Path) -> Path:
    """Another fresh copy, packaged with no process cache: every process runs again."""
    return packaged_copy(work_dir / "second", ARTIFACTS, "--no-local-cache")


def zip_path(buildroot: Path, artifact: Artifact) -> Path:
    return buildroot / artifact.dist_path


def unpacked(work_dir: Path, first_build: Path, artifact: Artifact) -> Path:
    dest = work_dir / "unpacked" / artifact.dist_path.replace("/", "_")
    if not dest.exists():
        unpack_read_only(zip_path(first_build, artifact), dest)
    return dest


def assert_bytecode_used(report: dict) -> None:
    """The artifacts ship bytecode (the default `bytecode="auto"` is `compiled` for functions this
    small): the runtime's CPython must accept every `.pyc` and compile nothing at import from the
    read-only task root."""
    assert report["bytecode"]["pyc"] > 0, "the artifact ships no bytecode"
    assert report["bytecode"]["invalid"] == 0, report["bytecode"]["problems"]
    assert (
        report["compiled_from_source"] == []
    ), "compiled at import, for lack of valid bytecode: " + ", ".join(
        report["compiled_from_source"][:20]
    )


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=ARTIFACT_IDS)
def test_writes_zip_at_documented_path(first_build: Path, artifact: Artifact) -> None:
    path = zip_path(first_build, artifact)
    assert path.is_file(), f"{artifact.address} did not write {artifact.dist_path}"
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
    assert "lambda_function.py" in names
    spec_path = artifact.address.split(":")[0]
    assert spec_path.replace("src/python/", "", 1) + "/app.py" in names


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=ARTIFACT_IDS)
def test_zip_hygiene(first_build: Path, artifact: Artifact) -> None:
    with zipfile.ZipFile(zip_path(first_build, artifact)) as zf:
        problems = zip_facts.hygiene_problems(zf)
    assert not problems, f"{artifact.dist_path}:\n" + "\n".join(problems[:40])


def test_hello_handler_runs_from_read_only_unpacked_zip(work_dir: Path, first_build: Path) -> None:
    require_host_for(HELLO)
    python = require_cpython(HELLO.python_version)
    task_root = unpacked(work_dir, first_build, HELLO)

    report = invoke(python, task_root, {"name": "Lambda"}, work_dir, function_name="hello-e2e")

    assert report["python"].startswith(HELLO.python_version + ".")
    result = report["result"]
    assert result["message"] == "Hello, Lambda!"
    assert result["function_name"] == "hello-e2e"
    assert result["request_id"] == report["request_id"]
    assert 0 < result["remaining_time_ms"] <= 30_000
    assert report["modules"]["lambda_function"] == str(task_root / "lambda_function.py")
    assert report["sys_path"][0] == str(task_root)
    assert not any("site-packages" in p for p in report["sys_path"]), report["sys_path"]
    assert report["foreign_modules"] == []
    assert_bytecode_used(report)
    # The hello example has no third-party code, and the artifact carries none.
    with zipfile.ZipFile(zip_path(first_build, HELLO)) as zf:
        assert zip_facts.distributions(zf) == {}
        assert zip_facts.native_libraries(zf) == []


def test_pydantic_handler_validates_with_the_shipped_native_core(
    work_dir: Path, first_build: Path
) -> None:
    require_host_for(PYDANTIC)
    python = require_cpython(PYDANTIC.python_version)
    task_root = unpacked(work_dir, first_build, PYDANTIC)
    with zipfile.ZipFile(zip_path(first_build, PYDANTIC)) as zf:
        shipped_version = zip_facts.distributions(zf)["pydantic"].version

    ok = invoke(python, task_root, VALID_ORDER, work_dir)
    assert ok["result"] == {
        "statusCode": 200,
        "order": {
            "order_id": 42,
            "customer": "Ada",
            "items": VALID_ORDER["items"],
        },
        "total_cents": 949,
        "pydantic_version": shipped_version,
        "request_id": ok["request_id"],
    }
    native = ok["modules"]["pydantic_core._pydantic_core"]
    assert native is not None, "pydantic_core._pydantic_core was not imported"
    assert Path(native).parent == task_root / "pydantic_core", native
    assert native.endswith(".so")
    assert ok["modules"]["pydantic"] == str(task_root / "pydantic" / "__init__.py")
    assert ok["foreign_modules"] == []
    assert_bytecode_used(ok)

    bad = invoke(python, task_root, INVALID_ORDER, work_dir)
    assert bad["result"]["statusCode"] == 400
    errors = {(tuple(e["loc"]), e["type"]) for e in bad["result"]["errors"]}
    assert errors == {
        (("order_id",), "int_parsing"),
        (("customer",), "string_too_short"),
        (("items",), "too_short"),
        (("coupon",), "extra_forbidden"),
    }


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=ARTIFACT_IDS)
def test_bytecode_is_hash_based_and_for_the_runtime(first_build: Path, artifact: Artifact) -> None:
    # The plugin compiles with the runtime's CPython and, without one, packages sources only.
    require_cpython(artifact.python_version)
    tag = "cpython-{}{}".format(*RUNTIMES[artifact.runtime].python_version)
    with zipfile.ZipFile(zip_path(first_build, artifact)) as zf:
        problems = zip_facts.bytecode_problems(zf, tag)
    assert not problems, f"{artifact.dist_path}:\n" + "\n".join(problems[:40])


def test_pydantic_dist_info_is_kept(first_build: Path) -> None:
    for artifact in (PYDANTIC, PYDANTIC_ARM64):
        with zipfile.ZipFile(zip_path(first_build, artifact)) as zf:
            dists = zip_facts.distributions(zf)
            names = zf.namelist()
        for project in ("pydantic", "pydantic-core", "annotated-types", "typing-extensions"):
            assert project in dists, f"{artifact.dist_path} has no {project} .dist-info"
            dist_info = dists[project].dist_info
            for meta in ("METADATA", "WHEEL"):
                assert f"{dist_info}/{meta}" in names
        assert dists["pydantic-core"].tags, "pydantic-core's WHEEL names no tags"


@pytest.mark.parametrize("artifact", (PYDANTIC, PYDANTIC_ARM64), ids=ARTIFACT_IDS[1:])
def test_wheels_and_native_code_are_for_the_runtime(first_build: Path, artifact: Artifact) -> None:
    runtime = RUNTIMES[artifact.runtime]
    compatible = set(complete_platform(runtime, artifact.architecture)["compatible_tags"])
    machine = {"x86_64": "x86_64", "arm64": "aarch64"}[artifact.architecture]
    abi = "cp{}{}".format(*runtime.python_version)
    with zipfile.ZipFile(zip_path(first_build, artifact)) as zf:
        dists = zip_facts.distributions(zf)
        incompatible = {
            d.dist_info: sorted(d.tags) for d in dists.values() if not d.tags & compatible
        }
        assert (
            not incompatible
        ), f"wheels {artifact.runtime} on {machine} cannot load: {incompatible}"

        libraries = zip_facts.native_libraries(zf)
        assert libraries, f"{artifact.dist_path} has no native code; pydantic-core needs some"
        for lib in libraries:
            owner = zip_facts.owner_of(lib, dists)
            assert owner is not None, f"{lib} belongs to none of {sorted(dists)}"
            assert owner.tags and all(
                tag.endswith(f"_{machine}") for tag in owner.tags
            ), f"{lib} comes from {owner.dist_info}, tagged {sorted(owner.tags)}, not {machine}"
            assert (
                zip_facts.elf_machine(zf.read(lib)) == zip_facts.ELF_MACHINES[artifact.architecture]
            ), f"{lib} is not {machine} code"
            if ".cpython-" in lib:
                assert lib.endswith(f".cpython-{abi[2:]}-{machine}-linux-gnu.so"), lib


def test_builds_are_reproducible(first_build: Path, second_build: Path) -> None:
    digests = {
        artifact.address: (
            sha256(zip_path(first_build, artifact)),
            sha256(zip_path(second_build, artifact)),
        )
        for artifact in ARTIFACTS
    }
    differing = {address: pair for address, pair in digests.items() if pair[0] != pair[1]}
    assert (
        not differing
    ), f"sha256 differs between two clean builds: {json.dumps(differing, indent=2)}"
