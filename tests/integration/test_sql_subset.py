"""Key-closed subsets computed on real databases keep exactly the rows the pandas subset keeps.

The same small shop (a few hundred rows, primary and foreign keys declared in the DDL) is loaded into
SQLite, DuckDB, PostgreSQL and MariaDB. Its schema has every case the server-side executor handles: a
composite key and a composite FK, self-references (a manager chain; replies in a table the root does
not reach), two FKs to one parent (in a keyed and in a keyless table: MySQL cannot name a temporary
table twice in a statement), keyless tables below the root and outside it, an isolated table and a
part of the schema the root does not reach.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive.connectors.sql.reflect import reflect_tables
from syntho_hive.connectors.sql.subset import KEY_TABLE_PREFIX, subset_selects
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import ConfigurationError, SchemaError
from syntho_hive.relational.subset import Subset, subset_frames

from shop_schema import complete_parts
from shop_schema import orphans, shop_frames, shop_metadata  # tests/integration is on sys.path (its conftest)


# --------------------------------------------------------------------------- data
def _ddl(frames: dict[str, pd.DataFrame], md: Metadata) -> sa.MetaData:
    """Tables with their primary and foreign keys declared (composite FK as one constraint)."""
    meta = sa.MetaData()
    for name, frame in frames.items():
        config = md.tables[name]
        columns = []
        for column in frame.columns:
            kind = sa.Float() if frame[column].dtype.kind == "f" else (
                sa.String(40) if frame[column].dtype == object and isinstance(
                    frame[column].dropna().iloc[0], str) else sa.Integer())
            columns.append(sa.Column(column, kind, primary_key=column in config.pk_columns,
                                     autoincrement=False, nullable=column not in config.pk_columns))
        by_parent: dict[str, list[tuple[str, str]]] = {}
        for column, target in config.fk.items():
            parent, _, parent_column = target.rpartition(".")
            if len(md.tables[parent].pk_columns) > 1:
                by_parent.setdefault(parent, []).append((column, target))
            else:
                columns.append(sa.ForeignKeyConstraint([column], [target]))
        for parent, pairs in by_parent.items():
            columns.append(sa.ForeignKeyConstraint([c for c, _ in pairs], [t for _, t in pairs]))
        sa.Table(name, meta, *columns)
    return meta


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
            for row in frame.to_dict("records")]


def load(url: str, frames: dict[str, pd.DataFrame], md: Metadata) -> sa.Engine:
    engine = sa.create_engine(url)
    meta = _ddl(frames, md)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # conftest's reset keeps `public` (owned by pg_database_owner)
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        meta.create_all(connection)
        for table in meta.sorted_tables:  # parents first
            records = _records(frames[table.name])
            if any(fk.column.table is table for fk in table.foreign_keys):
                for record in records:  # one by one: DuckDB checks a multi-row insert against the rows before it
                    connection.execute(table.insert(), [record])
            elif records:
                connection.execute(table.insert(), records)
    return engine


def _plain(value: Any) -> Any:
    if pd.isna(value):
        return None
    return value if isinstance(value, str) else round(float(value), 2)  # MySQL FLOAT is single precision


def rows_of(frame: pd.DataFrame, md: Metadata, table: str) -> list[tuple[Any, ...]]:
    """The kept keys (or, without a key, the whole rows), sorted: what must match exactly."""
    columns = md.tables[table].pk_columns or list(frame.columns)
    rows = [tuple(_plain(v) for v in row) for row in frame[columns].astype(object).itertuples(index=False, name=None)]
    return sorted(rows, key=repr)


def read_subset(engine: sa.Engine, md: Metadata, subset: Subset,
                statements: list[str] | None = None) -> tuple[dict[str, pd.DataFrame], Any]:
    """Run the subset on one connection and read every table's kept rows (``statements``: collects
    the SQL that ``subset_selects`` ran)."""

    def record(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    with engine.connect() as connection:
        tables = reflect_tables(connection, None, list(md.tables))
        if statements is not None:
            sa.event.listen(connection, "before_cursor_execute", record)
        selects, report = subset_selects(connection, tables, md, subset)
        if statements is not None:
            sa.event.remove(connection, "before_cursor_execute", record)
        frames = {name: pd.DataFrame(connection.execute(select).mappings().all(),
                                     columns=list(tables[name].c.keys()))
                  for name, select in selects.items()}
    return frames, report


def same_complete_rows(md: Metadata, subset: Subset, got: tuple[dict[str, pd.DataFrame], Any],
                       expected: tuple[dict[str, pd.DataFrame], Any]) -> dict[str, pd.DataFrame]:
    """The server's subset marks the same rows complete (children all kept: counts are learned from
    them) as the pandas subset; returns them."""
    complete, expected_complete = complete_parts(md, *got, subset), complete_parts(md, *expected, subset)
    assert set(complete) == set(expected_complete)
    for name, frame in complete.items():
        assert rows_of(frame, md, name) == rows_of(expected_complete[name], md, name), name
    return complete


# --------------------------------------------------------------------------- tests
@pytest.fixture
def shop(database_url: str) -> tuple[sa.Engine, Metadata, dict[str, pd.DataFrame]]:
    md, frames = shop_metadata(), shop_frames()
    engine = load(database_url, frames, md)
    yield engine, md, frames
    engine.dispose()


@pytest.mark.parametrize("subset", [Subset(root="customers", rows=7, seed=1),
                                    Subset(root="customers", fraction=0.3, seed=2)],
                         ids=["rows", "fraction"])
def test_the_server_keeps_exactly_the_rows_of_the_pandas_subset(shop, subset: Subset) -> None:
    engine, md, frames = shop
    assert orphans(md, frames) == {}
    expected, expected_report = subset_frames(md, frames, subset)
    statements: list[str] = []
    got, report = read_subset(engine, md, subset, statements)
    assert report == expected_report
    for name in md.tables:
        assert rows_of(got[name], md, name) == rows_of(expected[name], md, name), name
    assert orphans(md, got) == {}
    complete = same_complete_rows(md, subset, (got, report), (expected, expected_report))
    # the diamonds below the root (order_notes' two orders) pulled in rows whose children are not all kept
    assert set(complete) == {"customers", "orders", "order_items", "shipments", "order_notes"}
    assert sum(map(len, complete.values())) < sum(len(got[name]) for name in complete)
    # the cases the schema is here for did happen
    assert report.kept["shipments"] > 0 and report.kept["order_notes"] > 0 and report.kept["price_history"] > 0
    assert 0 < report.kept["reviews"] < 40 and report.kept["regions"] > 0 and 0 < report.kept["stores"] < 10
    # only the keys of the tables drawn (customers, the isolated regions, the other part's stores) and
    # counts are read back to the client; every other statement runs on the server
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "count(" not in s.lower()]
    assert len(reads) == 3 and not any("WHERE" in s.upper() or "name" in s for s in reads), reads
    if engine.dialect.name in ("mysql", "mariadb"):  # MySQL cannot reopen a TEMPORARY table in one statement
        for statement in statements:
            named = re.findall(rf"(?:FROM|JOIN|INTO)\s+`?({KEY_TABLE_PREFIX}\d+)", statement)
            assert len(named) == len(set(named)), statement


def test_two_subsets_on_one_connection_do_not_clash_and_temporary_tables_stay_out_of_the_schema(shop) -> None:
    engine, md, frames = shop
    with engine.connect() as connection:
        tables = reflect_tables(connection, None, list(md.tables))
        first, first_report = subset_selects(connection, tables, md, Subset(root="customers", rows=5, seed=0))
        second, second_report = subset_selects(connection, tables, md, Subset(root="customers", rows=5, seed=9))
        kept_first = connection.execute(first["customers"]).all()
        kept_second = connection.execute(second["customers"]).all()
    # (more than 5 customers: order_notes.related_order_id pulls in orders of other customers)
    for kept, report, seed in ((kept_first, first_report, 0), (kept_second, second_report, 9)):
        expected, expected_report = subset_frames(md, frames, Subset(root="customers", rows=5, seed=seed))
        assert report == expected_report
        assert sorted(kept) == sorted(expected["customers"].itertuples(index=False, name=None))
    assert set(kept_first) != set(kept_second)
    with engine.connect() as connection:  # temporary: gone with the session, never in the schema
        assert not [n for n in sa.inspect(connection).get_table_names() if n.startswith(KEY_TABLE_PREFIX)]


def test_the_root_of_an_other_part_and_a_root_with_parents(shop) -> None:
    engine, md, frames = shop
    subset = Subset(root="stores", rows=3, seed=5)  # customers/orders/... are now the rest
    got, report = read_subset(engine, md, subset)
    expected, expected_report = subset_frames(md, frames, subset)
    assert report == expected_report
    for name in md.tables:
        assert rows_of(got[name], md, name) == rows_of(expected[name], md, name), name
    assert orphans(md, got) == {}
    same_complete_rows(md, subset, (got, report), (expected, expected_report))
    with pytest.raises(SchemaError, match="has parent table"):
        read_subset(engine, md, Subset(root="orders", rows=3))
    with pytest.raises(ConfigurationError, match="rows <= 30"):
        read_subset(engine, md, Subset(root="customers", rows=31))


def test_a_table_without_a_key_cannot_be_drawn_on_the_server(sqlite_url: str) -> None:
    md = Metadata().add_table("events").add_table("customers", pk="id")
    engine = sa.create_engine(sqlite_url)
    meta = sa.MetaData()
    events = sa.Table("events", meta, sa.Column("kind", sa.String(10)))
    customers = sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # conftest's reset keeps `public` (owned by pg_database_owner)
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        meta.create_all(connection)
        tables = {"events": events, "customers": customers}
        with pytest.raises(SchemaError, match=r"\['events'\] must be sampled .* no primary key"):
            subset_selects(connection, tables, md, Subset(root="customers", rows=1))
        with pytest.raises(SchemaError, match="not among the database tables"):
            subset_selects(connection, {"customers": customers}, md, Subset(root="customers", rows=1))
    engine.dispose()


# --------------------------------------------------------------------------- property: random schemas
@st.composite
def small_schemas(draw: st.DrawFn) -> tuple[Metadata, dict[str, pd.DataFrame], Subset]:
    """Random DAGs of keyed tables (t0 the root), FKs (nullable, possibly two to one parent,
    self-references without cycles), a keyless leaf now and then."""
    md = Metadata()
    frames: dict[str, pd.DataFrame] = {}
    for i in range(draw(st.integers(2, 5))):
        name = f"t{i}"
        keyless = i > 0 and draw(st.integers(0, 4)) == 0
        n = draw(st.integers(1 if i == 0 else 0, 12))
        columns: dict[str, list] = {} if keyless else {"id": draw(st.lists(st.integers(0, 60), min_size=n,
                                                                          max_size=n, unique=True))}
        columns["v"] = list(range(n))
        fk = {}
        parents = [] if i == 0 else draw(st.lists(st.integers(0, i - 1), max_size=3))
        for j, parent in enumerate(parents):
            if "id" not in frames[f"t{parent}"]:
                continue
            keys = list(frames[f"t{parent}"]["id"])
            columns[f"fk{j}"] = [draw(st.one_of(st.none(), st.sampled_from(keys))) if keys else None
                                 for _ in range(n)]
            fk[f"fk{j}"] = f"t{parent}.id"
        if not keyless and draw(st.booleans()):
            ids = columns["id"]
            columns["up"] = [draw(st.one_of(st.none(), st.sampled_from(ids[:k]))) if k else None
                             for k in range(n)]
            fk["up"] = f"{name}.id"
        if keyless and not fk:  # an isolated table is drawn by key on a server: give it one
            keyless, columns = False, {"id": list(range(n)), **columns}
        md.add_table(name, pk=None if keyless else "id", fk=fk)
        frames[name] = pd.DataFrame({c: pd.array(v, dtype="Int64") for c, v in columns.items()})
    if draw(st.booleans()):
        subset = Subset(root="t0", rows=draw(st.integers(1, len(frames["t0"]))), seed=draw(st.integers(0, 3)))
    else:
        subset = Subset(root="t0", fraction=draw(st.floats(0.05, 1.0)), seed=draw(st.integers(0, 3)))
    return md, frames, subset


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(case=small_schemas())
def test_property_sqlite_and_pandas_keep_the_same_rows(case, tmp_path_factory) -> None:
    md, frames, subset = case
    url = f"sqlite:///{tmp_path_factory.mktemp('subset') / 'db.sqlite'}"
    engine = load(url, frames, md)
    try:
        got, report = read_subset(engine, md, subset)
    finally:
        engine.dispose()
    expected, expected_report = subset_frames(md, frames, subset)
    assert report == expected_report
    for name in md.tables:
        assert rows_of(got[name], md, name) == rows_of(expected[name], md, name), name
    assert orphans(md, got) == {}
    same_complete_rows(md, subset, (got, report), (expected, expected_report))


def test_sql_source_reads_the_subset_the_pandas_path_keeps(shop, database_url: str) -> None:
    from syntho_hive.connectors.sql.source import SQLSource

    engine, md, frames = shop
    subset = Subset(root="customers", fraction=0.2, seed=3)
    source = SQLSource(database_url)
    try:
        got, report = source.read_tables(md, subset)
    finally:
        source.dispose()
    expected, expected_report = subset_frames(md, frames, subset)
    assert report == expected_report
    for name in md.tables:
        assert rows_of(got[name], md, name) == rows_of(expected[name], md, name), name
    assert orphans(md, got) == {}
    same_complete_rows(md, subset, (got, report), (expected, expected_report))
