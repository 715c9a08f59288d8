"""``synthohive fit --source`` / ``sample --target`` as a user runs them, on a SQLite shop and folders.

``fit --source sqlite:///shop.db --subset-root customers --subset-fraction 0.5`` learns a key-closed
half of the shop; ``sample DIR --target sqlite:///other.db`` (or a folder, ``--format parquet|csv|
delta``) writes exactly the rows the same seed gives in memory, with its keys intact. Every mistake
is one ``error:`` line: exit status 2 for options that do not go together, 1 for anything the
command finds wrong (a table that exists, a wrong table name, an unreachable server...), and never
a password.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from syntho_hive.connectors.delta import DeltaSource
from syntho_hive.connectors.files import CSVSource, ParquetSource
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.interface.cli import main
from syntho_hive.interface.synthesizer import Synthesizer
from syntho_hive.relational.graph import SchemaGraph

TABLES = {"customers", "products", "orders", "order_items"}
CUSTOMERS = 40
SECRET = "Sup3r-Secret-pw"


# --------------------------------------------------------------------------- a small shop in SQLite

def _create_shop(path: Path, seed: int = 0) -> str:
    """customers <- orders <- order_items (composite pk) -> products; prices NUMERIC(10, 2)."""
    rng = np.random.default_rng(seed)
    schema = sa.MetaData()
    customers = sa.Table("customers", schema,
                         sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
                         sa.Column("segment", sa.String(10), nullable=False),
                         sa.Column("email", sa.String(80), nullable=True),
                         sa.Column("joined_at", sa.DateTime, nullable=False))
    products = sa.Table("products", schema,
                        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
                        sa.Column("price", sa.Numeric(10, 2), nullable=False),
                        sa.Column("active", sa.Boolean, nullable=False))
    orders = sa.Table("orders", schema,
                      sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
                      sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.customer_id"), nullable=False),
                      sa.Column("status", sa.String(12), nullable=False),
                      sa.Column("ordered_at", sa.DateTime, nullable=False))
    items = sa.Table("order_items", schema,
                     sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.order_id"), primary_key=True,
                               autoincrement=False),
                     sa.Column("line_no", sa.SmallInteger, primary_key=True, autoincrement=False),
                     sa.Column("product_id", sa.Integer, sa.ForeignKey("products.product_id"), nullable=False),
                     sa.Column("quantity", sa.SmallInteger, nullable=False))
    start = dt.datetime(2024, 1, 1)
    rows: dict[sa.Table, list[dict[str, Any]]] = {
        customers: [{"customer_id": i, "segment": str(rng.choice(["retail", "business"])),
                     "email": None if rng.random() < 0.3 else f"c{i}@example.com",
                     "joined_at": start + dt.timedelta(minutes=int(rng.integers(0, 500_000)))}
                    for i in range(1, CUSTOMERS + 1)],
        products: [{"product_id": i, "price": Decimal(int(rng.integers(100, 9999))).scaleb(-2),
                    "active": bool(rng.random() < 0.8)} for i in range(1, 11)],
        orders: [{"order_id": i, "customer_id": int(rng.integers(1, CUSTOMERS + 1)),
                  "status": str(rng.choice(["paid", "shipped"])),
                  "ordered_at": start + dt.timedelta(minutes=int(rng.integers(500_000, 900_000)))}
                 for i in range(1, 81)],
    }
    rows[items] = [{"order_id": order, "line_no": line, "product_id": int(rng.integers(1, 11)),
                    "quantity": int(rng.integers(1, 5))}
                   for order in range(1, 81) for line in range(1, int(rng.integers(1, 4)) + 1)]
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            schema.create_all(connection)
            for table in schema.sorted_tables:
                connection.execute(table.insert(), rows[table])
    finally:
        engine.dispose()
    return url


def _run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with its stdout and stderr (for module-scoped fixtures, where capsys is not available)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _create_shop(tmp_path_factory.mktemp("shop") / "shop.db")


@pytest.fixture(scope="module")
def fitted(shop: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``synthohive fit --source`` on a key-closed half of the customers, 1 epoch; its directory and stdout."""
    output = tmp_path_factory.mktemp("fit") / "synth"
    code, out, err = _run(["fit", "--source", shop, "--subset-root", "customers", "--subset-fraction", "0.5",
                           "--output", str(output), "--epochs", "1", "--seed", "0", "--no-progress"])
    assert code == 0, err
    return output, out


def _assert_one_error_line(stderr: str, *fragments: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    ordered = frame[columns]
    text = ordered.astype(str)
    return ordered.iloc[np.lexsort([text[c].to_numpy() for c in reversed(columns)])].reset_index(drop=True)


def _assert_same_tables(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert set(actual) == set(expected) == TABLES
    for name, frame in expected.items():
        columns = list(frame.columns)
        pd.testing.assert_frame_equal(_sorted(actual[name], columns), _sorted(frame, columns), obj=name)


def _assert_no_orphans(synth: Synthesizer, frames: dict[str, pd.DataFrame]) -> None:
    for rel in SchemaGraph.from_metadata(synth.metadata).relationships:
        child = set(map(tuple, frames[rel.child][list(rel.child_columns)].dropna().to_numpy().tolist()))
        parent = set(map(tuple, frames[rel.parent][list(rel.parent_columns)].to_numpy().tolist()))
        assert child <= parent, rel.name


def _written_lines(out: str) -> dict[str, str]:
    """``{table: location}`` from the ``  table -> location`` lines of ``sample``."""
    return dict(re.findall(r"^  (\w+) -> (.+)$", out, flags=re.MULTILINE))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- fit and sample

def test_fit_from_a_database_prints_the_subset_and_saves_a_synthesizer(fitted: tuple[Path, str], shop: str) -> None:
    output, out = fitted
    lines = out.splitlines()
    assert re.fullmatch(rf"learned 4 tables of {re.escape(shop)} in \d+\.\d s", lines[0])
    kept = dict(re.findall(r"^  (\w+): ([\d,]+) of [\d,]+ rows \(subset from customers\)$", out, flags=re.MULTILINE))
    assert set(kept) == TABLES
    assert int(kept["customers"]) == CUSTOMERS // 2
    assert lines[-1] == f"synthesizer saved to {output} (seed 0; pass --seed 0 to repeat this training)"
    assert lines[1] == "business rules (declare or override them in the metadata):"
    synth = Synthesizer.load(output)
    assert all(f"\n  {name}" in out for name in synth.rules_)  # the report, table by table
    assert synth.metadata.tables["order_items"].pk_columns == ["order_id", "line_no"]
    assert synth.metadata.tables["products"].column_types["price"].describe() == "decimal(10,2)"


def test_sample_to_another_database_writes_the_seeds_rows(fitted: tuple[Path, str], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    output, _ = fitted
    target = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["sample", str(output), "--target", target, "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert re.match(rf"generated 4 tables in \d+\.\d s, written to {re.escape(target)}:\n", out)
    assert set(_written_lines(out)) == TABLES
    synth = Synthesizer.load(output)
    back = SQLSource(target)
    assert set(back.table_names()) == TABLES
    frames, _ = back.read_tables(synth.metadata)
    expected = synth.sample(seed=3)
    _assert_same_tables(frames, expected)
    _assert_no_orphans(synth, frames)
    reflected = back.reflect()
    for name, config in synth.metadata.tables.items():
        assert {column: kind.model_dump(exclude={"source"}) for column, kind in config.column_types.items()} == \
            {column: kind.model_dump(exclude={"source"})
             for column, kind in reflected.tables[name].column_types.items()}, name


@pytest.mark.parametrize("file_format", ["parquet", "csv", "delta"])
def test_sample_to_a_folder_in_each_format(file_format: str, fitted: tuple[Path, str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    output, _ = fitted
    folder = tmp_path / "out"
    assert main(["sample", str(output), "--target", str(folder), "--format", file_format, "--seed", "5",
                 "--scale", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("generated 4 tables in ") and f"written to {folder}:" in out.splitlines()[0]
    written = _written_lines(out)
    assert set(written) == TABLES
    assert all(Path(location).exists() for location in written.values())
    synth = Synthesizer.load(output)
    source = {"parquet": lambda: ParquetSource(folder), "delta": lambda: DeltaSource(folder),
              "csv": lambda: CSVSource(folder, metadata=synth.metadata)}[file_format]()
    frames, _ = source.read_tables(synth.metadata)
    expected = synth.sample(scale=2, seed=5)
    assert len(expected["customers"]) == 2 * CUSTOMERS  # scale is relative to the source, not the subset
    _assert_same_tables(frames, expected)
    _assert_no_orphans(synth, frames)


def test_if_exists_fail_writes_nothing_and_replace_replaces(fitted: tuple[Path, str], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    output, _ = fitted
    target = f"sqlite:///{tmp_path / 'other.db'}"
    synth = Synthesizer.load(output)
    assert main(["sample", str(output), "--target", target, "--seed", "1"]) == 0
    capsys.readouterr()
    assert main(["sample", str(output), "--target", target, "--seed", "2", "--if-exists", "fail"]) == 1
    captured = capsys.readouterr()
    _assert_one_error_line(captured.err, "already exist", "nothing was written")
    assert captured.out == ""
    frames, _ = SQLSource(target).read_tables(synth.metadata)
    _assert_same_tables(frames, synth.sample(seed=1))  # the first sample, untouched
    assert main(["sample", str(output), "--target", target, "--seed", "2", "--if-exists", "replace"]) == 0
    frames, _ = SQLSource(target).read_tables(synth.metadata)
    _assert_same_tables(frames, synth.sample(seed=2))


@pytest.mark.parametrize("kind", ["sql", "delta"])
def test_a_table_that_exists_is_reported_with_the_cli_flag(kind: str, fitted: tuple[Path, str], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The 'table exists' error told CLI users to pass if_exists='replace' (the Python spelling): it names the
    command line's flag, --if-exists replace, now."""
    output, _ = fitted
    target = [f"sqlite:///{tmp_path / 'other.db'}"] if kind == "sql" else [str(tmp_path / "lake"), "--format",
                                                                             "delta"]
    assert main(["sample", str(output), "--target", *target, "--seed", "1"]) == 0
    capsys.readouterr()
    assert main(["sample", str(output), "--target", *target, "--seed", "2"]) == 1
    err = capsys.readouterr().err
    _assert_one_error_line(err, "already", "--if-exists replace")
    assert "if_exists" not in err


# --------------------------------------------------------------------------- mistakes

@pytest.mark.parametrize("argv, fragments", [
    (["--subset-rows", "5"], ["--subset-rows need(s) --subset-root"]),
    (["--subset-root", "customers"], ["exactly one of --subset-rows N or --subset-fraction F"]),
    (["--subset-root", "customers", "--subset-rows", "5", "--subset-fraction", "0.5"], ["exactly one of"]),
    (["--subset-seed", "3"], ["--subset-seed need(s) --subset-root"]),
    (["{data}"], ["give neither DATA nor --table"]),
    (["--device", "cuda"], ["--device cuda applies to --model ctgan or tvae"]),
], ids=["rows-without-root", "root-without-size", "root-with-two-sizes", "seed-without-root", "data-and-source",
        "device-for-tabular-ar"])
def test_options_that_do_not_go_together_exit_two(argv: list[str], fragments: list[str], shop: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    argv = [part.format(data=data) for part in argv]
    assert main(["fit", "--source", shop, *argv, "--output", str(tmp_path / "synth"), "--epochs", "1"]) == 2
    captured = capsys.readouterr()
    _assert_one_error_line(captured.err, *fragments, "see 'synthohive fit --help'")
    assert captured.out == ""
    assert not (tmp_path / "synth").exists()


def _folder_with_orphans(root: Path) -> Path:
    """customers.csv and orders.csv, three orders of which reference customers that do not exist."""
    rng = np.random.default_rng(0)
    folder = root / "dirty"
    folder.mkdir()
    pd.DataFrame({"customer_id": range(1, 41), "segment": rng.choice(["a", "b"], 40)}).to_csv(
        folder / "customers.csv", index=False)
    customer_ids = rng.integers(1, 41, 120)
    customer_ids[:3] = [97, 98, 99]
    pd.DataFrame({"order_id": range(1, 121), "customer_id": customer_ids,
                  "amount": rng.normal(50, 10, 120).round(2)}).to_csv(folder / "orders.csv", index=False)
    return folder


def test_on_integrity_error_drop_trains_on_dirty_keys_and_reports_the_rows(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder_with_orphans(tmp_path)
    argv = ["fit", "--source", str(folder), "--epochs", "1", "--seed", "0", "--no-progress"]
    assert main([*argv, "--output", str(tmp_path / "raised")]) == 1  # the default is the API's: raise
    err = capsys.readouterr().err  # names the way out as the command line's flag
    _assert_one_error_line(err, "'customer_id' has 3 row(s) with no matching", "train with --on-integrity-error drop")
    assert "on_integrity_error" not in err
    assert not (tmp_path / "raised").exists()

    assert main([*argv, "--on-integrity-error", "drop", "--output", str(tmp_path / "synth")]) == 0
    out = capsys.readouterr().out
    assert "  orders: 3 rows with broken keys dropped (--on-integrity-error drop)" in out.splitlines()
    synth = Synthesizer.load(tmp_path / "synth")
    frames = synth.sample(seed=0)
    _assert_no_orphans(synth, frames)


def test_on_integrity_error_needs_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    assert main(["fit", str(data), "--on-integrity-error", "drop", "--output", str(tmp_path / "m")]) == 2
    _assert_one_error_line(capsys.readouterr().err, "--on-integrity-error need(s) --source")


@pytest.mark.parametrize("option", [["--tables", "customers"], ["--subset-root", "customers", "--subset-rows", "3"]])
def test_source_options_without_source_exit_two(option: list[str], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    assert main(["fit", str(data), *option, "--output", str(tmp_path / "m")]) == 2
    _assert_one_error_line(capsys.readouterr().err, option[0], "need(s) --source")


def test_unknown_table_is_one_line_and_nothing_is_saved(shop: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "--source", shop, "--tables", "customers,custmers", "--output", str(tmp_path / "synth"),
                 "--epochs", "1"]) == 1
    captured = capsys.readouterr()
    _assert_one_error_line(captured.err, "'custmers'", "not found", "customers, order_items, orders, products")
    assert captured.out == ""
    assert not (tmp_path / "synth").exists()


def test_unknown_subset_root_is_one_line(shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "--source", shop, "--subset-root", "clients", "--subset-rows", "3",
                 "--output", str(tmp_path / "synth"), "--epochs", "1"]) == 1
    _assert_one_error_line(capsys.readouterr().err, "'clients'")
    assert not (tmp_path / "synth").exists()


@pytest.mark.parametrize("command", ["fit", "sample"])
def test_an_unreachable_server_never_shows_the_password(command: str, fitted: tuple[Path, str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql+psycopg://shop:{SECRET}@127.0.0.1:{_free_port()}/shop"
    if command == "fit":
        argv = ["fit", "--source", url, "--output", str(tmp_path / "synth"), "--epochs", "1"]
    else:
        argv = ["sample", str(fitted[0]), "--target", url, "--schema", "synthetic"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    _assert_one_error_line(captured.err, "shop:***@127.0.0.1", "cannot be reached")
    assert SECRET not in captured.err + captured.out
    assert main([*argv, "--debug"]) == 1  # the traceback and every library event
    captured = capsys.readouterr()
    assert "Traceback" in captured.err
    assert SECRET not in captured.err + captured.out


def test_target_options_on_a_single_model_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from syntho_hive.core import models

    frame = pd.DataFrame({"age": np.arange(40) % 30 + 20, "city": ["Lisbon", "Porto"] * 20})
    models.TabularAR(epochs=1).fit(frame, seed=0, progress_bar=False).save(tmp_path / "ck")
    for option in (["--target", str(tmp_path / "out")], ["--scale", "2", "--rows", "5", "-o", str(tmp_path / "o.csv")],
                   ["--if-exists", "replace", "--rows", "5", "-o", str(tmp_path / "o.csv")]):
        assert main(["sample", str(tmp_path / "ck"), *option]) == 2  # a usage mistake
        _assert_one_error_line(capsys.readouterr().err, "apply to Synthesizer directories", "--rows N --output FILE")
    assert not (tmp_path / "out").exists() and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("option, fragments", [
    (["--rows", "5"], ["--rows/--output/--overwrite apply to single-model checkpoints"]),
    (["--overwrite"], ["--if-exists (replace or append)"]),
    (["--format", "csv"], ["applies to folders, not to the database URL"]),
    (["--schema", "synthetic", "--format", "parquet"], ["--schema applies to database URLs"]),
], ids=["rows", "overwrite", "format-with-url", "schema-with-folder"])
def test_synthesizer_sample_mistakes(option: list[str], fragments: list[str], fitted: tuple[Path, str],
                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = str(tmp_path / "out") if "--schema" in option else f"sqlite:///{tmp_path / 'out.db'}"
    assert main(["sample", str(fitted[0]), "--target", target, *option]) == 2  # a usage mistake
    captured = capsys.readouterr()
    _assert_one_error_line(captured.err, *fragments)
    assert captured.out == ""
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.db").exists()


def test_synthesizer_without_target(fitted: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(fitted[0])]) == 2
    _assert_one_error_line(capsys.readouterr().err, "is a Synthesizer", "give --target URL|DIR")
