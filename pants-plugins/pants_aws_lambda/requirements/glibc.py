"""The glibc that locked wheels with a bare `linux_<arch>` tag need, read from their ELF files.

Such a tag says nothing about glibc (it is not a manylinux tag), so the shared objects' versioned
symbol requirements are compared with the runtime's glibc: too new is an error, otherwise a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, NamedTuple

from pants.engine.addresses import Address
from pants.engine.fs import DigestContents, FileEntry
from pants.util.strutil import softwrap

from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.facts.manylinux import GlibcVersion
from pants_aws_lambda.requirements import elf, wheels
from pants_aws_lambda.requirements.wheels import Distribution
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform

logger = logging.getLogger(__name__)


class WheelEntry(NamedTuple):
    """A file an installed wheel holds, and the wheel's file name."""

    wheel: str
    entry: FileEntry


class InWheel(NamedTuple):
    """A path inside an installed wheel, and the wheel's file name."""

    wheel: str
    path: str


class Need(NamedTuple):
    """The newest glibc a wheel's shared objects need, and the file (in the wheel) that needs it."""

    glibc: GlibcVersion
    so_file: str


class WheelNeed(NamedTuple):
    """A wheel's need; None when its shared objects require no versioned glibc symbols."""

    wheel: str
    need: Need | None


@dataclass(frozen=True)
class GlibcVerdict:
    """The bare `linux_<arch>` wheels measured against the platform's glibc."""

    # The runtime's glibc, or the newest the platform's tags name; None: nothing to compare with.
    platform_glibc: GlibcVersion | None
    # The wheels whose shared objects need a newer glibc than that (refused).
    too_new: tuple[WheelNeed, ...]
    # Every measured wheel, by name (each warned about).
    measured: tuple[WheelNeed, ...]


def bare_linux_wheels(wheel_names: Iterable[str]) -> list[str]:
    """Platform-specific wheels tagged `linux_<arch>`: their tags say nothing about glibc."""
    return sorted(
        w for w in wheel_names if wheels.is_platform_specific(w) and wheels.is_bare_linux(w)
    )


def shared_objects(entries: Iterable[WheelEntry], bare_linux: list[str]) -> list[FileEntry]:
    """The shared objects of those wheels: only these are read."""
    return [
        entry
        for wheel, entry in entries
        if wheel in bare_linux and elf.is_shared_object(entry.path)
    ]


def glibc_needs(
    bare_linux: list[str], contents: DigestContents, wheel_of: Callable[[str], InWheel]
) -> dict[str, Need | None]:
    """Wheel -> the newest glibc its shared objects need and the file that needs it, or None."""
    needs: dict[str, Need | None] = {w: None for w in bare_linux}
    for content in sorted(contents, key=lambda c: c.path):
        wheel, rel = wheel_of(content.path)
        version = elf.max_glibc(content.content)
        seen = needs.get(wheel)
        if version is not None and (seen is None or version > seen.glibc):
            needs[wheel] = Need(version, rel)
    return needs


def glibc_verdict(platform: LambdaPlatform, needs: Mapping[str, Need | None]) -> GlibcVerdict:
    """The wheels whose shared objects need a newer glibc than the platform's, and all measured."""
    platform_glibc = (
        platform.runtime.glibc
        if platform.runtime is not None
        else wheels.newest_glibc(platform.compatible_tags)
    )
    measured = tuple(WheelNeed(wheel, need) for wheel, need in sorted(needs.items()))
    too_new = tuple(
        m
        for m in measured
        if m.need is not None and platform_glibc is not None and m.need.glibc > platform_glibc
    )
    return GlibcVerdict(platform_glibc, too_new, measured)


def check_glibc_needs(
    address: Address, platform: LambdaPlatform, needs: Mapping[str, Need | None]
) -> None:
    """Refuse wheels that need a newer glibc than the runtime's; warn about the others."""
    verdict = glibc_verdict(platform, needs)
    if verdict.too_new:
        raise LambdaPackagingError(_refusal(address, platform, verdict))
    for measured in verdict.measured:
        logger.warning(_warning(address, measured, verdict.platform_glibc))


def _refusal(address: Address, platform: LambdaPlatform, verdict: GlibcVerdict) -> str:
    platform_glibc = verdict.platform_glibc
    assert platform_glibc is not None
    listing = "; ".join(
        f"{Distribution.from_wheel(w)} ({w}) needs GLIBC_{need.glibc} in {need.so_file}"
        for w, need in verdict.too_new
        if need is not None
    )
    return softwrap(
        f"""
            Cannot package {address} for {platform.description}: the
            shared objects of a locked wheel with a bare `linux_<arch>` platform tag
            require a newer glibc than the runtime's glibc {platform_glibc}:
            {listing}. Such a tag says nothing about glibc, so nothing stopped the wheel
            earlier; on Lambda it would fail to load ("version `GLIBC_...' not found").
            Ways out: build a manylinux wheel for the runtime's glibc (with the runtime's
            CPython in a {platform_glibc.manylinux} build container), or
            run `auditwheel repair` on a wheel built for glibc {platform_glibc}
            or older, serve it from a directory in `[python-repos].find_links` and
            regenerate the lockfile; or pin another release that publishes manylinux
            wheels for the runtime.
            """
    )


def _warning(address: Address, measured: WheelNeed, platform_glibc: GlibcVersion | None) -> str:
    wheel, need = measured
    if need is None:
        needed = "its shared objects require no versioned glibc symbols (GLIBC_x.y)"
    else:
        version = need.glibc
        needed = f"its shared objects require glibc {version} (GLIBC_{version} in {need.so_file})"
    runtime_glibc = (
        f"the runtime has glibc {platform_glibc}"
        if platform_glibc is not None
        else "the platform's compatible tags name no manylinux glibc to compare with"
    )
    return softwrap(
        f"""
            {address} packages {Distribution.from_wheel(wheel)} from the locked
            wheel {wheel}, whose bare `linux_<arch>` platform tag says nothing about the
            glibc it needs: it was built on some machine, not as a manylinux wheel.
            From its ELF files, {needed}; {runtime_glibc}. Prefer a manylinux wheel
            (`auditwheel repair` names the glibc in its tag).
            """
    )
