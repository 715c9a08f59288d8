"""SQLSource on PostgreSQL values that have no faithful pandas form (numeric NaN, infinite dates): an error
that says what is wrong and suggests the query that reads the table.
"""

from __future__ import annotations

import pytest
from sql_source_zoo import run  # tests/integration is on sys.path (its conftest)

from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import SchemaError, SerializationError


def _table(url: str, values: str) -> None:
    run(url, ["CREATE SCHEMA s", "CREATE TABLE s.t (id int PRIMARY KEY, n numeric(10,2) NOT NULL)",
              f"INSERT INTO s.t SELECT g, {values} FROM generate_series(1, 20) g"])


def test_a_numeric_nan_is_an_error_not_a_missing_value(postgres_url: str) -> None:
    """One NaN in a NOT NULL numeric column was read as missing (synthetic nulls, then a failed write back)."""
    _table(postgres_url, "CASE WHEN g = 3 THEN 'NaN'::numeric ELSE g * 1.5 END")
    source = SQLSource(postgres_url, schema="s")
    with pytest.raises(SchemaError) as caught:
        source.read_tables(Metadata.from_source(source))
    message = str(caught.value)
    assert "table 't'" in message and "column 'n'" in message and "NaN" in message
    assert "NULLIF(n, 'NaN')" in message
    # The advice works: the query reads the NaN as a null.
    fixed = SQLSource(postgres_url, schema="s", queries={"t": "SELECT id, NULLIF(n, 'NaN') AS n FROM s.t"})
    frames, _ = fixed.read_tables(Metadata.from_source(fixed))
    assert frames["t"]["n"].isna().sum() == 1 and len(frames["t"]) == 20


def test_numerics_without_nan_read_as_before(postgres_url: str) -> None:
    _table(postgres_url, "g * 1.5")
    source = SQLSource(postgres_url, schema="s")
    frames, _ = source.read_tables(Metadata.from_source(source))
    assert frames["t"]["n"].notna().all() and len(frames["t"]) == 20


@pytest.mark.parametrize(("column", "value"), [("d date", "'infinity'"), ("ts timestamptz", "'-infinity'")])
def test_an_infinite_date_suggests_a_query(postgres_url: str, column: str, value: str) -> None:
    """psycopg cannot give 'infinity' as a Python date: the message said only "see the database's message"."""
    run(postgres_url, ["CREATE SCHEMA s", f"CREATE TABLE s.t (id int PRIMARY KEY, {column})",
                       f"INSERT INTO s.t VALUES (1, {value}), (2, NULL)"])
    source = SQLSource(postgres_url, schema="s")
    with pytest.raises(SerializationError) as caught:
        source.read_tables(Metadata.from_source(source))
    message = str(caught.value)
    assert "see the database's message" not in message
    assert "infinity" in message and "queries=" in message and "NULLIF" in message and "CASE WHEN" in message
