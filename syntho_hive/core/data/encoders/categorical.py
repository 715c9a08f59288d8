"""Categorical columns with a handful of categories: one-hot softmax span.

The missing value (``NaN``/``None``/``pd.NA``) is a category of its own. Categories are
ordered by decreasing frequency (ties: first appearance), except for ``category`` dtypes
whose declared order is kept. The span is discrete (``ColumnSpans(discrete=True)``) so CTGAN
can condition on it. Low-cardinality integer columns and booleans use this encoder too.

Rare categories (seen fewer than ``rare_threshold`` times) share one *rare slot* after the
frequent ones (:mod:`~syntho_hive.core.data.encoders.rare`): the network learns how often a row
holds some rare category, but the slot decodes to a frequent category drawn by training
frequency, the codec keeps no rare label (a ``category`` dtype loses its rare categories), and
conditioning on the slot is refused. A value not seen when fitting is encoded into the slot too
when there is one (the codec cannot tell it from a rare one).

An ``object`` column whose values mix kinds of numbers that Python counts as equal (``1``,
``True``, ``1.0``) keeps them as separate categories, each decoded with its own type (see
:mod:`syntho_hive.core._value_kinds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import is_null_value, null_marker, restore_objects
from syntho_hive.core._value_kinds import factorize_values, mixes_kinds, typed_keys
from syntho_hive.core.data.encoders.base import ColumnEncoder
from syntho_hive.core.data.encoders.rare import RARE_LABEL, check_rare_threshold
from syntho_hive.core.data.spans import ColumnSpans, SpanInfo
from syntho_hive.exceptions import GenerationError, SchemaError

__all__ = ["CategoryCodec", "OneHotEncoder", "NULL_LABEL", "category_counts"]

NULL_LABEL = "<NA>"
"""Display label of the missing-value category."""


class CategoryCodec:
    """Bidirectional map between column values and integer codes ``0..K-1``.

    Codes: the frequent categories ``0..F-1`` (``values``), then the rare slot (code ``F``, when
    ``has_rare``), then the missing value (last, when ``has_null``).

    Attributes:
        values: Object array of the frequent non-null categories, in code order.
        has_rare: Whether categories seen fewer than ``rare_threshold`` times share a rare slot.
        has_null: Whether the missing value is a category (the last code).
        counts: Training count of every code.
    """

    #: Whether the categories mix kinds of numbers and are looked up by ``(kind, value)``; set with
    #: the lookup index (codecs pickled before this attribute existed never mix kinds).
    _typed = False
    #: Codecs pickled before the rare slot existed have none.
    has_rare = False

    def __init__(self, column: str) -> None:
        self.column = column
        self.values = np.empty(0, dtype=object)
        self.has_null = False
        self.counts = np.empty(0, dtype=np.int64)
        self.dtype: Any = None
        self.marker: Any = None
        self._index: pd.Index | None = None

    def fit(self, series: pd.Series, *, order: str = "frequency", rare_threshold: int = 1) -> "CategoryCodec":
        """Learn the categories of ``series``.

        Args:
            series: Training column.
            order: ``"frequency"`` (descending, ties by first appearance) or ``"sorted"``.
            rare_threshold: Categories seen fewer times share the rare slot (``1``: none do).

        Returns:
            ``self``.

        Raises:
            SchemaError: ``rare_threshold`` is not an integer >= 1.
        """
        threshold = check_rare_threshold(rare_threshold, f"rare_threshold of column {self.column!r}")
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
        frequent = counts[perm] >= threshold
        if uniques.size and not frequent.any():
            raise SchemaError(
                f"Column {self.column!r}: every category is seen fewer than rare_threshold={threshold} times, so "
                "none may be generated; model it as text or numbers instead (DataTransformer.fit does it), "
                "or lower rare_threshold.")
        self.values = uniques[perm][frequent]
        self.has_rare = bool((~frequent).any())
        if self.has_rare and isinstance(series.dtype, pd.CategoricalDtype):
            # The dtype lists its categories: drop the rare ones, or the codec (pickled in checkpoints) and
            # every decoded column would carry the labels the slot protects (unused ones are schema, kept).
            rare = set(uniques[perm][~frequent].tolist())
            self.dtype = pd.CategoricalDtype([c for c in series.dtype.categories if c not in rare],
                                             ordered=series.dtype.ordered)
        null_count = int((codes < 0).sum())
        self.has_null = null_count > 0
        kept = counts[perm][frequent]
        if self.has_rare:
            kept = np.append(kept, counts[perm][~frequent].sum())
        self.counts = np.append(kept, null_count) if self.has_null else kept
        self._index = None
        return self

    @property
    def rare_code(self) -> int | None:
        """Code of the rare slot (``None`` without rare categories)."""
        return int(self.values.size) if self.has_rare else None

    @property
    def null_code(self) -> int:
        """Code of the missing value (meaningful when ``has_null``)."""
        return int(self.values.size + self.has_rare)

    @property
    def size(self) -> int:
        """Number of codes: categories, the rare slot and the missing value."""
        return int(self.values.size + self.has_rare + self.has_null)

    @property
    def labels(self) -> tuple[str, ...]:
        """Display labels in code order (the rare slot is :data:`RARE_LABEL`)."""
        labels = tuple(str(value) for value in self.values)
        return labels + ((RARE_LABEL,) if self.has_rare else ()) + ((NULL_LABEL,) if self.has_null else ())

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
        if self.has_rare:
            found = np.where(found < 0, self.values.size, found)  # rare (or unseen) values share the slot
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
        codes = np.full(raw.size, self.null_code, dtype=np.intp)
        codes[~nulls] = found[raw[~nulls]]
        return codes

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Column with the training dtype from codes.

        Args:
            codes: Integer codes.
            rng: Source of the frequent categories that rare-slot codes decode to (drawn by
                training frequency; nothing is drawn when no code is the rare slot).
        """
        codes = np.asarray(codes)
        nulls = codes >= self.null_code
        safe = np.where(nulls, 0, codes)
        if self.has_rare:
            rare = safe == self.values.size
            if rare.any():
                weights = self.counts[:self.values.size].astype(np.float64)
                safe = safe.copy()
                safe[rare] = rng.choice(self.values.size, size=int(rare.sum()), p=weights / weights.sum())
        values = self.values[safe] if self.values.size else np.full(codes.size, None, dtype=object)
        return restore_objects(values, nulls, self.dtype, self.marker, self.column)

    def index_of(self, value: Any) -> int:
        """Code of ``value`` (a real value, a null, or a display label).

        Raises:
            GenerationError: If the value is not a category (the message lists them).
        """
        if is_null_value(value):
            if self.has_null:
                return self.null_code
        else:
            found = self._find(np.asarray([value], dtype=object))[0]
            if found >= 0:
                return int(found)
            labels = self.labels
            if isinstance(value, str) and value in labels and labels.index(value) != self.rare_code:
                return labels.index(value)
        valid = [label for code, label in enumerate(self.labels) if code != self.rare_code]
        shown = valid[:20] + (["..."] if len(valid) > 20 else [])
        hint = (" (values seen fewer than rare_threshold times in training are protected and cannot be "
                "conditioned on)") if self.has_rare else ""
        raise GenerationError(
            f"Unknown value {value!r} for column {self.column!r}{hint}; valid values: {shown}."
        )


def category_counts(series: pd.Series) -> np.ndarray:
    """Training count of each distinct non-null category of ``series``, as the codec counts them
    (numbers of different kinds kept apart in an ``object`` column).

    Args:
        series: The column.

    Returns:
        One count per distinct non-null value, in order of first appearance.
    """
    codes, uniques = _factorize(series)
    return np.bincount(codes[codes >= 0], minlength=uniques.size)


def all_rare_sdtype(series: pd.Series, rare_threshold: int) -> str:
    """How a categorical column is modelled under rare-value protection: ``"categorical"``, unless
    none of its categories is seen ``rare_threshold`` times; then nothing of it may be shown as a
    category, and it is modelled as what it holds: numbers as ``"numerical"``, anything else as
    ``"text"`` (new values from its frequent words or shapes).

    Args:
        series: The column.
        rare_threshold: The least count of a category that may be shown.

    A ``bool`` column is ``"boolean"`` whatever its counts: its two values are the domain, public, and
    never pooled.

    Returns:
        ``"categorical"``, ``"boolean"``, ``"numerical"`` or ``"text"``.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    counts = category_counts(series)
    if counts.size == 0 or int(counts.max()) >= rare_threshold:
        return "categorical"
    dtype = series.dtype
    numeric = not isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(dtype)
    return "numerical" if numeric else "text"


def _factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of a column (nulls ``-1``), numbers of different kinds kept apart in an
    ``object`` column; the uniques as an ``object`` array."""
    if series.dtype == object:
        return factorize_values(series.to_numpy(dtype=object))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


class OneHotEncoder(ColumnEncoder):
    """One softmax span with one slot per category (missing value included).

    Args:
        column: Source column name.
        order: Category order, ``"frequency"`` or ``"sorted"`` (``category`` dtypes keep theirs).
        rare_threshold: Categories seen fewer times share the rare slot (``1``: none do).
    """

    sdtype = "categorical"
    #: Encoders pickled before the rare slot existed pooled nothing.
    rare_threshold = 1

    def __init__(self, column: str, *, order: str = "frequency", rare_threshold: int = 1) -> None:
        super().__init__(column)
        self.order = order
        self.rare_threshold = check_rare_threshold(rare_threshold, f"rare_threshold of column {column!r}")
        self.codec = CategoryCodec(column)

    def prepare(self, series: pd.Series, *, seed: int) -> None:
        self.codec.fit(series, order=self.order, rare_threshold=self.rare_threshold)

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
            return self.codec.decode(np.zeros(block.shape[0], dtype=np.intp), rng)
        return self.codec.decode(np.argmax(block, axis=1) if codes is None else codes[:, 0], rng)

    def category_index(self, spans_name: str, value: Any) -> int:
        if self.codec.size <= 1:
            return super().category_index(spans_name, value)
        return self.codec.index_of(value)
