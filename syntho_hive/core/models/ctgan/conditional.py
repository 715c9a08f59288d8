"""CTGAN's conditional vector and training-by-sampling (Xu et al., 2019, section 4.3).

A :class:`ConditionalLayout` describes the discrete columns of the transformed matrix (where
each one-hot span starts, how many categories it has, their frequencies). It is plain NumPy
and is saved in checkpoints. A :class:`ConditionalSampler` holds the same information as
tensors on the training device plus, for training, per-category row-index arrays so that
"pick a real row whose column ``k`` has category ``c``" is one vectorised gather.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from syntho_hive.core.data.spans import ColumnSpans, discrete_spans

__all__ = ["ConditionalLayout", "ConditionalSampler"]


@dataclass
class ConditionalLayout:
    """Where the discrete columns live and how often each category occurs.

    Attributes:
        columns: Names of the discrete columns, in matrix order.
        data_starts: Start of each discrete one-hot span in the transformed matrix.
        n_categories: Number of categories of each discrete column.
        counts: Per column, the training count of each category.
    """

    columns: list[str]
    data_starts: np.ndarray
    n_categories: np.ndarray
    counts: list[np.ndarray]

    @classmethod
    def from_output_info(cls, output_info: Sequence[ColumnSpans], matrix: np.ndarray) -> "ConditionalLayout":
        """Build the layout from the transformer's spans and the transformed training matrix.

        Args:
            output_info: The transformer's ``output_info_``.
            matrix: The transformed training data, shape ``(n_rows, output_dim)``.

        Returns:
            The layout (empty when there is no discrete column).
        """
        spans = discrete_spans(output_info)
        counts = [np.bincount(matrix[:, start:start + width].argmax(axis=1), minlength=width).astype(np.int64)
                  if len(matrix) else np.zeros(width, dtype=np.int64) for start, width in spans.values()]
        return cls(list(spans), np.asarray([s for s, _ in spans.values()], dtype=np.int64),
                   np.asarray([w for _, w in spans.values()], dtype=np.int64), counts)

    @property
    def n_discrete(self) -> int:
        """Number of discrete columns."""
        return len(self.columns)

    @property
    def cond_dim(self) -> int:
        """Width of the conditional vector (total number of categories)."""
        return int(self.n_categories.sum()) if self.n_discrete else 0

    @property
    def cond_starts(self) -> np.ndarray:
        """Start of each discrete column's block inside the conditional vector."""
        return np.concatenate([[0], np.cumsum(self.n_categories)[:-1]]).astype(np.int64) \
            if self.n_discrete else np.zeros(0, dtype=np.int64)

    def probabilities(self, *, log_frequency: bool) -> np.ndarray:
        """Category probabilities per column, padded with zeros to the widest column.

        Args:
            log_frequency: Use ``log(1 + count)`` instead of the raw count (the paper's
                training-by-sampling, which gives rare categories a fair share).

        Returns:
            Array ``(n_discrete, max_categories)``; each row sums to one.
        """
        width = int(self.n_categories.max()) if self.n_discrete else 0
        probs = np.zeros((self.n_discrete, width), dtype=np.float64)
        for k, count in enumerate(self.counts):
            weights = np.log1p(count.astype(np.float64)) if log_frequency else count.astype(np.float64)
            total = weights.sum()
            probs[k, :len(count)] = weights / total if total > 0 else 1.0 / len(count)
        return probs


class ConditionalSampler:
    """Vectorised sampling of conditional vectors (and of matching real rows for training).

    Args:
        layout: The discrete-column layout.
        device: Device the tensors live on.
        log_frequency: Training-by-sampling with log-frequency category probabilities.
        matrix: The training matrix as a tensor; needed only by :meth:`sample_rows`.
    """

    def __init__(self, layout: ConditionalLayout, device: torch.device, *, log_frequency: bool = True,
                 matrix: torch.Tensor | None = None) -> None:
        self.layout = layout
        self.device = device
        self.n_discrete = layout.n_discrete
        self.cond_starts = torch.as_tensor(layout.cond_starts, device=device)
        train = layout.probabilities(log_frequency=log_frequency)
        original = layout.probabilities(log_frequency=False)
        self.original_probs = torch.as_tensor(original, dtype=torch.float32, device=device)
        # Cumulative probabilities (float64, last entry forced to 1) for inverse-CDF draws.
        self.train_cdf = self._cdf(train, device)
        self.original_cdf = self._cdf(original, device)
        max_cat = int(layout.n_categories.max()) if self.n_discrete else 0
        # Matrix column of every category of every discrete column, padded; used by the
        # generator's cross-entropy loss and by condition checks on generated rows.
        index = np.zeros((self.n_discrete, max_cat), dtype=np.int64)
        pad = np.ones((self.n_discrete, max_cat), dtype=bool)
        for k in range(self.n_discrete):
            width = int(layout.n_categories[k])
            index[k, :width] = layout.data_starts[k] + np.arange(width)
            pad[k, :width] = False
        self.span_index = torch.as_tensor(index, device=device)
        self.span_pad = torch.as_tensor(pad, device=device)
        self.n_rows = 0
        if matrix is not None:
            self._index_rows(matrix)

    def _index_rows(self, matrix: torch.Tensor) -> None:
        """Group row indices by (discrete column, category) into one flat array."""
        n = matrix.shape[0]
        self.n_rows = n
        if not self.n_discrete:
            return
        flat: list[torch.Tensor] = []
        offsets: list[torch.Tensor] = []
        counts: list[torch.Tensor] = []
        for k in range(self.n_discrete):
            width = int(self.layout.n_categories[k])
            start = int(self.layout.data_starts[k])
            category = matrix[:, start:start + width].argmax(dim=1)
            order = torch.argsort(category, stable=True)
            count = torch.bincount(category, minlength=width)
            flat.append(order)
            offsets.append(k * n + torch.cumsum(count, 0) - count)
            counts.append(count)
        self.row_index = torch.cat(flat)
        self.row_offsets = torch.cat(offsets)
        self.row_counts = torch.cat(counts)

    @staticmethod
    def _cdf(probs: np.ndarray, device: torch.device) -> torch.Tensor:
        cdf = np.cumsum(probs, axis=1)
        if cdf.size:
            cdf = cdf / cdf[:, -1:]
            cdf[:, -1] = 1.0
        return torch.as_tensor(cdf, dtype=torch.float64, device=device)

    def sample_train(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Training-by-sampling: a uniform discrete column, then a category by (log-)frequency.

        Returns:
            ``(column, category)`` long tensors of shape ``(batch,)``.
        """
        return self._sample(batch, generator, self.train_cdf)

    def sample_original(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Like :meth:`sample_train` but with the empirical frequencies (used at generation)."""
        return self._sample(batch, generator, self.original_cdf)

    def _sample(self, batch: int, generator: torch.Generator,
                cdf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        column = torch.randint(self.n_discrete, (batch,), generator=generator, device=self.device)
        u = torch.rand((batch, 1), generator=generator, device=self.device, dtype=torch.float64)
        category = (cdf[column] <= u).sum(dim=1)
        return column, category

    def restricted(self, batch: int, column: int, categories: Sequence[int],
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Conditions on one discrete ``column``, categories drawn among ``categories``.

        With one category this is a fixed condition; with several (e.g. the joint categories
        of a fixed combination that contain a requested value) each is drawn with its
        empirical frequency (uniformly when none was seen in training).
        """
        col = torch.full((batch,), int(column), dtype=torch.long, device=self.device)
        allowed = torch.as_tensor(list(categories), dtype=torch.long, device=self.device)
        if allowed.numel() == 1:
            return col, allowed.expand(batch).clone()
        weights = self.original_probs[int(column), allowed]
        if float(weights.sum()) <= 0:
            weights = torch.ones_like(weights)
        pick = torch.multinomial(weights, batch, replacement=True, generator=generator)
        return col, allowed[pick]

    def positions(self, column: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """Index of the hot entry of each conditional vector, shape ``(batch,)``."""
        return self.cond_starts[column] + category

    def sample_rows(self, column: torch.Tensor | None, category: torch.Tensor | None, batch: int,
                    generator: torch.Generator) -> torch.Tensor:
        """Indices of real rows: uniformly among rows whose ``column`` has ``category``.

        Args:
            column: Discrete column per row (``None`` when there is no discrete column).
            category: Category per row.
            batch: Number of rows.
            generator: Random source.

        Returns:
            Long tensor of row indices, shape ``(batch,)``.
        """
        if column is None or not self.n_discrete:
            return torch.randint(self.n_rows, (batch,), generator=generator, device=self.device)
        group = self.cond_starts[column] + category
        count = self.row_counts[group]
        u = torch.rand(batch, generator=generator, device=self.device, dtype=torch.float64)
        pick = torch.minimum((u * count).long(), (count - 1).clamp(min=0))
        return self.row_index[self.row_offsets[group] + pick]
