"""Per-column real-vs-synthetic distributions and correlation matrices for the report plots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from syntho_hive.core.data.text_model import DEFAULT_RARE_THRESHOLD
from syntho_hive.core.quality.shapes import as_float
from syntho_hive.validation._common import CONTINUOUS, DISCRETE, bin_edges, category_text

__all__ = ["ColumnDistribution", "column_distribution", "correlation_matrices"]

_MISSING_LABEL = "(missing)"
_OTHER_LABEL = "(other)"


@dataclass(frozen=True)
class ColumnDistribution:
    """Shares of real and synthetic values per bin or category.

    Attributes:
        labels: Bin or category labels.
        real: Real share per label.
        synthetic: Synthetic share per label.
        categorical: Whether labels are categories (True) or numeric bins.
    """

    labels: list[str]
    real: list[float]
    synthetic: list[float]
    categorical: bool


def _format_edge(value: float, datetime: bool) -> str:
    if datetime:  # ns since epoch, through microseconds: a date beyond 2262 has no pd.Timestamp
        return str(np.datetime64(int(value // 1_000), "us").astype("datetime64[D]"))
    return f"{value:.3g}"


def column_distribution(real: pd.Series, synthetic: pd.Series, sdtype: str, *, bins: int = 20,
                        max_categories: int = 15,
                        min_count: int = DEFAULT_RARE_THRESHOLD) -> ColumnDistribution | None:
    """Histogram (numerical/datetime) or category shares (categorical/boolean) of both columns.

    Continuous columns use ``bins`` equal-width bins over the real range (synthetic values outside
    fall in the end bins); nulls get a "(missing)" bar when either side has any. Categorical
    columns show the ``max_categories`` most frequent real categories held by at least
    ``min_count`` real rows (a label held by fewer would single those rows out in a shared
    report), then "(other)" (every other category, on both sides) and "(missing)".

    Returns:
        A :class:`ColumnDistribution`, or ``None`` for id/text columns.
    """
    if sdtype in CONTINUOUS:
        r, s = as_float(real), as_float(synthetic)
        rf, sf = r[np.isfinite(r)], s[np.isfinite(s)]
        reference = rf if rf.size else sf  # none finite: bin_edges gives the edges of [0]
        edges, offset = bin_edges(reference, bins)  # offset: a constant datetime's bins around 0
        real_counts = np.histogram(np.clip(rf - offset, edges[0], edges[-1]), bins=edges)[0].astype(float)
        synth_counts = np.histogram(np.clip(sf - offset, edges[0], edges[-1]), bins=edges)[0].astype(float)
        labels = [_format_edge(edge + offset, sdtype == "datetime") for edge in edges[:-1]]
        if np.isnan(r).any() or np.isnan(s).any():
            labels.append(_MISSING_LABEL)
            real_counts = np.append(real_counts, np.isnan(r).sum())
            synth_counts = np.append(synth_counts, np.isnan(s).sum())
        return ColumnDistribution(labels, list(real_counts / max(len(r), 1)),
                                  list(synth_counts / max(len(s), 1)), categorical=False)
    if sdtype in DISCRETE:
        def labelled(series: pd.Series) -> pd.Series:
            return category_text(series, _MISSING_LABEL)

        real_labels, synth_labels = labelled(real), labelled(synthetic)
        real_counts = real_labels.value_counts()
        real_freq = real_counts / max(len(real_labels), 1)
        synth_freq = synth_labels.value_counts(normalize=True)
        top = [c for c, n in real_counts.items() if c != _MISSING_LABEL and n >= min_count][:max_categories]
        labels = list(top)
        real_shares = [float(real_freq.get(c, 0.0)) for c in top]
        synth_shares = [float(synth_freq.get(c, 0.0)) for c in top]
        shown = set(top) | {_MISSING_LABEL}
        other_real = float(real_freq[~real_freq.index.isin(shown)].sum())
        other_synth = float(synth_freq[~synth_freq.index.isin(shown)].sum())
        if other_real > 0 or other_synth > 0:
            labels.append(_OTHER_LABEL)
            real_shares.append(other_real)
            synth_shares.append(other_synth)
        if _MISSING_LABEL in real_freq.index or _MISSING_LABEL in synth_freq.index:
            labels.append(_MISSING_LABEL)
            real_shares.append(float(real_freq.get(_MISSING_LABEL, 0.0)))
            synth_shares.append(float(synth_freq.get(_MISSING_LABEL, 0.0)))
        return ColumnDistribution(labels, real_shares, synth_shares, categorical=True)
    return None


def correlation_matrices(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str], *,
                         max_columns: int = 30, max_rows: int = 50_000,
                         rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """Pearson correlation matrices of the numerical/datetime/boolean columns of both tables.

    Returns:
        ``(columns, real_matrix, synthetic_matrix)`` or ``None`` with fewer than two such columns.
    """
    from syntho_hive._random import sample_rows
    from syntho_hive.validation.pair_trends import _correlations

    columns = [c for c in real.columns if sdtypes.get(c) in CONTINUOUS | {"boolean"}][:max_columns]
    if len(columns) < 2:
        return None
    frames = []
    for frame in (real, synthetic):
        used = sample_rows(frame[columns], max_rows, rng)
        frames.append(pd.DataFrame({c: as_float(used[c]) for c in columns}, columns=columns))
    return [str(c) for c in columns], _correlations(frames[0]), _correlations(frames[1])
