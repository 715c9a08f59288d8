"""Issue #15 end to end, as a user runs it, on SQLite, DuckDB, PostgreSQL and MariaDB.

A small shop is loaded into each database with realistic column types (``NUMERIC(10, 2)`` prices,
doubles, timestamps, dates, booleans, ``VARCHAR``, nullable columns), a self-reference (employees' managers)
and a composite primary/foreign key pair (``order_items`` (order_id, line_no) <- ``returns``). Then:

``Metadata.from_source(SQLSource(url))`` -> ``Synthesizer(md, seed=0, epochs=2)`` ->
``fit(source, subset=Subset(root="customers", fraction=0.5))`` -> ``save`` / ``load`` ->
``sample(output=SQLTarget(...))`` -> read back with ``SQLSource``: the same tables and column types,
no orphan, unique keys, values in the declared types, and exactly the rows the same seed gives in
memory. The same synthesizer also writes a Delta and a partitioned Parquet output, read back with
their sources. Last, the command line on PostgreSQL and MariaDB shows a URL's password nowhere, right
or wrong, ``--verbose`` and ``--debug`` included.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from syntho_hive.connectors.delta import DeltaSource, DeltaTarget
from syntho_hive.connectors.files import ParquetSource, ParquetTarget
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.connectors.sql.target import SQLTarget
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.interface.cli import main
from syntho_hive.interface.synthesizer import Synthesizer
from syntho_hive.relational.graph import SchemaGraph
from syntho_hive.relational.subset import Subset, subset_frames

PASSWORD = "s3cret-Pa55"  # the test servers' password (servers.PASSWORD); never in a message
SEED = 0
SAMPLE_SEED = 11
TABLES = {"employees", "customers", "products", "orders", "order_items", "returns"}
CUSTOMERS = 60


# --------------------------------------------------------------------------- the shop

def shop_schema() -> sa.MetaData:
    """employees (self-reference) <- orders -> customers; orders <- order_items -> products;
    order_items (composite pk) <- returns (composite fk)."""
    schema = sa.MetaData()
    sa.Table("employees", schema,
             sa.Column("employee_id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("full_name", sa.String(60), nullable=False),
             sa.Column("manager_id", sa.Integer, sa.ForeignKey("employees.employee_id"), nullable=True),
             sa.Column("hired_on", sa.Date, nullable=False),
             sa.Column("is_active", sa.Boolean, nullable=False))
    sa.Table("customers", schema,
             sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("name", sa.String(80), nullable=False),
             sa.Column("email", sa.String(120), nullable=True),
             sa.Column("segment", sa.String(10), nullable=False),
             sa.Column("signed_up_at", sa.DateTime, nullable=False),
             sa.Column("newsletter", sa.Boolean, nullable=False))
    sa.Table("products", schema,
             sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("title", sa.String(80), nullable=False),
             sa.Column("price", sa.Numeric(10, 2), nullable=False),
             sa.Column("weight_kg", sa.Double, nullable=True),
             sa.Column("discontinued", sa.Boolean, nullable=False))
    sa.Table("orders", schema,
             sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.customer_id"), nullable=False),
             sa.Column("employee_id", sa.Integer, sa.ForeignKey("employees.employee_id"), nullable=True),
             sa.Column("ordered_at", sa.DateTime, nullable=False),
             sa.Column("status", sa.String(12), nullable=False),
             sa.Column("shipping_fee", sa.Numeric(10, 2), nullable=True))
    sa.Table("order_items", schema,
             sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.order_id"), primary_key=True,
                       autoincrement=False),
             sa.Column("line_no", sa.SmallInteger, primary_key=True, autoincrement=False),
             sa.Column("product_id", sa.Integer, sa.ForeignKey("products.product_id"), nullable=False),
             sa.Column("quantity", sa.SmallInteger, nullable=False),
             sa.Column("unit_price", sa.Numeric(10, 2), nullable=False))
    sa.Table("returns", schema,
             sa.Column("return_id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("order_id", sa.Integer, nullable=False),
             sa.Column("line_no", sa.SmallInteger, nullable=False),
             sa.Column("returned_at", sa.DateTime, nullable=False),
             sa.Column("reason", sa.String(40), nullable=True),
             sa.Column("refund", sa.Numeric(10, 2), nullable=False),
             sa.ForeignKeyConstraint(["order_id", "line_no"], ["order_items.order_id", "order_items.line_no"]))
    return schema


def shop_rows(seed: int = SEED) -> dict[str, list[dict[str, Any]]]:
    """About 480 rows: 12 employees, 60 customers, 20 products, 120 orders, their items and returns."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2023, 1, 1)

    def money(low: int, high: int) -> Decimal:
        return Decimal(int(rng.integers(low, high))).scaleb(-2)

    employees = [{"employee_id": i, "full_name": f"Employee {i}",
                  "manager_id": None if i == 1 else int(rng.integers(1, i)),
                  "hired_on": dt.date(2015, 1, 1) + dt.timedelta(days=int(rng.integers(0, 3000))),
                  "is_active": bool(rng.random() < 0.8)} for i in range(1, 13)]
    customers = [{"customer_id": 100 + i, "name": f"Customer {i}",
                  "email": None if rng.random() < 0.25 else f"customer{i}@example.com",
                  "segment": str(rng.choice(["retail", "business", "vip"], p=[0.6, 0.3, 0.1])),
                  "signed_up_at": start + dt.timedelta(seconds=int(rng.integers(0, 30_000_000))),
                  "newsletter": bool(rng.random() < 0.4)} for i in range(1, CUSTOMERS + 1)]
    products = [{"product_id": i, "title": f"Product {i}", "price": money(199, 9999),
                 "weight_kg": None if i % 7 == 0 else float(rng.lognormal(0, 1)) / 3,  # every digit of a double
                 "discontinued": bool(rng.random() < 0.1)} for i in range(1, 21)]
    orders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for i in range(1, 121):
        orders.append({"order_id": i, "customer_id": 100 + int(rng.integers(1, CUSTOMERS + 1)),
                       "employee_id": None if rng.random() < 0.2 else int(rng.integers(1, 13)),
                       "ordered_at": start + dt.timedelta(seconds=int(rng.integers(30_000_000, 60_000_000))),
                       "status": str(rng.choice(["paid", "shipped", "cancelled"], p=[0.3, 0.6, 0.1])),
                       "shipping_fee": None if rng.random() < 0.3 else money(0, 1500)})
        for line in range(1, int(rng.integers(1, 4)) + 1):
            product = products[int(rng.integers(0, len(products)))]
            items.append({"order_id": i, "line_no": line, "product_id": product["product_id"],
                          "quantity": int(rng.integers(1, 6)), "unit_price": product["price"]})
    returns = [{"return_id": j, "order_id": item["order_id"], "line_no": item["line_no"],
                "returned_at": start + dt.timedelta(seconds=int(rng.integers(60_000_000, 70_000_000))),
                "reason": None if rng.random() < 0.4 else str(rng.choice(["damaged", "late", "wrong size"])),
                "refund": item["unit_price"]} for j, item in enumerate(items[::9], start=1)]
    return {"employees": employees, "customers": customers, "products": products, "orders": orders,
            "order_items": items, "returns": returns}


def load_shop(url: str) -> dict[str, int]:
    """Create the shop's tables (keys declared) in the default schema of ``url`` and fill them."""
    schema = shop_schema()
    rows = shop_rows()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            schema.create_all(connection)
            for table in schema.sorted_tables:
                if table.name == "employees":  # managers first, one row at a time: DuckDB checks a
                    for row in rows[table.name]:  # self-reference against the rows before the statement
                        connection.execute(table.insert(), row)
                else:
                    connection.execute(table.insert(), rows[table.name])
    finally:
        engine.dispose()
    return {name: len(table_rows) for name, table_rows in rows.items()}


def assert_source_reads_exactly(frames: dict[str, pd.DataFrame], rows: dict[str, list[dict[str, Any]]]) -> None:
    """What the database holds is read back exactly: doubles to the last bit, decimals and timestamps."""
    products = frames["products"].sort_values("product_id")
    weights = [np.nan if row["weight_kg"] is None else row["weight_kg"] for row in rows["products"]]
    np.testing.assert_array_equal(products["weight_kg"].to_numpy(), np.array(weights))
    assert products["price"].tolist() == [row["price"] for row in rows["products"]]
    orders = frames["orders"].sort_values("order_id")
    assert orders["shipping_fee"].tolist() == [row["shipping_fee"] for row in rows["orders"]]
    assert orders["ordered_at"].tolist() == [pd.Timestamp(row["ordered_at"]) for row in rows["orders"]]
    assert orders["employee_id"].tolist() == [pd.NA if row["employee_id"] is None else row["employee_id"]
                                              for row in rows["orders"]]


def dialect_of(url: str) -> str:
    return sa.make_url(url).get_backend_name().replace("mariadb", "mysql")


def sql_target_for(url: str, tmp_path: Path) -> tuple[str, str | None]:
    """Where the synthetic tables go: schema ``synthetic`` of the same database, or (SQLite, DuckDB, whose
    schemas are attached files or namespaces of one file) a second database file."""
    dialect = dialect_of(url)
    if dialect == "sqlite":
        return f"sqlite:///{tmp_path / 'synthetic.sqlite'}", None
    if dialect == "duckdb":
        return f"duckdb:///{tmp_path / 'synthetic.duckdb'}", None
    return url, "synthetic"


# --------------------------------------------------------------------------- checks

def sorted_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame``'s ``columns`` in that order, rows sorted by every column (Decimals sort as they are)."""
    ordered = frame[columns]
    keys = ordered.astype(str)
    return ordered.iloc[np.lexsort([keys[c].to_numpy() for c in reversed(columns)])].reset_index(drop=True)


def assert_same_rows(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame], where: str) -> None:
    assert set(actual) == set(expected), where
    for name, frame in expected.items():
        columns = list(frame.columns)
        assert sorted(actual[name].columns) == sorted(columns), f"{where}: columns of {name}"
        pd.testing.assert_frame_equal(sorted_frame(actual[name], columns), sorted_frame(frame, columns),
                                      obj=f"{where}: table {name}")


def assert_keys_hold(metadata: Metadata, frames: dict[str, pd.DataFrame]) -> None:
    """Primary keys unique and not null; every foreign key (composite and self-references included)
    references an existing row."""
    for name, config in metadata.tables.items():
        frame = frames[name]
        pk = config.pk_columns
        assert pk, name
        assert not frame[pk].isna().any().any(), f"null primary key in {name}"
        assert not frame.duplicated(subset=pk).any(), f"duplicate primary key in {name}"
    relationships = SchemaGraph.from_metadata(metadata).relationships
    assert any(len(rel.child_columns) == 2 for rel in relationships)
    assert any(rel.is_self for rel in relationships)
    for rel in relationships:
        child = frames[rel.child][list(rel.child_columns)].dropna()
        parent = frames[rel.parent][list(rel.parent_columns)]
        parent_keys = set(map(tuple, parent.astype("int64").to_numpy().tolist()))
        child_keys = set(map(tuple, child.astype("int64").to_numpy().tolist()))
        orphans = child_keys - parent_keys
        assert not orphans, f"{rel.name}: {len(orphans)} orphan key(s), e.g. {sorted(orphans)[:3]}"


def assert_in_declared_types(metadata: Metadata, frames: dict[str, pd.DataFrame]) -> None:
    """Each value fits its column's storage type and the storage dtype contract."""
    for name, config in metadata.tables.items():
        frame = frames[name]
        for column, kind in config.column_types.items():
            values = frame[column]
            where = f"{name}.{column} ({kind.describe()})"
            if not kind.nullable:
                assert not values.isna().any(), f"null in NOT NULL {where}"
            present = values.dropna()
            if kind.kind == "decimal":
                assert values.dtype == object, where
                assert all(isinstance(v, Decimal) for v in present), where
                assert {v.as_tuple().exponent for v in present} <= {-kind.scale}, f"scale of {where}"
                assert all(len(v.as_tuple().digits) <= kind.precision for v in present), f"precision of {where}"
            elif kind.kind == "integer":
                expected = f"int{kind.bits}" if not kind.nullable else f"Int{kind.bits}"
                assert str(values.dtype) == expected, f"{where}: {values.dtype}"
            elif kind.kind == "float":
                assert str(values.dtype) == f"float{kind.bits}", f"{where}: {values.dtype}"
                assert np.isfinite(present.to_numpy()).all(), where
            elif kind.kind == "boolean":
                assert str(values.dtype) == ("bool" if not kind.nullable else "boolean"), f"{where}: {values.dtype}"
            elif kind.kind in ("date", "timestamp"):
                assert str(values.dtype) == "datetime64[ns]", f"{where}: {values.dtype}"
                if kind.kind == "date":
                    assert (present == present.dt.normalize()).all(), f"{where} has times of day"
            elif kind.kind == "string":
                assert values.dtype == object, where
                assert all(isinstance(v, str) for v in present), where
                if kind.length is not None:
                    assert present.str.len().max() <= kind.length, f"{where}: a value longer than {kind.length}"
            else:  # pragma: no cover - the shop has no other kind
                raise AssertionError(f"unexpected kind in {where}")


def storage_types(metadata: Metadata) -> dict[str, dict[str, dict[str, Any]]]:
    """Every column's :class:`ColumnType` without ``source`` (the backend's own spelling, e.g.
    ``DATETIME`` vs ``DATETIME(6)``, both a timestamp)."""
    return {name: {column: kind.model_dump(exclude={"source"}) for column, kind in config.column_types.items()}
            for name, config in metadata.tables.items()}


def same_kinds(found: ColumnType, declared: ColumnType) -> bool:
    """What a file format keeps of a column's type: kind, decimal precision and scale, NOT NULL."""
    return (found.kind, found.precision, found.scale) == (declared.kind, declared.precision, declared.scale)


# --------------------------------------------------------------------------- the test

def test_database_to_synthesizer_to_database_and_files(database_url: str, tmp_path: Path) -> None:
    dialect = dialect_of(database_url)
    loaded = load_shop(database_url)
    source = SQLSource(database_url)

    # Reflect: keys (composite, self-reference) and storage types come from the database.
    metadata = Metadata.from_source(source)
    assert set(metadata.tables) == TABLES
    assert metadata.tables["order_items"].pk_columns == ["order_id", "line_no"]
    assert metadata.tables["returns"].fk == {"order_id": "order_items.order_id", "line_no": "order_items.line_no"}
    assert metadata.tables["employees"].fk == {"manager_id": "employees.employee_id"}
    price = metadata.tables["products"].column_types["price"]
    assert (price.kind, price.precision, price.scale, price.nullable) == ("decimal", 10, 2, False)
    assert metadata.tables["orders"].column_types["shipping_fee"].nullable
    weight = metadata.tables["products"].column_types["weight_kg"]
    assert (weight.kind, weight.bits, weight.nullable) == ("float", 64, True)
    assert metadata.tables["customers"].column_types["newsletter"].kind == "boolean"
    assert metadata.tables["customers"].column_types["signed_up_at"].kind == "timestamp"
    assert metadata.tables["employees"].column_types["hired_on"].kind == "date"

    # Fit on a key-closed half of the customers, computed on the server.
    synth = Synthesizer(metadata, seed=SEED, epochs=2)
    synth.fit(source, subset=Subset(root="customers", fraction=0.5, seed=SEED), progress_bar=False, n_jobs=1)
    report = synth.subset_report_
    assert report is not None and report.root == "customers"
    assert report.total == loaded
    assert report.kept["customers"] == CUSTOMERS // 2
    assert all(0 < report.kept[name] <= loaded[name] for name in TABLES)
    everything, _ = source.read_tables(metadata)
    assert_source_reads_exactly(everything, shop_rows())
    _, in_pandas = subset_frames(metadata, everything, Subset(root="customers", fraction=0.5, seed=SEED))
    assert in_pandas.kept == report.kept  # the server kept exactly the rows pandas keeps

    saved = synth.save(tmp_path / "synthesizer")
    synth = Synthesizer.load(saved)
    expected = synth.sample(seed=SAMPLE_SEED)
    assert len(expected["customers"]) == report.total["customers"]  # scale 1: as many roots as the source has

    # Into the database (schema "synthetic", or a second database file), and back.
    target_url, target_schema = sql_target_for(database_url, tmp_path)
    written = synth.sample(seed=SAMPLE_SEED, output=SQLTarget(target_url, schema=target_schema))
    assert set(written) == TABLES
    assert all(PASSWORD not in where for where in written.values())
    back = SQLSource(target_url, schema=target_schema)
    assert set(back.table_names()) == TABLES
    reflected = back.reflect()
    assert storage_types(reflected) == storage_types(metadata), f"{dialect}: column types differ in the target"
    assert {name: (config.pk_columns, config.fk) for name, config in reflected.tables.items()} == \
        {name: (config.pk_columns, config.fk) for name, config in metadata.tables.items()}
    frames, _ = back.read_tables(metadata)
    assert {name: len(frame) for name, frame in frames.items()} == \
        {name: len(frame) for name, frame in expected.items()}
    assert_keys_hold(metadata, frames)
    assert_in_declared_types(metadata, frames)
    assert_same_rows(frames, expected, f"{dialect} target")

    # The same synthesizer to Delta and to partitioned Parquet, read back with their sources.
    delta = synth.sample(seed=SAMPLE_SEED, output=DeltaTarget(tmp_path / "lake"))
    assert set(delta) == TABLES
    lake = DeltaSource(tmp_path / "lake")
    assert set(lake.table_names()) == TABLES
    from_delta, _ = lake.read_tables(metadata)
    assert_same_rows(from_delta, expected, "Delta")
    parquet = synth.sample(seed=SAMPLE_SEED, output=ParquetTarget(tmp_path / "parquet",
                                                                  partition_by={"orders": ["status"]}))
    assert set(parquet) == TABLES
    assert (tmp_path / "parquet" / "orders").is_dir()
    assert {p.name for p in (tmp_path / "parquet" / "orders").iterdir() if p.is_dir()} == \
        {f"status={status}" for status in expected["orders"]["status"].unique()}
    folder = ParquetSource(tmp_path / "parquet")
    from_parquet, _ = folder.read_tables(metadata)
    assert_same_rows(from_parquet, expected, "partitioned Parquet")
    for found in (lake.reflect(), folder.reflect()):
        for name, config in metadata.tables.items():
            for column, declared in config.column_types.items():
                assert same_kinds(found.tables[name].column_types[column], declared), (name, column)


@pytest.mark.parametrize("server", ["postgres_url", "mariadb_url"])
def test_cli_never_shows_a_password_right_or_wrong(server: str, request: pytest.FixtureRequest, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = request.getfixturevalue(server)
    load_shop(url)
    wrong_password = "Wr0ng-" + PASSWORD[::-1]
    wrong = url.replace(PASSWORD, wrong_password)
    # Right password, every library event shown: the URL appears masked only.
    assert main(["fit", "--source", url, "--tables", "customers", "--output", str(tmp_path / "synth"),
                 "--epochs", "1", "--seed", "0", "--no-progress", "--verbose"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"learned 1 table of {url.replace(PASSWORD, '***')} in ")
    assert PASSWORD not in captured.out + captured.err
    assert main(["sample", str(tmp_path / "synth"), "--target", url, "--schema", "synthetic", "--seed", "1",
                 "--verbose"]) == 0
    captured = capsys.readouterr()
    assert "customers -> " in captured.out and PASSWORD not in captured.out + captured.err
    # Wrong password: one error line (or, with --debug, a traceback and every event), neither password shown.
    for argv in (["fit", "--source", wrong, "--output", str(tmp_path / "other"), "--epochs", "1"],
                 ["sample", str(tmp_path / "synth"), "--target", wrong, "--schema", "synthetic2"]):
        assert main(argv) == 1
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "user name or password" in lines[0], lines
        assert "***@127.0.0.1" in lines[0]
        assert main([*argv, "--debug"]) == 1
        debug = capsys.readouterr()
        assert "Traceback" in debug.err
        for text in (captured.out, captured.err, debug.out, debug.err):
            assert PASSWORD not in text and wrong_password not in text
    assert not (tmp_path / "other").exists()
    frames, _ = SQLSource(url, schema="synthetic").read_tables(Synthesizer.load(tmp_path / "synth").metadata)
    assert len(frames["customers"]) == CUSTOMERS  # what the right password wrote
