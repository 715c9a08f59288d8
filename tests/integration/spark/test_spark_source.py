"""SparkSource on a real local Spark with a Hive metastore: reflection, storage dtypes, streaming,
the key-closed subset computed in Spark (the same rows as pandas), max_training_rows, clear errors."""

from __future__ import annotations

import decimal
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from spark_shop import normalised, orphans, shop_frames, shop_metadata, spark_frame
from shop_schema import complete_parts

from syntho_hive.connectors.spark.session import check_identifier, column_type_of, spark_type_for
from syntho_hive.connectors.spark.source import SparkSource
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError
from syntho_hive.relational.subset import Subset, subset_frames


@pytest.fixture(scope="module")
def shop_data() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    return shop_metadata(), shop_frames()


@pytest.fixture(scope="module")
def hive_shop(spark: Any, shop_data: tuple[Metadata, dict[str, pd.DataFrame]]) -> tuple[Metadata, dict]:
    """Five tables of the shop stored as Hive tables of database ``hive_shop`` (composite FK, self-reference,
    two FKs to one parent), with their metadata and pandas frames."""
    md, frames = shop_data
    names = ["customers", "employees", "orders", "order_items", "shipments"]
    small = Metadata()
    for name in names:
        config = md.tables[name]
        fk = {c: t for c, t in config.fk.items() if t.split(".")[0] in names}
        small.add_table(name, pk=config.pk, fk=fk)
    spark.sql("CREATE DATABASE IF NOT EXISTS hive_shop")
    for name in names:
        spark_frame(spark, frames[name]).coalesce(1).write.mode("overwrite").saveAsTable(f"hive_shop.{name}")
    return small, {name: frames[name] for name in names}


# --------------------------------------------------------------------------- reflection and dtypes
def test_reflect_hive_table_gives_column_types_and_sdtypes_but_no_keys(spark: Any) -> None:
    spark.sql("CREATE DATABASE IF NOT EXISTS typed_db")
    spark.sql("DROP TABLE IF EXISTS typed_db.typed")
    spark.sql("""CREATE TABLE typed_db.typed (tiny TINYINT, small SMALLINT, i INT, big BIGINT, f FLOAT, d DOUBLE,
                 amount DECIMAL(12,2), day DATE, at TIMESTAMP, local_at TIMESTAMP_NTZ, code STRING,
                 short VARCHAR(10), flag BOOLEAN, blob BINARY, tags ARRAY<INT>) USING parquet""")
    spark.sql("""INSERT INTO typed_db.typed VALUES
        (1, 300, 70000, 9007199254740993, 1.5, 2.25, 12345678.91, DATE'2024-02-29',
         TIMESTAMP'2024-03-01 10:11:12.123456', TIMESTAMP_NTZ'2024-03-01 10:11:12.5', 'A-1', 'ab', true, X'00FF',
         array(1, 2)),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    source = SparkSource(spark, "typed_db")
    assert source.table_names() == ["typed"]
    md = source.reflect()
    config = md.tables["typed"]
    assert config.pk is None and config.fk == {}  # Spark declares no keys: the user does
    kinds = {c: (t.kind, t.bits, t.precision, t.scale, t.timezone, t.length) for c, t in config.column_types.items()}
    assert kinds == {
        "tiny": ("integer", 8, None, None, False, None), "small": ("integer", 16, None, None, False, None),
        "i": ("integer", 32, None, None, False, None), "big": ("integer", 64, None, None, False, None),
        "f": ("float", 32, None, None, False, None), "d": ("float", 64, None, None, False, None),
        "amount": ("decimal", None, 12, 2, False, None), "day": ("date", None, None, None, False, None),
        "at": ("timestamp", None, None, None, True, None), "local_at": ("timestamp", None, None, None, False, None),
        "code": ("string", None, None, None, False, None), "short": ("string", None, None, None, False, 10),
        "flag": ("boolean", None, None, None, False, None), "blob": ("binary", None, None, None, False, None),
        "tags": ("string", None, None, None, False, None)}
    assert config.column_types["tags"].source == "array<int>"
    assert config.columns["amount"] == "numerical" and config.columns["at"] == "datetime"
    assert config.columns["flag"] == "boolean" and config.columns["day"] == "datetime"

    frame = source.read_table("typed")
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        "tiny": "Int8", "small": "Int16", "i": "Int32", "big": "Int64", "f": "float32", "d": "float64",
        "amount": "object", "day": "datetime64[ns]", "at": "datetime64[ns, UTC]", "local_at": "datetime64[ns]",
        "code": "object", "short": "object", "flag": "boolean", "blob": "object", "tags": "object"}
    row = frame.iloc[0]
    assert row["big"] == 9007199254740993  # beyond 2**53: exact
    assert row["amount"] == decimal.Decimal("12345678.91") and isinstance(row["amount"], decimal.Decimal)
    assert row["at"] == pd.Timestamp("2024-03-01 10:11:12.123456", tz="UTC")
    assert row["local_at"] == pd.Timestamp("2024-03-01 10:11:12.5")
    assert row["day"] == pd.Timestamp("2024-02-29") and row["blob"] == b"\x00\xff" and row["tags"] == "[1, 2]"
    assert frame.iloc[1]["amount"] is None and frame.iloc[1]["code"] is None and pd.isna(frame.iloc[1]["big"])


def test_not_null_columns_read_as_numpy_dtypes_and_iter_table_streams_partitions(spark: Any) -> None:
    from pyspark.sql import functions as F

    numbers = spark.range(0, 23, numPartitions=4).select(
        F.col("id"), (F.col("id") * 10).cast("int").alias("tens"), F.lit(True).alias("ok"),
        F.when(F.col("id") % 3 == 0, None).otherwise(F.col("id").cast("decimal(10,1)")).alias("maybe"))
    source = SparkSource(spark, tables={"numbers": numbers, "empty": spark.range(0)})
    chunks = list(source.iter_table("numbers", chunk_rows=4))
    assert len(chunks) >= 6 and all(0 < len(chunk) <= 4 for chunk in chunks)
    assert all(list(chunk.dtypes) == list(chunks[0].dtypes) for chunk in chunks)
    whole = pd.concat(chunks, ignore_index=True)
    assert whole["id"].tolist() == list(range(23)) and str(whole["id"].dtype) == "int64"
    assert str(whole["tens"].dtype) == "int32" and str(whole["ok"].dtype) == "bool"
    assert whole["maybe"].tolist()[:3] == [None, decimal.Decimal("1.0"), decimal.Decimal("2.0")]
    assert list(source.iter_table("numbers", columns=["tens"], chunk_rows=100))[0].columns.tolist() == ["tens"]
    empty = list(source.iter_table("empty"))
    assert len(empty) == 1 and empty[0].empty and str(empty[0]["id"].dtype) == "int64"
    with pytest.raises(SchemaError, match="no column"):
        source.iter_table("numbers", columns=["nope"])


# --------------------------------------------------------------------------- the subset in Spark
def test_subset_in_spark_keeps_exactly_the_rows_of_the_pandas_subset(spark: Any, shop_data: Any) -> None:
    md, frames = shop_data
    source = SparkSource(spark, tables={name: spark_frame(spark, frame) for name, frame in frames.items()})
    subset = Subset(root="customers", rows=7, seed=1)
    expected, expected_report = subset_frames(md, frames, subset)
    got, report = source.read_tables(md, subset)
    assert report == expected_report
    for name in md.tables:
        assert list(got[name].columns) == list(frames[name].columns), name
        assert normalised(got[name]) == normalised(expected[name]), name
    assert orphans(md, got) == {}
    complete, expected_complete = complete_parts(md, got, report, subset), \
        complete_parts(md, expected, expected_report, subset)
    assert set(complete) == set(expected_complete) == {"customers", "orders", "order_items", "shipments", "order_notes"}
    for name, frame in complete.items():  # the rows whose children are all kept: counts are learned from them
        assert normalised(frame) == normalised(expected_complete[name]), name
    assert sum(map(len, complete.values())) < sum(len(got[name]) for name in complete)  # step 3 added some
    # the cases the schema is here for did happen: composite FK, self-references, two FKs to one parent,
    # keyless tables inside and outside the root's reach, an isolated table, an unreached part
    assert report.kept["shipments"] > 0 and report.kept["order_notes"] > 0 and report.kept["price_history"] > 0
    assert 0 < report.kept["reviews"] < 40 and report.kept["regions"] > 0 and 0 < report.kept["stores"] < 10
    assert str(got["orders"]["placed_at"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(got["orders"]["total"].iloc[0], decimal.Decimal)


def test_subset_from_hive_tables_matches_pandas_and_max_training_rows_bounds_it(spark: Any, hive_shop: Any) -> None:
    md, frames = hive_shop
    subset = Subset(root="customers", fraction=0.2, seed=3)
    expected, expected_report = subset_frames(md, frames, subset)
    source = SparkSource(spark, "hive_shop", max_training_rows=100)
    got, report = source.read_tables(md, subset)
    assert report.kept == expected_report.kept and report.total == expected_report.total
    for name in md.tables:
        assert normalised(got[name]) == normalised(expected[name]), name
    assert orphans(md, got) == {} and report.kept["employees"] > 0 and report.kept["shipments"] > 0

    with pytest.raises(ConfigurationError, match=r"max_training_rows=100.*Subset\(root=\.\.\., fraction=") as info:
        source.read_tables(md)  # order_items has 181 rows: a subset is required
    assert "order_items (181 rows)" in str(info.value) and "customers" in str(info.value)
    two = Metadata().add_table("customers", pk="customer_id").add_table(
        "orders", pk="order_id", fk={"customer_id": "customers.customer_id"})
    bounded = r"table\(s\) orders \(\d+ rows\).*Subset\(root='customers', rows=\d+ or fewer\)"
    with pytest.raises(ConfigurationError, match=bounded):
        SparkSource(spark, "hive_shop", max_training_rows=30).read_tables(two, Subset(root="customers", rows=25))
    whole, none = SparkSource(spark, "hive_shop").read_tables(md)
    assert none is None and {n: len(f) for n, f in whole.items()} == {n: len(f) for n, f in frames.items()}


def test_tables_mapping_mixes_dataframes_and_hive_names(spark: Any, hive_shop: Any) -> None:
    md, frames = hive_shop
    md2 = Metadata().add_table("customers", pk="customer_id").add_table(
        "orders", pk="order_id", fk={"customer_id": "customers.customer_id"})
    source = SparkSource(spark, tables={"customers": spark.table("hive_shop.customers"), "orders": "hive_shop.orders"})
    got, report = source.read_tables(md2, Subset(root="customers", rows=4, seed=5))
    expected, _ = subset_frames(md2, {"customers": frames["customers"], "orders": frames["orders"]},
                                Subset(root="customers", rows=4, seed=5))
    assert report.kept["customers"] == 4
    assert normalised(got["orders"]) == normalised(expected["orders"])



def test_metadata_table_names_match_hive_tables_in_any_case(spark: Any, hive_shop: Any) -> None:
    """Hive keeps table names in lower case and Spark finds ``hive_shop.Customers``; metadata named after the
    source system (``Customers``) was refused as 'not in the Spark source'."""
    md, frames = hive_shop
    camel = Metadata().add_table("Customers", pk="customer_id").add_table(
        "Orders", pk="order_id", fk={"customer_id": "Customers.customer_id"})
    got, _ = SparkSource(spark, "hive_shop").read_tables(camel)
    assert list(got) == ["Customers", "Orders"]
    assert normalised(got["Orders"]) == normalised(frames["orders"][list(got["Orders"].columns)])


def test_a_date_beyond_2262_names_the_table_and_the_way_out(spark: Any) -> None:
    """A 9999-12-31 'no end' date (common in warehouse tables) stopped reflection with a message naming neither
    the table nor what to do."""
    spark.sql("CREATE DATABASE IF NOT EXISTS far_dates")
    spark.sql("DROP TABLE IF EXISTS far_dates.contracts")
    spark.sql("CREATE TABLE far_dates.contracts (id BIGINT, valid_to DATE) USING parquet")
    spark.sql("INSERT INTO far_dates.contracts VALUES (1, DATE'9999-12-31'), (2, DATE'2021-01-01')")
    source = SparkSource(spark, "far_dates")
    with pytest.raises(SerializationError, match=r"(?s)Spark table 'contracts'.*'valid_to'.*1677-2262.*NULL"):
        source.reflect()
    with pytest.raises(SerializationError, match=r"Spark table 'contracts'"):
        list(source.iter_table("contracts"))

# --------------------------------------------------------------------------- errors
def test_missing_database_table_and_bad_names_are_clear_errors(spark: Any, hive_shop: Any) -> None:
    with pytest.raises(SchemaError, match=r"database 'nowhere' does not exist; databases there: .*hive_shop"):
        SparkSource(spark, "nowhere")
    with pytest.raises(SchemaError, match="not accepted"):
        SparkSource(spark, "hive_shop; DROP DATABASE hive_shop")
    with pytest.raises(SchemaError, match="not accepted"):
        SparkSource(spark, tables={"t": "hive_shop.`orders`"})
    source = SparkSource(spark, "hive_shop")
    md = Metadata().add_table("customers", pk="customer_id").add_table("refunds", pk="refund_id")
    with pytest.raises(SchemaError, match=r"\['refunds'\] of the metadata are not in the Spark source.*customers"):
        source.read_tables(md)
    with pytest.raises(SchemaError, match=r"\['refunds'\].*tables there: customers, employees"):
        source.read_table("refunds")
    with pytest.raises(SchemaError, match=r"names Spark table hive_shop.nope, which does not exist"):
        SparkSource(spark, tables={"t": "hive_shop.nope"}).read_table("t")
    with pytest.raises(ConfigurationError, match="max_training_rows"):
        SparkSource(spark, "hive_shop", max_training_rows=0)
    with pytest.raises(ConfigurationError, match="SparkSession"):
        SparkSource("not a session")  # type: ignore[arg-type]
    keyless_root = Metadata().add_table("customers")
    with pytest.raises(SchemaError, match="no primary key"):
        source.read_tables(keyless_root, Subset(root="customers", rows=2))


@pytest.mark.parametrize("name", ["orders; DROP TABLE x", "o`rders", "or'ders", 'or"ders', "a.b", "1abc", "a b",
                                  "x" * 129, "", "naïve"])
def test_check_identifier_refuses_what_could_change_a_statement(name: str) -> None:
    with pytest.raises(SchemaError, match="not accepted"):
        check_identifier(name, "table")


def test_identifier_allow_list_accepts_plain_names() -> None:
    assert check_identifier("_orders_2024", "table") == "_orders_2024"
    assert check_identifier("x" * 128) == "x" * 128


@pytest.mark.parametrize("column_type", [
    ColumnType(kind="integer", bits=8), ColumnType(kind="integer", bits=32, nullable=False),
    ColumnType(kind="float", bits=32), ColumnType(kind="decimal", precision=12, scale=2),
    ColumnType(kind="date"), ColumnType(kind="timestamp", timezone=True), ColumnType(kind="timestamp"),
    ColumnType(kind="boolean"), ColumnType(kind="binary"), ColumnType(kind="string")])
def test_spark_types_round_trip_through_column_types(column_type: ColumnType) -> None:
    from pyspark.sql import types as T

    back = column_type_of(T.StructField("c", spark_type_for(column_type), nullable=column_type.nullable))
    assert back.model_dump(exclude={"source"}) == column_type.model_dump(exclude={"source"})


def test_dtypes_map_to_spark_types() -> None:
    from pyspark.sql import types as T

    assert spark_type_for(np.dtype("int16")) == T.ShortType()
    assert spark_type_for(pd.Int64Dtype()) == T.LongType()
    assert spark_type_for(np.dtype("uint32")) == T.LongType()
    assert spark_type_for(np.dtype("float32")) == T.FloatType()
    assert spark_type_for("datetime64[ns]") == T.TimestampNTZType()
    assert spark_type_for(pd.DatetimeTZDtype(tz="UTC")) == T.TimestampType()
    assert spark_type_for(pd.BooleanDtype()) == T.BooleanType()
    assert spark_type_for(np.dtype(object)) == T.StringType()
    assert spark_type_for(ColumnType(kind="integer", bits=64, unsigned=True)) == T.LongType()
    with pytest.raises(SchemaError, match="38 digits"):
        spark_type_for(ColumnType(kind="decimal", precision=40, scale=2))


def test_require_spark_without_java_is_a_clear_error_and_sets_pyspark_python() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env["PATH"] = os.path.dirname(sys.executable)  # python, but no java
    code = ("import os, sys\n"
            "from syntho_hive.connectors.spark.session import require_spark\n"
            "from syntho_hive.exceptions import MissingDependencyError\n"
            "try:\n    require_spark()\nexcept MissingDependencyError as exc:\n    print('ERROR', exc)\n"
            "print('PYTHON', os.environ['PYSPARK_PYTHON'] == sys.executable)\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert "ERROR Spark needs Java" in done.stdout and "Java 17" in done.stdout, done.stdout + done.stderr
    assert "PYTHON True" in done.stdout
