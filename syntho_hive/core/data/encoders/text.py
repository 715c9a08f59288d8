"""Free-text columns in the DataTransformer: generated word by word, not modelled.

Like ids (:mod:`~syntho_hive.core.data.encoders.ids`), a ``text`` column has no span in the
transformed matrix; :meth:`TextGenerator.inverse_transform` generates them with the
shared :class:`~syntho_hive.core.data.text_model.TextModel` from the caller's generator, so
generated names, emails and addresses are never training values (unless made only of frequent
words) and the fitted encoder (pickled in checkpoints) holds only frequent words and aggregate
statistics, never a whole training value. (Structured strings such as JSON documents and codes are
generated from their frequent shapes, ``bytes`` columns as random bytes; no value is longer than the
longest training value: see :mod:`~syntho_hive.core.data.text_model`.)

Missing values are drawn with the training null rate, independently of the other columns.
(A ``"<column>#null"`` indicator span, as numeric columns have, was tried: after 10-30 epochs on
a 240-row table CTGAN and TVAE generated 26-56% missing names for a 7.5% training rate, so
the null rate is kept by the text model itself.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.base import GeneratedColumn
from syntho_hive.core.data.text_model import DEFAULT_RARE_THRESHOLD, TextModel
from syntho_hive.exceptions import NotFittedError

__all__ = ["TextGenerator"]


class TextGenerator(GeneratedColumn):
    """Learn word statistics of a text column; generate new text on inverse transform.

    Args:
        column: Source column name.
        rare_threshold: Words seen fewer times than this in their position are never reproduced.
    """

    sdtype = "text"

    def __init__(self, column: str, *, rare_threshold: int = DEFAULT_RARE_THRESHOLD) -> None:
        super().__init__(column)
        self.rare_threshold = rare_threshold
        self.model: TextModel | None = None

    def prepare(self, series: pd.Series, *, seed: int) -> None:
        """Fit the word statistics (``seed`` is unused: fitting draws nothing).

        Raises:
            SchemaError: ``rare_threshold`` is below 1.
        """
        self.model = TextModel.fit(series, rare_threshold=self.rare_threshold)

    def generate(self, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` new values with the training null rate and dtype.

        Args:
            n: Number of values.
            rng: Source of the words and missing values.

        Raises:
            NotFittedError: Before :meth:`prepare`.
        """
        if self.model is None:
            raise NotFittedError(f"Text column {self.column!r}: call prepare() (or fit()) before generating.")
        return self.model.generate(n, rng, name=self.column)
