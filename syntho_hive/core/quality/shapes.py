"""Column-shape scores: how closely each synthetic column's marginal distribution matches the real one.

Definitions follow SDMetrics' single-column metrics, so scores are directly comparable with an
SDMetrics ``QualityReport`` "Column Shapes" property on data without nulls:

* **numerical / datetime** columns: ``KSComplement = 1 - D``, where ``D`` is the two-sample
  Kolmogorov-Smirnov statistic (the largest absolute gap between the two empirical CDFs) computed on
  the non-null values. Datetimes are compared as nanoseconds since the epoch (UTC for tz-aware data).
* **categorical / boolean** columns: ``TVComplement = 1 - TVD`` with the total variation distance
  ``TVD = 1/2 * sum_c |p_real(c) - p_synth(c)|`` over the union of categories seen in either frame.

Nulls:

* categorical / boolean: a missing value (NaN, None, pd.NA) is one more category, so a wrong null
  rate lowers the score exactly like any other wrong category frequency.
* numerical / datetime: the score is ``(1 - |null_real - null_synth|) * (1 - D)`` where
  ``null_*`` are the null shares and ``D`` the KS statistic on the non-null values. Without nulls (or
  with equal null shares) this is exactly SDMetrics' KSComplement; each factor is in [0, 1], so a
  wrong null rate and a wrong value distribution both lower it. When one side has no non-null value
  at all, ``1 - D`` is taken as 0 (nothing to compare) unless both sides are entirely null (1).

Columns whose sdtype is ``id`` or ``text`` are skipped: their marginal distribution is not meant to
be reproduced.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timezone

from collections.abc import Mapping

import numpy as np
import pandas as pd

from syntho_hive.core.time_of_day import durations_of, is_time_of_day
from syntho_hive.core.metadata.datetime_formats import time_unit
from syntho_hive.core.metadata.schema import SDTYPES, SDType
from syntho_hive.exceptions import SchemaError

__all__ = [
    "column_shape_scores",
    "overall_column_shape",
    "ks_complement",
    "tv_complement",
    "as_float",
    "as_numbers",
    "ks_statistic",
    "category_frequencies",
    "MISSING",
    "SKIPPED_SDTYPES",
    "CONTINUOUS_SDTYPES",
    "DISCRETE_SDTYPES",
]

#: sdtypes that have no column-shape score.
SKIPPED_SDTYPES: frozenset[str] = frozenset({"id", "text"})

#: sdtypes scored with the KS complement.
CONTINUOUS_SDTYPES: frozenset[str] = frozenset({"numerical", "datetime"})
#: sdtypes scored with the TV complement.
DISCRETE_SDTYPES: frozenset[str] = frozenset({"categorical", "boolean"})


class _Missing:
    """Hashable stand-in for every kind of missing value when counting categories."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"


#: The single stand-in for a missing value in category counts.
MISSING = _Missing()


def as_float(series: pd.Series) -> np.ndarray:
    """A numerical/datetime/boolean column as float64 (datetimes as ns since epoch, durations and times of day
    as ns, nulls as NaN)."""
    if isinstance(series.dtype, pd.ArrowDtype) and series.dtype.kind in "mM":
        # pyarrow timestamps/dates/durations hand out objects from to_numpy(): cast to pandas' own types, in
        # their own unit (dates: seconds), which holds them (nanoseconds end in 2262)
        tz = getattr(series.dtype.pyarrow_dtype, "tz", None)
        unit = time_unit(series.dtype)
        series = series.astype(f"timedelta64[{unit}]" if series.dtype.kind == "m"
                               else f"datetime64[{unit}, {tz}]" if tz else f"datetime64[{unit}]")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    if is_time_of_day(series):  # datetime.time: its duration since midnight (as the models see it)
        series = durations_of(series)
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or pd.api.types.is_timedelta64_dtype(series.dtype):
        values = series.to_numpy()
        # the column's own ticks scaled to ns in floating point: a cast to datetime64[ns] raises (or wraps
        # around) for dates beyond 1677-2262, which datetime64[s] / [us] columns hold
        ns_per_tick = np.timedelta64(1, np.datetime_data(values.dtype)[0]) / np.timedelta64(1, "ns")
        result = values.view(np.int64).astype(np.float64) * ns_per_tick
        result[pd.isna(values)] = np.nan
        return result
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("date", "datetime"):
        return _date_objects(series)
    # Strings holding numbers, times of day or dates: parse; unparsable values count as nulls.
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().sum() >= series.notna().sum():
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    if _iso_times(series):  # '08:30:00', what a CSV of datetime.time values reads back as
        return as_float(durations_of(series))
    dates = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return as_float(dates)


def _iso_times(series: pd.Series) -> bool:
    """Whether every non-null value of ``series`` is an ISO time of day without a time zone (``'08:30'``,
    ``'17:05:09.5'``): such text is a duration since midnight, as ``datetime.time`` values are, not today's
    date at that time (what ``pd.to_datetime`` would read)."""
    values = series.dropna()
    if not len(values) or pd.api.types.infer_dtype(values, skipna=True) != "string":
        return False
    try:
        parsed = [time.fromisoformat(value.strip()) for value in pd.unique(values.to_numpy(dtype=object))]
    except ValueError:
        return False
    return all(value.tzinfo is None for value in parsed)


def _date_objects(series: pd.Series) -> np.ndarray:
    """``datetime.date`` / ``datetime.datetime`` objects as ns since epoch (aware ones in UTC), through
    microseconds: ``pd.to_datetime`` would turn dates beyond 1677-2262 (``9999-12-31``) into nulls."""
    present = series.notna().to_numpy()
    values = series.to_numpy()[present]
    naive = [v.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo is not None
             else v for v in values]
    stamps = np.full(len(series), np.datetime64("NaT"), dtype="datetime64[us]")
    if naive:
        stamps[present] = np.array(naive, dtype="datetime64[us]")
    result = stamps.view(np.int64).astype(np.float64) * 1_000.0
    result[~present] = np.nan
    return result


def as_numbers(series: pd.Series) -> np.ndarray:
    """Non-null values of a numerical or datetime column as float64 (see :func:`as_float`)."""
    values = as_float(series)
    return values[~np.isnan(values)]


def ks_statistic(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Two-sample KS statistic: sup_x |F_real(x) - F_synth(x)| over the pooled sample (vectorised)."""
    real_sorted = np.sort(real)
    synthetic_sorted = np.sort(synthetic)
    pooled = np.concatenate([real_sorted, synthetic_sorted])
    cdf_real = np.searchsorted(real_sorted, pooled, side="right") / real_sorted.size
    cdf_synthetic = np.searchsorted(synthetic_sorted, pooled, side="right") / synthetic_sorted.size
    return float(np.max(np.abs(cdf_real - cdf_synthetic)))


def ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """``(1 - |null share difference|) * (1 - KS statistic on non-null values)`` for one column.

    Args:
        real: The real column (numbers, datetimes, or strings holding either).
        synthetic: The synthetic column.

    Returns:
        A score in [0, 1]; 1 means identical empirical distributions and null shares.
    """
    real_values = as_numbers(real)
    synthetic_values = as_numbers(synthetic)
    real_null = 1.0 - real_values.size / len(real) if len(real) else 0.0
    synthetic_null = 1.0 - synthetic_values.size / len(synthetic) if len(synthetic) else 0.0
    if real_values.size and synthetic_values.size:
        value_score = 1.0 - ks_statistic(real_values, synthetic_values)
    else:
        value_score = 1.0 if real_values.size == synthetic_values.size == 0 else 0.0
    score = (1.0 - abs(real_null - synthetic_null)) * value_score
    return float(min(1.0, max(0.0, score)))


def category_frequencies(series: pd.Series) -> pd.Series:
    """Category shares of ``series`` (missing values counted as :data:`MISSING`), unsorted."""
    values = series.astype(object)
    values = values.where(series.notna(), MISSING)
    return values.value_counts(normalize=True, dropna=False, sort=False)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """``1 - total variation distance`` between the category frequencies, missing values as a category.

    Args:
        real: The real column (any hashable values).
        synthetic: The synthetic column.

    Returns:
        A score in [0, 1]; 1 means identical category frequencies.
    """
    if len(real) == 0 or len(synthetic) == 0:
        return 1.0 if len(real) == len(synthetic) else 0.0
    real_freq, synthetic_freq = category_frequencies(real), category_frequencies(synthetic)
    categories = real_freq.index.union(synthetic_freq.index, sort=False)  # mixed types: no sorting
    real_freq = real_freq.reindex(categories, fill_value=0.0)
    synthetic_freq = synthetic_freq.reindex(categories, fill_value=0.0)
    # fsum: the result does not depend on the (unsorted) order of the categories
    tvd = 0.5 * math.fsum(np.abs(real_freq.to_numpy(dtype=np.float64) - synthetic_freq.to_numpy(dtype=np.float64)))
    return float(min(1.0, max(0.0, 1.0 - tvd)))


def _default_sdtype(series: pd.Series, column: str) -> SDType:
    from syntho_hive.core.metadata.detect import detect_sdtype

    return detect_sdtype(series, column)


def column_shape_scores(real: pd.DataFrame, synthetic: pd.DataFrame,
                        sdtypes: Mapping[str, SDType] | None = None) -> dict[str, float]:
    """Score how well each synthetic column reproduces the real column's marginal distribution.

    Args:
        real: The real table.
        synthetic: The synthetic table; must hold every column of ``real`` (extra columns are ignored).
        sdtypes: Semantic type per column. Columns not listed are typed with
            :func:`syntho_hive.core.metadata.detect.detect_sdtype` on the real data.

    Returns:
        ``{column: score}`` in the column order of ``real``, each score in [0, 1]
        (KSComplement for numerical/datetime, TVComplement for categorical/boolean); ``id`` and
        ``text`` columns are left out.

    Raises:
        SchemaError: If ``synthetic`` lacks columns of ``real``, or an sdtype is unknown.
    """
    missing = [column for column in real.columns if column not in synthetic.columns]
    if missing:
        raise SchemaError(f"Synthetic data lacks column(s) {missing} present in the real data; "
                          "generate all columns of the real table before scoring column shapes.")
    given = dict(sdtypes or {})
    unknown = {column: sdtype for column, sdtype in given.items() if sdtype not in SDTYPES}
    if unknown:
        raise SchemaError(f"Unknown sdtype(s) {unknown} for column shapes; use one of {list(SDTYPES)}.")
    scores: dict[str, float] = {}
    for column in real.columns:
        sdtype = given.get(column) or _default_sdtype(real[column], column)
        if sdtype in SKIPPED_SDTYPES:
            continue
        if sdtype in CONTINUOUS_SDTYPES:
            scores[column] = ks_complement(real[column], synthetic[column])
        elif sdtype in DISCRETE_SDTYPES:
            scores[column] = tv_complement(real[column], synthetic[column])
    return scores


def overall_column_shape(scores: Mapping[str, float]) -> float:
    """The overall column-shape score: the mean of the per-column scores.

    Args:
        scores: ``{column: score}`` as returned by :func:`column_shape_scores`.

    Returns:
        The mean score in [0, 1].

    Raises:
        SchemaError: If ``scores`` is empty (no numerical, datetime, categorical or boolean column).
    """
    if not scores:
        raise SchemaError("No column to score: column shapes need at least one numerical, datetime, "
                          "categorical or boolean column.")
    return float(np.mean(np.fromiter(scores.values(), dtype=np.float64, count=len(scores))))
