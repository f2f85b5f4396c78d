"""The backend refuses an unsupported Pants release in `register.py`, with one message, before it
imports any module that could fail there."""

from __future__ import annotations

import importlib
import sys
from typing import Iterator

import pants.version
import pytest
from packaging.version import Version

MODULE = "pants_aws_lambda.register"


@pytest.fixture
def fresh_register() -> Iterator[None]:
    """`register` imported anew under the patched version, and restored afterwards."""
    saved = sys.modules.pop(MODULE, None)
    yield
    sys.modules.pop(MODULE, None)
    if saved is not None:
        sys.modules[MODULE] = saved


@pytest.mark.parametrize(
    "version, expected",
    [
        ("2.32.0", "Pants 2.32 removed `Get` and `MultiGet` from `pants.engine.rules`"),
        ("2.34.0.dev3", "the last supported series (2.31.x)"),
        ("2.16.1", "supports Pants 2.17 to 2.31; this is Pants 2.16"),
    ],
)
def test_an_unsupported_release_is_refused_with_one_message(
    monkeypatch: pytest.MonkeyPatch, fresh_register: None, version: str, expected: str
) -> None:
    monkeypatch.setattr(pants.version, "PANTS_SEMVER", Version(version))
    # Pants reports an ImportError of a backend's register module as the backend failing to load.
    with pytest.raises(ImportError) as raised:
        importlib.import_module(MODULE)
    assert expected in str(raised.value)
    assert "`[GLOBAL].pants_version`" in str(raised.value)


def test_a_supported_release_loads(monkeypatch: pytest.MonkeyPatch, fresh_register: None) -> None:
    monkeypatch.setattr(pants.version, "PANTS_SEMVER", Version("2.17.1"))
    register = importlib.import_module(MODULE)
    assert {t.alias for t in register.target_types()} >= {
        "python_aws_lambda_function",
        "python_aws_lambda_layer",
    }
