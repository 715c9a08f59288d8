"""Shared helpers of the validation metrics: column typing, numeric views, seeded row sampling."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from syntho_hive.core.metadata.schema import SDTYPES, SDType, TableConfig
from syntho_hive.exceptions import SchemaError

__all__ = [
    "CONTINUOUS",
    "DISCRETE",
    "resolve_sdtypes",
    "as_float",
    "sample_rows",
    "check_columns",
    "json_safe",
]

CONTINUOUS: frozenset[str] = frozenset({"numerical", "datetime"})
DISCRETE: frozenset[str] = frozenset({"categorical", "boolean"})


def resolve_sdtypes(real: pd.DataFrame, sdtypes: Mapping[str, SDType] | None = None,
                    table: TableConfig | None = None) -> dict[str, SDType]:
    """Semantic type of every column of ``real``.

    Precedence: ``sdtypes`` argument, then the table's declared ``columns``, then key columns of the
    table (primary/foreign keys are ``id``), then :func:`detect_sdtype` on the real data.

    Args:
        real: The real table.
        sdtypes: Explicit ``{column: sdtype}``.
        table: The table's metadata, if any.

    Returns:
        ``{column: sdtype}`` in the column order of ``real``.

    Raises:
        SchemaError: If a given sdtype is unknown.
    """
    from syntho_hive.core.metadata.detect import detect_sdtype

    given = dict(sdtypes or {})
    declared: dict[str, SDType] = dict(table.columns) if table is not None else {}
    keys = set(table.key_columns) if table is not None else set()
    out: dict[str, SDType] = {}
    for column in real.columns:
        sdtype = given.get(column) or declared.get(column)
        if sdtype is None and column in keys:
            sdtype = "id"
        if sdtype is None:
            sdtype = detect_sdtype(real[column], str(column))
        if sdtype not in SDTYPES:
            where = f" of table {table.name!r}" if table is not None else ""
            raise SchemaError(f"Unknown sdtype {sdtype!r} for column {column!r}{where}; "
                              f"use one of {list(SDTYPES)}.")
        out[column] = sdtype
    return out


def as_float(series: pd.Series) -> np.ndarray:
    """A numerical/datetime/boolean column as float64 (datetimes as ns since epoch, nulls as NaN)."""
    if isinstance(series.dtype, pd.ArrowDtype) and series.dtype.kind in "mM":
        # pyarrow timestamps/dates/durations hand out objects from to_numpy(): cast to pandas' own types
        tz = getattr(series.dtype.pyarrow_dtype, "tz", None)
        series = series.astype("timedelta64[ns]" if series.dtype.kind == "m"
                               else f"datetime64[ns, {tz}]" if tz else "datetime64[ns]")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or pd.api.types.is_timedelta64_dtype(series.dtype):
        values = series.to_numpy()
        out = values.astype("datetime64[ns]" if values.dtype.kind == "M" else "timedelta64[ns]")
        result = out.astype(np.int64).astype(np.float64)
        result[pd.isna(values)] = np.nan
        return result
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().sum() >= series.notna().sum():
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    dates = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return as_float(dates)


def sample_rows(frame: pd.DataFrame, max_rows: int | None, rng: np.random.Generator) -> pd.DataFrame:
    """Up to ``max_rows`` rows of ``frame`` drawn without replacement with ``rng`` (all rows if fewer)."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    index = np.sort(rng.choice(len(frame), size=int(max_rows), replace=False))
    return frame.iloc[index]


def category_text(series: pd.Series, null_label: str) -> pd.Series:
    """Category values as text, the same way in every metric: an integral float is its integer
    (``1.0`` and ``1`` are one category, as in the column-shape scores, whatever side stored floats:
    a column with nulls, read from CSV, or ``Int64``), nulls become ``null_label``.

    Args:
        series: A categorical or boolean column.
        null_label: Text of a missing value.

    Returns:
        An ``object`` Series of strings, index kept.
    """
    def text(value: object) -> str:
        if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
            return str(int(value))
        return str(value)

    values = series.astype(object)
    present = series.notna().to_numpy()
    out = np.full(len(series), null_label, dtype=object)
    out[present] = [text(v) for v in values.to_numpy()[present]]
    return pd.Series(out, index=series.index, dtype=object)


def check_columns(real: pd.DataFrame, synthetic: pd.DataFrame, *, what: str,
                  table: str | None = None, other: str = "synthetic") -> None:
    """Raise :class:`SchemaError` if ``synthetic`` lacks a column of ``real`` or either is empty.

    Args:
        real: The reference rows.
        synthetic: The rows compared with them.
        what: The metric, for the message.
        table: The table, for the message.
        other: What ``synthetic`` is (``"synthetic"``, ``"holdout"``), for the message.
    """
    where = f" of table {table!r}" if table else ""
    if not isinstance(real, pd.DataFrame) or not isinstance(synthetic, pd.DataFrame):
        raise SchemaError(f"{what}{where} needs pandas DataFrames, got {type(real).__name__} and "
                          f"{type(synthetic).__name__}.")
    missing = [column for column in real.columns if column not in synthetic.columns]
    if missing:
        fix = "generate all of them" if other == "synthetic" else f"give the {other} data all of them"
        raise SchemaError(f"{other.capitalize()} data{where} lacks column(s) {missing} present in the real "
                          f"data; {what} compares the same columns, so {fix}.")
    if len(real) == 0 or len(synthetic) == 0:
        raise SchemaError(f"{what}{where} needs non-empty data; got {len(real)} real and "
                          f"{len(synthetic)} {other} rows.")


def json_safe(value: object) -> object:
    """Recursively turn numpy scalars into Python ones and non-finite floats into ``None``."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
