"""Free-text columns (names, addresses, descriptions) in TabularAR: generated word by word, never copied.

(Structured strings such as JSON documents and codes are generated from their frequent shapes,
``bytes`` columns as random bytes; see :mod:`~syntho_hive.core.data.text_model`.)

A thin adapter of :class:`~syntho_hive.core.data.text_model.TextModel` (shared with the
DataTransformer of CTGAN and TVAE; its docstring describes the word statistics) to the codec
interface: the column has no sub-columns (it is not modelled) and is generated on decode.
Statistics (:class:`TextStats`, :func:`analyze_text`) are the shared model's; the codec's
``rare_threshold`` is :class:`CodecConfig`'s. A ``category`` text column decodes to ``object``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import restore_objects
from syntho_hive.core.data.text_model import TextModel, TextStats, analyze_text
from syntho_hive.core.models.tabular_ar.encoders.base import CodecConfig, GeneratedCodec

__all__ = ["TextCodec", "TextStats", "analyze_text"]


class TextCodec(GeneratedCodec):
    """Generates text from word statistics; has no sub-columns (see the module docstring).

    Args:
        column: Column name.
        state: The :class:`~syntho_hive.core.data.text_model.TextModel` state (plain JSON).

    Raises:
        SerializationError: ``state`` lacks a field.
    """

    kind = "text"
    not_modelled = "its values are generated word by word, not modelled; condition on another column."

    def __init__(self, column: str, state: dict[str, Any]) -> None:
        self.model = TextModel.from_dict(state)
        super().__init__(column, self.model.state)
        dtype = self.model.dtype
        self._dtype = np.dtype(object) if isinstance(dtype, pd.CategoricalDtype) else dtype

    @classmethod
    def build(cls, column: str, stats: TextStats, config: CodecConfig) -> "TextCodec":
        """The codec for reduced statistics: frequent words kept, rarer ones only aggregated."""
        return cls(column, TextModel.build(stats, config.rare_threshold, column=column).to_dict())

    def generate(self, n: int, rng: np.random.Generator) -> pd.Series:
        values, nulls = self.model.draw(n, rng)
        return restore_objects(values, nulls, self._dtype, self.model.marker, self.column)
