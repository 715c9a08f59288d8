"""A small schema with every column type SQLSource reads, created on each test backend.

``departments`` has a composite primary key, ``employees`` a composite foreign key to it and a
self-reference (``manager_id``), ``zoo`` one column per storage type (with NULLs and a bigint
beyond 2**53), and ``empty`` no rows. :func:`expected_zoo` is the frame reading ``zoo`` must give.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa

BIG = 2**62 + 1
UUID_1 = "0e0c5d5a-9c3b-4f0e-8d2a-1b2c3d4e5f60"
UUID_2 = "a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d"
LONG_NOTE = ("A long free-text note about this row that goes on well past fifty characters, number ")


def dialect_name(url: str) -> str:
    """``sqlite``, ``duckdb``, ``postgresql`` or ``mysql`` (MariaDB)."""
    return sa.make_url(url).get_backend_name().replace("mariadb", "mysql")


def _types(dialect: str) -> dict[str, str]:
    """The column DDL that differs between backends."""
    if dialect == "postgresql":
        return {"real": "REAL", "double": "DOUBLE PRECISION", "ts": "TIMESTAMP(6)", "tstz": "TIMESTAMPTZ",
                "uuid": "UUID", "mood": "mood", "json": "JSONB", "blob": "BYTEA", "int": "INTEGER"}
    if dialect == "mysql":
        return {"real": "FLOAT", "double": "DOUBLE", "ts": "DATETIME(6)", "tstz": None, "uuid": "UUID",
                "mood": "ENUM('sad', 'ok', 'happy')", "json": "JSON", "blob": "BLOB", "int": "INTEGER"}
    if dialect == "duckdb":
        return {"real": "REAL", "double": "DOUBLE", "ts": "TIMESTAMP", "tstz": "TIMESTAMPTZ", "uuid": "UUID",
                "mood": "mood", "json": "JSON", "blob": "BLOB", "int": "INTEGER"}
    return {"real": "REAL", "double": "DOUBLE PRECISION", "ts": "TIMESTAMP", "tstz": None, "uuid": None,
            "mood": "VARCHAR(5)", "json": "JSON", "blob": "BLOB", "int": "INTEGER"}


def _blob(dialect: str, hex_text: str) -> str:
    if dialect == "postgresql":
        return f"'\\x{hex_text}'::bytea"
    if dialect == "duckdb":
        return "'" + "".join(f"\\x{hex_text[i:i + 2]}" for i in range(0, len(hex_text), 2)) + "'::BLOB"
    return f"X'{hex_text}'"


def run(url: str, statements: list[str]) -> None:
    """Execute ``statements`` in one transaction, on a PostgreSQL ``public`` schema emptied first
    (the fixture drops the schemas the test user owns, and ``public`` belongs to
    ``pg_database_owner``)."""
    if dialect_name(url) == "postgresql":
        statements = ["DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public", *statements]
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def run_in_schema(url: str, statements: list[str]) -> str | None:
    """``run`` ``statements`` with ``{p}`` replaced by the prefix of a new schema ``synth`` (none on SQLite, which
    has no schemas); returns the schema used."""
    schema = None if url.startswith("sqlite") else "synth"
    prefix = f"{schema}." if schema else ""
    run(url, ([f"CREATE SCHEMA {schema}"] if schema else []) + [text.replace("{p}", prefix) for text in statements])
    return schema


def create_schema(url: str) -> str:
    """Create and fill the schema; returns the dialect name."""
    dialect = dialect_name(url)
    types = _types(dialect)
    tz_column = f", seen_tz {types['tstz']}" if types["tstz"] else ""
    uuid_column = f", token {types['uuid']}" if types["uuid"] else ""
    statements: list[str] = []
    if dialect in ("postgresql", "duckdb"):
        statements.append("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    statements += [
        "CREATE TABLE departments (region VARCHAR(10) NOT NULL, code INTEGER NOT NULL, name VARCHAR(40) NOT NULL, "
        "PRIMARY KEY (region, code))",
        "CREATE TABLE employees (id INTEGER NOT NULL PRIMARY KEY, region VARCHAR(10) NOT NULL, "
        "dept_code INTEGER NOT NULL, manager_id INTEGER, "
        "FOREIGN KEY (region, dept_code) REFERENCES departments (region, code), "
        "FOREIGN KEY (manager_id) REFERENCES employees (id))",
        f"CREATE TABLE zoo (id BIGINT NOT NULL PRIMARY KEY, small SMALLINT NOT NULL, medium {types['int']}, "
        f"big BIGINT, amount NUMERIC(12, 2), ratio {types['real']}, score {types['double']}, active BOOLEAN, "
        f"born DATE, seen {types['ts']}{tz_column}, at_time TIME, label VARCHAR(40), sku VARCHAR(20) UNIQUE, "
        f"note TEXT{uuid_column}, mood {types['mood']}, doc {types['json']}, raw {types['blob']}, "
        "employee_id INTEGER REFERENCES employees (id))",
        "CREATE TABLE empty (id INTEGER NOT NULL PRIMARY KEY, amount NUMERIC(12, 2), active BOOLEAN, "
        f"seen {types['ts']}, label TEXT)",
        "INSERT INTO departments VALUES ('eu', 1, 'Sales')",
        "INSERT INTO departments VALUES ('us', 1, 'Support')",
        "INSERT INTO departments VALUES ('us', 2, 'Research')",
        "INSERT INTO employees VALUES (1, 'eu', 1, NULL)",
        "INSERT INTO employees VALUES (2, 'us', 1, 1)",
        "INSERT INTO employees VALUES (3, 'us', 2, 1)",
        "INSERT INTO employees VALUES (4, 'eu', 1, 2)",
    ]
    rows = [
        # id, small, medium, big, amount, ratio, score, active, born, seen, seen_tz, at_time, label, sku,
        # note, token, mood, doc, raw, employee_id
        (1, 7, 1, str(BIG), "1234567890.12", "0.5", "3.25", "TRUE", "'2024-02-29'", "'2024-02-29 13:45:30.123456'",
         "'2024-02-29 13:45:30+02:00'", "'13:45:30'", "'alpha'", "'SKU-1'", f"'{LONG_NOTE}1'", f"'{UUID_1}'",
         "'sad'", "'{\"a\": 1}'", _blob(dialect, "00ff10"), "1"),
        (2, -3, 1, "-5", "-0.01", "1.25", "-2.5", "FALSE", "'1999-12-31'", "'1999-12-31 23:59:59'",
         "'1999-12-31 23:59:59+00:00'", "'00:00:01'", "'beta'", "'SKU-2'", f"'{LONG_NOTE}2'", f"'{UUID_2}'",
         "'happy'", "'[1, 2]'", _blob(dialect, "41"), "2"),
        (3, 0, 2, "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
         "NULL", "NULL", "NULL", "NULL", "NULL"),
        (4, 32767, 2, "0", "0.00", "-4", "1e10", "TRUE", "'2000-01-01'", "'2000-01-01 00:00:00'",
         "'2000-01-01 00:00:00-05:00'", "'23:59:59'", "'alpha'", "'SKU-4'", f"'{LONG_NOTE}4'", "NULL", "'ok'",
         "'{}'", _blob(dialect, ""), "4"),
    ]
    for row in rows:
        values = list(map(str, row))
        if not types["tstz"]:
            del values[10]
        if not types["uuid"]:
            del values[15 if types["tstz"] else 14]
        statements.append(f"INSERT INTO zoo VALUES ({', '.join(values)})")
    run(url, statements)
    return dialect


def expected_zoo(dialect: str) -> pd.DataFrame:
    """What reading ``zoo`` must give on ``dialect`` (values and dtypes)."""
    types = _types(dialect)
    int_dtype = "Int64" if dialect == "sqlite" else "Int32"  # SQLite's INTEGER is 8 bytes
    ratio_dtype = np.float64 if dialect == "sqlite" else np.float32  # SQLite's REAL is 8 bytes
    frame = pd.DataFrame({
        "id": np.array([1, 2, 3, 4], dtype=np.int64),
        "small": np.array([7, -3, 0, 32767], dtype=np.int16),
        "medium": pd.array([1, 1, 2, 2], dtype=int_dtype),
        "big": pd.array([BIG, -5, None, 0], dtype="Int64"),
        "amount": np.array([Decimal("1234567890.12"), Decimal("-0.01"), None, Decimal("0.00")], dtype=object),
        "ratio": np.array([0.5, 1.25, np.nan, -4.0], dtype=ratio_dtype),
        "score": np.array([3.25, -2.5, np.nan, 1e10], dtype=np.float64),
        "active": pd.array([True, False, None, True], dtype="boolean"),
        "born": pd.to_datetime(["2024-02-29", "1999-12-31", None, "2000-01-01"]).astype("datetime64[ns]"),
        "seen": pd.to_datetime(["2024-02-29 13:45:30.123456", "1999-12-31 23:59:59", None,
                                "2000-01-01 00:00:00"], format="ISO8601").astype("datetime64[ns]"),
    })
    if types["tstz"]:
        frame["seen_tz"] = pd.to_datetime(["2024-02-29 11:45:30", "1999-12-31 23:59:59", None,
                                           "2000-01-01 05:00:00"]).tz_localize("UTC").astype("datetime64[ns, UTC]")
    frame["at_time"] = np.array([dt.time(13, 45, 30), dt.time(0, 0, 1), None, dt.time(23, 59, 59)], dtype=object)
    frame["label"] = np.array(["alpha", "beta", None, "alpha"], dtype=object)
    frame["sku"] = np.array(["SKU-1", "SKU-2", None, "SKU-4"], dtype=object)
    frame["note"] = np.array([f"{LONG_NOTE}1", f"{LONG_NOTE}2", None, f"{LONG_NOTE}4"], dtype=object)
    if types["uuid"]:
        frame["token"] = np.array([UUID_1, UUID_2, None, None], dtype=object)
    frame["mood"] = np.array(["sad", "happy", None, "ok"], dtype=object)
    frame["doc"] = np.array(['{"a": 1}', "[1, 2]", None, "{}"], dtype=object)
    frame["raw"] = np.array([b"\x00\xff\x10", b"A", None, b""], dtype=object)
    frame["employee_id"] = pd.array([1, 2, None, 4], dtype=int_dtype)
    return frame
