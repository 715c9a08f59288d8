"""Table definitions for synthetic tables: SQL column types, keys and NOT NULL from the metadata.

:func:`sql_type_for` turns a :class:`~syntho_hive.core.metadata.ColumnType` into the SQLAlchemy
type of one database; :func:`column_type_from_dtype` infers a ``ColumnType`` from a pandas column
that the metadata does not type; :func:`table_for` builds the ``sqlalchemy.Table`` (columns,
PRIMARY KEY, FOREIGN KEY constraints, NOT NULL) that :class:`~syntho_hive.connectors.SQLTarget`
creates.

How each kind is stored, per database (``dialect`` is ``"postgresql"``, ``"mysql"`` — MySQL or
MariaDB —, ``"duckdb"`` or ``"sqlite"``):

============  ===================  ======================  =====================  ==================
kind          PostgreSQL           MariaDB / MySQL         DuckDB                 SQLite
============  ===================  ======================  =====================  ==================
integer       SMALLINT..BIGINT     TINYINT..BIGINT         TINYINT..BIGINT        SMALLINT..BIGINT
unsigned      next wider signed    ... UNSIGNED            UTINYINT..UBIGINT      next wider signed
              (u64: NUMERIC(20))                                                  (u64: BIGINT [7])
float         REAL / DOUBLE        FLOAT / DOUBLE          REAL / DOUBLE          REAL / DOUBLE
decimal       NUMERIC(p, s)        DECIMAL(p, s)           DECIMAL(p, s), p<=38   NUMERIC(p, s) [1]
boolean       BOOLEAN              BOOL (TINYINT(1))       BOOLEAN                BOOLEAN
date / time   DATE / TIME          DATE / TIME(6)          DATE / TIME            DATE / TIME (text)
timestamp     TIMESTAMP            DATETIME(6)             TIMESTAMP              DATETIME (text)
  with tz     TIMESTAMPTZ          DATETIME(6), UTC [2]    TIMESTAMPTZ            DATETIME, UTC [2]
string        VARCHAR(n) / TEXT    VARCHAR(n) / TEXT [3]   VARCHAR                VARCHAR(n) / TEXT
uuid          UUID                 UUID (10.7+) [4]        UUID                   TEXT
enum          ENUM type [5]        ENUM(...)               VARCHAR + CHECK        VARCHAR + CHECK
json          JSON (JSONB [6])     JSON                    JSON                   TEXT
binary        BYTEA                BLOB [3]                BLOB                   BLOB
============  ===================  ======================  =====================  ==================

[1] SQLite keeps a NUMERIC value as an integer or a double: exact up to 15 significant digits.
[2] MariaDB and SQLite have no time-zone-aware timestamp: the instant is stored in UTC, without
    offset (a reader gets it back as naive UTC unless the metadata says ``timezone=True``).
[3] A key column (primary or foreign key) without a length is ``VARCHAR(255)`` on MariaDB, which
    cannot index ``TEXT``; ``ColumnType.source`` spelled ``MEDIUMTEXT``/``LONGTEXT`` (or the
    ``BLOB`` sizes) is kept.
[4] MySQL and MariaDB before 10.7 have no UUID type: ``CHAR(36)``.
[5] ``CREATE TYPE <schema>.<table>_<column> AS ENUM (...)``, created with the table.
[6] JSONB when ``ColumnType.source`` says JSONB; JSON keeps the text exactly as written.
[7] SQLite integers are signed 64-bit: a u64 value over 2**63-1 is refused with a SchemaError
    (SQLite could only keep it as a rounded REAL); declare such a column a ``string`` to keep it.

Timestamps are stored with microseconds (every database here): nanoseconds are truncated.

A foreign-key column of integers or floats that references an integer key is stored with that key's
type (:func:`column_types_for`): a ``float64`` column with NaN, as pandas reads a nullable integer
column, is written as the key's integers and NULLs.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from syntho_hive._optional import import_or_raise
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from syntho_hive.core.metadata.schema import TableConfig

__all__ = ["sql_name", "sql_type_for", "column_type_from_dtype", "column_types_for", "table_for", "foreign_keys_of",
           "check_identifier", "enum_type_name", "KEY_VARCHAR_LENGTH", "IDENTIFIER_PATTERN",
           "MAX_DECIMAL_PRECISION"]

#: Length of a key column of unbounded text on MariaDB/MySQL (which cannot index TEXT).
KEY_VARCHAR_LENGTH = 255
#: Table and schema names accepted by SQLTarget: a letter or underscore, then letters, digits, underscores,
#: spaces, hyphens and dollar signs (no quotes, semicolons, backticks or control characters), at most 63
#: characters, no space at the end. SQLAlchemy quotes every name; the pattern keeps out what no real schema needs.
IDENTIFIER_PATTERN = re.compile(r"[^\W\d](?:[\w $-]{0,61}[\w$-])?")
#: Most digits a DECIMAL holds; a decimal declared without precision gets this many.
MAX_DECIMAL_PRECISION: dict[str, int] = {"duckdb": 38, "mysql": 65}
#: Scale of a decimal declared without precision nor scale (MariaDB/MySQL, DuckDB), unless the data says more.
_DEFAULT_DECIMAL_SCALE = 10
_INT_NAMES = {8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT"}
_MYSQL_SIZES = ("TINY", "MEDIUM", "LONG")


def check_identifier(name: object, what: str = "table") -> str:
    """``name`` when it is an acceptable table or schema name for a SQL target.

    Args:
        name: The name to check.
        what: What it names, for the message (``"table"``, ``"schema"``).

    Returns:
        ``name``.

    Raises:
        SchemaError: ``name`` does not match :data:`IDENTIFIER_PATTERN`.
    """
    if not isinstance(name, str) or IDENTIFIER_PATTERN.fullmatch(name) is None:
        fix = ("Pass an acceptable schema name (SQLTarget(..., schema='synthetic'), or --schema synthetic on the "
               "command line), creating or renaming the schema in the database if needed." if what == "schema" else
               "Rename it in the metadata (Metadata.add_table / the tables mapping) before sampling.")
        raise SchemaError(
            f"Cannot write to {what} {name!r} of a SQL database: {what} names must start with a letter or "
            "underscore and hold only letters, digits, underscores, spaces, hyphens and dollar signs (no "
            f"quotes, semicolons, dots or backticks), at most 63 characters. {fix}")
    return name


def sql_name(name: str, dialect: str) -> str:
    """``name`` as a table or column of the SQL this package emits: on DuckDB always quoted.

    SQLAlchemy quotes only the words its dialect lists as reserved, and duckdb_engine's list lacks
    words DuckDB's parser refuses as bare column names (``at``, ``by``, ``glob``, ``asof``...). A quoted
    identifier means the same name in DuckDB (matched case-insensitively either way), so quoting every
    one is safe. Other dialects keep SQLAlchemy's own rule (their lists are complete).

    Args:
        name: The identifier.
        dialect: ``"postgresql"``, ``"mysql"``, ``"duckdb"`` or ``"sqlite"``.

    Returns:
        ``name`` (a ``quoted_name`` that always quotes on DuckDB).
    """
    if dialect != "duckdb":
        return name
    sa = import_or_raise("sqlalchemy", "sql")
    return sa.sql.quoted_name(name, quote=True)


def enum_type_name(table: str, column: str) -> str:
    """Name of the PostgreSQL ENUM type of ``table.column``: ``<table>_<column>`` (at most 63 characters).

    Characters other than letters, digits and underscores become ``_``; a name that would be too
    long is cut and ends with a hash of the full name, so it stays unique.
    """
    name = re.sub(r"[^A-Za-z0-9_]", "_", f"{table}_{column}").lower()
    if len(name) > 63:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:54]}_{digest}"
    return name


# --------------------------------------------------------------------------------------- types


def sql_type_for(column_type: ColumnType, dialect: str, *, key: bool = False, enum_name: str | None = None,
                 schema: str | None = None, native_uuid: bool = True, column: str = "?") -> "sa.types.TypeEngine":
    """The SQLAlchemy type that stores ``column_type`` in ``dialect`` (see the module's table).

    Args:
        column_type: The storage type from the metadata (or inferred from the data).
        dialect: ``"postgresql"``, ``"mysql"``, ``"duckdb"`` or ``"sqlite"``.
        key: Whether the column is part of a primary or foreign key (MariaDB: bounded VARCHAR).
        enum_name: Name of the PostgreSQL ENUM type (default ``enum_<values hash>``); the name of
            the CHECK constraint elsewhere.
        schema: Schema of the PostgreSQL ENUM type.
        native_uuid: MariaDB/MySQL only: whether the server has a UUID type (MariaDB 10.7+).
        column: The column's name, for messages.

    Returns:
        A SQLAlchemy type instance.

    Raises:
        SchemaError: The database cannot hold the type (e.g. a DuckDB decimal of over 38 digits)
            or ``dialect`` is unknown.
    """
    sa = import_or_raise("sqlalchemy", "sql")
    if dialect not in ("postgresql", "mysql", "duckdb", "sqlite"):
        raise SchemaError(f"No SQL types for database {dialect!r}; use postgresql, mysql, duckdb or sqlite.")
    kind = column_type.kind
    if kind == "integer":
        return _integer_type(sa, dialect, column_type.bits or 64, column_type.unsigned)
    if kind == "float":
        if (column_type.bits or 64) <= 32:
            if dialect == "mysql":
                from sqlalchemy.dialects import mysql
                return mysql.FLOAT()
            return sa.REAL()
        return sa.Double()
    if kind == "decimal":
        return _decimal_type(sa, dialect, column_type, column)
    if kind == "boolean":
        return sa.Boolean(create_constraint=False)
    if kind == "date":
        return sa.Date()
    if kind == "time":
        if dialect == "mysql":
            from sqlalchemy.dialects import mysql
            return mysql.TIME(fsp=6)
        return sa.Time()
    if kind == "timestamp":
        if dialect == "mysql":
            from sqlalchemy.dialects import mysql
            return mysql.DATETIME(fsp=6)
        if dialect == "sqlite":
            return sa.DateTime()
        return sa.TIMESTAMP(timezone=column_type.timezone)
    if kind == "string":
        return _string_type(sa, dialect, column_type, key)
    if kind == "uuid":
        if dialect in ("postgresql", "duckdb"):
            return sa.Uuid(as_uuid=False)
        if dialect == "mysql":
            return _mariadb_uuid_type(sa)() if native_uuid else sa.CHAR(36)
        return sa.Text()
    if kind == "enum":
        values = list(column_type.values or [])
        if not values:
            raise SchemaError(f"column {column!r}: an enum needs at least one value; declare its values or "
                              "type it as a string.")
        name = enum_name or "enum_" + hashlib.sha1("\x1f".join(values).encode()).hexdigest()[:12]
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql
            return postgresql.ENUM(*values, name=name, schema=schema, create_type=False)
        if dialect == "mysql":
            from sqlalchemy.dialects import mysql
            return mysql.ENUM(*values)
        return sa.Enum(*values, native_enum=False, create_constraint=True, name=name,
                       length=max(len(value) for value in values))
    if kind == "json":
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql
            return postgresql.JSONB() if "JSONB" in (column_type.source or "").upper() else postgresql.JSON()
        if dialect == "sqlite":
            return sa.Text()
        return sa.JSON()
    if kind == "binary":
        if dialect == "mysql":
            from sqlalchemy.dialects import mysql
            size = _mysql_size(column_type.source, "BLOB")
            return {"TINY": mysql.TINYBLOB, "MEDIUM": mysql.MEDIUMBLOB, "LONG": mysql.LONGBLOB}.get(
                size, mysql.BLOB)()
        return sa.LargeBinary()
    raise SchemaError(f"column {column!r}: unknown storage kind {kind!r}.")  # pragma: no cover - validated


def _integer_type(sa: Any, dialect: str, bits: int, unsigned: bool) -> Any:
    if dialect == "mysql":
        from sqlalchemy.dialects import mysql
        cls = {8: mysql.TINYINT, 16: mysql.SMALLINT, 32: mysql.INTEGER, 64: mysql.BIGINT}[bits]
        return cls(unsigned=unsigned)
    if dialect == "duckdb" and unsigned:
        from duckdb_engine import datatypes as duck
        return {8: duck.UTinyInteger, 16: duck.USmallInteger, 32: duck.UInteger, 64: duck.UBigInteger}[bits]()
    if unsigned:  # PostgreSQL and SQLite have no unsigned integers: the next wider signed type holds them
        if bits == 64:
            return sa.Numeric(20, 0) if dialect == "postgresql" else sa.BigInteger()
        bits *= 2
    if bits == 8 and dialect == "duckdb":
        from duckdb_engine import datatypes as duck
        return duck.TinyInteger()
    if bits <= 16:
        return sa.SmallInteger()
    return sa.Integer() if bits == 32 else sa.BigInteger()


def _decimal_type(sa: Any, dialect: str, column_type: ColumnType, column: str) -> Any:
    precision, scale = column_type.precision, column_type.scale
    limit = MAX_DECIMAL_PRECISION.get(dialect)
    if precision is None:
        if limit is None:  # PostgreSQL and SQLite: NUMERIC without bounds
            return sa.Numeric(asdecimal=True)
        scale = _DEFAULT_DECIMAL_SCALE if scale is None else scale
        return sa.Numeric(limit, min(scale, limit), asdecimal=True)
    if limit is not None and precision > limit:
        raise SchemaError(
            f"column {column!r} is decimal({precision},{scale or 0}), but {dialect} decimals hold at most "
            f"{limit} digits. Declare a smaller precision in Metadata.tables[...].column_types, or make the "
            "column a float.")
    return sa.Numeric(precision, scale or 0, asdecimal=True)


def _string_type(sa: Any, dialect: str, column_type: ColumnType, key: bool) -> Any:
    length = column_type.length
    if dialect == "mysql":
        from sqlalchemy.dialects import mysql
        if length is None and key:
            return sa.String(KEY_VARCHAR_LENGTH)
        if length is not None and length <= 16_383:  # the most utf8mb4 characters a VARCHAR holds
            return sa.String(length)
        size = _mysql_size(column_type.source, "TEXT")
        return {"TINY": mysql.TINYTEXT, "MEDIUM": mysql.MEDIUMTEXT, "LONG": mysql.LONGTEXT}.get(
            size, mysql.TEXT)()
    if length is not None:
        return sa.String(length)
    return sa.Text()


def _mysql_size(source: str | None, base: str) -> str | None:
    """``TINY``/``MEDIUM``/``LONG`` when the source type was spelled e.g. ``LONGTEXT``."""
    spelled = (source or "").upper()
    for size in _MYSQL_SIZES:
        if spelled.startswith(size + base):
            return size
    return None


_UUID_TYPE: Any = None


def _mariadb_uuid_type(sa: Any) -> Any:
    """MariaDB's native ``UUID`` column type (10.7+), which SQLAlchemy's MySQL dialect does not name."""
    global _UUID_TYPE
    if _UUID_TYPE is None:
        class MariaDBUUID(sa.types.UserDefinedType):
            """MariaDB ``UUID``: values are bound and read as canonical strings."""

            cache_ok = True

            def get_col_spec(self, **kw: Any) -> str:
                return "UUID"

        _UUID_TYPE = MariaDBUUID
    return _UUID_TYPE


# ------------------------------------------------------------------------------- inference


def column_type_from_dtype(series: pd.Series, *, key: bool = False) -> ColumnType:
    """The storage type of a column the metadata does not type, from its pandas dtype and values.

    ``int64`` -> 64-bit integer NOT NULL, ``Int32`` -> 32-bit integer NULL, ``float64`` -> double,
    ``bool`` -> boolean, ``datetime64`` -> timestamp (with time zone when tz-aware), an object
    column of ``Decimal`` -> decimal with the most digits and scale seen, of ``str`` -> text
    (``VARCHAR(max(255, longest))`` for a key column), and likewise ``bytes``, ``datetime.time``,
    ``datetime.date``, ``uuid.UUID``, ``dict``/``list`` (json). A column with no value is text.

    Args:
        series: The column (one chunk of it).
        key: Whether it is a primary- or foreign-key column.

    Returns:
        The inferred :class:`ColumnType` (``source`` says ``"inferred from <dtype>"``).

    Raises:
        SchemaError: The column mixes kinds of values or has a dtype no database stores
            (e.g. timedelta); the message says how to declare its type.
    """
    dtype = series.dtype
    source = f"inferred from {dtype}"
    name = series.name
    if isinstance(dtype, pd.CategoricalDtype):
        return column_type_from_dtype(series.astype(object).rename(name), key=key).model_copy(
            update={"source": source})
    extension = isinstance(dtype, pd.api.extensions.ExtensionDtype)
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnType(kind="boolean", nullable=extension, source=source)
    if pd.api.types.is_integer_dtype(dtype):
        return ColumnType(kind="integer", bits=int(np.dtype(dtype.numpy_dtype if extension else dtype).itemsize * 8),
                          unsigned=pd.api.types.is_unsigned_integer_dtype(dtype), nullable=extension, source=source)
    if pd.api.types.is_float_dtype(dtype):
        itemsize = np.dtype(dtype.numpy_dtype if extension else dtype).itemsize
        return ColumnType(kind="float", bits=32 if itemsize <= 4 else 64, source=source)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return ColumnType(kind="timestamp", timezone=True, source=source)
    if pd.api.types.is_datetime64_dtype(dtype):
        return ColumnType(kind="timestamp", source=source)
    if isinstance(dtype, pd.StringDtype):
        return _string_of(series.dropna(), key, source)
    if dtype == object:
        return _object_type(series, key, source)
    raise SchemaError(
        f"column {name!r} has dtype {dtype}, which no SQL database here stores. Convert it (e.g. a "
        "timedelta to seconds) or declare its type in Metadata.tables[...].column_types.")


def _string_of(values: pd.Series, key: bool, source: str) -> ColumnType:
    """Text; a key column gets ``VARCHAR(max(255, longest value))`` (later chunks may hold longer keys)."""
    if not key:
        return ColumnType(kind="string", source=source)
    longest = int(values.map(len).max()) if len(values) else 0
    return ColumnType(kind="string", length=max(KEY_VARCHAR_LENGTH, longest), source=source)


# pandas' C-level inference of an object column (skipping nulls) -> our kind, where it is unambiguous.
_INFERRED_KINDS = {"string": "string", "decimal": "decimal", "integer": "integer", "floating": "float",
                   "mixed-integer-float": "float", "boolean": "boolean", "bytes": "binary", "date": "date",
                   "time": "time"}


def _object_type(series: pd.Series, key: bool, source: str) -> ColumnType:
    values = series[series.notna()]
    if values.empty:
        return ColumnType(kind="string", length=KEY_VARCHAR_LENGTH if key else None, source=source)
    inferred = _INFERRED_KINDS.get(pd.api.types.infer_dtype(values, skipna=True))
    kinds = {inferred} if inferred is not None else {_value_kind(value) for value in values.array}
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind == "string":
            return _string_of(values, key, source)
        if kind == "decimal":
            precision, scale = decimal_shape(values)
            return ColumnType(kind="decimal", precision=precision, scale=scale, source=source)
        if kind == "integer":
            return ColumnType(kind="integer", bits=64, source=source)
        if kind == "float":
            return ColumnType(kind="float", bits=64, source=source)
        if kind == "timestamp":
            aware = {value.tzinfo is not None for value in values.array}
            if len(aware) == 1:
                return ColumnType(kind="timestamp", timezone=aware.pop(), source=source)
        elif kind != "other":
            return ColumnType(kind=kind, source=source)  # type: ignore[arg-type]
    found = sorted({type(value).__name__ for value in values.array})
    raise SchemaError(
        f"column {series.name!r} holds values of several kinds ({', '.join(found)}), which no single SQL "
        "column type stores exactly. Convert it to one type, or declare its storage type in "
        "Metadata.tables[<table>].column_types (e.g. ColumnType(kind='string')).")


def _value_kind(value: object) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, decimal.Decimal):
        return "decimal"
    if isinstance(value, (int, np.integer)):
        return "integer"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "binary"
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, uuid.UUID):
        return "uuid"
    if isinstance(value, (dict, list)):
        return "json"
    return "other"


def decimal_shape(values: pd.Series) -> tuple[int, int]:
    """``(precision, scale)`` that holds every finite ``Decimal`` of ``values`` (at least ``(1, 0)``)."""
    integer_digits, scale = 1, 0
    for value in values.array:
        if not isinstance(value, decimal.Decimal) or not value.is_finite():
            continue
        exponent = value.as_tuple().exponent
        digits = len(value.as_tuple().digits)
        assert isinstance(exponent, int)  # finite decimals have an int exponent
        scale = max(scale, -exponent)
        integer_digits = max(integer_digits, digits + exponent)
    return integer_digits + scale, scale


def column_types_for(config: "TableConfig", chunk: pd.DataFrame | None, dialect: str, *,
                     parents: "Mapping[str, sa.Table] | None" = None) -> dict[str, ColumnType]:
    """The storage type of every column to write: declared in the metadata, else inferred from ``chunk``.

    A declared decimal without precision gets, on MariaDB and DuckDB (bounded decimals), the
    database's largest precision and the largest scale of the declaration or of the data.
    A foreign-key column of integers or floats that references an integer key takes that key's
    type (keeping its own nullability): DuckDB and PostgreSQL refuse a ``DOUBLE`` foreign key to a
    ``BIGINT`` key, DuckDB and MariaDB one between integers of other sizes. A ``float64`` column
    (how pandas reads a nullable integer column) is then written as integers, NaN as NULL.

    Args:
        config: The table's metadata.
        chunk: The first chunk of rows (``None``: only the declared columns).
        dialect: The database.
        parents: ``{parent table: its sqlalchemy.Table}`` whose columns carry their ColumnType in
            ``info["column_type"]`` (as :func:`table_for` and the reflection make them); the
            table's own key serves its self-references.

    Returns:
        ``{column: ColumnType}`` in the chunk's column order.

    Raises:
        SchemaError: A column is not typed and its values cannot be stored (see
            :func:`column_type_from_dtype`).
    """
    declared = config.column_types
    columns = [str(column) for column in chunk.columns] if chunk is not None else list(declared)
    keys = set(config.key_columns)
    result: dict[str, ColumnType] = {}
    for column in columns:
        column_type = declared.get(column)
        if column_type is None:
            if chunk is None:  # pragma: no cover - columns come from the declaration then
                continue
            column_type = column_type_from_dtype(chunk[column], key=column in keys)
        elif (column_type.kind == "decimal" and column_type.precision is None and dialect in MAX_DECIMAL_PRECISION
              and chunk is not None):
            _, seen_scale = decimal_shape(chunk[column])
            if seen_scale:
                column_type = column_type.model_copy(update={"scale": max(column_type.scale or 0, seen_scale)})
        result[column] = column_type
    for column, target in config.fk.items():
        own, key = result.get(column), _referenced_type(config.name, str(target), result, parents or {})
        if own is not None and key is not None and key.kind == "integer" and own.kind in ("integer", "float"):
            result[column] = key.model_copy(update={"nullable": own.nullable, "source": own.source})
    return result


def _referenced_type(table: str, target: str, own_types: Mapping[str, ColumnType],
                     parents: "Mapping[str, sa.Table]") -> ColumnType | None:
    """The ColumnType of the key column ``target`` (``parent.column``) that a foreign key of ``table``
    references: from ``own_types`` for a self-reference, else from the parent's ``info["column_type"]``;
    ``None`` when the parent is not among ``parents`` (a foreign key left out) or carries no type."""
    parent, _, column = target.rpartition(".")
    if parent == table:
        return own_types.get(column)
    ref = parents.get(parent)
    if ref is None or column not in ref.c:
        return None
    return ref.c[column].info.get("column_type")


# ---------------------------------------------------------------------------------- tables


def foreign_keys_of(config: "TableConfig", parent_keys: Mapping[str, list[str]]) -> list[tuple[str, list[str], list[str]]]:
    """The FOREIGN KEY constraints of a table: ``[(parent, child_columns, parent_columns)]``.

    FK entries to a parent with a single-column key are one constraint each; the entries to a
    parent with a composite key form one constraint ordered as that key.

    Args:
        config: The child table's metadata (``fk``: ``{"child_col": "parent.parent_col"}``).
        parent_keys: ``{parent table: its primary-key columns}`` for the parents to reference
            (the table itself included for a self-reference); other parents are skipped.

    Returns:
        The constraints, in declaration order.

    Raises:
        SchemaError: An FK entry is not ``parent.column``, or a composite FK does not cover the
            parent's key.
    """
    singles: list[tuple[str, list[str], list[str]]] = []
    composite: dict[str, dict[str, str]] = {}
    order: list[tuple[str, int | str]] = []
    for column, target in config.fk.items():
        parent, dot, parent_column = str(target).rpartition(".")
        if not dot or not parent or not parent_column:
            raise SchemaError(f"table {config.name!r}: foreign key {column!r} -> {target!r} must be written "
                              "'parent_table.parent_column'.")
        key = parent_keys.get(parent)
        if key is None:
            continue
        if len(key) <= 1:
            singles.append((parent, [column], [parent_column]))
            order.append(("single", len(singles) - 1))
            continue
        if parent not in composite:
            order.append(("composite", parent))
        composite.setdefault(parent, {})[parent_column] = column
    result: list[tuple[str, list[str], list[str]]] = []
    for kind, ref in order:
        if kind == "single":
            result.append(singles[int(ref)])
            continue
        parent = str(ref)
        by_parent = composite[parent]
        key = parent_keys[parent]
        if sorted(by_parent) != sorted(key):
            raise SchemaError(
                f"table {config.name!r}: the foreign key columns {sorted(by_parent.values())} reference "
                f"{sorted(by_parent)} of {parent!r}, whose primary key is {key}; a composite foreign key "
                "must reference every key column once.")
        result.append((parent, [by_parent[column] for column in key], list(key)))
    return result


def table_for(metadata_table: "TableConfig", name: str, schema: str | None, dialect: str,
              sample_chunk: pd.DataFrame | None, *, sa_metadata: "sa.MetaData | None" = None,
              parents: "Mapping[str, sa.Table] | None" = None, self_reference: bool = True,
              foreign_keys: bool = True, column_types: Mapping[str, ColumnType] | None = None,
              native_uuid: bool = True) -> "sa.Table":
    """The ``sqlalchemy.Table`` to create for one synthetic table.

    Columns are those of ``sample_chunk`` (in its order), typed by the metadata's
    ``column_types`` or, where missing, by :func:`column_type_from_dtype` (a numeric foreign key as
    the integer key it references, see :func:`column_types_for`); NOT NULL where the type
    is not nullable and on primary-key columns; the PRIMARY KEY from ``pk`` (composite allowed); a
    UNIQUE constraint per column set of ``unique`` whose columns are all written;
    FOREIGN KEY constraints from ``fk`` towards ``parents`` (and towards the table itself for a
    self-reference). No column autoincrements.

    Args:
        metadata_table: The table's metadata (``TableConfig``).
        name: The table's name in the database (it may differ from the metadata's, e.g. a staging name).
        schema: The schema (``None``: the connection's default).
        dialect: ``"postgresql"``, ``"mysql"``, ``"duckdb"`` or ``"sqlite"``.
        sample_chunk: The first chunk of rows (its columns and dtypes); ``None`` uses the declared columns.
        sa_metadata: The ``MetaData`` to define it in (new when ``None``).
        parents: ``{parent table in the metadata: its sqlalchemy.Table}``; FKs to other parents are left out.
        self_reference: Whether to add the FKs from the table to itself.
        foreign_keys: ``False`` leaves every FOREIGN KEY out (they are added later).
        column_types: Types already resolved (see :func:`column_types_for`); resolved here when ``None``.
        native_uuid: MariaDB/MySQL: whether the server has a UUID type.

    Returns:
        The table (not created).

    Raises:
        SchemaError: A key column is missing from the data, a type cannot be stored, or an FK is malformed.
    """
    sa = import_or_raise("sqlalchemy", "sql")
    types = dict(column_types) if column_types is not None else column_types_for(metadata_table, sample_chunk,
                                                                                    dialect, parents=parents)
    pk = metadata_table.pk_columns
    keys = set(metadata_table.key_columns)
    missing = [column for column in pk if column not in types]
    if missing:
        raise SchemaError(f"table {metadata_table.name!r}: primary-key column(s) {missing} are not in the rows "
                          "to write; generate them or correct pk in the metadata.")
    columns = []
    for column, column_type in types.items():
        sql_type = sql_type_for(column_type, dialect, key=column in keys, column=column, schema=schema,
                                enum_name=enum_type_name(name, column), native_uuid=native_uuid)
        columns.append(sa.Column(sql_name(column, dialect), sql_type, info={"column_type": column_type},
                                 nullable=column_type.nullable and column not in pk, autoincrement=False))
    options = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"} if dialect == "mysql" else {}
    table = sa.Table(sql_name(name, dialect), sa_metadata if sa_metadata is not None else sa.MetaData(), *columns,
                     schema=schema, **options)
    if pk:
        table.append_constraint(sa.PrimaryKeyConstraint(*pk))
    for unique in metadata_table.unique:
        if all(column in types for column in unique):
            table.append_constraint(sa.UniqueConstraint(*(sql_name(column, dialect) for column in unique)))
    if not foreign_keys:
        return table
    references: dict[str, sa.Table] = dict(parents or {})
    if self_reference and pk:
        references[metadata_table.name] = table
    parent_keys = {parent: [column.name for column in ref.primary_key.columns] for parent, ref in references.items()}
    if self_reference and pk:
        parent_keys[metadata_table.name] = pk
    for parent, child_columns, parent_columns in foreign_keys_of(metadata_table, parent_keys):
        absent = [column for column in child_columns if column not in types]
        if absent:
            raise SchemaError(f"table {metadata_table.name!r}: foreign-key column(s) {absent} are not in the rows "
                              "to write; generate them or correct fk in the metadata.")
        ref = references[parent]
        table.append_constraint(sa.ForeignKeyConstraint(child_columns, [ref.c[column] for column in parent_columns]))
    return table
