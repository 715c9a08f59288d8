"""Arrow types, :class:`ColumnType` and the storage dtype contract, for the file and Delta connectors.

Three conversions, each in one place:

* :func:`column_type_of`: an Arrow field (from a Parquet or Delta schema) -> :class:`ColumnType`.
* :func:`arrow_type_of`: a :class:`ColumnType` -> the Arrow type a target writes (``decimal(12,2)``
  -> ``decimal128(12, 2)``, ``date`` -> ``date32``, ``timestamp`` with a time zone ->
  ``timestamp[us, tz=UTC]``, ``uuid`` / ``enum`` / ``json`` -> ``string``...); :func:`delta_type`
  narrows any Arrow type to one Delta Lake stores.
* :func:`frame_to_arrow` / :func:`arrow_to_frame`: one chunk of rows between pandas (in the storage
  dtypes: numpy ints for NOT NULL columns, nullable ``Int64`` otherwise, ``Decimal`` objects,
  ``datetime64[ns]`` / ``datetime64[ns, UTC]``, ``bool`` / ``boolean``, ``str``...) and Arrow.
  On the way out, every chunk of a table gets the same dtypes: they follow the Arrow field (its
  type and whether it is nullable), never the values of the chunk.

Resolution: timestamps (and times) are written with microsecond resolution, the resolution of
Delta Lake, Spark and most databases; the nanoseconds of a ``datetime64[ns]`` value are dropped.
A ``date`` column stores days: a time of day in its values is dropped.
"""

from __future__ import annotations

import decimal
import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SerializationError

__all__ = ["column_type_of", "column_type_of_series", "arrow_type_of", "arrow_field_of", "delta_type", "narrowed_type",
           "delta_schema", "cast_table", "frame_to_arrow", "arrow_to_frame", "decimal_values", "precision_scale",
           "ARROW_ERRORS", "COLUMN_TYPE_KEY"]

#: The key of an Arrow field's metadata holding the column's ColumnType (JSON).
COLUMN_TYPE_KEY = b"synthohive.column_type"
#: What pyarrow raises when values do not fit a type.
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, OverflowError)
#: Precision and scale of a ``decimal`` column whose ColumnType gives none (an unbounded ``NUMERIC``).
UNBOUNDED_DECIMAL = (38, 9)
_NULLABLE_INTS: dict[pa.DataType, Any] = {
    pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(), pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
}


# --------------------------------------------------------------------------- Arrow <-> ColumnType


def column_type_of(field: pa.Field) -> ColumnType | None:
    """The :class:`ColumnType` of an Arrow field, or ``None`` for a type no kind describes.

    A field written by a SynthoHive target carries its ColumnType in its metadata
    (:data:`COLUMN_TYPE_KEY`); that one is taken back whole (``uuid``, ``enum`` values, string
    lengths...) when it still gives the field's Arrow type. Otherwise the type comes from the Arrow
    type: dictionary-encoded columns (pandas categoricals) take their values' type; an all-null
    column (Arrow ``null``) is a nullable ``string``; nested types and durations have no ColumnType.

    Args:
        field: A field of a Parquet, CSV or Delta schema.

    Returns:
        The column's storage type (``nullable`` from the field, ``source`` the Arrow spelling).
    """
    stored = (field.metadata or {}).get(COLUMN_TYPE_KEY)
    if stored is not None:
        try:
            declared = ColumnType.model_validate_json(stored)
        except ValueError:  # pydantic's ValidationError: written by another version; use the Arrow type
            declared = None
        if declared is not None and arrow_type_of(declared).equals(field.type):
            return declared.model_copy(update={"nullable": field.nullable,
                                               "source": declared.source or str(field.type)})
    kind_args = _kind_of(field.type)
    if kind_args is None:
        return None
    kind, extra = kind_args
    return ColumnType(kind=kind, nullable=field.nullable or pa.types.is_null(field.type), source=str(field.type),
                      **extra)


def _kind_of(arrow_type: pa.DataType) -> tuple[str, dict[str, Any]] | None:
    """``(kind, other ColumnType fields)`` for an Arrow type, or ``None``."""
    types = pa.types
    if isinstance(arrow_type, pa.ExtensionType):
        name = getattr(arrow_type, "extension_name", "")
        if name == "arrow.uuid":
            return "uuid", {}
        if name == "arrow.json":
            return "json", {}
        return _kind_of(arrow_type.storage_type)
    if types.is_dictionary(arrow_type):
        return _kind_of(arrow_type.value_type)
    if types.is_boolean(arrow_type):
        return "boolean", {}
    if types.is_integer(arrow_type):
        return "integer", {"bits": arrow_type.bit_width, "unsigned": types.is_unsigned_integer(arrow_type)}
    if types.is_floating(arrow_type):
        return "float", {"bits": 64 if arrow_type.bit_width == 64 else 32}
    if types.is_decimal(arrow_type):
        return "decimal", {"precision": arrow_type.precision, "scale": arrow_type.scale}
    if types.is_date(arrow_type):
        return "date", {}
    if types.is_time(arrow_type):
        return "time", {}
    if types.is_timestamp(arrow_type):
        return "timestamp", {"timezone": arrow_type.tz is not None}
    if types.is_null(arrow_type) or _is_string(arrow_type):
        return "string", {}
    if _is_binary(arrow_type):
        return "binary", {}
    return None


def _is_string(arrow_type: pa.DataType) -> bool:
    view = getattr(pa.types, "is_string_view", lambda _: False)
    return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or view(arrow_type))


def _is_binary(arrow_type: pa.DataType) -> bool:
    view = getattr(pa.types, "is_binary_view", lambda _: False)
    return bool(pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type)
                or pa.types.is_fixed_size_binary(arrow_type) or view(arrow_type))


def column_type_of_series(series: pd.Series) -> ColumnType | None:
    """The :class:`ColumnType` a pandas column's dtype says (for CSV files, which declare none).

    ``nullable`` says whether the column holds a missing value.

    Args:
        series: A column in the storage dtypes.

    Returns:
        The storage type, or ``None`` for a dtype no kind describes (e.g. ``timedelta64``).
    """
    dtype = series.dtype
    nullable = bool(series.isna().any())
    if ptypes.is_bool_dtype(dtype):
        return ColumnType(kind="boolean", nullable=nullable, source=str(dtype))
    if ptypes.is_integer_dtype(dtype):
        return ColumnType(kind="integer", bits=8 * dtype.itemsize, unsigned=ptypes.is_unsigned_integer_dtype(dtype),
                          nullable=nullable, source=str(dtype))
    if ptypes.is_float_dtype(dtype):
        return ColumnType(kind="float", bits=32 if dtype.itemsize <= 4 else 64, nullable=nullable, source=str(dtype))
    if ptypes.is_datetime64_any_dtype(dtype):
        return ColumnType(kind="timestamp", timezone=getattr(dtype, "tz", None) is not None, nullable=nullable,
                          source=str(dtype))
    if dtype == object or ptypes.is_string_dtype(dtype):
        return ColumnType(kind="string", nullable=nullable, source=str(dtype))
    return None


def arrow_type_of(column_type: ColumnType) -> pa.DataType:
    """The Arrow type a target writes for ``column_type``.

    ``uuid``, ``enum`` and ``json`` are written as ``string`` (their values are text in the storage
    contract); a ``decimal`` without precision as ``decimal128(38, 9)`` (a value with more digits
    is then an error, never rounded); with a precision over 38 as ``decimal256``.

    Args:
        column_type: The column's storage type.

    Returns:
        The Arrow type.
    """
    kind = column_type.kind
    if kind == "boolean":
        return pa.bool_()
    if kind == "integer":
        bits = column_type.bits or 64
        return getattr(pa, f"{'u' if column_type.unsigned else ''}int{bits}")()
    if kind == "float":
        return pa.float32() if column_type.bits == 32 else pa.float64()
    if kind == "decimal":
        precision, scale = precision_scale(column_type)
        return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
    if kind == "date":
        return pa.date32()
    if kind == "time":
        return pa.time64("us")
    if kind == "timestamp":
        return pa.timestamp("us", tz="UTC" if column_type.timezone else None)
    if kind == "binary":
        return pa.binary()
    return pa.string()  # string, uuid, enum, json


def precision_scale(column_type: ColumnType) -> tuple[int, int]:
    """Precision and scale of a ``decimal`` column (:data:`UNBOUNDED_DECIMAL` where its ColumnType gives none)."""
    if column_type.precision is None:
        return UNBOUNDED_DECIMAL if column_type.scale is None else (38, column_type.scale)
    return column_type.precision, column_type.scale or 0


def arrow_field_of(name: str, column_type: ColumnType) -> pa.Field:
    """The Arrow field a target writes for a column of ``column_type``: its type, nullability, and
    the ColumnType itself in the field's metadata (read back by :func:`column_type_of`)."""
    return pa.field(name, arrow_type_of(column_type), nullable=column_type.nullable,
                    metadata={COLUMN_TYPE_KEY: column_type.model_dump_json(exclude_defaults=True).encode()})


def narrowed_type(arrow_type: pa.DataType, where: str, *, system: str, uint64: pa.DataType,
                  error: type[Exception], strict: bool) -> pa.DataType:
    """``arrow_type`` narrowed to a type a storage system with a smaller type set (Delta Lake, Spark) holds
    exactly: unsigned integers widen to the next signed width (``uint64`` to ``uint64``, e.g. ``int64``
    or ``decimal(20, 0)``), ``float16`` to ``float32``, timestamps to microseconds (UTC when zoned),
    dictionaries to their values, large and view types to the plain ones, durations to microseconds;
    UUID and JSON extension types, ``time`` (neither system has one) and all-null columns become
    ``string``.

    Args:
        arrow_type: The type of the values.
        where: The column, for the error message (e.g. ``"Column 'price' of table 'orders'"``).
        system: The system's name, for the error message.
        uint64: What an unsigned 64-bit integer becomes.
        error: The exception class raised.
        strict: Raise for a type the rules above do not know, instead of returning it unchanged.

    Returns:
        The narrowed type.

    Raises:
        error: A decimal wider than 38 digits, or (``strict``) a type the system cannot hold.
    """
    types = pa.types

    def narrow(kind: pa.DataType) -> pa.DataType:
        return narrowed_type(kind, where, system=system, uint64=uint64, error=error, strict=strict)

    if isinstance(arrow_type, pa.ExtensionType):
        return pa.string() if arrow_type.extension_name in ("arrow.uuid", "arrow.json") else narrow(
            arrow_type.storage_type)
    if types.is_dictionary(arrow_type):
        return narrow(arrow_type.value_type)
    if types.is_unsigned_integer(arrow_type):
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64()}.get(arrow_type.bit_width, uint64)
    if types.is_floating(arrow_type) and arrow_type.bit_width == 16:
        return pa.float32()
    if types.is_timestamp(arrow_type):
        return pa.timestamp("us", tz="UTC" if arrow_type.tz is not None else None)
    if types.is_date(arrow_type):
        return pa.date32()
    if types.is_duration(arrow_type):
        return pa.duration("us")
    if types.is_time(arrow_type) or types.is_null(arrow_type) or _is_string(arrow_type):
        return pa.string()
    if _is_binary(arrow_type):
        return pa.binary()
    if types.is_decimal(arrow_type):
        if arrow_type.precision > 38:
            raise error(f"{where} is {arrow_type}, wider than the 38 digits {system} allows; declare it with a "
                        "smaller precision (ColumnType precision <= 38).")
        return pa.decimal128(arrow_type.precision, arrow_type.scale)
    if strict and not (types.is_boolean(arrow_type) or types.is_integer(arrow_type) or types.is_floating(arrow_type)):
        raise error(f"{where} has type {arrow_type}, which {system} cannot hold; declare its storage type in the "
                    "metadata (TableConfig.column_types).")
    return arrow_type


def delta_type(arrow_type: pa.DataType, column: str) -> pa.DataType:
    """The type Delta Lake stores for values of ``arrow_type`` (:func:`narrowed_type`; ``uint64`` becomes
    ``int64``, so a value over 2**63-1 is then an error; times are written as ``HH:MM:SS.ffffff``).

    Raises:
        SerializationError: A decimal wider than 38 digits (Delta Lake's limit), or durations (Delta Lake
            has no duration type).
    """
    narrowed = narrowed_type(arrow_type, f"Column {column!r}", system="Delta Lake", uint64=pa.int64(),
                             error=SerializationError, strict=False)
    if pa.types.is_duration(narrowed):
        raise SerializationError(f"Column {column!r} holds durations, and Delta Lake has no duration type. Write "
                                 "the table as Parquet (which keeps durations), or convert the column before writing "
                                 "it to Delta (e.g. to seconds: frame[column].dt.total_seconds()).")
    return narrowed


def cast_table(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema`` (same column names): safe casts, except that timestamps and times
    drop what their unit cannot hold (nanoseconds to microseconds).

    Raises:
        pyarrow.ArrowInvalid: A value does not fit (overflow, lost decimal digits).
        ValueError: A NOT NULL field receives a null.
    """
    arrays = []
    for column, field in zip(table.columns, schema):
        if not column.type.equals(field.type):
            temporal = pa.types.is_timestamp(field.type) or pa.types.is_time(field.type) or pa.types.is_date(field.type)
            column = (pc.cast(column, options=pc.CastOptions(field.type, allow_time_truncate=True)) if temporal
                      else column.cast(field.type))
        if not field.nullable and column.null_count:
            raise ValueError(f"column {field.name!r} is NOT NULL but holds {column.null_count} missing value(s)")
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


def delta_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every field's type as Delta Lake stores it (:func:`delta_type`)."""
    return pa.schema([field.with_type(delta_type(field.type, field.name)) for field in schema])


# --------------------------------------------------------------------------- pandas -> Arrow


def frame_to_arrow(frame: pd.DataFrame, fields: Mapping[str, pa.Field], *, where: str) -> pa.Table:
    """One chunk of rows as an Arrow table.

    A column named in ``fields`` gets that field's type and nullability (values converted exactly:
    a decimal that does not fit its scale, a float with a fraction in an integer column or a null
    in a NOT NULL column is an error); any other column gets the type its values infer, NOT NULL
    when its dtype cannot hold a missing value (numpy ints and bools), dictionaries decoded.

    Args:
        frame: The chunk, in the storage dtypes; column names must be unique strings.
        fields: Declared fields by column name (from the metadata's ColumnTypes or an existing file).
        where: The table or file written, for error messages.

    Returns:
        The table, without pandas metadata.

    Raises:
        SerializationError: A column's values do not fit its type.
    """
    if not frame.columns.is_unique:
        duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise SerializationError(f"Cannot write {where}: duplicated column names {duplicated}; rename them.")
    arrays: list[pa.Array] = []
    out_fields: list[pa.Field] = []
    for name in frame.columns:
        series = frame[name]
        declared = fields.get(str(name))
        try:
            if declared is None:
                array, field = _inferred(series, str(name))
            else:
                array, field = _declared(series, declared), declared
        except SerializationError:
            raise
        except (*ARROW_ERRORS, ValueError, decimal.InvalidOperation) as exc:
            wanted = f" as {declared.type}" if declared is not None else ""
            raise SerializationError(f"Cannot write column {name!r} of {where}{wanted}: {exc}. Check the column's "
                                     "values against its ColumnType in the metadata.") from exc
        if not field.nullable and array.null_count:
            raise SerializationError(f"Cannot write column {name!r} of {where}: it is NOT NULL but a chunk holds "
                                     f"{array.null_count} missing value(s); declare it nullable in the metadata "
                                     "(ColumnType nullable=True) or fill the gaps.")
        arrays.append(array)
        out_fields.append(field)
    return pa.Table.from_arrays(arrays, schema=pa.schema(out_fields))


def _inferred(series: pd.Series, name: str) -> tuple[pa.Array, pa.Field]:
    values = _plain_objects(series) if series.dtype == object else series
    array = pa.array(values, from_pandas=True)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    dtype = series.dtype
    not_null = isinstance(dtype, np.dtype) and dtype.kind in "iub"
    return array, pa.field(name, array.type, nullable=not not_null)


def _plain_objects(series: pd.Series) -> pd.Series:
    """Object values Arrow can infer: ``uuid.UUID`` as canonical text."""
    if series.map(lambda value: isinstance(value, uuid.UUID)).any():
        return series.map(lambda value: str(value) if isinstance(value, uuid.UUID) else value)
    return series


def _declared(series: pd.Series, field: pa.Field) -> pa.Array:
    target = field.type
    if pa.types.is_decimal(target):
        return pa.array(decimal_values(series, target.scale), type=target)
    if _declared_kind(field) == "uuid":  # canonical: lower case with hyphens
        series = series.map(lambda value: value if value is None or value is pd.NA or value != value
                            else str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))))
    elif series.dtype == object:
        series = _plain_objects(series)
    array = pa.array(series, from_pandas=True)
    if array.type.equals(target):
        return array
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if pa.types.is_timestamp(target) or pa.types.is_date(target) or pa.types.is_time(target):
        return pc.cast(array, options=pc.CastOptions(target, allow_time_truncate=True))
    return array.cast(target)


def _declared_kind(field: pa.Field) -> str | None:
    """The kind of the ColumnType a field carries in its metadata (see :func:`arrow_field_of`)."""
    stored = (field.metadata or {}).get(COLUMN_TYPE_KEY)
    if stored is None:
        return None
    try:
        return ColumnType.model_validate_json(stored).kind
    except ValueError:
        return None


def decimal_values(values: Iterable[Any], scale: int | None) -> list[decimal.Decimal | None]:
    """``Decimal`` values for a decimal column, ``None`` for missing ones.

    ``Decimal`` and integer values are kept exactly; a float (e.g. from a model) becomes the
    decimal with ``scale`` digits after the point nearest to it (half to even).

    Args:
        values: The column's values.
        scale: Digits after the point (``None``: floats are taken at their shortest repr).

    Returns:
        One ``Decimal`` or ``None`` per value.

    Raises:
        TypeError: A value is not a number.
    """
    step = decimal.Decimal(1).scaleb(-scale) if scale is not None else None
    out: list[decimal.Decimal | None] = []
    for value in values:
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
        elif isinstance(value, decimal.Decimal):
            out.append(None if value.is_nan() else value)
        elif isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{value!r} is a boolean, not a number")
        elif isinstance(value, (int, np.integer)):
            out.append(decimal.Decimal(int(value)))
        elif isinstance(value, (float, np.floating)):
            exact = decimal.Decimal(repr(float(value)))
            out.append(exact.quantize(step, rounding=decimal.ROUND_HALF_EVEN) if step is not None else exact)
        else:
            raise TypeError(f"{value!r} ({type(value).__name__}) is not a number")
    return out


# --------------------------------------------------------------------------- Arrow -> pandas


def arrow_to_frame(data: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Rows read from Parquet or Delta, in the storage dtypes (see the module docstring).

    Args:
        data: The rows; the dtypes follow each field's type and nullability.

    Returns:
        The frame, with a fresh ``RangeIndex``.

    Raises:
        SerializationError: A date or timestamp lies outside what ``datetime64[ns]`` holds (years
            1677-2262).
    """
    series = []
    for field, column in zip(data.schema, data.columns):
        try:
            series.append(_to_pandas(column, field))
        except (*ARROW_ERRORS, ValueError) as exc:  # ValueError: pandas' OutOfBoundsDatetime
            hint = ""
            if isinstance(exc, pd.errors.OutOfBoundsDatetime) or "out of bounds" in str(exc).lower():
                hint = (". Dates and timestamps are read as datetime64[ns], which holds the years 1677-2262: "
                        "replace the values outside (e.g. a 9999-12-31 'no end' date) by NULL, or cast the column "
                        "to text, in a view or DataFrame read instead of the table")
            raise SerializationError(f"Cannot read column {field.name!r} ({field.type}): {exc}{hint}") from exc
    names = data.schema.names
    if len(set(names)) == len(names):
        return pd.DataFrame(dict(zip(names, series)), index=pd.RangeIndex(data.num_rows))
    frame = pd.concat([s.rename(i) for i, s in enumerate(series)], axis=1)  # repeated names: by position
    frame.columns = names
    return frame


def _to_pandas(column: pa.Array | pa.ChunkedArray, field: pa.Field) -> pd.Series:
    arrow_type = field.type
    types = pa.types
    if isinstance(arrow_type, pa.ExtensionType):
        storage = (column.storage if isinstance(column, pa.Array)
                   else pa.chunked_array([c.storage for c in column.chunks], type=arrow_type.storage_type))
        if arrow_type.extension_name == "arrow.uuid":
            return pd.Series([None if v is None else str(uuid.UUID(bytes=v)) for v in storage.to_pylist()],
                             dtype=object)
        return _to_pandas(storage, field.with_type(arrow_type.storage_type))
    if types.is_dictionary(arrow_type):
        return _to_pandas(column.cast(arrow_type.value_type), field.with_type(arrow_type.value_type))
    if types.is_integer(arrow_type):
        mapper = _NULLABLE_INTS.get if field.nullable else None
        return column.to_pandas(types_mapper=mapper)
    if types.is_boolean(arrow_type):
        if field.nullable:
            return column.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
        return column.to_pandas()
    if types.is_floating(arrow_type):
        if arrow_type.bit_width == 16:
            column = column.cast(pa.float32())
        return column.to_pandas()
    if types.is_date(arrow_type):
        return column.to_pandas(date_as_object=False).astype("datetime64[ns]")
    if types.is_timestamp(arrow_type):
        if arrow_type.tz is not None:
            return column.cast(pa.timestamp("ns", tz="UTC")).to_pandas().astype("datetime64[ns, UTC]")
        return column.cast(pa.timestamp("ns")).to_pandas().astype("datetime64[ns]")
    if types.is_null(arrow_type):
        return pd.Series([None] * len(column), dtype=object)
    if _is_string(arrow_type) or _is_binary(arrow_type) or types.is_time(arrow_type) or types.is_decimal(arrow_type):
        return _objects(column.to_pandas())
    return column.to_pandas()


def _objects(series: pd.Series) -> pd.Series:
    """An object column with ``None`` for missing values."""
    if series.dtype != object:
        series = series.astype(object)
    missing = series.isna()
    return series.where(~missing, None) if missing.any() else series
