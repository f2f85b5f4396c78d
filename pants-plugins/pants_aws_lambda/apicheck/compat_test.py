"""The backend's Pants uses against every supported Pants release, from the releases' own source.

`pants_facts.json` holds what each release series (its last patch release) defines: modules,
names, classes' members and constructor parameters, functions' parameters. The backend's modules
are read as they are now; a use that is missing on a supported release fails here, with the
place, the name, the releases and how to route it through `pants_compat.py`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import pants_aws_lambda
from pants_aws_lambda import pants_versions
from pants_aws_lambda.apicheck import check
from pants_aws_lambda.apicheck.uses import COMPAT_MODULE, module_uses, plugin_modules, plugin_uses

SOURCE_ROOT = Path(pants_aws_lambda.__file__).parent.parent
RELEASES = check.load_releases()
SUPPORTED = [r for r in RELEASES if r.supported]
UNSUPPORTED = [r for r in RELEASES if not r.supported]
VERSIONS = [r.version for r in RELEASES]


def _problems(
    source: str,
    path: str = "pants_aws_lambda/synthetic.py",
    releases: list[check.Release] = SUPPORTED,
) -> list[check.Problem]:
    return check.check(module_uses(textwrap.dedent(source), path, VERSIONS), releases)


def test_the_facts_cover_every_supported_series() -> None:
    first, last = pants_versions.FIRST_SUPPORTED, pants_versions.LAST_SUPPORTED
    expected = [(first[0], minor) for minor in range(first[1], last[1] + 1)]
    assert [r.version for r in SUPPORTED] == expected
    # The first unsupported series is in the facts too: what a port to it must change.
    assert UNSUPPORTED and UNSUPPORTED[0].version == (last[0], last[1] + 1)


def test_every_backend_module_is_read() -> None:
    modules = {p.relative_to(SOURCE_ROOT).as_posix() for p in plugin_modules(SOURCE_ROOT)}
    # The test depends on register.py, which brings every module the backend loads.
    assert {
        "pants_aws_lambda/register.py",
        COMPAT_MODULE,
        "pants_aws_lambda/invoke/runtime_client.py",
    } <= modules
    assert len(modules) >= 30, sorted(modules)


def test_the_backend_uses_only_what_every_supported_release_has() -> None:
    uses = plugin_uses(SOURCE_ROOT, VERSIONS)
    assert len({(u.module, u.name) for u in uses if u.kind == "import"}) >= 50
    problems = check.check(uses, SUPPORTED)
    assert not problems, "\n\n".join(p.message() for p in problems)


def test_a_removed_name_fails_with_the_place_the_releases_and_the_way_through_pants_compat() -> (
    None
):
    problems = _problems(
        """
        from pants.backend.python.subsystems.python_tool_base import LockfileRules
        from pants.core.util_rules.system_binaries import SEARCH_PATHS, BinaryPathRequest
        from pants.core.util_rules.environments import EnvironmentField

        TYPE = LockfileRules.SIMPLE
        REQUEST = BinaryPathRequest(binary_name="zip", search_path=SEARCH_PATHS, no_such_field=1)
        """
    )
    messages = {p.use.detail or p.use.name: p.message() for p in problems}
    assert set(messages) == {
        "LockfileRules",
        "SIMPLE",
        "SEARCH_PATHS",
        "EnvironmentField",
        "no_such_field",
    }
    assert messages["SEARCH_PATHS"].startswith(
        "pants_aws_lambda/synthetic.py:3: `from pants.core.util_rules.system_binaries import "
        "SEARCH_PATHS` "
        "does not exist on Pants 2.19, 2.20, "
    )
    assert "(it does on 2.17, 2.18)" in messages["SEARCH_PATHS"]
    assert "under `if PANTS_VERSION < (2, 19):`" in messages["SEARCH_PATHS"]
    assert (
        "import what pants_compat.py defines from `pants_aws_lambda.pants_compat`"
        in messages["SEARCH_PATHS"]
    )
    assert (
        "does not exist on Pants 2.28, 2.29, 2.30, 2.31 (it does on 2.17,"
        in messages["EnvironmentField"]
    )
    assert "does not exist on Pants 2.18, " in messages["LockfileRules"]
    assert "the attribute `SIMPLE` of `LockfileRules`" in messages["SIMPLE"]
    # A keyword no release has: missing everywhere.
    assert "the keyword `no_such_field=` of `BinaryPathRequest(...)`" in messages["no_such_field"]
    assert "does not exist on Pants 2.17, 2.18," in messages["no_such_field"]


def test_a_class_attribute_that_overrides_one_a_release_removed_fails() -> None:
    problems = _problems(
        """
        from pants.backend.python.subsystems.python_tool_base import PythonToolRequirementsBase
        from pants.option.option_types import StrOption

        class Base(PythonToolRequirementsBase):
            default_lockfile_resource = ("pkg", "tool.lock")

        class Tool(Base):
            options_scope = "tool"
            lockfile_rules_type = None
            # The class's own option: no release of the base has it, and none needs to.
            flavour = StrOption(default="plain", help="A flavour.")
        """
    )
    assert [(p.use.kind, p.use.detail, p.use.line) for p in problems] == [
        ("override", "lockfile_rules_type", 10)
    ]
    assert (
        problems[0]
        .message()
        .startswith(
            "pants_aws_lambda/synthetic.py:10: the attribute `lockfile_rules_type` that a backend "
            "class sets "
            "or reads over `PythonToolRequirementsBase`'s (from "
            "`pants.backend.python.subsystems.python_tool_base`) does "
            "not exist on Pants 2.18, 2.19,"
        )
    )


def test_the_compat_module_s_branches_are_checked_against_their_releases_only() -> None:
    branch = """
        from pants.version import PANTS_SEMVER
        PANTS_VERSION = (PANTS_SEMVER.major, PANTS_SEMVER.minor)
        if PANTS_VERSION < {bound}:
            from pants.core.util_rules.system_binaries import SEARCH_PATHS
        else:
            from pants.core.util_rules.system_binaries import SystemBinariesSubsystem
            PATHS = SystemBinariesSubsystem.EnvironmentAware.system_binary_paths
        """
    assert _problems(branch.format(bound="(2, 19)"), path=COMPAT_MODULE) == []
    # One release too many on each side.
    too_late = _problems(branch.format(bound="(2, 20)"), path=COMPAT_MODULE)
    assert [(p.use.name, p.missing) for p in too_late] == [("SEARCH_PATHS", ((2, 19),))]
    assert (
        "This use in pants_compat.py runs on 2.19: narrow the `if PANTS_VERSION ...` condition"
        in (too_late[0].message())
    )
    too_early = _problems(branch.format(bound="(2, 18)"), path=COMPAT_MODULE)
    assert {p.use.detail or p.use.name for p in too_early} == {
        "SystemBinariesSubsystem",
        "EnvironmentAware",
        "system_binary_paths",
    }
    assert all(p.missing == ((2, 18),) for p in too_early)
    # Outside pants_compat.py a version branch is no excuse.
    assert sorted(
        p.use.detail or p.use.name for p in _problems(branch.format(bound="(2, 19)"))
    ) == [
        "EnvironmentAware",
        "SEARCH_PATHS",
        "SystemBinariesSubsystem",
        "system_binary_paths",
    ]


def test_a_module_missing_from_the_facts_asks_for_the_extraction_to_be_run() -> None:
    problems = _problems("from pants.backend.go.util_rules.sdk import GoSdkProcess\n")
    assert len(problems) == 1 and problems[0].not_extracted
    assert "python3 pants-plugins/pants_aws_lambda/apicheck/extract.py" in problems[0].message()


def test_what_breaks_on_the_first_unsupported_release() -> None:
    problems = check.check(plugin_uses(SOURCE_ROOT, VERSIONS), UNSUPPORTED[:1])
    missing = {(p.use.module, p.use.detail or p.use.name) for p in problems}
    assert {("pants.engine.rules", "Get"), ("pants.engine.rules", "MultiGet")} <= missing
    assert ("pants.backend.python.util_rules.pex_requirements", "is_pex_native") in missing


@pytest.mark.parametrize(
    "version, expected",
    [
        ((2, 17), None),
        ((2, 31), None),
        ((2, 16), "supports Pants 2.17 to 2.31; this is Pants 2.16."),
        ((2, 32), "Pants 2.32 removed `Get` and `MultiGet`"),
        ((3, 0), "supported series (2.31.x), or remove `pants_aws_lambda`"),
    ],
)
def test_unsupported_releases_get_one_message(
    version: tuple[int, int], expected: str | None
) -> None:
    message = pants_versions.unsupported_message(version)
    if expected is None:
        assert message is None
    else:
        assert message is not None and expected in message


def test_the_builtin_lambda_backend_s_aliases_per_release() -> None:
    """What docs/migration.md's table of alias owners is built on, as read from each release."""
    aliases = {
        r.series: {(a["alias"], a.get("deprecated_alias")) for a in r.builtin_lambda_aliases}
        for r in RELEASES
    }
    assert aliases["2.17"] == {("python_awslambda", None)}
    for series in ("2.18", "2.19", "2.20"):
        assert aliases[series] == {
            ("python_aws_lambda_function", "python_awslambda"),
            ("python_aws_lambda_layer", None),
        }
    for release in RELEASES:
        if release.version >= (2, 21):
            assert aliases[release.series] == {
                ("python_aws_lambda_function", None),
                ("python_aws_lambda_layer", None),
            }
