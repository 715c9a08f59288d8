"""Writing Spark DataFrames on a real local Spark: Hive tables through staging and swap (a failing
executor leaves the old tables), identifiers refused before any SQL, partitioned Parquet, and Delta
tables committed by ``deltalake`` without Spark's Delta jars."""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from spark_shop import normalised, spark_frame

from syntho_hive.connectors.spark.files import write_delta, write_parquet
from syntho_hive.connectors.spark.hive import save_to_hive
from syntho_hive.connectors.spark.source import SparkSource
from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError


def _customers(offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.array(range(1 + offset, 9 + offset), dtype="Int64"),
                         "name": [f"cust{i + offset}" for i in range(8)]})


def _orders(offset: int = 0) -> pd.DataFrame:
    n = 20
    return pd.DataFrame({
        "order_id": pd.array(range(1, n + 1), dtype="Int64"),
        "customer_id": pd.array([1 + offset + i % 8 for i in range(n)], dtype="Int64"),
        "total": [decimal.Decimal(f"{i * 7 + offset}.{i % 100:02d}") if i % 5 else None for i in range(n)],
        "placed_at": pd.Timestamp("2024-05-01 08:00", tz="UTC") + pd.to_timedelta(range(n), unit="h"),
        "status": [["new", "paid", "sent"][i % 3] for i in range(n)]})


def _failing(spark: Any, frame: pd.DataFrame) -> Any:
    """``frame`` as a Spark DataFrame whose computation fails in a Python task (as a generator might)."""
    healthy = spark_frame(spark, frame).repartition(2)

    def explode(batches: Any) -> Any:
        for batch in batches:
            if (batch["order_id"] > 15).any():
                raise ValueError("boom: the generator failed on an executor")
            yield batch

    return healthy.mapInPandas(explode, schema=healthy.schema)


def _hidden_tables(spark: Any, database: str) -> list[str]:
    """SynthoHive's staging tables left in ``database``, and folders left in its warehouse folder."""
    from urllib.parse import urlparse

    folder = Path(urlparse(spark.catalog.getDatabase(database).locationUri).path)
    return ([t.name for t in spark.catalog.listTables(database) if t.name.startswith("_synthohive_")]
            + [p.name for p in folder.iterdir() if p.name.startswith("_synthohive_")])


# --------------------------------------------------------------------------- Hive
def test_save_to_hive_round_trip_partitions_and_refuses_to_replace_in_error_mode(spark: Any) -> None:
    tables = {"customers": spark_frame(spark, _customers()), "orders": spark_frame(spark, _orders())}
    written = save_to_hive(tables, "synth_rt", mode="error", partition_by={"orders": ["status"]})
    assert written == {"customers": "synth_rt.customers", "orders": "synth_rt.orders"}
    source = SparkSource(spark, "synth_rt")
    assert source.table_names() == ["customers", "orders"]
    back = source.read_table("orders")
    assert normalised(back[list(_orders().columns)]) == normalised(_orders())
    assert normalised(source.read_table("customers")) == normalised(_customers())
    assert str(back["placed_at"].dtype) == "datetime64[ns, UTC]"
    assert back["total"].map(type).eq(decimal.Decimal).sum() == 16  # exact decimals, nulls as None
    partitions = sorted(row[0] for row in spark.sql("SHOW PARTITIONS synth_rt.orders").collect())
    assert partitions == ["status=new", "status=paid", "status=sent"]
    assert spark.sql("DESCRIBE TABLE EXTENDED synth_rt.orders").where("col_name = 'Provider'").collect()[0][1] == \
        "parquet"

    with pytest.raises(SerializationError, match=r"\['customers', 'orders'\] already exist.*nothing was written"):
        save_to_hive({"customers": spark_frame(spark, _customers(100)), "orders": spark_frame(spark, _orders(100))},
                     "synth_rt", mode="error")
    assert normalised(source.read_table("customers")) == normalised(_customers())
    assert _hidden_tables(spark, "synth_rt") == []


def test_overwrite_that_fails_on_an_executor_leaves_the_old_tables_and_no_staging_table(spark: Any) -> None:
    save_to_hive({"customers": spark_frame(spark, _customers()), "orders": spark_frame(spark, _orders())},
                 "synth_ow", mode="error")
    source = SparkSource(spark, "synth_ow")
    with pytest.raises(SerializationError, match=r"(?s)Writing table 'orders'.*no table of 'synth_ow' changed.*boom"):
        save_to_hive({"customers": spark_frame(spark, _customers(100)), "orders": _failing(spark, _orders(100))},
                     "synth_ow", mode="overwrite")
    assert normalised(source.read_table("customers")) == normalised(_customers())  # staged, never swapped in
    assert normalised(source.read_table("orders")) == normalised(_orders())
    assert _hidden_tables(spark, "synth_ow") == [] and source.table_names() == ["customers", "orders"]

    save_to_hive({"customers": spark_frame(spark, _customers(100)), "orders": spark_frame(spark, _orders(100))},
                 "synth_ow", mode="overwrite")
    assert normalised(source.read_table("customers")) == normalised(_customers(100))
    assert normalised(source.read_table("orders")) == normalised(_orders(100))
    assert _hidden_tables(spark, "synth_ow") == []


def test_bad_identifiers_are_refused_before_any_sql(spark: Any) -> None:
    frame = spark_frame(spark, _customers())
    for table in ["orders; DROP TABLE x", "o`rders", "or'ders", 'or"ders', "a.b", "1abc", "x" * 129]:
        with pytest.raises(SchemaError, match="not accepted"):
            save_to_hive({table: frame}, "never_made")
    for database in ["never_made; DROP DATABASE default", "never`made", "never.made"]:
        with pytest.raises(SchemaError, match="not accepted"):
            save_to_hive({"customers": frame}, database)
    with pytest.raises(SchemaError, match="not accepted"):
        save_to_hive({"customers": frame}, "never_made", partition_by={"customers": ["name`; DROP"]})
    with pytest.raises(SchemaError, match="no such column"):
        save_to_hive({"customers": frame}, "never_made", partition_by={"customers": ["region"]})
    with pytest.raises(ConfigurationError, match="mode"):
        save_to_hive({"customers": frame}, "never_made", mode="append")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="not accepted"):
        write_parquet({"bad name": frame}, "/tmp/never_made")
    assert not spark.catalog.databaseExists("never_made")


# --------------------------------------------------------------------------- Parquet
def test_write_parquet_partitioned_reads_back_and_a_failed_overwrite_keeps_the_old_files(spark: Any,
                                                                                        tmp_path: Path) -> None:
    from syntho_hive.connectors.files import ParquetSource

    root = tmp_path / "lake"
    tables = {"customers": spark_frame(spark, _customers()), "orders": spark_frame(spark, _orders())}
    written = write_parquet(tables, root, "error", partition_by={"orders": ["status"]})
    assert written == {"customers": str(root / "customers"), "orders": str(root / "orders")}
    assert sorted(p.name for p in (root / "orders").iterdir() if p.is_dir()) == \
        ["status=new", "status=paid", "status=sent"]
    assert [p.name for p in root.iterdir()] and not [p for p in root.iterdir() if p.name.startswith(".")]
    source = ParquetSource(root)
    orders = source.read_table("orders")
    assert normalised(orders[list(_orders().columns)]) == normalised(_orders())
    assert str(orders["placed_at"].dtype) == "datetime64[ns, UTC]"
    assert normalised(source.read_table("customers")) == normalised(_customers())

    with pytest.raises(SerializationError, match="already exist"):
        write_parquet(tables, root, "error")
    with pytest.raises(SerializationError, match="(?s)no table changed.*boom"):
        write_parquet({"customers": spark_frame(spark, _customers(100)), "orders": _failing(spark, _orders(100))},
                      root, "overwrite")
    assert normalised(source.read_table("customers")) == normalised(_customers())
    assert not [p for p in root.iterdir() if p.name.startswith(".")]
    write_parquet({"orders": spark_frame(spark, _orders(100))}, root, "overwrite")
    assert normalised(source.read_table("orders")) == normalised(_orders(100))


# --------------------------------------------------------------------------- Delta
def test_write_delta_commits_spark_parquet_as_delta_versions_read_back_with_deltalake(spark: Any,
                                                                                      tmp_path: Path) -> None:
    from deltalake import DeltaTable

    from syntho_hive.connectors.delta import DeltaSource

    root = tmp_path / "delta"
    tables = {"customers": spark_frame(spark, _customers()), "orders": spark_frame(spark, _orders())}
    written = write_delta(tables, root, "error", partition_by={"orders": ["status"]})
    assert written == {"customers": str(root / "customers"), "orders": str(root / "orders")}
    orders_table = DeltaTable(str(root / "orders"))
    assert orders_table.version() == 0 and DeltaTable(str(root / "customers")).version() == 0
    assert orders_table.metadata().partition_columns == ["status"]
    arrow = orders_table.to_pyarrow_table()
    assert arrow.schema.field("total").type == pa.decimal128(12, 2)
    assert arrow.schema.field("placed_at").type == pa.timestamp("us", tz="UTC")
    files = pa.table(orders_table.get_add_actions(flatten=True))
    assert arrow.num_rows == 20 and sum(files["num_records"].to_pylist()) == 20  # the statistics of the commit
    source = DeltaSource(root)
    assert normalised(source.read_table("orders")[list(_orders().columns)]) == normalised(_orders())
    assert normalised(source.read_table("customers")) == normalised(_customers())

    with pytest.raises(SerializationError, match="already exist"):
        write_delta(tables, root, "error")
    with pytest.raises(SerializationError, match="(?s)no Delta table changed.*boom"):
        write_delta({"customers": spark_frame(spark, _customers(100)), "orders": _failing(spark, _orders(100))},
                    root, "overwrite")
    assert DeltaTable(str(root / "customers")).version() == 0 and DeltaTable(str(root / "orders")).version() == 0
    assert not [p for p in (root / "customers").iterdir() if p.name.startswith("synthohive-")][1:]  # only v0's files

    write_delta({"customers": spark_frame(spark, _customers(100))}, root, "overwrite")
    customers = DeltaTable(str(root / "customers"))
    assert customers.version() == 1
    assert normalised(DeltaSource(root).read_table("customers")) == normalised(_customers(100))
    assert normalised(DeltaSource(root, version=0).read_table("customers")) == normalised(_customers())


def test_timestamp_partitions_keep_their_instants_whatever_the_session_time_zone(spark: Any, tmp_path: Path) -> None:
    """Spark names a TIMESTAMP partition folder in the session time zone; pyarrow and delta-rs read it as UTC.
    In New York, 10:30 UTC came back as 05:30 UTC, and the two 01:30 of the autumn change shared a folder."""
    import datetime as dt

    from deltalake import DeltaTable

    from syntho_hive.connectors.files import ParquetSource

    utc = dt.timezone.utc
    instants = [dt.datetime(2021, 1, 1, 10, 30, tzinfo=utc), dt.datetime(2021, 11, 7, 5, 30, tzinfo=utc),
                dt.datetime(2021, 11, 7, 6, 30, tzinfo=utc), dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=utc),
                None]
    frame = spark.createDataFrame(list(enumerate(instants)), "id bigint, ts timestamp")
    expected = [None if v is None else pd.Timestamp(v) for v in instants]
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        write_parquet({"t": frame}, tmp_path / "pq", partition_by={"t": ["ts"]})
        write_delta({"t": frame}, tmp_path / "delta", partition_by={"t": ["ts"]})
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    parquet = ParquetSource(tmp_path / "pq").read_table("t").sort_values("id")
    delta = DeltaTable(str(tmp_path / "delta" / "t")).to_pandas().sort_values("id")
    for read in (parquet, delta):
        assert [None if pd.isna(v) else v for v in read["ts"]] == expected


def test_write_delta_after_an_interrupted_first_write_of_a_table(spark: Any, tmp_path: Path) -> None:
    """A write_delta stopped between Spark's files and the first commit (a killed driver) leaves
    ``<table>/synthohive-<id>/`` and no Delta log; the next write_delta called that folder 'not a Delta table'."""
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    left = tmp_path / "delta" / "customers" / "synthohive-0123abcd"
    left.mkdir(parents=True)
    pq.write_table(pa.table({"customer_id": [99], "name": ["never committed"]}), left / "part-0.parquet")
    write_delta({"customers": spark_frame(spark, _customers())}, tmp_path / "delta", "error")
    assert normalised(DeltaTable(str(tmp_path / "delta" / "customers")).to_pandas()) == normalised(_customers())
    (tmp_path / "delta" / "orders").mkdir()
    (tmp_path / "delta" / "orders" / "notes.txt").write_text("someone else's")
    with pytest.raises(SerializationError, match="exists but is not a Delta table"):
        write_delta({"orders": spark_frame(spark, _orders())}, tmp_path / "delta", "error")


def test_columns_without_a_column_type_are_written_as_the_text_their_schema_declares(spark: Any,
                                                                                    tmp_path: Path) -> None:
    """Arrays, maps, structs and intervals (sample_spark types a timedelta column as an interval) were written
    natively while the Delta schema and _common_metadata declared them text: deltalake could not read the
    Delta table, a partitioned dataset could not be read, and an interval came back as a number."""
    from deltalake import DeltaTable

    from syntho_hive.connectors.files import ParquetSource

    frame = spark.sql("SELECT id, array(id, id + 1) AS arr, map('k', id) AS mp, make_dt_interval(0, 1, 30, 0) AS iv, "
                      "CAST(id % 2 AS STRING) AS g FROM range(4)")
    expected = SparkSource(spark, tables={"n": frame}).read_table("n").sort_values("id").reset_index(drop=True)
    assert expected.loc[0, "iv"] == "INTERVAL '0 01:30:00' DAY TO SECOND" and expected.loc[1, "arr"] == "[1, 2]"
    write_delta({"n": frame}, tmp_path / "delta")
    write_parquet({"n": frame}, tmp_path / "pq", partition_by={"n": ["g"]})
    delta = DeltaTable(str(tmp_path / "delta" / "n")).to_pandas()
    parquet = ParquetSource(tmp_path / "pq").read_table("n")
    for read in (delta, parquet):
        read = read[list(expected.columns)].sort_values("id").reset_index(drop=True)
        pd.testing.assert_frame_equal(read, expected, check_dtype=False)


def test_overwrite_refuses_views_and_external_tables_before_any_work(spark: Any, tmp_path: Path) -> None:
    """A view was refused only after every table had been generated and staged; an external table was replaced
    by a managed one in the warehouse, its own folder left with the old rows."""
    spark.sql("CREATE DATABASE IF NOT EXISTS unmanaged")
    spark.sql("DROP VIEW IF EXISTS unmanaged.recent")
    spark.sql("DROP TABLE IF EXISTS unmanaged.archive")
    spark.range(3).write.parquet(str(tmp_path / "archive"))
    spark.sql(f"CREATE TABLE unmanaged.archive (id BIGINT) USING parquet LOCATION '{tmp_path / 'archive'}'")
    spark.sql("CREATE VIEW unmanaged.recent AS SELECT id FROM unmanaged.archive")
    for name in ("recent", "archive"):
        with pytest.raises(SerializationError, match=f"managed tables only.*'{name}'"):
            save_to_hive({name: _failing(spark, _orders())}, "unmanaged", "overwrite")  # never computed
    assert not _hidden_tables(spark, "unmanaged")
    detail = spark.sql("DESCRIBE TABLE EXTENDED unmanaged.archive").where("col_name = 'Type'").first()
    assert detail["data_type"] == "EXTERNAL" and spark.table("unmanaged.archive").count() == 3


def test_names_spark_would_merge_are_refused_before_any_work(spark: Any) -> None:
    """A partition column named twice, or two tables whose names differ only in case, failed inside Spark after
    the tables had been computed (the generation of a sample_spark table, all for nothing)."""
    frame = _failing(spark, _orders())  # never computed
    with pytest.raises(SchemaError, match=r"names a column twice"):
        save_to_hive({"orders": frame}, "merged_names", partition_by={"orders": ["status", "status"]})
    with pytest.raises(SchemaError, match=r"names a column twice"):
        write_delta({"orders": frame}, "/tmp/never_made", partition_by={"orders": ["status", "status"]})
    with pytest.raises(SchemaError, match=r"\['Orders', 'orders'\] are one Hive table"):
        save_to_hive({"orders": frame, "Orders": frame}, "merged_names")
    assert not spark.catalog.databaseExists("merged_names")


def test_a_root_folder_with_spaces_and_percent_signs(spark: Any, tmp_path: Path) -> None:
    """The root went to Spark as a percent-encoded file URI, which Hadoop takes literally: Spark wrote into a
    folder named 'my%20lake...' beside it, and write_parquet then failed with a raw FileNotFoundError."""
    from deltalake import DeltaTable

    from syntho_hive.connectors.files import ParquetSource

    root = tmp_path / "my lake #1 100%"
    tables = {"customers": spark_frame(spark, _customers()), "orders": spark_frame(spark, _orders())}
    write_parquet(tables, root, partition_by={"orders": ["status"]})
    write_delta(tables, root / "delta", partition_by={"orders": ["status"]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my lake #1 100%"]
    assert normalised(ParquetSource(root).read_table("orders")[list(_orders().columns)]) == normalised(_orders())
    assert normalised(DeltaTable(str(root / "delta" / "customers")).to_pandas()) == normalised(_customers())


@pytest.mark.parametrize(("before", "after"), [(["status"], []), ([], ["status"])])
def test_write_delta_overwrite_that_changes_the_partitioning_keeps_the_partition_column(
        spark: Any, tmp_path: Path, before: list[str], after: list[str]) -> None:
    """The overwrite commit kept the recorded partition columns while Spark wrote the new layout: ``status``
    read back all null, partitioned -> unpartitioned and unpartitioned -> partitioned alike."""
    from deltalake import DeltaTable

    from syntho_hive.connectors.delta import DeltaSource

    root = tmp_path / "delta"
    write_delta({"orders": spark_frame(spark, _orders())}, root, partition_by={"orders": before})
    write_delta({"orders": spark_frame(spark, _orders(100))}, root, "overwrite", partition_by={"orders": after})
    table = DeltaTable(str(root / "orders"))
    assert table.version() == 1 and table.metadata().partition_columns == after
    columns = list(_orders().columns)
    assert normalised(DeltaSource(root).read_table("orders")[columns]) == normalised(_orders(100))
    assert normalised(DeltaSource(root, version=0).read_table("orders")[columns]) == normalised(_orders())


def test_save_to_hive_overwrite_of_an_orc_partitioned_table_warns_of_the_new_layout(spark: Any) -> None:
    from structlog.testing import capture_logs

    spark.sql("CREATE DATABASE IF NOT EXISTS layout_change")
    spark.sql("DROP TABLE IF EXISTS layout_change.customers")
    spark.sql("CREATE TABLE layout_change.customers (customer_id BIGINT, name STRING) STORED AS ORC "
              "PARTITIONED BY (p STRING)")
    with capture_logs() as logs:
        save_to_hive({"customers": spark_frame(spark, _customers())}, "layout_change", "overwrite")
    changed = [entry for entry in logs if entry["event"] == "hive_table_layout_changed"]
    assert len(changed) == 1 and changed[0]["log_level"] == "warning"
    assert (changed[0]["old_format"], changed[0]["old_partition_by"]) == ("orc", ["p"])
    assert (changed[0]["new_format"], changed[0]["new_partition_by"]) == ("parquet", [])
    with capture_logs() as logs:  # same layout again: no warning
        save_to_hive({"customers": spark_frame(spark, _customers())}, "layout_change", "overwrite")
    assert not [entry for entry in logs if entry["event"] == "hive_table_layout_changed"]
