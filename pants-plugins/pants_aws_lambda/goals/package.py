"""`pants package` of `python_aws_lambda_function` and `python_aws_lambda_layer` targets.

The function or layer is built by `build/`; this module writes it to `dist/` and reports what it
holds: the handler to configure, the runtime, bytecode, what was left out, the size.
"""

from __future__ import annotations

from typing import Iterable

from pants.backend.python.util_rules import pex_from_targets
from pants.backend.python.util_rules.faas import rules as faas_rules
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, PackageFieldSet
from pants.engine.addresses import Address
from pants.engine.fs import CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.rules import Get, Rule, collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import pluralize

from pants_aws_lambda.artifact import bytecode_policy, limits, metadata, remedies, sizes, slimming
from pants_aws_lambda.artifact.artifact import ArtifactKind, LambdaArtifact
from pants_aws_lambda.build import function, runtime_provided
from pants_aws_lambda.build.field_sets import (
    PythonAwsLambdaFunctionFieldSet,
    PythonAwsLambdaLayerFieldSet,
)
from pants_aws_lambda.build.function import BuiltFunction
from pants_aws_lambda.build.layers import BuiltLayer
from pants_aws_lambda.build.runtime_provided import (
    RuntimeProvidedImports,
    RuntimeProvidedImportsRequest,
)
from pants_aws_lambda.facts.paths import LAYERS_ROOT
from pants_aws_lambda.facts.quotas import UNZIPPED_BYTES
from pants_aws_lambda.handler import reexport
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform
from pants_aws_lambda.target_types import Layout


def _size_line(artifact: LambdaArtifact, with_layers: int | None = None) -> str:
    zipped = artifact.output
    together = (
        f" ({sizes.format_bytes(with_layers)} with its layers)" if with_layers is not None else ""
    )
    unzipped = f"{sizes.format_bytes(zipped.unzipped_bytes)} unzipped"
    size = (
        f"{sizes.format_bytes(zipped.zipped_bytes)} zipped, {unzipped}"
        if zipped.zipped_bytes is not None
        else f"{unzipped} (flat layout)"
    )
    distributions = pluralize(len(artifact.distributions), "third-party distribution")
    return f"    Size: {size}{together}; {pluralize(zipped.files, 'file')}, {distributions}"


def _report_lines(platform: LambdaPlatform, artifact: LambdaArtifact) -> list[str]:
    lines = [f"    Runtime: {platform.description}"]
    version = str(platform.python_version)
    lines.append(
        f"    Bytecode: {pluralize(artifact.bytecode_modules, 'module')} compiled for "
        f"CPython {version}"
        if artifact.bytecode_modules
        else "    Bytecode: none"
    )
    if artifact.auto_choice is not None:
        auto = bytecode_policy.log_line(
            artifact.auto_choice, sizes.format_bytes, UNZIPPED_BYTES.value
        )
        if auto:
            lines.append(f"    {auto}")
    if artifact.excluded_files:
        lines.append(
            f"    Excluded: {pluralize(artifact.excluded_files, 'file')}, "
            f"{sizes.format_bytes(artifact.excluded_bytes)} saved by `exclude`"
        )
    lines.extend(_slim_lines(artifact))
    if artifact.omitted_distributions or artifact.omitted_first_party:
        by_layer: dict[str, list[str]] = {}
        for omitted in artifact.omitted_distributions:
            by_layer.setdefault(omitted.layer, []).append(omitted.distribution)
        provided = [
            f"{', '.join(dists)} (layer {layer})" for layer, dists in sorted(by_layer.items())
        ]
        if artifact.omitted_first_party:
            provided.append(pluralize(artifact.omitted_first_party, "first-party file"))
        lines.append(f"    Left out, provided by layers: {'; '.join(provided)}")
    return lines


def _slim_lines(artifact: LambdaArtifact) -> list[str]:
    report = artifact.slim
    if report is None:
        return []
    lines = [
        f"    Slim: {slimming.describe_savings(report.saved)}",
        f"    Slim proof: {report.proof}",
    ]
    lines.extend(f"    Slim kept: {item} {why}" for item, why in report.kept)
    return lines


def _layout_lines(layout: Layout, output_path: str, destination: str) -> list[str]:
    if layout is not Layout.FLAT:
        return []
    return [f"    Layout: flat directory, for a Dockerfile's `COPY {output_path} {destination}`"]


def _facts(address: Address, artifact: LambdaArtifact, output_path: str) -> metadata.ArtifactFacts:
    written = artifact.output
    return metadata.ArtifactFacts(
        address=str(address),
        output_path=output_path,
        zipped_bytes=written.zipped_bytes,
        unzipped_bytes=written.unzipped_bytes,
        files=written.files,
        sha256=written.sha256,
    )


def _hash_line(facts: metadata.ArtifactFacts) -> str:
    if facts.is_zip:
        return f"    CodeSha256: {metadata.code_sha256(facts.sha256)}"
    return f"    Tree SHA-256: {facts.sha256}"


def _platform_names(platform: LambdaPlatform) -> tuple[str | None, str | None]:
    return (platform.runtime.name if platform.runtime else None), (
        platform.architecture.name if platform.architecture else None
    )


async def _built_package(
    artifact: LambdaArtifact, facts: metadata.ArtifactFacts, data: dict, *log_lines: str
) -> BuiltPackage:
    """The artifact and its metadata file, in one digest."""
    metadata_file = metadata.metadata_path(facts.output_path)
    metadata_digest = await Get(
        Digest, CreateDigest([FileContent(metadata_file, metadata.render(data))])
    )
    digest = await Get(Digest, MergeDigests([artifact.output.digest, metadata_digest]))
    return BuiltPackage(
        digest=digest,
        artifacts=(
            BuiltPackageArtifact(
                facts.output_path, extra_log_lines=(*log_lines, _hash_line(facts))
            ),
            BuiltPackageArtifact(metadata_file),
        ),
    )


@rule(desc="Packaging an AWS Lambda layer", level=LogLevel.DEBUG)
async def package_python_aws_lambda_layer(field_set: PythonAwsLambdaLayerFieldSet) -> BuiltPackage:
    layer = await Get(BuiltLayer, PythonAwsLambdaLayerFieldSet, field_set)
    remedies.check_unzipped_size(field_set.address, layer.artifact)
    limits.warn_if_too_big_to_upload(field_set.address, layer.artifact.output, layer.output_path)
    kind = ArtifactKind.LAYER
    facts = _facts(field_set.address, layer.artifact, layer.output_path)
    return await _built_package(
        layer.artifact,
        facts,
        metadata.layer_metadata(facts, *_platform_names(layer.platform)),
        f"    Layer: everything under {kind.import_root}/ (on sys.path as {kind.runtime_root})",
        *_layout_lines(field_set.layout.layout, layer.output_path, LAYERS_ROOT),
        *_report_lines(layer.platform, layer.artifact),
        _size_line(layer.artifact),
    )


@rule(desc="Packaging an AWS Lambda function", level=LogLevel.DEBUG)
async def package_python_aws_lambda_function(
    field_set: PythonAwsLambdaFunctionFieldSet,
) -> BuiltPackage:
    built = await Get(BuiltFunction, PythonAwsLambdaFunctionFieldSet, field_set)
    # What to configure as the function's handler: the re-export, which calls the target's handler.
    handler = f"{reexport.REEXPORTED_HANDLER_MODULE}.{reexport.REEXPORTED_HANDLER_FUNC}"
    wrapped_handler = f"{built.handler.module}:{built.handler.func}"
    handler_line = f"    Handler: {handler} (calls {wrapped_handler})"
    layer_lines = (
        [f"    Layers: {', '.join(str(layer.address) for layer in built.layers)}"]
        if built.layers
        else []
    )
    provided = await Get(
        RuntimeProvidedImports,
        RuntimeProvidedImportsRequest(
            field_set.address, (built.artifact, *(layer.artifact for layer in built.layers))
        ),
    )
    # What the artifact relies on the runtime for (`/var/runtime`): `pants run` provides it too.
    provided_lines = (
        [f"    Provided by the runtime: {', '.join(provided.modules)}"] if provided.modules else []
    )
    facts = _facts(field_set.address, built.artifact, built.output_path)
    data = metadata.function_metadata(
        facts,
        *_platform_names(built.platform),
        handler=handler,
        wrapped_handler=wrapped_handler,
        layers=[_facts(layer.address, layer.artifact, layer.output_path) for layer in built.layers],
    )
    return await _built_package(
        built.artifact,
        facts,
        data,
        handler_line,
        *_layout_lines(field_set.layout.layout, built.output_path, "${LAMBDA_TASK_ROOT}"),
        *_report_lines(built.platform, built.artifact),
        *layer_lines,
        *provided_lines,
        _size_line(built.artifact, built.unzipped_with_layers if built.layers else None),
    )


def rules() -> Iterable[Rule | UnionRule]:
    return (
        *collect_rules(),
        *function.rules(),
        *runtime_provided.rules(),
        *faas_rules(),
        *pex_from_targets.rules(),
        UnionRule(PackageFieldSet, PythonAwsLambdaFunctionFieldSet),
        UnionRule(PackageFieldSet, PythonAwsLambdaLayerFieldSet),
    )
