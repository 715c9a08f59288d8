"""The constraint engine of one table: checks, reparametrises and restores its declared constraints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.constraints.fitting import fit_combo, fit_inequality, published_bounds
from syntho_hive.core.constraints.plans import JOINT_SEPARATOR, _ComboPlan, combo_plans, gapped, inequality_plans
from syntho_hive.core.constraints.reparametrise import (
    apply_dtype,
    combo_index,
    derived_columns,
    derived_sdtypes,
    restore_frame,
    transform_frame,
)
from syntho_hive.core.constraints.state import restore_state, state_to_dict
from syntho_hive.core.metadata.constraint_checks import (
    Rule,
    declared_rules,
    examples,
    find_violations,
    violation_errors,
)
from syntho_hive.core.metadata.constraint_rules import require_columns, required_columns
from syntho_hive.core.metadata.constraint_values import ValueReader
from syntho_hive.core.metadata.schema import SDType, TableConfig
from syntho_hive.exceptions import ConstraintViolationError, GenerationError, NotFittedError, TrainingError


class ConstraintEngine:
    """Checks, reparametrises and restores the declared constraints of one table.

    Args:
        table: The table's configuration (``constraints``, ``inequalities``,
            ``fixed_combinations``).

    Attributes (set by :meth:`fit`):
        derived_sdtypes: sdtypes of the columns created by :meth:`transform`
            (joint columns ``"categorical"``, gap columns ``"numerical"``, unpaired columns
            the sdtype of the column they carry).
        bounds: Declared ``(min, max)`` per column of the transformed table that the
            transformer must keep in range by reparametrisation: floats for numeric columns,
            ``pd.Timestamp`` (in the column's timezone) for datetime columns; gap columns get
            ``(0.0, None)``. Bounds on a column replaced by a gap or a joint column are not
            listed: rows breaking them are rejected by :meth:`is_valid` (resampling).
        datetime_bounds: The datetime entries of ``bounds``.
        dtypes: Declared ``Constraint.dtype`` per column, applied by :meth:`reverse_transform`.

    Raises:
        SchemaError: If the declared constraints are inconsistent (a column is the ``high``
            side of two inequalities, the inequalities form a cycle, a column belongs to two
            fixed combinations, or to a fixed combination and an inequality).
    """

    # The instance attributes are pickled with CTGAN/TVAE checkpoints: keep their names and order.
    def __init__(self, table: TableConfig) -> None:
        self.table = table
        self._inequalities = inequality_plans(table)
        self._combos = combo_plans(table)
        self.dtypes: dict[str, str] = {col: c.dtype for col, c in table.constraints.items() if c.dtype is not None}
        self.derived_sdtypes: dict[str, SDType] = {}
        self.bounds: dict[str, tuple[float | None, float | None]] = {}
        self.datetime_bounds: dict[str, tuple[pd.Timestamp | None, pd.Timestamp | None]] = {}
        self.columns_: list[str] = []
        self._formats: dict[str, str | None] = {}
        self._fitted = False

    @property
    def _where(self) -> str:
        return f"table {self.table.name!r}"

    def _values(self) -> ValueReader:
        """Reads this table's columns, with the date formats settled so far."""
        return ValueReader(self.table, self._formats)

    def _require_fitted(self) -> None:
        if not self._fitted:
            raise NotFittedError(f"The ConstraintEngine of {self._where} is not fitted; call fit(data) first.")

    def _combo_rules(self, df: pd.DataFrame, context: str) -> list[Rule]:
        """Rows whose fixed combination was not seen at fit (none before :meth:`fit`)."""
        if not self._fitted:
            return []
        rules = []
        for plan in self._combos:
            mask = combo_index(plan, df) < 0
            rules.append(Rule(
                JOINT_SEPARATOR.join(plan.columns), f"{context}: {{count}} row(s) have a "
                f"combination of {plan.columns} not held (examples: {{examples}}): only combinations seen in "
                "training are, and a model's only those seen rare_threshold times (rarer ones are protected).", mask,
                examples(df[plan.columns], mask)))
        return rules

    def find_violations(self, df: pd.DataFrame, *, context: str = "data") -> list[ConstraintViolationError]:
        """Every violated constraint, as one error each (nothing is raised).

        Works before :meth:`fit` too (fixed combinations are then not checked).

        Args:
            df: Rows to check.
            context: Where the rows come from, for the messages (e.g. ``"training data"``).

        Returns:
            One :class:`ConstraintViolationError` per violated constraint.

        Raises:
            SchemaError: If ``df`` lacks a constrained column or a constraint does not fit
                the column's type.
        """
        errors = find_violations(self._values(), self._inequalities, df, context=context)
        return errors + violation_errors(self._combo_rules(df, context))

    def check(self, df: pd.DataFrame, *, context: str) -> None:
        """Raise when ``df`` violates a constraint.

        Args:
            df: Rows to check (untransformed columns).
            context: Where the rows come from, e.g. ``"training data of table 'people'"``.

        Raises:
            ConstraintViolationError: The first violated constraint in ``column``/``count``/
                ``examples``; the message lists every violated constraint.
            SchemaError: If ``df`` lacks a constrained column.
        """
        errors = self.find_violations(df, context=context)
        if not errors:
            return
        if len(errors) == 1:
            raise errors[0]
        first = errors[0]
        message = f"{len(errors)} constraints are violated:\n" + "\n".join(f"  - {err}" for err in errors)
        raise ConstraintViolationError(message, column=first.column, count=first.count,
                                       examples=first.examples)

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        """Row mask: ``True`` where a row satisfies every constraint.

        Nulls never violate a bound or an inequality. Fixed combinations are checked once
        the engine is fitted.

        Args:
            df: Rows in the original (untransformed) columns.

        Returns:
            A boolean array of length ``len(df)``.

        Raises:
            SchemaError: If ``df`` lacks a constrained column.
        """
        require_columns(df, required_columns(self.table, self._inequalities), "Data", self._where)
        valid = np.ones(len(df), dtype=bool)
        for rule in declared_rules(self._values(), self._inequalities, df, "data") + self._combo_rules(df, "data"):
            valid &= ~rule.mask
        return valid

    def fit(self, df: pd.DataFrame) -> ConstraintEngine:
        """Check the training data and learn what the reparametrisation needs.

        Args:
            df: The training table.

        Returns:
            ``self``.

        Raises:
            ConstraintViolationError: If the data violates a declared constraint (names the
                column, the bound, the number of offending rows and up to 5 examples).
            SchemaError: If a constrained column is missing or has an unsuitable type.
        """
        context = f"training data of {self._where}"
        self._fitted = False
        self._formats = {}
        self.check(df, context=context)
        self.columns_ = [str(c) for c in df.columns]
        for plan in self._combos:
            fit_combo(plan, df)
        decoded: set[str] = set()  # highs decoded from a gap, so far (plans in decoding order)
        for q in self._inequalities:
            fit_inequality(q, df, self._values(), decoded)
            if q.reparametrised:
                decoded.add(q.high)
        self.derived_sdtypes = derived_sdtypes(gapped(self._inequalities), self._combos)
        self.bounds, self.datetime_bounds = published_bounds(df, self._inequalities, self._combos, self._values())
        self._fitted = True
        return self

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Reparametrise ``df`` so that any model output decodes into valid rows.

        Args:
            df: Rows in the original columns (normally the training data).

        Returns:
            A new DataFrame: each fixed-combination group replaced (at its first member's
            position) by its joint column, each inequality's ``high`` replaced by its gap
            column (followed by its unpaired column when one was learned) unless the two sides'
            ranges did not overlap at fit; other columns untouched.

        Raises:
            NotFittedError: Before :meth:`fit`.
            ConstraintViolationError: If ``df`` violates a constraint.
        """
        self._require_fitted()
        self.check(df, context=f"data transformed for {self._where}")
        return transform_frame(df, gapped(self._inequalities), self._combos, self._values())

    def reverse_transform(self, df: pd.DataFrame, *, copy: bool = True) -> pd.DataFrame:
        """Map a transformed table (or a model's output in that space) back to the original.

        Exact inverse of :meth:`transform` on valid data. Restores column names, order and
        dtypes, and applies the declared ``Constraint.dtype``.

        Args:
            df: A frame with the columns produced by :meth:`transform`.
            copy: ``False`` lets a table without derived columns share ``df``'s columns (for a
                caller that owns ``df``, such as decoding); the result is otherwise independent.

        Returns:
            The frame in the original columns, in the fitted column order (columns unknown at
            fit are kept at the end).

        Raises:
            NotFittedError: Before :meth:`fit`.
            SchemaError: If a derived column is missing.
            GenerationError: If a joint column holds a label that is not a seen combination.
        """
        self._require_fitted()
        needed = derived_columns(gapped(self._inequalities), self._combos)
        require_columns(df, needed, "Transformed data", self._where)
        if not needed and list(df.columns) == list(self.columns_):
            result = df.copy(deep=copy)  # nothing derived to map back: no frame to rebuild
        else:
            result = restore_frame(df, needed, gapped(self._inequalities), self._combos, self.columns_,
                                   self._values())
        for column, dtype in self.dtypes.items():
            if column in result.columns:
                result[column] = apply_dtype(result[column], column, dtype)
        return result

    def joint_column_of(self, column: str) -> str | None:
        """The joint column that replaced ``column``, or ``None`` if it was not replaced."""
        plan = next((plan for plan in self._combos if column in plan.columns), None)
        return None if plan is None else plan.joint

    def joint_labels_for(self, column: str, value: Any) -> list[str]:
        """Joint-column categories whose combination has ``column == value``.

        Lets a caller turn a condition on a member column (``{"city": "NY"}``) into a
        condition on the joint column.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: If ``column`` is not in a fixed combination, or no kept combination has
                ``column == value``.
        """
        plan = self._fitted_combo_of(column)
        assert plan.combos is not None and plan.labels is not None
        members = plan.combos[column]
        match = members.isna() if pd.isna(value) else (members == value)
        labels = [str(v) for v in plan.labels[np.asarray(match.fillna(False), bool)]]
        if not labels:
            raise GenerationError(f"Cannot condition on {column}={value!r}: no combination of {plan.columns} the "
                                  "model may generate holds it (the value never occurs in the training data, or "
                                  "only in combinations seen fewer than rare_threshold times, which are protected).")
        return labels

    def transform_training(self, data: pd.DataFrame, rare_threshold: int) -> pd.DataFrame:
        """:meth:`transform` the training rows, then forget the fixed combinations they hold fewer than
        ``rare_threshold`` times.

        A rarer combination's joint category is protected like any rare value (never generated), so the
        engine's state, saved with the model, keeps only the combinations a generated row may hold.

        Args:
            data: The rows :meth:`fit` saw.
            rare_threshold: The model's least count of a value that may be shown (``1`` keeps all).

        Returns:
            The transformed rows (rare combinations' labels included, for the model to pool).

        Raises:
            TrainingError: A group none of whose combinations is seen ``rare_threshold`` times: no
                generated row could hold a seen one.
        """
        transformed = self.transform(data)
        for plan in self._combos:
            assert plan.combos is not None and plan.labels is not None
            index = combo_index(plan, data)
            frequent = np.bincount(index[index >= 0], minlength=len(plan.combos)) >= rare_threshold
            if not frequent.any():
                raise TrainingError(
                    f"Fixed combination {plan.columns} of {self._where}: no combination of these columns is seen "
                    f"rare_threshold={rare_threshold} times, and rare combinations are never shown, so no generated "
                    "row could hold a seen one. Lower the model's rare_threshold, or drop the fixed combination.")
            plan.combos = plan.combos[frequent].reset_index(drop=True)
            plan.labels = plan.labels[frequent]
        return transformed

    def combinations(self, column: str) -> pd.DataFrame:
        """The combinations seen at fit of the fixed-combination group holding ``column``.

        Args:
            column: A member column of a :class:`FixedCombinations` group.

        Returns:
            A copy: one row per combination, in order of first appearance in the training
            data, with the group's columns in their training dtypes.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: If ``column`` is not in a fixed combination.
        """
        plan = self._fitted_combo_of(column)
        assert plan.combos is not None
        return plan.combos.copy()

    def _fitted_combo_of(self, column: str) -> _ComboPlan:
        """The fitted fixed-combination group holding ``column``.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: If ``column`` is not in a fixed combination.
        """
        self._require_fitted()
        plan = next((plan for plan in self._combos if column in plan.columns), None)
        if plan is None:
            raise GenerationError(f"Column {column!r} of {self._where} is not part of a FixedCombinations group.")
        return plan

    def to_dict(self) -> dict[str, Any]:
        """What :meth:`fit` learned, as strict-JSON plain data (``json.dumps(allow_nan=False)``).

        Holds, per inequality, its kind, integer flag or decimals, datetime step, unpaired
        column, dtypes and date format; per fixed-combination group, its seen combinations
        and their labels (like any categorical column, these are values of the data); the
        published bounds (timestamps as ISO strings with their timezone) and the date formats.
        No other value of the training data is kept. The declarations themselves are not
        included: :meth:`from_dict` takes the table.

        Returns:
            A dict of JSON types only.

        Raises:
            NotFittedError: Before :meth:`fit`.
            SerializationError: If a learned dtype or a fixed-combination value cannot be
                stored as JSON (e.g. ``Decimal`` objects; the message names the column).
        """
        self._require_fitted()
        return state_to_dict(self)

    @classmethod
    def from_dict(cls, table: TableConfig, data: Mapping[str, Any]) -> ConstraintEngine:
        """A fitted engine from :meth:`to_dict`'s output, behaving exactly like the one saved.

        Args:
            table: The same table configuration the saved engine was built with.
            data: The output of :meth:`to_dict` (after a JSON round trip or not).

        Returns:
            A fitted :class:`ConstraintEngine`.

        Raises:
            SchemaError: If ``table``'s declared constraints are inconsistent.
            SerializationError: If ``data`` is malformed or does not match ``table``'s
                declared inequalities and fixed combinations.
        """
        engine = cls(table)
        restore_state(engine, data)
        engine.derived_sdtypes = derived_sdtypes(gapped(engine._inequalities), engine._combos)
        engine._fitted = True
        return engine
