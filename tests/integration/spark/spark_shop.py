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


def _maybe(rng: np.random.Generator, values: Any, p_null: float) -> list[Any]:
    return [None if rng.random() < p_null else int(v) for v in values]


def _money(rng: np.random.Generator, n: int, high: float) -> list[decimal.Decimal]:
    return [decimal.Decimal(f"{v:.2f}") for v in rng.uniform(1, high, n)]


def shop_frames(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_orders = 90
    customers = pd.DataFrame({"customer_id": rng.permutation(np.arange(100, 130)),
                              "name": [f"cust{i}" for i in range(30)]})
    employees = pd.DataFrame({"employee_id": np.arange(1, 16),
                              "manager_id": [None] + [int(rng.integers(1, i + 1)) for i in range(1, 15)],
                              "name": [f"emp{i}" for i in range(15)]})
    categories = pd.DataFrame({"category_id": np.arange(1, 6), "label": list("abcde")})
    products = pd.DataFrame({"product_id": np.arange(1, 31), "category_id": rng.integers(1, 6, 30),
                             "price": _money(rng, 30, 50)})
    placed = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**7, n_orders), unit="s")
    orders = pd.DataFrame({"order_id": np.arange(1, n_orders + 1),
                           "customer_id": rng.choice(customers["customer_id"], n_orders),
                           "rep_id": _maybe(rng, rng.integers(1, 16, n_orders), 0.2),
                           "approver_id": _maybe(rng, rng.integers(1, 16, n_orders), 0.5),
                           "total": _money(rng, n_orders, 500), "placed_at": placed,
                           "status": rng.choice(["new", "paid", "sent"], n_orders)})
    lines = rng.integers(1, 4, n_orders)
    items = pd.DataFrame({"order_id": np.repeat(orders["order_id"].to_numpy(), lines),
                          "line_no": np.concatenate([np.arange(1, k + 1) for k in lines]),
                          "product_id": rng.integers(1, 31, int(lines.sum())),
                          "qty": rng.integers(1, 5, int(lines.sum()))})
    shipped = items.sample(60, random_state=seed).reset_index(drop=True)
    shipments = pd.DataFrame({"shipment_id": np.arange(1, 71),
                              "item_order_id": [*map(int, shipped["order_id"]), *[None] * 10],
                              "item_line_no": [*map(int, shipped["line_no"]), *[None] * 10],
                              "carrier": rng.choice(["ups", "dhl"], 70)})
    notes = pd.DataFrame({"order_id": rng.integers(1, n_orders + 1, 50),
                          "related_order_id": _maybe(rng, rng.integers(1, n_orders + 1, 50), 0.4),
                          "note": [f"note {i}" for i in range(50)]})
    reviews = pd.DataFrame({"review_id": np.arange(1, 41), "product_id": rng.integers(1, 31, 40),
                            "reply_to": [None] * 15 + [int(rng.integers(1, i + 1)) for i in range(15, 40)],
                            "stars": rng.integers(1, 6, 40)})
    prices = pd.DataFrame({"product_id": rng.integers(1, 31, 40),
                           "category_id": _maybe(rng, rng.integers(1, 6, 40), 0.3),
                           "price": _money(rng, 40, 50)})
    regions = pd.DataFrame({"region_id": np.arange(1, 21),
                            "parent_id": [None] * 3 + [int(rng.integers(1, i + 1)) for i in range(3, 20)]})
    stores = pd.DataFrame({"store_id": np.arange(1, 11)})
    sales = pd.DataFrame({"sale_id": np.arange(1, 41), "store_id": rng.integers(1, 11, 40),
                          "returned_to": _maybe(rng, rng.integers(1, 11, 40), 0.7)})
    frames = {"customers": customers, "employees": employees, "categories": categories, "products": products,
              "orders": orders, "order_items": items, "shipments": shipments, "order_notes": notes,
              "reviews": reviews, "price_history": prices, "regions": regions, "stores": stores, "sales": sales}
    for frame in frames.values():  # integer columns: nullable Int64 (Spark's nullable BIGINT reads back so)
        for column in frame.columns:
            if column.endswith("_id") or column in ("reply_to", "returned_to", "item_line_no", "line_no", "qty",
                                                    "stars"):
                frame[column] = pd.array([None if pd.isna(v) else int(v) for v in frame[column]], dtype="Int64")
    return frames


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
