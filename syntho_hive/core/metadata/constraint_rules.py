"""Structural rules of a table's declared constraints (no values): valid layouts and the columns they need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from syntho_hive.exceptions import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata.schema import Inequality, TableConfig


class Comparison(Protocol):
    """An inequality ``low <= high`` (``<`` when ``strict``): a declaration or a plan made from one."""

    low: str
    high: str
    strict: bool


def _layout_problems(table: TableConfig) -> list[str]:
    """What is wrong with the layout of the table's inequalities and fixed combinations."""
    problems: list[str] = []
    highs: dict[str, int] = {}
    for ineq in table.inequalities:
        if ineq.low == ineq.high:
            problems.append(f"Inequality {ineq.low} <= {ineq.high} compares a column with itself")
        highs[ineq.high] = highs.get(ineq.high, 0) + 1
    problems += [
        f"column {col!r} is the 'high' side of {n} inequalities; keep one and chain the "
        "others (a <= b, b <= c)" for col, n in highs.items() if n > 1
    ]
    seen: dict[str, int] = {}
    for i, group in enumerate(table.fixed_combinations):
        if len(set(group.columns)) != len(group.columns):
            problems.append(f"FixedCombinations {group.columns} repeats a column")
        for col in group.columns:
            if col in seen and seen[col] != i:
                problems.append(f"column {col!r} belongs to two FixedCombinations groups; merge them")
            seen[col] = i
    in_ineq = {c for q in table.inequalities for c in (q.low, q.high)}
    problems += [
        f"column {col!r} is in both a FixedCombinations group and an Inequality; "
        "remove one of them" for col in sorted(in_ineq & set(seen))
    ]
    return problems


def ordered_inequalities(table: TableConfig) -> list[Inequality]:
    """Check the layout of the declared constraints; the inequalities in decoding order.

    In decoding order a column's ``high`` side is restored before the column is used as the
    ``low`` side of another inequality (``a <= b, b <= c``: first ``b``, then ``c``).

    Raises:
        SchemaError: If the layout is invalid (a column compared with itself, on the ``high`` side of
            two inequalities, in two fixed combinations or in a combination and an inequality: every
            problem at once), or else if the inequalities form a cycle.
    """
    where = f"table {table.name!r}"
    problems = _layout_problems(table)
    if problems:
        raise SchemaError(f"Invalid constraints for {where}: " + "; ".join(problems) + ".")
    pending = list(table.inequalities)
    ordered: list[Inequality] = []
    while pending:
        pending_highs = {q.high for q in pending}
        ready = [q for q in pending if q.low not in pending_highs]
        if not ready:
            cycle = ", ".join(f"{q.low} <= {q.high}" for q in pending)
            raise SchemaError(f"Invalid constraints for {where}: the inequalities {cycle} form a cycle; remove one "
                              "of them.")
        ordered.extend(ready)
        pending = [q for q in pending if q not in ready]
    return ordered


def required_columns(table: TableConfig, inequalities: Sequence[Comparison]) -> list[str]:
    """Every column the constraints name, once: bounded/typed ones, inequality sides, combination members."""
    cols = list(table.constraints)
    for q in inequalities:
        cols += [q.low, q.high]
    for group in table.fixed_combinations:
        cols += group.columns
    return list(dict.fromkeys(cols))


def require_columns(df: pd.DataFrame, columns: Sequence[str], what: str, where: str) -> None:
    """Raise :class:`SchemaError` unless ``df`` is a DataFrame holding ``columns``.

    ``what`` names the frame (``"Training data"``), ``where`` the table (``"table 'orders'"``; appended to
    ``what`` unless already in it).
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"Constraints of {where} need a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        place = what if where in what else f"{what} of {where}"
        raise SchemaError(f"{place} lacks column(s) {missing} used by its constraints; add them to the data or "
                          "remove the constraints that name them.")
