"""The Synthesizer's own Spark entry points: fit from a Hive database or Spark DataFrames, save_to_hive."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.connectors import Subset
from syntho_hive.exceptions import ConfigurationError, SchemaError


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({"customer_id": np.arange(1, 41, dtype="int64"),
                              "segment": rng.choice(["retail", "pro"], 40).astype(object)})
    orders = pd.DataFrame({"order_id": np.arange(1, 121, dtype="int64"),
                           "customer_id": rng.integers(1, 41, 120).astype("int64"),
                           "total": rng.gamma(2.0, 20.0, 120).round(2)})
    return {"customers": customers, "orders": orders}


def _metadata() -> Metadata:
    return (Metadata().add_table("customers", pk="customer_id")
            .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))


def test_fit_from_a_hive_database_and_from_dataframes_then_save_to_hive(spark: Any) -> None:
    frames = _frames()
    spark.sql("CREATE DATABASE IF NOT EXISTS synth_shop")
    for name, frame in frames.items():
        spark.createDataFrame(frame).write.mode("overwrite").saveAsTable(f"synth_shop.{name}")
    synth = Synthesizer(_metadata(), spark_session=spark, seed=0, epochs=1)
    synth.fit("synth_shop", progress_bar=False)
    assert synth.is_fitted
    mixed = Synthesizer(_metadata(), spark_session=spark, seed=0, epochs=1)
    mixed.fit({"customers": spark.table("synth_shop.customers"), "orders": "synth_shop.orders"},
              subset=Subset(root="customers", fraction=0.5, seed=0), progress_bar=False)
    assert mixed.subset_report_ is not None and mixed.subset_report_.kept["customers"] == 20
    tables = synth.sample_spark(seed=1, num_partitions=3)
    synth.save_to_hive(tables, database="synth_out", mode="error")
    customers = spark.table("synth_out.customers").toPandas()
    orders = spark.table("synth_out.orders").toPandas()
    assert len(customers) == 40 and customers["customer_id"].is_unique
    assert orders["customer_id"].isin(customers["customer_id"]).all()


def test_spark_inputs_without_a_session_are_refused(spark: Any) -> None:
    frame = spark.createDataFrame(_frames()["customers"])
    synth = Synthesizer(_metadata(), seed=0, epochs=1)
    with pytest.raises(ConfigurationError, match="spark_session"):
        synth.fit({"customers": frame, "orders": _frames()["orders"]})
    with pytest.raises(SchemaError, match="spark_session"):
        synth.fit("synth_shop")  # type: ignore[arg-type]
