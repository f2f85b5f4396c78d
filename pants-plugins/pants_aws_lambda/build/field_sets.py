"""The fields a function or a layer is built from; the function's also serve `pants run`."""

from __future__ import annotations

from dataclasses import dataclass

from pants.backend.python.target_types import PythonResolveField
from pants.core.goals.package import PackageFieldSet
from pants.core.goals.run import RunFieldSet, RunInSandboxBehavior
from pants.engine.fs import EMPTY_DIGEST, Digest

from pants_aws_lambda.artifact.artifact import ArtifactKind, LambdaArtifactRequest
from pants_aws_lambda.artifact.content import LambdaContent, LambdaContentRequest
from pants_aws_lambda.artifact.selection import ProtectedFile, Provided
from pants_aws_lambda.pants_compat import EnvironmentField
from pants_aws_lambda.runtimes.platform_rules import LambdaPlatform, LambdaPlatformRequest
from pants_aws_lambda.target_types import (
    Layout,
    PythonAwsLambdaArchitectureField,
    PythonAwsLambdaBytecodeField,
    PythonAwsLambdaCompletePlatformsField,
    PythonAwsLambdaExcludeField,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaIncludeRequirementsField,
    PythonAwsLambdaIncludeSourcesField,
    PythonAwsLambdaLayersField,
    PythonAwsLambdaLayoutField,
    PythonAwsLambdaOutputPathField,
    PythonAwsLambdaRuntimeField,
    PythonAwsLambdaSlimField,
)


@dataclass(frozen=True)
class _LambdaFieldSet(PackageFieldSet):
    runtime: PythonAwsLambdaRuntimeField
    architecture: PythonAwsLambdaArchitectureField
    complete_platforms: PythonAwsLambdaCompletePlatformsField
    include_requirements: PythonAwsLambdaIncludeRequirementsField
    bytecode: PythonAwsLambdaBytecodeField
    slim: PythonAwsLambdaSlimField
    exclude: PythonAwsLambdaExcludeField
    output_path: PythonAwsLambdaOutputPathField
    layout: PythonAwsLambdaLayoutField
    resolve: PythonResolveField
    environment: EnvironmentField

    def platform_request(self) -> LambdaPlatformRequest:
        return LambdaPlatformRequest(
            self.address, self.runtime, self.architecture, self.complete_platforms, self.resolve
        )

    def content_request(
        self, platform: LambdaPlatform, *, include_sources: bool
    ) -> LambdaContentRequest:
        return LambdaContentRequest(
            self.address,
            platform,
            self.resolve,
            include_requirements=self.include_requirements.value,
            include_sources=include_sources,
        )

    def artifact_request(
        self,
        kind: ArtifactKind,
        platform: LambdaPlatform,
        content: LambdaContent,
        *,
        generated: Digest = EMPTY_DIGEST,
        protected: tuple[ProtectedFile, ...] = (),
        provided: Provided = Provided(),
        layers_unzipped_bytes: int = 0,
    ) -> LambdaArtifactRequest:
        return LambdaArtifactRequest(
            self.address,
            kind=kind,
            platform=platform,
            content=content,
            generated=generated,
            bytecode=self.bytecode.mode,
            exclude=tuple(self.exclude.value or ()),
            protected=protected,
            provided=provided,
            output_path=self.artifact_path(),
            layout=self.layout.layout,
            layers_unzipped_bytes=layers_unzipped_bytes,
            slim=self.slim.value,
        )

    def artifact_path(self) -> str:
        """The zip file, or the directory of the `flat` layout (the same path without `.zip`)."""
        flat = self.layout.layout is Layout.FLAT
        return self.output_path.value_or_default(file_ending=None if flat else "zip")


@dataclass(frozen=True)
class PythonAwsLambdaFunctionFieldSet(_LambdaFieldSet, RunFieldSet):
    required_fields = (PythonAwsLambdaHandlerField,)
    # `pants run` calls the handler from the built artifact, outside any sandbox.
    run_in_sandbox_behavior = RunInSandboxBehavior.NOT_SUPPORTED

    handler: PythonAwsLambdaHandlerField
    layers: PythonAwsLambdaLayersField


@dataclass(frozen=True)
class PythonAwsLambdaLayerFieldSet(_LambdaFieldSet):
    required_fields = (PythonAwsLambdaIncludeSourcesField,)

    include_sources: PythonAwsLambdaIncludeSourcesField
