"""Read training data from Spark: Hive tables of a database, or Spark DataFrames (extra ``synthohive[spark]``).

:class:`SparkSource` is a :class:`~syntho_hive.connectors.base.TableSource`:

* :meth:`~SparkSource.reflect` turns Spark schemas into :class:`~syntho_hive.core.metadata.Metadata`:
  a :class:`~syntho_hive.core.metadata.ColumnType` per column (integer widths, ``DECIMAL(p, s)``,
  ``DATE``, ``TIMESTAMP`` / ``TIMESTAMP_NTZ``...; see :mod:`syntho_hive.connectors.spark.session`)
  and sdtypes from those types, refined on the first 10,000 rows of each table. **Keys are not
  reflected**: Spark and Hive tables declare no primary or foreign keys, so declare them on the
  metadata before training (``metadata.tables["orders"].pk = "order_id"``,
  ``metadata.tables["orders"].fk = {"customer_id": "customers.customer_id"}``, and their columns'
  sdtype ``"id"``), or build the metadata with ``Metadata.add_table`` directly.
* :meth:`~SparkSource.read_tables` computes a key-closed :class:`~syntho_hive.relational.subset.Subset`
  **in Spark** (:mod:`syntho_hive.connectors.spark.subset`: the same rows as the pandas and SQL
  executors keep), checks the result against ``max_training_rows``, and brings only the kept rows
  to the driver, through Arrow (``DataFrame.toArrow``), in the storage dtypes (decimals as exact
  ``Decimal``, ``TIMESTAMP`` as ``datetime64[ns, UTC]``, ``TIMESTAMP_NTZ`` as ``datetime64[ns]``,
  nullable integers as ``Int64``...).
* :meth:`~SparkSource.iter_table` streams a table in chunks, one Spark partition at a time.

Example:
    >>> source = SparkSource(spark, "shop", max_training_rows=1_000_000)
    >>> metadata = source.reflect()
    >>> metadata.tables["orders"].pk = "order_id"     # keys: declared by the user
    >>> frames, report = source.read_tables(metadata, Subset(root="customers", rows=50_000))
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from syntho_hive.connectors.base import DEFAULT_CHUNK_ROWS, TableSource, _declared_columns, table_selection
from syntho_hive.connectors.spark._collect import collect_frame, column, iter_frames
from syntho_hive.connectors.spark.session import check_identifier, column_type_of, require_spark, spark_failures
from syntho_hive.connectors.spark.subset import count_rows, subset_dataframes, subset_report
from syntho_hive.connectors.sql.reflect import refine_sdtype
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

    from syntho_hive.core.metadata import Metadata
    from syntho_hive.relational.subset import Subset, SubsetReport

__all__ = ["SparkSource", "REFLECT_SAMPLE_ROWS", "HIDDEN_PREFIX"]

_log = get_logger(__name__)

#: Rows of each table read to refine sdtypes in :meth:`SparkSource.reflect`.
REFLECT_SAMPLE_ROWS = 10_000
#: Tables whose name starts with this are SynthoHive's own (staging tables of a write); never listed.
HIDDEN_PREFIX = "_synthohive_"


class SparkSource(TableSource):
    """Tables of a Hive/Spark database, or Spark DataFrames, as a training source.

    Args:
        spark: The SparkSession.
        database: The database whose tables are read (``None``: the session's current database);
            with ``tables``, the database of names given without one.
        tables: ``{table: DataFrame or "db.table" / "table" name}``: read exactly these (the
            source's tables, in this order) instead of listing ``database``.
        max_training_rows: The most rows one table may bring to the driver. Without a subset,
            :meth:`read_tables` refuses to read a larger table (pass a ``Subset``); with one, a
            table that still has more rows after the subset is an error (draw fewer root rows).

    Raises:
        MissingDependencyError: pyspark is not installed (``pip install 'synthohive[spark]'``).
        ConfigurationError: ``spark`` is not a SparkSession, ``tables`` is not a mapping of
            DataFrames and names, or ``max_training_rows`` is not an integer >= 1.
        SchemaError: A database or table name is not a safe identifier, or ``database`` does not exist
            (the message lists those that do).
    """

    def __init__(self, spark: "SparkSession", database: str | None = None, *,
                 tables: "Mapping[str, DataFrame | str] | None" = None,
                 max_training_rows: int | None = None) -> None:
        sql = require_spark()
        if not all(hasattr(spark, attribute) for attribute in ("catalog", "table", "createDataFrame")):
            raise ConfigurationError(f"SparkSource needs a pyspark SparkSession, got {type(spark).__name__}.")
        if max_training_rows is not None and (isinstance(max_training_rows, bool) or not isinstance(
                max_training_rows, numbers.Integral) or max_training_rows < 1):
            raise ConfigurationError(f"max_training_rows must be an integer >= 1 or None, got {max_training_rows!r}.")
        self.spark = spark
        self.max_training_rows = None if max_training_rows is None else int(max_training_rows)
        self.database = check_identifier(database, "database") if database is not None else None
        self._tables: dict[str, DataFrame | tuple[str, str]] | None = None
        if tables is not None:
            if not isinstance(tables, Mapping):
                raise ConfigurationError(f"tables must be a mapping {{table: DataFrame or 'db.table'}}, "
                                         f"got {type(tables).__name__}.")
            self._tables = {str(name): self._entry(str(name), value, sql) for name, value in tables.items()}
        elif self.database is not None:
            self._check_database(self.database)
        where = f"database {self.database!r}" if self.database is not None else "the current database"
        self.description = (f"Spark {where}" if self._tables is None
                            else f"{len(self._tables)} Spark table(s)/DataFrame(s)")

    # ----------------------------------------------------------------- naming
    def _entry(self, name: str, value: object, sql: Any) -> "DataFrame | tuple[str, str]":
        if isinstance(value, sql.DataFrame):
            return value
        if not isinstance(value, str):
            raise ConfigurationError(f"tables[{name!r}] must be a Spark DataFrame or a 'database.table' name, "
                                     f"got {type(value).__name__}.")
        database, dot, table = value.rpartition(".")
        if not dot:
            database = self.database or self._current_database()
        check_identifier(database, "database")
        check_identifier(table, "table")
        return database, table

    def _current_database(self) -> str:
        return check_identifier(self.spark.catalog.currentDatabase(), "database")

    def _check_database(self, database: str) -> None:
        with spark_failures("listing the Spark databases"):
            exists = self.spark.catalog.databaseExists(database)
            known = [] if exists else sorted(db.name for db in self.spark.catalog.listDatabases())
        if not exists:
            raise SchemaError(f"Spark database {database!r} does not exist; databases there: "
                              f"{', '.join(known) or 'none'}. Check the name, or create it.")

    def _listed(self, database: str) -> list[str]:
        self._check_database(database)
        with spark_failures(f"listing the tables of database {database!r}"):
            found = self.spark.catalog.listTables(database)
        return sorted(t.name for t in found if not t.isTemporary and not t.name.startswith(HIDDEN_PREFIX))

    def table_names(self) -> list[str]:
        """The tables of the database (name order; SynthoHive's staging tables left out), or of ``tables``.

        Raises:
            SchemaError: The database does not exist.
            SerializationError: Spark cannot list them.
        """
        if self._tables is not None:
            return list(self._tables)
        return self._listed(self.database or self._current_database())

    def frame(self, table: str) -> "DataFrame":
        """The Spark DataFrame of ``table`` (lazy: no row is read).

        Raises:
            SchemaError: ``table`` is not a table of the source (the message lists those there).
        """
        if self._tables is not None:
            entry = self._tables.get(table)
            if entry is None:
                raise SchemaError(f"No table {table!r} in the Spark source; tables given: "
                                  f"{', '.join(self._tables) or 'none'}.")
            if not isinstance(entry, tuple):
                return entry
            database, name = entry
            self._check_database(database)
            if not self._exists(database, name):
                raise SchemaError(f"tables[{table!r}] names Spark table {database}.{name}, which does not exist; "
                                  f"tables of {database!r}: {', '.join(self._listed(database)) or 'none'}.")
        else:
            database = self.database or self._current_database()
            name = check_identifier(table, "table")
            self._check_database(database)
            if not self._exists(database, name):
                raise SchemaError(f"No table {table!r} in Spark database {database!r}; tables there: "
                                  f"{', '.join(self._listed(database)) or 'none'}.")
        with spark_failures(f"opening Spark table {database}.{name}"):
            return self.spark.table(f"`{database}`.`{name}`")

    def _exists(self, database: str, table: str) -> bool:
        with spark_failures(f"looking up Spark table {database}.{table}"):
            return bool(self.spark.catalog.tableExists(f"`{database}`.`{table}`"))

    def _frames(self, tables: Sequence[str]) -> dict[str, "DataFrame"]:
        known = self.table_names()
        # a database's tables: Spark and Hive names are case-insensitive (the metastore keeps them in lower case)
        folded = {t.lower() for t in known} if self._tables is None else set()
        missing = [t for t in tables if t not in known and t.lower() not in folded]
        if missing:
            raise SchemaError(f"Table(s) {missing} of the metadata are not in the Spark source "
                              f"({self.description}); tables there: {', '.join(known) or 'none'}. Check the "
                              "names, or give them with SparkSource(tables={...}).")
        return {name: self.frame(name) for name in tables}

    # ----------------------------------------------------------------- TableSource
    def reflect(self, tables: Sequence[str] | None = None) -> "Metadata":
        """Columns, storage types and sdtypes of ``tables`` (``None``: every table); no keys.

        Spark has no primary or foreign keys: declare them on the returned metadata (see the module
        docstring). Each table's first :data:`REFLECT_SAMPLE_ROWS` rows are read to refine sdtypes
        (``id`` for unique codes, ``categorical`` for few integer values, ``text``, ``datetime``...).

        Raises:
            SchemaError: The database or a table named is missing.
            SerializationError: Spark cannot read a table.
        """
        from syntho_hive.core.metadata import Metadata

        names = self.table_names() if tables is None else table_selection(tables)
        frames = self._frames(names)
        metadata = Metadata()
        for name, frame in frames.items():
            column_types = {field.name: column_type_of(field, table=name) for field in frame.schema.fields}
            with spark_failures(f"sampling Spark table {name!r}"):
                sample = collect_frame(frame.limit(REFLECT_SAMPLE_ROWS), f"Spark table {name!r}")
            sdtypes = {c: refine_sdtype(sample[c], column_type, c) for c, column_type in column_types.items()}
            metadata.add_table(name, columns=sdtypes)
            metadata.tables[name].column_types = column_types
        _log.info("source_reflected", source=self.description, tables=names, keys="not reflected: declare pk/fk")
        return metadata

    def iter_table(self, table: str, *, columns: Sequence[str] | None = None,
                   chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Stream ``table`` in chunks of at most ``chunk_rows`` rows, one Spark partition at a time.

        Raises:
            SchemaError: ``table`` or a column is missing.
            SerializationError: Spark cannot read the table.
        """
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, numbers.Integral) or chunk_rows < 1:
            raise ConfigurationError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}.")
        frame = _select(self._frames([table])[table], table, columns)
        return _guarded(iter_frames(frame, int(chunk_rows), f"Spark table {table!r}"), f"reading Spark table {table!r}")

    def read_tables(self, metadata: "Metadata",
                    subset: "Subset | None" = None) -> tuple[dict[str, pd.DataFrame], "SubsetReport | None"]:
        """Every table of ``metadata`` (its columns), or the key-closed ``subset`` of them, on the driver.

        The subset is computed in Spark (:func:`~syntho_hive.connectors.spark.subset.subset_dataframes`);
        only the kept rows are collected, through Arrow. The rows kept per table are logged
        (``subset_kept``); without a subset, the rows read (``spark_tables_read``).

        Args:
            metadata: The tables (with their keys, for a subset) to read.
            subset: Which rows to keep (``None``: all).

        Returns:
            ``({table: frame}, report)`` in ``metadata`` order; the report is ``None`` without a subset.

        Raises:
            SchemaError: A table of ``metadata`` is missing from the source, a declared column is
                missing, or the subset does not fit the schema.
            ConfigurationError: A bad subset; or a table has more rows than ``max_training_rows``
                (without a subset: pass one; with one: draw fewer root rows).
            SerializationError: Spark cannot read a table.
        """
        names = list(metadata.tables)
        frames = self._frames(names)
        columns = {name: _declared_columns(metadata, name) for name in names}
        for name in names:
            _select(frames[name], name, columns[name])  # a missing declared column is named now
        limit = self.max_training_rows
        if subset is None:
            if limit is not None:
                with spark_failures("counting the rows of the Spark tables"):
                    self._check_bound(metadata, count_rows(frames), subset=None)
            result = self._collect(frames, columns, limit=None)
            _log.info("spark_tables_read", source=self.description, rows={n: len(f) for n, f in result.items()})
            return result, None
        with spark_failures(f"computing the subset from root {subset.root!r} in Spark"), \
                subset_dataframes(metadata, frames, subset) as (plan, kept, drawn):
            result = self._collect(kept, columns, limit=limit)  # at most limit + 1 rows of a table reach the driver
            over = [name for name, frame in result.items() if limit is not None and len(frame) > limit]
            if over:
                self._check_bound(metadata, count_rows({name: kept[name] for name in over}), subset=subset)
        with spark_failures("counting the rows of the Spark tables"):
            report = subset_report(plan, frames, {name: len(frame) for name, frame in result.items()}, drawn)
        return result, report

    def _collect(self, frames: Mapping[str, "DataFrame"], columns: Mapping[str, list[str] | None],
                 limit: int | None) -> dict[str, pd.DataFrame]:
        """Each DataFrame's declared columns on the driver (at most ``limit + 1`` rows of each, when given)."""
        result = {}
        for name, frame in frames.items():
            frame = _select(frame, name, columns[name])
            with spark_failures(f"collecting Spark table {name!r}"):
                result[name] = collect_frame(frame if limit is None else frame.limit(limit + 1),
                                             f"Spark table {name!r}")
        return result

    def _check_bound(self, metadata: "Metadata", counts: Mapping[str, int], subset: "Subset | None") -> None:
        limit = self.max_training_rows
        assert limit is not None
        over = {name: int(n) for name, n in counts.items() if n > limit}
        if not over:
            return
        shown = ", ".join(f"{name} ({n:,} rows)" for name, n in over.items())
        if subset is None:
            from syntho_hive.relational.graph import SchemaGraph

            roots = SchemaGraph.from_metadata(metadata).roots()
            share = limit / max(over.values())
            raise ConfigurationError(
                f"Table(s) {shown} of the Spark source have more rows than max_training_rows={limit:,}, and only "
                f"a subset is brought to the driver. Pass subset=Subset(root=..., fraction=...) with a root among "
                f"{roots} (e.g. fraction={share:.3g} or less), or raise max_training_rows.")
        largest = max(over, key=lambda name: over[name])
        if subset.rows is not None:
            advice = f"rows={max(1, int(subset.rows * limit / over[largest]))} or fewer"
        else:
            advice = f"fraction={float(subset.fraction or 1) * limit / over[largest]:.3g} or less"
        raise ConfigurationError(
            f"The subset from root {subset.root!r} keeps more rows than max_training_rows={limit:,} in "
            f"table(s) {shown}. Draw fewer root rows (Subset(root={subset.root!r}, {advice})), or raise "
            "max_training_rows.")


def _select(frame: "DataFrame", table: str, columns: Sequence[str] | None) -> "DataFrame":
    if columns is None:
        return frame
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise SchemaError(f"Spark table {table!r} has no column(s) {absent}; its columns are {frame.columns}.")
    return frame.select(*map(column, columns))


def _guarded(chunks: Iterator[pd.DataFrame], what: str) -> Iterator[pd.DataFrame]:
    with spark_failures(what):
        yield from chunks
