"""The children-per-parent model of one foreign key under differential privacy: a noisy histogram.

Without DP a :class:`~syntho_hive.relational.cardinality.CardinalityModel` keeps the exact count
distribution per group of parent attributes. Under DP it is **unconditional** (no parent attribute
is read) and made of one Gaussian-noised histogram per foreign key:

* buckets fixed before looking at the data (:func:`count_grid`): one per count ``0 .. 15``, then
  integer ranges about 25% wider each up to :data:`MAX_CHILDREN`; a parent with more children is
  counted in the last bucket (clipping), plus one bucket of the child rows whose key is null;
* **unit of privacy: one row of the child table.** Adding or removing it moves its parent from one
  bucket to the next (two buckets change by 1) or changes the null bucket by 1: L2 sensitivity
  ``sqrt(2)``. Adding or removing a parent row with no child changes bucket 0 by 1 (less).
  A self-reference (``employees.manager_id``) is both: the row is a parent with no reports and a
  report of its manager, L2 sensitivity ``sqrt(3)``;
* buckets whose noisy count is below :data:`THRESHOLD_SIGMAS` noise deviations are empty
  (:data:`EXACT_THRESHOLD_SIGMAS` for the one-count buckets, where a bucket of noise alone does little
  harm), post-processing like everything after the noise; when every bucket is empty, the largest
  noisy one stands alone. The null rate is the noisy null bucket over the noisy total of child rows.

Group privacy (one person's many rows: a customer and all their orders) is not covered.
"""

from __future__ import annotations

import numpy as np

from syntho_hive.core.dp.mechanisms import Grid, noisy_counts, values_from_histogram
from syntho_hive.relational.cardinality import CardinalityModel

__all__ = ["EXACT_THRESHOLD_SIGMAS", "MAX_CHILDREN", "THRESHOLD_SIGMAS", "count_grid", "count_histogram", "dp_link",
           "link_sensitivity_sq"]

#: Children counted exactly per parent up to this many (more fall into the last bucket).
MAX_CHILDREN = 1000
#: Counts kept one bucket each (``0 .. _EXACT - 1``).
_EXACT = 16
#: Growth of the wider buckets past ``_EXACT``.
_GROWTH = 1.25
#: A wide bucket (and the null bucket) counts when its noisy count reaches this many noise deviations.
THRESHOLD_SIGMAS = 3.0
#: The same for the buckets of one count each (``0 .. 15``).
EXACT_THRESHOLD_SIGMAS = 2.0


def count_grid() -> Grid:
    """The data-independent buckets of children counts (see the module docstring)."""
    edges = [_EXACT]
    while edges[-1] < MAX_CHILDREN:
        edges.append(min(MAX_CHILDREN + 1, max(edges[-1] + 1, int(round(edges[-1] * _GROWTH)))))
    if edges[-1] != MAX_CHILDREN + 1:
        edges[-1] = MAX_CHILDREN + 1
    exact = np.arange(_EXACT, dtype=np.float64)
    low = np.concatenate([exact, np.asarray(edges[:-1], dtype=np.float64)])
    high = np.concatenate([exact, np.asarray(edges[1:], dtype=np.float64)])
    flags = np.concatenate([np.ones(_EXACT, dtype=bool), np.zeros(len(edges) - 1, dtype=bool)])
    return Grid(low, high, flags)


def link_sensitivity_sq(is_self: bool) -> float:
    """Squared L2 sensitivity of one link's histogram to one row of the child table (see the module docstring)."""
    return 3.0 if is_self else 2.0


def count_histogram(counts: np.ndarray, nulls: int) -> np.ndarray:
    """The histogram :func:`dp_link` noises: parents per bucket of :func:`count_grid` (counts past
    :data:`MAX_CHILDREN` in the last), then the child rows whose key is null.

    Args:
        counts: Children of each parent row.
        nulls: Child rows whose key is null.

    Returns:
        ``float64`` counts, one per bucket plus the null bucket.
    """
    grid = count_grid()
    histogram = np.bincount(grid.index(np.asarray(counts, dtype=np.float64)), minlength=len(grid))
    return np.append(histogram.astype(np.float64), float(nulls))


def dp_link(counts: np.ndarray, nulls: int, noise: float, rng: np.random.Generator) -> tuple[CardinalityModel, float]:
    """The unconditional children-per-parent model and null rate of one link, from noisy counts only.

    Args:
        counts: Real children of each parent row (zeros included).
        nulls: Real child rows whose key is null.
        noise: Noise standard deviation of every bucket (calibrated by the caller for the link's budget).
        rng: Source of the noise.

    Returns:
        ``(model, null_rate)``.
    """
    grid = count_grid()
    noisy = noisy_counts(count_histogram(counts, nulls), noise, rng)
    buckets, noisy_nulls = noisy[:-1], float(noisy[-1])
    buckets = np.where(buckets >= np.where(grid.exact, EXACT_THRESHOLD_SIGMAS, THRESHOLD_SIGMAS) * noise, buckets,
                       -np.inf)
    if not np.any(np.isfinite(buckets)):  # nothing stands out: the largest noisy bucket alone
        buckets = np.where(np.arange(len(grid)) == int(np.argmax(noisy[:-1])), noisy[:-1], -np.inf)
    points, weights, _, _ = values_from_histogram(grid, buckets, -np.finfo(np.float64).max, integer=True)
    values = np.rint(points).astype(np.int64)
    distinct, inverse = np.unique(values, return_inverse=True)
    mass = np.bincount(inverse, weights=np.maximum(weights, 0.0), minlength=len(distinct))
    if mass.sum() <= 0:  # a largest bucket below zero: one child per parent stands for "unknown"
        distinct, mass = np.array([1], dtype=np.int64), np.array([1.0])
    probs = mass / mass.sum()
    children = float(np.sum(distinct * mass))
    kept_nulls = noisy_nulls if noisy_nulls >= THRESHOLD_SIGMAS * noise else 0.0
    null_rate = kept_nulls / (kept_nulls + children) if kept_nulls + children > 0 else 0.0
    return CardinalityModel.unconditional(distinct.tolist(), probs.tolist()), float(null_rate)
