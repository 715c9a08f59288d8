"""Per-column statistics from noisy counts, shared by the engines' DP preprocessing.

Each function makes the queries :func:`dp_queries` counts for its column (one histogram per
column, two for a datetime column), with the plan's noise, and returns only what follows from the
noisy counts (post-processing): the number of missing values, the weighted values standing for a
numeric column's histogram and its range, a datetime column's year range and finest time part.
The engines turn these into their own preprocessing (TabularAR's codecs, the DataTransformer of
CTGAN-style engines). Refusals that apply to every engine (text columns, misdeclared bounds) are
here too, so they come before any noise is drawn.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.dp.config import BOUND_FORMS, BoundKind, DPConfig, bound_kind, bound_nanoseconds
from syntho_hive.core.dp.mechanisms import (
    Grid,
    declared_buckets,
    integer_grid,
    integer_grid_rows,
    log_grid,
    noisy_categories,
    noisy_counts,
    uniform_grid,
    values_from_histogram,
)
from syntho_hive.exceptions import PrivacyError

__all__ = ["DAY_BOUNDS", "FIRST_YEAR", "LAST_YEAR", "NoisyNumbers", "NoisyTimes", "check_bounds", "dp_queries",
           "duration_bounds", "noisy_nulls", "noisy_numbers", "noisy_times", "refuse_constraints",
           "released_categories", "time_part_levels", "with_day_bounds"]

#: Queries per column, by sdtype (``text`` is refused).
_QUERIES = {"categorical": 1, "numerical": 1, "boolean": 1, "datetime": 2, "id": 0}
#: Years of the datetime grid (the range of nanosecond timestamps).
FIRST_YEAR, LAST_YEAR = 1678, 2261
#: Time parts numbered 0 (dates) to 5 (microseconds): hour, minute, second, millisecond, microsecond.
_RESOLUTIONS = 6

Bounds = tuple[float | str, float | str]
#: The public domain of a time of day, ``[00:00, 24:00)``: its bounds when none are declared.
DAY_BOUNDS: Bounds = ("00:00:00", "23:59:59.999999")


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


def refuse_constraints(constrained: bool, where: str) -> None:
    """Refuse a table that declares constraints (before any work).

    Raises:
        PrivacyError: ``constrained``: the constraint engine learns bounds and seen combinations
            from the raw rows, outside the budget.
    """
    if constrained:
        raise PrivacyError(f"{where}: the table declares constraints, whose engine learns bounds and seen "
                           "combinations from the raw rows outside the privacy budget. Fit without them (drop "
                           "them from the TableConfig) or without dp.")


_KIND_NAMES = {"number": "numbers", "datetime": "dates", "time": "times of day", "duration": "durations"}
_COLUMN_NAMES = {"number": "numerical", "datetime": "a datetime column", "time": "a time-of-day column",
                 "duration": "a duration column"}


def check_bounds(config: DPConfig, sdtypes: Mapping[str, str], where: str, *,
                 numeric_kinds: Mapping[str, BoundKind] | None = None) -> None:
    """Refuse declared bounds of unknown columns, or of the wrong kind (all problems at once).

    Args:
        config: The DP settings.
        sdtypes: Every training column's sdtype.
        where: The model / table, for messages.
        numeric_kinds: The bounds a numerical column takes when not numbers: ``"time"`` for a time of
            day (modelled as a duration since midnight), ``"duration"`` for a ``timedelta64`` column.

    Raises:
        PrivacyError: A bound names a column that is not trained, or does not fit its column.
    """
    problems = []
    for column, (low, _) in config.bounds.items():
        sdtype = sdtypes.get(column)
        if sdtype is None:
            problems.append(f"{column!r} is not a training column")
            continue
        if sdtype not in ("numerical", "datetime"):
            problems.append(f"{column!r} is {sdtype}; bounds apply to numerical and datetime columns")
            continue
        expected: BoundKind = "datetime" if sdtype == "datetime" else (numeric_kinds or {}).get(column, "number")
        declared = bound_kind(low)
        if declared != expected:
            problems.append(f"{column!r} is {_COLUMN_NAMES[expected]} but its bounds are {_KIND_NAMES[declared]}; "
                            f"declare {BOUND_FORMS[expected]}")
    if problems:
        raise PrivacyError(f"{where}: DPConfig.bounds: " + "; ".join(problems) + ".")


def with_day_bounds(config: DPConfig, times: Collection[str]) -> DPConfig:
    """``config`` with :data:`DAY_BOUNDS` for each time-of-day column of ``times`` that declares none (a time
    of day lies in one day, which is public: no budget is spent to know it)."""
    missing = {column: DAY_BOUNDS for column in times if column not in config.bounds}
    return replace(config, bounds={**config.bounds, **missing}) if missing else config


def duration_bounds(bounds: Bounds, unit: str, step: int) -> tuple[float, float]:
    """Declared time-of-day or duration bounds in units of ``step`` ticks of ``unit`` (a ``timedelta64`` unit),
    the unit the column's values are counted in."""
    tick = int(np.timedelta64(1, unit).astype("timedelta64[ns]").astype(np.int64)) * int(step)
    low, high = (bound_nanoseconds(value) / tick for value in bounds)
    return float(low), float(high)


def noisy_nulls(nulls: int, plan: DPPlan, rng: np.random.Generator) -> int:
    """The missing values' bucket: its noisy count when it reaches the count threshold, else 0."""
    value = float(noisy_counts(np.array([nulls]), plan.preprocessing_noise, rng)[0])
    return int(round(value)) if value >= plan.count_threshold else 0


def released_categories(counts: dict[str, int], nulls: int | None, plan: DPPlan, rng: np.random.Generator,
                        where: str) -> tuple[dict[str, int], int]:
    """A categorical column's one query: the categories whose noisy count reaches the plan's category
    threshold (:func:`~syntho_hive.core.dp.mechanisms.noisy_categories`), then :func:`noisy_nulls`
    (``nulls=None``: a dtype that holds none, no draw).

    Args:
        where: The model / table and column, for messages.

    Raises:
        PrivacyError: No category may be kept.
    """
    kept = noisy_categories(counts, plan.preprocessing_noise, plan.category_threshold, rng)
    missing = noisy_nulls(nulls, plan, rng) if nulls is not None else 0
    if not kept:
        raise PrivacyError(
            f"{where}: no category reaches the noisy count threshold ({plan.category_threshold:.0f} rows at "
            f"max_epsilon={plan.config.max_epsilon}), so none may be generated. Drop the column, raise "
            "max_epsilon or preprocessing_share, or declare it numerical.")
    return kept, missing


@dataclass(frozen=True)
class NoisyNumbers:
    """A numeric column as its noisy histogram shows it.

    Attributes:
        points / weights: Sorted values and their positive weights (see
            :func:`~syntho_hive.core.dp.mechanisms.values_from_histogram`).
        minimum / maximum: The range (the declared bounds when given).
    """

    points: np.ndarray
    weights: np.ndarray
    minimum: float
    maximum: float


def _numeric_grid(bounds: Bounds | None, integer: bool, plan: DPPlan) -> Grid:
    if bounds is None:
        # One bucket per small integer when the table is large enough for such buckets to rise above the
        # noise (rows are public); otherwise the coarser sign-logarithmic buckets.
        fine = integer and plan.rows >= integer_grid_rows(plan.count_threshold)
        return integer_grid() if fine else log_grid()
    return uniform_grid(float(bounds[0]), float(bounds[1]), integer=integer,
                        buckets=declared_buckets(plan.rows, plan.count_threshold))


def noisy_numbers(values: np.ndarray, counts: np.ndarray, plan: DPPlan, rng: np.random.Generator, *,
                  integer: bool, bounds: Bounds | None, where: str) -> NoisyNumbers:
    """One noisy histogram of a numeric column: over the sign-logarithmic grid, or over the declared bounds.

    Args:
        values: The column's distinct present values (float64).
        counts: Their counts.
        plan: The calibrated noise and thresholds.
        rng: Source of the noise.
        integer: Whether the column holds integers (its range is rounded inwards).
        bounds: Declared ``(low, high)``: values are clipped to them and the range is theirs.
        where: The model / table and column, for messages.

    Returns:
        The weighted values and range.

    Raises:
        PrivacyError: Without declared bounds, no bucket's noisy count reaches the count threshold:
            the release gives the column no range, so no value of it could be generated (as for a
            categorical column none of whose values is kept).
    """
    values = np.asarray(values, dtype=np.float64)
    if bounds is not None:
        values = np.clip(values, float(bounds[0]), float(bounds[1]))
    grid = _numeric_grid(bounds, integer, plan)
    histogram = np.zeros(len(grid))
    np.add.at(histogram, grid.index(values), np.asarray(counts, dtype=np.float64))
    noisy = noisy_counts(histogram, plan.preprocessing_noise, rng)
    points, weights, minimum, maximum = values_from_histogram(grid, noisy, plan.count_threshold, integer=integer)
    if bounds is not None:
        if minimum is None:  # no bucket stands out from the noise: the declared range, evenly
            points, weights = (grid.low + grid.high) / 2, np.ones(len(grid))
        minimum, maximum = float(bounds[0]), float(bounds[1])
    if minimum is None or maximum is None:
        raise PrivacyError(
            f"{where}: no bucket of the column's noisy histogram reaches the count threshold "
            f"({plan.count_threshold:.0f} rows at max_epsilon={plan.config.max_epsilon}), so the release gives it "
            "no range and none of its values may be generated. Declare its range in DPConfig.bounds ({column: (low, "
            "high)}; 'table.column' in a Synthesizer), fit more rows, raise max_epsilon or preprocessing_share, "
            "or drop the column.")
    if integer:
        minimum, maximum = float(np.ceil(minimum)), float(np.floor(maximum))
    return NoisyNumbers(points, weights, minimum, maximum)


def time_part_levels(values: pd.Series) -> np.ndarray:
    """The finest non-zero time part of each (naive) timestamp: 0 (a date) to 5 (microseconds)."""
    micros = values.dt.microsecond.to_numpy(dtype=np.int64)
    level = np.zeros(len(values), dtype=np.int64)
    for part, present in ((1, values.dt.hour.to_numpy() != 0), (2, values.dt.minute.to_numpy() != 0),
                          (3, values.dt.second.to_numpy() != 0), (4, micros != 0), (5, micros % 1000 != 0)):
        level[present] = part
    return level


@dataclass(frozen=True)
class NoisyTimes:
    """A datetime column as its two noisy histograms show it.

    Attributes:
        year_min / year_max: The kept years (the declared bounds' years when given).
        time_parts: The finest time part held by enough rows (0: dates only, as :func:`time_part_levels`).
        low / high: The declared bounds as naive timestamps (``None`` without bounds).
    """

    year_min: int
    year_max: int
    time_parts: int
    low: pd.Timestamp | None
    high: pd.Timestamp | None


def noisy_times(present: pd.Series, plan: DPPlan, rng: np.random.Generator, bounds: Bounds | None, *,
                where: str) -> NoisyTimes:
    """Noisy counts of whole years (1678-2261, or the declared bounds') and of the finest time parts.

    Args:
        present: The column's present values as naive (UTC) timestamps.
        plan: The calibrated noise and thresholds.
        rng: Source of the noise.
        bounds: Declared ``(low, high)`` (ISO text): values are clipped to them.
        where: The table and column, for the message.

    Returns:
        The year range and time resolution.

    Raises:
        PrivacyError: Without declared bounds, no year stands out from the noise: the release gives the
            column no range (it fell back to the year 2000 before).
    """
    low = pd.Timestamp(bounds[0]).tz_localize(None) if bounds is not None else None
    high = pd.Timestamp(bounds[1]).tz_localize(None) if bounds is not None else None
    if low is not None:
        present = present.clip(low, high)
    first, last = (low.year, high.year) if low is not None and high is not None else (FIRST_YEAR, LAST_YEAR)
    years = np.clip(present.dt.year.to_numpy(dtype=np.int64), first, last) - first
    noisy = noisy_counts(np.bincount(years, minlength=last - first + 1), plan.preprocessing_noise, rng)
    kept = np.flatnonzero(noisy >= plan.count_threshold)
    if not len(kept) and bounds is None:
        raise PrivacyError(
            f"{where}: no year of the column's noisy histogram reaches the count threshold "
            f"({plan.count_threshold:.0f} rows at max_epsilon={plan.config.max_epsilon}), so the release gives it "
            "no range and none of its values may be generated. Declare its range in DPConfig.bounds ({column: (low, "
            "high)}; 'table.column' in a Synthesizer), fit more rows, raise max_epsilon or preprocessing_share, "
            "or drop the column.")
    year_min, year_max = (int(kept[0]) + first, int(kept[-1]) + first) if len(kept) else (low.year, high.year)
    levels = noisy_counts(np.bincount(time_part_levels(present), minlength=_RESOLUTIONS),
                          plan.preprocessing_noise, rng)
    finer = np.flatnonzero(levels >= plan.count_threshold)
    if low is not None and high is not None:
        year_min, year_max = low.year, high.year
    return NoisyTimes(year_min, year_max, int(finer[-1]) if len(finer) else 0, low, high)
