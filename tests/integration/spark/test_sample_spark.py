"""Distributed generation (``Synthesizer.sample_spark``) on a real local Spark: no mocks of Spark.

A shop schema of three levels (customers -> orders -> items) with a table of two parents (items ->
products), a self-reference (employees.manager_id) and a second parent of orders (employees). Every
check runs in Spark (left-anti joins for orphans, ``countDistinct`` for keys, ``exceptAll`` for
determinism); only small single columns are brought back to compare marginals with the pandas path.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from syntho_hive import Synthesizer  # noqa: E402
from syntho_hive.connectors.spark.generate import spark_schemas, to_record_batches  # noqa: E402
from syntho_hive.core.metadata.column_types import ColumnType  # noqa: E402
from syntho_hive.core.metadata.schema import Metadata  # noqa: E402
from syntho_hive.exceptions import (  # noqa: E402
    ConfigurationError,
    GenerationError,
    NotFittedError,
    SerializationError,
)

SCALE = 4.0
SEED = 11
PARTITIONS = 3
REPLICATE = 150  # products (30 * 4 = 120 rows) are replicated; customers and employees are split


# --------------------------------------------------------------------------- data
def shop_metadata() -> Metadata:
    md = Metadata()
    md.add_table("customers", pk="customer_id")
    md.add_table("employees", pk="emp_id", fk={"manager_id": "employees.emp_id"})
    md.add_table("products", pk="product_id")
    md.tables["products"].column_types["price"] = ColumnType(kind="decimal", precision=10, scale=2)
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id",
                                              "employee_id": "employees.emp_id"})
    md.add_table("items", pk="item_id", fk={"order_id": "orders.order_id", "product_id": "products.product_id"})
    return md


def shop_data(seed: int = 0) -> dict[str, pd.DataFrame]:
    """Small tables: Decimal prices, UTC timestamps, nullable Int64 columns (a self-reference among them)."""
    rng = np.random.default_rng(seed)
    n_customers, n_employees, n_products = 240, 40, 30
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "age": rng.integers(18, 80, n_customers),
        "segment": rng.choice(["retail", "smb", "enterprise"], n_customers, p=[0.6, 0.3, 0.1]),
        "signup": pd.to_datetime("2020-01-01", utc=True)
        + pd.to_timedelta(rng.integers(0, 1000 * 24, n_customers), unit="h"),
    })
    emp_id = np.arange(500, 500 + n_employees)
    manager = pd.array([pd.NA] * 3 + [int(v) for v in rng.choice(emp_id[:3], n_employees - 3)], dtype="Int64")
    employees = pd.DataFrame({"emp_id": emp_id, "manager_id": manager,
                              "dept": rng.choice(["sales", "support"], n_employees),
                              "salary": rng.normal(50_000, 8_000, n_employees).round(2)})
    products = pd.DataFrame({"product_id": np.arange(9000, 9000 + n_products),
                             "category": rng.choice(["toys", "books", "food"], n_products),
                             "price": [Decimal(f"{v:.2f}") for v in rng.gamma(2.0, 15.0, n_products)]})
    per_customer = rng.poisson(2.5, n_customers)
    n_orders = int(per_customer.sum())
    orders = pd.DataFrame({"order_id": np.arange(1, n_orders + 1),
                           "customer_id": np.repeat(customers["customer_id"], per_customer).to_numpy(),
                           "employee_id": rng.choice(emp_id, n_orders),
                           "amount": rng.gamma(2.0, 40.0, n_orders).round(2),
                           "channel": rng.choice(["web", "store", "phone"], n_orders, p=[0.6, 0.3, 0.1])})
    per_order = 1 + rng.poisson(1.5, n_orders)
    n_items = int(per_order.sum())
    discount = pd.array(rng.integers(0, 30, n_items), dtype="Int64")
    discount[rng.random(n_items) < 0.3] = pd.NA
    items = pd.DataFrame({"item_id": np.arange(1, n_items + 1),
                          "order_id": np.repeat(orders["order_id"], per_order).to_numpy(),
                          "product_id": rng.choice(products["product_id"], n_items),
                          "qty": rng.integers(1, 6, n_items), "discount": discount})
    return {"customers": customers, "employees": employees, "products": products, "orders": orders, "items": items}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def spark_session(spark: SparkSession) -> SparkSession:
    """The shared session of ``tests/integration/spark/conftest.py`` (``local[2]``, Hive support)."""
    return spark


@pytest.fixture(scope="module")
def synth(spark_session: SparkSession) -> Synthesizer:
    return Synthesizer(shop_metadata(), seed=0, spark_session=spark_session).fit(
        shop_data(), epochs=1, progress_bar=False, n_jobs=1)


@pytest.fixture(scope="module")
def tables(synth: Synthesizer) -> Iterator[dict[str, DataFrame]]:
    """One distributed sample, cached on the executors (the checks below join it many times)."""
    frames = synth.sample_spark(scale=SCALE, seed=SEED, num_partitions=PARTITIONS, replicate_rows=REPLICATE)
    kept = cached(frames)
    yield kept
    for frame in kept.values():
        frame.unpersist()


@pytest.fixture(scope="module")
def pandas_tables(synth: Synthesizer) -> dict[str, pd.DataFrame]:
    """The pandas path on the same models, the same sizes."""
    return synth.sample(scale=SCALE, seed=SEED)


# --------------------------------------------------------------------------- checks (all in Spark)
def orphan_counts(synth: Synthesizer, frames: dict[str, DataFrame]) -> dict[str, int]:
    """Rows with a non-null foreign key that matches no parent row, per relationship (left-anti joins)."""
    counts = {}
    for rel in synth.graph.relationships:
        child = frames[rel.child].where(F.expr(" AND ".join(f"`{c}` IS NOT NULL" for c in rel.child_columns)))
        parent = frames[rel.parent].select(*[F.col(p).alias(f"__p{i}") for i, p in enumerate(rel.parent_columns)])
        condition = [child[c] == parent[f"__p{i}"] for i, c in enumerate(rel.child_columns)]
        counts[rel.name] = child.join(parent, condition, "left_anti").count()
    return counts


def duplicate_keys(synth: Synthesizer, frames: dict[str, DataFrame]) -> dict[str, int]:
    """``count - countDistinct(pk)`` per table."""
    out = {}
    for name, table in synth.metadata.tables.items():
        pk = table.pk_columns
        row = frames[name].agg(F.count(F.lit(1)).alias("n"), F.countDistinct(*pk).alias("d")).first()
        out[name] = row["n"] - row["d"]
    return out


def cached(frames: dict[str, DataFrame]) -> dict[str, DataFrame]:
    """The tables cached on the executors (each check would otherwise generate them again)."""
    return {name: frame.cache() for name, frame in frames.items()}


@pytest.fixture
def cache() -> Iterator:
    """``cache(frames)``: :func:`cached`, unpersisted when the test ends."""
    kept: list[DataFrame] = []

    def keep(frames: dict[str, DataFrame]) -> dict[str, DataFrame]:
        out = cached(frames)
        kept.extend(out.values())
        return out

    yield keep
    for frame in kept:
        frame.unpersist()


def same_rows(a: DataFrame, b: DataFrame) -> bool:
    return a.exceptAll(b).count() == 0 and b.exceptAll(a).count() == 0


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                               - np.searchsorted(b, grid, side="right") / len(b))))


def tvd(a: pd.Series, b: pd.Series) -> float:
    p, q = a.value_counts(normalize=True), b.value_counts(normalize=True)
    return float(0.5 * p.subtract(q, fill_value=0.0).abs().sum())


# --------------------------------------------------------------------------- to_bytes / from_bytes
def test_to_bytes_round_trip_samples_identically(synth: Synthesizer) -> None:
    data = synth.to_bytes()
    assert isinstance(data, bytes) and data[:2] == b"PK"
    rebuilt = Synthesizer.from_bytes(data)
    assert rebuilt.is_fitted and rebuilt.seed == synth.seed
    first, again = synth.sample(scale=1.0, seed=5), rebuilt.sample(scale=1.0, seed=5)
    for name in synth.metadata.tables:
        pd.testing.assert_frame_equal(first[name], again[name])
    assert rebuilt.to_bytes() != b"" and Synthesizer.from_bytes(rebuilt.to_bytes()).sample(seed=5)["items"].equals(
        first["items"])


def test_from_bytes_refuses_what_to_bytes_did_not_write(synth: Synthesizer) -> None:
    with pytest.raises(SerializationError):
        Synthesizer.from_bytes(b"not an archive")
    data = bytearray(synth.to_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = b"\x00corrupt"  # inside a stored file: its checksum fails
    with pytest.raises(SerializationError):
        Synthesizer.from_bytes(bytes(data))
    with pytest.raises(NotFittedError):
        Synthesizer(shop_metadata()).to_bytes()


# --------------------------------------------------------------------------- errors before any work
@pytest.mark.parametrize("partitions", [0, -2, 1.5, True, "4"])
def test_bad_num_partitions_fail_before_any_job(synth: Synthesizer, spark_session: SparkSession,
                                                partitions: object) -> None:
    tracker = spark_session.sparkContext.statusTracker()
    spark_session.sparkContext.setJobGroup("bad-partitions", "sample_spark with bad num_partitions")
    try:
        calls = synth._sample_calls
        with pytest.raises(GenerationError, match="num_partitions"):
            synth.sample_spark(num_partitions=partitions)  # type: ignore[arg-type]
        assert synth._sample_calls == calls
        assert list(tracker.getJobIdsForGroup("bad-partitions")) == []
    finally:
        spark_session.sparkContext.setLocalProperty("spark.jobGroup.id", None)


def test_not_fitted_and_no_session_are_clear_errors(synth: Synthesizer) -> None:
    with pytest.raises(NotFittedError):
        Synthesizer(shop_metadata()).sample_spark(num_partitions=2)
    without = Synthesizer.from_bytes(synth.to_bytes())  # no spark_session
    with pytest.raises(ConfigurationError, match="SparkSession"):
        without.sample_spark(num_partitions=2)
    with pytest.raises(ConfigurationError, match="SparkSession"):
        without.sample_spark(num_partitions=2, spark="local[2]")


# --------------------------------------------------------------------------- the distributed tables
def test_sample_spark_is_lazy_and_the_driver_generates_no_rows(synth: Synthesizer, spark_session: SparkSession,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []
    real = synth._engine.generate

    def recording(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(synth._engine, "generate", recording)
    tracker = spark_session.sparkContext.statusTracker()
    spark_session.sparkContext.setJobGroup("lazy", "sample_spark must not run a job")
    try:
        frames = synth.sample_spark(scale=1000.0, seed=1, num_partitions=4)  # 240k customers, planned only
        assert list(tracker.getJobIdsForGroup("lazy")) == []
    finally:
        spark_session.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    assert set(frames) == set(synth.metadata.tables)
    assert all(isinstance(frame, DataFrame) for frame in frames.values())
    # the driver's only generation is the tiny one that types the columns (a few rows per root)
    assert all(call.get("partition") is None and max(call["num_rows"].values()) <= 64 for call in calls)
    assert frames["customers"].rdd.getNumPartitions() == 4


def test_spark_schema_types(tables: dict[str, DataFrame]) -> None:
    types = {name: dict(frame.dtypes) for name, frame in tables.items()}
    assert types["products"]["price"] == "decimal(10,2)"
    assert types["customers"]["signup"] == "timestamp"
    assert types["items"]["discount"] == "bigint" and types["employees"]["manager_id"] == "bigint"
    assert types["orders"]["channel"] == "string" and types["orders"]["amount"] == "double"
    # nullable integers keep their nulls (and only there)
    assert tables["items"].where(F.col("discount").isNull()).count() > 0
    assert tables["employees"].where(F.col("manager_id").isNull()).count() > 0
    assert tables["items"].where(F.col("item_id").isNull()).count() == 0


def test_no_orphans_unique_keys_exact_root_counts(synth: Synthesizer, tables: dict[str, DataFrame]) -> None:
    assert orphan_counts(synth, tables) == {rel.name: 0 for rel in synth.graph.relationships}
    assert duplicate_keys(synth, tables) == {name: 0 for name in synth.metadata.tables}
    assert tables["customers"].count() == 240 * SCALE  # split root: N // P + (p < N % P) rows per task
    assert tables["employees"].count() == 40 * SCALE  # split, self-referencing
    assert tables["products"].count() == 30 * SCALE  # replicated in every task, written once
    assert tables["orders"].count() > 0 and tables["items"].count() > 0


def test_same_seed_and_partitions_give_identical_tables(synth: Synthesizer, tables: dict[str, DataFrame],
                                                       cache) -> None:
    again = cache(synth.sample_spark(scale=SCALE, seed=SEED, num_partitions=PARTITIONS, replicate_rows=REPLICATE))
    for name in synth.metadata.tables:
        assert same_rows(tables[name], again[name]), name
    other = synth.sample_spark(scale=SCALE, seed=SEED + 1, num_partitions=PARTITIONS, replicate_rows=REPLICATE)
    assert not same_rows(tables["orders"], other["orders"])


@pytest.mark.parametrize("partitions", [1, 7])
def test_other_partition_counts_are_valid_too(synth: Synthesizer, partitions: int, cache) -> None:
    frames = cache(synth.sample_spark(scale=SCALE, seed=SEED, num_partitions=partitions, replicate_rows=REPLICATE))
    assert orphan_counts(synth, frames) == {rel.name: 0 for rel in synth.graph.relationships}
    assert duplicate_keys(synth, frames) == {name: 0 for name in synth.metadata.tables}
    assert frames["customers"].count() == 240 * SCALE and frames["employees"].count() == 40 * SCALE
    assert frames["products"].count() == 30 * SCALE


def test_marginals_match_the_pandas_path(tables: dict[str, DataFrame], pandas_tables: dict[str, pd.DataFrame]) -> None:
    spark_orders = tables["orders"].select("amount", "channel").toPandas()  # two small columns, for the test only
    local_orders = pandas_tables["orders"]
    assert ks_statistic(spark_orders["amount"].to_numpy(), local_orders["amount"].to_numpy()) < 0.1
    assert tvd(spark_orders["channel"], local_orders["channel"]) < 0.1
    spark_ages = tables["customers"].select("age").toPandas()["age"].to_numpy()
    assert ks_statistic(spark_ages, pandas_tables["customers"]["age"].to_numpy()) < 0.1
    spark_items_per_order = tables["items"].count() / tables["orders"].count()
    local_items_per_order = len(pandas_tables["items"]) / len(pandas_tables["orders"])
    assert spark_items_per_order == pytest.approx(local_items_per_order, rel=0.15)
    spark_orders_per_customer = tables["orders"].count() / tables["customers"].count()
    local_orders_per_customer = len(local_orders) / len(pandas_tables["customers"])
    assert spark_orders_per_customer == pytest.approx(local_orders_per_customer, rel=0.15)
    spark_null_share = tables["items"].where(F.col("discount").isNull()).count() / tables["items"].count()
    assert spark_null_share == pytest.approx(pandas_tables["items"]["discount"].isna().mean(), abs=0.08)


def test_an_executor_failure_fails_the_job_with_the_task_error(synth: Synthesizer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The executors check the broadcast archive as ``load`` checks a directory: a corrupt one fails the
    task, and the job, with the SerializationError (the driver never parses the bytes it sends)."""
    good = synth.to_bytes()
    broken = bytearray(good)
    broken[len(broken) // 2: len(broken) // 2 + 8] = b"\x00corrupt"
    monkeypatch.setattr(synth, "to_bytes", lambda: bytes(broken))
    frames = synth.sample_spark(num_rows={"customers": 10}, seed=1, num_partitions=2)
    with pytest.raises(Exception, match="SerializationError"):  # noqa: PT011 (Spark wraps the task's error)
        frames["orders"].count()


# --------------------------------------------------------------------------- conversion, without the orchestrator
def test_chunk_conversion_keeps_decimals_nullable_ints_and_instants(spark_session: SparkSession) -> None:
    """Values pandas gives (Decimal objects, Int64 with NA, datetime64[ns, UTC], uint64) arrive exact in Spark,
    whatever the session time zone."""
    import pyarrow as pa

    from syntho_hive.connectors.spark.generate import _spark_arrow_type

    frame = pd.DataFrame({
        "price": [Decimal("12.50"), None, Decimal("-0.01")],
        "count": pd.array([1, pd.NA, 2**62], dtype="Int64"),
        "at": pd.to_datetime(["2024-03-01 08:00:00.123456789", None, "1969-12-31 23:59:59.000000000"], utc=True),
        "big": np.array([0, 2**64 - 1, 2**63], dtype=np.uint64),
        "label": pd.Categorical(["a", None, "b"]),
    })
    arrow_types = {"price": pa.decimal128(10, 2), "count": pa.int64(), "at": pa.timestamp("us", tz="UTC"),
                   "big": _spark_arrow_type(pa.uint64(), "t", "big"), "label": pa.string()}
    schema = pa.schema([pa.field(name, arrow_type) for name, arrow_type in arrow_types.items()])
    batches = to_record_batches(frame, schema, where="test")
    from pyspark.sql.pandas.types import from_arrow_schema

    struct = from_arrow_schema(schema)
    previous = spark_session.conf.get("spark.sql.session.timeZone")
    spark_session.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        def emit(iterator):
            for _ in iterator:
                yield from batches

        df = spark_session.range(1, numPartitions=1).mapInArrow(emit, struct)
        rows = df.select("price", "count", F.unix_micros("at").alias("micros"), "big", "label").collect()
    finally:
        spark_session.conf.set("spark.sql.session.timeZone", previous)
    assert [r["price"] for r in rows] == [Decimal("12.50"), None, Decimal("-0.01")]
    assert [r["count"] for r in rows] == [1, None, 2**62]
    expected = [int(pd.Timestamp("2024-03-01 08:00:00.123456", tz="UTC").value // 1000), None, -1_000_000]
    assert [r["micros"] for r in rows] == expected
    assert [r["big"] for r in rows] == [Decimal(0), Decimal(2**64 - 1), Decimal(2**63)]
    assert [r["label"] for r in rows] == ["a", None, "b"]


def test_schemas_come_from_declared_types_and_a_tiny_generation(synth: Synthesizer) -> None:
    schemas = spark_schemas(synth, seed=0)
    assert [f.name for f in schemas["orders"][0].fields] == list(synth._engine.plan("orders").columns)
    assert schemas["products"][0]["price"].dataType.simpleString() == "decimal(10,2)"  # declared ColumnType
    assert schemas["customers"][0]["signup"].dataType.simpleString() == "timestamp"  # probed: tz-aware
    assert all(f.nullable for schema, _ in schemas.values() for f in schema.fields)


# --------------------------------------------------------------------------- Hive
def test_save_to_hive_round_trip(synth: Synthesizer, tables: dict[str, DataFrame], spark_session: SparkSession) -> None:
    from syntho_hive.connectors.spark import hive

    assert spark_session.conf.get("spark.sql.catalogImplementation", "in-memory") == "hive"
    hive.save_to_hive(tables, database="shop_synthetic", mode="overwrite")
    for name in synth.metadata.tables:
        stored = spark_session.table(f"shop_synthetic.{name}")
        assert same_rows(stored, tables[name]), name
    assert orphan_counts(synth, {n: spark_session.table(f"shop_synthetic.{n}") for n in synth.metadata.tables}) == {
        rel.name: 0 for rel in synth.graph.relationships}


# --------------------------------------------------------------------------- the task's stream
def test_task_stream_stops_cleanly_and_passes_errors_on() -> None:
    """A task yields batches while the orchestrator generates (a thread turns its sink into an iterator):
    the consumer stopping early (a ``limit``) stops the generation; a generation error fails the task."""
    import threading

    from syntho_hive.connectors.spark.generate import _generated_batches

    produced: list[int] = []

    def run(sink):
        def chunks(name):
            for i in range(1000):
                produced.append(i)
                yield pd.DataFrame({"x": [i]})
        sink("parent", chunks("parent"))  # another table's chunks are read and dropped
        sink("child", chunks("child"))

    stream = _generated_batches(run, "child", lambda chunk: [int(chunk["x"].iloc[0])])
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert len(produced) < 1000 + 10  # the parent's 1000, then at most a few chunks ahead of the consumer
    assert not any(t.name.startswith("synthohive-generate") for t in threading.enumerate())

    def failing(sink):
        sink("child", iter([pd.DataFrame({"x": [1]})]))
        raise GenerationError("model failed")

    stream = _generated_batches(failing, "child", lambda chunk: ["batch"])
    assert next(stream) == "batch"
    with pytest.raises(GenerationError, match="model failed"):
        next(stream)


def test_a_limit_stops_the_tasks_early(synth: Synthesizer) -> None:
    fresh = synth.sample_spark(scale=SCALE, seed=SEED, num_partitions=PARTITIONS, replicate_rows=REPLICATE)
    assert len(fresh["items"].limit(3).collect()) == 3
