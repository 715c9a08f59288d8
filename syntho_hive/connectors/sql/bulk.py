"""Bulk loading of pandas chunks into an existing table, one loader per database.

Never row-by-row ORM inserts:

- PostgreSQL: one ``COPY <table> (<columns>) FROM STDIN`` (text format) per table over all its
  chunks, rows written with psycopg 3's ``Copy.write_row`` (its C implementation; measured faster
  than building the text or CSV stream in Python or with Arrow's CSV writer). Every value is sent
  as text that PostgreSQL parses with the column's type, so decimals, 64-bit integers, time
  zones and unicode stay exact. Foreign keys that exist on the table are checked at the end of
  the COPY statement, so a self-referencing row may come before its parent.
- DuckDB: each chunk becomes an Arrow table with the exact Arrow types (``decimal128(p, s)``,
  ``timestamp[us, UTC]``...), registered on the raw connection and inserted with
  ``INSERT INTO <table> (<columns>) SELECT <columns> FROM <view>``.
- MariaDB/MySQL: PyMySQL's ``executemany`` of one ``INSERT ... VALUES (%s, ...)`` per batch of
  :data:`MYSQL_BATCH_ROWS` rows, which PyMySQL sends as multi-row INSERT statements; or, when the
  connection was opened with ``local_infile`` (``?local_infile=1`` in the URL) ``LOAD DATA LOCAL
  INFILE`` of a CSV file written by Arrow (about 4 times faster; the server must allow
  ``local_infile``).
- SQLite: ``executemany`` of one INSERT.

Identifiers are quoted by SQLAlchemy's identifier preparer; values are always bound (or sent in
the COPY/CSV stream), never written into SQL text.

Values follow the storage dtype contract (see :mod:`syntho_hive.connectors.base`): integers
(nullable ``Int64`` with ``NA`` -> NULL), floats (NaN -> NULL), ``Decimal`` objects (a value
with more decimals than the column's scale is rounded half away from zero to it, as PostgreSQL and MariaDB do),
booleans, ``datetime64[ns]`` (stored with microseconds), ``datetime64[ns, UTC]`` (stored as
the instant; in UTC on MariaDB and SQLite), uuid strings, ``datetime.time``, bytes.
"""

from __future__ import annotations

import decimal
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from syntho_hive._checks import is_int
from syntho_hive._optional import import_or_raise
from syntho_hive.connectors.sql.ddl import sql_name
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    import sqlalchemy as sa

__all__ = ["load_chunks", "python_values", "arrow_table", "mysql_local_infile", "MYSQL_BATCH_ROWS"]

_log = get_logger(__name__)

#: Rows per ``executemany`` call on MariaDB/MySQL.
MYSQL_BATCH_ROWS = 5_000
_DUCKDB_VIEW = "_synthohive_chunk"


def load_chunks(dialect: str, connection: "sa.Connection", table: "sa.Table", chunks: Iterable[pd.DataFrame],
                column_types: dict[str, ColumnType], foreign_keys: Mapping[str, str] | None = None) -> int:
    """Insert every chunk into ``table`` (which exists), in the connection's current transaction.

    Args:
        dialect: ``"postgresql"``, ``"mysql"``, ``"duckdb"`` or ``"sqlite"``.
        connection: An open SQLAlchemy connection.
        table: The table to insert into; the chunks' columns must be among its columns.
        chunks: The rows (consumed as they come; errors raised while producing them propagate).
        column_types: The storage type of every column (drives the conversion of values).
        foreign_keys: ``{column: how to name it}`` of the foreign keys, e.g. ``{"pid": "Table 'children',
            column 'pid': the foreign key to 'parents.pid'"}``: a fractional value in one of them matches no
            integer key, and its error says so (an orphan).

    Returns:
        The number of rows inserted.

    Raises:
        SchemaError: A value cannot be converted to its column's type (e.g. 1.5 in an integer column).
    """
    try:
        if dialect == "postgresql":
            return _copy_postgres(connection, table, chunks, column_types)
        loader = {"duckdb": _insert_duckdb, "mysql": _insert_mysql, "sqlite": _insert_sqlite}[dialect]
        rows = 0
        for chunk in chunks:
            if len(chunk):
                loader(connection, table, chunk, column_types)
                rows += len(chunk)
        return rows
    except _NotWhole as exc:
        foreign_key = (foreign_keys or {}).get(str(exc.column))
        if foreign_key is None:
            raise
        raise SchemaError(
            f"{foreign_key} (integer keys) holds {exc.value!r}, which matches no key (an orphan); the write stops "
            "before loading these rows. Drop or correct the rows holding it "
            "(Synthesizer.fit(on_integrity_error='drop') drops orphans from real data).") from None


def _quoted(connection: "sa.Connection", table: "sa.Table", columns: Iterable[str]) -> tuple[str, str]:
    preparer = connection.dialect.identifier_preparer
    names = (sql_name(str(column), connection.dialect.name) for column in columns)  # DuckDB: always quoted
    return preparer.format_table(table), ", ".join(preparer.quote(name) for name in names)


# ------------------------------------------------------------------------------ PostgreSQL


def _copy_postgres(connection: "sa.Connection", table: "sa.Table", chunks: Iterable[pd.DataFrame],
                   column_types: dict[str, ColumnType]) -> int:
    raw = connection.connection.driver_connection
    iterator = iter(chunks)
    rows = 0
    with raw.cursor() as cursor:
        columns: list[str] | None = None
        copy_cm = None
        copy = None
        try:
            for chunk in iterator:
                if columns is None:
                    columns = [str(column) for column in chunk.columns]
                    name, quoted = _quoted(connection, table, columns)
                    copy_cm = cursor.copy(f"COPY {name} ({quoted}) FROM STDIN")
                    copy = copy_cm.__enter__()
                elif [str(column) for column in chunk.columns] != columns:
                    chunk = _reorder(chunk, columns)
                if not len(chunk):
                    continue
                values = [python_values(chunk[column], column_types[column], "postgresql")
                          for column in columns]
                write_row = copy.write_row
                for row in zip(*values):
                    write_row(row)
                rows += len(chunk)
        except BaseException as exc:
            if copy_cm is not None:
                _close_copy(copy_cm, exc)
            raise
        if copy_cm is not None:
            copy_cm.__exit__(None, None, None)
    return rows


def _close_copy(copy_cm: Any, exc: BaseException) -> None:
    """End a COPY that failed on our side (psycopg sends CopyFail; the transaction is rolled back later)."""
    try:
        copy_cm.__exit__(type(exc), exc, exc.__traceback__)
    except Exception as ending:  # noqa: BLE001 - the original error is the one to report; this only ends the COPY
        _log.debug("sql_copy_cancelled", error=type(ending).__name__)


def _reorder(chunk: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    names = [str(column) for column in chunk.columns]
    if sorted(names) != sorted(columns):
        raise SchemaError(f"a chunk has columns {names}, but the first chunk of the table had {columns}; every "
                          "chunk of a table must have the same columns.")
    return chunk.set_axis(names, axis=1)[columns]


# ---------------------------------------------------------------------------------- values


def python_values(series: pd.Series, column_type: ColumnType, dialect: str) -> list[Any]:
    """The values of ``series`` as Python objects a DB-API driver binds exactly (``None`` for nulls).

    Integers become ``int``, floats ``float``, booleans ``bool``; decimals ``Decimal``
    (PostgreSQL) or their plain text (``format(d, "f")``); dates, times and timestamps text
    (``YYYY-MM-DD HH:MM:SS.ffffff``; with ``+00:00`` for PostgreSQL's ``timestamptz``, in UTC
    without offset elsewhere); uuids, enums and strings ``str``; json values ``str`` (dicts and
    lists are JSON-encoded); binary ``bytes``.

    Args:
        series: One column of a chunk.
        column_type: Its storage type.
        dialect: The database the values go to.

    Returns:
        One value per row.

    Raises:
        SchemaError: A value cannot be converted exactly (e.g. 1.5 in an integer column).
    """
    kind = column_type.kind
    if kind == "integer":
        return _integers(series)
    if kind == "float":
        values = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out.tolist()
    if kind == "decimal":
        decimals = _decimals(series, column_type.scale)
        if dialect == "postgresql":
            return decimals
        return [None if value is None else format(value, "f") for value in decimals]
    if kind == "boolean":
        return [None if value is None else bool(value) for value in _objects(series)]
    if kind in ("date", "timestamp"):
        return _datetime_texts(series, column_type, dialect)
    if kind == "time":
        return [None if value is None else _time_text(value) for value in _objects(series)]
    if kind == "binary":
        return [None if value is None else bytes(value) for value in _objects(series)]
    if kind == "json":
        return [None if value is None else value if isinstance(value, str) else json.dumps(value)
                for value in _objects(series)]
    if kind == "uuid":
        return [None if value is None else str(value) if isinstance(value, uuid.UUID) else str(value).lower()
                for value in _objects(series)]
    values = _objects(series)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return values
    return [value if value is None or isinstance(value, str) else str(value) for value in values]


def _objects(series: pd.Series) -> list[Any]:
    """The values as Python objects, ``None`` for every kind of null."""
    if series.dtype == object:
        mask = series.isna().to_numpy()
        values = series.to_numpy(dtype=object, copy=True)
        if mask.any():
            values[mask] = None
        return values.tolist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _integers(series: pd.Series) -> list[Any]:
    """The values of an integer column as ``int`` (``None`` for nulls); whole floats and decimals are converted.

    Raises:
        SchemaError: A value is fractional or infinite (a :class:`_NotWhole`), or no number.
    """
    dtype = series.dtype
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            return series.to_numpy(dtype=object, na_value=None).tolist()
        return series.to_numpy().tolist()
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = ~np.isnan(values)
        bad = values[finite & (np.mod(values, 1) != 0)]  # an infinity's remainder is NaN: bad too
        if len(bad):
            raise _NotWhole(series.name, float(bad[0]))
        out = values.astype(object)
        out[finite] = [int(value) for value in values[finite]]
        out[~finite] = None
        return out.tolist()
    result = []
    for value in _objects(series):
        if value is None or is_int(value):
            result.append(None if value is None else int(value))
        elif isinstance(value, (float, np.floating, decimal.Decimal)):
            whole = value.is_finite() and value == value.to_integral_value() \
                if isinstance(value, decimal.Decimal) else float(value).is_integer()
            if not whole:
                raise _NotWhole(series.name, value)
            result.append(int(value))
        else:
            raise SchemaError(f"column {series.name!r} is an integer column but holds {value!r} "
                              f"({type(value).__name__}); convert it or declare the column's type in column_types.")
    return result


class _NotWhole(SchemaError):
    """A fractional (or infinite) value in an integer column; :func:`load_chunks` words it as an orphan
    when the column is a foreign key."""

    def __init__(self, column: Any, value: Any) -> None:
        self.column = column
        self.value = float(value) if isinstance(value, np.floating) else value
        super().__init__(f"column {column!r} is an integer column but holds {self.value!r}, not a whole number; "
                         "round its values, or declare the column a float or a decimal in column_types.")


# Quantizing needs room for every digit (the default context keeps 28).
_WIDE = decimal.Context(prec=2_000)


def _decimals(series: pd.Series, scale: int | None) -> list[decimal.Decimal | None]:
    quantum = decimal.Decimal(1).scaleb(-scale) if scale is not None else None
    result: list[decimal.Decimal | None] = []
    for value in _objects(series):
        if value is None:
            result.append(None)
            continue
        if not isinstance(value, decimal.Decimal):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating, str)):
                raise SchemaError(f"column {series.name!r} is a decimal column but holds {value!r} "
                                  f"({type(value).__name__}); give it decimal.Decimal values.")
            try:
                value = decimal.Decimal(str(value))  # str(float) is its shortest exact spelling
            except decimal.InvalidOperation:
                raise SchemaError(f"column {series.name!r}: {value!r} is not a decimal number.") from None
        exponent = value.as_tuple().exponent
        if quantum is not None and isinstance(exponent, int) and exponent < -scale:  # type: ignore[operator]
            value = value.quantize(quantum, rounding=decimal.ROUND_HALF_UP, context=_WIDE)
        result.append(value)
    return result


def _datetimes(series: pd.Series, column_type: ColumnType) -> np.ndarray:
    """``datetime64[us]`` values (UTC wall time for time-zone-aware ones); NaT for nulls."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        try:
            series = pd.to_datetime(series, utc=column_type.timezone)
        except (ValueError, TypeError) as exc:
            raise SchemaError(f"column {series.name!r} is a {column_type.describe()} column but holds values that "
                              f"are not dates or times ({exc}); convert them to datetime64.") from None
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy(dtype="datetime64[us]")


def _datetime_texts(series: pd.Series, column_type: ColumnType, dialect: str) -> list[Any]:
    values = _datetimes(series, column_type)
    mask = np.isnat(values)
    if column_type.kind == "date":
        texts = np.datetime_as_string(values.astype("datetime64[D]"), unit="D")
    else:
        texts = np.strings.replace(np.datetime_as_string(values, unit="us"), "T", " ")
        if column_type.timezone and dialect == "postgresql":
            texts = np.strings.add(texts, "+00:00")
    out = texts.astype(object)
    out[mask] = None
    return out.tolist()


def _time_text(value: Any) -> str:
    if hasattr(value, "strftime") and hasattr(value, "microsecond"):
        return value.strftime("%H:%M:%S.%f")
    return str(value)


# ---------------------------------------------------------------------------------- DuckDB


def arrow_table(chunk: pd.DataFrame, column_types: dict[str, ColumnType],
                decimal_shapes: dict[str, tuple[int, int]] | None = None) -> "pa.Table":
    """``chunk`` as an Arrow table with exact types (decimals as ``decimal128(p, s)``, tz-aware as UTC).

    Args:
        chunk: The rows.
        column_types: The storage type of every column.
        decimal_shapes: ``{column: (precision, scale)}`` of the target's decimal columns.

    Returns:
        The Arrow table, columns in the chunk's order.

    Raises:
        SchemaError: A value does not fit its column's type.
    """
    pa = import_or_raise("pyarrow", "duckdb")
    arrays = []
    names = []
    for column in chunk.columns:
        names.append(str(column))
        arrays.append(_arrow_array(pa, chunk[column], column_types[str(column)],
                                   (decimal_shapes or {}).get(str(column))))
    return pa.Table.from_arrays(arrays, names=names)


def _arrow_array(pa: Any, series: pd.Series, column_type: ColumnType, shape: tuple[int, int] | None) -> Any:
    kind = column_type.kind
    try:
        if kind == "integer":
            bits = column_type.bits or 64
            arrow_type = getattr(pa, f"{'u' if column_type.unsigned else ''}int{bits}")()
            if pd.api.types.is_integer_dtype(series.dtype):
                return pa.array(series, type=arrow_type, from_pandas=True)
            return pa.array(_integers(series), type=arrow_type)
        if kind == "float":
            arrow_type = pa.float32() if (column_type.bits or 64) <= 32 else pa.float64()
            values = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
            return pa.array(values, type=pa.float64(), from_pandas=True).cast(arrow_type)
        if kind == "decimal":
            precision, scale = shape or (38, column_type.scale or 0)
            arrow_type = pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
            return pa.array(_decimals(series, scale), type=arrow_type)
        if kind == "boolean":
            if pd.api.types.is_bool_dtype(series.dtype):
                return pa.array(series, type=pa.bool_(), from_pandas=True)
            return pa.array([None if v is None else bool(v) for v in _objects(series)], type=pa.bool_())
        if kind == "date":
            return pa.array(_datetimes(series, column_type).astype("datetime64[D]"), type=pa.date32(),
                            from_pandas=True)
        if kind == "timestamp":
            values = _datetimes(series, column_type)
            arrow_type = pa.timestamp("us", tz="UTC") if column_type.timezone else pa.timestamp("us")
            return pa.array(values.view("int64"), type=pa.int64(), mask=np.isnat(values)).cast(arrow_type)
        if kind == "time":
            return pa.array(_objects(series), type=pa.time64("us"))
        if kind == "binary":
            return pa.array([None if v is None else bytes(v) for v in _objects(series)], type=pa.binary())
        if series.dtype == object and kind in ("string", "enum"):
            try:
                return pa.array(series, type=pa.string(), from_pandas=True)
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                pass  # some values are not str: converted one by one below
        return pa.array(python_values(series, column_type, "duckdb"), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise SchemaError(f"column {series.name!r}: its values do not fit {column_type.describe()} ({exc}); "
                          "convert them or correct the column's type in column_types.") from None


def _insert_duckdb(connection: "sa.Connection", table: "sa.Table", chunk: pd.DataFrame,
                   column_types: dict[str, ColumnType]) -> None:
    shapes = {}
    for column in chunk.columns:
        sql_type = table.c[str(column)].type
        precision = getattr(sql_type, "precision", None)
        if column_types[str(column)].kind == "decimal" and precision is not None:
            shapes[str(column)] = (int(precision), int(getattr(sql_type, "scale", None) or 0))
    data = arrow_table(chunk, column_types, shapes)
    raw = connection.connection.driver_connection
    name, quoted = _quoted(connection, table, [str(column) for column in chunk.columns])
    view = connection.dialect.identifier_preparer.quote(_DUCKDB_VIEW)
    raw.register(_DUCKDB_VIEW, data)
    try:
        raw.execute(f"INSERT INTO {name} ({quoted}) SELECT {quoted} FROM {view}")
    except BaseException:
        # A failed INSERT aborts the transaction, and DuckDB then refuses the unregister too: that
        # error must not replace the INSERT's own (a duplicate key, a foreign key, a NOT NULL...).
        try:
            raw.unregister(_DUCKDB_VIEW)
        except Exception as ignored:  # noqa: BLE001 - the INSERT's error is the one to report
            _log.debug("sql_duckdb_unregister_failed", error=type(ignored).__name__)
        raise
    raw.unregister(_DUCKDB_VIEW)


# --------------------------------------------------------------------------- MariaDB/MySQL


def mysql_local_infile(connection: "sa.Connection") -> bool:
    """Whether the PyMySQL connection was opened with ``local_infile`` (then LOAD DATA LOCAL is used)."""
    raw = connection.connection.driver_connection
    flag = getattr(raw, "client_flag", 0)
    try:
        from pymysql.constants import CLIENT
    except ImportError:  # pragma: no cover - another MySQL driver
        return False
    return bool(flag & CLIENT.LOCAL_FILES)


def _insert_mysql(connection: "sa.Connection", table: "sa.Table", chunk: pd.DataFrame,
                  column_types: dict[str, ColumnType]) -> None:
    columns = [str(column) for column in chunk.columns]
    if mysql_local_infile(connection):
        _load_data_mysql(connection, table, chunk, column_types)
        return
    name, quoted = _quoted(connection, table, columns)
    # PyMySQL formats the statement with %: a % in a quoted name must be doubled.
    statement = f"INSERT INTO {name.replace('%', '%%')} ({quoted.replace('%', '%%')}) VALUES " \
                f"({', '.join(['%s'] * len(columns))})"
    values = [python_values(chunk[column], column_types[column], "mysql")
              for column in columns]
    rows = list(zip(*values))
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        for start in range(0, len(rows), MYSQL_BATCH_ROWS):
            cursor.executemany(statement, rows[start:start + MYSQL_BATCH_ROWS])


def _load_data_mysql(connection: "sa.Connection", table: "sa.Table", chunk: pd.DataFrame,
                     column_types: dict[str, ColumnType]) -> None:
    """``LOAD DATA LOCAL INFILE`` of the chunk written as CSV (every value quoted, NULL unquoted).

    LOAD DATA LOCAL turns conversion errors into warnings: any warning fails the load.
    """
    pa = import_or_raise("pyarrow", "mysql")
    pa_csv = import_or_raise("pyarrow.csv", "mysql")
    preparer = connection.dialect.identifier_preparer

    def quoted(name: str) -> str:  # PyMySQL formats the statement with %: double a % in a name
        return preparer.quote(name).replace("%", "%%")

    columns = [str(column) for column in chunk.columns]
    arrays, targets, assignments = [], [], []
    for index, column in enumerate(columns):
        column_type = column_types[column]
        values = python_values(chunk[column], column_type, "mysql")
        if column_type.kind == "binary":  # raw bytes cannot travel in a text file: hex, decoded by UNHEX
            values = [None if value is None else value.hex() for value in values]
            targets.append(f"@v{index}")
            assignments.append(f"{quoted(column)} = UNHEX(@v{index})")
        else:
            targets.append(quoted(column))
        if column_type.kind == "boolean":
            values = [None if value is None else int(value) for value in values]
        if column_type.kind in ("integer", "boolean"):
            arrays.append(pa.array(values, type=pa.uint64() if column_type.unsigned else pa.int64()))
        elif column_type.kind == "float":
            arrays.append(pa.array(values, type=pa.float64()))
        else:
            arrays.append(pa.array(values, type=pa.string()))
    data = pa.Table.from_arrays(arrays, names=[f"c{index}" for index in range(len(columns))])
    handle, path = tempfile.mkstemp(prefix="synthohive-load-", suffix=".csv")
    os.close(handle)
    try:
        pa_csv.write_csv(data, path, pa_csv.WriteOptions(include_header=False, quoting_style="all_valid",
                                                         null_string="NULL"))
        statement = (f"LOAD DATA LOCAL INFILE %s INTO TABLE {preparer.format_table(table).replace('%', '%%')} "
                     "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                     f"LINES TERMINATED BY '\\n' ({', '.join(targets)})")
        if assignments:
            statement += " SET " + ", ".join(assignments)
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(statement, (path,))
            loaded = cursor.rowcount
            cursor.execute("SHOW WARNINGS LIMIT 3")
            warnings = cursor.fetchall()
        if warnings or loaded != len(chunk):
            shown = "; ".join(str(row[2]) for row in warnings) or f"{loaded} of {len(chunk)} rows loaded"
            raise SchemaError(f"LOAD DATA into {table.name!r} did not load every value exactly ({shown}); fix the "
                              "values, or remove local_infile from the URL to insert them with INSERT statements.")
    finally:
        os.unlink(path)


# ---------------------------------------------------------------------------------- SQLite


#: The integers an SQLite INTEGER holds (8 bytes, signed); a bigger one would be stored as a rounded REAL.
_SQLITE_INTEGERS = (-(2**63), 2**63 - 1)


def _check_sqlite_integers(table: str, column: str, series: pd.Series, values: list[Any]) -> None:
    """Refuse integers SQLite cannot store exactly (beyond signed 64 bits, e.g. a u64 over 2**63-1).

    Raises:
        SchemaError: Naming the table, the column, the first such value and the fix.
    """
    dtype = series.dtype
    if (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)) and \
            not pd.api.types.is_unsigned_integer_dtype(dtype):
        return  # numpy/pandas signed integers always fit
    low, high = _SQLITE_INTEGERS
    bad = next((value for value in values if value is not None and not low <= value <= high), None)
    if bad is None:
        return
    raise SchemaError(
        f"table {table!r}, column {column!r}: the integer {bad} is beyond SQLite's signed 64-bit integers "
        f"({low}..{high}; an unsigned 64-bit column such as MariaDB's BIGINT UNSIGNED can hold it), which SQLite "
        "cannot store exactly; nothing was written. Fix: write to DuckDB (UBIGINT), MariaDB/MySQL "
        "(BIGINT UNSIGNED) or PostgreSQL (NUMERIC(20)), or keep the digits as text by declaring "
        f"metadata.tables[{table!r}].column_types[{column!r}] = ColumnType(kind='string').")


def _insert_sqlite(connection: "sa.Connection", table: "sa.Table", chunk: pd.DataFrame,
                   column_types: dict[str, ColumnType]) -> None:
    columns = [str(column) for column in chunk.columns]
    name, quoted = _quoted(connection, table, columns)
    statement = f"INSERT INTO {name} ({quoted}) VALUES ({', '.join(['?'] * len(columns))})"
    values = [python_values(chunk[column], column_types[column], "sqlite")
              for column in columns]
    for column, column_values in zip(columns, values):
        if column_types[column].kind == "integer":
            _check_sqlite_integers(table.name, column, chunk[column], column_values)
    raw = connection.connection.driver_connection
    cursor = raw.cursor()
    try:
        cursor.executemany(statement, zip(*values))
    finally:
        cursor.close()
