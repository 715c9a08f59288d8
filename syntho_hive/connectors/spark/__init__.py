"""Spark and Hive (extra ``synthohive[spark]``: pyspark 4, Java 17).

- :class:`~syntho_hive.connectors.spark.source.SparkSource`: train from Hive tables or Spark
  DataFrames; the key-closed subset is computed in Spark and only it reaches the driver.
- :func:`~syntho_hive.connectors.spark.hive.save_to_hive`: write Spark DataFrames as Hive tables
  through staging tables (a failure leaves the old tables).
- :func:`~syntho_hive.connectors.spark.files.write_parquet` /
  :func:`~syntho_hive.connectors.spark.files.write_delta`: Parquet datasets, and Delta tables
  committed by ``deltalake`` (no Spark Delta jars).
- :mod:`~syntho_hive.connectors.spark.session`: :func:`require_spark`, :func:`check_identifier`,
  Spark types <-> :class:`~syntho_hive.core.metadata.ColumnType`.

Nothing here imports pyspark at import time; a missing pyspark is reported when first used.
"""

from __future__ import annotations

from syntho_hive._lazy import lazy_attributes

_LAZY: dict[str, tuple[str, ...]] = {
    "syntho_hive.connectors.spark.source": ("SparkSource",),
    "syntho_hive.connectors.spark.hive": ("save_to_hive",),
    "syntho_hive.connectors.spark.files": ("write_parquet", "write_delta"),
    "syntho_hive.connectors.spark.subset": ("subset_dataframes",),
    "syntho_hive.connectors.spark.session": ("require_spark", "check_identifier", "column_type_of", "spark_type_for",
                                            "spark_schema_for"),
}

__all__ = sorted(name for names in _LAZY.values() for name in names)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
