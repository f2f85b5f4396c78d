"""A Lambda for today's runtimes: numpy, pydantic (pydantic-core), orjson and cryptography, all
compiled extensions, in the syntax of Python 3.12+ (a `type` alias, `match`, a PEP 701 f-string)."""

import hashlib
import sys

import cryptography
import numpy as np
import orjson
import pydantic
from cryptography.hazmat.primitives import hashes
from pydantic import BaseModel, Field

type Readings = list[float]


class Series(BaseModel):
    name: str = Field(min_length=1)
    readings: Readings = Field(min_length=1)


def summarize(series: Series) -> dict[str, object]:
    values = np.asarray(series.readings, dtype=np.float64)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(values.tobytes())
    return {
        "name": series.name,
        "mean": float(values.mean()),
        "max": float(values.max()),
        "sha256": digest.finalize().hex(),
    }


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    match event:
        case {"series": list(items)}:
            body = [summarize(Series.model_validate(item)) for item in items]
            status = 200
        case _:
            body = {"error": f"expected {"series"!r}: a list of {{name, readings}}"}
            status = 400
    return {
        "statusCode": status,
        # orjson's bytes, as the body an API Gateway proxy integration returns.
        "body": orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "versions": {
            "numpy": np.__version__,
            "pydantic": pydantic.VERSION,
            "orjson": orjson.__version__,
            "cryptography": cryptography.__version__,
        },
        "check": hashlib.sha256(b"lambda").hexdigest()[:8],
    }
