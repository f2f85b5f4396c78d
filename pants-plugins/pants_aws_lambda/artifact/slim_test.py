"""Rule tests of slim mode with a real wheel compiled at test time (`testutil.slim_wheel`).

`tinyslim` ships a test suite, a stub, a C source and a Cython declaration, which slim mode
leaves out, and two extension modules: `_plain`, which stripping shrinks, and `_checked`, which
refuses to import once stripped. The proof must catch that: `_checked.so` is kept unstripped, with
a warning that names it, and the function still runs. For x86_64 natively, and for arm64 under
QEMU when an aarch64 cross compiler and an arm64 CPython root are here.
"""

from __future__ import annotations

import logging
import subprocess
import zipfile
from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.artifact import limits
from pants_aws_lambda.testutil import emulated, slim_wheel
from pants_aws_lambda.testutil.interpreters import find_cpython
from pants_aws_lambda.testutil.require import REQUIRE_EMULATION_ENV, unavailable
from pants_aws_lambda.testutil.rules import (  # noqa: F401 (the fixture)
    assert_package_error,
    package_zip,
    rule_runner,
    set_options,
)
from pants_aws_lambda.testutil.wheels import lock

HANDLER = "import tinyslim\n\ndef handler(event, context):\n    return {'plain': tinyslim._plain.__name__}\n"


def _write_function(
    rule_runner: RuleRunner, tmp_path: Path, architecture: str, runtime: str, *options: str
) -> dict[str, bytes]:
    wheels = tmp_path / "wheels"
    files = slim_wheel.build(wheels, tmp_path / "build", architecture)
    lock_text = lock(wheels, tmp_path / "tiny.lock", "tinyslim==1.0", slim_wheel.wheel_name(architecture))
    common = (
        f"handler='app.py:handler', runtime='{runtime}', architecture='{architecture}', "
        "bytecode='none', dependencies=[':req'], resolve='tiny'"
    )
    rule_runner.write_files(
        {
            "lock/tiny.lock": lock_text,
            "src/proj/app.py": HANDLER,
            "src/proj/BUILD": (
                "python_sources(resolve='tiny')\n"
                "python_requirement(name='req', requirements=['tinyslim==1.0'], resolve='tiny')\n"
                # Slim by the repository-wide option, and one that opts out by its field.
                f"python_aws_lambda_function(name='fn', {common})\n"
                f"python_aws_lambda_function(name='fat', slim=False, {common})\n"
            ),
        }
    )
    set_options(
        rule_runner,
        "--python-resolves={'python-default': 'lock/default.lock', 'tiny': 'lock/tiny.lock'}",
        "--python-invalid-lockfile-behavior=ignore",
        f"--python-repos-find-links=['file://{wheels}']",
        "--aws-lambda-slim",
        *options,
    )
    return files


LEFT_OUT = {
    "tests": ("tinyslim/tests/__init__.py", "tinyslim/tests/test_tinyslim.py"),
    "type stubs": ("tinyslim/__init__.pyi",),
    "C/C++ sources and headers": ("tinyslim/src/tinyslim.c",),
    "Cython sources": ("tinyslim/tinyslim.pxd",),
}


def _check_slimmed(zf: zipfile.ZipFile, lines: tuple[str, ...], files: dict[str, bytes], log: str) -> None:
    names = set(zf.namelist())
    for paths in LEFT_OUT.values():
        assert not names & set(paths), names
    # Kept: metadata, the typed marker, the package.
    for kept in ("tinyslim/py.typed", "tinyslim/__init__.py", "tinyslim-1.0.dist-info/METADATA",
                 "tinyslim-1.0.dist-info/RECORD"):
        assert kept in names, names
    # The shared object whose import fails stripped is kept as it was; the other one is stripped.
    assert zf.read("tinyslim/_checked.so") == files["tinyslim/_checked.so"]
    plain = zf.read("tinyslim/_plain.so")
    assert plain[:4] == b"\x7fELF" and len(plain) < len(files["tinyslim/_plain.so"])
    report = "\n".join(lines)
    for kind, paths in LEFT_OUT.items():
        saved = sum(len(files[p]) for p in paths)
        assert f"{kind} {limits.format_bytes(saved)} ({len(paths)} file" in report, report
    stripped = len(files["tinyslim/_plain.so"]) - len(plain)
    assert f"stripped symbols {limits.format_bytes(stripped)} (1 file)" in report, report
    assert "1 distributions' metadata checked" in report and "2 extension modules" in report, report
    assert "Slim kept: tinyslim/_checked.so kept unstripped" in report, report
    text = " ".join(log.split())
    for fragment in ("src/proj:fn", "tinyslim/_checked.so", "kept unstripped", "my symbol table was stripped"):
        assert fragment in text, f"{fragment!r} not in:\n{log}"


def _run_handler(command: list[str], zf: zipfile.ZipFile, tmp_path: Path) -> str:
    root = tmp_path / "task"
    zf.extractall(root)
    proc = subprocess.run(
        [*command, "-I", "-S", "-c",
         "import sys; sys.path.insert(0, '.'); import lambda_function; print(lambda_function.handler({}, None))"],
        cwd=root, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _package(rule_runner: RuleRunner, name: str) -> tuple[zipfile.ZipFile, tuple[str, ...]]:
    zf, built = package_zip(rule_runner, Address("src/proj", target_name=name))
    return zf, built.artifacts[0].extra_log_lines


def test_slim_x86_64_keeps_what_breaks_and_saves_per_kind(rule_runner: RuleRunner, tmp_path: Path, caplog) -> None:
    python = find_cpython("3.12")
    if python is None:
        pytest.skip("no CPython 3.12 here to prove a python3.12 artifact with")
    files = _write_function(rule_runner, tmp_path, "x86_64", "python3.12")
    with caplog.at_level(logging.WARNING):
        zf, lines = _package(rule_runner, "fn")
    _check_slimmed(zf, lines, files, caplog.text)
    assert "(natively)" in "\n".join(lines)
    assert _run_handler([python], zf, tmp_path) == "{'plain': 'tinyslim._plain'}"
    # `slim=False` on the target wins over `[aws-lambda].slim`.
    fat, fat_lines = _package(rule_runner, "fat")
    assert "tinyslim/tests/test_tinyslim.py" in fat.namelist()
    assert fat.read("tinyslim/_plain.so") == files["tinyslim/_plain.so"]
    assert not any("Slim" in line for line in fat_lines)


def test_slim_arm64_under_qemu(rule_runner: RuleRunner, tmp_path: Path, caplog) -> None:
    if slim_wheel.compiler("arm64") is None:
        unavailable(
            "no aarch64 C cross compiler (`aarch64-linux-gnu-gcc`; `.ci/slim-tools` installs it)",
            REQUIRE_EMULATION_ENV,
        )
    root = emulated.require_root("3.13", "arm64")
    files = _write_function(
        rule_runner, tmp_path, "arm64", "python3.13", f"--lambda-invoke-interpreter-roots={{'arm64': ['{root}']}}"
    )
    with caplog.at_level(logging.WARNING):
        zf, lines = _package(rule_runner, "fn")
    _check_slimmed(zf, lines, files, caplog.text)
    assert "(under QEMU)" in "\n".join(lines)
    command = [emulated.emulator("arm64"), "-L", root, f"{root}/usr/bin/python3.13"]
    assert _run_handler(command, zf, tmp_path) == "{'plain': 'tinyslim._plain'}"


def test_slim_without_an_interpreter_for_the_proof_is_refused(rule_runner: RuleRunner, tmp_path: Path) -> None:
    if slim_wheel.compiler("arm64") is None:
        pytest.skip("no aarch64 C cross compiler (`aarch64-linux-gnu-gcc`; `.ci/slim-tools` installs it)")
    # No root for arm64: nothing here runs an arm64 CPython 3.12.
    _write_function(rule_runner, tmp_path, "arm64", "python3.12", "--lambda-invoke-interpreter-roots={}")
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "`slim` field",
        "[aws-lambda].slim",
        "python3.12 on arm64",
        "qemu-user-static",
        "interpreter_roots",
        "slim=False",
        "No artifact was written",
    )
    assert not list(Path(rule_runner.build_root, "dist").rglob("*.zip"))
