"""The `python_aws_lambda_function` target and its fields."""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Optional

from pants.backend.python.target_types import PexCompletePlatformsField, PythonResolveField
from pants.backend.python.util_rules.faas import PythonFaaSDependencies, PythonFaaSHandlerField
from pants.core.goals.package import OutputPathField
from pants.engine.addresses import Address
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    BoolField,
    InvalidFieldException,
    InvalidTargetException,
    SpecialCasedDependencies,
    StringField,
    StringSequenceField,
    Target,
    TriBoolField,
)
from pants.util.strutil import help_text, softwrap

from pants_aws_lambda.facts import quotas
from pants_aws_lambda.facts.architectures import ARCHITECTURES, DEFAULT_ARCHITECTURE
from pants_aws_lambda.facts.handler_names import REEXPORTED_HANDLER_FUNC, REEXPORTED_HANDLER_MODULE
from pants_aws_lambda.facts.runtimes import RUNTIMES
from pants_aws_lambda.pants_compat import EnvironmentField


def _runtime_table() -> str:
    rows = []
    for runtime in RUNTIMES.values():
        dates = f"AWS deprecation {runtime.deprecation_on}" + (
            f", creating blocked {runtime.create_blocked_on}" if runtime.create_blocked_on else ""
        )
        rows.append(f"  - `{runtime.name}`: {runtime.os}, glibc {runtime.glibc} " f"({dates})")
    return "\n".join(rows)


class PythonAwsLambdaHandlerField(PythonFaaSHandlerField):
    help = help_text(
        f"""
        The function Lambda calls, as `path/to/file.py:func` (the file relative to this BUILD
        file) or `dotted.module:func`.

        The handler's module is inferred as a dependency. At package time the module must be
        among the target's transitive sources and define `func` at its top level; this is
        checked without importing it.

        Whatever you write here, the artifact re-exports it as
        `{REEXPORTED_HANDLER_MODULE}.{REEXPORTED_HANDLER_FUNC}`: configure that as the handler
        in AWS.
        """
    )

    @classmethod
    def compute_value(cls, raw_value: Optional[str], address: Address) -> str:
        # Skip the base class's check: this one says more.
        value = super(PythonFaaSHandlerField, cls).compute_value(raw_value, address)
        # A required field: the base class refuses a missing value.
        assert value is not None
        module, _, func = value.rpartition(":")
        if not module or not func.isidentifier():
            raise InvalidFieldException(
                softwrap(
                    f"""
                    The `{cls.alias}` field in target {address} must be
                    `path/to/file.py:func` or `dotted.module:func`, with `func` a Python
                    identifier, but was {value!r}.
                    """
                )
            )
        return value


class PythonAwsLambdaRuntimeField(StringField):
    alias = "runtime"
    default = None
    valid_choices = tuple(RUNTIMES)
    help = help_text(
        f"""
        The AWS Lambda runtime to build for: one of {', '.join(f'`{r}`' for r in RUNTIMES)}.

        It fixes the CPython version and the glibc that third-party wheels must be compatible
        with, so that a wheel built for the build machine can never slip in:

        {_runtime_table()}

        Deprecated runtimes still package, with a warning that gives AWS's dates.

        When unset (and `{PexCompletePlatformsField.alias}` is unset too), the runtime is
        inferred from the interpreter constraints of the target's resolve, which must then
        allow exactly one Python minor version.
        """
    )

    @classmethod
    def compute_value(cls, raw_value: Optional[str], address: Address) -> Optional[str]:
        if raw_value is not None and raw_value not in RUNTIMES:
            raise InvalidFieldException(
                softwrap(
                    f"""
                    The `{cls.alias}` field in target {address} is {raw_value!r}, which is not a
                    Python runtime of AWS Lambda. Use one of:
                    {', '.join(RUNTIMES)}.
                    """
                )
            )
        return super().compute_value(raw_value, address)


class PythonAwsLambdaArchitectureField(StringField):
    alias = "architecture"
    # None stands for DEFAULT_ARCHITECTURE, so that setting it next to `complete_platforms` is seen.
    default = None
    valid_choices = tuple(ARCHITECTURES)
    help = help_text(
        f"""
        The CPU the artifact runs on: `x86_64` or `arm64` (AWS Graviton). Third-party wheels are
        chosen for it (`arm64` is `aarch64` in wheel tags). When unset, `{DEFAULT_ARCHITECTURE}`,
        Lambda's default. Setting it together with `complete_platforms` is an error: the complete
        platform says which CPU to build for.
        """
    )

    def value_or_default(self) -> str:
        return self.value or DEFAULT_ARCHITECTURE


class PythonAwsLambdaCompletePlatformsField(PexCompletePlatformsField):
    help = help_text(
        f"""
        The address of a `file` target holding a PEX complete platform JSON file (`pex3
        interpreter inspect --markers --tags` prints one for an interpreter), to build for
        instead of a Lambda runtime.

        This is an escape hatch for a runtime this plugin does not know yet: it replaces
        `{PythonAwsLambdaRuntimeField.alias}` and `{PythonAwsLambdaArchitectureField.alias}`,
        so setting it together with `{PythonAwsLambdaRuntimeField.alias}` is an error.
        """
    )


class PythonAwsLambdaIncludeRequirementsField(BoolField):
    alias = "include_requirements"
    default = True
    help = help_text(
        """
        Whether to put the third-party requirements the target depends on into the artifact.
        On a function, set it to `False` to ship first-party code only (a function that lists
        its layers in `layers` already leaves out what they provide).
        """
    )


class BytecodeMode(Enum):
    AUTO = "auto"
    COMPILED = "compiled"
    ONLY = "only"
    NONE = "none"


class PythonAwsLambdaBytecodeField(StringField):
    alias = "bytecode"
    default = BytecodeMode.AUTO.value
    valid_choices = BytecodeMode
    help = help_text(
        f"""
        Whether to ship Python bytecode, compiled by the CPython of the runtime's minor version.

        Lambda's task root is read-only, so without valid bytecode every module is compiled
        again at every cold start. The bytecode is hash-based (PEP 552), so it stays valid
        although the zip's timestamps are fixed, and builds stay reproducible.

          - `auto` (default): `compiled` whenever the artifact fits Lambda's
            {quotas.UNZIPPED_BYTES.stated} unzipped (counted with the function's layers); when it
            would not, third-party distributions become sourceless bytecode while first-party
            sources keep theirs, and if that still does not fit, third-party distributions ship
            as sources without bytecode. The package log says what it did and the bytes saved.
            The `flat` layout (container images) is always `compiled`.
          - `compiled`: `.py` files plus `__pycache__/*.pyc`, whatever the size.
          - `only`: sourceless `.pyc` in place of `.py`: the smallest artifact, but tracebacks
            show no source lines.
          - `none`: sources only.

        The interpreter is looked up on `[python-bootstrap].search_path`; when it is missing,
        packaging goes on without bytecode and warns how to provide one.
        """
    )

    @property
    def mode(self) -> BytecodeMode:
        return BytecodeMode(self.value)


class PythonAwsLambdaSlimField(TriBoolField):
    alias = "slim"
    default = None
    help = help_text(
        """
        Whether to leave out of third-party distributions what no import reaches, and strip
        their shared objects, then prove the artifact still works. Unset: `[aws-lambda].slim`
        (default `False`).

        Left out: test suites (`tests/` and `test/` directories of a distribution's packages,
        `conftest.py`), type stubs (`.pyi`), C/C++ sources and headers, Cython sources (`.pyx`,
        `.pxd`, `.pxi`) and build-only files (static libraries `.a`, pkg-config `.pc`, Fortran
        sources). Shared objects are stripped of symbols that loading does not need (`llvm-strip
        --strip-unneeded`, for x86_64 and arm64 alike). Metadata (`*.dist-info`) and first-party
        files are never touched.

        The proof: the runtime's CPython for the artifact's CPU (natively, or under QEMU as
        `pants run` uses it, see `[lambda-invoke]`) imports every extension module and every
        top-level module of the slimmed distributions, and `importlib.metadata` must find every
        distribution at its version. A shared object whose import fails stripped is kept
        unstripped, a distribution whose import fails slimmed is kept as it was, and the log
        names them. When nothing here can run the runtime's CPython, slim is refused. The log
        reports the bytes saved per kind.
        """
    )


class Layout(Enum):
    ZIP = "zip"
    FLAT = "flat"


class PythonAwsLambdaLayoutField(StringField):
    alias = "layout"
    default = Layout.ZIP.value
    valid_choices = Layout
    help = help_text(
        f"""
        How the artifact is written:

          - `zip` (default): a `.zip` file to upload to Lambda.
          - `flat`: the same files as an unpacked directory (the output path without `.zip`),
            for container images: a Dockerfile copies it with
            `COPY path.to/name ${{LAMBDA_TASK_ROOT}}` (a layer keeps its `python/` directory, so
            `COPY path.to/layer /opt`), with no `unzip` step in the image. A `docker_image` that
            depends on the target gets the directory in its build context.

        Container images are limited to {quotas.CONTAINER_IMAGE_BYTES.stated} rather than the
        {quotas.UNZIPPED_BYTES.stated} of zip deployments.
        """
    )

    @property
    def layout(self) -> Layout:
        return Layout(self.value)


class PythonAwsLambdaOutputPathField(OutputPathField):
    help = help_text(
        f"""
        {OutputPathField.help}

        The default ends in `.zip`; with `{PythonAwsLambdaLayoutField.alias}="flat"` it is a
        directory, without the ending.
        """
    )


class PythonAwsLambdaDependenciesField(PythonFaaSDependencies):
    pass


class PythonAwsLambdaExcludeField(StringSequenceField):
    alias = "exclude"
    default = ()
    help = help_text(
        f"""
        Glob patterns of files to leave out of the artifact on purpose, matched against paths
        relative to the directory Lambda puts on `sys.path` (the zip root of a function, `python/`
        of a layer): `*` and `?` stay within one path segment, `**` spans segments. For example
        `["boto3/**", "botocore/**"]` (the runtime has its own) or `["**/tests/**"]`.

        The package log says how many bytes this saved. Leaving out a module the code imports is
        your call; leaving out the handler's own module is an error. Lambda's size limits
        ({quotas.UNZIPPED_BYTES.what}) apply to what remains.
        """
    )


class PythonAwsLambdaLayersField(SpecialCasedDependencies):
    alias = "layers"
    help = help_text(
        f"""
        Addresses of `python_aws_lambda_layer` targets this function is deployed with (at most
        {quotas.LAYERS_PER_FUNCTION.value}, Lambda's limit).

        Whatever a layer provides (a distribution at the same version, or the same first-party
        file) is left out of the function's artifact; a distribution at another version in the
        function and a layer is an error. Runtime and architecture must match each layer's. The
        size limit counts the function and its layers together.
        """
    )


class PythonAwsLambdaFunction(Target):
    alias = "python_aws_lambda_function"
    deprecated_alias: ClassVar[str | None] = "python_awslambda"
    deprecated_alias_removal_version: ClassVar[str | None] = "3.0.0.dev0"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        PythonAwsLambdaHandlerField,
        PythonAwsLambdaRuntimeField,
        PythonAwsLambdaArchitectureField,
        PythonAwsLambdaCompletePlatformsField,
        PythonAwsLambdaIncludeRequirementsField,
        PythonAwsLambdaBytecodeField,
        PythonAwsLambdaSlimField,
        PythonAwsLambdaOutputPathField,
        PythonAwsLambdaLayoutField,
        PythonAwsLambdaExcludeField,
        PythonAwsLambdaLayersField,
        PythonResolveField,
        PythonAwsLambdaDependenciesField,
        EnvironmentField,
    )
    help = help_text(
        f"""
        A Python function for AWS Lambda, packaged as a zip laid out as AWS expects.

        `pants package` writes a zip with your first-party code and every third-party
        distribution at its root, built from wheels compatible with the `runtime`'s CPython,
        glibc and CPU, plus `{REEXPORTED_HANDLER_MODULE}.py`, so the handler to configure is
        always `{REEXPORTED_HANDLER_MODULE}.{REEXPORTED_HANDLER_FUNC}`. Builds are byte-for-byte
        reproducible.
        """
    )

    def validate(self) -> None:
        _validate_platform_fields(self)
        layers = self[PythonAwsLambdaLayersField].value or ()
        if len(layers) > quotas.LAYERS_PER_FUNCTION.value:
            raise InvalidFieldException(
                softwrap(
                    f"""
                    The `{PythonAwsLambdaLayersField.alias}` field of {self.address} lists
                    {len(layers)} layers; Lambda allows {quotas.LAYERS_PER_FUNCTION.value} per
                    function. Merge some of them into one layer.
                    """
                )
            )


class PythonAwsLambdaIncludeSourcesField(BoolField):
    alias = "include_sources"
    default = True
    help = help_text(
        """
        Whether to put the first-party sources (and resources) this layer depends on into it.
        Set to `False` for a layer of third-party requirements only.
        """
    )


class PythonAwsLambdaLayerDependenciesField(PythonAwsLambdaDependenciesField):
    required = True
    help = help_text(
        """
        What the layer holds: `python_requirement` targets and first-party sources, with their
        transitive dependencies. `!` and `!!` excludes work as for other targets.
        """
    )


class PythonAwsLambdaLayer(Target):
    alias = "python_aws_lambda_layer"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        PythonAwsLambdaRuntimeField,
        PythonAwsLambdaArchitectureField,
        PythonAwsLambdaCompletePlatformsField,
        PythonAwsLambdaIncludeRequirementsField,
        PythonAwsLambdaIncludeSourcesField,
        PythonAwsLambdaBytecodeField,
        PythonAwsLambdaSlimField,
        PythonAwsLambdaOutputPathField,
        PythonAwsLambdaLayoutField,
        PythonAwsLambdaExcludeField,
        PythonResolveField,
        PythonAwsLambdaLayerDependenciesField,
        EnvironmentField,
    )
    help = help_text(
        f"""
        A Lambda layer of Python code: third-party distributions and first-party libraries
        shared by several functions.

        `pants package` writes a zip with everything under `python/`, the directory the Python
        runtime puts on `sys.path` from `/opt`, built with the same guarantees as
        `{PythonAwsLambdaFunction.alias}` (compatible wheels only, bytecode for the runtime,
        reproducible bytes). List the layer in a function's `{PythonAwsLambdaLayersField.alias}`
        field to keep what it provides out of the function's artifact.
        """
    )

    def validate(self) -> None:
        _validate_platform_fields(self)


def _validate_platform_fields(target: Target) -> None:
    if target[PythonAwsLambdaCompletePlatformsField].value is None:
        return
    for field in (PythonAwsLambdaRuntimeField, PythonAwsLambdaArchitectureField):
        if target[field].value is None:
            continue
        raise InvalidTargetException(
            softwrap(
                f"""
                The target {target.address} sets both `{field.alias}` and
                `{PythonAwsLambdaCompletePlatformsField.alias}`, which choose the same thing in
                two ways. Drop `{PythonAwsLambdaCompletePlatformsField.alias}` to build for the
                Lambda runtime and architecture, or drop `{field.alias}` to build for the given
                complete platforms.
                """
            )
        )


def target_types() -> list[type[Target]]:
    return [PythonAwsLambdaFunction, PythonAwsLambdaLayer]
