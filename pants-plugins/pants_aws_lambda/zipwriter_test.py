from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from pants_aws_lambda.zipwriter import write_zip


def make_tree(root: Path) -> None:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("x = 1\n")
    (root / "pkg" / "sub" / "data.bin").write_bytes(bytes(range(256)) * 10)
    (root / "zz.py").write_text("")
    tool = root / "pkg" / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o700)
    (root / "pkg" / "secret.txt").write_text("s")
    (root / "pkg" / "secret.txt").chmod(0o600)


def test_layout_modes_and_timestamps(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    report = write_zip(str(tmp_path / "src"), str(tmp_path / "out.zip"))
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert names == [
            "pkg/",
            "pkg/__init__.py",
            "pkg/secret.txt",
            "pkg/sub/",
            "pkg/sub/data.bin",
            "pkg/tool.sh",
            "zz.py",
        ]
        modes = {i.filename: i.external_attr >> 16 for i in infos}
        assert modes["pkg/"] == stat.S_IFDIR | 0o755
        assert modes["pkg/tool.sh"] == stat.S_IFREG | 0o755
        assert modes["pkg/secret.txt"] == stat.S_IFREG | 0o644
        assert modes["zz.py"] == stat.S_IFREG | 0o644
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert zf.read("pkg/sub/data.bin") == bytes(range(256)) * 10
    assert report["files"] == 5
    assert report["unzipped_bytes"] == 6 + 2560 + 10 + 1 + 0
    assert report["zipped_bytes"] == os.path.getsize(tmp_path / "out.zip")
    assert report["top_level"] == {"pkg": 2577, "zz.py": 0}


def test_same_tree_same_bytes_whatever_the_mtimes(tmp_path: Path) -> None:
    make_tree(tmp_path / "a")
    make_tree(tmp_path / "b")
    os.utime(tmp_path / "b" / "zz.py", (1_700_000_000, 1_700_000_000))
    write_zip(str(tmp_path / "a"), str(tmp_path / "a.zip"))
    write_zip(str(tmp_path / "b"), str(tmp_path / "b.zip"))
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(tmp_path / "a.zip") == digest(tmp_path / "b.zip")


def test_symlinks_are_refused(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    (tmp_path / "src" / "link.py").symlink_to(tmp_path / "src" / "zz.py")
    with pytest.raises(SystemExit, match="symlink link.py"):
        write_zip(str(tmp_path / "src"), str(tmp_path / "out.zip"))


def test_top_level_sizes_below_an_import_root(tmp_path: Path) -> None:
    make_tree(tmp_path / "src" / "python")
    report = write_zip(str(tmp_path / "src"), str(tmp_path / "out.zip"), "python")
    assert report["top_level"] == {"pkg": 2577, "zz.py": 0}
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.namelist()[0] == "python/"
