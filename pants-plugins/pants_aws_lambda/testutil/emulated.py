"""Lambda runtimes this machine has no CPython for, run from Debian root filesystems under QEMU.

The arm64 runtimes' native code cannot load on an x86_64 machine, and a CPython newer than the
machine's may not be installed at all. Debian ships the runtimes' CPython minor versions for both
CPUs, so the tests run those artifacts (and inspect those interpreters) with Debian's CPython,
from a root filesystem of the right suite and architecture, under QEMU's user-mode emulator:

    qemu-aarch64-static -L ROOT ROOT/usr/bin/python3.13 ...

`-L ROOT` makes the emulator find the ELF interpreter and the shared libraries in ROOT, so
nothing of the root runs as root or in a chroot. A root is made, once per machine, with

    debootstrap --arch=ARCH --foreign --variant=minbase --include=python3.X SUITE ROOT MIRROR

(`--foreign` only downloads the packages and unpacks the essential ones; nothing runs inside the
root) and `dpkg -x` of every downloaded package. It is cached under
`${PANTS_AWS_LAMBDA_CACHE_DIR:-~/.cache/pants-aws-lambda}/emulated/`, built in a temporary
directory next to its final place, checked (its CPython must run and report the right version and
CPU), then renamed into place, under a lock so that concurrent tests build it once.

Missing `debootstrap` or QEMU skips the tests that need them and says what to install;
`PANTS_AWS_LAMBDA_REQUIRE_EMULATION=1` (set by `.ci/run`) makes them fail instead.

Run directly (`PYTHONPATH=pants-plugins python3 -m pants_aws_lambda.testutil.emulated [NAME...]`)
to build the roots ahead of the tests; it prints how long each took and its size.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pants_aws_lambda.testutil import cache_root
from pants_aws_lambda.testutil.commands import run_checked
from pants_aws_lambda.testutil.require import (
    REQUIRE_EMULATION_ENV,
    REQUIRE_INTERPRETERS_ENV,
    unavailable,
)

# Root filesystems holding a runtime's CPython as `usr/bin/python3.X` (`os.pathsep`-separated),
# in addition to the ones built here in the cache directory.
INTERPRETER_ROOTS_ENV = "PANTS_AWS_LAMBDA_INTERPRETER_ROOTS"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_TIMEOUT_S = 1800
PROBE_TIMEOUT_S = 120
# Bumped when the way a root is made changes, so that old caches are not reused.
ROOT_FORMAT = "1"

# Debian architecture -> (QEMU's user-mode emulator, what `platform.machine()` reports).
_ARCHES = {
    "amd64": ("qemu-x86_64-static", "x86_64"),
    "arm64": ("qemu-aarch64-static", "aarch64"),
}
_LAMBDA_ARCHES = {"x86_64": "amd64", "arm64": "arm64"}
# ELF e_machine -> Lambda architecture.
_ELF_MACHINES = {62: "x86_64", 183: "arm64"}


@dataclass(frozen=True)
class DebianRoot:
    """A Debian root filesystem with one CPython, for one Lambda runtime and architecture."""

    suite: str
    arch: str  # Debian's name: amd64, arm64
    python_version: str  # 3.13

    @property
    def name(self) -> str:
        return f"{self.suite}-{self.arch}-python{self.python_version}"

    @property
    def qemu(self) -> str:
        return _ARCHES[self.arch][0]

    @property
    def machine(self) -> str:
        return _ARCHES[self.arch][1]

    @property
    def package(self) -> str:
        return f"python{self.python_version}"


# The roots of the Lambda runtimes the tests emulate, by (runtime's Python, Lambda
# architecture). Each suite's CPython is the runtime's minor version.
ROOTS = {
    ("3.11", "arm64"): DebianRoot("bookworm", "arm64", "3.11"),
    ("3.13", "arm64"): DebianRoot("trixie", "arm64", "3.13"),
    ("3.14", "x86_64"): DebianRoot("sid", "amd64", "3.14"),
    ("3.14", "arm64"): DebianRoot("sid", "arm64", "3.14"),
}

# Runtimes and architectures for which no CPython can be had on these machines: a test that needs
# one skips with the reason, even where emulation is required.
UNOBTAINABLE = {
    ("3.12", "arm64"): (
        "no Debian release ships CPython 3.12 for arm64 (bookworm has 3.11, trixie 3.13, sid 3.13 "
        "and 3.14), and no other source of an arm64 CPython 3.12 is reachable from these machines"
    ),
}


class Unavailable(Exception):
    """This machine lacks what emulation needs (a tool to install, or a network to build a root)."""


def cache_dir() -> Path:
    return cache_root() / "emulated"


def roots_dir() -> Path:
    """Where the root filesystems are, one directory per `DebianRoot.name`."""
    return cache_dir() / f"roots-v{ROOT_FORMAT}"


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if not found:
        raise Unavailable(f"`{name}` is not installed (Debian/Ubuntu: `apt-get install {package}`)")
    return found


def python_command(root: DebianRoot, root_dir: Path) -> list[str]:
    """The command prefix that runs the root's CPython under QEMU."""
    qemu = _tool(root.qemu, "qemu-user-static")
    return [qemu, "-L", str(root_dir), str(root_dir / "usr" / "bin" / root.package)]


_PROBE = (
    "import platform, sys; "
    "print(platform.python_implementation(), '%d.%d' % sys.version_info[:2], platform.machine())"
)


def check_interpreter(root: DebianRoot, root_dir: Path) -> str:
    """Run the root's CPython; return its full version, or raise if it is not the expected one."""
    command = python_command(root, root_dir)
    proc = subprocess.run(
        [*command, "-I", "-S", "-c", _PROBE + "; print(platform.python_version())"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    lines = proc.stdout.split("\n")
    expected = f"CPython {root.python_version} {root.machine}"
    if proc.returncode != 0 or lines[0].strip() != expected:
        raise RuntimeError(
            f"`{' '.join(command)}` does not run CPython {root.python_version} on "
            f"{root.machine} (exit {proc.returncode}): {proc.stdout.strip()!r} "
            f"{proc.stderr.strip()[-2000:]!r}"
        )
    return lines[1].strip()


def _debootstrap_argv(root: DebianRoot, target: Path) -> list[str]:
    argv = [
        _tool("debootstrap", "debootstrap"),
        f"--arch={root.arch}",
        "--foreign",
        "--variant=minbase",
        f"--include={root.package}",
        root.suite,
        str(target),
        DEBIAN_MIRROR,
    ]
    if os.geteuid() != 0:
        # debootstrap refuses to run as another user; fakeroot is enough for a foreign first stage.
        fakeroot = shutil.which("fakeroot")
        if not fakeroot:
            raise Unavailable(
                "debootstrap needs root, or `fakeroot` (`apt-get install fakeroot`), to build the "
                f"{root.name} root filesystem"
            )
        argv.insert(0, fakeroot)
    return argv


def _build(root: DebianRoot, dest: Path) -> int:
    """Build `root` at `dest`, which must not exist: in a sibling temporary directory, then
    renamed. Return how many bytes of packages it downloaded."""
    with tempfile.TemporaryDirectory(prefix=f".{root.name}-", dir=dest.parent) as tmp:
        target = Path(tmp) / "root"
        run_checked(_debootstrap_argv(root, target), timeout=DEBOOTSTRAP_TIMEOUT_S)
        # The first stage unpacked only the essential packages: unpack the rest, CPython included.
        archives = target / "var" / "cache" / "apt" / "archives"
        debs = sorted(archives.glob("*.deb"))
        if not any(d.name.startswith(f"{root.package}_") for d in debs):
            raise RuntimeError(f"debootstrap downloaded no {root.package} package for {root.name}")
        downloaded = sum(d.stat().st_size for d in debs)
        for deb in debs:
            run_checked(["dpkg-deb", "-x", str(deb), str(target)], timeout=600)
        # What the tests never read: the packages and their index, documentation, translations.
        shutil.rmtree(archives, ignore_errors=True)
        for unused in (
            "var/lib/apt/lists",
            "usr/share/doc",
            "usr/share/man",
            "usr/share/info",
            "usr/share/locale",
        ):
            shutil.rmtree(target / unused, ignore_errors=True)
        check_interpreter(root, target)
        target.rename(dest)
    return downloaded


def _size_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def ensure_root(root: DebianRoot) -> Path:
    """The root filesystem of `root`, built unless cached; raise `Unavailable` when it cannot be."""
    # Check the emulator first: no point downloading a root this machine cannot run.
    _tool(root.qemu, "qemu-user-static")
    base = roots_dir()
    base.mkdir(parents=True, exist_ok=True)
    dest = base / root.name
    with open(base / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not dest.is_dir():
            _tool("debootstrap", "debootstrap")
            started = time.monotonic()
            downloaded = _build(root, dest)
            print(
                f"emulated: built {dest} in {time.monotonic() - started:.0f}s "
                f"({downloaded / 1e6:.0f} MB of packages, "
                f"{_size_bytes(dest) / 1e6:.0f} MB unpacked)",
                file=sys.stderr,
            )
    return dest


# The roots whose CPython this process has seen run, and the command that runs it.
_CHECKED: dict[DebianRoot, list[str]] = {}


def require_python(python_version: str, architecture: str) -> list[str]:
    """The command prefix running the emulated CPython of a Lambda runtime and architecture, or
    skip the test (fail when `PANTS_AWS_LAMBDA_REQUIRE_EMULATION=1`)."""
    root = ROOTS[(python_version, architecture)]
    if root in _CHECKED:
        return list(_CHECKED[root])
    try:
        root_dir = ensure_root(root)
        check_interpreter(root, root_dir)
        _CHECKED[root] = python_command(root, root_dir)
        return list(_CHECKED[root])
    except Unavailable as e:
        unavailable(
            f"cannot run CPython {python_version} for {architecture} under QEMU: {e}",
            REQUIRE_EMULATION_ENV,
        )


def _elf_architecture(path: str) -> str | None:
    try:
        with open(path, "rb") as fp:
            header = fp.read(20)
    except OSError:
        return None
    if header[:4] != b"\x7fELF" or len(header) < 20:
        return None
    return _ELF_MACHINES.get(int.from_bytes(header[18:20], "little"))


def find_root(python_version: str, architecture: str) -> str | None:
    """A root filesystem with CPython `python_version` for `architecture` (Lambda's name) as
    `usr/bin/python{python_version}`: one named in $PANTS_AWS_LAMBDA_INTERPRETER_ROOTS, or one
    cached here."""
    named = [p for p in os.environ.get(INTERPRETER_ROOTS_ENV, "").split(os.pathsep) if p]
    pattern = f"*-{_LAMBDA_ARCHES[architecture]}-python{python_version}"
    cached = sorted(str(p) for p in roots_dir().glob(pattern))
    for root in named + cached:
        if (
            _elf_architecture(os.path.realpath(f"{root}/usr/bin/python{python_version}"))
            == architecture
        ):
            return root
    return None


def emulator(architecture: str) -> str:
    """QEMU's user-mode emulator for `architecture` (Lambda's name)."""
    return _ARCHES[_LAMBDA_ARCHES[architecture]][0]


def require_root(python_version: str, architecture: str) -> str:
    """A root filesystem with CPython `python_version` for `architecture`, built into the cache
    when it is one of `ROOTS`; or skip the test (fail under the variables that require
    interpreters or emulation)."""
    if (python_version, architecture) in UNOBTAINABLE:
        # Skipped even where interpreters or emulation are required: there is none to be had.
        unavailable(
            f"no CPython {python_version} for {architecture}: "
            f"{UNOBTAINABLE[(python_version, architecture)]}"
        )
    root = find_root(python_version, architecture)
    if root is None and (python_version, architecture) in ROOTS:
        # Build the root of the cache (or skip/fail as the end-to-end tests do).
        require_python(python_version, architecture)
        root = find_root(python_version, architecture)
    if root is None:
        unavailable(
            f"no CPython {python_version} for {architecture}: no native python{python_version}, "
            f"and no root filesystem with an {architecture} usr/bin/python{python_version} in "
            f"{roots_dir()} (`python3 -m pants_aws_lambda.testutil.emulated` builds them) or in "
            f"${INTERPRETER_ROOTS_ENV}",
            REQUIRE_INTERPRETERS_ENV,
            REQUIRE_EMULATION_ENV,
        )
    if shutil.which(emulator(architecture)) is None:
        unavailable(
            f"`{emulator(architecture)}` is not installed (`apt-get install qemu-user-static`)",
            REQUIRE_INTERPRETERS_ENV,
            REQUIRE_EMULATION_ENV,
        )
    return root


def main(names: list[str]) -> None:
    for root in ROOTS.values():
        if names and root.name not in names:
            continue
        started = time.monotonic()
        root_dir = ensure_root(root)
        version = check_interpreter(root, root_dir)
        print(
            f"{root.name}: CPython {version} at {root_dir} "
            f"({_size_bytes(root_dir) / 1e6:.0f} MB; {time.monotonic() - started:.0f}s)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
