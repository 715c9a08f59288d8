"""Noisy counts over data-independent buckets: the preprocessing's only view of the rows under DP.

Every query is a histogram to which one row adds 1 in one bucket (L2 sensitivity 1), released with
Gaussian noise ``N(0, noise^2)`` per bucket from a seeded generator (reproducible runs; the noise is
not "secure" against floating-point attacks on the sampler, see ``docs/privacy.md``). Two kinds:

* buckets fixed before looking at the data (:class:`Grid`: a sign-logarithmic grid of numbers, with
  one bucket per integer from -100 to 100 for integer columns, a grid over declared bounds, whole years, the missing-value bucket): every bucket is released,
  noise included; buckets below a count threshold are treated as empty (post-processing);
* the values present in a categorical column: released only above a threshold calibrated so that
  a value held by one row alone passes with probability at most the threshold's delta
  (:func:`noisy_categories`).

What the models keep is computed from these noisy counts only: bounds, bin layouts and kept
categories are post-processing, which costs no extra privacy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Grid", "declared_buckets", "integer_grid", "integer_grid_rows", "log_grid", "uniform_grid", "noisy_counts", "noisy_categories", "values_from_histogram"]

#: Buckets per decade of the sign-logarithmic grid, and its decades (1e-6 .. 1e12).
_PER_DECADE = 4
_LOW_EXPONENT, _HIGH_EXPONENT = -6, 12
#: Buckets of a grid over declared bounds (an integer range of at most this many values: one per value).
_DECLARED_BUCKETS = 128
#: Integers kept exactly by :func:`integer_grid` (``-100 .. 100``).
_EXACT_INTEGERS = 100
#: Synthetic values spread over one bucket (see :func:`values_from_histogram`).
_VALUES_PER_BUCKET = 40


@dataclass(frozen=True)
class Grid:
    """Data-independent buckets ``[low, high)`` of a numeric column (``exact``: a bucket of one value).

    Attributes:
        low / high: Bucket bounds, sorted, non-overlapping.
        exact: Whether each bucket is the single value ``low`` (e.g. zero).
    """

    low: np.ndarray
    high: np.ndarray
    exact: np.ndarray

    def __len__(self) -> int:
        return len(self.low)

    def index(self, values: np.ndarray) -> np.ndarray:
        """The bucket of each value (values beyond the grid go to its first / last bucket)."""
        position = np.searchsorted(self.low, values, side="right") - 1
        position = np.clip(position, 0, len(self.low) - 1)
        # A value in the gap after an exact bucket belongs to the next bucket (zero is exact).
        past = self.exact[position] & (values > self.low[position]) & (position + 1 < len(self.low))
        return np.where(past, position + 1, position)


def log_grid() -> Grid:
    """The sign-logarithmic grid: ``(-1e12, ..., -1e-6)``, ``{0}``, ``(1e-6, ..., 1e12)``, four buckets
    a decade (each about 78% wider than the one before), the outer ones open-ended."""
    exponents = np.arange(_LOW_EXPONENT * _PER_DECADE, _HIGH_EXPONENT * _PER_DECADE + 1) / _PER_DECADE
    edges = 10.0 ** exponents
    pos_low, pos_high = edges[:-1], edges[1:]
    pos_low = np.concatenate([[np.nextafter(0.0, 1.0)], pos_low[1:]])  # the first one starts just above zero
    neg_low, neg_high = -pos_high[::-1], -pos_low[::-1]
    low = np.concatenate([neg_low, [0.0], pos_low])
    high = np.concatenate([neg_high, [0.0], pos_high])
    exact = np.zeros(len(low), dtype=bool)
    exact[len(neg_low)] = True
    low[0] = -np.inf
    high[-1] = np.inf
    return Grid(low, high, exact)


def integer_grid(limit: int = _EXACT_INTEGERS) -> Grid:
    """The grid of an integer column without declared bounds: one exact bucket per integer in
    ``[-limit, limit]`` (ages, counts, scores, hours keep their values and range), the
    sign-logarithmic buckets beyond. Data-independent, like :func:`log_grid`."""
    base = log_grid()
    cut = limit + 0.5
    neg = (base.high < 0) & (base.low < -cut)
    pos = (base.low > 0) & (base.high > cut)
    exact_values = np.arange(-limit, limit + 1, dtype=np.float64)
    low = np.concatenate([base.low[neg], exact_values, np.maximum(base.low[pos], cut)])
    high = np.concatenate([np.minimum(base.high[neg], -cut), exact_values, base.high[pos]])
    exact = np.concatenate([np.zeros(int(neg.sum()), bool), np.ones(len(exact_values), bool),
                            np.zeros(int(pos.sum()), bool)])
    return Grid(low, high, exact)


def integer_grid_rows(threshold: float, limit: int = _EXACT_INTEGERS) -> int:
    """Rows from which :func:`integer_grid` is used: enough for a column spread evenly over all its exact
    buckets to reach ``threshold`` in each (fewer rows: the sign-logarithmic grid)."""
    return int(math.ceil((2 * limit + 1) * threshold))


def uniform_grid(low: float, high: float, *, integer: bool, buckets: int = _DECLARED_BUCKETS) -> Grid:
    """Buckets over declared bounds ``[low, high]``: one per integer of an integer range of at most
    ``buckets`` values, else ``buckets`` equal ones (at most :data:`_DECLARED_BUCKETS`)."""
    buckets = int(min(max(buckets, 1), _DECLARED_BUCKETS))
    if integer and math.floor(high) - math.ceil(low) + 1 <= buckets:
        values = np.arange(math.ceil(low), math.floor(high) + 1, dtype=np.float64)
        return Grid(values, values, np.ones(len(values), dtype=bool))
    edges = np.linspace(low, high, buckets + 1)
    return Grid(edges[:-1], edges[1:], np.zeros(buckets, dtype=bool))


def declared_buckets(rows: int, threshold: float) -> int:
    """Buckets of a grid over declared bounds for ``rows`` rows (public): about four thresholds' worth
    of rows a bucket, 4 to :data:`_DECLARED_BUCKETS`."""
    return int(min(_DECLARED_BUCKETS, max(4, rows // max(4 * threshold, 1.0))))


def noisy_counts(counts: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``counts`` plus ``N(0, noise^2)`` each (the Gaussian mechanism of a sensitivity-1 histogram)."""
    counts = np.asarray(counts, dtype=np.float64)
    return counts + rng.normal(0.0, noise, size=counts.shape)


def noisy_categories(counts: dict[str, int], noise: float, threshold: float,
                     rng: np.random.Generator) -> dict[str, int]:
    """The categories whose noisy count reaches ``threshold``, with their noisy counts (rounded).

    Keys are noised in sorted order (reproducible for a seed); the threshold must be calibrated
    for the values held by one row (:func:`~syntho_hive.core.dp.accounting.plan_budget`).
    """
    keys = sorted(counts)
    noisy = noisy_counts(np.array([counts[k] for k in keys], dtype=np.float64), noise, rng)
    return {key: int(round(value)) for key, value in zip(keys, noisy) if value >= threshold}


def values_from_histogram(grid: Grid, noisy: np.ndarray, threshold: float, *,
                          integer: bool) -> tuple[np.ndarray, np.ndarray, float | None, float | None]:
    """Weighted values standing for a noisy histogram: what a codec fits its bins to.

    Buckets below ``threshold`` are empty. An exact bucket is its value with its count; an integer
    bucket of at most :data:`_VALUES_PER_BUCKET` integers spreads its count over them; any other
    bucket over :data:`_VALUES_PER_BUCKET` evenly spaced values, so quantiles interpolate inside it.
    Open-ended outer buckets are cut at their finite edge.

    Args:
        grid: The buckets.
        noisy: Their noisy counts.
        threshold: Least noisy count of a non-empty bucket.
        integer: Whether the column holds integers.

    Returns:
        ``(values, counts, minimum, maximum)``: sorted values, positive counts (floats), and the
        range the values span (``None`` when every bucket is empty).
    """
    keep = np.flatnonzero(noisy >= threshold)
    values: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    minimum = maximum = None
    for b in keep:
        low, high = float(grid.low[b]), float(grid.high[b])
        if grid.exact[b]:
            points = np.array([low])
        else:
            low = high / 10 ** (1 / _PER_DECADE) if math.isinf(low) else low
            high = low * 10 ** (1 / _PER_DECADE) if math.isinf(high) else high
            if integer and math.ceil(high) - math.ceil(low) <= _VALUES_PER_BUCKET:
                points = np.arange(math.ceil(low), math.ceil(high), dtype=np.float64)
            else:
                points = low + (np.arange(_VALUES_PER_BUCKET) + 0.5) * (high - low) / _VALUES_PER_BUCKET
            if not len(points):
                continue
        values.append(points)
        weights.append(np.full(len(points), float(noisy[b]) / len(points)))
        first, last = (math.ceil(low), math.ceil(high) - 1) if integer and not grid.exact[b] else (low, high)
        first, last = (min(first, points[0]), max(last, points[-1]))
        minimum = first if minimum is None else min(minimum, first)
        maximum = last if maximum is None else max(maximum, last)
    if not values:
        return np.empty(0), np.empty(0), None, None
    return np.concatenate(values), np.concatenate(weights), minimum, maximum
