"""End to end: the metadata files beside the artifacts, used by AWS's own deploy tools, offline.

One fresh copy of the repository, `./pants package` of the example functions and layers, then:

- every metadata file agrees with its artifact in `dist/` (hashes and sizes recomputed from the
  files, the flat tree's hash with `sha256sum`) and with the JSON Schema the plugin ships;
- the Lambda API (moto's server on loopback, boto3 as the client): CreateFunction and
  PublishLayerVersion answer the metadata's CodeSha256 and CodeSize; rebuilt unchanged,
  UpdateFunctionCode answers the same CodeSha256;
- AWS CDK (`aws-cdk-lib`, on Node.js): the example app synthesizes the functions and layers from the
  metadata with our zips as assets; packaging again changes nothing, editing one function changes
  that function's asset only;
- AWS SAM CLI: `sam validate --lint` passes, and `sam build` (`BuildMethod: makefile`) runs Pants
  and puts each artifact's tree in its artifacts directory.

The tools are pinned in src/python/examples/deploy/requirements.txt and installed once per machine
into virtualenvs under the cache directory. Every tool runs with an unreachable HTTP(S) proxy (but
for loopback), so any attempt to reach the network fails the test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NoReturn

import pytest

from e2e.repo import copy_repo, module_dir, nested_env, run_pants, stop_pantsd
from pants_aws_lambda.testutil.interpreters import find_cpython
from pants_aws_lambda.testutil.require import REQUIRE_DEPLOY_TOOLS_ENV, unavailable
from pants_aws_lambda.testutil.venvs import VirtualenvError, cached_virtualenv

DEPLOY_DIR = "src/python/examples/deploy"
HELLO = "src/python/examples/hello:lambda"
LAYERED = "src/python/examples/layered:lambda"
ADDRESSES = (
    HELLO,
    LAYERED,
    "src/python/examples/layered:deps",
    "src/python/examples/layered:shared",
    # `layout="flat"`: a metadata file with a tree hash and no CodeSha256.
    "src/python/examples/container:lambda",
)
TOOL_TIMEOUT_S = 600
# Any request that is not for loopback goes to a port where nothing listens.
OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


def _unavailable(reason: str) -> NoReturn:
    unavailable(reason, REQUIRE_DEPLOY_TOOLS_ENV)


def requirement_groups(requirements: Path) -> dict[str, list[str]]:
    """The pinned requirements of each `# group: NAME`."""
    groups: dict[str, list[str]] = {}
    for line in requirements.read_text().splitlines():
        match = re.fullmatch(r"([^#\s]+)\s*#\s*group:\s*(\S+)", line.strip())
        if match:
            groups.setdefault(match.group(2), []).append(match.group(1))
    return groups


@dataclass(frozen=True)
class Tools:
    cdk: Path
    sam: Path
    lambda_api: Path

    @staticmethod
    def bin(venv: Path, name: str) -> str:
        return str(venv / "bin" / name)


def tool_env(**extra: str) -> dict[str, str]:
    env = {**nested_env(), **OFFLINE, **extra}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


def run_tool(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
    )
    print(f"{' '.join(argv[:3])}: exit {proc.returncode} in {time.monotonic() - started:.1f}s")
    assert (
        proc.returncode == 0
    ), f"`{' '.join(argv)}` exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_dir(tmp_path_factory, "e2e-deploy")


@pytest.fixture(scope="module")
def tools(work_dir: Path) -> Tools:
    """The pinned deploy tools, each group in its own virtualenv, installed at the same time."""
    if shutil.which("node") is None:
        _unavailable("no Node.js on PATH: AWS CDK for Python runs on it")
    if shutil.which("make") is None:
        _unavailable("no `make` on PATH: `sam build` with `BuildMethod: makefile` runs it")
    python = find_cpython("3.12") or find_cpython("3.13")
    if python is None:
        _unavailable("no CPython 3.12 or 3.13 found to run the deploy tools")
    requirements = copy_source(work_dir) / DEPLOY_DIR / "requirements.txt"
    groups = requirement_groups(requirements)
    assert set(groups) == {"cdk", "sam", "lambda-api"}, groups

    def install(group: str) -> Path:
        pins = groups[group]
        key = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:12]
        # The machine's pip configuration (a global constraint file) must not change the pins.
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
        return cached_virtualenv(f"deploy-{group}-{key}", python, pins, env)

    try:
        with ThreadPoolExecutor(3) as pool:
            cdk, sam, lambda_api = pool.map(install, ("cdk", "sam", "lambda-api"))
    except VirtualenvError as e:
        _unavailable(str(e))
    return Tools(cdk, sam, lambda_api)


def copy_source(work_dir: Path) -> Path:
    repo = work_dir / "repo"
    if not repo.exists():
        copy_repo(repo)
    return repo


@pytest.fixture(scope="module")
def buildroot(work_dir: Path) -> Iterator[Path]:
    """The copy, after one `./pants package` of the examples (with pantsd, which `sam build`'s
    nested runs reuse; stopped at the end)."""
    root = copy_source(work_dir)
    try:
        package(root)
        yield root
    finally:
        stop_pantsd(root)


def package(root: Path) -> None:
    result = run_pants(root, "package", *ADDRESSES, pantsd=True)
    assert result.returncode == 0, result.describe()


def all_metadata(dist: Path) -> dict[str, dict]:
    """Every metadata file under `dist`, by its artifact's path."""
    found = {}
    for path in sorted(dist.rglob("*.metadata.json")):
        data = json.loads(path.read_text())
        assert path.name == Path(data["artifact"]).name + ".metadata.json"
        found[data["artifact"]] = data
    return found


def snapshot(buildroot: Path) -> dict[str, dict]:
    return all_metadata(buildroot / "dist")


@pytest.fixture(scope="module")
def first(buildroot: Path) -> dict[str, dict]:
    return snapshot(buildroot)


# ---------------------------------------------------------------------------------------------
# The metadata files against dist/
# ---------------------------------------------------------------------------------------------


def test_metadata_agrees_with_every_artifact(
    buildroot: Path, first: dict[str, dict], tools: Tools
) -> None:
    dist = buildroot / "dist"
    assert len(first) == len(ADDRESSES), sorted(first)
    assert {m["address"] for m in first.values()} == set(ADDRESSES)
    for artifact, data in first.items():
        path = dist / artifact
        if data["package_type"] == "zip":
            content = path.read_bytes()
            digest = hashlib.sha256(content).digest()
            assert (data["sha256"], data["code_sha256"]) == (
                digest.hex(),
                base64.b64encode(digest).decode(),
            )
            assert data["size"]["zipped_bytes"] == len(content)
            with zipfile.ZipFile(path) as zf:
                sizes = [i.file_size for i in zf.infolist() if not i.is_dir()]
        else:
            listing = subprocess.run(
                "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum | "
                "sha256sum",
                shell=True,
                cwd=path,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[0]
            assert data["tree_sha256"] == listing
            sizes = [p.stat().st_size for p in path.rglob("*") if p.is_file()]
        assert (data["size"]["unzipped_bytes"], data["size"]["files"]) == (sum(sizes), len(sizes))
        for layer in data.get("layers", ()):
            assert {k: first[layer["artifact"]].get(k) for k in layer} == layer
    layered = first["src.python.examples.layered/lambda.zip"]
    assert [layer["address"] for layer in layered["layers"]] == [
        "src/python/examples/layered:deps",
        "src/python/examples/layered:shared",
    ]
    # The schema the plugin ships accepts every file (jsonschema comes with the SAM CLI's linter).
    schema = buildroot / "pants-plugins/pants_aws_lambda/artifact/schema/metadata.schema.json"
    check = (
        "import json, sys, jsonschema\n"
        "schema = json.load(open(sys.argv[1]))\n"
        "jsonschema.Draft202012Validator.check_schema(schema)\n"
        "for path in sys.argv[2:]:\n"
        "    jsonschema.Draft202012Validator(schema).validate(json.load(open(path)))\n"
        "bad = dict(json.load(open(sys.argv[2])), runtime=3)\n"
        "assert not jsonschema.Draft202012Validator(schema).is_valid(bad)\n"
    )
    files = [str(p) for p in sorted(dist.rglob("*.metadata.json"))]
    run_tool(
        [Tools.bin(tools.sam, "python"), "-c", check, str(schema), *files], buildroot, tool_env()
    )


# ---------------------------------------------------------------------------------------------
# The Lambda API: moto's server on loopback, boto3
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lambda_api(tools: Tools, work_dir: Path) -> Iterator[str]:
    """moto's server on 127.0.0.1, stopped at the end of the module. No Docker engine is reachable
    from it: creating functions and layers must not need one."""
    port = _free_port()
    log = (work_dir / "moto.log").open("w")
    env = tool_env(DOCKER_HOST=f"unix://{work_dir}/no-docker.sock")
    server = subprocess.Popen(
        [Tools.bin(tools.lambda_api, "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, (work_dir / "moto.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "moto's server did not start in 60s"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def call_lambda_api(
    tools: Tools, endpoint: str, buildroot: Path, action: str, metadata: dict[str, dict]
) -> dict:
    client = Path(__file__).with_name("lambda_api_client.py")
    files = [
        f"{artifact}.metadata.json"
        for artifact, m in metadata.items()
        if m["package_type"] == "zip"
    ]
    proc = run_tool(
        [
            Tools.bin(tools.lambda_api, "python"),
            str(client),
            endpoint,
            str(buildroot / "dist"),
            action,
            *files,
        ],
        buildroot,
        tool_env(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"),
    )
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def created(tools: Tools, lambda_api: str, buildroot: Path, first: dict[str, dict]) -> dict:
    return call_lambda_api(tools, lambda_api, buildroot, "create", first)


def test_lambda_api_answers_the_metadata_code_sha256(created: dict, first: dict[str, dict]) -> None:
    zips = {a: m for a, m in first.items() if m["package_type"] == "zip"}
    assert set(created) == set(zips)
    for artifact, data in zips.items():
        answer = created[artifact]
        assert (answer["CodeSha256"], answer["CodeSize"]) == (
            data["code_sha256"],
            data["size"]["zipped_bytes"],
        )
        if data["kind"] == "function":
            assert answer["Handler"] == data["handler"] == "lambda_function.handler"
            assert answer["Runtime"] == data["runtime"]
            assert answer["Architectures"] == [data["architecture"]]
            assert answer["Layers"] == answer["LayerArns"]
            assert len(answer["Layers"]) == len(data["layers"])


# ---------------------------------------------------------------------------------------------
# AWS CDK
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synth:
    template: dict
    # The template's text, to compare byte for byte.
    raw: str
    # Logical id of each function and layer -> (its description, the Pants address; its asset file).
    assets: dict[str, tuple[str, Path]]


def cdk_synth(tools: Tools, buildroot: Path, out: Path) -> Synth:
    app = buildroot / DEPLOY_DIR / "cdk"
    env = tool_env(
        CDK_OUTDIR=str(out),
        PANTS_DIST=str(buildroot / "dist"),
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
    )
    run_tool([Tools.bin(tools.cdk, "python"), "app.py"], app, env)
    raw = (out / "PantsLambdas.template.json").read_text()
    template = json.loads(raw)
    assets = {}
    for logical_id, resource in template["Resources"].items():
        properties = resource["Properties"]
        code = properties.get("Code") or properties.get("Content")
        if code is None:
            continue
        assets[logical_id] = (properties["Description"], out / f"asset.{code['S3Key']}")
    return Synth(template, raw, assets)


@pytest.fixture(scope="module")
def synth_first(tools: Tools, buildroot: Path, work_dir: Path, first: dict[str, dict]) -> Synth:
    return cdk_synth(tools, buildroot, work_dir / "cdk-first")


@pytest.fixture(scope="module")
def repackaged(
    buildroot: Path, first: dict[str, dict], synth_first: Synth, created: dict
) -> dict[str, dict]:
    """`./pants package` again, nothing changed (after the first synth and deploy)."""
    package(buildroot)
    return snapshot(buildroot)


@pytest.fixture(scope="module")
def synth_unchanged(
    tools: Tools, buildroot: Path, work_dir: Path, repackaged: dict[str, dict]
) -> Synth:
    return cdk_synth(tools, buildroot, work_dir / "cdk-unchanged")


@pytest.fixture(scope="module")
def edited(
    buildroot: Path, repackaged: dict, synth_unchanged: Synth, updated: dict
) -> dict[str, dict]:
    """`./pants package` after an edit of the hello function's source."""
    app = buildroot / "src/python/examples/hello/app.py"
    app.write_text(app.read_text() + "\n\n# An edit.\nEDITED = True\n")
    package(buildroot)
    return snapshot(buildroot)


@pytest.fixture(scope="module")
def synth_edited(tools: Tools, buildroot: Path, work_dir: Path, edited: dict[str, dict]) -> Synth:
    return cdk_synth(tools, buildroot, work_dir / "cdk-edited")


def by_address(synth: Synth) -> dict[str, Path]:
    return {address: asset for address, asset in synth.assets.values()}


def test_cdk_app_takes_everything_from_the_metadata(
    synth_first: Synth, first: dict[str, dict], buildroot: Path
) -> None:
    zips = {m["address"]: m for m in first.values() if m["package_type"] == "zip"}
    assert set(by_address(synth_first)) == set(zips)
    resources = synth_first.template["Resources"]
    layer_ids = {resources[i]["Properties"]["Description"]: i for i in synth_first.assets}
    for logical_id, (address, asset) in synth_first.assets.items():
        data = zips[address]
        # The asset CDK uploads is our zip, byte for byte.
        assert hashlib.sha256(asset.read_bytes()).hexdigest() == data["sha256"]
        properties = resources[logical_id]["Properties"]
        if data["kind"] == "function":
            assert resources[logical_id]["Type"] == "AWS::Lambda::Function"
            assert properties["Handler"] == data["handler"]
            assert properties["Runtime"] == data["runtime"]
            assert properties["Architectures"] == [data["architecture"]]
            layers = [{"Ref": layer_ids[layer["address"]]} for layer in data["layers"]]
            assert properties.get("Layers", []) == layers
        else:
            assert resources[logical_id]["Type"] == "AWS::Lambda::LayerVersion"
            assert properties["CompatibleRuntimes"] == data["compatible_runtimes"]
            assert properties["CompatibleArchitectures"] == data["compatible_architectures"]


def test_unchanged_code_gives_the_same_template_and_assets(
    first: dict, repackaged: dict, synth_first: Synth, synth_unchanged: Synth
) -> None:
    assert repackaged == first
    assert synth_unchanged.raw == synth_first.raw
    assert by_address(synth_unchanged).keys() == by_address(synth_first).keys()
    for address, asset in by_address(synth_first).items():
        assert by_address(synth_unchanged)[address].name == asset.name


@pytest.fixture(scope="module")
def updated(tools: Tools, lambda_api: str, buildroot: Path, repackaged: dict[str, dict]) -> dict:
    return call_lambda_api(tools, lambda_api, buildroot, "update", repackaged)


def test_lambda_api_update_of_unchanged_code_answers_the_same_code_sha256(
    updated: dict, created: dict
) -> None:
    assert updated, "no function was updated"
    for artifact, answer in updated.items():
        assert answer["CodeSha256"] == created[artifact]["CodeSha256"]


def test_an_edit_changes_that_function_only(
    first: dict, edited: dict, synth_first: Synth, synth_edited: Synth
) -> None:
    hello = "src.python.examples.hello/lambda.zip"
    assert edited[hello]["code_sha256"] != first[hello]["code_sha256"]
    assert {a: m for a, m in edited.items() if a != hello} == {
        a: m for a, m in first.items() if a != hello
    }
    before, after = by_address(synth_first), by_address(synth_edited)
    changed = {address for address in before if before[address].name != after[address].name}
    assert changed == {HELLO}


# ---------------------------------------------------------------------------------------------
# AWS SAM CLI
# ---------------------------------------------------------------------------------------------


def sam_env(work_dir: Path) -> dict[str, str]:
    """No telemetry, and a version check that already happened: the SAM CLI stays offline."""
    app_dir = work_dir / "sam-config"
    app_dir.mkdir(exist_ok=True)
    (app_dir / "metadata.json").write_text(
        json.dumps({"telemetryEnabled": False, "lastVersionCheck": 4102444800})
    )
    return tool_env(__SAM_CLI_APP_DIR=str(app_dir), SAM_CLI_TELEMETRY="0")


def test_sam_validate_lint(tools: Tools, buildroot: Path, work_dir: Path) -> None:
    sam = buildroot / DEPLOY_DIR / "sam"
    proc = run_tool(
        [
            Tools.bin(tools.sam, "sam"),
            "validate",
            "--lint",
            "--template",
            "template.yaml",
            "--region",
            "us-east-1",
        ],
        sam,
        sam_env(work_dir),
    )
    assert "is a valid SAM Template" in proc.stdout + proc.stderr


def test_sam_build_runs_pants(tools: Tools, buildroot: Path, work_dir: Path) -> None:
    sam = buildroot / DEPLOY_DIR / "sam"
    build_dir = work_dir / "sam-build"
    env = sam_env(work_dir)
    env["PATH"] = f"{tools.sam / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    run_tool(
        [
            Tools.bin(tools.sam, "sam"),
            "build",
            "--template",
            "template.yaml",
            "--build-dir",
            str(build_dir),
            "--region",
            "us-east-1",
        ],
        sam,
        env,
    )
    built = json.loads(
        subprocess.run(
            [
                Tools.bin(tools.sam, "python"),
                "-c",
                "import json,sys,samcli.yamlhelper as "
                "y;print(json.dumps(y.yaml_parse(open(sys.argv[1]).read())))",
                str(build_dir / "template.yaml"),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    resources = built["Resources"]
    artifacts = {
        "HelloFunction": "src.python.examples.hello/lambda.zip",
        "LayeredFunction": "src.python.examples.layered/lambda.zip",
        "DepsLayer": "src.python.examples.layered/deps.zip",
        "SharedLayer": "src.python.examples.layered/shared.zip",
    }
    assert set(resources) == set(artifacts)
    dist = buildroot / "dist"
    for logical_id, artifact in artifacts.items():
        data = all_metadata(dist)[artifact]
        properties = resources[logical_id]["Properties"]
        code_dir = build_dir / (properties.get("CodeUri") or properties["ContentUri"])
        # The artifacts directory holds the zip's tree, file for file.
        with zipfile.ZipFile(dist / artifact) as zf:
            expected = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
        found = {
            str(p.relative_to(code_dir)): p.read_bytes() for p in code_dir.rglob("*") if p.is_file()
        }
        assert found == expected, logical_id
        if data["kind"] == "function":
            assert properties["Handler"] == data["handler"] == "lambda_function.handler"
            assert properties["Runtime"] == data["runtime"]
            assert properties["Architectures"] == [data["architecture"]]
        else:
            assert properties["CompatibleRuntimes"] == data["compatible_runtimes"]
            assert properties["CompatibleArchitectures"] == data["compatible_architectures"]
