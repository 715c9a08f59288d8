"""Reparametrisation: a table to the derived columns any model output decodes from, and back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.constraints.plans import _ComboPlan, _InequalityPlan
from syntho_hive.core.metadata.constraint_checks import examples
from syntho_hive.core.metadata.constraint_values import (
    ValueReader,
    coarser_unit,
    float_values,
    gap_ticks,
)
from syntho_hive.core.metadata.datetime_formats import format_datetimes, time_unit
from syntho_hive.core.metadata.schema import SDType
from syntho_hive.exceptions import GenerationError, SchemaError

_INT64_MAX = np.iinfo(np.int64).max


def derived_sdtypes(inequalities: Sequence[_InequalityPlan], combos: Sequence[_ComboPlan]) -> dict[str, SDType]:
    """The sdtype of every derived column: joint columns categorical, gap columns numerical, an unpaired
    column that of the ``high`` it carries."""
    sdtypes: dict[str, SDType] = {plan.joint: "categorical" for plan in combos}
    for q in inequalities:
        sdtypes[q.gap] = "numerical"
        if q.unpaired is not None:
            sdtypes[q.unpaired] = q.high_sdtype
    return sdtypes


def derived_columns(inequalities: Sequence[_InequalityPlan], combos: Sequence[_ComboPlan]) -> list[str]:
    """The derived columns a transformed table must hold to be decoded: joint, gap, then unpaired ones."""
    needed = [p.joint for p in combos] + [q.gap for q in inequalities]
    needed += [q.unpaired for q in inequalities if q.unpaired is not None]
    return needed


def combo_index(plan: _ComboPlan, df: pd.DataFrame) -> np.ndarray:
    """Index of each row's combination among the fitted ones (-1 when unseen)."""
    assert plan.combos is not None
    n_seen = len(plan.combos)
    both = pd.concat([plan.combos[plan.columns].astype(object), df[plan.columns].astype(object)], ignore_index=True)
    key = np.zeros(len(both), dtype=np.int64)
    for col in plan.columns:
        codes, uniques = pd.factorize(both[col], use_na_sentinel=False)
        key, _ = pd.factorize(key * len(uniques) + codes)
    return pd.Index(key[:n_seen]).get_indexer(key[n_seen:])


def _gap(q: _InequalityPlan, df: pd.DataFrame, values: ValueReader) -> np.ndarray:
    low, high = df[q.low], df[q.high]
    if q.kind == "numeric":
        diff = float_values(high) - float_values(low)
        if q.integer and q.strict:
            diff = diff - 1.0
    else:
        lo, hi = values.datetime_pair(low, high, q)
        ticks, nulls, unit_ns = gap_ticks(lo, hi)
        if q.step_ns >= unit_ns:
            diff = (ticks // (q.step_ns // unit_ns)).astype(np.float64)
        else:  # a step finer than the columns' unit (fitted on other data)
            diff = ticks.astype(np.float64) * (unit_ns // q.step_ns)
        diff[nulls] = np.nan
        if q.strict:
            diff = diff - 1.0
    with np.errstate(invalid="ignore"):
        return np.log1p(diff)


def transform_frame(df: pd.DataFrame, inequalities: Sequence[_InequalityPlan], combos: Sequence[_ComboPlan],
                    values: ValueReader) -> pd.DataFrame:
    """Valid rows ``df`` with their derived columns (see :meth:`.ConstraintEngine.transform`)."""
    derived: dict[str, list[tuple[str, Any]]] = {}
    dropped: set[str] = set()
    for plan in combos:
        assert plan.labels is not None
        index = combo_index(plan, df)
        joint = pd.Series(plan.labels.to_numpy()[index], index=df.index, dtype=object)
        derived[plan.columns[0]] = [(plan.joint, joint)]
        dropped.update(plan.columns[1:])
    for q in inequalities:
        items: list[tuple[str, Any]] = [(q.gap, pd.Series(_gap(q, df, values), index=df.index))]
        if q.unpaired is not None:
            items.append((q.unpaired, df[q.high].where(df[q.low].isna())))
        derived[q.high] = items
    out: dict[str, Any] = {}
    for column in df.columns:
        if column in dropped:
            continue
        if column in derived:
            out.update(derived[column])
        else:
            out[column] = df[column]
    return pd.DataFrame(out, index=df.index)


def _restore_numeric(values: np.ndarray, dtype: Any) -> Any:
    """Cast float results back to the column's original numeric dtype.

    Integers are rounded to the nearest integer (they are exact integers on valid input);
    a null in a plain ``int64`` column turns it into the nullable ``Int64``.
    """
    null = np.isnan(values)
    if ptypes.is_integer_dtype(dtype):
        data = np.where(null, 0, np.rint(values)).astype(np.int64)
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) or null.any():
            target = dtype if isinstance(dtype, pd.api.extensions.ExtensionDtype) else "Int64"
            return pd.arrays.IntegerArray(data, null).astype(target)
        return data.astype(dtype)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return pd.array(values, dtype="Float64").astype(dtype) if not null.any() else \
            pd.arrays.FloatingArray(np.where(null, 0.0, values), null).astype(dtype)
    return values.astype(dtype)


def _decode_high(q: _InequalityPlan, low: pd.Series, gap: pd.Series, unpaired: pd.Series | None,
                 values: ValueReader) -> Any:
    g = float_values(gap)
    if q.kind == "numeric":
        lo = float_values(low)
        if q.integer:
            steps = np.rint(np.expm1(g)) + (1.0 if q.strict else 0.0)
            decoded = lo + steps
        else:
            decoded = lo + np.expm1(g)
            if q.decimals is not None:
                rounded = np.round(decoded, q.decimals)
                keep = (rounded > lo) if q.strict else (rounded >= lo)
                decoded = np.where(keep | np.isnan(decoded), rounded, decoded)
        if unpaired is not None:
            decoded = np.where(np.isnan(lo), float_values(unpaired), decoded)
        return _restore_numeric(decoded, q.high_dtype)
    low = values.as_datetime(low, q.low)
    # In the coarser unit of the two sides: nanoseconds end 292 years away (a 9999-12-31 validity end).
    unit = coarser_unit(time_unit(low.dtype), time_unit(q.high_dtype))
    unit_ns = int(np.timedelta64(1, unit) / np.timedelta64(1, "ns"))
    steps = np.rint(np.expm1(g)) + (1.0 if q.strict else 0.0)
    ok = np.isfinite(steps)
    if q.step_ns < unit_ns:  # a step finer than the unit: whole units
        steps, per_step = np.rint(steps * q.step_ns / unit_ns), 1
    else:
        per_step = q.step_ns // unit_ns
    if np.any(steps[ok] > _INT64_MAX // per_step):
        raise GenerationError(f"Generated gaps for {q.high!r} of {values.where} are too large to form dates; "
                              "the model output is outside the fitted range (refit or check the transformer).")
    ticks = np.where(ok, steps, 0).astype(np.int64) * np.int64(per_step)
    delta = pd.Series(ticks.view(f"timedelta64[{unit}]"), index=low.index).where(ok)
    if time_unit(low.dtype) != unit:
        low = low.dt.as_unit(unit)
    try:
        high = low + delta
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
        raise GenerationError(f"Decoding {q.high!r} of {values.where} overflowed the datetime range: {exc}") from exc
    if unpaired is not None:
        alone = values.as_datetime(unpaired, q.high)
        if getattr(high.dt, "tz", None) is not None:
            alone = values.align_tz(alone, high)
        high = high.where(low.notna(), alone)
    tz = getattr(q.high_dtype, "tz", None)
    if tz is not None:
        high = high.dt.tz_convert(tz)
    high = high.astype(q.high_dtype)
    objects = getattr(q, "high_objects", None)  # plans pickled before it was kept have none
    if objects is not None:
        present = high.notna().to_numpy()
        out = (high.dt.date if objects == "date" else high).to_numpy(dtype=object)
        out[~present] = q.high_marker
        return pd.Series(out, index=high.index, dtype=object)
    if q.high_format is not None:
        text = format_datetimes(high, q.high_format)
        return text.astype(object).where(high.notna(), np.nan).astype(q.high_string_dtype)
    return high


def restore_frame(df: pd.DataFrame, needed: Sequence[str], inequalities: Sequence[_InequalityPlan],
                  combos: Sequence[_ComboPlan], columns: Sequence[str], values: ValueReader) -> pd.DataFrame:
    """A new frame of the original ``columns`` (then those of ``df`` unknown at fit) from ``df``'s
    derived ``needed`` ones (see :meth:`.ConstraintEngine.reverse_transform`)."""
    derived = set(needed)
    restored: dict[str, Any] = {}
    for plan in combos:
        assert plan.labels is not None and plan.combos is not None
        index = plan.labels.get_indexer(df[plan.joint].astype(object))
        bad = index < 0
        if bad.any():
            raise GenerationError(f"Column {plan.joint!r} of {values.where} holds {int(bad.sum())} value(s) that "
                                  f"are not seen combinations (examples: {examples(df[plan.joint], bad)}); "
                                  f"valid values look like {list(plan.labels[:3])}.")
        members = plan.combos.iloc[index].set_index(df.index)
        for col in plan.columns:
            restored[col] = members[col]
    for q in inequalities:
        low = restored[q.low] if q.low in restored else df[q.low]
        unpaired = df[q.unpaired] if q.unpaired is not None else None
        high = _decode_high(q, low, df[q.gap], unpaired, values)
        if isinstance(high, pd.Series):  # positional: the index may hold duplicates;
            restored[q.high] = high.set_axis(df.index)  # keeps an object dtype object
        else:
            restored[q.high] = pd.Series(high, index=df.index)
    out: dict[str, Any] = {}
    for column in columns:
        if column in restored:
            out[column] = restored[column]
        elif column in df.columns:
            out[column] = df[column]
    for column in df.columns:
        if column not in out and column not in derived:
            out[column] = df[column]
    return pd.DataFrame(out, index=df.index)


def apply_dtype(series: pd.Series, column: str, dtype: str) -> Any:
    """``series`` in the storage type ``Constraint(dtype=...)`` declares: ``"int"`` (``Int64`` with nulls),
    ``"float"``, ``"str"``, ``"bool"`` (``boolean`` with nulls) or ``"datetime"``; else a SchemaError."""
    if dtype == "int":
        if ptypes.is_integer_dtype(series.dtype):
            return series
        numbers = float_values(series)
        return _restore_numeric(numbers, "Int64" if np.isnan(numbers).any() else "int64")
    if dtype == "float":
        return series.astype("float64") if not ptypes.is_float_dtype(series.dtype) else series
    if dtype == "str":
        if ptypes.is_string_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
            return series
        return series.astype(object).where(series.isna(), series.astype(str))
    if dtype == "bool":
        if ptypes.is_bool_dtype(series.dtype):
            return series
        return series.astype("boolean" if series.isna().any() else bool)
    if dtype == "datetime":
        if ptypes.is_datetime64_any_dtype(series.dtype):
            return series
        return pd.to_datetime(series, errors="raise", format="mixed")
    raise SchemaError(f"Unknown Constraint.dtype {dtype!r} for column {column!r}.")
