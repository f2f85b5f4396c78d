"""`pants package` for `python_aws_lambda_function` and `python_aws_lambda_layer`.

Both go through the same mechanism (`artifact_rules`); this module adds what differs: the
function's handler check and re-export, the layer's `python/` prefix, a function's knowledge of its
layers, and Lambda's size limits.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from pants.backend.python.target_types import PythonResolveField
from pants.backend.python.util_rules import pex_from_targets
from pants.backend.python.util_rules.faas import (
    ResolvedPythonFaaSHandler,
    ResolvePythonFaaSHandlerRequest,
)
from pants.backend.python.util_rules.faas import rules as faas_rules
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, PackageFieldSet
from pants.core.util_rules.environments import EnvironmentField
from pants.engine.addresses import Address, Addresses, UnparsedAddressInputs
from pants.engine.fs import EMPTY_DIGEST, CreateDigest, Digest, FileContent
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    InvalidFieldException,
    WrappedTarget,
    WrappedTargetRequest,
)
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import artifact as artifact_rules
from pants_aws_lambda.artifact import limits
from pants_aws_lambda.handler import module_rules
from pants_aws_lambda.handler import names as handler_lib
from pants_aws_lambda.artifact.artifact import (
    LambdaArtifact,
    LambdaArtifactRequest,
    LambdaContent,
    LambdaContentRequest,
    LambdaPackagingError,
    Provided,
)
from pants_aws_lambda.build.field_sets import (
    PythonAwsLambdaFunctionFieldSet,
    PythonAwsLambdaLayerFieldSet,
    _LambdaFieldSet,
)
from pants_aws_lambda.handler.module_rules import ModuleAnalysis, ModuleAnalysisRequest
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform, LambdaPlatformRequest
from pants_aws_lambda.target_types import (
    BytecodeMode,
    Layout,
    PythonAwsLambdaArchitectureField,
    PythonAwsLambdaBytecodeField,
    PythonAwsLambdaCompletePlatformsField,
    PythonAwsLambdaExcludeField,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaIncludeRequirementsField,
    PythonAwsLambdaIncludeSourcesField,
    PythonAwsLambdaLayer,
    PythonAwsLambdaLayersField,
    PythonAwsLambdaLayoutField,
    PythonAwsLambdaOutputPathField,
    PythonAwsLambdaRuntimeField,
)

logger = logging.getLogger(__name__)

# Where Lambda unpacks a function's code, and the directory of a layer on `sys.path`.
LAMBDA_TASK_ROOT = "/var/task"
LAYER_PREFIX = "python"
LAYER_ROOT = f"/opt/{LAYER_PREFIX}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _size_line(artifact: LambdaArtifact, with_layers: int | None = None) -> str:
    zipped = artifact.zip
    together = f" ({limits.format_bytes(with_layers)} with its layers)" if with_layers is not None else ""
    unzipped = f"{limits.format_bytes(zipped.unzipped_bytes)} unzipped"
    size = (
        f"{limits.format_bytes(zipped.zipped_bytes)} zipped, {unzipped}"
        if zipped.zipped_bytes is not None
        else f"{unzipped} (flat layout)"
    )
    return (
        f"    Size: {size}{together}; "
        f"{_count(zipped.files, 'file')}, {_count(len(artifact.distributions), 'third-party distribution')}"
    )


def _report_lines(platform: LambdaPlatform, artifact: LambdaArtifact) -> list[str]:
    lines = [f"    Runtime: {platform.description}"]
    version = ".".join(map(str, platform.python_version))
    lines.append(
        f"    Bytecode: {_count(artifact.bytecode_modules, 'module')} compiled for CPython {version}"
        if artifact.bytecode_modules
        else "    Bytecode: none"
    )
    if artifact.excluded_files:
        lines.append(
            f"    Excluded: {_count(artifact.excluded_files, 'file')}, "
            f"{limits.format_bytes(artifact.excluded_bytes)} saved by `exclude`"
        )
    if artifact.omitted_distributions or artifact.omitted_first_party:
        by_layer: dict[str, list[str]] = {}
        for layer, dist in artifact.omitted_distributions:
            by_layer.setdefault(layer, []).append(dist)
        provided = [f"{', '.join(dists)} (layer {layer})" for layer, dists in sorted(by_layer.items())]
        if artifact.omitted_first_party:
            provided.append(_count(artifact.omitted_first_party, "first-party file"))
        lines.append(f"    Left out, provided by layers: {'; '.join(provided)}")
    return lines


def _layout_lines(field_set: _LambdaFieldSet, output_path: str, destination: str) -> list[str]:
    if field_set.layout.layout is not Layout.FLAT:
        return []
    return [f"    Layout: flat directory, for a Dockerfile's `COPY {output_path} {destination}`"]


def split_regular_packages(function_files: frozenset[str], layer_files: frozenset[str]) -> list[str]:
    """Regular packages (with `__init__.py`) that would have modules in both function and layer.

    A regular package is a single directory: Python will not look for its modules in another
    `sys.path` entry, so the part on the other side cannot be imported.
    """
    inits = {f[: -len("/__init__.py")] for f in function_files | layer_files if f.endswith("/__init__.py")}
    split = []
    for package in sorted(inits):
        below = f"{package}/"
        in_function = any(f.startswith(below) for f in function_files)
        in_layer = any(f.startswith(below) for f in layer_files)
        if in_function and in_layer:
            split.append(package.replace("/", "."))
    return split


def _warn_if_too_big_to_upload(address: Address, artifact: LambdaArtifact, output_path: str) -> None:
    zipped_bytes = artifact.zip.zipped_bytes
    if zipped_bytes is not None and zipped_bytes > limits.DIRECT_UPLOAD_ZIPPED_BYTES.value:
        logger.warning(
            softwrap(
                f"""
                {address}: {output_path} is {limits.format_exact(zipped_bytes)}
                zipped, over Lambda's {limits.DIRECT_UPLOAD_ZIPPED_BYTES.what}
                ({limits.DIRECT_UPLOAD_ZIPPED_BYTES.value:,} bytes): upload it to S3
                and deploy from there (e.g. `aws lambda update-function-code --s3-bucket ...`).
                """
            )
        )


def _check_unzipped_size(
    address: Address, artifact: LambdaArtifact, layers: tuple[BuiltLayer, ...]
) -> int:
    total = artifact.zip.unzipped_bytes + sum(layer.artifact.zip.unzipped_bytes for layer in layers)
    # A `flat` artifact goes into a container image, which has its own, larger limit.
    limit = limits.UNZIPPED_BYTES if artifact.zip.zipped_bytes is not None else limits.CONTAINER_IMAGE_BYTES
    if total <= limit.value:
        return total
    sizes: dict[str, int] = {}
    owners: dict[str, str] = {}
    for source, built, suffix in [(address, artifact, "")] + [
        (layer.address, layer.artifact, f" in layer {layer.address}") for layer in layers
    ]:
        artifact_owners = dict(built.owners)
        for top, size in built.zip.top_level:
            key = f"{top}{suffix}"
            sizes[key] = size
            if top in artifact_owners:
                owners[key] = f"{artifact_owners[top]}{suffix}"
            else:
                owners[key] = f"{top}{'/' if '.' not in top else ''} (first-party{suffix})"
    listing = "\n".join(
        f"  - {label}: {limits.format_bytes(size)}" for label, size in limits.size_breakdown(sizes, owners)
    )
    with_layers = f" together with its layers {', '.join(str(l.address) for l in layers)}" if layers else ""
    raise LambdaPackagingError(
        f"{address} is {limits.format_exact(total)} unzipped{with_layers}, over Lambda's limit of "
        f"{limit.what} ({limit.value:,} bytes). The largest "
        f"parts:\n{listing}\n"
        "Cut what the function does not need: drop requirements, move shared ones to a layer that "
        "other functions share, or leave files out with the `exclude` field (e.g. `boto3/**`, "
        "which the runtime provides). A container image allows up to 10 GiB."
    )


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltLayer:
    address: Address
    platform: LambdaPlatform
    artifact: LambdaArtifact
    output_path: str


@rule(desc="Building an AWS Lambda layer", level=LogLevel.DEBUG)
async def build_layer(field_set: PythonAwsLambdaLayerFieldSet) -> BuiltLayer:
    platform = await Get(LambdaPlatform, LambdaPlatformRequest, field_set.platform_request())
    content = await Get(
        LambdaContent,
        LambdaContentRequest(
            field_set.address,
            platform,
            field_set.resolve,
            include_requirements=field_set.include_requirements.value,
            include_sources=field_set.include_sources.value,
        ),
    )
    output_path = field_set.artifact_path()
    artifact = await Get(
        LambdaArtifact,
        LambdaArtifactRequest(
            field_set.address,
            what="layer",
            platform=platform,
            content=content,
            generated=EMPTY_DIGEST,
            bytecode=field_set.bytecode.mode,
            exclude=tuple(field_set.exclude.value or ()),
            protected=(),
            provided=Provided(),
            prefix=LAYER_PREFIX,
            runtime_root=LAYER_ROOT,
            output_path=output_path,
            layout=field_set.layout.layout,
        ),
    )
    return BuiltLayer(field_set.address, platform, artifact, output_path)


@rule(desc="Packaging an AWS Lambda layer", level=LogLevel.DEBUG)
async def package_python_aws_lambda_layer(field_set: PythonAwsLambdaLayerFieldSet) -> BuiltPackage:
    layer = await Get(BuiltLayer, PythonAwsLambdaLayerFieldSet, field_set)
    _check_unzipped_size(field_set.address, layer.artifact, ())
    _warn_if_too_big_to_upload(field_set.address, layer.artifact, layer.output_path)
    return BuiltPackage(
        digest=layer.artifact.zip.digest,
        artifacts=(
            BuiltPackageArtifact(
                layer.output_path,
                extra_log_lines=(
                    f"    Layer: everything under {LAYER_PREFIX}/ (on sys.path as {LAYER_ROOT})",
                    *_layout_lines(field_set, layer.output_path, "/opt"),
                    *_report_lines(layer.platform, layer.artifact),
                    _size_line(layer.artifact),
                ),
            ),
        ),
    )


@dataclass(frozen=True)
class FunctionLayersRequest:
    address: Address
    field: PythonAwsLambdaLayersField
    platform: LambdaPlatform


@dataclass(frozen=True)
class FunctionLayers:
    layers: tuple[BuiltLayer, ...]

    def provided(self) -> Provided:
        return Provided(
            distributions=tuple(
                (dist.name, dist.version, str(layer.address))
                for layer in self.layers
                for dist in layer.artifact.distributions
            ),
            first_party_files=frozenset(
                f for layer in self.layers for f in layer.artifact.first_party_files
            ),
        )


@rule
async def resolve_function_layers(request: FunctionLayersRequest) -> FunctionLayers:
    if not request.field.value:
        return FunctionLayers(())
    addresses = await Get(Addresses, UnparsedAddressInputs, request.field.to_unparsed_address_inputs())
    wrapped = await MultiGet(
        Get(
            WrappedTarget,
            WrappedTargetRequest(
                address, description_of_origin=f"the `layers` field of {request.address}"
            ),
        )
        for address in addresses
    )
    for w in wrapped:
        if not isinstance(w.target, PythonAwsLambdaLayer):
            raise InvalidFieldException(
                softwrap(
                    f"""
                    The `{PythonAwsLambdaLayersField.alias}` field of {request.address} lists
                    {w.target.address}, a `{w.target.alias}` target; it takes
                    `{PythonAwsLambdaLayer.alias}` targets only.
                    """
                )
            )
    layers = await MultiGet(
        Get(BuiltLayer, PythonAwsLambdaLayerFieldSet, PythonAwsLambdaLayerFieldSet.create(w.target))
        for w in wrapped
    )
    for layer in layers:
        if layer.platform.compatible_tags != request.platform.compatible_tags:
            raise InvalidFieldException(
                softwrap(
                    f"""
                    {request.address} is built for {request.platform.description}, but its layer
                    {layer.address} is built for {layer.platform.description}: Lambda would load
                    the layer's wheels into a runtime they were not built for. Give both the same
                    `runtime` and `architecture`.
                    """
                )
            )
    return FunctionLayers(tuple(layers))


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandlerShimRequest:
    field_set: PythonAwsLambdaFunctionFieldSet
    handler: ResolvedPythonFaaSHandler
    content: LambdaContent
    platform: LambdaPlatform


@dataclass(frozen=True)
class HandlerShim:
    digest: Digest
    module_file: str


@rule
async def check_handler_and_render_shim(request: HandlerShimRequest) -> HandlerShim:
    """Check the handler statically and return the digest of the `lambda_function.py` shim."""
    field_set, handler, content = request.field_set, request.handler, request.content
    platform = request.platform
    alias = PythonAwsLambdaHandlerField.alias
    where = f"The `{alias}` field of {field_set.address} is {field_set.handler.value!r}"
    candidates = handler_lib.module_file_candidates(handler.module)
    module_entry = next(
        (e for c in candidates for e in content.first_party if e.path == c), None
    )
    if module_entry is None:
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, but its module `{handler.module}` ({' or '.join(candidates)} under a
                source root) is not among the target's first-party sources. Check the spelling,
                or add the target that owns the module to `dependencies`.
                """
            )
        )
    module_file = module_entry.path
    version = ".".join(map(str, platform.python_version))
    analysis = await Get(
        ModuleAnalysis,
        ModuleAnalysisRequest(field_set.address, module_entry, platform.python_version),
    )
    if analysis.problem is not None:
        at = f" at line {analysis.problem.line}" if analysis.problem.line is not None else ""
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, but {module_file} does not parse with Python {version}, the Python of
                {platform.description} (checked with {analysis.checked_with}){at}:
                {analysis.problem.message}. Fix the code, or keep to the syntax that Python
                {version} supports (a newer `runtime` supports newer syntax).
                """
            )
        )
    if not analysis.exact and field_set.bytecode.mode == BytecodeMode.NONE:
        if analysis.unchecked:
            how = softwrap(
                f"""
                which cannot parse it (it may use syntax newer than that Python): whether it
                defines `{handler.func}` is not checked
                """
            )
        elif platform.python_version > sys.version_info[:2]:
            how = f"whose grammar is older than that of Python {version}"
        else:
            how = f"with the grammar of Python {version} as far as that Python knows it"
        logger.warning(
            softwrap(
                f"""
                {field_set.address}: no CPython {version} on the interpreter search path, so the
                handler's module {module_file} is checked with {analysis.checked_with}, {how};
                with `bytecode="none"`, the other first-party sources are not compiled, so a
                syntax error in them shows only when Lambda imports them. Install CPython
                {version} where Pants looks for interpreters (`[python-bootstrap].search_path`) to
                check the handler's module with the runtime's grammar, and use
                `bytecode="compiled"` to check every first-party source.
                """
            )
        )
    names = analysis.names
    if names is None:
        names = handler_lib.ModuleNames(frozenset(), open_ended=True)
    if not names.may_define(handler.func):
        defined = sorted(n for n in names.names if not n.startswith("_"))
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, but `{handler.module}` ({module_file}) defines no top-level
                `{handler.func}`. It defines: {', '.join(defined) or 'nothing public'}. Fix the
                function name after the `:`.
                """
            )
        )

    shim = handler_lib.render_shim(handler.module, handler.func)
    reexport = f"{handler_lib.REEXPORTED_HANDLER_MODULE}.py"
    if shim is None:
        if handler.func != handler_lib.REEXPORTED_HANDLER_FUNC:
            raise InvalidFieldException(
                softwrap(
                    f"""
                    {where}: the module `{handler_lib.REEXPORTED_HANDLER_MODULE}` is where the
                    artifact re-exports the handler as
                    `{handler_lib.REEXPORTED_HANDLER_MODULE}.{handler_lib.REEXPORTED_HANDLER_FUNC}`.
                    Rename the function to `{handler_lib.REEXPORTED_HANDLER_FUNC}`, or move it to
                    a module with another name.
                    """
                )
            )
        return HandlerShim(EMPTY_DIGEST, module_file)
    if reexport in content.first_party_files:
        raise InvalidFieldException(
            softwrap(
                f"""
                {where}, and the target also has a first-party top-level `{reexport}`, the file
                the artifact uses to re-export the handler. Rename that module, or make it the
                handler (`{reexport}:{handler_lib.REEXPORTED_HANDLER_FUNC}`).
                """
            )
        )
    digest = await Get(Digest, CreateDigest([FileContent(reexport, shim.encode())]))
    return HandlerShim(digest, module_file)


@rule(desc="Packaging an AWS Lambda function", level=LogLevel.DEBUG)
async def package_python_aws_lambda_function(
    field_set: PythonAwsLambdaFunctionFieldSet,
) -> BuiltPackage:
    platform, handler = await MultiGet(
        Get(LambdaPlatform, LambdaPlatformRequest, field_set.platform_request()),
        Get(ResolvedPythonFaaSHandler, ResolvePythonFaaSHandlerRequest(field_set.handler)),
    )
    content, layers = await MultiGet(
        Get(
            LambdaContent,
            LambdaContentRequest(
                field_set.address,
                platform,
                field_set.resolve,
                include_requirements=field_set.include_requirements.value,
                include_sources=True,
            ),
        ),
        Get(FunctionLayers, FunctionLayersRequest(field_set.address, field_set.layers, platform)),
    )
    shim = await Get(HandlerShim, HandlerShimRequest(field_set, handler, content, platform))
    output_path = field_set.artifact_path()
    artifact = await Get(
        LambdaArtifact,
        LambdaArtifactRequest(
            field_set.address,
            what="function",
            platform=platform,
            content=content,
            generated=shim.digest,
            bytecode=field_set.bytecode.mode,
            exclude=tuple(field_set.exclude.value or ()),
            protected=((shim.module_file, f"the module of the handler `{field_set.handler.value}`"),),
            provided=layers.provided(),
            prefix="",
            runtime_root=LAMBDA_TASK_ROOT,
            output_path=output_path,
            layout=field_set.layout.layout,
        ),
    )
    split = split_regular_packages(artifact.first_party_files, layers.provided().first_party_files)
    if split:
        logger.warning(
            softwrap(
                f"""
                {field_set.address}: the regular packages {', '.join(split)} have modules both in
                the function and in its layers. A package with an `__init__.py` lives in one
                directory, so on Lambda the modules on the other side cannot be imported. Remove
                the `__init__.py` files (namespace packages span the function and its layers), or
                give the shared library a top-level package of its own.
                """
            )
        )
    total = _check_unzipped_size(field_set.address, artifact, layers.layers)
    _warn_if_too_big_to_upload(field_set.address, artifact, output_path)
    handler_line = (
        f"    Handler: {handler_lib.REEXPORTED_HANDLER_MODULE}."
        f"{handler_lib.REEXPORTED_HANDLER_FUNC} (calls {handler.module}:{handler.func})"
    )
    layer_lines = (
        [f"    Layers: {', '.join(str(layer.address) for layer in layers.layers)}"]
        if layers.layers
        else []
    )
    return BuiltPackage(
        digest=artifact.zip.digest,
        artifacts=(
            BuiltPackageArtifact(
                output_path,
                extra_log_lines=(
                    handler_line,
                    *_layout_lines(field_set, output_path, "${LAMBDA_TASK_ROOT}"),
                    *_report_lines(platform, artifact),
                    *layer_lines,
                    _size_line(artifact, total if layers.layers else None),
                ),
            ),
        ),
    )


def rules():
    return (
        *collect_rules(),
        *artifact_rules.rules(),
        *module_rules.rules(),
        *faas_rules(),
        *pex_from_targets.rules(),
        UnionRule(PackageFieldSet, PythonAwsLambdaFunctionFieldSet),
        UnionRule(PackageFieldSet, PythonAwsLambdaLayerFieldSet),
    )
