"""The docs' runtime tables and runtime ranges say what the runtime table (`RUNTIMES`) says, and
pants.toml's interpreter universe has every runtime's Python.

`docs_problems` compares the docs with any list of runtimes, so that a new row in the table makes
this test name every place of the docs to update; `test_an_extra_row_flows_everywhere` shows that
with a hypothetical python3.15, together with the other values derived from the table.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from pathlib import Path
from typing import Callable, Sequence

from pants_aws_lambda.facts.python_version import PythonVersion
from pants_aws_lambda.facts.runtimes import (
    DATES_CHECKED_ON,
    RUNTIMES,
    LambdaRuntime,
    closest_runtime,
    runtime_client_interpreter_constraints,
)
from pants_aws_lambda.goals.run import encoding_args

# The documents that name runtimes: the user guide and the README.
DOCUMENTS = (
    "README.md",
    "docs/index.md",
    "docs/local-invoke.md",
    "docs/migration.md",
    "docs/quickstart.md",
    "docs/reference.md",
    "docs/troubleshooting.md",
)

# The docs say which runtimes are deprecated as of the day the table's dates were checked.
CHECKED = datetime.date.fromisoformat(DATES_CHECKED_ON)

# A range of runtimes as the docs write one: `python3.8`–`python3.11`, python3.8 ... python3.14,
# (`python3.8` … `python3.14`), `python3.8` to `python3.14`.
_RANGE = re.compile(r"`?(python3\.\d+)`?\s*(?:–|\.\.\.|…|to)\s*`?(python3\.\d+)`?")
# A list of every runtime, or of the supported ones, in a message the docs quote.
_LISTS = {
    "all": re.compile(r"(?:Use one of:|`runtime` to one of) ((?:python3\.\d+, )*python3\.\d+)"),
    "supported": re.compile(r"move to a supported runtime \(((?:python3\.\d+, )*python3\.\d+)\)"),
}


def read_docs() -> dict[str, str]:
    """Each document's text with runs of whitespace as one space (prose wraps anywhere)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "docs" / "reference.md").is_file():
            return {
                name: (
                    " ".join((parent / name).read_text().split())
                    if (parent / name).is_file()
                    else ""
                )
                for name in DOCUMENTS
            }
    raise AssertionError("docs/reference.md is not in the test's sandbox")


def read_reference_table() -> list[list[str]]:
    """The rows of the `## Runtimes` table of docs/reference.md, as cells."""
    for parent in Path(__file__).resolve().parents:
        path = parent / "docs" / "reference.md"
        if path.is_file():
            text = path.read_text()
            break
    else:
        raise AssertionError("docs/reference.md is not in the test's sandbox")
    section = text.split("\n## Runtimes\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


# --------------------------------------------------------------------------------------------------
# What the docs must say, from a list of runtimes
# --------------------------------------------------------------------------------------------------


def _dotted(version: tuple[int, int]) -> str:
    return "{}.{}".format(*version)


def reference_rows(runtimes: Sequence[LambdaRuntime]) -> list[list[str]]:
    """The `## Runtimes` table of docs/reference.md: runtime, Python, OS, glibc, manylinux
    ceiling, and AWS's dates: deprecation, creating blocked, updating blocked."""
    return [
        [
            f"`{r.name}`",
            str(r.python_version),
            r.os,
            _dotted(r.glibc),
            f"`{r.manylinux}`",
            r.deprecation_on + (" (deprecated)" if r.is_deprecated(CHECKED) else ""),
            r.create_blocked_on or "not announced",
            r.update_blocked_on or "not announced",
        ]
        for r in runtimes
    ]


def spans(runtimes: Sequence[LambdaRuntime], key: Callable[[LambdaRuntime], object]) -> dict:
    """key value -> (first, last) runtime of the consecutive runs of runtimes sharing it."""
    result: dict = {}
    for r in sorted(runtimes, key=lambda r: r.python_version):
        first, _ = result.get(key(r), (r, r))
        result[key(r)] = (first, r)
    return result


def _range(first: LambdaRuntime, last: LambdaRuntime) -> str:
    return f"`{first.name}`–`{last.name}`"


def required_phrases(runtimes: Sequence[LambdaRuntime]) -> dict[str, list[str]]:
    """Document -> phrases it must contain (whitespace as single spaces)."""
    by_os = spans(runtimes, lambda r: r.os)
    by_status = spans(runtimes, lambda r: r.is_deprecated(CHECKED))
    by_encoding = spans(runtimes, lambda r: r.json_ensure_ascii)
    phrases: dict[str, list[str]] = {
        "docs/quickstart.md": [
            f"`{first.manylinux}` for {_range(first, last)} ({os})"
            for os, (first, last) in by_os.items()
        ],
        "docs/troubleshooting.md": [
            f"{_range(first, last)} run on {os} (glibc {_dotted(first.glibc)})"
            for os, (first, last) in by_os.items()
        ],
        "docs/local-invoke.md": [
            f"{'escaped' if escaped else 'kept'} on {_range(first, last)}"
            for escaped, (first, last) in by_encoding.items()
        ],
        "docs/reference.md": [],
    }
    if True in by_status:
        phrases["docs/reference.md"].append(f"Deprecated runtimes ({_range(*by_status[True])})")
    return phrases


def docs_problems(
    docs: dict[str, str], table: list[list[str]], runtimes: Sequence[LambdaRuntime]
) -> list[str]:
    """What the docs say about runtimes that `runtimes` does not; empty when they agree."""
    ordered = sorted(runtimes, key=lambda r: r.python_version)
    names = [r.name for r in ordered]
    problems = []
    expected_rows = reference_rows(ordered)
    if table != expected_rows:
        problems.append(
            "docs/reference.md's `## Runtimes` table is not the runtime table; its rows should "
            "be:\n" + "\n".join("| " + " | ".join(row) + " |" for row in expected_rows)
        )
    if (
        f"last compared with AWS's runtimes page on {DATES_CHECKED_ON}"
        not in docs["docs/reference.md"]
    ):
        problems.append(
            "docs/reference.md does not say: last compared with AWS's runtimes page on "
            f"{DATES_CHECKED_ON}"
        )
    for document, wanted in required_phrases(ordered).items():
        problems.extend(
            f"{document} does not say: {phrase}"
            for phrase in wanted
            if phrase not in docs[document]
        )
    # Every range of runtimes is one the table has: all, one OS's, the deprecated or supported ones,
    # or those with one encoding rule.
    allowed = {(ordered[0].name, ordered[-1].name)} | {
        (first.name, last.name)
        for key in (
            lambda r: r.os,
            lambda r: r.is_deprecated(CHECKED),
            lambda r: r.json_ensure_ascii,
        )
        for first, last in spans(ordered, key).values()
    }
    for document, text in docs.items():
        for match in _RANGE.finditer(text):
            if match.groups() not in allowed:
                problems.append(f"{document}: `{match.group(0)}` is no range of the runtime table")
    supported = [r.name for r in ordered if not r.is_deprecated(CHECKED)]
    for document, text in docs.items():
        for kind, pattern in _LISTS.items():
            for match in pattern.finditer(text):
                listed = match.group(1).split(", ")
                expected = names if kind == "all" else supported
                if listed != expected:
                    problems.append(
                        f"{document}: lists {', '.join(listed)}, not {', '.join(expected)}"
                    )
    return problems


def read_universe() -> list[str]:
    """`[python].interpreter_versions_universe` of pants.toml."""
    for parent in Path(__file__).resolve().parents:
        path = parent / "pants.toml"
        if path.is_file():
            match = re.search(
                r"^interpreter_versions_universe\s*=\s*\[([^\]]*)\]", path.read_text(), re.M
            )
            assert match, "pants.toml sets no [python].interpreter_versions_universe"
            return re.findall(r'"([^"]+)"', match.group(1))
    raise AssertionError("pants.toml is not in the test's sandbox")


def universe_problems(universe: list[str], runtimes: Sequence[LambdaRuntime]) -> list[str]:
    missing = [str(r.python_version) for r in runtimes if str(r.python_version) not in universe]
    return (
        [
            f"pants.toml's [python].interpreter_versions_universe lacks {', '.join(missing)}: "
            "Pants "
            "would not know the Python of every runtime."
        ]
        if missing
        else []
    )


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------


def test_docs_agree_with_the_runtime_table() -> None:
    problems = docs_problems(read_docs(), read_reference_table(), list(RUNTIMES.values()))
    assert not problems, "\n".join(problems)


def test_the_interpreter_universe_has_every_runtime() -> None:
    problems = universe_problems(read_universe(), list(RUNTIMES.values()))
    assert not problems, "\n".join(problems)


def test_the_check_sees_the_docs() -> None:
    docs = read_docs()
    assert all(docs.values()), [name for name, text in docs.items() if not text]
    assert len(read_reference_table()) == len(RUNTIMES)
    assert any(_RANGE.search(text) for text in docs.values())
    assert all(any(p.search(text) for text in docs.values()) for p in _LISTS.values())


def test_an_extra_row_flows_everywhere() -> None:
    """A python3.15 row, and nothing else, changes every value derived from the table."""
    newest = list(RUNTIMES.values())[-1]
    extra = dataclasses.replace(
        newest, name="python3.15", python_version=PythonVersion(3, 15), deprecation_on="2030-10-31"
    )
    runtimes = [*RUNTIMES.values(), extra]

    # The `[awslambdaric]` interpreter constraints now reach 3.15.
    (constraints,) = runtime_client_interpreter_constraints(runtimes)
    assert constraints.endswith(",<3.16")
    assert runtime_client_interpreter_constraints() != runtime_client_interpreter_constraints(
        runtimes
    )
    # The local runner's encoding rule is the row's.
    assert closest_runtime((3, 15), runtimes) is extra
    assert encoding_args(extra) == encoding_args(newest)
    assert encoding_args(dataclasses.replace(extra, json_ensure_ascii=True)) != encoding_args(extra)
    # The docs' tables and ranges.
    assert reference_rows(runtimes)[-1] == [
        "`python3.15`",
        "3.15",
        newest.os,
        _dotted(newest.glibc),
        f"`{newest.manylinux}`",
        "2030-10-31",
        "not announced",
        "not announced",
    ]
    assert spans(runtimes, lambda r: r.os)[newest.os][1] is extra
    assert any(
        "`python3.15`" in p for phrases in required_phrases(runtimes).values() for p in phrases
    )
    # pants.toml must know its Python.
    assert universe_problems([*read_universe(), "3.15"], runtimes) == []
    assert "3.15" in universe_problems(read_universe(), runtimes)[0]
    # ... and the docs, not updated for it, fail the check, which names what to change.
    problems = docs_problems(read_docs(), read_reference_table(), runtimes)
    assert any("| `python3.15` | 3.15 |" in p for p in problems)
    assert any("docs/quickstart.md" in p and "python3.15" in p for p in problems)
    assert any("README.md" in p for p in problems)
