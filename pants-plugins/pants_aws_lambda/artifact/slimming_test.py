from __future__ import annotations

import pytest

from pants_aws_lambda.artifact import slim, slimming
from pants_aws_lambda.artifact.slimming import CheckFailure, CheckKind, Saving, SlimKind


@pytest.mark.parametrize(
    "path, kind",
    [
        # Test suites below a distribution's top level, and pytest's conftest.
        ("numpy/tests/test_numpy_version.py", SlimKind.TESTS),
        ("scipy/linalg/tests/data/carex_15_data.npz", SlimKind.TESTS),
        ("pandas/tests/__init__.py", SlimKind.TESTS),
        ("numpy/_core/tests/_multiarray_tests.cpython-313-x86_64-linux-gnu.so", SlimKind.TESTS),
        ("markupsafe/test/__init__.py", SlimKind.TESTS),
        ("pandas/conftest.py", SlimKind.TESTS),
        ("numpy/__init__.pyi", SlimKind.STUBS),
        ("numpy/_core/include/numpy/ndarraytypes.h", SlimKind.C_SOURCES),
        ("markupsafe/_speedups.c", SlimKind.C_SOURCES),
        ("pkg/src/impl.CPP", SlimKind.C_SOURCES),
        ("pkg/_lib.hpp", SlimKind.C_SOURCES),
        ("scipy/special/cython_special.pxd", SlimKind.CYTHON),
        ("pkg/_impl.pyx", SlimKind.CYTHON),
        ("pkg/defs.pxi", SlimKind.CYTHON),
        ("numpy/_core/lib/libnpymath.a", SlimKind.BUILD_FILES),
        ("numpy/_core/lib/pkgconfig/numpy.pc", SlimKind.BUILD_FILES),
        ("scipy/_lib/src/routine.f90", SlimKind.BUILD_FILES),
    ],
)
def test_what_slim_leaves_out(path: str, kind: SlimKind) -> None:
    assert slimming.removal_kind(path) is kind


@pytest.mark.parametrize(
    "path",
    [
        # Metadata is never touched, whatever its files are called.
        "numpy-2.1.0.dist-info/RECORD",
        "numpy-2.1.0.dist-info/licenses/tests/LICENSE.c",
        "foo-1.0.egg-info/top_level.txt",
        "numpy/py.typed",
        # Public testing helpers are code, not a test suite; a top-level `tests` package may be
        # imported.
        "numpy/testing/__init__.py",
        "numpy/testing/_private/utils.py",
        "tests/__init__.py",
        "pkg/test.py",
        "pkg/tests.py",
        "pkg/contest/x.py",
        # Code and data.
        "numpy/_core/_multiarray_umath.cpython-313-x86_64-linux-gnu.so",
        "pkg/data.json",
        "pkg/.hidden",
        "pkg/Makefile",
    ],
)
def test_what_slim_keeps(path: str) -> None:
    assert slimming.removal_kind(path) is None


def test_plan_strips_shared_objects_that_stay() -> None:
    plan = slimming.plan(
        [
            "numpy.libs/libopenblas64_p-r0.3.so",
            "numpy/_core/_umath.cpython-313-x86_64-linux-gnu.so",
            "numpy/_core/tests/_test.cpython-313-x86_64-linux-gnu.so",
            "numpy/__init__.py",
            "numpy-2.1.0.dist-info/RECORD",
            "x-1.0.dist-info/odd.so",
            "lib/libz.so.1.2.13",
        ]
    )
    assert plan.to_strip == (
        "lib/libz.so.1.2.13",
        "numpy.libs/libopenblas64_p-r0.3.so",
        "numpy/_core/_umath.cpython-313-x86_64-linux-gnu.so",
    )
    assert plan.removed == (
        ("numpy/_core/tests/_test.cpython-313-x86_64-linux-gnu.so", SlimKind.TESTS),
    )


def test_removable_bytes_counts_removals_only() -> None:
    assert (
        slimming.removable_bytes(
            [("a/tests/t.py", 10), ("a/x.pyi", 5), ("a/x.so", 1000), ("a/x.py", 7)]
        )
        == 15
    )


def test_savings_per_kind_in_order() -> None:
    removed = [
        ("a/tests/t.py", SlimKind.TESTS),
        ("a/x.pyi", SlimKind.STUBS),
        ("a/tests/u.py", SlimKind.TESTS),
    ]
    sizes = {"a/tests/t.py": 100, "a/x.pyi": 30, "a/tests/u.py": 50}
    stripped = {"a/x.so": (1000, 400), "a/y.so": (500, 450)}
    assert slimming.savings(removed, stripped, sizes) == (
        Saving(SlimKind.TESTS, 2, 150),
        Saving(SlimKind.STUBS, 1, 30),
        Saving(SlimKind.SYMBOLS, 2, 650),
    )
    text = slimming.describe_savings(slimming.savings(removed, stripped, sizes))
    assert (
        text == "830 B saved: tests 150 B (2 files), type stubs 30 B (1 file), "
        "stripped symbols 650 B (2 files)"
    )


OWNERS = {
    "a/_x.so": "a-1.0-cp313-cp313-manylinux_2_17_x86_64.whl",
    "a/_y.so": "a-1.0-cp313-cp313-manylinux_2_17_x86_64.whl",
    "a": "a-1.0-cp313-cp313-manylinux_2_17_x86_64.whl",
    "b/_z.so": "b_dist-2.0-py3-none-any.whl",
    "b": "b_dist-2.0-py3-none-any.whl",
}
A, B = OWNERS["a"], OWNERS["b"]


def test_a_failed_shared_object_is_first_kept_unstripped_alone() -> None:
    failures = [
        CheckFailure(CheckKind.EXTENSION, "a._x", "a/_x.so", "ImportError", ("a/_x.so",)),
        # The package fails because it loads `_x`: it waits for the next proof.
        CheckFailure(CheckKind.PACKAGE, "a", None, "ImportError", ("a/_x.so",)),
    ]
    unstrip, whole = slimming.changes_to_take_back(
        failures, OWNERS, ["a/_x.so", "a/_y.so"], whole_wheels=False
    )
    assert (unstrip, whole) == (frozenset({"a/_x.so"}), frozenset())
    # The second time, the whole wheel.
    assert slimming.changes_to_take_back(failures, OWNERS, ["a/_x.so"], whole_wheels=True) == (
        frozenset(),
        frozenset({A}),
    )


def test_a_library_the_message_names_is_kept_unstripped_with_the_module() -> None:
    stripped = ["a/_x.so", "a.libs/libopenblas-5f89.so", "a.libs/libopenblas-5f89.so.0"]
    message = "ImportError: libopenblas-5f89.so: ELF load command address/offset not page-aligned"
    assert slimming.named_in(message, stripped) == ("a.libs/libopenblas-5f89.so",)
    failures = [CheckFailure(CheckKind.EXTENSION, "a._x", "a/_x.so", message, ("a/_x.so",))]
    owners = {**OWNERS, "a.libs/libopenblas-5f89.so": A}
    unstrip, whole = slimming.changes_to_take_back(failures, owners, stripped, whole_wheels=False)
    # ... with the libraries vendored beside it.
    assert (unstrip, whole) == (
        frozenset({"a/_x.so", "a.libs/libopenblas-5f89.so", "a.libs/libopenblas-5f89.so.0"}),
        frozenset(),
    )


def test_failures_without_a_shared_object_keep_their_wheel() -> None:
    failures = [
        CheckFailure(
            CheckKind.PACKAGE, "b", None, "ModuleNotFoundError: No module named 'b.tests'"
        ),
        CheckFailure(
            CheckKind.DISTRIBUTION, "a==1.0", None, "importlib.metadata finds no distribution"
        ),
    ]
    assert slimming.changes_to_take_back(failures, OWNERS, ["a/_x.so"], whole_wheels=False) == (
        frozenset(),
        frozenset({A, B}),
    )


def test_owner_of_a_distribution_by_its_canonical_name() -> None:
    failure = CheckFailure(CheckKind.DISTRIBUTION, "b-dist==2.0", None, "")
    assert slimming.owner_of(failure, OWNERS) == B


def _lines(*records: str) -> bytes:
    return "\n".join(records).encode()


def test_parse_proof_counts_checks_and_failures() -> None:
    proof = slim._parse_proof(
        _lines(
            '{"start": ["extension", "a._x", "a/_x.so"]}',
            '{"loading": "a/_x.so"}',
            '{"done": ["extension", "a._x", "a/_x.so"], "error": "ImportError: no", "files": '
            '["a/_x.so"]}',
            '{"start": ["package", "a", null]}',
            '{"done": ["package", "a", null], "error": null, "files": []}',
            '{"start": ["distribution", "a==1.0", null]}',
            '{"done": ["distribution", "a==1.0", null], "error": null, "files": []}',
        ),
        0,
        b"",
    )
    assert (proof.extensions, proof.packages, proof.distributions) == (1, 1, 1)
    assert proof.failures == (
        CheckFailure(CheckKind.EXTENSION, "a._x", "a/_x.so", "ImportError: no", ("a/_x.so",)),
    )


def test_parse_proof_blames_the_shared_object_that_crashed_the_interpreter() -> None:
    proof = slim._parse_proof(
        _lines(
            '{"start": ["package", "a", null]}',
            '{"loading": "a/_y.so"}',
            '{"loaded": "a/_y.so"}',
            '{"loading": "a/_x.so"}',
        ),
        -11,
        b"Segmentation fault",
    )
    [failure] = proof.failures
    assert (failure.kind, failure.name, failure.files) == (CheckKind.PACKAGE, "a", ("a/_x.so",))
    assert "crashed (exit -11) loading a/_x.so" in failure.message


def test_parse_proof_that_did_not_run_is_an_error() -> None:
    with pytest.raises(Exception, match="failed to run"):
        slim._parse_proof(b"", 1, b"python: not found")


def _elf64_with_load(offset: int, vaddr: int, align: int = 0x1000) -> bytes:
    import struct

    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, 64)  # e_phoff
    struct.pack_into("<HH", header, 0x36, 56, 1)  # e_phentsize, e_phnum
    phdr = struct.pack("<IIQQQQQQ", 1, 5, offset, vaddr, vaddr, 0x100, 0x100, align)
    return bytes(header) + phdr


def test_load_segments_alignment_as_the_loader_checks_it() -> None:
    assert slimming.load_segments_aligned(_elf64_with_load(0x1000, 0x202000, 0x200000)) is False
    assert slimming.load_segments_aligned(_elf64_with_load(0x1000, 0x201000, 0x200000)) is True
    assert slimming.load_segments_aligned(_elf64_with_load(0x1000, 0x401000, 0x1000)) is True
    # "ELF load command address/offset not page-aligned".
    assert slimming.load_segments_aligned(_elf64_with_load(0x1010, 0x2000)) is False
    # Not ELF, or too short: not judged here.
    assert slimming.load_segments_aligned(b"not an ELF file") is True
    # Cut inside its program headers: refused.
    assert slimming.load_segments_aligned(_elf64_with_load(0x1000, 0x1000)[:80]) is False
