"""Rule tests: a locked wheel tagged `linux_x86_64`, whose tags say nothing about glibc.

The test builds a tiny wheel, `tinyext-1.0-py3-none-linux_x86_64.whl`, holding `tinyext.so`: an
ELF file (built byte by byte, see `testutil.elf_builder`) whose version needs name GLIBC_2.17 or
GLIBC_2.99 from `libc.so.6`. It locks it with the pinned pex from a `--find-links` directory, as
a user serving a home-built wheel would. With GLIBC_2.17 (python3.12 has glibc 2.34) the function
is packaged and a warning names the wheel and the glibc it needs; with GLIBC_2.99 it is refused,
and no zip is written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.testutil.elf_builder import build_elf
from pants_aws_lambda.testutil.rules import (
    assert_package_error,
    package_zip,
    set_options,
)
from pants_aws_lambda.testutil.wheels import lock, write_wheel

WHEEL = "tinyext-1.0-py3-none-linux_x86_64.whl"


def build_wheel(directory: Path, so: bytes) -> Path:
    return write_wheel(directory, "tinyext", "1.0", "py3-none-linux_x86_64", {"tinyext.so": so})


def write_tinyext_function(rule_runner: RuleRunner, tmp_path: Path, glibc: str) -> Address:
    wheels_dir = tmp_path / "wheels"
    build_wheel(wheels_dir, build_elf({"libc.so.6": ["GLIBC_2.2.5", glibc]}))
    lock_text = lock(wheels_dir, tmp_path / "tiny.lock", "tinyext==1.0", WHEEL)
    rule_runner.write_files(
        {
            "lock/tiny.lock": lock_text,
            "src/proj/app.py": "def handler(event, context):\n    return 1\n",
            "src/proj/BUILD": (
                "python_sources(resolve='tiny')\n"
                "python_requirement(name='req', requirements=['tinyext==1.0'], resolve='tiny')\n"
                "python_aws_lambda_function(name='fn', handler='app.py:handler', "
                "runtime='python3.12',"
                " bytecode='none', dependencies=[':req'], resolve='tiny')\n"
            ),
        }
    )
    set_options(
        rule_runner,
        "--python-resolves={'python-default': 'lock/default.lock', 'tiny': 'lock/tiny.lock'}",
        "--python-invalid-lockfile-behavior=ignore",
        f"--python-repos-find-links=['file://{wheels_dir}']",
    )
    return Address("src/proj", target_name="fn")


def test_bare_linux_wheel_within_the_runtimes_glibc_warns(
    rule_runner: RuleRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    address = write_tinyext_function(rule_runner, tmp_path, "GLIBC_2.17")
    with caplog.at_level(logging.WARNING):
        zf, _ = package_zip(rule_runner, address)
    assert "tinyext.so" in zf.namelist()
    text = " ".join(caplog.text.split())
    for fragment in (
        "src/proj:fn",
        "tinyext==1.0",
        WHEEL,
        "says nothing about the glibc",
        "require glibc 2.17",
        "GLIBC_2.17 in tinyext.so",
        "the runtime has glibc 2.34",
    ):
        assert fragment in text, f"{fragment!r} not in:\n{caplog.text}"


def test_bare_linux_wheel_needing_a_newer_glibc_is_refused(
    rule_runner: RuleRunner, tmp_path: Path
) -> None:
    address = write_tinyext_function(rule_runner, tmp_path, "GLIBC_2.99")
    message = assert_package_error(
        rule_runner,
        address,
        "src/proj:fn",
        "python3.12 on x86_64",
        "tinyext==1.0",
        "GLIBC_2.99",
        "glibc 2.34",
        "auditwheel repair",
        "manylinux",
        "another release",
    )
    assert "says nothing about glibc" in " ".join(message.split())
    assert not list(Path(rule_runner.build_root, "dist").rglob("*.zip"))
