"""How the values of constrained columns are compared: as numbers, or as datetimes.

A bound or an inequality compares numbers (floats, NaN for nulls) or datetimes: datetime64
columns (tz-aware too) and date strings, parsed with the column's strftime format (declared in
``TableConfig.datetime_formats``, else detected and verified to write every value back exactly).
An inequality also compares two durations: ``timedelta64`` columns, or times of day
(``datetime.time`` cells, which the models see as durations since midnight); they take the
datetime path (a gap counted in steps), without a format or time zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.metadata.constraint_rules import Comparison
from syntho_hive.core.metadata.datetime_formats import (
    detect_datetime_format,
    formats_exactly,
    numpy_datetimes,
    parse_datetimes,
    time_unit,
)
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.core.time_of_day import durations_of, is_time_of_day
from syntho_hive.exceptions import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata.schema import TableConfig


def float_values(series: pd.Series) -> np.ndarray:
    """A numeric column (nullable dtypes too) as float64 with NaN for nulls."""
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def is_numeric(series: pd.Series) -> bool:
    """Whether ``series`` holds numbers (booleans do not count)."""
    return ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype)


def is_duration(series: pd.Series) -> bool:
    """Whether ``series`` holds durations: ``timedelta64``, or times of day (durations since midnight)."""
    return ptypes.is_timedelta64_dtype(series.dtype) or is_time_of_day(series)


def _as_durations(series: pd.Series) -> pd.Series:
    """A duration column as ``timedelta64[ns]`` (times of day as the duration since midnight, nulls as ``NaT``)."""
    return series if ptypes.is_timedelta64_dtype(series.dtype) else durations_of(series)


def coarser_unit(*units: str) -> str:
    """The unit of the widest range (``"s"`` before ``"ms"``... before ``"ns"``)."""
    return max(units, key=lambda u: int(np.timedelta64(1, u) / np.timedelta64(1, "ns")))


def gap_ticks(low: pd.Series, high: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """``high - low`` of two datetime (or two duration) columns as int64 ticks of the coarser of their units.

    A gap in nanoseconds ends at about 292 years: from 2020 to a ``9999-12-31`` validity end it would
    overflow, so the gap is counted in the unit of the column with the wider range.

    Returns:
        ``(ticks, nulls, unit_ns)``: the gaps (0 where a side is null), which are null, and the
        nanoseconds in one tick.
    """
    units = [time_unit(low.dtype), time_unit(high.dtype)]
    unit = coarser_unit(*units)
    lo, hi = (s.dt.as_unit(unit) if u != unit else s for s, u in zip((low, high), units))
    delta = hi - lo
    nulls = delta.isna().to_numpy()
    ticks = delta.to_numpy().view(np.int64).copy()
    ticks[nulls] = 0
    return ticks, nulls, int(np.timedelta64(1, unit) / np.timedelta64(1, "ns"))


class ValueReader:
    """Reads a table's constrained columns and bounds as comparable values.

    Args:
        table: The table's configuration (``columns``, ``datetime_formats``).
        formats: The strftime format settled on per date-string column; read and filled in place,
            so that one dict keeps every column's format for as long as its owner needs it.
    """

    def __init__(self, table: TableConfig, formats: dict[str, str | None]) -> None:
        self.table = table
        self.formats = formats

    @property
    def where(self) -> str:
        """How messages name the table (``"table 'orders'"``)."""
        return f"table {self.table.name!r}"

    def bound_values(self, series: pd.Series, column: str, bound: Any, side: str) -> tuple[Any, Any]:
        """Comparable ``(values, bound)`` for a ``min``/``max`` (``side``) check of ``column``.

        Floats and a float for a numeric column; datetimes and a ``pd.Timestamp`` in the column's
        timezone for a datetime column or a column of date strings.

        Raises:
            SchemaError: If the bound does not fit the column or the column is neither numeric nor datetime.
        """
        if is_numeric(series):
            try:
                return float_values(series), float(bound)
            except (TypeError, ValueError):
                raise SchemaError(f"Constraint({side}={bound!r}) on numeric column {column!r} of {self.where} "
                                  "is not a number; give a number.") from None
        if ptypes.is_datetime64_any_dtype(series.dtype):
            values = numpy_datetimes(series)
        elif ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype):
            values = pd.to_datetime(series, errors="coerce", format="mixed")
            if series.notna().any() and values.notna().sum() < 0.95 * series.notna().sum():
                raise SchemaError(f"Constraint({side}=...) on column {column!r} of {self.where} needs numbers "
                                  "or datetimes, but the column holds other strings; remove min/max for it.")
        else:
            raise SchemaError(f"Constraint({side}=...) on column {column!r} of {self.where} needs a numeric "
                              f"or datetime column, got dtype {series.dtype}; remove min/max for it.")
        try:
            stamp = pd.Timestamp(bound)
        except (TypeError, ValueError):
            raise SchemaError(f"Constraint({side}={bound!r}) on datetime column {column!r} of {self.where} is "
                              "not a date; use an ISO string such as '2024-01-31'.") from None
        tz = getattr(values.dt, "tz", None)
        if tz is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        elif tz is None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return values, stamp

    def is_date_strings(self, series: pd.Series, column: str) -> bool:
        """Whether a string/object ``series`` holds dates (a format is known, or its sdtype is datetime)."""
        if not (ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype)):
            return False
        if column in self.table.datetime_formats or column in self.formats:
            return True
        sdtype = self.table.columns.get(column) or detect_sdtype(series, column)
        return sdtype == "datetime"

    def pair_kind(self, low: pd.Series, high: pd.Series, q: Comparison) -> str:
        """How the two sides of an inequality compare: ``"numeric"`` or ``"datetime"`` (two datetimes or
        date strings, or two durations: ``timedelta64`` or times of day).

        Raises:
            SchemaError: If the sides are not both numeric, both datetimes/date strings or both durations.
        """
        if is_numeric(low) and is_numeric(high):
            return "numeric"
        if is_duration(low) and is_duration(high):
            return "datetime"
        dated = [ptypes.is_datetime64_any_dtype(s.dtype) or self.is_date_strings(s, c)
                 for s, c in ((low, q.low), (high, q.high))]
        if all(dated):
            return "datetime"
        raise SchemaError(f"Inequality {q.low} <= {q.high} of {self.where} needs two numeric, two datetime "
                          f"(datetime64 or date strings) or two duration columns (timedelta64 or times of day), got "
                          f"{low.dtype} and {high.dtype}; fix the column types or declare "
                          "TableConfig.datetime_formats for date strings.")

    def date_format(self, series: pd.Series, column: str) -> str | None:
        """The strftime format of a date-string column (declared, else guessed and verified), settled once found.

        A column of nulls only gets the declared format (or ``None``).

        Raises:
            SchemaError: If no single format writes every value back exactly.
        """
        if column in self.formats:
            return self.formats[column]
        declared = self.table.datetime_formats.get(column)
        values = series.dropna().astype(str)
        if values.empty:
            return declared
        if declared:
            fmt = declared if formats_exactly(values.drop_duplicates(), declared) else None
        else:  # the transformers' detection: a format every value re-formats to exactly
            fmt = detect_datetime_format(values)
        if fmt is not None:
            self.formats[column] = fmt
            return fmt
        tried = repr(declared) if declared else "the known formats"
        raise SchemaError(f"Column {column!r} of {self.where} holds date strings that no single format "
                          f"reproduces exactly (tried {tried}; e.g. {values.iloc[0]!r}); set "
                          f"TableConfig.datetime_formats[{column!r}] to its strftime format.")

    def as_datetime(self, series: pd.Series, column: str) -> pd.Series:
        """``series`` as datetime64 (date strings parsed with :meth:`date_format`; nulls as ``NaT``), or a
        duration column as ``timedelta64`` (see :func:`is_duration`).

        Raises:
            SchemaError: If a value does not match the column's format.
        """
        if ptypes.is_datetime64_any_dtype(series.dtype):
            return numpy_datetimes(series)  # Arrow timestamps compare with NumPy ones only as such
        if is_duration(series):
            return _as_durations(series)
        fmt = self.date_format(series, column)
        if fmt is None:  # all null
            return pd.to_datetime(series.astype(object), errors="coerce")
        try:
            return parse_datetimes(series, fmt)
        except (ValueError, TypeError) as exc:
            raise SchemaError(f"Column {column!r} of {self.where} holds values that do not match its date "
                              f"format {fmt!r}: {exc}") from exc

    def datetime_pair(self, low: pd.Series, high: pd.Series, q: Comparison) -> tuple[pd.Series, pd.Series]:
        """Both sides of a datetime inequality as datetime64, ``high`` in ``low``'s timezone.

        Raises:
            SchemaError: If one side is tz-aware and the other is not, or a date string does not
                match its column's format.
        """
        lo, hi = self.as_datetime(low, q.low), self.as_datetime(high, q.high)
        if (getattr(lo.dt, "tz", None) is None) != (getattr(hi.dt, "tz", None) is None):
            raise SchemaError(f"Inequality {q.low} <= {q.high} of {self.where}: one column is tz-aware "
                              "and the other is not; localise both (Series.dt.tz_localize) or neither.")
        return lo, self.align_tz(hi, lo)

    @staticmethod
    def align_tz(target: pd.Series, like: pd.Series) -> pd.Series:
        """``target`` converted to ``like``'s timezone (unchanged when ``like`` is tz-naive)."""
        tz = getattr(like.dt, "tz", None)
        return target.dt.tz_convert(tz) if tz is not None else target
