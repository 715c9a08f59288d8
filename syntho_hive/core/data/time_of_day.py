"""Times of day (``datetime.time`` cells, e.g. SQL ``TIME`` or Parquet ``time64``) as durations.

Pandas has no dtype for a time of day: such a column is ``object`` and, to an encoder, a set of
unrelated values (a categorical whose every value is rare, or free text generated character by
character, ``"1::2::3:"``). Every engine models it instead as the duration since midnight
(``timedelta64[ns]``, a ``numerical`` column with its own ticks), and gives generated values back
as ``datetime.time``: :func:`time_columns` finds such columns, :func:`to_durations` converts them
before the engine sees them and :func:`to_times` converts generated durations back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from syntho_hive.exceptions import SchemaError

__all__ = ["duration_of", "is_time_of_day", "time_columns", "to_durations", "to_times"]

_NS_PER_DAY = 86_400 * 10**9


def is_time_of_day(series: pd.Series) -> bool:
    """Whether ``series`` is an ``object`` column whose non-null values are all ``datetime.time``
    (and it has at least one)."""
    if series.dtype != object:
        return False
    values = series.dropna()
    return bool(len(values)) and pd.api.types.infer_dtype(values, skipna=True) == "time"


def time_columns(frame: pd.DataFrame | None) -> list[str]:
    """The columns of ``frame`` that hold times of day (none for ``None``).

    Raises:
        SchemaError: A column holds times with a time zone (``TIME WITH TIME ZONE``): their offsets
            would be lost.
    """
    if frame is None:
        return []
    found = [str(column) for column in frame.columns if is_time_of_day(frame[column])]
    for column in found:
        if any(value.tzinfo is not None for value in frame[column].dropna()):
            raise SchemaError(f"Column {column!r} holds times of day with a time zone, which cannot be modelled "
                              "without losing their offsets; convert them to one zone and drop it first, e.g. "
                              "with value.replace(tzinfo=None) after shifting to UTC.")
    return found


def duration_of(value: object) -> object:
    """A condition value for a time-of-day column: a ``datetime.time`` as its duration since midnight
    (anything else as it is, for the engine's own check)."""
    if isinstance(value, dt.time):
        return pd.Timedelta(hours=value.hour, minutes=value.minute, seconds=value.second,
                            microseconds=value.microsecond)
    return value


def to_durations(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` (a copy when anything changes) with ``columns`` as durations since midnight.

    Args:
        frame: Rows whose ``columns`` hold ``datetime.time`` values (or nulls).
        columns: The time-of-day columns present in ``frame`` (others are skipped).

    Returns:
        ``frame`` with those columns as ``timedelta64[ns]`` (``NaT`` for nulls).
    """
    present = [c for c in columns if c in frame.columns and frame[c].dtype == object]
    if not present:
        return frame
    out = frame.copy()
    for column in present:
        micros = [None if not isinstance(value, dt.time) else
                  ((value.hour * 60 + value.minute) * 60 + value.second) * 10**6 + value.microsecond
                  for value in out[column].tolist()]
        out[column] = pd.to_timedelta(pd.Series(micros, index=out.index, dtype="Float64"), unit="us")
    return out


def to_times(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with the durations of ``columns`` given back as ``datetime.time`` (in place).

    Durations outside a day (a generated value past the training range) are clipped to
    ``00:00:00`` / ``23:59:59.999999``; they are rounded to the microsecond.

    Args:
        frame: Generated rows.
        columns: The time-of-day columns (those absent from ``frame`` are skipped).

    Returns:
        ``frame``, with each of those columns an ``object`` column of ``datetime.time`` / ``None``.
    """
    for column in columns:
        if column not in frame.columns:
            continue
        series = frame[column]
        if not pd.api.types.is_timedelta64_dtype(series.dtype):
            continue
        ns = series.to_numpy(dtype="timedelta64[ns]").astype(np.int64)
        missing = series.isna().to_numpy()
        micros = np.clip(np.round(ns / 1_000), 0, _NS_PER_DAY // 1_000 - 1).astype(np.int64)
        values = np.empty(len(series), dtype=object)
        for position, value in enumerate(micros.tolist()):
            seconds, micro = divmod(value, 10**6)
            minutes, second = divmod(seconds, 60)
            values[position] = dt.time(minutes // 60, minutes % 60, second, micro)
        values[missing] = None
        frame[column] = pd.Series(values, index=frame.index, dtype=object)
    return frame
