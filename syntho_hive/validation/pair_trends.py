"""Column pair trends: does the synthetic data keep how pairs of columns move together?

Definitions follow SDMetrics' ``ColumnPairTrends`` property of its ``QualityReport``:

* both columns numerical/datetime: **CorrelationSimilarity** ``1 - |r_real - r_synth| / 2`` with
  ``r`` the Pearson correlation on the rows where both are non-null (datetimes as ns since epoch).
  A pair with a constant (or all-null) real column has no correlation and is skipped; when only
  the synthetic side is constant or all null, its correlation counts as 0 (the real trend is lost
  and scored as such) and ``synthetic_correlation`` is ``None``.
* both categorical/boolean: **ContingencySimilarity** ``1 - TVD`` between the normalised 2-D
  contingency tables (missing values are a category of their own).
* one continuous and one discrete column: the continuous column is cut into 10 equal-width bins
  (``numpy.histogram_bin_edges`` on the non-null values, ``numpy.digitize`` codes, so the maximum
  and values outside the edges get bins of their own; nulls get one more bin) and
  ContingencySimilarity is used. Like SDMetrics' QualityReport, each table is
  binned on its own range by default; ``shared_bins=True`` bins both on the real table's edges.

The property score is the mean of the pair scores of the pairs that are actually related in the
real data, as current SDMetrics does: a correlation pair contributes when ``|r_real| > 0.5``
(``real_correlation_threshold``) and a contingency pair when the real table's Cramer's V exceeds
0.3 (``real_association_threshold``). Every pair is still scored and listed (``contributes`` says
which count); set both thresholds to 0 to average all pairs. Everything is vectorised: one correlation matrix
per table and one ``bincount`` per contingency pair. Large tables are subsampled with a seeded
generator (``max_rows``) and very wide ones get a seeded sample of pairs (``max_pairs``); the result
says when either happened.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._checks import is_finite_number, is_int
from syntho_hive._random import child_seed, numpy_generator, resolve_seed, sample_rows
from syntho_hive.core.metadata.schema import SDType
from syntho_hive.core.quality.shapes import as_float
from syntho_hive.exceptions import ConfigurationError, SchemaError
from syntho_hive.validation._common import (
    CONTINUOUS,
    DISCRETE,
    FieldsDict,
    bin_edges,
    check_columns,
    resolve_sdtypes,
)

__all__ = ["PairScore", "PairTrendsResult", "column_pair_trends", "score_pairs", "NUM_BINS"]

#: Number of equal-width bins for a continuous column paired with a discrete one (as SDMetrics).
NUM_BINS = 10
_BINCOUNT_LIMIT = 4_000_000


@dataclass(frozen=True)
class PairScore(FieldsDict):
    """Score of one column pair.

    Attributes:
        column_1: First column.
        column_2: Second column.
        metric: ``"CorrelationSimilarity"`` or ``"ContingencySimilarity"``.
        score: Similarity in [0, 1]; 1 means the pair relationship is reproduced exactly.
        real_correlation: Pearson correlation in the real data (correlation pairs only).
        synthetic_correlation: Pearson correlation in the synthetic data (correlation pairs only;
            ``None`` when a synthetic column is constant or all null: the pair is scored with 0).
        real_association: Cramer's V of the real contingency table (contingency pairs only).
        contributes: Whether the pair is related enough in the real data to count in the score.
    """

    column_1: str
    column_2: str
    metric: str
    score: float
    real_correlation: float | None = None
    synthetic_correlation: float | None = None
    real_association: float | None = None
    contributes: bool = True


@dataclass
class PairTrendsResult:
    """Column pair trends of one table.

    Attributes:
        score: Mean score of the contributing pairs in [0, 1], ``None`` when no pair contributes.
        mean_all_pairs: Mean score of every scored pair (no relatedness threshold).
        pairs: Per-pair scores.
        skipped: ``{"a|b": reason}`` for pairs that could not be scored (a constant or all-null
            real column).
        n_rows_real: Real rows used (after sampling).
        n_rows_synthetic: Synthetic rows used (after sampling).
        rows_sampled: Whether rows were subsampled (``max_rows``).
        pairs_total: Number of scorable pairs in the table.
        pairs_sampled: Whether only a seeded sample of the pairs was scored (``max_pairs``).
    """

    score: float | None
    mean_all_pairs: float | None = None
    pairs: list[PairScore] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    n_rows_real: int = 0
    n_rows_synthetic: int = 0
    rows_sampled: bool = False
    pairs_total: int = 0
    pairs_sampled: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (pairs as a list of dicts)."""
        out = asdict(self)
        out["pairs"] = [pair.to_dict() for pair in self.pairs]
        return out


def _discrete_codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes over the union of categories; 0 is the missing-value category."""
    both = pd.concat([real.astype(object), synthetic.astype(object)], ignore_index=True)
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    codes = codes.astype(np.int64) + 1
    return codes[: len(real)], codes[len(real):], len(uniques) + 1


def _binned_codes(real: np.ndarray, synthetic: np.ndarray, shared: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """``np.digitize`` codes 0..NUM_BINS + 1 for values, NUM_BINS + 2 for nulls."""
    real_edges, real_offset = bin_edges(real, NUM_BINS)
    synthetic_edges, synthetic_offset = (real_edges, real_offset) if shared else bin_edges(synthetic, NUM_BINS)
    real_codes = np.digitize(real - real_offset, real_edges).astype(np.int64)
    synthetic_codes = np.digitize(synthetic - synthetic_offset, synthetic_edges).astype(np.int64)
    real_codes[np.isnan(real)] = NUM_BINS + 2
    synthetic_codes[np.isnan(synthetic)] = NUM_BINS + 2
    return real_codes, synthetic_codes, NUM_BINS + 3


def _cramers_v(real_a: np.ndarray, real_b: np.ndarray, k_b: int) -> float:
    """Cramer's V (no continuity correction) of the real contingency table, from its non-zero cells.

    ``phi^2 = sum_cells O^2 / (row_total * column_total) - 1`` needs only the occupied cells, so
    tables too large to hold densely are handled exactly as well.
    """
    cells, counts = np.unique(real_a * k_b + real_b, return_counts=True)
    row_totals = np.bincount(real_a)
    column_totals = np.bincount(real_b)
    n_rows = int(np.count_nonzero(row_totals))
    n_columns = int(np.count_nonzero(column_totals))
    if min(n_rows, n_columns) < 2:
        return float("nan")
    expected = row_totals[cells // k_b].astype(np.float64) * column_totals[cells % k_b]
    phi2 = float((counts.astype(np.float64) ** 2 / expected).sum() - 1.0)
    return float(np.sqrt(max(phi2, 0.0) / (min(n_rows, n_columns) - 1)))


def _contingency_score(real_a: np.ndarray, real_b: np.ndarray, synth_a: np.ndarray,
                       synth_b: np.ndarray, k_a: int, k_b: int) -> tuple[float, float]:
    """``(1 - TVD, Cramer's V of the real table)`` for two joint distributions of integer codes."""
    real_joint = real_a * k_b + real_b
    synth_joint = synth_a * k_b + synth_b
    if k_a * k_b <= _BINCOUNT_LIMIT:
        size = k_a * k_b
        real_counts = np.bincount(real_joint, minlength=size)
        synth_counts = np.bincount(synth_joint, minlength=size)
    else:
        _, inverse = np.unique(np.concatenate([real_joint, synth_joint]), return_inverse=True)
        size = int(inverse.max()) + 1
        real_counts = np.bincount(inverse[: real_joint.size], minlength=size)
        synth_counts = np.bincount(inverse[real_joint.size:], minlength=size)
    tvd = 0.5 * np.abs(real_counts / real_joint.size - synth_counts / synth_joint.size).sum()
    return float(min(1.0, max(0.0, 1.0 - tvd))), _cramers_v(real_a, real_b, k_b)


def _correlations(frame: pd.DataFrame) -> np.ndarray:
    """Pearson correlation matrix on pairwise-complete rows (NaN for constant columns)."""
    values = frame.to_numpy(dtype=np.float64)
    if values.shape[1] == 0:
        return np.zeros((0, 0))
    if not np.isnan(values).any():
        centred = values - values.mean(axis=0)
        norms = np.sqrt((centred * centred).sum(axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = (centred.T @ centred) / np.outer(norms, norms)
        corr[:, norms <= 1e-12 * np.maximum(1.0, np.abs(values).max(axis=0))] = np.nan
        corr[norms <= 1e-12 * np.maximum(1.0, np.abs(values).max(axis=0)), :] = np.nan
        return np.clip(corr, -1.0, 1.0)
    return frame.corr(method="pearson", min_periods=2).to_numpy(dtype=np.float64)


def score_pairs(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: Mapping[str, SDType],
                pairs: Sequence[tuple[str, str]], *, shared_bins: bool = False,
                real_correlation_threshold: float = 0.5, real_association_threshold: float = 0.3,
                ) -> tuple[list[PairScore], dict[str, str]]:
    """Score the given column pairs (the engine behind :func:`column_pair_trends`).

    Args:
        real: Real rows holding every column named in ``pairs``.
        synthetic: Synthetic rows holding the same columns.
        sdtypes: ``{column: sdtype}``; only numerical/datetime/categorical/boolean are scorable.
        pairs: Column pairs to score.
        shared_bins: Bin continuous columns of mixed pairs on the real edges for both tables.
        real_correlation_threshold: A correlation pair contributes when ``|r_real|`` exceeds it.
        real_association_threshold: A contingency pair contributes when the real Cramer's V
            exceeds it.

    Returns:
        ``(scores, skipped)``: per-pair scores in the order of ``pairs`` and ``{"a|b": reason}`` for
        pairs that could not be scored.

    Raises:
        ConfigurationError: If a threshold is not a number in [0, 1].
    """
    for name, value in (("real_correlation_threshold", real_correlation_threshold),
                        ("real_association_threshold", real_association_threshold)):
        if not is_finite_number(value) or not 0 <= value <= 1:
            raise ConfigurationError(f"{name} must be a number in [0, 1] (0 counts every pair), got {value!r}.")
    columns = list(dict.fromkeys(column for pair in pairs for column in pair))
    continuous = [c for c in columns if sdtypes[c] in CONTINUOUS]
    real_float = pd.DataFrame({c: as_float(real[c]) for c in continuous}, columns=continuous)
    synth_float = pd.DataFrame({c: as_float(synthetic[c]) for c in continuous}, columns=continuous)
    position = {c: i for i, c in enumerate(continuous)}
    needs_corr = any(sdtypes[a] in CONTINUOUS and sdtypes[b] in CONTINUOUS for a, b in pairs)
    real_corr = _correlations(real_float) if needs_corr else None
    synth_corr = _correlations(synth_float) if needs_corr else None
    codes: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}

    def coded(column: str) -> tuple[np.ndarray, np.ndarray, int]:
        if column not in codes:
            if sdtypes[column] in CONTINUOUS:
                codes[column] = _binned_codes(real_float[column].to_numpy(),
                                              synth_float[column].to_numpy(), shared_bins)
            else:
                codes[column] = _discrete_codes(real[column], synthetic[column])
        return codes[column]

    scores: list[PairScore] = []
    skipped: dict[str, str] = {}
    for a, b in pairs:
        if sdtypes[a] in CONTINUOUS and sdtypes[b] in CONTINUOUS:
            assert real_corr is not None and synth_corr is not None
            r_real = real_corr[position[a], position[b]]
            r_synth = synth_corr[position[a], position[b]]
            if not np.isfinite(r_real):
                skipped[f"{a}|{b}"] = "constant or all-null real column: correlation undefined"
                continue
            # A synthetic column that is constant or all null keeps no trend: scored as no correlation.
            defined = bool(np.isfinite(r_synth))
            contributes = real_correlation_threshold <= 0 or abs(r_real) > real_correlation_threshold
            scores.append(PairScore(str(a), str(b), "CorrelationSimilarity",
                                    float(1.0 - abs(r_real - (r_synth if defined else 0.0)) / 2.0),
                                    float(r_real), float(r_synth) if defined else None,
                                    contributes=bool(contributes)))
        else:
            ra, sa, ka = coded(a)
            rb, sb, kb = coded(b)
            score, association = _contingency_score(ra, rb, sa, sb, ka, kb)
            contributes = real_association_threshold <= 0 or (
                np.isfinite(association) and association > real_association_threshold)
            scores.append(PairScore(str(a), str(b), "ContingencySimilarity", score,
                                    real_association=None if not np.isfinite(association)
                                    else float(association), contributes=bool(contributes)))
    return scores, skipped


def column_pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame,
                       sdtypes: Mapping[str, SDType] | None = None, *, max_rows: int | None = 200_000,
                       max_pairs: int | None = 2_000, seed: int | None = 0,
                       shared_bins: bool = False, real_correlation_threshold: float = 0.5,
                       real_association_threshold: float = 0.3) -> PairTrendsResult:
    """Score every pair of numerical/datetime/categorical/boolean columns (SDMetrics definitions).

    Args:
        real: The real table.
        synthetic: The synthetic table (must hold every column of ``real``).
        sdtypes: ``{column: sdtype}``; missing columns are detected from the real data. ``id`` and
            ``text`` columns are not scored.
        max_rows: Subsample each table to at most this many rows (seeded); ``None`` uses all rows.
        max_pairs: Score a seeded sample of at most this many pairs; ``None`` scores all pairs.
        seed: Seed for the row and pair sampling.
        shared_bins: Bin continuous columns of mixed pairs on the real edges for both tables
            (SDMetrics bins each table on its own range, which is the default).
        real_correlation_threshold: Correlation pairs count in ``score`` only when the real
            ``|r|`` exceeds this (SDMetrics' default 0.5; 0 counts every pair).
        real_association_threshold: Contingency pairs count only when the real Cramer's V exceeds
            this (SDMetrics' default 0.3; 0 counts every pair).

    Returns:
        A :class:`PairTrendsResult`; ``score`` is ``None`` when no pair contributes (fewer than two
        scorable columns, or no related pair in the real data).

    Raises:
        SchemaError: If the synthetic table lacks columns, a table is empty, or an sdtype is unknown.
        ConfigurationError: If a threshold is not a number in [0, 1].
    """
    check_columns(real, synthetic, what="Column pair trends")
    for name, value in (("max_rows", max_rows), ("max_pairs", max_pairs)):
        if value is not None and (not is_int(value) or value < 1):
            raise SchemaError(f"{name} must be a positive integer or None, got {value!r}.")
    types = resolve_sdtypes(real, sdtypes)
    scorable = [c for c in real.columns if types[c] in CONTINUOUS | DISCRETE]
    pairs = list(itertools.combinations(scorable, 2))
    base = resolve_seed(seed)
    pairs_total = len(pairs)
    pairs_sampled = max_pairs is not None and pairs_total > max_pairs
    if pairs_sampled:
        rng = numpy_generator(child_seed(base, "pair_trends", "pairs"))
        keep = np.sort(rng.choice(pairs_total, size=int(max_pairs), replace=False))
        pairs = [pairs[i] for i in keep]
    real_used = sample_rows(real[scorable], max_rows, numpy_generator(child_seed(base, "pair_trends", "real")))
    synth_used = sample_rows(synthetic[scorable], max_rows,
                             numpy_generator(child_seed(base, "pair_trends", "synthetic")))
    scores, skipped = score_pairs(real_used, synth_used, types, pairs, shared_bins=shared_bins,
                                  real_correlation_threshold=real_correlation_threshold,
                                  real_association_threshold=real_association_threshold)
    contributing = [s.score for s in scores if s.contributes]
    return PairTrendsResult(
        score=float(np.mean(contributing)) if contributing else None,
        mean_all_pairs=float(np.mean([s.score for s in scores])) if scores else None, pairs=scores, skipped=skipped, n_rows_real=len(real_used),
        n_rows_synthetic=len(synth_used),
        rows_sampled=len(real_used) < len(real) or len(synth_used) < len(synthetic),
        pairs_total=pairs_total, pairs_sampled=pairs_sampled,
    )
