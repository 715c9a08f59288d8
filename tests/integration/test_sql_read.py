"""SQLSource reading on real SQLite, DuckDB, PostgreSQL and MariaDB: exact values, the storage dtype
contract, chunking, empty tables, queries standing in for tables, and reading a metadata's tables."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from sql_source_zoo import BIG, create_schema, expected_zoo
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.exceptions import SchemaError
from syntho_hive.relational.graph import SchemaGraph


def test_read_gives_exact_values_and_the_dtype_contract(database_url: str) -> None:
    dialect = create_schema(database_url)
    with SQLSource(database_url) as source:
        frame = source.read_table("zoo")

    pd.testing.assert_frame_equal(frame, expected_zoo(dialect))
    assert frame.loc[0, "big"] == BIG  # beyond 2**53, exact
    assert isinstance(frame.loc[0, "amount"], Decimal) and frame.loc[2, "amount"] is None
    assert frame.loc[2, "label"] is None and frame["big"].isna().tolist() == [False, False, True, False]


def test_chunked_read_equals_one_chunk(database_url: str) -> None:
    create_schema(database_url)
    with SQLSource(database_url) as source:
        whole = source.read_table("zoo")
        chunks = list(source.iter_table("zoo", chunk_rows=2))
        picked = list(source.iter_table("employees", columns=["manager_id", "id"], chunk_rows=3))

    assert [len(chunk) for chunk in chunks] == [2, 2]
    assert all(chunk.dtypes.equals(chunks[0].dtypes) for chunk in chunks)
    joined = pd.concat(chunks, ignore_index=True).sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole.sort_values("id", ignore_index=True))
    assert [list(chunk.columns) for chunk in picked] == [["manager_id", "id"]] * 2
    employees = pd.concat(picked, ignore_index=True).sort_values("id")
    assert employees["manager_id"].tolist() == [pd.NA, 1, 1, 2] and str(employees["manager_id"].dtype)[0] == "I"


def test_empty_table_gives_one_empty_frame_with_the_dtypes(database_url: str) -> None:
    create_schema(database_url)
    with SQLSource(database_url) as source:
        chunks = list(source.iter_table("empty", chunk_rows=2))

    assert len(chunks) == 1 and chunks[0].empty
    dtypes = chunks[0].dtypes
    assert list(chunks[0].columns) == ["id", "amount", "active", "seen", "label"]
    assert np.issubdtype(dtypes["id"], np.signedinteger) and dtypes["amount"] == object
    assert dtypes["active"] == "boolean" and dtypes["seen"] == "datetime64[ns]" and dtypes["label"] == object


def test_a_query_stands_in_for_a_table(database_url: str) -> None:
    dialect = create_schema(database_url)
    query = "SELECT z.id, z.amount, z.label, e.region FROM zoo z JOIN employees e ON e.id = z.employee_id " \
            "WHERE z.amount > 0 OR z.label = 'alpha'"
    with SQLSource(database_url, queries={"good_zoo": query}) as source:
        assert source.table_names()[-1] == "good_zoo"
        metadata = source.reflect(["good_zoo", "zoo", "employees", "departments"])
        frame = source.read_table("good_zoo").sort_values("id", ignore_index=True)
        frames, report = source.read_tables(metadata)

    config = metadata.tables["good_zoo"]
    assert config.pk is None and config.fk == {}
    assert list(config.column_types) == ["id", "amount", "label", "region"]
    assert frame["id"].tolist() == [1, 4] and frame["label"].tolist() == ["alpha", "alpha"]
    assert frame["region"].tolist() == ["eu", "eu"]
    if dialect == "sqlite":  # SQLite describes no query column: types come from the values
        assert frame["amount"].tolist() == [1234567890.12, 0.0]
    else:
        assert config.column_types["amount"].kind == "decimal"
        assert frame["amount"].tolist() == [Decimal("1234567890.12"), Decimal("0.00")]
    assert report is None
    pd.testing.assert_frame_equal(frames["good_zoo"].sort_values("id", ignore_index=True), frame)
    assert set(frames) == {"good_zoo", "zoo", "employees", "departments"}


def test_read_tables_reads_only_declared_tables_and_columns(database_url: str) -> None:
    create_schema(database_url)
    with SQLSource(database_url) as source:
        metadata = source.reflect(["departments", "employees", "zoo"])
        zoo = metadata.tables["zoo"]
        for column in ("note", "raw", "doc"):
            del zoo.column_types[column]
            del zoo.columns[column]
        frames, report = source.read_tables(metadata)
        with pytest.raises(SchemaError, match="Tables there"):
            source.read_tables(metadata.add_table("missing", pk="id"))

    assert report is None and set(frames) == {"departments", "employees", "zoo"}
    assert list(frames["zoo"].columns) == list(zoo.column_types)
    assert len(frames["zoo"]) == 4 and len(frames["employees"]) == 4 and len(frames["departments"]) == 3


def test_read_tables_with_a_subset_keeps_keys_closed(database_url: str) -> None:
    from syntho_hive.relational.subset import Subset

    create_schema(database_url)
    with SQLSource(database_url) as source:
        metadata = source.reflect(["departments", "employees", "zoo"])
        frames, report = source.read_tables(metadata, Subset(root="departments", rows=1, seed=3))

    assert report is not None and 1 <= report.kept["departments"] <= 3
    assert {name: len(frame) for name, frame in frames.items()} == {name: report.kept[name] for name in frames}
    graph = SchemaGraph.from_metadata(metadata)
    for rel in graph.relationships:
        child = frames[rel.child][list(rel.child_columns)].dropna()
        parent_keys = set(map(tuple, frames[rel.parent][list(rel.parent_columns)].itertuples(index=False)))
        assert set(map(tuple, child.itertuples(index=False))) <= parent_keys, rel.name
    assert list(frames["zoo"].columns) == list(metadata.tables["zoo"].column_types)


def test_a_subset_reads_only_the_declared_columns(database_url: str) -> None:
    """A column left out of the metadata is never read, with a subset as without (here: dates pandas cannot hold)."""
    from sql_source_zoo import run

    from syntho_hive.relational.subset import Subset

    run(database_url, [
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(20), far DATE)",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), total INTEGER)",
        *[f"INSERT INTO customers VALUES ({i}, 'c{i}', '9999-12-31')" for i in range(6)],
        *[f"INSERT INTO orders VALUES ({i}, {i % 6}, {i * 10})" for i in range(12)]])
    with SQLSource(database_url, sample_rows=0) as source:
        metadata = source.reflect(["customers", "orders"])
        del metadata.tables["customers"].column_types["far"]
        del metadata.tables["customers"].columns["far"]
        whole, _ = source.read_tables(metadata)
        frames, report = source.read_tables(metadata, Subset(root="customers", rows=2, seed=0))

    assert list(whole["customers"].columns) == list(frames["customers"].columns) == ["id", "name"]
    assert report is not None and len(frames["customers"]) == report.kept["customers"] == 2
    assert set(frames["orders"]["customer_id"]) == set(frames["customers"]["id"])
