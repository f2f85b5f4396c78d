"""The Pants release series this backend supports, and the message for the others.

No Pants import: `register.py` checks the running Pants with this before it imports anything that
could fail on an unsupported release (see the package's README, "Pants versions").
"""

from __future__ import annotations

# The first and last supported release series, as (major, minor).
FIRST_SUPPORTED = (2, 17)
LAST_SUPPORTED = (2, 31)

# Why the release series after LAST_SUPPORTED cannot load the backend.
UNSUPPORTED_AFTER_REASON = (
    "Pants 2.32 removed `Get` and `MultiGet` from `pants.engine.rules`, which every rule of this "
    "backend awaits (the port to call-by-name rules is planned in the backend's README, "
    '"Pants 2.32 and later")'
)


def series(version: tuple[int, int]) -> str:
    return "{}.{}".format(*version)


def unsupported_message(version: tuple[int, int]) -> str | None:
    """Why Pants `version` (major, minor) cannot run this backend, or None when it can."""
    supported = f"Pants {series(FIRST_SUPPORTED)} to {series(LAST_SUPPORTED)}"
    if version < FIRST_SUPPORTED:
        return (
            f"The `pants_aws_lambda` backend supports {supported}; this is Pants "
            f"{series(version)}. "
            f"Set `[GLOBAL].pants_version` in pants.toml to a {series(LAST_SUPPORTED)}.x release "
            "or an earlier supported one."
        )
    if version > LAST_SUPPORTED:
        return (
            f"The `pants_aws_lambda` backend supports {supported}; this is Pants "
            f"{series(version)}. "
            f"{UNSUPPORTED_AFTER_REASON}. Set `[GLOBAL].pants_version` in pants.toml to the last "
            f"supported series ({series(LAST_SUPPORTED)}.x), or remove `pants_aws_lambda` from "
            "`[GLOBAL].backend_packages`."
        )
    return None
