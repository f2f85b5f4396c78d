"""End to end: after a first-party edit, packaging redoes only the first-party part and the zip.

The third-party part (PEX resolve of the lockfile subset, wheel layout, third-party bytecode) is
keyed on the lockfile subset, the platform and the options, so a source-only edit must reuse it
from Pants' process cache. `--keep-sandboxes=always` makes Pants log every process it really
executes ("Preserving local process execution dir ... for <description>"); cache hits are not
executed, so they are not logged.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from pathlib import Path

from e2e.repo import Artifact, copy_repo, package, rmtree

PYDANTIC = Artifact("src/python/examples/pydantic_app:lambda", "python3.12", "x86_64")
_PRESERVED = re.compile(r"[Pp]reserving local process execution dir (\S+) for (.+)")


def executed_processes(output: str) -> dict[str, str]:
    """Description -> preserved sandbox path of every process the run executed."""
    return {m.group(2).strip().rstrip('"'): m.group(1).strip('`"') for m in _PRESERVED.finditer(output)}


def test_source_only_edit_reuses_the_third_party_part(tmp_path: Path) -> None:
    buildroot = copy_repo(tmp_path / "repo")
    package(buildroot, [PYDANTIC])
    zip_path = buildroot / PYDANTIC.dist_path
    before = zipfile.ZipFile(zip_path).read("examples/pydantic_app/app.py")

    app = buildroot / "src/python/examples/pydantic_app/app.py"
    # Unique per run: Pants' process cache outlives the test, and would serve a repeated edit.
    app.write_text(app.read_text() + f"\n# A first-party edit {uuid.uuid4().hex}.\n")
    result = package(buildroot, [PYDANTIC], "--keep-sandboxes=always")
    executed = executed_processes(result.output)
    try:
        after = zipfile.ZipFile(zip_path).read("examples/pydantic_app/app.py")
        assert after != before and after == app.read_bytes()

        address = PYDANTIC.address
        ours = {d for d in executed if address in d}
        assert not [d for d in ours if "third-party" in d], (
            f"A source-only edit re-ran third-party steps: {sorted(ours)}"
        )
        # What must be redone, and nothing else of the plugin's.
        assert any(d.startswith("Compiling bytecode of the first-party sources") for d in ours), executed
        assert any(d.startswith("Writing ") for d in ours), executed
        assert len(ours) == 2, f"Unexpected steps ran again after a source-only edit: {sorted(ours)}"
    finally:
        for sandbox in executed.values():
            rmtree(Path(sandbox))
