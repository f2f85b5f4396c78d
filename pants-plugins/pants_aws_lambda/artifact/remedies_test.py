"""The size error's remedies: what each saves for the artifact, best first, as field values."""

from __future__ import annotations

import dataclasses
from typing import Iterator

from pants_aws_lambda.artifact import sizes
from pants_aws_lambda.artifact.remedies import (
    REMEDY_KINDS,
    Distribution,
    Remedy,
    RemedyFacts,
    format_rows,
    remedy_rows,
)
from pants_aws_lambda.artifact.sizes import NamedSize

MIB = 2**20
LIMIT = 250 * MIB

SCIPY = Distribution(
    "scipy==1.18.1",
    (
        NamedSize("scipy", 120 * MIB),
        NamedSize("scipy.libs", 11 * MIB),
        NamedSize("scipy-1.18.1.dist-info", MIB // 2),
    ),
)
PANDAS = Distribution("pandas==3.1.1", (NamedSize("pandas", 72 * MIB),))
SIX = Distribution(
    "six==1.17.0", (NamedSize("six.py", 40_000), NamedSize("six-1.17.0.dist-info", 8_000))
)

# numpy + pandas + scipy with `bytecode="compiled"`: 267 MiB.
OVER = RemedyFacts(
    function_bytes=267 * MIB,
    total_bytes=267 * MIB,
    limit=LIMIT,
    bytecode="compiled",
    by_bytecode=(
        NamedSize("compiled", 267 * MIB),
        NamedSize("none", 199 * MIB),
        NamedSize("only", 205 * MIB),
    ),
    tests_bytes=(
        NamedSize("scipy", 20 * MIB),
        NamedSize("pandas", 15 * MIB),
        NamedSize("numpy", 2 * MIB),
        NamedSize("tiny", 1000),
    ),
    distributions=(SCIPY, PANDAS),
)


def fields(facts: RemedyFacts) -> list[str]:
    return [row.field for row in remedy_rows(facts)]


def test_best_first_when_several_fit() -> None:
    assert fields(OVER) == [
        'bytecode="only"',
        'exclude=["scipy/**/tests/**", "pandas/**/tests/**", "numpy/**/tests/**"]',
        'bytecode="none"',
        'exclude=["scipy/**", "scipy.libs/**", "scipy-1.18.1.dist-info/**"]',
        'layout="flat" with a `docker_image` that copies it',
    ]
    saves = {row.field: row.saves for row in remedy_rows(OVER)}
    assert saves['bytecode="only"'] == 62 * MIB
    assert saves['bytecode="none"'] == 68 * MIB
    # Directories under 1 MiB are not worth naming.
    assert (
        saves['exclude=["scipy/**/tests/**", "pandas/**/tests/**", "numpy/**/tests/**"]']
        == 37 * MIB
    )
    assert (
        saves['exclude=["scipy/**", "scipy.libs/**", "scipy-1.18.1.dist-info/**"]'] == SCIPY.bytes
    )


def test_remedies_that_do_not_fit_come_after_those_that_do_by_bytes_saved() -> None:
    facts = dataclasses.replace(
        OVER,
        function_bytes=300 * MIB,
        total_bytes=300 * MIB,
        by_bytecode=(
            NamedSize("compiled", 300 * MIB),
            NamedSize("none", 232 * MIB),
            NamedSize("only", 255 * MIB),
        ),
    )
    rows = remedy_rows(facts)
    fitting = [r.field for r in rows if r.fits(facts)]
    assert fitting == [
        'bytecode="none"',
        'exclude=["scipy/**", "scipy.libs/**", "scipy-1.18.1.dist-info/**"]',
        'layout="flat" with a `docker_image` that copies it',
    ]
    over = [r.saves for r in rows if not r.fits(facts)]
    assert over == [45 * MIB, 37 * MIB]
    assert [r.field for r in rows][: len(fitting)] == fitting


def test_no_bytecode_rows_for_the_mode_in_use_or_without_measures() -> None:
    only = dataclasses.replace(
        OVER,
        bytecode="only",
        by_bytecode=(NamedSize("none", 199 * MIB), NamedSize("only", 205 * MIB)),
    )
    assert 'bytecode="only"' not in fields(only)
    assert 'bytecode="none"' in fields(only)
    # Sources only are larger than sourceless bytecode: no row.
    bigger = dataclasses.replace(
        only, by_bytecode=(NamedSize("none", 210 * MIB), NamedSize("only", 205 * MIB))
    )
    assert not any(f.startswith("bytecode=") for f in fields(bigger))
    unmeasured = dataclasses.replace(OVER, by_bytecode=())
    assert not any(f.startswith("bytecode=") for f in fields(unmeasured))


def test_auto_still_over_is_measured_as_compiled() -> None:
    auto = dataclasses.replace(OVER, bytecode="auto")
    assert fields(auto)[0] == 'bytecode="only"'


def test_a_single_module_distribution_is_excluded_by_file() -> None:
    facts = dataclasses.replace(OVER, distributions=(SIX,), tests_bytes=(), by_bytecode=())
    # Too small to fit the limit: after the container image, which does.
    assert fields(facts) == [
        'layout="flat" with a `docker_image` that copies it',
        'exclude=["six.py", "six-1.17.0.dist-info/**"]',
    ]


def test_the_largest_first_party_directory() -> None:
    facts = dataclasses.replace(
        OVER,
        by_bytecode=(),
        tests_bytes=(),
        distributions=(),
        first_party_dirs=(NamedSize("proj/data", 100 * MIB), NamedSize("proj", 10_000)),
    )
    rows = remedy_rows(facts)
    assert [r.field for r in rows] == [
        'exclude=["proj/data/*"]',
        'layout="flat" with a `docker_image` that copies it',
    ]
    assert rows[0].saves == 100 * MIB
    small = dataclasses.replace(facts, first_party_dirs=(NamedSize("proj", 10_000),))
    assert fields(small) == ['layout="flat" with a `docker_image` that copies it']


def test_the_container_row_lifts_the_limit() -> None:
    bare = dataclasses.replace(OVER, by_bytecode=(), tests_bytes=(), distributions=())
    (row,) = remedy_rows(bare)
    assert row.saves is None and row.fits(bare)
    assert "10 GiB" in row.tradeoff


def test_format_rows_gives_figures_and_says_a_layer_does_not_help() -> None:
    text = format_rows(OVER, sizes.format_bytes)
    lines = text.splitlines()
    assert lines[0] == (
        '  1. bytecode="only": saves 62.0 MiB here (205.0 MiB, fits); '
        "sourceless bytecode: tracebacks show no source lines"
    )
    assert "lifts the limit" in lines[4]
    assert "can be combined" not in text
    assert lines[-1].startswith("A layer does not help with this limit")
    still = dataclasses.replace(OVER, total_bytes=400 * MIB)
    assert "still over" in format_rows(still, sizes.format_bytes)
    assert "can be combined" in format_rows(still, sizes.format_bytes)


def test_a_new_kind_of_remedy_is_one_function() -> None:
    def slim(facts: RemedyFacts) -> Iterator[Remedy]:
        yield Remedy("slim=True", 30 * MIB, "strips shared objects", 15)

    rows = remedy_rows(OVER, [*REMEDY_KINDS, slim])
    assert [r.field for r in rows][:3] == [
        'bytecode="only"',
        "slim=True",
        'exclude=["scipy/**/tests/**", "pandas/**/tests/**", "numpy/**/tests/**"]',
    ]


def test_slim_comes_with_its_figure_for_this_artifact() -> None:
    facts = dataclasses.replace(OVER, slim_bytes=41 * MIB)
    rows = remedy_rows(facts)
    [slim] = [row for row in rows if row.field == "slim=True"]
    assert slim.saves == 41 * MIB and slim.fits(facts)
    # It costs a proof at package time: after excluding test suites, before sources only.
    order = [row.field for row in rows]
    assert order.index("slim=True") == order.index('bytecode="none"') - 1
    assert "slim=True: saves 41.0 MiB here (226.0 MiB, fits)" in format_rows(
        facts, sizes.format_bytes
    )
    # No row when slim would save little, or the artifact is slim already.
    assert "slim=True" not in fields(dataclasses.replace(OVER, slim_bytes=1000))
