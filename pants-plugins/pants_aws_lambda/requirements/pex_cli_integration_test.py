"""Rule tests: the plugin knows which pex Pants runs, and says so when it is why wheels are missing.

A python3.13 function whose lockfile lacks the runtime's wheels of a compiled requirement fails
before PEX runs; the message names the cause: Pants runs Pants 2.17's default pex (`[pex-cli]`),
the lockfile was written by it, or the lock's interpreter constraints reach back to Python 3.9.
"""

from __future__ import annotations

import json

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.requirements.lockfile import MIN_PEX_VERSION
from pants_aws_lambda.testutil.rules import (
    LOCKFILE,
    assert_package_error,
    pex_cli_options,
    set_options,
)

APP = "import pydantic\n\ndef handler(event, context):\n    return pydantic.VERSION\n"


def lock_without_newer_wheels(lock_pex_version: str) -> str:
    """The examples' lockfile, as if its pydantic-core had wheels up to CPython 3.12 only."""
    text = LOCKFILE.read_text()
    header = [line for line in text.splitlines() if line.startswith("//")]
    lock = json.loads("\n".join(line for line in text.splitlines() if not line.startswith("//")))
    for requirement in lock["locked_resolves"][0]["locked_requirements"]:
        if requirement["project_name"] == "pydantic-core":
            requirement["artifacts"] = [
                a
                for a in requirement["artifacts"]
                if "-cp313-" not in a["url"] and "-cp314-" not in a["url"]
            ]
    lock["pex_version"] = lock_pex_version
    return "\n".join(header) + "\n" + json.dumps(lock, indent=2) + "\n"


def write(rule_runner: RuleRunner, lock: str) -> None:
    rule_runner.write_files(
        {
            "lock/default.lock": lock,
            "src/proj/app.py": APP,
            "src/proj/BUILD": (
                "python_sources()\n"
                "python_requirement(name='pydantic', requirements=['pydantic>=2.5,<3'])\n"
                "python_aws_lambda_function(name='fn', runtime='python3.13', "
                "handler='app.py:handler')\n"
            ),
        }
    )


def test_pants_running_the_old_pex_is_named(rule_runner: RuleRunner) -> None:
    write(rule_runner, lock_without_newer_wheels("2.1.137"))
    set_options(
        rule_runner, "--python-invalid-lockfile-behavior=ignore", *pex_cli_options("v2.1.137")
    )
    message = assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        "python3.13",
        "pydantic-core",
        "Pants runs pex v2.1.137 (`[pex-cli].version`)",
        f"set `[pex-cli]` to pex {MIN_PEX_VERSION} or newer",
        "pants generate-lockfiles --resolve=python-default",
    )
    assert "a resolve of their own" not in message


# One test per cause, so that a failure names it; the tests differ in the lock and the phrases only.
def test_a_lockfile_of_the_old_pex_is_named(rule_runner: RuleRunner) -> None:
    write(rule_runner, lock_without_newer_wheels("2.1.137"))
    set_options(rule_runner, "--python-invalid-lockfile-behavior=ignore")
    message = assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "The lockfile was written by pex 2.1.137",
        "Regenerate the lockfile with the pex Pants runs now",
    )
    assert "Pants runs pex" not in message


@pytest.mark.parametrize("pex_version", [MIN_PEX_VERSION])
def test_a_resolve_spanning_generations_is_named(rule_runner: RuleRunner, pex_version: str) -> None:
    write(rule_runner, lock_without_newer_wheels(pex_version))
    set_options(rule_runner, "--python-invalid-lockfile-behavior=ignore")
    message = assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "allow Python 3.9 too",
        "a resolve of their own",
    )
    assert "pex" not in message.split("Ways out:")[1].lower()
