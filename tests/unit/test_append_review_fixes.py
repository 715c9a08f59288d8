"""Appending to targets and fitting on subsets, as found by review: numbered key legs continue after the
existing rows, CSV keys read back as text match the generated ones, custom writers need no
``existing_rows``, and a subset table with no complete row still gets rows."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.connectors import SQLTarget
from syntho_hive.connectors.base import TableSource, TableTarget, TargetWriter
from syntho_hive.connectors.files import CSVSource, CSVTarget, ParquetSource, ParquetTarget
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.models import CTGAN
from syntho_hive.exceptions import SerializationError
from syntho_hive.relational.subset import Subset

TINY = {"model": CTGAN, "embedding_dim": 8, "generator_dim": (16,), "discriminator_dim": (16,), "pac": 5,
        "max_modes": 2, "device": "cpu"}

TARGETS: dict[str, tuple[Callable[[Path], TableTarget], Callable[[Path], TableSource]]] = {
    "parquet": (lambda root: ParquetTarget(root / "out", if_exists="append"), lambda root: ParquetSource(root / "out")),
    "sqlite": (lambda root: SQLTarget(f"sqlite:///{root / 'out.sqlite'}", if_exists="append"),
               lambda root: SQLSource(f"sqlite:///{root / 'out.sqlite'}")),
}


def _orphans(child: pd.DataFrame, parent: pd.DataFrame, columns: list[str]) -> int:
    keys = pd.MultiIndex.from_frame(parent[columns])
    return int((~pd.MultiIndex.from_frame(child[columns]).isin(keys)).sum())


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_composite_keys_with_a_numbered_leg_stay_unique_over_appends(kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    stores = pd.DataFrame([(r, s) for r in "NSEW" for s in range(1, 16)], columns=["region", "store_no"])
    stores["size"] = rng.integers(1, 100, len(stores))
    visits = pd.DataFrame({"visit_id": [f"V{i:04d}" for i in range(200)], "region": rng.choice(stores.region, 200),
                           "store_no": rng.integers(1, 16, 200)})
    md = Metadata()
    md.add_table("stores", pk=["region", "store_no"])
    md.add_table("visits", pk="visit_id", fk={"region": "stores.region", "store_no": "stores.store_no"})
    synth = Synthesizer(md, seed=3, **TINY).fit({"stores": stores, "visits": visits}, epochs=1, progress_bar=False)
    make_target, make_source = TARGETS[kind]
    for seed in (1, 2, 3):
        synth.sample(seed=seed, output=make_target(tmp_path), chunk_rows=7)
    source = make_source(tmp_path)
    out_stores, out_visits = source.read_table("stores"), source.read_table("visits")
    assert len(out_stores) == 3 * len(stores)
    assert not out_stores[["region", "store_no"]].duplicated().any()
    assert not out_visits["visit_id"].duplicated().any()
    assert _orphans(out_visits, out_stores, ["region", "store_no"]) == 0


def test_per_parent_numbers_under_a_reference_table_continue_over_appends(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    calendar = pd.DataFrame({"day": days, "label": [f"holiday {i}" for i in range(10)]})
    events = pd.DataFrame({"day": rng.choice(days, 200), "v": rng.normal(size=200)}).sort_values("day")
    events["seq"] = events.groupby("day").cumcount() + 1
    md = Metadata()
    md.add_table("calendar", pk="day")
    md.add_table("events", pk=["day", "seq"], fk={"day": "calendar.day"})
    synth = Synthesizer(md, seed=1, **TINY).fit({"calendar": calendar, "events": events}, epochs=1,
                                                progress_bar=False)
    for seed in (1, 2, 3):
        synth.sample(seed=seed, output=ParquetTarget(tmp_path, if_exists="append"))
    out = ParquetSource(tmp_path).read_table("events")
    assert len(out) == 600 and not out[["day", "seq"]].duplicated().any()
    assert len(ParquetSource(tmp_path).read_table("calendar")) == 10


def test_a_csv_reference_table_with_a_date_key_is_not_repeated_on_append(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    calendar = pd.DataFrame({"day": days, "label": [f"holiday {i}" for i in range(10)]})
    events = pd.DataFrame({"eid": np.arange(1, 201), "day": rng.choice(days, 200), "v": rng.normal(size=200)})
    md = Metadata()
    md.add_table("calendar", pk="day")
    md.add_table("events", pk="eid", fk={"day": "calendar.day"})
    synth = Synthesizer(md, seed=1, **TINY).fit({"calendar": calendar, "events": events}, epochs=1,
                                                progress_bar=False)
    for seed in (1, 2):
        synth.sample(seed=seed, output=CSVTarget(tmp_path, if_exists="append"))
    source = CSVSource(tmp_path, metadata=md)
    assert len(source.read_table("calendar")) == 10
    out = source.read_table("events")
    assert len(out) == 400 and not out["eid"].duplicated().any()


def test_a_custom_writer_without_existing_rows_still_works() -> None:
    class Memory(TableTarget):
        def __init__(self) -> None:
            self.rows: dict[str, int] = {}

        def open(self, metadata: Metadata, tables: Iterable[str]) -> TargetWriter:
            rows = self.rows

            class Writer(TargetWriter):
                def write_table(self, table: str, chunks: Iterable[pd.DataFrame]) -> str:
                    rows[table] = sum(len(c) for c in chunks)
                    return table

                def commit(self) -> None:
                    pass

                def abort(self) -> None:
                    pass

            return Writer()

    md = Metadata()
    md.add_table("things", pk="thing_id")
    data = pd.DataFrame({"thing_id": np.arange(1, 41), "v": np.linspace(0, 1, 40)})
    target = Memory()
    Synthesizer(md, seed=0, **TINY).fit({"things": data}, epochs=1, progress_bar=False).sample(seed=1, output=target)
    assert target.rows == {"things": 40}


def test_appending_to_a_file_table_missing_a_key_column_is_a_serialization_error(tmp_path: Path) -> None:
    md = Metadata()
    md.add_table("things", pk="thing_id")
    data = pd.DataFrame({"thing_id": np.arange(1, 41), "v": np.linspace(0, 1, 40)})
    synth = Synthesizer(md, seed=0, **TINY).fit({"things": data}, epochs=1, progress_bar=False)
    pd.DataFrame({"other": [1, 2]}).to_parquet(tmp_path / "things.parquet")
    with pytest.raises(SerializationError, match="thing_id"):
        synth.sample(seed=1, output=ParquetTarget(tmp_path, if_exists="append"))


def test_a_subset_table_with_no_complete_row_is_still_generated() -> None:
    customers = pd.DataFrame({"customer_id": np.arange(1, 41), "seg": ["a", "b"] * 20})
    orders = pd.DataFrame({"order_id": np.arange(1, 41), "customer_id": np.arange(21, 41).repeat(2),
                           "amt": np.linspace(1, 9, 40)})
    gifts = pd.DataFrame({"gift_id": np.arange(1, 21), "customer_id": np.arange(1, 21),
                          "order_id": np.arange(1, 40, 2), "val": 1.0})
    md = Metadata()
    md.add_table("customers", pk="customer_id")
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"})
    md.add_table("gifts", pk="gift_id", fk={"customer_id": "customers.customer_id", "order_id": "orders.order_id"})
    # seed 24 draws customers 14 and 15: the orders kept (through gifts) belong to other customers
    subset = Subset(root="customers", rows=2, seed=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth = Synthesizer(md, seed=0, epochs=1).fit({"customers": customers, "orders": orders, "gifts": gifts},
                                                      subset=subset, progress_bar=False)
    out = synth.sample(seed=0)
    assert len(out["orders"]) > 0 and len(out["gifts"]) > 0
    assert out["gifts"]["order_id"].isin(out["orders"]["order_id"]).all()
