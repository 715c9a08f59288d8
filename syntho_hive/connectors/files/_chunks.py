"""Write one table to a Parquet or CSV file chunk by chunk: memory flat, one row group per chunk.

Each chunk is appended as soon as it arrives and can then be released: Parquet gets one row
group per chunk through :class:`pyarrow.parquet.ParquetWriter`, CSV gets its header once.
:func:`write_table_chunks` writes everything to a temporary file beside the target and renames it
at the end, so an error (in writing, or in the generation feeding the chunks) leaves no partial
file. (Re-exported by :mod:`syntho_hive.interface.table_writer`; the file connectors use the
writers directly, into their staging folder.)

Parquet needs one schema for the whole file. It is taken from the first chunk (or given); a
later chunk widens it where the earlier chunks could not tell the type: a column that was
all-null (Arrow type ``null``) in every earlier chunk, a decimal column needing more digits, an
inferred NOT NULL column that now has a gap. The row groups written so far are then copied, one
at a time, into a file with the wider schema. Reading the file back gives the same frame as
writing the concatenated chunks in one go.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from syntho_hive._atomic import atomic_write
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError

__all__ = ["write_table_chunks", "ParquetChunks", "CsvChunks"]

_log = get_logger(__name__)
_OPENERS: dict[str | None, Callable[..., IO[str]]] = {
    None: open, "gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open,
}


def write_table_chunks(chunks: Iterable[pd.DataFrame], path: str | os.PathLike[str],
                       output_format: Literal["parquet", "csv"]) -> Path:
    """Append every chunk of one table to ``path`` as it comes, then move the file into place.

    Args:
        chunks: The table's rows, in order; every chunk has the same columns and dtypes. At
            least one chunk (possibly empty) is needed for the file to get its columns.
        path: Target file; its folder must exist.
        output_format: ``"parquet"`` or ``"csv"``.

    Returns:
        The target path.

    Raises:
        SerializationError: The file cannot be written, or a chunk's columns do not fit the
            file's schema. Errors raised while producing ``chunks`` propagate unchanged.
            On any error no partial or temporary file is left behind, and a file already at
            ``path`` stays as it was.
    """
    target = Path(path)

    def write(temporary: Path) -> None:
        writer: ParquetChunks | CsvChunks = (ParquetChunks(temporary, str(target)) if output_format == "parquet"
                                             else CsvChunks(temporary, str(target)))
        write_all(writer, chunks)

    try:
        return atomic_write(target, write)
    except SerializationError:
        raise
    except OSError as exc:
        raise SerializationError(f"Cannot write table to {str(target)!r}: {exc}") from exc


def write_all(writer: "ParquetChunks | CsvChunks", chunks: Iterable[pd.DataFrame]) -> None:
    """Write every chunk and close ``writer``; on any error (the chunks' own included) abort it and re-raise."""
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    writer.close()


class CsvChunks:
    """CSV: the header with the first chunk (unless appending), then rows only.

    Args:
        path: The file written (created, or appended to when ``append``).
        target: Where the table goes, for error messages.
        compression: ``None``, ``"gzip"``, ``"bz2"`` or ``"xz"`` (appending adds a compressed member).
        append: Add rows to the file at ``path`` without a header.
        format_chunk: Turns a chunk into the text to write (e.g. exact decimals, ISO timestamps).
    """

    def __init__(self, path: Path, target: str, *, compression: str | None = None, append: bool = False,
                 format_chunk: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> None:
        self.target = target
        self._format = format_chunk
        self._handle = _OPENERS[compression](path, "at" if append else "wt", encoding="utf-8", newline="")
        self._header = not append

    def write(self, chunk: pd.DataFrame) -> None:
        try:
            text = self._format(chunk) if self._format is not None else chunk
            text.to_csv(self._handle, index=False, header=self._header)
        except SerializationError:
            raise
        except (OSError, ValueError, TypeError) as exc:
            raise SerializationError(f"Cannot write table to {self.target!r}: {exc}") from exc
        self._header = False

    def close(self) -> None:
        self._handle.close()

    abort = close  # nothing to undo: the caller discards the file


class ParquetChunks:
    """Parquet: one row group per chunk (at most ``row_group_rows`` rows), one schema for the file.

    Args:
        path: The file written.
        target: Where the table goes, for error messages.
        to_arrow: Turns a chunk into an Arrow table (default: pandas' own conversion, with pandas
            metadata in the file).
        schema: The file's schema from the start (e.g. an existing file's, appended to); ``None``:
            the first chunk's. Chunks are cast to it (widened only as the module docstring says).
        row_group_rows: Most rows per row group (``None``: one row group per chunk).
    """

    def __init__(self, path: Path, target: str, *, to_arrow: Callable[[pd.DataFrame], pa.Table] | None = None,
                 schema: pa.Schema | None = None, row_group_rows: int | None = None) -> None:
        self.path = path
        self.target = target
        self.current = path  # the file being written (a sibling of ``path`` after a widening)
        self.widenings = 0
        self.schema = schema
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0
        self._to_arrow = to_arrow or (lambda chunk: pa.Table.from_pandas(chunk, preserve_index=False))
        self._row_group_rows = row_group_rows

    def copy_from(self, source: Path) -> None:
        """Start the file with every row group of the Parquet file ``source`` (schema: ``self.schema``)."""
        try:
            written = pq.ParquetFile(source)
            try:
                columns = self.schema.names if self.schema is not None else None  # no pandas index column
                for group in range(written.num_row_groups):
                    self._append(written.read_row_group(group, columns=columns))
            finally:
                written.close()
        except (OSError, pa.ArrowException) as exc:
            raise SerializationError(f"Cannot read {str(source)!r} to append to {self.target!r}: {exc}") from exc

    def write(self, chunk: pd.DataFrame) -> None:
        try:
            self._append(self._to_arrow(chunk))
        except SerializationError:
            raise
        except (OSError, pa.ArrowException, ValueError, TypeError) as exc:
            raise SerializationError(f"Cannot write table to {self.target!r}: {exc}") from exc

    def _append(self, table: pa.Table) -> None:
        if self.schema is None:
            self.schema = table.schema
        elif not table.schema.equals(self.schema, check_metadata=False):
            table = self._conform(table, self.schema)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.current, self.schema)
        if table.num_rows:
            self.writer.write_table(table, row_group_size=self._row_group_rows or table.num_rows)
            self.rows += table.num_rows

    def _conform(self, table: pa.Table, schema: pa.Schema) -> pa.Table:
        """``table`` in the file's schema, widening the file first where the chunks so far could not tell."""
        if table.schema.names != schema.names:
            raise SerializationError(f"Cannot write table to {self.target!r}: a chunk has columns "
                                     f"{table.schema.names}, the file {schema.names}. Every chunk of a table needs "
                                     "the same columns in the same order.")
        fields = [_wider(old, new, column.null_count) for old, new, column in zip(schema, table.schema, table.columns)]
        widen = [old.name for old, new in zip(schema, fields) if not old.equals(new)]
        if widen:
            schema = pa.schema(fields, metadata=schema.metadata)
            self._widen(schema, widen)
        try:
            return table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            differ = [f"{new.name}: {new.type} vs {old.type}" for new, old in zip(table.schema, schema)
                      if not new.type.equals(old.type)]
            raise SerializationError(f"Cannot write table to {self.target!r}: a chunk's column types differ "
                                     f"from the file's ({', '.join(differ) or 'nullability'}) and cannot be "
                                     f"converted: {exc}. Give every chunk the same dtypes (or declare the column's "
                                     "ColumnType in the metadata).") from exc

    def _widen(self, schema: pa.Schema, columns: list[str]) -> None:
        """Copy the row groups written so far, one at a time, into a new file with ``schema``."""
        if self.writer is not None:
            self.writer.close()
        source = self.current
        self.widenings += 1
        self.current = self.path.with_name(f"{self.path.name}.{self.widenings}")
        self.writer = pq.ParquetWriter(self.current, schema)
        if os.path.exists(source):
            written = pq.ParquetFile(source)
            try:
                for group in range(written.num_row_groups):
                    self.writer.write_table(written.read_row_group(group).cast(schema))
            finally:
                written.close()
        if source != self.path and os.path.exists(source):
            os.unlink(source)
        self.schema = schema
        _log.info("table_file_schema_widened", path=self.target, columns=columns,
                  reason="type not settled by the chunks written before")

    def close(self) -> pa.Schema | None:
        """Finish the file; returns its schema (``None``: no chunk came, the file has no columns)."""
        try:
            if self.writer is None:  # no chunk at all: an empty file with the given schema, or without columns
                pq.write_table((self.schema or pa.schema([])).empty_table(), self.path)
                return self.schema
            self.writer.close()
            if self.current != self.path:
                os.replace(self.current, self.path)
        except (OSError, pa.ArrowException) as exc:
            raise SerializationError(f"Cannot write table to {self.target!r}: {exc}") from exc
        return self.schema

    def abort(self) -> None:
        """Close and remove what was written (the caller's error goes on)."""
        try:
            if self.writer is not None:
                self.writer.close()
        except (OSError, pa.ArrowException) as exc:
            _log.warning("table_file_abort_close_failed", path=self.target, error=str(exc))
        if self.current != self.path and os.path.exists(self.current):
            os.unlink(self.current)


def _wider(old: pa.Field, new: pa.Field, nulls: int) -> pa.Field:
    """The field that holds the file's values and a new chunk's: ``old`` unless the chunk needs more."""
    field = old
    if pa.types.is_null(old.type) and not pa.types.is_null(new.type):
        field = old.with_type(new.type)
    elif pa.types.is_decimal(old.type) and pa.types.is_decimal(new.type) and not old.type.equals(new.type):
        scale = max(old.type.scale, new.type.scale)
        digits = max(old.type.precision - old.type.scale, new.type.precision - new.type.scale)
        precision = scale + digits
        if precision > old.type.precision or scale > old.type.scale:
            field = old.with_type(pa.decimal128(precision, scale) if precision <= 38
                                  else pa.decimal256(precision, scale))
    if not field.nullable and nulls:
        field = field.with_nullable(True)
    return field
