"""End to end: numpy + pandas + scipy functions package with the defaults, for python3.12, 3.13
and 3.14 on x86_64 and arm64, with the `datascience` lockfile and without a lockfile (Pants'
`--no-python-enable-resolves`, where PEX picks the newest wheels for the runtime).

With bytecode compiled beside every source these functions would exceed Lambda's 250 MiB
unzipped; the default `bytecode="auto"` must keep them within it and say so in the log. Every zip
is checked for its wheels' tags, its shared objects' CPU, CPython ABI and glibc, and its handler is
called with the runtime's CPython: this machine's for x86_64 3.12 and 3.13, Debian's under QEMU
for the others (see `pants_aws_lambda.testutil.emulated`; arm64 3.12 has none and skips).

The matrix is the table `CELLS`; each mode (lockfile or not) is one `./pants package` of all its
cells' targets in its own copy of the repository (the mode is a global option). Both modes share
Pants' caches, so the wheels are downloaded once where the versions agree.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from e2e import zip_facts
from e2e.repo import (
    Artifact,
    PantsResult,
    copy_repo,
    invoke,
    module_dir,
    package,
    require_host_for,
    sha256,
    source_repo,
    unpack_read_only,
)
from e2e.runtimes_test import CPUS, abi_problems
from pants_aws_lambda.artifact import sizes, slimming
from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.requirements import elf
from pants_aws_lambda.testutil import emulated
from pants_aws_lambda.testutil.interpreters import require_cpython

EXAMPLE = "src/python/examples/datascience"
LIMIT = 250 * 2**20
PROJECTS = ("numpy", "pandas", "scipy")
# Modes: how the nested `./pants package` resolves third-party requirements.
LOCKED = "lock"
NO_LOCKFILE = "no-lock"
MODE_OPTIONS = {LOCKED: (), NO_LOCKFILE: ("--no-python-enable-resolves",)}
# From empty caches, one mode's `./pants package` downloads six platforms' wheels and compiles and
# compresses about 1.3 GB: more than the other tests' nested runs are given.
PACKAGE_TIMEOUT_S = 1500
# Importing numpy, pandas and scipy under QEMU takes a minute or more on a busy machine.
INVOKE_TIMEOUT_S = 600
# Runtimes and CPUs whose CPython runs natively here; the others run under QEMU.
NATIVE = {("3.12", "x86_64"), ("3.13", "x86_64")}


@dataclass(frozen=True)
class Cell:
    """One function of the matrix: a target of the example, in one mode."""

    name: str  # the target's name in src/python/examples/datascience/BUILD
    runtime: str
    architecture: str
    mode: str  # LOCKED or NO_LOCKFILE
    # Slim mode's cells: `bytecode="none"` and `slim`, with a `-none` twin that is not slim.
    slim: bool = False

    @property
    def artifact(self) -> Artifact:
        return Artifact(f"{EXAMPLE}:{self.name}", self.runtime, self.architecture)

    @property
    def id(self) -> str:
        return f"{self.name}-{self.mode}"


# The table of cells: add rows (new targets of the example, new modes) at the end.
CELLS = (
    Cell("py312-x86_64", "python3.12", "x86_64", LOCKED),
    Cell("py313-x86_64", "python3.13", "x86_64", LOCKED),
    Cell("py314-x86_64", "python3.14", "x86_64", LOCKED),
    Cell("py312-arm64", "python3.12", "arm64", LOCKED),
    Cell("py313-arm64", "python3.13", "arm64", LOCKED),
    Cell("py314-arm64", "python3.14", "arm64", LOCKED),
    Cell("py312-x86_64", "python3.12", "x86_64", NO_LOCKFILE),
    Cell("py313-x86_64", "python3.13", "x86_64", NO_LOCKFILE),
    Cell("py314-x86_64", "python3.14", "x86_64", NO_LOCKFILE),
    Cell("py312-arm64", "python3.12", "arm64", NO_LOCKFILE),
    Cell("py313-arm64", "python3.13", "arm64", NO_LOCKFILE),
    Cell("py314-arm64", "python3.14", "arm64", NO_LOCKFILE),
    Cell("py313-x86_64-slim", "python3.13", "x86_64", LOCKED, slim=True),
    Cell("py313-x86_64-none", "python3.13", "x86_64", LOCKED),
    Cell("py313-arm64-slim", "python3.13", "arm64", LOCKED, slim=True),
    Cell("py313-arm64-none", "python3.13", "arm64", LOCKED),
)
CELL_IDS = tuple(cell.id for cell in CELLS)

READINGS = {"a": [1.0, 2.0, 4.5], "b": [-3.25, 0.5, 2.0, 2.75]}
EXPECTED = 1.0
EVENT = {"readings": READINGS, "expected": EXPECTED}


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_dir(tmp_path_factory, "e2e-datascience")


@pytest.fixture(scope="module")
def packaged(work_dir: Path) -> dict[str, tuple[Path, PantsResult]]:
    """Per mode, a fresh copy of the repository after one `./pants package` of its cells."""
    done = {}
    for mode, options in MODE_OPTIONS.items():
        artifacts = {c.artifact for c in CELLS if c.mode == mode}
        if artifacts:
            buildroot = copy_repo(work_dir / mode)
            options = (*options, *proof_options(mode))
            result = package(
                buildroot, sorted(artifacts, key=str), *options, timeout=PACKAGE_TIMEOUT_S
            )
            done[mode] = (buildroot, result)
    return done


@pytest.fixture(scope="module")
def buildroots(packaged: dict[str, tuple[Path, PantsResult]]) -> dict[str, Path]:
    return {mode: buildroot for mode, (buildroot, _) in packaged.items()}


def zip_path(buildroots: dict[str, Path], cell: Cell) -> Path:
    return buildroots[cell.mode] / cell.artifact.dist_path


def interpreter(cell: Cell) -> str | list[str]:
    artifact = cell.artifact
    key = (artifact.python_version, artifact.architecture)
    if key in NATIVE:
        require_host_for(artifact)
        return require_cpython(artifact.python_version)
    if key in emulated.UNOBTAINABLE:
        pytest.skip(f"No CPython {key[0]} for {key[1]} to run it: {emulated.UNOBTAINABLE[key]}.")
    return emulated.require_python(*key)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_fits_and_native_code_is_for_the_runtime(buildroots: dict[str, Path], cell: Cell) -> None:
    artifact = cell.artifact
    runtime = RUNTIMES[cell.runtime]
    with zipfile.ZipFile(zip_path(buildroots, cell)) as zf:
        unzipped = sum(info.file_size for info in zf.infolist())
        assert unzipped <= LIMIT, f"{artifact.dist_path}: {unzipped:,} bytes unzipped"
        assert zip_facts.hygiene_problems(zf) == []
        dists = zip_facts.distributions(zf)
        libraries = zip_facts.native_libraries(zf)
        problems = [p for name in libraries for p in abi_problems(name, zf.read(name), artifact)]
        too_new = [
            f"{name} needs GLIBC_{'.'.join(map(str, need))}"
            for name in libraries
            if (need := elf.max_glibc(zf.read(name))) is not None and need > runtime.glibc
        ]
    assert not problems, f"{artifact.dist_path}:\n" + "\n".join(problems[:40])
    assert not too_new, f"{artifact.dist_path} (glibc {runtime.glibc}):\n" + "\n".join(too_new[:40])
    nodot = artifact.python_version.replace(".", "")
    for project in PROJECTS:
        tags = dists[project].tags
        assert any(
            t.endswith(CPUS[artifact.architecture]) and f"-cp{nodot}-" in t for t in tags
        ), f"{project} in {artifact.dist_path}: WHEEL tags {sorted(tags)}"
    for stem in ("numpy/_core/_multiarray_umath", "pandas/_libs/lib", "scipy/special/_ufuncs"):
        assert any(
            n.startswith(f"{stem}.") for n in libraries
        ), f"{artifact.dist_path} lacks {stem}"


def _slope(values: list[float]) -> float:
    xs = range(len(values))
    x_mean, y_mean = sum(xs) / len(values), math.fsum(values) / len(values)
    return math.fsum((x - x_mean) * (y - y_mean) for x, y in zip(xs, values)) / math.fsum(
        (x - x_mean) ** 2 for x in xs
    )


def twin(cell: Cell) -> Cell:
    """A slim cell's sources-only twin, not slim."""
    return next(
        c for c in CELLS if c.mode == cell.mode and c.name == cell.name.replace("-slim", "-none")
    )


# A slim cell's sources-only twin is only there to measure what slim saved: it is not run.
TWINS = tuple(twin(c) for c in CELLS if c.slim)
RUN_CELLS = tuple(c for c in CELLS if c not in TWINS)


@pytest.mark.parametrize("cell", RUN_CELLS, ids=tuple(c.id for c in RUN_CELLS))
def test_handler_runs_with_the_runtime_cpython(
    work_dir: Path, buildroots: dict[str, Path], cell: Cell
) -> None:
    artifact = cell.artifact
    twin = Cell(cell.name, cell.runtime, cell.architecture, LOCKED)
    if cell.mode != LOCKED and twin in CELLS and twin.mode in buildroots:
        # Without a lockfile PEX picks the releases the lock holds, so the zip is byte for byte
        # the locked cell's, whose handler that test runs (a minute or more under QEMU): compare.
        if sha256(zip_path(buildroots, cell)) == sha256(zip_path(buildroots, twin)):
            return
    python = interpreter(cell)
    task_root = unpack_read_only(zip_path(buildroots, cell), work_dir / "unpacked" / cell.id)
    with zipfile.ZipFile(zip_path(buildroots, cell)) as zf:
        shipped = {name: d.version for name, d in zip_facts.distributions(zf).items()}
        has_bytecode = any(n.endswith(".pyc") for n in zf.namelist())

    report = invoke(
        python, task_root, EVENT, work_dir, function_name=f"e2e-{cell.id}", timeout=INVOKE_TIMEOUT_S
    )

    assert report["python"].startswith(artifact.python_version + "."), report["python"]
    assert report["machine"] == CPUS[artifact.architecture]
    assert report["foreign_modules"] == [], "imported from outside the task root and stdlib"
    for module in ("numpy._core._multiarray_umath", "pandas._libs.lib", "scipy.special._ufuncs"):
        path = report["modules"][module]
        assert path and Path(path).is_relative_to(task_root), f"{module} came from {path}"
    if has_bytecode:
        # Whatever `auto` chose, the shipped bytecode is valid and nothing was compiled at import.
        assert report["bytecode"]["invalid"] == 0, report["bytecode"]["problems"]
        assert report["compiled_from_source"] == []
    result = report["result"]
    assert result["statusCode"] == 200, result
    assert result["python"] == artifact.python_version
    assert result["versions"] == {p: shipped[p] for p in PROJECTS}
    assert sorted(result["summary"]) == sorted(READINGS)
    for sensor, values in READINGS.items():
        got = result["summary"][sensor]
        mean = math.fsum(values) / len(values)
        assert got["mean"] == pytest.approx(mean, rel=1e-12)
        assert got["slope"] == pytest.approx(_slope(values), abs=1e-8)
        cdf = 0.5 * (1 + math.erf((mean - EXPECTED) / math.sqrt(2)))
        assert got["cdf"] == pytest.approx(cdf, abs=1e-8)


def package_log(result: PantsResult, cell: Cell) -> list[str]:
    """The lines `./pants package` wrote about the cell's artifact."""
    lines = result.output.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.endswith(f"Wrote {cell.artifact.dist_path}")
    )
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line)
    return block


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_the_log_says_what_auto_did(
    packaged: dict[str, tuple[Path, PantsResult]], buildroots: dict[str, Path], cell: Cell
) -> None:
    """Compiled beside every source, these functions are over the limit: where there is bytecode,
    the log names what `auto` chose, the bytes saved and the field values that choose otherwise.
    Without the runtime's CPython on the machine (python3.14 here) the zip has sources only, and
    `auto` has nothing to do."""
    _, result = packaged[cell.mode]
    block = package_log(result, cell)
    auto = [line for line in block if 'bytecode="auto":' in line]
    with zipfile.ZipFile(zip_path(buildroots, cell)) as zf:
        names = zf.namelist()
    if not any(n.endswith(".pyc") for n in names):
        assert auto == [], block
        return
    assert len(auto) == 1, block
    assert "third-party distributions as sourceless bytecode" in auto[0]
    assert re.search(r"[0-9.]+ MiB saved", auto[0]), auto[0]
    assert 'bytecode="compiled"' in auto[0] and 'bytecode="none"' in auto[0]
    # As the log says: numpy's sources are replaced by bytecode, the handler's module keeps its own.
    assert "numpy/__init__.pyc" in names and "numpy/__init__.py" not in names
    assert "examples/datascience/app.py" in names
    assert any(n.startswith("examples/datascience/__pycache__/app.") for n in names)


def test_every_mode_and_function_is_in_the_matrix() -> None:
    text = (source_repo() / EXAMPLE / "BUILD").read_text()
    for cell in CELLS:
        assert f'"{cell.name}"' in text, f"{cell.name} is not a target of {EXAMPLE}"
    for mode in MODE_OPTIONS:
        assert {(c.runtime, c.architecture) for c in CELLS if c.mode == mode} >= {
            (f"python3.{minor}", cpu) for minor in (12, 13, 14) for cpu in ("x86_64", "arm64")
        }


# ---------------------------------------------------------------------------------------------
# Slim mode: its cells are smaller than their twins by exactly the bytes the log reports, every
# file it left out is of a kind it leaves out, and (above) they pass the same checks and run.
# On both CPUs: the arm64 cell's proof runs under QEMU, as `pants run` would. Every slim artifact is
# proven at package time whatever its runtime, so the other runtimes need no slim cells here.
# ---------------------------------------------------------------------------------------------

SLIM_CELLS = tuple(c for c in CELLS if c.slim)


def proof_options(mode: str) -> tuple[str, ...]:
    """The root filesystems whose CPython proves the emulated slim cells (`[lambda-invoke]`)."""
    roots: dict[str, list[str]] = {}
    for cell in CELLS:
        key = (cell.artifact.python_version, cell.architecture)
        if cell.mode == mode and cell.slim and key not in NATIVE:
            roots.setdefault(cell.architecture, []).append(emulated.require_root(*key))
    return (f"--lambda-invoke-interpreter-roots={roots!r}",) if roots else ()


@pytest.mark.parametrize("cell", SLIM_CELLS, ids=tuple(c.id for c in SLIM_CELLS))
def test_slim_saves_what_its_log_reports(
    packaged: dict[str, tuple[Path, PantsResult]], buildroots: dict[str, Path], cell: Cell
) -> None:
    with (
        zipfile.ZipFile(zip_path(buildroots, twin(cell))) as fat,
        zipfile.ZipFile(zip_path(buildroots, cell)) as slim,
    ):
        # Files only: a directory whose files all went is not in the slim zip either.
        fat_sizes = {i.filename: i.file_size for i in fat.infolist() if not i.is_dir()}
        slim_sizes = {i.filename: i.file_size for i in slim.infolist() if not i.is_dir()}
    left_out = sorted(set(fat_sizes) - set(slim_sizes))
    assert set(slim_sizes) <= set(fat_sizes)
    assert [p for p in left_out if slimming.removal_kind(p) is None] == []
    assert not [p for p in left_out if ".dist-info/" in p]
    assert sum(1 for p in left_out if slimming.removal_kind(p) is slimming.SlimKind.TESTS) > 1000
    stripped = {p: fat_sizes[p] - size for p, size in slim_sizes.items() if size != fat_sizes[p]}
    assert all(elf.is_shared_object(p) and saved > 0 for p, saved in stripped.items()), stripped
    saved = sum(fat_sizes[p] for p in left_out) + sum(stripped.values())
    block = "\n".join(package_log(packaged[cell.mode][1], cell))
    assert f"Slim: {sizes.format_bytes(saved)} saved: tests " in block, block
    assert (
        f"stripped symbols {sizes.format_bytes(sum(stripped.values()))} ({len(stripped)} files)"
        in block
    ), block
    how = (
        "natively" if (cell.artifact.python_version, cell.architecture) in NATIVE else "under QEMU"
    )
    assert re.search(
        rf"Slim proof: [1-9][0-9]+ extension modules, .* checked with CPython 3.13 \({how}\)", block
    ), block
    assert sum(slim_sizes.values()) == sum(fat_sizes.values()) - saved
