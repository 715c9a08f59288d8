"""Values that must survive a SQLite or DuckDB round trip exactly: decimals, unsigned 64-bit integers."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.connectors.sql.target import SQLTarget
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SchemaError


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


# --------------------------------------------------------------------------- unsigned 64-bit into SQLite


def _u64_metadata() -> Metadata:
    metadata = Metadata().add_table("t", pk="id")
    # as reflected from a MariaDB BIGINT UNSIGNED
    metadata.tables["t"].column_types["id"] = ColumnType(kind="integer", bits=64, unsigned=True, nullable=False)
    return metadata


def test_an_unsigned_64_bit_value_beyond_sqlite_integers_is_refused_by_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u64.db'}"
    frame = pd.DataFrame({"id": np.array([1, 2**64 - 1], dtype="uint64")})
    with pytest.raises(SchemaError) as caught:
        with SQLTarget(url).open(_u64_metadata(), ["t"]) as writer:
            writer.write_table("t", [frame])
    message = str(caught.value)
    assert "'t'" in message and "'id'" in message and str(2**64 - 1) in message
    assert "column_types['id'] = ColumnType(kind='string')" in message
    with sqlite3.connect(tmp_path / "u64.db") as connection:  # the write was rolled back
        assert connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []


def test_unsigned_64_bit_values_that_fit_and_the_advised_text_column_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fit.db'}"
    with SQLTarget(url).open(_u64_metadata(), ["t"]) as writer:
        writer.write_table("t", [pd.DataFrame({"id": np.array([1, 2**63 - 1], dtype="uint64")})])
    assert sorted(SQLSource(url).read_table("t")["id"]) == [1, 2**63 - 1]

    url = f"sqlite:///{tmp_path / 'text.db'}"
    metadata = _u64_metadata()
    metadata.tables["t"].column_types["id"] = ColumnType(kind="string", nullable=False)
    with SQLTarget(url).open(metadata, ["t"]) as writer:
        writer.write_table("t", [pd.DataFrame({"id": np.array([1, 2**64 - 1], dtype="uint64")})])
    assert sorted(SQLSource(url).read_table("t")["id"], key=int) == ["1", str(2**64 - 1)]


# --------------------------------------------------------------------------- identifiers DuckDB refuses bare


@pytest.mark.parametrize("database", ["duckdb", "sqlite"])
def test_columns_and_tables_named_like_duckdb_keywords_are_written_and_read(tmp_path: Path, database: str) -> None:
    """``at``, ``by``, ``glob``, ``asof`` are keywords of DuckDB's parser that duckdb_engine's reserved
    words miss: SQLTarget wrote them bare (ParserException as SerializationError). Also a self-referencing
    table (DuckDB loads it level by level through a staging table), replaced and then appended to."""
    url = f"{database}:///{tmp_path / ('k.' + database)}"
    metadata = Metadata().add_table("asof", pk="id", fk={"by": "asof.id"})
    frame = pd.DataFrame({"id": [1, 2, 3], "by": pd.array([None, 1, 2], dtype="Int64"), "at": [0.5, 1.5, 2.5],
                          "glob": ["x", "y", "z"], "Mixed Case": [7, 8, 9]})
    for mode, rows in (("replace", frame), ("append", frame.assign(id=[4, 5, 6], by=pd.array([None, 4, 5],
                                                                                               dtype="Int64")))):
        with SQLTarget(url, if_exists=mode).open(metadata, ["asof"]) as writer:
            writer.write_table("asof", [rows])
    read = SQLSource(url).read_table("asof").sort_values("id").reset_index(drop=True)
    assert list(read["id"]) == [1, 2, 3, 4, 5, 6] and list(read["glob"]) == ["x", "y", "z"] * 2
    assert list(read["at"]) == [0.5, 1.5, 2.5] * 2 and list(read["Mixed Case"]) == [7, 8, 9] * 2
    assert [None if pd.isna(v) else int(v) for v in read["by"]] == [None, 1, 2, None, 4, 5]
