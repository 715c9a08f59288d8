"""Numerical columns: one sub-column of value tokens.

Tokens are, in order: *points* (single values frequent enough to be kept exactly, e.g. the
``0`` of a capital-gain column, or every frequent value of a low-cardinality column), then
*intervals* (equal-mass quantile bins of the remaining values, decoded uniformly inside the
bin: independently, or placed by the table's ``BinCopula`` relative to the row's other numerical
columns), then the null token. Decoded values are rounded to the training precision (integers
stay integers) and lie within the training ``[min, max]``.

Privacy: a value seen fewer than ``rare_threshold`` times is never a point, and the outer
interval edges are inner quantiles (``tail_quantile``, at least ``rare_threshold`` values in
each tail). The rows beyond an outer edge are coded into the outer interval; decoding spreads
their share of it (``tails``) uniformly between the edge and the codec's ``minimum`` /
``maximum``, which reach past the edges by the mean distance of the values beyond them (each
capped at the outer interval's width, over at least ``rare_threshold`` values,
:func:`~syntho_hive.core.models.tabular_ar.encoders.base.tail_reach`): neither a training extreme
nor an outlier's size is kept in the codec or generated. A column of fewer than
``2 * rare_threshold - 1`` interval-coded values is decoded at their mean.

Integer columns whose values lie beyond ``2**53`` (``int64`` near ``2**63``, ``uint64`` near ``2**64``,
where a float64 no longer holds every integer) are counted from an integer ``base`` (their smallest
value rounded down to a multiple of ``2**20``, so no value is kept): the statistics, points and edges
are offsets from it, and decoding adds it back in integer arithmetic, within the dtype's range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.timeunits import coarsest_step
from syntho_hive.core.data._dtypes import (
    decimal_places,
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    null_marker,
    restore_decimals,
    restore_numbers,
)
from syntho_hive.core.metadata.decimals import FLOAT_EXACT
from syntho_hive.core.models.tabular_ar.encoders.base import Codec, CodecConfig, SubColumn, tail_reach
from syntho_hive.exceptions import GenerationError, SerializationError, TrainingError

__all__ = ["NumericStats", "NumericCodec", "analyze_numeric"]

_MAX_DECIMALS = 8
#: Most of an outer interval's draws spread past its edge (the rest stay inside the bin).
_MAX_TAIL = 0.45
#: A base is a multiple of this (the smallest value rounded down: an offset, not a training value).
_BASE_GRID = 2**20
#: The largest float64 below 2**64 (a float cast to uint64 must stay below 2**64).
_BELOW_2_64 = float(np.nextafter(2.0**64, 0))


def _round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits through decimal text (idempotent, exact)."""
    return np.array([float(f"{v:.{digits - 1}e}") for v in values.tolist()], dtype=np.float64)


def _aggregate(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques, inverse = np.unique(values, return_inverse=True)
    totals = np.zeros(len(uniques), dtype=np.int64)
    np.add.at(totals, inverse, counts)
    return uniques, totals


@dataclass
class NumericStats:
    """Per-partition statistics of a numerical column (exactly mergeable).

    Attributes:
        values: Sorted distinct non-null values (rounded to ``significant_digits`` when
            ``rounded``).
        counts: Their counts.
        rounded: Whether more than ``max_distinct`` distinct values forced rounding.
        nulls: Missing values.
        integer: Whether every value is integral.
        decimals: Decimal places needed to write every value (``None``: more than 8).
        minimum / maximum: Exact extremes (``None`` when the column is all missing).
        dtype / marker: JSON dtype and null marker.
        max_distinct / significant_digits: The rounding rule (from :class:`CodecConfig`).
        decimal_places: Digits after the point of a column of ``Decimal`` objects (``None``:
            not such a column); its values come back as ``Decimal`` with that scale.
        tick_step: For a ``timedelta64`` column, the native ticks per value (its coarsest unit
            dividing every duration, e.g. a second): values are counted in that unit and come
            back as durations of it. ``None`` for other columns.
        bounded: ``minimum`` / ``maximum`` are public bounds (a differentially private release),
            which the codec keeps as its range; otherwise they are training extremes, which it
            never stores.
        base: For an integer column with values beyond ``2**53``, the integer ``values``, ``minimum``
            and ``maximum`` are offsets from (:func:`_base_of` its smallest value; under DP, its declared
            low bound). ``None`` for other columns (values as they are).
    """

    values: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    rounded: bool = False
    nulls: int = 0
    integer: bool = True
    decimals: int | None = 0
    minimum: float | None = None
    maximum: float | None = None
    dtype: dict[str, Any] = field(default_factory=lambda: {"name": "float64"})
    marker: str | None = None
    max_distinct: int = 10_000
    significant_digits: int = 4
    kind: str = "numerical"
    decimal_places: int | None = None
    tick_step: int | None = None
    bounded: bool = False
    base: int | None = None

    def merge(self, other: "NumericStats") -> "NumericStats":
        """Statistics of both partitions together."""
        step = _merged(self.tick_step, other.tick_step, min)
        if step is not None and (self.tick_step, other.tick_step) != (step, step):
            # Durations counted in different units: count both in the finer one (the units are a
            # chain, day ... nanosecond, so the finer divides the coarser) and merge again.
            return self._in_step(step).merge(other._in_step(step))
        if (self.base, other.base) != (None, None):
            low = min(part._lowest_base() for part in (self, other) if part.minimum is not None)
            if (self.base, other.base) != (low, low):  # count both from the lower base and merge again
                return self._from_base(low).merge(other._from_base(low))
        values, counts = _aggregate(np.asarray(self.values + other.values, dtype=np.float64),
                                    np.asarray(self.counts + other.counts, dtype=np.int64))
        rounded = self.rounded or other.rounded or len(values) > self.max_distinct
        if rounded:
            values, counts = _aggregate(_round_significant(values, self.significant_digits), counts)
        decimals = None if self.decimals is None or other.decimals is None else max(self.decimals,
                                                                                       other.decimals)
        extremes = [x for x in (self.minimum, other.minimum) if x is not None]
        tops = [x for x in (self.maximum, other.maximum) if x is not None]
        return NumericStats(values.tolist(), counts.tolist(), rounded, self.nulls + other.nulls,
                            self.integer and other.integer, decimals, min(extremes) if extremes else None,
                            max(tops) if tops else None, self.dtype, self.marker or other.marker,
                            self.max_distinct, self.significant_digits,
                            decimal_places=_merged(self.decimal_places, other.decimal_places, max),
                            tick_step=step, bounded=self.bounded and other.bounded,
                            base=self.base)

    def _lowest_base(self) -> int:
        """The base this (not all-missing) partition would be counted from (its own, if it has one)."""
        return self.base if self.base is not None else _base_of(int(self.minimum or 0))

    def _from_base(self, base: int) -> "NumericStats":
        """These statistics counted from ``base`` (at most this partition's smallest value)."""
        shift = float((self.base or 0) - base)
        return replace(self, values=[v + shift for v in self.values],
                       minimum=None if self.minimum is None else self.minimum + shift,
                       maximum=None if self.maximum is None else self.maximum + shift, base=base)

    def _in_step(self, step: int) -> "NumericStats":
        """These statistics with durations counted in units of ``step`` ticks (a divisor of ``tick_step``)."""
        if self.tick_step is None or self.tick_step == step:
            return self
        factor = self.tick_step // step
        return replace(self, values=[v * factor for v in self.values],
                       minimum=None if self.minimum is None else self.minimum * factor,
                       maximum=None if self.maximum is None else self.maximum * factor, tick_step=step)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"kind": self.kind, "values": self.values, "counts": self.counts, "rounded": self.rounded,
                "nulls": self.nulls, "integer": self.integer, "decimals": self.decimals,
                "minimum": self.minimum, "maximum": self.maximum, "dtype": self.dtype, "marker": self.marker,
                "max_distinct": self.max_distinct, "significant_digits": self.significant_digits,
                "decimal_places": self.decimal_places, "tick_step": self.tick_step, "bounded": self.bounded,
                "base": self.base}


def _merged(first: int | None, second: int | None, pick: Callable[[int, int], int]) -> int | None:
    """``pick(first, second)``, or the one that is not ``None`` (``None`` when both are)."""
    if first is None or second is None:
        return second if first is None else first
    return pick(first, second)


def _duration_ticks(series: pd.Series) -> np.ndarray:
    """Native int64 ticks of the non-missing durations of a ``timedelta64`` column."""
    return series.dropna().to_numpy().view(np.int64)


def _numbers(series: pd.Series, column: str, tick_step: int | None = None) -> np.ndarray:
    """The non-missing values as float64 (durations in units of ``tick_step`` native ticks)."""
    if tick_step is not None:
        return (_duration_ticks(series) // tick_step).astype(np.float64)
    present = series.dropna()
    try:
        values = pd.to_numeric(present).to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"Numerical column {column!r} holds non-numeric values ({exc}); declare it "
                            "categorical or clean it.") from exc
    if not np.isfinite(values).all():
        raise TrainingError(f"Numerical column {column!r} holds infinite values; replace them by missing "
                            "values or finite bounds before fitting.")
    return values


def _exact_integers(series: pd.Series) -> np.ndarray | None:
    """The non-missing values of an integer column (NumPy, nullable or Arrow) as exact ``int64`` /
    ``uint64``; ``None`` for any other column."""
    dtype = series.dtype
    if not pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return None
    kind = np.uint64 if pd.api.types.is_unsigned_integer_dtype(dtype) else np.int64
    return series.dropna().to_numpy(dtype=kind)


def _base_of(lowest: int) -> int:
    """The base an integer column whose smallest value is ``lowest`` is counted from."""
    return lowest - lowest % _BASE_GRID


def _offsets(exact: np.ndarray, base: int) -> np.ndarray:
    """``exact - base`` as float64, the difference taken in exact integer arithmetic (every value is at
    least ``base``; a difference of up to ``2**64 - 1`` wraps neither ``int64`` nor ``uint64``)."""
    shifted = exact.view(np.uint64) if exact.dtype == np.int64 else exact
    return (shifted - np.uint64(base % 2**64)).astype(np.float64)


def _decimals(uniques: np.ndarray, dtype: Any) -> int | None:
    if uniques.size == 0:
        return 0
    native = np.dtype(dtype) if isinstance(dtype, np.dtype) and dtype.kind == "f" else np.dtype(np.float64)
    target = uniques.astype(native)
    for digits in range(_MAX_DECIMALS + 1):
        if np.array_equal(np.round(uniques, digits).astype(native), target):
            return digits
    return None


def analyze_numeric(series: pd.Series, config: CodecConfig | None = None) -> NumericStats:
    """Statistics of one partition of a numerical column."""
    config = config or CodecConfig()
    column = str(series.name)
    step = None
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        step = coarsest_step(_duration_ticks(series), np.datetime_data(series.to_numpy().dtype)[0])
    exact = _exact_integers(series) if step is None else None
    base = None
    if exact is not None and exact.size and max(abs(int(exact.min())), abs(int(exact.max()))) > FLOAT_EXACT:
        base = _base_of(int(exact.min()))
        values = _offsets(exact, base)
    else:
        values = _numbers(series, column, step)
    uniques, counts = np.unique(values, return_counts=True)
    integer = bool(np.all(uniques == np.round(uniques)))
    places = decimal_places(series)
    decimals = 0 if integer else places if places is not None else _decimals(uniques, series.dtype)
    rounded = len(uniques) > config.max_distinct
    if rounded:
        uniques, counts = _aggregate(_round_significant(uniques, config.significant_digits), counts)
    return NumericStats(uniques.tolist(), counts.tolist(), rounded, int(series.isna().sum()), integer, decimals,
                        float(values.min()) if values.size else None, float(values.max()) if values.size else None,
                        dtype_to_json(series.dtype, f"column {series.name!r}"), marker_to_json(null_marker(series)),
                        config.max_distinct,
                        config.significant_digits, decimal_places=places, tick_step=step, base=base)


def _tail_shares(values: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> tuple[float, float]:
    """Share of the first interval's count below ``edges[0]`` and of the last one's above ``edges[-1]``
    (values outside the edges are coded into the outer intervals)."""
    n_intervals = len(edges) - 1
    if n_intervals < 1:
        return 0.0, 0.0
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_intervals - 1)
    first, last = counts[bins == 0].sum(), counts[bins == n_intervals - 1].sum()
    below, above = counts[values < edges[0]].sum(), counts[values > edges[-1]].sum()
    return (float(below / first) if first else 0.0, float(above / last) if last else 0.0)


def _output_range(values: np.ndarray, counts: np.ndarray, points: np.ndarray, edges: np.ndarray, least: int
                  ) -> tuple[float, float]:
    """The lowest and highest value decoding may give (``values``: those coded into intervals;
    ``least``: the ``rare_threshold``).

    The points (values seen ``rare_threshold`` times or more) and the outer edges (inner quantiles)
    are in range; past an outer edge the range reaches :func:`tail_reach` (capped at the outer
    interval's width), never a training extreme. Values coded into points only range over them.
    """
    lows, highs = list(points[:1]), list(points[-1:])
    if len(edges):
        below, above = values < edges[0], values > edges[-1]
        lows.append(tail_reach(edges[0], values[below], counts[below], edges[min(1, len(edges) - 1)] - edges[0],
                               least))
        highs.append(tail_reach(edges[-1], values[above], counts[above], edges[-1] - edges[max(-2, -len(edges))],
                                least))
    return float(min(lows)), float(max(highs))


def _weighted_quantiles(values: np.ndarray, counts: np.ndarray, levels: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(counts)
    positions = levels * cumulative[-1]
    index = np.clip(np.searchsorted(cumulative, positions, side="left"), 0, len(values) - 1)
    return values[index]


class NumericCodec(Codec):
    """Point tokens, interval tokens, null token (see the module docstring).

    Args:
        column: Column name.
        points: Values kept exactly (sorted).
        edges: Interval edges (sorted; ``len(edges) - 1`` intervals, possibly none).
        has_null: Whether the column had missing values.
        integer / decimals: Output precision.
        minimum / maximum: Output range (no training extreme: see :func:`_output_range`).
        dtype / marker: JSON dtype and null marker.
        tails: Share of the first interval's values below ``edges[0]`` and of the last interval's
            above ``edges[-1]``; decoding spreads that share of the outer intervals towards
            ``minimum`` / ``maximum`` (never onto them). ``(0, 0)``: intervals end at the edges.
        base: For an integer column counted from a base (see :class:`NumericStats`): points, edges,
            ``minimum`` and ``maximum`` are offsets from it. ``None``: values as they are.
    """

    kind = "numerical"

    def __init__(self, column: str, points: list[float], edges: list[float], has_null: bool, integer: bool,
                 decimals: int | None, minimum: float, maximum: float, dtype: dict[str, Any],
                 marker: str | None, decimal_places: int | None = None, tick_step: int | None = None,
                 tails: tuple[float, float] = (0.0, 0.0), base: int | None = None) -> None:
        super().__init__(column)
        self.base = base
        self.tails = (float(tails[0]), float(tails[1]))
        self.decimal_places = decimal_places
        self.tick_step = tick_step
        self.points = np.asarray(points, dtype=np.float64)
        self.edges = np.asarray(edges, dtype=np.float64)
        self.has_null = has_null
        self.integer = integer
        self.decimals = decimals
        self.minimum = minimum
        self.maximum = maximum
        self.dtype_json = dtype
        self.marker_json = marker
        self._dtype = dtype_from_json(dtype, f"column {column!r}")
        self._marker = marker_from_json(marker)

    @classmethod
    def build(cls, column: str, stats: NumericStats, config: CodecConfig) -> "NumericCodec":
        """The codec for reduced statistics."""
        values = np.asarray(stats.values, dtype=np.float64)
        counts = np.asarray(stats.counts, dtype=np.int64)
        total = int(counts.sum())
        k = config.rare_threshold
        points = np.empty(0)
        edges = np.empty(0)
        tails = (0.0, 0.0)
        minimum = maximum = 0.0
        if total:
            if len(values) <= config.max_bins and (counts >= k).any():
                points = values[counts >= k]
                rest = np.zeros(len(values), dtype=bool)  # rare values snap to the nearest point
            else:
                heavy = counts >= max(k, total / (20 * config.max_bins))
                # At most half the tokens are points, but a spike holding half a bin's mass or more
                # stays one (a bin it fell into would lose it: 28 rows at 2.0 on a 442-row table).
                spikes = int((counts >= max(k, total / (2 * config.max_bins))).sum())
                cap = min(config.max_bins, max(config.max_bins // 2, spikes))
                if heavy.sum() > cap:
                    top = np.argsort(-counts, kind="stable")[:cap]
                    heavy = np.zeros(len(values), dtype=bool)
                    heavy[top] = True
                points = values[heavy]
                rest = ~heavy
            remaining = int(counts[rest].sum())
            if 0 < remaining < 2 * k - 1:  # too few values for inner edges: their mean only
                middle = float(np.average(values[rest], weights=counts[rest]))
                edges = np.array([middle, middle])
            elif remaining:
                share = math.ceil(config.max_bins * remaining / total)
                n_bins = int(np.clip(max(share, min(20, remaining // (4 * k))), 1, config.max_bins))
                tail = min(0.5, max(config.tail_quantile, k / remaining))
                levels = np.linspace(tail, 1.0 - tail, n_bins + 1)
                edges = np.unique(_weighted_quantiles(values[rest], counts[rest], levels))
                if len(edges) == 1:
                    edges = np.repeat(edges, 2)
                tails = _tail_shares(values[rest], counts[rest], edges)
            if stats.bounded and stats.minimum is not None and stats.maximum is not None:
                minimum, maximum = stats.minimum, stats.maximum  # released bounds: public
            else:
                minimum, maximum = _output_range(values[rest], counts[rest], points, edges, k)
        return cls(column, points.tolist(), edges.tolist(), stats.nulls > 0, stats.integer, stats.decimals,
                   minimum, maximum, stats.dtype, stats.marker, stats.decimal_places, stats.tick_step,
                   tails if len(edges) else (0.0, 0.0), stats.base)

    @property
    def n_intervals(self) -> int:
        return max(len(self.edges) - 1, 0)

    @property
    def null_token(self) -> int | None:
        return len(self.points) + self.n_intervals if self.has_null else None

    @property
    def sub_columns(self) -> list[SubColumn]:
        card = len(self.points) + self.n_intervals + int(self.has_null)
        return [SubColumn(self.column, self.column, max(card, 1), self.null_token, self._positions())]

    def token_values(self) -> np.ndarray:
        """The value each value token stands for, in token order: the points, then the intervals' middles
        (the null token, last, has none)."""
        middles = (self.edges[:-1] + self.edges[1:]) / 2 if self.n_intervals else np.empty(0)
        return np.concatenate([self.points, middles])

    def _positions(self) -> tuple[float, ...] | None:
        """Each token's rank among the value tokens (:meth:`token_values`, by value) on a
        standard-normal scale; the null token sits at 0. ``None`` below three value tokens."""
        values = self.token_values()
        if len(values) < 3:
            return None
        ranks = np.empty(len(values), dtype=np.int64)
        ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
        normal = NormalDist()
        places = [normal.inv_cdf((rank + 0.5) / len(values)) for rank in ranks.tolist()]
        return tuple(places + [0.0] * int(self.has_null))

    def _tokens(self, values: np.ndarray) -> np.ndarray:
        tokens = np.zeros(len(values), dtype=np.int64)
        assigned = np.zeros(len(values), dtype=bool)
        if len(self.points):
            pos = np.clip(np.searchsorted(self.points, values), 0, len(self.points) - 1)
            exact = self.points[pos] == values
            tokens[exact], assigned[exact] = pos[exact], True
            if not self.n_intervals:  # only points: snap to the nearest one
                left = np.clip(pos - 1, 0, len(self.points) - 1)
                nearer_left = np.abs(values - self.points[left]) <= np.abs(self.points[pos] - values)
                tokens[~exact] = np.where(nearer_left, left, pos)[~exact]
                assigned[:] = True
        if self.n_intervals:
            bins = np.clip(np.searchsorted(self.edges, values, side="right") - 1, 0, self.n_intervals - 1)
            tokens[~assigned] = len(self.points) + bins[~assigned]
        return tokens

    def encode(self, series: pd.Series) -> np.ndarray:
        nulls = series.isna().to_numpy()
        codes = np.zeros(len(series), dtype=np.int64)
        if (~nulls).any():
            codes[~nulls] = self._tokens(self._offsets(series))
        if nulls.any():
            codes[nulls] = self._null(self.null_token)
        return codes.reshape(-1, 1)

    def _offsets(self, series: pd.Series) -> np.ndarray:
        """The non-missing values of ``series`` as the codec counts them (from ``base`` when it has one)."""
        if self.base is None:
            return _numbers(series, self.column, self.tick_step)
        exact = _exact_integers(series)
        if exact is None:  # e.g. an integer column that became float64 with missing values
            return _numbers(series, self.column) - float(self.base)
        # values beyond the training range may lie below the base: count them from the lowest value
        low = min(int(exact.min()), self.base) if exact.size else self.base
        return _offsets(exact, low) - float(self.base - low)

    def _exact(self, values: np.ndarray) -> np.ndarray:
        """Decoded offsets (within ``[minimum, maximum]``) as integers of the column's kind: ``base`` added
        in integer arithmetic (an offset float64 rounded past the dtype's largest value is capped there)."""
        unsigned = pd.api.types.is_unsigned_integer_dtype(self._dtype)
        room = int(np.iinfo(np.uint64 if unsigned else np.int64).max) - self.base
        offsets = np.minimum(np.maximum(np.round(values), 0.0), _BELOW_2_64).astype(np.uint64)
        total = np.minimum(offsets, np.uint64(room)) + np.uint64(self.base % 2**64)  # wraps onto the value
        return total if unsigned else total.view(np.int64)

    def decode(self, codes: np.ndarray, rng: np.random.Generator, positions: np.ndarray | None = None
               ) -> pd.Series:
        """Values from tokens; ``positions`` (one per row, in ``[0, 1]``) places each interval
        token's value inside its bin (default: uniform draws from ``rng``; see ``BinCopula``)."""
        tokens = codes[:, 0]
        nulls = tokens == self.null_token if self.null_token is not None else np.zeros(len(tokens), bool)
        values = np.zeros(len(tokens), dtype=np.float64)
        is_point = tokens < len(self.points)
        values[is_point] = self.points[tokens[is_point]]
        in_bin = ~is_point & ~nulls
        if in_bin.any():
            bins = tokens[in_bin] - len(self.points)
            place = rng.random(len(bins)) if positions is None else positions[in_bin]
            draw = self._inside(bins, place)
            values[in_bin] = draw
            if self.integer:
                lowest, highest = self._range()
                values[in_bin] = np.clip(np.round(draw), np.ceil(lowest), np.floor(highest))
            elif self.decimals is not None:
                values[in_bin] = np.round(draw, self.decimals)
        values = np.clip(values, self.minimum, self.maximum)
        if self.base is not None and pd.api.types.is_integer_dtype(self._dtype):
            return restore_numbers(self._exact(values), nulls, self._dtype, self._marker, self.column)
        if self.integer:
            values = np.round(values)
            if pd.api.types.is_integer_dtype(self._dtype):
                # uint64 values past 2**63 would wrap around in int64
                values = values.astype(np.uint64 if pd.api.types.is_unsigned_integer_dtype(self._dtype) else np.int64)
        if self.decimal_places is not None:
            return restore_decimals(values, nulls, self.decimal_places, self._marker, self.column)
        if self.tick_step is not None:
            ticks = np.where(nulls, np.iinfo(np.int64).min, np.round(values).astype(np.int64) * self.tick_step)
            unit = np.datetime_data(np.dtype(self._dtype))[0]
            return pd.Series(ticks.view(f"timedelta64[{unit}]"), name=self.column).astype(self._dtype)
        return restore_numbers(values, nulls, self._dtype, self._marker, self.column)

    def _range(self) -> tuple[float, float]:
        """Lowest and highest value an interval token decodes to: the outer edges, or, where a tail
        share spreads past them, one unit of the column's precision inside ``minimum`` / ``maximum``."""
        # a column needing more than _MAX_DECIMALS digits is not rounded: keep clear of its extremes
        # by at least the last decimal kept elsewhere and a few float steps
        unit = 1.0 if self.integer else 10.0 ** -(self.decimals if self.decimals is not None else _MAX_DECIMALS)
        lowest, highest = self.edges[0], self.edges[-1]
        floor = self.minimum + max(unit, 4 * np.spacing(abs(self.minimum)))
        ceiling = self.maximum - max(unit, 4 * np.spacing(abs(self.maximum)))
        if self.tails[0] > 0 and floor < lowest:
            lowest = floor
        if self.tails[1] > 0 and ceiling > highest:
            highest = ceiling
        return float(lowest), float(highest)

    def _inside(self, bins: np.ndarray, place: np.ndarray) -> np.ndarray:
        """Values of interval tokens ``bins`` at ``place`` (in ``[0, 1]``) inside them: uniform over
        the bin, except the outer bins' tail shares, spread uniformly out to :meth:`_range`."""
        low, high = self.edges[bins], self.edges[bins + 1]
        lowest, highest = self._range()
        below = np.where((bins == 0) & (lowest < self.edges[0]), min(self.tails[0], _MAX_TAIL), 0.0)
        above = np.where((bins == self.n_intervals - 1) & (highest > self.edges[-1]),
                         min(self.tails[1], _MAX_TAIL), 0.0)
        inner = (place - below) / np.maximum(1.0 - below - above, 1e-12)
        value = low + np.clip(inner, 0.0, 1.0) * (high - low)
        value = np.where(place < below, lowest + place / np.maximum(below, 1e-12) * (low - lowest), value)
        top = place > 1.0 - above
        return np.where(top, high + (place - (1.0 - above)) / np.maximum(above, 1e-12) * (highest - high), value)

    def allowed_tokens(self, value: Any) -> list[np.ndarray]:
        if value is None or pd.isna(value):
            return [np.array([self._null(self.null_token, conditioned=True)])]
        try:
            number = self._duration_value(value) if self.tick_step is not None else float(value)
        except (TypeError, ValueError) as exc:
            raise GenerationError(f"Condition value {value!r} for numerical column {self.column!r} is not a "
                                  "number.") from exc
        if self.base is not None:
            return self._allowed_exact(value, number)
        if not self.minimum <= number <= self.maximum:
            shown = (f"{pd.Timedelta(value)}", *(self._duration_text(b) for b in (self.minimum, self.maximum))) \
                if self.tick_step is not None else (repr(value), self.minimum, self.maximum)
            raise GenerationError(f"Condition value {shown[0]} for column {self.column!r} is outside the "
                                  f"modelled range [{shown[1]}, {shown[2]}] (the training range less its "
                                  "extreme values).")
        if self.integer and not float(number).is_integer():
            raise GenerationError(f"Condition value {value!r} for column {self.column!r} is not an integer; the "
                                  "column holds only integers.")
        return [self._tokens(np.array([number]))]

    def _allowed_exact(self, value: Any, number: float) -> list[np.ndarray]:
        """:meth:`allowed_tokens` of a column counted from ``base``: the range checked on exact integers."""
        if not float(number).is_integer():
            raise GenerationError(f"Condition value {value!r} for column {self.column!r} is not an integer; the "
                                  "column holds only integers.")
        offset = float((int(value) if isinstance(value, (int, np.integer)) else int(number)) - self.base)
        if not self.minimum <= offset <= self.maximum:
            raise GenerationError(f"Condition value {value!r} for column {self.column!r} is outside the "
                                  f"modelled range [{self.base + int(self.minimum)}, {self.base + int(self.maximum)}] "
                                  "(the training range less its extreme values).")
        return [self._tokens(np.array([offset]))]

    def _duration_text(self, number: float) -> str:
        """A value of a duration column (in units of ``tick_step`` ticks) as a duration, e.g. ``0 days 06:00:00``."""
        unit = np.datetime_data(np.dtype(self._dtype))[0]
        return str(pd.Timedelta(int(round(number)) * int(self.tick_step), unit=unit))

    def _duration_value(self, value: Any) -> float:
        """A condition value of a duration column, in the column's value unit."""
        unit = np.datetime_data(np.dtype(self._dtype))[0]
        ticks = pd.Timedelta(value).to_timedelta64().astype(f"timedelta64[{unit}]").astype(np.int64)
        return float(ticks) / float(self.tick_step)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "points": self.points.tolist(),
                "edges": self.edges.tolist(), "has_null": self.has_null, "integer": self.integer,
                "decimals": self.decimals, "minimum": self.minimum, "maximum": self.maximum,
                "dtype": self.dtype_json, "marker": self.marker_json, "decimal_places": self.decimal_places,
                "tick_step": self.tick_step, "tails": list(self.tails), "base": self.base}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NumericCodec":
        # decimal_places, tick_step, tails and base are absent from states saved before they existed.
        tails = data.get("tails", (0.0, 0.0))
        base = data.get("base")
        if not (base is None or type(base) is int):
            raise SerializationError(f"Numerical codec {data['column']!r}: 'base' must be an integer or null, got "
                                     f"{base!r}; the checkpoint is corrupt.")
        if (not isinstance(tails, (list, tuple)) or len(tails) != 2
                or not all(isinstance(t, (int, float)) and 0.0 <= t <= 1.0 for t in tails)):
            raise SerializationError(f"Numerical codec {data['column']!r}: 'tails' must be two shares in [0, 1], "
                                     f"got {tails!r}; the checkpoint is corrupt.")
        return cls(data["column"], data["points"], data["edges"], data["has_null"], data["integer"],
                   data["decimals"], data["minimum"], data["maximum"], data["dtype"], data["marker"],
                   data.get("decimal_places"), data.get("tick_step"), tuple(tails), base)
