"""The disclosure options of :func:`~syntho_hive.validation.evaluate.evaluate`: per-table column lists
(``sensitive_columns``, ``quasi_identifiers``, ``pii_columns``, ``generated_columns``), checked before any
metric runs, and
the merge of a :class:`DisclosureResult` into a :class:`PrivacyResult`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from syntho_hive.core.metadata.schema import SDType
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation.attribute_inference import attack_columns
from syntho_hive.validation.disclosure import DisclosureResult
from syntho_hive.validation.privacy import PrivacyResult

__all__ = ["ColumnLists", "column_lists", "check_disclosure_columns", "with_disclosure"]

#: Column names for one table, or ``{table: column names}`` (``sensitive_columns``, ...).
ColumnLists = Sequence[Any] | Mapping[str, Sequence[Any]] | None


def column_lists(value: ColumnLists, label: str, tables: Mapping[str, pd.DataFrame],
                 single: bool) -> dict[str, list[Any]]:
    """``{table: [columns]}`` from a list (one table) or a per-table mapping of ``value``."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - set(tables))
        if unknown:
            raise SchemaError(f"{label} names unknown table(s) {unknown}; tables: {sorted(tables)}.")
        lists = {str(t): [columns] if isinstance(columns, str) else columns for t, columns in value.items()}
    elif isinstance(value, Sequence):
        if not single and len(tables) > 1:
            raise SchemaError(f"With several tables, give {label} as {{table: [columns]}}.")
        lists = {next(iter(tables)): value}
    else:
        raise SchemaError(f"{label} must be a list of column names or {{table: [columns]}}, got "
                          f"{type(value).__name__}.")
    for table, columns in lists.items():
        if isinstance(columns, str) or not isinstance(columns, Sequence):
            raise SchemaError(f"{label} of table {table!r} must be a list of column names, got "
                              f"{type(columns).__name__}.")
        unknown = [c for c in columns if c not in tables[table].columns]
        if unknown:
            raise SchemaError(f"{label} names column(s) {unknown} that table {table!r} lacks; its columns: "
                              f"{list(map(str, tables[table].columns))}.")
    return {table: list(columns) for table, columns in lists.items()}


def check_disclosure_columns(name: str, frame: pd.DataFrame, types: Mapping[str, SDType],
                             columns: Mapping[str, Mapping[str, list[Any]]], generated: Sequence[Any] = ()) -> None:
    """Refuse unusable sensitive / quasi-identifier columns before any metric runs (a generated column
    holds no training value: the attacks compare the modelled columns only)."""
    sensitive = columns["sensitive_columns"].get(name)
    quasi = columns["quasi_identifiers"].get(name)
    if quasi is not None and not sensitive:
        raise SchemaError(f"quasi_identifiers are given for table {name!r} but no sensitive_columns; name the "
                          "columns an attacker would try to infer.")
    named = [c for c in [*(sensitive or []), *(quasi or [])] if c in set(generated)]
    if named:
        raise SchemaError(f"Table {name!r}: column(s) {named} are generated, not modelled (no training value is in "
                          "them), so no attack can infer or use them; drop them from sensitive_columns / "
                          "quasi_identifiers.")
    if sensitive:
        try:
            attack_columns(frame.drop(columns=[c for c in generated if c in frame.columns]), types, sensitive, quasi)
        except SchemaError as exc:
            raise SchemaError(f"Table {name!r}: {exc}") from exc


def with_disclosure(result: PrivacyResult, disclosure: DisclosureResult) -> PrivacyResult:
    """``result`` with the disclosure figures and details filled in."""
    return replace(
        result, disclosure=disclosure,
        membership_inference_auc=disclosure.membership.auc if disclosure.membership is not None else None,
        attribute_inference_risk=(disclosure.attribute_inference.max_risk
                                  if disclosure.attribute_inference is not None else None),
        pii_value_leaks=disclosure.pii.total_leaked_values, real_rows_reproduced=disclosure.pii.real_rows_reproduced)
