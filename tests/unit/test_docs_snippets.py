"""The ```python blocks of README.md and docs/*.md run as written.

Every block either runs here or is preceded by a marker saying why it cannot run in a test::

    <!-- not-run: needs a PostgreSQL server -->

Each block runs on its own, in a fresh namespace and a scratch directory, so a block that uses a
name it does not import fails. Where a block stands for the reader's own data (``customers``,
``tables``, ``pd.read_csv("trips.csv")``), ``GIVEN`` names the small, real-looking data the test
provides under those names. ``FAST`` shrinks epochs and row counts so the blocks run in seconds;
each replacement must match the block's text, so a block that changes is noticed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/architecture.md", "docs/privacy.md", "docs/report_schema.md")
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_MARKER = re.compile(r"<!--\s*not-run:\s*(.*?)\s*-->\s*\Z", re.S)


def python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, code, not-run reason or None)`` of every ```python block of a markdown text."""
    blocks = []
    for match in _BLOCK.finditer(text):
        marker = _MARKER.search(text[:match.start()])
        reason = marker.group(1) if marker else None
        blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1), reason))
    return blocks


def _blocks() -> list[tuple[str, int, int, str, str | None]]:
    found = []
    for doc in DOCS:
        for index, (line, code, reason) in enumerate(python_blocks((ROOT / doc).read_text(encoding="utf-8"))):
            found.append((doc, index, line, code, reason))
    return found


# ---------------------------------------------------------------------------------------------- the reader's data

def _trips(n: int = 200) -> dict[str, Any]:
    """``trips.csv``: taxi trips in four cities, a pickup before each dropoff."""
    rng = np.random.default_rng(0)
    places = [("Paris", "France"), ("Lyon", "France"), ("Berlin", "Germany"), ("Madrid", "Spain")]
    where = rng.integers(0, len(places), n)
    pickup = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30 * 24 * 60, n), unit="min")
    trips = pd.DataFrame({
        "trip_id": np.arange(1, n + 1),
        "passengers": rng.integers(1, 6, n),
        "pickup_at": pickup,
        "dropoff_at": pickup + pd.to_timedelta(rng.integers(5, 90, n), unit="min"),
        "city": [places[i][0] for i in where],
        "country": [places[i][1] for i in where],
        "fare": rng.gamma(2.0, 10.0, n).round(2),
    })
    trips["driver_id"] = rng.integers(1, 40, n)  # README declares (driver_id, pickup_at) unique
    trips.to_csv("trips.csv", index=False)
    return {}


def _shop_tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    n_customers, n_orders, n_items, n_products = 60, 150, 300, 12
    products = pd.DataFrame({"sku": [f"SKU-{i:03d}" for i in range(n_products)],
                             "price": rng.gamma(2.0, 15.0, n_products).round(2),
                             "category": rng.choice(["toys", "food", "books"], n_products)})
    return {
        "customers": pd.DataFrame({"customer_id": np.arange(1, n_customers + 1),
                                   "tier": rng.choice(["basic", "premium", "gold"], n_customers, p=[.5, .3, .2]),
                                   "age": rng.integers(18, 80, n_customers)}),
        "orders": pd.DataFrame({"order_id": np.arange(1, n_orders + 1),
                                "customer_id": rng.integers(1, n_customers + 1, n_orders),
                                "status": rng.choice(["paid", "shipped", "returned"], n_orders, p=[.4, .5, .1]),
                                "amount": rng.gamma(2.0, 30.0, n_orders).round(2)}),
        "items": pd.DataFrame({"item_id": np.arange(1, n_items + 1),
                               "order_id": rng.integers(1, n_orders + 1, n_items),
                               "sku": rng.choice(products["sku"], n_items),
                               "quantity": rng.integers(1, 5, n_items)}),
        "products": products,
    }


def _shop() -> dict[str, Any]:
    """A shop's customers, orders (also as ``orders.parquet``), items and products."""
    tables = _shop_tables()
    tables["orders"].to_parquet("orders.parquet", index=False)
    return {**tables, "real_tables": tables}


def _shop_schema() -> dict[str, Any]:
    """The shop's customers and orders as ``tables`` with their ``metadata``."""
    from syntho_hive import Metadata

    tables = _shop_tables()
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    return {"tables": {"customers": tables["customers"], "orders": tables["orders"]}, "metadata": metadata}


def _shop_database() -> dict[str, Any]:
    """The shop's customers and orders in an SQLite database, ``shop.db`` (the test runs the PostgreSQL
    example there: the same connector code, another dialect)."""
    import sqlalchemy as sa

    tables = _shop_tables()
    engine = sa.create_engine("sqlite:///shop.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, tier TEXT, age INTEGER)")
        connection.exec_driver_sql("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER "
                                   "REFERENCES customers (customer_id), status TEXT, amount REAL)")
        for name in ("customers", "orders"):
            tables[name].to_sql(name, connection, if_exists="append", index=False)
    engine.dispose()
    return {}


def _adult(rows: int) -> pd.DataFrame:
    from syntho_hive.datasets import load_adult_sample

    return load_adult_sample().head(rows)


def _quality() -> dict[str, Any]:
    """Adult rows as real, holdout and (standing in for generated rows) synthetic tables."""
    adult = _adult(900)
    return {"real_df": adult.iloc[:300], "holdout_df": adult.iloc[300:600],
            "synthetic_df": adult.iloc[600:].reset_index(drop=True)}


def _crm() -> dict[str, Any]:
    """Employees, customers (with a CRM reference) and their orders (with free-text notes), from the
    bundled sales data's invented people; ``holdout`` holds other employees, customers and orders;
    ``df`` is Adult rows."""
    from syntho_hive import Metadata
    from syntho_hive.datasets import load_sales

    sales = load_sales()
    staff = sales["employees"].drop(columns=["reports_to"])
    employees, held_employees = staff[staff["employee_id"] <= 9], staff[staff["employee_id"] > 9]  # 5-9: reps
    everyone = sales["customers"].assign(crm_ref=[f"CRM-{7000 + i:05d}" for i in range(len(sales["customers"]))])
    customers, holdout = everyone.iloc[:120].reset_index(drop=True), everyone.iloc[120:240].reset_index(drop=True)
    invoices = sales["invoices"].rename(columns={"invoice_id": "order_id"})[
        ["order_id", "customer_id", "invoice_date", "total"]]
    notes = ["call before delivery", "leave at the door", "gift wrap please", "invoice to the office", None]
    invoices["notes"] = [notes[i % len(notes)] for i in range(len(invoices))]
    orders, held_orders = (invoices[invoices["customer_id"].isin(part["customer_id"])].reset_index(drop=True)
                           for part in (customers, holdout))
    metadata = (Metadata().add_table("employees", pk="employee_id")
                .add_table("customers", pk="customer_id", fk={"support_rep_id": "employees.employee_id"})
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    return {"tables": {"employees": employees, "customers": customers, "orders": orders}, "metadata": metadata,
            "customers": customers, "holdout": {"employees": held_employees, "customers": holdout,
                                                "orders": held_orders}, "df": _adult(1000)}


def _dp_table() -> dict[str, Any]:
    """``df``: Adult rows, enough for the noisy counts of differential privacy to release values."""
    return {"df": _adult(2000)}


#: (document, block index) -> what the block is given under the reader's names.
GIVEN: dict[tuple[str, int], Callable[[], dict[str, Any]]] = {
    ("README.md", 0): _trips,
    ("README.md", 1): _shop,
    ("README.md", 2): _shop_database,
    ("README.md", 4): _quality,
    ("README.md", 6): _crm,
    ("docs/privacy.md", 0): _crm,
    ("docs/privacy.md", 1): _dp_table,
    ("docs/privacy.md", 2): _shop_schema,
}

_POSTGRES = '"postgresql+psycopg://app:pw@localhost:5432/shop"'
#: (document, block index) -> (text in the block, what the test runs instead): fewer epochs and rows, and
#: SQLite for PostgreSQL, and a seed where a DP example leaves it out (a release draws its noise key fresh; the
#: test must not depend on the draw).
FAST: dict[tuple[str, int], list[tuple[str, str]]] = {
    ("README.md", 0): [("epochs=300", "epochs=2"), ("10_000", "300")],
    ("README.md", 1): [("epochs=200", "epochs=2"), ("10_000", "50")],
    ("README.md", 2): [(f'{_POSTGRES}, schema="public"', '"sqlite:///shop.db"'),
                       (f'{_POSTGRES}, schema="synthetic"', '"sqlite:///synthetic.db"'), ("rows=50_000", "rows=40")],
    ("README.md", 5): [("Synthesizer(sales_metadata(), seed=0)", "Synthesizer(sales_metadata(), seed=0, epochs=1)")],
    ("README.md", 6): [(".fit(tables)", ".fit(tables, epochs=2)"), ("max_epsilon=4.0, delta=1e-5)",
                                                                     "max_epsilon=4.0, delta=1e-5, epochs=1)"),
                       (".fit(df)", ".fit(df, seed=0)")],
    ("docs/privacy.md", 0): [(".fit(tables)", ".fit(tables, epochs=2)"), ("TabularAR()", "TabularAR(epochs=2)")],
    ("docs/privacy.md", 1): [("delta=1e-5)", "delta=1e-5, epochs=1)"), (".fit(df)", ".fit(df, seed=0)")],
    ("docs/privacy.md", 2): [("delta=1e-5)", "delta=1e-5, epochs=1)"),
                             ("privacy_config=PrivacyConfig(", "seed=0, privacy_config=PrivacyConfig(")],
}

#: Blocks that take longer than a unit test should (ten tables; a schema fitted twice; a schema under DP).
SLOW: set[tuple[str, int]] = {("README.md", 5), ("README.md", 6), ("docs/privacy.md", 2)}


def _runnable() -> list[Any]:
    params = []
    for doc, index, line, _code, reason in _blocks():
        if reason is None:
            marks = [pytest.mark.slow] if (doc, index) in SLOW else []
            params.append(pytest.param(doc, index, id=f"{doc}:{line}", marks=marks))
    return params


def fast_code(doc: str, index: int, code: str) -> str:
    """``code`` with the ``FAST`` replacements of its block (each must occur in it)."""
    for old, new in FAST.get((doc, index), []):
        assert old in code, f"{doc} block {index} no longer contains {old!r}: update FAST in this test."
        code = code.replace(old, new)
    return code


def test_every_block_runs_or_says_why_not() -> None:
    blocks = _blocks()
    assert blocks, "no ```python block found"
    for doc, index, line, _code, reason in blocks:
        assert reason is None or reason.strip(), f"{doc}:{line}: a not-run marker needs a reason"
    runnable = {(doc, index) for doc, index, _line, _code, reason in blocks if reason is None}
    stale = (set(GIVEN) | set(FAST) | SLOW) - runnable
    assert not stale, f"GIVEN / FAST / SLOW name blocks that are not run (moved or marked not-run?): {sorted(stale)}"


def run_block(code: str, given: dict[str, Any], where: str) -> dict[str, Any]:
    """Run ``code`` in a fresh namespace holding only ``given``; return the namespace."""
    namespace: dict[str, Any] = {"__name__": "__snippet__", **given}
    exec(compile(code, where, "exec"), namespace)
    return namespace


def test_a_broken_block_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A marker covers only the block right after it; an unmarked block that names something undefined, or
    passes an argument the API does not take, fails."""
    monkeypatch.chdir(tmp_path)
    text = ("<!-- not-run: needs a server -->\n```python\nconnect()\n```\n\n<!-- not-run: x -->\nSome prose.\n\n"
            "```python\nmetadata = Metadata()\n```\n\n"
            "```python\nfrom syntho_hive import Metadata\nMetadata().add_table('t', primary_key='id')\n```\n")
    (_, _, marked), (_, undefined, unmarked), (_, wrong_argument, last) = python_blocks(text)
    assert (marked, unmarked, last) == ("needs a server", None, None)
    with pytest.raises(NameError):
        run_block(undefined, {}, "undefined")
    with pytest.raises(TypeError):
        run_block(wrong_argument, {}, "wrong_argument")


@pytest.mark.parametrize(("doc", "index"), _runnable())
def test_block_runs(doc: str, index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _doc, _index, line, code, _reason = next(b for b in _blocks() if b[:2] == (doc, index))
    run_block(fast_code(doc, index, code), GIVEN.get((doc, index), dict)(), f"{doc}:{line}")


def documented_keys(text: str) -> dict[str, set[str]]:
    """``{section heading: keys}`` of the ``| key | type | meaning |`` tables of report_schema.md (a dotted
    key counts by its first part; ``a``, ``b`` in one cell are two keys)."""
    sections: dict[str, set[str]] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("| `"):
            cell = line.split("|")[1]
            sections.setdefault(heading, set()).update(k.split(".")[0] for k in re.findall(r"`([^`]+)`", cell))
    return sections


def test_report_json_has_the_documented_keys(tmp_path: Path) -> None:
    """Every key the report's JSON writes for a table (with a holdout and a target) is in report_schema.md,
    and every documented key is written (``differential_privacy``: only for a DP synthesizer)."""
    import json

    from syntho_hive.validation import ValidationReport

    adult = _adult(600)
    ValidationReport().generate(adult.iloc[:200], adult.iloc[200:400].reset_index(drop=True), tmp_path / "r.html",
                                holdout=adult.iloc[400:], target="income")
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    table = report["tables"]["table"]
    documented = documented_keys((ROOT / "docs/report_schema.md").read_text(encoding="utf-8"))
    written = {
        "Top level": set(report),
        "Table object (`tables.<name>`)": set(table),
        "`column_pair_trends`": set(table["column_pair_trends"]),
        "`privacy`": set(table["privacy"]),
    }
    only_sometimes = {"Top level": {"differential_privacy"}}
    for section, keys in written.items():
        assert keys <= documented[section], f"{section}: undocumented keys {sorted(keys - documented[section])}"
        missing = documented[section] - keys - only_sometimes.get(section, set())
        assert not missing, f"{section}: documented keys not written {sorted(missing)}"


def readme_commands() -> list[list[str]]:
    """The ``synthohive`` command lines of README.md's ```bash blocks, as argument lists without the
    program name (continuation lines joined, comments dropped, optional ``[...]`` parts kept)."""
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.replace("[", " ").replace("]", " "), comments=True)
            if words and words[0] == "synthohive":
                commands.append(words[1:])
    return commands


def test_readme_commands_parse() -> None:
    """Every documented command line uses sub-commands and options the CLI has."""
    from syntho_hive.interface.cli import build_parser

    commands = readme_commands()
    assert {c[0] for c in commands} == {"fit", "sample", "report", "demo"}
    for command in commands:
        build_parser().parse_args(command)  # a renamed or missing option raises


def test_readme_fit_and_sample_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-table ``fit`` and ``sample`` lines run as written (fewer epochs and rows)."""
    from syntho_hive import Metadata
    from syntho_hive.interface.cli import main

    monkeypatch.chdir(tmp_path)
    _trips()
    Metadata.detect(pd.read_csv("trips.csv", parse_dates=["pickup_at", "dropoff_at"]), table_name="trips").save(
        "trips.yaml")
    fit, sample = (c for c in readme_commands() if c[0] in ("fit", "sample") and c[1].startswith("trips"))
    fit[fit.index("--epochs") + 1] = "2"
    sample[sample.index("--rows") + 1] = "50"
    assert main([*fit, "--no-progress"]) == 0
    assert main(sample) == 0
    assert len(pd.read_parquet("synthetic.parquet")) == 50
