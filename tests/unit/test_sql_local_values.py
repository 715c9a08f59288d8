"""Values that must survive a SQLite or DuckDB round trip exactly: decimals."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from syntho_hive.connectors.sql.source import SQLSource


# --------------------------------------------------------------------------- decimals come back exact


def test_duckdb_decimals_and_hugeints_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "dec.duckdb"
    connection = duckdb.connect(str(path))
    connection.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, n DECIMAL(38,10), m DECIMAL(18,4), h HUGEINT)")
    connection.sql("INSERT INTO t VALUES (1, 1234567890123456789012345678.0123456789, 12345678901234.5678, "
                   "170141183460469231731687303715884105727), (2, -0.0000000001, -0.0001, -1)")
    connection.close()
    source = SQLSource(f"duckdb:///{path}")
    expected = {"n": [Decimal("1234567890123456789012345678.0123456789"), Decimal("-0.0000000001")],
                "m": [Decimal("12345678901234.5678"), Decimal("-0.0001")],
                "h": [Decimal(2**127 - 1), Decimal(-1)]}
    read = source.read_table("t").sort_values("id")
    frames, _ = source.read_tables(source.reflect())
    query = SQLSource(f"duckdb:///{path}", queries={"q": "SELECT id, n, m, h FROM t"}).read_table("q")
    for frame in (read, frames["t"].sort_values("id"), query.sort_values("id")):
        for column, values in expected.items():
            assert list(frame[column]) == values, column
            assert all(type(value) is Decimal for value in frame[column])


def test_sqlite_numerics_keep_every_digit(tmp_path: Path) -> None:
    path = tmp_path / "dec.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE rates (id INTEGER PRIMARY KEY, rate NUMERIC, fee DECIMAL(20,15), "
                           "price DECIMAL(10,2))")
        connection.execute("INSERT INTO rates VALUES (1, 0.000000000123, 0.000000000001234, 12.5), "
                           "(2, 1.5, 7, 0.125), (3, 123456789012345678901, 0.1, 3)")
    frame = SQLSource(f"sqlite:///{path}").read_table("rates").sort_values("id")
    # SQLite stores 0.000000000123 as the REAL 1.23e-10 and the huge integer as REAL too (out of int64)
    assert [str(value) for value in frame["rate"]] == ["1.23E-10", "1.5", "1.2345678901234568E+20"]
    # padded to the declared scale (as PostgreSQL and DuckDB return them), never rounded to it
    assert [str(value) for value in frame["fee"]] == ["1.234E-12", "7.000000000000000", "0.100000000000000"]
    assert [str(value) for value in frame["price"]] == ["12.50", "0.125", "3.00"]

