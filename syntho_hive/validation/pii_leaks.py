"""PII leaks: synthetic values equal to a real PII value, and real rows reproduced whole.

* **PII value leaks**, per declared PII column: how many non-null synthetic values equal some real
  value of the column, compared as text after normalisation (case folded, every whitespace
  character removed, so ``"Ann  Lee "`` and ``"annlee"`` or ``"+1 555 0100"`` and ``"+15550100"``
  are one value; ``1.0`` and ``1`` alike). A generator
  that makes PII values up from scratch should leak none, except common values that coincide by
  chance (a frequent first name): the report names each column so such cases can be judged.
* **Whole-row reproduction**: real rows that some synthetic row repeats on every compared column:
  every column except ``id`` columns (keys are regenerated), ``text`` and PII columns included.
  This is stricter than the exact-copy rate of :mod:`.privacy`, which compares the modelled
  (numerical, datetime, categorical, boolean) columns only.

Every row is compared (hashing), no sampling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.metadata.schema import SDType, TableConfig
from syntho_hive.core.semantic.types import ALWAYS_GENERATED
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation._common import FieldsDict, category_text, check_columns, resolve_sdtypes
from syntho_hive.validation._distances import row_keys

__all__ = ["PiiLeakColumn", "PiiLeakResult", "pii_value_leaks", "declared_pii_columns", "normalise_pii"]


@dataclass(frozen=True)
class PiiLeakColumn:
    """Leaks of one PII column.

    Attributes:
        column: The column.
        n_synthetic_values: Non-null, non-blank synthetic values.
        leaked_values: Of those, values equal to a real value of the column (0 ideal).
        leak_share: ``leaked_values / n_synthetic_values`` (0 when there is no value).
        distinct_real_values_leaked: Distinct real values that appear in the synthetic data.
    """

    column: str
    n_synthetic_values: int
    leaked_values: int
    leak_share: float
    distinct_real_values_leaked: int


@dataclass(frozen=True)
class PiiLeakResult(FieldsDict):
    """PII value leaks and whole-row reproduction of one table.

    Attributes:
        columns: Per PII column, its :class:`PiiLeakColumn` (empty when none is declared).
        total_leaked_values: Sum of ``leaked_values`` over the columns.
        real_rows_reproduced: Real rows repeated whole by some synthetic row.
        synthetic_rows_reproducing: Synthetic rows equal whole to some real row.
        row_columns: Columns compared for whole rows (every non-id column).
    """

    columns: dict[str, PiiLeakColumn]
    total_leaked_values: int
    real_rows_reproduced: int
    synthetic_rows_reproducing: int
    row_columns: list[str]


def normalise_pii(series: pd.Series) -> pd.Series:
    """Non-null values as comparable text: case folded, every whitespace character removed; blank values
    (``""``, spaces) are left out, as nulls are: they disclose nothing, and a blank synthetic value would
    otherwise count as a leak of every blank real one."""
    text = category_text(series[series.notna()], "").str.replace(r"\s+", "", regex=True).str.casefold()
    return text[text != ""]


def declared_pii_columns(table: TableConfig | None, columns: Sequence[Any]) -> list[Any]:
    """PII columns the metadata declares for a table: ``pii_cols`` and the columns whose declared
    semantic type is always generated (names, e-mails, phones, ... see
    :data:`~syntho_hive.core.semantic.types.ALWAYS_GENERATED`), restricted to ``columns``.

    Args:
        table: The table's metadata (``None``: no column).
        columns: The data's columns.

    Returns:
        The PII columns, in the data's column order.
    """
    if table is None:
        return []
    declared = set(table.pii_cols) | {c for c, t in table.semantic_types.items() if t in ALWAYS_GENERATED}
    return [c for c in columns if c in declared]


def pii_value_leaks(real: pd.DataFrame, synthetic: pd.DataFrame, pii_columns: Sequence[Any] = (),
                    sdtypes: Mapping[str, SDType] | None = None) -> PiiLeakResult:
    """Count synthetic PII values equal to a real value, and real rows reproduced whole.

    Args:
        real: The real rows the generator learned from.
        synthetic: The synthetic rows.
        pii_columns: Columns holding personal data (may be empty: whole rows are still compared).
        sdtypes: ``{column: sdtype}``; missing columns are detected (``id`` columns are left out
            of the whole-row comparison).

    Returns:
        A :class:`PiiLeakResult`.

    Raises:
        SchemaError: If columns are missing, a table is empty, or a PII column is not in the data.
    """
    check_columns(real, synthetic, what="PII leak check")
    unknown = [c for c in pii_columns if c not in real.columns]
    if unknown:
        raise SchemaError(f"PII column(s) {unknown} are not in the data; its columns: {list(map(str, real.columns))}.")
    columns: dict[str, PiiLeakColumn] = {}
    for column in dict.fromkeys(pii_columns):
        real_values = set(normalise_pii(real[column]))
        synthetic_values = normalise_pii(synthetic[column])
        leaked = synthetic_values.isin(real_values).to_numpy()
        n = len(synthetic_values)
        columns[str(column)] = PiiLeakColumn(
            column=str(column), n_synthetic_values=n, leaked_values=int(leaked.sum()),
            leak_share=float(leaked.mean()) if n else 0.0,
            distinct_real_values_leaked=len(real_values & set(synthetic_values[leaked])))
    types = resolve_sdtypes(real, sdtypes)
    row_columns = [c for c in real.columns if types[c] != "id"]
    reproduced = reproducing = 0
    if row_columns:
        real_keys, synthetic_keys = row_keys(real, types, row_columns), row_keys(synthetic, types, row_columns)
        reproduced = int(np.isin(real_keys, synthetic_keys).sum())
        reproducing = int(np.isin(synthetic_keys, real_keys).sum())
    return PiiLeakResult(columns=columns, total_leaked_values=sum(c.leaked_values for c in columns.values()),
                         real_rows_reproduced=reproduced, synthetic_rows_reproducing=reproducing,
                         row_columns=[str(c) for c in row_columns])
