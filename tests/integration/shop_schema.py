"""The shop both subset suites use (SQL: ``test_sql_subset.py``; Spark: ``spark/``): its schema, its tables
(:func:`shop_frames`), and an orphan check written independently of the library (no SchemaGraph, no subset
code)."""

from __future__ import annotations

import decimal
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.metadata import Metadata


def shop_metadata() -> Metadata:
    md = Metadata()
    md.add_table("customers", pk="customer_id")
    md.add_table("employees", pk="employee_id", fk={"manager_id": "employees.employee_id"})
    md.add_table("categories", pk="category_id")
    md.add_table("products", pk="product_id", fk={"category_id": "categories.category_id"})
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id",
                                              "rep_id": "employees.employee_id",
                                              "approver_id": "employees.employee_id"})
    md.add_table("order_items", pk=["order_id", "line_no"], fk={"order_id": "orders.order_id",
                                                                "product_id": "products.product_id"})
    md.add_table("shipments", pk="shipment_id", fk={"item_order_id": "order_items.order_id",
                                                    "item_line_no": "order_items.line_no"})
    md.add_table("order_notes", fk={"order_id": "orders.order_id", "related_order_id": "orders.order_id"})
    md.add_table("reviews", pk="review_id", fk={"product_id": "products.product_id",
                                                "reply_to": "reviews.review_id"})
    md.add_table("price_history", fk={"product_id": "products.product_id",
                                      "category_id": "categories.category_id"})
    md.add_table("regions", pk="region_id", fk={"parent_id": "regions.region_id"})
    md.add_table("stores", pk="store_id")
    md.add_table("sales", pk="sale_id", fk={"store_id": "stores.store_id", "returned_to": "stores.store_id"})
    return md


def fk_groups(md: Metadata, table: str) -> list[tuple[str, list[str], list[str]]]:
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    for column, target in md.tables[table].fk.items():
        parent, _, parent_column = target.rpartition(".")
        key = parent if len(md.tables[parent].pk_columns) > 1 else f"{parent}:{column}"
        children, parents = grouped.setdefault(key, ([], []))
        children.append(column)
        parents.append(parent_column)
    return [(key.partition(":")[0], c, p) for key, (c, p) in grouped.items()]


def _values(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...] | None]:
    return [None if any(pd.isna(v) for v in row) else tuple(int(v) for v in row)
            for row in frame[columns].astype(object).itertuples(index=False, name=None)]


def orphans(md: Metadata, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    found = {}
    for table in md.tables:
        for parent, children, parents in fk_groups(md, table):
            present = set(_values(frames[parent], parents))
            missing = sum(1 for v in _values(frames[table], children) if v is not None and v not in present)
            if missing:
                found[f"{table}.{'+'.join(children)}->{parent}"] = missing
    return found


def _maybe(rng: np.random.Generator, values: Any, p_null: float) -> list[Any]:
    return [None if rng.random() < p_null else int(v) for v in values]


def _money(rng: np.random.Generator, n: int, high: float, exact: bool) -> Any:
    values = rng.uniform(1, high, n)
    return [decimal.Decimal(f"{v:.2f}") for v in values] if exact else np.round(values, 2)


def shop_frames(seed: int = 0, *, rich: bool = False) -> dict[str, pd.DataFrame]:
    """The shop's tables (integer key columns as nullable ``Int64``).

    Args:
        seed: Seed of every draw.
        rich: Also exact decimals (prices, order totals), UTC order times and statuses, and nullable
            integer quantities and stars (the Spark suite's types); plain floats and no order content
            otherwise (the SQL suite's DDL).
    """
    rng = np.random.default_rng(seed)
    n_orders = 90
    customers = pd.DataFrame({"customer_id": rng.permutation(np.arange(100, 130)),
                              "name": [f"cust{i}" for i in range(30)]})
    employees = pd.DataFrame({"employee_id": np.arange(1, 16),
                              "manager_id": [None] + [int(rng.integers(1, i + 1)) for i in range(1, 15)],
                              "name": [f"emp{i}" for i in range(15)]})
    categories = pd.DataFrame({"category_id": np.arange(1, 6), "label": list("abcde")})
    products = pd.DataFrame({"product_id": np.arange(1, 31), "category_id": rng.integers(1, 6, 30),
                             "price": _money(rng, 30, 50, rich)})
    if rich:
        placed = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**7, n_orders), unit="s")
    orders = pd.DataFrame({"order_id": np.arange(1, n_orders + 1),
                           "customer_id": rng.choice(customers["customer_id"], n_orders),
                           "rep_id": _maybe(rng, rng.integers(1, 16, n_orders), 0.2),
                           "approver_id": _maybe(rng, rng.integers(1, 16, n_orders), 0.5)})
    if rich:
        orders = orders.assign(total=_money(rng, n_orders, 500, rich), placed_at=placed,
                               status=rng.choice(["new", "paid", "sent"], n_orders))
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
                           "price": _money(rng, 40, 50, rich)})
    regions = pd.DataFrame({"region_id": np.arange(1, 21),
                            "parent_id": [None] * 3 + [int(rng.integers(1, i + 1)) for i in range(3, 20)]})
    stores = pd.DataFrame({"store_id": np.arange(1, 11)})
    sales = pd.DataFrame({"sale_id": np.arange(1, 41), "store_id": rng.integers(1, 11, 40),
                          "returned_to": _maybe(rng, rng.integers(1, 11, 40), 0.7)})
    frames = {"customers": customers, "employees": employees, "categories": categories, "products": products,
              "orders": orders, "order_items": items, "shipments": shipments, "order_notes": notes,
              "reviews": reviews, "price_history": prices, "regions": regions, "stores": stores, "sales": sales}
    for frame in frames.values():  # key columns with nulls: nullable integers (Spark's BIGINT reads back so)
        for column in frame.columns:
            if column.endswith("_id") or column in ("reply_to", "returned_to", "item_line_no", "line_no") \
                    or (rich and column in ("qty", "stars")):
                frame[column] = pd.array([None if pd.isna(v) else int(v) for v in frame[column]], dtype="Int64")
    return frames


def complete_parts(md: Metadata, frames: dict[str, pd.DataFrame], report: Any, subset: Any) -> dict[str, pd.DataFrame]:
    """The kept rows marked complete (steps 1-2: their children all kept) per table, from a backend's
    subset and report; the rows step 3 added are left out."""
    from syntho_hive.relational.subset import complete_rows

    marks = complete_rows(md, frames, subset, report.drawn)
    return {name: frames[name][mask] for name, mask in marks.items()}
