from __future__ import annotations
import json
from packaging.tags import parse_tag
def wheel_tags(filename):
    parts = filename[:-4].split("-")
    return frozenset(str(t) for t in parse_tag("-".join(parts[-3:])))
def is_compatible_wheel(filename, compatible_tags):
    return bool(wheel_tags(filename) & set(compatible_tags))
def load_lock(text):
    return json.loads("\n".join(l for l in text.splitlines() if not l.startswith("//")))
def find_incompatible_requirements(lock, requirements, marker_environment, compatible_tags):
    return ()
def describe_incompatible(problems, **kw):
    return "x"
