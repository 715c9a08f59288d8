"""Composite primary keys whose legs are attributes (``stores(region, store_no)``): the attribute legs keep
their real values and the combination stays unique, in memory, chunk by chunk, in slices and after a load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import GenerationError
from syntho_hive.relational.keys import composite_key_legs


def _stores(seed: int = 0) -> dict[str, pd.DataFrame]:
    """stores(region, store_no: 1..20 in each region) -> sales(region, store_no, sale_no: 1..k per store)."""
    rng = np.random.default_rng(seed)
    stores = pd.DataFrame({"region": np.repeat(["N", "S", "E"], 20), "store_no": np.tile(np.arange(1, 21), 3),
                           "size": rng.integers(100, 900, 60)})
    per = rng.poisson(4, 60)
    sales = pd.DataFrame({"region": np.repeat(stores["region"], per).to_numpy(),
                          "store_no": np.repeat(stores["store_no"], per).to_numpy()})
    sales["sale_no"] = sales.groupby(["region", "store_no"]).cumcount() + 1
    sales["amount"] = rng.gamma(2.0, 50.0, len(sales)).round(2)
    return {"stores": stores, "sales": sales}


def _stores_metadata() -> Metadata:
    return (Metadata().add_table("stores", pk=["region", "store_no"])
            .add_table("sales", pk=["region", "store_no", "sale_no"],
                       fk={"region": "stores.region", "store_no": "stores.store_no"}))


@pytest.fixture(scope="module")
def fitted() -> Synthesizer:
    return Synthesizer(_stores_metadata(), seed=0).fit(_stores(), epochs=1, progress_bar=False, n_jobs=1)


def _check(tables: dict[str, pd.DataFrame]) -> None:
    stores, sales = tables["stores"], tables["sales"]
    assert not stores.duplicated(["region", "store_no"]).any()
    assert not sales.duplicated(["region", "store_no", "sale_no"]).any()
    assert set(stores["region"]) <= {"N", "S", "E"}  # a real value, not an invented id such as 'ENSSNE'
    joined = sales.merge(stores, on=["region", "store_no"], how="left", indicator=True)
    assert (joined["_merge"] == "both").all()  # zero orphans


def test_attribute_legs_are_modelled_and_the_other_leg_numbered_within_them(fitted: Synthesizer) -> None:
    tables = fitted.sample(seed=1)
    _check(tables)
    stores = tables["stores"]
    assert len(stores) == 60 and stores["region"].nunique() > 1
    for _, numbers in stores.groupby("region")["store_no"]:  # 1, 2, ... in each region, as in the real data
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert stores["store_no"].dtype == np.int64
    assert fitted._engine.plan("stores").numbered_keys == {"store_no": 1}


def test_numbering_goes_on_across_chunks_and_survives_a_load(fitted: Synthesizer, tmp_path: Path) -> None:
    chunked = fitted.sample(seed=2, chunk_rows=7)
    _check(chunked)
    for _, numbers in chunked["stores"].groupby("region")["store_no"]:
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    fitted.save(tmp_path / "synth")
    again = Synthesizer.load(tmp_path / "synth").sample(seed=2, chunk_rows=7)
    for name in chunked:
        pd.testing.assert_frame_equal(chunked[name], again[name])


def test_slices_of_a_partitioned_generation_never_repeat_a_key(fitted: Synthesizer) -> None:
    engine = fitted._engine
    slices = [engine.generate(seed=3, scale=20.0, partition=(p, 3), replicate_rows=10) for p in range(3)]
    tables = {name: pd.concat([part[name] for part in slices], ignore_index=True) for name in ("stores", "sales")}
    assert len(tables["stores"]) == 1_200
    _check(tables)


@pytest.mark.parametrize(("frame", "expected"), [
    (pd.DataFrame({"year": [2023, 2023, 2024, 2024], "invoice": [1, 2, 3, 4]}), (["year"], {})),
    (pd.DataFrame({"year": [2023, 2023, 2024, 2024], "invoice": [1, 2, 1, 2]}), (["year"], {"invoice": 1})),
    (pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), ([], {})),      # ids both: unchanged
    (pd.DataFrame({"a": [1, 1, 2, 2], "b": [5, 9, 5, 5]}), ([], {})),      # repeats within a group: unchanged
])
def test_which_legs_are_modelled(frame: pd.DataFrame, expected: tuple[list[str], dict[str, int]]) -> None:
    assert composite_key_legs(frame, list(frame.columns)) == expected


def test_a_unique_leg_stays_an_id_and_the_other_is_modelled() -> None:
    rng = np.random.default_rng(4)
    invoices = pd.DataFrame({"year": rng.choice([2022, 2023, 2024], 90), "invoice_no": np.arange(1_000, 1_090),
                             "total": rng.gamma(2.0, 30.0, 90).round(2)})
    metadata = Metadata().add_table("invoices", pk=["year", "invoice_no"])
    synth = Synthesizer(metadata, seed=0).fit({"invoices": invoices}, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=0)["invoices"]
    assert set(out["year"]) <= {2022, 2023, 2024}
    assert out["invoice_no"].is_unique


def test_a_self_reference_to_a_composite_key_of_attribute_legs() -> None:
    rng = np.random.default_rng(5)
    staff = pd.DataFrame({"company": np.repeat(["acme", "globex"], 40), "emp_no": np.tile(np.arange(1, 41), 2),
                          "salary": rng.normal(50_000, 5_000, 80).round()})
    boss = np.where(staff["emp_no"] <= 3, 0, rng.integers(1, 4, 80))
    staff["boss_company"] = staff["company"].where(boss > 0)
    staff["boss_no"] = pd.array(np.where(boss > 0, boss, None), dtype="Int64")
    metadata = Metadata().add_table("staff", pk=["company", "emp_no"],
                                    fk={"boss_company": "staff.company", "boss_no": "staff.emp_no"})
    synth = Synthesizer(metadata, seed=0).fit({"staff": staff}, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=0)["staff"]
    assert set(out["company"]) <= {"acme", "globex"} and not out.duplicated(["company", "emp_no"]).any()
    bosses = out.dropna(subset=["boss_no"])
    keys = set(zip(out["company"], out["emp_no"]))
    assert all(key in keys for key in zip(bosses["boss_company"], bosses["boss_no"]))


@pytest.mark.parametrize("numbered", [True, False])
def test_a_self_reference_sharing_a_key_leg_stays_within_the_row_s_own_value(numbered: bool) -> None:
    """``(company, boss_no) -> staff(company, emp_no)``, a boss in the same company: ``company`` was taken for an
    FK column filled by the hierarchy, never generated, and ``sample()`` failed with a raw ``KeyError``."""
    rng = np.random.default_rng(9)
    staff = pd.DataFrame({"company": np.repeat(["acme", "globex", "initech"], 30),
                          "emp_no": np.tile(np.arange(1, 31), 3) + (0 if numbered else np.repeat([0, 100, 200], 30)),
                          "salary": rng.normal(50_000, 5_000, 90).round()})
    boss = np.where(staff["emp_no"] % 100 <= 3, -1, staff["emp_no"] - rng.integers(1, 4, 90))
    staff["boss_no"] = pd.array(np.where(boss > 0, boss, None), dtype="Int64")
    metadata = Metadata().add_table("staff", pk=["company", "emp_no"],
                                    fk={"company": "staff.company", "boss_no": "staff.emp_no"})
    synth = Synthesizer(metadata, seed=0).fit({"staff": staff}, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=0, scale=4.0)["staff"]
    assert len(out) == 360 and set(out["company"]) == {"acme", "globex", "initech"}
    assert not out.duplicated(["company", "emp_no"]).any()
    keys = set(zip(out["company"], out["emp_no"]))
    bosses = out.dropna(subset=["boss_no"])
    assert all(key in keys for key in zip(bosses["company"], bosses["boss_no"]))  # zero orphans, same company
    assert abs(out["boss_no"].isna().mean() - staff["boss_no"].isna().mean()) <= 0.04  # 0.1 in the real data
    assert (bosses["boss_no"] != bosses["emp_no"]).all()


def _readings(tz: str | None) -> dict[str, pd.DataFrame]:
    """stations -> readings(station_id, at): every station read hourly from the same start, one hour missing."""
    rng = np.random.default_rng(6)
    stations = pd.DataFrame({"station_id": np.arange(1, 9), "height": rng.integers(0, 900, 8)})
    hours = pd.date_range("2024-03-01 01:00", periods=48, freq="h", tz=tz).delete(11)
    readings = pd.DataFrame({"station_id": np.repeat(stations["station_id"], len(hours)).to_numpy(),
                             "at": np.tile(hours, len(stations))})
    readings["temp"] = rng.normal(10.0, 3.0, len(readings)).round(1)
    return {"stations": stations, "readings": readings}


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
def test_a_timestamp_leg_is_a_timeline_of_each_parent(tz: str | None) -> None:
    """``readings(station_id, at)``: each generated station is read hourly from the real start, as each real one
    (one sequence over the table scattered every station's readings over eight times the real span)."""
    data = _readings(tz)
    metadata = (Metadata().add_table("stations", pk="station_id")
                .add_table("readings", pk=["station_id", "at"], fk={"station_id": "stations.station_id"}))
    synth = Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    start, span = data["readings"]["at"].min(), data["readings"]["at"].max() - data["readings"]["at"].min()
    out = synth.sample(seed=0)["readings"]
    assert out["at"].dtype == data["readings"]["at"].dtype
    assert not out.duplicated(["station_id", "at"]).any()
    for _, stamps in out.groupby("station_id")["at"]:
        assert stamps.min() == start
        assert (stamps.sort_values().diff().dropna() == pd.Timedelta(hours=1)).all()  # hourly, no gap
    assert out["at"].max() - start <= 1.5 * span
    engine = synth._engine
    slices = [engine.generate(seed=1, scale=30.0, partition=(p, 3), replicate_rows=10) for p in range(3)]
    joined = pd.concat([part["readings"] for part in slices], ignore_index=True)
    assert not joined.duplicated(["station_id", "at"]).any()


def test_timestamps_unique_over_the_table_stay_one_sequence() -> None:
    """An event log keyed ``(device_id, at)`` whose instants never recur is not a per-parent timeline."""
    rng = np.random.default_rng(7)
    devices = pd.DataFrame({"device_id": np.arange(5)})
    events = pd.DataFrame({"device_id": rng.integers(0, 5, 100),
                           "at": pd.date_range("2024-01-01", periods=100, freq="min")})
    events["kind"] = rng.choice(["on", "off"], 100)
    metadata = (Metadata().add_table("devices", pk="device_id")
                .add_table("events", pk=["device_id", "at"], fk={"device_id": "devices.device_id"}))
    synth = Synthesizer(metadata, seed=0).fit({"devices": devices, "events": events}, epochs=1, progress_bar=False,
                                              n_jobs=1)
    assert synth._engine.plan("events").per_parent_keys == {}
    assert synth.sample(seed=0)["events"]["at"].is_unique


def _translations() -> dict[str, pd.DataFrame]:
    """products -> translations(product_id, locale): 1-4 distinct locales per product, 'la' on one row only."""
    rng = np.random.default_rng(8)
    products = pd.DataFrame({"product_id": np.arange(120), "price": rng.gamma(2.0, 10.0, 120).round(2)})
    rows = [(p, locale) for p in products["product_id"]
            for locale in rng.choice(["en", "fr", "de", "es"], rng.integers(1, 5), replace=False, p=[.4, .3, .2, .1])]
    rows.append((0, "la") if (0, "la") not in rows else rows[0])
    translations = pd.DataFrame(rows, columns=["product_id", "locale"])
    translations["title_words"] = rng.integers(2, 12, len(translations))
    return {"products": products, "translations": translations}


def test_a_label_leg_gets_distinct_real_labels_within_each_parent(tmp_path: Path) -> None:
    """``translations(product_id, locale)``: locales were invented ids ('rfddeerredd'), one per row."""
    data = _translations()
    metadata = (Metadata().add_table("products", pk="product_id")
                .add_table("translations", pk=["product_id", "locale"], fk={"product_id": "products.product_id"}))
    synth = Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=0)["translations"]
    assert set(out["locale"]) == {"en", "fr", "de", "es"}  # 'la', seen once, is never generated
    assert not out.duplicated(["product_id", "locale"]).any()
    assert out.groupby("product_id").size().max() <= 4
    shares = out["locale"].value_counts(normalize=True)
    assert shares["en"] > shares["es"]  # drawn by frequency
    synth.save(tmp_path / "synth")
    pd.testing.assert_frame_equal(Synthesizer.load(tmp_path / "synth").sample(seed=0)["translations"], out)
    for replicate in (10, 1_000):  # products split between the slices, or whole in each of them
        slices = [synth._engine.generate(seed=1, scale=5.0, partition=(p, 3), replicate_rows=replicate)
                  for p in range(3)]
        joined = pd.concat([part["translations"] for part in slices], ignore_index=True)
        assert len(joined) > 0 and not joined.duplicated(["product_id", "locale"]).any()
    with pytest.raises(GenerationError, match="at most 4"):
        synth.sample(num_rows={"products": 10, "translations": 41}, seed=0)


def test_zero_rows_of_a_key_numbered_within_two_modelled_legs() -> None:
    """``stores(region, district, store_no)`` numbers ``store_no`` within each (region, district): at 0 rows the
    numbering raised a raw ``TypeError`` (pandas cannot factorize an empty MultiIndex). It gives an empty table,
    and so its children."""
    data = _stores()
    data["stores"]["district"] = np.tile(np.repeat([1, 2], 10), 3)
    data["stores"]["store_no"] = np.tile(np.arange(1, 11), 6)
    data["sales"] = data["sales"].assign(district=np.where(data["sales"]["store_no"] <= 10, 1, 2),
                                         store_no=(data["sales"]["store_no"] - 1) % 10 + 1)
    metadata = (Metadata().add_table("stores", pk=["region", "district", "store_no"])
                .add_table("sales", pk="sale_id", fk={c: f"stores.{c}" for c in ("region", "district", "store_no")}))
    data["sales"] = data["sales"].drop(columns="sale_no").assign(sale_id=np.arange(len(data["sales"])))
    synth = Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    assert synth._engine.plan("stores").numbered_keys == {"store_no": 1}
    tables = synth.sample(num_rows={"stores": 0}, seed=1)
    assert len(tables["stores"]) == 0 and len(tables["sales"]) == 0
    assert tables["stores"]["store_no"].dtype == np.int64
    assert len(synth.sample(num_rows={"stores": 12}, seed=1)["stores"]) == 12
