"""Distributed generation: every table of a fitted synthesizer as a lazy Spark DataFrame.

:func:`sample_spark` (``Synthesizer.sample_spark``) plans on the driver and generates on the executors:

- **The models travel once.** The driver broadcasts ``synth.to_bytes()`` (the saved directory's files
  as one archive: JSON plans, model checkpoints; no pickled object of the driver's process). Each
  executor process rebuilds the synthesizer from those bytes with the checks of ``Synthesizer.load``
  and keeps it (keyed by the SHA-256 of the bytes), so the tasks of every table reuse it.
- **One task per partition.** Each table is ``spark.range(P, numPartitions=P).mapInArrow(fn, schema)``:
  task ``p`` calls the orchestrator's partitioned generation (``generate(partition=(p, P), tables=[t])``).
  Root tables are split by row (``N // P + (p < N % P)`` rows in task ``p``); small roots (at most
  ``replicate_rows``) are generated whole in every task, so that any row can be referenced, and written
  by partition 0 only; a child row is drawn in the task that holds its parent, with the parent's
  attributes as context, so no foreign key is an orphan, at any depth and with several parents; keys
  are unique across partitions (partition-offset scheme in the key's own format). Seeds derive from
  ``(seed, table, partition)``: the same seed and ``num_partitions`` give identical tables on any
  cluster size.
- **Nothing comes back to the driver.** The executors stream Arrow record batches (``chunk_rows`` rows
  at a time) straight into Spark; the driver holds the plan, the models and the Spark schemas only.
  ``mapInArrow`` (the Arrow form of ``mapInPandas``) is used so that the conversion from pandas is this
  module's, exact and per column: ``Decimal`` objects to ``DecimalType(p, s)``, nullable ``Int64`` to a
  nullable ``LongType``, ``datetime64[ns, UTC]`` to ``TimestampType`` (naive timestamps to
  ``TimestampNTZType``), ``uint64`` to ``DecimalType(20, 0)``, times of day to ``TimeType`` (to ISO
  strings where the session does not set ``spark.sql.timeType.enabled``, without which Spark writes no ``TIME``).

The Spark schema of each table is derived on the driver without generating the real volume: from the
metadata's storage types (``TableConfig.column_types``) where declared, otherwise from a tiny local
generation (a few rows per root) read through Arrow, with all-null columns typed from the learned
dtype.

A table's tasks generate its ancestors again (only the slim columns they need are kept); a schema of
depth ``d`` therefore costs up to ``d`` generations of its roots, which are the smallest tables.
"""

from __future__ import annotations

import hashlib
import math
import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from syntho_hive._random import child_seed
from syntho_hive.events import get_logger
from syntho_hive.exceptions import (
    ConfigurationError,
    GenerationError,
    NotFittedError,
    SerializationError,
)

__all__ = ["sample_spark", "spark_schemas", "DEFAULT_CHUNK_ROWS"]

_log = get_logger(__name__)

#: Rows per generated chunk (one Arrow record batch each).
DEFAULT_CHUNK_ROWS = 50_000
#: Rows per root table in the driver's tiny generation that types the columns.
_PROBE_ROWS = 64
#: Synthesizers kept per executor process (one per broadcast archive).
_CACHE_SIZE = 2
_CACHE: "OrderedDict[str, Any]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
#: Largest decimal precision Spark stores.
_SPARK_MAX_PRECISION = 38


# --------------------------------------------------------------------------- driver
def sample_spark(synth: Any, spark: Any = None, *, num_rows: Mapping[str, int] | None = None, scale: float = 1.0,
                 seed: int | None = None, num_partitions: int, replicate_rows: int = 10_000,
                 chunk_rows: int | None = None) -> dict[str, Any]:
    """Every table of ``synth`` as a lazy Spark DataFrame generated on the executors.

    Args:
        synth: A fitted :class:`~syntho_hive.interface.synthesizer.Synthesizer`.
        spark: The SparkSession (``None``: ``synth.spark_session``).
        num_rows: Rows per table, as in ``Synthesizer.sample``.
        scale: Size factor of the roots not named in ``num_rows``, as in ``Synthesizer.sample``.
        seed: Sampling seed; ``None`` derives it exactly as ``Synthesizer.sample`` does (from the
            synthesizer's seed and its count of earlier sample calls, which this call increments).
        num_partitions: Spark partitions (one task each) of every table. The tables depend on it
            (with the seed), not on the number of executors or cores.
        replicate_rows: Roots with at most this many rows are generated whole in every task and
            written by partition 0 only.
        chunk_rows: Rows per chunk generated and handed to Spark (``None``: 50 000); the tables
            depend on it too.

    Returns:
        ``{table: pyspark.sql.DataFrame}`` in metadata order; nothing has run on the executors yet.

    Raises:
        NotFittedError: ``synth`` is not fitted.
        GenerationError: ``num_partitions`` is not a positive integer, or bad ``replicate_rows``,
            ``num_rows``, ``scale``, ``seed`` or ``chunk_rows``; or a generated column has a type Spark
            cannot hold.
        SchemaError: A declared decimal is wider than Spark's 38 digits.
        ConfigurationError: No SparkSession.
        MissingDependencyError: pyspark is not installed, or no Java for a new session.
    """
    if not getattr(synth, "is_fitted", False):
        raise NotFittedError("Cannot sample: this Synthesizer is not fitted. Call fit(data) or Synthesizer.load(path) "
                             "first.")
    from syntho_hive.connectors.spark.session import time_type_enabled
    from syntho_hive.relational.orchestrator import check_count

    partitions = check_count(num_partitions, "num_partitions", minimum=1)
    replicate = check_count(replicate_rows, "replicate_rows", minimum=0)
    rows_per_chunk = DEFAULT_CHUNK_ROWS if chunk_rows is None else check_count(chunk_rows, "chunk_rows", minimum=1)
    session = _session(spark)
    sizes = synth._check_sizes(num_rows, scale)
    seed = synth._next_seed(seed, "sample_spark")

    engine = synth._engine
    plan = engine.partition_plan(sizes, scale, partitions, replicate)
    global_tables = frozenset(plan.global_tables)
    schemas = spark_schemas(synth, seed=seed, time_type=time_type_enabled(session))
    payload = synth.to_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    models = _Payload(session, payload, digest)
    _log.info("spark_generation_planned", tables=list(synth.graph.order), partitions=partitions,
              root_rows=dict(plan.root_rows), replicated=sorted(global_tables), model_bytes=len(payload),
              broadcast=models.broadcast is not None)

    frames: dict[str, Any] = {}
    for table in synth.metadata.tables:
        struct, arrow_schema = schemas[table]
        task = _TableTask(synth_class=type(synth), models=models, table=table, partitions=partitions,
                          num_rows=dict(sizes), scale=float(scale), seed=seed, replicate_rows=replicate,
                          chunk_rows=rows_per_chunk, replicated=table in global_tables, arrow_schema=arrow_schema)
        frames[table] = session.range(partitions, numPartitions=partitions).mapInArrow(task, struct)
    return frames


def _session(spark: Any) -> Any:
    """``spark`` when it is a SparkSession (pyspark imported through its extra, ``PYSPARK_PYTHON`` set)."""
    from syntho_hive.connectors.spark.session import require_spark

    sql = require_spark()
    if spark is None:
        raise ConfigurationError("sample_spark() needs a SparkSession: pass spark=... or create the Synthesizer with "
                                 "spark_session=spark.")
    # A Spark Connect session is recognised by its class, not imported: importing pyspark.sql.connect
    # without its own dependencies (grpc) exits the process (SystemExit) inside test runners.
    connect = type(spark).__module__.startswith("pyspark.sql.connect") and type(spark).__name__ == "SparkSession"
    if not (isinstance(spark, sql.SparkSession) or connect):
        raise ConfigurationError(f"spark must be a pyspark.sql.SparkSession, got {type(spark).__name__}.")
    return spark


class _Payload:
    """The synthesizer's bytes as the executors get them: one broadcast (a classic session), or inside
    each task's closure where there is no SparkContext (Spark Connect)."""

    def __init__(self, session: Any, payload: bytes, digest: str) -> None:
        self.digest = digest
        try:
            context = session.sparkContext
        except AttributeError:  # Spark Connect raises PySparkAttributeError: no SparkContext, no broadcast
            context = None
        self.broadcast = context.broadcast(payload) if context is not None else None
        self._inline = payload if context is None else None

    def value(self) -> bytes:
        return self._inline if self.broadcast is None else self.broadcast.value


# --------------------------------------------------------------------------- schemas
def spark_schemas(synth: Any, *, seed: int = 0, time_type: bool = False) -> dict[str, tuple[Any, Any]]:
    """The Spark schema of every table, and the Arrow schema its batches are sent in.

    Columns come in the generated order. A column with a declared storage type
    (``TableConfig.column_types``) gets the Spark type the Spark connectors write it as
    (:func:`~syntho_hive.connectors.spark.session.spark_type_for`); any other is typed from a tiny
    local generation (a few rows per root, ``seed``-derived) read through Arrow, and a column
    without a value there from its learned dtype (``object``: string). Every field is nullable.
    A time of day is ``TIME`` with ``time_type``, else ``STRING`` (``HH:MM:SS.ffffff``, with a warning).

    Args:
        synth: The fitted synthesizer.
        seed: Seed of the tiny generation.
        time_type: Whether the session writes ``TIME``
            (:func:`~syntho_hive.connectors.spark.session.time_type_enabled`).

    Returns:
        ``{table: (StructType, pyarrow.Schema)}``.

    Raises:
        GenerationError: A generated column's type has no Spark equivalent.
        SchemaError: A declared decimal is wider than Spark's 38 digits.
    """
    from pyspark.sql.pandas.types import from_arrow_type
    from pyspark.sql.types import StructField, StructType

    from syntho_hive.connectors.spark.session import TIME_TYPE_CONF, spark_type_for
    from syntho_hive.core.metadata.column_types import ColumnType

    engine = synth._engine
    probe_rows = {root: min(_PROBE_ROWS, max(1, engine.plan(root).real_rows)) for root in synth.graph.roots()}
    probe = engine.generate(num_rows=probe_rows, scale=1.0, seed=child_seed(seed, "spark", "schema"))
    out: dict[str, tuple[Any, Any]] = {}
    for table in synth.metadata.tables:
        frame = probe[table]
        declared = synth.metadata.tables[table].column_types
        dtypes = engine.plan(table).dtypes
        fields, arrow_fields = [], []
        for column in frame.columns:
            column_type = declared.get(column)
            probed = None if column_type is not None else _probed_type(frame[column], dtypes.get(column))
            if probed is not None and _pa().types.is_time(probed):  # a time of day, declared or not
                column_type = ColumnType(kind="time")
            if column_type is not None:  # the Spark type the Spark connectors write this ColumnType as
                if column_type.kind == "time" and not time_type:
                    _log.warning("spark_time_written_as_text", table=table, column=column,
                                 hint=f"set {TIME_TYPE_CONF}=true on the SparkSession to write it as TIME")
                spark_type = spark_type_for(column_type, time_type=time_type)
                arrow_type = _arrow_type_of_spark(spark_type)
            else:
                arrow_type = _spark_arrow_type(probed, table, column)
                spark_type = from_arrow_type(arrow_type)
            fields.append(StructField(str(column), spark_type, nullable=True))
            arrow_fields.append(_pa().field(str(column), arrow_type, nullable=True))
        out[table] = (StructType(fields), _pa().schema(arrow_fields))
    return out


def _arrow_type_of_spark(spark_type: Any) -> Any:
    """The Arrow type Spark exchanges ``spark_type`` in (``TIMESTAMP``: microseconds, UTC)."""
    from pyspark.sql.pandas.types import to_arrow_type

    try:
        return to_arrow_type(spark_type, timezone="UTC")
    except TypeError:  # pyspark 3.x: no timezone argument, TIMESTAMP is UTC already
        return to_arrow_type(spark_type)


def _pa() -> Any:
    import pyarrow as pa

    return pa


def _probed_type(series: pd.Series, dtype_name: str | None) -> Any:
    """The Arrow type of a generated column's values, or of its dtype where no value says more."""
    pa = _pa()
    arrow_type = None
    if not (series.dtype == object and series.notna().sum() == 0):
        try:
            arrow_type = pa.array(series, from_pandas=True).type
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError,
                OverflowError):  # mixed Python objects: written as text
            return pa.string()
    if arrow_type is not None and pa.types.is_decimal(arrow_type):  # room for any value at the probed scale
        return pa.decimal128(_SPARK_MAX_PRECISION, min(arrow_type.scale, _SPARK_MAX_PRECISION))
    if arrow_type is not None and not pa.types.is_null(arrow_type):
        return arrow_type
    return _dtype_arrow_type(series.dtype if dtype_name is None else dtype_name)


def _dtype_arrow_type(dtype: Any) -> Any:
    """The Arrow type of an empty column of ``dtype`` (a dtype or a learned dtype name)."""
    pa = _pa()
    if isinstance(dtype, str):
        from syntho_hive.core.data._dtypes import dtype_from_name

        try:
            dtype = dtype_from_name(dtype)
        except (TypeError, ValueError, KeyError, ImportError):
            return pa.string()
    if isinstance(dtype, pd.CategoricalDtype):
        return pa.string()
    try:
        arrow_type = pa.array(pd.Series([], dtype=dtype), from_pandas=True).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return pa.string()
    return pa.string() if pa.types.is_null(arrow_type) else arrow_type


def _spark_arrow_type(arrow_type: Any, table: str, column: str) -> Any:
    """``arrow_type`` narrowed to the Arrow type of a Spark type that holds its values exactly
    (``uint64`` as ``decimal(20, 0)``; anything Spark cannot hold is a GenerationError)."""
    from syntho_hive.connectors._arrow_types import narrowed_type

    pa = _pa()
    return narrowed_type(arrow_type, f"Column {column!r} of table {table!r}", system="Spark",
                         uint64=pa.decimal128(20, 0), error=GenerationError, strict=True)


# --------------------------------------------------------------------------- executors
class _TableTask:
    """What ``mapInArrow`` runs for one table: for each partition id it receives, that partition's rows.

    Only plain data, the synthesizer's class (pickled by reference) and the broadcast handle travel
    with it.
    """

    def __init__(self, *, synth_class: type, models: _Payload, table: str, partitions: int,
                 num_rows: dict[str, int], scale: float, seed: int, replicate_rows: int, chunk_rows: int,
                 replicated: bool, arrow_schema: Any) -> None:
        self.synth_class = synth_class
        self.models = models
        self.table = table
        self.partitions = partitions
        self.num_rows = num_rows
        self.scale = scale
        self.seed = seed
        self.replicate_rows = replicate_rows
        self.chunk_rows = chunk_rows
        self.replicated = replicated
        self.arrow_schema = arrow_schema

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        _limit_threads()
        for batch in batches:
            for partition in batch.column(0).to_pylist():
                if self.replicated and partition != 0:
                    continue  # a replicated root is written once, by partition 0
                yield from self.partition(int(partition))

    def partition(self, partition: int) -> Iterator[Any]:
        """The record batches of this table in ``partition`` (also callable without Spark)."""
        synth = _synthesizer(self.synth_class, self.models)
        yield from _generated_batches(
            lambda sink: synth._engine.generate(
                num_rows=self.num_rows, scale=self.scale, seed=self.seed, sink=sink, chunk_rows=self.chunk_rows,
                partition=(partition, self.partitions), tables=[self.table], replicate_rows=self.replicate_rows),
            self.table, lambda chunk: to_record_batches(chunk, self.arrow_schema, where=f"table {self.table!r}"))


def _limit_threads() -> None:
    """One task, its share of cores: torch uses the task's CPUs (``spark.task.cpus``), not the machine's."""
    from pyspark import TaskContext

    context = TaskContext.get()  # None outside a task
    cpus = context.cpus() if context is not None else None
    if not cpus:
        return
    import torch

    if torch.get_num_threads() != cpus:
        torch.set_num_threads(int(cpus))


def _synthesizer(synth_class: type, models: _Payload) -> Any:
    """The synthesizer of the broadcast bytes, rebuilt once per executor process."""
    with _CACHE_LOCK:
        synth = _CACHE.get(models.digest)
        if synth is not None:
            _CACHE.move_to_end(models.digest)
            return synth
    payload = models.value()
    if hashlib.sha256(payload).hexdigest() != models.digest:
        raise SerializationError("The synthesizer bytes received by this executor differ from the driver's (SHA-256 "
                                 "mismatch); the broadcast was corrupted.")
    synth = synth_class.from_bytes(payload)
    with _CACHE_LOCK:
        _CACHE[models.digest] = synth
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return synth


class _Stop(Exception):
    """Raised inside the generating thread when the consumer went away (e.g. a ``limit``)."""


def _generated_batches(run: Any, table: str, convert: Any) -> Iterator[Any]:
    """Run ``run(sink)`` (the orchestrator's generation) in a thread and yield the converted chunks of
    ``table`` as they come, at most two ahead; the other tables' chunks are read and dropped.

    The generation drives the sink; the thread turns that into an iterator, so a task never holds
    more than a few chunks, however many rows its partition has.
    """
    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    def sink(name: str, chunks: Iterator[pd.DataFrame]) -> None:
        for chunk in chunks:
            if stop.is_set():
                raise _Stop
            if name == table and len(chunk):
                for batch in convert(chunk):
                    put(("batch", batch))

    def work() -> None:
        try:
            run(sink)
            put(("done", None))
        except _Stop:
            pass
        except BaseException as exc:  # handed to the consuming task, which fails with it
            try:
                put(("error", exc))
            except _Stop:
                pass

    thread = threading.Thread(target=work, name=f"synthohive-generate-{table}", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "batch":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        while thread.is_alive():
            try:
                ready.get(timeout=0.1)
            except queue.Empty:
                pass
        thread.join()


def to_record_batches(chunk: pd.DataFrame, schema: Any, *, where: str) -> list[Any]:
    """One generated chunk as Arrow record batches of exactly ``schema`` (from :func:`spark_schemas`).

    Each column is converted exactly (:func:`syntho_hive.connectors._arrow_types.frame_to_arrow`:
    ``Decimal`` objects and integers to decimals, nullable integers with their nulls, timezone-aware
    timestamps as instants in UTC, nanoseconds dropped); a text column whose values are not all
    strings gets their ``str()``.

    Raises:
        GenerationError: A column is missing or its values do not fit its type.
    """
    pa = _pa()
    from syntho_hive.connectors._arrow_types import frame_to_arrow

    arrays = []
    for field in schema:
        if field.name not in chunk.columns:
            raise GenerationError(f"Generated rows of {where} lack column {field.name!r}; this is a bug, please "
                                  "report it.")
        series = chunk[field.name]
        try:
            array = _column_array(series, field, frame_to_arrow, where)
        except (SerializationError, ValueError, TypeError, pa.ArrowException) as exc:
            if not pa.types.is_string(field.type):
                raise GenerationError(f"Cannot hand column {field.name!r} of {where} to Spark as {field.type}: "
                                      f"{exc}") from exc
            texts = series.map(lambda value: value if isinstance(value, str) or _missing(value) else _text(value))
            array = _column_array(texts.astype(object), field, frame_to_arrow, where)
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.combine_chunks().to_batches()


def _column_array(series: pd.Series, field: Any, frame_to_arrow: Any, where: str) -> Any:
    pa = _pa()
    if pa.types.is_string(field.type) and _is_time_series(series):
        series = series.map(lambda value: None if _missing(value) else value.isoformat())
    converted = frame_to_arrow(pd.DataFrame({field.name: series}), {field.name: field}, where=where).column(0)
    if not converted.type.equals(field.type):
        converted = converted.cast(field.type)
    return converted.combine_chunks() if isinstance(converted, pa.ChunkedArray) else converted


def _is_time_series(series: pd.Series) -> bool:
    import datetime as _dt

    if series.dtype != object:
        return False
    values = series.dropna()
    return len(values) > 0 and isinstance(values.iloc[0], _dt.time)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

