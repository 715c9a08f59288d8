"""TabularAR's codec statistics under differential privacy (the preprocessing part of the budget).

The same codecs are built as without DP (:meth:`TableCodec.build`), but from statistics made of
noisy counts only (:mod:`syntho_hive.core.dp.mechanisms`), one query per column (two for a
datetime column):

* categorical: the values present, noisy counts, kept at or above the plan's category threshold;
  the others share the rare token (never generated); the missing values are one more bucket;
* numerical: a noisy histogram over the sign-logarithmic grid (or over the declared bounds), whose
  non-empty buckets give the range and the weighted values the quantile bins are fitted to;
  no raw value, quantile or extreme is kept;
* datetime: noisy counts of whole years (1678-2261, or the declared bounds) give the year range,
  and noisy counts of the finest non-zero time part give the modelled parts;
* boolean: a noisy count of the missing values;
* id: nothing is read; ids are generated in a format fixed by the dtype (integers from 1, random
  strings, daily timestamps from 2000-01-01), so no real key or key pattern is kept;
* text: refused (word statistics under DP are not implemented).

Not covered (public): the number of rows, the columns, their sdtypes and dtypes, the number format
of a numeric column (integer or not, decimal places, duration unit), a datetime column's time zone
and string format, the null marker. See ``docs/privacy.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.dp.mechanisms import (
    Grid,
    declared_buckets,
    log_grid,
    noisy_categories,
    noisy_counts,
    uniform_grid,
    values_from_histogram,
)
from syntho_hive.core.models.tabular_ar.encoders.base import CodecConfig
from syntho_hive.core.models.tabular_ar.encoders.categorical import (
    BooleanStats,
    CategoricalStats,
    analyze_boolean,
    analyze_categorical,
)
from syntho_hive.core.models.tabular_ar.encoders.datetime import DatetimeStats, _to_utc_naive, analyze_datetime
from syntho_hive.core.models.tabular_ar.encoders.ids import IdStats
from syntho_hive.core.models.tabular_ar.encoders.numeric import NumericStats, analyze_numeric
from syntho_hive.core.models.tabular_ar.encoders.table import ColumnStats
from syntho_hive.events import get_logger
from syntho_hive.exceptions import PrivacyError

__all__ = ["DROPPED_KEY", "dp_queries", "dp_table_stats"]

_log = get_logger(__name__)

#: A key no value has (not JSON): stands for the dropped categories, so every codec has a rare token.
DROPPED_KEY = "\x00dp-dropped"
#: Queries per column, by sdtype (``text`` is refused).
_QUERIES = {"categorical": 1, "numerical": 1, "boolean": 1, "datetime": 2, "id": 0}
#: Years of the datetime grid (the range of nanosecond timestamps).
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
#: Time parts as :func:`analyze_datetime` numbers them: 0 (dates) to 5 (microseconds).
_RESOLUTIONS = 6


def dp_queries(sdtypes: Mapping[str, str], where: str) -> tuple[int, int]:
    """``(queries, category_queries)`` of the columns' preprocessing.

    Raises:
        PrivacyError: A text column (not supported under DP).
    """
    text = [c for c, t in sdtypes.items() if t == "text"]
    if text:
        raise PrivacyError(
            f"{where}: free-text column(s) {text} cannot be modelled under differential privacy (their word "
            "statistics are not noised). Drop them, or declare them 'categorical' (then only values held by "
            "many rows are kept, from noisy counts).")
    return (sum(_QUERIES.get(t, 1) for t in sdtypes.values()),
            sum(1 for t in sdtypes.values() if t == "categorical"))


def _noisy_nulls(nulls: int, plan: DPPlan, rng: np.random.Generator) -> int:
    """The missing values' bucket: its noisy count when it reaches the count threshold, else 0."""
    value = float(noisy_counts(np.array([nulls]), plan.preprocessing_noise, rng)[0])
    return int(round(value)) if value >= plan.count_threshold else 0


def _categorical(series: pd.Series, plan: DPPlan, rng: np.random.Generator, where: str) -> CategoricalStats:
    raw = analyze_categorical(series)
    kept = noisy_categories(raw.counts, plan.preprocessing_noise, plan.category_threshold, rng)
    nulls = _noisy_nulls(raw.nulls, plan, rng)
    if not kept:
        raise PrivacyError(
            f"{where}, column {series.name!r}: no category reaches the noisy count threshold "
            f"({plan.category_threshold:.0f} rows at max_epsilon={plan.config.max_epsilon}), so none may be "
            "generated. Drop the column, raise max_epsilon or preprocessing_share, or declare it numerical.")
    dtype = raw.dtype
    if dtype.get("name") == "category":  # its category list is data: keep the released ones only
        dtype = {**dtype, "categories": [v for v in dtype["categories"]
                                         if json.dumps(v, sort_keys=True, separators=(",", ":")) in kept]}
    return CategoricalStats(counts={**kept, DROPPED_KEY: 0}, nulls=nulls, dtype=dtype, marker=raw.marker)


def _boolean(series: pd.Series, plan: DPPlan, rng: np.random.Generator) -> BooleanStats:
    raw = analyze_boolean(series)
    return BooleanStats(0, 0, _noisy_nulls(raw.nulls, plan, rng), raw.dtype, raw.marker, types=raw.types)


def _numeric_grid(bounds: tuple[float | str, float | str] | None, integer: bool, plan: DPPlan) -> Grid:
    if bounds is None:
        return log_grid()
    return uniform_grid(float(bounds[0]), float(bounds[1]), integer=integer,
                        buckets=declared_buckets(plan.rows, plan.count_threshold))


def _numerical(series: pd.Series, config: CodecConfig, plan: DPPlan, rng: np.random.Generator,
               bounds: tuple[float | str, float | str] | None) -> NumericStats:
    raw = analyze_numeric(series, config)
    values = np.asarray(raw.values, dtype=np.float64)
    if bounds is not None:
        values = np.clip(values, float(bounds[0]), float(bounds[1]))
    grid = _numeric_grid(bounds, raw.integer, plan)
    histogram = np.zeros(len(grid))
    np.add.at(histogram, grid.index(values), np.asarray(raw.counts, dtype=np.float64))
    noisy = noisy_counts(histogram, plan.preprocessing_noise, rng)
    nulls = _noisy_nulls(raw.nulls, plan, rng)
    points, weights, minimum, maximum = values_from_histogram(grid, noisy, plan.count_threshold,
                                                              integer=raw.integer)
    if bounds is not None:
        if minimum is None:  # no bucket stands out from the noise: the declared range, evenly
            points, weights = (grid.low + grid.high) / 2, np.ones(len(grid))
        minimum, maximum = float(bounds[0]), float(bounds[1])
    if raw.integer and minimum is not None:
        minimum, maximum = float(np.ceil(minimum)), float(np.floor(maximum))
    if minimum is None:
        _log.info("dp_numeric_column_empty", column=str(series.name), threshold=plan.count_threshold)
    counts = np.maximum(np.round(weights), 1).astype(np.int64)
    return NumericStats(points.tolist(), counts.tolist(), False, nulls, raw.integer, raw.decimals, minimum, maximum,
                        raw.dtype, raw.marker, raw.max_distinct, raw.significant_digits,
                        decimal_places=raw.decimal_places, tick_step=raw.tick_step)


def _resolution(values: pd.Series) -> np.ndarray:
    """The finest non-zero time part of each timestamp, numbered as ``DatetimeStats.time_parts``."""
    micros = values.dt.microsecond.to_numpy(dtype=np.int64)
    level = np.zeros(len(values), dtype=np.int64)
    for part, present in ((1, values.dt.hour.to_numpy() != 0), (2, values.dt.minute.to_numpy() != 0),
                          (3, values.dt.second.to_numpy() != 0), (4, micros != 0), (5, micros % 1000 != 0)):
        level[present] = part
    return level


def _datetime(series: pd.Series, fmt: str | None, plan: DPPlan, rng: np.random.Generator,
              bounds: tuple[float | str, float | str] | None) -> DatetimeStats:
    raw = analyze_datetime(series, fmt)
    values, _, _ = _to_utc_naive(series, str(series.name), raw.fmt)
    present = values.dropna()
    low_stamp = pd.Timestamp(bounds[0]).tz_localize(None) if bounds is not None else None
    high_stamp = pd.Timestamp(bounds[1]).tz_localize(None) if bounds is not None else None
    if bounds is not None:
        present = present.clip(low_stamp, high_stamp)
    first, last = (low_stamp.year, high_stamp.year) if bounds is not None else (_FIRST_YEAR, _LAST_YEAR)
    years = np.clip(present.dt.year.to_numpy(dtype=np.int64), first, last) - first
    noisy = noisy_counts(np.bincount(years, minlength=last - first + 1), plan.preprocessing_noise, rng)
    nulls = _noisy_nulls(raw.nulls, plan, rng)
    kept = np.flatnonzero(noisy >= plan.count_threshold)
    year_min, year_max = (int(kept[0]) + first, int(kept[-1]) + first) if len(kept) else (2000, 2000)
    levels = noisy_counts(np.bincount(_resolution(present), minlength=_RESOLUTIONS), plan.preprocessing_noise, rng)
    finer = np.flatnonzero(levels >= plan.count_threshold)
    time_parts = int(finer[-1]) if len(finer) else 0
    low = [year_min, 1, 1, 0, 0, 0, 0, 0]
    high = [year_max, 12, 31, 23, 59, 59, 999, 999]
    if bounds is not None:
        low = [low_stamp.year, low_stamp.month, low_stamp.day, low_stamp.hour, low_stamp.minute, low_stamp.second,
               low_stamp.microsecond // 1000, low_stamp.microsecond % 1000]
        high = [high_stamp.year, high_stamp.month, high_stamp.day, high_stamp.hour, high_stamp.minute,
                high_stamp.second, high_stamp.microsecond // 1000, high_stamp.microsecond % 1000]
        year_min, year_max = low_stamp.year, high_stamp.year
    return DatetimeStats(year_min, year_max, time_parts, nulls, raw.tz, raw.fmt, raw.dtype, raw.marker,
                         low=low, high=high, objects=raw.objects)


def _id(series: pd.Series) -> IdStats:
    """A format from the dtype alone: integers from 1, daily timestamps from 2000-01-01, random strings."""
    generator = IdGenerator(str(series.name))
    generator.prepare(series.iloc[:0], seed=0)  # the dtype and null marker of an empty column
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        unit = np.datetime_data(np.dtype(getattr(series.dtype, "base", series.dtype)))[0]
        generator.kind = "datetime"
        generator.start = int(np.datetime64("2000-01-01", unit).astype(np.int64))
        generator.step = int(np.timedelta64(1, "D").astype(f"timedelta64[{unit}]").astype(np.int64))
    elif generator.kind == "int":
        generator.start, generator.step = 1, 1
    return IdStats(generator.to_dict())


def dp_table_stats(frame: pd.DataFrame, sdtypes: Mapping[str, str], config: CodecConfig, plan: DPPlan,
                   rng: np.random.Generator, *, datetime_formats: Mapping[str, str] | None = None,
                   where: str = "TabularAR") -> dict[str, ColumnStats]:
    """Codec statistics of ``frame`` from noisy counts (one query per column, two per datetime).

    Args:
        frame: The training rows.
        sdtypes: Every column's sdtype.
        config: Codec settings.
        plan: The calibrated noise and thresholds.
        rng: Source of the noise.
        datetime_formats: String formats of datetime columns.
        where: The model / table, for messages.

    Returns:
        ``{column: statistics}`` in column order, for :meth:`TableCodec.build`.

    Raises:
        PrivacyError: A text column, or a categorical column none of whose values may be kept.
    """
    bounds = plan.config.bounds
    formats = dict(datetime_formats or {})
    out: dict[str, ColumnStats] = {}
    for column in frame.columns:
        name = str(column)
        series = frame[column].rename(name)
        sdtype = sdtypes[name]
        if sdtype == "categorical":
            out[name] = _categorical(series, plan, rng, where)
        elif sdtype == "numerical":
            out[name] = _numerical(series, config, plan, rng, bounds.get(name))
        elif sdtype == "datetime":
            out[name] = _datetime(series, formats.get(name), plan, rng, bounds.get(name))
        elif sdtype == "boolean":
            out[name] = _boolean(series, plan, rng)
        elif sdtype == "id":
            out[name] = _id(series)
        else:
            dp_queries({name: sdtype}, where)  # raises for text
            raise PrivacyError(f"{where}: column {name!r} has sdtype {sdtype!r}, which has no DP preprocessing.")
    return out
