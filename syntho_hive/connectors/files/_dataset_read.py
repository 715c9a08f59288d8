"""Streaming an Arrow dataset (Parquet files and folders, Delta tables) as frames in the storage dtypes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from syntho_hive.connectors._arrow_types import arrow_to_frame, column_type_of
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SchemaError, SerializationError

__all__ = ["iter_dataset", "selected_columns", "column_types_of"]

#: Record batches read ahead per file and files read ahead: memory stays at a few chunks.
_BATCH_READAHEAD = 2
_FRAGMENT_READAHEAD = 1


def selected_columns(schema: pa.Schema, names: Sequence[str], columns: Sequence[str] | None, *,
                     table: str, where: str) -> list[str]:
    """``columns`` (``None``: ``names``, the table's columns in order), each checked against ``names``.

    Raises:
        SchemaError: A column is not in the table (the message lists the table's columns).
    """
    if columns is None:
        return list(names)
    missing = [column for column in columns if column not in names]
    if missing:
        raise SchemaError(f"Table {table!r} ({where}) has no column(s) {missing}; its columns: {list(names)}.")
    return list(columns)


def iter_dataset(dataset: ds.Dataset, columns: Sequence[str], chunk_rows: int, *, table: str,
                 where: str) -> Iterator[pd.DataFrame]:
    """Stream ``columns`` of ``dataset`` in chunks of at most ``chunk_rows`` rows (one record batch each).

    Every chunk has the dtypes of the dataset's schema (types and nullability); a dataset without
    rows yields one empty chunk.

    Raises:
        SchemaError: ``chunk_rows`` is not a positive integer.
        SerializationError: A file cannot be read (the message names ``where``).
    """
    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
        raise SchemaError(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")
    schema = pa.schema([dataset.schema.field(name) for name in columns])
    seen_rows = False
    try:
        batches = dataset.to_batches(columns=list(columns), batch_size=chunk_rows, batch_readahead=_BATCH_READAHEAD,
                                     fragment_readahead=_FRAGMENT_READAHEAD)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            seen_rows = True
            yield arrow_to_frame(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
    except (OSError, pa.ArrowException) as exc:
        if isinstance(exc, SerializationError):
            raise
        raise SerializationError(f"Cannot read table {table!r} from {where}: {exc}") from exc
    if not seen_rows:
        yield arrow_to_frame(schema.empty_table())


def column_types_of(schema: pa.Schema, names: Sequence[str]) -> dict[str, ColumnType]:
    """The :class:`ColumnType` of each of ``names`` the Arrow schema can describe."""
    types = {}
    for name in names:
        column_type = column_type_of(schema.field(name))
        if column_type is not None:
            types[name] = column_type
    return types
