"""What ``fit`` learns from the training data: the plans' parameters and the published bounds."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.data._dtypes import null_marker
from syntho_hive.core.constraints.plans import MAX_DECIMALS, UNPAIRED_SUFFIX, _ComboPlan, _InequalityPlan, gapped
from syntho_hive.core.metadata.constraint_values import ValueReader, float_values, gap_ticks, is_numeric
from syntho_hive.core.metadata.detect import detect_sdtype

_LABEL_SEPARATOR = " | "
# Candidate granularities of datetime gaps, coarsest first (nanoseconds).
_STEPS_NS = (86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1)
# strftime directives by the finest time unit they write, finest first (nanoseconds).
_FORMAT_STEPS_NS = ((("%f",), 10**3), (("%S", "%T", "%X", "%c", "%s"), 10**9), (("%M", "%R"), 60 * 10**9),
                    (("%H", "%I"), 3_600 * 10**9))


def _decimals(values: np.ndarray) -> int | None:
    """Smallest number of decimals that represents every finite value exactly, if <= 12."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    for decimals in range(MAX_DECIMALS + 1):
        if np.array_equal(np.round(finite, decimals), finite):
            return decimals
    return None


def _datetime_step_ns(gaps: np.ndarray, unit_ns: int = 1) -> int:
    """Coarsest granularity (day, hour, minute, second, ms, us, ns) dividing every gap (``gaps`` in ticks of
    ``unit_ns`` nanoseconds: the unit itself always does)."""
    if gaps.size == 0:
        return 10**9
    for step in _STEPS_NS:
        if step % unit_ns == 0 and not np.any(gaps % (step // unit_ns)):
            return step
    return unit_ns


def _format_step_ns(fmt: str | None) -> int:
    """Finest unit a date-string format writes (a day without time directives; 1 s for no format)."""
    if fmt is None:
        return 10**9
    for directives, step in _FORMAT_STEPS_NS:
        if any(d in fmt for d in directives):
            return step
    return _STEPS_NS[0]


def fit_combo(plan: _ComboPlan, df: pd.DataFrame) -> None:
    """Learn the group's combinations seen in ``df`` (in order of first appearance) and their labels.

    Labels join the members' ``str()`` with ``" | "`` (``"NY | US"``); clashing labels (``1``
    and ``"1"``) get ``" #0"``, ``" #1"``, ... appended.
    """
    combos = df[plan.columns].drop_duplicates().reset_index(drop=True)

    def text(column: str) -> pd.Series:
        # str() of every value, nulls included ("None", "nan"), so that no label is missing
        # (astype(str) keeps nulls missing: combinations with a null would share one label)
        return pd.Series([str(v) for v in combos[column].astype(object)], dtype=object)

    labels = text(plan.columns[0])
    for col in plan.columns[1:]:
        labels = labels + _LABEL_SEPARATOR + text(col)
    while labels.duplicated().any():  # e.g. 1 and "1": make labels unique
        dup = labels.duplicated(keep=False)
        rank = labels.groupby(labels).cumcount().astype(str)
        labels = labels.where(~dup, labels + " #" + rank)
    plan.combos = combos
    plan.labels = pd.Index(labels.to_numpy(dtype=object), dtype=object)


def fit_inequality(q: _InequalityPlan, df: pd.DataFrame, values: ValueReader, decoded: Collection[str]) -> None:
    """Learn how the inequality's gap is encoded and its ``high`` side decoded (kind, integer flag or
    decimals, datetime step, date format, unpaired column), and whether it needs the gap at all.

    A pair whose ranges do not overlap (every ``low`` before every ``high``: ``born`` 1970-94 and
    ``created`` 2024-25) keeps ``high`` modelled itself (``reparametrised`` False): the models keep each
    column within its training range, so the order holds, and ``high = low + gap`` would lose that
    range. Not when ``low`` is itself decoded from a gap (it may then pass its maximum).

    Args:
        q: The plan, filled in place.
        df: The training table.
        values: Reads its columns.
        decoded: The ``high`` sides of the plans before this one that keep their gap.

    Raises:
        SchemaError: If the sides are not both numeric or both datetimes, or their date strings
            have no single exact format.
    """
    low, high = df[q.low], df[q.high]
    q.kind = values.pair_kind(low, high, q)
    q.high_dtype = high.dtype
    # Durations (timedelta64: times of day as the models see them) take the datetime path but stay numerical.
    q.high_sdtype = "numerical" if q.kind == "numeric" or ptypes.is_timedelta64_dtype(high.dtype) else "datetime"
    lone = low.isna().to_numpy() & high.notna().to_numpy()
    q.unpaired = f"{q.high}{UNPAIRED_SUFFIX}" if lone.any() else None
    if q.kind == "numeric":
        q.integer = ptypes.is_integer_dtype(low.dtype) and ptypes.is_integer_dtype(high.dtype)
        q.decimals = None if q.integer else _decimals(float_values(high))
    else:
        if not (ptypes.is_datetime64_any_dtype(high.dtype) or ptypes.is_timedelta64_dtype(high.dtype)):
            q.high_format = values.date_format(high, q.high)
            kind = ptypes.infer_dtype(high.dropna(), skipna=True) if high.dtype == object else None
            if kind in ("date", "datetime"):  # datetime.date / datetime objects come back as such, not as text
                q.high_objects, q.high_marker = kind, null_marker(high)
        lo, hi = values.datetime_pair(low, high, q)
        q.high_dtype = hi.dtype if q.high_format is not None else high.dtype
        q.high_string_dtype = high.dtype
        ticks, nulls, unit_ns = gap_ticks(lo, hi)
        gaps = ticks[~nulls]
        q.step_ns = _datetime_step_ns(gaps, unit_ns) if gaps.size else _format_step_ns(q.high_format)
        low, high = lo, hi
    q.reparametrised = q.low in decoded or not _separate(low, high, q.strict)


def _separate(low: pd.Series, high: pd.Series, strict: bool) -> bool:
    """Whether every present ``low`` is below (``strict``) or at most every present ``high``: their ranges do not
    overlap (comparable values: numbers, or datetimes in one timezone)."""
    if ptypes.is_datetime64_any_dtype(low.dtype) or ptypes.is_timedelta64_dtype(low.dtype):
        top, bottom = low.max(), high.min()
        if pd.isna(top) or pd.isna(bottom):
            return False
    else:
        lows, highs = float_values(low), float_values(high)
        if np.isnan(lows).all() or np.isnan(highs).all():
            return False
        top, bottom = np.nanmax(lows), np.nanmin(highs)
    return bool(top < bottom) if strict else bool(top <= bottom)


def published_bounds(df: pd.DataFrame, inequalities: Sequence[_InequalityPlan], combos: Sequence[_ComboPlan],
                     values: ValueReader) -> tuple[dict[str, tuple[Any, Any]], dict[str, tuple[Any, Any]]]:
    """``(bounds, datetime_bounds)``: the declared bounds the transformer keeps in range by reparametrisation.

    ``(min, max)`` per column, floats for numeric columns and ``pd.Timestamp`` for datetime ones, with
    ``(0.0, None)`` for every gap column; and the datetime entries alone. A bound on a column replaced by
    a gap or a joint column, on a key, or on a column not modelled as a number or a datetime is left out
    (rows breaking it are resampled).

    Raises:
        SchemaError: If a bound does not fit its column's type.
    """
    table = values.table
    replaced = {q.high for q in gapped(inequalities)} | {c for plan in combos for c in plan.columns}
    bounds: dict[str, tuple[Any, Any]] = {}
    datetime_bounds: dict[str, tuple[Any, Any]] = {}
    for column, constraint in table.constraints.items():
        if column in replaced or (constraint.min is None and constraint.max is None):
            continue
        if column in table.key_columns or table.columns.get(column, "numerical") not in ("numerical", "datetime"):
            continue  # not modelled as a number: enforced by is_valid (resampling)
        series = df[column]
        limits = [None if b is None else values.bound_values(series, column, b, side)[1]
                  for side, b in (("min", constraint.min), ("max", constraint.max))]
        if is_numeric(series):
            bounds[column] = (limits[0], limits[1])
        elif ptypes.is_datetime64_any_dtype(series.dtype) or (
                table.columns.get(column, detect_sdtype(series, column)) == "datetime"):
            datetime_bounds[column] = (limits[0], limits[1])
            bounds[column] = (limits[0], limits[1])
    for q in gapped(inequalities):
        bounds[q.gap] = (0.0, None)
    return bounds, datetime_bounds
