"""A small shop with every case a key-closed subset handles, as pandas frames and as Spark tables.

Composite key and composite FK (``order_items`` / ``shipments``), self-references (an employee
manager chain; review replies; an isolated ``regions`` tree), two FKs to one parent (``orders`` ->
``employees`` twice, keyless ``order_notes`` -> ``orders`` twice, ``sales`` -> ``stores`` twice),
keyless tables below the root and outside it, an isolated table and a part of the schema the root
does not reach. Values include exact decimals, UTC timestamps and nulls in foreign keys.
"""

from __future__ import annotations

import decimal
from typing import Any

import numpy as np
import pandas as pd


from shop_schema import orphans, shop_metadata  # noqa: F401 - shared with the SQL subset tests
from shop_schema import shop_frames as shared_shop_frames


def shop_frames(seed: int = 0) -> dict[str, pd.DataFrame]:
    """The shop with the Spark suite's types (decimals, UTC times, nullable integers)."""
    return shared_shop_frames(seed, rich=True)


def spark_frame(spark: Any, frame: pd.DataFrame) -> Any:
    """``frame`` as a Spark DataFrame: Int64 -> BIGINT, Decimal -> DECIMAL(12,2), UTC times -> TIMESTAMP."""
    from pyspark.sql import types as T

    from syntho_hive.connectors.spark.session import spark_type_for

    fields = []
    for name in frame.columns:
        values = frame[name].dropna()
        if frame[name].dtype == object and len(values) and isinstance(values.iloc[0], decimal.Decimal):
            data_type: Any = T.DecimalType(12, 2)
        else:
            data_type = spark_type_for(frame[name].dtype)
        fields.append(T.StructField(name, data_type, nullable=True))
    return spark.createDataFrame(frame.astype(object).where(frame.notna(), None), schema=T.StructType(fields))


def normalised(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The rows of ``frame`` as plain Python values (``None`` for nulls), sorted: what must match exactly."""
    rows = []
    for row in frame.astype(object).itertuples(index=False, name=None):
        rows.append(tuple(None if v is None or (not isinstance(v, (str, bytes, decimal.Decimal)) and pd.isna(v))
                          else (int(v) if isinstance(v, (np.integer,)) else v) for v in row))
    return sorted(rows, key=repr)
