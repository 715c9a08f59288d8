"""High-cardinality categoricals without a dense one-hot blow-up.

Choice: a *frequency encoder*. Categories are sorted by decreasing frequency (the missing
value, when present, comes last) and each one owns a sub-interval of ``[-1, 1]`` whose width is its
share of the training rows. A value is encoded as a uniform draw from the middle half of its
interval (the margins keep float32 rounding from crossing an edge) and decoded with a
``searchsorted`` on the interval edges. The column costs ONE ``tanh`` span whatever the
number of categories; the round trip is exact; a uniform output over ``[-1, 1]`` decodes to
the training frequencies; neighbouring intervals hold categories of similar frequency, so
the scalar is smooth for the network to model.

Why not one-hot above :data:`DEFAULT_MAX_ONEHOT` (50) categories: the generator's output,
the discriminator's input and CTGAN's conditional vector all grow with the sum of one-hot
widths, and with typical table sizes (10^4-10^6 rows) a category beyond the 50 most common
has too few rows for a dedicated softmax slot to be learned; 50 still keeps common
conditioning columns (countries, states, product lines) one-hot and conditionable.

Categories seen fewer than ``rare_threshold`` times share the codec's rare slot, an interval like any
other, decoded to a frequent category drawn by training frequency (see
:mod:`~syntho_hive.core.data.encoders.categorical`).

Only ``categorical`` columns come here: decoded values are training categories, so free
``text`` (names, emails: a distinct value per row) goes to
:class:`~syntho_hive.core.data.encoders.text.TextGenerator` instead, which never copies one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.base import ColumnEncoder
from syntho_hive.core.data.encoders.categorical import CategoryCodec
from syntho_hive.core.data.encoders.rare import check_rare_threshold
from syntho_hive.core.data.spans import ColumnSpans, SpanInfo

__all__ = ["FrequencyEncoder", "DEFAULT_MAX_ONEHOT"]

DEFAULT_MAX_ONEHOT = 50


class FrequencyEncoder(ColumnEncoder):
    """One ``tanh`` span; categories mapped to frequency-sized sub-intervals of ``[-1, 1]``.

    Args:
        column: Source column name.
        rare_threshold: Categories seen fewer times share the codec's rare slot (one interval, decoded
            to a frequent category drawn by frequency; ``1``: none do).
    """

    sdtype = "categorical"
    #: Encoders pickled before the rare slot existed pooled nothing.
    rare_threshold = 1

    def __init__(self, column: str, *, rare_threshold: int = 1) -> None:
        super().__init__(column)
        self.rare_threshold = check_rare_threshold(rare_threshold, f"rare_threshold of column {column!r}")
        self.codec = CategoryCodec(column)
        self.edges = np.array([-1.0, 1.0])

    def prepare(self, series: pd.Series, *, seed: int) -> None:
        self.codec.fit(series, order="frequency", rare_threshold=self.rare_threshold)
        counts = self.codec.counts.astype(np.float64)
        share = counts / counts.sum() if counts.sum() > 0 else np.ones(1)
        edges = np.concatenate([[-1.0], -1.0 + 2.0 * np.cumsum(share)])
        edges[-1] = 1.0
        self.edges = edges

    @property
    def output_info(self) -> list[ColumnSpans]:
        if self.codec.size <= 1:
            return []
        return [ColumnSpans(self.column, (SpanInfo(1, "tanh"),))]

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        codes = self.codec.encode(series)
        if self.codec.size <= 1:
            return np.zeros((codes.size, 0), dtype=np.float32)
        low, high = self.edges[codes], self.edges[codes + 1]
        value = low + (high - low) * (0.25 + 0.5 * rng.random(codes.size))
        return value.astype(np.float32).reshape(-1, 1)

    def inverse_transform(self, block: np.ndarray, rng: np.random.Generator,
                          codes: np.ndarray | None = None) -> pd.Series:
        if self.codec.size <= 1:
            return self.codec.decode(np.zeros(block.shape[0], dtype=np.intp), rng)
        value = np.clip(np.asarray(block[:, 0], dtype=np.float64), -1.0, 1.0)
        codes = np.searchsorted(self.edges, value, side="right") - 1
        return self.codec.decode(np.clip(codes, 0, self.codec.size - 1), rng)
