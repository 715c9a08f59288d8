"""Mixed-type tables as numeric matrices for the classifier- and distance-based metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from syntho_hive.core.metadata.schema import SDType
from syntho_hive.core.quality.shapes import as_float
from syntho_hive.validation._common import CONTINUOUS, DISCRETE, category_text

__all__ = ["MixedEncoder"]

_OTHER = "\x00other"
_NULL = "\x00null"


class MixedEncoder:
    """Encode numerical/datetime columns as scaled floats and categoricals as one-hot blocks.

    * continuous: ``scale="range"`` maps the fitted [min, max] to [0, 1] (Gower-like distances);
      ``scale="standard"`` subtracts the mean and divides by the standard deviation. Nulls become 0
      plus a 0/1 null-indicator column (when the fitted data had nulls).
    * discrete: the ``max_categories`` most frequent values (null is a value) one-hot, the rest
      (and values unseen at fit time) in one "other" column; each one-hot entry is multiplied by ``onehot_weight`` (``1/sqrt(2)``
      makes two different categories exactly 1 apart in Euclidean distance).

    With ``categorical="ordinal"`` each categorical column is instead one integer-code column
    (0..k-1 by frequency, ``k`` for "other"), for tree models with native categorical support
    (:attr:`categorical_mask` marks those columns).

    ``id`` and ``text`` columns are dropped.

    Args:
        sdtypes: ``{column: sdtype}`` of the columns to encode.
        scale: ``"range"`` or ``"standard"``.
        max_categories: One-hot width cap per categorical column.
        onehot_weight: Value of a hot entry.
        categorical: ``"onehot"`` or ``"ordinal"``.
    """

    def __init__(self, sdtypes: Mapping[str, SDType], *, scale: str = "range", max_categories: int = 20,
                 onehot_weight: float = 1.0, categorical: str = "onehot") -> None:
        self.sdtypes = {c: t for c, t in sdtypes.items() if t in CONTINUOUS | DISCRETE}
        self.scale = scale
        self.max_categories = max_categories
        self.onehot_weight = onehot_weight
        self.categorical = categorical
        self.params_: dict[str, tuple] = {}

    @staticmethod
    def _labels(series: pd.Series) -> pd.Series:
        return category_text(series, _NULL)

    def fit(self, frame: pd.DataFrame) -> MixedEncoder:
        """Learn scales and category vocabularies from ``frame``; returns ``self``."""
        for column, sdtype in self.sdtypes.items():
            if sdtype in CONTINUOUS:
                values = as_float(frame[column])
                finite = values[np.isfinite(values)]
                if self.scale == "range":
                    low = float(finite.min()) if finite.size else 0.0
                    span = float(finite.max() - low) if finite.size else 1.0
                else:
                    low = float(finite.mean()) if finite.size else 0.0
                    span = float(finite.std()) if finite.size else 1.0
                self.params_[column] = ("num", low, span if span > 0 else 1.0, bool(np.isnan(values).any()))
            else:
                counts = self._labels(frame[column]).value_counts()
                # The "other" slot also takes categories unseen at fit time, so it always exists.
                self.params_[column] = ("cat", list(counts.index[: self.max_categories]), True)
        return self

    @property
    def n_features(self) -> int:
        """Width of the encoded matrix."""
        return len(self.categorical_mask)

    @property
    def categorical_mask(self) -> list[bool]:
        """Per encoded column: whether it is an ordinal category code (``categorical="ordinal"``)."""
        mask: list[bool] = []
        for kind, *rest in self.params_.values():
            if kind == "num":
                mask += [False] * (1 + int(rest[2]))
            elif self.categorical == "ordinal":
                mask.append(True)
            else:
                mask += [False] * (len(rest[0]) + int(rest[1]))
        return mask

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` (same columns as fitted) into a float64 matrix."""
        blocks: list[np.ndarray] = []
        for column, params in self.params_.items():
            if params[0] == "num":
                _, low, span, with_nulls = params
                values = (as_float(frame[column]) - low) / span
                nulls = np.isnan(values)
                blocks.append(np.where(nulls, 0.0, values)[:, None])
                if with_nulls:
                    blocks.append(nulls.astype(np.float64)[:, None])
            else:
                _, vocabulary, with_other = params
                categories: Sequence[str] = [*vocabulary, _OTHER] if with_other else vocabulary
                labels = self._labels(frame[column])
                codes = pd.Index(categories).get_indexer(labels).astype(np.int64)
                if with_other:
                    codes[codes < 0] = len(vocabulary)
                if self.categorical == "ordinal":
                    blocks.append(np.where(codes >= 0, codes, np.nan).astype(np.float64)[:, None])
                    continue
                onehot = np.zeros((len(frame), len(categories)))
                known = codes >= 0
                onehot[np.flatnonzero(known), codes[known]] = self.onehot_weight
                blocks.append(onehot)
        if not blocks:
            return np.zeros((len(frame), 0))
        return np.hstack(blocks)
