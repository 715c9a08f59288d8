"""Stand-in columns under differential privacy: what a :class:`DataTransformer` is fitted to instead of the rows.

Each column of the training table is replaced by a column of the same name and dtype made only from
noisy counts (:mod:`syntho_hive.core.dp.columns`) and the public schema, so everything the
transformer learns from it (category sets, ranges, Gaussian mixtures, frequency intervals, id
formats) is post-processing of the DP release:

* categorical: the values whose noisy count reaches the plan's category threshold, in proportion
  to their noisy counts (a column none of whose values passes is refused);
* numerical: values spread over the buckets of the noisy histogram (sign-logarithmic grid, or the
  declared bounds) in proportion to their noisy counts, rounded to the column's number format (a
  column none of whose buckets passes is refused); a duration is counted in its coarsest unit holding every
  value (e.g. seconds; the unit is public, like a number format), and a time of day is bounded by the day
  when no bounds are declared;
* datetime: timestamps spread evenly over the noisy year range (or the declared bounds), at the
  finest time part held by enough rows, in the column's representation (zone, string format);
* boolean: ``False`` and ``True`` (public), missing values from a noisy count;
* id: ids in a format fixed by the dtype (:func:`dtype_id_generator`), no real key;
* text: refused before (:func:`~syntho_hive.core.dp.columns.dp_queries`).

Missing values are present in the stand-in in proportion to their noisy count when it reaches the
count threshold. Public (not covered, as for TabularAR): the number of rows, the columns, their
sdtypes and dtypes, the number format of numbers, a datetime column's zone and string format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core._value_kinds import factorize_values
from syntho_hive.core.data._dtypes import (
    decimal_places,
    null_marker,
    restore_decimals,
    restore_numbers,
    restore_objects,
)
from syntho_hive.core.data.encoders.datetime import DatetimeEncoder
from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.data.encoders.numerical import detect_decimals, numeric_values
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.data.encoders.timeunits import coarsest_step
from syntho_hive.core.dp.columns import duration_bounds, noisy_nulls, noisy_numbers, noisy_times, released_categories
from syntho_hive.core.metadata.datetime_formats import format_datetimes
from syntho_hive.exceptions import PrivacyError

__all__ = ["STANDIN_ROWS", "dtype_id_generator", "in_number_format", "standin_frame"]


#: Rows of a stand-in table (each kept value gets at least one).
STANDIN_ROWS = 10_000
#: Time steps by finest time part (0: dates ... 5: microseconds).
_TIME_STEPS = ("D", "h", "min", "s", "ms", "us")


def dtype_id_generator(series: pd.Series) -> IdGenerator:
    """An id generator whose format comes from the dtype alone: integers from 1, daily timestamps from
    2000-01-01, random strings (no real key or key pattern is read)."""
    generator = IdGenerator(str(series.name))
    generator.prepare(series.iloc[:0], seed=0)  # the dtype and null marker of an empty column
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        unit = np.datetime_data(np.dtype(getattr(series.dtype, "base", series.dtype)))[0]
        generator.kind = "datetime"
        generator.start = int(np.datetime64("2000-01-01", unit).astype(np.int64))
        generator.step = int(np.timedelta64(1, "D").astype(f"timedelta64[{unit}]").astype(np.int64))
    elif generator.kind == "int":
        generator.start, generator.step = 1, 1
    return generator


def _allocate(weights: np.ndarray, rows: int) -> np.ndarray:
    """Rows per weighted item: proportional to the weights, at least one each (``rows`` in all when
    there are at most ``rows`` items)."""
    weights = np.asarray(weights, dtype=np.float64)
    share = weights / weights.sum() * rows
    counts = np.maximum(np.floor(share).astype(np.int64), 1)
    short = rows - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(share - np.floor(share)), kind="stable")[:short]] += 1
    return counts


def _null_rows(nulls: int, total: float, rows: int) -> int:
    """Stand-in rows that are missing: the noisy share ``nulls / total`` of ``rows`` (at least one when
    the noisy count passed, never all)."""
    if nulls <= 0 or total <= 0:
        return 0
    return int(min(rows - 1, max(1, round(rows * nulls / total))))


def _holds_nulls(dtype: Any) -> bool:
    return not (isinstance(dtype, np.dtype) and dtype.kind in "biu")


def _restore(values: np.ndarray, missing: int, series: pd.Series) -> pd.Series:
    """``values`` then ``missing`` missing values, in the training column's dtype and null marker."""
    column = np.concatenate([np.asarray(values, dtype=object), np.full(missing, None, dtype=object)])
    mask = np.arange(len(column)) >= len(values)
    return restore_objects(column, mask, series.dtype, null_marker(series), series.name)


def _categorical(series: pd.Series, plan: DPPlan, rng: np.random.Generator, rows: int, where: str) -> pd.Series:
    codes, uniques = factorize_values(series.to_numpy(dtype=object))
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    keys = {repr((type(v).__name__, v)): i for i, v in enumerate(uniques)}
    kept, nulls = released_categories({k: int(counts[i]) for k, i in keys.items()},
                                      int((codes < 0).sum()) if _holds_nulls(series.dtype) else None, plan, rng,
                                      f"{where}, column {series.name!r}")
    values = np.empty(len(kept), dtype=object)
    values[:] = [uniques[keys[k]] for k in kept]
    weights = np.maximum(np.asarray(list(kept.values()), dtype=np.float64), 1.0)
    missing = _null_rows(nulls, float(weights.sum()) + nulls, rows)
    column = np.repeat(values, _allocate(weights, rows - missing))
    if isinstance(series.dtype, pd.CategoricalDtype):  # its category list is data: keep the released ones only
        released = pd.Index(values)
        dtype = pd.CategoricalDtype([c for c in series.dtype.categories if c in released], ordered=series.dtype.ordered)
        series = pd.Series([], dtype=dtype, name=series.name)
    return _restore(column, missing, series)


def _boolean(series: pd.Series, plan: DPPlan, rng: np.random.Generator, rows: int) -> pd.Series:
    nulls = noisy_nulls(int(series.isna().sum()), plan, rng) if _holds_nulls(series.dtype) else 0
    missing = _null_rows(nulls, plan.rows, rows)
    values: np.ndarray = np.resize(np.array([False, True], dtype=object), rows - missing)
    present = series.dropna()
    if series.dtype == object and len(present) and not isinstance(present.iloc[0], (bool, np.bool_)):
        values = np.array([type(present.iloc[0])(v) for v in values], dtype=object)  # e.g. 0/1 objects
    return _restore(values, missing, series)


def _quantiles(points: np.ndarray, weights: np.ndarray, rows: int) -> np.ndarray:
    """``rows`` values at evenly spaced quantiles of the weighted points (sorted)."""
    cumulative = np.cumsum(weights) / weights.sum()
    return points[np.minimum(np.searchsorted(cumulative, (np.arange(rows) + 0.5) / rows), len(points) - 1)]


def in_number_format(values: np.ndarray, low: float, high: float, decimals: int | None
                     ) -> tuple[np.ndarray, float, float]:
    """Values of a noisy histogram written in the column's (public) number format.

    Args:
        values: Values standing for the histogram (e.g. :func:`noisy_numbers` points).
        low / high: The released range.
        decimals: The column's decimal places (``None``: as they are).

    Returns:
        ``(values, low, high)``: the range rounded inwards to ``decimals`` places (kept when no such
        number lies in it), the values rounded to them and clipped to the range.
    """
    if decimals is not None:
        scale = 10.0 ** decimals
        inner = (np.ceil(low * scale - 1e-9) / scale, np.floor(high * scale + 1e-9) / scale)
        low, high = inner if inner[0] <= inner[1] else (low, high)
        values = np.round(values, decimals)
    return np.clip(values, low, high), low, high


def _numerical(series: pd.Series, plan: DPPlan, rng: np.random.Generator, rows: int,
               bounds: tuple[float | str, float | str] | None, where: str) -> pd.Series:
    name = str(series.name)
    values = numeric_values(series, name)
    present = values[~np.isnan(values)]
    timedelta = pd.api.types.is_timedelta64_dtype(series.dtype)
    step = 1
    if timedelta:  # durations counted in their coarsest unit (e.g. seconds), not in nanoseconds
        unit = np.datetime_data(series.to_numpy().dtype)[0]
        ticks = series.dropna().to_numpy().view(np.int64)
        step = coarsest_step(ticks, unit)
        present = (ticks // step).astype(np.float64)
        if bounds is not None:
            bounds = duration_bounds(bounds, unit, step)
    places = decimal_places(series)
    integer = bool(pd.api.types.is_integer_dtype(series.dtype) or timedelta or
                   (present.size and np.all(present == np.round(present))))
    decimals = 0 if integer else (places if places is not None else detect_decimals(present))
    distinct, counts = np.unique(present, return_counts=True)
    numbers = noisy_numbers(distinct, counts, plan, rng, integer=integer, bounds=bounds,
                            where=f"{where}, column {name!r}")
    nulls = noisy_nulls(int(np.isnan(values).sum()), plan, rng) if _holds_nulls(series.dtype) else 0
    missing = _null_rows(nulls, float(numbers.weights.sum()) + nulls, rows)
    out, low, high = in_number_format(_quantiles(numbers.points, numbers.weights, rows - missing),
                                      numbers.minimum, numbers.maximum, decimals)
    out[0], out[-1] = low, high  # the range as released
    out = rng.permutation(out)
    out = np.concatenate([out, np.zeros(missing)])
    mask = np.arange(rows) >= rows - missing
    if timedelta:
        ticks = np.where(mask, np.iinfo(np.int64).min, np.round(out).astype(np.int64) * step)
        return pd.Series(ticks.view(f"timedelta64[{unit}]"), name=series.name).astype(series.dtype)
    if places is not None:
        return restore_decimals(out, mask, places, null_marker(series), series.name)
    if series.dtype == object:  # integers (or floats) as Python objects
        return _restore((out.astype(np.int64) if integer else out)[:rows - missing].astype(object), missing, series)
    return restore_numbers(out, mask, series.dtype, null_marker(series), series.name)


def _datetime(series: pd.Series, fmt: str | None, plan: DPPlan, rng: np.random.Generator, rows: int,
              bounds: tuple[float | str, float | str] | None, where: str) -> tuple[pd.Series, str | None]:
    # The encoder reads the representation (zone, string format, unit) and converts to naive UTC; its
    # statistics are thrown away.
    reader = DatetimeEncoder(str(series.name), datetime_format=fmt)
    reader.prepare(series, seed=0)
    naive = reader._to_naive_utc(series)
    times = noisy_times(naive.dropna(), plan, rng, bounds, where=f"{where}, column {series.name!r}")
    nulls = noisy_nulls(int(naive.isna().sum()), plan, rng) if _holds_nulls(series.dtype) else 0
    start = times.low if times.low is not None else pd.Timestamp(year=times.year_min, month=1, day=1)
    end = times.high if times.high is not None else pd.Timestamp(year=times.year_max, month=12, day=31, hour=23,
                                                                  minute=59, second=59)
    step = _TIME_STEPS[times.time_parts]
    stamps = pd.Series(pd.date_range(start, end, periods=rows)).dt.floor(step).clip(start, end)
    stamps = stamps.iloc[rng.permutation(rows)].reset_index(drop=True)
    mask = np.arange(rows) >= rows - _null_rows(nulls, plan.rows, rows)
    stamps[mask] = pd.NaT
    if reader.tz is not None:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(reader.tz)
    if reader.is_string:
        text = format_datetimes(stamps, reader.format).to_numpy(dtype=object)
        return restore_objects(text, mask, series.dtype, null_marker(series), series.name), reader.format
    if series.dtype == object:
        objects = (stamps.dt.date if reader.date_objects else stamps).to_numpy(dtype=object)
        return restore_objects(objects, mask, series.dtype, null_marker(series), series.name), None
    return stamps.astype(series.dtype).rename(series.name), None


def standin_frame(frame: pd.DataFrame, sdtypes: Mapping[str, str], plan: DPPlan, rng: np.random.Generator, *,
                  datetime_formats: Mapping[str, str] | None = None, where: str = "the model",
                  rows: int = STANDIN_ROWS) -> tuple[pd.DataFrame, dict[str, str]]:
    """A table of ``rows`` stand-in rows with ``frame``'s columns and dtypes, made from noisy counts only.

    Args:
        frame: The training rows.
        sdtypes: Every column's sdtype (text already refused).
        plan: The calibrated noise and thresholds (``plan.config.bounds``: declared bounds).
        rng: Source of the noise (and of the stand-ins' order).
        datetime_formats: String formats of datetime columns (else detected: public format).
        where: The model / table, for messages.
        rows: Stand-in rows.

    Returns:
        ``(stand-ins, formats)``: the stand-in table (each column's rows are independent of the
        others') and the string format of every string datetime column.

    Raises:
        PrivacyError: A categorical column none of whose values may be kept, a numerical column
            (without declared bounds) none of whose histogram buckets may be kept, or an sdtype without
            a DP stand-in.
    """
    bounds = plan.config.bounds
    formats = dict(datetime_formats or {})
    out: dict[str, pd.Series] = {}
    for column in frame.columns:
        name = str(column)
        series = frame[column].rename(column).reset_index(drop=True)
        sdtype = sdtypes[name]
        if sdtype == "categorical":
            out[column] = _categorical(series, plan, rng, rows, where)
        elif sdtype == "boolean" or (sdtype == "numerical" and pd.api.types.is_bool_dtype(series.dtype)):
            out[column] = _boolean(series, plan, rng, rows)
        elif sdtype == "numerical":
            out[column] = _numerical(series, plan, rng, rows, bounds.get(name), where)
        elif sdtype == "datetime":
            out[column], fmt = _datetime(series, formats.get(name), plan, rng, rows, bounds.get(name), where)
            if fmt is not None:
                formats[name] = fmt
        elif sdtype == "id":
            out[column] = dtype_id_generator(series).generate(rows, rng).rename(column).reset_index(drop=True)
        else:
            raise PrivacyError(f"{where}: column {name!r} has sdtype {sdtype!r}, which has no DP preprocessing.")
    length = max(len(column) for column in out.values())  # more than ``rows`` with many kept categories
    for column, values in out.items():
        if len(values) < length:
            out[column] = values.iloc[np.resize(rng.permutation(len(values)), length)].reset_index(drop=True)
    return pd.DataFrame(out, columns=frame.columns), formats
