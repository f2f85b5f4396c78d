"""AWS Lambda's deployment quotas (checked on built artifacts by `artifact/limits.py`)."""

from __future__ import annotations

from dataclasses import dataclass

# Binary units, largest first. AWS writes "250 MB" for 250 x 2^20 bytes: sizes here are binary
# (KiB, MiB, GiB), so a size and a limit always compare as their numbers read.
BINARY_UNITS = (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


@dataclass(frozen=True)
class Limit:
    value: int
    # What AWS's wording puts after the figure: "unzipped, function and all its layers together".
    counts: str
    # Whether `value` is bytes (stated in whole binary units) or a number of things.
    in_bytes: bool = True

    @property
    def stated(self) -> str:
        """The figure as AWS states it: `250 MiB`, `10 GiB`, `5`."""
        if not self.in_bytes:
            return str(self.value)
        for unit, scale in BINARY_UNITS:
            if self.value >= scale and self.value % scale == 0:
                return f"{self.value // scale} {unit}"
        return f"{self.value:,} bytes"

    @property
    def what(self) -> str:
        """The quota in words: `250 MiB unzipped, function and all its layers together`."""
        return f"{self.stated} {self.counts}"


# AWS Lambda quotas for .zip deployments...
UNZIPPED_BYTES = Limit(250 * 2**20, "unzipped, function and all its layers together")
DIRECT_UPLOAD_ZIPPED_BYTES = Limit(50 * 2**20, "zipped for direct upload")
LAYERS_PER_FUNCTION = Limit(5, "layers per function", in_bytes=False)
# ... and for container images, which the `flat` layout is for.
CONTAINER_IMAGE_BYTES = Limit(10 * 2**30, "per container image")
