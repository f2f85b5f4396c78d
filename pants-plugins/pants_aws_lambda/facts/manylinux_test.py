"""The legacy manylinux aliases (`manylinux.py`) checked against `packaging`'s and PEP 600's."""

from __future__ import annotations

from packaging import _manylinux

from pants_aws_lambda.facts.manylinux import LEGACY_MANYLINUX


def test_aliases_are_packagings() -> None:
    # `packaging` maps glibc -> legacy tag when it lists the platforms of a Linux machine.
    packagings = {tag: tuple(glibc) for glibc, tag in _manylinux._LEGACY_MANYLINUX_MAP.items()}
    assert LEGACY_MANYLINUX == packagings


def test_aliases_name_their_year_or_number() -> None:
    # PEP 600: manylinux1 is glibc 2.5, manylinux2010 glibc 2.12, manylinux2014 glibc 2.17; newer
    # platforms have no alias.
    assert LEGACY_MANYLINUX == {
        "manylinux1": (2, 5),
        "manylinux2010": (2, 12),
        "manylinux2014": (2, 17),
    }
    newest_first = sorted(LEGACY_MANYLINUX.values(), reverse=True)
    assert list(LEGACY_MANYLINUX.values()) == newest_first
