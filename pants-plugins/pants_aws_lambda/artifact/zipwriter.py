"""Write a directory tree as a reproducible zip for AWS Lambda.

Runs as a standalone script in a sandboxed process (stdlib only, any CPython 3.8+):

    python zipwriter.py SOURCE_DIR OUTPUT_ZIP [--import-root DIR] [--merge PART_ZIP ...]

Entries are sorted, every timestamp is 1980-01-01 00:00:00, directories are 0755, files are 0644
(0755 when executable), paths are relative, and symlinks are refused. Files are deflated at level
9. The zip format is written here rather than by `zipfile`, so the bytes depend on this script and
zlib only, not on the interpreter's `zipfile` version.

`--merge` takes zips this script wrote before (an artifact's third-party part, compressed once and
cached) and copies their entries into the output as they are, compressed data included, in name
order with the tree's entries: the result is the same bytes as writing both trees in one go, but
only the tree's own files are compressed. A file in two inputs is refused.

It prints a JSON report (`zipped_bytes`, `unzipped_bytes`, `files`, and `top_level`: unzipped bytes
per top-level entry of the import root, the directory inside the zip that goes on `sys.path`, by
default the zip's root).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import struct
import sys
import zlib
from typing import BinaryIO, Iterable, NamedTuple

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_DIR_MODE = stat.S_IFDIR | 0o755
_EXEC_MODE = stat.S_IFREG | 0o755
_FILE_MODE = stat.S_IFREG | 0o644
COMPRESS_LEVEL = 9

# Beyond these, sizes, offsets and the entry count go into ZIP64 records.
ZIP64_LIMIT = 0xFFFFFFFF
ZIP_ENTRY_LIMIT = 0xFFFF
# What a field holds when its value is in a ZIP64 record.
_IN_ZIP64, _IN_ZIP64_COUNT = 0xFFFFFFFF, 0xFFFF

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_END64 = struct.Struct("<4sQHHIIQQQQ")
_END64_LOCATOR = struct.Struct("<4sIQI")
_LOCAL_SIG = b"PK\x03\x04"
_CENTRAL_SIG = b"PK\x01\x02"
_END_SIG = b"PK\x05\x06"
_END64_SIG = b"PK\x06\x06"
_END64_LOCATOR_SIG = b"PK\x06\x07"

_STORED, _DEFLATED = 0, 8
_UTF8_FLAG = 0x800
_VERSION, _VERSION_ZIP64 = 20, 45
_MADE_BY_UNIX = 3 << 8
# MS-DOS date and time of FIXED_DATE_TIME.
_DOS_DATE = ((FIXED_DATE_TIME[0] - 1980) << 9) | (FIXED_DATE_TIME[1] << 5) | FIXED_DATE_TIME[2]
_DOS_TIME = 0


class Entry(NamedTuple):
    name: str
    method: int
    crc: int
    size: int
    compressed: bytes
    external_attr: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


def directory_entry(name: str) -> Entry:
    return Entry(name, _STORED, 0, 0, b"", (_DIR_MODE << 16) | 0x10)


def file_entry(name: str, data: bytes, executable: bool) -> Entry:
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    compressed = compressor.compress(data) + compressor.flush()
    mode = _EXEC_MODE if executable else _FILE_MODE
    return Entry(name, _DEFLATED, zlib.crc32(data), len(data), compressed, mode << 16)


def _encode(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8_FLAG


class _ZipOutput:
    """Appends entries to a zip file and writes the central directory at the end."""

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp
        self._offset = 0
        self._central: list[bytes] = []

    def _write(self, data: bytes) -> None:
        self._fp.write(data)
        self._offset += len(data)

    def add(self, entry: Entry) -> None:
        name, flags = _encode(entry.name)
        csize = len(entry.compressed)
        offset = self._offset
        sizes64 = entry.size >= ZIP64_LIMIT or csize >= ZIP64_LIMIT
        local_extra = struct.pack("<HHQQ", 1, 16, entry.size, csize) if sizes64 else b""
        header_sizes = (_IN_ZIP64, _IN_ZIP64) if sizes64 else (csize, entry.size)
        version = _VERSION_ZIP64 if sizes64 else _VERSION
        self._write(
            _LOCAL_HEADER.pack(
                _LOCAL_SIG,
                version,
                flags,
                entry.method,
                _DOS_TIME,
                _DOS_DATE,
                entry.crc,
                *header_sizes,
                len(name),
                len(local_extra),
            )
            + name
            + local_extra
        )
        self._write(entry.compressed)

        central64 = sizes64 or offset >= ZIP64_LIMIT
        central_extra = (
            struct.pack("<HHQQQ", 1, 24, entry.size, csize, offset) if central64 else b""
        )
        version = _VERSION_ZIP64 if central64 else _VERSION
        fields = (_IN_ZIP64,) * 3 if central64 else (csize, entry.size, offset)
        self._central.append(
            _CENTRAL_HEADER.pack(
                _CENTRAL_SIG,
                _MADE_BY_UNIX | version,
                version,
                flags,
                entry.method,
                _DOS_TIME,
                _DOS_DATE,
                entry.crc,
                fields[0],
                fields[1],
                len(name),
                len(central_extra),
                0,
                0,
                0,
                entry.external_attr,
                fields[2],
            )
            + name
            + central_extra
        )

    def finish(self) -> None:
        start = self._offset
        for header in self._central:
            self._write(header)
        size = self._offset - start
        count = len(self._central)
        if count >= ZIP_ENTRY_LIMIT or start >= ZIP64_LIMIT or size >= ZIP64_LIMIT:
            end64 = self._offset
            self._write(
                _END64.pack(
                    _END64_SIG,
                    _END64.size - 12,
                    _MADE_BY_UNIX | _VERSION_ZIP64,
                    _VERSION_ZIP64,
                    0,
                    0,
                    count,
                    count,
                    size,
                    start,
                )
            )
            self._write(_END64_LOCATOR.pack(_END64_LOCATOR_SIG, 0, end64, 1))
            count, start, size = _IN_ZIP64_COUNT, _IN_ZIP64, _IN_ZIP64
        self._write(_END.pack(_END_SIG, 0, 0, count, count, size, start, 0))


def _walk(root: str) -> list[tuple[str, str, bool]]:
    """(archive name, filesystem path, is_dir) for every entry below root, sorted by name."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path):
                raise SystemExit(
                    f"Refusing to zip the symlink {rel}: Lambda artifacts hold no links."
                )
            is_dir = os.path.isdir(path)
            entries.append((rel + "/" if is_dir else rel, path, is_dir))
    entries.sort(key=lambda entry: entry[0])
    return entries


def read_entries(path: str) -> list[Entry]:
    """The entries of a zip this script wrote, compressed data as stored."""
    import zipfile

    entries = []
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fp:
        for info in zf.infolist():
            fp.seek(info.header_offset)
            header = _LOCAL_HEADER.unpack(fp.read(_LOCAL_HEADER.size))
            if header[0] != _LOCAL_SIG:
                raise SystemExit(f"{path}: no local header for {info.filename}.")
            fp.seek(header[-2] + header[-1], os.SEEK_CUR)
            entries.append(
                Entry(
                    info.filename,
                    info.compress_type,
                    info.CRC,
                    info.file_size,
                    fp.read(info.compress_size),
                    info.external_attr,
                )
            )
    return entries


def summarize(files: Iterable[tuple[str, int]], import_root: str = "") -> dict:
    """`unzipped_bytes`, `files` and `top_level` of a tree given as (path, size) of its files.

    Shared by the zip and by the `flat` layout (the same tree as a directory).
    """
    root_prefix = f"{import_root.strip('/')}/" if import_root.strip("/") else ""
    top_level: dict[str, int] = {}
    unzipped = 0
    count = 0
    for name, size in files:
        count += 1
        unzipped += size
        below = name[len(root_prefix) :] if name.startswith(root_prefix) else name
        top = below.split("/", 1)[0]
        top_level[top] = top_level.get(top, 0) + size
    return {
        "unzipped_bytes": unzipped,
        "files": count,
        "top_level": dict(sorted(top_level.items())),
    }


def write_zip(
    source_dir: str, output: str, import_root: str = "", merge: Iterable[str] = ()
) -> dict:
    # name -> (the input it comes from, and a merged Entry, a file's path, or None for a directory)
    sources: dict[str, tuple[str, Entry | str | None]] = {}
    for part in merge:
        for entry in read_entries(part):
            _claim(sources, entry.name, part, entry)
    for name, path, is_dir in _walk(source_dir):
        _claim(sources, name, source_dir, None if is_dir else path)

    sizes: list[tuple[str, int]] = []
    with open(output, "wb") as fp:
        out = _ZipOutput(fp)
        for name in sorted(sources):
            _, item = sources[name]
            if isinstance(item, Entry):
                entry = item
            elif item is None:
                entry = directory_entry(name)
            else:
                with open(item, "rb") as src:
                    data = src.read()
                entry = file_entry(name, data, bool(os.stat(item).st_mode & 0o111))
            out.add(entry)
            if not entry.is_dir:
                sizes.append((name, entry.size))
        out.finish()
    return {"zipped_bytes": os.path.getsize(output), **summarize(sizes, import_root)}


def _claim(
    sources: dict[str, tuple[str, Entry | str | None]],
    name: str,
    origin: str,
    item: Entry | str | None,
) -> None:
    seen = sources.get(name)
    if seen is not None and not name.endswith("/"):
        raise SystemExit(f"{name} is both in {seen[0]} and in {origin}.")
    sources[name] = (origin, item)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source_dir")
    parser.add_argument("output")
    parser.add_argument("--import-root", default="")
    parser.add_argument("--merge", action="append", default=[], metavar="PART_ZIP")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv[1:])
    parent = os.path.dirname(args.output)
    if parent:
        os.makedirs(parent, exist_ok=True)
    report = write_zip(args.source_dir, args.output, args.import_root, args.merge)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
