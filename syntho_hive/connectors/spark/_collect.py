"""Bringing Spark rows to the driver as pandas frames in the storage dtypes, through Arrow.

:func:`collect_frame` collects a (small) DataFrame whole with ``DataFrame.toArrow()``;
:func:`iter_frames` streams a large one partition by partition: each partition's Arrow batches are
cut into chunks of at most ``chunk_rows`` rows on the executors, serialised as Arrow IPC, and
fetched one partition at a time with ``toLocalIterator`` (the driver holds one partition's
chunks at most). Both give every column the Arrow type of its :class:`ColumnType`
(:func:`~syntho_hive.connectors.spark.session.arrow_field_for`) and convert with the file
connectors' :func:`~syntho_hive.connectors._arrow_types.arrow_to_frame`, so every chunk of a table
has the same dtypes, whatever its values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from syntho_hive.connectors._arrow_types import arrow_to_frame
from syntho_hive.connectors.spark.session import arrow_schema_for, column_type_of, is_supported
from syntho_hive.exceptions import SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, DataFrame

__all__ = ["column", "readable", "collect_frame", "iter_frames"]

_CHUNK_COLUMN = "synthohive_arrow_chunk"


def column(name: str) -> "Column":
    """The column ``name`` taken literally (a dot or a space in it is part of the name)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def readable(frame: "DataFrame", *, times: bool = True) -> "DataFrame":
    """``frame`` with every column of a type without a ColumnType (arrays, maps, structs,
    intervals...) cast to ``STRING``; the other columns untouched.

    Args:
        frame: The rows.
        times: Keep ``TIME`` columns; ``False`` casts them to ``STRING`` too (what the file writers
            write: Delta Lake has no time type).
    """
    fields = frame.schema.fields
    kept = [is_supported(f.dataType) and (times or column_type_of(f).kind != "time") for f in fields]
    if all(kept):
        return frame
    return frame.select(*(column(f.name) if keep else column(f.name).cast("string").alias(f.name)
                          for f, keep in zip(fields, kept)))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s types (e.g. Spark's ``Etc/UTC`` zone as ``UTC``) and nullability."""
    arrays = [data if data.type.equals(field.type) else data.cast(field.type)
              for data, field in zip(table.columns, schema)]
    return pa.Table.from_arrays(arrays, schema=schema)


def collect_frame(frame: "DataFrame", where: str | None = None) -> pd.DataFrame:
    """Every row of ``frame`` on the driver, in the storage dtypes (``toArrow``; for small results).

    Args:
        frame: The rows.
        where: What they are, for an error (``"Spark table 'orders'"``).

    Raises:
        SerializationError: A date or timestamp outside what ``datetime64[ns]`` holds.
    """
    frame = readable(frame)
    schema = arrow_schema_for(frame.schema)
    return _to_frame(frame.toArrow(), schema, where)


def _to_frame(table: pa.Table, schema: pa.Schema, where: str | None) -> pd.DataFrame:
    """``table`` conformed to ``schema``, as pandas; a value pandas cannot hold names ``where``."""
    try:
        return arrow_to_frame(_conform(table, schema))
    except SerializationError as exc:
        if where is None:
            raise
        raise SerializationError(f"{where}: {exc}") from exc


def _ipc_encoder(chunk_rows: int) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The function each partition runs: its record batches as IPC chunks of ``chunk_rows`` rows.

    It is a closure (pickled by value), so the executors need pyarrow but not SynthoHive.
    """

    def encode(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as arrow

        pending: list[Any] = []
        count = 0

        def flush() -> Any:
            sink = arrow.BufferOutputStream()
            with arrow.ipc.new_stream(sink, pending[0].schema) as writer:
                for piece in pending:
                    writer.write_batch(piece)
            pending.clear()
            return arrow.RecordBatch.from_pydict({_CHUNK_COLUMN: [sink.getvalue().to_pybytes()]})

        for batch in batches:
            offset = 0
            while offset < batch.num_rows:
                take = min(chunk_rows - count, batch.num_rows - offset)
                pending.append(batch.slice(offset, take))
                count += take
                offset += take
                if count == chunk_rows:
                    count = 0
                    yield flush()
        if count:
            yield flush()

    return encode


def iter_frames(frame: "DataFrame", chunk_rows: int, where: str | None = None) -> Iterator[pd.DataFrame]:
    """Stream ``frame`` to the driver in chunks of at most ``chunk_rows`` rows (see the module docstring).

    A DataFrame without rows yields one empty chunk with its columns and dtypes.

    Raises:
        SerializationError: A date or timestamp outside what ``datetime64[ns]`` holds (``where``: what
            the rows are, for the message).
    """
    frame = readable(frame)
    schema = arrow_schema_for(frame.schema)
    encoded = frame.mapInArrow(_ipc_encoder(chunk_rows), f"{_CHUNK_COLUMN} binary")
    empty = True
    for row in encoded.toLocalIterator():
        with pa.ipc.open_stream(row[0]) as reader:
            table = reader.read_all()
        empty = False
        yield _to_frame(table, schema, where)
    if empty:
        yield arrow_to_frame(schema.empty_table())
