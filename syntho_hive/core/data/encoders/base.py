"""The interface of a per-column encoder used by the table-level DataTransformer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.gmm import BoundedGMM
from syntho_hive.core.data.spans import ColumnSpans
from syntho_hive.exceptions import GenerationError

__all__ = ["ColumnEncoder", "GeneratedColumn"]


class ColumnEncoder(ABC):
    """Encode one source column into a block of the transformed matrix and back.

    Life cycle: :meth:`prepare` learns everything cheap; mixtures still to fit are exposed
    by :meth:`pending_models` (the transformer fits them in parallel); :meth:`fit` does both
    sequentially. Encoders keep no training data after fitting and are picklable.

    Args:
        column: Name of the source column.
    """

    sdtype: str = ""

    def __init__(self, column: str) -> None:
        self.column = column

    @abstractmethod
    def prepare(self, series: pd.Series, *, seed: int) -> None:
        """Learn the encoding of ``series`` except the mixtures (see :meth:`pending_models`)."""

    def pending_models(self) -> list[BoundedGMM]:
        """Mixtures prepared but not fitted yet."""
        return []

    def fit(self, series: pd.Series, *, seed: int = 0) -> "ColumnEncoder":
        """Fit completely, sequentially. Returns ``self``."""
        from syntho_hive.core.data.encoders.gmm import fit_modes

        self.prepare(series, seed=seed)
        for model in self.pending_models():
            z, kwargs = model.fit_arguments()
            model.set_modes(fit_modes(z, **kwargs))
        return self

    @property
    @abstractmethod
    def output_info(self) -> list[ColumnSpans]:
        """Span descriptions in matrix order (empty for unmodelled/constant columns)."""

    @property
    def dim(self) -> int:
        """Total width of the encoding."""
        return sum(info.dim for info in self.output_info)

    @abstractmethod
    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """Encode ``series`` into a float32 array of shape ``(len(series), dim)``."""

    @abstractmethod
    def inverse_transform(self, block: np.ndarray, rng: np.random.Generator,
                          codes: np.ndarray | None = None) -> pd.Series:
        """Decode a block of shape ``(n, dim)`` into a column with the training dtype.

        Args:
            block: The column's part of the transformed matrix; with ``codes``, only its tanh
                spans (its scalars, in span order).
            rng: Source of any draws the decoding makes.
            codes: The entry drawn in each of this encoder's softmax spans, shape
                ``(n, number of softmax spans)`` in span order (a generator's draws, see
                ``DataTransformer.decode_draws``); ``None``: each span is read by arg-max of ``block``.
        """

    def category_index(self, spans_name: str, value: Any) -> int:
        """Index of ``value`` in the discrete span ``spans_name``.

        Raises:
            GenerationError: If the span is not discrete or the value unknown.
        """
        raise GenerationError(
            f"Column {self.column!r} ({self.sdtype}) is not discrete and cannot be conditioned on."
        )


class GeneratedColumn(ColumnEncoder):
    """A column the network does not model (no span): generated at decode time instead.

    Subclasses implement :meth:`generate`; ``transform`` yields an empty block and
    ``inverse_transform`` generates as many values as the block has rows.
    """

    @property
    def output_info(self) -> list[ColumnSpans]:
        return []

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        return np.zeros((len(series), 0), dtype=np.float32)

    @abstractmethod
    def generate(self, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` generated values in the training dtype."""

    def inverse_transform(self, block: np.ndarray, rng: np.random.Generator,
                          codes: np.ndarray | None = None) -> pd.Series:
        return self.generate(block.shape[0], rng)
