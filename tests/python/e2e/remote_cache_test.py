"""End to end: the plugin's work is shared through a real remote cache.

A BuildGrid server (REAPI: CAS, ActionCache, ByteStream) runs on loopback. Two copies of the
repository at different absolute paths stand in for two machines, each with its own empty local
Pants cache. The first packages the examples with remote cache writes on; the second, with remote
cache reads on, must get every process of the plugin from the remote cache and write
byte-identical artifacts. A process that runs again names itself in the failure.

BuildGrid needs a newer CPython than Pants: the test installs the pinned version into a virtualenv
of CPython 3.13 or 3.12 under the user's cache directory on first use. Without that (no such
CPython, no PyPI) the test skips and says why, unless `PANTS_AWS_LAMBDA_REQUIRE_REMOTE_CACHE=1`
(as in CI) makes it fail.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, NoReturn, Tuple

import pytest

from e2e.repo import Artifact, PantsResult, copy_repo, module_dir, run_pants, sha256
from pants_aws_lambda.testutil.interpreters import find_cpython
from pants_aws_lambda.testutil.require import REQUIRE_REMOTE_CACHE_ENV, unavailable
from pants_aws_lambda.testutil.venvs import VirtualenvError, cached_virtualenv

BUILDGRID_VERSION = "0.9.1"
SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 15

# A function with native dependencies, and a layer.
PYDANTIC = Artifact("src/python/examples/pydantic_app:lambda", "python3.12", "x86_64")
LAYER = Artifact("src/python/examples/layered:deps", "python3.12", "x86_64")
ARTIFACTS = (PYDANTIC, LAYER)

# The descriptions of the processes the plugin runs (see artifact/output.py, artifact/bytecode.py).
PLUGIN_PROCESSES = re.compile(
    r"^(Resolving third-party requirements of |Compiling bytecode of |Writing \S+ for |"
    r"Compressing third-party distributions of |"
    r"Building lambda_zipwriter\.pex)"
)

# A cache-only REAPI server: no execution service, loopback only.
_CONFIG = """\
server:
  - !channel
    address: "127.0.0.1:{port}"
    insecure-mode: true
storages:
  - !disk-storage &cas
    path: {cas}
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
    cache-failed-actions: false
# Pants writes many blobs at once: the default (5 x CPUs) rejects some writes.
thread-pool-size: 64
maximum-concurrent-rpcs: 64
instances:
  - name: ""
    services:
      - !action-cache
        cache: *ac
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
"""


def _unavailable(reason: str) -> NoReturn:
    unavailable(reason, REQUIRE_REMOTE_CACHE_ENV)


def _install_buildgrid() -> Path:
    """The `bgd` of the pinned BuildGrid, installed into a virtualenv on first use."""
    python = find_cpython("3.13") or find_cpython("3.12")
    if python is None:
        _unavailable(f"no CPython 3.13 or 3.12 found to run BuildGrid {BUILDGRID_VERSION}")
    try:
        venv = cached_virtualenv(
            f"buildgrid-{BUILDGRID_VERSION}", python, [f"buildgrid=={BUILDGRID_VERSION}"]
        )
    except VirtualenvError as e:
        _unavailable(str(e))
    return venv / "bin" / "bgd"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_dir(tmp_path_factory, "e2e-remote-cache")


@pytest.fixture(scope="module")
def remote_store(work_dir: Path) -> Iterator[str]:
    """The address of a BuildGrid server on loopback, stopped at the end of the module."""
    bgd = _install_buildgrid()
    port = _free_port()
    config = work_dir / "buildgrid.yml"
    config.write_text(_CONFIG.format(port=port, cas=work_dir / "buildgrid-cas"))
    log = (work_dir / "buildgrid.log").open("w")
    server = subprocess.Popen(
        [str(bgd), "server", "start", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _accepts_connections(port):
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (work_dir / "buildgrid.log").read_text()[-2000:]
                pytest.fail(f"BuildGrid did not start on 127.0.0.1:{port}:\n{output}")
            time.sleep(0.5)
        yield f"grpc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=SERVER_STOP_TIMEOUT_S)
        log.close()


def _machine(work_dir: Path, name: str, repo_dir: str) -> tuple[Path, tuple[str, ...]]:
    """A copy of the repository with its own empty local caches, and the options that use them."""
    machine = work_dir / name
    buildroot = copy_repo(machine / repo_dir)
    options = (
        f"--local-store-dir={machine / 'store'}",
        f"--named-caches-dir={machine / 'named_caches'}",
    )
    return buildroot, options


def _package(
    buildroot: Path, options: tuple[str, ...], remote_store: str, *remote: str
) -> PantsResult:
    result = run_pants(
        buildroot,
        *options,
        "--remote-cache-read",
        *remote,
        f"--remote-store-address={remote_store}",
        "--remote-instance-name=",
        "--stats-log",
        "--no-stats-memory-summary",
        "-ldebug",
        "package",
        *(a.address for a in ARTIFACTS),
    )
    assert result.returncode == 0, result.describe()
    return result


# Each machine's build root and its run.
Runs = Tuple[Path, PantsResult, Path, PantsResult]


@pytest.fixture(scope="module")
def runs(work_dir: Path, remote_store: str) -> Runs:
    first_root, first_options = _machine(work_dir, "machine-a", "repo")
    first = _package(first_root, first_options, remote_store, "--remote-cache-write")
    # Another path, another name, nothing in common with the first but the remote cache.
    second_root, second_options = _machine(work_dir, "machine-b", "checkout-of-pants-aws-lambda")
    second = _package(second_root, second_options, remote_store)
    return first_root, first, second_root, second


def _counters(result: PantsResult) -> dict[str, int]:
    """The counters of `--stats-log`."""
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^\s+(\w+): (\d+)$", result.output, re.MULTILINE)
    }


def _looked_up(result: PantsResult, outcome: str) -> set[str]:
    """Descriptions of the processes whose remote lookup was a `hit` or a `miss` (`-ldebug`)."""
    return set(re.findall(rf'remote cache {outcome} for: "([^"]*)"', result.output))


def _plugin_processes(descriptions: set[str]) -> set[str]:
    return {d for d in descriptions if PLUGIN_PROCESSES.match(d)}


def test_first_run_writes_every_plugin_process_to_the_remote_cache(runs: Runs) -> None:
    _, first, _, _ = runs
    ran = _plugin_processes(_looked_up(first, "miss"))
    for kind in ("Resolving", "Compiling", "Writing", "Building"):
        assert any(
            d.startswith(kind) for d in ran
        ), f"the first run ran no `{kind} ...` process of the plugin; it ran:\n" + "\n".join(
            sorted(ran)
        )
    counters = _counters(first)
    assert (
        counters.get("remote_cache_write_errors") == 0
    ), f"the first run failed to write to the remote cache: {counters}\n{first.describe()}"
    assert counters.get("remote_cache_write_successes", 0) >= len(ran), counters


def test_second_run_gets_every_plugin_process_from_the_remote_cache(runs: Runs) -> None:
    _, first, _, second = runs
    expected = _plugin_processes(_looked_up(first, "miss"))
    hits = _plugin_processes(_looked_up(second, "hit"))
    missed = _plugin_processes(_looked_up(second, "miss"))
    # A process with no hit either missed, or ran locally and finished before the lookup answered
    # (see pants_aws_lambda/caching.py).
    not_hit = sorted(missed | (expected - hits))
    counters = _counters(second)
    remote_counters = {k: v for k, v in counters.items() if k.startswith("remote_cache")}
    message = (
        "processes of the plugin that the second machine ran instead of taking from the remote "
        "cache:\n  "
        + "\n  ".join(not_hit)
        + f"\nremote cache counters: {json.dumps(remote_counters)}"
    )
    assert not not_hit, message
    assert counters.get("remote_cache_requests_cached", 0) >= len(expected), counters
    print(
        f"first run {first.seconds:.1f}s, second run {second.seconds:.1f}s; "
        f"{len(hits)} plugin processes from the remote cache: {sorted(hits)}"
    )


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=("pydantic", "layer"))
def test_artifacts_are_byte_identical(runs: Runs, artifact: Artifact) -> None:
    first_root, _, second_root, _ = runs
    first, second = first_root / artifact.dist_path, second_root / artifact.dist_path
    assert first.is_file() and second.is_file(), f"{artifact.dist_path} missing"
    assert sha256(first) == sha256(second), f"{artifact.dist_path} differs between the two machines"
