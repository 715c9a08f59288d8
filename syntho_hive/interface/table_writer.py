"""Write one generated table to a Parquet or CSV file chunk by chunk, atomically.

Each chunk is appended as soon as it arrives and can then be released: Parquet gets one row
group per chunk through :class:`pyarrow.parquet.ParquetWriter`, CSV gets its header once.
Everything is written to a temporary file beside the target and renamed at the end, so an
error (in writing, or in the generation feeding the chunks) leaves no partial file.

Parquet needs one schema for the whole file. It is taken from the first chunk; a later chunk
whose column was all-null in every earlier chunk (Arrow type ``null``) widens it: the row groups
written so far are copied, one at a time, into a file with the wider schema. Reading the file
back gives the same frame as writing the concatenated chunks in one go.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from syntho_hive._atomic import atomic_write
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError

__all__ = ["write_table_chunks"]

_log = get_logger(__name__)


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
        writer: _ParquetChunks | _CsvChunks = (_ParquetChunks(temporary, target) if output_format == "parquet"
                                               else _CsvChunks(temporary, target))
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.close()

    try:
        return atomic_write(target, write)
    except SerializationError:
        raise
    except OSError as exc:
        raise SerializationError(f"Cannot write table to {str(target)!r}: {exc}") from exc


class _CsvChunks:
    """CSV: the header with the first chunk, then rows only."""

    def __init__(self, path: Path, target: Path) -> None:
        self.target = target
        self._handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close/abort
        self._header = True

    def write(self, chunk: pd.DataFrame) -> None:
        try:
            chunk.to_csv(self._handle, index=False, header=self._header)
        except (OSError, ValueError, TypeError) as exc:
            raise SerializationError(f"Cannot write table to {str(self.target)!r}: {exc}") from exc
        self._header = False

    def close(self) -> None:
        self._handle.close()

    abort = close  # nothing to undo: the caller's atomic write discards the temporary file


class _ParquetChunks:
    """Parquet: one row group per chunk, one schema for the file (widened from ``null`` if needed)."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path = path
        self.target = target
        self.current = path  # the file being written (a sibling of ``path`` after a widening)
        self.widenings = 0
        self.schema: pa.Schema | None = None
        self.writer: pq.ParquetWriter | None = None

    def write(self, chunk: pd.DataFrame) -> None:
        try:
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if self.writer is None or self.schema is None:
                self.schema = table.schema
                self.writer = pq.ParquetWriter(self.current, self.schema)
            elif not table.schema.equals(self.schema, check_metadata=False):
                table = self._conform(table, self.schema)
            if table.num_rows:
                self.writer.write_table(table, row_group_size=table.num_rows)
        except (OSError, pa.ArrowException, ValueError, TypeError) as exc:
            raise SerializationError(f"Cannot write table to {str(self.target)!r}: {exc}") from exc

    def _conform(self, table: pa.Table, schema: pa.Schema) -> pa.Table:
        """``table`` in the file's schema, widening the file first where it only had nulls."""
        if table.schema.names != schema.names:
            raise SerializationError(f"Cannot write table to {str(self.target)!r}: a chunk has columns "
                                     f"{table.schema.names}, the file {schema.names}. This is a bug in "
                                     "SynthoHive; please report it with the schema.")
        widen = [new.name for old, new in zip(schema, table.schema)
                 if pa.types.is_null(old.type) and not pa.types.is_null(new.type)]
        if widen:
            fields = [new if new.name in widen else old for old, new in zip(schema, table.schema)]
            schema = pa.schema(fields, metadata=table.schema.metadata)
            self._widen(schema, widen)
        try:
            return table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            differ = [f"{new.name}: {new.type} vs {old.type}" for new, old in zip(table.schema, schema)
                      if not new.type.equals(old.type)]
            raise SerializationError(f"Cannot write table to {str(self.target)!r}: a chunk's column types differ "
                                     f"from the file's ({', '.join(differ)}) and cannot be converted: {exc}. This "
                                     "is a bug in SynthoHive; please report it with the schema.") from exc

    def _widen(self, schema: pa.Schema, columns: list[str]) -> None:
        """Copy the row groups written so far, one at a time, into a new file with ``schema``."""
        if self.writer is not None:
            self.writer.close()
        source = self.current
        self.widenings += 1
        self.current = self.path.with_name(f"{self.path.name}.{self.widenings}")
        self.writer = pq.ParquetWriter(self.current, schema)
        written = pq.ParquetFile(source)
        try:
            for group in range(written.num_row_groups):
                self.writer.write_table(written.read_row_group(group).cast(schema))
        finally:
            written.close()
        if source != self.path:
            os.unlink(source)
        self.schema = schema
        _log.info("table_file_schema_widened", path=str(self.target), columns=columns,
                  reason="all-null column in the chunks written before")

    def close(self) -> None:
        try:
            if self.writer is None:  # no chunk at all: an empty file without columns
                pq.write_table(pa.table({}), self.path)
                return
            self.writer.close()
            if self.current != self.path:
                os.replace(self.current, self.path)
        except (OSError, pa.ArrowException) as exc:
            raise SerializationError(f"Cannot write table to {str(self.target)!r}: {exc}") from exc

    def abort(self) -> None:
        """Close and remove what was written (the caller's error goes on)."""
        try:
            if self.writer is not None:
                self.writer.close()
        except (OSError, pa.ArrowException) as exc:
            _log.warning("table_file_abort_close_failed", path=str(self.target), error=str(exc))
        if self.current != self.path and os.path.exists(self.current):
            os.unlink(self.current)
