"""Which files of a target's content go into its artifact.

Distributions that the function's layers already provide are left out (a different version is an
error), then files that `exclude` matches, except the ones that must stay (the handler's module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from pants.engine.addresses import Address
from pants.engine.fs import FileEntry
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import globs
from pants_aws_lambda.artifact.content import LambdaContent
from pants_aws_lambda.errors import LambdaPackagingError
from pants_aws_lambda.requirements.wheels import Distribution


class LayerDistribution(NamedTuple):
    """A distribution that one of a function's layers holds."""

    # Canonical project name.
    name: str
    version: str
    # The address of the layer.
    layer: str


@dataclass(frozen=True)
class Provided:
    """What a function's layers already put on `sys.path`."""

    distributions: tuple[LayerDistribution, ...] = ()
    first_party_files: frozenset[str] = frozenset()


class OmittedDistribution(NamedTuple):
    """A distribution left out of an artifact because a layer already provides it."""

    # The address of the layer.
    layer: str
    # `name==version`.
    distribution: str


class ProtectedFile(NamedTuple):
    """A file that `exclude` must not drop (the handler's module)."""

    path: str
    # Why it must stay, e.g. "the module of the handler `app.handler`".
    why: str


class TopLevelOwner(NamedTuple):
    """A top-level entry of the artifact and the distribution it belongs to."""

    # `numpy`, `numpy.libs`, `numpy-2.2.0.dist-info`, `six.py`.
    entry: str
    # The distribution as `name==version`.
    distribution: str


@dataclass(frozen=True)
class Selection:
    # The wheels whose files are kept, sorted.
    wheels: tuple[str, ...]
    third_party: tuple[FileEntry, ...]
    first_party: tuple[FileEntry, ...]
    excluded_files: int
    excluded_bytes: int
    # What a layer already provides and so was left out.
    omitted_distributions: tuple[OmittedDistribution, ...]
    omitted_first_party: int

    @property
    def distributions(self) -> tuple[Distribution, ...]:
        return tuple(Distribution.from_wheel(w) for w in self.wheels)


def size(entry: FileEntry) -> int:
    return entry.file_digest.serialized_bytes_length


def _check_protected(
    address: Address, exclude: tuple[str, ...], protected: tuple[ProtectedFile, ...]
) -> None:
    patterns = [globs.glob_to_regex(p) for p in exclude]
    for path, why in protected:
        if globs.matches_any(path, patterns):
            raise LambdaPackagingError(
                softwrap(
                    f"""
                    The `exclude` field of {address} drops {path}, {why}. Narrow the
                    patterns ({', '.join(exclude)}) so they leave it in.
                    """
                )
            )


def _wheels_not_provided(
    address: Address, wheels: tuple[str, ...], provided: Provided
) -> tuple[set[str], list[OmittedDistribution]]:
    """The wheels to keep, and the distributions that layers provide instead."""
    provided_by_name = {d.name: d for d in provided.distributions}
    omitted: list[OmittedDistribution] = []
    keep: set[str] = set()
    for wheel in wheels:
        dist = Distribution.from_wheel(wheel)
        if dist.name not in provided_by_name:
            keep.add(wheel)
            continue
        held = provided_by_name[dist.name]
        if held.version != dist.version:
            raise LambdaPackagingError(
                softwrap(
                    f"""
                    {address} needs {dist.name} {dist.version}, but its layer {held.layer}
                    provides {dist.name} {held.version}. On Lambda the function's copy would shadow
                    the layer's for some modules and not others. Make both use one version (the
                    same resolve and lockfile), or drop the requirement from one of them.
                    """
                )
            )
        omitted.append(OmittedDistribution(held.layer, str(dist)))
    return keep, omitted


def select(
    address: Address,
    content: LambdaContent,
    exclude: tuple[str, ...],
    protected: tuple[ProtectedFile, ...],
    provided: Provided,
) -> Selection:
    _check_protected(address, exclude, protected)
    keep_wheels, omitted = _wheels_not_provided(address, content.third_party.wheels, provided)
    patterns = [globs.glob_to_regex(p) for p in exclude]
    excluded_files = excluded_bytes = omitted_first_party = 0
    third_party: list[FileEntry] = []
    for f in content.third_party.files:
        if f.wheel not in keep_wheels:
            continue
        if globs.matches_any(f.path, patterns):
            excluded_files += 1
            excluded_bytes += size(f.entry)
            continue
        third_party.append(f.entry)
    first_party: list[FileEntry] = []
    for e in content.first_party:
        if e.path in provided.first_party_files:
            omitted_first_party += 1
        elif globs.matches_any(e.path, patterns):
            excluded_files += 1
            excluded_bytes += size(e)
        else:
            first_party.append(e)
    return Selection(
        wheels=tuple(sorted(keep_wheels)),
        third_party=tuple(third_party),
        first_party=tuple(first_party),
        excluded_files=excluded_files,
        excluded_bytes=excluded_bytes,
        omitted_distributions=tuple(omitted),
        omitted_first_party=omitted_first_party,
    )


def owners(content: LambdaContent, selection: Selection) -> tuple[TopLevelOwner, ...]:
    """The kept distribution each third-party top-level entry belongs to, for the size breakdown."""
    kept = set(selection.wheels)
    found = {}
    for f in content.third_party.files:
        if f.wheel in kept:
            found[f.path.split("/", 1)[0]] = str(Distribution.from_wheel(f.wheel))
    return tuple(TopLevelOwner(entry, dist) for entry, dist in sorted(found.items()))
