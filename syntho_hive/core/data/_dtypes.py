"""Dtype bookkeeping: remember a column's storage type and null marker, restore them exactly.

Encoders decode to plain NumPy arrays (floats, integers or Python objects plus a null mask);
these helpers turn such arrays back into a :class:`pandas.Series` with the dtype the
training column had (``int64``, ``Int64``, ``float32``, ``bool``, ``boolean``, ``category``,
``object``, ``string``/``str``, ``datetime64`` with or without timezone).
"""

from __future__ import annotations

import math
from typing import Any

from decimal import Decimal

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_float_dtype, is_integer_dtype

__all__ = ["null_marker", "restore_objects", "restore_numbers", "decimal_places", "restore_decimals", "is_integer_like_dtype", "dtype_name",
           "dtype_from_name", "marker_to_json", "marker_from_json"]


def null_marker(series: pd.Series) -> Any:
    """The value an ``object`` column uses for missing entries (``None``, ``nan``, ``pd.NA``...).

    Args:
        series: The training column.

    Returns:
        The first null value found in an ``object`` column, ``None`` when the column has
        no nulls or another dtype (whose own missing value is then used on restore).
    """
    if series.dtype != object:
        return None
    nulls = series[series.isna()]
    if nulls.empty:
        return None
    return nulls.iloc[0]


def marker_to_json(marker: Any) -> str | None:
    """The JSON form of an object column's null marker (see :func:`null_marker`).

    Args:
        marker: ``None``, ``pd.NA``, ``pd.NaT`` or a float NaN.

    Returns:
        ``"NA"``, ``"NaT"``, ``"nan"`` or ``None`` (any other marker reads back as ``None``).
    """
    if marker is None:
        return None
    if marker is pd.NA:
        return "NA"
    if marker is pd.NaT:
        return "NaT"
    if isinstance(marker, float) and math.isnan(marker):
        return "nan"
    return None


def marker_from_json(data: str | None) -> Any:
    """Inverse of :func:`marker_to_json`."""
    return {"NA": pd.NA, "NaT": pd.NaT, "nan": float("nan")}.get(data) if data else None


#: :func:`dtype_name` of ``pd.ArrowDtype(pa.string())`` (``str()`` of which names ``StringDtype("pyarrow")``).
_ARROW_STRING = "string[pyarrow, ArrowDtype]"


def dtype_name(dtype: Any) -> str:
    """A string naming ``dtype`` that :func:`dtype_from_name` turns back into it.

    ``category`` loses its categories (callers needing them must store them besides the name);
    a ``string`` dtype keeps its storage (``string[pyarrow]``).
    """
    if isinstance(dtype, pd.StringDtype):
        return f"string[{dtype.storage}]"
    if isinstance(dtype, pd.ArrowDtype) and str(dtype) == "string[pyarrow]":
        return _ARROW_STRING  # its own name reads back as StringDtype("pyarrow"), another dtype
    return str(dtype)


def dtype_from_name(name: str) -> Any:
    """The pandas/NumPy dtype named ``name`` (see :func:`dtype_name`).

    Raises:
        TypeError: If ``name`` names no dtype.
    """
    if name == _ARROW_STRING:
        import pyarrow as pa

        return pd.ArrowDtype(pa.string())
    return pd.api.types.pandas_dtype(name)


def is_integer_like_dtype(dtype: Any) -> bool:
    """``True`` for NumPy and pandas (nullable) integer dtypes, excluding booleans."""
    return is_integer_dtype(dtype) and not is_bool_dtype(dtype)


def restore_objects(values: np.ndarray, nulls: np.ndarray, dtype: Any, marker: Any,
                    name: Any) -> pd.Series:
    """Build a column of ``dtype`` from Python/NumPy objects.

    Args:
        values: Object array of decoded values (entries at ``nulls`` are ignored).
        nulls: Boolean mask of missing entries.
        dtype: The training column's dtype.
        marker: The training column's null marker for ``object`` columns.
        name: Column name.

    Returns:
        The restored column with a fresh ``RangeIndex``.
    """
    values = np.asarray(values, dtype=object).copy()
    has_nulls = bool(nulls.any())
    if isinstance(dtype, pd.CategoricalDtype):
        values[nulls] = np.nan
        cat = pd.Categorical(values, dtype=dtype)
        return pd.Series(cat, name=name)
    if isinstance(dtype, np.dtype):
        if dtype == object:
            values[nulls] = marker
            return pd.Series(values, dtype=object, name=name)
        if dtype.kind in "mM":
            values[nulls] = None
            return pd.Series(pd.to_datetime(list(values)) if dtype.kind == "M" else values,
                             name=name).astype(dtype)
        if has_nulls and dtype.kind in "biu":
            # Cannot hold missing values: fall back to the nullable twin of the dtype.
            values[nulls] = None
            nullable = "boolean" if dtype.kind == "b" else str(dtype).capitalize().replace("Uint", "UInt")
            return pd.Series(pd.array(values, dtype=nullable), name=name)
        if dtype.kind == "f":
            values[nulls] = np.nan
        return pd.Series(values.astype(dtype), name=name)
    # pandas extension dtypes: Int64, Float64, boolean, string, str, datetime64[ns, tz], ...
    values[nulls] = None
    return pd.Series(pd.array(values, dtype=dtype), name=name)


def restore_numbers(values: np.ndarray, nulls: np.ndarray, dtype: Any, marker: Any,
                    name: Any) -> pd.Series:
    """Build a numeric column of ``dtype`` from a float or int array.

    Args:
        values: Decoded values, already rounded to the column's precision.
        nulls: Boolean mask of missing entries.
        dtype: The training column's dtype.
        marker: The training column's null marker for ``object`` columns.
        name: Column name.

    Returns:
        The restored column with a fresh ``RangeIndex``.
    """
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf" and not nulls.any():
        return pd.Series(values.astype(dtype), name=name)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        out = values.astype(dtype)
        out[nulls] = np.nan
        return pd.Series(out, name=name)
    if is_integer_like_dtype(dtype) or is_float_dtype(dtype):
        obj = values.astype(object)
        if is_integer_like_dtype(dtype):
            obj = values.astype(np.int64).astype(object) if values.dtype.kind not in "iu" else obj
        obj[nulls] = None
        if isinstance(dtype, np.dtype):  # numpy int column that acquired nulls
            return restore_objects(obj, nulls, dtype, marker, name)
        return pd.Series(pd.array(obj, dtype=dtype), name=name)
    return restore_objects(values.astype(object), nulls, dtype, marker, name)


def decimal_places(series: pd.Series) -> int | None:
    """Digits after the point of an ``object`` column of :class:`decimal.Decimal` values.

    Such columns come from Parquet ``decimal128`` and SQL ``NUMERIC`` columns. They are modelled
    as numbers; this is the scale their values are written back with (see :func:`restore_decimals`).

    Args:
        series: A training column.

    Returns:
        The largest number of digits after the point among the values (``Decimal("5.10")``
        counts 2), or ``None`` when the column is not made of finite decimals.
    """
    if series.dtype != object:
        return None
    present = series.dropna()
    if present.empty or pd.api.types.infer_dtype(present, skipna=True) != "decimal":
        return None
    exponents = [value.as_tuple().exponent for value in pd.unique(present.to_numpy(dtype=object))]
    if not all(isinstance(e, int) for e in exponents):  # NaN / infinite decimals ("n", "F")
        return None
    return max(0, -min(exponents))


def restore_decimals(values: np.ndarray, nulls: np.ndarray, places: int, marker: Any, name: Any) -> pd.Series:
    """An ``object`` column of :class:`decimal.Decimal` values with ``places`` digits after the point.

    Args:
        values: Decoded floats (entries at ``nulls`` are ignored).
        nulls: Boolean mask of missing entries.
        places: Digits after the point (:func:`decimal_places` of the training column).
        marker: The training column's null marker.
        name: Column name.

    Returns:
        The column with a fresh ``RangeIndex``.
    """
    out = np.empty(len(values), dtype=object)
    out[nulls] = marker
    out[~nulls] = [Decimal(f"{value:.{places}f}") for value in np.asarray(values, dtype=np.float64)[~nulls]]
    return pd.Series(out, dtype=object, name=name)
