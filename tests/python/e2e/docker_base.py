"""A local stand-in for AWS's Lambda base image, built without any container registry.

AWS's `public.ecr.aws/lambda/python:3.11` cannot be pulled here, so the Docker end-to-end test
builds an image with the same conventions itself, once per machine (it is reused by its tag):

- a Debian bookworm root filesystem from `debootstrap --variant=minbase --include=python3`
  (CPython 3.11, the minor version of the `python3.11` runtime), cached as a tarball under the
  launcher's cache directory and imported with `docker import`;
- `awslambdaric` and its dependencies, installed on the host from PyPI's manylinux wheels for
  CPython 3.11 (`pip install --target --platform ...`) and copied into the image, so the container
  needs no network;
- `LAMBDA_TASK_ROOT=/var/task` as the working directory and `python -m awslambdaric` as the
  entry point, as in AWS's images.

Run directly (`python tests/python/e2e/docker_base.py`) to build it ahead of the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pants_aws_lambda.testutil.commands import run_checked

BASE_IMAGE = "pants-aws-lambda-base:python3.11"
ROOTFS_IMAGE = "pants-aws-lambda-rootfs:bookworm-python3"
PYTHON_VERSION = "3.11"
AWSLAMBDARIC = "awslambdaric==4.2.2"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"

DOCKERFILE = f"""\
FROM {ROOTFS_IMAGE}
COPY site-packages/ /usr/local/lib/python{PYTHON_VERSION}/dist-packages/
RUN ln -sf /usr/bin/python3 /usr/local/bin/python && mkdir -p /var/task \\
    && python -c "import awslambdaric, runtime_client"
ENV LAMBDA_TASK_ROOT=/var/task LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
WORKDIR /var/task
ENTRYPOINT ["python", "-m", "awslambdaric"]
"""


def cache_dir() -> Path:
    explicit = os.environ.get("PANTS_AWS_LAMBDA_CACHE_DIR")
    if explicit:
        return Path(explicit) / "docker"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(xdg) / "pants-aws-lambda" / "docker"


def image_exists(tag: str) -> bool:
    proc = subprocess.run(
        ["docker", "image", "inspect", tag],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    return proc.returncode == 0


def _rootfs_tarball() -> Path:
    """A bookworm minbase root filesystem with python3, built once by debootstrap."""
    tarball = cache_dir() / f"rootfs-{DEBIAN_SUITE}-minbase-python3.tar"
    if tarball.is_file():
        return tarball
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not os.path.exists(debootstrap):
        raise RuntimeError(
            "debootstrap is needed to build the base image (apt-get install debootstrap)"
        )
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=tarball.parent) as tmp:
        root = Path(tmp) / "root"
        run_checked(
            (
                debootstrap,
                "--variant=minbase",
                "--include=python3",
                DEBIAN_SUITE,
                str(root),
                DEBIAN_MIRROR,
            ),
            timeout=1800,
        )
        # Nothing of apt's caches is needed in the image.
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        partial = Path(tmp) / "rootfs.tar"
        run_checked(
            ("tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."), timeout=600
        )
        partial.replace(tarball)
    return tarball


def _host_pip() -> list[str]:
    for candidate in (sys.executable, shutil.which("python3")):
        if (
            candidate
            and subprocess.run(
                [candidate, "-m", "pip", "--version"], capture_output=True, stdin=subprocess.DEVNULL
            ).returncode
            == 0
        ):
            return [candidate, "-m", "pip"]
    raise RuntimeError("No Python with pip on this machine to fetch awslambdaric's wheels.")


def ensure_base_image() -> str:
    """Build the base image unless it exists; return its tag."""
    if image_exists(BASE_IMAGE):
        return BASE_IMAGE
    if not image_exists(ROOTFS_IMAGE):
        run_checked(("docker", "import", str(_rootfs_tarball()), ROOTFS_IMAGE), timeout=600)
    with tempfile.TemporaryDirectory(prefix="lambda-base-") as tmp:
        context = Path(tmp)
        run_checked(
            (
                *_host_pip(),
                "install",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(context / "site-packages"),
                "--only-binary=:all:",
                "--platform",
                "manylinux2014_x86_64",
                "--implementation",
                "cp",
                "--python-version",
                PYTHON_VERSION,
                AWSLAMBDARIC,
            ),
            timeout=600,
            env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
        )
        (context / "Dockerfile").write_text(DOCKERFILE)
        run_checked(
            ("docker", "build", "--network", "none", "-t", BASE_IMAGE, str(context)), timeout=600
        )
    return BASE_IMAGE


if __name__ == "__main__":
    print(ensure_base_image())
