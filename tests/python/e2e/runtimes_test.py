"""End to end, across today's runtimes and both CPUs: `./pants package` functions with compiled
dependencies (numpy, pydantic-core, orjson, cryptography) in a fresh copy of the repository, then
import and call their handlers with the runtime's CPython from the read-only unpacked zip.

- python3.12 and python3.13 on x86_64 run with this machine's CPythons (as in package_test.py);
- python3.14 on x86_64 runs with Debian sid's CPython 3.14, and arm64 python3.11 and python3.13
  with Debian bookworm's and trixie's, all under QEMU's user-mode emulator (see
  `pants_aws_lambda.testutil.emulated`).

One nested `./pants package` call builds every artifact. The checks are on real values computed
by the shipped native code, and every compiled library in each zip must be for the function's
CPU and its CPython's ABI.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

import pytest

from e2e import zip_facts
from e2e.repo import (
    Artifact,
    invoke,
    module_dir,
    packaged_copy,
    require_host_for,
    unpack_read_only,
)
from pants_aws_lambda.testutil import emulated
from pants_aws_lambda.testutil.interpreters import require_cpython


@dataclass(frozen=True)
class Case:
    artifact: Artifact
    emulated: bool  # run by a Debian CPython under QEMU rather than the machine's own
    app: str  # "modern" or "pydantic"

    @property
    def id(self) -> str:
        return f"{self.artifact.runtime}-{self.artifact.architecture}-{self.app}"


MODERN = "src/python/examples/modern"
PYDANTIC_APP = "src/python/examples/pydantic_app"
CASES = (
    Case(Artifact(f"{PYDANTIC_APP}:lambda", "python3.12", "x86_64"), False, "pydantic"),
    Case(Artifact(f"{MODERN}:lambda", "python3.13", "x86_64"), False, "modern"),
    Case(Artifact(f"{MODERN}:lambda-py314", "python3.14", "x86_64"), True, "modern"),
    Case(Artifact(f"{PYDANTIC_APP}:lambda-py311-arm64", "python3.11", "arm64"), True, "pydantic"),
    Case(Artifact(f"{MODERN}:lambda-arm64", "python3.13", "arm64"), True, "modern"),
)
CASE_IDS = tuple(case.id for case in CASES)

READINGS = {"a": [1.0, 2.0, 4.5], "b": [-3.25, 0.5]}
SERIES_EVENT = {"series": [{"name": name, "readings": values} for name, values in READINGS.items()]}
# Like package_test.py's order, with its own values: the expected total below is written from them.
ORDER = {
    "order_id": "7",  # pydantic (lax mode) turns the string into an int
    "customer": "Grace",
    "items": [
        {"sku": "tape", "quantity": 2, "unit_price_cents": 325},
        {"sku": "glue", "quantity": 5, "unit_price_cents": 99},
    ],
}

# ELF e_machine and the wheel platform tags' CPU, by Lambda architecture.
CPUS = {"x86_64": "x86_64", "arm64": "aarch64"}
# Extension modules: `_rust.abi3.so`, `_pydantic_core.cpython-313-aarch64-linux-gnu.so`; other
# shared libraries (`numpy.libs/libscipy_openblas64_-....so`) carry no ABI tag.
_EXTENSION_SUFFIX = re.compile(r"\.(?:abi3|cpython-(\d+)(t?)-([a-z0-9_]+)-linux-gnu)\.so$")


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_dir(tmp_path_factory, "e2e-runtimes")


@pytest.fixture(scope="module")
def buildroot(work_dir: Path) -> Path:
    """A fresh copy of the repository after one `./pants package` of every case's artifact."""
    return packaged_copy(work_dir / "repo", (case.artifact for case in CASES))


def zip_path(buildroot: Path, artifact: Artifact) -> Path:
    return buildroot / artifact.dist_path


def unpacked(work_dir: Path, buildroot: Path, case: Case) -> Path:
    dest = work_dir / "unpacked" / case.id
    if not dest.exists():
        unpack_read_only(zip_path(buildroot, case.artifact), dest)
    return dest


def interpreter(case: Case) -> str | list[str]:
    """The runtime's CPython for the case: the machine's own, or an emulated Debian one."""
    artifact = case.artifact
    if case.emulated:
        return emulated.require_python(artifact.python_version, artifact.architecture)
    require_host_for(artifact)
    return require_cpython(artifact.python_version)


def abi_problems(name: str, data: bytes, artifact: Artifact) -> list[str]:
    """How a shared library of the zip departs from the function's CPU and CPython ABI."""
    problems = []
    expected_cpu = CPUS[artifact.architecture]
    machine = zip_facts.elf_machine(data)
    if machine != zip_facts.ELF_MACHINES[artifact.architecture]:
        problems.append(
            f"{name}: ELF e_machine {machine}, expected "
            f"{zip_facts.ELF_MACHINES[artifact.architecture]} ({expected_cpu})"
        )
    if data[4] != 2:
        problems.append(f"{name}: not a 64-bit ELF file")
    suffix = _EXTENSION_SUFFIX.search(PurePosixPath(name).name)
    if suffix and suffix.group(1):
        nodot = artifact.python_version.replace(".", "")
        if suffix.group(1) != nodot or suffix.group(2):
            problems.append(
                f"{name}: built for CPython ABI cp{suffix.group(1)}{suffix.group(2)}, "
                f"expected cp{nodot}"
            )
        if suffix.group(3) != expected_cpu:
            problems.append(f"{name}: named for {suffix.group(3)}, expected {expected_cpu}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_native_code_is_for_the_runtime_cpu_and_abi(buildroot: Path, case: Case) -> None:
    artifact = case.artifact
    with zipfile.ZipFile(zip_path(buildroot, artifact)) as zf:
        libraries = zip_facts.native_libraries(zf)
        dists = zip_facts.distributions(zf)
        problems = [p for name in libraries for p in abi_problems(name, zf.read(name), artifact)]
        extensions = [n for n in libraries if _EXTENSION_SUFFIX.search(PurePosixPath(n).name)]
    assert not problems, f"{artifact.dist_path}:\n" + "\n".join(problems[:40])
    # The extension modules the handlers import are all there (a zip without them would pass the
    # per-file checks above).
    expected = {"pydantic_core/_pydantic_core"}
    if case.app == "modern":
        expected |= {
            "numpy/_core/_multiarray_umath",
            "orjson/orjson",
            "cryptography/hazmat/bindings/_rust",
        }
    stems = {_EXTENSION_SUFFIX.sub("", n) for n in extensions}
    assert expected <= stems, f"{artifact.dist_path} lacks {sorted(expected - stems)}"
    # Every wheel with compiled code was chosen for the runtime: its tags name the CPU and either
    # the runtime's CPython or the stable ABI.
    nodot = artifact.python_version.replace(".", "")
    compiled = ["pydantic-core"]
    if case.app == "modern":
        compiled += ["numpy", "orjson", "cryptography"]
    for project in compiled:
        tags = dists[project].tags
        assert any(
            t.endswith(CPUS[artifact.architecture]) and (f"-cp{nodot}-" in t or "-abi3-" in t)
            for t in tags
        ), f"{project} in {artifact.dist_path}: WHEEL tags {sorted(tags)}"


def _expected_summary(name: str, values: list[float]) -> dict[str, object]:
    return {
        "name": name,
        "mean": math.fsum(values) / len(values),
        "max": max(values),
        "sha256": hashlib.sha256(struct.pack(f"<{len(values)}d", *values)).hexdigest(),
    }


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_handler_runs_with_the_runtime_cpython(work_dir: Path, buildroot: Path, case: Case) -> None:
    artifact = case.artifact
    python = interpreter(case)
    task_root = unpacked(work_dir, buildroot, case)
    with zipfile.ZipFile(zip_path(buildroot, artifact)) as zf:
        shipped = {name: d.version for name, d in zip_facts.distributions(zf).items()}

    event = SERIES_EVENT if case.app == "modern" else ORDER
    report = invoke(python, task_root, event, work_dir, function_name=f"e2e-{case.id}")

    assert report["python"].startswith(artifact.python_version + "."), report["python"]
    assert report["machine"] == CPUS[artifact.architecture]
    assert report["foreign_modules"] == [], "imported from outside the task root and stdlib"
    assert report["sys_path"][0] == str(task_root)
    # The compiled modules the handler used are the shipped ones.
    natives = ["pydantic_core._pydantic_core"]
    if case.app == "modern":
        natives += ["numpy._core._multiarray_umath", "cryptography.hazmat.bindings._rust"]
    for module in natives:
        path = report["modules"][module]
        assert path and path.endswith(".so"), f"{module} was not imported from a library: {path}"
        assert Path(path).is_relative_to(task_root), f"{module} came from {path}"

    result = report["result"]
    if case.app == "modern":
        assert result["statusCode"] == 200, result
        assert result["python"] == artifact.python_version
        assert json.loads(result["body"]) == [_expected_summary(n, v) for n, v in READINGS.items()]
        # Compact, sorted keys: orjson's bytes, not the json module's.
        body_start = '[{"max":4.5,"mean":2.5,"name":"a","sha256":"'
        assert result["body"].startswith(body_start), result["body"]
        assert result["versions"] == {
            "numpy": shipped["numpy"],
            "pydantic": shipped["pydantic"],
            "orjson": shipped["orjson"],
            "cryptography": shipped["cryptography"],
        }
        assert result["check"] == hashlib.sha256(b"lambda").hexdigest()[:8]
    else:
        assert result == {
            "statusCode": 200,
            "order": {"order_id": 7, "customer": "Grace", "items": ORDER["items"]},
            "total_cents": 2 * 325 + 5 * 99,
            "pydantic_version": shipped["pydantic"],
            "request_id": report["request_id"],
        }


# The handler's error paths do not depend on the CPU; emulated arm64, each call costs half a minute.
REJECTING = [c for c in CASES if c.app == "modern" and c.artifact.architecture == "x86_64"]


@pytest.mark.parametrize("case", REJECTING, ids=[c.id for c in REJECTING])
def test_handler_rejects_a_bad_event(work_dir: Path, buildroot: Path, case: Case) -> None:
    """pydantic's validation errors and the `match` fallback, with the runtime's CPython."""
    python = interpreter(case)
    task_root = unpacked(work_dir, buildroot, case)

    bad = invoke(python, task_root, {"rows": []}, work_dir)
    assert bad["result"]["statusCode"] == 400
    assert "series" in json.loads(bad["result"]["body"])["error"]

    with pytest.raises(AssertionError, match="ValidationError"):
        invoke(python, task_root, {"series": [{"name": "", "readings": []}]}, work_dir)
