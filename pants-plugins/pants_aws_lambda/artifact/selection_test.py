"""Which files of a target's content go into its artifact: layers' distributions and first-party
files left out, `exclude` applied, protected files refused to `exclude`, and the owners of the
kept top-level entries."""

from __future__ import annotations

import pytest
from pants.engine.addresses import Address
from pants.engine.fs import FileDigest, FileEntry

from pants_aws_lambda.artifact.content import LambdaContent
from pants_aws_lambda.artifact.selection import (
    LayerDistribution,
    ProtectedFile,
    Provided,
    Selection,
    owners,
    select,
)
from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.requirements.tree import ThirdPartyFile, ThirdPartyTree

ADDRESS = Address("src/proj", target_name="fn")
REQUESTS = "requests-2.31.0-py3-none-any.whl"
PYDANTIC = "pydantic-2.5.0-py3-none-any.whl"
CORE = "pydantic_core-2.14.1-cp312-cp312-manylinux_2_17_x86_64.whl"
HANDLER = ProtectedFile("proj/app.py", "the handler's module")


def entry(path: str, size: int) -> FileEntry:
    return FileEntry(path, FileDigest("0" * 64, size))


def content(first_party: dict[str, int], third_party: dict[str, dict[str, int]]) -> LambdaContent:
    files = [
        ThirdPartyFile(path, wheel, entry(path, size))
        for wheel, paths in third_party.items()
        for path, size in paths.items()
    ]
    return LambdaContent(
        third_party=ThirdPartyTree(
            wheels=tuple(sorted(third_party)), files=tuple(sorted(files, key=lambda f: f.path))
        ),
        first_party=tuple(entry(path, size) for path, size in first_party.items()),
    )


CONTENT = content(
    {"proj/app.py": 10, "proj/util.py": 20, "proj/tests/test_app.py": 30, "shared/greet.py": 40},
    {
        REQUESTS: {"requests/__init__.py": 100, "requests/tests/test_r.py": 200},
        PYDANTIC: {"pydantic/__init__.py": 300, "pydantic/main.py": 400},
        CORE: {"pydantic_core/_core.so": 500, "pydantic_core/__init__.py": 600},
    },
)


def provided(
    distributions: tuple[tuple[str, str, str], ...] = (), files: tuple[str, ...] = ()
) -> Provided:
    return Provided(
        distributions=tuple(LayerDistribution(*d) for d in distributions),
        first_party_files=frozenset(files),
    )


def choose(exclude: tuple[str, ...] = (), provides: Provided | None = None) -> Selection:
    return select(ADDRESS, CONTENT, exclude, (HANDLER,), provides or provided())


def paths(entries: tuple[FileEntry, ...]) -> list[str]:
    return [e.path for e in entries]


def test_everything_kept_without_exclude_or_layers() -> None:
    chosen = choose()
    assert chosen.wheels == tuple(sorted((REQUESTS, PYDANTIC, CORE)))
    assert paths(chosen.first_party) == [
        "proj/app.py",
        "proj/util.py",
        "proj/tests/test_app.py",
        "shared/greet.py",
    ]
    assert sorted(paths(chosen.third_party)) == sorted(
        path for f in CONTENT.third_party.files for path in [f.path]
    )
    assert (chosen.excluded_files, chosen.excluded_bytes) == (0, 0)
    assert chosen.omitted_distributions == ()
    assert chosen.omitted_first_party == 0
    assert [str(d) for d in chosen.distributions] == [
        "pydantic==2.5.0",
        "pydantic-core==2.14.1",
        "requests==2.31.0",
    ]


def test_exclude_counts_files_and_bytes_of_both_parties() -> None:
    chosen = choose(exclude=("**/tests/**",))
    assert "proj/tests/test_app.py" not in paths(chosen.first_party)
    assert "requests/tests/test_r.py" not in paths(chosen.third_party)
    assert (chosen.excluded_files, chosen.excluded_bytes) == (2, 30 + 200)
    # The wheel stays: only some of its files were excluded.
    assert REQUESTS in chosen.wheels


def test_exclude_of_every_file_of_a_wheel_keeps_the_wheel_listed() -> None:
    chosen = choose(exclude=("pydantic_core/**",))
    assert not any(p.startswith("pydantic_core/") for p in paths(chosen.third_party))
    assert (chosen.excluded_files, chosen.excluded_bytes) == (2, 1100)
    assert CORE in chosen.wheels


def test_exclude_of_a_protected_file_is_refused_naming_the_target_and_patterns() -> None:
    with pytest.raises(LambdaPackagingError) as exc:
        choose(exclude=("docs/**", "proj/*.py"))
    message = str(exc.value)
    assert str(ADDRESS) in message
    assert "proj/app.py" in message
    assert "the handler's module" in message
    assert "docs/**, proj/*.py" in message


def test_directory_name_alone_excludes_nothing() -> None:
    chosen = choose(exclude=("requests",))
    assert (chosen.excluded_files, chosen.excluded_bytes) == (0, 0)


def test_distribution_a_layer_provides_is_omitted_with_its_files() -> None:
    # The layer names the project in canonical form; the wheel's name is normalised to match.
    chosen = choose(provides=provided((("pydantic-core", "2.14.1", "src/proj:deps"),)))
    assert CORE not in chosen.wheels
    assert not any(p.startswith("pydantic_core/") for p in paths(chosen.third_party))
    assert chosen.omitted_distributions == (("src/proj:deps", "pydantic-core==2.14.1"),)
    # Files of omitted wheels are not counted as excluded.
    assert (chosen.excluded_files, chosen.excluded_bytes) == (0, 0)


def test_distribution_a_layer_provides_in_another_version_is_an_error() -> None:
    with pytest.raises(LambdaPackagingError) as exc:
        choose(provides=provided((("requests", "2.32.0", "src/proj:deps"),)))
    message = str(exc.value)
    assert str(ADDRESS) in message
    assert "requests 2.31.0" in message
    assert "src/proj:deps" in message
    assert "requests 2.32.0" in message


def test_first_party_files_a_layer_provides_are_omitted_not_excluded() -> None:
    chosen = choose(exclude=("shared/**",), provides=provided(files=("shared/greet.py",)))
    assert "shared/greet.py" not in paths(chosen.first_party)
    assert chosen.omitted_first_party == 1
    assert (chosen.excluded_files, chosen.excluded_bytes) == (0, 0)


def test_owners_of_kept_top_level_entries() -> None:
    chosen = choose(provides=provided((("requests", "2.31.0", "src/proj:deps"),)))
    assert owners(CONTENT, chosen) == (
        ("pydantic", "pydantic==2.5.0"),
        ("pydantic_core", "pydantic-core==2.14.1"),
    )
