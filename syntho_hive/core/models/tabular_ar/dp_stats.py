"""TabularAR's codec statistics under differential privacy (the preprocessing part of the budget).

The same codecs are built as without DP (:meth:`TableCodec.build`), but from statistics made of
noisy counts only (:mod:`syntho_hive.core.dp.mechanisms`), one query per column (two for a
datetime column):

* categorical: the values present, noisy counts, kept at or above the plan's category threshold;
  the others share the rare token (never generated); the missing values are one more bucket;
* numerical: a noisy histogram over the sign-logarithmic grid (or over the declared bounds), whose
  non-empty buckets give the range and the weighted values the quantile bins are fitted to (in the
  column's number format);
  no raw value, quantile or extreme is kept (a column with no non-empty bucket is refused); a 64-bit
  integer column declared past ``2**53`` is counted from its low bound and decoded exactly;
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

from syntho_hive.core.data.dp_standins import dtype_id_generator, in_number_format
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.dp.columns import (
    dp_queries,
    duration_bounds,
    noisy_nulls,
    noisy_numbers,
    noisy_times,
    released_categories,
)
from syntho_hive.core.metadata.decimals import FLOAT_EXACT
from syntho_hive.core.models.tabular_ar.encoders.base import CodecConfig
from syntho_hive.core.models.tabular_ar.encoders.categorical import (
    BooleanStats,
    CategoricalStats,
    analyze_boolean,
    analyze_categorical,
)
from syntho_hive.core.models.tabular_ar.encoders.datetime import (
    DatetimeStats,
    _parts_of,
    _to_utc_naive,
    analyze_datetime,
)
from syntho_hive.core.models.tabular_ar.encoders.ids import IdStats
from syntho_hive.core.models.tabular_ar.encoders.numeric import (
    NumericStats,
    _exact_integers,
    _numbers,
    _offsets,
    analyze_numeric,
)
from syntho_hive.core.models.tabular_ar.encoders.table import ColumnStats
from syntho_hive.exceptions import PrivacyError

__all__ = ["DROPPED_KEY", "dp_table_stats"]

#: A key no value has (not JSON): stands for the dropped categories, so every codec has a rare token.
DROPPED_KEY = "\x00dp-dropped"


def _categorical(series: pd.Series, plan: DPPlan, rng: np.random.Generator, where: str) -> CategoricalStats:
    raw = analyze_categorical(series)
    kept, nulls = released_categories(raw.counts, raw.nulls, plan, rng, f"{where}, column {series.name!r}")
    dtype = raw.dtype
    if dtype.get("name") == "category":  # its category list is data: keep the released ones only
        dtype = {**dtype, "categories": [v for v in dtype["categories"]
                                         if json.dumps(v, sort_keys=True, separators=(",", ":")) in kept]}
    return CategoricalStats(counts={**kept, DROPPED_KEY: 0}, nulls=nulls, dtype=dtype, marker=raw.marker)


def _boolean(series: pd.Series, plan: DPPlan, rng: np.random.Generator) -> BooleanStats:
    raw = analyze_boolean(series)
    return BooleanStats(0, 0, noisy_nulls(raw.nulls, plan, rng), raw.dtype, raw.marker, types=raw.types)


def _from_low_bound(series: pd.Series, bounds: tuple[float | str, float | str], where: str
                    ) -> tuple[np.ndarray, np.ndarray, int, tuple[float, float]]:
    """A 64-bit integer column declared past ``2**53`` counted from its low bound (public; the smallest
    value, which :func:`analyze_numeric` counts from, is not): ``(offsets, counts, base, offset bounds)``,
    the values clipped to the bounds (within the dtype's range) in integer arithmetic.

    Raises:
        PrivacyError: The bounds lie outside the dtype's range.
    """
    exact = _exact_integers(series)
    limits = np.iinfo(exact.dtype)
    low, high = max(int(bounds[0]), int(limits.min)), min(int(bounds[1]), int(limits.max))
    if low > high:
        raise PrivacyError(f"{where}: its DPConfig.bounds {bounds} lie outside the range of its dtype {series.dtype}; "
                           "declare bounds within it.")
    offsets, counts = np.unique(_offsets(np.clip(exact, low, high), low), return_counts=True)
    return offsets, counts, low, (0.0, float(high - low))


def _numerical(series: pd.Series, config: CodecConfig, plan: DPPlan, rng: np.random.Generator,
               bounds: tuple[float | str, float | str] | None, where: str) -> NumericStats:
    raw = analyze_numeric(series, config)
    where = f"{where}, column {series.name!r}"
    values, counts, base = np.asarray(raw.values, dtype=np.float64), np.asarray(raw.counts), None
    if bounds is not None and raw.tick_step is not None:  # a duration: counted in units of its tick step
        bounds = duration_bounds(bounds, np.datetime_data(series.to_numpy().dtype)[0], raw.tick_step)
    elif (bounds is not None and _exact_integers(series) is not None
          and max(abs(float(bounds[0])), abs(float(bounds[1]))) > FLOAT_EXACT):
        values, counts, base, bounds = _from_low_bound(series, bounds, where)
    elif raw.base is not None:  # counted from its smallest value, which is private: count the values themselves
        values, counts = np.unique(_numbers(series, str(series.name)), return_counts=True)
    numbers = noisy_numbers(values, counts, plan, rng, integer=raw.integer, bounds=bounds, where=where)
    nulls = noisy_nulls(raw.nulls, plan, rng)
    points, weights, minimum, maximum = numbers.points, numbers.weights, numbers.minimum, numbers.maximum
    if not raw.integer:  # decoding copies points: in the number format (it rounds integers itself)
        points, minimum, maximum = in_number_format(points, minimum, maximum, raw.decimals)
        points, merged = np.unique(points, return_inverse=True)
        weights = np.bincount(merged, weights=weights)
    weights = np.maximum(np.round(weights), 1).astype(np.int64)
    return NumericStats(points.tolist(), weights.tolist(), False, nulls, raw.integer, raw.decimals,
                        minimum, maximum, raw.dtype, raw.marker, raw.max_distinct,
                        raw.significant_digits, decimal_places=raw.decimal_places, tick_step=raw.tick_step,
                        bounded=True, base=base)


def _datetime(series: pd.Series, fmt: str | None, plan: DPPlan, rng: np.random.Generator,
              bounds: tuple[float | str, float | str] | None, where: str) -> DatetimeStats:
    raw = analyze_datetime(series, fmt)
    values, _, _ = _to_utc_naive(series, str(series.name), raw.fmt)
    times = noisy_times(values.dropna(), plan, rng, bounds, where=f"{where}, column {series.name!r}")
    nulls = noisy_nulls(raw.nulls, plan, rng)
    low = [times.year_min, 1, 1, 0, 0, 0, 0, 0] if bounds is None else _parts_of(times.low)
    high = [times.year_max, 12, 31, 23, 59, 59, 999, 999] if bounds is None else _parts_of(times.high)
    return DatetimeStats(times.year_min, times.year_max, times.time_parts, nulls, raw.tz, raw.fmt, raw.dtype,
                         raw.marker, low=low, high=high, objects=raw.objects)


def _id(series: pd.Series) -> IdStats:
    """A format from the dtype alone (:func:`~syntho_hive.core.data.dp_standins.dtype_id_generator`)."""
    return IdStats(dtype_id_generator(series).to_dict())


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
        PrivacyError: A text column, a categorical column none of whose values may be kept, or a
            numerical column (without declared bounds) none of whose histogram buckets may be kept.
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
            out[name] = _numerical(series, config, plan, rng, bounds.get(name), where)
        elif sdtype == "datetime":
            out[name] = _datetime(series, formats.get(name), plan, rng, bounds.get(name), where)
        elif sdtype == "boolean":
            out[name] = _boolean(series, plan, rng)
        elif sdtype == "id":
            out[name] = _id(series)
        else:
            dp_queries({name: sdtype}, where)  # raises for text
            raise PrivacyError(f"{where}: column {name!r} has sdtype {sdtype!r}, which has no DP preprocessing.")
    return out
