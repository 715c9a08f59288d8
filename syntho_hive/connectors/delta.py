"""Delta Lake tables through ``deltalake`` (delta-rs; no JVM, no Spark): extra ``synthohive[delta]``.

Each table is a Delta table at ``<root>/<table>``. :class:`DeltaSource` streams a table (at its
latest version, or the one asked for) by record batches of ``DeltaTable.to_pyarrow_dataset()``,
in the storage dtypes. :class:`DeltaTarget` writes every table as one new Delta version, so the
version before stays readable (``DeltaTable(path, version=v)``).

What a commit does, and what a reader may see:

1. :meth:`~syntho_hive.connectors.base.TargetWriter.write_table` only stages the rows, one Parquet
   row group per chunk, in a hidden folder of the root (``.synthohive-staging-*``, which no
   source lists). Nothing a reader sees changes: an error there, or in the generation feeding
   the chunks, leaves every Delta table at its version, with no new version written.
2. :meth:`~syntho_hive.connectors.base.TargetWriter.commit` then writes the tables one after
   another, parents first, each as one Delta commit streamed from its staged rows (an
   ``overwrite`` with schema overwrite for ``"replace"``, an ``append`` for ``"append"``). Each
   table switches atomically, as Delta commits do; but *between* two tables a reader may see the
   new version of the first tables and the old version of the others (Delta Lake has no
   transaction over several tables).
3. If writing a table fails, the tables already written are rolled back: a table that existed is
   restored to its version before (``DeltaTable.restore``, which adds a new version with the old
   content: its version number advances by two, the failed write and the restore, and a reader
   may have seen the new rows in between); a table this commit created is deleted. The error is
   then raised as :class:`~syntho_hive.exceptions.SerializationError`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from syntho_hive._optional import import_or_raise
from syntho_hive.connectors._arrow_types import arrow_field_of, cast_table, delta_schema, delta_type, frame_to_arrow
from syntho_hive.connectors.base import (DEFAULT_CHUNK_ROWS, IfExists, TableTarget, TargetWriter, check_if_exists,
                                         read_existing)
from syntho_hive.connectors.files._chunks import ParquetChunks, write_all
from syntho_hive.connectors.files._dataset_read import column_types_of, iter_dataset, selected_columns
from syntho_hive.connectors.files._folder import (FolderSource, check_partition_by, make_staging, open_folder,
                                                 ordered_like, remove_staging)
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata import Metadata

__all__ = ["DeltaSource", "DeltaTarget"]

_log = get_logger(__name__)
_LOG_FOLDER = "_delta_log"


def _deltalake() -> ModuleType:
    """The ``deltalake`` module, or the error naming ``synthohive[delta]``."""
    return import_or_raise("deltalake", "delta")


def _delta_errors(deltalake: ModuleType) -> tuple[type[BaseException], ...]:
    """What delta-rs raises on a failed read or write, besides OS and Arrow errors."""
    return (deltalake.exceptions.DeltaError, OSError, pa.ArrowException, ValueError)


class DeltaSource(FolderSource):
    """Read Delta tables: each folder ``<root>/<table>`` with a ``_delta_log`` is a table.

    Example:
        >>> source = DeltaSource("lake/", version={"orders": 3})
        >>> metadata = Metadata.from_source(source)

    Args:
        root: The folder holding the tables (``None`` only with ``tables``).
        tables: Explicit ``{table: path}`` to Delta table folders (relative paths from ``root``).
        version: The version to read: one for every table, or ``{table: version}`` (the others
            at their latest); ``None``: the latest.

    Raises:
        MissingDependencyError: ``deltalake`` is not installed (``pip install 'synthohive[delta]'``).
        SchemaError: ``root`` and ``tables`` both missing, or a bad ``version``.
        SerializationError: ``root`` does not exist or is not a folder.
    """

    format_name = "Delta"
    table_noun = "Delta table"

    def __init__(self, root: str | os.PathLike[str] | None = None, *,
                 tables: Mapping[str, str | os.PathLike[str]] | None = None,
                 version: int | Mapping[str, int] | None = None) -> None:
        self._deltalake = _deltalake()
        if root is None and tables is None:
            raise SchemaError("DeltaSource needs a root folder or a tables={name: path} mapping.")
        self.version = _check_version(version)
        super().__init__(root, tables=tables)

    def _table_of(self, entry: Path) -> str | None:
        return entry.name if (entry / _LOG_FOLDER).is_dir() else None

    def _version_of(self, table: str) -> int | None:
        return self.version.get(table) if isinstance(self.version, dict) else self.version

    def _where(self, table: str, path: Path) -> str:
        version = self._version_of(table)
        return f"Delta table {table!r} at {str(path)!r}" + (f" version {version}" if version is not None else "")

    def _path(self, table: str) -> Path:
        """The folder of ``table``, checked to be a Delta table.

        Raises:
            SchemaError: No such table (the message lists the known ones).
            SerializationError: The folder has no ``_delta_log``.
        """
        paths = self._paths()
        if table not in paths:
            raise SchemaError(f"No Delta table {table!r} in {self.description!r}; tables found: "
                              f"{', '.join(paths) or 'none'}.")
        path = paths[table]
        if not (path / _LOG_FOLDER).is_dir():
            raise SerializationError(f"{self._where(table, path)} not found: no {_LOG_FOLDER} folder there; check "
                                     "the path.")
        return path

    def _table(self, table: str) -> tuple[Any, str]:
        """``(DeltaTable, where)`` of ``table`` at the version asked for."""
        path = self._path(table)
        where = self._where(table, path)
        try:
            return self._deltalake.DeltaTable(str(path), version=self._version_of(table)), where
        except _delta_errors(self._deltalake) as exc:
            raise SerializationError(f"Cannot open {where}: {exc}") from exc

    def _dataset(self, table: str) -> tuple[Any, str]:
        """``(pyarrow dataset, where)`` of ``table`` at the version asked for."""
        delta_table, where = self._table(table)
        try:
            return delta_table.to_pyarrow_dataset(), where
        except _delta_errors(self._deltalake) as exc:
            raise SerializationError(f"Cannot read {where}: {exc}") from exc

    def iter_table(self, table: str, *, columns: Sequence[str] | None = None,
                   chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Stream ``table`` in record batches of at most ``chunk_rows`` rows, in the storage dtypes.

        Raises:
            SchemaError: ``table`` or a column is missing.
            SerializationError: The table or the version cannot be read.
        """
        dataset, where = self._dataset(table)
        names = selected_columns(dataset.schema, dataset.schema.names, columns, table=table, where=where)
        return iter_dataset(dataset, names, chunk_rows, table=table, where=where)

    def _column_types(self, table: str, frame: pd.DataFrame) -> dict[str, ColumnType]:
        """The storage types of the Delta schema (at the version asked for)."""
        schema = self._dataset(table)[0].schema
        return column_types_of(schema, schema.names)


def _check_version(version: int | Mapping[str, int] | None) -> int | dict[str, int] | None:
    def valid(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if version is None or valid(version):
        return version  # type: ignore[return-value]
    if isinstance(version, Mapping) and all(valid(v) for v in version.values()):
        return {str(k): int(v) for k, v in version.items()}
    raise SchemaError(f"version must be a non-negative int, a {{table: version}} mapping or None, got {version!r}.")


class DeltaTarget(TableTarget):
    """Write tables as Delta tables ``<root>/<table>``, each as one new version (see the module docstring).

    Column types come from the metadata's :class:`ColumnType` where there is one (as Delta Lake
    stores them: ``decimal(12,2)``, ``date``, ``timestamp`` (UTC) or ``timestamp_ntz``, unsigned
    integers widened, ``time`` as text), else from the rows' pandas dtypes.

    ``if_exists``: ``"fail"`` (a table that exists stops :meth:`open`), ``"replace"`` (a new version
    overwrites the rows, schema and partitioning; older versions stay readable), ``"append"``
    (a new version adds the rows, in the table's schema and partitioning; ``Synthesizer.sample`` continues
    the keys the table holds, see :meth:`TargetWriter.existing_rows`, so none repeats).

    Example:
        >>> target = DeltaTarget("lake/", if_exists="replace", partition_by={"orders": ["region"]})

    Args:
        root: The folder holding the tables (created when missing; a local path).
        if_exists: What to do with a table that exists.
        partition_by: ``{table: [columns]}`` to partition by (for ``"append"`` to an existing
            table, it must be the table's partitioning).

    Raises:
        MissingDependencyError: ``deltalake`` is not installed (``pip install 'synthohive[delta]'``).
        SchemaError: A bad ``if_exists`` or ``partition_by``.
    """

    def __init__(self, root: str | os.PathLike[str], *, if_exists: IfExists = "fail",
                 partition_by: Mapping[str, Sequence[str]] | None = None) -> None:
        self._deltalake = _deltalake()
        self.root = Path(root)
        self.if_exists = check_if_exists(if_exists)
        self.partition_by = check_partition_by(partition_by)
        self.description = str(self.root)

    def open(self, metadata: "Metadata", tables: Sequence[str]) -> TargetWriter:
        """Check the tables and start writing them (rows are staged until commit).

        Raises:
            SchemaError: A table is not in ``metadata``, has an unusable name, or ``partition_by``
                names a table or column the metadata does not have.
            SerializationError: A table exists and ``if_exists="fail"``, a folder in the way is not a
                Delta table, an append's partitioning differs, or the folder cannot be written.
        """
        where = f"Delta target {str(self.root)!r}"
        tables = open_folder(self.root, metadata, tables, self.partition_by, where)
        plans = {name: self._plan(name, metadata, where) for name in tables}
        present = [name for name, plan in plans.items() if plan.version_before is not None]
        if self.if_exists == "fail" and present:
            raise SerializationError(f"Delta table(s) {present} already in the {where} and if_exists='fail'; pass "
                                     "if_exists='replace' (a new version) or 'append', or choose another folder.")
        return _DeltaWriter(self, tables, plans)

    def _plan(self, table: str, metadata: "Metadata", where: str) -> "_DeltaPlan":
        path = self.root / table
        deltalake = self._deltalake
        if (path / _LOG_FOLDER).is_dir():
            try:
                existing = deltalake.DeltaTable(str(path))
                version, schema = existing.version(), existing.to_pyarrow_dataset().schema
                partitions = list(existing.metadata().partition_columns)
            except _delta_errors(deltalake) as exc:
                raise SerializationError(f"Cannot open Delta table {table!r} at {str(path)!r}: {exc}") from exc
        elif path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise SerializationError(f"{str(path)!r} (table {table!r} of the {where}) exists but is not a Delta table; "
                                     "move it away or choose another folder.")
        else:
            version, schema, partitions = None, None, []
        folder_existed = path.is_dir()
        fields = {}
        for name, column_type in metadata.tables[table].column_types.items():
            field = arrow_field_of(name, column_type)
            fields[name] = field.with_type(delta_type(field.type, name))
        partition_by = self.partition_by.get(table)
        if self.if_exists == "append" and version is not None:
            if partition_by is not None and list(partition_by) != partitions:
                raise SerializationError(f"Cannot append to Delta table {table!r} partitioned by {partition_by}: it is "
                                         f"partitioned by {partitions}.")
            assert schema is not None
            return _DeltaPlan(path, version, {f.name: f for f in schema}, partitions, schema=schema)
        return _DeltaPlan(path, version, fields, list(partition_by or []), folder_existed=folder_existed)


class _DeltaPlan:
    """One table: where, its version before (``None``: absent), its fields and partitioning."""

    def __init__(self, path: Path, version_before: int | None, fields: dict[str, pa.Field], partition_by: list[str],
                 *, schema: pa.Schema | None = None, folder_existed: bool = True) -> None:
        self.path = path
        self.folder_existed = folder_existed  # an empty folder, where the table is new
        self.version_before = version_before
        self.fields = fields
        self.partition_by = partition_by
        self.schema = schema  # an append: the existing table's schema
        self.staged: Path | None = None
        self.staged_schema: pa.Schema | None = None


class _DeltaWriter(TargetWriter):
    @property
    def finished(self) -> bool:
        return self._closed

    def __init__(self, target: DeltaTarget, tables: Sequence[str], plans: dict[str, _DeltaPlan]) -> None:
        self.target = target
        self.tables = list(tables)
        self.plans = plans
        self._deltalake = target._deltalake
        self.staging = make_staging(target.root)
        self._order: list[str] = []
        self._closed = False

    def existing_rows(self, table: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """The values of ``columns`` in the rows of ``table`` an append adds to, at the version :meth:`open` saw
        (see :class:`TargetWriter`).

        Raises:
            SchemaError: ``table`` was not opened.
            SerializationError: The Delta table cannot be read, or lacks a column.
        """
        plan = self.plans.get(table)
        if plan is None:
            raise SchemaError(f"Table {table!r} was not opened for writing to {str(self.target.root)!r}; opened: "
                              f"{self.tables}.")
        if self.target.if_exists != "append" or plan.version_before is None:
            return None
        source = DeltaSource(tables={table: plan.path}, version={table: plan.version_before})
        return read_existing(source, table, columns, str(plan.path))

    def write_table(self, table: str, chunks: Iterable[pd.DataFrame]) -> str:
        """Stage every chunk of ``table`` (one Parquet row group each); no Delta version is written yet.

        Raises:
            SchemaError: ``table`` was not opened, or is written twice.
            SerializationError: A chunk cannot be written (errors of ``chunks`` propagate unchanged).
        """
        if self._closed:
            raise SerializationError(f"The write to {str(self.target.root)!r} is already committed or aborted.")
        if table not in self.plans:
            raise SchemaError(f"Table {table!r} was not opened for writing to {str(self.target.root)!r}; opened: "
                              f"{self.tables}.")
        if table in self._order:
            raise SchemaError(f"Table {table!r} is written twice to {str(self.target.root)!r}.")
        plan = self.plans[table]
        where = f"Delta table {table!r} at {str(plan.path)!r}"

        def to_arrow(chunk: pd.DataFrame) -> pa.Table:
            if plan.schema is not None:
                chunk = ordered_like(chunk, plan.schema.names, where)
            return frame_to_arrow(chunk, plan.fields, where=where)

        staged = self.staging / f"{table}.parquet"
        writer = ParquetChunks(staged, where, to_arrow=to_arrow)
        write_all(writer, chunks)
        plan.staged, plan.staged_schema = staged, writer.schema
        self._order.append(table)
        _log.info("table_staged", target=str(self.target.root), table=table, format="delta")
        return str(plan.path)

    def commit(self) -> None:
        """Write one Delta version per staged table, rolling back the earlier ones if a later one fails.

        Raises:
            SerializationError: A write failed; every table is back at its content before (see the
                module docstring for the version numbers).
        """
        if self._closed:
            raise SerializationError(f"The write to {str(self.target.root)!r} is already committed or aborted.")
        self._closed = True
        done: list[str] = []
        try:
            for table in self._order:
                done.append(table)
                self._write_version(table)
        except BaseException as exc:
            self._roll_back(done)
            self._remove_staging()
            if isinstance(exc, SerializationError) or not isinstance(exc, _delta_errors(self._deltalake)):
                raise
            raise SerializationError(f"Cannot write Delta table {done[-1]!r} in {str(self.target.root)!r}: {exc}; "
                                     "every table was rolled back.") from exc
        self._remove_staging()
        _log.info("target_committed", target=str(self.target.root), tables=done, format="delta")

    def _write_version(self, table: str) -> None:
        plan = self.plans[table]
        where = f"Delta table {table!r} at {str(plan.path)!r}"
        assert plan.staged is not None
        if plan.staged_schema is None:
            raise SerializationError(f"Cannot write {where}: no chunk was given, so its columns are unknown.")
        schema = plan.schema if plan.schema is not None else delta_schema(plan.staged_schema)
        missing = [name for name in plan.partition_by if name not in schema.names]
        if missing:
            raise SerializationError(f"Cannot partition {where} by {missing}: no such column(s); its columns: "
                                     f"{schema.names}.")
        rows = pq.ParquetFile(plan.staged)
        try:
            reader = pa.RecordBatchReader.from_batches(schema, _cast_batches(rows, schema, where))
            if self.target.if_exists == "replace":
                self._deltalake.write_deltalake(str(plan.path), reader, mode="overwrite", schema_mode="overwrite",
                                                partition_by=list(plan.partition_by))
            elif self.target.if_exists == "append":
                self._deltalake.write_deltalake(str(plan.path), reader, mode="append",
                                                partition_by=list(plan.partition_by) or None)
            else:
                self._deltalake.write_deltalake(str(plan.path), reader, mode="error",
                                                partition_by=list(plan.partition_by) or None)
        finally:
            rows.close()
        _log.info("delta_version_written", table=table, path=str(plan.path), mode=self.target.if_exists)

    def _roll_back(self, tables: list[str]) -> None:
        """Put every table of ``tables`` back as it was (never raises; a failure is logged)."""
        for table in reversed(tables):
            plan = self.plans[table]
            try:
                if plan.version_before is None:
                    if plan.path.exists():
                        shutil.rmtree(plan.path)
                    if plan.folder_existed:
                        plan.path.mkdir()
                    _log.info("delta_table_removed", table=table, path=str(plan.path))
                    continue
                current = self._deltalake.DeltaTable(str(plan.path))
                if current.version() != plan.version_before:
                    current.restore(plan.version_before, protocol_downgrade_allowed=True)
                _log.info("delta_table_restored", table=table, version=plan.version_before)
            except (*_delta_errors(self._deltalake), RuntimeError) as exc:
                _log.error("delta_rollback_failed", table=table, path=str(plan.path), error=str(exc))

    def abort(self) -> None:
        """Discard the staged rows; no Delta version was written."""
        self._closed = True
        self._remove_staging()
        _log.info("target_aborted", target=str(self.target.root), format="delta")

    def _remove_staging(self) -> None:
        remove_staging(self.staging)


def _cast_batches(rows: pq.ParquetFile, schema: pa.Schema, where: str) -> Iterator[pa.RecordBatch]:
    """The staged rows, one row group at a time, cast to the Delta schema."""
    for group in range(rows.num_row_groups):
        table = rows.read_row_group(group)
        try:
            table = cast_table(table, schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError) as exc:
            raise SerializationError(f"Cannot write {where}: the rows do not fit the table's schema: {exc}") from exc
        yield from table.to_batches()
