"""From database column types to :class:`~syntho_hive.core.metadata.ColumnType` and sdtypes.

Three ways in, one way out:

* :func:`column_type_from_sqlalchemy`: a type reflected by SQLAlchemy (SQLite, PostgreSQL,
  MySQL/MariaDB);
* :func:`column_type_from_name`: a type as the database spells it (DuckDB's catalog, a query's
  cursor description), e.g. ``"DECIMAL(12,2)"`` or ``"TIMESTAMP WITH TIME ZONE"``;
* :func:`column_type_from_values`: the Python values a driver returned (a query on SQLite, whose
  cursor says nothing about types).

:func:`sqlalchemy_type_for` goes back to a SQLAlchemy type used to *read* such a column (result
processing), and :func:`suggest_sdtype` gives the sdtype a storage type suggests before any data
is seen. A type SynthoHive cannot represent is carried as ``string`` with a warning naming the
table, the column and the type.
"""

from __future__ import annotations

import decimal
import re
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.events import get_logger

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from syntho_hive.core.metadata.schema import SDType

__all__ = [
    "column_type_from_sqlalchemy",
    "column_type_from_name",
    "column_type_from_values",
    "unsupported",
    "sqlalchemy_type_for",
    "exact_decimal_type",
    "to_exact_decimal",
    "suggest_sdtype",
]

_log = get_logger(__name__)

_INT_NAMES: dict[str, tuple[int, bool]] = {
    "TINYINT": (8, False), "INT1": (8, False), "BYTE": (8, False),
    "SMALLINT": (16, False), "INT2": (16, False), "SHORT": (16, False), "SMALLSERIAL": (16, False),
    "YEAR": (16, False),
    "INTEGER": (32, False), "INT": (32, False), "INT4": (32, False), "SIGNED": (32, False),
    "MEDIUMINT": (32, False), "SERIAL": (32, False), "INT24": (32, False),
    "BIGINT": (64, False), "INT8": (64, False), "LONG": (64, False), "BIGSERIAL": (64, False),
    "LONGLONG": (64, False), "OID": (32, True),
    "UTINYINT": (8, True), "USMALLINT": (16, True), "UINTEGER": (32, True), "UBIGINT": (64, True),
}
_HUGE_INTS: dict[str, int] = {"HUGEINT": 38, "INT128": 38, "UHUGEINT": 39, "UINT128": 39}
_FLOAT_NAMES: dict[str, int] = {"REAL": 32, "FLOAT4": 32, "FLOAT": 32, "DOUBLE": 64, "FLOAT8": 64,
                                "DOUBLE PRECISION": 64, "NEWDOUBLE": 64}
_STRING_NAMES = {"VARCHAR", "CHAR", "CHARACTER", "CHARACTER VARYING", "TEXT", "STRING", "BPCHAR", "NAME",
                 "NVARCHAR", "NCHAR", "CITEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "VAR_STRING", "CLOB"}
_BINARY_NAMES = {"BLOB", "BYTEA", "BINARY", "VARBINARY", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BYTES"}
_TIMESTAMP_NAMES = {"TIMESTAMP", "DATETIME", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP_US",
                    "TIMESTAMP WITHOUT TIME ZONE", "DATETIME2", "SMALLDATETIME"}
_TIMESTAMP_TZ_NAMES = {"TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "DATETIMEOFFSET"}
_TIME_NAMES = {"TIME", "TIMETZ", "TIME WITH TIME ZONE", "TIME WITHOUT TIME ZONE"}
_NAME_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*(?:\((.*)\))?\s*(UNSIGNED)?\s*$", re.IGNORECASE | re.DOTALL)
_QUOTED_RE = re.compile(r"'((?:[^']|'')*)'")


def unsupported(type_text: str, *, nullable: bool, table: str, column: str) -> ColumnType:
    """A ``string`` column type for a database type SynthoHive cannot represent, with a warning.

    Args:
        type_text: The type as the database spells it.
        nullable: Whether the column accepts nulls.
        table: Table (or query) name, for the warning.
        column: Column name, for the warning.

    Returns:
        ``ColumnType(kind="string", source=type_text)``.
    """
    _log.warning("sql_unsupported_type", table=table, column=column, type=type_text,
                 action="carried as string (values read with str()); override metadata column_types to change it")
    return ColumnType(kind="string", nullable=nullable, source=type_text)


def _float_bits(sa_type: Any, dialect: str) -> int:
    if dialect == "sqlite":  # SQLite stores every REAL/FLOAT/DOUBLE in 8 bytes
        return 64
    name = type(sa_type).__name__.upper()
    if "DOUBLE" in name:
        return 64
    if name == "REAL":
        return 32
    precision = getattr(sa_type, "precision", None)
    if isinstance(precision, int):
        return 32 if precision <= 24 else 64
    return 32 if name == "FLOAT" and dialect in ("mysql", "postgresql", "duckdb") else 64


def column_type_from_sqlalchemy(sa_type: Any, *, nullable: bool, dialect: str, table: str,
                                column: str) -> ColumnType:
    """The :class:`ColumnType` of a column reflected by SQLAlchemy.

    Args:
        sa_type: The reflected type instance (``sqlalchemy.types.TypeEngine``).
        nullable: Whether the column accepts nulls.
        dialect: ``"sqlite"``, ``"postgresql"``, ``"mysql"`` or ``"duckdb"``.
        table: The table, for warnings.
        column: The column, for warnings.

    Returns:
        The storage type; ``string`` (with a warning) for a type that has no equivalent.
    """
    import sqlalchemy as sa

    try:
        source = str(sa_type.compile())
    except sa.exc.CompileError:  # a dialect-specific type the generic compiler cannot spell
        source = type(sa_type).__name__
    base = {"nullable": nullable, "source": source}
    name = type(sa_type).__name__.upper()

    if isinstance(sa_type, sa.Boolean):
        return ColumnType(kind="boolean", **base)
    if dialect == "mysql" and name == "TINYINT" and getattr(sa_type, "display_width", None) == 1 \
            and not getattr(sa_type, "unsigned", False):
        # MySQL/MariaDB spell BOOLEAN as TINYINT(1)
        return ColumnType(kind="boolean", nullable=nullable, source="TINYINT(1)")
    if name == "BIT" and dialect == "mysql":
        if getattr(sa_type, "length", None) in (None, 1):
            return ColumnType(kind="boolean", **base)
        return ColumnType(kind="integer", bits=64, unsigned=True, **base)
    if name == "YEAR":
        return ColumnType(kind="integer", bits=16, **base)
    if isinstance(sa_type, sa.Enum):
        values = [str(value) for value in (sa_type.enums or [])]
        if values:
            return ColumnType(kind="enum", values=values, **base)
        return ColumnType(kind="string", **base)
    if isinstance(sa_type, sa.Integer):
        unsigned = bool(getattr(sa_type, "unsigned", False))
        if dialect == "sqlite" and name in ("INTEGER", "INT"):
            bits = 64  # SQLite's INTEGER holds 8-byte values (it is the rowid's type)
        elif name == "TINYINT":
            bits = 8
        elif isinstance(sa_type, sa.SmallInteger):
            bits = 16
        elif isinstance(sa_type, sa.BigInteger):
            bits = 64
        else:
            bits = 32  # INTEGER, MEDIUMINT
        return ColumnType(kind="integer", bits=bits, unsigned=unsigned, **base)
    if isinstance(sa_type, sa.Float):
        return ColumnType(kind="float", bits=_float_bits(sa_type, dialect), **base)
    if isinstance(sa_type, sa.Numeric):
        if "DOUBLE" in name or name == "REAL":  # MySQL's DOUBLE is a Numeric in some versions
            return ColumnType(kind="float", bits=_float_bits(sa_type, dialect), **base)
        precision = getattr(sa_type, "precision", None)
        scale = getattr(sa_type, "scale", None)
        if precision is None:
            scale = None
        elif scale is None:
            scale = 0
        return ColumnType(kind="decimal", precision=precision, scale=scale, **base)
    if isinstance(sa_type, sa.DateTime):
        return ColumnType(kind="timestamp", timezone=bool(getattr(sa_type, "timezone", False)), **base)
    if isinstance(sa_type, sa.Date):
        return ColumnType(kind="date", **base)
    if isinstance(sa_type, sa.Time):
        return ColumnType(kind="time", **base)
    if isinstance(sa_type, sa.Uuid):
        return ColumnType(kind="uuid", **base)
    if isinstance(sa_type, sa.JSON):
        return ColumnType(kind="json", **base)
    if isinstance(sa_type, sa.types._Binary):
        return ColumnType(kind="binary", **base)
    if isinstance(sa_type, sa.String) and name != "SET":
        length = getattr(sa_type, "length", None)
        return ColumnType(kind="string", length=length if isinstance(length, int) and length > 0 else None,
                          **base)
    return unsupported(source, nullable=nullable, table=table, column=column)


def _args(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def column_type_from_name(type_text: str, *, nullable: bool = True) -> ColumnType | None:
    """The :class:`ColumnType` of a type spelled the database's way, or ``None`` when it has none.

    Understands DuckDB's catalog spellings (``DECIMAL(12,2)``, ``TIMESTAMP WITH TIME ZONE``,
    ``ENUM('a', 'b')``, ``UBIGINT``, ``VARCHAR``), PostgreSQL's internal names (``int8``,
    ``numeric``, ``timestamptz``, ``jsonb``...) and MySQL field type names.

    Args:
        type_text: The type's spelling.
        nullable: Whether the column accepts nulls.

    Returns:
        The storage type, or ``None`` (lists, structs, maps, intervals, unknown names...).
    """
    text = type_text.strip()
    base = {"nullable": nullable, "source": text}
    if text.upper().startswith("ENUM"):
        values = [value.replace("''", "'") for value in _QUOTED_RE.findall(text)]
        return ColumnType(kind="enum", values=values, **base) if values else None
    match = _NAME_RE.match(text)
    if match is None:
        return None
    name = " ".join(match.group(1).upper().split())
    args = _args(match.group(2))
    unsigned = bool(match.group(3))
    if name in ("BOOLEAN", "BOOL", "LOGICAL"):
        return ColumnType(kind="boolean", **base)
    if name in _INT_NAMES:
        bits, is_unsigned = _INT_NAMES[name]
        return ColumnType(kind="integer", bits=bits, unsigned=is_unsigned or unsigned, **base)
    if name in _HUGE_INTS:
        return ColumnType(kind="decimal", precision=_HUGE_INTS[name], scale=0, **base)
    if name in ("DECIMAL", "NUMERIC", "NEWDECIMAL", "DEC", "NUMBER"):
        if args and all(arg.isdigit() for arg in args):
            precision = int(args[0])
            scale = int(args[1]) if len(args) > 1 else 0
            return ColumnType(kind="decimal", precision=precision, scale=scale, **base)
        return ColumnType(kind="decimal", **base)
    if name in _FLOAT_NAMES:
        bits = _FLOAT_NAMES[name]
        if name == "FLOAT" and args and args[0].isdigit():
            bits = 32 if int(args[0]) <= 24 else 64
        return ColumnType(kind="float", bits=bits, **base)
    if name == "DATE" or name == "NEWDATE":
        return ColumnType(kind="date", **base)
    if name in _TIME_NAMES:
        return ColumnType(kind="time", **base)
    if name in _TIMESTAMP_TZ_NAMES:
        return ColumnType(kind="timestamp", timezone=True, **base)
    if name in _TIMESTAMP_NAMES:
        return ColumnType(kind="timestamp", **base)
    if name in ("UUID", "UNIQUEIDENTIFIER"):
        return ColumnType(kind="uuid", **base)
    if name in ("JSON", "JSONB"):
        return ColumnType(kind="json", **base)
    if name in _BINARY_NAMES:
        return ColumnType(kind="binary", **base)
    if name in _STRING_NAMES:
        length = int(args[0]) if args and args[0].isdigit() and int(args[0]) > 0 else None
        return ColumnType(kind="string", length=length, **base)
    return None


def column_type_from_values(values: Sequence[Any] | pd.Series, *, table: str, column: str) -> ColumnType:
    """The :class:`ColumnType` that fits the Python values a driver returned for a column.

    Used where the database says nothing about a query's column types (SQLite). Nullability is
    unknown, so the type is nullable.

    Args:
        values: The values (``None`` for nulls).
        table: The query's name, for warnings.
        column: The column, for warnings.

    Returns:
        The storage type (``string`` when every value is null).
    """
    series = pd.Series(list(values), dtype=object).dropna()
    base: dict[str, Any] = {"nullable": True, "source": "inferred from values"}
    if series.empty:
        return ColumnType(kind="string", **base)
    kind = ptypes.infer_dtype(series, skipna=True)
    if kind == "boolean":
        return ColumnType(kind="boolean", **base)
    if kind == "integer":
        return ColumnType(kind="integer", bits=64, **base)
    if kind in ("floating", "mixed-integer-float"):
        return ColumnType(kind="float", bits=64, **base)
    if kind == "decimal":
        return ColumnType(kind="decimal", **base)
    if kind in ("datetime", "datetime64"):
        aware = any(getattr(value, "tzinfo", None) is not None for value in series.iloc[:100])
        return ColumnType(kind="timestamp", timezone=aware, **base)
    if kind == "date":
        return ColumnType(kind="date", **base)
    if kind == "time":
        return ColumnType(kind="time", **base)
    if kind == "string":
        return ColumnType(kind="string", **base)
    if kind == "bytes" or all(isinstance(value, (bytes, bytearray, memoryview)) for value in series.iloc[:100]):
        return ColumnType(kind="binary", **base)
    if all(isinstance(value, uuid.UUID) for value in series.iloc[:100]):
        return ColumnType(kind="uuid", **base)
    if all(isinstance(value, (dict, list)) for value in series.iloc[:100]):
        return ColumnType(kind="json", **base)
    if all(isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)
           for value in series.iloc[:100]):
        return ColumnType(kind="decimal", **base)
    return unsupported(f"values of {sorted({type(v).__name__ for v in series.iloc[:100]})}", nullable=True,
                       table=table, column=column)


# Padding a Decimal to its scale needs room for every digit (the default context keeps 28).
_WIDE = decimal.Context(prec=1_000)


def to_exact_decimal(value: Any, scale: int | None = None) -> Any:
    """A driver's value of a decimal column as a :class:`decimal.Decimal`, without rounding.

    Decimals pass untouched; integers become ``Decimal(int)``; floats (SQLite stores a NUMERIC
    value that is not integral as REAL) become the Decimal of their shortest repr, so ``1.23e-10``
    reads as ``Decimal('1.23E-10')``. With a ``scale``, a value with fewer decimals is padded to
    it (``12.5`` -> ``12.50`` for scale 2, as PostgreSQL and DuckDB return it); a value with more
    decimals than the scale (SQLite does not enforce it) is kept as it is, never rounded.

    Args:
        value: What the driver returned (``None`` for a null).
        scale: The column's declared scale (``None``: none).

    Returns:
        The Decimal, ``None`` for ``None``, and any other value as it is (the read path reports it).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, decimal.Decimal):
        number = value
    elif isinstance(value, int):
        number = decimal.Decimal(value)
    elif isinstance(value, float):
        number = decimal.Decimal(repr(value))
    else:
        return value
    if scale is not None and number.is_finite() and number.as_tuple().exponent > -scale:
        number = number.quantize(decimal.Decimal(1).scaleb(-scale), context=_WIDE)  # adds zeros only
    return number


_EXACT_DECIMAL_CLASS: type | None = None  # defined at first use: SQLAlchemy is an optional extra


def exact_decimal_type(precision: int | None = None, scale: int | None = None) -> "sa.types.TypeEngine[Any]":
    """A ``NUMERIC(precision, scale)`` SQLAlchemy type whose results are exact :class:`decimal.Decimal`.

    SQLAlchemy's own ``Numeric(asdecimal=True)`` goes through ``float`` on the dialects without
    native decimals (SQLite, DuckDB) and quantizes to the scale or ``decimal_return_scale`` (10
    digits): a DECIMAL(38,10) lost its last 22 digits, ``1.23e-10`` came back as ``1E-10``. This
    type replaces that result processing by :func:`to_exact_decimal`; its DDL and bound
    parameters are ``Numeric``'s.

    Args:
        precision: The column's precision (``None``: unspecified).
        scale: The column's scale (``None``: unspecified); values are padded to it.

    Returns:
        The type.
    """
    global _EXACT_DECIMAL_CLASS
    if _EXACT_DECIMAL_CLASS is None:
        import sqlalchemy as sa

        class ExactDecimal(sa.types.TypeDecorator):  # type: ignore[type-arg]
            """``Numeric`` read without float conversion nor rounding (see :func:`exact_decimal_type`)."""

            impl = sa.Numeric
            cache_ok = True

            def result_processor(self, dialect: Any, coltype: Any) -> Any:
                # Replaces (does not wrap) Numeric's processor, which rounds through float.
                scale = self.impl_instance.scale

                def process(value: Any) -> Any:
                    return to_exact_decimal(value, scale)

                return process

        _EXACT_DECIMAL_CLASS = ExactDecimal
    return _EXACT_DECIMAL_CLASS(precision, scale)


def sqlalchemy_type_for(column_type: ColumnType) -> "sa.types.TypeEngine[Any]":
    """A SQLAlchemy type to *read* a column of ``column_type`` with (its result processing).

    Args:
        column_type: The storage type.

    Returns:
        A generic SQLAlchemy type (no DDL is built from it).
    """
    import sqlalchemy as sa

    kind = column_type.kind
    if kind == "boolean":
        return sa.Boolean()
    if kind == "integer":
        return {8: sa.SmallInteger(), 16: sa.SmallInteger(), 32: sa.Integer()}.get(column_type.bits or 64,
                                                                                  sa.BigInteger())
    if kind == "float":
        return sa.Float() if column_type.bits == 32 else sa.Double()
    if kind == "decimal":
        return exact_decimal_type(column_type.precision, column_type.scale)
    if kind == "date":
        return sa.Date()
    if kind == "time":
        return sa.Time()
    if kind == "timestamp":
        return sa.DateTime(timezone=column_type.timezone)
    if kind == "uuid":
        return sa.Uuid(as_uuid=True)
    if kind == "binary":
        return sa.LargeBinary()
    return sa.String(column_type.length)  # string, enum, json (read as text; json re-serialized)


def suggest_sdtype(column_type: ColumnType) -> "SDType":
    """The sdtype a storage type suggests before data is seen.

    ``string`` columns get ``categorical`` here; the data sample decides later between
    ``categorical``, ``text`` and ``id``. A ``time`` of day is ``numerical`` (the engines model it as
    the duration since midnight and give ``datetime.time`` values back).

    Args:
        column_type: The storage type.

    Returns:
        One of ``numerical``, ``categorical``, ``datetime``, ``boolean``, ``id``, ``text``.
    """
    return {
        "integer": "numerical", "float": "numerical", "decimal": "numerical", "boolean": "boolean",
        "date": "datetime", "timestamp": "datetime", "enum": "categorical", "uuid": "id", "json": "text",
        "string": "categorical", "time": "numerical", "binary": "categorical",
    }[column_type.kind]  # type: ignore[return-value]

