"""An AWS CDK app that deploys every Lambda function and layer `pants package` wrote.

It reads the `*.metadata.json` files beside the artifacts in `dist/` and takes everything from
them: the code (the zip itself, as a CDK asset), the handler, the runtime, the architecture and,
for a function, its layers. Nothing is repeated from the BUILD files.

    pants package ::
    cd src/python/examples/deploy/cdk && cdk synth   # or: python app.py

`PANTS_DIST` names another `dist/` directory (default: the repository's). CDK's asset hash of a
zip is the hash of its bytes, and the plugin's zips are byte-for-byte reproducible, so packaging
again without changes gives the same template and the same assets: nothing is redeployed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[5]
FORMAT_VERSION = 1


def load_metadata(dist: Path) -> list[dict]:
    found = []
    for path in sorted(dist.rglob("*.metadata.json")):
        data = json.loads(path.read_text())
        if data.get("format_version") != FORMAT_VERSION:
            raise SystemExit(f"{path}: format_version {data.get('format_version')}, this app reads {FORMAT_VERSION}")
        if data["package_type"] != "zip":
            continue  # `layout="flat"` trees go into container images, not zip deployments.
        found.append(data)
    return found


def construct_id(address: str) -> str:
    """A construct id from a Pants address: `src/python/examples/hello:lambda` -> `ExamplesHelloLambda`."""
    words = re.split(r"[^A-Za-z0-9]+", address.replace("src/python/", ""))
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def runtime(data: dict) -> lambda_.Runtime:
    if not data["runtime"]:
        raise SystemExit(f"{data['address']}: built for complete platforms, not a Lambda runtime")
    return lambda_.Runtime(data["runtime"], lambda_.RuntimeFamily.PYTHON)


def architecture(name: str) -> lambda_.Architecture:
    return lambda_.Architecture.custom(name)


class PantsLambdas(cdk.Stack):
    def __init__(self, scope: Construct, construct_id_: str, dist: Path, **kwargs) -> None:
        super().__init__(scope, construct_id_, **kwargs)
        artifacts = load_metadata(dist)
        layers: dict[str, lambda_.LayerVersion] = {}
        for data in artifacts:
            if data["kind"] != "layer":
                continue
            layers[data["artifact"]] = lambda_.LayerVersion(
                self,
                construct_id(data["address"]),
                code=lambda_.Code.from_asset(str(dist / data["artifact"])),
                compatible_runtimes=[
                    lambda_.Runtime(name, lambda_.RuntimeFamily.PYTHON) for name in data["compatible_runtimes"]
                ],
                compatible_architectures=[architecture(a) for a in data["compatible_architectures"]],
                description=data["address"],
            )
        for data in artifacts:
            if data["kind"] != "function":
                continue
            lambda_.Function(
                self,
                construct_id(data["address"]),
                code=lambda_.Code.from_asset(str(dist / data["artifact"])),
                handler=data["handler"],
                runtime=runtime(data),
                architecture=architecture(data["architecture"]),
                layers=[layers[layer["artifact"]] for layer in data["layers"]],
                description=data["address"],
            )


def main() -> None:
    dist = Path(os.environ.get("PANTS_DIST", REPO_ROOT / "dist")).resolve()
    app = cdk.App()
    PantsLambdas(app, "PantsLambdas", dist)
    app.synth()


if __name__ == "__main__":
    main()
