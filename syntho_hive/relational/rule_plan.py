"""What generation does to one table's rows after its model: the table's business rules at work.

A :class:`RulePlan` is fitted per table from its resolved rules
(:class:`~syntho_hive.relational.rules.TableRules`). After the model has drawn the modelled
columns and the keys are in place, :meth:`RulePlan.apply` fills, in this order:

1. copied columns, from the generated parent row (an invoice's billing address), then the columns a
   declared inequality keeps above a copied one (``order_date > customer_signup``: the copy plus the
   modelled gap, :class:`~syntho_hive.relational.copy_gaps.CopyGaps`), then date parts
   (``year``, ``hour``...) from the row's timestamp column (a generated key such as ``time_hour``);
2. within-row functional dependencies between modelled columns (``state -> country``), from the
   map learned on real determinant values seen at least ``rare_threshold`` times (again after step 3,
   for rows whose new value is a known one);
3. semantic columns the model learns as categories (city, state, country, company, job title)
   where the model drew the stand-in of their rare values: a realistic new value given the row
   (a real city of the row's country, a Faker job title), so a small table keeps its share of
   uncommon values without showing a protected one (:meth:`RulePlan.model_input` puts the
   stand-in, :data:`GENERATE`, in the model's training data);
4. semantic columns (names, e-mails, phones, addresses...) from a
   :class:`~syntho_hive.core.semantic.SemanticPlan`, reading the row's other values (country,
   names).

A reference table keeps its real rows instead (a lookup is schema, not data about people), stored as
strict JSON by :mod:`syntho_hive.core._json_state`, dtypes and cells exact.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core._json_state import frame_from_json, frame_to_json
from syntho_hive.core.data._dtypes import value_from_json, value_to_json
from syntho_hive.core.metadata.row_rules import apply_mapping, dependency_mapping
from syntho_hive.core.metadata.schema import FunctionalDependency, TableConfig
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError
from syntho_hive.relational.copy_gaps import CopyGaps
from syntho_hive.relational.rules import TableRules

__all__ = ["CopyPlan", "DependencyPlan", "RulePlan", "GENERATE"]

#: Stands for the rare values of a modelled semantic column in its model's training data; the rows
#: the model draws it for get generated values (it never reaches the output).
#: (A private-use character, not NUL: NumPy's fixed-width strings drop trailing NULs.)
GENERATE = "\ue000synthohive:generate"

_log = get_logger(__name__)


#: The order partially generated columns are filled in: a state reads the row's country, a city both.
_GEO_ORDER = {"country": 0, "state": 1, "city": 2}


def _rare_rows(series: pd.Series, rare_threshold: int) -> np.ndarray:
    """Rows holding a value seen fewer than ``rare_threshold`` times (missing values are not rare)."""
    counts = series.value_counts(dropna=True)
    rare_values = counts.index[counts < rare_threshold]
    return (series.isin(rare_values) & series.notna()).to_numpy()


def _ruled_columns(table: TableConfig, rules: TableRules) -> set[str]:
    """Columns named in the table's declared constraints, inequalities and fixed combinations, and in
    its detected date orderings (:attr:`TableRules.orderings`)."""
    columns = set(table.constraints)
    columns |= {c for group in table.fixed_combinations for c in group.columns}
    for rule in [*table.inequalities, *rules.orderings]:
        columns |= {rule.low, rule.high}
    return columns


def _log_modelled_for_rules(name: str, semantic: Mapping[str, str]) -> None:
    """Log the semantic columns modelled because a rule names them (a warning for the personal types,
    which are otherwise never modelled)."""
    from syntho_hive.core.semantic import ALWAYS_GENERATED

    if not semantic:
        return
    personal = sorted(c for c, t in semantic.items() if t in ALWAYS_GENERATED)
    _log.info("semantic_columns_modelled_for_rules", table=name, columns=sorted(semantic),
              reason="named in a constraint, inequality, fixed combination or date ordering: the model's "
                     "values satisfy it, a generated value would not")
    if personal:
        _log.warning("personal_columns_modelled_for_rules", table=name, columns=personal,
                     types={c: semantic[c] for c in personal},
                     hint="the model learns these personal columns (rare values stay protected); drop them "
                          "from the table's constraints, inequalities and fixed_combinations to have them "
                          "generated instead")


def _merge_copied(drawn: pd.Series, copied: pd.Series, has_parent: np.ndarray) -> pd.Series:
    """``drawn`` (the model's column) with the rows that have a parent set to ``copied``, in ``drawn``'s dtype
    (a category dtype gains the copied categories)."""
    values = drawn.astype(object).to_numpy(copy=True)
    values[has_parent] = copied.astype(object).to_numpy()[has_parent]
    merged = pd.Series(values, index=drawn.index, dtype=object)
    dtype = drawn.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        extra = pd.Index(pd.unique(merged.dropna())).difference(dtype.categories)
        return merged.astype(pd.CategoricalDtype(dtype.categories.append(extra), ordered=dtype.ordered))
    return merged.astype(dtype) if dtype != object else merged


def _native_null(column: pd.Series) -> Any:
    """The missing value the model wrote in a column, as an object: its first null (``NaN``, ``None``,
    ``pd.NA`` ...; a category column's is ``NaN``), ``NaN`` (pandas' missing value of an object column)
    when it wrote none."""
    values = column.to_numpy(dtype=object)
    nulls = pd.isna(values)
    return values[np.flatnonzero(nulls)[0]] if nulls.any() else np.nan


def _with_null(column: pd.Series, native: Any) -> pd.Series:
    """``column`` with every missing value written as ``native`` (an ``object`` column only: other dtypes
    have one missing value already)."""
    if column.dtype != object:
        return column
    values = column.to_numpy(dtype=object, copy=True)
    nulls = pd.isna(values)
    if not nulls.any():
        return column
    values[nulls] = native
    return pd.Series(values, index=column.index, dtype=object, name=column.name)


@dataclass(frozen=True)
class CopyPlan:
    """``column`` takes ``parent_column`` of the row's parent through relationship ``via``.

    With ``modelled``, real rows without a parent (a null foreign key) hold values of their own: the
    table's model learns the column and only rows with a parent are overwritten.
    """

    column: str
    via: int
    parent_column: str
    modelled: bool = False


@dataclass
class DependencyPlan:
    """A dependency between modelled columns and its value map (determinant values -> dependent)."""

    rule: FunctionalDependency
    mapping: list[tuple[list[Any], Any]]

    def to_dict(self, where: str) -> dict[str, Any]:
        return {"determinants": self.rule.determinants, "dependent": self.rule.dependent,
                "mapping": [[[value_to_json(k, where) for k in keys], value_to_json(value, where)]
                            for keys, value in self.mapping]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> "DependencyPlan":
        rule = FunctionalDependency(determinants=list(data["determinants"]), dependent=str(data["dependent"]))
        mapping = [([value_from_json(k, where) for k in keys], value_from_json(value, where))
                   for keys, value in data["mapping"]]
        return cls(rule, mapping)


@dataclass
class RulePlan:
    """One table's copied columns, dependencies, semantic plan or stored reference rows.

    Attributes:
        copied: Columns copied from parent rows.
        dependencies: Dependencies applied between modelled columns.
        semantic: State of the table's :class:`~syntho_hive.core.semantic.SemanticPlan` (``{}``: none).
        partial: ``{column: SemanticPlan state}`` of the modelled semantic columns with rare values,
            each plan learned on those rows (see the module docstring).
        date_parts: ``{column: [timestamp column, part]}``: columns taken from a part of the row's
            timestamp (:attr:`~syntho_hive.relational.rules.TableRules.date_parts`), not modelled.
        reference: The stored rows of a reference table (:func:`frame_to_json` form), or ``None``.
        gaps: The columns rebuilt above a copied one from a modelled gap (:class:`CopyGaps`), or ``None``.
    """

    copied: list[CopyPlan] = field(default_factory=list)
    dependencies: list[DependencyPlan] = field(default_factory=list)
    semantic: dict[str, Any] = field(default_factory=dict)
    partial: dict[str, dict[str, Any]] = field(default_factory=dict)
    date_parts: dict[str, list[str]] = field(default_factory=dict)
    reference: dict[str, Any] | None = None
    gaps: CopyGaps | None = None
    _plans: dict[str | None, Any] = field(default_factory=dict, repr=False, compare=False)  # built SemanticPlans
    _reference_frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(cls, name: str, df: pd.DataFrame, table: TableConfig, rules: TableRules, *,
            rare_threshold: int) -> "RulePlan":
        """Learn the plan of table ``name`` from its real rows and resolved rules.

        Args:
            name: The table.
            df: Its real rows.
            table: Its config (locale, columns sampled from real values).
            rules: Its resolved rules.
            rare_threshold: Least occurrences of a value shown or mapped.

        Returns:
            The plan.
        """
        if rules.reference:
            return cls(reference=frame_to_json(df, f"reference table {name!r}"))
        from syntho_hive.core.semantic import SemanticPlan, should_generate

        copied = [CopyPlan(c.column, c.via, c.parent_column, modelled=c.without_parent)
                  for c in rules.copied.values()]
        copied_columns = {c.column for c in copied}
        semantic = {c: t for c, t in rules.semantic_types.items() if c not in copied_columns}
        # A column named in a declared constraint, inequality or fixed combination, or in a detected date
        # ordering, keeps the model's values, which satisfy the rule by construction (a generated date of
        # birth would fall after the hire date, a new city would make a combination never seen).
        constrained = _ruled_columns(table, rules)
        _log_modelled_for_rules(name, {c: t for c, t in semantic.items() if c in constrained})
        generated = [c for c, t in semantic.items() if c not in constrained and (
            c in table.sample_real_values or should_generate(df[c], t, rare_threshold=rare_threshold))]
        plan = cls(copied=copied, date_parts={c: list(source_part) for c, source_part in rules.date_parts.items()
                                              if c not in constrained and c not in semantic})
        locale = table.locale or "en_US"
        if generated:
            fitted = SemanticPlan.fit(df, semantic, generated=generated, locale=locale,
                                      rare_threshold=rare_threshold, sample_real=table.sample_real_values)
            plan.semantic, plan._plans[None] = fitted.to_dict(), fitted
        # Countries first, then states and cities: each reads the ones before.
        for column in sorted(semantic, key=lambda c: _GEO_ORDER.get(semantic[c], len(_GEO_ORDER))):
            if column in generated or column in constrained:
                continue
            rare = _rare_rows(df[column], rare_threshold)
            if rare.any():
                fitted = SemanticPlan.fit(df[rare].reset_index(drop=True), semantic, generated=[column],
                                          locale=locale, rare_threshold=rare_threshold)
                plan.partial[column], plan._plans[column] = fitted.to_dict(), fitted
        filled = copied_columns | set(generated) | set(plan.date_parts)
        for index, rule in enumerate(rules.dependencies):
            if rule.dependent in filled or any(c in set(generated) for c in rule.determinants):
                continue  # a generated column is drawn consistent with the row by its generator
            if index >= rules.declared_dependencies and rule.dependent in constrained:
                continue  # a detected dependency would overwrite what the model drew to satisfy a declared rule
            mapping = dependency_mapping(df, rule, min_count=rare_threshold)
            if mapping:
                plan.dependencies.append(DependencyPlan(rule, mapping))
        return plan

    @classmethod
    def fit_dp(cls, df: pd.DataFrame, table: TableConfig, rules: TableRules) -> "RulePlan":
        """The plan of a table fitted under differential privacy: no value of ``df`` is read.

        Copied columns and date parts as declared; declared semantic columns of the types always generated (names,
        e-mails, phones...) are generated from a :class:`~syntho_hive.core.semantic.SemanticPlan` of
        data-independent defaults (fitted on no row: no learned null rate, format or e-mail domain);
        the other semantic columns (countries, cities...) are modelled, under the model's DP. No
        dependency map and no partly generated column.

        Args:
            df: The real rows (only the columns and dtypes are used).
            table: The table's config (its locale).
            rules: Its rules (:func:`~syntho_hive.relational.rules.declared_rules`).

        Returns:
            The plan.
        """
        from syntho_hive.core.semantic import ALWAYS_GENERATED, SemanticPlan

        copied = [CopyPlan(c.column, c.via, c.parent_column) for c in rules.copied.values()]
        copied_columns = {c.column for c in copied}
        semantic = {c: t for c, t in rules.semantic_types.items() if c not in copied_columns and c in df.columns}
        generated = [c for c, t in semantic.items() if t in ALWAYS_GENERATED]
        plan = cls(copied=copied, date_parts={c: list(source_part) for c, source_part in rules.date_parts.items()
                                              if c not in copied_columns and c not in semantic})
        if generated:
            fitted = SemanticPlan.fit(df.iloc[:0], semantic, generated=generated, locale=table.locale or "en_US")
            plan.semantic, plan._plans[None] = fitted.to_dict(), fitted
        return plan

    @property
    def overwritten_columns(self) -> list[str]:
        """Modelled columns whose drawn values the rules then replace: copied columns that are also modelled
        (for rows without a parent), the columns rebuilt above a copy and the dependent columns of dependencies."""
        rebuilt = self.gaps.rebuilt if self.gaps is not None else []
        return [c.column for c in self.copied if c.modelled] + rebuilt + [d.rule.dependent for d in self.dependencies]

    @property
    def filled_columns(self) -> list[str]:
        """Columns this plan fills (the model does not learn them)."""
        generated = list(self.semantic_plan().generated) if self.semantic else []
        return [c.column for c in self.copied if not c.modelled] + list(self.date_parts) + generated

    def bound_columns(self, keys: Collection[str]) -> set[str]:
        """``keys`` and the columns :meth:`apply` derives from them or from the row's parent: copied columns, the
        columns rebuilt above a copy, date parts and dependents of those (a row keeps them with its keys)."""
        bound = set(keys) | {c.column for c in self.copied} | set(self.gaps.rebuilt if self.gaps is not None else ())
        bound |= {column for column, (source, _) in self.date_parts.items() if source in bound}
        for dependency in self.dependencies:
            if bound & set(dependency.rule.determinants):
                bound.add(dependency.rule.dependent)
        return bound

    def model_columns(self, modelled: Sequence[str]) -> list[str]:
        """The columns of the table's model: ``modelled`` with each column rebuilt above a copy replaced by
        its gap (see :class:`CopyGaps`)."""
        return self.gaps.model_columns(modelled) if self.gaps is not None else list(modelled)

    def model_input(self, real: pd.DataFrame, modelled: Sequence[str], rare_threshold: int) -> pd.DataFrame:
        """The training rows of the table's model, from its ``real`` rows: the ``modelled`` columns, rare
        values of the partially generated columns replaced by :data:`GENERATE`, columns rebuilt above a copy
        replaced by their gaps (:meth:`model_columns`)."""
        out = real[list(modelled)]
        if self.partial:
            out = out.copy()
            for column in self.partial:
                rare = _rare_rows(out[column], rare_threshold)
                out[column] = out[column].astype(object).where(~rare, GENERATE)
        return self.gaps.model_input(out, real) if self.gaps is not None else out

    def semantic_plan(self) -> Any:
        """The table's :class:`~syntho_hive.core.semantic.SemanticPlan` (``None`` without one)."""
        return self._plan(None, self.semantic) if self.semantic else None

    def partial_plan(self, column: str) -> Any:
        """The SemanticPlan of partially generated ``column``."""
        return self._plan(column, self.partial[column])

    def _plan(self, key: str | None, state: Mapping[str, Any]) -> Any:
        """A SemanticPlan built from its state once."""
        if key not in self._plans:
            from syntho_hive.core.semantic import SemanticPlan

            self._plans[key] = SemanticPlan.from_dict(state)
        return self._plans[key]

    def reference_frame(self, name: str) -> pd.DataFrame:
        """The stored rows of reference table ``name`` (a fresh copy)."""
        if self._reference_frame is None:
            assert self.reference is not None
            self._reference_frame = frame_from_json(self.reference, f"reference table {name!r}")
        return self._reference_frame.copy()

    def apply(self, frame: pd.DataFrame, positions: Sequence[np.ndarray], parents: Sequence[pd.DataFrame],
              rng: np.random.Generator, take: Any, max_lengths: Mapping[str, int] | None = None) -> pd.DataFrame:
        """Fill the copied, dependent and semantic columns of generated rows.

        Args:
            frame: The rows (modelled columns, keys and foreign keys), changed in place.
            positions: Row position in each parent of every row (``-1``: none).
            parents: The generated parent tables, in relationship order.
            rng: Source of the semantic columns' randomness.
            take: ``take(series, positions)``: values of a parent column at positions (nulls at ``-1``).
            max_lengths: ``{column: most characters}`` the generated semantic values must fit
                (:meth:`~syntho_hive.core.semantic.SemanticPlan.generate`).

        Returns:
            ``frame``.
        """
        # Rules write None for a missing value (a learned map, a generated value) where the model writes its
        # own (NaN in an object column): each column the rules touch keeps the model's missing value.
        natives = {column: _native_null(frame[column]) for column in dict.fromkeys([*self.overwritten_columns,
                                                                                     *self.partial])
                   if column in frame.columns}
        for copy in self.copied:
            copied = take(parents[copy.via][copy.parent_column], positions[copy.via])
            if copy.modelled:  # rows without a parent keep the model's value
                has_parent = np.asarray(positions[copy.via]) >= 0
                frame[copy.column] = _merge_copied(frame[copy.column], copied, has_parent)
            else:
                frame[copy.column] = copied.to_numpy()
        if self.gaps is not None and len(frame):  # an empty chunk holds the real columns (no model call)
            self.gaps.rebuild(frame)
        for column, (source, part) in self.date_parts.items():
            frame[column] = getattr(pd.to_datetime(frame[source]).dt, part).to_numpy()
        for dependency in self.dependencies:
            apply_mapping(frame, dependency.rule, dependency.mapping)
        for column in self.partial:
            values = frame[column].astype(object).to_numpy(copy=True)
            marked = frame[column].astype(object).eq(GENERATE).to_numpy()
            if marked.any():
                drawn = self.partial_plan(column).generate(frame[marked].reset_index(drop=True), rng,
                                                           max_lengths=max_lengths)
                values[marked] = drawn[column].to_numpy(dtype=object)
                frame[column] = values
        for dependency in self.dependencies:  # a new value that is a known one (a big city) takes its map too
            if set(dependency.rule.determinants) & set(self.partial):
                apply_mapping(frame, dependency.rule, dependency.mapping)
        for column, native in natives.items():
            frame[column] = _with_null(frame[column], native)
        if self.semantic:
            generated = self.semantic_plan().generate(frame, rng, max_lengths=max_lengths)
            for column in generated.columns:
                frame[column] = generated[column].to_numpy()
        return frame

    def to_dict(self, table: str) -> dict[str, Any]:
        """Plain JSON."""
        where = f"rules of table {table!r}"
        return {"copied": [{"column": c.column, "via": c.via, "parent_column": c.parent_column, "modelled": c.modelled}
                           for c in self.copied],
                "dependencies": [d.to_dict(where) for d in self.dependencies],
                "semantic": self.semantic, "partial": self.partial, "date_parts": self.date_parts,
                "reference": self.reference, "gaps": self.gaps.to_dict() if self.gaps is not None else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, table: str) -> "RulePlan":
        """Inverse of :meth:`to_dict` (``None``: a plan of no rule, as saved before rules existed).

        Raises:
            SerializationError: Malformed state.
        """
        if data is None:
            return cls()
        where = f"rules of table {table!r}"
        try:
            copied = [CopyPlan(c["column"], c["via"], c["parent_column"],
                               modelled=c.get("modelled", False))  # saved before it existed: False
                      for c in data["copied"]]
            if not all(isinstance(c.column, str) and isinstance(c.parent_column, str) and type(c.via) is int
                       and c.via >= 0 and isinstance(c.modelled, bool) for c in copied):
                raise ValueError("a copied column needs a column and a parent_column name, a relationship index "
                                 "'via' >= 0 and 'modelled' true or false")
            plan = cls(copied=copied, dependencies=[DependencyPlan.from_dict(d, where) for d in data["dependencies"]],
                       semantic=dict(data["semantic"]), partial={str(c): dict(p) for c, p in data["partial"].items()},
                       date_parts={str(c): [str(source), str(part)]  # absent from plans saved before: none
                                   for c, (source, part) in data.get("date_parts", {}).items()},
                       reference=data["reference"],  # gaps: absent from plans saved before: none
                       gaps=CopyGaps.from_dict(data["gaps"], where) if data.get("gaps") is not None else None)
            if plan.reference is not None:
                plan.reference_frame(table)  # read (and kept) now: a corrupt one fails the load, not a sample
            return plan
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise SerializationError(f"Saved {where} are corrupt ({type(exc).__name__}: {exc}); save the "
                                     "synthesizer again.") from exc
