"""``SQLSource``: read real tables from SQLite, PostgreSQL, MySQL/MariaDB or DuckDB.

Example:
    >>> from syntho_hive.connectors import SQLSource
    >>> source = SQLSource("postgresql+psycopg://user:password@db:5432/shop", schema="sales")
    >>> metadata = source.reflect()            # keys, storage types, sdtypes
    >>> frames, _ = source.read_tables(metadata)

A query can stand in for a table (``queries={"big_orders": "SELECT ... WHERE total > 100"}``): it
is reflected from its result's columns (with no keys; add them to the metadata when needed) and
read as a subquery. A query named like a table of the schema (``queries={"customers": "SELECT ...
WHERE active"}``) keeps that table's primary key, foreign keys and declared types for the columns
it returns. Nothing is read that was not asked for, and every name is checked against
the database's schema before any SQL is built. SQLAlchemy is imported at first use, so a
missing extra is reported then (``pip install 'synthohive[sql]'``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pandas as pd

from syntho_hive._optional import import_or_raise
from syntho_hive.connectors.base import DEFAULT_CHUNK_ROWS, TableSource, _declared_columns, table_selection
from syntho_hive.connectors.sql.engine import connect, connection_errors, mask_url
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from syntho_hive.core.metadata import Metadata
    from syntho_hive.core.metadata.column_types import ColumnType
    from syntho_hive.relational.subset import Subset, SubsetReport

__all__ = ["SQLSource"]

_log = get_logger(__name__)
#: Rows of a query looked at to type the columns its cursor does not describe.
_QUERY_TYPE_ROWS = 1_000


def _positive(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"SQLSource: {name} must be an integer >= {minimum}, got {value!r}.")
    return value


def _concat(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    if len(chunks) == 1:
        return chunks[0]
    return pd.concat(chunks, ignore_index=True)


class SQLSource(TableSource):
    """Tables of a SQL database (SQLite, PostgreSQL, MySQL/MariaDB, DuckDB) as a :class:`TableSource`.

    The SQLAlchemy engine is created at first use, without a connection pool (each call opens
    one connection and closes it when done, so nothing stays open between calls); :meth:`dispose`
    (or leaving a ``with`` block) drops it. An engine passed in is used as it is, pool included,
    and never disposed here.

    Args:
        url_or_engine: A database URL (``"postgresql+psycopg://user:pw@host/db"``,
            ``"mysql+pymysql://..."``, ``"sqlite:///file.db"``, ``"duckdb:///file.duckdb"``), a
            ``sqlalchemy.URL`` or a ``sqlalchemy.Engine``.
        schema: The schema to read (a database on MySQL/MariaDB; ``None``: the default one).
        queries: ``{name: "SELECT ..."}``, queries that stand in for tables of that name (a query
            named like a table of the schema is read instead of it).
        chunk_rows: Rows per chunk when streaming a table.
        sample_rows: Rows of each table read by :meth:`reflect` to refine sdtypes (0: none).
        skip_foreign_keys: Foreign keys of the database that :meth:`reflect` leaves out, each named
            ``"child(col, ...) -> parent"`` (``["flights(origin, time_hour) -> weather"]``): for a
            column in two foreign keys, which SynthoHive cannot model.

    Raises:
        ConfigurationError: An argument has the wrong type or value.
    """

    def __init__(self, url_or_engine: "str | sa.URL | sa.Engine", schema: str | None = None, *,
                 queries: Mapping[str, str] | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                 sample_rows: int = 10_000, skip_foreign_keys: Sequence[str] = ()) -> None:
        if isinstance(url_or_engine, str) and not url_or_engine.strip():
            raise ConfigurationError("SQLSource needs a database URL, got an empty string.")
        if schema is not None and (not isinstance(schema, str) or not schema):
            raise ConfigurationError(f"SQLSource: schema must be a non-empty string or None, got {schema!r}.")
        if queries is not None and not isinstance(queries, Mapping):
            raise ConfigurationError("SQLSource: queries must be a mapping {name: 'SELECT ...'}, got "
                                     f"{type(queries).__name__}.")
        for name, sql in (queries or {}).items():
            if not isinstance(name, str) or not name or not isinstance(sql, str) or not sql.strip():
                raise ConfigurationError(f"SQLSource: query {name!r} must map a non-empty name to a non-empty "
                                         "SQL string.")
        self._url_or_engine = url_or_engine
        self._owns_engine = not hasattr(url_or_engine, "connect")
        self._engine: sa.Engine | None = None
        self.schema = schema
        self.queries: dict[str, str] = dict(queries or {})
        self.chunk_rows = _positive("chunk_rows", chunk_rows, minimum=1)
        self.sample_rows = _positive("sample_rows", sample_rows, minimum=0)
        from syntho_hive.connectors.sql.reflect import parse_foreign_key

        if isinstance(skip_foreign_keys, str):
            raise ConfigurationError(f"SQLSource: skip_foreign_keys must be a list of foreign keys, got "
                                     f"{skip_foreign_keys!r}; write [{skip_foreign_keys!r}].")
        self.skip_foreign_keys = [parse_foreign_key(text) for text in skip_foreign_keys]
        target = getattr(url_or_engine, "url", url_or_engine)
        shown = mask_url(target) if isinstance(target, str) or hasattr(target, "render_as_string") else \
            type(target).__name__
        self.description = f"{shown} (schema {schema})" if schema is not None else shown
        self._query_tables: dict[str, sa.Table] = {}

    def __repr__(self) -> str:
        return f"SQLSource({self.description!r})"

    # ------------------------------------------------------------------ engine

    @property
    def engine(self) -> "sa.Engine":
        """The SQLAlchemy engine (created at first use).

        Raises:
            MissingDependencyError: SQLAlchemy or the driver is not installed.
            ConfigurationError: The URL is malformed.
            SerializationError: A SQLite/DuckDB database file does not exist.
        """
        if self._engine is None:
            from syntho_hive.connectors.sql.engine import dialect_of, open_engine

            engine = open_engine(self._url_or_engine, pooled=False)
            dialect_of(engine)
            self._check_file(engine)
            self._engine = engine
        return self._engine

    def _check_file(self, engine: "sa.Engine") -> None:
        """A source never creates a database: a missing SQLite/DuckDB file is an error."""
        if engine.dialect.name not in ("sqlite", "duckdb"):
            return
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:") or "mode" in engine.url.query:
            return
        if not Path(database).exists():
            raise SerializationError(
                f"{self.description}: the database file {database!r} does not exist. Fix: check the path in "
                "the URL (a source never creates a database).")

    def dispose(self) -> None:
        """Close the engine's pooled connections (an engine passed in is left alone)."""
        if self._engine is not None and self._owns_engine:
            self._engine.dispose()
        self._engine = None

    def __enter__(self) -> "SQLSource":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.dispose()

    @contextmanager
    def _connection(self) -> Iterator["sa.Connection"]:
        with connection_errors(self.description):
            with connect(self.engine) as connection:
                yield connection

    # ------------------------------------------------------------------ names

    def _names(self, tables: Sequence[str] | None) -> list[str] | None:
        return None if tables is None else table_selection(tables)

    def _resolve(self, connection: "sa.Connection", names: Sequence[str]) -> dict[str, "sa.Table"]:
        """Reflect ``names`` (tables, views or query names) after checking they exist."""
        from syntho_hive.connectors.sql.reflect import carry_table_keys, list_relations, reflect_query, reflect_tables

        database_names = [name for name in names if name not in self.queries]
        new_queries = [name for name in dict.fromkeys(names) if name in self.queries and name not in self._query_tables]
        # A query named like a table of the schema stands in for it: it keeps the table's keys and types.
        relations = set(list_relations(connection, self.schema)[0]) if new_queries else set()
        stood_for = [name for name in new_queries if name in relations]
        reflected = reflect_tables(connection, self.schema, database_names + stood_for) \
            if database_names or stood_for else {}
        for name in new_queries:
            query = reflect_query(connection, name, self.queries[name], rows=_QUERY_TYPE_ROWS)
            if name in stood_for:
                carry_table_keys(query, reflected[name])
            self._query_tables[name] = query
        return {name: self._query_tables[name] if name in self.queries else reflected[name] for name in names}

    @staticmethod
    def _types(table: "sa.Table", overrides: "Mapping[str, ColumnType] | None" = None) -> dict[str, "ColumnType"]:
        """Storage type of each column: the metadata's when it has one, else the reflected one."""
        from syntho_hive.connectors.sql.reflect import _column_type

        overrides = overrides or {}
        return {column.name: overrides.get(column.name) or _column_type(table, column) for column in table.columns}

    def _readable(self, table: "sa.Table", types: Mapping[str, "ColumnType"]) -> Any:
        """What a SELECT reads ``table`` from: the table, or the user's query as a typed subquery."""
        from syntho_hive.connectors.sql.reflect import query_subquery

        query = table.info.get("query")
        if query is None:
            return table
        return query_subquery(table.name, query, {column.name: types[column.name] for column in table.columns})

    @staticmethod
    def _check_columns(name: str, table: "sa.Table", columns: Sequence[str] | None) -> list[str]:
        known = [column.name for column in table.columns]
        if columns is None:
            return known
        if isinstance(columns, str) or not all(isinstance(column, str) for column in columns):
            raise ConfigurationError(f"columns must be a list of column names, got {columns!r}.")
        missing = [column for column in columns if column not in known]
        if missing:
            raise SchemaError(f"Column(s) {missing} not found in table {name!r}; its columns: {', '.join(known)}.")
        return list(dict.fromkeys(columns))

    def _where(self, name: str) -> str:
        kind = "query" if name in self.queries else "table"
        return f"{kind} {name!r} of {self.description}"

    # ------------------------------------------------------------------ TableSource

    def table_names(self) -> list[str]:
        """The tables of the schema (sorted; views excluded), then the names of the queries.

        Raises:
            SchemaError: The schema does not exist.
            SerializationError: The database cannot be reached.
        """
        from syntho_hive.connectors.sql.reflect import list_relations

        with self._connection() as connection:
            tables, _ = list_relations(connection, self.schema)
        return [name for name in tables if name not in self.queries] + list(self.queries)

    def reflect(self, tables: Sequence[str] | None = None) -> "Metadata":
        """Reflect ``tables`` (``None``: every table and query) into :class:`Metadata`.

        Primary keys (composite too), foreign keys (composite, self-references), storage types and
        sdtypes (refined from the first ``sample_rows`` rows of each table). A view or a query is
        reflected without keys, except a query named like a table: it keeps the table's keys whose
        columns it returns.

        Args:
            tables: Table, view or query names.

        Returns:
            The metadata, tables in the order given (sorted tables, then queries, for ``None``).

        Raises:
            SchemaError: A table or the schema is missing (the message lists what exists), or a
                foreign key points outside the selection or at a column that is not a primary key.
            SerializationError: The database cannot be reached or read.
        """
        sa = import_or_raise("sqlalchemy", "sql")

        from syntho_hive.connectors.sql.read import stream_select
        from syntho_hive.connectors.sql.reflect import list_relations, metadata_from_tables

        names = self._names(tables)
        with self._connection() as connection:
            if names is None:
                database_tables, _ = list_relations(connection, self.schema)
                names = [name for name in database_tables if name not in self.queries] + list(self.queries)
            resolved = self._resolve(connection, names)
            sample: dict[str, pd.DataFrame] = {}
            for name, table in resolved.items():
                if self.sample_rows == 0:
                    break
                types = self._types(table)
                readable = self._readable(table, types)
                statement = sa.select(*readable.c).limit(self.sample_rows)
                try:
                    sample[name] = _concat(list(stream_select(connection, statement, types,
                                                              chunk_rows=self.sample_rows,
                                                              where=self._where(name))))
                except SchemaError as exc:
                    _log.warning("sql_sample_unreadable", table=name, source=self.description, error=str(exc),
                                 action="sdtypes from storage types only")
            return metadata_from_tables(resolved, sample, self.skip_foreign_keys)

    def iter_table(self, table: str, *, columns: Sequence[str] | None = None,
                   chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
        """Stream ``table`` (a table, view or query name) in chunks, with the storage dtype contract.

        Args:
            table: The table to read.
            columns: Columns to read, in this order (``None``: all).
            chunk_rows: Rows per chunk (``None``: the source's ``chunk_rows``).

        Yields:
            Frames of at most ``chunk_rows`` rows, all with the same dtypes; one empty frame when
            the table has no rows.

        Raises:
            SchemaError: The table or a column is missing, or a value does not fit its storage type.
            SerializationError: The database cannot be reached or read.
        """
        sa = import_or_raise("sqlalchemy", "sql")

        from syntho_hive.connectors.sql.read import stream_select

        rows = self.chunk_rows if chunk_rows is None else _positive("chunk_rows", chunk_rows, minimum=1)
        if not isinstance(table, str):
            raise ConfigurationError(f"table must be a table name, got {table!r}.")
        with self._connection() as connection:
            resolved = self._resolve(connection, [table])[table]
            selected = self._check_columns(table, resolved, columns)
            types = self._types(resolved)
            readable = self._readable(resolved, types)
            statement = sa.select(*[readable.c[column] for column in selected])
            yield from stream_select(connection, statement, {column: types[column] for column in selected},
                                     chunk_rows=rows, where=self._where(table))

    def read_tables(self, metadata: "Metadata",
                    subset: "Subset | None" = None) -> tuple[dict[str, pd.DataFrame], "SubsetReport | None"]:
        """Every table of ``metadata`` (its declared columns), or the key-closed ``subset`` of them.

        Storage types declared in the metadata (``column_types``) override the reflected ones. A
        subset is computed on the server (temporary key tables of one connection); only the rows
        kept are transferred.

        Args:
            metadata: The tables (and foreign keys) to read.
            subset: Which rows to keep (``None``: all).

        Returns:
            ``({table: frame}, report)``; the report is ``None`` without a subset.

        Raises:
            SchemaError: A table or column of the metadata is missing from the database, or the
                subset does not fit the schema.
            SerializationError: The database cannot be reached or read.
        """
        sa = import_or_raise("sqlalchemy", "sql")

        from syntho_hive.connectors.sql.read import read_select

        names = list(metadata.tables)
        frames: dict[str, pd.DataFrame] = {}
        report: SubsetReport | None = None
        with self._connection() as connection:
            resolved = self._resolve(connection, names)
            types = {name: self._types(resolved[name], metadata.tables[name].column_types) for name in names}
            declared = {name: self._check_columns(name, resolved[name], _declared_columns(metadata, name))
                        for name in names}
            readable = {name: self._readable(resolved[name], types[name]) for name in names}
            if subset is None:
                selects = {name: sa.select(*[readable[name].c[column] for column in declared[name]])
                           for name in names}
            else:
                from syntho_hive.connectors.sql.subset import subset_selects

                selects, report = subset_selects(connection, readable, metadata, subset)
                # Only the declared columns travel (a column left out of the metadata is never read).
                selects = {name: selects[name].with_only_columns(*[readable[name].c[column]
                                                                   for column in declared[name]])
                           for name in names}
            for name in names:
                frame = read_select(connection, selects[name], types[name], chunk_rows=self.chunk_rows,
                                    where=self._where(name))
                frames[name] = frame[declared[name]] if list(frame.columns) != declared[name] else frame
        return frames, report
