"""The ELF reader, on ELF files built byte by byte (`testutil.elf_builder`) and on a shared object
of the machine."""

from __future__ import annotations

import glob
import os
import struct
import sys
import sysconfig

import pytest

from pants_aws_lambda.requirements import elf
from pants_aws_lambda.testutil.elf_builder import build_elf

NEEDS = {
    "libc.so.6": ["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.28"],
    "libm.so.6": ["GLIBC_2.29"],
    "libgcc_s.so.1": ["GCC_3.0"],
}


@pytest.mark.parametrize("is64", [True, False], ids=["elf64", "elf32"])
@pytest.mark.parametrize("little", [True, False], ids=["le", "be"])
def test_reads_the_version_needs(is64: bool, little: bool) -> None:
    data = build_elf(NEEDS, is64=is64, little=little)
    assert elf.required_versions(data) == {k: frozenset(v) for k, v in NEEDS.items()}
    assert elf.max_glibc(data) == (2, 29)


def test_libc_only() -> None:
    data = build_elf({"libc.so.6": ["GLIBC_2.17", "GLIBC_2.28"]})
    assert elf.required_versions(data) == {"libc.so.6": frozenset({"GLIBC_2.17", "GLIBC_2.28"})}
    assert elf.max_glibc(data) == (2, 28)


def test_no_glibc_versions() -> None:
    assert elf.max_glibc(build_elf({"libgcc_s.so.1": ["GCC_3.0"]})) is None
    assert elf.max_glibc(build_elf({})) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"#!/bin/sh\necho hello\n",
        b"PK\x03\x04" + bytes(100),
        b"\x7fELF",
        b"\x7fELF" + bytes(200),
    ],
    ids=["empty", "script", "zip", "magic-only", "zeros"],
)
def test_not_elf(data: bytes) -> None:
    assert elf.required_versions(data) == {}
    assert elf.max_glibc(data) is None


def test_truncated() -> None:
    data = build_elf({"libc.so.6": ["GLIBC_2.17", "GLIBC_2.28"]})
    # At every length the reader returns, with nothing or part of what the whole file needs.
    for length in range(len(data)):
        found = elf.required_versions(data[:length])
        assert set(found) <= {"libc.so.6"}
        assert found.get("libc.so.6", frozenset()) <= {"GLIBC_2.17", "GLIBC_2.28"}
    # Without its section headers (at the end) nothing is found.
    assert elf.required_versions(data[: len(data) - 3 * 64]) == {}


def test_corrupt_links_end() -> None:
    data = bytearray(build_elf({"libc.so.6": ["GLIBC_2.17"]}))
    # Point the section's string table past the end, and its vn_next at itself.
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    struct.pack_into("<I", data, shoff + 2 * 64 + 40, 99)
    assert elf.required_versions(bytes(data)) == {}
    data = bytearray(build_elf({"libc.so.6": ["GLIBC_2.17"]}))
    verneed_offset = struct.unpack_from("<Q", data, shoff + 2 * 64 + 24)[0]
    struct.pack_into("<I", data, verneed_offset + 12, 0)  # vn_next = 0: fine, one entry
    assert elf.max_glibc(bytes(data)) == (2, 17)


@pytest.mark.parametrize(
    "name, version",
    [("GLIBC_2.28", (2, 28)), ("GLIBC_2.2.5", (2, 2)), ("GLIBC_PRIVATE", None), ("GCC_3.0", None)],
)
def test_glibc_version(name: str, version: tuple[int, int] | None) -> None:
    assert elf.glibc_version(name) == version


@pytest.mark.parametrize(
    "path, expected",
    [
        ("a/_x.cpython-312-x86_64-linux-gnu.so", True),
        ("libs/libfoo.so.1.2", True),
        ("a.py", False),
        ("so.txt", False),
    ],
)
def test_is_shared_object(path: str, expected: bool) -> None:
    assert elf.is_shared_object(path) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a glibc Linux machine")
def test_a_real_shared_object() -> None:
    directory = sysconfig.get_config_var("DESTSHARED") or ""
    candidates = sorted(glob.glob(os.path.join(directory, "*.so")))
    if not candidates:
        pytest.skip(f"no extension modules in {directory!r}")
    found = {path: elf.max_glibc(open(path, "rb").read()) for path in candidates}
    versions = [v for v in found.values() if v is not None]
    assert versions, f"no GLIBC versions needed by any of {candidates}"
    newest = max(versions)
    assert newest[0] == 2 and 2 <= newest[1] < 100, found
