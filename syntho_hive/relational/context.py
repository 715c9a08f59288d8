"""Which parent columns condition a child table's model (its *parent context*).

The user names them in ``TableConfig.parent_context_cols``; each name is looked up in the
primary parent first, then in the other parents in FK order. Without a choice, a default is
taken from the primary parent: its modelled columns that carry signal and stay cheap to
encode (booleans, categoricals with few levels, numbers, dates), at most ``max_columns``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.rare import inner_range
from syntho_hive.core.data.transformer import DEFAULT_LOW_CARDINALITY
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.core.time_of_day import is_time_of_day
from syntho_hive.exceptions import SchemaError
from syntho_hive.relational.graph import Relationship

__all__ = ["ContextColumn", "ContextDomain", "column_sdtypes", "default_context_columns", "protect_context",
           "resolve_context"]

#: Categorical parent columns with more distinct values than this are not used by default.
MAX_DEFAULT_LEVELS = 50
_PREFERENCE = {"boolean": 0, "categorical": 1, "numerical": 2, "datetime": 3}


@dataclass(frozen=True)
class ContextColumn:
    """One context column of a child: ``parent_column`` of the parent reached through ``via``.

    Attributes:
        name: Column name in the context frame passed to the model (``"<fk>.<parent column>"``).
        via: Index of the relationship in the child's parent list (0 = primary).
        parent_column: Column of the parent table.
    """

    name: str
    via: int
    parent_column: str


def column_sdtypes(frame: pd.DataFrame, declared: Mapping[str, str], keys: list[str]) -> dict[str, str]:
    """Semantic type of every column: declared ones, ``id`` for keys, detected otherwise."""
    out: dict[str, str] = {}
    for column in frame.columns:
        name = str(column)
        if name in keys:
            out[name] = "id"
        elif name in declared:
            out[name] = str(declared[name])
        else:
            out[name] = str(detect_sdtype(frame[column], name))
    return out


def default_context_columns(parent: pd.DataFrame, sdtypes: Mapping[str, str], *,
                            max_columns: int = 4) -> list[str]:
    """Parent columns worth conditioning a child on, best first.

    Args:
        parent: The parent table (real data).
        sdtypes: Semantic type per parent column (keys as ``id``).
        max_columns: Most columns returned.

    Returns:
        Column names: booleans, then categoricals with at most ``MAX_DEFAULT_LEVELS`` values
        (and fewer than half the parent rows: not per-row labels), then numbers, then dates,
        each group in table order.
    """
    candidates: list[tuple[int, int, str]] = []
    for position, column in enumerate(parent.columns):
        sdtype = sdtypes.get(str(column))
        if sdtype not in _PREFERENCE:
            continue
        series = parent[column]
        if series.notna().sum() == 0 or series.nunique(dropna=True) < 2:
            continue
        distinct = series.nunique(dropna=True)
        if sdtype == "categorical" and (distinct > MAX_DEFAULT_LEVELS or distinct > 0.5 * len(series)):
            continue  # too wide, or a name/label unique to each parent: no shared signal
        candidates.append((_PREFERENCE[sdtype], position, str(column)))
    candidates.sort()
    return [name for _, _, name in candidates[:max_columns]]


def resolve_context(child: str, requested: list[str], parents: list[Relationship],
                    parent_columns: Mapping[str, list[str]],
                    defaults: list[str]) -> list[ContextColumn]:
    """Map context column names to the parent (relationship) holding them.

    Args:
        child: Child table name (for messages).
        requested: ``parent_context_cols`` of the child (empty: use ``defaults``).
        parents: The child's relationships to other tables, primary first.
        parent_columns: Columns of every parent table.
        defaults: Default columns of the primary parent.

    Returns:
        The context columns, in request order.

    Raises:
        SchemaError: A requested column is in no parent, or is a key column.
    """
    if not parents:
        return []
    if not requested:
        rel = parents[0]
        return [ContextColumn(f"{'+'.join(rel.child_columns)}.{c}", 0, c) for c in defaults]
    out: list[ContextColumn] = []
    for column in requested:
        for via, rel in enumerate(parents):
            if column in parent_columns.get(rel.parent, []):
                if column in rel.parent_columns:
                    raise SchemaError(f"table {child!r}: parent_context_cols names {column!r}, the key of "
                                      f"{rel.parent!r}; keys cannot be context, drop it.")
                out.append(ContextColumn(f"{'+'.join(rel.child_columns)}.{column}", via, column))
                break
        else:
            names = sorted({p.parent for p in parents})
            raise SchemaError(f"table {child!r}: parent_context_cols names {column!r}, which is not a "
                              f"column of its parent table(s) {names}; fix the name.")
    return out


#: Discrete context columns with more distinct values than this are not guarded.
MAX_GUARDED_VALUES = 5_000

#: Integer context columns with more distinct values than this are numbers to every engine (the
#: transformer's ``low_cardinality``; TabularAR bins them): their values are not guarded.
MAX_DISCRETE_INTEGERS = DEFAULT_LOW_CARDINALITY


def _continuous(series: pd.Series) -> bool:
    """Whether every engine encodes ``series`` as numbers (floats, datetimes, durations, times of day,
    integers with more than :data:`MAX_DISCRETE_INTEGERS` distinct values), so an unseen value is fine."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_float_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype) \
            or pd.api.types.is_timedelta64_dtype(dtype) or is_time_of_day(series):
        return True
    return pd.api.types.is_integer_dtype(dtype) and series.nunique(dropna=True) > MAX_DISCRETE_INTEGERS


class ContextDomain:
    """What each context column was like in training, to keep sampling inside it.

    A generated parent can hold a value no training parent *with children* had (a category
    whose real parents had no child rows, or a rare label); the child model has never seen it
    as context. Such values of a discrete column (and nulls, when training context had none)
    are replaced by a value drawn from the training context's own distribution. A continuous
    column (floats, datetimes, integers with many distinct values) keeps its values, which
    every engine encodes as numbers, and no value of it is stored; only a null where training
    context had none is replaced, by the column's value in another row of the same frame (a
    generated value), since the child's model cannot encode it.

    Attributes:
        columns: ``{context column: {"values": [...], "probs": [...], "nulls": bool}}`` for a
            guarded discrete column, ``{context column: {"nulls": False}}`` for a continuous one
            that had no null in training.
    """

    def __init__(self, columns: Mapping[str, Mapping[str, object]] | None = None) -> None:
        self.columns: dict[str, dict[str, object]] = {k: dict(v) for k, v in (columns or {}).items()}

    @classmethod
    def learn(cls, context: pd.DataFrame) -> "ContextDomain":
        """Record the discrete values of each discrete column of ``context`` and which columns had no null."""
        columns: dict[str, dict[str, object]] = {}
        for name in context.columns:
            series = context[name]
            nulls = bool(series.isna().any())
            counts = None if _continuous(series) else series.value_counts(dropna=True, sort=False)
            values = [] if counts is None or len(counts) > MAX_GUARDED_VALUES else \
                [v.item() if isinstance(v, np.generic) else v for v in counts.index.tolist()]
            if not values or not all(isinstance(v, (str, int, bool)) for v in values):
                if not nulls:  # values kept as they are; a null the model never saw is not
                    columns[str(name)] = {"nulls": False}
                continue
            probs = (counts.to_numpy(dtype=np.float64) / counts.sum()).tolist()
            columns[str(name)] = {"values": values, "probs": probs, "nulls": nulls}
        return cls(columns)

    def apply(self, context: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, int]:
        """Replace values outside the training domain; return the frame and how many were replaced."""
        replaced = 0
        out = context
        for name, domain in self.columns.items():
            if name not in context.columns:
                continue
            series = context[name]
            isna = series.isna().to_numpy()
            if "values" not in domain:  # continuous: only nulls, never seen in training, are replaced
                k = int(isna.sum())
                if not k or k == len(series):
                    continue  # nothing to replace, or no generated value to replace it with
                present = series[~isna]
                draws = present.iloc[rng.integers(0, len(present), size=k)].array
                fixed = series.copy()
                fixed[isna] = draws
            else:
                values = list(domain["values"])  # type: ignore[call-overload]
                outside = ~series.isin(values).to_numpy() & ~isna
                if not domain["nulls"]:
                    outside |= isna
                k = int(outside.sum())
                if not k:
                    continue
                draws = np.asarray(values, dtype=object)[rng.choice(len(values), size=k,
                                                                    p=np.asarray(domain["probs"]))]
                objects = series.astype(object).to_numpy(copy=True)
                objects[outside] = draws
                fixed = pd.Series(objects, index=series.index).astype(series.dtype)
            if out is context:
                out = context.copy()
            out[name] = fixed
            replaced += k
        return out, replaced


def protect_context(frame: pd.DataFrame, columns: list[ContextColumn], parents: list[pd.DataFrame],
                    rare_threshold: int) -> tuple[pd.DataFrame, list[ContextColumn]]:
    """The context a child's model learns from, without parent values held by fewer than ``rare_threshold``
    parent rows.

    A parent's value reaches the child's model once per child row, so a label one customer holds looks
    frequent to a model of that customer's 30 orders, which then keeps it in its checkpoint. Counted over
    the parent rows instead: a rare label of a discrete column becomes missing, and numbers and dates are
    clipped to the parent column's ``rare_threshold``-th smallest and largest values. A column left with
    no value, or with too few parent values for that range (``2 * rare_threshold - 1``), is left out of
    the context. Booleans and times of day are kept as they are.

    Args:
        frame: The context, one row per child row (:class:`ContextColumn` names).
        columns: Its columns.
        parents: The child's parent tables, in relationship order (``ContextColumn.via``).
        rare_threshold: Fewest parent rows a value needs.

    Returns:
        ``(context, the columns kept)``.
    """
    if rare_threshold <= 1:
        return frame, list(columns)
    out: dict[str, pd.Series] = {}
    kept: list[ContextColumn] = []
    for column in columns:
        series, parent = frame[column.name], parents[column.via][column.parent_column]
        if pd.api.types.is_bool_dtype(series.dtype) or is_time_of_day(series):
            protected: pd.Series | None = series
        elif _continuous(series):
            present = parent.dropna()
            protected = None
            if len(present) >= 2 * rare_threshold - 1:
                protected = series.clip(*inner_range(present.to_numpy(), rare_threshold))
        else:
            counts = parent.value_counts(dropna=True)
            rare = counts.index[counts < rare_threshold]
            protected = series.where(~series.isin(rare)) if len(rare) else series
            if protected.notna().sum() == 0:
                protected = None
        if protected is not None:
            out[column.name] = protected
            kept.append(column)
    return pd.DataFrame(out, index=frame.index), kept
