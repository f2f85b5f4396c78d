"""End to end with a real Docker engine: `./pants package` the container example's `docker_image`,
run the image with `python -m awslambdaric lambda_function.handler` as the runtime client against
the plugin's own Lambda Runtime API (`pants_aws_lambda.invoke.runner_runtime_api.RuntimeApi`, the
one `pants run` serves), on loopback, and check what the handler answers.

Skips when no Docker engine answers (fails instead with PANTS_AWS_LAMBDA_REQUIRE_DOCKER=1, as in
CI). No registry is reachable, so the image is built on a local stand-in for AWS's base image
(`docker_base.py`), built once per machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from e2e import docker_base
from e2e.repo import copy_repo, run_pants
from pants_aws_lambda.invoke.runner_runtime_api import RuntimeApi
from pants_aws_lambda.testutil.require import REQUIRE_DOCKER_ENV, unavailable

IMAGE_TARGET = "src/python/examples/container:img"
FUNCTION_DIR = "dist/src.python.examples.container/lambda"
FUNCTION_NAME = "container-e2e"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
INVOCATION_TIMEOUT_S = 120


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
    unavailable(
        f"no Docker engine answers `docker info`: {problem.splitlines()[-1] if problem else '?'}",
        REQUIRE_DOCKER_ENV,
    )


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
        ["docker", "logs", name],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.stdout + proc.stderr


def invoke_in_container(image: str, event: dict[str, Any]) -> tuple[RuntimeApi, str]:
    """One invocation of `event` by a new container of `image`: the Runtime API once the client has
    posted its result, and the container's output. The plugin's Runtime API serves one invocation,
    so each event gets its own API and container."""
    api = RuntimeApi(FUNCTION_ARN)
    api.offer(json.dumps(event), str(uuid.uuid4()), timeout=60)
    name = f"pants-aws-lambda-e2e-{uuid.uuid4().hex[:12]}"
    with api:
        try:
            run_function_container(image, api, name)
            done = api.done.wait(INVOCATION_TIMEOUT_S)
            logs = container_logs(name)
        finally:
            subprocess.run(
                ["docker", "rm", "--force", name],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=120,
            )
    assert done, (
        f"The runtime client did not post a result for {event} in {INVOCATION_TIMEOUT_S}s. "
        f"Its output:\n{logs}"
    )
    assert api.init_error is None, (api.init_error, logs)
    return api, logs


def test_without_an_engine_the_test_skips_or_fails_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.delenv(REQUIRE_DOCKER_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Docker engine answers"):
        require_docker()
    monkeypatch.setenv(REQUIRE_DOCKER_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_DOCKER_ENV}=1 requires it"):
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


def test_container_image_runs_the_function_under_the_runtime_interface_client(
    tmp_path: Path,
) -> None:
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
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "find",
            image,
            ".",
            "-type",
            "f",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    in_image = sorted(line[2:] for line in listing.split())
    in_dist = sorted(
        str(p.relative_to(function_dir)) for p in function_dir.rglob("*") if p.is_file()
    )
    assert in_image == in_dist

    good, logs = invoke_in_container(image, {"name": "container"})
    assert good.outcome is not None, logs
    ok, body, content_type = good.outcome
    assert ok and content_type == "application/json", (good.outcome, logs)
    response = json.loads(body)
    assert response == {
        "greeting": "Hello, container!",
        "function": FUNCTION_NAME,
        "python": response["python"],
    }
    assert response["python"].startswith("3.11."), response

    bad, logs = invoke_in_container(image, {"name": ""})
    assert bad.outcome is not None, logs
    ok, body, _ = bad.outcome
    assert not ok, (bad.outcome, logs)
    error = json.loads(body)
    assert error["errorType"] == "ValueError", error
    assert error["errorMessage"] == "the event needs a non-empty 'name', got ''", error
    assert any("app.py" in line for line in map(str, error.get("stackTrace", []))), error
