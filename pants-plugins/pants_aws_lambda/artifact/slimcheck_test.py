from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pants_aws_lambda.artifact import slimcheck


def _tree(root: Path) -> Path:
    files = {
        "good/__init__.py": "from good import helper\n",
        "good/helper.py": "print('noise on stdout')\n",
        "broken/__init__.py": "from broken import tests\n",
        "single.py": "",
        "numpy.libs/libfoo.so": "",
        "data/readme.txt": "",
        "good-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: good\nVersion: 1.0\n",
        "Other_Dist-2.0.dist-info/METADATA": (
            "Metadata-Version: 2.1\nName: Other_Dist\nVersion: 2.0\n"
        ),
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_top_level_modules_and_extension_modules(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    (tree / "good" / "_ext.so").write_bytes(b"")
    (tree / "good" / "not-a-module.so").write_bytes(b"")
    assert slimcheck.top_level_modules(str(tree)) == ["broken", "good", "single"]
    assert slimcheck.extension_modules(str(tree)) == [("good._ext", "good/_ext.so")]


def test_the_script_reports_every_check(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            slimcheck.__file__,
            str(tree),
            "good==1.0",
            "other-dist==2.0",
            "gone==3.0",
            "good==9.9",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # What the imported code prints goes to standard error, not into the report.
    assert "noise on stdout" in proc.stderr
    done = {
        tuple(r["done"][:2]): r["error"]
        for r in map(json.loads, proc.stdout.splitlines())
        if "done" in r
    }
    assert done[("package", "good")] is None
    assert done[("package", "single")] is None
    assert "ImportError" in done[("package", "broken")] and "tests" in done[("package", "broken")]
    assert done[("distribution", "good==1.0")] is None
    assert done[("distribution", "other-dist==2.0")] is None
    assert "no distribution" in done[("distribution", "gone==3.0")]
    assert "version 1.0" in done[("distribution", "good==9.9")]
