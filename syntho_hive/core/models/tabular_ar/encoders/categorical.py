"""Categorical and boolean columns: one sub-column of category codes.

Rare categories (fewer than ``rare_threshold`` occurrences) share one protected token that
the network learns but generation never draws: :meth:`CategoricalCodec.token_mask` masks it,
so a row gets a frequent category drawn from the model's distribution given the row's other
values. (Should a rare token reach :meth:`~CategoricalCodec.decode` anyway, e.g. from tokens
built by hand, it decodes to a frequent category drawn by frequency; no text stands in for a
protected value.) A column without any frequent category is not categorical at all: see
:func:`~syntho_hive.core.models.tabular_ar.encoders.table.all_rare_stats`. Missing values get
their own token.

Categories are keyed by their JSON form, which keeps the type: an ``object`` column holding
``1``, ``True``, ``1.0`` and ``"1"`` has four categories, each decoded with its own type. A
boolean ``object`` column must hold one kind of value (all ``True``/``False``, all 0/1 integers
or all 0.0/1.0 floats), decoded as that kind; mixing them is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    null_marker,
    restore_objects,
    value_from_json,
)
from syntho_hive.core._value_kinds import factorize_values, number_kinds
from syntho_hive.core.metadata.validate import is_boolean_value
from syntho_hive.core.models.tabular_ar.encoders.base import Codec, CodecConfig, SubColumn
from syntho_hive.core.models.tabular_ar.encoders.values import find_key, value_key
from syntho_hive.exceptions import GenerationError, SchemaError, TrainingError

__all__ = ["CategoricalStats", "CategoricalCodec", "BooleanStats", "BooleanCodec", "analyze_categorical",
           "analyze_boolean"]


@dataclass
class CategoricalStats:
    """Per-partition counts of a categorical column.

    Attributes:
        counts: ``{value_key: count}`` of the non-null values (keys from ``values.value_key``).
        nulls: Number of missing values.
        dtype: JSON dtype of the column.
        marker: JSON null marker of an ``object`` column.
    """

    counts: dict[str, int] = field(default_factory=dict)
    nulls: int = 0
    dtype: dict[str, Any] = field(default_factory=lambda: {"name": "object"})
    marker: str | None = None
    kind: str = "categorical"

    def merge(self, other: "CategoricalStats") -> "CategoricalStats":
        """Statistics of both partitions together."""
        counts = dict(self.counts)
        for key, count in other.counts.items():
            counts[key] = counts.get(key, 0) + int(count)
        return CategoricalStats(counts=dict(sorted(counts.items())), nulls=self.nulls + other.nulls,
                                dtype=self.dtype, marker=self.marker or other.marker, kind=self.kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"kind": self.kind, "counts": self.counts, "nulls": self.nulls, "dtype": self.dtype,
                "marker": self.marker}


def analyze_categorical(series: pd.Series) -> CategoricalStats:
    """Count the values of one partition of a categorical column."""
    present = series.dropna()
    codes, uniques = factorize_values(present.to_numpy(dtype=object))
    counts = np.bincount(codes, minlength=len(uniques))
    keyed: dict[str, int] = {}
    for value, count in zip(uniques.tolist(), counts.tolist()):
        key = value_key(value, f"column {series.name!r}")
        keyed[key] = keyed.get(key, 0) + int(count)
    return CategoricalStats(counts=dict(sorted(keyed.items())), nulls=int(series.isna().sum()),
                            dtype=dtype_to_json(series.dtype, f"column {series.name!r}"),
                            marker=marker_to_json(null_marker(series)))


class CategoricalCodec(Codec):
    """Frequent categories, then the rare token (if any rare), then the null token (if nulls).

    Args:
        column: Column name.
        values: Frequent values (JSON-tagged), most frequent first.
        counts: Their training counts (used to decode the rare token by frequency).
        has_rare: Whether rare categories exist.
        has_null: Whether the column had missing values.
        dtype: JSON dtype; marker: JSON null marker.
    """

    kind = "categorical"

    def __init__(self, column: str, values: list[list[Any]], counts: list[int], has_rare: bool,
                 has_null: bool, dtype: dict[str, Any], marker: str | None) -> None:
        super().__init__(column)
        self.values_json = values
        self.counts = [int(c) for c in counts]
        self.has_rare = has_rare
        self.has_null = has_null
        self.dtype_json = dtype
        self.marker_json = marker
        self._values = np.empty(len(values), dtype=object)
        self._values[:] = [value_from_json(v, f"column {column!r}", legacy=True) for v in values]
        self._index = {value_key(v, f"column {column!r}"): i for i, v in enumerate(self._values)}
        self._dtype = dtype_from_json(dtype, f"column {column!r}")
        self._marker = marker_from_json(marker)

    @classmethod
    def build(cls, column: str, stats: CategoricalStats, config: CodecConfig) -> "CategoricalCodec":
        """The codec for reduced statistics."""
        ordered = sorted(stats.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        frequent = [(k, c) for k, c in ordered if c >= config.rare_threshold]
        has_rare = len(frequent) < len(ordered)
        if has_rare and not frequent:
            raise TrainingError(
                f"Column {column!r}: every category is seen fewer than rare_threshold={config.rare_threshold} "
                "times, so none may be generated; such a column is modelled as text or numbers instead "
                "(TableCodec.build does it), not as a category.")
        dtype_json = stats.dtype
        if dtype_json.get("name") == "category" and has_rare:
            # A category dtype lists its values: drop the rare ones, or the model state and every sample's
            # dtype would carry the values the rare token protects (unused categories are schema, kept).
            rare = {k for k, c in ordered if c < config.rare_threshold}
            dtype_json = {**dtype_json, "categories": [
                v for v in dtype_json["categories"] if json.dumps(v, sort_keys=True, separators=(",", ":")) not in rare]}
        return cls(column, [json.loads(k) for k, _ in frequent], [c for _, c in frequent],
                   has_rare=has_rare, has_null=stats.nulls > 0, dtype=dtype_json, marker=stats.marker)

    @property
    def rare_token(self) -> int | None:
        return len(self._values) if self.has_rare else None

    @property
    def null_token(self) -> int | None:
        return len(self._values) + int(self.has_rare) if self.has_null else None

    @property
    def sub_columns(self) -> list[SubColumn]:
        card = len(self._values) + int(self.has_rare) + int(self.has_null)
        return [SubColumn(self.column, self.column, max(card, 1), self.null_token)]

    def encode(self, series: pd.Series) -> np.ndarray:
        nulls = series.isna().to_numpy()
        factor, uniques = factorize_values(series.to_numpy(dtype=object))
        lookup = np.array([self._index.get(find_key(v), -1) for v in uniques] + [-1], dtype=np.int64)
        codes = lookup[factor].astype(np.float64)  # factor -1 (null) picks the trailing -1
        codes[codes < 0] = np.nan
        unseen = np.isnan(codes) & ~nulls
        if unseen.any():
            if self.rare_token is None:
                examples = series[unseen].astype(str).unique()[:5].tolist()
                raise GenerationError(
                    f"Column {self.column!r} holds {int(unseen.sum())} value(s) never seen in training "
                    f"(examples: {examples}); valid values: {self._values[:10].tolist()}.")
            codes[unseen] = self.rare_token
        if nulls.any():
            codes[nulls] = self._null(self.null_token)
        return codes.astype(np.int64).reshape(-1, 1)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        tokens = codes[:, 0]
        out = np.empty(len(tokens), dtype=object)
        known = tokens < len(self._values)
        out[known] = self._values[tokens[known]]
        rare = tokens == self.rare_token if self.rare_token is not None else np.zeros(len(tokens), bool)
        if rare.any():
            weights = np.asarray(self.counts, dtype=np.float64)
            out[rare] = self._values[rng.choice(len(self._values), size=int(rare.sum()), p=weights / weights.sum())]
        nulls = tokens == self.null_token if self.null_token is not None else np.zeros(len(tokens), bool)
        return restore_objects(out, nulls, self._dtype, self._marker, self.column)

    def token_mask(self, offset: int, prefix: np.ndarray) -> np.ndarray | None:
        """Never draw the rare token: the row gets a frequent category given its other values."""
        if self.rare_token is None:
            return None
        mask = np.ones((len(prefix), self.sub_columns[0].cardinality), dtype=bool)
        mask[:, self.rare_token] = False
        return mask

    def allowed_tokens(self, value: Any) -> list[np.ndarray]:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return [np.array([self._null(self.null_token, conditioned=True)])]
        index = self._index.get(find_key(value))
        if index is None:
            hint = " (it is rare in the training data, so it is protected)" if self.has_rare else ""
            raise GenerationError(
                f"Unknown value {value!r} for condition column {self.column!r}{hint}; valid values: "
                f"{self._values[:20].tolist()}.")
        return [np.array([index])]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "values": self.values_json, "counts": self.counts,
                "has_rare": self.has_rare, "has_null": self.has_null, "dtype": self.dtype_json,
                "marker": self.marker_json}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CategoricalCodec":
        return cls(data["column"], data["values"], data["counts"], data["has_rare"], data["has_null"],
                   data["dtype"], data["marker"])


@dataclass
class BooleanStats:
    """Per-partition counts of a boolean column.

    Attributes:
        false / true / nulls: Counts.
        dtype: JSON dtype; marker: JSON null marker of an ``object`` column.
        types: Kinds of the values of an ``object`` column (``"bool"``, ``"int"``, ``"float"``).
    """

    false: int = 0
    true: int = 0
    nulls: int = 0
    dtype: dict[str, Any] = field(default_factory=lambda: {"name": "bool"})
    marker: str | None = None
    kind: str = "boolean"
    types: list[str] = field(default_factory=list)

    def merge(self, other: "BooleanStats") -> "BooleanStats":
        """Statistics of both partitions together."""
        return BooleanStats(self.false + other.false, self.true + other.true, self.nulls + other.nulls,
                            self.dtype, self.marker or other.marker,
                            types=sorted(set(self.types) | set(other.types)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"kind": self.kind, "false": self.false, "true": self.true, "nulls": self.nulls,
                "dtype": self.dtype, "marker": self.marker, "types": self.types}


def _as_bool(series: pd.Series, column: str) -> np.ndarray:
    present = series.dropna()
    if pd.api.types.is_bool_dtype(present.dtype):
        return present.to_numpy(dtype=bool)
    uniques = pd.unique(present.to_numpy(dtype=object))
    bad = [v for v in uniques if not is_boolean_value(v)]
    if bad:
        raise TrainingError(f"Boolean column {column!r} holds non-boolean values (examples: {bad[:5]}); "
                            "declare it categorical.")
    return present.to_numpy(dtype=object).astype(bool)


def analyze_boolean(series: pd.Series) -> BooleanStats:
    """Count the values of one partition of a boolean column."""
    values = _as_bool(series, str(series.name))
    types = sorted(number_kinds(series.to_numpy(dtype=object))) if series.dtype == object else []
    return BooleanStats(int((~values).sum()), int(values.sum()), int(series.isna().sum()),
                        dtype_to_json(series.dtype, f"column {series.name!r}"), marker_to_json(null_marker(series)),
                        types=types)


class BooleanCodec(Codec):
    """Tokens ``False``, ``True`` and (when the column had missing values) null.

    Args:
        column: Column name.
        has_null: Whether the column had missing values.
        dtype: JSON dtype; marker: JSON null marker.
        value_type: ``"int"`` / ``"float"``: an ``object`` column of 0/1 numbers, decoded as such;
            ``None``: decoded as booleans.
    """

    kind = "boolean"

    def __init__(self, column: str, has_null: bool, dtype: dict[str, Any], marker: str | None,
                 value_type: str | None = None) -> None:
        super().__init__(column)
        self.has_null = has_null
        self.dtype_json = dtype
        self.marker_json = marker
        self.value_type = value_type
        self._dtype = dtype_from_json(dtype, f"column {column!r}")
        self._marker = marker_from_json(marker)

    @classmethod
    def build(cls, column: str, stats: BooleanStats, config: CodecConfig) -> "BooleanCodec":
        """The codec for reduced statistics.

        Raises:
            SchemaError: An ``object`` column mixes booleans, integers and floats (``True`` and ``1``),
                which one boolean token cannot tell apart.
        """
        if len(stats.types) > 1:
            raise SchemaError(
                f"Boolean column {column!r} mixes {' and '.join(stats.types)} values (such as True and 1) in "
                "an object column; they would all come back as one type. Cast the column to one type "
                "(e.g. df[column].astype(bool)), or declare it categorical to keep every value as it is.")
        value_type = stats.types[0] if stats.types and stats.types[0] in ("int", "float") else None
        return cls(column, stats.nulls > 0, stats.dtype, stats.marker, value_type)

    @property
    def sub_columns(self) -> list[SubColumn]:
        return [SubColumn(self.column, self.column, 2 + int(self.has_null), 2 if self.has_null else None)]

    def encode(self, series: pd.Series) -> np.ndarray:
        nulls = series.isna().to_numpy()
        codes = np.zeros(len(series), dtype=np.int64)
        codes[~nulls] = _as_bool(series, self.column).astype(np.int64)
        if nulls.any():
            codes[nulls] = self._null(2 if self.has_null else None)
        return codes.reshape(-1, 1)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        tokens = codes[:, 0]
        nulls = tokens == 2
        values = np.empty(len(tokens), dtype=object)
        values[:] = tokens == 1
        if self.value_type is not None:  # 0/1 numbers, as Python ints or floats
            values = np.where(tokens == 1, 1, 0).astype(float if self.value_type == "float" else int).astype(object)
        return restore_objects(values, nulls, self._dtype, self._marker, self.column)

    def allowed_tokens(self, value: Any) -> list[np.ndarray]:
        if value is None or (not isinstance(value, (bool, np.bool_)) and pd.isna(value)):
            return [np.array([self._null(2 if self.has_null else None, conditioned=True)])]
        if not is_boolean_value(value):
            raise GenerationError(f"Condition value {value!r} for boolean column {self.column!r} must be "
                                  "True or False.")
        return [np.array([int(bool(value))])]

    def to_dict(self) -> dict[str, Any]:
        state = {"kind": self.kind, "column": self.column, "has_null": self.has_null, "dtype": self.dtype_json,
                 "marker": self.marker_json}
        if self.value_type is not None:  # absent from states of boolean-valued columns (and older ones)
            state["value_type"] = self.value_type
        return state

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BooleanCodec":
        return cls(data["column"], data["has_null"], data["dtype"], data["marker"], data.get("value_type"))
