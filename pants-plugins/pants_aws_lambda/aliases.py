"""Which backend owns the Lambda target aliases when Pants' own Lambda backend is enabled too.

From Pants 2.18, `pants.backend.awslambda.python` registers `python_aws_lambda_function` and
`python_aws_lambda_layer` as this backend does (and `python_awslambda` on 2.17 to 2.20, which
this backend keeps as a deprecated alias). Pants resolves such an alias to the target type
registered last, without a word: BUILD files then get one backend's targets while the user may
expect the other's. This module says which backend owns each clashing alias and how to choose.

Pants has no hook that runs at start-up for a backend, so the warning rides on a rule every goal
that resolves dependencies runs (`package`, `run`, `test`, `dependencies`; not `list`):
`FieldDefaults`, which asks every `FieldDefaultFactoryRequest` member for its factory. The member
here is for a field no target has, so the factory is never used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

from pants.build_graph.build_configuration import BuildConfiguration
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.target import (
    FieldDefaultFactoryRequest,
    FieldDefaultFactoryResult,
    RegisteredTargetTypes,
    StringField,
)
from pants.engine.unions import UnionRule

logger = logging.getLogger(__name__)

PLUGIN_BACKEND = "pants_aws_lambda"
BUILTIN_BACKEND = "pants.backend.awslambda.python"
# The aliases both backends may register, in the order they are reported.
CLASHING_ALIASES = ("python_aws_lambda_function", "python_aws_lambda_layer", "python_awslambda")


def _backend(target_type: type, build_configuration: BuildConfiguration) -> str:
    if target_type.__module__.split(".")[0] == PLUGIN_BACKEND:
        return PLUGIN_BACKEND
    providers = [
        p
        for p in build_configuration.target_type_to_providers.get(target_type, ())
        if not p.startswith("_")
    ]
    return providers[0] if providers else target_type.__module__.rsplit(".", 1)[0]


@dataclass(frozen=True)
class AliasOwner:
    alias: str
    owner: str  # the backend whose target type the alias resolves to
    others: tuple[str, ...]  # the other backends that register the alias


@dataclass(frozen=True)
class AliasClashes:
    owners: tuple[AliasOwner, ...]

    def message(self) -> str | None:
        if not self.owners:
            return None
        lines = [
            "Pants' built-in Lambda backend and `pants_aws_lambda` both register Lambda target "
            "types; an alias belongs to the backend listed later in `[GLOBAL].backend_packages` "
            "(`python_awslambda` on Pants 2.17 always to the built-in one, whose main alias it is):"
        ]
        for owner in self.owners:
            lines.append(
                f"  `{owner.alias}`: {owner.owner}'s target (not {', '.join(owner.others)}'s)"
            )
        lines.append(
            f"To use this backend's targets, remove `{BUILTIN_BACKEND}` from "
            f"`[GLOBAL].backend_packages` (or list `{PLUGIN_BACKEND}` after it); to use Pants' "
            f"own, remove `{PLUGIN_BACKEND}`. "
            'See docs/migration.md, "Pants\' own Lambda backend".'
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class AliasClashesRequest:
    pass


@rule
async def find_alias_clashes(
    _: AliasClashesRequest,
    build_configuration: BuildConfiguration,
    registered: RegisteredTargetTypes,
) -> AliasClashes:
    owners = []
    for alias in CLASHING_ALIASES:
        winner = registered.aliases_to_types.get(alias)
        if winner is None:
            continue
        registering = [
            tt
            for tt in build_configuration.target_types
            if alias in (tt.alias, tt.deprecated_alias)
        ]
        owner = _backend(winner, build_configuration)
        others = tuple(
            dict.fromkeys(
                b
                for b in (
                    _backend(tt, build_configuration) for tt in registering if tt is not winner
                )
                if b != owner
            )
        )
        if others:
            owners.append(AliasOwner(alias, owner, others))
    return AliasClashes(tuple(owners))


class _AliasCheckField(StringField):
    """On no target: the field whose default factory runs the alias check."""

    alias = "_pants_aws_lambda_alias_check"
    help = "Not a field of any target."


class AliasCheckRequest(FieldDefaultFactoryRequest):
    field_type = _AliasCheckField


@rule
async def warn_alias_clashes(_: AliasCheckRequest) -> FieldDefaultFactoryResult:
    clashes = await Get(AliasClashes, AliasClashesRequest())
    message = clashes.message()
    if message:
        logger.warning(message)
    return FieldDefaultFactoryResult(lambda field: field.value)


def rules() -> Iterable[Rule | UnionRule]:
    return (*collect_rules(), UnionRule(FieldDefaultFactoryRequest, AliasCheckRequest))
