"""Violation checks: which rows of a frame break a table's declared constraints, and how to say so.

Each declared ``min``/``max`` bound, ``Constraint(dtype="int")`` and inequality becomes a
:class:`Rule`: a row mask with a message naming the column, the bound, the number of offending
rows and up to 5 examples. Nulls never violate a bound or an inequality. Fixed combinations are
not checked here: only the combinations seen at fit are allowed, which the constraint engine
knows once fitted.
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

__all__ = ["Rule", "examples", "declared_rules", "violation_errors", "find_violations"]

_MAX_EXAMPLES = 5


@dataclass
class Rule:
    """One constraint as a violation mask over the rows of a frame.

    Attributes:
        column: The constrained column (``"low <= high"`` for an inequality).
        message: The message for :class:`ConstraintViolationError`, with ``{count}`` and
            ``{examples}`` left to fill.
        mask: ``True`` where a row violates the constraint.
        examples: Up to 5 offending values (tuples for several columns).
    """

    column: str
    message: str
    mask: np.ndarray
    examples: list[Any]


def _scalar(value: Any) -> Any:
    """A plain Python value for messages/examples."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def examples(values: pd.Series | pd.DataFrame, mask: np.ndarray) -> list[Any]:
    """Up to 5 of the values picked by ``mask``, as plain Python values.

    Args:
        values: A column, or several (each example is then a tuple).
        mask: Boolean row mask.

    Returns:
        The first picked values, in row order.
    """
    picked = values[mask].iloc[:_MAX_EXAMPLES]
    if isinstance(picked, pd.DataFrame):
        return [tuple(_scalar(v) for v in row) for row in picked.itertuples(index=False)]
    return [_scalar(v) for v in picked.tolist()]


def declared_rules(values: ValueReader, inequalities: Sequence[Comparison], df: pd.DataFrame,
                   context: str) -> list[Rule]:
    """Every declared bound, integer dtype and inequality as a violation mask over ``df``.

    Args:
        values: Reads the table's columns (its ``table`` holds the declarations).
        inequalities: The table's inequalities in decoding order.
        df: Rows holding every constrained column.
        context: Where the rows come from, for the messages (e.g. ``"training data"``).

    Returns:
        One :class:`Rule` per bound side, integer dtype and inequality, in that order per column.

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
    """One error per rule that some row breaks.

    Args:
        rules: Rules over the same rows.

    Returns:
        A :class:`ConstraintViolationError` (message, column, count, examples) per broken rule,
        in rule order.
    """
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
    """Every violated bound, integer dtype and inequality of ``df``, as one error each.

    Args:
        values: Reads the table's columns (its ``table`` holds the declarations).
        inequalities: The table's inequalities in decoding order.
        df: Rows to check.
        context: Where the rows come from, for the messages (e.g. ``"training data"``).

    Returns:
        One :class:`ConstraintViolationError` per violated constraint (nothing is raised).

    Raises:
        SchemaError: If ``df`` lacks a constrained column or a constraint does not fit the
            column's type.
    """
    require_columns(df, required_columns(values.table, inequalities), context[:1].upper() + context[1:],
                    values.where)
    return violation_errors(declared_rules(values, inequalities, df, context))
