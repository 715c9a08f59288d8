"""Null indicator: a 2-way softmax span (``value`` / ``null``) for columns with missing values.

Numeric and datetime columns that are partly null publish it as a separate, discrete
:class:`~syntho_hive.core.data.spans.ColumnSpans` named ``"<column>#null"`` so the model can
condition on (and learn) the null rate; the decoded value is replaced by a null where the
indicator's arg-max says ``null``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from syntho_hive.core.data.spans import ColumnSpans, SpanInfo
from syntho_hive.exceptions import GenerationError

__all__ = ["NullIndicator", "NULL_SUFFIX"]

NULL_SUFFIX = "#null"
_LABELS = ("value", "null")


class NullIndicator:
    """Encode a null mask as a one-hot ``(value, null)`` block.

    Args:
        column: Source column name; the spans are named ``column + "#null"``.
    """

    def __init__(self, column: str) -> None:
        self.column = column
        self.name = f"{column}{NULL_SUFFIX}"

    @property
    def spans(self) -> ColumnSpans:
        """The discrete span description."""
        return ColumnSpans(self.name, (SpanInfo(2, "softmax"),), discrete=True, categories=_LABELS)

    @staticmethod
    def encode(nulls: np.ndarray) -> np.ndarray:
        """One-hot block of shape ``(n, 2)``: column 1 is hot where the value is null."""
        out = np.zeros((nulls.size, 2), dtype=np.float32)
        out[np.arange(nulls.size), nulls.astype(np.intp)] = 1.0
        return out

    @staticmethod
    def decode(block: np.ndarray) -> np.ndarray:
        """Boolean null mask from scores of shape ``(n, 2)`` (arg-max)."""
        return np.asarray(block)[:, 1] > np.asarray(block)[:, 0]

    def category_index(self, value: Any) -> int:
        """Index of ``value`` (``"null"``/``True`` -> 1, ``"value"``/``False`` -> 0).

        Raises:
            GenerationError: For any other value.
        """
        if isinstance(value, (bool, np.bool_)):
            return int(value)
        if value in _LABELS:
            return _LABELS.index(value)
        raise GenerationError(
            f"Unknown value {value!r} for the null indicator {self.name!r}; "
            f"valid values: 'value' (not null) or 'null' (or False/True)."
        )
