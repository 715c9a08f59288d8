"""Keep apart cell values that Python counts as one: ``1 == True == 1.0 == Decimal(1)``.

Such values also hash alike, so a dict, :func:`pandas.factorize`, :func:`numpy.unique` or a
:class:`pandas.Index` keyed by value merges them: an ``object`` column holding ``1``, ``True``
and ``1.0`` would come back as ``1`` everywhere. Categorical encoders key such columns by
``(kind, value)`` instead, where the kind of a number is ``bool``, ``int``, ``float``,
``decimal`` (or the name of another number type, such as ``complex``); other values (strings,
timestamps...) never equal a number and keep their own keys. NumPy scalars share the kind of
the Python type they stand for (``np.int64(1)`` is an ``int``, like ``1``).

Only ``object`` columns can mix kinds; the plain path (value keys) is kept wherever the values
hold at most one kind of number, so nothing changes for ordinary columns.
"""

from __future__ import annotations

import decimal
import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TypedKey", "number_kinds", "mixes_kinds", "typed_keys", "factorize_values",
           "count_distinct"]

#: ``pandas.api.types.infer_dtype`` results of arrays that may hold numbers of several kinds.
_MIXED = frozenset({"mixed", "mixed-integer", "mixed-integer-float"})


@dataclass(frozen=True)
class TypedKey:
    """A number keyed with its kind: ``TypedKey("bool", True) != TypedKey("int", 1)``.

    Attributes:
        kind: The value's kind (see the module docstring).
        value: The value itself.
    """

    kind: str
    value: Any


@lru_cache(maxsize=256)
def _kind_of_type(kind: type) -> str | None:
    """The kind of numbers of type ``kind`` (see the module docstring); ``None`` for a type of non-numbers."""
    if issubclass(kind, (bool, np.bool_)):
        return "bool"
    if issubclass(kind, (numbers.Integral, np.integer)):
        return "int"
    if issubclass(kind, (float, np.floating)):
        return "float"
    if issubclass(kind, decimal.Decimal):
        return "decimal"
    if issubclass(kind, numbers.Number):
        return kind.__name__
    return None


def number_kinds(values: np.ndarray) -> set[str]:
    """The kinds of the non-null numbers among ``values``.

    Args:
        values: Cell values (any array; ``object`` arrays may mix types).

    Returns:
        The set of kinds, empty when no value is a number.
    """
    values = np.asarray(values, dtype=object)
    present = values[~pd.isna(values)]
    kinds = {_kind_of_type(kind) for kind in set(map(type, present))}
    kinds.discard(None)
    return kinds  # type: ignore[return-value]


def mixes_kinds(values: np.ndarray) -> bool:
    """Whether ``values`` hold numbers of more than one kind (``1`` and ``True``, ``1`` and ``1.0``).

    Args:
        values: Cell values.

    Returns:
        ``True`` when value keys would merge or misplace some of them.
    """
    values = np.asarray(values, dtype=object)
    if values.size < 2 or pd.api.types.infer_dtype(values, skipna=True) not in _MIXED:
        return False  # one kind of value at most: a fast, C-level check for ordinary columns
    return len(number_kinds(values)) > 1


def typed_keys(values: np.ndarray) -> np.ndarray:
    """Keys that tell values apart by kind: each non-null number becomes a :class:`TypedKey`.

    Args:
        values: Cell values.

    Returns:
        An ``object`` array of the same length; nulls and values that are not numbers are kept.
    """
    values = np.asarray(values, dtype=object)
    out = values.copy()
    nulls = pd.isna(values)
    for i, value in enumerate(values):
        kind = None if nulls[i] else _kind_of_type(type(value))
        if kind is not None:
            out[i] = TypedKey(kind, value)
    return out


def factorize_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pandas.factorize` that keeps values of different kinds apart.

    Args:
        values: Cell values (nulls allowed).

    Returns:
        ``(codes, uniques)``: an ``intp`` code per value (``-1`` for nulls) and an ``object`` array
        of the distinct values in order of first appearance, each as it first appeared (so with
        its own type).
    """
    values = np.asarray(values, dtype=object)
    if not mixes_kinds(values):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    codes, keys = pd.factorize(typed_keys(values), use_na_sentinel=True)
    first = np.full(len(keys), len(values), dtype=np.intp)
    present = codes >= 0
    np.minimum.at(first, codes[present], np.flatnonzero(present))
    return codes, values[first]


def count_distinct(series: pd.Series) -> int:
    """Distinct non-null values of ``series``, values of different kinds counted apart.

    Args:
        series: A column.

    Returns:
        The number of distinct non-null values.
    """
    if series.dtype != object:
        return int(series.nunique(dropna=True))
    return len(factorize_values(series.to_numpy(dtype=object))[1])
