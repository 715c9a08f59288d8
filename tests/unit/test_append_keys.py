"""``sample(output=target)`` with ``if_exists="append"``: a second synthetic batch appended to the first keeps
every primary key unique and every foreign key resolved, on file, Delta and SQL targets alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.connectors import DeltaTarget, SQLTarget
from syntho_hive.connectors.base import TableSource, TableTarget, TargetWriter
from syntho_hive.connectors.delta import DeltaSource
from syntho_hive.connectors.files import CSVSource, CSVTarget, ParquetSource, ParquetTarget
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.models import CTGAN
from syntho_hive.exceptions import SerializationError
from syntho_hive.relational.keys import KeyGenerator

TINY = {"model": CTGAN, "embedding_dim": 8, "generator_dim": (16,), "discriminator_dim": (16,), "pac": 5,
        "max_modes": 2, "device": "cpu"}


def shop() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """customers (integer keys) -> orders (codes ``ORD-00001``; a nullable referrer) -> items (UUIDs)."""
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({"customer_id": np.arange(1, 121), "tier": rng.choice(["basic", "premium"], 120)})
    per_customer = rng.poisson(2.0, 120)
    n_orders = int(per_customer.sum())
    referrer = pd.array(rng.choice(customers["customer_id"].to_numpy(), n_orders), dtype="Int64")
    referrer[rng.random(n_orders) < 0.5] = pd.NA
    orders = pd.DataFrame({"order_id": [f"ORD-{i:05d}" for i in range(1, n_orders + 1)],
                           "customer_id": np.repeat(customers["customer_id"].to_numpy(), per_customer),
                           "referrer_id": referrer, "amount": np.round(rng.gamma(2.0, 30.0, n_orders), 2)})
    per_order = 1 + rng.poisson(1.0, n_orders)
    items = pd.DataFrame({"item_id": [str(uuid.UUID(int=int(v))) for v in rng.integers(0, 2**62, int(per_order.sum()))],
                          "order_id": np.repeat(orders["order_id"].to_numpy(), per_order),
                          "qty": rng.integers(1, 4, int(per_order.sum()))})
    md = Metadata()
    md.add_table("customers", pk="customer_id")
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id",
                                             "referrer_id": "customers.customer_id"})
    md.add_table("items", pk="item_id", fk={"order_id": "orders.order_id"})
    return md, {"customers": customers, "orders": orders, "items": items}


@pytest.fixture(scope="module")
def fitted() -> Synthesizer:
    md, data = shop()
    return Synthesizer(md, seed=3, **TINY).fit(data, epochs=1, batch_size=100, progress_bar=False)


TARGETS: dict[str, tuple[Callable[[Path], TableTarget], Callable[[Path], TableSource]]] = {
    "parquet": (lambda root: ParquetTarget(root, if_exists="append"), lambda root: ParquetSource(root)),
    "csv": (lambda root: CSVTarget(root, if_exists="append"), lambda root: CSVSource(root)),
    "delta": (lambda root: DeltaTarget(root, if_exists="append"), lambda root: DeltaSource(root)),
    "sqlite": (lambda root: SQLTarget(f"sqlite:///{root}.sqlite", if_exists="append"),
               lambda root: SQLSource(f"sqlite:///{root}.sqlite")),
    "duckdb": (lambda root: SQLTarget(f"duckdb:///{root}.duckdb", if_exists="append"),
               lambda root: SQLSource(f"duckdb:///{root}.duckdb")),
}


@pytest.mark.parametrize("kind", list(TARGETS))
def test_appended_batches_keep_keys_unique_and_references_resolved(fitted: Synthesizer, tmp_path: Path,
                                                                   kind: str) -> None:
    make_target, make_source = TARGETS[kind]
    root = tmp_path / "out"
    batches = [fitted.sample(num_rows={"customers": 60}, seed=seed) for seed in (1, 2)]
    for seed in (1, 2):
        fitted.sample(num_rows={"customers": 60}, seed=seed, output=make_target(root))
    source = make_source(root)
    tables = {name: source.read_table(name) for name in ("customers", "orders", "items")}
    for name, key in (("customers", "customer_id"), ("orders", "order_id"), ("items", "item_id")):
        assert len(tables[name]) == sum(len(batch[name]) for batch in batches)  # every row of both batches
        assert not tables[name][key].duplicated().any(), f"{name}.{key} repeats keys"
    for child, column, parent, key in (("orders", "customer_id", "customers", "customer_id"),
                                       ("orders", "referrer_id", "customers", "customer_id"),
                                       ("items", "order_id", "orders", "order_id")):
        values = tables[child][column].dropna()
        assert values.isin(tables[parent][key]).all(), f"{child}.{column} has orphans"
    # The second batch's integers and codes go on after the first's; its orders belong to its own customers.
    first = batches[0]
    customers = tables["customers"]["customer_id"].astype(np.int64)
    assert sorted(customers) == list(range(int(customers.min()), int(customers.min()) + len(customers)))
    new_orders = tables["orders"][~tables["orders"]["order_id"].isin(first["orders"]["order_id"])]
    assert not new_orders["customer_id"].isin(first["customers"]["customer_id"]).any()


def test_a_fresh_sample_is_unchanged_by_an_empty_existing_column() -> None:
    keys = pd.Series([f"ORD-{i:05d}" for i in range(1, 50)])
    generator = KeyGenerator("order_id").fit(keys)
    fresh = generator.generate(10, np.random.default_rng(0))
    assert fresh.equals(generator.generate(10, np.random.default_rng(0), existing=pd.Series([], dtype=object)))
    after = generator.generate(10, np.random.default_rng(0), existing=fresh)
    assert after.tolist() == [f"ORD-{i:05d}" for i in range(11, 21)]


@pytest.mark.parametrize("real", [
    pd.Series(np.arange(100, 600, 10, dtype=np.int32)),
    pd.Series([f"ORD-{i:05d}" for i in range(1, 50)]),
    pd.Series(pd.date_range("2024-01-01", periods=40, freq="D")),
    pd.Series(pd.date_range("2024-01-01", periods=40, freq="D", tz="Europe/Paris")),
], ids=["integers", "codes", "days", "local-days"])
def test_sequences_continue_after_the_existing_keys(real: pd.Series) -> None:
    generator = KeyGenerator("key").fit(real)
    before = generator.generate(30, np.random.default_rng(0))
    after = generator.generate(30, np.random.default_rng(0), existing=before)
    assert after.dtype == before.dtype and after.is_unique
    assert after.min() > before.max()


def test_drawn_keys_equal_to_existing_ones_are_drawn_again() -> None:
    generator = KeyGenerator("code").fit(pd.Series(list("ABCDEFGHIJKLMNOP")))  # one letter: 16 keys in all
    first = generator.generate(6, np.random.default_rng(0))
    second = generator.generate(6, np.random.default_rng(0), existing=first)
    assert not second.isin(first).any() and second.is_unique


def test_reference_tables_get_only_the_rows_they_lack(tmp_path: Path) -> None:
    """The bundled sales schema: its reference tables (currencies, ...) are copied verbatim, so a second batch
    adds none of their rows; every other table gets new keys, and every foreign key resolves."""
    from syntho_hive.datasets.sales import load_sales, sales_metadata

    real, md = load_sales(), sales_metadata()
    synth = Synthesizer(md, seed=3).fit(real, epochs=1, progress_bar=False, n_jobs=1)
    for seed in (1, 2):
        synth.sample(seed=seed, scale=0.2, output=ParquetTarget(tmp_path, if_exists="append"))
    tables = {name: ParquetSource(tmp_path).read_table(name) for name in md.tables}
    for name in ("currencies", "categories", "order_statuses", "payment_methods"):
        assert len(tables[name]) == len(real[name]), name
    for name, config in md.tables.items():
        assert not tables[name][list(config.pk_columns)].duplicated().any(), f"{name} repeats keys"
        for column, referred in config.fk.items():
            parent, key = str(referred).rsplit(".", 1)
            assert tables[name][column].dropna().isin(tables[parent][key]).all(), f"{name}.{column} has orphans"


class _MemoryTarget(TableTarget):
    """Keeps the tables written in memory; ``held`` are the rows the destination already holds."""

    def __init__(self, held: dict[str, pd.DataFrame]) -> None:
        self.held = held
        self.written: dict[str, pd.DataFrame] = {}
        self.committed = False

    def open(self, metadata: Metadata, tables: Sequence[str]) -> TargetWriter:
        target = self

        class Writer(TargetWriter):
            def existing_rows(self, table: str, columns: Sequence[str]) -> pd.DataFrame | None:
                return target.held[table][list(columns)] if table in target.held else None

            def write_table(self, table: str, chunks: Iterable[pd.DataFrame]) -> str:
                target.written[table] = pd.concat(list(chunks), ignore_index=True)
                return table

            def commit(self) -> None:
                target.committed = True

            def abort(self) -> None:
                target.written.clear()

        return Writer()


def test_a_key_made_of_foreign_keys_to_old_rows_stops_the_write() -> None:
    """A primary key made only of foreign keys is new only when its parents are: where they are not (here the
    destination holds the enrollments but, as told, none of their parents), the write stops, nothing committed."""
    rng = np.random.default_rng(1)
    students = pd.DataFrame({"student_id": np.arange(1, 81), "year": rng.integers(1, 5, 80)})
    courses = pd.DataFrame({"course_code": [f"C{i:02d}" for i in range(12)], "credits": rng.integers(1, 6, 12)})
    picks = [(s, c) for s in students["student_id"] for c in rng.choice(courses["course_code"], 3, replace=False)]
    enrollments = pd.DataFrame(picks, columns=["student_id", "course_code"]).assign(grade=rng.integers(1, 6, 240))
    md = Metadata()
    md.add_table("students", pk="student_id")
    md.add_table("courses", pk="course_code")
    md.add_table("enrollments", pk=["student_id", "course_code"],
                 fk={"student_id": "students.student_id", "course_code": "courses.course_code"})
    synth = Synthesizer(md, seed=3, **TINY).fit({"students": students, "courses": courses,
                                                 "enrollments": enrollments}, epochs=1, progress_bar=False)
    first = _MemoryTarget({})
    synth.sample(seed=1, output=first)
    again = _MemoryTarget({"enrollments": first.written["enrollments"]})
    with pytest.raises(SerializationError, match=r"'enrollments' already holds .* primary keys"):
        synth.sample(seed=1, output=again)
    assert not again.committed and not again.written


@pytest.mark.parametrize("kind", ["parquet", "sqlite"])
def test_a_timeline_leg_goes_on_after_each_parents_latest_timestamp(tmp_path: Path, kind: str) -> None:
    """``readings(station_id, at)`` under a reference table of stations (the same keys in every batch): each batch
    went on from the real start, so the second append repeated the first's keys and the write stopped."""
    stations = pd.DataFrame({"station_id": np.arange(1, 9), "name": [f"ST{i}" for i in range(8)]})
    hours = pd.date_range("2024-03-01 01:00", periods=24, freq="h").delete(11)
    readings = pd.DataFrame({"station_id": np.repeat(stations["station_id"].to_numpy(), len(hours)),
                             "at": np.tile(hours, len(stations))})
    readings["temp"] = np.random.default_rng(6).normal(10.0, 3.0, len(readings)).round(1)
    md = (Metadata().add_table("stations", pk="station_id")
          .add_table("readings", pk=["station_id", "at"], fk={"station_id": "stations.station_id"}))
    synth = Synthesizer(md, seed=0).fit({"stations": stations, "readings": readings}, epochs=2, progress_bar=False,
                                        n_jobs=1)
    make_target, make_source = TARGETS[kind]
    root = tmp_path / "out"
    batches = [synth.sample(seed=seed)["readings"] for seed in (1, 2)]
    for seed in (1, 2):
        synth.sample(seed=seed, output=make_target(root))
    source = make_source(root)
    written, parents = source.read_table("readings"), source.read_table("stations")
    written["at"] = pd.to_datetime(written["at"])
    assert len(written) == sum(len(batch) for batch in batches) and len(parents) == len(stations)
    assert not written.duplicated(["station_id", "at"]).any()
    assert written["station_id"].isin(parents["station_id"]).all()
    first = written.iloc[:len(batches[0])].groupby("station_id")["at"].max()
    second = written.iloc[len(batches[0]):].groupby("station_id")["at"]
    assert (second.min() == first.reindex(second.min().index) + pd.Timedelta(hours=1)).all()  # on from each one's last


def test_tz_aware_keys_append_to_sqlite(tmp_path: Path) -> None:
    """SQLite reads tz-aware timestamps back naive (in UTC), and casting them to the key's tz dtype failed:
    'Cannot use .astype to convert from timezone-naive ... Append to a table this model wrote'."""
    events = pd.DataFrame({"at": pd.date_range("2024-03-01", periods=60, freq="h", tz="Europe/Paris"),
                           "v": np.random.default_rng(0).normal(size=60)})
    synth = Synthesizer(Metadata().add_table("events", pk="at"), seed=0).fit(
        {"events": events}, epochs=1, progress_bar=False, n_jobs=1)
    make_target, make_source = TARGETS["sqlite"]
    for seed in (1, 2):
        synth.sample(seed=seed, output=make_target(tmp_path / "out"))
    written = pd.to_datetime(make_source(tmp_path / "out").read_table("events")["at"], utc=True)
    assert len(written) == 2 * len(events) and written.is_unique
    assert written.iloc[len(events):].min() == written.iloc[:len(events)].max() + pd.Timedelta(hours=1)
