"""What every Spark connector needs first: pyspark and Java, safe identifiers, and column types.

* :func:`require_spark` imports pyspark lazily (a missing one names the ``synthohive[spark]``
  extra), points ``PYSPARK_PYTHON`` / ``PYSPARK_DRIVER_PYTHON`` at this interpreter when the user
  has not set them (so executors run the same Python, with SynthoHive installed), and checks that
  Java can be found before a JVM is started.
* :func:`check_identifier` is the allow-list every database, table and column name passes
  before it is written into any SQL text (``[A-Za-z_][A-Za-z0-9_]*``, at most 128 characters):
  quotes, backticks, semicolons, dots, spaces are refused, so nothing a caller passes can
  change the meaning of a statement.
* :func:`column_type_of` / :func:`spark_type_for` map Spark SQL types to
  :class:`~syntho_hive.core.metadata.ColumnType` and back; :func:`arrow_field_for` gives the
  Arrow field rows of a column are read with.

Spark times of day: ``TIME`` (``TimeType``, pyspark 4.1+) is a ``time`` column, read as
``datetime.time`` values. Spark writes ``TIME`` only where the session sets
``spark.sql.timeType.enabled=true`` (:func:`time_type_enabled`); elsewhere a ``time`` column is
written as ``STRING`` (``HH:MM:SS.ffffff``).

Spark timestamps: ``TIMESTAMP`` (``TimestampType``, "with local time zone") is an instant, stored
in UTC and shown in the session's time zone, so it is a ``timestamp`` with ``timezone=True``, read
as ``datetime64[ns, UTC]``; ``TIMESTAMP_NTZ`` is a wall-clock time without a zone, a
``timestamp`` with ``timezone=False``, read as naive ``datetime64[ns]``. Writing goes the other
way (a time-zone-aware ColumnType becomes ``TIMESTAMP``, a naive one ``TIMESTAMP_NTZ``), so a
round trip keeps each column's meaning and its values to the microsecond (Spark's resolution).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from syntho_hive._optional import import_or_raise
from syntho_hive.connectors._arrow_types import arrow_type_of, precision_scale
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.events import get_logger
from syntho_hive.exceptions import MissingDependencyError, SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql.types import DataType, StructField, StructType

__all__ = ["require_spark", "check_identifier", "column_type_of", "spark_type_for", "spark_schema_for",
           "arrow_field_for", "arrow_schema_for", "is_supported", "spark_errors", "spark_failures", "error_summary",
           "job_group", "wait_for_tasks", "time_type_enabled", "MAX_IDENTIFIER_LENGTH",
           "TIME_TYPE_CONF"]

_log = get_logger(__name__)

#: The longest database, table or column name accepted.
MAX_IDENTIFIER_LENGTH = 128
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPARK_MAX_PRECISION = 38
#: Spark keeps a CHAR(n) / VARCHAR(n) column's declared type in the field's metadata under this key.
_CHAR_VARCHAR_KEY = "__CHAR_VARCHAR_TYPE_STRING"
_LENGTH = re.compile(r"(?:var)?char\((\d+)\)", re.IGNORECASE)
#: The Spark setting without which Spark refuses to write (or declare in a table) a ``TIME`` column.
TIME_TYPE_CONF = "spark.sql.timeType.enabled"


def require_spark() -> ModuleType:
    """The ``pyspark.sql`` module, ready to start or use a session.

    Sets ``PYSPARK_PYTHON`` and ``PYSPARK_DRIVER_PYTHON`` to ``sys.executable`` when they are
    unset, and, when no Spark session is running yet, checks that a ``java`` executable can be
    found (``JAVA_HOME/bin/java`` or ``java`` on the ``PATH``).

    Returns:
        ``pyspark.sql``.

    Raises:
        MissingDependencyError: pyspark is not installed (``pip install 'synthohive[spark]'``), or
            no session is running and Java cannot be found (install Java 17 and set ``JAVA_HOME``).
    """
    sql = import_or_raise("pyspark.sql", "spark")
    for variable in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"):
        if not os.environ.get(variable):
            os.environ[variable] = sys.executable
            _log.debug("spark_python_set", variable=variable, python=sys.executable)
    if sql.SparkSession.getActiveSession() is None and _java() is None:
        raise MissingDependencyError(
            "Spark needs Java, and none was found (no JAVA_HOME/bin/java, no 'java' on the PATH). Install Java 17 "
            "(e.g. 'apt-get install openjdk-17-jre-headless') and set JAVA_HOME to its folder, then start the "
            "SparkSession again.")
    return sql


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


def check_identifier(name: object, what: str = "identifier") -> str:
    """``name`` when it is a safe Spark/Hive identifier, before it goes into any SQL text.

    Args:
        name: A database, table or column name.
        what: What the name is, for the message (``"database"``, ``"table"``, ``"column"``).

    Returns:
        ``name``.

    Raises:
        SchemaError: ``name`` is not a string matching ``[A-Za-z_][A-Za-z0-9_]*`` of at most 128
            characters (quotes, backticks, semicolons, dots, spaces, dashes are refused).
    """
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name) or len(name) > MAX_IDENTIFIER_LENGTH:
        shown = repr(name) if not isinstance(name, str) or len(name) <= 80 else repr(name[:80] + "...")
        raise SchemaError(
            f"{what[:1].upper()}{what[1:]} name {shown} is not accepted: Spark/Hive names used by SynthoHive must "
            f"match [A-Za-z_][A-Za-z0-9_]* (letters, digits, underscores; not starting with a digit) and have at "
            f"most {MAX_IDENTIFIER_LENGTH} characters, so no quote, backtick, semicolon, dot or space. Rename it.")
    return name


# --------------------------------------------------------------------------- Spark types <-> ColumnType
def is_supported(data_type: "DataType") -> bool:
    """Whether a Spark type has a :class:`ColumnType` of its own (others are read as text)."""
    return _kind_of(data_type) is not None


def _kind_of(data_type: "DataType") -> tuple[str, dict[str, Any]] | None:
    from pyspark.sql import types as T

    integer_bits = {T.ByteType: 8, T.ShortType: 16, T.IntegerType: 32, T.LongType: 64}
    for spark_type, bits in integer_bits.items():
        if isinstance(data_type, spark_type):
            return "integer", {"bits": bits}
    if isinstance(data_type, T.BooleanType):
        return "boolean", {}
    if isinstance(data_type, T.FloatType):
        return "float", {"bits": 32}
    if isinstance(data_type, T.DoubleType):
        return "float", {"bits": 64}
    if isinstance(data_type, T.DecimalType):
        return "decimal", {"precision": data_type.precision, "scale": data_type.scale}
    if isinstance(data_type, T.DateType):
        return "date", {}
    time_type = getattr(T, "TimeType", None)  # pyspark 4.1+
    if time_type is not None and isinstance(data_type, time_type):
        return "time", {}
    if isinstance(data_type, T.TimestampNTZType):
        return "timestamp", {"timezone": False}
    if isinstance(data_type, T.TimestampType):
        return "timestamp", {"timezone": True}
    if isinstance(data_type, (T.CharType, T.VarcharType)):
        return "string", {"length": data_type.length}
    if isinstance(data_type, T.StringType):
        return "string", {}
    if isinstance(data_type, T.BinaryType):
        return "binary", {}
    return None


def column_type_of(field: "StructField", *, table: str | None = None) -> ColumnType:
    """The :class:`ColumnType` of a Spark schema field.

    Integers keep their width (``TINYINT`` 8 ... ``BIGINT`` 64), decimals their precision and
    scale, ``CHAR(n)`` / ``VARCHAR(n)`` their length; ``TIME`` is a ``time`` of day; ``TIMESTAMP`` is
    time-zone aware and ``TIMESTAMP_NTZ`` naive (see the module docstring). A type with no ColumnType (arrays, maps,
    structs, intervals, variants) is carried as ``string``, with a warning: its values are read
    as Spark's text rendering of them.

    Args:
        field: The field (``df.schema["col"]``).
        table: The table, for the warning.

    Returns:
        The storage type; ``nullable`` from the field, ``source`` Spark's spelling of the type.
    """
    data_type = field.dataType
    source = data_type.simpleString()
    kind_args = _kind_of(data_type)
    if kind_args is None:
        _log.warning("spark_type_unsupported", table=table, column=field.name, type=source,
                     action="read as text (Spark's string rendering); cast or drop the column to model it otherwise")
        return ColumnType(kind="string", nullable=True, source=source)
    kind, extra = kind_args
    if kind == "string" and "length" not in extra:
        declared = (field.metadata or {}).get(_CHAR_VARCHAR_KEY)
        match = _LENGTH.fullmatch(str(declared)) if declared else None
        if match is not None:
            extra = {"length": int(match.group(1))}
            source = str(declared).lower()
    return ColumnType(kind=kind, nullable=bool(field.nullable), source=source, **extra)  # type: ignore[arg-type]


def spark_type_for(spec: ColumnType | np.dtype | pd.api.extensions.ExtensionDtype | str, *,
                   time_type: bool = False) -> "DataType":
    """The Spark type a column is written with, from its :class:`ColumnType` or its pandas dtype.

    From a ColumnType: integers by width (an unsigned one widened to the next signed width, an
    unsigned 64-bit one to ``BIGINT``, where a value over 2**63-1 is then an error), floats,
    ``DECIMAL(p, s)`` (``DECIMAL(38, 9)`` without a precision), ``DATE``, ``TIMESTAMP`` (time-zone
    aware) or ``TIMESTAMP_NTZ``, ``BINARY``, ``TIME`` for times with ``time_type`` (else ``STRING``,
    ``HH:MM:SS.ffffff``), and ``STRING`` for strings, uuids, enums and json (a ``CHAR``/``VARCHAR``
    length is not enforced, as Spark only allows those in table definitions).

    From a dtype (a column without a ColumnType): numpy and pandas nullable integers, floats and
    booleans by width, ``datetime64[ns]`` -> ``TIMESTAMP_NTZ``, ``datetime64[ns, tz]`` ->
    ``TIMESTAMP``, anything else (object, string, category) -> ``STRING``.

    Args:
        spec: The ColumnType, or a numpy / pandas dtype (or its name).
        time_type: Write ``time`` columns as Spark ``TIME`` (pass :func:`time_type_enabled` of the session
            that writes them).

    Returns:
        A ``pyspark.sql.types.DataType``.

    Raises:
        SchemaError: A decimal wider than 38 digits (Spark's limit), or ``time_type`` without pyspark 4.1+.
    """
    if isinstance(spec, ColumnType):
        return _from_column_type(spec, time_type)
    return _from_dtype(pd.api.types.pandas_dtype(spec))


def _from_column_type(column_type: ColumnType, time_type: bool) -> "DataType":
    from pyspark.sql import types as T

    kind = column_type.kind
    if kind == "boolean":
        return T.BooleanType()
    if kind == "integer":
        bits = column_type.bits or 64
        if column_type.unsigned:
            bits = min(64, bits * 2)
        return {8: T.ByteType(), 16: T.ShortType(), 32: T.IntegerType()}.get(bits, T.LongType())
    if kind == "float":
        return T.FloatType() if column_type.bits == 32 else T.DoubleType()
    if kind == "decimal":
        precision, scale = precision_scale(column_type)
        if precision > _SPARK_MAX_PRECISION:
            raise SchemaError(f"A decimal({precision},{scale}) column does not fit Spark, whose decimals have at most "
                              f"{_SPARK_MAX_PRECISION} digits; declare a smaller precision in its ColumnType.")
        return T.DecimalType(precision, scale)
    if kind == "date":
        return T.DateType()
    if kind == "timestamp":
        return T.TimestampType() if column_type.timezone else T.TimestampNTZType()
    if kind == "binary":
        return T.BinaryType()
    if kind == "time" and time_type:
        if not hasattr(T, "TimeType"):
            raise SchemaError("Writing a time column as Spark TIME needs pyspark 4.1 or later (TimeType); upgrade "
                              "pyspark, or write it as text (time_type=False).")
        return T.TimeType()
    return T.StringType()  # string, uuid, enum, json, time


def _from_dtype(dtype: Any) -> "DataType":
    from pyspark.sql import types as T

    if isinstance(dtype, pd.DatetimeTZDtype):
        return T.TimestampType()
    kind = getattr(dtype, "kind", "O")
    if kind == "M":
        return T.TimestampNTZType()
    if kind == "b":
        return T.BooleanType()
    if kind in "iu":
        bits = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype).itemsize * 8
        if kind == "u":
            bits = min(64, bits * 2)
        return {8: T.ByteType(), 16: T.ShortType(), 32: T.IntegerType()}.get(bits, T.LongType())
    if kind == "f":
        size = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype).itemsize
        return T.FloatType() if size <= 4 else T.DoubleType()
    return T.StringType()


def spark_schema_for(column_types: "dict[str, ColumnType]", *, time_type: bool = False) -> "StructType":
    """A Spark schema with one field per ``{column: ColumnType}`` (type and nullability), in order;
    ``time_type`` as in :func:`spark_type_for`.

    Raises:
        SchemaError: A column name is not a safe identifier, or a decimal is wider than 38 digits.
    """
    from pyspark.sql import types as T

    return T.StructType([T.StructField(check_identifier(name, "column"),
                                       spark_type_for(column_type, time_type=time_type),
                                       nullable=column_type.nullable)
                         for name, column_type in column_types.items()])


def time_type_enabled(spark: Any) -> bool:
    """Whether ``spark`` writes Spark ``TIME`` columns: pyspark has ``TimeType`` (4.1+) and the session
    sets :data:`TIME_TYPE_CONF` (``spark.sql.timeType.enabled``, off by default in Spark 4.3).

    Args:
        spark: The SparkSession.

    Returns:
        ``True`` when a ``TIME`` column can be written.
    """
    from pyspark.sql import types as T

    return hasattr(T, "TimeType") and str(spark.conf.get(TIME_TYPE_CONF, "false")).strip().lower() == "true"


# --------------------------------------------------------------------------- Spark -> Arrow (reading)
def arrow_field_for(field: "StructField") -> pa.Field:
    """The Arrow field a Spark column is read into (through its :class:`ColumnType`).

    Time-zone-aware timestamps are ``timestamp[us, tz=UTC]``, naive ones ``timestamp[us]``;
    decimals keep precision and scale; an unsupported type is ``string``.
    """
    column_type = column_type_of(field)
    return pa.field(field.name, arrow_type_of(column_type), nullable=bool(field.nullable))


def arrow_schema_for(schema: "StructType") -> pa.Schema:
    """The Arrow schema rows of a Spark schema are read into (:func:`arrow_field_for` per field)."""
    return pa.schema([arrow_field_for(field) for field in schema.fields])


@functools.lru_cache(maxsize=1)
def spark_errors() -> tuple[type[BaseException], ...]:
    """What a failed Spark job or statement raises: ``PySparkException`` (analysis errors, a
    Python worker's error) and py4j's ``Py4JError`` (other JVM errors).

    Raises:
        MissingDependencyError: pyspark is not installed.
    """
    errors = import_or_raise("pyspark.errors", "spark")
    found: list[type[BaseException]] = [errors.PySparkException]
    try:
        from py4j.protocol import Py4JError
    except ImportError:  # pragma: no cover - classic pyspark always ships py4j
        pass
    else:
        found.append(Py4JError)
    return tuple(found)


@contextlib.contextmanager
def spark_failures(what: str) -> Iterator[None]:
    """Turn a failed Spark job or statement into a :class:`SerializationError` saying what failed.

    Args:
        what: What was being done, e.g. ``"reading Spark table 'orders'"``.

    Raises:
        SerializationError: The block raised one of :func:`spark_errors`; the task's error is in the message.
    """
    try:
        yield
    except spark_errors() as exc:
        raise SerializationError(f"Spark failed while {what}: {error_summary(exc)}") from exc


def error_summary(error: BaseException, lines: int = 12) -> str:
    """The first ``lines`` lines of a Spark error (a Python worker's traceback ends with its error)."""
    text = str(error).strip().splitlines()
    return "\n".join(text[:lines]) + ("\n..." if len(text) > lines else "")


@contextlib.contextmanager
def job_group(spark: Any, description: str) -> Iterator[str | None]:
    """Run the block's Spark jobs in a job group of their own, so that :func:`wait_for_tasks` can
    wait for them; the thread's job group before is restored after.

    Args:
        spark: The SparkSession.
        description: What the jobs do (shown in Spark's UI).

    Yields:
        The group's id, or ``None`` where the session has no SparkContext (Spark Connect).
    """
    try:
        context = spark.sparkContext
    except (AttributeError, *spark_errors()):  # Spark Connect has no SparkContext
        yield None
        return
    keys = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")
    before = {key: context.getLocalProperty(key) for key in keys}
    group = f"synthohive-{uuid.uuid4().hex}"
    context.setJobGroup(group, description)
    try:
        yield group
    finally:
        for key, value in before.items():
            context.setLocalProperty(key, value)


def wait_for_tasks(spark: Any, group: str | None, timeout_s: float = 60.0) -> bool:
    """Wait until no task of the job group ``group`` is running any more.

    When a job fails, Spark raises at once but cancels the job's other tasks asynchronously: a
    task still writing could put files back into a folder that the cleanup has just removed. The
    cleanup after a failed write waits here first.

    Returns:
        ``True`` when no task runs (or ``group`` is ``None``), ``False`` after ``timeout_s``.
    """
    if group is None:
        return True
    tracker = spark.sparkContext.statusTracker()
    deadline = time.monotonic() + timeout_s
    while True:
        running = 0
        for job in tracker.getJobIdsForGroup(group):
            info = tracker.getJobInfo(job)
            for stage in (info.stageIds if info is not None else []):
                stage_info = tracker.getStageInfo(stage)
                running += stage_info.numActiveTasks if stage_info is not None else 0
        if running == 0:
            return True
        if time.monotonic() > deadline:
            _log.warning("spark_tasks_still_running", group=group, tasks=running, waited_s=timeout_s)
            return False
        time.sleep(0.1)
