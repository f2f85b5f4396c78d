"""Skip a test for want of something on this machine, or fail when the environment requires it.

CI (`.ci/run`) sets these variables to 1, so that a missing interpreter, emulator, Docker engine,
remote cache or deploy tool fails the test that needs it, with the reason, instead of skipping it.
"""

from __future__ import annotations

import os
from typing import NoReturn

REQUIRE_INTERPRETERS_ENV = "PANTS_AWS_LAMBDA_REQUIRE_INTERPRETERS"
REQUIRE_EMULATION_ENV = "PANTS_AWS_LAMBDA_REQUIRE_EMULATION"
REQUIRE_DOCKER_ENV = "PANTS_AWS_LAMBDA_REQUIRE_DOCKER"
REQUIRE_REMOTE_CACHE_ENV = "PANTS_AWS_LAMBDA_REQUIRE_REMOTE_CACHE"
# The deploy tools of the deploy examples (AWS CDK with Node.js, AWS SAM CLI, moto and boto3).
REQUIRE_DEPLOY_TOOLS_ENV = "PANTS_AWS_LAMBDA_REQUIRE_DEPLOY_TOOLS"


def unavailable(reason: str, *variables: str) -> NoReturn:
    """Skip the test for `reason`; fail with it when any of `variables` is set to 1."""
    # Imported here: `python3 -m pants_aws_lambda.testutil.emulated` runs without pytest.
    import pytest

    required = [name for name in variables if os.environ.get(name) == "1"]
    if required:
        pytest.fail(f"{reason}, and {' or '.join(f'{name}=1' for name in required)} requires it.")
    pytest.skip(reason)
