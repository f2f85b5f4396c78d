"""End to end with a real Docker engine: `./pants package` the container example's `docker_image`,
run the image with `python -m awslambdaric lambda_function.handler` as the runtime client against a
Lambda Runtime API served by this test on loopback, and check what the handler answers.

Skips when no Docker engine answers (fails instead with PANTS_AWS_LAMBDA_REQUIRE_DOCKER=1, as in
CI). No registry is reachable, so the image is built on a local stand-in for AWS's base image
(`docker_base.py`), built once per machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from e2e import docker_base
from e2e.repo import copy_repo, run_pants

REQUIRE_DOCKER_ENV = "PANTS_AWS_LAMBDA_REQUIRE_DOCKER"
IMAGE_TARGET = "src/python/examples/container:img"
FUNCTION_DIR = "dist/src.python.examples.container/lambda"
FUNCTION_NAME = "container-e2e"
RUNTIME_API = "/2018-06-01/runtime"
INVOCATIONS_TIMEOUT_S = 120


def require_docker() -> None:
    try:
        proc = subprocess.run(
            ["docker", "info"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
        )
        problem = None if proc.returncode == 0 else (proc.stderr.strip() or proc.stdout.strip())
    except (OSError, subprocess.TimeoutExpired) as e:
        problem = str(e)
    if problem is None:
        return
    reason = f"no Docker engine answers `docker info`: {problem.splitlines()[-1] if problem else '?'}"
    if os.environ.get(REQUIRE_DOCKER_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_DOCKER_ENV}=1 requires one.")
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------------
# A Lambda Runtime API for one client: hands out the planned events, records the results.
# ---------------------------------------------------------------------------------------------


@dataclass
class Invocation:
    request_id: str
    event: dict[str, Any]
    outcome: str | None = None  # "response" or "error"
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class RuntimeApi:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.invocations = [Invocation(str(uuid.uuid4()), event) for event in events]
        self.init_errors: list[Any] = []
        self._pending = list(self.invocations)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> RuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_until_done(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (self.init_errors or all(i.outcome for i in self.invocations)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return not self.init_errors

    def _next(self) -> Invocation | None:
        with self._lock:
            return self._pending.pop(0) if self._pending else None

    def _record(self, request_id: str, outcome: str, body: Any, headers: dict[str, str]) -> bool:
        with self._changed:
            for invocation in self.invocations:
                if invocation.request_id == request_id and invocation.outcome is None:
                    invocation.outcome, invocation.body, invocation.headers = outcome, body, headers
                    self._changed.notify_all()
                    return True
        return False

    def _init_error(self, body: Any) -> None:
        with self._changed:
            self.init_errors.append(body)
            self._changed.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            # awslambdaric's native client speaks HTTP/1.1 and needs Content-Length everywhere.
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def _body(self) -> Any:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    return json.loads(raw)
                except ValueError:
                    return raw.decode(errors="replace")

            def do_GET(self) -> None:
                if self.path != f"{RUNTIME_API}/invocation/next":
                    self._reply(404, b'{"errorMessage": "not found"}')
                    return
                invocation = api._next()
                if invocation is None:
                    # Like the real API, hold the long poll: the test stops the client meanwhile.
                    api._stopping.wait(INVOCATIONS_TIMEOUT_S)
                    self.close_connection = True
                    return
                deadline_ms = int((time.time() + 60) * 1000)
                self._reply(
                    200,
                    json.dumps(invocation.event).encode(),
                    {
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": (
                            f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
                        ),
                        "Lambda-Runtime-Trace-Id": (
                            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
                        ),
                    },
                )

            def do_POST(self) -> None:
                body = self._body()
                headers = {k: v for k, v in self.headers.items()}
                match = re.fullmatch(rf"{RUNTIME_API}/invocation/([^/]+)/(response|error)", self.path)
                if match and api._record(match.group(1), match.group(2), body, headers):
                    self._reply(202, b'{"status": "OK"}')
                elif self.path == f"{RUNTIME_API}/init/error":
                    api._init_error(body)
                    self._reply(202, b'{"status": "OK"}')
                else:
                    self._reply(400, b'{"errorMessage": "unknown request id or path"}')

        return Handler


# ---------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------


def image_id_from(output: str) -> str:
    match = re.search(r"Docker image ID: (\S+)", output)
    assert match, f"No `Docker image ID:` in the output of `./pants package`:\n{output[-3000:]}"
    return match.group(1)


def run_function_container(image: str, api: RuntimeApi, name: str) -> None:
    subprocess.run(
        [
            "docker",
            "run",
            "--detach",
            "--name",
            name,
            # The Runtime API listens on the host's loopback.
            "--network",
            "host",
            "--read-only",
            "--env",
            f"AWS_LAMBDA_RUNTIME_API={api.address}",
            "--env",
            f"AWS_LAMBDA_FUNCTION_NAME={FUNCTION_NAME}",
            "--env",
            "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
            "--env",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
            "--env",
            f"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/{FUNCTION_NAME}",
            "--env",
            "AWS_LAMBDA_LOG_STREAM_NAME=e2e",
            "--entrypoint",
            "python",
            image,
            "-m",
            "awslambdaric",
            "lambda_function.handler",
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )


def container_logs(name: str) -> str:
    proc = subprocess.run(
        ["docker", "logs", name], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    return proc.stdout + proc.stderr


def test_without_an_engine_the_test_skips_or_fails_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.delenv(REQUIRE_DOCKER_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Docker engine answers"):
        require_docker()
    monkeypatch.setenv(REQUIRE_DOCKER_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_DOCKER_ENV}=1 requires one"):
        require_docker()


def test_dockerfile_copy_of_the_flat_layout_is_an_inferred_dependency(tmp_path: Path) -> None:
    """Without `dependencies`, the Dockerfile's `COPY src.python.examples.container/lambda` alone
    makes the `docker_image` depend on the function (no Docker engine needed)."""
    buildroot = copy_repo(tmp_path / "repo")
    build = buildroot / "src/python/examples/container/BUILD"
    explicit = '    dependencies=[":lambda"],\n'
    assert explicit in build.read_text()
    build.write_text(build.read_text().replace(explicit, ""))

    result = run_pants(buildroot, "dependencies", IMAGE_TARGET)
    assert result.returncode == 0, result.describe()
    assert "src/python/examples/container:lambda" in result.stdout.split(), result.describe()


def test_container_image_runs_the_function_under_the_runtime_interface_client(tmp_path: Path) -> None:
    require_docker()
    started = time.monotonic()
    base_image = docker_base.ensure_base_image()
    print(f"base image {base_image} ready in {time.monotonic() - started:.1f}s")

    buildroot = copy_repo(tmp_path / "repo")
    result = run_pants(
        buildroot,
        f"--docker-build-args=['BASE_IMAGE={base_image}']",
        "package",
        IMAGE_TARGET,
        "src/python/examples/container:lambda",
    )
    assert result.returncode == 0, result.describe()
    image = image_id_from(result.output)
    function_dir = buildroot / FUNCTION_DIR
    assert (function_dir / "lambda_function.py").is_file(), result.describe()
    assert (function_dir / "examples/container/__pycache__/app.cpython-311.pyc").is_file()
    assert "Layout: flat directory" in result.output

    # The image holds the flat layout as it is in dist/, in ${LAMBDA_TASK_ROOT}.
    listing = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "find", image, ".", "-type", "f"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    in_image = sorted(line[2:] for line in listing.split())
    in_dist = sorted(str(p.relative_to(function_dir)) for p in function_dir.rglob("*") if p.is_file())
    assert in_image == in_dist

    events = [{"name": "container"}, {"name": ""}]
    name = f"pants-aws-lambda-e2e-{uuid.uuid4().hex[:12]}"
    with RuntimeApi(events) as api:
        try:
            run_function_container(image, api, name)
            done = api.wait_until_done(INVOCATIONS_TIMEOUT_S)
            logs = container_logs(name)
        finally:
            subprocess.run(
                ["docker", "rm", "--force", name],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=120,
            )
        assert done, (
            f"The runtime client did not complete both invocations in {INVOCATIONS_TIMEOUT_S}s "
            f"(init errors: {api.init_errors}; invocations: {api.invocations}). Its output:\n{logs}"
        )

    good, bad = api.invocations
    assert good.outcome == "response", (good, logs)
    assert good.body == {"greeting": "Hello, container!", "function": FUNCTION_NAME, "python": good.body["python"]}
    assert good.body["python"].startswith("3.11."), good.body

    assert bad.outcome == "error", (bad, logs)
    assert bad.body["errorType"] == "ValueError", bad.body
    assert bad.body["errorMessage"] == "the event needs a non-empty 'name', got ''", bad.body
    assert any("app.py" in line for line in map(str, bad.body.get("stackTrace", []))), bad.body
