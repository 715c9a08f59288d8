"""Categorical columns with a handful of categories: one-hot softmax span.

The missing value (``NaN``/``None``/``pd.NA``) is a category of its own. Categories are
ordered by decreasing frequency (ties: first appearance), except for ``category`` dtypes
whose declared order is kept. The span is discrete (``ColumnSpans(discrete=True)``) so CTGAN
can condition on it. Low-cardinality integer columns and booleans use this encoder too.

An ``object`` column whose values mix kinds of numbers that Python counts as equal (``1``,
``True``, ``1.0``) keeps them as separate categories, each decoded with its own type (see
:mod:`syntho_hive.core._value_kinds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import null_marker, restore_objects
from syntho_hive.core._value_kinds import factorize_values, mixes_kinds, typed_keys
from syntho_hive.core.data.encoders.base import ColumnEncoder
from syntho_hive.core.data.spans import ColumnSpans, SpanInfo
from syntho_hive.exceptions import GenerationError, SchemaError

__all__ = ["CategoryCodec", "OneHotEncoder", "NULL_LABEL"]

NULL_LABEL = "<NA>"
"""Display label of the missing-value category."""


class CategoryCodec:
    """Bidirectional map between column values and integer codes ``0..K-1``.

    Attributes:
        values: Object array of the non-null categories, in code order.
        has_null: Whether the missing value is a category (code ``K-1``).
        counts: Training count of every code.
    """

    #: Whether the categories mix kinds of numbers and are looked up by ``(kind, value)``; set with
    #: the lookup index (codecs pickled before this attribute existed never mix kinds).
    _typed = False

    def __init__(self, column: str) -> None:
        self.column = column
        self.values = np.empty(0, dtype=object)
        self.has_null = False
        self.counts = np.empty(0, dtype=np.int64)
        self.dtype: Any = None
        self.marker: Any = None
        self._index: pd.Index | None = None

    def fit(self, series: pd.Series, *, order: str = "frequency") -> "CategoryCodec":
        """Learn the categories of ``series``.

        Args:
            series: Training column.
            order: ``"frequency"`` (descending, ties by first appearance) or ``"sorted"``.

        Returns:
            ``self``.
        """
        self.dtype = series.dtype
        self.marker = null_marker(series)
        codes, uniques = _factorize(series)
        counts = np.bincount(codes[codes >= 0], minlength=uniques.size)
        if isinstance(series.dtype, pd.CategoricalDtype):
            declared = list(series.dtype.categories)
            rank = {value: i for i, value in enumerate(declared)}
            perm = np.argsort([rank[value] for value in uniques], kind="stable")
        elif order == "sorted":
            try:
                perm = np.argsort(uniques, kind="stable")
            except TypeError:
                perm = np.arange(uniques.size)
        else:
            perm = np.argsort(-counts, kind="stable")
        self.values = uniques[perm]
        null_count = int((codes < 0).sum())
        self.has_null = null_count > 0
        self.counts = np.append(counts[perm], null_count) if self.has_null else counts[perm]
        self._index = None
        return self

    @property
    def size(self) -> int:
        """Number of categories including the missing-value one."""
        return int(self.values.size + self.has_null)

    @property
    def labels(self) -> tuple[str, ...]:
        """Display labels in code order."""
        labels = tuple(str(value) for value in self.values)
        return labels + ((NULL_LABEL,) if self.has_null else ())

    def _lookup(self) -> pd.Index:
        if self._index is None:
            self._typed = mixes_kinds(self.values)
            self._index = pd.Index(typed_keys(self.values) if self._typed else self.values, dtype=object)
        return self._index

    def _find(self, values: np.ndarray) -> np.ndarray:
        """Codes of distinct non-null ``values`` (``-1`` where not a category)."""
        index = self._lookup()
        values = np.asarray(values, dtype=object)
        return index.get_indexer(typed_keys(values) if self._typed else values)

    def encode(self, series: pd.Series) -> np.ndarray:
        """Codes of ``series``.

        Raises:
            SchemaError: On a value (or null) not seen in training.
        """
        # Map each distinct value once (fast on repeated values), then broadcast.
        raw, uniques = _factorize(series)
        found = self._find(uniques)
        if (found < 0).any():
            unseen = uniques[found < 0][:5].tolist()
            raise SchemaError(
                f"Column {self.column!r} holds values not seen when fitting, e.g. {unseen}; "
                "refit the transformer on data that includes them."
            )
        nulls = raw < 0
        if nulls.any() and not self.has_null:
            raise SchemaError(
                f"Column {self.column!r} holds nulls but had none when fitting; "
                "refit the transformer on data that includes them."
            )
        codes = np.full(raw.size, self.values.size, dtype=np.intp)
        codes[~nulls] = found[raw[~nulls]]
        return codes

    def decode(self, codes: np.ndarray) -> pd.Series:
        """Column with the training dtype from codes."""
        nulls = codes >= self.values.size
        safe = np.where(nulls, 0, codes)
        values = self.values[safe] if self.values.size else np.full(codes.size, None, dtype=object)
        return restore_objects(values, nulls, self.dtype, self.marker, self.column)

    def index_of(self, value: Any) -> int:
        """Code of ``value`` (a real value, a null, or a display label).

        Raises:
            GenerationError: If the value is not a category (the message lists them).
        """
        if _is_null(value):
            if self.has_null:
                return self.values.size
        else:
            found = self._find(np.asarray([value], dtype=object))[0]
            if found >= 0:
                return int(found)
            labels = self.labels
            if isinstance(value, str) and value in labels:
                return labels.index(value)
        shown = list(self.labels[:20]) + (["..."] if self.size > 20 else [])
        raise GenerationError(
            f"Unknown value {value!r} for column {self.column!r}; valid values: {shown}."
        )


def _factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of a column (nulls ``-1``), numbers of different kinds kept apart in an
    ``object`` column; the uniques as an ``object`` array."""
    if series.dtype == object:
        return factorize_values(series.to_numpy(dtype=object))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _is_null(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class OneHotEncoder(ColumnEncoder):
    """One softmax span with one slot per category (missing value included).

    Args:
        column: Source column name.
        order: Category order, ``"frequency"`` or ``"sorted"`` (``category`` dtypes keep theirs).
    """

    sdtype = "categorical"

    def __init__(self, column: str, *, order: str = "frequency") -> None:
        super().__init__(column)
        self.order = order
        self.codec = CategoryCodec(column)

    def prepare(self, series: pd.Series, *, seed: int) -> None:
        self.codec.fit(series, order=self.order)

    @property
    def output_info(self) -> list[ColumnSpans]:
        if self.codec.size <= 1:  # a single category carries no information
            return []
        return [ColumnSpans(self.column, (SpanInfo(self.codec.size, "softmax"),),
                            discrete=True, categories=self.codec.labels)]

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        codes = self.codec.encode(series)
        if self.codec.size <= 1:
            return np.zeros((codes.size, 0), dtype=np.float32)
        out = np.zeros((codes.size, self.codec.size), dtype=np.float32)
        out[np.arange(codes.size), codes] = 1.0
        return out

    def inverse_transform(self, block: np.ndarray, rng: np.random.Generator,
                          codes: np.ndarray | None = None) -> pd.Series:
        if self.codec.size <= 1:
            return self.codec.decode(np.zeros(block.shape[0], dtype=np.intp))
        return self.codec.decode(np.argmax(block, axis=1) if codes is None else codes[:, 0])

    def category_index(self, spans_name: str, value: Any) -> int:
        if self.codec.size <= 1:
            return super().category_index(spans_name, value)
        return self.codec.index_of(value)
