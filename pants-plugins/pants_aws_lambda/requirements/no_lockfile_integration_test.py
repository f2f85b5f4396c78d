"""Rule tests: Pants' default mode, without a lockfile, with unpinned compiled requirements.

numpy, orjson, pydantic (pydantic-core) and cryptography, unpinned, package for every runtime,
each on one architecture and both for the generations' newest, with wheels PEX takes from PyPI
for the runtime's CPython, glibc and CPU: for each requirement the newest release that publishes
such a wheel, never a build of a newer sdist (which would need the machine's compiler and glibc).
"""

from __future__ import annotations

import pytest
from packaging.tags import parse_tag
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.requirements import wheels
from pants_aws_lambda.runtimes.complete_platforms import complete_platform
from pants_aws_lambda.testutil.rules import package_zip, set_options

REQUIREMENTS = ("numpy", "orjson", "pydantic>=2", "cryptography")
APP = "import numpy, orjson, pydantic, cryptography\n\ndef handler(event, context):\n    return 1\n"

# Every runtime once, alternating architectures, and both for the newest of each generation.
CASES = [
    ("python3.8", "arm64"),
    ("python3.9", "x86_64"),
    ("python3.10", "arm64"),
    ("python3.11", "x86_64"),
    ("python3.11", "arm64"),
    ("python3.12", "x86_64"),
    ("python3.13", "arm64"),
    ("python3.14", "x86_64"),
    ("python3.14", "arm64"),
]


def test_the_cases_cover_every_runtime_and_architecture() -> None:
    assert {runtime for runtime, _ in CASES} == set(RUNTIMES)
    assert {architecture for _, architecture in CASES} == {"x86_64", "arm64"}


@pytest.mark.parametrize("runtime, architecture", CASES)
def test_unpinned_compiled_requirements_package_from_wheels(
    rule_runner: RuleRunner, runtime: str, architecture: str
) -> None:
    set_options(rule_runner, "--no-python-enable-resolves")
    requirements = "".join(
        f"python_requirement(name='r{i}', requirements=[{r!r}])\n"
        for i, r in enumerate(REQUIREMENTS)
    )
    rule_runner.write_files(
        {
            "src/proj/app.py": APP,
            "src/proj/BUILD": (
                "python_sources()\n"
                + requirements
                + f"python_aws_lambda_function(name='fn', runtime={runtime!r}, "
                f"architecture={architecture!r}, handler='app.py:handler', bytecode='none')\n"
            ),
        }
    )
    zf, _ = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    compatible = complete_platform(RUNTIMES[runtime], architecture)["compatible_tags"]
    found = {}
    for name in zf.namelist():
        top, _, rest = name.partition("/")
        if top.endswith(".dist-info") and rest == "WHEEL":
            # A `Tag:` line may be a compressed tag set
            # (`cp38-cp38-manylinux_2_17_x.manylinux2014_x`).
            tags = [
                str(tag)
                for line in zf.read(name).decode().splitlines()
                if line.startswith("Tag: ")
                for tag in parse_tag(line.split(": ", 1)[1])
            ]
            found[wheels.project_name(top)] = tags
            # A wheel published for the runtime, not one built on this machine.
            assert not any(t.split("-")[-1].startswith("linux_") for t in tags), (top, tags)
            assert set(tags) & set(compatible), (top, tags)
    for project in ("numpy", "orjson", "pydantic-core", "cryptography"):
        assert project in found, sorted(found)
        assert any("manylinux" in t.split("-")[-1] for t in found[project]), (
            project,
            found[project],
        )
