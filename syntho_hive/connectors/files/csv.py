"""CSV tables in a folder: ``<table>.csv`` (optionally ``.csv.gz``, ``.csv.bz2``, ``.csv.xz``, ``.csv.zip``).

:class:`CSVSource` reads with the exact CSV reader (:func:`~syntho_hive.interface.files.read_csv`:
integers stay integers, codes keep their leading zeros, ``NA`` in a text column is text), streamed
in chunks with the same dtypes in every chunk; given a metadata, the columns with a
:class:`ColumnType` are parsed into their storage dtypes instead (``Decimal``, dates, UTC
timestamps...). :class:`CSVTarget` writes values in the form that reader reads back exactly, and
commits all tables at once (:mod:`syntho_hive.connectors.files._folder`).

CSV has no way to tell an empty string from a missing value: both are an empty cell, read back as
missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from syntho_hive.connectors._arrow_types import column_type_of_series
from syntho_hive.connectors.base import DEFAULT_CHUNK_ROWS, IfExists, TableTarget, TargetWriter, check_if_exists
from syntho_hive.connectors.files._chunks import CsvChunks, write_all
from syntho_hive.connectors.files._csv_text import format_typed_column, iter_csv
from syntho_hive.connectors.files._folder import (FolderSource, FolderWriter, Staged, existing_entries,
                                                 open_folder, ordered_like)
from syntho_hive.connectors.files._table_files import CSV_SUFFIXES, READ_ERRORS
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata import Metadata

__all__ = ["CSVSource", "CSVTarget"]

Compression = Literal["gzip", "bz2", "xz"]
#: File suffix per compression a target writes.
_SUFFIX: dict[str | None, str] = {None: ".csv", "gzip": ".csv.gz", "bz2": ".csv.bz2", "xz": ".csv.xz"}
_COMPRESSION_OF = {suffix: compression for compression, suffix in _SUFFIX.items()}


def _csv_name(name: str) -> tuple[str, str] | None:
    """``(table, suffix)`` for a CSV file name, else ``None``."""
    lower = name.lower()
    for suffix in sorted(CSV_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], lower[-len(suffix):]
    return None


class CSVSource(FolderSource):
    """Read tables from a folder of CSV files (``<name>.csv``, optionally compressed).

    Example:
        >>> source = CSVSource("exports/")
        >>> metadata = Metadata.from_source(source)

    Args:
        root: The folder (``None`` only with ``tables``).
        tables: Explicit ``{table: path}`` (relative paths from ``root``).
        metadata: Storage types to parse columns with (e.g. the metadata the files were written
            with): a column with a :class:`ColumnType` there is read in its storage dtype; the
            others as :func:`read_csv` decides from their values.
    """

    format_name = "CSV"

    def __init__(self, root: str | os.PathLike[str] | None = None, *,
                 tables: Mapping[str, str | os.PathLike[str]] | None = None,
                 metadata: "Metadata | None" = None) -> None:
        super().__init__(root, tables=tables)
        self.metadata = metadata

    def _table_of(self, entry: Path) -> str | None:
        named = _csv_name(entry.name) if entry.is_file() else None
        return named[0] if named is not None else None

    def _declared(self, table: str) -> dict[str, ColumnType]:
        if self.metadata is None or table not in self.metadata.tables:
            return {}
        return dict(self.metadata.tables[table].column_types)

    def iter_table(self, table: str, *, columns: Sequence[str] | None = None,
                   chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Stream ``table`` in chunks of at most ``chunk_rows`` rows (two passes over the file: types, then rows).

        Raises:
            SchemaError: ``table`` or a column is missing.
            SerializationError: The root or the file is missing or cannot be read.
        """
        if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
            raise SchemaError(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")
        path = self._path(table)
        header = self._header(table, path)
        if columns is not None:
            missing = [column for column in columns if column not in header]
            if missing:
                raise SchemaError(f"Table {table!r} ({str(path)!r}) has no column(s) {missing}; its columns: "
                                  f"{header}.")
        return self._chunks(table, path, None if columns is None else list(columns), chunk_rows)

    def _chunks(self, table: str, path: Path, columns: list[str] | None, chunk_rows: int) -> Iterator[pd.DataFrame]:
        try:
            for chunk in iter_csv(path, chunk_rows, self._declared(table)):
                yield chunk if columns is None else chunk[columns]
        except SerializationError:
            raise
        except READ_ERRORS as exc:
            raise SerializationError(f"Cannot read CSV file {str(path)!r} (table {table!r}): {exc}") from exc

    def _header(self, table: str, path: Path) -> list[str]:
        try:
            return [str(name) for name in pd.read_csv(path, nrows=0, dtype=str).columns]
        except READ_ERRORS as exc:
            raise SerializationError(f"Cannot read CSV file {str(path)!r} (table {table!r}): {exc}") from exc

    def _column_types(self, table: str, frame: pd.DataFrame) -> dict[str, ColumnType]:
        declared = self._declared(table)
        types: dict[str, ColumnType] = {}
        for name in frame.columns:
            column_type = declared.get(str(name)) or column_type_of_series(frame[name])
            if column_type is not None:
                types[str(name)] = column_type
        return types


class CSVTarget(TableTarget):
    """Write tables as CSV files ``<root>/<table>.csv`` (``.csv.gz`` etc. with ``compression``).

    Values are written in the form :class:`CSVSource` reads back exactly: decimals in plain
    notation, dates ``YYYY-MM-DD``, timestamps ISO with microseconds (``+00:00`` when time-zone
    aware), binary values in hexadecimal (for the columns with a :class:`ColumnType`; others as
    pandas writes them). Every table is staged and all are moved into place at commit.

    ``if_exists``: ``"fail"`` (a table that exists stops :meth:`open`), ``"replace"`` (the old file is
    moved aside, and deleted once every table is in place), ``"append"`` (the existing file is
    copied and the rows added below, without a header and in its compression; the rows must have
    the file's columns; ``Synthesizer.sample`` continues the keys the file holds, see
    :meth:`TargetWriter.existing_rows`, so none repeats).

    Args:
        root: The folder (created when missing).
        if_exists: What to do with a table that exists.
        compression: ``None``, ``"gzip"``, ``"bz2"`` or ``"xz"``.

    Raises:
        SchemaError: A bad ``if_exists`` or ``compression``.
    """

    def __init__(self, root: str | os.PathLike[str], *, if_exists: IfExists = "fail",
                 compression: Compression | None = None) -> None:
        if compression not in _SUFFIX:
            raise SchemaError(f"compression must be None, 'gzip', 'bz2' or 'xz', got {compression!r}.")
        self.root = Path(root)
        self.if_exists = check_if_exists(if_exists)
        self.compression = compression
        self.description = str(self.root)

    def entries(self, table: str) -> list[Path]:
        """The CSV files that hold ``table`` in the root now."""
        return [path for path in (self.root / f"{table}{suffix}" for suffix in CSV_SUFFIXES) if path.exists()]

    def open(self, metadata: "Metadata", tables: Sequence[str]) -> TargetWriter:
        """Check the folder and start writing ``tables``.

        Raises:
            SchemaError: A table is not in ``metadata`` or has an unusable name.
            SerializationError: A table exists and ``if_exists="fail"``, an append cannot go to the
                existing file, or the folder cannot be created.
        """
        where = f"CSV target {str(self.root)!r}"
        tables = open_folder(self.root, metadata, tables, {}, where)
        existing = existing_entries(self.entries, tables, self.if_exists, where)
        if self.if_exists == "append":
            for name, paths in existing.items():
                if len(paths) > 1 or (paths and paths[0].name.lower().endswith(".zip")):
                    raise SerializationError(f"Cannot append to table {name!r} of the {where}: "
                                             f"{', '.join(p.name for p in paths)} (append needs one .csv, .csv.gz, "
                                             ".csv.bz2 or .csv.xz file).")
        return _CSVWriter(self, metadata, tables, existing)


class _CSVWriter(FolderWriter):
    def __init__(self, target: CSVTarget, metadata: "Metadata", tables: Sequence[str],
                 existing: dict[str, list[Path]]) -> None:
        super().__init__(target.root, tables, target.if_exists, target.entries, "csv")
        self.target = target
        self.types = {name: dict(metadata.tables[name].column_types) for name in tables}
        self.existing = existing
        self.metadata = metadata

    def _source(self, table: str, path: Path) -> CSVSource:
        return CSVSource(tables={table: path}, metadata=self.metadata)

    def _stage(self, table: str, chunks: Iterable[pd.DataFrame]) -> Staged:
        where = f"table {table!r} of the CSV target {str(self.root)!r}"
        types = self.types[table]
        appended = self.existing[table][0] if self.target.if_exists == "append" and self.existing[table] else None
        header: list[str] | None = None
        if appended is not None:
            try:
                header = [str(c) for c in pd.read_csv(appended, nrows=0, dtype=str).columns]
            except READ_ERRORS as exc:
                raise SerializationError(f"Cannot read {str(appended)!r} to append to it: {exc}") from exc
            compression = _COMPRESSION_OF[_csv_name(appended.name)[1]]  # type: ignore[index]
            staged = self.staging / appended.name
            try:
                shutil.copyfile(appended, staged)
            except OSError as exc:
                raise SerializationError(f"Cannot copy {str(appended)!r} to append to it: {exc}") from exc
        else:
            compression = self.target.compression
            staged = self.staging / f"{table}{_SUFFIX[compression]}"

        def format_chunk(chunk: pd.DataFrame) -> pd.DataFrame:
            if header is not None:
                chunk = ordered_like(chunk, header, where)
            typed = [name for name in chunk.columns if str(name) in types]
            if not typed:
                return chunk
            text = chunk.copy(deep=False)
            for name in typed:
                text[name] = format_typed_column(chunk[name], types[str(name)])
            return text

        try:
            writer = CsvChunks(staged, where, compression=compression, append=appended is not None,
                               format_chunk=format_chunk)
        except OSError as exc:
            raise SerializationError(f"Cannot write {where}: {exc}") from exc
        write_all(writer, chunks)
        if appended is not None:
            return Staged(staged, appended, replaced=[appended])
        return Staged(staged, self.root / staged.name)
