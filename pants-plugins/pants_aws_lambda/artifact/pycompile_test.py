from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pants_aws_lambda.artifact.pycompile import compile_tree
from pants_aws_lambda.testutil.interpreters import require_cpython


def make_tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("VALUES = {'a', 'b', 'c', 'd'}\n")
    (root / "pkg" / "broken.py").write_text("def nope(:\n")
    (root / "pkg" / "data.txt").write_text("not python\n")


def test_compiled_mode_writes_cache_files(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    report = compile_tree("compiled", str(tmp_path / "src"), str(tmp_path / "out"), "/var/task")
    assert report == {
        "compiled": 1,
        "failed": [{"path": "pkg/broken.py", "line": 1, "message": "invalid syntax"}],
    }
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
        [
            sys.executable,
            "-I",
            "-B",
            "-c",
            "import sys; sys.path.insert(0, '.'); import pkg; print(sorted(pkg.VALUES), "
            "pkg.__file__)",
        ],
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
            [
                sys.executable,
                "-S",
                "-s",
                str(script),
                "compiled",
                str(tmp_path / "src"),
                str(out),
                "/var/task",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        outputs.append(
            Path(importlib.util.cache_from_source(str(out / "pkg" / "__init__.py"))).read_bytes()
        )
    assert outputs[0] == outputs[1]


def test_failures_without_a_line(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "nul.py").write_bytes(b"x = 1\0\n")
    report = compile_tree("compiled", str(tmp_path / "src"), str(tmp_path / "out"), "/var/task")
    assert report["compiled"] == 0
    [failure] = report["failed"]
    assert failure["path"] == "nul.py"
    assert "null" in failure["message"]


def local_python(version: str) -> str:
    return require_cpython(version, "the script is not checked on it")


MODERN = (
    'type Readings = list[float]\nLABEL = f"{"series"!r}"\n'
    "match LABEL:\n    case _:\n        pass\n"
)


@pytest.mark.parametrize(
    "version, failed",
    [
        ("3.9", [{"path": "pkg/modern.py", "line": 1, "message": "invalid syntax"}]),
        ("3.12", []),
        ("3.13", []),
    ],
)
def test_the_runtime_python_reports_what_it_cannot_compile(
    version: str, failed: list, tmp_path: Path
) -> None:
    # As the rule runs it: a standalone script on the CPython of the runtime.
    python = local_python(version)
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "modern.py").write_text(MODERN)
    script = Path(__file__).with_name("pycompile.py")
    result = subprocess.run(
        [
            python,
            "-S",
            "-s",
            str(script),
            "compiled",
            str(tmp_path / "src"),
            str(tmp_path / "out"),
            "/var/task",
        ],
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(result.stdout) == {"compiled": 1 - len(failed), "failed": failed}
