"""Declared inequalities from a copied column to a modelled one, kept by modelling the gap between them.

A copied column (``orders.customer_signup``, the customer's ``signup``) is written from the generated
parent row after the table's model has drawn the row, so the model cannot keep
``customer_signup < order_date`` itself. :class:`CopyGaps` reparametrises such rules with the table's
:class:`~syntho_hive.core.constraints.ConstraintEngine`, outside the model: the model learns
``order_date``'s gap to ``customer_signup`` instead of ``order_date`` (the real rows hold both), and
generation rebuilds ``order_date`` as the copied value plus the drawn gap, once the copy is filled
(:meth:`~syntho_hive.relational.rule_plan.RulePlan.apply`). An inequality starting at a rebuilt column
(``order_date <= ship_date``) is rebuilt the same way after it. A drawn gap below zero (an engine that
leaves the training range) is clipped to the least gap the rule allows: the closest value it allows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.constraints.plans import GAP_SUFFIX
from syntho_hive.core.metadata.schema import Inequality, TableConfig
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError, SerializationError

__all__ = ["CopyGaps"]

_log = get_logger(__name__)


def _rebuilt_rules(inequalities: list[Inequality], copied: Collection[str]) -> list[Inequality]:
    """The inequalities from a copied column to one that is not, then those starting at a column they rebuild."""
    moved = [q for q in inequalities if q.low in copied and q.high not in copied]
    rebuilt = {q.high for q in moved}
    grown = True
    while grown:
        more = [q for q in inequalities if q not in moved and q.low in rebuilt]
        moved += more
        rebuilt |= {q.high for q in more}
        grown = bool(more)
    return moved


@dataclass
class CopyGaps:
    """The rebuilt columns of one table and the fitted engine that encodes and decodes them.

    Attributes:
        table: The table's rebuilt inequalities, with the sdtypes and date formats of their columns
            (what :meth:`ConstraintEngine.from_dict` needs).
        state: The fitted engine's :meth:`~syntho_hive.core.constraints.ConstraintEngine.to_dict`.
    """

    table: TableConfig
    state: dict[str, Any]
    _engine: ConstraintEngine | None = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(cls, table: TableConfig, copied: Collection[str], modelled: Collection[str],
            df: pd.DataFrame) -> "CopyGaps | None":
        """The gaps of ``table``'s inequalities from a copied column, learned on its real rows.

        Args:
            table: The table as its model sees it (declared inequalities and detected date orderings).
            copied: Its copied columns.
            modelled: The columns its model draws.
            df: Its real rows.

        Returns:
            The plan, or ``None`` when no inequality starts at a copied column.

        Raises:
            SchemaError: A rebuilt column the model does not draw (a key, a generated or unique column), or
                one with a declared bound (nothing would keep it).
            ConstraintViolationError: Real rows break a rebuilt inequality.
        """
        moved = _rebuilt_rules(list(table.inequalities), copied)
        while moved:
            rules, engine = cls._fitted_engine(table, moved, modelled, df)
            plan = cls(rules, engine.to_dict(), engine)
            # The engine keeps the later column of ranges that never overlap as it is (the rule holds within
            # the ranges the models keep): such a rule from a copy needs no rebuilding.
            unneeded = [q for q in moved if q.low in copied and not plan._derived(q.high)]
            if not unneeded:
                return plan
            moved = _rebuilt_rules([q for q in table.inequalities if q not in unneeded], copied)
        return None

    @staticmethod
    def _fitted_engine(table: TableConfig, moved: list[Inequality], modelled: Collection[str],
                       df: pd.DataFrame) -> tuple[TableConfig, ConstraintEngine]:
        """The rules ``moved`` as a table config and their engine fitted on ``df`` (see :meth:`fit`)."""
        rebuilt = [q.high for q in moved]
        for column in rebuilt:
            bounded = table.constraints.get(column)
            if column not in modelled or (bounded is not None and (bounded.min is not None or bounded.max is not None)):
                why = "has a declared bound" if column in modelled else "is not drawn by the table's model (a key, " \
                                                                        "a generated or a unique column)"
                raise SchemaError(
                    f"table {table.name!r}: the declared inequality ending at {column!r} starts at a copied column, "
                    f"so {column!r} is rebuilt from the copy plus a modelled gap; it {why}, so the rule cannot be "
                    "kept. Drop the rule or that declaration.")
        involved = list(dict.fromkeys(c for q in moved for c in (q.low, q.high)))
        rules = TableConfig(name=table.name, inequalities=moved,
                            constraints={c: k for c, k in table.constraints.items() if c in rebuilt},
                            columns={c: t for c, t in table.columns.items() if c in involved},
                            datetime_formats={c: f for c, f in table.datetime_formats.items() if c in involved})
        return rules, ConstraintEngine(rules).fit(df[involved])

    @property
    def rebuilt(self) -> list[str]:
        """The columns rebuilt from a copy (the ``high`` side of each rule)."""
        return [q.high for q in self.table.inequalities]

    def engine(self) -> ConstraintEngine:
        """The engine, built from :attr:`state` once (in memory as after a load)."""
        if self._engine is None:
            self._engine = ConstraintEngine.from_dict(self.table, self.state)
        return self._engine

    def _derived(self, column: str) -> list[str]:
        """The model's columns standing for rebuilt ``column``: its gap, then its unpaired values if any."""
        return [c for c in self.engine().derived_sdtypes if c.rpartition("#")[0] == column]

    def model_columns(self, modelled: Collection[str]) -> list[str]:
        """``modelled`` with each rebuilt column replaced by its derived columns."""
        return [d for c in modelled for d in (self._derived(c) if c in self.rebuilt else [c])]

    def model_table(self, table: TableConfig) -> TableConfig:
        """``table`` for the model: without the rebuilt rules, with the sdtypes of the derived columns."""
        moved = self.table.inequalities
        derived = self.engine().derived_sdtypes
        # The gap is a number; an unpaired column holds the rebuilt column's own values, in its format.
        formats = {d: f for c, f in self.table.datetime_formats.items() for d in self._derived(c)
                   if derived[d] != "numerical"}
        return table.model_copy(update={
            "inequalities": [q for q in table.inequalities if q not in moved],
            "constraints": {c: k for c, k in table.constraints.items() if c not in self.table.constraints},
            "columns": {**table.columns, **derived}, "datetime_formats": {**table.datetime_formats, **formats}})

    def model_input(self, rows: pd.DataFrame, real: pd.DataFrame) -> pd.DataFrame:
        """The model's training ``rows`` (its columns of the ``real`` rows) with each rebuilt column replaced by
        its derived ones, encoded from ``real`` (which holds the copies)."""
        engine = self.engine()
        encoded = engine.transform(real[engine.columns_])
        return pd.DataFrame({c: encoded[c] if c in encoded.columns else rows[c]
                             for c in self.model_columns(rows.columns)}, index=rows.index)

    def rebuild(self, frame: pd.DataFrame) -> None:
        """Decode the rebuilt columns of generated rows whose copies are filled, in place (derived columns
        dropped). A gap below zero is clipped to the least gap the rule allows (logged): zero, which the engine
        decodes to one step above for a strict rule over whole numbers or dates; for a strict rule over decimal
        numbers, one unit of the column's decimals (or the next float) above its lower side."""
        engine = self.engine()
        derived = list(engine.derived_sdtypes)
        for q in self.table.inequalities:
            gap = frame[f"{q.high}{GAP_SUFFIX}"].to_numpy(dtype=np.float64, na_value=np.nan)
            below = gap < 0
            if below.any():
                _log.info("copy_gaps_clipped", table=self.table.name, column=q.high, rows=int(below.sum()),
                          reason="the model drew a gap below zero; the column is set to the closest value the "
                                 f"rule allows over {q.low!r}")
                frame[f"{q.high}{GAP_SUFFIX}"] = np.where(below, 0.0, gap)
        # A zero gap decodes to the lower side itself: a strict rule over decimals needs the least gap above it,
        # which depends on the lower side's value, so it is set once that side is decoded (rules in order).
        steps = {s["high"]: s["decimals"] for s in self.state["inequalities"]
                 if s["strict"] and s["kind"] == "numeric" and not s["integer"]}
        columns = [c for c in engine.columns_ if c not in self.rebuilt] + derived
        restored = engine.reverse_transform(frame[columns])
        for q in [q for q in self.table.inequalities if q.high in steps]:
            low = (restored if q.low in self.rebuilt else frame)[q.low].to_numpy(dtype=np.float64, na_value=np.nan)
            tied = restored[q.high].to_numpy(dtype=np.float64, na_value=np.nan) <= low
            if tied.any():
                least = np.nextafter(low, np.inf) - low if steps[q.high] is None else 10.0 ** -steps[q.high]
                gap = np.log1p(least)
                gap = np.where(np.expm1(gap) < least, np.nextafter(gap, np.inf), gap)
                frame[f"{q.high}{GAP_SUFFIX}"] = np.where(tied, gap, frame[f"{q.high}{GAP_SUFFIX}"])
                restored = engine.reverse_transform(frame[columns])
        for column in self.rebuilt:
            frame[column] = restored[column]
        frame.drop(columns=derived, inplace=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"table": self.table.model_dump(mode="json"), "state": self.state}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> "CopyGaps":
        """Inverse of :meth:`to_dict` (the engine is rebuilt now, so a corrupt one fails the load).

        Raises:
            SerializationError: Malformed state.
        """
        try:
            plan = cls(TableConfig.model_validate(data["table"]), dict(data["state"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(f"Saved rebuilt columns of {where} are corrupt ({type(exc).__name__}: {exc}); "
                                     "save the synthesizer again.") from exc
        plan.engine()
        return plan
