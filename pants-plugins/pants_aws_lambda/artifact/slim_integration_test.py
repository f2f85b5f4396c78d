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
from typing import Dict, Tuple

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.artifact import sizes
from pants_aws_lambda.testutil import emulated, slim_wheel
from pants_aws_lambda.testutil.interpreters import find_cpython
from pants_aws_lambda.testutil.require import (
    REQUIRE_EMULATION_ENV,
    REQUIRE_INTERPRETERS_ENV,
    unavailable,
)
from pants_aws_lambda.testutil.rules import (
    assert_package_error,
    new_rule_runner,
    package_zip,
    set_options,
)
from pants_aws_lambda.testutil.wheels import lock

HANDLER = (
    "import tinyslim\n\n"
    "def handler(event, context):\n    return {'plain': tinyslim._plain.__name__}\n"
)
# Target -> (runtime, architecture, extra fields). `fn` is slim by the repository-wide option,
# `fat` opts out by its field; nothing here runs an arm64 CPython 3.12 to prove `refused`.
TARGETS = {
    "fn": ("python3.12", "x86_64", ""),
    "fat": ("python3.12", "x86_64", "slim=False, "),
    "fn-arm64": ("python3.13", "arm64", ""),
    "refused": ("python3.12", "arm64", ""),
}


def _arm64_root() -> str | None:
    """The arm64 CPython 3.13 root that proves `fn-arm64`, when this machine has or can build
    one."""
    if slim_wheel.compiler("arm64") is None:
        return None
    try:
        return emulated.require_root("3.13", "arm64")
    except (pytest.skip.Exception, pytest.fail.Exception):
        # Its own test skips or fails with the reason.
        return None


# The module's rule runner, and the files of the slim wheel for each CPU.
SlimRepo = Tuple[RuleRunner, Dict[str, Dict[str, bytes]]]


@pytest.fixture(scope="module")
def slim_repo(
    tmp_path_factory: pytest.TempPathFactory,
) -> SlimRepo:
    """One rule runner for every test here (its processes are shared): the wheel for each CPU
    this machine can compile it for, one lockfile of them, and the targets of `TARGETS`."""
    tmp_path = tmp_path_factory.mktemp("slim")
    rule_runner = new_rule_runner()
    wheels = tmp_path / "wheels"
    architectures = [a for a in slim_wheel.COMPILERS if slim_wheel.compiler(a)]
    files = {a: slim_wheel.build(wheels, tmp_path / f"build-{a}", a) for a in architectures}
    lock_text = lock(
        wheels,
        tmp_path / "tiny.lock",
        "tinyslim==1.0",
        *(slim_wheel.wheel_name(a) for a in architectures),
    )
    targets = "".join(
        f"python_aws_lambda_function(name='{name}', handler='app.py:handler', runtime='{runtime}', "
        f"architecture='{architecture}', {fields}bytecode='none', dependencies=[':req'], "
        "resolve='tiny')\n"
        for name, (runtime, architecture, fields) in TARGETS.items()
    )
    rule_runner.write_files(
        {
            "lock/tiny.lock": lock_text,
            "src/proj/app.py": HANDLER,
            "src/proj/BUILD": (
                "python_sources(resolve='tiny')\n"
                "python_requirement(name='req', requirements=['tinyslim==1.0'], resolve='tiny')\n"
                + targets
            ),
        }
    )
    root = _arm64_root()
    set_options(
        rule_runner,
        "--python-resolves={'python-default': 'lock/default.lock', 'tiny': 'lock/tiny.lock'}",
        "--python-invalid-lockfile-behavior=ignore",
        f"--python-repos-find-links=['file://{wheels}']",
        "--aws-lambda-slim",
        f"--lambda-invoke-interpreter-roots={{'arm64': {[root] if root else []!r}}}",
    )
    return rule_runner, files


LEFT_OUT = {
    "tests": ("tinyslim/tests/__init__.py", "tinyslim/tests/test_tinyslim.py"),
    "type stubs": ("tinyslim/__init__.pyi",),
    "C/C++ sources and headers": ("tinyslim/src/tinyslim.c",),
    "Cython sources": ("tinyslim/tinyslim.pxd",),
}


def _check_slimmed(
    zf: zipfile.ZipFile, lines: tuple[str, ...], files: dict[str, bytes], log: str
) -> None:
    names = set(zf.namelist())
    for paths in LEFT_OUT.values():
        assert not names & set(paths), names
    # Kept: metadata, the typed marker, the package.
    for kept in (
        "tinyslim/py.typed",
        "tinyslim/__init__.py",
        "tinyslim-1.0.dist-info/METADATA",
        "tinyslim-1.0.dist-info/RECORD",
    ):
        assert kept in names, names
    # The shared object whose import fails stripped is kept as it was; the other one is stripped.
    assert zf.read("tinyslim/_checked.so") == files["tinyslim/_checked.so"]
    plain = zf.read("tinyslim/_plain.so")
    assert plain[:4] == b"\x7fELF" and len(plain) < len(files["tinyslim/_plain.so"])
    report = "\n".join(lines)
    for kind, paths in LEFT_OUT.items():
        saved = sum(len(files[p]) for p in paths)
        assert f"{kind} {sizes.format_bytes(saved)} ({len(paths)} file" in report, report
    stripped = len(files["tinyslim/_plain.so"]) - len(plain)
    assert f"stripped symbols {sizes.format_bytes(stripped)} (1 file)" in report, report
    assert "1 distributions' metadata checked" in report and "2 extension modules" in report, report
    assert "Slim kept: tinyslim/_checked.so kept unstripped" in report, report
    text = " ".join(log.split())
    for fragment in (
        "src/proj:fn",
        "tinyslim/_checked.so",
        "kept unstripped",
        "my symbol table was stripped",
    ):
        assert fragment in text, f"{fragment!r} not in:\n{log}"


def _run_handler(command: list[str], zf: zipfile.ZipFile, tmp_path: Path) -> str:
    root = tmp_path / "task"
    zf.extractall(root)
    proc = subprocess.run(
        [
            *command,
            "-I",
            "-S",
            "-c",
            "import sys; sys.path.insert(0, '.'); import lambda_function; "
            "print(lambda_function.handler({}, None))",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _package(rule_runner: RuleRunner, name: str) -> tuple[zipfile.ZipFile, tuple[str, ...]]:
    zf, built = package_zip(rule_runner, Address("src/proj", target_name=name))
    return zf, built.artifacts[0].extra_log_lines


def test_slim_x86_64_keeps_what_breaks_and_saves_per_kind(
    slim_repo: SlimRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rule_runner, files_by_architecture = slim_repo
    python = find_cpython("3.12")
    if python is None:
        unavailable(
            "no CPython 3.12 here to prove a python3.12 artifact with", REQUIRE_INTERPRETERS_ENV
        )
    files = files_by_architecture["x86_64"]
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


def test_slim_arm64_under_qemu(
    slim_repo: SlimRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rule_runner, files_by_architecture = slim_repo
    if slim_wheel.compiler("arm64") is None:
        unavailable(
            "no aarch64 C cross compiler (`aarch64-linux-gnu-gcc`; `.ci/slim-tools` installs it)",
            REQUIRE_EMULATION_ENV,
        )
    root = emulated.require_root("3.13", "arm64")
    with caplog.at_level(logging.WARNING):
        zf, lines = _package(rule_runner, "fn-arm64")
    _check_slimmed(zf, lines, files_by_architecture["arm64"], caplog.text)
    assert "(under QEMU)" in "\n".join(lines)
    command = [emulated.emulator("arm64"), "-L", root, f"{root}/usr/bin/python3.13"]
    assert _run_handler(command, zf, tmp_path) == "{'plain': 'tinyslim._plain'}"


def test_slim_without_an_interpreter_for_the_proof_is_refused(slim_repo: SlimRepo) -> None:
    rule_runner, files_by_architecture = slim_repo
    if "arm64" not in files_by_architecture:
        unavailable(
            "no aarch64 C cross compiler (`aarch64-linux-gnu-gcc`; `.ci/slim-tools` installs it)",
            REQUIRE_EMULATION_ENV,
        )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="refused"),
        "src/proj:refused",
        "`slim` field",
        "[aws-lambda].slim",
        "python3.12 on arm64",
        "qemu-user-static",
        "interpreter_roots",
        "slim=False",
        "No artifact was written",
    )
    assert not list(Path(rule_runner.build_root, "dist").rglob("refused.zip"))
