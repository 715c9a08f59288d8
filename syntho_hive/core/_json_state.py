"""Exact, strict-JSON forms of cell values, dtypes and small frames (fitted state as plain data).

Cells keep their Python type: ``null``, booleans, integers, finite floats and strings are JSON
scalars; everything else is a one-key tagged object:

* ``{"f": "nan" | "inf" | "-inf"}`` - non-finite floats (strict JSON has no NaN);
* ``{"na": "NA" | "NaT"}`` - ``pd.NA`` / ``pd.NaT``;
* ``{"t": "2024-03-01T08:00:00+01:00", "tz": "Europe/Paris"}`` - timestamps, ISO with offset,
  plus the zone name when tz-aware;
* ``{"d": "2024-03-01"}`` - ``datetime.date``;
* ``{"dec": "12.50"}`` - ``decimal.Decimal`` (as SQL ``NUMERIC`` columns arrive).

Other cell types (tuples, arbitrary objects, ...) are refused with a :class:`SerializationError`
rather than stored lossily. Dtypes are stored by name (:func:`syntho_hive.core.data._dtypes.dtype_name`),
``category`` with its categories and order; a dtype whose name does not read back is refused.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import dtype_from_name, dtype_name, restore_objects
from syntho_hive.exceptions import SerializationError

__all__ = ["dtype_from_json", "dtype_to_json", "frame_from_json", "frame_to_json", "value_from_json",
           "value_to_json"]

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def value_to_json(value: Any, where: str) -> Any:
    """The strict-JSON form of one cell (see the module docstring).

    Args:
        value: A cell: ``None``, ``pd.NA``, ``pd.NaT``, bool, int, float, str, timestamp, date or
            decimal (NumPy scalars included).
        where: What the value belongs to, for the error message.

    Returns:
        A JSON scalar or a one-key tagged dict.

    Raises:
        SerializationError: For any other type of value.
    """
    if value is None:
        return None
    if value is pd.NA:
        return {"na": "NA"}
    if value is pd.NaT:
        return {"na": "NaT"}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number):
            return number
        return {"f": "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (pd.Timestamp, _dt.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        out = {"t": stamp.isoformat()}
        if stamp.tzinfo is not None:
            out["tz"] = str(stamp.tzinfo)
        return out
    if isinstance(value, _dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"dec": str(value)}
    raise SerializationError(
        f"{where} holds a value of type {type(value).__name__} ({value!r}) that cannot be stored as "
        "JSON; cast the column to str, int, float, bool or datetime before fitting.")


def value_from_json(data: Any, where: str) -> Any:
    """Inverse of :func:`value_to_json`.

    Raises:
        SerializationError: If ``data`` is not a form :func:`value_to_json` writes.
    """
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    try:
        if isinstance(data, dict) and len(data) == 1 and "f" in data:
            return _NON_FINITE[data["f"]]
        if isinstance(data, dict) and len(data) == 1 and "na" in data:
            return {"NA": pd.NA, "NaT": pd.NaT}[data["na"]]
        if isinstance(data, dict) and "t" in data and set(data) <= {"t", "tz"}:
            stamp = pd.Timestamp(data["t"])
            return stamp.tz_convert(data["tz"]) if "tz" in data else stamp
        if isinstance(data, dict) and len(data) == 1 and "d" in data:
            return _dt.date.fromisoformat(data["d"])
        if isinstance(data, dict) and len(data) == 1 and "dec" in data:
            return decimal.Decimal(data["dec"])
    except (KeyError, TypeError, ValueError, decimal.InvalidOperation) as exc:
        raise SerializationError(f"{where}: bad stored value {data!r} ({type(exc).__name__}: {exc}); "
                                 "the state is corrupt, save it again.") from exc
    raise SerializationError(f"{where}: unknown stored value {data!r}; the state is corrupt, save it again.")


def dtype_to_json(dtype: Any, where: str) -> dict[str, Any]:
    """A dtype by name (``category`` with its categories).

    Raises:
        SerializationError: If the name would not read back as the same dtype.
    """
    if isinstance(dtype, pd.CategoricalDtype):
        return {"name": "category", "ordered": bool(dtype.ordered),
                "categories": [value_to_json(v, f"{where} (categories)") for v in dtype.categories]}
    name = dtype_name(dtype)
    try:
        same = dtype_from_name(name) == dtype
    except (TypeError, ValueError):
        same = False
    if not same:
        raise SerializationError(f"{where} has dtype {dtype!r}, which cannot be stored by name; cast the "
                                 "column to a standard dtype (int64, float64, str, datetime64[ns, UTC]...).")
    return {"name": name}


def dtype_from_json(data: Any, where: str) -> Any:
    """Inverse of :func:`dtype_to_json`.

    Raises:
        SerializationError: If ``data`` does not name a dtype.
    """
    try:
        if data["name"] == "category":
            categories = [value_from_json(v, where) for v in data["categories"]]
            return pd.CategoricalDtype(categories, ordered=bool(data["ordered"]))
        return dtype_from_name(str(data["name"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SerializationError(f"{where}: bad stored dtype {data!r} ({type(exc).__name__}: {exc}); the "
                                 "state is corrupt, save it again.") from exc


def frame_to_json(frame: pd.DataFrame, where: str) -> dict[str, Any]:
    """A small frame column by column: names, dtypes and cells (index dropped).

    Raises:
        SerializationError: If a dtype or a cell cannot be stored (see above).
    """
    columns = [str(c) for c in frame.columns]
    return {
        "columns": columns,
        "dtypes": [dtype_to_json(frame[c].dtype, f"column {c!r} of {where}") for c in columns],
        "values": [[value_to_json(v, f"column {c!r} of {where}") for v in frame[c].astype(object)]
                   for c in columns],
    }


def frame_from_json(data: Any, where: str) -> pd.DataFrame:
    """Inverse of :func:`frame_to_json` (with a ``RangeIndex``).

    Raises:
        SerializationError: If ``data`` is malformed.
    """
    try:
        columns, dtypes, values = list(data["columns"]), list(data["dtypes"]), list(data["values"])
    except (KeyError, TypeError) as exc:
        raise SerializationError(f"{where}: stored frame lacks {exc}; the state is corrupt, save it again.") from exc
    lengths = {len(v) for v in values}
    if not (len(columns) == len(dtypes) == len(values)) or len(lengths) > 1:
        raise SerializationError(f"{where}: stored frame has {len(columns)} columns, {len(dtypes)} dtypes and "
                                 f"{len(values)} value lists of lengths {sorted(lengths)}; the state is corrupt.")
    out: dict[str, pd.Series] = {}
    for column, dtype_data, cells in zip(columns, dtypes, values):
        here = f"column {column!r} of {where}"
        dtype = dtype_from_json(dtype_data, here)
        objects = np.empty(len(cells), dtype=object)
        objects[:] = [value_from_json(v, here) for v in cells]
        if isinstance(dtype, np.dtype) and dtype == object:
            out[column] = pd.Series(objects, dtype=object, name=column)
            continue
        try:
            out[column] = restore_objects(objects, pd.isna(objects), dtype, None, column)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"{here}: stored values do not fit dtype {dtype} ({exc}); the state is "
                                     "corrupt, save it again.") from exc
    return pd.DataFrame(out, columns=columns)
