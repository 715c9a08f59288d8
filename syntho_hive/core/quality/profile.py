"""A privacy-safe reference of the training marginals, to score generated columns without raw rows.

A :class:`MarginalProfile` is built at ``fit`` (:meth:`MarginalProfile.from_frame`) and saved in
the checkpoint as ``reference_profile.json``. It keeps only what the model itself may keep: no
value that the rare-value protection (``min_category_count``, TabularAR's ``rare_threshold``,
default 5) leaves out, i.e. no category label seen fewer than ``min_category_count`` times and no
number that is one of the ``min_category_count - 1`` smallest or largest values of a column.

Stored per column (format version 2):

* **every column**: its sdtype and row count (nulls included). A column of fewer than
  ``min_category_count`` rows is left out entirely (nothing stored, not scored), like ``id`` and
  ``text`` columns, which have no column-shape score.
* **numerical / datetime**: the null share and a quantile sketch of the non-null values
  (datetimes as nanoseconds since the epoch). With ``n`` non-null values and
  ``m = min_category_count``, the sketch keeps ``K`` quantiles at the equally spaced
  probabilities ``tail, ..., 1 - tail`` where ``tail = max(0.5 / K, m / n)`` (stored as
  ``tail``) and ``K = min(max_quantiles, max(2, (n - 2m) // max(5, m) + 1))``, so neighbouring
  quantiles are about ``max(5, m)`` records apart or more (closer only when a small column still
  gets ``K = 2``). Record ``i`` of the sorted values
  stands for probability ``(i + 0.5) / n``, so every stored quantile lies between the ``m``-th
  smallest and the ``m``-th largest record: the ``m - 1`` most extreme values on each side never
  enter the sketch, and the extremes (minimum, maximum) are stored only when more than ``m``
  records share them. A quantile that would land exactly on one record is moved half a rank, so
  every stored value mixes two neighbouring records (it equals a record's value only when several
  records share that value). ``closed`` says, per side, whether the outermost quantile *is* the
  extreme (at least ``m + 1`` records hold it): the mass beyond the sketch is then a point mass
  on it; otherwise that mass (``tail``) lies somewhere beyond the sketch. Columns of at most
  ``2m`` non-null values keep no quantiles (only their null share).
* **categorical / boolean**: the count of missing values and of every category seen at least
  ``min_category_count`` times (JSON-native labels: text, numbers, booleans). The categories seen
  fewer times are pooled into one anonymous bucket of which only the total count (``rare``) is
  stored, never a label nor how many labels were pooled. Boolean columns are pooled the same way
  (their two labels are the schema, but a rare one is still only counted).

Scores against the profile (:meth:`MarginalProfile.column_scores`) follow
:mod:`syntho_hive.core.quality.shapes`:

* ``(1 - |null share difference|) * (1 - KS)`` for numerical/datetime columns. The real CDF is
  the sketch's piecewise-linear interpolation (with jumps where quantiles tie, i.e. at values many
  records share). Beyond an open end it is only known to lie in ``[0, tail]`` (below) or
  ``[1 - tail, 1]`` (above); the KS statistic there is the distance to that range, so a sample
  is penalised for putting the wrong *mass* in a tail but not for where inside the tail it puts
  it. The statistic differs from the one on the raw rows by about ``1 / K`` plus the
  interpolation error inside a quantile bin (below 0.01 with 1,001 quantiles in practice), and by
  at most ``tail`` at the ends.
* ``1 - TVD`` (missing values as a category) for discrete ones, where every generated value whose
  label is not a kept category counts toward the rare bucket. On data without rare categories
  this is exactly the TVD on the raw rows; otherwise it is the TVD of the pooled distributions
  (never larger).

Profiles of format version 1 (every category by label and no rare bucket; sketches at the
probabilities ``(k + 0.5) / K``, i.e. ``tail = 0.5 / K``) still load, with ``min_category_count``
1: an end of their sketch is closed where its two outermost quantiles tie (as it was scored then),
open otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._checks import is_finite_number, is_int
from syntho_hive.core._value_kinds import TypedKey, mixes_kinds, typed_keys
from syntho_hive.core.quality.shapes import (
    CONTINUOUS_SDTYPES,
    DISCRETE_SDTYPES,
    SKIPPED_SDTYPES,
    as_numbers,
)
from syntho_hive.exceptions import SchemaError, SerializationError, TrainingError

__all__ = ["MarginalProfile", "ContinuousMarginal", "DiscreteMarginal", "profile_sdtypes", "DEFAULT_QUANTILES",
           "DEFAULT_MIN_CATEGORY_COUNT", "PROFILE_FORMAT", "PROFILE_VERSION"]

#: Most quantiles kept per numerical/datetime column.
DEFAULT_QUANTILES = 1_001
#: Values seen fewer times are not stored (TabularAR's default ``rare_threshold``).
DEFAULT_MIN_CATEGORY_COUNT = 5
#: Records per quantile at least (caps the sketch resolution on small tables).
_ROWS_PER_QUANTILE = 5
PROFILE_FORMAT = "synthohive-marginal-profile"
PROFILE_VERSION = 2


def profile_sdtypes(data: pd.DataFrame, table: Any = None,
                    learned: Mapping[str, str] | None = None) -> dict[str, str]:
    """Semantic type of every column of ``data`` for profiling: declared, else learned, else detected.

    Args:
        data: The training table.
        table: Its :class:`~syntho_hive.core.metadata.schema.TableConfig` (declared sdtypes; key
            columns count as ``id``), or ``None``.
        learned: sdtypes the model's transformer used (e.g. ``DataTransformer.sdtypes_``).

    Returns:
        ``{column: sdtype}`` for every column of ``data``.
    """
    from syntho_hive.core.metadata.detect import detect_sdtype

    declared: dict[str, Any] = dict(table.columns) if table is not None else {}
    declared.update({c: "id" for c in (table.key_columns if table is not None else [])})
    known = dict(learned or {})
    return {str(c): str(declared.get(c) or known.get(c) or detect_sdtype(data[c], str(c))) for c in data.columns}


def _quantile_sketch(values: np.ndarray, max_quantiles: int, min_count: int
                     ) -> tuple[np.ndarray, float, tuple[bool, bool]]:
    """``(quantiles, tail, closed)`` of finite ``values`` (see the module docstring; ``m`` is ``min_count``):
    no quantiles at ``2 * min_count`` values or fewer."""
    n = values.size
    inner = n - 2 * min_count
    if inner < 1:
        return np.empty(0, dtype=np.float64), 0.0, (False, False)
    k = int(min(max_quantiles, max(2, inner // max(_ROWS_PER_QUANTILE, min_count) + 1)))
    tail = max(0.5 / k, min_count / n)
    ordered = np.sort(values)
    # Record i stands for probability (i + 0.5) / n; the clip only absorbs rounding.
    positions = np.clip(np.linspace(tail, 1.0 - tail, k) * n - 0.5, min_count - 0.5, n - min_count - 0.5)
    lower = np.floor(positions).astype(np.int64)
    fraction = positions - lower
    fraction[fraction == 0.0] = 0.5  # exactly on a record: move half a rank up (lower + 1 <= n - m)
    low, high = ordered[lower], ordered[lower + 1]
    sketch = low * (1.0 - fraction) + high * fraction
    # A fraction next to 0 or 1 can round onto a record: take the mid-point of the pair instead.
    onto_record = ((sketch == low) | (sketch == high)) & (low != high)
    sketch[onto_record] = 0.5 * low[onto_record] + 0.5 * high[onto_record]
    # Between tied records the weighted sum can round a hair off the value: keep it exact, and the
    # sketch ascending (it is checked on load).
    sketch = np.maximum.accumulate(np.where(low == high, low, sketch))
    closed = (bool(ordered[0] == high[0]), bool(ordered[-1] == low[-1]))
    return sketch, float(tail), closed


def _sketch_ks(sketch: ContinuousMarginal, synthetic: np.ndarray) -> float:
    """KS statistic between the CDF of ``sketch`` (two quantiles or more; a range beyond an open end) and the
    empirical CDF of ``synthetic`` (one value or more)."""
    quantiles = np.asarray(sketch.quantiles, dtype=np.float64)
    levels = np.linspace(sketch.tail, 1.0 - sketch.tail, quantiles.size)
    unique, first, counts = np.unique(quantiles, return_index=True, return_counts=True)
    p_low = levels[first]                 # CDF just below a (tied) quantile value
    p_high = levels[first + counts - 1]   # CDF at it
    last = unique.size - 1
    # Below the first knot (and just below it) / from the last knot on: a point mass at a closed
    # end, else anywhere in [0, first level] / [last level, 1].
    below = (0.0, 0.0) if sketch.closed[0] else (0.0, float(p_low[0]))
    above = (1.0, 1.0) if sketch.closed[1] else (float(p_high[last]), 1.0)
    ordered = np.sort(synthetic)
    m = ordered.size

    def distance(x: np.ndarray, synthetic_cdf: np.ndarray, *, left: bool) -> float:
        # Index of the last knot <= x (right-continuous value) or < x (left limit).
        j = np.searchsorted(unique, x, side="left" if left else "right") - 1
        if last > 0:
            j_clip = np.clip(j, 0, last - 1)
            x0, x1 = unique[j_clip], unique[j_clip + 1]
            t = np.clip((x - x0) / (x1 - x0), 0.0, 1.0)
            inside = p_high[j_clip] + t * (p_low[j_clip + 1] - p_high[j_clip])
        else:
            inside = np.zeros(x.shape)
        if not left:  # on a knot: the CDF at it
            on_knot = (j >= 0) & (unique[np.clip(j, 0, last)] == x)
            inside = np.where(on_knot, p_high[np.clip(j, 0, last)], inside)
        lowest = np.where(j < 0, below[0], np.where(j >= last, above[0], inside))
        highest = np.where(j < 0, below[1], np.where(j >= last, above[1], inside))
        gap = np.maximum(lowest - synthetic_cdf, synthetic_cdf - highest)
        return float(max(gap.max(initial=0.0), 0.0))

    # Both CDFs change only at the knots and at the synthetic values (linearly or not at all in
    # between), so the supremum is among their values and left limits there.
    at_knots = max(distance(unique, np.searchsorted(ordered, unique, side="right") / m, left=False),
                   distance(unique, np.searchsorted(ordered, unique, side="left") / m, left=True))
    # At each distinct synthetic value (ordered is sorted: its runs give the empirical CDF just
    # below and at the value).
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    values = ordered[starts]
    ends = np.append(starts[1:], m)
    at_values = max(distance(values, ends / m, left=False), distance(values, starts / m, left=True))
    return max(at_knots, at_values)


def _json_category(value: Any) -> Any:
    """A JSON-native key for a category value (numbers and booleans kept, anything else as text)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value if isinstance(value, str) else str(value)


def _category_key(value: Any, kinded: bool) -> Any:
    """The JSON-native key of a category, as a :class:`TypedKey` (number and its kind) when ``kinded``."""
    key = _json_category(value)
    return typed_keys(np.asarray([key], dtype=object))[0] if kinded else key


def _category_counts(series: pd.Series, kinded: bool = False) -> tuple[dict[Any, int], int]:
    """``({category: count}, missing count)`` with JSON-native category keys (numbers keyed with their
    kind when ``kinded``: pandas' counting would merge ``1``, ``True`` and ``1.0``)."""
    if kinded:
        values = series.to_numpy(dtype=object)
        nulls = pd.isna(values)
        return dict(Counter(_category_key(v, True) for v in values[~nulls])), int(nulls.sum())
    counts = series.value_counts(sort=False, dropna=False)
    missing = 0
    merged: dict[Any, int] = {}
    for value, count in zip(counts.index.tolist(), counts.to_numpy().tolist()):  # one per category
        if not count:  # an unused category of a categorical dtype
            continue
        if pd.isna(value):  # None, NaN, NA and NaT may each have an entry
            missing += int(count)
            continue
        key = _json_category(value)
        merged[key] = merged.get(key, 0) + int(count)
    return merged, missing


@dataclass(frozen=True)
class ContinuousMarginal:
    """Reference of a numerical or datetime column.

    Attributes:
        sdtype: ``"numerical"`` or ``"datetime"``.
        rows: Training rows (nulls included).
        null_share: Share of null values.
        quantiles: The quantile sketch of the non-null values (empty, or at least two values in
            ascending order), at the probabilities ``linspace(tail, 1 - tail, len(quantiles))``.
        tail: Probability mass beyond each end of the sketch (0.0 without quantiles).
        closed: Per end (low, high): the outermost quantile is the extreme value (the mass beyond
            it is a point mass on it) rather than an inner value of unknown tail.
    """

    sdtype: str
    rows: int
    null_share: float
    quantiles: tuple[float, ...]
    tail: float = 0.0
    closed: tuple[bool, bool] = (False, False)

    def score(self, synthetic: pd.Series) -> float:
        """``(1 - |null share difference|) * (1 - KS(sketch, synthetic non-null values))`` in [0, 1].

        Args:
            synthetic: The generated column.

        Returns:
            The score (without quantiles only the presence of values is compared).
        """
        values = as_numbers(synthetic)
        synthetic_null = 1.0 - values.size / len(synthetic) if len(synthetic) else 0.0
        real_non_null = self.rows - round(self.null_share * self.rows)
        if not self.quantiles:
            # Too few real values to sketch: only the presence of values can be compared.
            value_score = 1.0 if (real_non_null > 0) == (values.size > 0) else 0.0
        elif values.size == 0:
            value_score = 0.0
        else:
            value_score = 1.0 - _sketch_ks(self, values)
        score = (1.0 - abs(self.null_share - synthetic_null)) * value_score
        return float(min(1.0, max(0.0, score)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict.

        Returns:
            ``{"sdtype", "rows", "null_share", "quantiles", "tail", "closed"}``.
        """
        return {"sdtype": self.sdtype, "rows": self.rows, "null_share": self.null_share,
                "quantiles": list(self.quantiles), "tail": self.tail, "closed": list(self.closed)}


@dataclass(frozen=True)
class DiscreteMarginal:
    """Reference of a categorical or boolean column.

    Attributes:
        sdtype: ``"categorical"`` or ``"boolean"``.
        rows: Training rows (nulls included).
        missing: Count of missing values.
        categories: ``{category: count}`` of the categories seen at least ``min_category_count``
            times (JSON-native keys: text, numbers, booleans; numbers keyed with their kind when
            ``kinded``).
        rare: Total count of the other (rare) categories, pooled without their labels.
        kinded: The column mixes ``1``, ``True``, ``1.0``: they are counted apart (stored as ``"kinded"``).
    """

    sdtype: str
    rows: int
    missing: int
    categories: dict[Any, int] = field(default_factory=dict)
    rare: int = 0
    kinded: bool = False

    def score(self, synthetic: pd.Series) -> float:
        """``1 - TVD`` between the reference and synthetic category shares, missing as a category.

        Args:
            synthetic: The generated column.

        Returns:
            The score in [0, 1]; generated values outside the kept categories count toward the
            rare bucket.
        """
        if self.rows == 0 or len(synthetic) == 0:
            return 1.0 if self.rows == len(synthetic) == 0 else 0.0
        counts, missing = _category_counts(synthetic, self.kinded)
        rows, n = self.rows, len(synthetic)
        # Plain dictionaries (keys compare as they did when counted): a few category shares, where
        # aligning two pandas Series cost ~1 ms per column on every sample() call.
        distance = abs(self.missing / rows - missing / n)
        kept = 0
        for key, count in self.categories.items():
            generated = counts.get(key, 0)
            kept += generated
            distance += abs(count / rows - generated / n)
        distance += abs(self.rare / rows - (n - missing - kept) / n)
        return float(min(1.0, max(0.0, 1.0 - 0.5 * distance)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict.

        Returns:
            ``{"sdtype", "rows", "missing", "categories", "rare"}`` with the categories as
            ``[value, count]`` pairs (keeping their types).
        """
        pairs = [[key.value if isinstance(key, TypedKey) else key, count] for key, count in self.categories.items()]
        entry = {"sdtype": self.sdtype, "rows": self.rows, "missing": self.missing, "categories": pairs,
                 "rare": self.rare}
        return {**entry, "kinded": True} if self.kinded else entry


Marginal = ContinuousMarginal | DiscreteMarginal


def _continuous_marginal(series: pd.Series, sdtype: str, max_quantiles: int, min_count: int) -> ContinuousMarginal:
    """The :class:`ContinuousMarginal` of one training column (non-finite values count as nulls)."""
    values = as_numbers(series)
    values = values[np.isfinite(values)]
    null_share = 1.0 - values.size / len(series) if len(series) else 0.0
    quantiles, tail, closed = _quantile_sketch(values, max_quantiles, min_count)
    return ContinuousMarginal(sdtype, len(series), float(null_share), tuple(quantiles.tolist()), tail, closed)


def _discrete_marginal(series: pd.Series, sdtype: str, min_count: int) -> DiscreteMarginal:
    """The :class:`DiscreteMarginal` of one training column (rare categories pooled, unlabelled)."""
    kinded = series.dtype == object and mixes_kinds(series.to_numpy(dtype=object))
    counts, missing = _category_counts(series, kinded)
    kept = {value: count for value, count in counts.items() if count >= min_count}
    rare = sum(count for count in counts.values() if count < min_count)
    return DiscreteMarginal(sdtype, len(series), missing, kept, rare, kinded)


# ----------------------------------------------------------------------------- reading checked JSON
class _Corrupt(ValueError):
    """A malformed entry of a stored profile (wrapped into SerializationError by ``from_dict``)."""


def _count(value: Any, what: str) -> int:
    """``value`` if it is a count (a JSON integer in ``[0, 2**63)``, not a boolean), else :class:`_Corrupt`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise _Corrupt(f"{what} must be a whole number in [0, 2**63), got a {type(value).__name__}")
    return value


def _number(value: Any, what: str) -> float:
    """``value`` as a finite float if it is a JSON number (not a boolean, NaN or infinite), else :class:`_Corrupt`."""
    if not is_finite_number(value):
        shown = value if isinstance(value, float) else type(value).__name__
        raise _Corrupt(f"{what} must be a finite number, got {shown}")
    return float(value)


def _of_type(value: Any, kind: type, what: str) -> Any:
    """``value`` if it is a JSON object (``kind`` Mapping) or array (``kind`` list), else :class:`_Corrupt`."""
    if not isinstance(value, kind):
        raise _Corrupt(f"{what} must be {'an object' if kind is Mapping else 'an array'}, got a "
                       f"{type(value).__name__}")
    return value


def _read_continuous(entry: Mapping[str, Any], column: str, version: int) -> ContinuousMarginal:
    """A :class:`ContinuousMarginal` from its stored entry (version 1: tail and ends as written then)."""
    null_share = _number(entry["null_share"], f"null_share of column {column!r}")
    if not 0.0 <= null_share <= 1.0:
        raise _Corrupt(f"null_share of column {column!r} is not in [0, 1]")
    quantiles = tuple(_number(v, f"a quantile of column {column!r}")
                      for v in _of_type(entry["quantiles"], list, f"quantiles of column {column!r}"))
    if len(quantiles) == 1 or any(b < a for a, b in zip(quantiles, quantiles[1:])):
        raise _Corrupt(f"the quantiles of column {column!r} are not an ascending list of two or more")
    if version == 1:  # mid-point probabilities over the whole range; a tie at an end was a point mass
        tail = 0.5 / len(quantiles) if quantiles else 0.0
        closed = (len(quantiles) > 1 and quantiles[0] == quantiles[1],
                  len(quantiles) > 1 and quantiles[-1] == quantiles[-2])
    else:
        tail = _number(entry["tail"], f"tail of column {column!r}")
        ends = _of_type(entry["closed"], list, f"closed of column {column!r}")
        if len(ends) != 2 or not all(isinstance(end, bool) for end in ends):
            raise _Corrupt(f"closed of column {column!r} must be two booleans")
        closed = (ends[0], ends[1])
        if not (0.0 < tail <= 0.5 if quantiles else tail == 0.0):
            raise _Corrupt(f"tail of column {column!r} is out of range")
    return ContinuousMarginal(entry["sdtype"], _count(entry["rows"], f"rows of column {column!r}"), null_share,
                              quantiles, tail, closed)


def _read_discrete(entry: Mapping[str, Any], column: str, version: int) -> DiscreteMarginal:
    """A :class:`DiscreteMarginal` from its stored entry (version 1: no rare bucket)."""
    rows = _count(entry["rows"], f"rows of column {column!r}")
    missing = _count(entry["missing"], f"missing of column {column!r}")
    rare = 0 if version == 1 else _count(entry["rare"], f"rare of column {column!r}")
    kinded = entry.get("kinded", False)
    if not isinstance(kinded, bool):
        raise _Corrupt(f"'kinded' of column {column!r} is not a boolean")
    counts: dict[Any, int] = {}
    for pair in _of_type(entry["categories"], list, f"categories of column {column!r}"):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _Corrupt(f"a category of column {column!r} is not a [value, count] pair")
        value, count = pair
        if value is None or not isinstance(value, (str, int, float)) or value != value:  # NaN: never a key
            raise _Corrupt(f"a category of column {column!r} is not a text, number or boolean")
        key = _category_key(value, kinded)
        counts[key] = counts.get(key, 0) + _count(count, f"a category count of column {column!r}")
    if missing + rare + sum(counts.values()) != rows:
        raise _Corrupt(f"the counts of column {column!r} do not add up to its rows")
    return DiscreteMarginal(entry["sdtype"], rows, missing, counts, rare, kinded)


@dataclass(frozen=True)
class MarginalProfile:
    """Per-column reference of the training marginals (no raw rows), with column-shape scoring.

    Attributes:
        columns: ``{column: marginal}`` in training column order (``id``/``text`` columns and
            columns of fewer than ``min_category_count`` rows left out).
        max_quantiles: Most quantiles per numerical/datetime column.
        min_category_count: Values seen fewer times are not stored (1 for version-1 profiles,
            which stored every category).

    Example:
        >>> profile = MarginalProfile.from_frame(train, {"age": "numerical", "city": "categorical"})
        >>> profile.column_scores(synthetic)  # doctest: +SKIP
        {'age': 0.97, 'city': 0.95}
    """

    columns: dict[str, Marginal]
    max_quantiles: int = DEFAULT_QUANTILES
    min_category_count: int = DEFAULT_MIN_CATEGORY_COUNT

    @classmethod
    def from_frame(cls, data: pd.DataFrame, sdtypes: Mapping[str, str], *, max_quantiles: int = DEFAULT_QUANTILES,
                   min_category_count: int = DEFAULT_MIN_CATEGORY_COUNT) -> MarginalProfile:
        """Build the profile of ``data``.

        Args:
            data: The training table.
            sdtypes: Semantic type per column; columns without one, or of sdtype ``id``/``text``,
                are left out.
            max_quantiles: Most quantiles per numerical/datetime column (at least 2).
            min_category_count: Categories seen fewer times are pooled without their labels, the
                ``min_category_count - 1`` most extreme numbers on each side are not sketched, and
                columns of fewer rows are left out (the model's ``rare_threshold``).

        Returns:
            The profile.

        Raises:
            SchemaError: ``max_quantiles`` is not an integer >= 2.
            TrainingError: ``min_category_count`` is not an integer >= 1.
        """
        if not is_int(max_quantiles) or max_quantiles < 2:
            raise SchemaError(f"max_quantiles must be an integer >= 2, got {max_quantiles!r}.")
        if not is_int(min_category_count) or min_category_count < 1:
            raise TrainingError(f"min_category_count must be a positive integer, got {min_category_count!r}.")
        min_count = int(min_category_count)
        columns: dict[str, Marginal] = {}
        for column in data.columns:
            sdtype = sdtypes.get(column)
            if sdtype is None or sdtype in SKIPPED_SDTYPES or len(data) < min_count:
                continue
            if sdtype in CONTINUOUS_SDTYPES:
                columns[str(column)] = _continuous_marginal(data[column], str(sdtype), int(max_quantiles), min_count)
            elif sdtype in DISCRETE_SDTYPES:
                columns[str(column)] = _discrete_marginal(data[column], str(sdtype), min_count)
        return cls(columns, int(max_quantiles), min_count)

    def column_scores(self, synthetic: pd.DataFrame) -> dict[str, float]:
        """Column-shape score of every profiled column of ``synthetic``.

        Args:
            synthetic: Generated rows with (at least) the profiled columns.

        Returns:
            ``{column: score}`` in [0, 1], in profile order.

        Raises:
            SchemaError: ``synthetic`` lacks a profiled column.
        """
        missing = [column for column in self.columns if column not in synthetic.columns]
        if missing:
            raise SchemaError(f"The generated rows lack column(s) {missing} of the reference profile; "
                              "score the full table the model generates.")
        return {column: marginal.score(synthetic[column]) for column, marginal in self.columns.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (the checkpoint's ``reference_profile.json``).

        Returns:
            ``{"format", "version", "max_quantiles", "min_category_count", "columns"}``.
        """
        return {"format": PROFILE_FORMAT, "version": PROFILE_VERSION, "max_quantiles": self.max_quantiles,
                "min_category_count": self.min_category_count,
                "columns": {column: marginal.to_dict() for column, marginal in self.columns.items()}}

    @classmethod
    def from_dict(cls, data: Any) -> MarginalProfile:
        """Rebuild a profile from :meth:`to_dict`'s output (this version's or version 1's).

        Args:
            data: The parsed JSON.

        Returns:
            The profile.

        Raises:
            SerializationError: The dict is not a profile of a supported version, or is malformed
                (missing or null fields, wrong types, non-numeric or inconsistent counts, NaN).
        """
        try:
            data = _of_type(data, Mapping, "the profile")
            form, version = data.get("format"), data.get("version")
            if form != PROFILE_FORMAT or isinstance(version, bool) or not isinstance(version, int) \
                    or not 1 <= version <= PROFILE_VERSION:
                shown = [repr(v)[:80] if isinstance(v, (str, int, float)) or v is None else type(v).__name__
                         for v in (form, version)]
                raise SerializationError(
                    f"Not a SynthoHive marginal profile of version <= {PROFILE_VERSION} (format {shown[0]}, "
                    f"version {shown[1]}); upgrade SynthoHive or refit.")
            columns: dict[str, Marginal] = {}
            for column, entry in _of_type(data["columns"], Mapping, "columns").items():
                entry = _of_type(entry, Mapping, f"column {column!r}")
                if entry["sdtype"] in CONTINUOUS_SDTYPES:
                    columns[str(column)] = _read_continuous(entry, str(column), version)
                elif entry["sdtype"] in DISCRETE_SDTYPES:
                    columns[str(column)] = _read_discrete(entry, str(column), version)
                else:
                    raise _Corrupt(f"unknown sdtype for column {column!r}")
            max_quantiles = _count(data.get("max_quantiles", DEFAULT_QUANTILES), "max_quantiles")
            min_count = 1 if version == 1 else _count(data["min_category_count"], "min_category_count")
            if max_quantiles < 2 or min_count < 1:
                raise _Corrupt("max_quantiles must be >= 2 and min_category_count >= 1")
            return cls(columns, max_quantiles, min_count)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            detail = str(exc)[:300] if not isinstance(exc, RecursionError) else "nested too deeply"
            raise SerializationError(f"The reference profile is corrupt ({type(exc).__name__}: {detail}); save "
                                     "the model again.") from exc
