"""Key-closed subsets of a schema: train on part of a big database with zero orphans.

A :class:`Subset` picks rows of one **root** table (a number of rows or a fraction, seeded); the
subset then keeps the rows that belong to them and every row they reference, so that no foreign
key of the training set points at a row that was left out.

What is kept, step by step (:func:`plan_subset` decides the steps once from the schema graph;
:func:`subset_frames` runs them on DataFrames, ``syntho_hive.connectors.sql.subset`` on a
database server, and both keep exactly the same rows for the same data and seed):

1. **Root draw.** The root's distinct, non-null primary-key values are sorted (so the draw does not
   depend on the order in which rows arrive), then ``np.random.default_rng(seed)`` chooses ``rows``
   of them (or ``round(fraction * n)``, at least one) without replacement (:func:`draw_keys`). A root
   without a primary key draws positions of its rows sorted by every column (pandas only).
2. **Down.** In generation order (parents first), each table that descends from the root through
   foreign keys to other tables keeps a row when *any* of its foreign keys to the root or to another
   descendant points at a row kept so far. Self-references are not followed downwards.
3. **Up (closure).** In reverse generation order, every row referenced by a kept row is kept, through
   any foreign key (several parents, composite keys); a self-reference is followed until no row is
   added (a manager's manager's ...). This reaches the *ancestors* of the descendants too (``products``
   referenced by kept ``order_items``, their ``categories``).
4. **Rest.** Each remaining table, in generation order, keeps the rows whose every non-null foreign key
   points at a kept row (with a self-reference: the largest such set). A remaining table without a
   parent table (an isolated table, or the top of a part of the schema the root does not reach) is
   sampled instead: the share of the root's keys that step 1 drew, of its own keys (at least one),
   drawn as in step 1 with the seed ``child_seed(seed, "subset", table)``, then closed over its
   self-references as in step 3.

Consequences:

* No orphan is created: a kept row's foreign key that references a row of the source references a
  kept row. A foreign key with a null column references nothing and is no orphan (SQL's ``MATCH
  SIMPLE``); a value that references no row of the source at all (an orphan already in the source)
  stays one, for ``Metadata.validate_schema`` / ``fit(on_integrity_error="drop")`` to report or drop.
* Every row below a drawn root row (its orders, their items...) is kept.
* The root keeps exactly the rows drawn unless a kept row also references *another* root row: a
  descendant with two foreign-key paths to the root (a diamond) or a self-reference on the root or a
  descendant pulls that row in during step 3; ``SubsetReport.kept`` counts every kept row.
* The rows of steps 1-2 have every child row kept, the rows step 3 adds may not: children per parent are
  learned from the former only (:func:`complete_rows` finds them in the kept tables from the root keys
  drawn, which every executor reports in ``SubsetReport.drawn``).
* Rows with a null primary key are never kept; rows that share a (duplicated) primary key are kept or
  dropped together, as a database's key table does.

Example:
    >>> frames, report = subset_frames(metadata, frames, Subset(root="customers", rows=1_000, seed=0))
    >>> report.kept   # {"customers": 1000, "orders": 4890, "order_items": 15020, "products": 812, ...}
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from syntho_hive._checks import is_finite_number, is_int
from syntho_hive._random import child_seed
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, SchemaError
from syntho_hive.relational.graph import Relationship, SchemaGraph

__all__ = ["Subset", "SubsetReport", "SubsetPlan", "DownStep", "UpStep", "RestStep", "PlanRun", "check_key_columns",
           "check_drawn_keys", "plan_subset", "root_draw_size", "follow_draw_size", "usable_keys", "draw_keys",
           "draw_positions", "subset_frames", "finish_report", "complete_rows"]

_log = get_logger(__name__)


@dataclass(frozen=True)
class Subset:
    """Which rows of a schema to train on.

    Attributes:
        root: A table without parents (no foreign key to another table) whose rows are sampled.
        rows: How many root rows to keep (at most the table's size); exclusive with ``fraction``.
        fraction: Share of root rows to keep, in ``(0, 1]``; exclusive with ``rows``.
        seed: Seed of the root rows' draw: the same seed, data and ``rows`` keep the same rows.

    Raises:
        ConfigurationError: ``root`` is not a table name, neither or both of ``rows`` and ``fraction``
            are given, ``rows`` is not an integer >= 1, ``fraction`` is not a number in ``(0, 1]``, or
            ``seed`` is not a non-negative integer.

    Example:
        >>> Subset(root="customers", rows=50_000, seed=0)
        >>> Subset(root="customers", fraction=0.1)
    """

    root: str
    rows: int | None = None
    fraction: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.root, str) or not self.root:
            raise ConfigurationError(f"Subset(root=...) must be a table name, got {self.root!r}.")
        if (self.rows is None) == (self.fraction is None):
            raise ConfigurationError(
                f"Subset(root={self.root!r}) needs exactly one of rows=N (root rows to keep) or "
                f"fraction=F (share of root rows, 0 < F <= 1); got rows={self.rows!r}, "
                f"fraction={self.fraction!r}.")
        if self.rows is not None and (not is_int(self.rows) or self.rows < 1):
            raise ConfigurationError(f"Subset(root={self.root!r}): rows must be an integer >= 1, got {self.rows!r}.")
        if self.fraction is not None and (
                not is_finite_number(self.fraction) or not 0 < self.fraction <= 1):
            raise ConfigurationError(f"Subset(root={self.root!r}): fraction must be a number in (0, 1], "
                                     f"got {self.fraction!r}.")
        if not is_int(self.seed) or self.seed < 0:
            raise ConfigurationError(f"Subset(root={self.root!r}): seed must be a non-negative integer, "
                                     f"got {self.seed!r}.")


@dataclass
class SubsetReport:
    """What a subset kept.

    Attributes:
        root: The root table.
        kept: Rows kept per table, in generation order.
        total: Rows each table had in the source (``None`` where it was not counted).
        drawn: The root's key values drawn in step 1 (``None`` for a root without a primary key): with
            them, :func:`complete_rows` finds the kept rows whose children were all kept.
    """

    root: str
    kept: dict[str, int] = field(default_factory=dict)
    total: dict[str, int | None] = field(default_factory=dict)
    drawn: pd.DataFrame | None = field(default=None, repr=False, compare=False)


# --------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class DownStep:
    """Step 2 for one descendant of the root.

    Attributes:
        table: The table.
        via: Its foreign keys to the root or to another descendant; a row is kept when any of them
            points at a row kept by the root draw or an earlier down step.
    """

    table: str
    via: tuple[Relationship, ...]


@dataclass(frozen=True)
class UpStep:
    """Step 3 for one table that the root or its descendants reach (the root, a descendant, an ancestor).

    Attributes:
        table: The table.
        referenced_by: Foreign keys of other reached tables pointing at it: the rows they reference are kept.
        self_references: Its foreign keys to itself, followed until no row is added.
    """

    table: str
    referenced_by: tuple[Relationship, ...]
    self_references: tuple[Relationship, ...]


@dataclass(frozen=True)
class RestStep:
    """Step 4 for one table the root does not reach.

    Attributes:
        table: The table.
        parents: Its foreign keys to other tables (all of them reach tables already final).
        self_references: Its foreign keys to itself.
        sampled: ``True`` when the table has no parent table: its keys are drawn with the root's kept
            fraction, then closed over ``self_references``; ``False``: a row is kept when every
            non-null foreign key (self-references included) points at a kept row.
    """

    table: str
    parents: tuple[Relationship, ...]
    self_references: tuple[Relationship, ...]
    sampled: bool


@dataclass(frozen=True)
class SubsetPlan:
    """The steps of a subset, decided from the schema alone (no data); every executor walks it.

    Attributes:
        subset: The subset asked for.
        order: Every table, parents first (the report's order).
        keys: Primary-key columns of each table (empty for a table without one).
        down: Step 2, in generation order (the root excluded).
        up: Step 3, in reverse generation order (the root, its descendants and their ancestors).
        rest: Step 4, in generation order.
    """

    subset: Subset
    order: tuple[str, ...]
    keys: Mapping[str, tuple[str, ...]]
    down: tuple[DownStep, ...]
    up: tuple[UpStep, ...]
    rest: tuple[RestStep, ...]

    @property
    def root(self) -> str:
        """The root table."""
        return self.subset.root

    def down_step(self, table: str) -> DownStep | None:
        """The down step of ``table`` (``None`` for the root and tables outside step 2)."""
        return next((step for step in self.down if step.table == table), None)

    def rest_step(self, table: str) -> RestStep | None:
        """The rest step of ``table`` (``None`` for tables the root reaches)."""
        return next((step for step in self.rest if step.table == table), None)


def plan_subset(metadata: Metadata, subset: Subset) -> SubsetPlan:
    """Check that ``subset`` fits ``metadata``, before any data is read, and decide which tables go down
    from the root, which are closed upwards, and which are the rest.

    Args:
        metadata: The schema.
        subset: The subset asked for.

    Returns:
        The plan.

    Raises:
        ConfigurationError: ``subset`` is not a :class:`Subset` or ``metadata`` not a ``Metadata``.
        SchemaError: The root is not a table of the metadata, or has a parent table (the message
            names its parents and the tables that can be roots), or the foreign keys are malformed.
    """
    if not isinstance(subset, Subset):
        raise ConfigurationError(f"subset must be a syntho_hive Subset(root=..., rows=... or fraction=...), "
                                 f"got {type(subset).__name__}.")
    if not isinstance(metadata, Metadata):
        raise ConfigurationError(f"metadata must be a syntho_hive Metadata, got {type(metadata).__name__}.")
    graph = SchemaGraph.from_metadata(metadata)
    root = subset.root
    if root not in metadata.tables:
        raise SchemaError(f"Subset root {root!r} is not a table of the metadata; tables that can be roots "
                          f"(no parent table): {graph.roots()}.")
    parents = graph.parents_of(root)
    if parents:
        fks = ", ".join(f"{'+'.join(r.child_columns)} -> {r.parent}" for r in parents)
        raise SchemaError(
            f"Subset root {root!r} has parent table(s) {sorted({r.parent for r in parents})} (foreign keys "
            f"{fks}); a root must have no foreign key to another table. Pick one of the tables that can "
            f"be roots: {graph.roots()} (its descendants, {root!r} among them, follow it).")
    down = _descendants(graph, root)
    reached = down | _ancestors(graph, down)
    down_steps = tuple(DownStep(t, tuple(r for r in graph.parents_of(t) if r.parent in down))
                       for t in graph.order if t in down and t != root)
    up_steps = tuple(UpStep(t, tuple(r for r in graph.children_of(t) if r.child in reached),
                            tuple(graph.self_references(t)))
                     for t in reversed(graph.order) if t in reached)
    rest_steps = tuple(RestStep(t, tuple(graph.parents_of(t)), tuple(graph.self_references(t)),
                                sampled=not graph.parents_of(t))
                       for t in graph.order if t not in reached)
    keys = {t: tuple(metadata.tables[t].pk_columns) for t in graph.order}
    return SubsetPlan(subset, tuple(graph.order), keys, down_steps, up_steps, rest_steps)


def _descendants(graph: SchemaGraph, root: str) -> set[str]:
    found = {root}
    for table in graph.order:  # parents first: a table's parents are decided before it
        if any(r.parent in found for r in graph.parents_of(table)):
            found.add(table)
    return found


def _ancestors(graph: SchemaGraph, tables: set[str]) -> set[str]:
    found: set[str] = set()
    for table in reversed(graph.order):  # children first
        if table in tables or table in found:
            found.update(r.parent for r in graph.parents_of(table))
    return found - tables


# --------------------------------------------------------------------------- draws (shared by executors)
def root_draw_size(subset: Subset, available: int) -> int:
    """How many root keys to draw from ``available`` distinct non-null keys.

    Args:
        subset: The subset asked for.
        available: Distinct non-null primary-key values of the root (or its rows, without a key).

    Returns:
        ``subset.rows``, or ``round(fraction * available)`` but at least 1 (0 for an empty root).

    Raises:
        ConfigurationError: ``subset.rows`` is larger than ``available``.
    """
    if subset.rows is not None:
        if subset.rows > available:
            raise ConfigurationError(
                f"Subset(root={subset.root!r}, rows={subset.rows}) asks for more rows than the root has "
                f"({available} with a non-null key); ask for rows <= {available} or use fraction=1.0.")
        return int(subset.rows)
    if available == 0:
        return 0
    return max(1, round(float(subset.fraction) * available))  # type: ignore[arg-type]


def follow_draw_size(drawn: int, root_available: int, available: int) -> int:
    """How many keys a sampled table of step 4 keeps: the root's drawn share of its ``available`` keys.

    Args:
        drawn: Root keys drawn.
        root_available: Root keys there were.
        available: Distinct non-null keys (or rows, without a key) of the sampled table.

    Returns:
        ``round(drawn * available / root_available)``, at least 1 when ``drawn`` and ``available``
        are non-zero.
    """
    if drawn == 0 or available == 0 or root_available == 0:
        return 0
    return max(1, min(available, round(drawn * available / root_available)))


def usable_keys(keys: pd.DataFrame) -> pd.DataFrame:
    """The distinct key values without a null: what a draw chooses from.

    Args:
        keys: Key values, one column per key column.

    Returns:
        The distinct rows of ``keys`` that have no null (in their first order, index kept).
    """
    return keys[keys.notna().all(axis=1).to_numpy()].drop_duplicates()


def draw_keys(keys: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    """Draw ``size`` distinct keys: sorted first, so the draw ignores the order rows came in.

    Both executors call it (the database one on the root's keys fetched to the client), so they
    keep the same rows for the same data and seed.

    Args:
        keys: Key values, one column per key column (duplicates and rows with a null are dropped).
        size: How many to draw (at most the distinct non-null keys).
        seed: Seed of ``np.random.default_rng``.

    Returns:
        The drawn keys, in key order, with ``keys``' columns and a fresh index.

    Raises:
        SchemaError: The key values cannot be ordered (mixed types in one column).
    """
    ordered = _sorted(usable_keys(keys), "primary key")
    chosen = np.sort(np.random.default_rng(seed).choice(len(ordered), size=size, replace=False))
    return ordered.iloc[chosen].reset_index(drop=True)


def draw_positions(frame: pd.DataFrame, size: int, seed: int) -> np.ndarray:
    """For a table without a primary key: a boolean mask of ``size`` rows drawn from its sorted rows.

    Args:
        frame: The table.
        size: Rows to draw (at most ``len(frame)``).
        seed: Seed of ``np.random.default_rng``.

    Returns:
        Boolean mask over ``frame``'s rows.

    Raises:
        SchemaError: The rows cannot be ordered (mixed types in one column).
    """
    order = _sorted(frame.reset_index(drop=True), "rows").index.to_numpy()
    chosen = np.random.default_rng(seed).choice(len(order), size=size, replace=False)
    mask = np.zeros(len(frame), dtype=bool)
    mask[order[chosen]] = True
    return mask


def _sorted(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if frame.empty or frame.shape[1] == 0:
        return frame.reset_index(drop=True)
    try:
        return frame.sort_values(by=list(frame.columns), kind="mergesort", na_position="last")
    except TypeError as exc:
        raise SchemaError(f"cannot order the {what} of a table to draw a subset from it (columns "
                          f"{list(frame.columns)}: {exc}); give every column one type, or declare a "
                          "primary key of one type.") from exc


def check_key_columns(plan: SubsetPlan, metadata: Metadata, columns: Mapping[str, list[str]], *, missing: str,
                      what: str = "table") -> None:
    """Every table of ``plan`` is among ``columns`` (``{table: its column names}``) with its key columns.

    Both executors check their input with it before anything is read or drawn.

    Args:
        plan: The subset's plan.
        metadata: The schema (primary and foreign keys).
        columns: The column names of each table given.
        missing: How the message goes on after "subset: tables [...] of the metadata" when tables are missing.
        what: What a table given is, for the message (``"table"``, ``"database table"``).

    Raises:
        SchemaError: A table of the metadata, or one of its key columns, is missing.
    """
    absent_tables = [t for t in plan.order if t not in columns]
    if absent_tables:
        raise SchemaError(f"subset: tables {absent_tables} of the metadata {missing}.")
    for table in plan.order:
        needed = [*plan.keys[table], *metadata.tables[table].fk]
        absent = [c for c in needed if c not in columns[table]]
        if absent:
            raise SchemaError(f"subset: {what} {table!r} lacks its key column(s) {absent} (declared in the "
                              f"metadata); its columns are {columns[table]}.")


def check_drawn_keys(plan: SubsetPlan, backend: str, fix: str) -> None:
    """The tables a draw picks from (the root, the sampled tables of step 4) have a primary key, as a
    backend that draws keys, not rows, needs.

    Args:
        plan: The subset's plan.
        backend: Who draws, for the message (``"Spark"``, ``"database"``).
        fix: The last of the ways out the message offers.

    Raises:
        SchemaError: One of them has no primary key (the message names them).
    """
    drawn = [plan.root, *(step.table for step in plan.rest if step.sampled)]
    keyless = [t for t in drawn if not plan.keys[t]]
    if keyless:
        raise SchemaError(
            f"subset: table(s) {keyless} must be sampled (the root, or a table the root does not reach and that "
            f"has no parent) but have no primary key, and a {backend} subset draws keys. Declare a primary key "
            f"for them in the metadata (a unique column is enough), {fix}.")


def finish_report(plan: SubsetPlan, kept: Mapping[str, int], total: Mapping[str, int | None],
                  backend: str, drawn: pd.DataFrame | None = None) -> SubsetReport:
    """The report of a finished subset, logged as ``subset_kept`` (a warning per emptied table).

    Args:
        plan: The plan that ran.
        kept: Rows kept per table.
        total: Rows per table in the source.
        backend: Where it ran, e.g. ``"pandas"`` or ``"postgresql"`` (for the log only).
        drawn: The root keys drawn (``PlanRun.root_keys``).

    Returns:
        The report, tables in generation order.
    """
    report = SubsetReport(root=plan.root, kept={t: int(kept[t]) for t in plan.order},
                          total={t: None if total.get(t) is None else int(total[t]) for t in plan.order},
                          drawn=drawn)
    for table in plan.order:
        before = report.total[table]
        if report.kept[table] == 0 and before:
            _log.warning("subset_table_emptied", table=table, root=plan.root, total=before,
                         hint="no row of this table belongs to or is referenced by the kept rows; "
                              "draw more root rows or pick another root")
    _log.info("subset_kept", root=plan.root, seed=plan.subset.seed, rows=plan.subset.rows,
              fraction=plan.subset.fraction, backend=backend, kept=report.kept, total=report.total)
    return report


# --------------------------------------------------------------------------- pandas executor
def subset_frames(metadata: Metadata, frames: Mapping[str, pd.DataFrame],
                  subset: Subset) -> tuple[dict[str, pd.DataFrame], SubsetReport]:
    """The key-closed ``subset`` of in-memory tables (see the module docstring for what is kept).

    Args:
        metadata: The schema (tables, primary and foreign keys).
        frames: Every table of ``metadata``, whole.
        subset: Which rows to keep.

    Returns:
        ``({table: kept rows, in their original order, fresh index}, report)``, tables in
        ``metadata`` order.

    Raises:
        ConfigurationError: A bad ``subset``, or ``rows`` larger than the root.
        SchemaError: The root does not fit the schema, a table or key column is missing from
            ``frames``, or keys cannot be ordered.
    """
    plan = plan_subset(metadata, subset)
    check_key_columns(plan, metadata, {t: list(frame.columns) for t, frame in frames.items()},
                      missing=f"are missing from the data; give every table of the metadata ({list(metadata.tables)})")
    run = _FrameRun(plan, frames)
    run.run()
    kept = {t: int(run.keep[t].sum()) for t in plan.order}
    report = finish_report(plan, kept, {t: len(frames[t]) for t in plan.order}, backend="pandas",
                           drawn=run.root_keys)
    result = {t: frames[t][run.keep[t]].reset_index(drop=True) for t in metadata.tables}
    return result, report


def complete_rows(metadata: Metadata, frames: Mapping[str, pd.DataFrame], subset: Subset,
                  drawn: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Which kept rows of the root and its descendants have *all* their children in the subset: the rows
    of steps 1-2 (the root keys drawn and the rows below them), found again in the kept tables.

    The other kept rows of these tables (pulled in by step 3 through a second foreign key, a diamond)
    came without their children, so counts of children per parent are learned from these rows only.
    Every backend reports the same ``drawn`` keys, and the kept rows below them are the same, so the
    rows found are the same whichever backend computed the subset.

    Args:
        metadata: The schema.
        frames: The kept rows of every table (the subset, possibly with rows dropped since).
        subset: The subset that kept them.
        drawn: The root keys drawn (``SubsetReport.drawn``); ``None`` finds nothing.

    Returns:
        ``{table: boolean mask over frames[table]}`` for the root and the tables below it, leaving out a
        table where no row is complete (its counts are learned from every kept row then, as without a subset).

    Raises:
        SchemaError: The root does not fit the schema.
    """
    plan = plan_subset(metadata, subset)
    key = plan.keys[plan.root]
    if drawn is None or not key:
        return {}
    from syntho_hive.relational.keys import comparable_frames

    keys, wanted = comparable_frames(frames[plan.root][list(key)], drawn.set_axis(list(key), axis=1))
    run = _FrameRun(plan, frames)
    run.keep[plan.root] = _matches(keys, key, wanted)
    for down in plan.down:
        run._down(down)
    found = {t: run.keep[t] for t in (plan.root, *(step.table for step in plan.down))}
    empty = [t for t, mask in found.items() if len(mask) and not mask.any()]
    if empty:
        _log.warning("subset_counts_from_all_rows", tables=empty, root=plan.root,
                     hint="no kept row of these tables lies below the root rows drawn; their children per "
                          "parent are learned from every kept row; draw more root rows")
    return {t: mask for t, mask in found.items() if t not in empty}


def _matches(frame: pd.DataFrame, columns: tuple[str, ...], keys: pd.DataFrame) -> np.ndarray:
    """Rows of ``frame`` whose ``columns`` (no null among them) equal a row of ``keys`` (same width)."""
    values = frame[list(columns)]
    present = values.notna().all(axis=1).to_numpy()
    if len(values) == 0 or len(keys) == 0:
        return np.zeros(len(values), dtype=bool)
    if len(columns) == 1:
        hit = values.iloc[:, 0].isin(keys.iloc[:, 0].dropna()).to_numpy()
    else:
        wanted = pd.MultiIndex.from_frame(keys.set_axis(list(columns), axis=1))
        hit = pd.MultiIndex.from_frame(values).isin(wanted)
    return present & np.asarray(hit, dtype=bool)


class PlanRun(ABC):
    """One run of a :class:`SubsetPlan` on one backend (pandas here, a SQL server, Spark): the plan's
    steps in their order; each backend says how a step is done.

    Attributes:
        plan: The plan.
        root_drawn: Root keys (or rows) drawn.
        root_available: Root keys (or rows) there were to draw from.
        root_keys: The root keys drawn (``None`` before the draw, and for a root without a key).
    """

    def __init__(self, plan: SubsetPlan) -> None:
        self.plan = plan
        self.root_drawn = 0
        self.root_available = 0
        self.root_keys: pd.DataFrame | None = None

    def run(self) -> None:
        """Draw the root, then follow the plan: down, up (with self-reference closure), the rest."""
        self._draw_root()
        for down in self.plan.down:
            self._down(down)
        for up in self.plan.up:
            self._up(up)
        for rest in self.plan.rest:
            if rest.sampled:
                self._sample(rest)
            else:
                self._filter(rest)

    def _drawn_root_keys(self, keys: pd.DataFrame) -> pd.DataFrame:
        """The root keys to keep, drawn from its distinct ``keys`` (root counts recorded)."""
        self.root_available = len(keys)
        self.root_drawn = root_draw_size(self.plan.subset, self.root_available)
        self.root_keys = draw_keys(keys, self.root_drawn, self.plan.subset.seed)
        return self.root_keys

    @abstractmethod
    def _draw_root(self) -> None:
        """Draw the root's keys (or rows) and keep them."""

    @abstractmethod
    def _down(self, down: DownStep) -> None:
        """Keep the rows of a table below the root that reference kept parent rows."""

    @abstractmethod
    def _up(self, up: UpStep) -> None:
        """Keep the rows of a parent that kept rows reference, closed over its self-references."""

    @abstractmethod
    def _sample(self, rest: RestStep) -> None:
        """Draw a table the root does not reach, in the root's share."""

    @abstractmethod
    def _filter(self, rest: RestStep) -> None:
        """Keep the rows of a remaining table whose references all stay inside the subset."""


class _FrameRun(PlanRun):
    """One run of a plan over DataFrames: a boolean mask of kept rows per table."""

    def __init__(self, plan: SubsetPlan, frames: Mapping[str, pd.DataFrame]) -> None:
        super().__init__(plan)
        self.frames = frames
        self.keep: dict[str, np.ndarray] = {}

    # ----------------------------------------------------------------- steps
    def _down(self, down: DownStep) -> None:
        frame = self.frames[down.table]
        mask = np.zeros(len(frame), dtype=bool)
        for rel in down.via:
            mask |= _matches(frame, rel.child_columns, self._kept_keys(rel.parent, rel.parent_columns))
        self.keep[down.table] = self._by_key(down.table, mask)

    def _up(self, up: UpStep) -> None:
        frame = self.frames[up.table]
        mask = self.keep.get(up.table, np.zeros(len(frame), dtype=bool))
        for rel in up.referenced_by:
            child = self.frames[rel.child]
            mask = mask | _matches(frame, rel.parent_columns, child[self.keep[rel.child]][list(rel.child_columns)])
        self.keep[up.table] = self._close_upwards(up.table, mask, up.self_references)

    def _draw_root(self) -> None:
        root, key = self.plan.root, self.plan.keys[self.plan.root]
        frame = self.frames[root]
        if key:
            self.keep[root] = _matches(frame, key, self._drawn_root_keys(usable_keys(frame[list(key)])))
            return
        self.root_available = len(frame)
        self.root_drawn = root_draw_size(self.plan.subset, self.root_available)
        self.keep[root] = draw_positions(frame, self.root_drawn, self.plan.subset.seed)

    def _sample(self, rest: RestStep) -> None:
        frame, key = self.frames[rest.table], self.plan.keys[rest.table]
        seed = child_seed(self.plan.subset.seed, "subset", rest.table)
        available = _distinct_keys(frame, key) if key else len(frame)
        size = follow_draw_size(self.root_drawn, self.root_available, available)
        if not key:
            self.keep[rest.table] = draw_positions(frame, size, seed)
            return
        mask = _matches(frame, key, draw_keys(frame[list(key)], size, seed))
        self.keep[rest.table] = self._close_upwards(rest.table, mask, rest.self_references)

    def _filter(self, rest: RestStep) -> None:
        frame = self.frames[rest.table]
        mask = np.ones(len(frame), dtype=bool)
        for rel in rest.parents:
            mask &= _null_fk(frame, rel) | _matches(frame, rel.child_columns,
                                                    self._kept_keys(rel.parent, rel.parent_columns))
        mask = self._by_key(rest.table, mask, every_row=True)
        key = self.plan.keys[rest.table]
        while rest.self_references:  # the largest set whose self-references stay inside it
            failing = np.zeros(len(frame), dtype=bool)
            for rel in rest.self_references:
                inside = _matches(frame, rel.child_columns, frame[mask][list(key)])
                failing |= mask & ~_null_fk(frame, rel) & ~inside
            if not failing.any():
                break
            mask = mask & ~_matches(frame, key, frame[failing][list(key)])
        self.keep[rest.table] = mask

    def _close_upwards(self, table: str, mask: np.ndarray, self_refs: tuple[Relationship, ...]) -> np.ndarray:
        frame = self.frames[table]
        mask = self._by_key(table, mask)
        while self_refs:
            grown = mask.copy()
            for rel in self_refs:
                grown |= _matches(frame, rel.parent_columns, frame[mask][list(rel.child_columns)])
            if grown.sum() == mask.sum():
                break
            mask = grown
        return mask

    # ----------------------------------------------------------------- helpers
    def _kept_keys(self, table: str, columns: tuple[str, ...]) -> pd.DataFrame:
        return self.frames[table][self.keep[table]][list(columns)]

    def _by_key(self, table: str, mask: np.ndarray, every_row: bool = False) -> np.ndarray:
        """Keys, not rows, are kept: rows without a key are dropped, rows sharing a key go together
        (``every_row``: a key is kept only when all its rows qualify)."""
        key = self.plan.keys[table]
        if not key:
            return mask
        frame = self.frames[table]
        present = frame[list(key)].notna().all(axis=1).to_numpy()
        if every_row:
            failing = present & ~mask
            return present & ~_matches(frame, key, frame[failing][list(key)])
        return _matches(frame, key, frame[mask & present][list(key)])


def _null_fk(frame: pd.DataFrame, rel: Relationship) -> np.ndarray:
    """Rows whose FK has a null column: they reference nothing."""
    return frame[list(rel.child_columns)].isna().any(axis=1).to_numpy()


def _distinct_keys(frame: pd.DataFrame, key: tuple[str, ...]) -> int:
    return len(usable_keys(frame[list(key)]))
