"""Dtype bookkeeping: remember a column's storage type and null marker, restore them exactly.

Encoders decode to plain NumPy arrays (floats, integers or Python objects plus a null mask);
these helpers turn such arrays back into a :class:`pandas.Series` with the dtype the
training column had (``int64``, ``Int64``, ``float32``, ``bool``, ``boolean``, ``category``,
``object``, ``string``/``str``, ``datetime64`` with or without timezone).

This module is also the one home of the strict-JSON forms of dtypes and cell values that fitted
states are stored with (:func:`dtype_to_json` / :func:`dtype_from_json`, :func:`value_to_json` /
:func:`value_from_json`). It imports nothing
from the package but :mod:`syntho_hive.exceptions`, so every encoder, codec and state module can use
it without import cycles.

Cells keep their Python type: ``null``, booleans, integers, finite floats and strings are JSON
scalars; everything else is a one-key tagged object:

* ``{"f": "nan" | "inf" | "-inf"}`` - non-finite floats (strict JSON has no NaN);
* ``{"na": "NA" | "NaT"}`` - ``pd.NA`` / ``pd.NaT``;
* ``{"t": "2024-03-01T08:00:00+01:00", "tz": "Europe/Paris"}`` - timestamps, ISO with offset,
  plus the zone name when tz-aware;
* ``{"d": "2024-03-01"}`` - ``datetime.date``;
* ``{"dec": "12.50"}`` - ``decimal.Decimal`` (as SQL ``NUMERIC`` columns arrive);
* ``{"tm": "13:45:00"}`` - ``datetime.time`` (SQL ``TIME``);
* ``{"b64": "AAE="}`` - ``bytes`` (SQL ``BYTEA`` / ``BLOB``), base64.

Dtypes are stored by name (:func:`dtype_name`) as ``{"name": ...}``; ``category`` also keeps its
order and (unless a caller asks not to) its categories.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_float_dtype, is_integer_dtype

from syntho_hive.exceptions import SerializationError

__all__ = ["is_null_value", "null_marker", "restore_objects", "restore_numbers", "decimal_places", "restore_decimals", "is_integer_like_dtype", "dtype_name",
           "dtype_from_name", "marker_to_json", "marker_from_json", "value_to_json", "value_from_json",
           "dtype_to_json", "dtype_from_json"]

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
#: Tags of the ``[tag, value]`` pairs TabularAR stored categories as before the tagged-object form.
_LEGACY_TAGS = {"b": bool, "i": int, "f": float, "s": str, "t": pd.Timestamp}
#: Errors pandas / NumPy / the time-zone databases raise on a name or value that reads as nothing.
_READ_ERRORS = (KeyError, TypeError, ValueError, ImportError, NotImplementedError, AttributeError, OverflowError,
                InvalidOperation)


def is_null_value(value: Any) -> bool:
    """Whether ``value`` is one missing value (``None``, ``NaN``, ``pd.NA``, ``NaT``); never for a list or an array."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


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
#: :func:`dtype_name` of the NaN-missing string dtype (pandas' ``str``), e.g. ``str[python]``.
_NAN_STRING = re.compile(r"str\[(python|pyarrow)\]")


def dtype_name(dtype: Any) -> str:
    """A string naming ``dtype`` that :func:`dtype_from_name` turns back into it.

    ``category`` loses its categories (callers needing them must store them besides the name);
    a ``string`` dtype keeps its storage (``string[pyarrow]``) and, for pandas' NaN-missing ``str``
    dtype, its missing value (``str[python]``).

    Args:
        dtype: A pandas or NumPy dtype.

    Returns:
        The name.
    """
    if isinstance(dtype, pd.StringDtype):
        na_value = getattr(dtype, "na_value", pd.NA)
        nan_missing = isinstance(na_value, float) and math.isnan(na_value)
        return f"{'str' if nan_missing else 'string'}[{dtype.storage}]"
    if isinstance(dtype, pd.ArrowDtype) and str(dtype) == "string[pyarrow]":
        return _ARROW_STRING  # its own name reads back as StringDtype("pyarrow"), another dtype
    return str(dtype)


def dtype_from_name(name: str) -> Any:
    """The pandas/NumPy dtype named ``name`` (see :func:`dtype_name`).

    Args:
        name: A name written by :func:`dtype_name`.

    Returns:
        The dtype.

    Raises:
        TypeError: If ``name`` names no dtype (pandas may also raise ``ValueError``, ``KeyError``
            for an unknown time zone, or ``ImportError`` without pyarrow: :func:`dtype_from_json`
            turns all of them into :class:`SerializationError`).
    """
    if name == _ARROW_STRING:
        import pyarrow as pa

        return pd.ArrowDtype(pa.string())
    nan_string = _NAN_STRING.fullmatch(name)
    if nan_string:
        return pd.StringDtype(nan_string.group(1), na_value=np.nan)
    dtype = pd.api.types.pandas_dtype(name)
    if isinstance(dtype, np.dtype) and dtype.kind == "V":  # '0B', '(2,)i4': no column has such a dtype
        raise TypeError(f"{name!r} names a NumPy sub-array / structured dtype, which no column has")
    return dtype


def _same_dtype(stored: Any, dtype: Any) -> bool:
    """Whether ``stored`` (read back from a name) stands for ``dtype``.

    A zone given as an object (``zoneinfo``, ``datetime.timezone``) reads back as pandas' own
    object for the same zone name: the same dtype for every purpose, though not ``==``.
    """
    if isinstance(stored, pd.DatetimeTZDtype) and isinstance(dtype, pd.DatetimeTZDtype):
        return stored.unit == dtype.unit and str(stored.tz) == str(dtype.tz)
    try:
        return bool(stored == dtype)
    except _READ_ERRORS:
        return False


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
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if isinstance(value, _dt.time):
        return {"tm": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    raise SerializationError(
        f"{where} holds a value of type {type(value).__name__} ({value!r}) that cannot be stored as "
        "JSON; cast the column to str, int, float, bool or datetime before fitting.")


def _tagged_value(data: Any, legacy: bool) -> tuple[bool, Any]:
    """``(True, value)`` for a tagged form :func:`value_to_json` (or, with ``legacy``, TabularAR's
    earlier ``[tag, value]`` pairs) writes, ``(False, None)`` for anything else."""
    if legacy and isinstance(data, list) and len(data) == 2 and data[0] in _LEGACY_TAGS:
        return True, _LEGACY_TAGS[data[0]](data[1])
    if not isinstance(data, dict):
        return False, None
    keys = set(data)
    if keys == {"f"}:
        return True, _NON_FINITE[data["f"]]
    if keys == {"na"}:
        return True, {"NA": pd.NA, "NaT": pd.NaT}[data["na"]]
    if "t" in keys and keys <= {"t", "tz"}:
        stamp = pd.Timestamp(data["t"])
        return True, stamp.tz_convert(data["tz"]) if "tz" in data else stamp
    if keys == {"d"}:
        return True, _dt.date.fromisoformat(data["d"])
    if keys == {"dec"}:
        return True, Decimal(data["dec"])
    if keys == {"tm"}:
        return True, _dt.time.fromisoformat(data["tm"])
    if keys == {"b64"}:
        return True, base64.b64decode(data["b64"].encode("ascii"), validate=True)
    return False, None


def value_from_json(data: Any, where: str = "a stored value", *, legacy: bool = False) -> Any:
    """Inverse of :func:`value_to_json`.

    Args:
        data: A stored form.
        where: What the value belongs to, for the error message.
        legacy: Also read TabularAR's earlier ``[tag, value]`` pairs (``["s", "x"]``, ``["i", 3]``).

    Returns:
        The cell value, with its Python type.

    Raises:
        SerializationError: If ``data`` is not a form :func:`value_to_json` writes.
    """
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    try:
        known, value = _tagged_value(data, legacy)
    except _READ_ERRORS as exc:
        raise SerializationError(f"{where}: bad stored value {data!r} ({type(exc).__name__}: {exc}); "
                                 "the state is corrupt, save it again.") from exc
    if not known:
        raise SerializationError(f"{where}: unknown stored value {data!r}; the state is corrupt, save it again.")
    return value


def dtype_to_json(dtype: Any, where: str, *, categories: bool = True) -> dict[str, Any]:
    """The JSON form of a dtype: ``{"name": ...}`` (see :func:`dtype_name`).

    A ``category`` dtype is ``{"name": "category", "ordered": ..., "categories": [...]}`` (cells
    as :func:`value_to_json` writes them), plus ``"categories_dtype"`` when the categories' own
    dtype is not the one their values read back as (``int8`` categories, say).

    Args:
        dtype: A pandas or NumPy dtype.
        where: What the dtype belongs to, for the error message.
        categories: ``False`` leaves a ``category`` dtype's categories out (for states that must
            not hold training values, such as a text model's).

    Returns:
        The JSON form.

    Raises:
        SerializationError: If the dtype would not read back as itself (its name names another
            dtype or none, such as a ``dateutil`` time zone), or a category has no JSON form.
    """
    if isinstance(dtype, pd.CategoricalDtype):
        out: dict[str, Any] = {"name": "category", "ordered": bool(dtype.ordered)}
        if categories and dtype.categories is None:  # CategoricalDtype(): categories not fixed yet
            out["categories"] = None
        elif categories:
            cats = dtype.categories
            out["categories"] = [value_to_json(v, f"{where} (categories)") for v in cats]
            if pd.Index(list(cats)).dtype != cats.dtype:
                out["categories_dtype"] = dtype_to_json(cats.dtype, f"{where} (categories)")
        return out
    name = dtype_name(dtype)
    try:
        same = _same_dtype(dtype_from_name(name), dtype)
    except _READ_ERRORS:
        same = False
    if not same:
        raise SerializationError(f"{where} has dtype {dtype!r}, which cannot be stored by name; cast the "
                                 "column to a standard dtype (int64, float64, str, datetime64[ns, UTC]...).")
    return {"name": name}


def dtype_from_json(data: Any, where: str = "a stored dtype", *, categories: bool = True) -> Any:
    """Inverse of :func:`dtype_to_json` (also reads categories stored as ``[tag, value]`` pairs).

    Args:
        data: A stored form.
        where: What the dtype belongs to, for the error message.
        categories: ``False`` ignores stored categories: a ``category`` dtype comes back with its
            order only (``CategoricalDtype(ordered=...)``).

    Returns:
        The dtype.

    Raises:
        SerializationError: If ``data`` is no stored dtype.
    """
    try:
        if not isinstance(data, dict) or not isinstance(data["name"], str):
            raise TypeError("expected {'name': <dtype name>, ...}")
        if data["name"] != "category":
            return dtype_from_name(data["name"])
        ordered = data["ordered"]
        if not isinstance(ordered, bool):
            raise TypeError(f"'ordered' must be true or false, not {ordered!r}")
        if not categories:
            return pd.CategoricalDtype(ordered=ordered)
        if data["categories"] is None:
            return pd.CategoricalDtype(ordered=ordered)
        if not isinstance(data["categories"], list):
            raise TypeError(f"'categories' must be a list, not {type(data['categories']).__name__}")
        values = [value_from_json(v, f"{where} (categories)", legacy=True) for v in data["categories"]]
        if "categories_dtype" in data:
            index = pd.Index(values, dtype=dtype_from_json(data["categories_dtype"], f"{where} (categories)"))
        else:
            index = pd.Index(values)
        return pd.CategoricalDtype(index, ordered=ordered)
    except SerializationError:
        raise
    except _READ_ERRORS as exc:
        raise SerializationError(f"{where}: bad stored dtype {data!r} ({type(exc).__name__}: {exc}); the "
                                 "state is corrupt, save it again.") from exc


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
