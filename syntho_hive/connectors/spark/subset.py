"""A key-closed subset computed in Spark: the same plan, and the same rows, as pandas and SQL.

:func:`subset_dataframes` walks the :class:`~syntho_hive.relational.subset.SubsetPlan` that
:func:`~syntho_hive.relational.subset.subset_frames` (pandas) and
:func:`~syntho_hive.connectors.sql.subset.subset_selects` (SQL) walk, and keeps exactly the same
rows for the same data and seed (see :mod:`syntho_hive.relational.subset` for what is kept):

* **Root draw.** Only the root's distinct non-null primary-key values come to the driver; they are
  sorted and drawn there by :func:`~syntho_hive.relational.subset.draw_keys` (the shared helper),
  and the drawn keys go back to the cluster as a small, broadcast DataFrame. A sampled table of
  the rest (an isolated table) has its keys drawn the same way.
* **Key sets.** Every table with a primary key is represented by the DataFrame of its kept keys
  (distinct, non-null), computed with joins on the key sets of its parents or children and
  ``left_anti`` joins (keys to drop), and checkpointed as soon as computed (an eager
  ``localCheckpoint``: kept on the executors, its plan cut short), so that no step is computed twice
  and the plans of later steps, and of the loops below, stay small. A table without a primary key
  (never a parent) is a filter of its rows.
* "Any foreign key points at a kept row" (down step, and the rows a kept child references in the
  up step) and "every non-null foreign key points at a kept row" (rest step) are ``left`` joins on
  each key set, one match flag per foreign key, rather than unions of semi-joins: several parents,
  two keys to one parent, composite keys and duplicated rows are kept as pandas keeps them, and a
  table is never unioned with itself (which Spark 4 fails to optimise).
* **Self-references** are followed in a loop: each round adds the rows referenced by the rows added
  in the round before (``left_anti`` against the kept keys), until a round adds none; the largest
  set whose self-references stay inside it (rest step) is found by removing, round by round, the
  keys whose reference points outside.

Nothing else comes to the driver: the kept rows are returned as lazy DataFrames (joins on the
checkpointed key sets) for the caller to count and collect.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from syntho_hive._random import child_seed
from syntho_hive.connectors.spark._collect import collect_frame, column
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import SchemaError
from syntho_hive.relational.graph import Relationship
from syntho_hive.relational.subset import (
    DownStep,
    PlanRun,
    RestStep,
    Subset,
    SubsetPlan,
    SubsetReport,
    UpStep,
    check_drawn_keys,
    check_key_columns,
    draw_keys,
    finish_report,
    follow_draw_size,
    plan_subset,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from pyspark.sql import Column, DataFrame

__all__ = ["subset_dataframes", "subset_report", "count_rows"]

_FLAG = "__synthohive_match_{}"


@contextmanager
def subset_dataframes(metadata: Metadata, frames: Mapping[str, "DataFrame"],
                      subset: Subset) -> Iterator[tuple[SubsetPlan, dict[str, "DataFrame"], "pd.DataFrame | None"]]:
    """Compute the key-closed ``subset`` in Spark (see the module docstring); a context manager.

    Inside the block, the kept rows of each table are lazy DataFrames (the table joined on its
    checkpointed key set, or filtered; the table's columns in its order): collect or write them
    there. Leaving the block lets the key sets go. Count the kept rows (:func:`count_rows`, or
    the lengths of what was collected) and call :func:`subset_report` for the report.

    Example:
        >>> with subset_dataframes(metadata, frames, Subset(root="customers", rows=1_000)) as (plan, kept, drawn):
        ...     local = {name: frame.toPandas() for name, frame in kept.items()}
        >>> report = subset_report(plan, frames, {name: len(f) for name, f in local.items()}, drawn)

    Args:
        metadata: The schema: tables, primary and foreign keys.
        frames: Every table of ``metadata`` as a DataFrame (all its rows, at least its key columns).
        subset: Which rows to keep.

    Yields:
        ``(plan, {table: DataFrame of its kept rows}, root keys drawn)``, tables in ``metadata`` order.

    Raises:
        ConfigurationError: A bad ``subset``, or ``rows`` larger than the root.
        SchemaError: The root does not fit the schema, a table or key column is missing from
            ``frames``, a table that must be drawn (the root, an isolated table) has no primary
            key, or keys cannot be ordered.
    """
    plan = plan_subset(metadata, subset)
    check_key_columns(plan, metadata, {t: list(frame.columns) for t, frame in frames.items()},
                      missing=f"are not among the Spark tables given ({sorted(frames)}); give every table of the "
                              "metadata", what="Spark table")
    check_drawn_keys(plan, "Spark", "or leave them out of the metadata")
    run = _SparkRun(plan, frames)
    try:
        run.run()
        yield plan, {t: run.kept_rows(t) for t in metadata.tables}, run.root_keys
    finally:
        run.release()


def subset_report(plan: SubsetPlan, frames: Mapping[str, "DataFrame"], kept: Mapping[str, int],
                  drawn: "pd.DataFrame | None" = None) -> SubsetReport:
    """The report of a subset whose kept rows were counted (``drawn``: the root keys
    :func:`subset_dataframes` yielded): the source tables are counted (one Spark job) and the report
    logged (``subset_kept``, with ``backend="spark"``)."""
    total = count_rows({t: frames[t] for t in plan.order})
    return finish_report(plan, kept, total, backend="spark", drawn=drawn)


def count_rows(frames: Mapping[str, "DataFrame"]) -> dict[str, int]:
    """The number of rows of each DataFrame, counted in one Spark job."""
    from pyspark.sql import functions as F

    if not frames:
        return {}
    names = list(frames)
    counts = [frame.groupBy().count().select(F.lit(number).alias("table"), column("count"))
              for number, frame in enumerate(frames.values())]
    found = {int(row[0]): int(row[1]) for row in functools.reduce(lambda a, b: a.unionByName(b), counts).collect()}
    return {name: found.get(number, 0) for number, name in enumerate(names)}


def _flag(frame: "DataFrame", wanted: Sequence[tuple[Sequence[str], "DataFrame"]]) -> tuple["DataFrame", list[str]]:
    """``frame`` with one flag column per ``(columns, values)``: non-null where the row's ``columns``
    equal a row of ``values`` (distinct values, columns named ``columns``; a null never matches).

    Left joins with a flag, not unions of semi-joins: duplicated rows stay as they are, and one
    table is never unioned with itself (which some Spark versions fail to optimise).
    """
    from pyspark.sql import functions as F

    flags = []
    for number, (columns, values) in enumerate(wanted):
        flag = _FLAG.format(number)
        if flag in frame.columns:
            raise SchemaError(f"subset: a Spark table has a column named {flag!r}, which the Spark subset uses "
                              "internally; rename it.")
        frame = frame.join(values.select(*map(column, columns), F.lit(True).alias(flag)), on=list(columns), how="left")
        flags.append(flag)
    return frame, flags


def _matching_any(frame: "DataFrame", wanted: Sequence[tuple[Sequence[str], "DataFrame"]]) -> "DataFrame":
    """The rows of ``frame`` matching any of ``wanted`` (see :func:`_flag`), with ``frame``'s columns."""
    if not wanted:
        return frame.limit(0)
    flagged, flags = _flag(frame, wanted)
    return _like(flagged.where(_any([column(f).isNotNull() for f in flags])), frame)


def _all(conditions: Sequence["Column"]) -> "Column":
    return functools.reduce(operator.and_, conditions)


def _any(conditions: Sequence["Column"]) -> "Column":
    return functools.reduce(operator.or_, conditions)


class _SparkRun(PlanRun):
    """One run of a plan in Spark: a checkpointed key set per keyed table, a row filter per other one."""

    def __init__(self, plan: SubsetPlan, frames: Mapping[str, "DataFrame"]) -> None:
        super().__init__(plan)
        self.frames = frames
        self.keys: dict[str, DataFrame] = {}  # keyed tables: distinct kept key values
        self.rows: dict[str, DataFrame] = {}  # tables without a key: their kept rows

    # ----------------------------------------------------------------- the plan's steps
    def _draw_root(self) -> None:
        root = self.plan.root
        self.keys[root] = self._to_spark(root, self._drawn_root_keys(self._distinct_keys(root)))

    def _down(self, down: DownStep) -> None:
        frame = self.frames[down.table]
        flagged, flags = _flag(frame, [self._parent_keys(rel) for rel in down.via])
        self._keep(down.table, _like(flagged.where(_any([column(f).isNotNull() for f in flags])), frame))

    def _up(self, up: UpStep) -> None:
        table, key = up.table, self.plan.keys[up.table]
        if not key:
            return  # a table without a key is referenced by nothing: its down rows stay
        frame = self.frames[table]
        wanted = [(key, self.keys[table])] if table in self.keys else []
        for rel in up.referenced_by:  # the rows a kept child row references
            wanted.append((rel.parent_columns,
                           self._values(self.kept_rows(rel.child), rel.child_columns, rel.parent_columns)))
        self.keys[table] = self._cache(_usable(_matching_any(frame, wanted), key))
        self._close_upwards(table, up.self_references)

    def _sample(self, rest: RestStep) -> None:
        keys = self._distinct_keys(rest.table)
        size = follow_draw_size(self.root_drawn, self.root_available, len(keys))
        seed = child_seed(self.plan.subset.seed, "subset", rest.table)
        self.keys[rest.table] = self._to_spark(rest.table, draw_keys(keys, size, seed))
        self._close_upwards(rest.table, rest.self_references)

    def _filter(self, rest: RestStep) -> None:
        table, key = rest.table, self.plan.keys[rest.table]
        frame = self.frames[table]
        flagged, flags = _flag(frame, [self._parent_keys(rel) for rel in rest.parents])
        passes = _all([_any([*(column(c).isNull() for c in rel.child_columns), column(flag).isNotNull()])
                       for rel, flag in zip(rest.parents, flags)])
        if not key:
            self.rows[table] = _like(flagged.where(passes), frame)
            return
        # Rows sharing a (duplicated) key: the key stays only if every one of them qualifies.
        passing = _usable(flagged.where(passes), key)
        failing = _usable(flagged.where(~passes), key)
        self.keys[table] = self._cache(passing.join(failing, on=list(key), how="left_anti"))
        while rest.self_references:  # the largest set whose self-references stay inside it
            flagged, flags = _flag(self.kept_rows(table), [self._parent_keys(rel) for rel in rest.self_references])
            outside = _any([_all([column(c).isNotNull() for c in rel.child_columns]) & column(flag).isNull()
                            for rel, flag in zip(rest.self_references, flags)])
            failing = self._cache(_usable(flagged.where(outside), key))
            if failing.isEmpty():
                return
            self.keys[table] = self._cache(self.keys[table].join(failing, on=list(key), how="left_anti"))

    def _close_upwards(self, table: str, self_references: tuple[Relationship, ...]) -> None:
        """Add the rows that kept rows reference through ``self_references``, until none is new.

        Each round follows the references of the keys the round before added (the frontier).
        """
        if not self_references:
            return
        key = self.plan.keys[table]
        frame = self.frames[table]
        frontier = self.keys[table]
        while True:
            rows = frame.join(frontier, on=list(key), how="left_semi")
            referenced = [(rel.parent_columns, self._values(rows, rel.child_columns, rel.parent_columns))
                          for rel in self_references]
            new = self._cache(_usable(_matching_any(frame, referenced), key)
                              .join(self.keys[table], on=list(key), how="left_anti"))
            if new.isEmpty():
                return
            self.keys[table] = self._cache(_usable(_matching_any(frame, [(key, self.keys[table]), (key, new)]), key))
            frontier = new

    # ----------------------------------------------------------------- results and helpers
    @staticmethod
    def _cache(frame: "DataFrame") -> "DataFrame":
        """``frame`` computed now and kept on the executors, its plan cut to a scan of the result.

        An eager ``localCheckpoint``: every later step reads the kept keys instead of repeating the
        joins that found them, and its plan stays small (a loop that refers to the set before
        twice per round would otherwise double the plan each round). The blocks are released by
        Spark's cleaner once no DataFrame refers to them.
        """
        return frame.localCheckpoint(eager=True)

    def release(self) -> None:
        """Forget the key sets (their blocks go once Spark's cleaner sees them unreferenced)."""
        self.keys.clear()
        self.rows.clear()

    def kept_rows(self, table: str) -> "DataFrame":
        """The kept rows of ``table`` (every column), as far as the run has got."""
        if not self.plan.keys[table]:
            return self.rows[table]
        frame = self.frames[table]
        return _like(frame.join(self.keys[table], on=list(self.plan.keys[table]), how="left_semi"), frame)

    def _keep(self, table: str, rows: "DataFrame") -> None:
        """Keep ``rows`` of ``table``: their keys (so rows sharing a key go together), or themselves."""
        key = self.plan.keys[table]
        if key:
            self.keys[table] = self._cache(_usable(rows, key))
        else:
            self.rows[table] = rows

    def _parent_keys(self, rel: Relationship) -> tuple[tuple[str, ...], "DataFrame"]:
        """``(rel.child_columns, the kept keys of rel.parent renamed to them)``: what ``rel`` may point at."""
        keys = self.keys[rel.parent].select(*(column(p).alias(c) for c, p in zip(rel.child_columns,
                                                                                  rel.parent_columns)))
        return rel.child_columns, keys

    @staticmethod
    def _values(rows: "DataFrame", columns: tuple[str, ...], names: tuple[str, ...]) -> "DataFrame":
        """The distinct non-null values of ``rows``' ``columns``, renamed ``names``."""
        picked = rows.select(*(column(c).alias(n) for c, n in zip(columns, names)))
        return picked.where(_all([column(n).isNotNull() for n in names])).distinct()

    def _distinct_keys(self, table: str) -> "pd.DataFrame":
        """The distinct non-null key values of ``table``, on the driver (what a draw chooses from)."""
        return collect_frame(_usable(self.frames[table], self.plan.keys[table]))

    def _to_spark(self, table: str, drawn: "pd.DataFrame") -> "DataFrame":
        """Drawn keys (a pandas frame) back in Spark, with the key columns' types, marked for broadcast."""
        from pyspark.sql import functions as F

        frame = self.frames[table]
        key_schema = frame.select(*map(column, self.plan.keys[table])).schema
        keys = frame.sparkSession.createDataFrame(drawn, schema=key_schema)
        return F.broadcast(self._cache(keys))


def _usable(rows: "DataFrame", key: Sequence[str]) -> "DataFrame":
    """The distinct values of ``key`` in ``rows`` without a null."""
    return rows.select(*map(column, key)).where(_all([column(c).isNotNull() for c in key])).distinct()


def _like(rows: "DataFrame", frame: "DataFrame") -> "DataFrame":
    """``rows`` with exactly ``frame``'s columns, in its order (joins on column names move the keys first)."""
    return rows.select(*map(column, frame.columns))



