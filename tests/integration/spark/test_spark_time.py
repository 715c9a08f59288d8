"""Spark ``TIME`` columns (pyspark 4.1+): read as times of day, modelled as such, written back as ``TIME``.

Spark 4.1 to 4.3 hold ``TIME`` in a table only where the session sets ``spark.sql.timeType.enabled``;
without it, a ``TIME`` DataFrame (a literal, ``createDataFrame``) is still read, and times are written
as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from syntho_hive import Synthesizer
from syntho_hive.connectors.spark import SparkSource
from syntho_hive.connectors.spark.files import write_parquet
from syntho_hive.connectors.spark.session import column_type_of, spark_type_for
from syntho_hive.core.metadata import ColumnType

TIME_TYPE_CONF = "spark.sql.timeType.enabled"


def _visits(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    seconds = rng.integers(8 * 3600, 18 * 3600, rows)
    arrived = [dt.time(int(s) // 3600, int(s) // 60 % 60, int(s) % 60, 500_000 * (i % 2))
               for i, s in enumerate(seconds)]
    arrived[3] = None
    return pd.DataFrame({"visit_id": np.arange(1, rows + 1, dtype="int64"), "arrived": pd.Series(arrived, dtype=object),
                         "minutes": rng.integers(5, 90, rows).astype("int64")})


@pytest.fixture()
def time_enabled(spark: Any) -> Iterator[Any]:
    """The session with ``spark.sql.timeType.enabled=true`` for the test (restored after)."""
    before = spark.conf.get(TIME_TYPE_CONF, None)
    spark.conf.set(TIME_TYPE_CONF, "true")
    try:
        yield spark
    finally:
        if before is None:
            spark.conf.unset(TIME_TYPE_CONF)
        else:
            spark.conf.set(TIME_TYPE_CONF, before)


def _times(values: pd.Series) -> bool:
    present = values.dropna()
    return len(present) > 0 and all(type(value) is dt.time for value in present)


def test_a_time_table_is_read_as_times_modelled_and_written_back_as_time(time_enabled: Any) -> None:
    from pyspark.sql import types as T

    spark = time_enabled
    visits = _visits()
    spark.sql("CREATE DATABASE IF NOT EXISTS time_shop")
    spark.createDataFrame(visits).write.mode("overwrite").format("parquet").saveAsTable("time_shop.visits")
    assert isinstance(spark.table("time_shop.visits").schema["arrived"].dataType, T.TimeType)

    source = SparkSource(spark, "time_shop")
    metadata = source.reflect()
    assert metadata.tables["visits"].column_types["arrived"].kind == "time"
    assert metadata.tables["visits"].columns["arrived"] == "numerical"
    read = source.read_table("visits").sort_values("visit_id", ignore_index=True)
    assert _times(read["arrived"])
    assert read["arrived"].tolist() == visits["arrived"].tolist()  # to the microsecond, the null kept

    metadata.tables["visits"].pk = "visit_id"
    metadata.tables["visits"].columns["visit_id"] = "id"
    synth = Synthesizer(metadata, spark_session=spark, seed=0, epochs=1)
    synth.fit("time_shop", progress_bar=False)
    assert _times(synth.sample(seed=1)["visits"]["arrived"])

    tables = synth.sample_spark(seed=1, num_partitions=2)
    assert isinstance(tables["visits"].schema["arrived"].dataType, T.TimeType)
    synth.save_to_hive(tables, database="time_out", mode="overwrite")
    written = spark.table("time_out.visits")
    assert isinstance(written.schema["arrived"].dataType, T.TimeType)
    back = written.toPandas()
    assert len(back) == len(visits) and _times(back["arrived"])


def test_a_time_dataframe_is_read_as_times_without_the_setting_and_written_as_text(spark: Any,
                                                                                   tmp_path: Path) -> None:
    from pyspark.sql import types as T

    assert str(spark.conf.get(TIME_TYPE_CONF, "false")).lower() == "false"
    frame = spark.createDataFrame(pd.DataFrame({"visit_id": [1, 2],
                                                "arrived": [dt.time(12, 34, 56, 123456), None]}))
    assert isinstance(frame.schema["arrived"].dataType, T.TimeType)
    read = SparkSource(spark, tables={"visits": frame}).read_table("visits").sort_values("visit_id")
    assert read["arrived"].tolist() == [dt.time(12, 34, 56, 123456), None]

    write_parquet({"visits": frame}, tmp_path)  # Spark writes no TIME file without the setting: text
    stored = pq.read_table(tmp_path / "visits").sort_by("visit_id")
    assert str(stored.schema.field("arrived").type) == "string"
    assert stored.column("arrived").to_pylist()[0].startswith("12:34:56.123456")


def test_time_column_types_map_to_spark_time_only_where_the_session_writes_it() -> None:
    from pyspark.sql import types as T

    time = ColumnType(kind="time")
    assert spark_type_for(time) == T.StringType()
    assert spark_type_for(time, time_type=True) == T.TimeType()
    back = column_type_of(T.StructField("c", spark_type_for(time, time_type=True), nullable=True))
    assert back.model_dump(exclude={"source"}) == time.model_dump(exclude={"source"})
