"""SQLSource: a query standing in for a table of the schema (``queries={"customers": "SELECT ... WHERE
active = 1"}``) keeps that table's primary key, foreign keys and declared types when it returns those
columns, so the tables referencing it still reflect.
"""

from __future__ import annotations

import pytest
from sql_source_zoo import run_in_schema  # tests/integration is on sys.path (its conftest)

from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import SchemaError


def _shop(url: str) -> str | None:
    """customers(id PK, name VARCHAR(20) NOT NULL, active) <- orders(id PK, customer_id FK); the schema used."""
    return run_in_schema(url, [
        "CREATE TABLE {p}customers (id integer PRIMARY KEY, name varchar(20) NOT NULL, active integer NOT NULL)",
        "CREATE TABLE {p}orders (id integer PRIMARY KEY, customer_id integer REFERENCES {p}customers (id), "
        "total decimal(8, 2))",
        "INSERT INTO {p}customers VALUES (1, 'Ann', 1), (2, 'Bob', 0), (3, 'Cy', 1)",
        "INSERT INTO {p}orders VALUES (10, 1, 5.50), (11, 3, 7.25), (12, 1, NULL)"])


def test_a_query_standing_in_for_a_table_keeps_its_keys_and_types(database_url: str) -> None:
    schema = _shop(database_url)
    prefix = f"{schema}." if schema else ""
    source = SQLSource(database_url, schema=schema, queries={
        "customers": f"SELECT id, name FROM {prefix}customers WHERE active = 1",
        "orders": f"SELECT id, customer_id, total FROM {prefix}orders WHERE customer_id <> 2"})
    md = Metadata.from_source(source)  # raised "customers has no primary key" for orders' foreign key
    customers, orders = md.get_table("customers"), md.get_table("orders")
    assert customers.pk == "id" and orders.pk == "id"
    assert orders.fk == {"customer_id": "customers.id"}
    assert customers.column_types["id"].nullable is False
    declared = Metadata.from_source(SQLSource(database_url, schema=schema)).get_table("customers").column_types
    for column in ("id", "name"):  # the table's types (VARCHAR(20) where the database keeps lengths)
        assert customers.column_types[column].model_dump(exclude={"nullable"}) == \
            declared[column].model_dump(exclude={"nullable"})
    frames, _ = source.read_tables(md)
    assert sorted(frames["customers"]["id"].tolist()) == [1, 3] and len(frames["orders"]) == 3


def test_a_query_without_the_key_columns_has_no_keys(database_url: str) -> None:
    schema = _shop(database_url)
    prefix = f"{schema}." if schema else ""
    source = SQLSource(database_url, schema=schema, queries={
        "customers": f"SELECT name FROM {prefix}customers", "orders": f"SELECT id, total FROM {prefix}orders"})
    md = Metadata.from_source(source, tables=["orders"])
    assert md.get_table("orders").pk == "id" and md.get_table("orders").fk == {}
    with pytest.raises(SchemaError, match="no primary key"):  # orders keeps its key to customers, which has none
        Metadata.from_source(SQLSource(database_url, schema=schema, queries={
            "customers": f"SELECT name FROM {prefix}customers"}))


def test_the_schema_is_listed_as_often_for_two_queries_standing_in_for_tables_as_for_one(tmp_path, monkeypatch) \
        -> None:
    from syntho_hive.connectors.sql import reflect

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _shop(url)
    calls = []
    list_relations = reflect.list_relations
    monkeypatch.setattr(reflect, "list_relations", lambda *a, **k: calls.append(1) or list_relations(*a, **k))
    queries = {"customers": "SELECT id, name FROM customers WHERE active = 1",
               "orders": "SELECT id, customer_id FROM orders"}
    counts = []
    for names in (["customers"], ["customers", "orders"]):
        calls.clear()
        SQLSource(url, queries={name: queries[name] for name in names}).reflect(names)
        counts.append(len(calls))
    assert counts[0] == counts[1]
