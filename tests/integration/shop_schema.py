"""The shop schema both subset suites use (SQL: ``test_sql_subset.py``; Spark: ``spark/``) and an orphan
check written independently of the library (no SchemaGraph, no subset code)."""

from __future__ import annotations

from typing import Any

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
