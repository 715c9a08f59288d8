"""A privacy-safe reference of the training marginals, to score generated columns without raw rows.

A :class:`MarginalProfile` is built at ``fit`` and saved in the checkpoint as JSON. It keeps, per
column, only what the column-shape scores need:

* **numerical / datetime**: the row count, the null share and a quantile sketch of the non-null
  values (datetimes as nanoseconds since the epoch). The sketch has
  ``K = min(max_quantiles, n_non_null // 5)`` quantiles (at least 2) at the mid-point
  probabilities ``p_k = (k + 0.5) / K``. Capping ``K`` at a fifth of the rows keeps the sketch an
  aggregate: never more than one quantile falls between two neighbouring records, so the records
  cannot be read back from the piecewise-linear sketch. The extremes (minimum, maximum) are never
  stored. A quantile that would land exactly on one record (integer interpolation position) is
  moved half a rank, so every stored value mixes two neighbouring records (it equals a record's
  value only when at least two records share that value).
* **categorical / boolean**: the count of every category and of missing values. Categories are
  already stored by the fitted transformer; rare categories are kept, as counts.
* ``id`` and ``text`` columns are left out (they have no column-shape score).

Scores against the sketch (:meth:`MarginalProfile.column_scores`) follow
:mod:`syntho_hive.core.quality.shapes`: ``(1 - |null share difference|) * (1 - KS)`` for
numerical/datetime columns and ``1 - TVD`` (missing values as a category) for discrete ones. The
real CDF is the sketch's piecewise-linear interpolation (with jumps where quantiles tie, i.e. at
values many records share; a tie at either end is a point mass at the edge), so the KS statistic
differs from the one on the raw rows by about ``1 / K`` plus the interpolation error inside a
quantile bin (below 0.01 with 1,001 quantiles in practice).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.quality.shapes import (
    CONTINUOUS_SDTYPES,
    DISCRETE_SDTYPES,
    SKIPPED_SDTYPES,
    as_numbers,
)
from syntho_hive.exceptions import SchemaError, SerializationError

__all__ = ["MarginalProfile", "ContinuousMarginal", "DiscreteMarginal", "profile_sdtypes", "DEFAULT_QUANTILES",
           "PROFILE_FORMAT", "PROFILE_VERSION"]

#: Most quantiles kept per numerical/datetime column.
DEFAULT_QUANTILES = 1_001
#: Records per quantile at least (caps the sketch resolution on small tables).
_ROWS_PER_QUANTILE = 5
PROFILE_FORMAT = "synthohive-marginal-profile"
PROFILE_VERSION = 1


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


def _quantile_sketch(values: np.ndarray, max_quantiles: int) -> np.ndarray:
    """Mid-point quantiles of ``values`` (see the module docstring); empty below two values."""
    n = values.size
    if n < 2:
        return np.empty(0, dtype=np.float64)
    k = int(min(max_quantiles, max(2, n // _ROWS_PER_QUANTILE)))
    ordered = np.sort(values)
    positions = (np.arange(k, dtype=np.float64) + 0.5) / k * (n - 1)
    lower = np.floor(positions)
    fraction = positions - lower
    # Exactly on a record: move half a rank up so the value mixes two neighbouring records.
    on_record = fraction == 0.0
    fraction[on_record] = 0.5
    lower = np.minimum(lower.astype(np.int64), n - 2)
    return ordered[lower] * (1.0 - fraction) + ordered[lower + 1] * fraction


def _sketch_ks(quantiles: np.ndarray, synthetic: np.ndarray) -> float:
    """KS statistic between the sketch's piecewise-linear CDF and the empirical CDF of ``synthetic``."""
    k = quantiles.size
    probabilities = (np.arange(k, dtype=np.float64) + 0.5) / k
    unique, first, counts = np.unique(quantiles, return_index=True, return_counts=True)
    p_low = probabilities[first]                 # CDF just below a (tied) quantile value
    p_high = probabilities[first + counts - 1]   # CDF at it
    # A tie at either end is a point mass at the edge of the distribution (e.g. a constant or an
    # integer minimum): the CDF reaches 0 just below it / 1 at it (error below 0.5 / K otherwise).
    if counts[0] > 1:
        p_low[0] = 0.0
    if counts[-1] > 1:
        p_high[-1] = 1.0
    ordered = np.sort(synthetic)
    m = ordered.size

    def sketch_cdf(x: np.ndarray, *, left: bool) -> np.ndarray:
        # Index of the last knot <= x (right-continuous value) or < x (left limit).
        j = np.searchsorted(unique, x, side="left" if left else "right") - 1
        last = unique.size - 1
        j_clip = np.clip(j, 0, max(last - 1, 0))
        if unique.size > 1:
            x0, x1 = unique[j_clip], unique[j_clip + 1]
            y0, y1 = p_high[j_clip], p_low[j_clip + 1]
            t = np.clip((x - x0) / (x1 - x0), 0.0, 1.0)
            inside = y0 + t * (y1 - y0)
        else:
            inside = np.full(x.shape, p_high[0])
        on_knot = (j >= 0) & (j <= last) & (unique[np.clip(j, 0, last)] == x)
        value = np.where(j < 0, 0.0, np.where(j >= last, 1.0, inside))
        if not left:
            value = np.where(on_knot, p_high[np.clip(j, 0, last)], value)
        return value

    # Both step functions change only at the knots and at the synthetic values, so the supremum is
    # among their values and left limits there. At the knots:
    at_knots = max(
        np.abs(sketch_cdf(unique, left=False) - np.searchsorted(ordered, unique, side="right") / m).max(),
        np.abs(sketch_cdf(unique, left=True) - np.searchsorted(ordered, unique, side="left") / m).max())
    # At each distinct synthetic value (ordered is sorted: its runs give the empirical CDF just below
    # and at the value); the sketch's CDF is continuous there unless the value is a knot.
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    values = ordered[starts]
    ends = np.append(starts[1:], m)
    sketch_at = sketch_cdf(values, left=False)
    sketch_below = sketch_at.copy()
    knots = np.isin(values, unique)
    if knots.any():
        sketch_below[knots] = sketch_cdf(values[knots], left=True)
    at_values = max(np.abs(sketch_at - ends / m).max(), np.abs(sketch_below - starts / m).max())
    return float(max(at_knots, at_values))


def _json_category(value: Any) -> Any:
    """A JSON-native key for a category value (numbers and booleans kept, anything else as text)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value if isinstance(value, str) else str(value)


def _category_counts(series: pd.Series) -> tuple[dict[Any, int], int]:
    """``({category: count}, missing count)`` with JSON-native category keys."""
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
        quantiles: The mid-point quantile sketch of the non-null values (empty below two values).
    """

    sdtype: str
    rows: int
    null_share: float
    quantiles: tuple[float, ...]

    def score(self, synthetic: pd.Series) -> float:
        """``(1 - |null share difference|) * (1 - KS(sketch, synthetic non-null values))`` in [0, 1]."""
        values = as_numbers(synthetic)
        synthetic_null = 1.0 - values.size / len(synthetic) if len(synthetic) else 0.0
        real_non_null = self.rows - round(self.null_share * self.rows)
        if not self.quantiles:
            # Fewer than two real values: only the presence of values can be compared.
            value_score = 1.0 if (real_non_null > 0) == (values.size > 0) else 0.0
        elif values.size == 0:
            value_score = 0.0
        else:
            value_score = 1.0 - _sketch_ks(np.asarray(self.quantiles, dtype=np.float64), values)
        score = (1.0 - abs(self.null_share - synthetic_null)) * value_score
        return float(min(1.0, max(0.0, score)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return {"sdtype": self.sdtype, "rows": self.rows, "null_share": self.null_share,
                "quantiles": list(self.quantiles)}


@dataclass(frozen=True)
class DiscreteMarginal:
    """Reference of a categorical or boolean column.

    Attributes:
        sdtype: ``"categorical"`` or ``"boolean"``.
        rows: Training rows (nulls included).
        missing: Count of missing values.
        categories: ``{category: count}`` (JSON-native keys: text, numbers, booleans).
    """

    sdtype: str
    rows: int
    missing: int
    categories: dict[Any, int] = field(default_factory=dict)

    def score(self, synthetic: pd.Series) -> float:
        """``1 - TVD`` between the reference and synthetic category shares, missing as a category."""
        if self.rows == 0 or len(synthetic) == 0:
            return 1.0 if self.rows == len(synthetic) == 0 else 0.0
        counts, missing = _category_counts(synthetic)
        rows, n = self.rows, len(synthetic)
        # Plain dictionaries (keys compare as they did when counted): a few category shares, where
        # aligning two pandas Series cost ~1 ms per column on every sample() call.
        distance = abs(self.missing / rows - missing / n)
        for key in self.categories.keys() | counts.keys():
            distance += abs(self.categories.get(key, 0) / rows - counts.get(key, 0) / n)
        return float(min(1.0, max(0.0, 1.0 - 0.5 * distance)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (categories as ``[value, count]`` pairs, keeping their types)."""
        return {"sdtype": self.sdtype, "rows": self.rows, "missing": self.missing,
                "categories": [[value, count] for value, count in self.categories.items()]}


Marginal = ContinuousMarginal | DiscreteMarginal


@dataclass(frozen=True)
class MarginalProfile:
    """Per-column reference of the training marginals (no raw rows), with column-shape scoring.

    Attributes:
        columns: ``{column: marginal}`` in training column order (``id``/``text`` columns left out).
        max_quantiles: Most quantiles per numerical/datetime column.

    Example:
        >>> profile = MarginalProfile.from_frame(train, {"age": "numerical", "city": "categorical"})
        >>> profile.column_scores(synthetic)  # doctest: +SKIP
        {'age': 0.97, 'city': 0.95}
    """

    columns: dict[str, Marginal]
    max_quantiles: int = DEFAULT_QUANTILES

    @classmethod
    def from_frame(cls, data: pd.DataFrame, sdtypes: Mapping[str, str], *,
                   max_quantiles: int = DEFAULT_QUANTILES) -> MarginalProfile:
        """Build the profile of ``data``.

        Args:
            data: The training table.
            sdtypes: Semantic type per column; columns without one, or of sdtype ``id``/``text``,
                are left out.
            max_quantiles: Most quantiles per numerical/datetime column (at least 2).

        Returns:
            The profile.

        Raises:
            SchemaError: ``max_quantiles`` is not an integer >= 2.
        """
        if isinstance(max_quantiles, bool) or not isinstance(max_quantiles, (int, np.integer)) \
                or max_quantiles < 2:
            raise SchemaError(f"max_quantiles must be an integer >= 2, got {max_quantiles!r}.")
        columns: dict[str, Marginal] = {}
        for column in data.columns:
            sdtype = sdtypes.get(column)
            if sdtype is None or sdtype in SKIPPED_SDTYPES:
                continue
            series = data[column]
            if sdtype in CONTINUOUS_SDTYPES:
                values = as_numbers(series)
                values = values[np.isfinite(values)]
                null_share = 1.0 - values.size / len(series) if len(series) else 0.0
                sketch = _quantile_sketch(values, int(max_quantiles))
                columns[str(column)] = ContinuousMarginal(str(sdtype), len(series), float(null_share),
                                                          tuple(float(v) for v in sketch.tolist()))
            elif sdtype in DISCRETE_SDTYPES:
                counts, missing = _category_counts(series)
                columns[str(column)] = DiscreteMarginal(str(sdtype), len(series), missing, counts)
        return cls(columns, int(max_quantiles))

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
        """JSON-serialisable dict (the checkpoint's ``reference_profile.json``)."""
        return {"format": PROFILE_FORMAT, "version": PROFILE_VERSION, "max_quantiles": self.max_quantiles,
                "columns": {column: marginal.to_dict() for column, marginal in self.columns.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MarginalProfile:
        """Rebuild a profile from :meth:`to_dict`'s output.

        Raises:
            SerializationError: The dict is not a profile of a supported version.
        """
        try:
            if data.get("format") != PROFILE_FORMAT or int(data["version"]) > PROFILE_VERSION:
                raise SerializationError(
                    f"Not a SynthoHive marginal profile of version <= {PROFILE_VERSION} (format "
                    f"{data.get('format')!r}, version {data.get('version')!r}); upgrade SynthoHive or refit.")
            columns: dict[str, Marginal] = {}
            for column, entry in data["columns"].items():
                if entry["sdtype"] in CONTINUOUS_SDTYPES:
                    null_share = float(entry["null_share"])
                    quantiles = tuple(float(v) for v in entry["quantiles"])
                    if not (0.0 <= null_share <= 1.0) or not all(map(math.isfinite, quantiles)):
                        raise ValueError(f"invalid null share or quantiles for column {column!r}")
                    columns[str(column)] = ContinuousMarginal(str(entry["sdtype"]), int(entry["rows"]),
                                                              null_share, quantiles)
                elif entry["sdtype"] in DISCRETE_SDTYPES:
                    counts: dict[Any, int] = {}
                    for value, count in entry["categories"]:
                        counts[value] = counts.get(value, 0) + int(count)
                    columns[str(column)] = DiscreteMarginal(str(entry["sdtype"]), int(entry["rows"]),
                                                            int(entry["missing"]), counts)
                else:
                    raise ValueError(f"unknown sdtype {entry['sdtype']!r} for column {column!r}")
            return cls(columns, int(data.get("max_quantiles", DEFAULT_QUANTILES)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"The reference profile is corrupt ({type(exc).__name__}: {exc}); save "
                                     "the model again.") from exc
