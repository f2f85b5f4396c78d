"""Minimal ELF shared objects, built byte by byte, that need chosen symbol versions.

For the tests of the ELF reader and of the glibc check of linux wheels.
"""

from __future__ import annotations

import struct
from typing import Mapping, Sequence

# Section types of the ELF specification (the GNU extension for version needs).
SHT_STRTAB = 3
SHT_GNU_VERNEED = 0x6FFFFFFE


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
        struct.pack(section, 0, SHT_STRTAB, 2, 0, strtab_offset, len(strings), 0, 0, 1, 0),
        struct.pack(
            section, 0, SHT_GNU_VERNEED, 2, 0, verneed_offset, len(verneed), 1, len(libraries), 4, 0
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
