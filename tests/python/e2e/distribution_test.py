"""End to end: the plugin as a user gets it, in a repository that is not this one.

The `pants-aws-lambda` wheel (built by `pants-plugins:dist`, a runtime package dependency of this
test) goes into a directory of its own. A brand-new repository outside this one names it the way a
user would, `[GLOBAL].plugins = ["pants-aws-lambda==<version>"]` with `[python-repos].find_links`
pointing at that directory, with no `pythonpath` and no `pants-plugins/`. There a BUILD file and a
handler that uses pydantic (native wheels) are written as a user writes them, the lockfile is
generated, the function is packaged, and `pants run` calls its handler.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

import pants_aws_lambda
from e2e.repo import Artifact, require_host_for, rmtree, run_pants, source_repo
from pants_aws_lambda import pants_versions
from pants_aws_lambda.testutil.interpreters import require_cpython

# The runtime, and the CPython that the bytecode and `pants run` need.
RUNTIME = "python3.12"
PYTHON_VERSION = "3.12"

_PANTS_TOML = """\
[GLOBAL]
pants_version = "2.17.1"
plugins = ["pants-aws-lambda=={version}"]
backend_packages = ["pants.backend.python", "pants_aws_lambda"]

[python]
# The lock is universal, and `runtime` picks the Lambda runtime.
interpreter_constraints = ["CPython>=3.9,<3.15"]
enable_resolves = true

[python.resolves]
python-default = "3rdparty/python/default.lock"

[python-repos]
# Where the plugin's wheel is; everything else comes from PyPI.
find_links = ["file://{wheelhouse}"]

[python-bootstrap]
search_path = ["<PATH>", "<PYENV>"]

[pex-cli]
# The pex that `./pants` provisions (Pants' default download is from GitHub).
version = "{pex_version}"
known_versions = [
{known_versions}
]
url_template = "file://%(buildroot)s/3rdparty/tools/pex/pex"

[subprocess-environment]
env_vars = ["PIP_CONFIG_FILE=/dev/null", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"]

[anonymous-telemetry]
enabled = false
"""

_BUILD = """\
python_requirement(name="pydantic", requirements=["pydantic>=2,<3"])

python_sources()

python_aws_lambda_function(
    name="lambda",
    runtime="{runtime}",
    handler="handler.py:handler",
)
"""

_HANDLER = """\
from pydantic import BaseModel


class Greeting(BaseModel):
    name: str


def handler(event, context):
    greeting = Greeting.model_validate(event)
    return {"message": f"Hello, {greeting.name}!", "function": context.function_name}
"""


def built_wheel() -> Path:
    wheels = sorted(Path.cwd().rglob("pants_aws_lambda-*-py3-none-any.whl"))
    assert len(wheels) == 1, (
        f"Expected the one wheel of `pants-plugins:dist` in the sandbox, found {wheels}: does the "
        "test have it as a runtime package dependency?"
    )
    return wheels[0]


def wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def pex_version() -> str:
    """The `[pex-cli].version` of this repository."""
    text = (source_repo() / "pants.toml").read_text()
    match = re.search(r'^version = "(v[0-9.]+)"$', text, flags=re.MULTILINE)
    assert match, "pants.toml has no `[pex-cli].version`"
    return match.group(1)


def known_versions() -> str:
    """The `[pex-cli].known_versions` of this repository: the same pinned pex."""
    text = (source_repo() / "pants.toml").read_text()
    version = re.escape(pex_version())
    lines = re.findall(rf'^\s*("{version}\|[^"]+"),?$', text, flags=re.MULTILINE)
    assert lines, f"pants.toml has no `[pex-cli].known_versions` for pex {pex_version()}"
    return "\n".join(f"  {line}," for line in lines)


def test_one_version_everywhere() -> None:
    """The wheel's version is the package's `__version__` and the changelog's newest released
    entry (an `## Unreleased` section above it gathers what the next version brings)."""
    version = wheel_version(built_wheel())
    assert version == pants_aws_lambda.__version__
    changelog = (source_repo() / "CHANGELOG.md").read_text()
    # The newest released entry: an "Unreleased" section may come first.
    newest = re.search(r"^## (\d\S*)", changelog, flags=re.MULTILINE)
    assert newest is not None, "CHANGELOG.md has no `## <version>` entry"
    assert (
        newest.group(1) == version
    ), f"CHANGELOG.md's newest entry is {newest.group(1)}, the wheel {version}"


def test_the_wheel_admits_every_supported_pants() -> None:
    """The wheel's `pantsbuild.pants` requirement is the supported series (`pants_versions.py`)."""
    with zipfile.ZipFile(built_wheel()) as zf:
        metadata = next(
            zf.read(n).decode() for n in zf.namelist() if n.endswith(".dist-info/METADATA")
        )
        names = zf.namelist()
        shipped = (
            zf.read("pants_aws_lambda/SUPPORTED_PANTS").decode()
            if "pants_aws_lambda/SUPPORTED_PANTS" in names
            else ""
        )
    requires = re.findall(
        r"^Requires-Dist: pantsbuild\.pants \((.+)\)$", metadata, flags=re.MULTILINE
    )
    first, last = pants_versions.FIRST_SUPPORTED, pants_versions.LAST_SUPPORTED
    assert requires and set(requires[0].split(",")) == {
        f">={first[0]}.{first[1]}.0a0",
        f"<{last[0]}.{last[1] + 1}",
    }, metadata
    assert shipped.startswith(
        f"Pants {pants_versions.series(first)} to {pants_versions.series(last)}:"
    ), shipped
    # The check against each release's source is a development tool, not shipped.
    assert not [n for n in names if "/apicheck/" in n]


@pytest.fixture(scope="module")
def new_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("e2e-distribution")
    wheel = built_wheel()
    # A directory that no earlier run named, so that no cache can answer for an older wheel.
    wheelhouse = root / f"wheelhouse-{uuid.uuid4().hex}"
    wheelhouse.mkdir()
    (wheelhouse / wheel.name).write_bytes(wheel.read_bytes())

    repo = root / "acme"
    (repo / "src" / "greeter").mkdir(parents=True)
    # The launcher, as a user would install a Pants launcher; it knows nothing of this repository.
    launcher = repo / "pants"
    launcher.write_bytes((source_repo() / "pants").read_bytes())
    launcher.chmod(0o755)
    (repo / "pants.toml").write_text(
        _PANTS_TOML.format(
            version=wheel_version(wheel),
            wheelhouse=wheelhouse,
            pex_version=pex_version(),
            known_versions=known_versions(),
        )
    )
    (repo / "BUILD").write_text("")
    (repo / "src" / "greeter" / "BUILD").write_text(_BUILD.format(runtime=RUNTIME))
    (repo / "src" / "greeter" / "handler.py").write_text(_HANDLER)
    yield repo
    rmtree(root)


def test_a_new_repository_packages_and_invokes_with_the_published_plugin(new_repo: Path) -> None:
    require_host_for(Artifact("src/greeter:lambda", RUNTIME, "x86_64"))
    require_cpython(PYTHON_VERSION)
    assert not (new_repo / "pants-plugins").exists()
    assert "pythonpath" not in (new_repo / "pants.toml").read_text()

    # The plugin's target is known only through the installed distribution.
    result = run_pants(new_repo, "help", "python_aws_lambda_function")
    assert result.returncode == 0, result.describe()
    assert "`python_aws_lambda_function` target" in result.stdout, result.describe()
    assert "architecture" in result.stdout

    result = run_pants(new_repo, "generate-lockfiles")
    assert result.returncode == 0, result.describe()
    assert (new_repo / "3rdparty/python/default.lock").is_file()

    result = run_pants(new_repo, "package", "src/greeter:lambda")
    assert result.returncode == 0, result.describe()
    assert "lambda_function.handler" in result.output, result.describe()
    zip_path = new_repo / "dist/src.greeter/lambda.zip"
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        # `src` is one of Pants' default source roots.
        assert zf.read("lambda_function.py") == b"from greeter.handler import handler as handler"
    assert "greeter/handler.py" in names
    assert f"greeter/__pycache__/handler.cpython-{PYTHON_VERSION.replace('.', '')}.pyc" in names
    native = [
        n for n in names if n.startswith("pydantic_core/_pydantic_core.") and n.endswith(".so")
    ]
    assert native and "x86_64-linux-gnu" in native[0], sorted(names)[:40]
    # The plugin's data files came with the wheel: the complete platform of the runtime was used.
    assert f"{RUNTIME} on x86_64" in result.output, result.describe()

    result = run_pants(
        new_repo,
        "--lambda-invoke-function-name=greeter",
        "run",
        "src/greeter:lambda",
        "--",
        '{"name": "Ada"}',
    )
    assert result.returncode == 0, result.describe()
    assert json.loads(result.stdout) == {"message": "Hello, Ada!", "function": "greeter"}
