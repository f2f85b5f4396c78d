"""PEX complete platforms for Lambda runtimes, derived from the runtime table.

A complete platform is the JSON that `pex --complete-platform` takes: the PEP 508 marker environment
of the target interpreter and its compatible wheel tags, most preferred first. We derive both from
`runtimes.RUNTIMES` with `packaging.tags`, for a runtime's exact CPython version, glibc and CPU, so
that PEX can never pick a wheel built for the build machine's newer glibc.

Run this module to regenerate the committed files:

    ./pants run pants-plugins/pants_aws_lambda/runtimes/complete_platforms.py

No Pants engine imports: this module is used by the rules, by that script and by tests alike.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterator

from packaging import tags

from pants_aws_lambda.facts.architectures import ARCHITECTURES
from pants_aws_lambda.facts.manylinux import LEGACY_MANYLINUX, GlibcVersion
from pants_aws_lambda.facts.python_version import PythonVersion
from pants_aws_lambda.facts.runtimes import RUNTIMES, LambdaRuntime

# PEP 600 aliases for the manylinux tags that predate it.
_LEGACY_MANYLINUX = {glibc: tag for tag, glibc in LEGACY_MANYLINUX.items()}
# The oldest glibc any manylinux tag names for an architecture: manylinux1 (glibc 2.5) and
# manylinux2010 (2.12) exist only for x86 CPUs; every other CPU starts at manylinux2014 (2.17).
_X86_MACHINES = frozenset({"x86_64", "i686"})


def manylinux_platforms(machine: str, glibc: tuple[int, int]) -> Iterator[str]:
    """Linux platform tags a CPython on `machine` with `glibc` accepts, most preferred first."""
    major, newest_minor = glibc
    oldest_minor = 5 if machine in _X86_MACHINES else 17
    for minor in range(newest_minor, oldest_minor - 1, -1):
        yield f"manylinux_{major}_{minor}_{machine}"
        legacy = _LEGACY_MANYLINUX.get(GlibcVersion(major, minor))
        if legacy is not None:
            yield f"{legacy}_{machine}"
    yield f"linux_{machine}"


def compatible_tags(
    python_version: tuple[int, int], machine: str, glibc: tuple[int, int]
) -> list[str]:
    """Every wheel tag CPython `python_version` on Linux/`machine`/`glibc` accepts, in its order."""
    platforms = list(manylinux_platforms(machine, glibc))
    interpreter = PythonVersion(*python_version).tag
    ordered = [
        *tags.cpython_tags(python_version, abis=[interpreter], platforms=platforms),
        *tags.compatible_tags(python_version, interpreter, platforms),
    ]
    return [str(tag) for tag in ordered]


def marker_environment(python_version: tuple[int, int], machine: str) -> dict[str, str]:
    """PEP 508 marker values of CPython `python_version` on Linux/`machine`.

    Lambda updates patch releases without notice, so the full version is the `.0` release: markers
    that compare patch versions are rare and this errs on the old side.
    """
    version = str(PythonVersion(*python_version))
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{version}.0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "python_full_version": f"{version}.0",
        "python_version": version,
        "sys_platform": "linux",
    }


def complete_platform(runtime: LambdaRuntime, architecture: str) -> dict:
    machine = ARCHITECTURES[architecture].machine
    return {
        "marker_environment": marker_environment(runtime.python_version, machine),
        "compatible_tags": compatible_tags(runtime.python_version, machine, runtime.glibc),
    }


def file_name(runtime_name: str, architecture: str) -> str:
    return f"{runtime_name}-{architecture}.json"


def render(platform: dict) -> str:
    return json.dumps(platform, indent=2, sort_keys=True) + "\n"


def generate_all() -> dict[str, str]:
    """File name -> file content for every runtime and architecture."""
    return {
        file_name(runtime.name, architecture): render(complete_platform(runtime, architecture))
        for runtime in RUNTIMES.values()
        for architecture in ARCHITECTURES
    }


def platforms_dir() -> Path:
    return Path(__file__).parent / "platforms"


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else platforms_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    expected = generate_all()
    for stale in sorted(out_dir.glob("*.json")):
        if stale.name not in expected:
            stale.unlink()
    for name, content in sorted(expected.items()):
        (out_dir / name).write_text(content)
    print(f"Wrote {len(expected)} complete platforms to {out_dir}")


if __name__ == "__main__":
    main()
