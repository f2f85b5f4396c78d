"""A rule runner with the backend's rules and the repository's own settings, and what the rule
tests do with it: package a target, expect an error, build and run `pants run`'s request.

The rules and target types are the backend's (`register.py`), with the Pants target types that
the tests' BUILD files use; the field sets come from the backend's union rules.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import toml
from pants.backend.python.target_types import (
    PythonRequirementTarget,
    PythonSourcesGeneratorTarget,
    PythonSourceTarget,
)
from pants.backend.python.target_types_rules import rules as python_target_types_rules
from pants.core.goals.package import BuiltPackage, PackageFieldSet
from pants.core.goals.run import RunFieldSet, RunRequest
from pants.core.target_types import FileTarget, ResourceTarget
from pants.core.target_types import rules as core_target_types_rules
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.target import FieldSet, Target
from pants.engine.unions import UnionRule
from pants.testutil.rule_runner import QueryRule, RuleRunner

from pants_aws_lambda import register

PEX_ENV = "PANTS_AWS_LAMBDA_PEX"
# The repository's files the rule tests read (the tests depend on `//:config` and the lockfile).
LOCKFILE = Path("3rdparty/python/default.lock")
PANTS_TOML = Path("pants.toml")
# The repository's interpreter constraints in these tests.
INTERPRETER_CONSTRAINTS = "CPython>=3.9,<3.15"


def pinned_pex() -> str:
    """The pinned pex file, which the `./pants` launcher provisions and names in the test's
    environment; fail without it."""
    pex = os.environ.get(PEX_ENV)
    if not pex or not os.path.isfile(pex):
        pytest.fail(f"{PEX_ENV} must name the pinned pex (the `./pants` launcher provisions it).")
    return pex


def pex_cli_options(version: str) -> list[str]:
    """Options that make Pants take the pinned pex file as pex `version` (only the name differs)."""
    pex = pinned_pex()
    digest = hashlib.sha256(Path(pex).read_bytes()).hexdigest()
    size = os.path.getsize(pex)
    known = [f"{version}|{plat}|{digest}|{size}" for plat in ("linux_x86_64", "linux_arm64")]
    return [f"--pex-cli-version={version}", f"--pex-cli-known-versions={known!r}"]


def repository_options() -> list[str]:
    """The repository's own settings that rule tests must share with real runs (pants.toml).

    The pinned pex (provisioned by the `./pants` launcher, named by PANTS_AWS_LAMBDA_PEX), the
    subprocess environment (a CA bundle behind a TLS-inspecting proxy, no global pip config) and
    the Python versions Pants knows.
    """
    config = toml.loads(PANTS_TOML.read_text())
    universe = config["python"]["interpreter_versions_universe"]
    return [
        *pex_cli_options(config["pex-cli"]["version"]),
        f"--pex-cli-url-template=file://{pinned_pex()}",
        f"--subprocess-environment-env-vars={config['subprocess-environment']['env_vars']!r}",
        f"--python-interpreter-versions-universe={universe!r}",
    ]


def subprocess_environment_names() -> set[str]:
    """The variables pants.toml passes to processes, which the rule runner must inherit."""
    config = toml.loads(PANTS_TOML.read_text())
    return {
        name.split("=", 1)[0]
        for name in config["subprocess-environment"]["env_vars"]
        if "=" not in name
    }


def _union_members(base: type) -> tuple[type, ...]:
    return tuple(
        rule.union_member
        for rule in register.rules()
        if isinstance(rule, UnionRule) and rule.union_base is base
    )


# The backend's field sets: a function's and a layer's for `package`, a function's for `run`.
PACKAGE_FIELD_SETS = _union_members(PackageFieldSet)
RUN_FIELD_SETS = _union_members(RunFieldSet)


def new_rule_runner() -> RuleRunner:
    """A rule runner for `package` and `run` of the backend's targets, with the examples' lockfile
    as `lock/default.lock` and the options of `set_options`."""
    rule_runner = RuleRunner(
        rules=[
            *register.rules(),
            *core_target_types_rules(),
            *python_target_types_rules(),
            *(QueryRule(BuiltPackage, (field_set,)) for field_set in PACKAGE_FIELD_SETS),
            *(QueryRule(RunRequest, (field_set,)) for field_set in RUN_FIELD_SETS),
            QueryRule(DigestContents, (Digest,)),
        ],
        target_types=[
            *register.target_types(),
            PythonSourcesGeneratorTarget,
            PythonSourceTarget,
            PythonRequirementTarget,
            FileTarget,
            ResourceTarget,
        ],
    )
    rule_runner.write_files({"lock/default.lock": LOCKFILE.read_text()})
    set_options(rule_runner)
    return rule_runner


def set_options(rule_runner: RuleRunner, *extra: str) -> None:
    """The rule tests' options and the repository's (`repository_options`); an option in `extra`
    replaces the repository's."""
    rule_runner.set_options(
        [
            "--source-root-patterns=['src']",
            "--python-enable-resolves",
            "--python-resolves={'python-default': 'lock/default.lock'}",
            f"--python-interpreter-constraints=['{INTERPRETER_CONSTRAINTS}']",
            "--python-bootstrap-search-path=['<PATH>', '<PYENV>']",
            *(
                o
                for o in repository_options()
                if o.split("=", 1)[0] not in {e.split("=", 1)[0] for e in extra}
            ),
            *extra,
        ],
        env_inherit={"PATH", "PYENV_ROOT", "HOME", *subprocess_environment_names()},
    )


def _field_set(field_sets: tuple[type[FieldSet], ...], target: Target) -> FieldSet:
    [field_set] = [fs for fs in field_sets if fs.is_applicable(target)]
    return field_set.create(target)


# --------------------------------------------------------------------------------------------------
# `pants package`
# --------------------------------------------------------------------------------------------------


def build_package_and_metadata(
    rule_runner: RuleRunner, address: Address
) -> tuple[BuiltPackage, dict[str, bytes], dict]:
    """Package the function or layer at `address`: the result, the artifact's files by path, and
    its metadata file, checked against those files."""
    target = rule_runner.get_target(address)
    built = rule_runner.request(BuiltPackage, [_field_set(PACKAGE_FIELD_SETS, target)])
    contents = rule_runner.request(DigestContents, [built.digest])
    files = {c.path: c.content for c in contents}
    artifact, metadata_artifact = (a.relpath for a in built.artifacts)
    assert artifact is not None and metadata_artifact is not None, built.artifacts
    assert metadata_artifact == f"{artifact}.metadata.json"
    raw = files.pop(metadata_artifact)
    data = json.loads(raw)
    assert raw == (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    assert_metadata_agrees(data, artifact, files)
    return built, files, data


def assert_metadata_agrees(data: dict, artifact: str, files: dict[str, bytes]) -> None:
    """Every hash and size in the metadata, recomputed from the artifact's files."""
    assert data["artifact"] == artifact
    if data["package_type"] == "zip":
        content = files[artifact]
        digest = hashlib.sha256(content).digest()
        assert data["sha256"] == digest.hex()
        assert data["code_sha256"] == base64.b64encode(digest).decode()
        assert data["size"]["zipped_bytes"] == len(content)
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            sizes = [i.file_size for i in zf.infolist() if not i.is_dir()]
    else:
        prefix = f"{artifact}/"
        tree = {
            path[len(prefix) :]: content
            for path, content in files.items()
            if path.startswith(prefix)
        }
        lines = "".join(f"{hashlib.sha256(tree[p]).hexdigest()}  {p}\n" for p in sorted(tree))
        assert data["tree_sha256"] == hashlib.sha256(lines.encode()).hexdigest()
        assert "zipped_bytes" not in data["size"]
        sizes = [len(content) for content in tree.values()]
    assert data["size"]["unzipped_bytes"] == sum(sizes)
    assert data["size"]["files"] == len(sizes)


def build_package(
    rule_runner: RuleRunner, address: Address
) -> tuple[BuiltPackage, dict[str, bytes]]:
    """Package the function or layer at `address`: the result, and its artifact's files by path."""
    built, files, _ = build_package_and_metadata(rule_runner, address)
    return built, files


def package_zip(rule_runner: RuleRunner, address: Address) -> tuple[zipfile.ZipFile, BuiltPackage]:
    """Package the function or layer at `address` as its one zip file."""
    built, files = build_package(rule_runner, address)
    assert len(files) == 1, sorted(files)
    [(path, content)] = files.items()
    assert path == built.artifacts[0].relpath
    return zipfile.ZipFile(io.BytesIO(content)), built


def assert_package_error(rule_runner: RuleRunner, address: Address, *fragments: str) -> str:
    """Packaging `address` fails with a message holding every fragment; return the message."""
    with pytest.raises(ExecutionError) as exc:
        package_zip(rule_runner, address)
    message = str(exc.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    return message


# --------------------------------------------------------------------------------------------------
# `pants run`
# --------------------------------------------------------------------------------------------------


def run_request(rule_runner: RuleRunner, name: str, spec_path: str = "src/proj") -> RunRequest:
    target = rule_runner.get_target(Address(spec_path, target_name=name))
    return rule_runner.request(RunRequest, [_field_set(RUN_FIELD_SETS, target)])


def run_it(
    rule_runner: RuleRunner, request: RunRequest, *user_args: str, runner_args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """What `pants run` does with the request: the digest in a fresh directory, then the args
    (`runner_args` go before the request's final `--`, as more runner options)."""
    chroot = os.path.join(rule_runner.build_root, ".run")
    if os.path.exists(chroot):
        shutil.rmtree(chroot)
    rule_runner.write_digest(request.digest, path_prefix=".run")
    args = [arg.replace("{chroot}", chroot) for arg in request.args]
    assert args[-1] == "--"
    return subprocess.run(
        [*args[:-1], *runner_args, "--", *user_args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=rule_runner.build_root,
        env={"PATH": os.environ.get("PATH", ""), **request.extra_env},
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
