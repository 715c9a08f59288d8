"""A key-closed subset computed on the database server (SQLite, PostgreSQL, MySQL/MariaDB, DuckDB).

:func:`subset_selects` walks the same :class:`~syntho_hive.relational.subset.SubsetPlan` as the pandas
executor (:func:`~syntho_hive.relational.subset.subset_frames`), and keeps exactly the same rows for
the same data and seed (see :mod:`syntho_hive.relational.subset` for what is kept and why):

* Only the root's primary-key values travel to the client: they are sorted and drawn there by
  :func:`~syntho_hive.relational.subset.draw_keys` (the function the pandas path uses), then
  bulk-inserted into a temporary **key table**. (A table of the rest that is sampled, such as an
  isolated table, has its keys drawn the same way.)
* Every table with a primary key gets its own temporary key table (its key columns, with the
  source's types, as the key table's primary key, plus a ``down`` flag marking the rows kept by the
  down step), filled on the server by ``INSERT ... SELECT`` with semi-joins (``EXISTS``) and joins
  on the key tables of its parents or children; self-references are followed with two frontier
  tables. A table without a primary key (never a parent) is filtered by a predicate instead.
* Statements insert "ignoring duplicates" in each dialect's way (PostgreSQL ``ON CONFLICT DO
  NOTHING``, SQLite and DuckDB ``INSERT OR IGNORE``, MySQL ``INSERT IGNORE``), and no statement names
  a temporary table twice: MySQL and MariaDB cannot reopen a ``TEMPORARY`` table within one
  statement, so where a predicate needs one key table twice (two foreign keys to one parent), the
  second reference is a copy of it there, and an alias elsewhere.
* Every statement is built with SQLAlchemy Core from the reflected ``sa.Table`` objects (quoted
  identifiers, bound values). Temporary tables are named ``_synthohive_keep_<n>`` (a name no table
  of the schema uses).

The selects returned read the kept rows of each table through a semi-join on its key table (or
the predicate); run them on the **same connection**, before it is closed: the temporary tables
live as long as the connection's session (they vanish when it ends, or at a rollback on the
databases with transactional DDL).

Example:
    >>> with engine.connect() as conn:
    ...     selects, report = subset_selects(conn, reflect_tables(conn, None, names), metadata, subset)
    ...     orders = pd.read_sql(selects["orders"], conn)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from syntho_hive._optional import import_or_raise
from syntho_hive._random import child_seed
from syntho_hive.connectors.sql.engine import connection_errors, dialect_of, mask_url
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
    usable_keys,
)

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

__all__ = ["subset_selects", "KEY_TABLE_PREFIX"]

#: Name prefix of the temporary tables a subset creates.
KEY_TABLE_PREFIX = "_synthohive_keep_"
_FLAG = "down"  # 1: kept by the root draw or the down step; 0: added later
_NUMBERS = itertools.count()  # temporary table names, unique within the process
_INSERT_BATCH = 5_000  # drawn keys sent per statement


def subset_selects(connection: "sa.Connection", tables: Mapping[str, "sa.Table"], metadata: Metadata,
                   subset: Subset) -> tuple[dict[str, "sa.Select"], SubsetReport]:
    """Compute the key-closed ``subset`` on the server; return one select of the kept rows per table.

    Args:
        connection: An open connection (SQLite, PostgreSQL, MySQL/MariaDB or DuckDB); the temporary
            key tables are created in its session, so run the returned selects on it.
        tables: The source table of every table of ``metadata`` (reflected or declared), holding
            its primary- and foreign-key columns.
        metadata: The schema: tables, primary and foreign keys.
        subset: Which rows to keep.

    Returns:
        ``({table: select of its kept rows}, report)``, tables in ``metadata`` order; each select is
        ``sa.select(table)`` with a ``WHERE`` semi-join (add columns, ordering or streaming options
        as needed). The report counts kept rows with ``COUNT(*)`` on the key tables.

    Raises:
        ConfigurationError: A bad ``subset``, ``rows`` larger than the root, or an unsupported database.
        SchemaError: The root does not fit the schema, a table or key column is missing from
            ``tables``, or a table that must be drawn (the root, an isolated table) has no primary key.
        SerializationError: The database failed (the message never shows a password).
    """
    plan = plan_subset(metadata, subset)
    sa = import_or_raise("sqlalchemy", "sql")
    dialect = dialect_of(connection)
    check_key_columns(plan, metadata, {t: list(table.c.keys()) for t, table in tables.items()},
                      missing=f"are not among the database tables given ({sorted(tables)}); reflect every table "
                              "of the metadata", what="database table")
    check_drawn_keys(plan, "database", "leave them out of the metadata, or read the tables into pandas and use "
                                       "subset_frames")
    with connection_errors(f"the subset from root {plan.root!r} of {mask_url(connection.engine.url)}"):
        run = _ServerRun(sa, connection, dialect, plan, metadata, tables)
        run.run()
        selects, kept = run.selects()
        total = {t: run.scalar(sa.select(sa.func.count()).select_from(tables[t])) for t in plan.order}
    report = finish_report(plan, kept, total, backend=dialect, drawn=run.root_keys)
    return {t: selects[t] for t in metadata.tables}, report


class _ServerRun(PlanRun):
    """One run of a plan on the server: a temporary key table per keyed table, frontier and copy tables."""

    def __init__(self, sa: Any, connection: "sa.Connection", dialect: str, plan: SubsetPlan,
                 metadata: Metadata, tables: Mapping[str, "sa.Table"]) -> None:
        super().__init__(plan)
        self.sa = sa
        self.connection = connection
        self.dialect = dialect
        self.metadata = metadata
        self.tables = tables
        self.user_names = {t.name.lower() for t in tables.values()}
        self.keys: dict[str, sa.Table] = {}
        self.version: dict[str, int] = {}
        self.copies: dict[tuple[str, int], tuple[sa.Table, int]] = {}

    # ----------------------------------------------------------------- the plan's steps
    def _draw_root(self) -> None:
        root = self.plan.root
        self._insert_values(root, self._drawn_root_keys(self._fetch_keys(root)), flag=1)

    def _down(self, down: DownStep) -> None:
        if self.plan.keys[down.table]:  # a keyless table below the root is read by a predicate later
            source = self.tables[down.table]
            refs = _Refs(self, target=down.table)
            kept = self.sa.or_(*(self._points_at(rel, source, refs, down_only=True) for rel in down.via))
            self._insert_ignore(down.table, self._key_select(down.table, 1).where(kept))

    def _up(self, up: UpStep) -> None:
        sa, name = self.sa, up.table
        parent = self.tables[name]
        self.key_table(name)
        for rel in up.referenced_by:
            child = self.tables[rel.child]
            refs = _Refs(self, target=name)
            on = sa.and_(*(parent.c[p] == child.c[c] for c, p in zip(rel.child_columns, rel.parent_columns)))
            if self.plan.keys[rel.child]:
                keep = refs.use(rel.child)
                joined = keep.join(child, self._key_match(keep, child, rel.child)).join(parent, on)
                select = self._key_select(name, 0, source=parent).select_from(joined)
            else:
                select = (self._key_select(name, 0, source=parent).select_from(child.join(parent, on))
                          .where(self._row_predicate(rel.child, child, refs)))
            self._insert_ignore(name, select.distinct())
        self._close_upwards(name, up.self_references)

    def _sample(self, rest: RestStep) -> None:
        keys = self._fetch_keys(rest.table)
        size = follow_draw_size(self.root_drawn, self.root_available, len(keys))
        seed = child_seed(self.plan.subset.seed, "subset", rest.table)
        self.key_table(rest.table)
        self._insert_values(rest.table, draw_keys(keys, size, seed), flag=0)
        self._close_upwards(rest.table, rest.self_references)

    def _filter(self, rest: RestStep) -> None:
        sa, name = self.sa, rest.table
        source = self.tables[name]
        if not self.plan.keys[name]:
            return  # read through _row_predicate
        keep = self.key_table(name)
        self._insert_ignore(name, self._key_select(name, 0).where(
            self._rest_predicate(rest, source, _Refs(self, target=name))))
        # Rows sharing a (duplicated) key: the key stays only if every one of them qualifies.
        failing = sa.not_(self._rest_predicate(rest, source, _Refs(self, target=name)))
        self._delete_keys(name, sa.exists().where(self._key_match(keep, source, name), failing))
        if not rest.self_references:
            return
        snapshot = self._scratch(name, flag=False)
        while True:  # the largest set whose self-references stay inside it
            before = self.count_keys(name)
            self._refill(snapshot, keep)
            for rel in rest.self_references:
                outside = ~sa.exists().where(*(snapshot.c[f"k{i}"] == source.c[c]
                                               for i, c in enumerate(rel.child_columns)))
                self._delete_keys(name, sa.exists().where(
                    self._key_match(keep, source, name),
                    *(source.c[c].is_not(None) for c in rel.child_columns), outside))
            if self.count_keys(name) == before:
                return

    def _close_upwards(self, name: str, self_references: tuple[Relationship, ...]) -> None:
        """Add the rows the kept rows reference through ``self_references``, until none is new."""
        if not self_references:
            return
        sa = self.sa
        source, keep = self.tables[name], self.key_table(name)
        key = self.plan.keys[name]
        frontier, found = self._scratch(name, flag=False), self._scratch(name, flag=False)
        self._refill(frontier, keep)
        while True:
            self._execute(sa.delete(found))
            for rel in self_references:
                row, referenced = source.alias(), source.alias()
                joined = frontier.join(row, sa.and_(*(row.c[c] == frontier.c[f"k{i}"] for i, c in enumerate(key))))
                joined = joined.join(referenced, sa.and_(*(referenced.c[p] == row.c[c] for c, p in
                                                          zip(rel.child_columns, rel.parent_columns))))
                self._execute(sa.insert(found).from_select(
                    [f"k{i}" for i in range(len(key))],
                    sa.select(*(referenced.c[c] for c in key)).select_from(joined).distinct()))
            self._execute(sa.delete(found).where(sa.exists().where(
                *(keep.c[f"k{i}"] == found.c[f"k{i}"] for i in range(len(key))))))
            if self.scalar(sa.select(sa.func.count()).select_from(found)) == 0:
                return
            self._insert_ignore(name, sa.select(*(found.c[f"k{i}"] for i in range(len(key))),
                                                self._flag(0)).distinct())
            frontier, found = found, frontier

    # ----------------------------------------------------------------- results
    def selects(self) -> tuple[dict[str, "sa.Select"], dict[str, int]]:
        sa = self.sa
        selects: dict[str, sa.Select] = {}
        kept: dict[str, int] = {}
        for name in self.plan.order:
            source = self.tables[name]
            if self.plan.keys[name]:
                keep = self.key_table(name)
                selects[name] = sa.select(source).where(sa.exists().where(self._key_match(keep, source, name)))
                kept[name] = self.count_keys(name)
            else:
                predicate = self._row_predicate(name, source, _Refs(self))
                selects[name] = sa.select(source).where(predicate)
                kept[name] = self.scalar(sa.select(sa.func.count()).select_from(source).where(predicate))
        return selects, kept

    # ----------------------------------------------------------------- predicates
    def _points_at(self, rel: Relationship, source: Any, refs: "_Refs", down_only: bool = False) -> Any:
        """``EXISTS`` a kept row of ``rel.parent`` that ``source``'s FK ``rel`` references."""
        keep = refs.use(rel.parent)
        match = [keep.c[f"k{i}"] == source.c[c] for i, c in enumerate(rel.child_columns)]
        if down_only:
            match.append(keep.c[_FLAG] == self._flag(1))
        return self.sa.exists().where(*match)

    def _rest_predicate(self, rest: RestStep, source: Any, refs: "_Refs") -> Any:
        """Every foreign key to another table is null (in a column) or points at a kept row."""
        sa = self.sa
        return sa.and_(*(sa.or_(*(source.c[c].is_(None) for c in rel.child_columns),
                                self._points_at(rel, source, refs)) for rel in rest.parents))

    def _row_predicate(self, name: str, source: Any, refs: "_Refs") -> Any:
        """Which rows of a table without a primary key are kept (down: any FK; rest: every FK)."""
        down = self.plan.down_step(name)
        if down is not None:
            return self.sa.or_(*(self._points_at(rel, source, refs, down_only=True) for rel in down.via))
        rest = self.plan.rest_step(name)
        if rest is None or rest.sampled:  # pragma: no cover - refused by check_drawn_keys
            raise SchemaError(f"subset: table {name!r} without a primary key cannot be drawn on the server.")
        return self._rest_predicate(rest, source, refs)

    def _key_match(self, keep: Any, source: Any, name: str) -> Any:
        return self.sa.and_(*(keep.c[f"k{i}"] == source.c[c] for i, c in enumerate(self.plan.keys[name])))

    def _key_select(self, name: str, flag: int, source: Any = None) -> "sa.Select":
        """``SELECT key columns, flag FROM source`` for rows with no null in their key."""
        source = self.tables[name] if source is None else source
        columns = [source.c[c] for c in self.plan.keys[name]]
        return self.sa.select(*columns, self._flag(flag)).where(*(c.is_not(None) for c in columns))

    def _flag(self, value: int) -> Any:
        return self.sa.literal(value, self.sa.SmallInteger, literal_execute=True)

    # ----------------------------------------------------------------- temporary tables
    def key_table(self, name: str) -> "sa.Table":
        """The key table of ``name`` (created on first use): its key columns as primary key, and the flag."""
        if name not in self.keys:
            self.keys[name] = self._create(self._key_columns(name, primary=True)
                                           + [self.sa.Column(_FLAG, self.sa.SmallInteger, nullable=False)])
            self.version[name] = 0
        return self.keys[name]

    def _scratch(self, name: str, flag: bool) -> "sa.Table":
        """A table shaped like ``name``'s key table, without constraints (frontiers, snapshots, copies)."""
        columns = self._key_columns(name, primary=False)
        if flag:
            columns.append(self.sa.Column(_FLAG, self.sa.SmallInteger, nullable=False))
        return self._create(columns)

    def _key_columns(self, name: str, primary: bool) -> list["sa.Column"]:
        source = self.tables[name]
        return [self.sa.Column(f"k{i}", self._key_type(source.c[c].type), primary_key=primary, nullable=False,
                               autoincrement=False)
                for i, c in enumerate(self.plan.keys[name])]

    def _key_type(self, column_type: Any) -> Any:
        """The source column's type; on MySQL a string without a length (``TEXT``, a query's column)
        becomes ``VARCHAR(255)``, since MySQL indexes only strings of a declared length."""
        sa = self.sa
        if (self.dialect == "mysql" and isinstance(column_type, sa.String)
                and (isinstance(column_type, sa.Text) or column_type.length is None)):
            return sa.String(255, collation=getattr(column_type, "collation", None))
        return column_type

    def _create(self, columns: list["sa.Column"]) -> "sa.Table":
        sa = self.sa
        name = next(n for n in (f"{KEY_TABLE_PREFIX}{i}" for i in _NUMBERS) if n not in self.user_names)
        table = sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])
        self.connection.execute(sa.schema.CreateTable(table))  # no events: no CREATE TYPE for enums
        return table

    def copy_of(self, name: str, number: int) -> "sa.Table":
        """Copy ``number`` (>= 1) of ``name``'s key table, up to date (for MySQL's one-reference rule)."""
        table, version = self.copies.get((name, number)) or (self._scratch(name, flag=True), -1)
        if version != self.version[name]:
            self._refill(table, self.keys[name])
            self.copies[(name, number)] = (table, self.version[name])
        return table

    def _refill(self, target: "sa.Table", source: "sa.Table") -> None:
        sa = self.sa
        self._execute(sa.delete(target))
        columns = list(target.c.keys())
        self._execute(sa.insert(target).from_select(columns, sa.select(*(source.c[c] for c in columns))))

    # ----------------------------------------------------------------- statements
    def _fetch_keys(self, name: str) -> pd.DataFrame:
        """The distinct non-null key values of ``name``, as the driver returns them."""
        key = self.plan.keys[name]
        source = self.tables[name]
        rows = self.connection.execute(self.sa.select(*(source.c[c] for c in key))).all()
        return usable_keys(pd.DataFrame({c: pd.Series([row[i] for row in rows], dtype=object)
                                         for i, c in enumerate(key)}))

    def _insert_values(self, name: str, keys: pd.DataFrame, flag: int) -> None:
        keep = self.key_table(name)
        rows = [{**{f"k{i}": value for i, value in enumerate(row)}, _FLAG: flag}
                for row in keys.itertuples(index=False, name=None)]
        for batch in _batches(rows, _INSERT_BATCH):
            if self.dialect == "duckdb":  # its executemany runs one statement per row
                self._execute(self.sa.insert(keep).values(batch))
            else:
                self.connection.execute(self.sa.insert(keep), batch)
        self.version[name] += 1

    def _insert_ignore(self, name: str, select: "sa.Select") -> None:
        """``INSERT ... SELECT`` into ``name``'s key table, skipping keys it already holds."""
        keep = self.key_table(name)
        columns = list(keep.c.keys())
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(keep).from_select(columns, select).on_conflict_do_nothing()
        else:
            statement = self.sa.insert(keep).from_select(columns, select).prefix_with(
                "IGNORE" if self.dialect == "mysql" else "OR IGNORE")
        self._execute(statement)
        self.version[name] += 1

    def _delete_keys(self, name: str, where: Any) -> None:
        self._execute(self.sa.delete(self.keys[name]).where(where))
        self.version[name] += 1

    def count_keys(self, name: str) -> int:
        return self.scalar(self.sa.select(self.sa.func.count()).select_from(self.key_table(name)))

    def scalar(self, statement: Any) -> int:
        return int(self.connection.execute(statement).scalar_one())

    def _execute(self, statement: Any) -> None:
        self.connection.execute(statement)


class _Refs:
    """Hands out key tables for one statement, so that none is named twice in it.

    The first use of a key table gets the table itself (unless it is the statement's target); a
    later one gets an alias, or, on MySQL/MariaDB (which cannot reopen a temporary table), an
    up-to-date copy.
    """

    def __init__(self, run: _ServerRun, target: str | None = None) -> None:
        self.run = run
        self.uses: dict[str, int] = {} if target is None else {target: 1}

    def use(self, name: str) -> Any:
        number = self.uses.get(name, 0)
        self.uses[name] = number + 1
        keep = self.run.key_table(name)
        if number == 0:
            return keep
        if self.run.dialect == "mysql":
            return self.run.copy_of(name, number)
        return keep.alias()


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
