"""Deploy artifacts through the Lambda API with boto3, from their metadata files.

Run by `deploy_test.py` with the deploy tools' Python (boto3 is not in the tests' environment):

    python lambda_api_client.py ENDPOINT DIST create|update METADATA...

`create` publishes every layer and creates every function with the metadata's handler, runtime,
architecture and layers; `update` calls UpdateFunctionCode for every function. Prints, as JSON,
what the API answered for each artifact: its CodeSha256 and CodeSize, and a function's settings.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

# The deploy tools' virtualenv has boto3 (untyped here), the tests' environment does not: imported
# by name, so that neither Pants nor mypy looks for it.
boto3 = importlib.import_module("boto3")

ROLE = "pants-aws-lambda-test"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def function_name(address: str) -> str:
    return address.replace("/", "-").replace(":", "-").replace(".", "-")[-64:]


def main(endpoint: str, dist: Path, action: str, metadata_files: list[str]) -> None:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    client = session.client("lambda", endpoint_url=endpoint)
    answers: dict[str, dict] = {}
    all_metadata = [json.loads((dist / name).read_text()) for name in metadata_files]
    functions = [m for m in all_metadata if m["kind"] == "function"]
    if action == "create":
        role = session.client("iam", endpoint_url=endpoint).create_role(
            RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST)
        )["Role"]["Arn"]
        layer_arns = {}
        for m in all_metadata:
            if m["kind"] != "layer":
                continue
            answer = client.publish_layer_version(
                LayerName=function_name(m["address"]),
                Content={"ZipFile": (dist / m["artifact"]).read_bytes()},
                CompatibleRuntimes=m["compatible_runtimes"],
                CompatibleArchitectures=m["compatible_architectures"],
            )
            layer_arns[m["artifact"]] = answer["LayerVersionArn"]
            answers[m["artifact"]] = {
                "CodeSha256": answer["Content"]["CodeSha256"],
                "CodeSize": answer["Content"]["CodeSize"],
            }
        for m in functions:
            answer = client.create_function(
                FunctionName=function_name(m["address"]),
                Role=role,
                Code={"ZipFile": (dist / m["artifact"]).read_bytes()},
                Handler=m["handler"],
                Runtime=m["runtime"],
                Architectures=[m["architecture"]],
                Layers=[layer_arns[layer["artifact"]] for layer in m["layers"]],
                Publish=False,
            )
            answers[m["artifact"]] = {
                key: answer.get(key)
                for key in ("CodeSha256", "CodeSize", "Handler", "Runtime", "Architectures")
            }
            answers[m["artifact"]]["Layers"] = [layer["Arn"] for layer in answer.get("Layers", [])]
            answers[m["artifact"]]["LayerArns"] = [
                layer_arns[layer["artifact"]] for layer in m["layers"]
            ]
    else:
        for m in functions:
            answer = client.update_function_code(
                FunctionName=function_name(m["address"]),
                ZipFile=(dist / m["artifact"]).read_bytes(),
            )
            answers[m["artifact"]] = {
                "CodeSha256": answer["CodeSha256"],
                "CodeSize": answer["CodeSize"],
            }
    print(json.dumps(answers, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4:])
