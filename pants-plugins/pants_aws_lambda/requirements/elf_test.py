"""The ELF reader, on ELF files built here byte by byte and on a shared object of the machine."""

from __future__ import annotations

import glob
import os
import struct
import sys
import sysconfig
from typing import Mapping, Sequence

import pytest

from pants_aws_lambda.requirements import elf


def build_elf(
    needs: Mapping[str, Sequence[str]], *, is64: bool = True, little: bool = True
) -> bytes:
    """A minimal ELF shared object whose `.gnu.version_r` needs `needs` (library -> versions).

    Its sections: the null section, a string table (`.dynstr`), and the version needs linked to
    it, as a linker writes them. Nothing in it is loadable; the reader needs only this much.
    """
    e = "<" if little else ">"
    strings = bytearray(b"\0")

    def add(name: str) -> int:
        offset = len(strings)
        strings.extend(name.encode() + b"\0")
        return offset

    verneed = bytearray()
    libraries = list(needs.items())
    for i, (library, versions) in enumerate(libraries):
        entry_size = 16 + 16 * len(versions)
        next_entry = entry_size if i < len(libraries) - 1 else 0
        verneed += struct.pack(e + "HHIII", 1, len(versions), add(library), 16, next_entry)
        for j, version in enumerate(versions):
            next_aux = 16 if j < len(versions) - 1 else 0
            verneed += struct.pack(e + "IHHII", 0x0D696910 + j, 0, 2 + j, add(version), next_aux)

    header_size = 64 if is64 else 52
    shentsize = 64 if is64 else 40
    strtab_offset = header_size
    verneed_offset = strtab_offset + len(strings)
    verneed_offset += -verneed_offset % 4
    shoff = verneed_offset + len(verneed)
    shoff += -shoff % 8
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if little else 2, 1, 0]) + bytes(8)
    if is64:
        header = ident + struct.pack(
            e + "HHIQQQIHHHHHH", 3, 62, 1, 0, 0, shoff, 0, header_size, 0, 0, shentsize, 3, 1
        )
        section = e + "IIQQQQIIQQ"
    else:
        header = ident + struct.pack(
            e + "HHIIIIIHHHHHH", 3, 3, 1, 0, 0, shoff, 0, header_size, 0, 0, shentsize, 3, 1
        )
        section = e + "IIIIIIIIII"
    assert len(header) == header_size
    sections = [
        struct.pack(section, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        struct.pack(section, 0, elf.SHT_STRTAB, 2, 0, strtab_offset, len(strings), 0, 0, 1, 0),
        struct.pack(
            section, 0, elf.SHT_GNU_VERNEED, 2, 0, verneed_offset, len(verneed), 1, len(libraries), 4, 0
        ),
    ]
    data = bytearray(header)
    data += strings
    data += bytes(verneed_offset - len(data))
    data += verneed
    data += bytes(shoff - len(data))
    for s in sections:
        data += s
    return bytes(data)


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
    [b"", b"#!/bin/sh\necho hello\n", b"PK\x03\x04" + bytes(100), b"\x7fELF", b"\x7fELF" + bytes(200)],
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
    [("a/_x.cpython-312-x86_64-linux-gnu.so", True), ("libs/libfoo.so.1.2", True), ("a.py", False), ("so.txt", False)],
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
