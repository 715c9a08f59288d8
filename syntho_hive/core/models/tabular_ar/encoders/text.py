"""Free-text columns (names, addresses, descriptions) in TabularAR: generated word by word, never copied.

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
from syntho_hive.core.models.tabular_ar.encoders.base import Codec, CodecConfig, SubColumn
from syntho_hive.exceptions import GenerationError

__all__ = ["TextCodec", "TextStats", "analyze_text"]


class TextCodec(Codec):
    """Generates text from word statistics; has no sub-columns (see the module docstring).

    Args:
        column: Column name.
        state: The :class:`~syntho_hive.core.data.text_model.TextModel` state (plain JSON).

    Raises:
        SerializationError: ``state`` lacks a field.
    """

    kind = "text"

    def __init__(self, column: str, state: dict[str, Any]) -> None:
        super().__init__(column)
        self.model = TextModel.from_dict(state)
        self.state = self.model.state
        dtype = self.model.dtype
        self._dtype = np.dtype(object) if isinstance(dtype, pd.CategoricalDtype) else dtype

    @classmethod
    def build(cls, column: str, stats: TextStats, config: CodecConfig) -> "TextCodec":
        """The codec for reduced statistics: frequent words kept, rarer ones only aggregated."""
        return cls(column, TextModel.build(stats, config.rare_threshold).to_dict())

    @property
    def sub_columns(self) -> list[SubColumn]:
        return []

    def encode(self, series: pd.Series) -> np.ndarray:
        return np.zeros((len(series), 0), dtype=np.int64)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        values, nulls = self.model.draw(codes.shape[0], rng)
        return restore_objects(values, nulls, self._dtype, self.model.marker, self.column)

    def allowed_tokens(self, value: Any) -> list[np.ndarray]:
        raise GenerationError(f"Cannot condition on text column {self.column!r}: its values are generated word "
                              "by word, not modelled; condition on another column.")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "state": self.model.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TextCodec":
        return cls(data["column"], data["state"])
