"""The symbol versions an ELF shared object needs from the libraries it links: its glibc.

A wheel's platform tag is a promise about the glibc its compiled code needs (`manylinux_2_17`
says 2.17 or newer is enough); a bare `linux_x86_64` tag promises nothing. What a shared object
really needs is recorded in it: the dynamic linker refuses to load it unless every version in its
`.gnu.version_r` section (`SHT_GNU_verneed`) is provided, e.g. `GLIBC_2.28` from `libc.so.6`.

This module reads that section, and nothing else, from the bytes of an ELF file: ELF32 and
ELF64, little and big endian. Anything that is not such a file (a script, a truncated or corrupt
file) yields no requirements instead of raising.

No Pants engine imports: the rules, the tests and any script use it alike.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Iterable, Mapping

from pants_aws_lambda.facts.manylinux import GlibcVersion

_ELF_MAGIC = b"\x7fELF"
_ELFCLASS32 = 1
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
_ELFDATA2MSB = 2
SHT_GNU_VERNEED = 0x6FFFFFFE

# Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next; Vernaux: vna_hash, vna_flags, vna_other,
# vna_name, vna_next. Both are the same size in ELF32 and ELF64.
_VERNEED = "HHIII"
_VERNAUX = "IHHII"
# A bound on the entries walked, so that a corrupt file with cyclic links ends.
_MAX_ENTRIES = 65536

_GLIBC_VERSION = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class _Header:
    endian: str  # "<" or ">"
    is64: bool
    shoff: int
    shentsize: int
    shnum: int


def _header(data: bytes) -> _Header | None:
    if len(data) < 0x34 or data[:4] != _ELF_MAGIC:
        return None
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (_ELFCLASS32, _ELFCLASS64) or ei_data not in (_ELFDATA2LSB, _ELFDATA2MSB):
        return None
    endian = "<" if ei_data == _ELFDATA2LSB else ">"
    is64 = ei_class == _ELFCLASS64
    try:
        if is64:
            # e_shoff at 0x28 (8 bytes); e_shentsize, e_shnum at 0x3A.
            (shoff,) = struct.unpack_from(endian + "Q", data, 0x28)
            shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
        else:
            (shoff,) = struct.unpack_from(endian + "I", data, 0x20)
            shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x2E)
    except struct.error:
        return None
    if shoff == 0:
        return None
    if shnum == 0:
        # More than 0xff00 sections: the real count is the first section header's sh_size.
        size_at = shoff + (0x20 if is64 else 0x14)
        try:
            (shnum,) = struct.unpack_from(endian + ("Q" if is64 else "I"), data, size_at)
        except struct.error:
            return None
    return _Header(endian, is64, shoff, shentsize, shnum)


@dataclass(frozen=True)
class _Section:
    type: int
    offset: int
    size: int
    link: int
    info: int


def _sections(data: bytes, header: _Header) -> list[_Section]:
    fmt = header.endian + ("IIQQQQIIQQ" if header.is64 else "IIIIIIIIII")
    needed = struct.calcsize(fmt)
    if header.shentsize < needed:
        return []
    sections = []
    for i in range(header.shnum):
        start = header.shoff + i * header.shentsize
        if start + needed > len(data):
            break  # truncated: keep what was read
        _name, sh_type, _flags, _addr, offset, size, link, info, _align, _entsize = (
            struct.unpack_from(fmt, data, start)
        )
        sections.append(_Section(sh_type, offset, size, link, info))
    return sections


def _string(data: bytes, table: _Section, offset: int) -> str | None:
    start = table.offset + offset
    end_of_table = min(table.offset + table.size, len(data))
    if offset >= table.size or start >= end_of_table:
        return None
    end = data.find(b"\0", start, end_of_table)
    if end < 0:
        return None
    return data[start:end].decode("ascii", errors="replace")


def required_versions(data: bytes) -> dict[str, frozenset[str]]:
    """Library file name (`libc.so.6`) -> the symbol versions the ELF file `data` needs from it.

    Empty for anything that is not an ELF file, and for one that needs no versioned symbols.
    Entries of a truncated or corrupt file are read as far as they are intact.
    """
    header = _header(data)
    if header is None:
        return {}
    sections = _sections(data, header)
    needs: dict[str, set[str]] = {}
    for section in sections:
        if section.type != SHT_GNU_VERNEED or not 0 <= section.link < len(sections):
            continue
        strings = sections[section.link]
        end = min(section.offset + section.size, len(data))
        verneed_size = struct.calcsize(_VERNEED)
        vernaux_size = struct.calcsize(_VERNAUX)
        offset = section.offset
        walked = 0
        # sh_info holds the number of Verneed entries; vn_next links them (0 ends the list).
        for _ in range(section.info or _MAX_ENTRIES):
            if offset + verneed_size > end or walked > _MAX_ENTRIES:
                break
            _version, count, file_name, aux, next_entry = struct.unpack_from(
                header.endian + _VERNEED, data, offset
            )
            library = _string(data, strings, file_name)
            versions = needs.setdefault(library or "?", set())
            aux_offset = offset + aux
            for _ in range(count):
                walked += 1
                if aux_offset + vernaux_size > end or walked > _MAX_ENTRIES:
                    break
                _hash, _flags, _other, name, next_aux = struct.unpack_from(
                    header.endian + _VERNAUX, data, aux_offset
                )
                version = _string(data, strings, name)
                if version:
                    versions.add(version)
                if next_aux == 0:
                    break
                aux_offset += next_aux
            if next_entry == 0:
                break
            offset += next_entry
    return {library: frozenset(versions) for library, versions in needs.items() if versions}


def glibc_version(symbol_version: str) -> GlibcVersion | None:
    """`GLIBC_2.28` -> (2, 28); `GLIBC_2.2.5` -> (2, 2); None for other names (`GLIBC_PRIVATE`)."""
    match = _GLIBC_VERSION.match(symbol_version)
    return GlibcVersion(int(match.group(1)), int(match.group(2))) if match else None


def max_glibc(data: bytes) -> GlibcVersion | None:
    """The newest `GLIBC_x.y` version the ELF file `data` needs, or None if it needs none."""
    return max_glibc_of(required_versions(data))


def max_glibc_of(requirements: Mapping[str, Iterable[str]]) -> GlibcVersion | None:
    found = [
        v for versions in requirements.values() for name in versions if (v := glibc_version(name))
    ]
    return max(found) if found else None


def is_shared_object(path: str) -> bool:
    """Whether a file name is a shared object's: `*.so` or `*.so.*` (`libfoo.so.1.2`)."""
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".so") or ".so." in name
