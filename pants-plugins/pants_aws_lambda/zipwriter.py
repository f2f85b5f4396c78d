"""Write a directory tree as a reproducible zip for AWS Lambda.

Runs as a standalone script in a sandboxed process (stdlib only, any CPython 3.8+):

    python zipwriter.py SOURCE_DIR OUTPUT_ZIP [IMPORT_ROOT]

Entries are sorted, every timestamp is 1980-01-01 00:00:00, directories are 0755, files are 0644
(0755 when executable), paths are relative, and symlinks are refused. It prints a JSON report
(`zipped_bytes`, `unzipped_bytes`, `files`, and `top_level`: unzipped bytes per top-level entry
of IMPORT_ROOT, the directory inside the zip that goes on `sys.path`, by default the zip's root).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import zipfile
from typing import Iterable

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_DIR_MODE = stat.S_IFDIR | 0o755
_EXEC_MODE = stat.S_IFREG | 0o755
_FILE_MODE = stat.S_IFREG | 0o644
COMPRESS_LEVEL = 9


def _walk(root: str) -> list[tuple[str, str, bool]]:
    """(archive name, filesystem path, is_dir) for every entry below root, sorted by name."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path):
                raise SystemExit(f"Refusing to zip the symlink {rel}: Lambda artifacts hold no links.")
            is_dir = os.path.isdir(path)
            entries.append((rel + "/" if is_dir else rel, path, is_dir))
    entries.sort(key=lambda entry: entry[0])
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
    return {"unzipped_bytes": unzipped, "files": count, "top_level": dict(sorted(top_level.items()))}


def write_zip(source_dir: str, output: str, import_root: str = "") -> dict:
    sizes: list[tuple[str, int]] = []
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name, path, is_dir in _walk(source_dir):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.create_system = 3  # Unix: external_attr carries the mode.
            if is_dir:
                info.external_attr = (_DIR_MODE << 16) | 0x10
                zf.writestr(info, b"")
                continue
            mode = _EXEC_MODE if os.stat(path).st_mode & 0o111 else _FILE_MODE
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as fp:
                data = fp.read()
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
            sizes.append((name, len(data)))
    return {"zipped_bytes": os.path.getsize(output), **summarize(sizes, import_root)}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv if argv is None else argv
    if len(argv) not in (3, 4):
        raise SystemExit(f"usage: {argv[0]} SOURCE_DIR OUTPUT_ZIP [IMPORT_ROOT]")
    source_dir, output = argv[1], argv[2]
    import_root = argv[3] if len(argv) == 4 else ""
    parent = os.path.dirname(output)
    if parent:
        os.makedirs(parent, exist_ok=True)
    print(json.dumps(write_zip(source_dir, output, import_root), sort_keys=True))


if __name__ == "__main__":
    main()
