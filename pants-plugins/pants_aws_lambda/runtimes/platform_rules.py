"""Which platform a Lambda target builds for: runtime, architecture and PEX complete platforms."""

from __future__ import annotations

import datetime
import json
import logging
import pkgutil
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import PythonResolveField
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import CompletePlatforms
from pants.engine.addresses import Address, UnparsedAddressInputs
from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.target import InvalidFieldException
from pants.option.option_types import StrOption
from pants.option.subsystem import Subsystem
from pants.util.frozendict import FrozenDict
from pants.util.strutil import help_text, softwrap

from pants_aws_lambda.facts.architectures import ARCHITECTURES, LambdaArchitecture
from pants_aws_lambda.facts.python_version import PythonVersion
from pants_aws_lambda.facts.runtimes import (
    DATES_CHECKED_ON,
    RUNTIMES,
    LambdaRuntime,
    runtime_for_python_version,
)
from pants_aws_lambda.runtimes import complete_platforms as cp
from pants_aws_lambda.target_types import (
    PythonAwsLambdaArchitectureField,
    PythonAwsLambdaCompletePlatformsField,
    PythonAwsLambdaRuntimeField,
)

logger = logging.getLogger(__name__)

_PLATFORMS_DIR = "__lambda_platforms"


class LambdaRuntimesSubsystem(Subsystem):
    options_scope = "lambda-runtimes"
    help = help_text(
        f"""
        What `package` and `run` check a Lambda target's runtime against: AWS's deprecation
        dates, from the plugin's runtime table (last compared with AWS's runtimes page on
        {DATES_CHECKED_ON}).
        """
    )

    today = StrOption(
        # The day Pants started: the rules themselves never read the clock.
        default=datetime.date.today().isoformat(),
        default_help_repr="the day Pants started",
        advanced=True,
        help=softwrap(
            """
            The day (YYYY-MM-DD) a runtime's deprecation is checked against: a runtime AWS
            deprecates on or before it gets a warning. Set it to see which of your targets a
            coming deprecation will reach, or to make logs independent of the day.
            """
        ),
    )

    def today_date(self) -> datetime.date:
        try:
            return datetime.date.fromisoformat(self.today)
        except ValueError:
            raise ValueError(
                f"`[{self.options_scope}].today` is {self.today!r}, not a day as YYYY-MM-DD (e.g. "
                "2026-12-06)."
            )


@dataclass(frozen=True)
class LambdaPlatformRequest:
    address: Address
    runtime: PythonAwsLambdaRuntimeField
    architecture: PythonAwsLambdaArchitectureField
    complete_platforms: PythonAwsLambdaCompletePlatformsField
    resolve: PythonResolveField


@dataclass(frozen=True)
class LambdaPlatform:
    """What a Lambda target builds for."""

    # None when the target gives its own complete platforms.
    runtime: LambdaRuntime | None
    architecture: LambdaArchitecture | None
    python_version: PythonVersion
    complete_platforms: CompletePlatforms
    # The union of the complete platforms' tags, most preferred first.
    compatible_tags: tuple[str, ...]
    marker_environment: FrozenDict[str, str]

    @property
    def description(self) -> str:
        if self.runtime is None:
            return f"the complete platforms {', '.join(self.complete_platforms)}"
        return f"{self.runtime.name} on {self.architecture.name if self.architecture else None}"


def builtin_complete_platform(runtime: LambdaRuntime, architecture: str) -> FileContent:
    """The committed complete platform file for a runtime and architecture."""
    name = cp.file_name(runtime.name, architecture)
    content = pkgutil.get_data("pants_aws_lambda.runtimes", f"platforms/{name}")
    assert content is not None, f"The plugin ships no complete platform {name}."
    return FileContent(f"{_PLATFORMS_DIR}/{name}", content)


def infer_runtime(address: Address, resolve: str, ics: InterpreterConstraints) -> LambdaRuntime:
    versions = ics.partition_into_major_minor_versions(
        [str(runtime.python_version) for runtime in RUNTIMES.values()]
    )
    if len(versions) == 1:
        runtime = runtime_for_python_version(PythonVersion.parse(versions[0]))
        assert runtime is not None
        return runtime
    allowed = (
        f"the Lambda Python versions {', '.join(versions)}"
        if versions
        else "no Lambda Python version"
    )
    raise InvalidFieldException(
        softwrap(
            f"""
            The target {address} does not set the `{PythonAwsLambdaRuntimeField.alias}` field,
            and it cannot be inferred: the interpreter constraints of its resolve `{resolve}`
            ({ics}) allow {allowed},
            not exactly one. Set `{PythonAwsLambdaRuntimeField.alias}` to one of
            {', '.join(RUNTIMES)}, or pin the resolve to one version with
            `[python].resolves_to_interpreter_constraints`.
            """
        )
    )


def _check_one_file(request: LambdaPlatformRequest, contents: DigestContents) -> FileContent:
    if len(contents) != 1:
        listed = f": {', '.join(c.path for c in contents)}" if contents else ""
        raise InvalidFieldException(
            softwrap(
                f"""
                The `{PythonAwsLambdaCompletePlatformsField.alias}` field of {request.address}
                must name exactly one `file` target holding a PEX complete platform JSON file
                (a Lambda function runs on one platform), but it yields
                {len(contents)} files{listed}.
                Note that `resource` targets are not read for this field: use `file`.
                """
            )
        )
    return contents[0]


def _given_platform(
    request: LambdaPlatformRequest, platforms: CompletePlatforms, content: FileContent
) -> LambdaPlatform:
    """The platform of the target's own complete platform file."""
    try:
        parsed = json.loads(content.content)
        tags = tuple(dict.fromkeys(parsed["compatible_tags"]))
        markers = dict(parsed["marker_environment"])
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidFieldException(
            softwrap(
                f"""
                The `{PythonAwsLambdaCompletePlatformsField.alias}` field of {request.address}
                names {content.path}, which is not a PEX complete platform JSON file
                (an object with `marker_environment` and `compatible_tags`): {e}.
                Generate one with `pex3 interpreter inspect --markers --tags`.
                """
            )
        )
    return LambdaPlatform(
        runtime=None,
        architecture=None,
        python_version=PythonVersion.parse(markers.get("python_version", "3.0")),
        complete_platforms=platforms,
        compatible_tags=tags,
        marker_environment=FrozenDict(markers),
    )


def _runtime(request: LambdaPlatformRequest, python_setup: PythonSetup) -> LambdaRuntime:
    """The `runtime` field's, or the one runtime the resolve's interpreter constraints allow."""
    if request.runtime.value is not None:
        return RUNTIMES[request.runtime.value]
    resolve = request.resolve.normalized_value(python_setup)
    ics = InterpreterConstraints(
        python_setup.resolves_to_interpreter_constraints.get(
            resolve, python_setup.interpreter_constraints
        )
    )
    return infer_runtime(request.address, resolve, ics)


def deprecation_warning(
    address: Address, runtime: LambdaRuntime, today: datetime.date
) -> str | None:
    """The warning for a target whose runtime AWS has deprecated by `today`; None before that."""
    deprecation = runtime.deprecation_message(today)
    if deprecation is None:
        return None
    return softwrap(
        f"""
        {address}: {deprecation} Packaging anyway; move to a supported runtime
        ({', '.join(r.name for r in RUNTIMES.values() if not r.is_deprecated(today))}).
        """
    )


@rule
async def resolve_lambda_platform(
    request: LambdaPlatformRequest, python_setup: PythonSetup, runtimes: LambdaRuntimesSubsystem
) -> LambdaPlatform:
    if request.complete_platforms.value:
        platforms = await Get(
            CompletePlatforms,
            UnparsedAddressInputs,
            request.complete_platforms.to_unparsed_address_inputs(),
        )
        contents = await Get(DigestContents, Digest, platforms.digest)
        return _given_platform(request, platforms, _check_one_file(request, contents))

    runtime = _runtime(request, python_setup)
    warning = deprecation_warning(request.address, runtime, runtimes.today_date())
    if warning is not None:
        logger.warning(warning)
    architecture = ARCHITECTURES[request.architecture.value_or_default()]
    platform_file = builtin_complete_platform(runtime, architecture.name)
    digest = await Get(Digest, CreateDigest([platform_file]))
    platform = json.loads(platform_file.content)
    return LambdaPlatform(
        runtime=runtime,
        architecture=architecture,
        python_version=runtime.python_version,
        complete_platforms=CompletePlatforms([platform_file.path], digest=digest),
        compatible_tags=tuple(platform["compatible_tags"]),
        marker_environment=FrozenDict(platform["marker_environment"]),
    )


def rules() -> Iterable[Rule]:
    return collect_rules()
