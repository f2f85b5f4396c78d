"""AWS Lambda's deployment quotas (checked on built artifacts by `artifact/limits.py`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    value: int
    what: str


# AWS Lambda quotas for .zip deployments. AWS writes "250 MB" for 250 x 2^20 bytes: sizes here are
# binary (KiB, MiB, GiB), so a size and a limit always compare as their numbers read.
UNZIPPED_BYTES = Limit(250 * 2**20, "250 MiB unzipped, function and all its layers together")
DIRECT_UPLOAD_ZIPPED_BYTES = Limit(50 * 2**20, "50 MiB zipped for direct upload")
LAYERS_PER_FUNCTION = Limit(5, "5 layers per function")
# ... and for container images, which the `flat` layout is for.
CONTAINER_IMAGE_BYTES = Limit(10 * 2**30, "10 GiB per container image")
