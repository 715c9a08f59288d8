"""Write Spark DataFrames as Parquet datasets or Delta tables, all or nothing.

:func:`write_parquet` and :func:`write_delta`.

Each table goes to ``<root>/<table>``. ``root`` is a local folder (given to Spark as a ``file://``
URI, whatever the cluster's default file system: right for a local Spark, or a folder every node
mounts) or a URI (``hdfs://``, ``s3a://``, ``gs://``...; the driver's side of the work, moving
folders and committing Delta versions, uses ``pyarrow.fs`` and ``deltalake`` on the same location,
``s3a://`` spelt ``s3://``; only local folders are tested here).

**Parquet** (:func:`write_parquet`): Spark writes each table, partitioned as asked (with a
``_common_metadata`` schema file, so that :class:`~syntho_hive.connectors.files.ParquetSource` gives
the partition columns back their types), into a hidden staging folder of the root (``.synthohive-staging-*``, skipped by
:class:`~syntho_hive.connectors.files.ParquetSource`); once every table is written, each one is moved
into place (an old one moved aside first with ``mode="overwrite"``, and deleted at the end). A
failure while Spark writes (an executor's error included) deletes the staging folder and leaves
every table as it was; a failed move puts the tables back.

**Delta Lake** (:func:`write_delta`), without Spark's Delta jars: Spark writes each table's Parquet
files into a fresh folder *inside* the Delta table's folder (``<root>/<table>/synthohive-<id>/``,
partitioned as asked), then ``deltalake`` commits those files as one new version: a new table
with ``create_table_with_add_actions``, an existing one with an ``overwrite`` write transaction
(earlier versions stay readable; their files are removed by ``VACUUM``). No row passes through the
driver: only the files' footers are read (row counts for the Delta statistics). Until the commit,
no Delta reader sees the files; a failure deletes them (and a table folder this call created),
and a table committed before a later table's commit failed is restored to its version before
(or deleted when this call created it), as :class:`~syntho_hive.connectors.delta.DeltaTarget` does.
A call stopped before a new table's first commit (a killed driver) leaves only such folders and no
Delta log; the next call writes the table there all the same (a folder with anything else is refused).
The format registered is the format written: Delta tables are not registered in the Hive
metastore (Spark could not read them without the Delta jars).

A column of a type without a :class:`~syntho_hive.core.metadata.ColumnType` (array, map, struct,
interval) is written as Spark's text of it (``CAST(... AS STRING)``), the type the ``_common_metadata``
file and the Delta schema declare for it, as :class:`~syntho_hive.connectors.spark.source.SparkSource`
reads such columns; so is a ``TIME`` column (``12:34:56.5``: Delta Lake has no time type).

Timestamps are written as Parquet ``TIMESTAMP_MICROS`` (``spark.sql.parquet.outputTimestampType`` is
set for the duration of the write and restored), so ``TIMESTAMP`` columns are UTC instants and
``TIMESTAMP_NTZ`` columns naive, for every reader. A ``TIMESTAMP`` partition column's folders are named by
the UTC instant in ISO 8601 (``ts=2021-01-01T10:30:00.000000Z``), not by its text in the session time zone as
Spark names them, so the values read back are the instants written whatever the session's time zone.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from syntho_hive._optional import import_or_raise
from syntho_hive.connectors._arrow_types import delta_schema
from syntho_hive.connectors.files._folder import STAGING_PREFIX
from syntho_hive.connectors.files.parquet import _PARTITION_KEY as PARTITION_KEY
from syntho_hive.connectors.files.parquet import COMMON_METADATA
from syntho_hive.connectors.spark._collect import readable
from syntho_hive.connectors.spark._paths import Location, location
from syntho_hive.connectors.spark.hive import SaveMode, check_outputs, check_save_mode
from syntho_hive.connectors.spark.session import (arrow_schema_for, error_summary, job_group, spark_errors,
                                                  wait_for_tasks)
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["write_parquet", "write_delta"]

_log = get_logger(__name__)
_TIMESTAMP_CONF = "spark.sql.parquet.outputTimestampType"
_DELTA_DATA_PREFIX = "synthohive-"
_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@contextmanager
def _micros_timestamps(spark: "SparkSession") -> Iterator[None]:
    """Spark writes ``TIMESTAMP`` columns as Parquet ``TIMESTAMP_MICROS`` (not the legacy INT96) meanwhile."""
    before = spark.conf.get(_TIMESTAMP_CONF, None)
    spark.conf.set(_TIMESTAMP_CONF, "TIMESTAMP_MICROS")
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(_TIMESTAMP_CONF)
        else:
            spark.conf.set(_TIMESTAMP_CONF, before)


#: A ``TIMESTAMP`` partition value as its UTC instant in ISO 8601 (``2021-01-01T10:30:00.000000Z``), computed
#: from ``unix_micros`` with integer arithmetic, so the session time zone plays no part (``{c}``: the column).
_UTC_ISO = ("format_string('%sT%02d:%02d:%02d.%06dZ', "
            "cast(date_from_unix_date(cast((unix_micros(`{c}`) - pmod(unix_micros(`{c}`), 86400000000)) "
            "div 86400000000 as int)) as string), pmod(unix_micros(`{c}`), 86400000000) div 3600000000, "
            "pmod(pmod(unix_micros(`{c}`), 86400000000) div 60000000, 60), "
            "pmod(pmod(unix_micros(`{c}`), 86400000000) div 1000000, 60), pmod(unix_micros(`{c}`), 1000000))")


def _utc_partition_values(frame: "DataFrame", partition_by: Sequence[str]) -> "DataFrame":
    """``frame`` with each ``TIMESTAMP`` partition column replaced by its UTC instant as ISO 8601 text.

    Spark names a partition folder by the value's text in the *session* time zone
    (``ts=2021-01-01 05:30:00`` for 10:30 UTC in New York), which the Parquet and Delta readers
    (pyarrow, delta-rs) take as UTC: every value would move by the zone's offset, and the two
    instants of a repeated autumn hour would share a folder. The folder holds the instant instead
    (``ts=2021-01-01T10:30:00.000000Z``, the form the Delta protocol defines as UTC), which every
    ISO 8601 reader takes exactly; the column's type stays what it was for the readers
    (``_common_metadata``, the Delta schema): a partition column is only a folder name, in no
    data file.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    zoned = [field.name for field in frame.schema.fields
             if field.name in partition_by and isinstance(field.dataType, T.TimestampType)]
    for name in zoned:  # a partition column name passed check_identifier: safe in the expression
        frame = frame.withColumn(name, F.when(F.col(name).isNotNull(), F.expr(_UTC_ISO.format(c=name))))
    return frame


def _written(tables: Mapping[str, "DataFrame"], partition_by: Mapping[str, Sequence[str]] | None,
             what: str) -> tuple[dict[str, "DataFrame"], dict[str, list[str]]]:
    """:func:`check_outputs`, then each table as its files hold it, in the schema declared for them
    (``_common_metadata``, the Delta schema): a column of a type without a ColumnType (array, map,
    struct, interval), and a ``TIME`` column, as Spark's text of it."""
    frames, partitions = check_outputs(tables, partition_by, what)
    return {name: readable(frame, times=False) for name, frame in frames.items()}, partitions


def _write_files(frame: "DataFrame", target: Location, partition_by: Sequence[str]) -> None:
    writer = _utc_partition_values(frame, partition_by).write.mode("error")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.parquet(target.spark)


def _prepare_root(root: Location, what: str) -> None:
    try:
        root.fs.create_dir(root.path, recursive=True)
    except OSError as exc:
        raise SerializationError(f"{what}: cannot create the folder {root.path!r}: {exc}") from exc


# --------------------------------------------------------------------------- Parquet
def write_parquet(tables: Mapping[str, "DataFrame"], root: str | os.PathLike[str], mode: SaveMode = "error",
                  partition_by: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Write ``tables`` as Parquet datasets ``<root>/<table>``, all or nothing (see the module docstring).

    Args:
        tables: ``{table: Spark DataFrame}``, in the order they are written.
        root: The folder (local path or URI); created when missing.
        mode: ``"error"``: refuse if a table's folder exists (nothing is written); ``"overwrite"``:
            replace it.
        partition_by: ``{table: [columns]}``: Hive-style ``column=value`` folders.

    Returns:
        ``{table: where it went}``.

    Raises:
        ConfigurationError: A bad ``mode`` or ``tables``.
        SchemaError: A table or partition column name is not a safe identifier, or ``partition_by``
            does not fit the tables.
        SerializationError: A table exists with ``mode="error"``, or the write failed (an executor's
            error included); every table is then as it was.
    """
    mode = check_save_mode(mode)
    frames, partitions = _written(tables, partition_by, "write_parquet")
    if not frames:
        return {}
    base = location(root)
    finals = {name: base.child(name) for name in frames}
    present = [name for name, final in finals.items() if final.exists()]
    if mode == "error" and present:
        raise SerializationError(f"write_parquet: table(s) {present} already exist in {base.path!r} and mode='error'; "
                                 "nothing was written. Pass mode='overwrite', or choose another folder.")
    _prepare_root(base, "write_parquet")
    staging = base.child(f"{STAGING_PREFIX}{uuid.uuid4().hex}")
    spark = next(iter(frames.values())).sparkSession
    group = None
    try:
        with _micros_timestamps(spark), job_group(spark, f"SynthoHive write_parquet to {base.path}") as group:
            for name, frame in frames.items():
                _write_files(frame, staging.child(name), partitions.get(name, []))
                if name in partitions:
                    _write_common_metadata(frame, staging.child(name), partitions[name])
                _log.info("parquet_table_staged", table=name, path=staging.child(name).path)
        _move_into_place(staging, finals)
    except BaseException as exc:
        wait_for_tasks(spark, group)  # a cancelled task still writing must not refill the staging folder
        staging.delete()
        if isinstance(exc, spark_errors()):
            raise SerializationError(f"write_parquet to {base.path!r} failed; no table changed. The job's error:\n"
                                     f"{error_summary(exc)}") from exc
        if isinstance(exc, OSError):
            raise SerializationError(f"write_parquet to {base.path!r} failed; no table changed: {exc}") from exc
        raise
    staging.delete()
    _log.info("parquet_tables_written", root=base.path, tables=list(frames), mode=mode, replaced=present)
    return {name: final.path for name, final in finals.items()}


def _write_common_metadata(frame: "DataFrame", folder: Location, partition_by: list[str]) -> None:
    """The ``_common_metadata`` file :class:`~syntho_hive.connectors.files.ParquetSource` reads to give
    the partition columns back their types (they are only folder names in a Hive-style dataset)."""
    schema = arrow_schema_for(frame.schema).with_metadata({PARTITION_KEY: json.dumps(partition_by).encode()})
    pq.write_metadata(schema, f"{folder.path}/{COMMON_METADATA}", filesystem=folder.fs)


def _move_into_place(staging: Location, finals: Mapping[str, Location]) -> None:
    """Move each staged table to its final folder (an old one aside first); undo all on a failure."""
    done: list[tuple[str, str]] = []
    fs = staging.fs
    try:
        for name, final in finals.items():
            if final.exists():
                aside = staging.child(f"{name}.old").path
                fs.move(final.path, aside)
                done.append((final.path, aside))
            fs.move(staging.child(name).path, final.path)
            done.append((staging.child(name).path, final.path))
    except OSError as exc:
        for source, moved_to in reversed(done):
            try:
                fs.move(moved_to, source)
            except OSError as undo_error:
                _log.error("parquet_undo_failed", path=moved_to, back_to=source, error=str(undo_error))
        raise SerializationError(f"write_parquet: moving the tables into {staging.path.rsplit('/', 1)[0]!r} failed "
                                 f"({exc}); the tables were put back.") from exc


# --------------------------------------------------------------------------- Delta
@dataclass
class _DeltaTable:
    name: str
    location: Location
    data: Location
    partition_by: list[str]
    version_before: int | None
    created_folder: bool
    schema: pa.Schema


def write_delta(tables: Mapping[str, "DataFrame"], root: str | os.PathLike[str], mode: SaveMode = "error", *,
                partition_by: Mapping[str, Sequence[str]] | None = None,
                storage_options: Mapping[str, str] | None = None) -> dict[str, str]:
    """Write ``tables`` as Delta tables ``<root>/<table>``: Spark writes Parquet, ``deltalake`` commits it.

    See the module docstring for how, and what a failure leaves.

    Args:
        tables: ``{table: Spark DataFrame}``, in the order they are written and committed.
        root: The folder (local path or URI); created when missing.
        mode: ``"error"``: refuse if a table exists (nothing is written); ``"overwrite"``: a new
            version of each table replaces its rows, schema and partitioning (older versions
            stay readable).
        partition_by: ``{table: [columns]}`` to partition by.
        storage_options: Passed to ``deltalake`` for a remote ``root`` (credentials, endpoint).

    Returns:
        ``{table: Delta table location}``.

    Raises:
        MissingDependencyError: ``deltalake`` is not installed (``pip install 'synthohive[delta]'``).
        ConfigurationError: A bad ``mode`` or ``tables``.
        SchemaError: A table or partition column name is not a safe identifier, or ``partition_by``
            does not fit the tables.
        SerializationError: A table exists with ``mode="error"``, a folder in the way is not a Delta
            table, a decimal is wider than 38 digits, or the write or a commit failed; every table
            is then at its content before.
    """
    deltalake = import_or_raise("deltalake", "delta")
    mode = check_save_mode(mode)
    frames, partitions = _written(tables, partition_by, "write_delta")
    if not frames:
        return {}
    base = location(root)
    options = dict(storage_options or {})
    plans = {name: _plan_delta(deltalake, name, frame, base, partitions.get(name, []), options)
             for name, frame in frames.items()}
    present = [name for name, plan in plans.items() if plan.version_before is not None]
    if mode == "error" and present:
        raise SerializationError(f"write_delta: Delta table(s) {present} already exist in {base.path!r} and "
                                 "mode='error'; nothing was written. Pass mode='overwrite' (a new version), or choose "
                                 "another folder.")
    _prepare_root(base, "write_delta")
    spark = next(iter(frames.values())).sparkSession
    group = None
    try:
        with _micros_timestamps(spark), job_group(spark, f"SynthoHive write_delta to {base.path}") as group:
            for name, frame in frames.items():
                _write_files(frame, plans[name].data, plans[name].partition_by)
                _log.info("delta_files_staged", table=name, path=plans[name].data.path)
    except BaseException as exc:
        wait_for_tasks(spark, group)  # a cancelled task still writing must not put files back
        _discard(plans.values())
        if isinstance(exc, spark_errors()):
            raise SerializationError(f"write_delta to {base.path!r} failed; no Delta table changed. The job's error:\n"
                                     f"{error_summary(exc)}") from exc
        raise
    _commit_all(deltalake, plans, options)
    _log.info("delta_tables_written", root=base.path, tables=list(frames), mode=mode, replaced=present)
    return {name: plan.location.delta for name, plan in plans.items()}


def _plan_delta(deltalake: Any, name: str, frame: "DataFrame", base: Location, partition_by: list[str],
                options: dict[str, str]) -> _DeltaTable:
    location = base.child(name)
    version = None
    if deltalake.DeltaTable.is_deltatable(location.delta, storage_options=options or None):
        try:
            version = deltalake.DeltaTable(location.delta, storage_options=options or None).version()
        except (deltalake.exceptions.DeltaError, OSError) as exc:
            raise SerializationError(f"write_delta: cannot open Delta table {name!r} at {location.delta!r}: {exc}") \
                from exc
    elif location.exists() and not location.is_empty_dir():
        left = _uncommitted_folders(location)
        if left is None:
            raise SerializationError(f"write_delta: {location.path!r} (table {name!r}) exists but is not a Delta "
                                     "table; move it away or choose another folder.")
        _log.warning("delta_uncommitted_files_left", table=name, path=location.path, folders=left,
                     action="kept (no Delta reader sees them); an interrupted write_delta left them, delete them")
    schema = delta_schema(arrow_schema_for(frame.schema))
    return _DeltaTable(name, location, location.child(f"{_DELTA_DATA_PREFIX}{uuid.uuid4().hex}"), partition_by,
                       version, created_folder=not location.exists(), schema=schema)


def _uncommitted_folders(location: Location) -> list[str] | None:
    """The folders of a table folder without a Delta log when each is one a ``write_delta`` stopped before its
    commit left (``synthohive-<id>``: Parquet files no Delta version names), else ``None``."""
    entries = location.fs.get_file_info(pafs.FileSelector(location.path, recursive=False))
    names = [entry.base_name for entry in entries]
    if all(entry.type == pafs.FileType.Directory and entry.base_name.startswith(_DELTA_DATA_PREFIX)
           for entry in entries):
        return names
    return None


def _discard(plans: Iterator[_DeltaTable] | Any) -> None:
    """Delete the files staged for ``plans`` (and the table folders this call created)."""
    for plan in plans:
        (plan.location if plan.created_folder else plan.data).delete()


def _commit_all(deltalake: Any, plans: Mapping[str, _DeltaTable], options: dict[str, str]) -> None:
    done: list[_DeltaTable] = []
    try:
        for plan in plans.values():
            done.append(plan)
            _commit(deltalake, plan, options)
    except BaseException as exc:
        _roll_back(deltalake, done, options)
        _discard(plan for plan in plans.values() if plan not in done or plan is done[-1])
        if isinstance(exc, (deltalake.exceptions.DeltaError, OSError, ValueError, pa.ArrowException)):
            failed = done[-1]
            raise SerializationError(f"write_delta: committing Delta table {failed.name!r} at "
                                     f"{failed.location.delta!r} failed ({exc}); every table was rolled back.") from exc
        raise


def _commit(deltalake: Any, plan: _DeltaTable, options: dict[str, str]) -> None:
    from deltalake.transaction import AddAction, create_table_with_add_actions

    files = _data_files(plan)
    actions = [AddAction(path=path, size=size, partition_values=values, modification_time=mtime, data_change=True,
                         stats=json.dumps({"numRecords": rows}))
               for path, size, mtime, values, rows in files]
    schema = deltalake.Schema.from_arrow(plan.schema)
    if plan.version_before is None:
        create_table_with_add_actions(plan.location.delta, schema, actions, mode="error",
                                      partition_by=plan.partition_by or None, storage_options=options or None)
    else:
        table = deltalake.DeltaTable(plan.location.delta, storage_options=options or None)
        metadata = table.metadata()
        if list(metadata.partition_columns) == plan.partition_by:
            table.create_write_transaction(actions, mode="overwrite", schema=schema,
                                           partition_by=plan.partition_by or None)
        else:
            # A write transaction keeps the recorded partition columns (readers would then take the
            # column from the new files' paths: all null); "create or replace" records the new ones,
            # and removes the old files, in one commit. Older versions stay readable.
            create_table_with_add_actions(plan.location.delta, schema, actions, mode="overwrite",
                                          partition_by=plan.partition_by or None, name=metadata.name,
                                          description=metadata.description,
                                          configuration=metadata.configuration, storage_options=options or None)
            _log.info("delta_partitioning_replaced", table=plan.name, path=plan.location.delta,
                      before=list(metadata.partition_columns), after=plan.partition_by)
    _log.info("delta_version_committed", table=plan.name, path=plan.location.delta, files=len(actions),
              rows=sum(file[-1] for file in files))


def _data_files(plan: _DeltaTable) -> list[tuple[str, int, int, dict[str, str | None], int]]:
    """``(path relative to the table, size, mtime ms, partition values, rows)`` of each Parquet file Spark wrote."""
    fs = plan.data.fs
    prefix = plan.location.path.rstrip("/") + "/"
    found = []
    for info in fs.get_file_info(pafs.FileSelector(plan.data.path, recursive=True)):
        if info.type != pafs.FileType.File:
            continue
        relative = info.path[len(prefix):] if info.path.startswith(prefix) else info.path
        parts = relative.split("/")
        if any(part.startswith((".", "_")) for part in parts) or not parts[-1].endswith(".parquet"):
            continue  # _SUCCESS, .crc checksums
        values: dict[str, str | None] = {}
        for part in parts[1:-1]:
            column, _, value = part.partition("=")
            values[unquote(column)] = None if value == _NULL_PARTITION else unquote(value)
        with fs.open_input_file(info.path) as handle:
            rows = pq.ParquetFile(handle).metadata.num_rows
        mtime = int(info.mtime_ns // 1_000_000) if info.mtime_ns is not None else 0
        found.append(("/".join(parts), int(info.size), mtime, values, int(rows)))
    return found


def _roll_back(deltalake: Any, done: list[_DeltaTable], options: dict[str, str]) -> None:
    """Put every table of ``done`` back at its version before (a failure is logged, never raised)."""
    for plan in reversed(done):
        try:
            if plan.version_before is None:
                if plan.created_folder:
                    plan.location.delete()
                else:
                    _delete_log(plan)
                continue
            table = deltalake.DeltaTable(plan.location.delta, storage_options=options or None)
            if table.version() != plan.version_before:
                table.restore(plan.version_before, protocol_downgrade_allowed=True)
            _log.info("delta_table_restored", table=plan.name, version=plan.version_before)
        except (deltalake.exceptions.DeltaError, OSError, RuntimeError) as exc:
            _log.error("delta_rollback_failed", table=plan.name, path=plan.location.delta, error=str(exc))


def _delete_log(plan: _DeltaTable) -> None:
    plan.location.child("_delta_log").delete()
    plan.data.delete()
