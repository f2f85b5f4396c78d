"""The glibc that locked wheels with a bare `linux_<arch>` tag need, read from their ELF files.

Such a tag says nothing about glibc (it is not a manylinux tag), so the shared objects' versioned
symbol requirements are compared with the runtime's glibc: too new is an error, otherwise a warning.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Mapping, Optional, Tuple

from pants.engine.addresses import Address
from pants.engine.fs import DigestContents, FileEntry
from pants.util.strutil import softwrap

from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.requirements import elf, wheels
from pants_aws_lambda.requirements.wheels import Distribution
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform

logger = logging.getLogger(__name__)

# The newest glibc a wheel's shared objects need, and the file that needs it; None: no versioned
# symbols.
Need = Optional[Tuple[Tuple[int, int], str]]


def dotted(version: tuple[int, int]) -> str:
    return "{}.{}".format(*version)


def bare_linux_wheels(wheel_names: Iterable[str]) -> list[str]:
    """Platform-specific wheels tagged `linux_<arch>`: their tags say nothing about glibc."""
    return sorted(
        w for w in wheel_names if wheels.is_platform_specific(w) and wheels.is_bare_linux(w)
    )


def shared_objects(
    entries: Iterable[tuple[str, FileEntry]], bare_linux: list[str]
) -> list[FileEntry]:
    """The shared objects of those wheels, from (wheel, entry) pairs: only these are read."""
    return [
        entry
        for wheel, entry in entries
        if wheel in bare_linux and elf.is_shared_object(entry.path)
    ]


def glibc_needs(
    bare_linux: list[str], contents: DigestContents, wheel_of: Callable[[str], tuple[str, str]]
) -> dict[str, Need]:
    """Wheel -> the newest glibc its shared objects need and the file that needs it, or None."""
    needs: dict[str, Need] = {w: None for w in bare_linux}
    for content in sorted(contents, key=lambda c: c.path):
        wheel, rel = wheel_of(content.path)
        version = elf.max_glibc(content.content)
        seen = needs.get(wheel)
        if version is not None and (seen is None or version > seen[0]):
            needs[wheel] = (version, rel)
    return needs


def check_glibc_needs(
    address: Address, platform: LambdaPlatform, needs: Mapping[str, Need]
) -> None:
    """Refuse wheels that need a newer glibc than the runtime's; warn about the others."""
    platform_glibc = (
        platform.runtime.glibc
        if platform.runtime is not None
        else wheels.newest_glibc(platform.compatible_tags)
    )
    too_new = [
        (wheel, need)
        for wheel, need in needs.items()
        if need is not None and platform_glibc is not None and need[0] > platform_glibc
    ]
    if too_new:
        assert platform_glibc is not None
        _refuse(address, platform, platform_glibc, too_new)
    for wheel, need in sorted(needs.items()):
        _warn(address, wheel, need, platform_glibc)


def _refuse(
    address: Address,
    platform: LambdaPlatform,
    platform_glibc: tuple[int, int],
    too_new: list[tuple[str, tuple[tuple[int, int], str]]],
) -> None:
    listing = "; ".join(
        f"{Distribution.from_wheel(w)} ({w}) needs GLIBC_{dotted(v)} in {f}"
        for w, (v, f) in too_new
    )
    raise LambdaPackagingError(
        softwrap(
            f"""
            Cannot package {address} for {platform.description}: the
            shared objects of a locked wheel with a bare `linux_<arch>` platform tag
            require a newer glibc than the runtime's glibc {dotted(platform_glibc)}:
            {listing}. Such a tag says nothing about glibc, so nothing stopped the wheel
            earlier; on Lambda it would fail to load ("version `GLIBC_...' not found").
            Ways out: build a manylinux wheel for the runtime's glibc (with the runtime's
            CPython in a manylinux_{platform_glibc[0]}_{platform_glibc[1]} build container), or
            run `auditwheel repair` on a wheel built for glibc {dotted(platform_glibc)}
            or older, serve it from a directory in `[python-repos].find_links` and
            regenerate the lockfile; or pin another release that publishes manylinux
            wheels for the runtime.
            """
        )
    )


def _warn(address: Address, wheel: str, need: Need, platform_glibc: tuple[int, int] | None) -> None:
    if need is None:
        needed = "its shared objects require no versioned glibc symbols (GLIBC_x.y)"
    else:
        version, so_file = dotted(need[0]), need[1]
        needed = f"its shared objects require glibc {version} (GLIBC_{version} in {so_file})"
    runtime_glibc = (
        f"the runtime has glibc {dotted(platform_glibc)}"
        if platform_glibc is not None
        else "the platform's compatible tags name no manylinux glibc to compare with"
    )
    logger.warning(
        softwrap(
            f"""
            {address} packages {Distribution.from_wheel(wheel)} from the locked
            wheel {wheel}, whose bare `linux_<arch>` platform tag says nothing about the
            glibc it needs: it was built on some machine, not as a manylinux wheel.
            From its ELF files, {needed}; {runtime_glibc}. Prefer a manylinux wheel
            (`auditwheel repair` names the glibc in its tag).
            """
        )
    )
