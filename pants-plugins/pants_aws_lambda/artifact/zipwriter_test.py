from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from pants_aws_lambda.artifact import zipwriter
from pants_aws_lambda.artifact.zipwriter import write_zip


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

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

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


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_merging_a_part_gives_the_bytes_of_one_pass(tmp_path: Path) -> None:
    # The third-party part is written once; the final zip copies its compressed entries.
    make_tree(tmp_path / "third" / "python")
    (tmp_path / "first" / "python" / "app").mkdir(parents=True)
    (tmp_path / "first" / "python" / "app" / "main.py").write_text(
        "def handler(e, c):\n    return 1\n"
    )
    (tmp_path / "first" / "python" / "pkg").mkdir()  # A directory both trees have.
    (tmp_path / "first" / "python" / "pkg" / "extra.py").write_text("y = 2\n")
    (tmp_path / "first" / "python" / "lambda_function.py").write_text(
        "from app.main import handler\n"
    )
    union = tmp_path / "union"
    for part in ("third", "first"):
        for path in sorted((tmp_path / part).rglob("*")):
            target = union / path.relative_to(tmp_path / part)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.write_bytes(path.read_bytes())
                target.chmod(path.stat().st_mode)

    one_pass = write_zip(str(union), str(tmp_path / "one.zip"), "python")
    write_zip(str(tmp_path / "third"), str(tmp_path / "third.zip"), "python")
    merged = write_zip(
        str(tmp_path / "first"),
        str(tmp_path / "merged.zip"),
        "python",
        [str(tmp_path / "third.zip")],
    )
    assert sha256(tmp_path / "merged.zip") == sha256(tmp_path / "one.zip")
    assert merged == one_pass
    with zipfile.ZipFile(tmp_path / "merged.zip") as zf:
        assert zf.testzip() is None
        assert zf.namelist().count("python/pkg/") == 1
        assert zf.read("python/pkg/sub/data.bin") == bytes(range(256)) * 10
        assert zf.getinfo("python/pkg/tool.sh").external_attr >> 16 == stat.S_IFREG | 0o755


def test_a_file_in_two_inputs_is_refused(tmp_path: Path) -> None:
    make_tree(tmp_path / "a")
    make_tree(tmp_path / "b")
    write_zip(str(tmp_path / "a"), str(tmp_path / "a.zip"))
    with pytest.raises(SystemExit, match="pkg/__init__.py is both in"):
        write_zip(str(tmp_path / "b"), str(tmp_path / "out.zip"), merge=[str(tmp_path / "a.zip")])


@pytest.mark.parametrize("merge", [False, True])
def test_zip64_records_past_the_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge: bool
) -> None:
    # The limits are lowered so that small files take the ZIP64 paths real 4 GiB ones would.
    make_tree(tmp_path / "src")
    if merge:
        write_zip(str(tmp_path / "src"), str(tmp_path / "part.zip"))
    monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 100)
    monkeypatch.setattr(zipwriter, "ZIP_ENTRY_LIMIT", 3)
    if merge:
        write_zip(
            str(tmp_path / "empty"), str(tmp_path / "out.zip"), merge=[str(tmp_path / "part.zip")]
        )
    else:
        write_zip(str(tmp_path / "src"), str(tmp_path / "out.zip"))
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.testzip() is None
        assert len(zf.infolist()) == 7
        assert zf.read("pkg/sub/data.bin") == bytes(range(256)) * 10
        assert zf.read("zz.py") == b""
        big = zf.getinfo("pkg/sub/data.bin")
        assert (big.file_size, big.extract_version) == (2560, 45)
        assert zf.getinfo("zz.py").header_offset > 100


def test_non_ascii_names_are_utf8(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "données.py").write_text("x = 1\n")
    write_zip(str(tmp_path / "src"), str(tmp_path / "out.zip"))
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        info = zf.getinfo("données.py")
        assert info.flag_bits & 0x800
        assert zf.read(info) == b"x = 1\n"
