"""Multi-table synthesis with TVAE behind the model interface: one table (``model={"orders": TVAE}``)
or every table (``model=TVAE``) on a small customers -> orders -> items schema; zero orphans, unique
keys, parent context, and a saved synthesizer that loads cold and samples the same rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import CTGAN, TVAE, Synthesizer
from syntho_hive.core.metadata import Metadata

TVAE_TINY = {"embedding_dim": 8, "compress_dims": (16,), "decompress_dims": (16,), "device": "cpu"}
# With mixed models, options of both go in one bag: each reaches only the models that take it.
MIXED_TINY = {**TVAE_TINY, "generator_dim": (16,), "discriminator_dim": (16,), "pac": 5, "max_modes": 2}


def shop_metadata() -> Metadata:
    md = Metadata()
    md.add_table("customers", pk="customer_id")
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"},
                 parent_context_cols=["tier"])
    md.add_table("items", pk="item_id", fk={"order_id": "orders.order_id"})
    return md


def shop_data(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_customers = 80
    tier = rng.choice(["basic", "premium"], n_customers, p=[0.7, 0.3])
    customers = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(n_customers)], "tier": tier,
                              "age": rng.integers(18, 80, n_customers)})
    per_customer = rng.poisson(np.where(tier == "premium", 4.0, 1.5))
    owner = np.repeat(np.arange(n_customers), per_customer)
    premium = tier[owner] == "premium"
    orders = pd.DataFrame({"order_id": np.arange(1, len(owner) + 1),
                           "customer_id": customers["customer_id"].to_numpy()[owner],
                           "amount": np.round(rng.lognormal(np.where(premium, 5.0, 3.5), 0.3), 2),
                           "channel": rng.choice(["web", "store", "phone"], len(owner))})
    per_order = 1 + rng.poisson(1.0, len(orders))
    items = pd.DataFrame({"item_id": np.arange(10_000, 10_000 + int(per_order.sum())),
                          "order_id": np.repeat(orders["order_id"].to_numpy(), per_order),
                          "sku": rng.choice(["A1", "B2", "C3", "D4"], int(per_order.sum())),
                          "qty": rng.integers(1, 5, int(per_order.sum()))})
    return {"customers": customers, "orders": orders, "items": items}


def assert_keys_and_no_orphans(tables: dict[str, pd.DataFrame]) -> None:
    for name, pk in (("customers", "customer_id"), ("orders", "order_id"), ("items", "item_id")):
        assert tables[name][pk].notna().all() and tables[name][pk].is_unique, name
    assert tables["orders"]["customer_id"].isin(tables["customers"]["customer_id"]).all()
    assert tables["items"]["order_id"].isin(tables["orders"]["order_id"]).all()


def saved_model_names(path: Path) -> dict[str, str]:
    """Table -> model class named in each table's checkpoint manifest."""
    names = {}
    for manifest in path.glob("tables/*/model/metadata.json"):
        table = manifest.parent.parent.name.split("_", 1)[1]
        names[table] = json.loads(manifest.read_text(encoding="utf-8"))["model"]
    return names


@pytest.mark.parametrize("model, options, expected", [
    ({"customers": CTGAN, "orders": TVAE, "items": CTGAN}, MIXED_TINY,
     {"customers": "CTGAN", "orders": "TVAE", "items": "CTGAN"}),
    (TVAE, TVAE_TINY, {"customers": "TVAE", "orders": "TVAE", "items": "TVAE"}),
], ids=["tvae-for-orders", "tvae-everywhere"])
def test_tvae_tables_join_and_survive_a_cold_load(model: object, options: dict, expected: dict[str, str],
                                                  tmp_path: Path) -> None:
    real = shop_data()
    synth = Synthesizer(shop_metadata(), model=model, seed=4, **options)
    synth.fit(real, epochs=2, batch_size=100, progress_bar=False)
    syn = synth.sample(seed=1)
    assert_keys_and_no_orphans(syn)
    for name, frame in real.items():
        assert list(syn[name].columns) == list(frame.columns), name
        assert syn[name].dtypes.to_dict() == frame.dtypes.to_dict(), name
        assert len(syn[name]) > 0, name
    assert set(syn["orders"]["channel"]) <= {"web", "store", "phone"}
    with pytest.raises(TypeError, match="generator_dim"):  # a CTGAN-only option with TVAE everywhere
        Synthesizer(shop_metadata(), model=TVAE, generator_dim=(16,))

    synth.save(tmp_path / "synth")
    assert saved_model_names(tmp_path / "synth") == expected
    loaded = Synthesizer.load(tmp_path / "synth")
    again = loaded.sample(seed=1)
    for name, frame in syn.items():
        pd.testing.assert_frame_equal(again[name], frame, check_exact=True)
    scaled = loaded.sample(scale=2.0, seed=2)
    assert_keys_and_no_orphans(scaled)
    assert len(scaled["customers"]) == 2 * len(real["customers"])


@pytest.mark.slow
def test_tvae_synthesizer_loads_and_samples_in_another_process(
        tmp_path: Path, sample_in_a_fresh_process: Callable[..., dict[str, pd.DataFrame]]) -> None:
    synth = Synthesizer(shop_metadata(), model=TVAE, seed=5, **TVAE_TINY)
    synth.fit(shop_data(), epochs=1, batch_size=100, progress_bar=False)
    expected = synth.sample(seed=9)
    there = sample_in_a_fresh_process(synth.save(tmp_path / "s"), seed=9, output=tmp_path / "o")
    assert sorted(there) == sorted(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(there[name], frame, check_exact=True)
