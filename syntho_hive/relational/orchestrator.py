"""Fit and generate a whole schema, parents first.

Fitting learns, per table: the format of its primary key, the children-per-parent model of
its primary FK (depending on the parent's attributes), the popularity model of each other FK,
the hierarchy of self-references, the null rate of every FK, the parent-context columns, and
a :class:`~syntho_hive.core.models.base.ConditionalGenerativeModel` of its non-key columns
conditioned on those parent columns. Everything but the models is learned here, table by
table; the models, which need only their own table's rows and context, are then fitted
several at once, in a thread here and in worker processes (:mod:`syntho_hive.relational.fitting`).

Generation walks the tables parents first. For a child table it draws a children count for
every generated parent row, lays the FK out by repeating the parent keys, places nulls at the
real null rate, assigns the other FKs by popularity (all of these as integer row positions
into the parents, for the whole table), generates the primary-key columns (per-parent running
numbers where the real data numbers a key leg within each parent), then produces the table
one chunk of rows at a time: the model's non-key columns conditioned on each row's parent
context, the keys, the real dtypes and the integrity re-check. Every chunk goes to the sink
(or into the in-memory frame) as soon as it is complete; only the slim part of each table
that its children need (keys, context and cardinality attributes) is kept.

Memory: besides the kept parent columns, a table in progress holds its integer positions and
its generated primary-key values, but only one chunk of content. One case holds more: a
self-referencing table is assembled whole (its hierarchy is drawn over all rows from their
attributes) before it is handed over in chunks. A table whose primary key is made only of
foreign keys does not: it drops repeated keys up front, from the positions, exactly as
deduplicating the whole table would.

Partitioned generation (``generate(partition=(p, P))``, for one Spark task of ``P``) produces
slice ``p`` of the schema with no coordination between slices: small roots are generated whole
in every slice (and emitted by slice 0), large ones are divided, children follow their slice's
parents (or take their share of each global parent's children, drawn once), and the ``k``-th
key of a slice is the key of global index ``k * P + p``, so the slices' keys never collide
(see :meth:`Orchestrator.generate` and :meth:`Orchestrator.partition_plan`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._checks import is_int
from syntho_hive._random import child_seed, numpy_generator
from syntho_hive.core.data.encoders.categorical import all_rare_sdtype
from syntho_hive.core.data.text_model import DEFAULT_RARE_THRESHOLD, TextModel
from syntho_hive.core.dp.config import DPConfig
from syntho_hive.core.metadata.schema import Metadata, TableConfig
from syntho_hive.core.privacy import PrivacyConfig, TablePrivacyPlan
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.events import get_logger, progress
from syntho_hive.exceptions import (
    GenerationError,
    NotFittedError,
    PrivacyError,
    SchemaError,
    SerializationError,
    TrainingError,
)
from syntho_hive.relational.cardinality import CardinalityModel, children_per_parent, rescale_counts
from syntho_hive.relational.context import (
    ContextColumn,
    ContextDomain,
    column_sdtypes,
    default_context_columns,
    protect_context,
    resolve_context,
)
from syntho_hive.relational.dp_budget import (
    LinkSpent,
    SchemaPrivacySpent,
    TableBudget,
    TablePrivacySpent,
    link_noise,
    plan_schema_budget,
)
from syntho_hive.relational.dp_cardinality import dp_link, link_sensitivity_sq
from syntho_hive.relational.dp_checks import (
    check_dp_columns,
    check_dp_releases,
    check_dp_schema,
    refuse_dp_model_option,
)
from syntho_hive.relational.fitting import ModelJob, fit_models, resolve_n_jobs
from syntho_hive.relational.graph import Relationship, SchemaGraph
from syntho_hive.relational.keys import (
    KeyGenerator,
    ReferenceChecker,
    allocate,
    cap_counts,
    cast_like,
    composite_key_legs,
    distinct_within_groups,
    dtype_from_name,
    dtype_name,
    group_ids,
    hierarchy_within,
    integer_dtype,
    labels_per_parent,
    nullable_twin,
    parent_positions,
    per_parent_labels,
    per_parent_numbers,
    per_parent_start,
    per_parent_timeline,
    place_nulls,
    redraw_repeated_combinations,
    row_labels,
    running_numbers,
    same_rows,
)
from syntho_hive.relational.copy_gaps import CopyGaps
from syntho_hive.relational.privacy_plans import fit_privacy, privacy_metadata
from syntho_hive.relational.rule_plan import RulePlan
from syntho_hive.relational.rules import DATE_PARTS, SchemaRules, declared_rules, resolve_rules
from syntho_hive.relational.unique_sets import UniqueSets

__all__ = ["TablePlan", "LinkPlan", "Orchestrator", "PartitionPlan", "DEFAULT_REPLICATE_ROWS", "check_chunk_rows",
           "check_count", "model_accepts", "model_metadata"]

_log = get_logger(__name__)

#: Child rows generated per model call.
DEFAULT_CHUNK_ROWS = 50_000

#: ``sink(table, chunks)``: consumes every chunk of one table (in order) and returns what
#: :meth:`Orchestrator.generate` reports for that table (e.g. the path written).
Sink = Callable[[str, Iterator[pd.DataFrame]], Any]

#: ``existing(table, columns)``: the values of ``columns`` in the rows ``table`` already holds where the
#: generated rows are appended (``None``: no rows), e.g. :meth:`TargetWriter.existing_rows`.
ExistingRows = Callable[[str, list[str]], "pd.DataFrame | None"]


def _check_rules(name: str, plan: "TablePlan", rels: list[Relationship], plans: Mapping[str, "TablePlan"],
                 self_rels: list[Relationship]) -> None:
    """Raise :class:`SerializationError` unless ``plan``'s rules name columns the tables have: each copied
    column one of the table's (a modelled one when it says so), through one of its relationships ``rels``, from
    a column of that parent; each column rebuilt above a copy a modelled one, above a copied or rebuilt column;
    each date-part column one the table generates no other way, taken from a part
    (:data:`DATE_PARTS`) of one of its datetime columns; the partly null legs of each relationship (``rels``,
    then the self-references ``self_rels``) some but
    not all of its FK columns, with finite shares >= 0 summing to at most its null rate; a reference table's
    stored rows with exactly the table's columns."""
    for copy in plan.rules.copied:
        parent = plans.get(rels[copy.via].parent) if copy.via < len(rels) else None
        if copy.column not in plan.columns or parent is None or copy.parent_column not in parent.columns \
                or (copy.modelled and copy.column not in plan.modelled):
            raise SerializationError(f"Orchestrator state: table {name!r} copies column {copy.column!r} from "
                                     f"{copy.parent_column!r} through relationship {copy.via}, which the tables do not "
                                     "have; the saved state is corrupt, save it again.")
    gaps = plan.rules.gaps
    if gaps is not None and (any(c not in plan.modelled for c in gaps.rebuilt) or any(
            q.low not in {*(c.column for c in plan.rules.copied), *gaps.rebuilt} for q in gaps.table.inequalities)):
        raise SerializationError(f"Orchestrator state: table {name!r} rebuilds columns {gaps.rebuilt} above copied "
                                 "ones, but they must be modelled columns, each above a copied or rebuilt column; the "
                                 "saved state is corrupt, save it again.")
    generated = {*plan.modelled, *plan.keys, *plan.unique_columns, *plan.per_parent_keys, *plan.numbered_keys,
                 *plan.label_keys, *plan.text_models, *(c.column for c in plan.rules.copied),
                 *(c for rel in rels for c in rel.child_columns)}
    for column, (source, part) in plan.rules.date_parts.items():
        if column not in plan.columns or column in generated or source in plan.rules.date_parts \
                or source not in plan.dtypes or part not in DATE_PARTS \
                or not pd.api.types.is_datetime64_any_dtype(dtype_from_name(plan.dtypes[source])):
            raise SerializationError(f"Orchestrator state: table {name!r}, field 'rules.date_parts': column "
                                     f"{column!r} is taken from part {part!r} of {source!r}, but it must be a column "
                                     "the table generates no other way, taken from a part "
                                     f"{list(DATE_PARTS)} of one of its datetime columns; the saved state is "
                                     "corrupt, save it again.")
    for kind, links, relations in (("parents", plan.parents, rels), ("self_refs", plan.self_refs, self_rels)):
        for via, link in enumerate(links):
            legs = set(relations[via].child_columns) if via < len(relations) else set()
            shares = [share for _, share in link.partly_null]
            if any(not set(combo) or not set(combo) < legs for combo, _ in link.partly_null) \
                    or not all(np.isfinite(shares + [link.null_rate])) or any(share < 0 for share in shares) \
                    or sum(shares) > link.null_rate + 1e-9:
                raise SerializationError(f"Orchestrator state: table {name!r}, field '{kind}[{via}].partly_null' "
                                         f"({link.partly_null}) must give some but not all of the FK's columns "
                                         f"{sorted(legs)} with finite shares >= 0 summing to at most its null_rate "
                                         f"({link.null_rate}); the saved state is corrupt, save it again.")
    if plan.rules.reference is not None and list(plan.rules.reference_frame(name).columns) != plan.columns:
        raise SerializationError(f"Orchestrator state: the stored rows of reference table {name!r} do not have its "
                                 f"columns {plan.columns}; the saved state is corrupt, save it again.")


def _excludes_own_parent(plan: "TablePlan", rels: list[Relationship], via: int) -> bool:
    """Whether FK ``via``, to the primary FK's table, must never point at a row's own primary
    parent (``follows(follower_id, followee_id)`` with no self-follow in the data)."""
    return rels[via].parent == rels[0].parent and plan.parents[via].same_parent_share == 0.0


@dataclass
class LinkPlan:
    """What was learned about one FK relationship of a table.

    Attributes:
        null_rate: Share of the table's rows where the FK is null.
        counts: Children per parent (primary FK), popularity (other FKs) or reports per row
            (self-references), as a function of the parent's attributes.
        self_root_share: Self-references only: share of rows that point at themselves (roots
            written ``manager_id = emp_id`` instead of null).
        same_parent_share: A secondary FK to the primary FK's table (``follows(follower_id,
            followee_id)``, both to ``users``): share of rows where both point at the same parent
            row. When it is 0, generation never pairs a row with its own primary parent.
        partly_null: A composite FK: per combination of non-null legs of the rows whose FK
            is partly null (``region`` known, ``store_no`` null), those legs and the share of the table's rows
            (part of ``null_rate``). As in SQL's ``MATCH SIMPLE``, such a row references no parent row; its
            non-null legs are generated as copies of the legs of a generated parent row
            (:func:`_fill_partly_null`; a self-reference's, of a generated row of the table). Empty under DP and
            in plans saved before it was kept: those rows come back fully null.
    """

    null_rate: float
    counts: CardinalityModel
    self_root_share: float = 0.0
    same_parent_share: float = 0.0
    partly_null: list[tuple[list[str], float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"null_rate": self.null_rate, "counts": self.counts.to_dict(), "self_root_share": self.self_root_share,
                "same_parent_share": self.same_parent_share,
                "partly_null": [[list(legs), share] for legs, share in self.partly_null]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> "LinkPlan":
        # self_root_share / same_parent_share / partly_null are absent from plans saved before they were kept.
        return cls(float(data["null_rate"]), CardinalityModel.from_dict(data["counts"], source),
                   float(data.get("self_root_share", 0.0)), float(data.get("same_parent_share", 0.0)),
                   [([str(c) for c in legs], float(share)) for legs, share in data.get("partly_null", [])])


@dataclass
class TablePlan:
    """Everything learned about one table, besides its generative model.

    Attributes:
        name: Table name.
        columns: Real column order.
        dtypes: Real dtype name per column.
        real_rows: Rows in the training data.
        modelled: Non-key columns handled by the model (empty: no model).
        keys: Generators of the primary-key columns that are not also FK columns.
        unique_columns: Generators of the other columns of sdtype ``id`` (unique codes that are no key,
            such as an order number): like keys, they are generated from each row's index in the table,
            so chunks and Spark slices never repeat one (a model numbers each call from the start), and
            are never null. Plans saved before keep such columns in the model.
        parents: One :class:`LinkPlan` per relationship to another table (primary first).
        self_refs: One :class:`LinkPlan` per self-reference.
        context: Parent-context columns fed to the model.
        context_domain: Discrete context values seen in training (generation stays inside them).
        model_class: Registry name of the table's engine (:mod:`syntho_hive.core.models.registry`), or
            ``None`` without a model.
        per_parent_keys: Primary-key legs that the real data numbers ``start, start+1, ...``
            within each combination of the primary key's FK columns (column -> start); they are
            generated the same way instead of unique over the table. A timestamp leg that is a timeline
            of each parent (:func:`~syntho_hive.relational.keys.per_parent_timeline`) has start 0: the
            ``k``-th row of a parent gets the key generator's ``k``-th timestamp.
        numbered_keys: Legs of a composite primary key without foreign-key legs that the real data
            numbers ``start, start+1, ...`` within each combination of the key's other legs, which are
            modelled (``stores(region, store_no)``: ``{"store_no": 1}``, ``region`` modelled); numbered
            after the modelled columns. Key legs that are neither here nor in ``keys`` (nor FKs) are
            modelled (:func:`~syntho_hive.relational.keys.composite_key_legs`).
        label_keys: The text leg of a primary key made of the primary FK and that leg, when the real data
            gives each parent distinct labels of a small set (``translations(product_id, locale)``): its
            frequent labels and their counts (:func:`~syntho_hive.relational.keys.per_parent_labels`);
            each parent's rows get distinct labels, so a parent has at most that many rows.
        text_models: When every modelled column is ``text`` (a lookup table such as
            ``airlines(carrier, name)``), no generative model is fitted: each column gets a word
            model (:class:`~syntho_hive.core.data.text_model.TextModel` state, plain JSON, no
            training value) and is generated from it, whatever the table's model class.
        rules: Copied, dependent and semantic columns filled after the model, or the stored rows
            of a reference table (:class:`~syntho_hive.relational.rule_plan.RulePlan`).
        privacy: The table's personal columns: removed before training and generated back last
            (:class:`~syntho_hive.core.privacy.TablePrivacyPlan`), or ``None`` without a privacy config.
    """

    name: str
    columns: list[str]
    dtypes: dict[str, str]
    real_rows: int
    modelled: list[str]
    keys: dict[str, KeyGenerator] = field(default_factory=dict)
    unique_columns: dict[str, KeyGenerator] = field(default_factory=dict)
    parents: list[LinkPlan] = field(default_factory=list)
    self_refs: list[LinkPlan] = field(default_factory=list)
    context: list[ContextColumn] = field(default_factory=list)
    context_domain: ContextDomain = field(default_factory=ContextDomain)
    model_class: str | None = None
    per_parent_keys: dict[str, int] = field(default_factory=dict)
    numbered_keys: dict[str, int] = field(default_factory=dict)
    label_keys: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    text_models: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: RulePlan = field(default_factory=RulePlan)
    privacy: TablePrivacyPlan | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (cardinality models included)."""
        return {
            "name": self.name, "columns": self.columns, "dtypes": self.dtypes, "real_rows": self.real_rows,
            "modelled": self.modelled, "keys": {c: g.to_dict() for c, g in self.keys.items()},
            "unique_columns": {c: g.to_dict() for c, g in self.unique_columns.items()},
            "parents": [p.to_dict() for p in self.parents], "self_refs": [p.to_dict() for p in self.self_refs],
            "context": [{"name": c.name, "via": c.via, "parent_column": c.parent_column} for c in self.context],
            "context_domain": self.context_domain.columns,
            "model_class": self.model_class,
            "per_parent_keys": self.per_parent_keys,
            "numbered_keys": self.numbered_keys,
            "label_keys": self.label_keys,
            "text_models": self.text_models,
            "rules": self.rules.to_dict(self.name),
            "privacy": self.privacy.to_dict() if self.privacy is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TablePlan":
        """Rebuild from :meth:`to_dict` output.

        Raises:
            SerializationError: When a field is missing or malformed.
        """
        try:
            name = str(data["name"])
            source = f"cardinality model of table {name!r}"
            columns, dtypes, modelled = _plan_columns(data, name)
            return cls(
                name=name, columns=columns, dtypes=dtypes, real_rows=int(data["real_rows"]), modelled=modelled,
                keys={c: KeyGenerator.from_dict(g) for c, g in data["keys"].items()},
                unique_columns={c: KeyGenerator.from_dict(g) for c, g in data.get("unique_columns", {}).items()},
                parents=[LinkPlan.from_dict(p, source) for p in data["parents"]],
                self_refs=[LinkPlan.from_dict(p, source) for p in data["self_refs"]],
                context=[ContextColumn(str(c["name"]), int(c["via"]), str(c["parent_column"]))
                         for c in data["context"]],
                context_domain=ContextDomain(data.get("context_domain", {})),
                model_class=data["model_class"],
                per_parent_keys={str(c): int(s) for c, s in data.get("per_parent_keys", {}).items()},
                numbered_keys={str(c): int(s) for c, s in data.get("numbered_keys", {}).items()},
                label_keys={str(c): {"values": list(d["values"]), "weights": [int(w) for w in d["weights"]]}
                            for c, d in data.get("label_keys", {}).items()},
                text_models={str(c): dict(m) for c, m in data.get("text_models", {}).items()},
                rules=RulePlan.from_dict(data.get("rules"), name),
                privacy=TablePrivacyPlan.from_dict(data["privacy"]) if data.get("privacy") is not None else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"Saved plan of a table is corrupt ({type(exc).__name__}: {exc}); "
                                     "save the synthesizer again.") from exc


def _partly_null_shares(fk: pd.DataFrame) -> list[tuple[list[str], float]]:
    """:attr:`LinkPlan.partly_null` of FK columns ``fk``: per combination of non-null legs of its partly null
    rows, those legs and the share of all rows, the most frequent combination first."""
    present = fk.notna().to_numpy()
    partly = present.any(axis=1) & ~present.all(axis=1)
    if not partly.any():
        return []
    masks, counts = np.unique(present[partly], axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return [([c for c, keep in zip(fk.columns, masks[i]) if keep], float(counts[i] / len(fk))) for i in order]


def _fill_partly_null(frame: pd.DataFrame, rel: Relationship, link: LinkPlan, positions: np.ndarray,
                      linked: np.ndarray, parent: pd.DataFrame, rng: np.random.Generator) -> None:
    """Make some rows of ``frame`` whose FK ``rel`` is null (``positions`` ``-1``) partly null, in place, at
    the real shares of :attr:`LinkPlan.partly_null`: their non-null legs are those of a parent row drawn from
    ``linked`` (the table's positions of rows with a parent, so popular parents lend their legs more often;
    every parent row alike when there are none), for a self-reference with shared columns one with the row's
    own values of them. Such a row matches no parent row, as in ``MATCH SIMPLE``.

    Raises:
        GenerationError: Partly null rows are to be generated but the parent has no generated row.
    """
    null_rows = np.flatnonzero(positions < 0)
    if not link.partly_null or len(null_rows) == 0:
        return
    shares = np.array([share for _, share in link.partly_null]) / link.null_rate  # > 0: it holds them
    shares = np.append(shares, max(0.0, 1.0 - shares.sum()))
    pattern = rng.choice(len(shares), size=len(null_rows), p=shares / shares.sum())
    pool = linked[linked >= 0]
    for index, (legs, _) in enumerate(link.partly_null):
        rows = null_rows[pattern == index]
        if len(rows) == 0:
            continue
        if len(parent) == 0:
            raise _no_parent_rows(rel.child, rel, f"{len(rows)} rows with a partly null key")
        if rel.shared_columns:  # a self-reference: lend the legs of a row of the row's own company
            source = _same_group_sources(parent[list(rel.shared_columns)], rows, pool, rng)
        else:
            source = pool[rng.integers(0, len(pool), len(rows))] if len(pool) else rng.integers(0, len(parent),
                                                                                                  len(rows))
        for c_col, p_col in zip(rel.child_columns, rel.parent_columns):
            if c_col in legs and c_col not in rel.shared_columns:  # a shared leg is the row's own value
                column = frame[c_col].copy()
                column.iloc[rows] = _take(parent[p_col], source, exact=True).to_numpy()
                frame[c_col] = column


def _same_group_sources(shared: pd.DataFrame, rows: np.ndarray, pool: np.ndarray,
                        rng: np.random.Generator) -> np.ndarray:
    """For each of ``rows`` of a table, a row with the same values of the ``shared`` columns (the table's),
    drawn from ``pool`` (repeats weigh more) or, where the pool has none of them, from all its rows."""
    codes, _ = pd.factorize(row_labels(shared), use_na_sentinel=False)
    source = np.full(len(rows), -1, dtype=np.int64)
    for candidates in (pool, np.arange(len(shared), dtype=np.int64)):
        todo = np.flatnonzero(source < 0)
        ordered = candidates[np.argsort(codes[candidates], kind="stable")]
        counts = np.bincount(codes[candidates], minlength=int(codes.max()) + 1)
        wanted = codes[rows[todo]]
        found = counts[wanted] > 0
        first = (np.cumsum(counts) - counts)[wanted[found]]
        source[todo[found]] = ordered[first + np.floor(rng.random(int(found.sum())) * counts[wanted[found]])
                                      .astype(np.int64)]
    return source


def _plan_columns(data: Mapping[str, Any], table: str) -> tuple[list[str], dict[str, str], list[str]]:
    """A saved plan's ``columns``, ``dtypes`` and ``modelled``, checked against each other: the columns are
    distinct names, each with the name of a dtype, and the modelled ones are among them.

    Raises:
        SerializationError: A field of another type or inconsistent with the others (named).
    """
    columns, dtypes, modelled = data["columns"], data["dtypes"], data["modelled"]
    problems = []
    for field_name, names in (("columns", columns), ("modelled", modelled)):
        if not isinstance(names, list) or not all(isinstance(c, str) for c in names) or len(set(names)) < len(names):
            problems.append(f"'{field_name}' must be a list of distinct column names, got {_brief(names)}")
    if not isinstance(dtypes, Mapping) or not all(isinstance(t, str) for t in dtypes.values()):
        problems.append(f"'dtypes' must map each column to a dtype name, got {_brief(dtypes)}")
    if problems:
        raise SerializationError(f"Saved plan of table {table!r} is corrupt: {'; '.join(problems)}; save the "
                                 "synthesizer again.")
    if set(dtypes) != set(columns) or not set(modelled) <= set(columns):
        raise SerializationError(f"Saved plan of table {table!r} is corrupt: 'dtypes' ({list(dtypes)}) and "
                                 f"'modelled' ({modelled}) must name the plan's 'columns' ({columns}); save the "
                                 "synthesizer again.")
    for column, dtype in dtypes.items():
        try:
            dtype_from_name(dtype)
        except (TypeError, ValueError, KeyError, ImportError) as exc:
            raise SerializationError(f"Saved plan of table {table!r} is corrupt: 'dtypes' gives column {column!r} "
                                     f"{dtype!r}, which names no dtype ({exc}); save the synthesizer again.") from exc
    return list(columns), dict(dtypes), list(modelled)


def _take(series: pd.Series, positions: np.ndarray, *, exact: bool = False) -> pd.Series:
    """``series`` values at ``positions``; ``-1`` gives a missing value.

    With ``exact`` (key values), an integer or boolean column with missing values becomes its
    nullable twin (``Int64``, ``UInt64``, ``boolean``) instead of ``float64``/``object``, which
    would round integers beyond ``2**53``.
    """
    if len(series) == 0:
        if exact and len(positions):
            return pd.Series([None] * len(positions), dtype=nullable_twin(series.dtype))
        return pd.Series([None] * len(positions), dtype=series.dtype if len(positions) == 0 else object)
    taken = series.iloc[np.maximum(positions, 0)].reset_index(drop=True)
    missing = positions < 0
    if missing.any():
        if exact:
            taken = taken.astype(nullable_twin(taken.dtype))
        taken = taken.where(~missing)
    return taken


def _beyond_float(keys: pd.Series) -> bool:
    """Whether integer ``keys`` hold a value that ``float64`` cannot hold exactly (``2**53 + 1``, ``2**62 + 1``)."""
    numpy_dtype = integer_dtype(keys.dtype)
    if numpy_dtype is None:
        return False
    ints = keys.dropna().to_numpy(dtype=np.uint64 if numpy_dtype.kind == "u" else np.int64)
    floats = ints.astype(np.float64)
    if (floats >= (2.0**64 if numpy_dtype.kind == "u" else 2.0**63)).any():  # rounded up past the dtype
        return True
    return bool((floats.astype(ints.dtype) != ints).any())


def _string_lengths(table: TableConfig) -> dict[str, int]:
    """The declared maximum length of each text column of ``table`` that has one (``VARCHAR(n)``)."""
    return {column: int(kind.length) for column, kind in table.column_types.items()
            if kind.kind == "string" and kind.length is not None}


def _cut_to_length(name: str, chunk: pd.DataFrame, lengths: Mapping[str, int]) -> pd.DataFrame:
    """``chunk`` with every text value cut to its column's declared length (the last resort: semantic
    values are drawn again first, see :meth:`SemanticPlan.generate`); a cut is logged."""
    for column, limit in lengths.items():
        if column not in chunk.columns or not (pd.api.types.is_object_dtype(chunk[column].dtype)
                                               or pd.api.types.is_string_dtype(chunk[column].dtype)):
            continue
        values = chunk[column]
        long = values.map(lambda v: isinstance(v, str) and len(v) > limit).to_numpy(dtype=bool)
        if long.any():
            chunk = chunk.copy()
            chunk.loc[long, column] = values[long].str.slice(0, limit)
            _log.warning("relational_values_cut", table=name, column=column, rows=int(long.sum()), max_length=limit,
                         reason=f"generated text longer than the column's declared {limit} characters")
    return chunk


def _keyable(series: pd.Series, sdtype: str | None) -> bool:
    """Whether a column declared unique alone can be generated as a key: integers, or text that is not a date
    (dates, decimals and other objects stay modelled and are kept unique by
    :class:`~syntho_hive.relational.unique_sets.UniqueSets`)."""
    if pd.api.types.is_integer_dtype(series.dtype):
        return True
    return sdtype != "datetime" and pd.api.types.infer_dtype(series.dropna(), skipna=True) == "string"


def model_accepts(cls: type[ConditionalGenerativeModel], name: str) -> bool:
    """Whether the engine ``cls`` takes the constructor option ``name``."""
    return name in cls.parameter_names()


def model_metadata(table: TableConfig, modelled: Collection[str]) -> Metadata:
    """The schema a table's model is built with: the table restricted to its modelled columns.

    The model gets the column sdtypes and formats, and the declared constraints, inequalities (with
    the detected date orderings) and fixed combinations among its columns, which its rows then satisfy
    by construction. Keys are generated outside the model, so the table has none, and no personal
    columns (the schema's fit decided them before); a rule naming a
    column the model does not draw (a key, a copied or generated column) cannot be honoured by it and
    is logged.

    Args:
        table: The table as the models see it (``Orchestrator``'s metadata with the date orderings).
        modelled: The columns its model learns.

    Returns:
        A one-table :class:`Metadata`.
    """
    keep = set(modelled)
    inequalities = [q for q in table.inequalities if {q.low, q.high} <= keep]
    combinations = [g for g in table.fixed_combinations if set(g.columns) <= keep]
    constraints = {c: rule for c, rule in table.constraints.items() if c in keep}
    outside = sorted(table.rule_columns(dependencies=False) - keep)
    if outside:
        _log.warning("rules_on_unmodelled_columns", table=table.name, columns=outside,
                     reason="keys, copied columns and generated columns are not drawn by the table's model, "
                            "which cannot make them satisfy a constraint, inequality or fixed combination",
                     hint="declare the rule on modelled columns only, or switch the copy off (copied_from) "
                          "for the column")
    restricted = TableConfig(
        name=table.name, constraints=constraints, inequalities=inequalities, fixed_combinations=combinations,
        columns={c: t for c, t in table.columns.items() if c in keep},
        datetime_formats={c: f for c, f in table.datetime_formats.items() if c in keep},
        column_types={c: t for c, t in table.column_types.items() if c in keep})
    return Metadata(tables={table.name: restricted})


def _brief(value: Any) -> str:
    """``value`` for an error message: its type and a short repr."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_chunk_rows(chunk_rows: Any) -> int:
    """``chunk_rows`` itself when it is a positive integer.

    Raises:
        GenerationError: It is not.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise GenerationError(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")
    return chunk_rows


#: Largest root table generated whole in every slice of a partitioned generation.
DEFAULT_REPLICATE_ROWS = 10_000


@dataclass(frozen=True)
class PartitionPlan:
    """How a partitioned generation (``Orchestrator.generate(partition=(p, P))``) divides the roots.

    Build it with :meth:`Orchestrator.partition_plan`; the driver and every task compute it
    alike.

    Attributes:
        partitions: Number of slices ``P``.
        replicate_rows: Largest root generated whole in every slice.
        global_tables: Roots generated whole in every slice and emitted by slice 0 only (asked
            for at most ``replicate_rows`` rows, or fewer rows than slices).
        root_rows: Rows asked for of each root table, over all slices.
    """

    partitions: int
    replicate_rows: int
    global_tables: frozenset[str]
    root_rows: dict[str, int]

    def is_global(self, table: str) -> bool:
        """Whether ``table`` is generated whole in every slice."""
        return table in self.global_tables

    def rows_in(self, table: str, p: int) -> int:
        """Rows of root ``table`` that slice ``p`` emits.

        Args:
            table: A root table.
            p: A slice, ``0 <= p < partitions``.

        Returns:
            ``N // P + (p < N % P)`` of a split root's ``N`` rows; a global root's ``N`` rows for
            slice 0 and 0 for the others.

        Raises:
            GenerationError: ``table`` is not a root (a child's rows are drawn, not planned) or
                ``p`` is out of range.
        """
        if table not in self.root_rows:
            raise GenerationError(f"rows_in: {table!r} is not a root table ({sorted(self.root_rows)}); the rows of "
                                  "a child table are drawn from its parents, not planned.")
        if not is_int(p) or not 0 <= p < self.partitions:
            raise GenerationError(f"rows_in: partition must be an integer in 0..{self.partitions - 1}, got {p!r}.")
        total = self.root_rows[table]
        if table in self.global_tables:
            return total if p == 0 else 0
        return _share(total, int(p), self.partitions)


@dataclass(frozen=True)
class _Partition:
    """The slice a partitioned generation produces: ``index`` of ``count``, its plan and its seed
    (``child_seed(seed, "partition", index)``, for the content of non-global tables)."""

    index: int
    count: int
    plan: PartitionPlan
    seed: int

    def emits(self, table: str) -> bool:
        """Whether this slice hands ``table``'s rows over (a global table: slice 0 only)."""
        return self.index == 0 or table not in self.plan.global_tables


def _share(total: int, p: int, count: int) -> int:
    """Slice ``p``'s share of ``total`` rows divided between ``count`` slices."""
    return total // count + int(p < total % count)


def _shares(counts: np.ndarray, p: int, count: int) -> np.ndarray:
    """Slice ``p``'s share of the ``c`` children of each parent row ``j``: ``c // P + ((j + p) % P < c % P)``
    (the shares of the ``P`` slices add up to ``c``)."""
    counts = np.asarray(counts, dtype=np.int64)
    rows = np.arange(counts.size, dtype=np.int64)
    return counts // count + ((rows + p) % count < counts % count)


def _earlier_shares(counts: np.ndarray, p: int, count: int) -> np.ndarray:
    """Children of each parent row in slices ``0 .. p - 1`` (see :func:`_shares`)."""
    counts = np.asarray(counts, dtype=np.int64)
    rows = np.arange(counts.size, dtype=np.int64)
    earlier = (counts // count) * p
    for q in range(p):
        earlier += (rows + q) % count < counts % count
    return earlier


def _no_parent_rows(name: str, rel: Relationship, rows: str) -> GenerationError:
    """The error for ``rows`` of ``name`` that need a row of ``rel``'s parent when it has none."""
    return GenerationError(f"table {name!r}: {rows} need a row of {rel.parent!r} for foreign key "
                           f"{list(rel.child_columns)}, but {rel.parent!r} has 0 generated rows; ask for at least "
                           f"one row of {rel.parent!r} in num_rows.")


def _clipped(name: str, counts: np.ndarray, cap: int | None) -> np.ndarray:
    """``counts`` with none above ``cap`` (``None``: as they are), logging the rows dropped: a slice
    whose rows of a split key parent leave fewer key combinations than children."""
    if cap is None or int(counts.max(initial=0)) <= cap:
        return counts
    clipped = np.minimum(counts, cap)
    _log.warning("relational_partition_rows_dropped", table=name, rows=int((counts - clipped).sum()),
                 reason="the slice's rows of a parent in the primary key leave too few key combinations")
    return clipped


def _layout(counts: np.ndarray, n_null: int, rng: np.random.Generator) -> np.ndarray:
    """Each parent row's position ``counts`` times and ``n_null`` nulls (``-1``), in a seeded random order."""
    pos = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    if n_null:
        pos = np.concatenate([pos, np.full(n_null, -1, dtype=np.int64)])
    # Rows in a seeded random order, not grouped by parent: a real child table is rarely sorted
    # by its foreign key (flights are not grouped by plane), and its first rows should not all
    # belong to the first parents.
    return pos[rng.permutation(pos.size)]


def check_count(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as an int when it is an integer ``>= minimum`` (``name`` names it in the error).

    Raises:
        GenerationError: It is not.
    """
    if not is_int(value) or value < minimum:
        wanted = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise GenerationError(f"{name} must be {wanted}, got {value!r}.")
    return int(value)


def _check_partition(partition: Any) -> tuple[int, int]:
    """``(p, P)`` when ``partition`` is a pair of integers with ``0 <= p < P``.

    Raises:
        GenerationError: It is not.
    """
    if not isinstance(partition, tuple) or len(partition) != 2:
        raise GenerationError(f"partition must be a tuple (p, P) with 0 <= p < P, got {_brief(partition)}.")
    count = check_count(partition[1], "partition's P (the number of partitions)", minimum=1)
    index = check_count(partition[0], "partition's p (this partition)", minimum=0)
    if index >= count:
        raise GenerationError(f"partition must be (p, P) with 0 <= p < P, got p={index} for P={count}.")
    return index, count


class Orchestrator:
    """Fits and generates every table of a schema.

    It owns what it learns: :meth:`plan` and :meth:`fitted_model` read it, :meth:`to_dict` exports
    it (without the models, which their owner saves) and :meth:`from_dict` builds a fitted
    orchestrator back from that export and the loaded models.

    Args:
        metadata: The schema.
        models: Model class per table.
        model_kwargs: Constructor arguments, each passed to every model whose constructor takes it
            (so CTGAN- and TVAE-specific options can be mixed when tables use different models).
        seed: Master seed; each table and purpose gets its own child seed.
        chunk_rows: Child rows generated per model call.
        privacy: Personal-data handling (:class:`~syntho_hive.core.privacy.PrivacyConfig`): at ``fit``
            the personal columns are decided and removed before anything learns from the tables
            (:mod:`syntho_hive.relational.privacy_plans`), and generation puts them back last. With
            ``privacy.dp`` set, the whole fit is differentially private within one budget
            (:mod:`syntho_hive.relational.dp_budget`; what is refused: :mod:`syntho_hive.relational.dp_checks`),
            and :attr:`privacy_spent_` reports it. ``None`` where a table declares personal columns
            (``pii_cols``): ``PrivacyConfig(detect=False)``, as a single model's fit does.

    Raises:
        PrivacyError: ``dp`` among the model options (pass it in ``privacy`` instead).
    """

    def __init__(self, metadata: Metadata, models: Mapping[str, type[ConditionalGenerativeModel]],
                 model_kwargs: Mapping[str, Any] | None = None, *, seed: int,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, privacy: PrivacyConfig | None = None) -> None:
        self.metadata = metadata
        self.privacy = privacy
        self.graph = SchemaGraph.from_metadata(metadata)
        self.models = dict(models)
        self.model_kwargs = dict(model_kwargs or {})
        self.seed = seed
        self.chunk_rows = chunk_rows
        self._plans: dict[str, TablePlan] = {}
        self._fitted_models: dict[str, ConditionalGenerativeModel] = {}
        self._text_model_cache: dict[str, dict[str, TextModel]] = {}
        self.fit_seconds_: dict[str, float] = {}
        self.rules_: SchemaRules | None = None
        self.rules_report_: dict[str, Any] = {}
        self._model_metadata = metadata
        self._fit_metadata = metadata
        refuse_dp_model_option(self.model_kwargs)
        #: What a fit under differential privacy spent (``None``: not fitted under DP).
        self.privacy_spent_: SchemaPrivacySpent | None = None
        self._dp_budget: dict[str, TableBudget] = {}
        self._dp_links: dict[str, LinkSpent] = {}
        self._dp_rules: dict[str, RulePlan] = {}

    # ------------------------------------------------------------------ state
    @property
    def is_fitted(self) -> bool:
        """Whether every table has its plan (after :meth:`fit`, or built by :meth:`from_dict`)."""
        return bool(self._plans) and all(name in self._plans for name in self.graph.order)

    @property
    def reference_tables(self) -> list[str]:
        """The reference tables, copied verbatim with their real rows, parents first (none before :meth:`fit`)."""
        return [name for name in self.graph.order
                if name in self._plans and self._plans[name].rules.reference is not None]

    def plan(self, name: str) -> TablePlan:
        """What was learned about table ``name`` besides its model.

        Args:
            name: A table of the metadata.

        Returns:
            The table's plan (the orchestrator's own object: read it, do not modify it).

        Raises:
            SchemaError: ``name`` is not a table of the metadata.
            NotFittedError: Before :meth:`fit` (or :meth:`from_dict`).
        """
        self._check_fitted_table(name)
        return self._plans[name]

    def fitted_model(self, name: str) -> ConditionalGenerativeModel | None:
        """The fitted model of table ``name``.

        Args:
            name: A table of the metadata.

        Returns:
            The model, or ``None`` when the table has none (only key columns, or only text columns,
            which word models in its plan generate).

        Raises:
            SchemaError: ``name`` is not a table of the metadata.
            NotFittedError: Before :meth:`fit` (or :meth:`from_dict`).
        """
        self._check_fitted_table(name)
        return self._fitted_models.get(name)

    def _check_fitted_table(self, name: str) -> None:
        if name not in self.metadata.tables:
            raise SchemaError(f"Unknown table {name!r}; the metadata's tables are {sorted(self.metadata.tables)}.")
        if not self.is_fitted:
            raise NotFittedError("This orchestrator is not fitted: call fit(data) or build it with "
                                 "Orchestrator.from_dict(...).")

    def to_dict(self) -> dict[str, Any]:
        """The learned state, JSON-serialisable, without the models (their owners save those).

        Returns:
            ``{"tables": [{"name": table, "plan": plan, "has_model": bool}, ...]}``, parents first
            (generation order): ``plan`` is :meth:`TablePlan.to_dict` output and ``has_model`` says
            whether the table has a fitted model (:meth:`fitted_model`) that :meth:`from_dict`
            must be given back.

        Raises:
            NotFittedError: Before :meth:`fit` (or :meth:`from_dict`).
        """
        if not self.is_fitted:
            raise NotFittedError("Cannot export the state of an orchestrator that is not fitted; call fit(data) "
                                 "first.")
        return {"tables": [{"name": name, "plan": self._plans[name].to_dict(), "has_model": name in self._fitted_models}
                           for name in self.graph.order],
                "rules": self.rules_report_,
                "dp": self.privacy_spent_.to_dict() if self.privacy_spent_ is not None else None}

    @classmethod
    def from_dict(cls, metadata: Metadata, data: Mapping[str, Any],
                  fitted_models: Mapping[str, ConditionalGenerativeModel], *,
                  models: Mapping[str, type[ConditionalGenerativeModel]], model_kwargs: Mapping[str, Any] | None = None,
                  seed: int, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> "Orchestrator":
        """An orchestrator ready to generate, from :meth:`to_dict` output and the tables' fitted models.

        Args:
            metadata: The schema the state was learned on.
            data: :meth:`to_dict` output (e.g. read back from JSON); tables in any order.
            fitted_models: ``{table: fitted model}`` for exactly the tables whose entry says
                ``"has_model": true``, already loaded.
            models: Model class per table, as for the constructor (used by a later :meth:`fit`).
            model_kwargs: As for the constructor.
            seed: As for the constructor.
            chunk_rows: As for the constructor.

        Returns:
            The orchestrator, fitted: :meth:`generate` gives what the one that wrote ``data`` gave.

        Raises:
            SerializationError: ``data`` is malformed: not a mapping with a ``tables`` list, an
                entry without a ``name`` string, a ``plan`` mapping and a ``has_model`` boolean,
                a table missing, repeated or not in the metadata, a corrupt plan or one of another
                table, ``has_model`` at odds with the plan; or ``fitted_models`` does not hold a
                model object for exactly the tables with ``has_model`` (the message names the table).
        """
        engine = cls(metadata, models, model_kwargs, seed=seed, chunk_rows=chunk_rows)
        entries = data.get("tables") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise SerializationError("Orchestrator state must be a mapping with a 'tables' list (Orchestrator."
                                     f"to_dict() output), got {_brief(data)}.")
        plans: dict[str, TablePlan] = {}
        with_model: set[str] = set()
        for position, entry in enumerate(entries):
            name = entry.get("name") if isinstance(entry, Mapping) else None
            if not isinstance(name, str):
                raise SerializationError(f"Orchestrator state: tables[{position}] must be a mapping with a 'name' "
                                         f"string, got {_brief(entry)}.")
            if name not in metadata.tables:
                raise SerializationError(f"Orchestrator state: table {name!r} is not in the metadata "
                                         f"({sorted(metadata.tables)}); use the metadata it was saved with.")
            if name in plans:
                raise SerializationError(f"Orchestrator state: table {name!r} appears twice in 'tables'.")
            plan_data, has_model = entry.get("plan"), entry.get("has_model")
            if not isinstance(plan_data, Mapping) or not isinstance(has_model, bool):
                raise SerializationError(f"Orchestrator state: table {name!r} needs a 'plan' mapping and a "
                                         f"'has_model' boolean, got {_brief(plan_data)} and {_brief(has_model)}.")
            try:
                plan = TablePlan.from_dict(plan_data)
            except SerializationError as exc:
                raise SerializationError(f"Orchestrator state: table {name!r}: {exc}") from exc
            if plan.name != name:
                raise SerializationError(f"Orchestrator state: the entry of table {name!r} holds the plan of "
                                         f"table {plan.name!r}.")
            needs_model = bool(plan.modelled) and not plan.text_models
            if has_model != needs_model:
                raise SerializationError(f"Orchestrator state: table {name!r} has 'has_model': {has_model}, but its "
                                         f"plan {'needs' if needs_model else 'has no use for'} a model.")
            plans[name] = plan
            if has_model:
                with_model.add(name)
        missing = [name for name in engine.graph.order if name not in plans]
        if missing:
            raise SerializationError(f"Orchestrator state has no plan for table(s) {missing}; it must hold every "
                                     f"table of the metadata ({engine.graph.order}).")
        for name, plan in plans.items():
            _check_rules(name, plan, engine.graph.parents_of(name), plans, engine.graph.self_references(name))
        if not isinstance(fitted_models, Mapping):
            raise SerializationError(f"fitted_models must be a mapping {{table: fitted model}}, got "
                                     f"{type(fitted_models).__name__}.")
        for name in engine.graph.order:
            given = fitted_models.get(name)
            if name in with_model and not isinstance(given, ConditionalGenerativeModel):
                raise SerializationError(f"Table {name!r} needs its fitted model (a ConditionalGenerativeModel) in "
                                         f"fitted_models, got {_brief(given)}.")
        for name in with_model:  # a time of day is held as datetime.time objects: an object column
            times = [c for c in fitted_models[name].time_columns_ if plans[name].dtypes.get(c) != "object"]
            if times:
                raise SerializationError(f"Orchestrator state: the model of table {name!r} generates times of day "
                                         f"in column(s) {times}, which its plan records as "
                                         f"{[plans[name].dtypes.get(c) for c in times]}; the saved model and plan "
                                         "do not match: save the synthesizer again.")
        extra = [name for name in fitted_models if name not in with_model]
        if extra:
            raise SerializationError(f"fitted_models holds models for table(s) {extra}, which have none in the "
                                     "state (unknown tables, or tables generated without a model).")
        engine._plans = {name: plans[name] for name in engine.graph.order}
        report = data.get("rules")
        engine.rules_report_ = dict(report) if isinstance(report, Mapping) else {}
        engine._fitted_models = {name: fitted_models[name] for name in engine.graph.order if name in with_model}
        if data.get("dp") is not None:
            engine.privacy_spent_ = SchemaPrivacySpent.from_dict(data["dp"], "Orchestrator state: the privacy spent")
        return engine

    # ------------------------------------------------------------------ fit
    @property
    def fit_privacy_config(self) -> PrivacyConfig | None:
        """The privacy config :meth:`fit` applies: the given one (to every table), else
        ``PrivacyConfig(detect=False)`` where a table declares personal columns (``pii_cols``: their default
        actions, as a single model's fit; applied to those tables only), else ``None``."""
        if self.privacy is None and any(table.pii_cols for table in self.metadata.tables.values()):
            return PrivacyConfig(detect=False)
        return self.privacy

    def fit(self, data: Mapping[str, pd.DataFrame], *, epochs: int | None = None, batch_size: int | None = None,
            progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            n_jobs: int | None = None, complete: Mapping[str, np.ndarray] | None = None) -> "Orchestrator":
        """Learn every table: keys, links and context here, then the models, several at once.

        Args:
            data: ``{table: DataFrame}`` for every table of the metadata (already validated).
            epochs: Training epochs passed to each model's constructor (``None``: its default).
            batch_size: Batch size passed to each model's constructor (``None``: its default).
            progress_bar: Show progress over tables (and, with ``n_jobs=1``, the models' own bars).
            checkpoint_dir: When given, each model keeps its training checkpoints in
                ``checkpoint_dir/<table>``.
            n_jobs: Processes fitting models at once, this one included (``None``: one per CPU
                core, at most one per model; 1: one after the other, here). Each fit uses one
                torch thread whatever ``n_jobs`` is, so the result does not depend on it (see
                :mod:`syntho_hive.relational.fitting`).
            complete: ``{table: boolean mask over data[table]}``: the rows whose children are all in
                ``data`` (a subset's, :func:`~syntho_hive.relational.subset.complete_rows`); the number of
                children per parent of a foreign key to such a table is learned from these rows only.

        Returns:
            ``self``.

        Raises:
            TrainingError: A table is missing from ``data``, a mask of ``complete`` does not match its
                table's rows, no model takes ``epochs``/``batch_size``, bad ``n_jobs``, or a model failed
                to train.
            ConfigurationError: The personal columns' actions cannot apply (every problem listed, before any
                state is reset), e.g. a declared personal column with no action and no personal semantic type.
        """
        missing = [t for t in self.graph.order if t not in data]
        if missing:
            raise TrainingError(f"No data for table(s) {missing}; fit() needs every table of the metadata "
                                f"({self.graph.order}).")
        complete = dict(complete or {})
        wrong = [t for t, mask in complete.items() if t not in data or len(mask) != len(data[t])]
        if wrong:
            raise TrainingError(f"complete= masks of table(s) {wrong} do not match the rows given for them; "
                                "give one boolean per row of data[table].")
        resolve_n_jobs(n_jobs, len(self.graph.order))  # a bad n_jobs fails here, before any state is reset
        privacy = self.fit_privacy_config
        dp = privacy.dp if privacy is not None else None
        if dp is not None:  # everything DP cannot honour, before any state is reset
            check_dp_schema(self.metadata, self.models, data, dp, checkpoint_dir=checkpoint_dir)
        privacy_plans: dict[str, TablePrivacyPlan] = {}
        fit_metadata = self.metadata
        if privacy is not None:  # before anything learns from the tables (or any state is reset): no personal
            # value reaches a model
            privacy_plans, data = fit_privacy(self.privacy, self.metadata, data, seed=self.seed,
                                              rare_threshold=self._rare_threshold())
            fit_metadata = privacy_metadata(self.metadata, privacy_plans)
            for name, plan in privacy_plans.items():
                _log.info("privacy_plan_resolved", table=name,
                          **{d.column: d.action for d in plan.decisions.values()})
        self._plans, self._fitted_models, self.fit_seconds_ = {}, {}, {}
        self._text_model_cache = {}
        self.privacy_spent_, self._dp_budget, self._dp_links, self._dp_rules = None, {}, {}, {}
        self._fit_metadata = fit_metadata
        self.rules_ = declared_rules(self._fit_metadata, data) if dp is not None else \
            resolve_rules(self._fit_metadata, data, rare_threshold=self._rare_threshold())
        self._model_metadata = self.rules_.with_orderings(self._fit_metadata)
        self.rules_report_ = self.rules_.to_dict()
        for name, rules in self.rules_report_.items():
            _log.info("relational_rules_resolved", table=name, **rules)
        sdtypes = {name: column_sdtypes(data[name], self._fit_metadata.tables[name].columns,
                                        self._fit_metadata.tables[name].key_columns) for name in self.graph.order}
        if dp is not None:
            self._plan_dp(dp, data, sdtypes)
        counted = {t: data[t][np.asarray(mask, dtype=bool)] for t, mask in complete.items()}
        jobs: list[ModelJob] = []
        for name in self.graph.order:
            started = time.perf_counter()
            job = self._fit_table(name, data, sdtypes, epochs, batch_size, checkpoint_dir, counted)
            self.fit_seconds_[name] = time.perf_counter() - started
            if job is not None:
                jobs.append(job)
            else:  # keys only: nothing left to fit
                _log.info("relational_table_fitted", table=name, rows=len(data[name]),
                          seconds=round(self.fit_seconds_[name], 3))
        if dp is not None:
            check_dp_releases(jobs)
        fitted: dict[str, ConditionalGenerativeModel] = {}
        for done in fit_models(jobs, n_jobs=n_jobs, progress_bar=progress_bar):
            fitted[done.table] = done.model
            self.fit_seconds_[done.table] += done.seconds
            _log.info("relational_table_fitted", table=done.table, rows=len(data[done.table]),
                      seconds=round(self.fit_seconds_[done.table], 3), in_worker=done.in_worker)
        self._fitted_models = {name: fitted[name] for name in self.graph.order if name in fitted}
        for name, plan in privacy_plans.items():
            self._plans[name].privacy = plan
        if dp is not None:
            self.privacy_spent_ = self._dp_spent(dp)
            _log.info("dp_schema_privacy_spent", epsilon=self.privacy_spent_.epsilon, delta=self.privacy_spent_.delta,
                      max_epsilon=dp.max_epsilon, tables={n: t.epsilon for n, t in self.privacy_spent_.tables.items()})
        return self

    def _modelled(self, name: str, df: pd.DataFrame, rule_plan: RulePlan, key_legs: Collection[str] = ()) -> list[str]:
        """Columns of ``name`` its model learns: neither keys (except the primary-key legs ``key_legs``, which
        are attributes) nor filled by its rules."""
        filled = (set(self._fit_metadata.tables[name].key_columns) - set(key_legs)) | set(rule_plan.filled_columns)
        return [str(c) for c in df.columns if c not in filled]

    def _plan_dp(self, config: DPConfig, data: Mapping[str, pd.DataFrame],
                 sdtypes: Mapping[str, dict[str, str]]) -> None:
        """Under DP, before any table is learned: the rule plans (no value read), the refusal of modelled text
        columns, and the split of the budget between the tables (:func:`plan_schema_budget`)."""
        needs: dict[str, tuple[bool, float]] = {}
        modelled: dict[str, list[str]] = {}
        for name in self.graph.order:
            table = self._fit_metadata.tables[name]
            self._dp_rules[name] = RulePlan.fit_dp(data[name], table, self.rules_.tables[name])
            modelled[name] = self._modelled(name, data[name], self._dp_rules[name])
            links = [rel.is_self for rel in self.graph.parents_of(name) + self.graph.self_references(name)]
            needs[name] = (bool(modelled[name]), float(sum(link_sensitivity_sq(is_self) for is_self in links)))
        check_dp_columns({name: {c: t for c, t in sdtypes[name].items() if c in modelled[name]}
                          for name in self.graph.order})
        self._dp_budget = plan_schema_budget(config, needs, modelled)

    def _dp_spent(self, config: DPConfig) -> SchemaPrivacySpent:
        """What every table spent (its model's report and its links' histograms).

        Raises:
            PrivacyError: A model that was given a budget reports no privacy spent.
        """
        tables: dict[str, TablePrivacySpent] = {}
        for name in self.graph.order:
            budget = self._dp_budget[name]
            model = self._fitted_models.get(name)
            spent = getattr(model, "privacy_spent_", None) if model is not None else None
            if budget.model is not None and model is not None and spent is None:
                raise PrivacyError(f"table {name!r}: {type(model).__name__} was fitted with dp= but reports no "
                                   "privacy_spent_; it cannot be part of a schema under differential privacy.")
            tables[name] = TablePrivacySpent(name, budget.epsilon, budget.delta, spent, self._dp_links.get(name))
        return SchemaPrivacySpent(config.max_epsilon, config.delta, tables)

    def _fit_table(self, name: str, data: Mapping[str, pd.DataFrame], sdtypes: Mapping[str, dict[str, str]],
                   epochs: int | None, batch_size: int | None, checkpoint_dir: str | Path | None,
                   counted: Mapping[str, pd.DataFrame]) -> ModelJob | None:
        """Learn ``name``'s plan (keys, links, context); return its model's fit, if it has one
        (``counted``: the parent rows whose children per parent are learned, where not every row; only for
        a table itself in ``counted``)."""
        table = self._fit_metadata.tables[name]
        df = data[name].reset_index(drop=True)
        dp = self._dp_budget.get(name)  # under DP no step below reads a value outside the budget
        rule_plan = self._dp_rules[name] if dp is not None else \
            RulePlan.fit(name, df, table, self.rules_.tables[name], rare_threshold=self._rare_threshold())
        if rule_plan.reference is not None:
            self._plans[name] = TablePlan(name=name, columns=[str(c) for c in df.columns],
                                          dtypes={str(c): dtype_name(df[c].dtype) for c in df.columns},
                                          real_rows=len(df), modelled=[], rules=rule_plan)
            return None
        fk_columns = {c for rel in self.graph.relationships if rel.child == name for c in rel.child_columns
                      if c not in rel.shared_columns}
        key_legs, numbered = ([], {}) if dp is not None or fk_columns & set(table.pk_columns) else \
            composite_key_legs(df, list(table.pk_columns))
        modelled = self._modelled(name, df, rule_plan, key_legs)
        ruled = table.rule_columns()  # a unique column a rule names is drawn by the model, kept unique
        try:  # a key format that cannot be generated is named with its table
            keys = {c: KeyGenerator(c).fit_dtype(df[c]) if dp is not None else
                    KeyGenerator(c).fit(df[c], seed=child_seed(self.seed, name, "keys", c))
                    for c in table.pk_columns if c not in fk_columns and c not in key_legs and c not in numbered}
            unique = {c: KeyGenerator(c).fit_dtype(df[c]) if dp is not None else
                      KeyGenerator(c).fit(df[c], seed=child_seed(self.seed, name, "unique", c))
                      for c in modelled if c not in key_legs and (sdtypes[name].get(c) == "id" or (
                          [c] in table.unique and c not in ruled and _keyable(df[c], sdtypes[name].get(c))))}
        except SchemaError as exc:
            raise SchemaError(f"Table {name!r}: {exc}") from exc
        modelled = [c for c in modelled if c not in unique]
        model_table = self._model_metadata.tables[name]
        if dp is None:  # under DP no inequality is declared (check_dp_schema)
            rule_plan.gaps = CopyGaps.fit(model_table, [c.column for c in rule_plan.copied], modelled, df)
        if rule_plan.gaps is not None:
            model_table = rule_plan.gaps.model_table(model_table)
        parents_rel = self.graph.parents_of(name)
        parent_part = self._pk_parent_columns(name)
        per_parent = {c: start for c in keys if parent_part and dp is None
                      and (start := per_parent_start(df[c], df[parent_part])) is not None}
        per_parent.update({c: 0 for c in keys if parent_part and dp is None and c not in per_parent
                           and per_parent_timeline(df[c], df[parent_part], keys[c])})
        labels: dict[str, dict[str, list[Any]]] = {}
        if dp is None and len(keys) == 1 and not per_parent and parents_rel \
                and set(parent_part) == set(parents_rel[0].child_columns) == set(table.pk_columns) - set(keys):
            (leg,) = keys
            found = per_parent_labels(df[leg], df[parent_part], self._rare_threshold())
            if found is not None:
                labels[leg] = found
                del keys[leg]
        noise = link_noise(dp) if dp is not None else None
        rng = numpy_generator(child_seed(self.seed, name, "dp", "links"))
        # a table with no complete row (subset fallback: absent from counted) learns from every kept parent row
        links = [self._fit_link(rel, df, counted.get(rel.parent, data[rel.parent]) if name in counted
                                else data[rel.parent], sdtypes[rel.parent], noise, rng) for rel in parents_rel]
        for link, rel in zip(links[1:], parents_rel[1:]):
            if rel.parent == parents_rel[0].parent and len(df) and dp is None:
                link.same_parent_share = float(same_rows(df[list(rel.child_columns)],
                                                         df[list(parents_rel[0].child_columns)]).mean())
        self_links = [self._fit_link(rel, df, df, sdtypes[name], noise, rng)
                      for rel in self.graph.self_references(name)]
        if noise is not None and dp is not None:
            self._dp_links[name] = LinkSpent.of(dp, noise, len(links) + len(self_links))
        context: list[ContextColumn] = []
        text_only = bool(modelled) and all(self._generated_as_text(df[c], sdtypes[name].get(c), dp) for c in modelled)
        if parents_rel and modelled and not text_only:
            primary_parent = data[parents_rel[0].parent]
            parent_keys = set(self.metadata.tables[parents_rel[0].parent].key_columns)
            defaults = [] if dp is not None else default_context_columns(  # under DP: declared context only
                primary_parent[[c for c in primary_parent.columns if c not in parent_keys]],
                sdtypes[parents_rel[0].parent])
            context = resolve_context(name, list(table.parent_context_cols), parents_rel,
                                      {rel.parent: [str(c) for c in data[rel.parent].columns]
                                       for rel in parents_rel}, defaults)
        plan = TablePlan(name=name, columns=[str(c) for c in df.columns],
                         dtypes={str(c): dtype_name(df[c].dtype) for c in df.columns}, real_rows=len(df),
                         modelled=modelled, keys=keys, unique_columns=unique, parents=links, self_refs=self_links,
                         context=context,
                         per_parent_keys=per_parent, numbered_keys=numbered, label_keys=labels, rules=rule_plan)
        job = None
        if text_only:
            threshold = self._rare_threshold()
            plan.text_models = {c: TextModel.fit(df[c], rare_threshold=threshold).to_dict() for c in modelled}
            _log.info("relational_text_only_table", table=name, columns=modelled,
                      reason="every non-key column is text (or a categorical of rare values): generated by word "
                           "models, no network fitted")
        elif modelled:
            cls = self.models[name]
            plan.model_class = cls.model_name
            kwargs = self._constructor_kwargs(cls, epochs, batch_size)
            kwargs["metadata"] = model_metadata(model_table, rule_plan.model_columns(modelled))
            if dp is not None:
                kwargs["dp"] = dp.model
            model = cls(**kwargs)
            ctx = None
            if context:
                positions = [parent_positions(df, rel.child_columns, data[rel.parent], rel.parent_columns)
                             for rel in parents_rel]
                ctx = self._context_frame(context, positions, [data[rel.parent] for rel in parents_rel])
                if dp is None:  # under DP the model's context codec keeps the released values only
                    ctx, plan.context = protect_context(ctx, context, [data[rel.parent] for rel in parents_rel],
                                                        self._rare_threshold())
                    plan.context_domain = ContextDomain.learn(ctx)
                if ctx.shape[1] == 0:
                    ctx = None
            target = Path(checkpoint_dir) / name if checkpoint_dir is not None else None
            rows = rule_plan.model_input(df, modelled, self._rare_threshold())
            job = ModelJob(name, model, rows, ctx, child_seed(self.seed, name, "model"), target)
        self._plans[name] = plan
        return job

    def _generated_as_text(self, series: pd.Series, sdtype: str | None, dp: Any) -> bool:
        """Whether a modelled column is generated as text: declared ``text``, or (outside DP) a categorical
        none of whose values is seen ``rare_threshold`` times and that holds no numbers (every model turns
        it into text, :func:`~syntho_hive.core.data.encoders.categorical.all_rare_sdtype`)."""
        if sdtype == "text":
            return True
        return sdtype == "categorical" and dp is None and all_rare_sdtype(series, self._rare_threshold()) == "text"

    def _rare_threshold(self) -> int:
        """The synthesizer's ``rare_threshold`` (TabularAR's privacy setting), which every table's word
        models, semantic columns and dependency maps honour too."""
        return int(self.model_kwargs.get("rare_threshold", DEFAULT_RARE_THRESHOLD))

    def _constructor_kwargs(self, cls: type, epochs: int | None, batch_size: int | None) -> dict[str, Any]:
        """Constructor arguments for ``cls``: the shared model kwargs (and ``epochs``/``batch_size``)
        that its constructor accepts (the metadata is :func:`model_metadata`'s, added by the caller)."""
        options = dict(self.model_kwargs)
        options.update({k: v for k, v in (("epochs", epochs), ("batch_size", batch_size)) if v is not None})
        for option in options:
            if not any(model_accepts(model, option) for model in set(self.models.values())):
                names = sorted({m.__name__ for m in self.models.values()})
                raise TrainingError(f"No model of this synthesizer ({names}) takes {option!r}; drop it.")
        return {k: v for k, v in options.items() if model_accepts(cls, k)}

    def _fit_link(self, rel: Relationship, child: pd.DataFrame, parent: pd.DataFrame,
                  parent_sdtypes: Mapping[str, str], noise: float | None = None,
                  rng: np.random.Generator | None = None) -> LinkPlan:
        """The link of FK ``rel``: exact counts per parent group, or (with ``noise``, under DP) a noisy
        histogram of clipped counts (:func:`~syntho_hive.relational.dp_cardinality.dp_link`)."""
        fk = child[list(rel.child_columns)]
        counts = children_per_parent(fk, parent[list(rel.parent_columns)])
        if noise is not None and rng is not None:
            model, null_rate = dp_link(counts, int(fk.isna().any(axis=1).sum()), noise, rng)
            return LinkPlan(null_rate, model)
        null_rate = float(fk.isna().any(axis=1).mean()) if len(fk) else 0.0
        parent_keys = set(self.metadata.tables[rel.parent].key_columns)
        features = parent[[c for c in parent.columns if c not in parent_keys]]
        model = CardinalityModel(min_count=self._rare_threshold()).fit(features.reset_index(drop=True), counts,
                                                                       sdtypes=parent_sdtypes)
        self_roots = 0.0
        if rel.is_self and len(fk):  # compared exactly (``to_numpy`` of a nullable Int64 gives float64)
            self_roots = float(same_rows(fk, child[list(rel.parent_columns)]).mean())
        return LinkPlan(null_rate, model, self_roots, partly_null=_partly_null_shares(fk))

    @staticmethod
    def _context_frame(context: list[ContextColumn], positions: list[np.ndarray],
                       parents: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.DataFrame({c.name: _take(parents[c.via][c.parent_column], positions[c.via]).to_numpy()
                             for c in context}) if context else pd.DataFrame()

    def privacy_report(self) -> dict[str, dict[str, Any]]:
        """``{table: {column: decision}}`` of the tables fitted with a privacy plan (see
        :class:`~syntho_hive.core.privacy.ColumnDecision`)."""
        return {name: {column: asdict(decision) for column, decision in plan.privacy.decisions.items()}
                for name, plan in self._plans.items() if plan.privacy is not None and plan.privacy.decisions}

    # ------------------------------------------------------------------ generate
    def kept_columns(self, name: str) -> list[str]:
        """Columns of ``name`` its children need after it is generated (none for a leaf table)."""
        needed: list[str] = []
        for child, plan in self._plans.items():
            for via, rel in enumerate(self.graph.parents_of(child)):
                if rel.parent != name:
                    continue
                needed += list(self.metadata.tables[name].pk_columns)
                needed += list(rel.parent_columns)
                needed += [c.parent_column for c in plan.context if c.via == via]
                needed += plan.parents[via].counts.feature_columns
                needed += [c.parent_column for c in plan.rules.copied if c.via == via]
        return list(dict.fromkeys(needed))

    def table_sizes(self, num_rows: Mapping[str, int] | None, scale: float) -> dict[str, int]:
        """Requested size of each root table (and of children named in ``num_rows``)."""
        sizes = {name: int(n) for name, n in (num_rows or {}).items()}
        copied = sorted(name for name, n in sizes.items()
                        if self._plans[name].rules.reference is not None and n != self._plans[name].real_rows)
        if copied:
            raise GenerationError(f"num_rows asks for other sizes of reference table(s) {copied}, which are copied "
                                  "verbatim with their real rows; drop them from num_rows (or declare "
                                  "reference=False in the metadata and fit again).")
        for name in self.graph.order:  # a table below a reference table is sized like a root
            primary = self.graph.primary(name)
            if primary is not None and name not in sizes and self._plans[primary.parent].rules.reference is not None \
                    and self._plans[name].rules.reference is None:
                sizes[name] = max(1, int(round(self._plans[name].real_rows * scale)))
        for name in self.graph.roots():
            if self._plans[name].rules.reference is not None:
                sizes[name] = self._plans[name].real_rows
                continue
            sizes.setdefault(name, max(1, int(round(self._plans[name].real_rows * scale))))
        return sizes

    def partition_plan(self, num_rows: Mapping[str, int] | None, scale: float, partitions: int,
                       replicate_rows: int = DEFAULT_REPLICATE_ROWS) -> "PartitionPlan":
        """How partitioned generation (:meth:`generate` with ``partition``) divides the root tables.

        The driver and every task compute it alike from the same arguments: a root asked for at
        most ``replicate_rows`` rows (or fewer rows than partitions) is *global* (generated
        whole in every task, emitted by partition 0 only); any other root is *split* (partition
        ``p`` generates ``N // P + (p < N % P)`` of its ``N`` rows).

        Args:
            num_rows: As for :meth:`generate`.
            scale: As for :meth:`generate`.
            partitions: Number of partitions ``P`` (a positive integer).
            replicate_rows: Largest root generated whole in every task.

        Returns:
            The plan.

        Raises:
            GenerationError: ``partitions`` is not a positive integer or ``replicate_rows`` not a
                non-negative one.
            NotFittedError: Before :meth:`fit` (or :meth:`from_dict`).
        """
        if not self.is_fitted:
            raise NotFittedError("Cannot plan the generation of an orchestrator that is not fitted; call fit(data) "
                                 "first.")
        partitions = check_count(partitions, "partitions", minimum=1)
        replicate_rows = check_count(replicate_rows, "replicate_rows", minimum=0)
        sizes = self.table_sizes(num_rows, scale)
        roots = {name: sizes[name] for name in self.graph.roots()}
        replicated = frozenset(name for name, rows in roots.items() if rows <= replicate_rows or rows < partitions
                               or self._plans[name].rules.reference is not None)
        return PartitionPlan(partitions=partitions, replicate_rows=replicate_rows, global_tables=replicated,
                             root_rows=roots)

    def generate(self, *, num_rows: Mapping[str, int] | None = None, scale: float = 1.0, seed: int,
                 sink: Sink | None = None, progress_bar: bool = False, chunk_rows: int | None = None,
                 partition: tuple[int, int] | None = None, tables: Collection[str] | None = None,
                 replicate_rows: int = DEFAULT_REPLICATE_ROWS,
                 conditions: Mapping[str, Mapping[str, Any]] | None = None,
                 existing: ExistingRows | None = None) -> dict[str, Any]:
        """Generate every table, parents first, one chunk of rows at a time.

        The same seed and ``chunk_rows`` give the same tables with or without a sink.

        With ``partition=(p, P)`` this call generates slice ``p`` of ``P`` of the schema, without
        talking to the calls that generate the other slices: the union of the ``P`` slices is
        one valid synthetic schema (primary keys unique across slices, every foreign key
        pointing at a row some slice emits), with the statistics of a call without
        ``partition``, and the same ``(seed, P)`` gives the same slices. The roots are divided
        as :meth:`partition_plan` says: a *global* root is generated whole in every slice (its
        seeds do not depend on ``p``), used there as a parent, and emitted by slice 0 only; a
        *split* root's rows are divided between the slices. A child of a split parent is
        generated from the slice's parent rows (its cardinality model draws their children);
        a child of a global parent draws the children of every parent once (the same in every
        slice) and takes its share of each parent's children, so the slices together have
        exactly the drawn children per parent. Other foreign keys point at the slice's rows of
        their parent (all rows of a global one) and self-references form a hierarchy within
        the slice. The content of every non-global table is seeded from ``(seed, p)``. The
        ``k``-th generated key of a non-global table in slice ``p`` is the key of global index
        ``k * P + p`` (see :meth:`KeyGenerator.generate`): unique across slices, in the real
        format. A table whose primary key is made only of foreign keys to global tables is laid
        out whole in every slice (its row positions only) and sliced, so no key repeats across
        slices. A child named in ``num_rows`` gets ``n // P + (p < n % P)`` of its ``n`` rows
        when its primary parent is split (exactly ``n`` over all slices either way).

        Args:
            num_rows: Rows per table; roots not named get ``scale`` times their real size and
                children not named get the size implied by their generated parents.
            scale: Size factor for unnamed roots.
            seed: Sampling seed (the same seed gives bit-identical tables).
            sink: Called once per emitted table as ``sink(table, chunks)``; it must consume every
                chunk (each is released once the sink lets go of it) and its return value is
                the table's entry in the result.
            progress_bar: Show progress over tables.
            chunk_rows: Rows generated per step (``None``: the orchestrator's ``chunk_rows``);
                with a sink, it bounds the content held in memory.
            partition: ``(p, P)``, ``0 <= p < P``: generate slice ``p`` of ``P`` (see above);
                ``None``: the whole schema, as ever.
            tables: Generate only these tables and the tables they reference, directly or not
                (through any foreign key); only these go to the sink or into the result, the
                referenced ones are generated and dropped. A table is generated exactly as in a
                call for every table. ``None``: every table.
            replicate_rows: With ``partition``: largest root generated whole in every slice.
            conditions: ``{table: {column: value}}``: every row of the table has these values of its
                modelled columns (its model's ``conditions``); the tables below it follow the rows
                generated (their counts and context), see :meth:`check_conditions`.
            existing: For rows appended to tables that already hold rows (not with ``partition``):
                called once per emitted table with a key, before its rows are generated, for its
                primary-key and unique columns. The generated keys and unique values then continue
                after the existing ones (:meth:`KeyGenerator.generate`), so the children's foreign keys
                point at new parent rows; a reference table (copied verbatim) emits only the rows whose
                key it lacks. ``None``: nothing exists, as ever.

        Returns:
            ``{table: DataFrame}`` (in metadata order), or ``{table: sink's return value}`` with a
            sink, for every table asked for. With ``partition=(p, P)`` and ``p > 0``, a global
            table emits nothing: its entry is an empty frame with its columns and dtypes, or,
            with a sink, ``None`` (the sink is not called for it).

        Raises:
            GenerationError: Bad ``chunk_rows``, ``partition``, ``tables`` (an unknown table) or
                ``replicate_rows``, ``existing`` with ``partition``, an integrity re-check fails (a bug),
                a model fails to sample, a key format has no room for the keys asked for, or the sink
                stopped reading a table before its end.
            SerializationError: A generated primary key equals one of ``existing`` (a key made of
                foreign keys to a reference table, say); nothing of that table reaches the sink past it.
        """
        rows_per_chunk = check_chunk_rows(self.chunk_rows if chunk_rows is None else chunk_rows)
        conditions = self.check_conditions(conditions)
        wanted = self._wanted_tables(tables)
        order = self._needed_order(wanted)
        sizes = self.table_sizes(num_rows, scale)
        part = None
        if partition is not None:
            index, count = _check_partition(partition)
            part = _Partition(index, count, self.partition_plan(num_rows, scale, count, replicate_rows),
                              child_seed(seed, "partition", index))
        else:
            check_count(replicate_rows, "replicate_rows", minimum=0)
        if existing is not None and part is not None:
            raise GenerationError("existing rows cannot be continued by a partitioned generation; generate the "
                                  "schema whole (partition=None) to append to tables that hold rows.")
        kept: dict[str, pd.DataFrame] = {}
        out: dict[str, Any] = {}
        names = progress(order, enabled=progress_bar, desc="Generating tables", total=len(order), unit="table")
        for position, name in enumerate(names):
            later = order[position + 1:]
            parent_of_later = any(rel.parent == name for t in later for rel in self.graph.parents_of(t))
            emitted = name in wanted and (part is None or part.emits(name))
            if not emitted and name in wanted:
                out[name] = None  # a global table in a slice other than 0: nothing is emitted
                if sink is not None and not parent_of_later:
                    continue
            started = time.perf_counter()
            prior = self._existing_keys(name, existing) if emitted and existing is not None else None
            stream = _TableStream(self._table_chunks(name, sizes.get(name), kept, seed, rows_per_chunk, part,
                                                     conditions.get(name), prior),
                                  self.kept_columns(name))
            rows = iter(stream) if prior is None else self._new_key_rows(name, stream, prior)
            if emitted and sink is None:
                frames = list(rows)
                out[name] = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
                del frames
            elif emitted:
                out[name] = sink(name, rows)
                if not stream.finished:
                    raise GenerationError(f"The sink stopped reading table {name!r} after {stream.rows} rows; "
                                          "a sink must consume every chunk it is given.")
            else:
                for chunk in stream:
                    if name in wanted and sink is None and out[name] is None:
                        out[name] = chunk.iloc[:0].copy()
            kept[name] = stream.kept()
            _log.info("relational_table_generated", table=name, rows=stream.rows, chunks=stream.chunks,
                      seconds=round(time.perf_counter() - started, 3),
                      **({} if part is None else {"partition": part.index, "partitions": part.count,
                                                  "emitted": emitted}))
            del stream
            for parent in list(kept):  # release parents every remaining table is done with
                if all(rel.parent != parent for t in later for rel in self.graph.parents_of(t)):
                    del kept[parent]
        _log.info("relational_sampling_complete", tables=sorted(wanted),  # under DP no seed is logged
                  **({"seed": seed} if self.privacy_spent_ is None else self.privacy_spent_.event_fields()))
        return {name: out[name] for name in self.graph.tables if name in wanted}

    def check_conditions(self, conditions: Any) -> dict[str, dict[str, Any]]:
        """``conditions`` of :meth:`generate` as ``{table: {column: value}}``, checked before any row is drawn.

        A condition fixes a column its table's model draws; the values themselves are checked by the model
        (a value it never saw is a ``GenerationError`` then).

        Raises:
            GenerationError: Not a mapping of mappings, an unknown table, a table without a model (copied
                verbatim, or generated by word models), or a column the model does not draw (a key, a foreign
                key, a copied, date-part or generated column, or no column at all); the message names it.
        """
        if conditions is None:
            return {}
        if not isinstance(conditions, Mapping) or not all(isinstance(c, Mapping) for c in conditions.values()):
            raise GenerationError(f"conditions must be a mapping {{table: {{column: value}}}}, got "
                                  f"{_brief(conditions)}.")
        checked: dict[str, dict[str, Any]] = {}
        for name, columns in conditions.items():
            if name not in self.metadata.tables:
                raise GenerationError(f"conditions names unknown table {name!r}; the metadata's tables are "
                                      f"{sorted(self.metadata.tables)}.")
            plan = self._plans[name]
            if columns and (plan.rules.reference is not None or name not in self._fitted_models):
                why = "is copied verbatim (a reference table)" if plan.rules.reference is not None else \
                    "is generated without a model (keys or text only)"
                raise GenerationError(f"conditions on table {name!r}: the table {why}, so no column of it can be "
                                      "conditioned.")
            drawn = [c for c in plan.modelled if c not in plan.rules.overwritten_columns]
            for column in columns:
                if column in plan.rules.date_parts:
                    source, part = plan.rules.date_parts[column]
                    raise GenerationError(
                        f"conditions on table {name!r}: {column!r} is a date part (the {part} of {source!r}), taken "
                        f"from each generated row's timestamp, which the model does not draw; it can condition "
                        f"{drawn}.")
                if column not in drawn:
                    raise GenerationError(
                        f"conditions on table {name!r}: {column!r} is not a column its model draws (keys, foreign "
                        f"keys, copied, dependent, date-part and generated columns and those rebuilt above a copy "
                        f"are not); it can condition "
                        f"{drawn}.")
            if columns:
                checked[name] = dict(columns)
        return checked

    def _wanted_tables(self, tables: Collection[str] | None) -> set[str]:
        """The tables asked for (every table for ``None``).

        Raises:
            GenerationError: ``tables`` is a string or names an unknown table.
        """
        if tables is None:
            return set(self.graph.tables)
        if isinstance(tables, str) or not isinstance(tables, Collection):
            raise GenerationError(f"tables must be a collection of table names, e.g. ['orders'], got "
                                  f"{_brief(tables)}.")
        unknown = sorted(str(t) for t in tables if t not in self.metadata.tables)
        if unknown:
            raise GenerationError(f"tables names unknown table(s) {unknown}; the metadata's tables are "
                                  f"{sorted(self.metadata.tables)}.")
        return set(tables)

    def _needed_order(self, wanted: set[str]) -> list[str]:
        """``wanted`` and every table they reference through foreign keys, directly or not, parents first."""
        needed = set(wanted)
        todo = list(wanted)
        while todo:
            for rel in self.graph.parents_of(todo.pop()):
                if rel.parent not in needed:
                    needed.add(rel.parent)
                    todo.append(rel.parent)
        return [name for name in self.graph.order if name in needed]

    def _existing_keys(self, name: str, existing: ExistingRows) -> pd.DataFrame | None:
        """The primary-key and unique columns of the rows ``name`` already holds, in the plan's dtypes
        (``None``: no such column, or no rows).

        Raises:
            SerializationError: A value does not fit its column's dtype.
        """
        plan = self._plans[name]
        table = self.metadata.tables[name]
        columns = list(dict.fromkeys([*table.pk_columns, *plan.keys, *plan.unique_columns,
                                      *(c for columns in self._unique_sets(name) for c in columns)]))
        if not columns:
            return None
        frame = existing(name, columns)
        if frame is None or not len(frame):
            return None
        dtypes = {c: dtype_from_name(plan.dtypes[c]) for c in columns if c in plan.dtypes}
        for c, dtype in dtypes.items():  # SQLite reads tz-aware timestamps back naive, in UTC
            if isinstance(dtype, pd.DatetimeTZDtype) and pd.api.types.is_datetime64_dtype(frame[c].dtype):
                frame[c] = frame[c].dt.tz_localize("UTC")
        try:  # a CSV target reads dates and numbers back as text: compare them as the generated keys are
            return frame.astype(dtypes)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"The rows table {name!r} already holds do not fit its key columns' types "
                                     f"{ {c: plan.dtypes[c] for c in dtypes} }: {exc}. Append "
                                     "to a table this model wrote, or replace it (if_exists='replace').") from exc

    def _new_key_rows(self, name: str, chunks: Iterable[pd.DataFrame], prior: pd.DataFrame) -> Iterator[pd.DataFrame]:
        """``chunks`` checked against the primary keys of the rows ``name`` already holds: a reference table
        (copied verbatim) drops its rows already there, any other table never repeats one.

        Raises:
            SerializationError: A row of a table that is not a reference table repeats an existing key.
        """
        pk = list(self.metadata.tables[name].pk_columns)
        reference = self._plans[name].rules.reference is not None
        key = Relationship(child=name, child_columns=tuple(pk), parent=name, parent_columns=tuple(pk))
        taken = ReferenceChecker(key, prior) if pk else None
        for chunk in chunks:
            repeated = taken.found(chunk) if taken is not None else np.zeros(len(chunk), dtype=bool)
            if not repeated.any():
                yield chunk
            elif reference:
                yield chunk[~repeated].reset_index(drop=True)
            else:
                example = chunk.loc[repeated, pk].iloc[0].to_dict()
                fks = [c for c in pk if any(c in rel.child_columns for rel in self.graph.parents_of(name))]
                why = (f"its foreign-key legs {fks} point at rows that are not new (e.g. a reference table's), so "
                       "the key cannot be made new" if fks else "the rows already there were not written by this "
                       "model's key scheme")
                raise SerializationError(
                    f"Table {name!r} already holds {int(repeated.sum())} of the primary keys {pk} generated to append "
                    f"to it (e.g. {example}): {why}. Append to tables emptied first, replace them "
                    "(if_exists='replace'), or write to another target.")

    def _table_chunks(self, name: str, size: int | None, kept: Mapping[str, pd.DataFrame], seed: int,
                      rows_per_chunk: int, part: "_Partition | None" = None,
                      conditions: Mapping[str, Any] | None = None,
                      prior: pd.DataFrame | None = None) -> Iterator[pd.DataFrame]:
        """The rows of ``name``, complete and checked, ``rows_per_chunk`` at a time (at least one chunk);
        with ``part``, the slice's rows (a global table: all of them). Personal columns removed before
        training are generated last, per chunk, from a seed of the table's seed and the chunk's number."""
        privacy = self._plans[name].privacy
        lengths = _string_lengths(self.metadata.tables[name])
        chunks = self._modelled_chunks(name, size, kept, seed, rows_per_chunk, lengths, part, conditions, prior)
        table_seed = part.seed if part is not None and name not in part.plan.global_tables else seed
        sets = self._unique_sets(name)
        plan = self._plans[name]
        keys = {*self.metadata.tables[name].key_columns, *plan.keys, *plan.unique_columns}
        unique = UniqueSets(sets, plan.rules.bound_columns(keys), prior) if sets else None
        cut = {c: n for c, n in lengths.items() if c not in keys}  # keys are checked to fit before generation
        for number, chunk in enumerate(chunks):
            if privacy is not None:
                chunk = privacy.restore(chunk, child_seed(table_seed, name, "privacy", number), max_lengths=lengths)
            if cut:
                chunk = _cut_to_length(name, chunk, cut)
            if unique is not None:
                rows = len(chunk)
                chunk = unique.apply(chunk, numpy_generator(child_seed(table_seed, name, "unique_sets", number)))
                if len(chunk) < rows and self.graph.self_references(name):
                    raise GenerationError(
                        f"Table {name!r}: {rows - len(chunk)} generated rows repeat a combination of the unique "
                        f"column sets {sets} that redrawing could not change, and the table references itself, so "
                        "they cannot be dropped. Drop the set from metadata.tables[...].unique or ask for fewer rows.")
            yield chunk
        if unique is not None and (unique.redrawn or unique.dropped):
            _log.warning("relational_unique_sets_kept", table=name, sets=sets, rows_redrawn=unique.redrawn,
                         rows_dropped=unique.dropped,
                         reason="rows repeated a combination of a declared unique column set")

    def _unique_sets(self, name: str) -> list[list[str]]:
        """The declared unique column sets of ``name`` that its generated keys do not already make unique."""
        plan = self._plans[name]
        table = self.metadata.tables[name]
        unique_alone = set(plan.unique_columns) | set(plan.keys)
        if len(table.pk_columns) == 1:
            unique_alone |= set(table.pk_columns)
        return [list(columns) for columns in table.unique if not unique_alone & set(columns)]

    def _modelled_chunks(self, name: str, size: int | None, kept: Mapping[str, pd.DataFrame], seed: int,
                         rows_per_chunk: int, lengths: Mapping[str, int], part: "_Partition | None" = None,
                         conditions: Mapping[str, Any] | None = None,
                         prior: pd.DataFrame | None = None) -> Iterator[pd.DataFrame]:
        """:meth:`_table_chunks` before the personal columns are generated; keys and unique values
        continue after those of ``prior`` (the rows the table already holds); ``lengths``: the declared
        text lengths of the table (:func:`_string_lengths`)."""
        plan = self._plans[name]
        if plan.rules.reference is not None:
            frame = plan.rules.reference_frame(name)
            for start in range(0, max(len(frame), 1), rows_per_chunk):
                yield frame.iloc[start:start + rows_per_chunk].reset_index(drop=True)
            return
        rels = self.graph.parents_of(name)
        parents = [kept[rel.parent] for rel in rels]
        split = part is not None and name not in part.plan.global_tables
        offsets = None
        if split:
            assert part is not None
            table_seed = part.seed
            positions, n, offsets = self._split_positions(name, plan, rels, size, parents, seed, part)
        else:
            table_seed = seed
            positions = self._all_positions(name, plan, rels, size, parents, seed)
            n = len(positions[0]) if rels else int(size or 0)
            positions, n = self._drop_repeated_keys(name, rels, positions, parents, n)
        keys = self._key_values(name, plan, rels, positions, parents, n, seed, lengths, part if split else None,
                                offsets, prior)
        dtypes = self._output_dtypes(plan, rels, positions, parents, uniform=split)
        checkers = [ReferenceChecker(rel, parent) for rel, parent in zip(rels, parents)]
        chunks = self._assembled_chunks(name, plan, rels, positions, parents, keys, dtypes, n, table_seed,
                                        rows_per_chunk, lengths, (part.count, part.index) if split and part else (1, 0),
                                        conditions, prior)
        self_refs = self.graph.self_references(name)
        if not self_refs:
            for frame in chunks:
                for checker in checkers:
                    checker.check(frame)
                yield frame
            return
        pieces = list(chunks)  # a hierarchy is drawn over all rows: this table is held whole
        frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
        del pieces
        frame = self._with_hierarchy(name, plan, frame, dtypes, table_seed)
        for checker in checkers + [ReferenceChecker(rel, frame) for rel in self_refs]:
            checker.check(frame)
        for start in range(0, max(len(frame), 1), rows_per_chunk):
            yield frame.iloc[start:start + rows_per_chunk].reset_index(drop=True)

    def _all_positions(self, name: str, plan: TablePlan, rels: list[Relationship], size: int | None,
                       parents: list[pd.DataFrame], seed: int, *, clip: bool = False) -> list[np.ndarray]:
        """Row position in each parent (``-1``: null FK) of every row, primary FK first (``clip``:
        see :meth:`_primary_counts`)."""
        if not rels:
            return []
        # A primary key made only of FKs (a junction or 1:1 extension table) repeats no key
        # combination: a parent gets at most as many rows as there are combinations for it, and a
        # second key FK is drawn distinct within each primary parent's rows.
        key_vias = self._key_relationships(name, rels)
        cap = self._key_cap(plan, rels, parents, key_vias)
        primary = self._primary_positions(name, plan, rels[0], size, parents[0], seed, cap=cap, clip=clip)
        drawn = self._secondary_positions(name, plan, rels, primary, parents, seed, range(1, len(rels)), key_vias)
        return [primary] + [drawn[via] for via in range(1, len(rels))]

    @staticmethod
    def _key_cap(plan: TablePlan, rels: list[Relationship], parents: list[pd.DataFrame],
                 key_vias: list[int] | None) -> int | None:
        """Most rows a primary parent can have when the primary key is made of FKs, or of the primary FK and a
        label leg (``None``: no limit)."""
        if plan.label_keys:  # a parent's rows have distinct labels
            return min(len(labels["values"]) for labels in plan.label_keys.values())
        if key_vias is None:
            return None
        cap = 1
        for via in key_vias[1:]:
            cap *= len(parents[via]) - int(_excludes_own_parent(plan, rels, via))
        return cap

    def _secondary_positions(self, name: str, plan: TablePlan, rels: list[Relationship], primary: np.ndarray,
                             parents: list[pd.DataFrame], seed: int, vias: Iterable[int],
                             key_vias: list[int] | None) -> dict[int, np.ndarray]:
        """Row position in the parent of FK ``via`` (``-1``: null) of every row, for each of ``vias``.

        Each FK draws from its own seed, so any subset of them is drawn as with all of them.
        """
        n = len(primary)
        positions: dict[int, np.ndarray] = {}
        weights_of: dict[int, np.ndarray] = {}
        for via in vias:
            link = plan.parents[via]
            rng = numpy_generator(child_seed(seed, name, "fk", via))
            weights = link.counts.sample(parents[via], rng).astype(np.float64)
            weights_of[via] = weights
            nulls = place_nulls(n, link.null_rate, rng)
            linked = int((~nulls).sum())
            if linked and len(parents[via]) == 0:
                raise _no_parent_rows(name, rels[via], f"{linked} generated rows")
            pos = np.full(n, -1, dtype=np.int64)
            if key_vias is not None and key_vias[1:] == [via]:
                pos = distinct_within_groups(primary, weights, rng,
                                             exclude_own=_excludes_own_parent(plan, rels, via))
            else:
                pos[~nulls] = allocate(weights, linked, rng)
            positions[via] = pos
        secondary = key_vias[1:] if key_vias is not None else []
        if len(secondary) > 1 and all(via in positions for via in secondary):  # no repeated key combination
            redrawn = redraw_repeated_combinations(
                primary, [positions[via] for via in secondary], [weights_of[via] for via in secondary],
                numpy_generator(child_seed(seed, name, "fk", "combinations")))
            for via, pos in zip(secondary, redrawn):
                positions[via] = pos
        return positions

    def _split_positions(self, name: str, plan: TablePlan, rels: list[Relationship], size: int | None,
                         parents: list[pd.DataFrame], seed: int,
                         part: "_Partition") -> tuple[list[np.ndarray], int, np.ndarray | None]:
        """A non-global table's rows in slice ``part``: positions in each parent (primary FK first),
        the number of rows and, under a global primary parent, the children of each parent row
        that the earlier slices have (``None`` otherwise)."""
        p, count = part.index, part.count
        if not rels:  # a split root
            return [], _share(int(size or 0), p, count), None
        key_vias = self._key_relationships(name, rels)
        replicated = part.plan.global_tables
        if rels[0].parent not in replicated:  # the slice's parent rows draw their children, as a whole table
            local = None if size is None else _share(int(size), p, count)
            positions = self._all_positions(name, plan, rels, local, parents, part.seed, clip=True)
            positions, n = self._drop_repeated_keys(name, rels, positions, parents, len(positions[0]))
            return positions, n, None
        if key_vias is not None and all(rels[via].parent in replicated for via in key_vias):
            positions, n = self._sliced_key_positions(name, plan, rels, size, parents, seed, part, key_vias)
            return positions, n, None
        # A global primary parent: every slice draws the same children per parent and takes its share.
        cap = self._key_cap(plan, rels, parents, key_vias)
        counts, n_null = self._primary_counts(name, plan, rels[0], size, parents[0],
                                              numpy_generator(child_seed(seed, name, "cardinality")),
                                              cap if plan.label_keys else None)  # over all slices
        mine = _clipped(name, _shares(counts, p, count), cap)
        rng = numpy_generator(child_seed(part.seed, name, "cardinality"))
        primary = _layout(mine, _share(n_null, p, count), rng)
        drawn = self._secondary_positions(name, plan, rels, primary, parents, part.seed, range(1, len(rels)),
                                          key_vias)
        positions = [primary] + [drawn[via] for via in range(1, len(rels))]
        positions, n = self._drop_repeated_keys(name, rels, positions, parents, len(primary))
        return positions, n, _earlier_shares(counts, p, count)

    def _sliced_key_positions(self, name: str, plan: TablePlan, rels: list[Relationship], size: int | None,
                              parents: list[pd.DataFrame], seed: int, part: "_Partition",
                              key_vias: list[int]) -> tuple[list[np.ndarray], int]:
        """Slice ``part`` of a table whose primary key is made of FKs to global tables only: the key
        FKs of all its rows are laid out as without partitions (the same in every slice), the
        repeated keys dropped, and each parent's ``i``-th child goes to slice ``(i - j) mod P``
        (``j``: the parent's row); the other FKs are drawn in the slice."""
        cap = self._key_cap(plan, rels, parents, key_vias)
        primary = self._primary_positions(name, plan, rels[0], size, parents[0], seed, cap=cap)
        drawn = self._secondary_positions(name, plan, rels, primary, parents, seed, key_vias[1:], key_vias)
        unused = np.full(len(primary), -1, dtype=np.int64)  # FKs outside the key, drawn below
        positions = [primary] + [drawn.get(via, unused) for via in range(1, len(rels))]
        positions, n = self._drop_repeated_keys(name, rels, positions, parents, len(primary))
        mine = (running_numbers(positions[0]) - positions[0]) % part.count == part.index
        positions = [pos[mine] for pos in positions]
        rest = [via for via in range(1, len(rels)) if via not in key_vias]
        drawn = self._secondary_positions(name, plan, rels, positions[0], parents, part.seed, rest, key_vias)
        for via in rest:
            positions[via] = drawn[via]
        return positions, int(mine.sum())

    def _key_relationships(self, name: str, rels: list[Relationship]) -> list[int] | None:
        """Indices in ``rels`` of the FKs that make up the whole primary key, primary FK first, when
        the key is made only of FKs to other tables and includes the primary FK; else ``None``."""
        pk = list(self.metadata.tables[name].pk_columns)
        if not pk or not rels or self._pk_parent_columns(name) != pk:
            return None
        vias = [via for via, rel in enumerate(rels) if set(rel.child_columns) <= set(pk)]
        covered = {c for via in vias for c in rels[via].child_columns}
        if not vias or vias[0] != 0 or covered != set(pk):
            return None
        return vias

    def _primary_positions(self, name: str, plan: TablePlan, rel: Relationship, size: int | None,
                           parent: pd.DataFrame, seed: int, *, cap: int | None = None,
                           clip: bool = False) -> np.ndarray:
        rng = numpy_generator(child_seed(seed, name, "cardinality"))
        counts, n_null = self._primary_counts(name, plan, rel, size, parent, rng, cap, clip=clip)
        return _layout(counts, n_null, rng)

    def _primary_counts(self, name: str, plan: TablePlan, rel: Relationship, size: int | None,
                        parent: pd.DataFrame, rng: np.random.Generator, cap: int | None, *,
                        clip: bool = False) -> tuple[np.ndarray, int]:
        """Children of each ``parent`` row under the primary FK, and the rows whose primary FK is null.

        ``cap`` (a primary key made of FKs) bounds each parent's children; more children than the
        parents have room for is an error, or, with ``clip`` (a slice, whose rows of a split key
        parent may be few), the children past the cap are dropped with a warning.
        """
        link = plan.parents[0]
        counts = link.counts.sample(parent, rng)
        rate = min(max(link.null_rate, 0.0), 1.0)
        if size is not None:
            n_null = int(round(size * rate))
            if size - n_null > 0 and len(parent) == 0:
                raise _no_parent_rows(name, rel, f"{size - n_null} of the {size} rows asked for")
            counts = rescale_counts(counts, size - n_null, rng)
        elif rate >= 1.0:
            n_null = int(round(plan.real_rows * len(parent) / max(self._plans[rel.parent].real_rows, 1)))
        else:
            n_null = int(round(counts.sum() * rate / (1.0 - rate)))
        if cap is not None and clip and int(counts.sum()) > cap * len(parent):
            counts = _clipped(name, counts, cap)
        elif cap is not None:
            if int(counts.sum()) > cap * len(parent):
                raise GenerationError(
                    f"Cannot generate {int(counts.sum())} rows of table {name!r}: its primary key is made of its "
                    f"foreign keys{' and a label leg' if plan.label_keys else ''}, so each of the {len(parent)} "
                    f"generated rows of {rel.parent!r} can have at most {cap} of them. Ask for fewer rows of {name!r} "
                    "or more of its parents in num_rows.")
            counts = cap_counts(counts, cap, rng)
        return counts, n_null

    def _pk_parent_columns(self, name: str) -> list[str]:
        """Primary-key columns of ``name`` that are FK columns to another table."""
        fk = {c for rel in self.graph.parents_of(name) for c in rel.child_columns}
        return [c for c in self.metadata.tables[name].pk_columns if c in fk]

    def _key_codes(self, columns: list[str], rels: list[Relationship], positions: list[np.ndarray],
                   parents: list[pd.DataFrame]) -> list[np.ndarray]:
        """Per FK column, an integer code of each row's value (equal values, equal codes; null: ``-1``)."""
        where = {c_col: (via, p_col) for via, rel in enumerate(rels)
                 for c_col, p_col in zip(rel.child_columns, rel.parent_columns)}
        codes = []
        for column in columns:
            via, p_col = where[column]
            parent_codes = np.append(pd.factorize(parents[via][p_col])[0].astype(np.int64), -1)
            codes.append(parent_codes[positions[via]])  # position -1 picks the appended -1
        return codes

    def _drop_repeated_keys(self, name: str, rels: list[Relationship], positions: list[np.ndarray],
                            parents: list[pd.DataFrame], n: int) -> tuple[list[np.ndarray], int]:
        """Drop rows repeating an earlier row's primary key, possible only when every pk column
        is an FK to another table; decided on the positions, before any row is generated."""
        pk = self.metadata.tables[name].pk_columns
        if not pk or n == 0 or self._pk_parent_columns(name) != list(pk):
            return positions, n
        _, first = group_ids(self._key_codes(list(pk), rels, positions, parents))
        if len(first) == n:
            return positions, n
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        _log.warning("relational_duplicate_keys_dropped", table=name, rows=int(n - len(first)),
                     reason="every primary-key column is a foreign key")
        return [p[keep] for p in positions], len(first)

    def _key_values(self, name: str, plan: TablePlan, rels: list[Relationship], positions: list[np.ndarray],
                    parents: list[pd.DataFrame], n: int, seed: int, lengths: Mapping[str, int],
                    part: "_Partition | None" = None, offsets: np.ndarray | None = None,
                    prior: pd.DataFrame | None = None) -> dict[str, pd.Series]:
        """The generated primary-key columns of all ``n`` rows (unique, or numbered per parent); unique
        keys and values continue after those of ``prior`` (rows already there); they are checked first to fit
        their declared text ``lengths``.

        With ``part`` (a non-global table in a slice), row ``k`` gets the key of global index
        ``k * P + p``, from a generator seeded alike in every slice; ``offsets`` are the children
        of each primary-parent row that earlier slices number (a global primary parent).
        """
        self._check_key_lengths(name, plan, n, lengths, part, prior)
        values: dict[str, pd.Series] = {}
        parent_part = self._pk_parent_columns(name)
        groups: np.ndarray | None = None
        for column, generator in plan.keys.items():
            if column in plan.per_parent_keys and parent_part:
                if groups is None:
                    groups, _ = group_ids(self._key_codes(parent_part, rels, positions, parents))
                dtype = dtype_from_name(plan.dtypes[column])
                start = plan.per_parent_keys[column]
                if generator.is_timeline:  # the k-th timestamp of each parent: numbered as k, then timed
                    dtype, start = np.dtype(np.int64), 0
                if part is None:
                    numbers = prior if prior is None or not generator.is_timeline else \
                        prior.assign(**{column: generator.timeline_numbers(prior[column])})
                    taken = None if numbers is None else self._numbers_taken(
                        numbers, parent_part, column, start).reindex(row_labels(pd.DataFrame({
                            c: _take(parent[p], pos, exact=True).reset_index(drop=True)
                            for rel, pos, parent in zip(rels, positions, parents)
                            for c, p in zip(rel.child_columns, rel.parent_columns) if c in parent_part})[
                            list(parent_part)]))
                    values[column] = per_parent_numbers(
                        start, groups, dtype, column,
                        offsets=None if taken is None else taken.fillna(0).to_numpy(dtype=np.int64))
                else:
                    values[column] = self._split_numbers(name, rels, positions[0], groups, start, dtype, column,
                                                         part, offsets)
                if generator.is_timeline:
                    values[column] = generator.at(values[column].to_numpy(dtype=np.int64))
            else:
                values[column] = self._unique_values(name, column, generator, n, seed, part, prior=prior)
        for column, generator in plan.unique_columns.items():
            values[column] = self._unique_values(name, column, generator, n, seed, part, "unique", prior)
        for column, labels in plan.label_keys.items():  # k-th row of a parent: its k-th label
            groups, _ = group_ids(self._key_codes(parent_part, rels, positions, parents))
            numbers = (per_parent_numbers(0, groups, np.dtype(np.int64), column) if part is None else
                       self._split_numbers(name, rels, positions[0], groups, 0, np.dtype(np.int64), column, part,
                                           offsets)).to_numpy(dtype=np.int64)
            values[column] = labels_per_parent(labels, positions[0], numbers,
                                               child_seed(seed, name, "pk", column)).rename(column)
        return values

    @staticmethod
    def _check_key_lengths(name: str, plan: TablePlan, n: int, lengths: Mapping[str, int],
                           part: "_Partition | None", prior: pd.DataFrame | None) -> None:
        """Check, before any row of ``name`` is generated, that its generated keys and unique values fit their
        declared text lengths ``lengths`` (``ColumnType.length``).

        Raises:
            GenerationError: They do not (the message names the table, the column and how many fit).
        """
        last = n - 1 if part is None else (n - 1) * part.count + part.index
        generators = {**{c: g for c, g in plan.keys.items() if c not in plan.per_parent_keys},
                      **plan.unique_columns}
        for column, generator in generators.items():
            if column in lengths:
                try:
                    generator.check_length(lengths[column], last, None if prior is None else prior.get(column))
                except GenerationError as exc:
                    raise GenerationError(f"Table {name!r}: {exc}") from exc

    @staticmethod
    def _numbers_taken(prior: pd.DataFrame, legs: list[str], column: str, start: int) -> pd.Series:
        """Per combination of ``legs`` in ``prior`` (rows already there, in the plan's dtypes), how many
        numbers of key leg ``column`` from ``start`` on are taken (its largest one, ``- start + 1``)."""
        frame = prior[prior[column].notna()]
        taken = frame.groupby(legs if len(legs) > 1 else legs[0], dropna=False, sort=False)[column].max()
        return (taken.astype(np.int64) - int(start) + 1).clip(lower=0)

    @staticmethod
    def _unique_values(name: str, column: str, generator: KeyGenerator, n: int, seed: int,
                       part: "_Partition | None", kind: str = "pk", prior: pd.DataFrame | None = None) -> pd.Series:
        """``n`` unique values of ``column`` over the whole table: row ``k`` of a slice gets global index
        ``k * P + p`` from a generator seeded alike in every slice; none of ``prior``'s (rows already there)."""
        rng = numpy_generator(child_seed(seed, name, kind, column))
        if part is None:
            return generator.generate(n, rng, existing=None if prior is None else prior[column])
        return generator.generate(n, rng, indices=np.arange(n, dtype=np.int64) * part.count + part.index)

    def _split_numbers(self, name: str, rels: list[Relationship], primary: np.ndarray, groups: np.ndarray,
                       start: int, dtype: Any, column: str, part: "_Partition",
                       offsets: np.ndarray | None) -> pd.Series:
        """A per-parent numbered key leg in a slice, distinct across slices.

        Groups that hold an FK to a split table never span slices: numbered as ever. Groups of
        one global primary parent row continue its numbering after the children the earlier
        slices have (so all slices together number ``start, start + 1, ...``). Other groups
        (spanning slices in ways no slice knows) interleave: ``start + k * P + p``.
        """
        parent_part = set(self._pk_parent_columns(name))
        if any(rel.parent not in part.plan.global_tables and set(rel.child_columns) <= parent_part for rel in rels):
            return per_parent_numbers(start, groups, dtype, column)
        if offsets is not None and parent_part == set(rels[0].child_columns):
            return per_parent_numbers(start, groups, dtype, column, offsets=np.append(offsets, 0)[primary])
        return per_parent_numbers(start, groups, dtype, column, stride=part.count, phase=part.index)

    @staticmethod
    def _output_dtypes(plan: TablePlan, rels: list[Relationship], positions: list[np.ndarray],
                       parents: list[pd.DataFrame], *, uniform: bool = False) -> dict[str, Any]:
        """The dtype of every column in every chunk: the real one, or its nullable twin (``Int64``,
        ``UInt64``) for an integer FK that is null somewhere in the table (decided once, so all chunks
        agree; with ``uniform``, for one that can be null, so all slices of a table agree). A float FK
        to integer keys beyond ``2**53`` gets that twin too: ``float64`` would round them onto other keys."""
        dtypes = {c: dtype_from_name(plan.dtypes[c]) for c in plan.columns}
        for rel, pos, parent, link in zip(rels, positions, parents, plan.parents):
            nullable = bool((pos < 0).any()) or (uniform and link.null_rate > 0)
            for column, p_col in zip(rel.child_columns, rel.parent_columns):
                if nullable and isinstance(dtypes[column], np.dtype) and dtypes[column].kind in "iu":
                    dtypes[column] = nullable_twin(dtypes[column])
                elif pd.api.types.is_float_dtype(dtypes[column]) and _beyond_float(parent[p_col]):
                    dtypes[column] = nullable_twin(parent[p_col].dtype)
        return dtypes

    def _assembled_chunks(self, name: str, plan: TablePlan, rels: list[Relationship],
                          positions: list[np.ndarray], parents: list[pd.DataFrame], keys: Mapping[str, pd.Series],
                          dtypes: Mapping[str, Any], n: int, seed: int, rows_per_chunk: int,
                          lengths: Mapping[str, int], slicing: tuple[int, int] = (1, 0),
                          conditions: Mapping[str, Any] | None = None,
                          prior: pd.DataFrame | None = None) -> Iterator[pd.DataFrame]:
        """Content, FKs and keys of the rows, one chunk at a time, in the real dtypes (self-references left out).

        ``slicing`` is ``(P, p)`` for slice ``p`` of a table split between ``P`` slices: a numbered key leg's
        ``k``-th number in a group is then ``start + k * P + p``, so the slices' keys never collide. With
        ``prior`` (the rows already there; never sliced), a group's numbers go on after its largest one.
        ``lengths``: the declared text lengths the rules' generated values fit (:func:`_string_lengths`)."""
        self_cols = {c for rel in self.graph.self_references(name) for c in rel.child_columns
                     if c not in rel.shared_columns}
        columns = [c for c in plan.columns if c not in self_cols]
        numbered: dict[Any, int] = {}  # rows numbered so far per combination of the modelled key legs
        legs = self._modelled_key_legs(name, plan)
        if plan.numbered_keys and prior is not None:  # appending: go on after the numbers already there
            for column, start in plan.numbered_keys.items():
                for combo, count in self._numbers_taken(prior, legs, column, start).items():
                    numbered[combo] = max(numbered.get(combo, 0), int(count))
        for chunk, start in enumerate(range(0, max(n, 1), rows_per_chunk)):
            stop = min(n, start + rows_per_chunk)
            piece = [p[start:stop] for p in positions]
            content = self._content(name, plan, chunk, start, stop, piece, parents, seed, conditions)
            for via, (rel, pos, parent) in enumerate(zip(rels, piece, parents)):
                for c_col, p_col in zip(rel.child_columns, rel.parent_columns):
                    content[c_col] = _take(parent[p_col], pos, exact=True).reset_index(drop=True)
                _fill_partly_null(content, rel, plan.parents[via], pos, positions[via], parent,
                                  numpy_generator(child_seed(seed, name, "partly_null", via, chunk)))
            for column, series in keys.items():
                content[column] = series.iloc[start:stop].reset_index(drop=True)
            plan.rules.apply(content, piece, parents, numpy_generator(child_seed(seed, name, "rules", chunk)), _take,
                             lengths)
            if plan.numbered_keys:
                self._number_key_legs(plan, legs, content, numbered, slicing)
            yield self._restore_dtypes(content[columns], dtypes)

    def _modelled_key_legs(self, name: str, plan: TablePlan) -> list[str]:
        """The primary-key legs of ``name`` the model draws: neither generated keys nor numbered legs."""
        return [c for c in self.metadata.tables[name].pk_columns if c not in plan.keys and c not in plan.numbered_keys]

    def _number_key_legs(self, plan: TablePlan, legs: list[str], content: pd.DataFrame, numbered: dict[Any, int],
                         slicing: tuple[int, int]) -> None:
        """Fill the numbered legs of a composite key (:attr:`TablePlan.numbered_keys`) of one chunk, in place:
        ``start, start + 1, ...`` within each combination of the modelled ``legs``, going on from the rows of
        that combination in earlier chunks (``numbered``, updated)."""
        values = content[legs]
        if len(values) == 0:  # pandas cannot factorize an empty MultiIndex
            groups, uniques = np.zeros(0, dtype=np.int64), []
        else:
            groups, uniques = pd.factorize(row_labels(values), use_na_sentinel=False)
        earlier = np.array([numbered.get(combo, 0) for combo in uniques], dtype=np.int64)
        for combo, before, rows in zip(uniques, earlier, np.bincount(groups, minlength=len(uniques))):
            numbered[combo] = int(before + rows)
        stride, phase = slicing
        for column, start in plan.numbered_keys.items():
            content[column] = per_parent_numbers(start, groups, dtype_from_name(plan.dtypes[column]), column,
                                                 offsets=earlier[groups] * stride, stride=stride, phase=phase)

    def _text_models(self, name: str) -> dict[str, TextModel]:
        """The word models of text-only table ``name``, built from its plan once."""
        if name not in self._text_model_cache:
            self._text_model_cache[name] = {c: TextModel(state) for c, state in self._plans[name].text_models.items()}
        return self._text_model_cache[name]

    def _content(self, name: str, plan: TablePlan, chunk: int, start: int, stop: int, positions: list[np.ndarray],
                 parents: list[pd.DataFrame], seed: int, conditions: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """The modelled columns of rows ``start..stop``, with their parents' context."""
        if not plan.modelled:
            return pd.DataFrame(index=pd.RangeIndex(stop - start))
        if stop == start:
            return pd.DataFrame({c: pd.Series([], dtype=dtype_from_name(plan.dtypes[c])) for c in plan.modelled})
        if plan.text_models:
            models = self._text_models(name)
            return pd.DataFrame({c: models[c].generate(
                stop - start, numpy_generator(child_seed(seed, name, "text", c, chunk)), name=c)
                for c in plan.modelled})
        model = self._fitted_models[name]
        ctx = None
        if plan.context:
            ctx = self._context_frame(plan.context, positions, parents)
            ctx, replaced = plan.context_domain.apply(ctx, numpy_generator(child_seed(seed, name, "context", chunk)))
            if replaced:
                _log.info("relational_context_values_replaced", table=name, values=replaced,
                          reason="parent values never seen as context in training")
        try:
            rows = model.sample(stop - start, ctx, seed=child_seed(seed, name, "rows", chunk), conditions=conditions)
        except GenerationError as exc:
            raise GenerationError(f"table {name!r}: sampling rows {start}..{stop} failed: {exc}") from exc
        return rows.reset_index(drop=True)[plan.rules.model_columns(plan.modelled)].copy()

    def _with_hierarchy(self, name: str, plan: TablePlan, frame: pd.DataFrame, dtypes: Mapping[str, Any],
                        seed: int) -> pd.DataFrame:
        """The whole table with its self-referencing FKs drawn as a forest over all rows."""
        n = len(frame)
        frame = frame.copy()
        for index, rel in enumerate(self.graph.self_references(name)):
            link = plan.self_refs[index]
            rng = numpy_generator(child_seed(seed, name, "self", index))
            reports = link.counts.sample(frame, rng) if n else np.zeros(0, dtype=np.int64)
            roots = link.null_rate + link.self_root_share
            parent_pos = hierarchy_within(frame[list(rel.shared_columns)], roots, reports, rng)
            if link.self_root_share > 0:  # roots written as pointing at themselves, in the real share
                root_rows = np.flatnonzero(parent_pos < 0)
                own = root_rows[:int(round(len(root_rows) * link.self_root_share / roots))]
                parent_pos[own] = own
            for c_col, p_col in zip(rel.child_columns, rel.parent_columns):
                if c_col in rel.shared_columns:  # the row's own value, also for a row without a parent
                    continue
                frame[c_col] = _take(frame[p_col], parent_pos, exact=True).array
                if pd.api.types.is_float_dtype(dtypes[c_col]) and _beyond_float(frame[p_col]):
                    dtypes = {**dtypes, c_col: nullable_twin(frame[p_col].dtype)}
            _fill_partly_null(frame, rel, link, parent_pos, parent_pos, frame,
                              numpy_generator(child_seed(seed, name, "self", index, "partly_null")))
        frame = self._restore_dtypes(frame[plan.columns], dtypes)
        return self._dedupe_keys(name, frame)

    @staticmethod
    def _restore_dtypes(frame: pd.DataFrame, dtypes: Mapping[str, Any]) -> pd.DataFrame:
        frame = frame.copy()
        for column in frame.columns:
            wanted = dtypes[column]
            if frame[column].dtype != wanted:
                frame[column] = cast_like(frame[column], wanted)
        return frame.reset_index(drop=True)

    def _dedupe_keys(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Drop repeated primary keys of a whole self-referencing table whose primary key is made
        only of FK columns, one of them self-referencing (other tables are deduplicated up front)."""
        pk = self.metadata.tables[name].pk_columns
        if not pk or any(c in self._plans[name].keys for c in pk):
            return frame
        duplicated = frame[pk].duplicated(keep="first").to_numpy()
        if duplicated.any():
            _log.warning("relational_duplicate_keys_dropped", table=name, rows=int(duplicated.sum()),
                         reason="every primary-key column is a foreign key")
            frame = frame[~duplicated].reset_index(drop=True)
        return frame


class _TableStream:
    """The chunks of one table as they are generated, remembering the columns its children need.

    Args:
        chunks: The table's chunks.
        kept_columns: Columns to keep from every chunk (see :meth:`Orchestrator.kept_columns`).
    """

    def __init__(self, chunks: Iterator[pd.DataFrame], kept_columns: list[str]) -> None:
        self._chunks = chunks
        self._kept_columns = kept_columns
        self._kept: list[pd.DataFrame] = []
        self.rows = 0
        self.chunks = 0
        self.finished = False

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for chunk in self._chunks:
            if self._kept_columns:
                self._kept.append(chunk[self._kept_columns].copy())
            self.rows += len(chunk)
            self.chunks += 1
            yield chunk
        self.finished = True

    def kept(self) -> pd.DataFrame:
        """The kept columns of every row, once all chunks went through."""
        if not self._kept:
            return pd.DataFrame(columns=self._kept_columns)
        return self._kept[0] if len(self._kept) == 1 else pd.concat(self._kept, ignore_index=True)
