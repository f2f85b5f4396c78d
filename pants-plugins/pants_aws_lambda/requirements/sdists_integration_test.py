"""Rule tests: requirements published only as sdists, and resolves without a lockfile.

A pure-Python sdist (`docopt==0.6.2`) builds into a `py3-none-any` wheel that every runtime and
architecture loads: it is packaged, from a lockfile and without one. An sdist with compiled code
(`crcmod==1.7`, whose C extension builds on a Linux machine with a compiler) would build for the
machine running Pants: it is refused, naming the requirement, and no zip is written. Without a
lockfile, PEX takes the newest release that has a wheel for the runtime over a newer release that
would have to be built (numpy 2.3+ publishes wheels for glibc 2.27+ only; python3.11 on Lambda
has 2.26).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner

from pants_aws_lambda.testutil import TESTDATA
from pants_aws_lambda.testutil.rules import (
    assert_package_error,
    package_zip,
    set_options,
)

DOCOPT_APP = """\
from docopt import docopt


def handler(event, context):
    return docopt("Usage: greet <name>", argv=[event["name"]])
"""

CRCMOD_APP = """\
import crcmod


def handler(event, context):
    return crcmod.predefined.mkCrcFun("crc-32")(b"lambda")
"""


def use_sdists_lock(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({"lock/sdists.lock": (TESTDATA / "sdists.lock").read_text()})
    set_options(
        rule_runner,
        "--python-resolves={'python-default': 'lock/default.lock', 'sdists': 'lock/sdists.lock'}",
        "--python-invalid-lockfile-behavior=ignore",
    )


def write(
    rule_runner: RuleRunner, app: str, requirement: str, fields: str, resolve: str | None
) -> None:
    resolve_field = f", resolve={resolve!r}" if resolve else ""
    rule_runner.write_files(
        {
            "src/proj/app.py": app,
            "src/proj/BUILD": (
                f"python_sources({resolve_field[2:]})\n"
                f"python_requirement(name='req', requirements=[{requirement!r}]{resolve_field})\n"
                "python_aws_lambda_function(name='fn', handler='app.py:handler', "
                f"{fields}{resolve_field})\n"
            ),
        }
    )


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
@pytest.mark.parametrize("locked", [True, False], ids=["lockfile", "no-lockfile"])
def test_pure_python_sdist_is_packaged(
    rule_runner: RuleRunner, architecture: str, locked: bool
) -> None:
    if locked:
        use_sdists_lock(rule_runner)
    else:
        set_options(rule_runner, "--no-python-enable-resolves")
    write(
        rule_runner,
        DOCOPT_APP,
        "docopt==0.6.2",
        f"runtime='python3.12', architecture={architecture!r}",
        "sdists" if locked else None,
    )
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    names = zf.namelist()
    assert "docopt.py" in names
    wheel_metadata = [n for n in names if n.startswith("docopt-0.6.2.dist-info/")]
    assert "docopt-0.6.2.dist-info/WHEEL" in wheel_metadata, names
    wheel = zf.read("docopt-0.6.2.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: true" in wheel
    assert not any(n.endswith(".so") for n in names)
    assert f"Runtime: python3.12 on {architecture}" in "\n".join(built.artifacts[0].extra_log_lines)


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_compiled_sdist_is_refused(rule_runner: RuleRunner, architecture: str) -> None:
    # On the machine's own CPU PEX builds it and the plugin refuses the wheel; for another CPU,
    # PEX cannot use what it built, and the plugin says why.
    use_sdists_lock(rule_runner)
    write(
        rule_runner,
        CRCMOD_APP,
        "crcmod==1.7",
        f"runtime='python3.12', architecture={architecture!r}",
        "sdists",
    )
    assert_package_error(
        rule_runner,
        Address("src/proj", target_name="fn"),
        "src/proj:fn",
        f"python3.12 on {architecture}",
        "crcmod",
        "platform-specific wheel",
        "manylinux",
        "[python-repos].find_links",
    )
    assert not list(Path(rule_runner.build_root, "dist").rglob("*.zip"))


def test_without_a_lockfile_the_newest_release_with_a_wheel_wins(rule_runner: RuleRunner) -> None:
    set_options(rule_runner, "--no-python-enable-resolves")
    write(
        rule_runner,
        "import numpy\n\ndef handler(event, context):\n    return float(numpy.arange(4).sum())\n",
        "numpy",
        "runtime='python3.11', bytecode='none'",
        None,
    )
    zf, built = package_zip(rule_runner, Address("src/proj", target_name="fn"))
    tops = sorted({n.split("/")[0] for n in zf.namelist()})
    # PEX's bookkeeping (`numpy-<version>.pex-info/`) stays out.
    assert not [t for t in tops if t.endswith(".pex-info")], tops
    dist_infos = [t for t in tops if t.startswith("numpy-") and t.endswith(".dist-info")]
    assert len(dist_infos) == 1, tops
    version = dist_infos[0][len("numpy-") : -len(".dist-info")]
    wheel = zf.read(f"{dist_infos[0]}/WHEEL").decode()
    # A wheel from PyPI for CPython 3.11 and glibc 2.26 or older, not a build of a newer sdist.
    tags = [line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")]
    assert tags and all(t.startswith("cp311-cp311-manylinux") for t in tags), tags
    assert not any(t.endswith("linux_x86_64") and "manylinux" not in t for t in tags), tags
    major, minor = (int(p) for p in version.split(".")[:2])
    # numpy 2.3 and newer need glibc 2.27 or newer: python3.11 on Lambda has glibc 2.26.
    assert (major, minor) < (2, 3), version
