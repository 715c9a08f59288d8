"""Parquet tables in a folder: ``<table>.parquet`` files and ``<table>/`` datasets (Hive partitions).

:class:`ParquetSource` streams a table by record batches through :mod:`pyarrow.dataset` (never the
whole dataset at once), in the storage dtypes, partition columns included with their types.
:class:`ParquetTarget` writes each table chunk by chunk (one row group per chunk, memory flat) with
the Arrow types of the metadata's :class:`ColumnType`\\ s, and commits all tables at once
(:mod:`syntho_hive.connectors.files._folder`).

A partitioned dataset written here also gets a ``_common_metadata`` file: the full Arrow schema,
partition columns included, so that reading restores their types (``int16``, ``date32``...) and
NOT NULL flags. A dataset written elsewhere (Spark, Hive) without one gets the types pyarrow
infers from the folder names (``int32`` for integers, ``string`` otherwise).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from syntho_hive.connectors._arrow_types import arrow_field_of, frame_to_arrow
from syntho_hive.connectors.base import DEFAULT_CHUNK_ROWS, IfExists, TableTarget, TargetWriter, check_if_exists
from syntho_hive.connectors.files._chunks import ParquetChunks, write_all
from syntho_hive.connectors.files._dataset_read import column_types_of, iter_dataset, selected_columns
from syntho_hive.connectors.files._folder import (FolderSource, FolderWriter, Staged, check_partition_by,
                                                 existing_entries, open_folder, ordered_like)
from syntho_hive.connectors.files._table_files import PARQUET_SUFFIXES, holds_data_file
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata import Metadata

__all__ = ["ParquetSource", "ParquetTarget"]

#: The schema file of a dataset folder, and the key of its metadata naming the partition columns.
COMMON_METADATA = "_common_metadata"
_PARTITION_KEY = b"synthohive.partition_by"
_INDEX_PREFIX = "__index_level_"


def _parquet_name(name: str) -> str | None:
    lower = name.lower()
    for suffix in PARQUET_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


@dataclass
class _OpenDataset:
    """A table's dataset, its columns in order and its partition columns."""

    dataset: ds.Dataset
    columns: list[str]
    partition_by: list[str]


def open_dataset(path: Path, where: str) -> _OpenDataset:
    """The dataset of a Parquet file or folder, with the partition columns' types restored.

    Raises:
        SerializationError: The path cannot be read as Parquet.
    """
    try:
        if path.is_file():
            dataset = ds.dataset(path, format="parquet")
            partition_by: list[str] = []
        else:
            discovered = ds.dataset(path, format="parquet", partitioning="hive")
            found = discovered.partitioning.schema if discovered.partitioning is not None else pa.schema([])
            common = path / COMMON_METADATA
            if common.is_file():
                schema = pq.read_schema(common)
                named = (schema.metadata or {}).get(_PARTITION_KEY)
                partition_by = json.loads(named) if named is not None else list(found.names)
                fields = [schema.field(name) if name in schema.names else found.field(name) for name in partition_by]
                dataset = ds.dataset(path, format="parquet", schema=schema,
                                     partitioning=ds.partitioning(pa.schema(fields), flavor="hive"))
            else:
                dataset, partition_by = discovered, list(found.names)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise SerializationError(f"Cannot read Parquet {where}: {exc}") from exc
    pandas_index = [name for name in (dataset.schema.pandas_metadata or {}).get("index_columns", [])
                    if isinstance(name, str)]
    columns = [name for name in dataset.schema.names
               if name not in pandas_index and not name.startswith(_INDEX_PREFIX)]
    return _OpenDataset(dataset, columns, partition_by)


class ParquetSource(FolderSource):
    """Read tables from a folder of Parquet files and datasets.

    Each entry of ``root`` is a table: a ``<name>.parquet`` (or ``.pq``) file, or a ``<name>/``
    folder of Parquet files (part files need no suffix; ``key=value`` folders are Hive partitions);
    entries starting with ``.`` or ``_``, and folders holding no such data file, are skipped.

    Example:
        >>> source = ParquetSource("exports/")
        >>> metadata = Metadata.from_source(source)

    Args:
        root: The folder (``None`` only with ``tables``).
        tables: Explicit ``{table: path}`` to a file or folder (relative paths from ``root``).
    """

    format_name = "Parquet"

    def _table_of(self, entry: Path) -> str | None:
        if entry.is_dir():
            return entry.name if holds_data_file(entry) else None
        return _parquet_name(entry.name) if entry.is_file() else None

    def _open(self, table: str) -> tuple[_OpenDataset, str]:
        path = self._path(table)
        where = f"table {table!r} at {str(path)!r}"
        return open_dataset(path, where), str(path)

    def iter_table(self, table: str, *, columns: Sequence[str] | None = None,
                   chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Stream ``table`` in record batches of at most ``chunk_rows`` rows, in the storage dtypes.

        Raises:
            SchemaError: ``table`` or a column is missing.
            SerializationError: The root or a file is missing or cannot be read.
        """
        opened, where = self._open(table)
        names = selected_columns(opened.dataset.schema, opened.columns, columns, table=table, where=where)
        return iter_dataset(opened.dataset, names, chunk_rows, table=table, where=where)

    def _column_types(self, table: str, frame: pd.DataFrame) -> dict[str, ColumnType]:
        opened, _ = self._open(table)
        return column_types_of(opened.dataset.schema, opened.columns)


class ParquetTarget(TableTarget):
    """Write tables as Parquet: ``<root>/<table>.parquet``, or a ``<root>/<table>/`` Hive-partitioned dataset.

    Column types come from the metadata's :class:`ColumnType` where there is one
    (``decimal(12,2)`` -> ``decimal128(12, 2)``, ``date`` -> ``date32``, ``timestamp`` with a time
    zone -> ``timestamp[us, tz=UTC]``, NOT NULL kept), else from the chunk's pandas dtype. Every
    table is staged and all are moved into place at :meth:`TargetWriter.commit`.

    ``if_exists``: ``"fail"`` (a table that exists stops :meth:`open`), ``"replace"`` (the old file or
    folder is moved aside, and deleted once every table is in place), ``"append"``: a single file
    is rewritten with its row groups followed by the new ones (in its own schema); a dataset
    folder gets new part files (partitioned as it is, ``partition_by`` must agree). ``Synthesizer.sample``
    continues the keys the table holds (:meth:`TargetWriter.existing_rows`), so none repeats.

    Example:
        >>> target = ParquetTarget("synthetic/", if_exists="replace", partition_by={"orders": ["region"]})

    Args:
        root: The folder (created when missing).
        if_exists: What to do with a table that exists.
        partition_by: ``{table: [columns]}`` written as partitioned datasets.
        row_group_rows: Most rows per row group (``None``: one row group per chunk).

    Raises:
        SchemaError: A bad ``if_exists``, ``partition_by`` or ``row_group_rows``.
    """

    def __init__(self, root: str | os.PathLike[str], *, if_exists: IfExists = "fail",
                 partition_by: Mapping[str, Sequence[str]] | None = None, row_group_rows: int | None = None) -> None:
        self.root = Path(root)
        self.if_exists = check_if_exists(if_exists)
        self.partition_by = check_partition_by(partition_by)
        if row_group_rows is not None and (not isinstance(row_group_rows, int) or isinstance(row_group_rows, bool)
                                           or row_group_rows < 1):
            raise SchemaError(f"row_group_rows must be a positive integer or None, got {row_group_rows!r}.")
        self.row_group_rows = row_group_rows
        self.description = str(self.root)

    def entries(self, table: str) -> list[Path]:
        """The files or folders that hold ``table`` in the root now."""
        candidates = [self.root / f"{table}{suffix}" for suffix in PARQUET_SUFFIXES] + [self.root / table]
        return [path for path in candidates if path.exists()]

    def open(self, metadata: "Metadata", tables: Sequence[str]) -> TargetWriter:
        """Check the folder and start writing ``tables``.

        Raises:
            SchemaError: A table is not in ``metadata``, has an unusable name, or ``partition_by``
                names a table or column the metadata does not have.
            SerializationError: A table exists and ``if_exists="fail"``, an append does not fit the
                existing table, or the folder cannot be created.
        """
        where = f"Parquet target {str(self.root)!r}"
        tables = open_folder(self.root, metadata, tables, self.partition_by, where)
        existing = existing_entries(self.entries, tables, self.if_exists, where)
        plans = {name: self._plan(name, existing[name], metadata, where) for name in tables}
        return _ParquetWriter(self, tables, plans)

    def _plan(self, table: str, existing: list[Path], metadata: "Metadata", where: str) -> "_Plan":
        """How ``table`` is written: its fields, its partition columns, and what an append adds to."""
        declared = metadata.tables[table].column_types
        fields = {name: arrow_field_of(name, column_type) for name, column_type in declared.items()}
        partition_by = list(self.partition_by.get(table, []))
        if self.if_exists != "append" or not existing:
            return _Plan(fields, partition_by)
        if len(existing) > 1:
            raise SerializationError(f"Cannot append to table {table!r} of the {where}: it is held by several entries "
                                     f"({', '.join(p.name for p in existing)}); keep one.")
        path = existing[0]
        opened = open_dataset(path, f"table {table!r} at {str(path)!r}")
        if path.is_file() and partition_by:
            raise SerializationError(f"Cannot append partitioned rows to table {table!r}: {str(path)!r} is a single "
                                     "file; drop partition_by for it or replace the table.")
        if path.is_dir() and table in self.partition_by and partition_by != opened.partition_by:
            raise SerializationError(f"Cannot append to table {table!r} partitioned by {partition_by}: the dataset "
                                     f"{str(path)!r} is partitioned by {opened.partition_by}.")
        schema = pa.schema([opened.dataset.schema.field(name) for name in opened.columns])
        # The rows take the table's types; a column that held only nulls (type null) takes the new rows' type.
        fields = {f.name: f for f in schema if not pa.types.is_null(f.type)}
        return _Plan(fields, opened.partition_by, append_to=path, schema=schema)


@dataclass
class _Plan:
    """How one table is written: Arrow fields by column, partition columns, and for an append the
    existing file or folder and its schema."""

    fields: dict[str, pa.Field]
    partition_by: list[str]
    append_to: Path | None = None
    schema: pa.Schema | None = None


class _ParquetWriter(FolderWriter):
    def __init__(self, target: ParquetTarget, tables: Sequence[str], plans: dict[str, _Plan]) -> None:
        super().__init__(target.root, tables, target.if_exists, target.entries, "parquet")
        self.target = target
        self.plans = plans

    def _source(self, table: str, path: Path) -> ParquetSource:
        return ParquetSource(tables={table: path})

    def _stage(self, table: str, chunks: Iterable[pd.DataFrame]) -> Staged:
        plan = self.plans[table]
        where = f"table {table!r} of the Parquet target {str(self.root)!r}"
        append_to = plan.append_to
        into_file = append_to is not None and append_to.is_file()
        destination = append_to if append_to is not None else self.root / (
            table if plan.partition_by else f"{table}.parquet")
        single_file = (append_to is None and not plan.partition_by) or into_file
        rows = self.staging / (f"{table}.parquet" if single_file else f".{table}.rows.parquet")

        def to_arrow(chunk: pd.DataFrame) -> pa.Table:
            if plan.schema is not None:  # an append: the existing table's column order
                chunk = ordered_like(chunk, plan.schema.names, where)
            return frame_to_arrow(chunk, plan.fields, where=where)

        writer = ParquetChunks(rows, where, schema=plan.schema, row_group_rows=self.target.row_group_rows,
                               to_arrow=to_arrow)
        if into_file:
            assert append_to is not None
            writer.copy_from(append_to)
        write_all(writer, chunks)
        if append_to is None and not plan.partition_by:
            return Staged(rows, destination)
        if into_file:
            return Staged(rows, destination, replaced=[destination])
        folder = self.staging / table
        _write_dataset(rows, folder, plan.partition_by, self.target.row_group_rows, where,
                       common_metadata=append_to is None)
        rows.unlink()
        return Staged(folder, destination, merge=append_to is not None)


def _write_dataset(rows: Path, folder: Path, partition_by: list[str], row_group_rows: int | None, where: str, *,
                   common_metadata: bool) -> None:
    """Re-stream the staged rows (row group by row group) into a Hive-partitioned dataset folder."""
    try:
        with pq.ParquetFile(rows) as source:
            _partition(source, folder, partition_by, row_group_rows, where)
        if common_metadata:
            schema = pq.read_schema(rows)
            named = {_PARTITION_KEY: json.dumps(partition_by).encode()}
            stored = schema.with_metadata({**(schema.metadata or {}), **named})
            pq.write_metadata(stored, folder / COMMON_METADATA)
    except SerializationError:
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise SerializationError(f"Cannot write {where} as a dataset: {exc}") from exc


def _partition(source: pq.ParquetFile, folder: Path, partition_by: list[str], row_group_rows: int | None,
               where: str) -> None:
    """Write the rows of ``source``, row group by row group, into ``folder`` (Hive partitions)."""
    schema = source.schema_arrow
    missing = [name for name in partition_by if name not in schema.names]
    if missing:
        raise SerializationError(f"Cannot partition {where} by {missing}: no such column(s); its columns: "
                                 f"{schema.names}.")
    if partition_by and len(partition_by) == len(schema.names):
        raise SerializationError(f"Cannot partition {where} by every column {partition_by}: a dataset needs a "
                                 "column outside the partition folders.")
    batches = (source.read_row_group(group).to_batches() for group in range(source.num_row_groups))
    reader = pa.RecordBatchReader.from_batches(schema, (batch for group in batches for batch in group))
    partitioning = (ds.partitioning(pa.schema([schema.field(name) for name in partition_by]), flavor="hive")
                    if partition_by else None)
    folder.mkdir()
    ds.write_dataset(reader, folder, format="parquet", partitioning=partitioning,
                     basename_template=f"part-{secrets.token_hex(6)}-{{i}}.parquet",
                     max_rows_per_group=row_group_rows or 1 << 20, existing_data_behavior="overwrite_or_ignore",
                     create_dir=True)
