"""SQLSource.reflect on real SQLite, DuckDB, PostgreSQL and MariaDB: keys, storage types, sdtypes, errors."""

from __future__ import annotations

import socket
import time

import pandas as pd
import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

import servers
from sql_source_zoo import create_schema, run
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.connectors.sql.types import suggest_sdtype
from syntho_hive.exceptions import SchemaError, SerializationError
from syntho_hive.relational.graph import SchemaGraph


def _expected_types(dialect: str) -> dict[str, str]:
    wide = dialect == "sqlite"  # SQLite's INTEGER and REAL are 8 bytes
    sized = dialect != "duckdb"  # DuckDB keeps no VARCHAR length
    types = {
        "id": "int64", "small": "int16", "medium": "int64" if wide else "int32", "big": "int64",
        "amount": "decimal(12,2)", "ratio": "float64" if wide else "float32", "score": "float64",
        "active": "boolean", "born": "date", "seen": "timestamp", "seen_tz": "timestamp with time zone",
        "at_time": "time", "label": "string(40)" if sized else "string", "sku": "string(20)" if sized else "string",
        "note": "string", "token": "uuid", "mood": "string(5)" if dialect == "sqlite" else "enum(sad, ok, happy)",
        "doc": "json", "raw": "binary", "employee_id": "int64" if wide else "int32",
    }
    if dialect in ("sqlite", "mysql"):
        del types["seen_tz"]
    if dialect == "sqlite":
        del types["token"]
    return types


def test_reflect_keys_storage_types_and_sdtypes(database_url: str) -> None:
    dialect = create_schema(database_url)
    source = SQLSource(database_url)
    assert source.table_names() == ["departments", "employees", "empty", "zoo"]

    metadata = source.reflect()

    assert list(metadata.tables) == ["departments", "employees", "empty", "zoo"]
    departments, employees, zoo = (metadata.tables[name] for name in ("departments", "employees", "zoo"))
    assert departments.pk == ["region", "code"] and departments.fk == {}
    assert employees.pk == "id"
    assert employees.fk == {"region": "departments.region", "dept_code": "departments.code",
                            "manager_id": "employees.id"}
    assert zoo.pk == "id" and zoo.fk == {"employee_id": "employees.id"}
    graph = SchemaGraph.from_metadata(metadata)
    assert graph.order.index("departments") < graph.order.index("employees") < graph.order.index("zoo")
    assert [rel.child_columns for rel in graph.parents_of("employees") if rel.parent == "departments"] == \
        [("region", "dept_code")]
    assert [rel.child for rel in graph.self_references("employees")] == ["employees"]

    assert {name: ct.describe() for name, ct in zoo.column_types.items()} == _expected_types(dialect)
    nullable = {name: ct.nullable for name, ct in zoo.column_types.items()}
    assert nullable.pop("id") is False and nullable.pop("small") is False
    assert all(nullable.values())
    assert employees.column_types["manager_id"].nullable and not employees.column_types["region"].nullable
    if dialect != "sqlite":
        assert zoo.column_types["mood"].values == ["sad", "ok", "happy"]

    expected_sdtypes = {
        "id": "id", "small": "numerical", "medium": "categorical", "big": "numerical", "amount": "numerical",
        "ratio": "numerical", "score": "numerical", "active": "boolean", "born": "datetime", "seen": "datetime",
        "seen_tz": "datetime", "at_time": "numerical", "label": "categorical", "sku": "id", "note": "text",
        "token": "id", "mood": "categorical", "doc": "text", "raw": "categorical", "employee_id": "id",
    }
    assert zoo.columns == {name: expected_sdtypes[name] for name in zoo.column_types}
    assert employees.columns == dict.fromkeys(["id", "region", "dept_code", "manager_id"], "id")
    assert departments.columns == {"region": "id", "code": "id", "name": "categorical"}


def test_reflect_selection_and_name_errors(database_url: str) -> None:
    create_schema(database_url)
    source = SQLSource(database_url)

    metadata = source.reflect(["zoo", "employees", "departments"])
    assert list(metadata.tables) == ["zoo", "employees", "departments"]
    assert list(source.reflect(["departments"]).tables) == ["departments"]

    with pytest.raises(SchemaError, match="departments") as outside:
        source.reflect(["employees"])
    assert "employees" in str(outside.value) and "Include 'departments'" in str(outside.value)
    with pytest.raises(SchemaError, match="nope") as missing:
        source.reflect(["zoo", "nope"])
    assert "zoo" in str(missing.value).split("Tables there:")[1]
    with pytest.raises(SchemaError, match="employees"):
        list(source.iter_table("nope"))
    with pytest.raises(SchemaError, match="label") as column:
        list(source.iter_table("zoo", columns=["id", "no_such_column"]))
    assert "no_such_column" in str(column.value)
    with pytest.raises(SchemaError, match="does not exist"):
        SQLSource(database_url, schema="no_such_schema").table_names()


def test_foreign_key_to_unique_column_and_table_without_key(database_url: str) -> None:
    run(database_url, [
        "CREATE TABLE codes (id INTEGER NOT NULL PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE)",
        "CREATE TABLE uses (id INTEGER NOT NULL PRIMARY KEY, code VARCHAR(10) REFERENCES codes (code))",
        "CREATE TABLE loose (a INTEGER, b VARCHAR(20))",
        "INSERT INTO loose VALUES (1, 'x')",
    ])
    source = SQLSource(database_url)

    with pytest.raises(SchemaError, match="not the primary key") as error:
        source.reflect(["codes", "uses"])
    assert "uses" in str(error.value) and "codes" in str(error.value)

    with capture_logs() as logs:
        metadata = source.reflect(["loose"])
    assert metadata.tables["loose"].pk is None
    assert any(entry["event"] == "sql_table_without_primary_key" and entry["table"] == "loose" for entry in logs)


def _with_password(url: str, password: str) -> str:
    return sa.make_url(url).set(password=password).render_as_string(hide_password=False)


@pytest.mark.parametrize("server", ["postgres_url", "mariadb_url"])
def test_wrong_password_is_a_clean_serialization_error(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    wrong = "Wr0ng-Passw0rd-42"

    with pytest.raises(SerializationError) as error:
        SQLSource(_with_password(url, wrong)).table_names()

    message = str(error.value)
    assert servers.PASSWORD not in message and wrong not in message
    assert "***" in message and "password" in message.lower()
    assert error.value.__cause__ is None


@pytest.mark.parametrize("server", ["postgres_url", "mariadb_url"])
def test_unreachable_server_fails_fast(server: str, request: pytest.FixtureRequest) -> None:
    url = sa.make_url(request.getfixturevalue(server))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, nobody listens
    closed = url.set(port=port).update_query_dict({"connect_timeout": "3"}).render_as_string(hide_password=False)

    started = time.monotonic()
    with pytest.raises(SerializationError, match="cannot be reached") as error:
        SQLSource(closed).reflect()

    assert time.monotonic() - started < 10
    assert servers.PASSWORD not in str(error.value)


def test_missing_database_file_is_not_created(tmp_path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(SerializationError, match="does not exist"):
        SQLSource(f"sqlite:///{path}").table_names()
    assert not path.exists()


@pytest.mark.parametrize("server", ["postgres_url", "duckdb_url"])
def test_unsupported_type_is_carried_as_string_with_a_warning(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    run(url, ["CREATE TABLE spans (id INTEGER NOT NULL PRIMARY KEY, span INTERVAL)",
              "INSERT INTO spans VALUES (1, INTERVAL '2 days'), (2, NULL)"])

    with capture_logs() as logs, SQLSource(url) as source:
        metadata = source.reflect(["spans"])
        frame = source.read_table("spans")

    assert metadata.tables["spans"].column_types["span"].kind == "string"
    assert any(entry["event"] == "sql_unsupported_type" and entry["table"] == "spans"
               and entry["column"] == "span" and entry["type"] == "INTERVAL" for entry in logs)
    assert isinstance(frame.loc[0, "span"], str) and "2" in frame.loc[0, "span"] and frame.loc[1, "span"] is None


@pytest.mark.parametrize("server", ["mariadb_url", "duckdb_url"])
def test_unsigned_integers_stay_exact(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    big, medium = ("BIGINT UNSIGNED", "INT UNSIGNED") if server == "mariadb_url" else ("UBIGINT", "UINTEGER")
    run(url, [f"CREATE TABLE counters (id INTEGER NOT NULL PRIMARY KEY, hits {big} NOT NULL, seen {medium})",
              f"INSERT INTO counters VALUES (1, {2**64 - 1}, {2**32 - 1}), (2, 0, NULL)"])

    with SQLSource(url) as source:
        types = source.reflect(["counters"]).tables["counters"].column_types
        frame = source.read_table("counters")

    assert (types["hits"].describe(), types["seen"].describe()) == ("unsigned int64", "unsigned int32")
    assert frame["hits"].dtype == "uint64" and frame["seen"].dtype == "UInt32"
    assert frame["hits"].tolist() == [2**64 - 1, 0] and frame["seen"].tolist() == [2**32 - 1, pd.NA]


def test_the_first_use_of_a_source_gives_a_typed_error_for_an_unreachable_server() -> None:
    """On a process's first database call SQLAlchemy is imported inside the error guard: still a SerializationError."""
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, nobody listens
    script = (
        "import sys\n"
        "from syntho_hive.connectors import SQLSource\n"
        "from syntho_hive.exceptions import SerializationError\n"
        "assert 'sqlalchemy' not in sys.modules\n"
        f"url = 'postgresql+psycopg://postgres:postgres@127.0.0.1:{port}/postgres?connect_timeout=3'\n"
        "try:\n"
        "    SQLSource(url).table_names()\n"
        "except SerializationError as error:\n"
        "    print(error)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert "cannot be reached" in message
    # The password is masked in the URL, and the URL is not garbled where the password is also a word of it.
    assert f"postgresql+psycopg://postgres:***@127.0.0.1:{port}/postgres" in message


def test_an_unreadable_sample_value_falls_back_to_storage_sdtypes_and_the_read_names_the_column(
        postgres_url: str) -> None:
    """psycopg cannot load PostgreSQL's 'infinity' timestamps into datetime: reflection goes on without that
    table's sample (a warning says why), and reading the table names the column and a query that works."""
    notes = ", ".join(f"({i}, '2024-01-0{1 + i % 9}', 'note number {i} about something else entirely')"
                      for i in range(1, 40))
    run(postgres_url, [
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at TIMESTAMP, note TEXT)",
        "CREATE TABLE healthy (id INTEGER PRIMARY KEY, at TIMESTAMP, note TEXT)",
        f"INSERT INTO events VALUES {notes}, (40, 'infinity', 'the last one')",
        f"INSERT INTO healthy VALUES {notes}",
    ])
    source = SQLSource(postgres_url)
    with capture_logs() as logs:
        metadata = source.reflect()
    warned = [entry for entry in logs if entry["event"] == "sql_sample_unreadable"]
    assert [entry["table"] for entry in warned] == ["events"]
    assert "'at'" in warned[0]["error"] and "infinity" in warned[0]["error"]
    events, healthy = metadata.tables["events"], metadata.tables["healthy"]
    assert {name: sdtype for name, sdtype in events.columns.items() if name != "id"} == {
        name: suggest_sdtype(column_type) for name, column_type in events.column_types.items() if name != "id"}
    assert healthy.columns["note"] != events.columns["note"]  # the sample still refines the other table

    with pytest.raises(SchemaError) as unreadable:
        source.read_table("events")
    message = str(unreadable.value)
    assert "column 'at' (timestamp)" in message and "queries=" in message and "isfinite(col)" in message
    assert sa.make_url(postgres_url).password not in message

    advised = SQLSource(postgres_url, queries={"events": "SELECT id, CASE WHEN isfinite(at) THEN at END AS at "
                                                         "FROM events"})
    frame = advised.read_table("events").sort_values("id")
    assert frame["at"].isna().tolist() == [False] * 39 + [True]
