"""Write Spark DataFrames as Hive tables, all or nothing: :func:`save_to_hive`.

Every name (the database, each table, each partition column) passes
:func:`~syntho_hive.connectors.spark.session.check_identifier` before any SQL text is built, and is
back-quoted in it. Tables are Parquet tables managed by the metastore (``USING parquet``): the
format registered is the format written. A replaced table takes this format and the partitioning
asked for, whatever it had (a ``hive_table_layout_changed`` warning says when that differs).

How a save goes, and what it guarantees:

1. **Checks** (nothing written yet): the database is created when missing; with ``mode="error"`` a
   table that exists stops the save (:class:`~syntho_hive.exceptions.SerializationError` naming
   every such table), and so does, with ``mode="overwrite"``, a view or an external table in the
   way (only managed tables are replaced); a staging or set-aside table of an earlier, interrupted
   save of the same tables stops it too (the message says which to check and drop).
2. **Staging**: each DataFrame, in the order given (parents first), is computed and written to a
   staging table ``<database>._synthohive_stage_<token>_<table>`` (a token per save). This is where
   the rows are generated (a DataFrame from ``sample_spark`` is lazy), so this is where an
   executor's failure surfaces: once the job's cancelled tasks have stopped, every staging table is
   dropped and what the failed write left in its folder removed, and the error is raised as a
   ``SerializationError`` carrying the task's error; the final tables were never touched.
3. **Swap**: for each table, the old table (``mode="overwrite"``) is renamed aside
   (``_synthohive_old_<token>_<table>``) and the staging table renamed to the final name (metastore
   renames; a managed table's folder moves with it). A failed rename puts every table back.
   Then the old tables are dropped. A reader may see, during the swap, some tables new and
   others old, and a replaced table missing for the instant between its two renames; it never
   sees a half-written table under a final name.

Example:
    >>> save_to_hive({"customers": customers_df, "orders": orders_df}, "shop_synthetic", mode="overwrite",
    ...              partition_by={"orders": ["order_date"]})
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from syntho_hive.connectors.spark._paths import location
from syntho_hive.connectors.spark.session import (MAX_IDENTIFIER_LENGTH, check_identifier, error_summary, job_group,
                                                  require_spark, spark_errors, spark_failures, wait_for_tasks)
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["save_to_hive", "SaveMode", "STAGE_PREFIX", "OLD_PREFIX", "check_save_mode", "check_outputs"]

_log = get_logger(__name__)

SaveMode = Literal["error", "overwrite"]
#: Prefix of the staging table a save writes before the swap.
STAGE_PREFIX = "_synthohive_stage_"
#: Prefix an old table is renamed to during an overwrite's swap, until it is dropped.
OLD_PREFIX = "_synthohive_old_"
_LEFTOVER = re.compile(r"_synthohive_(stage|old)_[0-9a-f]{8}_(.+)")


def check_save_mode(mode: object) -> SaveMode:
    """``mode`` when it is ``"error"`` or ``"overwrite"``.

    Raises:
        ConfigurationError: Any other value.
    """
    if mode not in ("error", "overwrite"):
        raise ConfigurationError(f"mode must be 'error' (refuse to replace a table) or 'overwrite', got {mode!r}.")
    return mode  # type: ignore[return-value]


def check_outputs(tables: object, partition_by: Mapping[str, Sequence[str]] | None,
                  what: str) -> tuple[dict[str, "DataFrame"], dict[str, list[str]]]:
    """Check the tables and partition columns of a Spark write, before anything is written.

    Args:
        tables: ``{table: DataFrame}``.
        partition_by: ``{table: [columns]}``.
        what: The write, for messages (``"save_to_hive"``).

    Returns:
        ``(tables, partition_by)`` as plain dicts.

    Raises:
        ConfigurationError: ``tables`` is not a mapping of Spark DataFrames.
        SchemaError: A table or partition column name is not a safe identifier, ``partition_by``
            names a table or a column that is not there, names a column twice, or partitions a table
            by all its columns.
    """
    sql = require_spark()
    if not isinstance(tables, Mapping):
        raise ConfigurationError(f"{what}: tables must be a mapping {{table: Spark DataFrame}}, got "
                                 f"{type(tables).__name__}.")
    checked: dict[str, DataFrame] = {}
    for name, frame in tables.items():
        check_identifier(name, "table")
        if not isinstance(frame, sql.DataFrame):
            raise ConfigurationError(f"{what}: tables[{name!r}] must be a Spark DataFrame, got {type(frame).__name__}.")
        checked[name] = frame
    partitions: dict[str, list[str]] = {}
    for name, columns in (partition_by or {}).items():
        if name not in checked:
            raise SchemaError(f"{what}: partition_by names table {name!r}, which is not among the tables written "
                              f"({', '.join(checked) or 'none'}).")
        if isinstance(columns, str) or not isinstance(columns, Sequence):
            raise SchemaError(f"{what}: partition_by[{name!r}] must be a list of column names, got {columns!r}.")
        columns = [check_identifier(c, "partition column") for c in columns]
        if len({c.lower() for c in columns}) < len(columns):
            raise SchemaError(f"{what}: partition_by[{name!r}] names a column twice: {columns}.")
        absent = [c for c in columns if c not in checked[name].columns]
        if absent:
            raise SchemaError(f"{what}: cannot partition table {name!r} by {absent}: no such column(s); its columns "
                              f"are {checked[name].columns}.")
        if len(set(columns)) == len(checked[name].columns):
            raise SchemaError(f"{what}: table {name!r} cannot be partitioned by all of its columns.")
        if columns:
            partitions[name] = columns
    return checked, partitions


def save_to_hive(tables: Mapping[str, "DataFrame"], database: str, mode: SaveMode = "error", *,
                 partition_by: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Write ``tables`` as Parquet tables of the Hive ``database``, all or nothing (see the module docstring).

    Args:
        tables: ``{table: Spark DataFrame}``, parents first (the order they are written in).
        database: The Hive database (created when missing).
        mode: ``"error"``: refuse if a table exists (nothing is written); ``"overwrite"``: replace
            the tables through staging tables, so a failure leaves the old ones. A replaced table
            becomes a Parquet table partitioned by ``partition_by`` whatever its format and
            partitioning were (an ORC table partitioned by ``p`` becomes unpartitioned Parquet
            without ``partition_by``): a ``hive_table_layout_changed`` warning names both.
        partition_by: ``{table: [columns]}`` to partition by.

    Returns:
        ``{table: "database.table"}``.

    Raises:
        MissingDependencyError: pyspark is not installed.
        ConfigurationError: A bad ``mode`` or ``tables``.
        SchemaError: A database, table or partition column name is not a safe identifier (checked
            before any SQL), two table names differ only in case, or ``partition_by`` does not fit
            the tables.
        SerializationError: A table exists with ``mode="error"``, a view or an external table is in
            the way, a staging table is left from an earlier save, or writing failed (an executor's
            error included); no final table changed.
    """
    mode = check_save_mode(mode)
    database = check_identifier(database, "database")
    frames, partitions = check_outputs(tables, partition_by, "save_to_hive")
    folded = [name.lower() for name in frames]
    twice = sorted({name for name in frames if folded.count(name.lower()) > 1})
    if twice:
        raise SchemaError(f"save_to_hive: tables {twice} are one Hive table (Hive names ignore case); rename one.")
    names = _Names(uuid.uuid4().hex[:8])
    for name in frames:
        if len(names.stage(name)) > MAX_IDENTIFIER_LENGTH:
            raise SchemaError(f"save_to_hive: table name {name!r} is too long to stage (at most "
                              f"{MAX_IDENTIFIER_LENGTH - len(names.stage(''))} characters); shorten it.")
    if not frames:
        return {}
    spark = next(iter(frames.values())).sparkSession
    with spark_failures(f"preparing Hive database {database!r}"):
        spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        present = {t.name.lower(): t.tableType for t in spark.catalog.listTables(database) if not t.isTemporary}
    existing = [name for name in frames if name.lower() in present]
    unmanaged = {name: present[name.lower()] for name in existing if present[name.lower()] != "MANAGED"}
    leftovers = sorted(t for t in present if (match := _LEFTOVER.fullmatch(t)) is not None
                       and match.group(2) in {name.lower() for name in frames})
    if mode == "error" and existing:
        raise SerializationError(f"Hive table(s) {existing} already exist in database {database!r} and mode='error'; "
                                 "nothing was written. Pass mode='overwrite' to replace them, or another database.")
    if unmanaged:
        raise SerializationError(
            f"save_to_hive replaces managed tables only, and {unmanaged} of Hive database {database!r} are not "
            "(a view, or an external table whose files live elsewhere: it would become a managed table in the "
            "warehouse, its folder left as it was); nothing was written. Drop them, or write to other names or "
            "another database.")
    if leftovers:
        raise SerializationError(
            f"Hive database {database!r} holds table(s) {leftovers} left by an earlier save of these tables that did "
            f"not finish (or one running now); nothing was written. If no other save is running, check them (an "
            f"'{OLD_PREFIX}...' table holds the rows before that save), drop them (DROP TABLE {database}.<name>) and "
            "save again.")
    with spark_failures(f"reading the layout of tables in Hive database {database!r}"):
        before = {name: _layout(spark, database, name) for name in existing}
    _stage(spark, database, frames, partitions, names)
    _swap(spark, database, list(frames), set(existing), names)
    for name, (old_format, old_partitions) in before.items():
        if (old_format, old_partitions) != ("parquet", partitions.get(name, [])):
            _log.warning("hive_table_layout_changed", database=database, table=name, old_format=old_format,
                         old_partition_by=old_partitions, new_format="parquet",
                         new_partition_by=partitions.get(name, []))
    _log.info("hive_tables_saved", database=database, tables=list(frames), mode=mode, replaced=existing)
    return {name: f"{database}.{name}" for name in frames}


@dataclass(frozen=True)
class _Names:
    """The staging and set-aside names of one save (a token per save, so saves never share them)."""

    token: str

    def stage(self, table: str) -> str:
        return f"{STAGE_PREFIX}{self.token}_{table}"

    def old(self, table: str) -> str:
        return f"{OLD_PREFIX}{self.token}_{table}"


def _layout(spark: "SparkSession", database: str, table: str) -> tuple[str, list[str]]:
    """The storage format (``parquet``, ``orc``, ...; ``hive`` with its serde for another Hive table) and the
    partition columns of an existing table."""
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED `{database}`.`{table}`").collect()
    detail = {row["col_name"]: row["data_type"] for row in rows}
    provider = str(detail.get("Provider", "")).lower()
    if provider == "hive":
        serde = str(detail.get("Serde Library", ""))
        known = {"OrcSerde": "orc", "ParquetHiveSerDe": "parquet"}
        provider = known.get(serde.rsplit(".", 1)[-1], f"hive ({serde})")
    columns = spark.catalog.listColumns(f"{database}.{table}")
    return provider, [column.name for column in columns if column.isPartition]


def _stage(spark: "SparkSession", database: str, frames: Mapping[str, "DataFrame"],
           partitions: Mapping[str, list[str]], names: _Names) -> None:
    staged: list[str] = []
    group = current = None
    try:
        with job_group(spark, f"SynthoHive save_to_hive {database}") as group:
            for name, frame in frames.items():
                current = name
                staged.append(names.stage(name))
                writer = frame.write.format("parquet").mode("error")
                if name in partitions:
                    writer = writer.partitionBy(*partitions[name])
                writer.saveAsTable(f"`{database}`.`{names.stage(name)}`")
                _log.info("hive_table_staged", database=database, table=name, staging=names.stage(name))
    except BaseException as exc:
        wait_for_tasks(spark, group)  # a cancelled task still writing must not refill a folder removed below
        _drop_quietly(spark, database, staged)
        _remove_folders(spark, database, staged)
        if isinstance(exc, spark_errors()):
            raise SerializationError(
                f"Writing table {current!r} to Hive database {database!r} failed; every staging table was dropped "
                f"and no table of {database!r} changed. The job's error:\n{error_summary(exc)}") from exc
        raise


def _swap(spark: "SparkSession", database: str, tables: list[str], existing: set[str], names: _Names) -> None:
    done: list[tuple[str, str]] = []  # renames made, to undo in reverse
    try:
        for name in tables:
            if name in existing:
                _rename(spark, database, name, names.old(name))
                done.append((name, names.old(name)))
            _rename(spark, database, names.stage(name), name)
            done.append((names.stage(name), name))
    except BaseException as exc:
        for old, new in reversed(done):
            try:
                _rename(spark, database, new, old)
            except spark_errors() as undo_error:
                _log.error("hive_swap_undo_failed", database=database, table=new, back_to=old, error=str(undo_error))
        _drop_quietly(spark, database, [names.stage(name) for name in tables])
        if isinstance(exc, spark_errors()):
            raise SerializationError(f"Replacing the tables of Hive database {database!r} failed; the old tables were "
                                     f"put back. The error:\n{error_summary(exc)}") from exc
        raise
    _drop_quietly(spark, database, [names.old(name) for name in tables if name in existing])


def _remove_folders(spark: "SparkSession", database: str, tables: Sequence[str]) -> None:
    """Remove what a failed write left in the managed folders of ``tables`` (never registered as tables)."""
    try:
        base = location(spark.catalog.getDatabase(database).locationUri)
    except (SerializationError, *spark_errors()) as exc:
        _log.warning("hive_staging_folders_left", database=database, tables=list(tables), error=str(exc))
        return
    for table in tables:
        base.child(table.lower()).delete()


def _rename(spark: "SparkSession", database: str, old: str, new: str) -> None:
    spark.sql(f"ALTER TABLE `{database}`.`{old}` RENAME TO `{database}`.`{new}`")


def _drop_quietly(spark: "SparkSession", database: str, tables: Sequence[str]) -> None:
    """Drop ``tables`` if they exist; a failure is logged, never raised (it would hide the error being handled)."""
    for table in tables:
        try:
            spark.sql(f"DROP TABLE IF EXISTS `{database}`.`{table}`")
        except spark_errors() as exc:
            _log.error("hive_drop_failed", database=database, table=table, error=str(exc),
                       hint=f"drop it by hand: DROP TABLE {database}.{table}")
