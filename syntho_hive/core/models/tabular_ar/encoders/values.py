"""JSON forms of cell values, dtypes and null markers (checkpoints hold no pickles).

Values are tagged so they come back with their Python type: ``["s", "x"]`` (str),
``["i", 3]`` (int), ``["f", 0.5]`` (float), ``["b", true]`` (bool), ``["t", "2020-01-01T00:00:00"]``
(timestamp). Anything else is stored as its string form (tag ``"s"``).
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import marker_from_json, marker_to_json  # re-exported

__all__ = ["value_to_json", "value_from_json", "value_key", "dtype_to_json", "dtype_from_json",
           "marker_to_json", "marker_from_json"]


def value_to_json(value: Any) -> list[Any]:
    """A tagged, JSON-serialisable form of one non-null cell value."""
    if isinstance(value, (bool, np.bool_)):
        return ["b", bool(value)]
    if isinstance(value, (int, np.integer)):
        return ["i", int(value)]
    if isinstance(value, (float, np.floating)):
        return ["f", float(value)]
    if isinstance(value, (pd.Timestamp, _dt.datetime, np.datetime64)):
        return ["t", pd.Timestamp(value).isoformat()]
    return ["s", str(value)]


def value_from_json(tagged: list[Any]) -> Any:
    """Inverse of :func:`value_to_json`."""
    tag, raw = tagged
    if tag == "b":
        return bool(raw)
    if tag == "i":
        return int(raw)
    if tag == "f":
        return float(raw)
    if tag == "t":
        return pd.Timestamp(raw)
    return str(raw)


def value_key(value: Any) -> str:
    """A canonical string key of a non-null value (stable across processes and partitions)."""
    return json.dumps(value_to_json(value), separators=(",", ":"))


def dtype_to_json(dtype: Any) -> dict[str, Any]:
    """A JSON description of a pandas/NumPy dtype (categories included for ``category``)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return {"name": "category", "ordered": bool(dtype.ordered),
                "categories": [value_to_json(v) for v in dtype.categories]}
    return {"name": str(dtype)}


def dtype_from_json(data: dict[str, Any]) -> Any:
    """Inverse of :func:`dtype_to_json`."""
    if data["name"] == "category":
        return pd.CategoricalDtype([value_from_json(v) for v in data["categories"]],
                                   ordered=bool(data["ordered"]))
    return pd.api.types.pandas_dtype(data["name"])
