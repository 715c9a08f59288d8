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

from syntho_hive.exceptions import GenerationError, SchemaError

__all__ = ["duration_of", "durations_of", "is_time_of_day", "time_columns", "time_nanoseconds", "to_durations",
           "to_times"]

_NS_PER_DAY = 86_400 * 10**9


def time_nanoseconds(value: dt.time) -> int:
    """A naive time of day as nanoseconds since midnight."""
    return (((value.hour * 60 + value.minute) * 60 + value.second) * 10**6 + value.microsecond) * 1_000


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


#: The forms a value of a time-of-day column may take outside ``fit`` (conditions, ``impute`` rows, context).
_ACCEPTED = ("a datetime.time without a time zone, an ISO time string 'HH:MM[:SS[.ffffff]]' (what a CSV of the "
             "output reads back as), a duration since midnight under one day (pd.Timedelta, datetime.timedelta, "
             "numpy.timedelta64) or a null")


def _is_null(value: object) -> bool:
    """Whether ``value`` is one missing value (``None``, ``NaN``, ``NaT``, ``pd.NA``)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like: not one missing value
        return False


def _nanoseconds(value: object, column: str, where: str) -> int | None:
    """``value`` of the time-of-day ``column`` as nanoseconds since midnight (``None`` for a null).

    Raises:
        GenerationError: Any other form (see :data:`_ACCEPTED`), a time with a time zone, or a
            duration outside ``[0, 1 day)``.
    """
    if _is_null(value):
        return None
    if isinstance(value, (dt.datetime, np.datetime64)):  # a pd.Timestamp too: not a time of day
        raise GenerationError(f"{where}: column {column!r} is a time of day, but holds {value!r}, a date and time; "
                              f"give {_ACCEPTED}.")
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value.strip())
        except ValueError as exc:
            raise GenerationError(f"{where}: column {column!r} is a time of day, but {value!r} is not an ISO time; "
                                  f"give {_ACCEPTED}.") from exc
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise GenerationError(f"{where}: column {column!r} holds the time {value!r} with a time zone, which the "
                                  "model (fitted on times without one) cannot take; convert it to the zone of the "
                                  "training data and drop it, e.g. value.replace(tzinfo=None).")
        return time_nanoseconds(value)
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
        nanoseconds = int(pd.Timedelta(value).value)
        if not 0 <= nanoseconds < _NS_PER_DAY:
            raise GenerationError(f"{where}: column {column!r} is a time of day, but the duration {value!r} is "
                                  "outside one day [0, 24h); give a duration since midnight under 24 hours.")
        return nanoseconds
    raise GenerationError(f"{where}: column {column!r} is a time of day, but holds {value!r} "
                          f"({type(value).__name__}); give {_ACCEPTED}.")


def duration_of(value: object, column: str, where: str = "conditions") -> pd.Timedelta | None:
    """A value of the time-of-day ``column`` (a condition) as its duration since midnight.

    Args:
        value: One of :data:`_ACCEPTED`.
        column: The column, for messages.
        where: The argument holding it, for messages.

    Returns:
        The duration, or ``None`` for a null.

    Raises:
        GenerationError: Any other value, a time with a time zone, or a duration outside one day.
    """
    nanoseconds = _nanoseconds(value, column, where)
    return None if nanoseconds is None else pd.Timedelta(nanoseconds, unit="ns")


def durations_of(series: pd.Series, column: str = "", where: str = "the rows") -> pd.Series:
    """One time-of-day column as ``timedelta64[ns]``, converted as :func:`to_durations` does.

    Args:
        series: The column.
        column: Its name, for messages (default: the series' name).
        where: The argument holding it, for messages.

    Returns:
        The durations since midnight (``NaT`` for nulls), index and name kept.

    Raises:
        GenerationError: As :func:`to_durations`.
    """
    column = column or str(series.name)
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        durations = series.astype("timedelta64[ns]")
        outside = durations.notna() & ((durations < pd.Timedelta(0)) | (durations >= pd.Timedelta(days=1)))
        if outside.any():
            raise GenerationError(f"{where}: column {column!r} is a time of day, but holds the duration "
                                  f"{durations[outside].iloc[0]!r}, outside one day [0, 24h).")
        return durations
    nanoseconds = np.array([_nanoseconds(value, column, where) for value in series.tolist()], dtype=object)
    missing = np.array([value is None for value in nanoseconds.tolist()], dtype=bool)
    ticks = np.where(missing, np.iinfo(np.int64).min, nanoseconds).astype(np.int64)
    return pd.Series(ticks.view("timedelta64[ns]"), index=series.index, name=series.name)


def to_durations(frame: pd.DataFrame, columns: Iterable[str], *, where: str = "the rows") -> pd.DataFrame:
    """``frame`` (a copy when anything changes) with ``columns`` as durations since midnight.

    Each value is converted strictly, whatever the column's dtype: a ``datetime.time`` (no time
    zone), an ISO time string (``'HH:MM[:SS[.ffffff]]'``, as a CSV of generated rows reads back), a
    duration under one day (``pd.Timedelta``, ``datetime.timedelta``, ``numpy.timedelta64``) or a
    null; nothing is dropped silently.

    Args:
        frame: Rows whose ``columns`` hold times of day.
        columns: The columns known to be times of day (those absent from ``frame`` are skipped).
        where: The argument holding ``frame`` (e.g. ``"impute() data"``), for messages.

    Returns:
        ``frame`` with those columns as ``timedelta64[ns]`` (``NaT`` for nulls).

    Raises:
        GenerationError: A value of another form (the message names the column and the value), a
            time with a time zone, or a duration outside one day.
    """
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    out = frame.copy()
    for column in present:
        out[column] = durations_of(out[column], str(column), where)
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
