"""Stream a SQL query in chunks and build each chunk with the storage dtype contract.

The contract (the same for SQL, Parquet and Delta): an ``integer`` column is a numpy ``int8``..
``int64`` (``uint`` when unsigned) when it is NOT NULL and a pandas ``Int8``..``Int64`` when it is
nullable, exact beyond 2**53; ``float`` is ``float32``/``float64``; ``decimal`` an object column
of :class:`decimal.Decimal`; ``boolean`` is ``bool`` / ``"boolean"``; ``date`` and ``timestamp``
are ``datetime64[ns]`` (``datetime64[ns, UTC]`` with a time zone); ``string``, ``enum`` and
``json`` are object columns of ``str``; ``uuid`` canonical lowercase ``str``; ``time``
:class:`datetime.time`; ``binary`` ``bytes``. Nulls are ``None`` / ``NA`` / ``NaT`` / ``NaN``.
Every chunk of one query has the same dtypes, and a query without rows gives one empty frame
with them.

Rows are fetched with a server-side cursor (``stream_results``: a named cursor on psycopg, an
unbuffered ``SSCursor`` on PyMySQL; SQLite and DuckDB fetch lazily anyway), so only one chunk of
rows is in memory at a time. Columns are built from the fetched rows with numpy/pandas.
"""

from __future__ import annotations

import decimal
import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

__all__ = ["stream_select", "read_select", "storage_dtype"]

_CANONICAL_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def storage_dtype(column_type: ColumnType) -> Any:
    """The pandas dtype a column of ``column_type`` is read with.

    Args:
        column_type: The storage type.

    Returns:
        A numpy dtype, a pandas extension dtype or ``object``.
    """
    kind = column_type.kind
    if kind == "integer":
        bits = column_type.bits or 64
        if column_type.nullable:
            return pd.api.types.pandas_dtype(f"{'UInt' if column_type.unsigned else 'Int'}{bits}")
        return np.dtype(f"{'uint' if column_type.unsigned else 'int'}{bits}")
    if kind == "float":
        return np.dtype(np.float32 if column_type.bits == 32 else np.float64)
    if kind == "boolean":
        return pd.BooleanDtype() if column_type.nullable else np.dtype(bool)
    if kind == "date" or (kind == "timestamp" and not column_type.timezone):
        return np.dtype("datetime64[ns]")
    if kind == "timestamp":
        return pd.DatetimeTZDtype("ns", "UTC")
    return np.dtype(object)


def _bad(where: str, column: str, column_type: ColumnType, problem: str) -> SchemaError:
    return SchemaError(
        f"{where}, column {column!r} ({column_type.describe()}): {problem}. Fix the data, or override the "
        f"column's storage type in metadata.tables[...].column_types[{column!r}] (e.g. "
        "ColumnType(kind='string')) before reading.")


def _integers(values: Sequence[Any], column_type: ColumnType, where: str, column: str) -> Any:
    dtype = storage_dtype(column_type)
    inferred = ptypes.infer_dtype(values, skipna=True)
    if inferred not in ("integer", "empty", "boolean", "decimal"):
        raise _bad(where, column, column_type, f"holds non-integer values ({inferred})")
    if inferred == "decimal" and any(value is not None and value != int(value) for value in values):
        raise _bad(where, column, column_type, "holds fractional values")
    try:
        if column_type.nullable:
            return pd.array(values, dtype=dtype)
        return np.array(values, dtype=dtype)
    except OverflowError:
        raise _bad(where, column, column_type, "holds values beyond its width") from None
    except TypeError:
        raise _bad(where, column, column_type, "declared NOT NULL, but the query returned nulls") from None


def _floats(values: Sequence[Any], column_type: ColumnType, where: str, column: str) -> Any:
    try:
        return np.array(values, dtype=np.float64).astype(storage_dtype(column_type), copy=False)
    except (TypeError, ValueError):
        raise _bad(where, column, column_type, "holds values that are not numbers") from None


def _decimals(values: Sequence[Any], column_type: ColumnType, where: str, column: str) -> Any:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    if ptypes.infer_dtype(out, skipna=True) not in ("decimal", "empty"):
        try:
            for index, value in enumerate(out):
                if value is not None and not isinstance(value, decimal.Decimal):
                    out[index] = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise _bad(where, column, column_type, "holds values that are not numbers") from None
    odd = sorted({str(value) for value in out if value is not None and not value.is_finite()})
    if odd:
        # Decimal('NaN') would be read as a missing value (and a NOT NULL column would get synthetic nulls).
        raise SchemaError(
            f"{where}, column {column!r} ({column_type.describe()}) holds {'/'.join(odd)} values, which are not "
            "numbers SynthoHive can model" + (" (NaN would be read as missing)" if "NaN" in odd else "") + ". Read "
            "the column through a query that turns them into NULL or a number, e.g. SQLSource(..., queries="
            f"{{'<table>': \"SELECT ..., NULLIF({column}, '{odd[0]}') AS {column} FROM <table>\"}}), or fix the data.")
    return out


def _booleans(values: Sequence[Any], column_type: ColumnType, where: str, column: str) -> Any:
    inferred = ptypes.infer_dtype(values, skipna=True)
    if inferred not in ("boolean", "integer", "empty"):
        raise _bad(where, column, column_type, f"holds non-boolean values ({inferred})")
    if inferred == "integer":
        array = np.array([value for value in values if value is not None], dtype=np.int64)
        if ((array != 0) & (array != 1)).any():
            raise _bad(where, column, column_type, "holds integers other than 0 and 1")
    if column_type.nullable:
        return pd.array(values, dtype="boolean")
    if any(value is None for value in values):
        raise _bad(where, column, column_type, "declared NOT NULL, but the query returned nulls")
    return np.array(values, dtype=bool)


def _datetimes(values: Sequence[Any], column_type: ColumnType, where: str, column: str) -> Any:
    aware = column_type.kind == "timestamp" and column_type.timezone
    try:
        converted = pd.to_datetime(list(values), utc=aware)
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        raise _bad(where, column, column_type, "holds dates outside 1677-09-21..2262-04-11, which pandas "
                   "cannot represent in nanoseconds") from None
    except (TypeError, ValueError) as exc:
        raise _bad(where, column, column_type, f"holds values that are not dates ({exc})") from None
    if not aware and converted.tz is not None:
        converted = converted.tz_convert("UTC").tz_localize(None)
    return converted.astype(storage_dtype(column_type))


def _to_text(value: Any, kind: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (set, frozenset)):
        return ",".join(sorted(map(str, value)))
    if kind == "json" or isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def _texts(values: Sequence[Any], kind: str) -> Any:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    if ptypes.infer_dtype(out, skipna=True) not in ("string", "empty"):
        out[:] = [_to_text(value, kind) for value in out]
    return _shared_repeats(out)


def _shared_repeats(values: np.ndarray) -> np.ndarray:
    """``values`` with equal strings pointing at one object when the column repeats itself.

    A driver returns a new ``str`` object for every cell; in a low-cardinality column (codes,
    categories, cities) that is most of a table's memory. Sharing one object per distinct value
    keeps the values (and the dtype) and frees the copies as the chunk is built.
    """
    if len(values) < 64:
        return values
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) > len(values) // 2:
        return values
    shared = np.empty(len(uniques) + 1, dtype=object)
    shared[:-1] = uniques
    shared[-1] = None  # code -1: a null cell
    return shared[codes]


def _uuids(values: Sequence[Any], column_type: ColumnType, where: str, column: str) -> Any:
    series = pd.Series(_texts(values, "uuid"), dtype=object)
    present = series.notna()
    if not present.any():
        return series.to_numpy(dtype=object)
    text = series[present].str.lower()
    odd = ~text.str.fullmatch(_CANONICAL_UUID)
    if odd.any():
        try:
            text[odd] = [str(uuid.UUID(value)) for value in text[odd]]
        except ValueError:
            raise _bad(where, column, column_type, "holds values that are not UUIDs") from None
    series[present] = text
    return series.to_numpy(dtype=object)


def _binaries(values: Sequence[Any]) -> Any:
    out = np.empty(len(values), dtype=object)
    out[:] = [bytes(value) if isinstance(value, (bytearray, memoryview)) else value for value in values]
    return out


def _objects(values: Sequence[Any]) -> Any:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _column(values: Sequence[Any], column_type: ColumnType, where: str, column: str) -> Any:
    kind = column_type.kind
    if kind == "integer":
        return _integers(values, column_type, where, column)
    if kind == "float":
        return _floats(values, column_type, where, column)
    if kind == "decimal":
        return _decimals(values, column_type, where, column)
    if kind == "boolean":
        return _booleans(values, column_type, where, column)
    if kind in ("date", "timestamp"):
        return _datetimes(values, column_type, where, column)
    if kind == "uuid":
        return _uuids(values, column_type, where, column)
    if kind == "binary":
        return _binaries(values)
    if kind == "time":
        return _objects(values)
    return _texts(values, kind)


def _columns_from_rows(rows: Sequence[Sequence[Any]], columns: Sequence[str],
                       column_types: Sequence[ColumnType], *, where: str) -> list[Any]:
    """One array per column of the fetched ``rows``, by storage type (see the module's contract); each column's
    values are released as it is built.

    Raises:
        SchemaError: A value does not fit its column's storage type.
    """
    transposed = list(zip(*rows)) if rows else [() for _ in columns]
    built = []
    for position, (name, column_type) in enumerate(zip(columns, column_types)):
        built.append(_column(transposed[position], column_type, where, name))
        transposed[position] = ()
    return built


def _frame(arrays: Sequence[Any], columns: Sequence[str], rows: int) -> pd.DataFrame:
    """A frame over ``arrays`` without copying them (``copy=False`` also keeps them unconsolidated)."""
    data = {position: array for position, array in enumerate(arrays)}
    frame = pd.DataFrame(data, index=pd.RangeIndex(rows), copy=False)
    frame.columns = pd.Index(list(columns), dtype=object)
    return frame


def _with_json_as_text(statement: Any, column_types: Mapping[str, ColumnType]) -> Any:
    """``statement`` selecting JSON columns as their text (drivers would decode them otherwise)."""
    import sqlalchemy as sa

    if not any(column_type.kind == "json" for column_type in column_types.values()):
        return statement
    source = statement.subquery("shv_json")
    return sa.select(*[sa.cast(column, sa.Text).label(column.name)
                       if column.name in column_types and column_types[column.name].kind == "json" else column
                       for column in source.c])


def _with_exact_decimals(statement: Any, column_types: Mapping[str, ColumnType]) -> Any:
    """``statement`` reading its decimal columns as exact Decimals (no float, no rounding).

    The column types of a reflected table are the dialect's own (``NUMERIC`` on SQLite turns each
    value into a float quantized to 10 digits), so they are replaced here for the result only: no
    CAST is sent to the database.
    """
    import sqlalchemy as sa

    from syntho_hive.connectors.sql.types import exact_decimal_type

    if not isinstance(statement, sa.Select):
        return statement
    selected = list(statement.selected_columns)
    decimals = {name for name, column_type in column_types.items() if column_type.kind == "decimal"}
    if not any(getattr(column, "name", None) in decimals for column in selected):
        return statement
    return statement.with_only_columns(
        *[sa.type_coerce(column, exact_decimal_type(column_types[column.name].precision,
                                                        column_types[column.name].scale))
          .label(column.name) if column.name in decimals else column
          for column in selected], maintain_column_froms=True)


def stream_select(connection: "sa.Connection", statement: "sa.Select | sa.Table | Any",
                  column_types: Mapping[str, ColumnType], *, chunk_rows: int, where: str) -> Iterator[pd.DataFrame]:
    """Run ``statement`` on ``connection`` and yield its rows in chunks of at most ``chunk_rows``.

    The result is streamed with a server-side cursor and consumed entirely (or closed) before
    this generator returns, so the next statement can run on the same connection.

    Args:
        connection: An open connection (temporary tables of it stay visible).
        statement: A ``Select`` (a ``Table`` selects all its columns).
        column_types: The storage type of every column the statement returns, by name.
        chunk_rows: Rows per chunk (at least 1).
        where: The table or query, for messages.

    Yields:
        Frames with the contract's dtypes; one empty frame when there are no rows.

    Raises:
        SchemaError: A column has no storage type, or a value does not fit it.
    """
    for columns, arrays, rows in _stream_arrays(connection, statement, column_types, chunk_rows=chunk_rows,
                                                where=where):
        yield _frame(arrays, columns, rows)


def read_select(connection: "sa.Connection", statement: "sa.Select | sa.Table | Any",
                column_types: Mapping[str, ColumnType], *, chunk_rows: int, where: str) -> pd.DataFrame:
    """The whole result of ``statement`` as one frame, streamed in chunks and put together column by column.

    Peak memory stays near the result's own size: chunks are kept as column arrays (no frame
    copies), and each column is concatenated and its pieces released before the next one.

    Args / Raises: as :func:`stream_select`.

    Returns:
        The frame, with the contract's dtypes.
    """
    pieces: list[list[Any]] = []
    columns: list[str] = []
    total = 0
    for columns, arrays, rows in _stream_arrays(connection, statement, column_types, chunk_rows=chunk_rows,
                                                where=where):
        pieces.append(list(arrays))
        total += rows
    if len(pieces) == 1:
        return _frame(pieces[0], columns, total)
    whole = []
    for position in range(len(columns)):
        parts = [chunk[position] for chunk in pieces]
        for chunk in pieces:
            chunk[position] = None
        if isinstance(parts[0], np.ndarray):
            whole.append(np.concatenate(parts))
        else:  # pandas arrays and indexes (nullable integers and booleans, datetimes)
            whole.append(pd.concat([pd.Series(part, copy=False) for part in parts], ignore_index=True).array)
        del parts
    return _frame(whole, columns, total)


# Words of a driver's conversion error that point at the columns of a storage kind.
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "datetime"), "date": ("date",), "time": ("time",), "decimal": ("numeric", "decimal"),
    "integer": ("int", "integer", "bigint"), "float": ("float", "double", "real"), "uuid": ("uuid",),
    "json": ("json", "jsonb"), "boolean": ("bool", "boolean"), "binary": ("bytea", "blob"),
}


def _from_server(error: BaseException) -> bool:
    """Whether a driver's error comes from the server (a SQLSTATE, or MySQL's error number), not from
    the driver converting a fetched value."""
    args = getattr(error, "args", ())
    return getattr(error, "sqlstate", None) is not None or bool(args) and isinstance(args[0], int)


def _unconvertible(exc: BaseException, columns: Sequence[str], types: Sequence[ColumnType],
                   where: str) -> SchemaError:
    """The error for a value the driver could not turn into a Python object while fetching.

    psycopg, for one, cannot load PostgreSQL's ``'infinity'`` timestamps into ``datetime``: its
    message names the type, not the column, so the columns of that kind are named.
    """
    from syntho_hive.connectors.sql.engine import redact

    detail = redact(" ".join(str(getattr(exc, "orig", None) or exc).split()))[:300]
    words = set(re.findall(r"[a-z]+", detail.lower()))
    suspects = [f"{name!r} ({column_type.describe()})" for name, column_type in zip(columns, types)
                if words & set(_KIND_WORDS.get(column_type.kind, ()))]
    if len(suspects) == 1:
        what = f"a value of column {suspects[0]}"
    elif suspects:
        what = f"a value of one of the columns {', '.join(suspects)}"
    else:
        what = "a value of one of its columns"
    example = ("CASE WHEN isfinite(col) THEN col END AS col" if "infinity" in detail.lower()
               else "CAST(col AS TEXT) AS col")
    return SchemaError(
        f"{where}: the database driver cannot turn {what} into a Python value ({detail}). Fix: read the table "
        "through a query that leaves such rows out or converts the column, e.g. SQLSource(..., queries="
        f"{{'<table>': \"SELECT ..., {example} FROM <table>\"}}), or leave the column out of the metadata.")


def _stream_arrays(connection: "sa.Connection", statement: "sa.Select | sa.Table | Any",
                   column_types: Mapping[str, ColumnType], *, chunk_rows: int,
                   where: str) -> Iterator[tuple[list[str], list[Any], int]]:
    """``(columns, one array per column, rows)`` per chunk of ``statement``'s result (see :func:`stream_select`)."""
    import sqlalchemy as sa

    if chunk_rows < 1:
        raise SchemaError(f"chunk_rows must be at least 1, got {chunk_rows}.")
    if isinstance(statement, sa.Table):
        statement = sa.select(*statement.c)
    statement = _with_exact_decimals(_with_json_as_text(statement, column_types), column_types)
    streaming = connection.execution_options(stream_results=True, yield_per=chunk_rows)
    result = streaming.execute(statement)
    try:
        columns = list(result.keys())
        missing = [name for name in columns if name not in column_types]
        if missing:
            raise SchemaError(f"{where}: no storage type for column(s) {missing}; known: {sorted(column_types)}.")
        types = [column_types[name] for name in columns]
        produced = False
        batches = result.partitions(chunk_rows)
        while True:
            try:
                rows = next(batches, None)
            except sa.exc.DataError as exc:
                if _from_server(exc.orig):
                    raise  # the server's error (connection_errors reports it)
                raise _unconvertible(exc, columns, types, where) from None
            if rows is None:
                break
            produced = True
            count = len(rows)
            arrays = _columns_from_rows(rows, columns, types, where=where)
            del rows
            yield columns, arrays, count
        if not produced:
            yield columns, _columns_from_rows([], columns, types, where=where), 0
    finally:
        result.close()
