"""A data-science function: numpy, pandas and scipy together, the usual reason a Lambda zip nears
Lambda's 250 MiB limit.

The event holds readings per sensor; the handler returns, per sensor, the mean (pandas), a least
squares trend (numpy) and where the mean falls in a normal distribution of unit scale centred
on the expected value (scipy).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd
import scipy
from scipy import stats


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    frame = pd.DataFrame(
        [(sensor, float(v)) for sensor, values in event["readings"].items() for v in values],
        columns=["sensor", "value"],
    )
    expected = float(event.get("expected", 0.0))
    summary = {}
    for sensor, group in frame.groupby("sensor", sort=True):
        values = group["value"].to_numpy()
        slope, _ = np.polyfit(np.arange(len(values), dtype=float), values, 1)
        mean = float(group["value"].mean())
        summary[sensor] = {
            "mean": mean,
            "slope": round(float(slope), 9),
            "cdf": round(float(stats.norm.cdf(mean, loc=expected, scale=1.0)), 9),
        }
    return {
        "statusCode": 200,
        "python": "{}.{}".format(*sys.version_info[:2]),
        "summary": summary,
        "versions": {"numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__},
    }
