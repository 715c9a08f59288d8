"""Violation checks: which rows of a frame break a table's declared constraints, and how to say so.

Each declared ``min``/``max`` bound, ``Constraint(dtype="int")`` and inequality becomes a :class:`Rule`.
Nulls never violate a bound or an inequality. Fixed combinations are checked by the constraint engine,
which knows the combinations seen at fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.metadata.constraint_rules import Comparison, require_columns, required_columns
from syntho_hive.core.metadata.constraint_values import ValueReader, float_values, is_numeric
from syntho_hive.exceptions import ConstraintViolationError

_MAX_EXAMPLES = 5


@dataclass
class Rule:
    """One constraint as a violation ``mask`` (``True``: the row breaks it) over the rows of a frame.

    ``column`` is the constrained column (``"low <= high"`` for an inequality), ``message`` the message
    for :class:`ConstraintViolationError` with ``{count}`` and ``{examples}`` left to fill, ``examples``
    up to 5 offending values (tuples for several columns).
    """

    column: str
    message: str
    mask: np.ndarray
    examples: list[Any]


def _scalar(value: Any) -> Any:
    """A plain Python value for messages/examples."""
    return value.item() if isinstance(value, np.generic) else value


def examples(values: pd.Series | pd.DataFrame, mask: np.ndarray) -> list[Any]:
    """Up to 5 of the values picked by ``mask`` in row order, as plain Python values (tuples for a frame)."""
    picked = values[mask].iloc[:_MAX_EXAMPLES]
    if isinstance(picked, pd.DataFrame):
        return [tuple(_scalar(v) for v in row) for row in picked.itertuples(index=False)]
    return [_scalar(v) for v in picked.tolist()]


def declared_rules(values: ValueReader, inequalities: Sequence[Comparison], df: pd.DataFrame,
                   context: str) -> list[Rule]:
    """A :class:`Rule` per declared bound side, integer dtype and inequality (in decoding order) over ``df``.

    Raises:
        SchemaError: If a constraint does not fit its column's type.
    """
    rules: list[Rule] = []
    for column, constraint in values.table.constraints.items():
        series = df[column]
        for side, bound in (("min", constraint.min), ("max", constraint.max)):
            if bound is None:
                continue
            compared, limit = values.bound_values(series, column, bound, side)
            cmp = (compared < limit) if side == "min" else (compared > limit)
            mask = np.asarray(pd.Series(cmp).fillna(False), dtype=bool)
            word = "below" if side == "min" else "above"
            rules.append(Rule(
                column, f"{context}: column {column!r} has {{count}} value(s) {word} the "
                f"declared {side}={bound!r} (examples: {{examples}}). Fix or drop these rows, "
                f"or relax Constraint({side}=...) for {column!r}.", mask,
                examples(series, mask)))
        if constraint.dtype == "int" and is_numeric(series):
            numbers = float_values(series)
            with np.errstate(invalid="ignore"):
                mask = np.isfinite(numbers) & (np.floor(numbers) != numbers)
            mask |= np.isinf(numbers)
            rules.append(Rule(
                column, f"{context}: column {column!r} is declared Constraint(dtype='int') "
                "but has {count} non-integral value(s) (examples: {examples}). Round the "
                "column or declare dtype='float'.", mask, examples(series, mask)))
    for q in inequalities:
        low, high = df[q.low], df[q.high]
        both = low.notna().to_numpy() & high.notna().to_numpy()
        if values.pair_kind(low, high, q) == "numeric":
            lo, hi = float_values(low), float_values(high)
        else:
            lo, hi = values.datetime_pair(low, high, q)
        bad = (hi <= lo) if q.strict else (hi < lo)
        mask = both & np.asarray(pd.Series(bad).fillna(False), dtype=bool)
        op = "<" if q.strict else "<="
        rules.append(Rule(
            f"{q.low} {op} {q.high}", f"{context}: {{count}} row(s) violate the inequality "
            f"{q.low} {op} {q.high} (examples ({q.low}, {q.high}): {{examples}}). Fix or drop "
            "these rows, or remove the Inequality.", mask,
            examples(df[[q.low, q.high]], mask)))
    return rules


def violation_errors(rules: Sequence[Rule]) -> list[ConstraintViolationError]:
    """A :class:`ConstraintViolationError` (message, column, count, examples) per rule some row breaks."""
    errors = []
    for rule in rules:
        count = int(rule.mask.sum())
        if count:
            errors.append(ConstraintViolationError(
                rule.message.format(count=count, examples=rule.examples),
                column=rule.column, count=count, examples=rule.examples))
    return errors


def find_violations(values: ValueReader, inequalities: Sequence[Comparison], df: pd.DataFrame, *,
                    context: str) -> list[ConstraintViolationError]:
    """Every violated bound, integer dtype and inequality of ``df``, as one error each (nothing is raised).

    Raises:
        SchemaError: If ``df`` lacks a constrained column or a constraint does not fit the column's type.
    """
    require_columns(df, required_columns(values.table, inequalities), context[:1].upper() + context[1:],
                    values.where)
    return violation_errors(declared_rules(values, inequalities, df, context))
