"""The reference documents every field of every target the plugin registers, as `pants help`
does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pants.engine.target import Target

from pants_aws_lambda.target_types import target_types


def reference() -> str:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "docs" / "reference.md"
        if candidate.is_file():
            return candidate.read_text()
    raise AssertionError("docs/reference.md is not in the test's sandbox")


def target_section(text: str, alias: str) -> str:
    """The reference's text about one target: from its `## The `alias` target` heading to the
    next target's heading (or the next top-level section that is not a target)."""
    match = re.search(rf"^## The `{alias}` target$", text, re.M)
    assert match, f"docs/reference.md has no `## The `{alias}` target` section"
    rest = text[match.end() :]
    end = re.search(r"^## (?!Fields)", rest, re.M)
    return rest[: end.start()] if end else rest


@pytest.mark.parametrize("target_type", target_types(), ids=lambda t: t.alias)
def test_every_field_is_documented(target_type: type[Target]) -> None:
    section = target_section(reference(), target_type.alias)
    missing = sorted(
        field.alias for field in target_type.core_fields if f"`{field.alias}`" not in section
    )
    assert not missing, (
        f"docs/reference.md documents no {', '.join(missing)} for `{target_type.alias}`: "
        "describe every field there (see `./pants help "
        f"{target_type.alias}`)."
    )
