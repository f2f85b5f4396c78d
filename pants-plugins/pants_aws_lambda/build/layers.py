"""Layers: building one, and the layers a function lists, checked against the function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pants.engine.addresses import Address, Addresses, UnparsedAddressInputs
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import InvalidFieldException, WrappedTarget, WrappedTargetRequest
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import artifact
from pants_aws_lambda.artifact.artifact import ArtifactKind, LambdaArtifact, LambdaArtifactRequest
from pants_aws_lambda.artifact.content import LambdaContent, LambdaContentRequest
from pants_aws_lambda.artifact.selection import LayerDistribution, Provided
from pants_aws_lambda.build.field_sets import PythonAwsLambdaLayerFieldSet
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform, LambdaPlatformRequest
from pants_aws_lambda.target_types import PythonAwsLambdaLayer, PythonAwsLambdaLayersField


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
        LambdaContentRequest,
        field_set.content_request(platform, include_sources=field_set.include_sources.value),
    )
    request = field_set.artifact_request(ArtifactKind.LAYER, platform, content)
    artifact = await Get(LambdaArtifact, LambdaArtifactRequest, request)
    output_path = request.output_path
    return BuiltLayer(field_set.address, platform, artifact, output_path)


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
                LayerDistribution(dist.name, dist.version, str(layer.address))
                for layer in self.layers
                for dist in layer.artifact.distributions
            ),
            first_party_files=frozenset(
                f for layer in self.layers for f in layer.artifact.first_party_files
            ),
        )

    def split_regular_packages(self, function_files: frozenset[str]) -> list[str]:
        """Regular packages (with `__init__.py`) with modules in both the function and its layers.

        A regular package is a single directory: Python will not look for its modules in another
        `sys.path` entry, so the part on the other side cannot be imported.
        """
        layer_files = self.provided().first_party_files
        files = function_files | layer_files
        inits = {f[: -len("/__init__.py")] for f in files if f.endswith("/__init__.py")}
        split = []
        for package in sorted(inits):
            below = f"{package}/"
            in_function = any(f.startswith(below) for f in function_files)
            in_layer = any(f.startswith(below) for f in layer_files)
            if in_function and in_layer:
                split.append(package.replace("/", "."))
        return split


@rule
async def resolve_function_layers(request: FunctionLayersRequest) -> FunctionLayers:
    if not request.field.value:
        return FunctionLayers(())
    addresses = await Get(
        Addresses, UnparsedAddressInputs, request.field.to_unparsed_address_inputs()
    )
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


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *artifact.rules())
