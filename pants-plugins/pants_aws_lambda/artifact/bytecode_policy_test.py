"""`bytecode="auto"`: which plan fits, in order of preference, and what the log says."""

from __future__ import annotations

import pytest

from pants_aws_lambda.artifact import sizes
from pants_aws_lambda.artifact.bytecode_policy import AutoChoice, AutoPlan, choose, log_line

MIB = 2**20
LIMIT = 250 * MIB
COMPILED, SOURCELESS, SOURCES = (
    AutoPlan.COMPILED,
    AutoPlan.THIRD_PARTY_SOURCELESS,
    AutoPlan.THIRD_PARTY_SOURCES,
)


@pytest.mark.parametrize(
    "budget, sizes, expected",
    [
        # Fits compiled: nothing else is even measured, and compiled wins.
        (LIMIT, {COMPILED: 10 * MIB}, COMPILED),
        (LIMIT, {COMPILED: LIMIT}, COMPILED),
        # Compiled fits even when the others are smaller: compiled is preferred.
        (LIMIT, {COMPILED: 200 * MIB, SOURCELESS: 150 * MIB, SOURCES: 140 * MIB}, COMPILED),
        # One byte over: sourceless third-party bytecode.
        (LIMIT, {COMPILED: LIMIT + 1, SOURCELESS: 200 * MIB, SOURCES: 190 * MIB}, SOURCELESS),
        # The numpy+pandas+scipy case (python3.13): 267 MiB compiled, about 200 MiB otherwise.
        (LIMIT, {COMPILED: 267 * MIB, SOURCELESS: 205 * MIB, SOURCES: 199 * MIB}, SOURCELESS),
        # Layers take part of the budget: sourceless does not fit, sources only do.
        (60 * MIB, {COMPILED: 80 * MIB, SOURCELESS: 61 * MIB, SOURCES: 60 * MIB}, SOURCES),
        # Nothing fits: stays compiled (the size error follows, with its remedies).
        (LIMIT, {COMPILED: 400 * MIB, SOURCELESS: 300 * MIB, SOURCES: 290 * MIB}, COMPILED),
        # Layers alone over the limit: a negative budget, nothing fits.
        (-MIB, {COMPILED: MIB, SOURCELESS: MIB, SOURCES: MIB}, COMPILED),
        # A plan that was not measured is never chosen.
        (LIMIT, {COMPILED: 300 * MIB, SOURCES: 200 * MIB}, SOURCES),
    ],
)
def test_choose_takes_the_first_plan_that_fits(
    budget: int, sizes: dict, expected: AutoPlan
) -> None:
    choice = choose(budget, sizes)
    assert choice.plan is expected
    assert choice.chosen_bytes == sizes[expected]
    assert choice.compiled_bytes == sizes[COMPILED]
    assert choice.saved_bytes == sizes[COMPILED] - sizes[expected]
    assert choice.budget == budget


def test_choose_needs_the_compiled_size() -> None:
    with pytest.raises(KeyError):
        choose(LIMIT, {SOURCELESS: MIB})


def test_no_log_line_when_compiled() -> None:
    assert log_line(AutoChoice(COMPILED, MIB, MIB, LIMIT), sizes.format_bytes, LIMIT) is None


def test_log_line_says_what_it_did_the_bytes_saved_and_the_fields() -> None:
    line = log_line(AutoChoice(SOURCELESS, 205 * MIB, 267 * MIB, LIMIT), sizes.format_bytes, LIMIT)
    assert line is not None
    assert line.startswith('bytecode="auto": third-party distributions as sourceless bytecode')
    assert "62.0 MiB saved" in line
    assert "267.0 MiB, over Lambda's 250 MiB unzipped" in line
    for value in ('bytecode="compiled"', 'bytecode="only"', 'bytecode="none"'):
        assert value in line


def test_log_line_names_the_budget_its_layers_leave() -> None:
    line = log_line(AutoChoice(SOURCES, 60 * MIB, 80 * MIB, 60 * MIB), sizes.format_bytes, LIMIT)
    assert line is not None
    assert "third-party distributions as sources without bytecode" in line
    assert "over the 60.0 MiB its layers leave of Lambda's 250 MiB unzipped" in line
