"""`bytecode="auto"`, the default: compiled beside every source while that fits Lambda's limit.

Bytecode beside every `.py` adds about a third to a tree of Python code. For most functions that
costs nothing that matters and saves every cold start the compilation of each imported module, so
`auto` is `compiled` byte for byte. When it would push the function (with its layers) over
Lambda's 250 MiB unzipped, `auto` gives up, in this order, only what it must:

1. third-party sources: sourceless bytecode in their place, first-party sources kept with their
   `__pycache__` (tracebacks through your code show its lines; cold starts stay as fast);
2. third-party bytecode: third-party sources only, first-party still compiled (cold starts compile
   the third-party modules they import, as with `bytecode="none"`).

If neither fits, `auto` stays `compiled` and the size error lists the remedies with their figures.
Pure functions: the rule in `artifact.py` measures the candidates and applies the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Mapping

from pants_aws_lambda.facts.quotas import UNZIPPED_BYTES


class AutoPlan(Enum):
    """What `auto` did with the third-party part; first-party code is always compiled beside its
    sources."""

    COMPILED = "compiled"
    THIRD_PARTY_SOURCELESS = "third-party-sourceless"
    THIRD_PARTY_SOURCES = "third-party-sources"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    AutoPlan.COMPILED: "compiled beside every source",
    AutoPlan.THIRD_PARTY_SOURCELESS: (
        "third-party distributions as sourceless bytecode, first-party sources kept with their "
        "bytecode"
    ),
    AutoPlan.THIRD_PARTY_SOURCES: (
        "third-party distributions as sources without bytecode, first-party sources kept with "
        "their bytecode"
    ),
}

# Most preferred first: the cold-start benefit kept for as much code as fits.
PREFERENCE = (AutoPlan.COMPILED, AutoPlan.THIRD_PARTY_SOURCELESS, AutoPlan.THIRD_PARTY_SOURCES)


@dataclass(frozen=True)
class AutoChoice:
    plan: AutoPlan
    # Unzipped bytes of the artifact as chosen, and compiled beside every source.
    chosen_bytes: int
    compiled_bytes: int
    # What the artifact may hold: Lambda's limit less what its layers take.
    budget: int

    @property
    def saved_bytes(self) -> int:
        return self.compiled_bytes - self.chosen_bytes


def choose(budget: int, sizes: Mapping[AutoPlan, int]) -> AutoChoice:
    """The first plan, in order of preference, whose artifact fits `budget`; `compiled` if none
    does.

    `sizes` holds the unzipped bytes of each plan that was measured; `compiled` must be among them,
    and the others need only be measured when `compiled` does not fit.
    """
    compiled = sizes[AutoPlan.COMPILED]
    for plan in PREFERENCE:
        size = sizes.get(plan)
        if size is not None and size <= budget:
            return AutoChoice(plan, size, compiled, budget)
    return AutoChoice(AutoPlan.COMPILED, compiled, compiled, budget)


def log_line(choice: AutoChoice, format_bytes: Callable[[int], str], limit: int) -> str | None:
    """The package log's line about what `auto` did, or None when it kept `compiled`."""
    if choice.plan is AutoPlan.COMPILED:
        return None
    unzipped = f"Lambda's {UNZIPPED_BYTES.stated} unzipped"
    over = (
        f"over the {format_bytes(choice.budget)} its layers leave of {unzipped}"
        if choice.budget < limit
        else f"over {unzipped}"
    )
    keep = (
        'bytecode="compiled" keeps every source (it must fit by other means), bytecode="only" '
        'makes first-party code sourceless too, bytecode="none" ships sources only'
    )
    return (
        f'bytecode="auto": {choice.plan.description}, {format_bytes(choice.saved_bytes)} saved: '
        f"compiled beside every source it would be {format_bytes(choice.compiled_bytes)}, {over}. "
        f"To choose otherwise: {keep}"
    )
