"""SQLTarget on real databases (SQLite, DuckDB, PostgreSQL, MariaDB): exact round trips of every
storage type, the declared column types and PK/FK constraints in the database, zero orphans,
``if_exists`` fail/replace/append, and atomicity: a failure part-way leaves the target as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from syntho_hive.connectors.sql.ddl import column_type_from_dtype, sql_type_for
from syntho_hive.connectors.sql.target import STAGE_PREFIX, SQLTarget
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import GenerationError, SchemaError, SerializationError

PASSWORD = "s3cret-Pa55"  # the test servers' password (servers.PASSWORD); never in a message
BIG = 2**62 + 1
MOODS = ["low", "mid", "high"]
EMPLOYEES = 12

# ---------------------------------------------------------------------------------- fixtures


def _dialect(url: str) -> str:
    return sa.make_url(url).get_backend_name().replace("mariadb", "mysql")


def _schema(url: str) -> str | None:
    """A schema the test owns (dropped by the fixtures); SQLite writes to its main database."""
    return None if _dialect(url) == "sqlite" else "synth"


def _name(url: str, table: str) -> str:
    schema = _schema(url)
    return f"{schema}.{table}" if schema else table


def metadata() -> Metadata:
    """region (composite pk) <- employee (composite fk, self-reference, the type zoo) <- timesheet (composite pk)."""
    md = Metadata()
    md.add_table("region", pk=["country", "code"])
    md.add_table("employee", pk="id", fk={"country": "region.country", "code": "region.code", "boss": "employee.id"})
    md.add_table("timesheet", pk=["employee_id", "day"], fk={"employee_id": "employee.id"})
    md.tables["region"].column_types.update({
        "country": ColumnType(kind="string", length=2, nullable=False),
        "code": ColumnType(kind="integer", bits=32, nullable=False),
        "name": ColumnType(kind="string")})
    md.tables["employee"].column_types.update({
        "id": ColumnType(kind="integer", bits=64, nullable=False),
        "country": ColumnType(kind="string", length=2),
        "code": ColumnType(kind="integer", bits=32),
        "boss": ColumnType(kind="integer", bits=64),
        "salary": ColumnType(kind="decimal", precision=12, scale=2),
        "score": ColumnType(kind="float", bits=64),
        "active": ColumnType(kind="boolean"),
        "hired": ColumnType(kind="date"),
        "updated": ColumnType(kind="timestamp"),
        "seen": ColumnType(kind="timestamp", timezone=True),
        "nick": ColumnType(kind="string", length=40),
        "notes": ColumnType(kind="string"),
        "badge": ColumnType(kind="uuid"),
        "mood": ColumnType(kind="enum", values=MOODS)})
    md.tables["timesheet"].column_types.update({
        "employee_id": ColumnType(kind="integer", bits=64, nullable=False),
        "day": ColumnType(kind="date", nullable=False),
        "hours": ColumnType(kind="decimal", precision=5, scale=2)})
    return md


def frames(seed: int = 0, rows: int = EMPLOYEES, id_offset: int = 0) -> dict[str, pd.DataFrame]:
    """The three tables in the storage dtype contract, NULLs in every nullable column."""
    rng = np.random.default_rng(seed)
    region = pd.DataFrame({"country": ["fr", "de", "jp"], "code": np.array([1, 2, 1], dtype="int32"),
                           "name": ["Île-de-France", None, "東京"]})
    ids = np.arange(rows, dtype="int64") + BIG + id_offset
    # Bosses are later rows: a child arrives before its parent (in an earlier chunk).
    boss = pd.array([int(ids[i + 1 + rng.integers(0, rows - i - 1)]) if i < rows - 1 and i % 4 else None
                     for i in range(rows)], dtype="Int64")
    nulls = np.arange(rows) % 5 == 3
    picks = rng.integers(0, 3, rows)
    employee = pd.DataFrame({
        "id": ids,
        "country": pd.Series(np.where(nulls, None, region["country"].to_numpy()[picks]), dtype=object),
        "code": pd.array([None if n else int(region["code"][p]) for n, p in zip(nulls, picks)], dtype="Int32"),
        "boss": boss,
        "salary": [None if n else Decimal(int(rng.integers(-10**11, 10**11))).scaleb(-2) for n in nulls],
        "score": np.where(nulls, np.nan, rng.normal(size=rows) * 1e6),
        "active": pd.array([None if n else bool(rng.integers(0, 2)) for n in nulls], dtype="boolean"),
        "hired": pd.Series(pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 9000, rows), unit="D")
                           ).where(~nulls),
        "updated": pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**12, rows), unit="us")
                             ).where(~nulls),
        "seen": pd.Series(pd.to_datetime("2021-03-04", utc=True)
                          + pd.to_timedelta(rng.integers(-10**13, 10**13, rows), unit="us")).where(~nulls),
        "nick": [None if n else f"nick {i} 'q' \"dq\" ü" for i, n in enumerate(nulls)],
        "notes": [None if n else ["tab\there", "new\nline", "back\\slash", "", "NULL", "日本語 ✓"][i % 6]
                  for i, n in enumerate(nulls)],
        "badge": [None if n else str(uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | i)) for i, n in enumerate(nulls)],
        "mood": [None if n else MOODS[i % 3] for i, n in enumerate(nulls)]})
    days = pd.to_datetime(["2024-01-01", "2024-01-02"])
    timesheet = pd.DataFrame({"employee_id": np.repeat(ids[:4], 2), "day": np.tile(days, 4),
                              "hours": [Decimal("7.50"), None, Decimal("8.00"), Decimal("0.25")] * 2})
    return {"region": region, "employee": employee, "timesheet": timesheet}


def chunked(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    """``frame`` in chunks of ``size`` rows, with an empty chunk in the middle."""
    yield frame.iloc[:size]
    yield frame.iloc[:0]
    for start in range(size, len(frame), size):
        yield frame.iloc[start:start + size]


def write(url: str, data: dict[str, pd.DataFrame], *, if_exists: str = "fail", chunk: int = 5,
          fail_in: str | None = None, **options: object) -> dict[str, str]:
    target = SQLTarget(url, _schema(url), if_exists=if_exists, **options)
    md = metadata()

    def chunks(name: str) -> Iterator[pd.DataFrame]:
        for number, piece in enumerate(chunked(data[name], chunk)):
            if name == fail_in and number == 2:
                raise GenerationError("simulated generation failure")
            yield piece

    with target.open(md, list(data)) as writer:
        return {name: writer.write_table(name, chunks(name)) for name in data}


def read(url: str, table: str, order: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(f"SELECT * FROM {_name(url, table)} ORDER BY {order}"))
            columns = list(result.keys())
            rows = result.all()  # raw driver values: no float conversion of nullable bigints
            return pd.DataFrame({column: pd.Series([row[i] for row in rows], dtype=object)
                                 for i, column in enumerate(columns)})
    finally:
        engine.dispose()


def tables_in(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if _dialect(url) == "duckdb":
                return {row[0] for row in connection.execute(sa.text(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"))}
            schema = _schema(url)
            inspector = sa.inspect(connection)
            if schema is not None and schema not in inspector.get_schema_names():
                return set()
            return set(inspector.get_table_names(schema=schema))
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------ comparison


def _normal(value: object, column_type: ColumnType) -> object:
    """A database value (or an input value) in one comparable spelling."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    kind = column_type.kind
    if kind == "integer":
        return int(value)  # type: ignore[call-overload]
    if kind == "float":
        return float(value)  # type: ignore[arg-type]
    if kind == "decimal":
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-(column_type.scale or 0)))
    if kind == "boolean":
        return bool(value)
    if kind == "date":
        return str(value)[:10]
    if kind == "timestamp":
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        if column_type.timezone:
            stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
        return stamp
    if kind == "uuid":
        return str(value).lower()
    return str(value)


def assert_same_rows(url: str, table: str, expected: pd.DataFrame, order: list[str]) -> None:
    types = metadata().tables[table].column_types
    got = read(url, table, ", ".join(order))
    expected = expected.sort_values(order).reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for column in expected.columns:
        want = [_normal(v, types[column]) for v in expected[column].astype(object)]
        have = [_normal(v, types[column]) for v in got[column].astype(object)]
        assert have == want, f"{table}.{column} differs on {_dialect(url)}"


# ---------------------------------------------------------------------------- catalog views


def column_types_in_db(url: str, table: str) -> dict[str, tuple[str, bool]]:
    """``{column: (type as the database spells it, lower case; nullable)}``."""
    dialect, schema = _dialect(url), _schema(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if dialect == "postgresql":
                rows = connection.execute(sa.text(
                    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull FROM pg_attribute a "
                    "WHERE a.attrelid = CAST(:name AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"),
                    {"name": f"{schema}.{table}"})
            elif dialect == "sqlite":
                rows = [(row[1], row[2], not row[3]) for row in connection.exec_driver_sql(
                    f"PRAGMA table_info('{table}')")]
            else:
                rows = connection.execute(sa.text(
                    f"SELECT column_name, {'column_type' if dialect == 'mysql' else 'data_type'}, is_nullable "
                    "FROM information_schema.columns WHERE table_schema = :schema AND table_name = :table"),
                    {"schema": schema, "table": table})
            return {str(name): (str(kind).lower(), nullable in (True, "YES", 1)) for name, kind, nullable in rows}
    finally:
        engine.dispose()


EXPECTED_TYPES = {
    "postgresql": {"id": "bigint", "country": "character varying(2)", "code": "integer", "boss": "bigint",
                   "salary": "numeric(12,2)", "score": "double precision", "active": "boolean", "hired": "date",
                   "updated": "timestamp without time zone", "seen": "timestamp with time zone",
                   "nick": "character varying(40)", "notes": "text", "badge": "uuid", "mood": "employee_mood"},
    "mysql": {"id": "bigint(20)", "country": "varchar(2)", "code": "int(11)", "boss": "bigint(20)",
              "salary": "decimal(12,2)", "score": "double", "active": "tinyint(1)", "hired": "date",
              "updated": "datetime(6)", "seen": "datetime(6)", "nick": "varchar(40)", "notes": "text",
              "badge": "uuid", "mood": "enum('low','mid','high')"},
    "duckdb": {"id": "bigint", "country": "varchar", "code": "integer", "boss": "bigint", "salary": "decimal(12,2)",
               "score": "double", "active": "boolean", "hired": "date", "updated": "timestamp",
               "seen": "timestamp with time zone", "nick": "varchar", "notes": "varchar", "badge": "uuid",
               "mood": "varchar"},
    "sqlite": {"id": "bigint", "country": "varchar(2)", "code": "integer", "boss": "bigint",
               "salary": "numeric(12, 2)", "score": "double", "active": "boolean", "hired": "date",
               "updated": "datetime", "seen": "datetime", "nick": "varchar(40)", "notes": "text", "badge": "text",
               "mood": "varchar(4)"},
}


def constraints_in_db(url: str, table: str) -> tuple[list[str], list[tuple[tuple[str, ...], str, tuple[str, ...]]]]:
    """``(primary key columns, [(fk columns, referenced table, referenced columns)])``."""
    dialect, schema = _dialect(url), _schema(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if dialect == "duckdb":
                rows = connection.execute(sa.text(
                    "SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names "
                    "FROM duckdb_constraints() WHERE schema_name = :schema AND table_name = :table"),
                    {"schema": schema, "table": table}).all()
                pk = next(list(cols) for kind, cols, _, _ in rows if kind == "PRIMARY KEY")
                fks = [(tuple(cols), ref, tuple(ref_cols)) for kind, cols, ref, ref_cols in rows if kind == "FOREIGN KEY"]
                return pk, sorted(fks)
            inspector = sa.inspect(connection)
            pk = inspector.get_pk_constraint(table, schema=schema)["constrained_columns"]
            fks = [(tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                   for fk in inspector.get_foreign_keys(table, schema=schema)]
            return list(pk), sorted(fks)
    finally:
        engine.dispose()


def orphans(url: str) -> int:
    engine = sa.create_engine(url)
    e, r, t = _name(url, "employee"), _name(url, "region"), _name(url, "timesheet")
    queries = [
        f"SELECT count(*) FROM {e} c WHERE c.boss IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {e} p WHERE p.id = c.boss)",
        f"SELECT count(*) FROM {e} c WHERE c.country IS NOT NULL AND c.code IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {r} p WHERE p.country = c.country AND p.code = c.code)",
        f"SELECT count(*) FROM {t} c WHERE NOT EXISTS (SELECT 1 FROM {e} p WHERE p.id = c.employee_id)"]
    try:
        with engine.connect() as connection:
            return sum(int(connection.execute(sa.text(query)).scalar_one()) for query in queries)
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------------- tests


def test_round_trip_is_exact_with_declared_types_and_constraints(database_url: str) -> None:
    data = frames()
    locations = write(database_url, data)
    assert locations["employee"].endswith(" " + _name(database_url, "employee"))
    assert PASSWORD not in "".join(locations.values())
    assert_same_rows(database_url, "region", data["region"], ["country", "code"])
    assert_same_rows(database_url, "employee", data["employee"], ["id"])
    assert_same_rows(database_url, "timesheet", data["timesheet"], ["employee_id", "day"])
    assert orphans(database_url) == 0

    dialect = _dialect(database_url)
    found = column_types_in_db(database_url, "employee")
    spelled = {column: kind for column, (kind, _) in found.items()}
    if dialect == "postgresql":  # the ENUM type lives in the target schema
        spelled["mood"] = spelled["mood"].removeprefix("synth.")
    assert spelled == EXPECTED_TYPES[dialect]
    assert found["id"][1] is False and found["notes"][1] is True
    assert column_types_in_db(database_url, "region")["code"][1] is False

    assert constraints_in_db(database_url, "region") == (["country", "code"], [])
    assert constraints_in_db(database_url, "employee") == (
        ["id"], sorted([(("boss",), "employee", ("id",)), (("country", "code"), "region", ("country", "code"))]))
    assert constraints_in_db(database_url, "timesheet") == (
        ["employee_id", "day"], [(("employee_id",), "employee", ("id",))])
    if dialect == "mysql":
        assert not {name for name in tables_in(database_url) if name.startswith(STAGE_PREFIX)}


def test_sqlsource_reads_back_what_was_written(database_url: str) -> None:
    from syntho_hive.connectors.sql.source import SQLSource

    data = frames(seed=3)
    write(database_url, data)
    with SQLSource(database_url, _schema(database_url)) as source:
        read_back = source.read_table("employee").sort_values("id").reset_index(drop=True)
    expected = data["employee"]
    assert read_back["id"].tolist() == expected["id"].tolist()
    assert read_back["boss"].astype(object).where(read_back["boss"].notna(), None).tolist() == \
        expected["boss"].astype(object).where(expected["boss"].notna(), None).tolist()
    assert read_back["salary"].tolist() == expected["salary"].tolist()
    assert read_back["badge"].tolist() == expected["badge"].tolist()
    assert read_back["notes"].tolist() == expected["notes"].tolist()
    pd.testing.assert_series_equal(read_back["updated"], expected["updated"].dt.floor("us"), check_dtype=False)


def test_fail_raises_before_anything_is_written(database_url: str) -> None:
    data = frames()
    write(database_url, {"region": data["region"]})
    with pytest.raises(SerializationError) as caught:
        write(database_url, data)  # region exists: nothing at all is written
    message = str(caught.value)
    assert _name(database_url, "region") in message and "if_exists='replace'" in message
    assert "'append'" in message and PASSWORD not in message
    assert tables_in(database_url) & {"employee", "timesheet"} == set()
    assert len(read(database_url, "region", "country")) == len(data["region"])


def test_replace_replaces_and_append_appends(database_url: str) -> None:
    first, second = frames(seed=1), frames(seed=2, rows=8)
    write(database_url, {name: first[name] for name in ("region", "employee")})
    write(database_url, {name: second[name] for name in ("region", "employee")}, if_exists="replace")
    assert_same_rows(database_url, "employee", second["employee"], ["id"])  # the old rows are gone

    # append: rows added to region and employee, timesheet (new) created referencing the old and new rows
    more = frames(seed=4, rows=6, id_offset=1_000)
    more["region"] = pd.DataFrame({"country": ["us"], "code": np.array([9], dtype="int32"), "name": ["Ohio"]})
    more["employee"].loc[0, ["country", "code"]] = ["us", 9]
    more["timesheet"].loc[0, "employee_id"] = second["employee"]["id"][0]
    write(database_url, more, if_exists="append")
    both = pd.concat([second["employee"], more["employee"]], ignore_index=True)
    assert_same_rows(database_url, "employee", both, ["id"])
    assert_same_rows(database_url, "timesheet", more["timesheet"], ["employee_id", "day"])
    assert sorted(read(database_url, "region", "country")["country"]) == ["de", "fr", "jp", "us"]
    assert orphans(database_url) == 0
    assert constraints_in_db(database_url, "employee")[0] == ["id"]
    assert constraints_in_db(database_url, "timesheet")[1] == [(("employee_id",), "employee", ("id",))]
    assert not {name for name in tables_in(database_url) if name.startswith("_synthohive")}


@pytest.mark.parametrize("if_exists", ["fail", "replace", "append"])
def test_failure_part_way_leaves_the_target_as_it_was(database_url: str, if_exists: str) -> None:
    before = frames(seed=5)
    if if_exists != "fail":
        write(database_url, before)
    after = frames(seed=6, id_offset=5_000)
    after["region"] = after["region"].assign(name="changed")
    if if_exists == "append":  # new region keys (the employees reference the regions already there)
        after["region"] = pd.DataFrame({"country": ["us"], "code": np.array([9], dtype="int32"), "name": ["Ohio"]})
    with pytest.raises(GenerationError, match="simulated"):
        write(database_url, after, if_exists=if_exists, fail_in="employee")
    present = tables_in(database_url)
    assert not {name for name in present if name.startswith("_synthohive")}
    if if_exists == "fail":
        assert present & {"region", "employee", "timesheet"} == set()
        if _dialect(database_url) != "sqlite":  # the schema created by the write is gone too
            engine = sa.create_engine(database_url)
            try:
                with engine.connect() as connection:
                    if _dialect(database_url) == "duckdb":
                        schemas = set(connection.execute(sa.text(
                            "SELECT schema_name FROM information_schema.schemata")).scalars())
                    else:
                        schemas = set(sa.inspect(connection).get_schema_names())
            finally:
                engine.dispose()
            assert "synth" not in schemas
        return
    assert_same_rows(database_url, "region", before["region"], ["country", "code"])
    assert_same_rows(database_url, "employee", before["employee"], ["id"])
    assert_same_rows(database_url, "timesheet", before["timesheet"], ["employee_id", "day"])
    assert constraints_in_db(database_url, "timesheet")[1] == [(("employee_id",), "employee", ("id",))]


def test_an_orphan_fails_the_write_and_changes_nothing(database_url: str) -> None:
    data = frames(seed=7)
    data["timesheet"].loc[0, "employee_id"] = 42  # no such employee
    with pytest.raises(SerializationError) as caught:
        write(database_url, data)
    assert PASSWORD not in str(caught.value)
    assert tables_in(database_url) & {"region", "employee", "timesheet"} == set()


@pytest.mark.parametrize("dtype", ["float64", "object"])
def test_a_fractional_foreign_key_is_named_as_an_orphan_and_changes_nothing(database_url: str, dtype: str) -> None:
    """1.5 matches no integer key: said before loading on every backend (an object column was told to declare
    its type in column_types, which the key's integer type overrides)."""
    data = frames(seed=7)
    keys = data["timesheet"]["employee_id"].astype(dtype)
    keys.iloc[3] = 1.5
    data["timesheet"]["employee_id"] = keys
    with pytest.raises(SchemaError, match=r"Table 'timesheet', column 'employee_id': the foreign key to "
                                          r"'employee.id' \(integer keys\) holds 1.5, which matches no key"):
        write(database_url, data)
    assert tables_in(database_url) & {"region", "employee", "timesheet"} == set()


def test_errors_never_show_the_password(postgres_url: str, mariadb_url: str) -> None:
    for url in (postgres_url, mariadb_url):
        wrong = url.replace(PASSWORD, "Wr0ng-" + PASSWORD)
        with pytest.raises(SerializationError) as caught:
            SQLTarget(wrong, "synth").open(metadata(), ["region"])
        assert PASSWORD not in str(caught.value) and "***" in str(caught.value)
        assert PASSWORD not in repr(SQLTarget(url))


def test_names_and_options_are_checked(sqlite_url: str) -> None:
    target = SQLTarget(sqlite_url)
    for bad in ("bad;name", 'say "hi"', "tick`s", "1st", "trailing "):
        with pytest.raises(SchemaError, match="letters, digits, underscores"):
            target.open(Metadata().add_table(bad, pk="id"), [bad])
    with pytest.raises(SchemaError):
        target.open(Metadata().add_table("t" * 64), ["t" * 64])
    with pytest.raises(SchemaError, match="if_exists"):
        SQLTarget(sqlite_url, if_exists="overwrite")  # type: ignore[arg-type]
    with pytest.raises(SchemaError):
        SQLTarget(sqlite_url, schema="x; DROP TABLE y")
    with pytest.raises(SerializationError, match="does not exist"):
        SQLTarget(sqlite_url, schema="other").open(metadata(), ["region"])


def test_names_with_spaces_and_hyphens_round_trip(database_url: str) -> None:
    from syntho_hive.connectors import SQLSource

    md = (Metadata().add_table("Event Log", pk="Event Id")
          .add_table("event-notes", pk="id", fk={"Event Id": "Event Log.Event Id"}))
    events = pd.DataFrame({"Event Id": np.array([1, 2, 3], dtype="int64"), "Order Total": [1.5, 2.5, np.nan]})
    notes = pd.DataFrame({"id": np.array([10, 11], dtype="int64"), "Event Id": np.array([3, 1], dtype="int64"),
                          "note": ["late", "ok"]})
    with SQLTarget(database_url).open(md, ["Event Log", "event-notes"]) as writer:
        writer.write_table("Event Log", [events])
        writer.write_table("event-notes", [notes])
    source = SQLSource(database_url)
    assert {"Event Log", "event-notes"} <= set(source.table_names())
    reflected = source.reflect(["Event Log", "event-notes"])
    assert reflected.tables["event-notes"].fk == {"Event Id": "Event Log.Event Id"}
    frames, _ = source.read_tables(reflected)
    assert frames["Event Log"].sort_values("Event Id")["Order Total"].tolist()[:2] == [1.5, 2.5]
    assert sorted(frames["event-notes"]["note"]) == ["late", "ok"]


def test_types_inferred_from_dtypes_without_metadata(database_url: str) -> None:
    frame = pd.DataFrame({"k": ["a", "bb"], "n": np.array([2**62 + 1, -3], dtype="int64"),
                          "m": pd.array([1, None], dtype="Int32"), "x": [0.5, np.nan], "b": [True, False],
                          "t": pd.to_datetime(["2020-01-01 01:02:03.000004", None]),
                          "z": pd.to_datetime(["2020-01-01", "2021-01-01"], utc=True),
                          "d": [Decimal("123.450"), Decimal("-0.5")], "s": ["x", None]})
    md = Metadata().add_table("plain", pk="k")
    with SQLTarget(database_url, _schema(database_url)).open(md, ["plain"]) as writer:
        writer.write_table("plain", [frame])
    found = column_types_in_db(database_url, "plain")
    assert found["n"][1] is False and found["m"][1] is True and found["k"][1] is False
    got = read(database_url, "plain", "k")
    assert [int(v) for v in got["n"]] == [2**62 + 1, -3]
    assert [Decimal(str(v)) for v in got["d"]] == [Decimal("123.450"), Decimal("-0.500")]
    assert got["s"].tolist()[1] is None and got["m"].isna().tolist() == [False, True]


def test_column_type_inference() -> None:
    assert column_type_from_dtype(pd.Series([1], dtype="int64")) == ColumnType(
        kind="integer", bits=64, nullable=False, source="inferred from int64")
    assert column_type_from_dtype(pd.Series([1, None], dtype="Int32")).nullable
    assert column_type_from_dtype(pd.Series([Decimal("12.345"), Decimal("-1234.5")])).model_dump(
        include={"kind", "precision", "scale"}) == {"kind": "decimal", "precision": 7, "scale": 3}
    assert column_type_from_dtype(pd.Series(pd.to_datetime(["2020-01-01"], utc=True))).timezone
    assert column_type_from_dtype(pd.Series(["abc"]), key=True).length == 255
    assert column_type_from_dtype(pd.Series(["abc", None])).length is None
    with pytest.raises(SchemaError, match="several kinds"):
        column_type_from_dtype(pd.Series(["a", 1]))
    assert str(sql_type_for(ColumnType(kind="string"), "mysql", key=True)) == "VARCHAR(255)"
    with pytest.raises(SchemaError, match="38 digits"):
        sql_type_for(ColumnType(kind="decimal", precision=50, scale=2), "duckdb")


def test_mariadb_load_data_local_infile_round_trip(mariadb_url: str) -> None:
    url = mariadb_url + "?local_infile=1"  # opt in: LOAD DATA LOCAL INFILE instead of INSERT batches
    engine = SQLTarget(url).engine
    with engine.connect() as connection:
        from syntho_hive.connectors.sql.bulk import mysql_local_infile

        assert mysql_local_infile(connection)
    engine.dispose()
    data = frames(seed=8)
    write(url, data)
    assert_same_rows(url, "employee", data["employee"], ["id"])
    assert_same_rows(url, "timesheet", data["timesheet"], ["employee_id", "day"])
    assert orphans(url) == 0


def test_synthesizer_samples_into_the_database(database_url: str) -> None:
    from syntho_hive.interface.synthesizer import Synthesizer

    data = frames(seed=9, rows=40)
    data["employee"]["id"] -= BIG  # keys below 2**53 (see the report on bigint self-references)
    data["employee"]["boss"] = data["employee"]["boss"] - BIG
    data["timesheet"]["employee_id"] -= BIG
    synthesizer = Synthesizer(metadata(), seed=0).fit(data, epochs=1, progress_bar=False)
    expected = synthesizer.sample(seed=1)
    written = synthesizer.sample(seed=1, output=SQLTarget(database_url, _schema(database_url)))
    assert set(written) == {"region", "employee", "timesheet"}
    assert_same_rows(database_url, "employee", expected["employee"], ["id"])
    assert_same_rows(database_url, "timesheet", expected["timesheet"], ["employee_id", "day"])
    assert orphans(database_url) == 0


def test_foreign_keys_of_other_numeric_types_take_the_type_of_their_key(database_url: str) -> None:
    """A float64 FK with NaN (a nullable integer column as pandas reads it) to an integer key, a float64
    self-reference and an int32 FK to an int64 key: every FK column gets its key's database type (DuckDB,
    PostgreSQL and MariaDB refuse DOUBLE -> BIGINT, DuckDB and MariaDB INTEGER -> BIGINT), its values are
    written as those integers, and every non-null FK joins its parent row."""
    from syntho_hive.interface.synthesizer import Synthesizer

    rng = np.random.default_rng(3)
    parent = pd.DataFrame({"id": np.arange(1, 31, dtype="int64"), "size": rng.normal(size=30)})
    pid = rng.integers(1, 31, 120).astype("float64")
    pid[::4] = np.nan
    mentor = np.where(np.arange(120) % 3 == 0, np.nan, np.arange(120) // 2).astype("float64")
    child = pd.DataFrame({"cid": np.arange(120, dtype="int64"), "pid": pid, "mentor": mentor,
                          "amount": rng.normal(size=120)})
    note = pd.DataFrame({"nid": np.arange(60, dtype="int64"), "pid": rng.integers(1, 31, 60).astype("int32"),
                         "words": rng.normal(size=60)})
    md = Metadata().add_table("parent", pk="id").add_table("child", pk="cid", fk={"pid": "parent.id",
                                                                                 "mentor": "child.cid"})
    md.add_table("note", pk="nid", fk={"pid": "parent.id"})
    synthesizer = Synthesizer(md, seed=0).fit({"parent": parent, "child": child, "note": note}, epochs=1,
                                              progress_bar=False, n_jobs=1)
    expected = synthesizer.sample(seed=1)
    assert expected["child"]["pid"].isna().any() and expected["child"]["mentor"].isna().any()
    synthesizer.sample(seed=1, output=SQLTarget(database_url, _schema(database_url)))

    key_type = column_types_in_db(database_url, "parent")["id"][0]
    assert column_types_in_db(database_url, "child")["pid"][0] == key_type
    assert column_types_in_db(database_url, "child")["mentor"][0] == column_types_in_db(database_url, "child")["cid"][0]
    assert column_types_in_db(database_url, "note")["pid"][0] == key_type
    p, c, n = _name(database_url, "parent"), _name(database_url, "child"), _name(database_url, "note")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            def count(query: str) -> int:
                return int(connection.execute(sa.text(query)).scalar_one())

            assert count(f"SELECT count(*) FROM {c} x JOIN {p} y ON y.id = x.pid") == \
                count(f"SELECT count(*) FROM {c} WHERE pid IS NOT NULL") == int(expected["child"]["pid"].notna().sum())
            assert count(f"SELECT count(*) FROM {c} x JOIN {c} y ON y.cid = x.mentor") == \
                count(f"SELECT count(*) FROM {c} WHERE mentor IS NOT NULL") > 0
            assert count(f"SELECT count(*) FROM {n} x JOIN {p} y ON y.id = x.pid") == len(expected["note"])
            written = [row[0] for row in connection.execute(sa.text(f"SELECT pid FROM {c} ORDER BY cid"))]
    finally:
        engine.dispose()
    want = [None if pd.isna(value) else int(value) for value in expected["child"]["pid"]]
    assert written == want and all(value is None or type(value) is int for value in written)


def test_small_ints_unsigned_float32_time_json_binary_round_trip(database_url: str) -> None:
    import datetime as dt
    import json

    md = Metadata().add_table("extra", pk="k")
    md.tables["extra"].column_types.update({
        "k": ColumnType(kind="integer", bits=16, nullable=False), "tiny": ColumnType(kind="integer", bits=8),
        "u32": ColumnType(kind="integer", bits=32, unsigned=True), "f32": ColumnType(kind="float", bits=32),
        "t": ColumnType(kind="time"), "j": ColumnType(kind="json"), "b": ColumnType(kind="binary")})
    frame = pd.DataFrame({
        "k": np.array([1, 2, 3], dtype="int16"), "tiny": pd.array([-128, 127, None], dtype="Int8"),
        "u32": pd.array([0, 2**32 - 1, None], dtype="UInt32"), "f32": np.array([0.1, -3.4e38, np.nan], dtype="float32"),
        "t": [dt.time(0, 0), dt.time(23, 59, 59, 999999), None], "j": ['{"a": [1, 2]}', "[]", None],
        "b": [b"\x00\xff\n,\"'\\", b"", None]})
    with SQLTarget(database_url, _schema(database_url)).open(md, ["extra"]) as writer:
        writer.write_table("extra", [frame.iloc[:2], frame.iloc[2:]])
    got = read(database_url, "extra", "k")

    def time_of(value: object) -> object:
        if value is None:
            return None
        if isinstance(value, dt.timedelta):  # MariaDB returns TIME as a timedelta
            return (dt.datetime.min + value).time()
        return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))

    assert [None if v is None else int(v) for v in got["tiny"]] == [-128, 127, None]
    assert [None if v is None else int(v) for v in got["u32"]] == [0, 2**32 - 1, None]
    assert [None if v is None else np.float32(v) for v in got["f32"]][:2] == [np.float32(0.1), np.float32(-3.4e38)]
    assert got["f32"][2] is None or np.isnan(got["f32"][2])
    assert [time_of(v) for v in got["t"]] == [dt.time(0, 0), dt.time(23, 59, 59, 999999), None]
    assert [None if v is None else json.loads(v) if isinstance(v, str) else v for v in got["j"]] == [
        {"a": [1, 2]}, [], None]
    assert [None if v is None else bytes(v) for v in got["b"]] == [b"\x00\xff\n,\"'\\", b"", None]


@pytest.mark.parametrize("table", ["region", "employee"])  # employee references itself (DuckDB: a staged load)
def test_a_duplicate_key_is_reported_as_such_and_nothing_is_written(database_url: str, table: str) -> None:
    data = frames(seed=8)
    if table == "region":
        data = {"region": pd.concat([data["region"], data["region"].iloc[:1]], ignore_index=True)}
    else:
        data["employee"] = pd.concat([data["employee"], data["employee"].iloc[:1]], ignore_index=True)
        data = {name: data[name] for name in ("region", "employee")}
    with pytest.raises(SerializationError) as caught:
        write(database_url, data, chunk=100)
    message = str(caught.value)
    assert "transaction is aborted" not in message.lower()  # DuckDB: not the error of a statement after it
    assert "duplicate" in message.lower() or "unique" in message.lower(), message
    assert tables_in(database_url) & {"region", "employee", "timesheet"} == set()


def test_append_keeps_the_foreign_keys_the_database_declares(database_url: str) -> None:
    """A foreign key of an existing table that the metadata does not know still holds on append (MariaDB
    appends with its checks off: the write checks the database's keys itself)."""
    data = frames(seed=9)
    write(database_url, data)
    md = metadata()
    md.tables["timesheet"].fk = {}
    orphan = data["timesheet"].iloc[:1].assign(employee_id=42, day=pd.to_datetime(["2030-01-01"]))
    with pytest.raises(SerializationError) as caught:
        with SQLTarget(database_url, _schema(database_url), if_exists="append").open(md, ["timesheet"]) as writer:
            writer.write_table("timesheet", [orphan])
    assert "foreign key" in str(caught.value).lower() and PASSWORD not in str(caught.value)
    assert orphans(database_url) == 0
    assert_same_rows(database_url, "timesheet", data["timesheet"], ["employee_id", "day"])
    assert not {name for name in tables_in(database_url) if name.startswith("_synthohive")}


def test_appending_a_key_already_there_is_a_duplicate_key_error(database_url: str) -> None:
    data = frames(seed=10)
    write(database_url, {name: data[name] for name in ("region", "employee")})
    again = {"employee": data["employee"].iloc[[3]]}  # a self-referencing table (DuckDB: a staged load)
    with pytest.raises(SerializationError) as caught:
        write(database_url, again, if_exists="append")
    message = str(caught.value).lower()
    assert "duplicate" in message or "unique" in message, message
    assert "does not exist" not in message
    assert_same_rows(database_url, "employee", data["employee"], ["id"])
