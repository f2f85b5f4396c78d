"""The fields a function or a layer is built from; the function's also serve `pants run`."""

from __future__ import annotations

from dataclasses import dataclass

from pants.backend.python.target_types import PythonResolveField
from pants.core.goals.package import PackageFieldSet
from pants.core.goals.run import RunFieldSet, RunInSandboxBehavior
from pants.core.util_rules.environments import EnvironmentField

from pants_aws_lambda.runtimes.platform_rules import LambdaPlatformRequest
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
)


@dataclass(frozen=True)
class _LambdaFieldSet(PackageFieldSet):
    runtime: PythonAwsLambdaRuntimeField
    architecture: PythonAwsLambdaArchitectureField
    complete_platforms: PythonAwsLambdaCompletePlatformsField
    include_requirements: PythonAwsLambdaIncludeRequirementsField
    bytecode: PythonAwsLambdaBytecodeField
    exclude: PythonAwsLambdaExcludeField
    output_path: PythonAwsLambdaOutputPathField
    layout: PythonAwsLambdaLayoutField
    resolve: PythonResolveField
    environment: EnvironmentField

    def platform_request(self) -> LambdaPlatformRequest:
        return LambdaPlatformRequest(
            self.address, self.runtime, self.architecture, self.complete_platforms, self.resolve
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
