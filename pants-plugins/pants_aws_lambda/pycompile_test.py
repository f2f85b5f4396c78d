from __future__ import annotations

import importlib.util
import marshal
import os
import subprocess
import sys
from pathlib import Path

from pants_aws_lambda.pycompile import compile_tree


def make_tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("VALUES = {'a', 'b', 'c', 'd'}\n")
    (root / "pkg" / "broken.py").write_text("def nope(:\n")
    (root / "pkg" / "data.txt").write_text("not python\n")


def test_compiled_mode_writes_cache_files(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    report = compile_tree("compiled", str(tmp_path / "src"), str(tmp_path / "out"), "/var/task")
    assert report == {"compiled": 1, "failed": ["pkg/broken.py"]}
    cached = Path(importlib.util.cache_from_source(str(tmp_path / "out" / "pkg" / "__init__.py")))
    assert cached.is_file()
    data = cached.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01
    code = marshal.loads(data[16:])
    assert code.co_filename == "/var/task/pkg/__init__.py"
    assert sorted(p.name for p in (tmp_path / "out" / "pkg").iterdir()) == ["__pycache__"]


def test_only_mode_is_importable_without_sources(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    compile_tree("only", str(tmp_path / "src"), str(tmp_path / "out"), "/opt/python")
    out = tmp_path / "out" / "pkg"
    # The broken file keeps its source; the good one is sourceless bytecode.
    assert sorted(p.name for p in out.iterdir()) == ["__init__.pyc", "broken.py"]
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", "import sys; sys.path.insert(0, '.'); import pkg; print(sorted(pkg.VALUES), pkg.__file__)"],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip().startswith("['a', 'b', 'c', 'd']")
    assert result.stdout.strip().endswith("__init__.pyc")


def test_output_is_reproducible_with_a_fixed_hash_seed(tmp_path: Path) -> None:
    # Set constants are marshalled in hash order; the rule runs the script with PYTHONHASHSEED=0.
    make_tree(tmp_path / "src")
    script = Path(__file__).with_name("pycompile.py")
    outputs = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(
            [sys.executable, "-S", "-s", str(script), "compiled", str(tmp_path / "src"), str(out), "/var/task"],
            env=env,
            check=True,
            capture_output=True,
        )
        outputs.append(Path(importlib.util.cache_from_source(str(out / "pkg" / "__init__.py"))).read_bytes())
    assert outputs[0] == outputs[1]
