"""Business rules of a schema, declared or found in the data, and the report of what was found.

For each table: the semantic type of its columns (generated realistically), the columns that
repeat their parent row's value (:class:`CopiedColumn`), within-row functional dependencies, date
orderings, date parts (``year``, ``month``... of a timestamp column of the same row, such as a key), and
whether it is a reference (lookup) table copied verbatim. Declarations in the
:class:`~syntho_hive.core.metadata.schema.TableConfig` win; what is not declared is detected
(:func:`resolve_rules`). :meth:`SchemaRules.report` says what was found, and
:meth:`SchemaRules.declare` writes it into a metadata for review and editing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.metadata.constraint_rules import ordered_inequalities
from syntho_hive.core.metadata.row_rules import (
    MIN_SUPPORT,
    check_dependency,
    detect_date_orderings,
    detect_dependencies,
)
from syntho_hive.core.metadata.schema import DATE_PARTS, FunctionalDependency, Inequality, Metadata, TableConfig
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError
from syntho_hive.relational.graph import Relationship, SchemaGraph
from syntho_hive.relational.keys import parent_positions

__all__ = ["CopiedColumn", "TableRules", "SchemaRules", "resolve_rules", "declared_rules", "format_rules", "DATE_PARTS",
           "REFERENCE_MAX_ROWS"]

_log = get_logger(__name__)

#: Tables of at most this many rows can be detected as reference (lookup) tables: tables with a
#: primary key, referenced by another table, without a parent, whose non-key columns are all
#: strings (one of them unique per row) and none personal.
REFERENCE_MAX_ROWS = 50
#: Share of child rows (with a parent) that must equal the parent's value for a column to be copied.
COPY_SHARE = 0.99
#: Child rows compared when detecting copied columns (the first ones: deterministic).
COPY_SAMPLE = 50_000
#: Child rows with a parent a copied column needs before it is detected.
COPY_MIN_ROWS = 5


@dataclass(frozen=True)
class CopiedColumn:
    """A child column that repeats a column of its parent row.

    Attributes:
        column: The child column.
        parent: The parent table.
        parent_column: The parent's column.
        via: Index of the relationship in the child's ``SchemaGraph.parents_of`` list.
        share: Share of real child rows (with a parent) where the values are equal.
        declared: Whether the metadata declared it.
        without_parent: Whether some real child row has no parent through ``via`` (a null foreign
            key: a guest order); such rows keep a value of their own, which the table's model learns.
    """

    column: str
    parent: str
    parent_column: str
    via: int
    share: float
    declared: bool = False
    without_parent: bool = False


@dataclass
class TableRules:
    """The rules of one table.

    Attributes:
        semantic_types: Semantic type of each semantic column (declared and detected).
        detected_semantic: The ones that were detected.
        copied: Copied columns by child column.
        dependencies: Within-row functional dependencies (declared ones first).
        declared_dependencies: How many of ``dependencies`` are declared.
        orderings: Date orderings found in the data (declared inequalities not repeated).
        date_parts: Numeric columns that hold a part of a timestamp column of the same row in every real
            row (``hour`` of ``time_hour``): ``{column: (timestamp column, part)}``, ``part`` one of
            :data:`DATE_PARTS`. Generation takes them from the row's generated timestamp.
        declared_date_parts: How many of ``date_parts`` (the first ones) are declared.
        reference: Whether the table is copied verbatim.
        reference_reason: Why (declared, or the detection's reason).
    """

    semantic_types: dict[str, str] = field(default_factory=dict)
    detected_semantic: list[str] = field(default_factory=list)
    copied: dict[str, CopiedColumn] = field(default_factory=dict)
    dependencies: list[FunctionalDependency] = field(default_factory=list)
    declared_dependencies: int = 0
    orderings: list[Inequality] = field(default_factory=list)
    date_parts: dict[str, tuple[str, str]] = field(default_factory=dict)
    declared_date_parts: int = 0
    reference: bool = False
    reference_reason: str = ""


@dataclass
class SchemaRules:
    """The rules of every table (see the module docstring)."""

    tables: dict[str, TableRules] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON of the findings (for reports and the CLI)."""
        return {name: {
            "reference": rules.reference, "reference_reason": rules.reference_reason,
            "semantic_types": rules.semantic_types, "detected_semantic": rules.detected_semantic,
            "copied_from": {c: {"parent": f"{k.parent}.{k.parent_column}", "share": round(k.share, 4),
                                "declared": k.declared} for c, k in rules.copied.items()},
            "dependencies": [{"determinants": r.determinants, "dependent": r.dependent,
                              "declared": i < rules.declared_dependencies}
                             for i, r in enumerate(rules.dependencies)],
            "date_orderings": [{"low": q.low, "high": q.high} for q in rules.orderings],
            "date_parts": {c: {"source": source, "part": part, "declared": i < rules.declared_date_parts}
                           for i, (c, (source, part)) in enumerate(rules.date_parts.items())},
        } for name, rules in self.tables.items()}

    def report(self) -> str:
        """What was found, one line per rule, table by table (see :func:`format_rules`)."""
        return format_rules(self.to_dict())

    def with_orderings(self, metadata: Metadata) -> Metadata:
        """``metadata`` with the detected date orderings added as inequalities (what the models get).

        A table whose orderings the constraint engine cannot honour together with its declared
        rules keeps its declared ones only (logged).

        Args:
            metadata: The metadata the rules were resolved for.

        Returns:
            ``metadata`` itself when nothing was detected, else a copy.
        """
        if not any(rules.orderings for rules in self.tables.values()):
            return metadata
        out = metadata.model_copy(deep=True)
        for name, rules in self.tables.items():
            if not rules.orderings:
                continue
            table = out.tables[name]
            declared = list(table.inequalities)
            table.inequalities = [*declared, *rules.orderings]
            try:
                ordered_inequalities(table)
            except SchemaError as exc:
                _log.warning("date_orderings_not_enforced", table=name, reason=str(exc))
                table.inequalities = declared
        return out

    def declare(self, metadata: Metadata) -> Metadata:
        """A copy of ``metadata`` with every rule found declared (to review, edit and reuse).

        Args:
            metadata: The metadata the rules were resolved for.

        Returns:
            A new metadata.
        """
        out = metadata.model_copy(deep=True)
        for name, rules in self.tables.items():
            table = out.tables[name]
            table.semantic_types = {**table.semantic_types, **rules.semantic_types}
            table.copied_from = {**table.copied_from, **{c: f"{k.parent}.{k.parent_column}"
                                                         for c, k in rules.copied.items()}}
            table.date_parts = {**table.date_parts, **{c: f"{source}.{part}"
                                                       for c, (source, part) in rules.date_parts.items()}}
            table.dependencies = list(rules.dependencies)
            table.inequalities = [*table.inequalities, *rules.orderings]
            table.reference = rules.reference
        return out


def format_rules(rules: Mapping[str, Mapping[str, Any]]) -> str:
    """Text report of :meth:`SchemaRules.to_dict` output (``Synthesizer.rules_``), a line per rule.

    Args:
        rules: ``{table: rules}``.

    Returns:
        The report.
    """
    lines: list[str] = []
    for name, table in rules.items():
        found: list[str] = []
        if table.get("reference"):
            found.append(f"reference table, copied verbatim ({table.get('reference_reason', '')})")
        detected = set(table.get("detected_semantic", []))
        for column, semantic in table.get("semantic_types", {}).items():
            found.append(f"{column}: {semantic} ({'detected' if column in detected else 'declared'})")
        for column, copy in table.get("copied_from", {}).items():
            how = "declared" if copy["declared"] else f"detected, equal in {copy['share']:.1%} of rows"
            found.append(f"{column} = {copy['parent']} of the parent row ({how})")
        for rule in table.get("dependencies", []):
            how = "declared" if rule["declared"] else "detected"
            found.append(f"{', '.join(rule['determinants'])} -> {rule['dependent']} ({how})")
        for order in table.get("date_orderings", []):
            found.append(f"{order['low']} <= {order['high']} (detected)")
        for column, part in table.get("date_parts", {}).items():
            how = "declared" if part.get("declared") else "detected"
            found.append(f"{column} = {part['part']} of {part['source']} ({how})")
        lines.append(f"{name}:" if found else f"{name}: no rule")
        lines += [f"  {line}" for line in found]
    return "\n".join(lines)


# --------------------------------------------------------------------------- detection


def _equal_share(child: pd.Series, parent: pd.Series) -> float:
    """Share of aligned rows where both values are equal (both missing counts as equal)."""
    a, b = child.astype(object).to_numpy(), parent.astype(object).to_numpy()
    a_null, b_null = pd.isna(a), pd.isna(b)
    same = a_null & b_null
    both = ~a_null & ~b_null  # compared only where neither is missing (pd.NA has no truth value)
    same[both] = np.asarray(a[both] == b[both], dtype=bool)
    return float(same.mean()) if len(a) else 0.0


def _family(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "object"


def _holds_strings(series: pd.Series) -> bool:
    """Whether every present value is a string (a label; not a number, date or decimal in an object column)."""
    values = series.cat.categories.to_series() if isinstance(series.dtype, pd.CategoricalDtype) else series
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _has_parentless_rows(child: pd.DataFrame, rel: Relationship) -> bool:
    """Whether a row of ``child`` has a null foreign key through ``rel`` (no parent)."""
    return bool(child[list(rel.child_columns)].isna().any(axis=1).any())


def _aligned(child: pd.DataFrame, parent: pd.DataFrame, rel: Relationship) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Child rows (a sample) that have a parent, and their parent rows, aligned."""
    rows = child.iloc[:COPY_SAMPLE]
    positions = parent_positions(rows, rel.child_columns, parent, rel.parent_columns)
    present = positions >= 0
    return rows[present].reset_index(drop=True), parent.iloc[positions[present]].reset_index(drop=True)


def _detect_copies(name: str, child: pd.DataFrame, candidates: list[str], graph: SchemaGraph,
                   data: Mapping[str, pd.DataFrame], metadata: Metadata) -> dict[str, CopiedColumn]:
    found: dict[str, CopiedColumn] = {}
    for via, rel in enumerate(graph.parents_of(name)):
        if rel.is_self or not candidates:
            continue
        parent = data[rel.parent]
        parent_cols = [str(c) for c in parent.columns if c not in metadata.tables[rel.parent].key_columns]
        kids, parents = _aligned(child, parent, rel)
        if len(kids) < COPY_MIN_ROWS:
            continue
        for column in candidates:
            if column in found:
                continue
            best: tuple[float, int, str] | None = None
            for p_col in parent_cols:
                if _family(kids[column]) != _family(parents[p_col]) or parents[p_col].nunique(dropna=False) < 2:
                    continue
                share = _equal_share(kids[column], parents[p_col])
                if share >= COPY_SHARE:
                    similar = int(p_col.lower().replace("_", "") in column.lower().replace("_", ""))
                    if best is None or (share, similar) > best[:2]:
                        best = (share, similar, p_col)
            if best is not None:
                found[column] = CopiedColumn(column, rel.parent, best[2], via, best[0],
                                             without_parent=_has_parentless_rows(child, rel))
    return found


def _copy_sources(name: str, table: TableConfig, graph: SchemaGraph) -> list[tuple[str, str, str, int]]:
    """``(column, parent table, parent column, via)`` of each declared copied column of ``name``."""
    rels = graph.parents_of(name)
    out = []
    for column, source in table.copied_from.items():
        if source is None:
            continue
        parent, _, p_col = source.rpartition(".")
        via = next(i for i, rel in enumerate(rels) if rel.parent == parent and not rel.is_self)
        out.append((column, parent, p_col, via))
    return out


def _declared_copies(name: str, table: TableConfig, child: pd.DataFrame, graph: SchemaGraph,
                     data: Mapping[str, pd.DataFrame]) -> dict[str, CopiedColumn]:
    out: dict[str, CopiedColumn] = {}
    rels = graph.parents_of(name)
    for column, parent, p_col, via in _copy_sources(name, table, graph):
        source = f"{parent}.{p_col}"
        # Metadata.validate_schema reports these first; fit(validate=False) skips it.
        for frame_name, frame, col in ((parent, data[parent], p_col), (name, child, column)):
            if col not in frame.columns:
                raise SchemaError(f"table {name!r}: copied_from[{column!r}] = {source!r}, but the data of table "
                                  f"{frame_name!r} has no column {col!r}; fix the name or drop the entry.")
        kids, parents = _aligned(child, data[parent], rels[via])
        share = _equal_share(kids[column], parents[p_col]) if len(kids) else 1.0
        if share < 1.0:
            _log.warning("declared_copy_violated_in_data", table=name, column=column, parent=source,
                         rows=len(kids), differing=int(round((1 - share) * len(kids))),
                         hint="generated rows copy the parent's value in every row")
        out[column] = CopiedColumn(column, parent, p_col, via, share, declared=True,
                                   without_parent=_has_parentless_rows(child, rels[via]))
    return out


def _declared_dependencies(name: str, table: TableConfig, df: pd.DataFrame) -> list[FunctionalDependency]:
    for rule in table.dependencies or []:
        check = check_dependency(df, rule.determinants, rule.dependent)
        if check.violations:
            _log.warning("declared_dependency_violated_in_data", table=name, determinants=rule.determinants,
                         dependent=rule.dependent, rows=check.rows, violations=check.violations,
                         hint="generated rows take the most common dependent value of their determinants")
    return list(table.dependencies or [])


def _declared_date_parts(name: str, table: TableConfig, df: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """The declared date parts of table ``name`` (:attr:`TableConfig.date_parts`), as ``(source, part)``.

    Raises:
        SchemaError: A declared source that is not a datetime column of the data, or a column that is not numeric.
    """
    out: dict[str, tuple[str, str]] = {}
    for column, declared in table.date_parts.items():
        if declared is None:
            continue
        source, _, part = declared.rpartition(".")
        if source not in df.columns or not pd.api.types.is_datetime64_any_dtype(df[source].dtype) \
                or pd.api.types.is_bool_dtype(df[column].dtype) or not pd.api.types.is_numeric_dtype(df[column].dtype):
            raise SchemaError(f"table {name!r}: date_parts[{column!r}] = {declared!r} needs a numeric column taken "
                              f"from a datetime column of the data; {source!r} is "
                              f"{df[source].dtype if source in df.columns else 'no column'} and {column!r} "
                              f"{df[column].dtype}: declare a datetime column, or drop the entry.")
        out[column] = (source, part)
    return out


def _detect_date_parts(df: pd.DataFrame, candidates: list[str], sources: list[str]) -> dict[str, tuple[str, str]]:
    """Columns of ``candidates`` holding a part (:data:`DATE_PARTS`) of a datetime column of ``sources`` in every
    row: missing exactly where the timestamp is, and the part taking more than one value unless the column is
    named after it (a constant ``year`` of a year's data is its part; a column of zeros is no ``minute``)."""
    found: dict[str, tuple[str, str]] = {}
    for source in sources:
        stamps = df[source]
        if not pd.api.types.is_datetime64_any_dtype(stamps.dtype):
            continue
        present = stamps.notna().to_numpy()
        if present.sum() < MIN_SUPPORT:
            continue
        parts = {part: getattr(stamps[present].dt, part).to_numpy(dtype=np.int64) for part in DATE_PARTS}
        for column in candidates:
            values = df[column]
            if column in found or column == source or pd.api.types.is_bool_dtype(values.dtype) \
                    or not pd.api.types.is_numeric_dtype(values.dtype) \
                    or not np.array_equal(values.notna().to_numpy(), present):
                continue
            held = values[present].to_numpy(dtype=np.float64)
            for part, numbers in parts.items():
                if (numbers.min() != numbers.max() or column.lower() == part) and np.array_equal(held, numbers):
                    found[column] = (source, part)
                    break
    return found


def _is_reference(name: str, table: TableConfig, df: pd.DataFrame, graph: SchemaGraph,
                  semantic: Mapping[str, str], always_generated: frozenset[str]) -> tuple[bool, str]:
    if table.reference is not None:
        return table.reference, "declared"
    if not table.pk_columns or not graph.children_of(name) or len(df) > REFERENCE_MAX_ROWS:
        return False, ""
    if any(not rel.is_self for rel in graph.parents_of(name)):
        return False, ""
    personal = sorted(c for c, t in semantic.items() if t in always_generated)
    if personal or table.pii_cols:
        return False, ""
    content = df[[c for c in df.columns if c not in table.key_columns]]
    if content.empty or not all(_holds_strings(content[c]) for c in content.columns):
        return False, ""  # a lookup holds labels only: a number or a date is data about something
    labels = [str(c) for c in content.columns if content[c].notna().all() and content[c].is_unique]
    if not labels:
        return False, ""  # a lookup names each of its rows
    children = sorted({r.child for r in graph.children_of(name)})
    return True, f"{len(df)} rows of labels ({', '.join(labels)} unique per row), referenced by {children}"


def _refuse_rules_on_copies(name: str, table: TableConfig, copied: Mapping[str, CopiedColumn]) -> None:
    """Refuse a declared inequality or fixed combination between a copied column and a column not copied from the
    same parent row, but an inequality from a copied ``low`` to a ``high`` that is neither copied nor a key: the copy
    takes its parent row's value after the model has drawn the row, so only such a ``high`` can be kept, rebuilt as
    the copy plus a modelled gap (:class:`~syntho_hive.relational.copy_gaps.CopyGaps`); one over columns all copied
    through one relationship holds where the parent rows keep it.

    Raises:
        SchemaError: Naming the rule, the copied column and its parent column.
    """
    rules = [(f"inequality {q.low} {'<' if q.strict else '<='} {q.high}", (q.low, q.high)) for q in table.inequalities
             if not (q.low in copied and q.high not in copied and q.high not in table.key_columns)]
    rules += [(f"fixed combination {g.columns}", tuple(g.columns)) for g in table.fixed_combinations]
    for rule, columns in rules:
        hit = next((copied[c] for c in columns if c in copied), None)
        if hit is not None and len({copied[c].via if c in copied else None for c in columns}) > 1:
            how = "declared in copied_from" if hit.declared else f"detected: equal in {hit.share:.0%} of real rows"
            raise SchemaError(
                f"table {name!r}: the declared {rule} cannot hold: column {hit.column!r} is copied from "
                f"{hit.parent}.{hit.parent_column} ({how}), so it takes the generated parent row's value after the "
                f"model has drawn the row's other columns (only an inequality from a copied column to a modelled "
                f"one is kept). Drop the rule, or keep {hit.column!r} modelled with "
                f"copied_from={{{hit.column!r}: None}} (the rule then holds, the copy no longer does).")


def resolve_rules(metadata: Metadata, data: Mapping[str, pd.DataFrame], *, rare_threshold: int = 5) -> SchemaRules:
    """The rules of every table: declared ones, and detected ones where nothing is declared.

    Args:
        metadata: The schema (validated).
        data: ``{table: real DataFrame}`` for every table.
        rare_threshold: The synthesizer's rare-value threshold (semantic columns without a value
            seen this often are generated rather than modelled).

    Returns:
        The :class:`SchemaRules`.

    Raises:
        SchemaError: A declared semantic type does not fit its column's values, or a declared
            copied column (or the parent column it copies) is missing from the data, or a declared
            inequality or fixed combination mixes a copied column with others and could not hold
            (an inequality from a copied column to a modelled one is kept).
    """
    from syntho_hive.core.semantic import ALWAYS_GENERATED, check_semantic_type, detect_semantic_type

    graph = SchemaGraph.from_metadata(metadata)
    out = SchemaRules()
    for name in graph.order:
        table = metadata.tables[name]
        df = data[name]
        keys = set(table.key_columns)
        rules = TableRules()
        for column in map(str, df.columns):
            if column in keys:
                continue
            if column in table.semantic_types:
                declared = table.semantic_types[column]
                if declared is not None:
                    check_semantic_type(df[column], column, declared, table=name)
                    rules.semantic_types[column] = declared
                continue
            if table.columns.get(column) not in (None, "categorical", "text", "id"):
                continue  # numerical / datetime / boolean: not a business string (an id-like postcode or
                # phone number, unique per row, is one: the semantic type is the more specific)
            detected = detect_semantic_type(df[column], column)
            if detected is not None:
                rules.semantic_types[column] = detected
                rules.detected_semantic.append(column)
        rules.reference, rules.reference_reason = _is_reference(name, table, df, graph, rules.semantic_types,
                                                                ALWAYS_GENERATED)
        if rules.reference:
            out.tables[name] = rules
            continue
        rules.copied = _declared_copies(name, table, df, graph, data)
        undeclared = [c for c in map(str, df.columns) if c not in keys and c not in table.copied_from]
        rules.copied.update(_detect_copies(name, df, undeclared, graph, data, metadata))
        _refuse_rules_on_copies(name, table, rules.copied)
        rules.dependencies = _declared_dependencies(name, table, df)
        rules.declared_dependencies = len(rules.dependencies)
        own = [c for c in map(str, df.columns) if c not in keys and c not in rules.copied]
        sources = [c for c in map(str, df.columns) if c not in rules.semantic_types]
        rules.date_parts = _declared_date_parts(name, table, df)
        rules.declared_date_parts = len(rules.date_parts)
        rules.date_parts.update(_detect_date_parts(df, [c for c in own if c not in table.date_parts], sources))
        own = [c for c in own if c not in rules.date_parts]
        if table.dependencies is None:  # a declared list, even empty, switches detection off
            rules.dependencies += detect_dependencies(df, own)
        rules.orderings = detect_date_orderings(df, own, table.inequalities)
        out.tables[name] = rules
    return out



def declared_rules(metadata: Metadata, data: Mapping[str, pd.DataFrame] | None = None) -> SchemaRules:
    """The rules a fit under differential privacy uses: the declared ones only, and no value read.

    Semantic types, copied columns and date parts are taken as declared (schema; a declared semantic type
    is not checked against the values, and a copy's share is reported as 1.0; a date part's columns are
    checked by their dtypes in ``data`` alone). Nothing is detected: no
    semantic type from values, no copied column, dependency or date ordering, no reference table.
    Declared reference tables and dependencies are refused before this (they would need the rows;
    :func:`~syntho_hive.relational.dp_checks.check_dp_schema`).

    Args:
        metadata: The schema.
        data: The real tables (only their dtypes are read; ``None``: no date part).

    Returns:
        The :class:`SchemaRules`.

    Raises:
        SchemaError: A declared date part whose source is not a datetime column, or whose column is not numeric; a
            declared inequality or fixed combination mixing a copied column with others.
    """
    graph = SchemaGraph.from_metadata(metadata)
    out = SchemaRules()
    for name in graph.order:
        table = metadata.tables[name]
        keys = set(table.key_columns)
        rules = TableRules(semantic_types={c: t for c, t in table.semantic_types.items()
                                           if t is not None and c not in keys})
        for column, parent, p_col, via in _copy_sources(name, table, graph):
            rules.copied[column] = CopiedColumn(column, parent, p_col, via, 1.0, declared=True)
        _refuse_rules_on_copies(name, table, rules.copied)
        if data is not None:
            rules.date_parts = _declared_date_parts(name, table, data[name])
            rules.declared_date_parts = len(rules.date_parts)
        out.tables[name] = rules
    return out
