"""Columns a generator makes up rather than learns, and what the disclosure figures do with them.

A column generated from scratch (a faked or masked personal column, a semantic column such as an
e-mail or a phone number) holds no training value, so it says nothing about whether a synthetic row
copies a real one: comparing it would make a memorised row look new. The distance-based figures
(exact copies, DCR, NNDR, membership and attribute inference) therefore compare the *modelled*
columns only (:func:`modelled_view`); generated columns count for the PII-leak figure only.

Of the generated personal columns, those of the types in :data:`CHANCE_TYPES` (names, postcodes,
birth dates) equal real values by chance (a generated "Smith" and a real "Smith"), so the
``max_pii_leaks`` limit does not count them (:func:`leak_counted_columns`); the report still lists
their leaks, column by column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from syntho_hive.core.metadata.schema import SDType, TableConfig
from syntho_hive.core.semantic.types import ALWAYS_GENERATED
from syntho_hive.validation._common import CONTINUOUS, DISCRETE

__all__ = ["CHANCE_TYPES", "compares_modelled", "declared_generated_columns", "generated_columns_of",
           "leak_counted_columns", "modelled_view"]

#: Semantic types whose generated values equal real ones by chance: not counted by ``max_pii_leaks``.
CHANCE_TYPES: frozenset[str] = frozenset({"first_name", "last_name", "full_name", "postcode", "date_of_birth"})


def declared_generated_columns(table: TableConfig | None, columns: Sequence[Any]) -> list[Any]:
    """The columns the metadata declares with a semantic type that is always generated (names,
    e-mails, phones, ... see :data:`~syntho_hive.core.semantic.types.ALWAYS_GENERATED`), restricted
    to ``columns``, in their order.

    Args:
        table: The table's metadata (``None``: no column).
        columns: The data's columns.

    Returns:
        The generated columns.
    """
    if table is None:
        return []
    declared = {c for c, t in table.semantic_types.items() if t in ALWAYS_GENERATED}
    return [c for c in columns if c in declared]


def generated_columns_of(name: str, given: Mapping[str, Sequence[Any]], table: TableConfig | None,
                         columns: Sequence[Any]) -> list[Any]:
    """A table's generated columns: those the caller gave for it, else the metadata's
    (:func:`declared_generated_columns`).

    Args:
        name: The table.
        given: ``{table: columns}`` the caller passed (``generated_columns=``).
        table: The table's metadata (``None``: none).
        columns: The data's columns.

    Returns:
        The generated columns.
    """
    return list(given[name]) if name in given else declared_generated_columns(table, columns)


def compares_modelled(types: Mapping[Any, SDType], columns: Sequence[Any], generated: Sequence[Any]) -> bool:
    """Whether a table keeps a column the distance-based figures compare once its generated columns are left
    out (numerical, datetime, categorical or boolean). Without one there is no model output to measure
    distances on: those figures are skipped and only PII leaks are counted.

    Args:
        types: ``{column: sdtype}``.
        columns: The table's columns.
        generated: Its generated columns.

    Returns:
        Whether such a column is left.
    """
    left_out = set(generated)
    return any(types.get(c) in CONTINUOUS | DISCRETE for c in columns if c not in left_out)


def leak_counted_columns(personal: Mapping[Any, str | None]) -> list[Any]:
    """The personal columns whose leaks ``max_pii_leaks`` counts: those not of a type in :data:`CHANCE_TYPES`.

    Args:
        personal: ``{column: semantic type}`` of the personal columns (``None``: type unknown, counted).

    Returns:
        The counted columns, in the order of ``personal``.
    """
    return [column for column, semantic_type in personal.items() if semantic_type not in CHANCE_TYPES]


def modelled_view(frames: Mapping[str, pd.DataFrame | None], types: Mapping[Any, SDType],
                  generated: Sequence[Any]) -> tuple[dict[str, pd.DataFrame | None], dict[Any, SDType]]:
    """``frames`` without the ``generated`` columns, and ``types`` of the columns left: what the
    distance-based figures compare.

    Args:
        frames: ``{"train": ..., "synthetic": ..., "holdout": ...}`` (a value may be ``None``).
        types: ``{column: sdtype}`` of every column.
        generated: Columns generated rather than modelled (absent ones are ignored).

    Returns:
        ``(frames, types)`` restricted to the modelled columns.
    """
    left_out = set(generated)
    kept = {name: (frame[[c for c in frame.columns if c not in left_out]] if frame is not None else None)
            for name, frame in frames.items()}
    return kept, {c: t for c, t in types.items() if c not in left_out}
