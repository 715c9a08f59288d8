"""The engine's plan per declaration: what ``fit`` learns about each inequality and fixed combination.

A plan names the derived column that replaces its columns in the transformed table (the gap column
``"end#gap"`` of ``start <= end``, the joint column ``"city#country"`` of a fixed combination) and
holds what decoding needs (kinds, steps, dtypes, formats; the seen combinations and their labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from syntho_hive.core.metadata.constraint_rules import ordered_inequalities
from syntho_hive.core.metadata.schema import SDType, TableConfig

__all__ = ["GAP_SUFFIX", "UNPAIRED_SUFFIX", "JOINT_SEPARATOR", "MAX_DECIMALS", "inequality_plans", "combo_plans"]

GAP_SUFFIX = "#gap"
UNPAIRED_SUFFIX = "#unpaired"
JOINT_SEPARATOR = "#"
#: Most decimals a float ``high`` side is rounded back to when decoded.
MAX_DECIMALS = 12


# The plans are pickled with the engine (CTGAN/TVAE checkpoints): their names are part of the
# checkpoint format, and syntho_hive.core.constraints gives them their pickle path.
@dataclass
class _InequalityPlan:
    low: str
    high: str
    strict: bool
    gap: str
    kind: str = "numeric"  # "numeric" | "datetime"
    integer: bool = False
    decimals: int | None = None
    step_ns: int = 10**9
    unpaired: str | None = None
    high_dtype: Any = None
    high_sdtype: SDType = "numerical"
    high_format: str | None = None  # strftime format when ``high`` holds date strings
    high_string_dtype: Any = None


@dataclass
class _ComboPlan:
    columns: list[str]
    joint: str
    combos: pd.DataFrame | None = None
    labels: pd.Index | None = None


def inequality_plans(table: TableConfig) -> list[_InequalityPlan]:
    """An unfitted plan per inequality, in decoding order (a ``high`` is restored before its use as ``low``).

    Args:
        table: The table's configuration.

    Returns:
        The plans; each names its gap column ``"<high>#gap"``.

    Raises:
        SchemaError: If the declared constraints are inconsistent (see
            :func:`~syntho_hive.core.metadata.constraint_rules.ordered_inequalities`).
    """
    return [_InequalityPlan(low=q.low, high=q.high, strict=q.strict, gap=f"{q.high}{GAP_SUFFIX}")
            for q in ordered_inequalities(table)]


def combo_plans(table: TableConfig) -> list[_ComboPlan]:
    """An unfitted plan per fixed-combination group, named ``"a#b"`` after its columns.

    Args:
        table: The table's configuration.

    Returns:
        The plans, in declaration order.
    """
    return [_ComboPlan(columns=list(group.columns), joint=JOINT_SEPARATOR.join(group.columns))
            for group in table.fixed_combinations]
