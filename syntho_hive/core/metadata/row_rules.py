"""Rules that hold within each row of a real table: functional dependencies and date orderings.

:func:`detect_dependencies` finds ``determinant -> dependent`` column pairs (``city -> country``,
``state -> country``) and :func:`dependency_mapping` learns the value map generation applies;
:func:`detect_date_orderings` finds datetime columns that never come before another
(``hire_date >= birth_date``). Both read data only; the synthesizer decides what to enforce.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.metadata.datetime_formats import numpy_datetimes
from syntho_hive.core.metadata.schema import FunctionalDependency, Inequality

__all__ = ["DependencyCheck", "check_dependency", "detect_dependencies", "dependency_mapping",
           "apply_mapping", "detect_date_orderings"]

#: Rows whose dependent value differs from the one most common for their determinant, at most.
DEPENDENCY_TOLERANCE = 0.01
#: Share of rows whose determinant value repeats, at least: a per-row label determines everything.
MIN_REPEATED_SHARE = 0.5
#: Rows with both values present a rule needs before it is detected.
MIN_SUPPORT = 10
#: Rows inspected (the first ones: deterministic).
MAX_ROWS = 200_000


@dataclass(frozen=True)
class DependencyCheck:
    """How well ``determinants -> dependent`` holds in real data.

    Attributes:
        rows: Rows with every determinant present.
        violations: Of those, rows whose dependent is not the most common one of their determinants.
        repeated: Of those, rows whose determinant combination occurs more than once.
    """

    rows: int
    violations: int
    repeated: int


def _python(value: object) -> object:
    """A NumPy scalar as the Python value a saved map reads back (``np.str_("US")`` as ``"US"``,
    ``np.datetime64`` as a ``pd.Timestamp``); any other value as it is."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    return value.item() if isinstance(value, np.generic) else value


def _column_keys(column: pd.Series) -> pd.Series:
    """``column``'s values as plain Python objects (nulls as ``None``): NumPy scalars in an object column
    (``np.random.choice`` output) key the same as the values a model draws or a saved map holds."""
    # ``map`` infers a dtype again (NumPy ints for Python ints): ``astype(object)`` keeps Python values
    return column.astype(object).map(_python).astype(object).where(column.notna(), None)


def _keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One hashable key per row for ``columns`` (nulls as their own value)."""
    if len(columns) == 1:
        return _column_keys(frame[columns[0]])
    return pd.Series(list(zip(*(_column_keys(frame[c]) for c in columns))), index=frame.index, dtype=object)


def check_dependency(frame: pd.DataFrame, determinants: Sequence[str], dependent: str) -> DependencyCheck:
    """Measure a functional dependency on real rows.

    Args:
        frame: The table.
        determinants: Determining columns.
        dependent: Determined column.

    Returns:
        The :class:`DependencyCheck`.
    """
    rows = frame.iloc[:MAX_ROWS]
    key = rows[list(determinants)].groupby(list(determinants), dropna=True, sort=False).ngroup().to_numpy()
    return _check_codes(key, _codes(rows[dependent]))


def _codes(series: pd.Series) -> np.ndarray:
    """One integer per distinct value of ``series`` (missing values are one more value)."""
    return pd.factorize(series, use_na_sentinel=False)[0]


def _check_codes(key: np.ndarray, value: np.ndarray) -> DependencyCheck:
    """:class:`DependencyCheck` of value codes against key codes (``key < 0``: a missing determinant, left out)."""
    present = key >= 0
    key, value = key[present], value[present]
    if not key.size:
        return DependencyCheck(0, 0, 0)
    pairs = key.astype(np.int64) * (int(value.max()) + 1) + value
    uniques, counts = np.unique(pairs, return_counts=True)
    pair_keys = uniques // (int(value.max()) + 1)
    per_key = np.bincount(pair_keys, weights=counts).astype(np.int64)
    best = np.zeros_like(per_key)
    np.maximum.at(best, pair_keys, counts)
    violations = int((per_key - best).sum())
    repeated = int(per_key[per_key > 1].sum())
    return DependencyCheck(int(key.size), violations, repeated)


def _candidate(series: pd.Series) -> bool:
    """Columns that can take part in a detected dependency: labels, not measurements."""
    if ptypes.is_float_dtype(series.dtype) or ptypes.is_datetime64_any_dtype(series.dtype):
        return False
    if ptypes.is_timedelta64_dtype(series.dtype):
        return False
    distinct = series.nunique(dropna=True)
    return 1 < distinct < max(2, len(series) * MIN_REPEATED_SHARE)


def detect_dependencies(frame: pd.DataFrame, columns: Collection[str]) -> list[FunctionalDependency]:
    """Single-column functional dependencies among ``columns`` that the real rows satisfy.

    A pair ``a -> b`` is reported when ``a`` and ``b`` are label columns (strings, categories,
    integers with repeated values, not per-row labels), at least :data:`MIN_SUPPORT` rows have
    ``a``, at least half of them share their ``a`` value with another row, and at most
    :data:`DEPENDENCY_TOLERANCE` of them have a ``b`` other than the one most common for their
    ``a``. Both directions of a one-to-one pair are reported.

    Args:
        frame: The table.
        columns: Columns to consider (keys and generated columns left out by the caller).

    Returns:
        The dependencies, in column order.
    """
    sample = frame.iloc[:MAX_ROWS]
    usable = [c for c in frame.columns if c in set(columns) and _candidate(sample[c])]
    codes = {c: _codes(sample[c]) for c in usable}  # each column factorised once, for every pair
    keys = {c: np.where(sample[c].isna().to_numpy(), -1, codes[c]) for c in usable}
    found: list[FunctionalDependency] = []
    for determinant in usable:
        for dependent in usable:
            if dependent == determinant:
                continue
            check = _check_codes(keys[determinant], codes[dependent])
            if (check.rows >= MIN_SUPPORT and check.repeated >= MIN_REPEATED_SHARE * check.rows
                    and check.violations <= DEPENDENCY_TOLERANCE * check.rows):
                found.append(FunctionalDependency(determinants=[str(determinant)], dependent=str(dependent)))
    return found


def dependency_mapping(frame: pd.DataFrame, rule: FunctionalDependency, *,
                       min_count: int) -> list[tuple[list[object], object]]:
    """The value map of a dependency, for determinant values seen at least ``min_count`` times whose
    most common dependent value is seen that often too.

    Rarer values are left out: the model never shows them, and the map is stored with the
    synthesizer, so it must not carry protected values (a broken dependency whose five "x" rows
    each have another value maps nothing).

    Args:
        frame: The real table.
        rule: The dependency.
        min_count: Least occurrences of a determinant combination kept.

    Returns:
        ``[(determinant values, dependent value), ...]``, the dependent being the most common
        one for its determinants (nulls as ``None``).
    """
    rows = frame[frame[rule.determinants].notna().all(axis=1)]
    if rows.empty:
        return []
    key = _keys(rows, rule.determinants)
    value = _keys(rows, [rule.dependent])
    table = pd.DataFrame({"k": key.map(repr), "v": value.map(repr), "key": key, "value": value})
    counts = table.groupby(["k", "v"], sort=True).size().rename("n").reset_index()
    totals = counts.groupby("k")["n"].sum()
    best = counts.sort_values(["k", "n"], ascending=[True, False], kind="stable").drop_duplicates("k")
    # Both the determinant and the dependent value it maps to must be seen min_count times: the map is saved.
    best = best[(best["k"].map(totals) >= min_count) & (best["n"] >= min_count)]
    firsts = table.drop_duplicates(["k", "v"]).set_index(["k", "v"])
    out: list[tuple[list[object], object]] = []
    for k, v in zip(best["k"], best["v"]):
        key_value, dep_value = firsts.loc[(k, v), "key"], firsts.loc[(k, v), "value"]
        keys = list(key_value) if len(rule.determinants) > 1 else [key_value]
        out.append((keys, dep_value))
    return out


def detect_date_orderings(frame: pd.DataFrame, columns: Collection[str],
                          declared: Sequence[Inequality] = ()) -> list[Inequality]:
    """Pairs of datetime columns where one is never earlier than the other in any real row.

    Only the covering pairs are returned (with ``a <= b <= c`` found, ``a <= c`` is implied and
    left out), and none that a declared inequality already orders either way.

    Args:
        frame: The table.
        columns: Columns to consider.
        declared: The table's declared inequalities.

    Returns:
        ``Inequality(low=earlier, high=later)`` for each pair, in column order.
    """
    dates = [c for c in frame.columns if c in set(columns) and ptypes.is_datetime64_any_dtype(frame[c].dtype)]
    # Arrow timestamps and dates as NumPy datetimes: the two kinds do not compare with each other
    sample = pd.DataFrame({c: numpy_datetimes(frame[c].iloc[:MAX_ROWS]) for c in dates})
    ordered: set[tuple[str, str]] = set()
    for low in dates:
        for high in dates:
            if low == high or (getattr(sample[low].dtype, "tz", None) is None) != (getattr(sample[high].dtype, "tz",
                                                                                       None) is None):
                continue  # tz-naive and tz-aware dates cannot be compared (aware ones of any zones can)
            both = sample[low].notna() & sample[high].notna()
            if int(both.sum()) < MIN_SUPPORT:
                continue
            lows, highs = sample.loc[both, low], sample.loc[both, high]
            if bool((lows <= highs).all()) and not bool((lows == highs).all()):
                ordered.add((str(low), str(high)))
    implied = {(a, c) for a, b in ordered for b2, c in ordered if b == b2 and (a, c) in ordered}
    taken = {frozenset((q.low, q.high)) for q in declared}
    return [Inequality(low=a, high=b) for a in map(str, dates) for b in map(str, dates)
            if (a, b) in ordered and (a, b) not in implied and frozenset((a, b)) not in taken]


def apply_mapping(frame: pd.DataFrame, rule: FunctionalDependency,
                  mapping: Sequence[tuple[Sequence[object], object]]) -> None:
    """Set ``rule.dependent`` from the map in the rows whose determinants it knows (in place).

    Args:
        frame: Generated rows.
        rule: The dependency.
        mapping: From :func:`dependency_mapping`.
    """
    if not mapping or frame.empty:
        return
    lookup = {repr(tuple(keys)) if len(rule.determinants) > 1 else repr(keys[0]): value for keys, value in mapping}
    key = _keys(frame, rule.determinants).map(repr)
    known = key.isin(lookup.keys()).to_numpy()
    if not known.any():
        return
    wanted = key[known].map(lookup)
    current = frame[rule.dependent]
    values = current.astype(object).to_numpy(copy=True)
    values[known] = wanted.to_numpy(dtype=object)
    frame[rule.dependent] = pd.Series(values, index=frame.index).astype(current.dtype) \
        if not isinstance(current.dtype, pd.CategoricalDtype) else pd.Categorical(values, dtype=current.dtype)
