"""A built function: its platform, handler, artifact and layers, checked against Lambda's limits.

`pants package` writes it; `pants run` calls its handler. Both consume this one result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.util_rules.faas import (
    ResolvedPythonFaaSHandler,
    ResolvePythonFaaSHandlerRequest,
)
from pants.engine.addresses import Address
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_aws_lambda.artifact import limits, remedies
from pants_aws_lambda.artifact.artifact import ArtifactKind, LambdaArtifact, LambdaArtifactRequest
from pants_aws_lambda.artifact.content import LambdaContent, LambdaContentRequest
from pants_aws_lambda.artifact.limits import LayerArtifact
from pants_aws_lambda.artifact.selection import ProtectedFile
from pants_aws_lambda.build import layers, shim
from pants_aws_lambda.build.field_sets import PythonAwsLambdaFunctionFieldSet
from pants_aws_lambda.build.layers import BuiltLayer, FunctionLayers, FunctionLayersRequest
from pants_aws_lambda.build.shim import HandlerShim, HandlerShimRequest
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform, LambdaPlatformRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuiltFunction:
    address: Address
    platform: LambdaPlatform
    handler: ResolvedPythonFaaSHandler
    artifact: LambdaArtifact
    # The zip file, or the directory of the `flat` layout, relative to `dist/`.
    output_path: str
    layers: tuple[BuiltLayer, ...]
    # Unzipped bytes of the function and its layers together.
    unzipped_with_layers: int


def _warn_if_packages_are_split(
    address: Address, artifact: LambdaArtifact, layers: FunctionLayers
) -> None:
    split = layers.split_regular_packages(artifact.first_party_files)
    if split:
        logger.warning(
            softwrap(
                f"""
                {address}: the regular packages {', '.join(split)} have modules both in
                the function and in its layers. A package with an `__init__.py` lives in one
                directory, so on Lambda the modules on the other side cannot be imported. Remove
                the `__init__.py` files (namespace packages span the function and its layers), or
                give the shared library a top-level package of its own.
                """
            )
        )


@rule(desc="Building an AWS Lambda function", level=LogLevel.DEBUG)
async def build_function(field_set: PythonAwsLambdaFunctionFieldSet) -> BuiltFunction:
    platform, handler = await MultiGet(
        Get(LambdaPlatform, LambdaPlatformRequest, field_set.platform_request()),
        Get(ResolvedPythonFaaSHandler, ResolvePythonFaaSHandlerRequest(field_set.handler)),
    )
    content, function_layers = await MultiGet(
        Get(
            LambdaContent,
            LambdaContentRequest,
            field_set.content_request(platform, include_sources=True),
        ),
        Get(FunctionLayers, FunctionLayersRequest(field_set.address, field_set.layers, platform)),
    )
    handler_shim = await Get(HandlerShim, HandlerShimRequest(field_set, handler, content, platform))
    handler_module = ProtectedFile(
        handler_shim.module_file,
        f"the module of the handler `{field_set.handler.value}`",
    )
    request = field_set.artifact_request(
        ArtifactKind.FUNCTION,
        platform,
        content,
        generated=handler_shim.digest,
        protected=(handler_module,),
        provided=function_layers.provided(),
        layers_unzipped_bytes=sum(
            layer.artifact.output.unzipped_bytes for layer in function_layers.layers
        ),
    )
    artifact = await Get(LambdaArtifact, LambdaArtifactRequest, request)
    output_path = request.output_path
    _warn_if_packages_are_split(field_set.address, artifact, function_layers)
    total = remedies.check_unzipped_size(
        field_set.address,
        artifact,
        [LayerArtifact(layer.address, layer.artifact) for layer in function_layers.layers],
    )
    limits.warn_if_too_big_to_upload(field_set.address, artifact.output, output_path)
    return BuiltFunction(
        field_set.address, platform, handler, artifact, output_path, function_layers.layers, total
    )


def rules() -> Iterable[Rule]:
    return (*collect_rules(), *layers.rules(), *shim.rules())
