"""Write synthetic tables to a SQL database: :class:`SQLTarget`.

::

    from syntho_hive.connectors import SQLTarget
    synth.sample(output=SQLTarget("postgresql+psycopg://app:pw@host/db", schema="synthetic",
                                  if_exists="replace"))

What happens, per database:

- :meth:`SQLTarget.open` (before any row is generated) connects, checks that the schema exists
  (or creates it, ``create_schema=True``) and which tables exist: with ``if_exists="fail"`` an
  existing table stops the call at once (nothing is written). Tables are created when their first
  chunk arrives, with the storage types of the metadata (:mod:`.ddl`), PRIMARY KEY and FOREIGN
  KEY constraints, parents before children, and loaded in bulk (:mod:`.bulk`).
- **PostgreSQL, SQLite, DuckDB**: everything (schema, DROP for ``replace``, CREATE, loads,
  constraints) happens in ONE transaction, committed by :meth:`~SQLTargetWriter.commit` and
  rolled back by :meth:`~SQLTargetWriter.abort`: a failure part-way leaves the database as it was.

  - PostgreSQL creates a table without its foreign keys, loads it with one COPY, then adds the
    foreign keys (``ALTER TABLE ... ADD FOREIGN KEY``, validated over all rows at once), so a
    self-referencing row may arrive before its parent. Rows appended to an existing table are
    checked against its constraints at the end of the COPY statement.
  - SQLite defers foreign-key checks to the commit (``PRAGMA defer_foreign_keys``) when the
    connection enforces them.
  - DuckDB checks foreign keys row by row at once, cannot defer them and cannot add them with
    ALTER TABLE. Tables are created with their foreign keys (the parents are loaded first); a
    table that references itself is first loaded into a temporary table and then moved into the
    real one level by level of its hierarchy (roots first, then the rows whose parents are in),
    one INSERT per level. Rows that never become insertable (a parent that does not exist, or a
    cycle) fail the write.
- **MariaDB/MySQL** (no transactional DDL): every table is loaded into a staging table
  ``_synthohive_stage_<n>_<table>`` of the same schema (foreign keys between staging tables;
  checks off while loading, then every foreign key is verified by a query: the metadata's, and those the
  database declares on a table appended to). :meth:`commit` first
  appends (``append``) the staged rows of existing tables in one transaction
  (``INSERT INTO t SELECT ... FROM stage``), then makes the new tables visible with ONE atomic
  ``RENAME TABLE`` statement (``replace``: the old tables are renamed aside in the same
  statement, then dropped). InnoDB moves foreign keys with a renamed table, so the constraints of
  the new tables end up referencing the final names. :meth:`abort` drops the staging tables (and
  the schema, when it was created here). A failure before the commit leaves the database as it
  was; the only window is between the append transaction and the RENAME when ``append`` writes to
  both existing and new tables. Tables with foreign keys need names of at most 57 characters
  (InnoDB names their constraints ``<table>_ibfk_<n>``, at most 64 characters).

Foreign keys are created between the tables of one write (and to tables already there that it
appends to); a foreign key to a table outside the write is left out.

Locations returned by ``write_table`` are the masked URL and ``schema.table``, e.g.
``"postgresql+psycopg://app:***@host/db synthetic.customers"``.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from syntho_hive._optional import import_or_raise
from syntho_hive.connectors.base import DEFAULT_CHUNK_ROWS, IfExists, TableTarget, TargetWriter, check_if_exists
from syntho_hive.connectors.sql import bulk
from syntho_hive.connectors.sql.ddl import check_identifier, column_types_for, foreign_keys_of, sql_name, table_for
from syntho_hive.connectors.sql.engine import connect, connection_errors, dialect_of, mask_url, open_engine
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from syntho_hive.core.metadata import Metadata
    from syntho_hive.core.metadata.column_types import ColumnType
    from syntho_hive.core.metadata.schema import TableConfig

__all__ = ["SQLTarget", "SQLTargetWriter", "STAGE_PREFIX", "OLD_PREFIX"]

_log = get_logger(__name__)
#: A DuckDB sequence's quoted qualified name (what setval takes), from its duckdb_sequences() row ``state``.
_DUCKDB_SEQUENCE = ("'\"' || replace(state.schema_name, '\"', '\"\"') || '\".\"' || "
                    "replace(state.sequence_name, '\"', '\"\"') || '\"'")

#: Prefix of the MariaDB/MySQL staging tables: ``_synthohive_stage_<n>_<table>``.
STAGE_PREFIX = "_synthohive_stage_"
#: Prefix of the old tables renamed aside by ``replace`` on MariaDB/MySQL before they are dropped.
OLD_PREFIX = "_synthohive_old_"
# InnoDB names a foreign key "<table>_ibfk_<n>" and an identifier holds at most 64 characters.
_MYSQL_NAME_LIMIT = 64
_MYSQL_STAGE_NAME_LIMIT = 54


class SQLTarget(TableTarget):
    """Write synthetic tables to a SQL database (PostgreSQL, MariaDB/MySQL, DuckDB, SQLite).

    See the module documentation for what each database does at open, write, commit and abort.

    Example:
        >>> target = SQLTarget("postgresql+psycopg://app:pw@localhost/db", schema="synthetic",
        ...                    if_exists="replace")
        >>> synthesizer.sample(output=target)

    Args:
        url_or_engine: A SQLAlchemy URL (``"postgresql+psycopg://user:pw@host/db"``,
            ``"mysql+pymysql://..."``, ``"duckdb:///file.duckdb"``, ``"sqlite:///file.db"``) or an Engine.
        schema: The schema (PostgreSQL, DuckDB), database (MariaDB/MySQL) or attached database
            (SQLite) to write to; ``None``: the connection's default.
        if_exists: What to do with a table that already exists: ``"fail"`` (raise before anything
            is written), ``"replace"`` (drop it and write the new rows, atomically) or
            ``"append"`` (add the rows; ``Synthesizer.sample`` continues the keys the table holds, see
            :meth:`SQLTargetWriter.existing_rows`).
        create_schema: Create ``schema`` when it does not exist (not possible on SQLite).

    Raises:
        SchemaError: ``if_exists`` is not one of the three, or ``schema`` is not an acceptable name.
        ConfigurationError: The URL is malformed or names an unsupported database (or, for PostgreSQL,
            another driver than psycopg 3).
        MissingDependencyError: SQLAlchemy or the database's driver is not installed.
    """

    def __init__(self, url_or_engine: "str | sa.URL | sa.Engine", schema: str | None = None, *,
                 if_exists: IfExists = "fail", create_schema: bool = True) -> None:
        self.if_exists: IfExists = check_if_exists(if_exists)
        self.schema = check_identifier(schema, "schema") if schema is not None else None
        self.create_schema = bool(create_schema)
        self._owns_engine = not hasattr(url_or_engine, "connect")
        self.engine = open_engine(url_or_engine)
        self.dialect = dialect_of(self.engine)
        self.url = mask_url(self.engine.url)
        if self.dialect == "postgresql" and self.engine.dialect.driver != "psycopg":
            # The bulk load is psycopg 3's COPY; another driver would fail at the first table written.
            raise ConfigurationError(
                f"SQLTarget writes to PostgreSQL through psycopg 3 (COPY), not {self.engine.dialect.driver!r} "
                f"({self.url}): write the URL as 'postgresql+psycopg://...' (pip install 'synthohive[postgres]').")
        self.description = self.url + (f" schema {self.schema}" if self.schema else "")

    def __repr__(self) -> str:
        return f"SQLTarget({self.url!r}, schema={self.schema!r}, if_exists={self.if_exists!r})"

    def open(self, metadata: "Metadata", tables: Sequence[str]) -> "SQLTargetWriter":
        """Check the database and start writing ``tables`` (parents first).

        Args:
            metadata: The schema of the synthetic tables (keys, storage types).
            tables: The tables to write, parents before children.

        Returns:
            The open writer (a context manager: commit on success, abort on error).

        Raises:
            SchemaError: A table name is not acceptable (letters, digits, underscores, at most 63
                characters) or is not in ``metadata``.
            SerializationError: The database cannot be reached, the schema is missing (and
                ``create_schema`` is off), or a table exists and ``if_exists="fail"``.
        """
        names = [check_identifier(name) for name in tables]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise SchemaError(f"Tables {duplicates} are listed more than once; write each table once.")
        for name in names:
            metadata.get_table(name)
        writer_class = _StagedWriter if self.dialect == "mysql" else _TransactionalWriter
        writer = writer_class(self, metadata, names)
        writer.start()
        return writer


class SQLTargetWriter(TargetWriter):
    """An open write of synthetic tables to a SQL database (made by :meth:`SQLTarget.open`)."""

    @property
    def finished(self) -> bool:
        return self._state in ("committed", "aborted")

    def __init__(self, target: SQLTarget, metadata: "Metadata", tables: list[str]) -> None:
        self.target = target
        self.metadata = metadata
        self.tables = tables
        self.dialect = target.dialect
        self.schema = target.schema
        self.existing: set[str] = set()
        self.written: dict[str, "sa.Table"] = {}
        self.rows: dict[str, int] = {}
        self._connection: "sa.Connection | None" = None
        self._state = "new"
        self._sa = import_or_raise("sqlalchemy", "sql")
        self._sa_metadata = self._sa.MetaData()

    # -------------------------------------------------------------------- shared helpers
    def start(self) -> None:
        """Connect and check the destination (called by :meth:`SQLTarget.open`)."""
        raise NotImplementedError  # pragma: no cover - subclasses

    def _qualified(self, name: str) -> str:
        return f"{self.schema}.{name}" if self.schema else name

    def _where(self, name: str) -> str:
        return f"{self.target.url} {self._qualified(name)}"

    def _about(self, name: str | None = None) -> str:
        return f"table {self._qualified(name)!r} of {self.target.description}" if name else self.target.description

    @property
    def connection(self) -> "sa.Connection":
        if self._connection is None:
            raise SerializationError(f"The write to {self.target.description} is not open (it was committed or "
                                     "aborted); open the target again.")
        return self._connection

    def _check_open(self, name: str) -> None:
        if self._state != "open":
            raise SerializationError(f"Cannot write table {name!r}: the write to {self.target.description} is "
                                     f"{self._state}; open the target again.")
        if name not in self.tables:
            raise SchemaError(f"Table {name!r} was not among the tables opened for writing ({self.tables}); "
                              "pass it to SQLTarget.open().")
        if name in self.written:
            raise SchemaError(f"Table {name!r} was already written; each table is written once.")

    def _inspect_destination(self) -> None:
        """Schema exists or is created; which tables exist; ``fail``/``replace`` checks."""
        sa = self._sa
        conn = self.connection
        if self.schema is not None and not self._schema_exists():
            if not self.target.create_schema or self.dialect == "sqlite":
                fix = ("attach it first (ATTACH DATABASE) or write to 'main'" if self.dialect == "sqlite"
                       else "create it, or pass create_schema=True")
                raise SerializationError(f"Schema {self.schema!r} does not exist in {self.target.url}; {fix}.")
            if self.dialect == "mysql":  # a database: in utf8mb4 whatever the server's default
                quoted = conn.dialect.identifier_preparer.quote(self.schema)
                conn.exec_driver_sql(f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4")
            else:
                conn.execute(sa.schema.CreateSchema(self.schema))
            self._created_schema()
        present = set(sa.inspect(conn).get_table_names(schema=self.schema))
        self.existing = {name for name in self.tables if name in present}
        if self.existing and self.target.if_exists == "fail":
            found = ", ".join(repr(self._qualified(name)) for name in self.tables if name in self.existing)
            raise SerializationError(
                f"Table(s) {found} already exist in {self.target.url}; nothing was written. Pass "
                "if_exists='replace' to replace them, if_exists='append' to add rows to them, or write to "
                "another schema (SQLTarget(..., schema='...')).")
        if self.existing and self.target.if_exists == "replace":
            self._check_outside_references(present)

    def _created_schema(self) -> None:
        """Hook: the schema was created by this writer."""

    def _schema_exists(self) -> bool:
        sa = self._sa
        conn = self.connection
        if self.dialect == "duckdb":
            found = conn.execute(sa.text(
                "SELECT count(*) FROM information_schema.schemata WHERE catalog_name = current_database() "
                "AND schema_name = :schema"), {"schema": self.schema}).scalar()
            return bool(found)
        return self.schema in sa.inspect(conn).get_schema_names()

    def _check_outside_references(self, present: set[str]) -> None:
        """``replace`` drops tables: no table outside the write may reference one of them."""
        blocking = []
        for other, referred in self._schema_foreign_keys():
            if other in present and other not in self.tables and referred in self.existing \
                    and not other.startswith((STAGE_PREFIX, OLD_PREFIX)):
                blocking.append(f"{other} -> {referred}")
        if blocking:
            raise SerializationError(
                f"Cannot replace tables of {self.target.description}: other tables reference them "
                f"({', '.join(sorted(set(blocking)))}); nothing was written. Include those tables in the write, "
                "drop their foreign keys, or write to another schema.")

    def _schema_foreign_keys(self) -> list[tuple[str, str]]:
        """``(table, referenced table)`` for every foreign key between tables of the schema."""
        sa = self._sa
        conn = self.connection
        if self.dialect == "duckdb":
            rows = conn.execute(sa.text(
                "SELECT table_name, referenced_table FROM duckdb_constraints() WHERE database_name = "
                "current_database() AND schema_name = COALESCE(:schema, current_schema()) AND "
                "constraint_type = 'FOREIGN KEY'"), {"schema": self.schema}).all()
            return [(str(table), str(referred)) for table, referred in rows]
        found = sa.inspect(conn).get_multi_foreign_keys(schema=self.schema)
        return [(key[1], fk["referred_table"]) for key, fks in found.items() for fk in fks
                if fk.get("referred_schema") in (None, self.schema, sa.inspect(conn).default_schema_name)]

    def _first_chunk(self, name: str, chunks: Iterable[pd.DataFrame]) -> tuple[pd.DataFrame, Iterator[pd.DataFrame]]:
        iterator = iter(chunks)
        first = next(iterator, None)
        if first is None:
            declared = self.metadata.tables[name].column_types
            if not declared:
                raise SchemaError(f"Table {name!r} came without any chunk and its metadata declares no column "
                                  "types: there is nothing to create it from.")
            first = pd.DataFrame({column: pd.Series([], dtype=object) for column in declared})
        if not isinstance(first, pd.DataFrame):
            raise SchemaError(f"Table {name!r}: chunks must be pandas DataFrames, got {type(first).__name__}.")
        return first, iterator

    @staticmethod
    def _foreign_keys(name: str, config: "TableConfig") -> dict[str, str]:
        """How the errors of :func:`bulk.load_chunks` name each foreign key of table ``name``."""
        return {column: f"Table {name!r}, column {column!r}: the foreign key to {reference!r}"
                for column, reference in config.fk.items()}

    def existing_rows(self, table: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """The values of ``columns`` in the rows of ``table`` an append adds to, read on this write's
        connection (see :class:`TargetWriter`).

        Raises:
            SchemaError: ``table`` was not opened.
            SerializationError: A column is missing from the existing table, or the database refused the read.
        """
        if self._state != "open":
            raise SerializationError(f"Cannot read table {table!r}: the write to {self.target.description} is "
                                     f"{self._state}; open the target again.")
        if table not in self.tables:
            raise SchemaError(f"Table {table!r} was not among the tables opened for writing ({self.tables}).")
        if table not in self.existing or self.target.if_exists != "append":
            return None
        from syntho_hive.connectors.sql.read import read_select

        with connection_errors(self._about(table)):
            physical = self._reflect(table)
            missing = [str(column) for column in columns if str(column) not in physical.c]
            if missing:
                raise SerializationError(f"Cannot append to {self._about(table)}: it has no column(s) {missing} (it "
                                         f"has {[column.name for column in physical.columns]}).")
            selected = [physical.c[str(column)] for column in columns]
            types = {column.name: column.info["column_type"] for column in selected}
            return read_select(self.connection, self._sa.select(*selected), types, chunk_rows=DEFAULT_CHUNK_ROWS,
                               where=self._about(table))

    def _reflect(self, name: str) -> "sa.Table":
        """The existing table ``name`` (columns carry their ColumnType in ``info["column_type"]``)."""
        from syntho_hive.connectors.sql.reflect import reflect_tables

        return reflect_tables(self.connection, self.schema, [name])[name]

    @staticmethod
    def _existing_types(table: "sa.Table", chunk: pd.DataFrame,
                        types: dict[str, "ColumnType"]) -> dict[str, "ColumnType"]:
        """Values appended to an existing table are converted to its columns' types."""
        result = dict(types)
        for column in chunk.columns:
            reflected = table.c[str(column)].info.get("column_type") if str(column) in table.c else None
            if reflected is not None:
                result[str(column)] = reflected
        return result

    def _check_columns(self, name: str, table: "sa.Table", chunk: pd.DataFrame) -> None:
        unknown = [str(column) for column in chunk.columns if str(column) not in table.c]
        if unknown:
            raise SerializationError(
                f"Cannot append to {self._about(name)}: it has no column(s) {unknown} (it has "
                f"{[column.name for column in table.columns]}). Replace it (if_exists='replace') or write to "
                "another schema.")

    def _parents(self, config: "TableConfig", physical: dict[str, "sa.Table"]) -> dict[str, "sa.Table"]:
        parents = {}
        for target in config.fk.values():
            parent = str(target).rpartition(".")[0]
            if parent != config.name and parent in physical:
                parents[parent] = physical[parent]
        return parents

    def _log_written(self, name: str, rows: int, started: float) -> None:
        seconds = time.perf_counter() - started
        _log.info("sql_table_written", target=self.target.description, table=self._qualified(name), rows=rows,
                  seconds=round(seconds, 3), rows_per_s=round(rows / seconds) if seconds > 0 else None)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                connection.close()
            if self.target._owns_engine:  # nothing stays connected (nor a DuckDB file locked) after the write
                self.target.engine.dispose()
        except Exception as exc:  # noqa: BLE001 - closing must not hide the outcome
            _log.warning("sql_target_close_failed", target=self.target.description, error=type(exc).__name__)

    def abort(self) -> None:
        """Roll back, then undo what the rollback cannot (:meth:`_undo`); never raises (it logs)."""
        if self._state in ("committed", "aborted"):
            return
        self._state = "aborted"
        if self._connection is not None:
            try:
                self._connection.rollback()
            except Exception as exc:  # noqa: BLE001 - abort never raises; it logs
                _log.warning("sql_rollback_failed", target=self.target.description, error=type(exc).__name__)
            self._undo()
        self._close()
        _log.info("sql_write_aborted", target=self.target.description)

    def _undo(self) -> None:
        """Hook of :meth:`abort`, after the rollback, with the connection still open; never raises."""

    def _require_all_replaced_written(self) -> None:
        if self.target.if_exists != "replace":
            return
        missing = [name for name in self.tables if name in self.existing and name not in self.written]
        if missing:
            raise SerializationError(
                f"Cannot commit to {self.target.description}: table(s) {missing} were to be replaced but were "
                "never written; nothing was changed. Write every table opened, or open only the tables to write.")


class _TransactionalWriter(SQLTargetWriter):
    """PostgreSQL, SQLite, DuckDB: one transaction over every DDL statement and load."""

    def start(self) -> None:
        self._dropped = False
        self._sqlite_isolation: Any = None
        with connection_errors(self.target.description):
            self._connection = connect(self.target.engine)
            try:
                if self.dialect == "sqlite":
                    raw = self._connection.connection.dbapi_connection
                    self._sqlite_isolation = raw.isolation_level
                    raw.isolation_level = None  # we issue BEGIN ourselves, so DDL is in the transaction
                    self._connection.exec_driver_sql("BEGIN")
                    self._connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                else:
                    self._connection.begin()
                self._state = "open"
                self._inspect_destination()
            except BaseException:
                self.abort()
                raise

    def write_table(self, table: str, chunks: Iterable[pd.DataFrame]) -> str:
        """Create ``table`` (or reuse it for ``append``) and load every chunk, inside the transaction.

        Returns:
            Where the table went: masked URL and ``schema.table``.

        Raises:
            SchemaError: The table was not opened, was already written, or its values do not fit.
            SerializationError: The database refused a statement (the caller then aborts).
        """
        self._check_open(table)
        started = time.perf_counter()
        with connection_errors(self._about(table)):
            self._drop_replaced()
            first, rest = self._first_chunk(table, chunks)
            config = self.metadata.tables[table]
            parents = self._parents(config, self.written)
            types = column_types_for(config, first, self.dialect, parents=parents)
            conn = self.connection
            if table in self.existing and self.target.if_exists == "append":
                physical = self._reflect(table)
                self._check_columns(table, physical, first)
                types = self._existing_types(physical, first, types)
                created = False
            else:
                physical = table_for(config, table, self.schema, self.dialect, first, sa_metadata=self._sa_metadata,
                                     parents=parents, column_types=types)
                self._create(physical)
                created = True
            self.written[table] = physical
            chunks_all = itertools.chain([first], rest)
            foreign_keys = self._foreign_keys(table, config)
            self_refs = self._self_references(config, physical)
            if self.dialect == "duckdb" and self_refs:
                rows = self._load_hierarchy(table, physical, chunks_all, types, self_refs, foreign_keys)
            else:
                rows = bulk.load_chunks(self.dialect, conn, physical, chunks_all, types, foreign_keys)
            if created and self.dialect == "postgresql":
                for constraint in list(physical.foreign_key_constraints):
                    conn.execute(self._sa.schema.AddConstraint(constraint))
        self.rows[table] = rows
        self._log_written(table, rows, started)
        return self._where(table)

    def _drop_replaced(self) -> None:
        """``replace``: drop every existing table of the write, children first (once, in the transaction)."""
        if self._dropped or self.target.if_exists != "replace":
            return
        self._dropped = True
        sa = self._sa
        for name in reversed(self.tables):
            if name in self.existing:
                enums = self._enum_types(name) if self.dialect == "postgresql" else []
                self.connection.execute(sa.schema.DropTable(sa.Table(sql_name(name, self.dialect), sa.MetaData(),
                                                                      schema=self.schema)))
                for enum in enums:
                    enum.drop(self.connection, checkfirst=True)

    def _enum_types(self, name: str) -> list[Any]:
        """PostgreSQL: the ENUM types of ``name``'s columns named as this target names them (dropped with it)."""
        from sqlalchemy.dialects import postgresql

        from syntho_hive.connectors.sql.ddl import enum_type_name

        found = []
        for column in self._sa.inspect(self.connection).get_columns(name, schema=self.schema):
            sql_type = column["type"]
            if isinstance(sql_type, postgresql.ENUM) and sql_type.name == enum_type_name(name, column["name"]):
                found.append(postgresql.ENUM(name=sql_type.name, schema=self.schema))
        return found

    def _create(self, table: "sa.Table") -> None:
        sa = self._sa
        conn = self.connection
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            enums = [column for column in table.columns if isinstance(column.type, postgresql.ENUM)]
            if enums:
                schema = self.schema or conn.dialect.default_schema_name
                existing = {enum["name"]: list(enum["labels"]) for enum in sa.inspect(conn).get_enums(schema=schema)}
                for column in enums:
                    self._create_enum(table.name, column, existing.get(column.type.name))
            # Foreign keys are added after the load (validated once over all rows).
            conn.execute(sa.schema.CreateTable(table, include_foreign_key_constraints=[]))
            return
        table.create(conn)

    def _create_enum(self, name: str, column: "sa.Column", labels: list[str] | None) -> None:
        """PostgreSQL: create the ENUM type of ``column``, or reuse one left in the schema with the same labels.

        Raises:
            SchemaError: A type of that name is there with other labels.
        """
        wanted = list(column.type.enums)
        if labels is None:
            column.type.create(self.connection, checkfirst=False)
        elif labels != wanted:
            type_name = self._qualified(column.type.name)
            raise SchemaError(
                f"Cannot create {self._about(name)}: column {column.name!r} needs the ENUM type {type_name!r} "
                f"with labels {wanted}, but a type of that name is already in the schema with labels {labels} "
                f"(left by an earlier write?). Nothing was written. Drop it (DROP TYPE {type_name}) or rename "
                f"it (ALTER TYPE {type_name} RENAME TO ...), or write to another schema.")

    def _self_references(self, config: "TableConfig", physical: "sa.Table") -> list[tuple[list[str], list[str]]]:
        pk = config.pk_columns
        if not pk:
            return []
        return [(child, parent) for _, child, parent in foreign_keys_of(config, {config.name: pk})
                if all(column in physical.c for column in child)]

    def _load_hierarchy(self, name: str, table: "sa.Table", chunks: Iterable[pd.DataFrame],
                        types: dict[str, "ColumnType"], self_refs: list[tuple[list[str], list[str]]],
                        foreign_keys: dict[str, str]) -> int:
        """DuckDB: load a self-referencing table through a temporary table, one hierarchy level per INSERT."""
        sa = self._sa
        conn = self.connection
        stage = sa.Table(f"{STAGE_PREFIX}{name}", sa.MetaData(),
                         *[sa.Column(sql_name(column.name, self.dialect),
                                     sa.String() if isinstance(column.type, sa.Enum) else column.type)
                           for column in table.columns], prefixes=["TEMPORARY"])
        stage.create(conn)
        # Dropped at the end of a successful load only: after a failed statement DuckDB refuses every
        # other one until the rollback (a DROP here would hide the real error), and the rollback of
        # abort() removes the temporary table with the rest of the transaction.
        staged = bulk.load_chunks(self.dialect, conn, stage, chunks, types, foreign_keys)
        columns = [column.name for column in stage.columns]
        pk = [column.name for column in table.primary_key.columns]
        self._check_hierarchy_keys(name, table, stage, pk)
        count = sa.select(sa.func.count()).select_from(table)
        before = conn.execute(count).scalar_one()
        ready = [~sa.exists().where(sa.and_(*[table.c[column] == stage.c[column] for column in pk]))]
        for child, parent in self_refs:
            ready.append(sa.or_(*[stage.c[column].is_(None) for column in child],
                                sa.exists().where(sa.and_(*[table.c[p] == stage.c[c]
                                                            for c, p in zip(child, parent)]))))
        move = sa.insert(table).from_select(columns, sa.select(*[stage.c[column] for column in columns])
                                            .where(*ready))
        moved = 0
        levels = 0
        while moved < staged:
            conn.execute(move)
            total = conn.execute(count).scalar_one() - before
            if total == moved:
                break
            moved, levels = total, levels + 1
        if moved < staged:
            raise SerializationError(
                f"Cannot write {self._about(name)}: {staged - moved} row(s) reference a parent row of the same "
                "table that does not exist (or the references form a cycle), so its foreign key cannot hold. "
                "Nothing was written.")
        _log.debug("sql_hierarchy_loaded", table=self._qualified(name), rows=staged, levels=levels)
        stage.drop(conn)
        return staged

    def _check_hierarchy_keys(self, name: str, table: "sa.Table", stage: "sa.Table", pk: list[str]) -> None:
        """A staged row whose key is repeated, or already in the table, would never move: say so instead."""
        sa = self._sa
        conn = self.connection
        keys = [stage.c[column] for column in pk]
        repeated = conn.execute(sa.select(sa.func.count()).select_from(
            sa.select(*keys).group_by(*keys).having(sa.func.count() > 1).subquery())).scalar_one()
        present = conn.execute(sa.select(sa.func.count()).select_from(stage).where(sa.exists().where(
            *[table.c[column] == stage.c[column] for column in pk]))).scalar_one()
        if repeated or present:
            raise SerializationError(
                f"Cannot write {self._about(name)}: duplicate primary key(s) {pk}: {repeated} value(s) repeated in "
                f"the rows written, {present} row(s) with a key already in the table. Nothing was written.")

    def commit(self) -> None:
        """Commit the transaction: every table written becomes visible at once.

        Raises:
            SerializationError: The commit failed (the database rolled everything back), or a table
                to replace was never written.
        """
        if self._state != "open":
            raise SerializationError(f"Cannot commit the write to {self.target.description}: it is {self._state}.")
        try:
            self._require_all_replaced_written()
            with connection_errors(self.target.description):
                if self.dialect == "sqlite":
                    self._check_sqlite_foreign_keys()
                if self.dialect in ("postgresql", "duckdb"):
                    self._advance_sequences()
                self.connection.commit()
        except BaseException:
            self.abort()
            raise
        self._state = "committed"
        self._restore_sqlite()
        self._close()
        _log.info("sql_write_committed", target=self.target.description, tables=self.rows)

    def _advance_sequences(self) -> None:
        """PostgreSQL, DuckDB: move each sequence behind a written column (PostgreSQL serial or identity, a
        DuckDB ``DEFAULT nextval('seq')``) past the column's largest value, in the write's transaction, so the
        application's next INSERT with the default key does not collide with a written row. A sequence already
        past it is left alone."""
        conn = self.connection
        preparer = conn.dialect.identifier_preparer
        for name, table in self.written.items():
            quoted = preparer.format_table(table)
            for column, sequence, allowed in self._key_sequences(table, quoted):
                if not allowed:
                    _log.warning("sql_sequence_not_advanced", table=self._qualified(name), column=column,
                                 sequence=sequence, reason="the user may not read and update the sequence",
                                 fix=f"as its owner: SELECT setval('{sequence}', (SELECT max({column}) FROM {quoted}))")
                    continue
                top = f"(SELECT max({preparer.quote(column)}) AS top FROM {quoted}) AS written"
                if self.dialect == "postgresql":
                    # The next value nextval() gives is last_value (never called) or last_value + increment.
                    conn.exec_driver_sql(
                        f"SELECT setval(%(sequence)s::regclass, top) FROM {top}, {sequence} AS state, "
                        "pg_sequence AS options WHERE options.seqrelid = %(sequence)s::regclass AND "
                        "options.seqincrement > 0 AND top >= state.last_value + CASE WHEN state.is_called THEN "
                        "options.seqincrement ELSE 0 END", {"sequence": sequence})
                else:
                    # DuckDB: last_value is NULL until nextval() was first called.
                    conn.execute(self._sa.text(
                        f"SELECT setval(:sequence, top) FROM {top}, duckdb_sequences() AS state WHERE "
                        f"state.database_name = current_database() AND {_DUCKDB_SEQUENCE} = :sequence AND "
                        "state.increment_by > 0 AND "
                        "top >= coalesce(state.last_value + state.increment_by, state.start_value)"),
                        {"sequence": sequence})
                _log.debug("sql_sequence_checked", table=self._qualified(name), column=column,
                           sequence=sequence)

    def _key_sequences(self, table: "sa.Table", quoted: str) -> list[tuple[str, str, bool]]:
        """(column, sequence, whether the user may read and move it) for each column of ``table`` numbered by
        a sequence: PostgreSQL asks which sequence a column owns; DuckDB reads the sequence a column's
        ``DEFAULT nextval('...')`` names, among those the table depends on (as ``"schema"."name"``)."""
        conn = self.connection
        if self.dialect == "postgresql":
            return [tuple(row) for row in conn.exec_driver_sql(
                # Reading the sequence's state needs SELECT, setval needs UPDATE ('SELECT, UPDATE' means either).
                "SELECT attname, sequence, has_sequence_privilege(sequence, 'SELECT') AND "
                "has_sequence_privilege(sequence, 'UPDATE') FROM (SELECT attname, pg_get_serial_sequence(%(table)s, "
                "attname) AS sequence FROM pg_attribute WHERE attrelid = %(table)s::regclass AND attnum > 0 AND "
                "NOT attisdropped) AS found WHERE sequence IS NOT NULL",
                {"table": quoted}).all()]
        # DuckDB has no privileges on sequences; the default names the sequence as written (maybe unqualified).
        return [(column, sequence, True) for column, sequence in conn.execute(self._sa.text(
            f"SELECT c.column_name, {_DUCKDB_SEQUENCE} FROM duckdb_columns() AS c "
            "JOIN duckdb_dependencies() AS d ON c.table_oid IN (d.objid, d.refobjid) "
            "JOIN duckdb_sequences() AS state ON state.sequence_oid IN (d.objid, d.refobjid) "
            "WHERE c.database_name = current_database() AND state.database_name = current_database() "
            "AND c.schema_name = coalesce(:schema, current_schema()) AND c.table_name = :table "
            "AND trim(string_split(regexp_extract(c.column_default, '^nextval\\(''(.*)''\\)$', 1), '.')[-1], "
            "'\"') = state.sequence_name"),
            {"schema": table.schema, "table": table.name}).all()]

    def _undo(self) -> None:
        """The rollback left the database as it was: give the SQLite connection its isolation level back."""
        self._restore_sqlite()

    def _check_sqlite_foreign_keys(self) -> None:
        """SQLite enforces foreign keys only when asked to (PRAGMA foreign_keys): check them all here."""
        preparer = self.connection.dialect.identifier_preparer
        prefix = f"{preparer.quote(self.schema)}." if self.schema else ""
        for name in self.written:
            found = self.connection.exec_driver_sql(
                f"PRAGMA {prefix}foreign_key_check({preparer.quote(name)})").fetchall()
            if found:
                parents = sorted({str(row[2]) for row in found})
                raise SerializationError(
                    f"Cannot commit {self._about(name)}: {len(found)} row(s) reference rows of {parents} that do "
                    "not exist, so its foreign keys cannot hold. Nothing was written.")

    def _restore_sqlite(self) -> None:
        if self.dialect != "sqlite" or self._connection is None:
            return
        try:
            self._connection.connection.dbapi_connection.isolation_level = self._sqlite_isolation
        except Exception as exc:  # noqa: BLE001 - the connection is closed right after
            _log.warning("sql_sqlite_restore_failed", error=type(exc).__name__)


class _StagedWriter(SQLTargetWriter):
    """MariaDB/MySQL: staging tables, then one atomic RENAME TABLE (no transactional DDL there)."""

    def start(self) -> None:
        self._staged: dict[str, tuple["sa.Table", str]] = {}  # table -> (staging table, "new" | "append")
        self._old_tables: list["sa.Table"] = []
        self._schema_created = False
        with connection_errors(self.target.description):
            self._connection = connect(self.target.engine)
            try:
                self._state = "open"
                self._inspect_destination()
                self._check_name_lengths()
                self._number = self._next_stage_number()
                self._native_uuid = self._has_native_uuid()
                self.connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
                self.connection.commit()
            except BaseException:
                self.abort()
                raise

    def _created_schema(self) -> None:
        self._schema_created = True

    def _check_name_lengths(self) -> None:
        for name in self.tables:
            config = self.metadata.tables[name]
            if config.fk and len(name) + len("_ibfk_") + len(str(len(config.fk))) > _MYSQL_NAME_LIMIT:
                raise SchemaError(
                    f"Table {name!r} has foreign keys, and InnoDB names them '<table>_ibfk_<n>' in at most "
                    f"{_MYSQL_NAME_LIMIT} characters: shorten the table's name to at most 57 characters.")

    def _has_native_uuid(self) -> bool:
        dialect = self.connection.dialect
        version = dialect.server_version_info or ()
        return bool(getattr(dialect, "is_mariadb", False)) and tuple(version[:2]) >= (10, 7)

    def _next_stage_number(self) -> int:
        present = self._sa.inspect(self.connection).get_table_names(schema=self.schema)
        numbers = [int(match.group(1)) for name in present
                   if (match := re.match(rf"(?:{STAGE_PREFIX}|{OLD_PREFIX})(\d+)_", name))]
        return max(numbers, default=0) + 1

    def _aside_name(self, prefix: str, name: str) -> str:
        head = f"{prefix}{self._number}_"
        candidate = head + name
        if len(candidate) <= _MYSQL_STAGE_NAME_LIMIT:
            return candidate
        index = self.tables.index(name)
        return f"{head}{index}_{name}"[:_MYSQL_STAGE_NAME_LIMIT]

    def write_table(self, table: str, chunks: Iterable[pd.DataFrame]) -> str:
        """Load ``table`` into its staging table (made visible at :meth:`commit`).

        Returns:
            Where the table will be: masked URL and ``schema.table``.

        Raises:
            SchemaError: The table was not opened, was already written, or its values do not fit.
            SerializationError: The database refused a statement (the caller then aborts).
        """
        self._check_open(table)
        started = time.perf_counter()
        sa = self._sa
        with connection_errors(self._about(table)):
            first, rest = self._first_chunk(table, chunks)
            config = self.metadata.tables[table]
            physical = {name: staged for name, (staged, mode) in self._staged.items() if mode == "new"}
            physical.update({name: self.written[name] for name, (_, mode) in self._staged.items()
                             if mode == "append"})
            parents = self._parents(config, physical)
            types = column_types_for(config, first, self.dialect, parents=parents)
            conn = self.connection
            stage_name = self._aside_name(STAGE_PREFIX, table)
            if table in self.existing and self.target.if_exists == "append":
                final = self._reflect(table)
                self._check_columns(table, final, first)
                types = self._existing_types(final, first, types)
                preparer = conn.dialect.identifier_preparer
                stage_ref = sa.Table(stage_name, sa.MetaData(), schema=self.schema)
                self._staged[table] = (stage_ref, "append")
                conn.exec_driver_sql(f"CREATE TABLE {preparer.format_table(stage_ref)} "
                                     f"LIKE {preparer.format_table(final)}")
                stage = final.to_metadata(sa.MetaData(), name=stage_name)
                self._staged[table] = (stage, "append")
                self.written[table] = final
            else:
                stage = table_for(config, stage_name, self.schema, self.dialect, first,
                                  sa_metadata=self._sa_metadata, parents=parents,
                                  column_types=types, native_uuid=self._native_uuid)
                self._staged[table] = (stage, "new")
                stage.create(conn)
                self.written[table] = stage
            rows = bulk.load_chunks(self.dialect, conn, stage, itertools.chain([first], rest), types,
                                    self._foreign_keys(table, config))
            conn.commit()
        self.rows[table] = rows
        self._log_written(table, rows, started)
        return self._where(table)

    # ------------------------------------------------------------------ commit
    def commit(self) -> None:
        """Check every foreign key, append to existing tables, then RENAME the new tables into place.

        Raises:
            SerializationError: A foreign key does not hold or a statement failed; the database is
                left as it was (see the module documentation for ``append`` to new and existing tables).
        """
        if self._state != "open":
            raise SerializationError(f"Cannot commit the write to {self.target.description}: it is {self._state}.")
        sa = self._sa
        try:
            self._require_all_replaced_written()
            with connection_errors(self.target.description):
                conn = self.connection
                self._check_foreign_keys()
                appended = [name for name in self.tables if self._staged.get(name, (None, ""))[1] == "append"]
                for name in appended:
                    stage, _ = self._staged[name]
                    final = self.written[name]
                    columns = [column.name for column in stage.columns]
                    conn.execute(sa.insert(final).from_select(columns, sa.select(*[stage.c[c] for c in columns])))
                conn.commit()
        except BaseException:
            self.abort()
            raise
        try:
            with connection_errors(self.target.description):
                self._swap()
        except BaseException:
            self.abort()
            raise
        self._state = "committed"
        self._cleanup_after_commit()
        _log.info("sql_write_committed", target=self.target.description, tables=self.rows)

    def _check_foreign_keys(self) -> None:
        """Every FK of every staged table holds (parents: staged rows and rows already in the final table).

        Checked: the metadata's foreign keys, and, for a table appended to, the foreign keys the database
        declares on it (the rows are appended with the checks off, so these are verified here too).
        """
        sa = self._sa
        conn = self.connection
        for name in self.tables:
            if name not in self._staged:
                continue
            stage, _ = self._staged[name]
            for parent, child_columns, parent_columns, candidates in self._references(name):
                if any(column not in stage.c for column in child_columns) or not candidates:
                    continue  # a parent outside the write (and not in the database's keys): not checked here
                conditions = [stage.c[column].is_not(None) for column in child_columns]
                for candidate in (table.alias("parent") for table in candidates):  # alias: a self-reference
                    conditions.append(~sa.exists().where(sa.and_(
                        *[candidate.c[p] == stage.c[c] for c, p in zip(child_columns, parent_columns)])))
                orphans = conn.execute(sa.select(sa.func.count()).select_from(stage).where(*conditions)).scalar_one()
                if orphans:
                    raise SerializationError(
                        f"Cannot commit {self._about(name)}: {orphans} row(s) have {child_columns} values that "
                        f"are not keys of {parent!r}, so the foreign key cannot hold. Nothing was changed.")

    def _references(self, name: str) -> list[tuple[str, list[str], list[str], list["sa.Table"]]]:
        """``(parent, child columns, parent columns, tables holding the parent's rows)`` for each FK to check."""
        sa = self._sa
        config = self.metadata.tables[name]
        keys = {parent: self.metadata.tables[parent].pk_columns for parent in
                {str(t).rpartition(".")[0] for t in config.fk.values()} if parent in self.metadata.tables}
        found = []
        for parent, child_columns, parent_columns in foreign_keys_of(config, keys):
            candidates = []
            if parent in self._staged:
                candidates.append(self._staged[parent][0])
            if parent in self.existing and self.target.if_exists == "append":
                candidates.append(self.written[parent])
            found.append((parent, child_columns, parent_columns, candidates))
        if self._staged[name][1] != "append":
            return found
        for fk in self.written[name].info.get("foreign_keys", []):  # declared in the database
            parent, schema = str(fk["referred_table"]), fk.get("referred_schema") or self.schema
            child_columns, parent_columns = list(fk["columns"]), list(fk["referred_columns"])
            rows_there = sa.Table(sql_name(parent, self.dialect), sa.MetaData(),
                                  *[sa.Column(sql_name(column, self.dialect)) for column in parent_columns],
                                  schema=schema)
            candidates = [rows_there]
            if parent in self._staged and schema == self.schema:
                candidates.append(self._staged[parent][0])
            found.append((parent, child_columns, parent_columns, candidates))
        return found

    def _swap(self) -> None:
        """One RENAME TABLE: old tables aside (replace), staging tables to their final names."""
        sa = self._sa
        conn = self.connection
        preparer = conn.dialect.identifier_preparer
        pairs = []
        for name in self.tables:
            stage, mode = self._staged.get(name, (None, ""))
            if stage is None or mode != "new":
                continue
            final = sa.Table(name, sa.MetaData(), schema=self.schema)
            if name in self.existing:
                old = sa.Table(self._aside_name(OLD_PREFIX, name), sa.MetaData(), schema=self.schema)
                pairs.append((final, old))
                self._old_tables.append(old)
            pairs.append((stage, final))
        if pairs:
            conn.exec_driver_sql("RENAME TABLE " + ", ".join(
                f"{preparer.format_table(src)} TO {preparer.format_table(dst)}" for src, dst in pairs))
            conn.commit()

    def _cleanup_after_commit(self) -> None:
        leftovers = list(self._old_tables) + [stage for stage, mode in self._staged.values() if mode == "append"]
        self._drop_quietly(leftovers)
        self._restore_checks()
        self._close()

    def _drop_quietly(self, tables: list["sa.Table"]) -> None:
        if self._connection is None:
            return
        preparer = self._connection.dialect.identifier_preparer
        for table in tables:
            try:
                self._connection.exec_driver_sql(f"DROP TABLE IF EXISTS {preparer.format_table(table)}")
                self._connection.commit()
            except Exception as exc:  # noqa: BLE001 - cleanup never raises; it logs what is left
                _log.warning("sql_drop_failed", target=self.target.description, table=table.name,
                             error=type(exc).__name__)

    def _restore_checks(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
            self._connection.commit()
        except Exception as exc:  # noqa: BLE001 - the connection is closed right after
            _log.warning("sql_restore_checks_failed", error=type(exc).__name__)

    def _undo(self) -> None:
        """Drop the staging tables (and the schema when it was created here)."""
        self._drop_quietly([stage for stage, _ in self._staged.values()])
        if self._schema_created and self._connection is not None:
            try:
                self._connection.execute(self._sa.schema.DropSchema(self.schema))
                self._connection.commit()
            except Exception as exc:  # noqa: BLE001 - abort never raises; it logs
                _log.warning("sql_drop_schema_failed", target=self.target.description, error=type(exc).__name__)
        self._restore_checks()
