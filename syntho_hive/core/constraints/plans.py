"""The engine's plan per declaration: the derived column replacing its columns, and what decoding needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from syntho_hive.core.metadata.constraint_rules import ordered_inequalities
from syntho_hive.core.metadata.schema import SDType, TableConfig

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
    high_objects: str | None = None  # "date" / "datetime" when ``high`` is an object column of such objects
    high_marker: Any = None  # that column's null marker (None, NaN, NaT...)
    # False when the sides' ranges do not overlap: ``high`` is then modelled itself (the models keep it in its
    # range, so the order holds) and rows breaking the order are resampled; plans pickled before it had a gap
    reparametrised: bool = True


@dataclass
class _ComboPlan:
    columns: list[str]
    joint: str
    combos: pd.DataFrame | None = None
    labels: pd.Index | None = None


def inequality_plans(table: TableConfig) -> list[_InequalityPlan]:
    """An unfitted plan per inequality (gap column ``"<high>#gap"``), in decoding order.

    Raises:
        SchemaError: If the declared constraints are inconsistent (see ``ordered_inequalities``).
    """
    return [_InequalityPlan(low=q.low, high=q.high, strict=q.strict, gap=f"{q.high}{GAP_SUFFIX}")
            for q in ordered_inequalities(table)]


def gapped(inequalities: Sequence[_InequalityPlan]) -> list[_InequalityPlan]:
    """The inequalities whose ``high`` is replaced by a gap column (see ``_InequalityPlan.reparametrised``)."""
    return [q for q in inequalities if getattr(q, "reparametrised", True)]


def combo_plans(table: TableConfig) -> list[_ComboPlan]:
    """An unfitted plan per fixed-combination group (joint column ``"a#b"``), in declaration order."""
    return [_ComboPlan(columns=list(group.columns), joint=JOINT_SEPARATOR.join(group.columns))
            for group in table.fixed_combinations]
