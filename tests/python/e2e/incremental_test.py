"""End to end: after a first-party edit, packaging redoes only the first-party part and the zip.

The third-party part (PEX resolve of the lockfile subset, wheel layout, third-party bytecode, and
its compressed zip entries) is
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

from e2e.repo import Artifact, package, packaged_copy, rmtree

PYDANTIC = Artifact("src/python/examples/pydantic_app:lambda", "python3.12", "x86_64")
_PRESERVED = re.compile(r"[Pp]reserving local process execution dir (\S+) for (.+)")


def executed_processes(output: str) -> dict[str, str]:
    """Description -> preserved sandbox path of every process the run executed."""
    return {
        m.group(2).strip().rstrip('"'): m.group(1).strip('`"') for m in _PRESERVED.finditer(output)
    }


def test_source_only_edit_reuses_the_third_party_part(tmp_path: Path) -> None:
    buildroot = packaged_copy(tmp_path / "repo", [PYDANTIC])
    zip_path = buildroot / PYDANTIC.dist_path
    before = zipfile.ZipFile(zip_path).read("examples/pydantic_app/app.py")

    app = buildroot / "src/python/examples/pydantic_app/app.py"
    # Unique, so that no earlier run has this first-party content in Pants' (shared) cache.
    edit = f"\n# A first-party edit: {uuid.uuid4()}\n"
    app.write_text(app.read_text() + edit)
    result = package(buildroot, [PYDANTIC], "--keep-sandboxes=always")
    executed = executed_processes(result.output)
    try:
        after = zipfile.ZipFile(zip_path).read("examples/pydantic_app/app.py")
        assert after != before and after.endswith(edit.encode())

        address = PYDANTIC.address
        ours = {d for d in executed if address in d}
        assert not [
            d for d in ours if "third-party" in d
        ], f"A source-only edit re-ran third-party steps: {sorted(ours)}"
        # What must be redone, and nothing else of the plugin's.
        assert any(
            d.startswith("Compiling bytecode of the first-party sources") for d in ours
        ), executed
        assert any(d.startswith("Writing ") for d in ours), executed
        # The edit is to the handler's module: the runtime's CPython checks it again.
        assert any(
            d.startswith("Checking examples/pydantic_app/app.py of ") for d in ours
        ), executed
        assert (
            len(ours) == 3
        ), f"Unexpected steps ran again after a source-only edit: {sorted(ours)}"

        # The zip writer compresses only the first-party files: the third-party entries come
        # compressed from the cached part.
        writer = Path(next(executed[d] for d in ours if d.startswith("Writing ")))
        content = writer / "content"
        written = sorted(p.relative_to(content).as_posix() for p in content.rglob("*.py"))
        assert (
            "lambda_function.py" in written and "examples/pydantic_app/app.py" in written
        ), written
        assert not [p for p in written if p.startswith(("pydantic", "annotated_types"))], written
        assert (writer / "__lambda_part/third-party.zip").is_file(), sorted(writer.iterdir())
    finally:
        for sandbox in executed.values():
            rmtree(Path(sandbox))
