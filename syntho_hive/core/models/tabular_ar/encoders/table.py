"""A whole table as integer tokens: one codec per column, in column order.

Statistics flow ``analyze_table`` (one partition) -> ``reduce_stats`` (merge partitions) ->
``TableCodec.build``; ``TableCodec.fit`` does all three for an in-memory frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._checks import is_finite_number
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.core.models.tabular_ar.encoders.base import Codec, CodecConfig, SubColumn
from syntho_hive.core.models.tabular_ar.encoders.bin_copula import BinCopula
from syntho_hive.core.models.tabular_ar.encoders.categorical import (
    BooleanCodec,
    BooleanStats,
    CategoricalCodec,
    CategoricalStats,
    analyze_boolean,
    analyze_categorical,
)
from syntho_hive.core.models.tabular_ar.encoders.datetime import DatetimeCodec, DatetimeStats, analyze_datetime
from syntho_hive.core.models.tabular_ar.encoders.ids import IdCodec, IdStats, analyze_id
from syntho_hive.core.models.tabular_ar.encoders.numeric import NumericCodec, NumericStats, analyze_numeric
from syntho_hive.core.models.tabular_ar.encoders.text import TextCodec, TextStats, analyze_text
from syntho_hive.core.data._dtypes import dtype_from_json, dtype_to_json, value_from_json
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError, TrainingError

__all__ = ["ColumnStats", "analyze_table", "reduce_stats", "stats_from_dict", "TableCodec"]

_log = get_logger(__name__)

ColumnStats = CategoricalStats | BooleanStats | NumericStats | DatetimeStats | IdStats | TextStats

_STATS: dict[str, type] = {"categorical": CategoricalStats, "boolean": BooleanStats, "numerical": NumericStats,
                           "datetime": DatetimeStats, "id": IdStats, "text": TextStats}
_CODECS: dict[str, Any] = {"categorical": CategoricalCodec, "boolean": BooleanCodec, "numerical": NumericCodec,
                           "datetime": DatetimeCodec, "id": IdCodec, "text": TextCodec}


def _analyze_column(series: pd.Series, sdtype: str, config: CodecConfig, fmt: str | None) -> ColumnStats:
    if sdtype == "numerical":
        return analyze_numeric(series, config)
    if sdtype == "boolean":
        return analyze_boolean(series)
    if sdtype == "datetime":
        return analyze_datetime(series, fmt, config.rare_threshold)
    if sdtype == "id":
        return analyze_id(series)
    if sdtype == "text":
        return analyze_text(series)
    if sdtype == "categorical":
        return analyze_categorical(series)
    raise TrainingError(f"Column {series.name!r} has unknown sdtype {sdtype!r}; use one of numerical, "
                        "categorical, datetime, boolean, id, text.")


def analyze_table(df: pd.DataFrame, sdtypes: Mapping[str, str] | None = None, *,
                  config: CodecConfig | None = None,
                  datetime_formats: Mapping[str, str] | None = None) -> dict[str, ColumnStats]:
    """Statistics of one partition, per column (columns without an sdtype are detected).

    Args:
        df: The partition.
        sdtypes: Semantic type per column.
        config: Codec settings (numeric rounding rule).
        datetime_formats: ``strftime`` formats of datetime columns stored as strings.

    Returns:
        ``{column: stats}`` in column order.

    Raises:
        TrainingError: A column cannot be analysed as its sdtype.
    """
    config = config or CodecConfig()
    sdtypes = dict(sdtypes or {})
    formats = dict(datetime_formats or {})
    out: dict[str, ColumnStats] = {}
    for column in df.columns:
        name = str(column)
        sdtype = sdtypes.get(name) or detect_sdtype(df[column], name)
        out[name] = _analyze_column(df[column].rename(name), sdtype, config, formats.get(name))
    return out


def all_rare_stats(column: str, stats: ColumnStats, config: CodecConfig) -> ColumnStats:
    """The statistics to build ``column``'s codec from: ``stats`` itself, unless it is a categorical
    column none of whose values is seen ``rare_threshold`` times.

    Such a column (cities of a 60-row customers table, free-form codes) has nothing a category
    model may show: every value is protected. It is modelled as what it holds instead, numbers as
    a numerical column and anything else as text (new values made of its frequent words and of
    invented ones, :mod:`~syntho_hive.core.data.text_model`), so no placeholder token stands in
    for the protected values.

    Args:
        column: The column.
        stats: Its reduced statistics.
        config: The codec settings (``rare_threshold``).

    Returns:
        ``stats``, or numerical / text statistics of the same values.
    """
    if not isinstance(stats, CategoricalStats) or stats.kind != "categorical" or not stats.counts:
        return stats
    if max(stats.counts.values()) >= config.rare_threshold:
        return stats
    where = f"column {column!r}"
    values = np.empty(len(stats.counts), dtype=object)
    values[:] = [value_from_json(json.loads(key), where, legacy=True) for key in stats.counts]
    repeated = np.concatenate([np.repeat(values, list(stats.counts.values())),
                               np.full(stats.nulls, None, dtype=object)])
    dtype = dtype_from_json(stats.dtype, where)
    numeric = not isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(dtype) \
        and not pd.api.types.is_bool_dtype(dtype)
    _log.info("tabular_ar_all_values_rare", column=column, values=len(stats.counts),
              rare_threshold=config.rare_threshold, modelled_as="numerical" if numeric else "text")
    if numeric:
        return analyze_numeric(pd.Series(repeated, name=column, dtype=dtype), config)
    text = analyze_text(pd.Series(repeated, name=column, dtype=object))
    text.dtype, text.marker = dtype_to_json(dtype, where, categories=False), stats.marker
    return text


def reduce_stats(partitions: Sequence[Mapping[str, ColumnStats]]) -> dict[str, ColumnStats]:
    """Merge the statistics of several partitions of the same table.

    Raises:
        TrainingError: No partitions, or partitions with different columns / column kinds.
    """
    if not partitions:
        raise TrainingError("reduce_stats() needs at least one partition's statistics.")
    merged = dict(partitions[0])
    for part in partitions[1:]:
        if list(part) != list(merged):
            raise TrainingError(f"Partitions have different columns: {list(merged)} vs {list(part)}.")
        for column, stats in part.items():
            if type(stats) is not type(merged[column]):
                raise TrainingError(f"Column {column!r} was analysed as {merged[column].kind} in one partition "
                                    f"and {stats.kind} in another; declare its sdtype.")
            merged[column] = merged[column].merge(stats)
    return merged


def stats_from_dict(data: Mapping[str, Any]) -> ColumnStats:
    """Rebuild statistics from their ``to_dict`` form."""
    fields = dict(data)
    kind = fields.get("kind")
    if kind not in _STATS:
        raise SerializationError(f"Unknown column statistics kind {kind!r}.")
    return _STATS[kind](**fields)


def _check_fields(item: Mapping[str, Any]) -> None:
    """Raise :class:`SerializationError` unless the stored fields that the numerical, categorical and boolean
    codecs take as they are have their types (a null point or a count of ``[]`` would load, then decode NaN or
    fail with a raw error)."""
    kind, column = item["kind"], item.get("column")
    flags = {"numerical": ("has_null", "integer"), "categorical": ("has_null", "has_rare"),
             "boolean": ("has_null",)}.get(kind, ())
    problems = [] if isinstance(column, str) else ["'column' is not text"]
    problems += [f"{flag!r} is not true or false" for flag in flags if not isinstance(item.get(flag), bool)]
    if kind == "numerical":
        problems += [f"{key!r} is not a list of finite numbers" for key in ("points", "edges")
                     if not isinstance(item.get(key), list) or not all(map(is_finite_number, item[key]))]
        problems += [f"{key!r} is not a finite number" for key in ("minimum", "maximum")
                     if not is_finite_number(item.get(key))]
    if kind == "categorical":
        values, counts = item.get("values"), item.get("counts")
        if not isinstance(values, list) or not isinstance(counts, list) or len(values) != len(counts) \
                or not all(type(count) is int and count >= 1 for count in counts):
            problems.append("'values' and 'counts' are not lists of one count >= 1 per value")
    if problems:
        raise SerializationError(f"The stored codec of column {column!r} is malformed ({'; '.join(problems)}); the "
                                 "checkpoint is corrupt, fit the model again.")


class TableCodec:
    """Column codecs of one table, in column order.

    Args:
        codecs: One fitted :class:`Codec` per column.
        copula: How values sit inside their numerical tokens relative to each other (see
            :meth:`fit_copula`); ``None``: independently uniform.
    """

    def __init__(self, codecs: Sequence[Codec], copula: BinCopula | None = None) -> None:
        self.codecs = list(codecs)
        self.copula = copula
        self._numeric = {c.column: c for c in self.codecs if isinstance(c, NumericCodec)}
        self.columns = [c.column for c in self.codecs]
        self.sub_columns: list[SubColumn] = [s for c in self.codecs for s in c.sub_columns]
        self.slices: dict[str, slice] = {}
        start = 0
        for codec in self.codecs:
            width = len(codec.sub_columns)
            self.slices[codec.column] = slice(start, start + width)
            start += width
        self._by_column = {c.column: c for c in self.codecs}

    @classmethod
    def build(cls, stats: Mapping[str, ColumnStats], config: CodecConfig | None = None) -> "TableCodec":
        """Codecs for reduced statistics."""
        config = config or CodecConfig()
        stats = {column: all_rare_stats(column, s, config) for column, s in stats.items()}
        return cls([_CODECS[s.kind].build(column, s, config) for column, s in stats.items()])

    @classmethod
    def fit(cls, df: pd.DataFrame, sdtypes: Mapping[str, str] | None = None, *, config: CodecConfig | None = None,
            datetime_formats: Mapping[str, str] | None = None) -> "TableCodec":
        """Analyze ``df`` as one partition and build the codecs."""
        config = config or CodecConfig()
        return cls.build(analyze_table(df, sdtypes, config=config, datetime_formats=datetime_formats), config)

    def fit_copula(self, df: pd.DataFrame, codes: np.ndarray) -> None:
        """Learn :attr:`copula` from the training rows ``df`` and their tokens ``codes``
        (:meth:`encode`); it stays ``None`` below two numerical columns with ranges."""
        self.copula = BinCopula.fit(self._numeric, df, {c: codes[:, self.slices[c].start] for c in self._numeric})

    def codec(self, column: str) -> Codec:
        """The codec of ``column`` (``KeyError`` when unknown)."""
        return self._by_column[column]

    @property
    def cardinalities(self) -> list[int]:
        return [s.cardinality for s in self.sub_columns]

    @property
    def positions(self) -> list[tuple[float, ...] | None]:
        """Token positions of each sub-column (:attr:`SubColumn.positions`)."""
        return [sub.positions for sub in self.sub_columns]

    @property
    def sdtypes(self) -> dict[str, str]:
        return {c.column: c.kind for c in self.codecs}

    def token_masker(self) -> Callable[[int, np.ndarray], np.ndarray | None] | None:
        """Generation-time restrictions of the codecs that have some (see :meth:`Codec.token_mask`).

        Returns:
            ``mask(t, tokens)``: allowed tokens of sub-column ``t`` given ``(rows, n_sub)``
            tokens drawn so far (``None``: no restriction); or ``None`` when no codec restricts.
        """
        owners: dict[int, tuple[Codec, int, int]] = {}
        for codec in self.codecs:
            if type(codec).token_mask is Codec.token_mask:
                continue
            start = self.slices[codec.column].start
            for offset in range(len(codec.sub_columns)):
                owners[start + offset] = (codec, start, offset)
        if not owners:
            return None

        def mask(t: int, tokens: np.ndarray) -> np.ndarray | None:
            if t not in owners:
                return None
            codec, start, offset = owners[t]
            return codec.token_mask(offset, tokens[:, start:start + offset])

        return mask

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        """Tokens of shape ``(len(df), len(sub_columns))``."""
        blocks = [codec.encode(df[codec.column].reset_index(drop=True)) for codec in self.codecs]
        if not blocks:
            return np.zeros((len(df), 0), dtype=np.int64)
        return np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=np.int64)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Columns in order, with training dtypes, from tokens."""
        positions: dict[str, np.ndarray] = {}
        if self.copula is not None and len(codes):
            positions = self.copula.positions(self._numeric,
                                              {c: codes[:, self.slices[c].start] for c in self.copula.columns}, rng)
        data = {}
        for codec in self.codecs:
            block = codes[:, self.slices[codec.column]]
            data[codec.column] = (codec.decode(block, rng, positions[codec.column])
                                  if codec.column in positions else codec.decode(block, rng))
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        state: dict[str, Any] = {"codecs": [codec.to_dict() for codec in self.codecs]}
        if self.copula is not None:
            state["copula"] = self.copula.to_dict()
        return state

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TableCodec":
        """Inverse of :meth:`to_dict`.

        Raises:
            SerializationError: Unknown codec kind or missing fields.
        """
        codecs: list[Codec] = []
        for item in data["codecs"]:
            kind = item.get("kind")
            if kind not in _CODECS:
                raise SerializationError(f"Unknown column codec kind {kind!r}.")
            _check_fields(item)
            codecs.append(_CODECS[kind].from_dict(item))
        table = cls(codecs)
        if data.get("copula") is not None:  # absent from models saved before the copula
            copula = BinCopula.from_dict(data["copula"])
            if any(c not in table._numeric or len(share) != table._numeric[c].sub_columns[0].cardinality
                   for c, share in zip(copula.columns, copula.shares)):
                raise SerializationError("The bin copula names columns that are not numerical columns of the "
                                         "model; the checkpoint is corrupt.")
            table.copula = copula
        return table
