"""``Synthesizer.fit(..., subset=...)``: trained on a key-closed subset, sized like the source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from syntho_hive import Metadata, Synthesizer
from syntho_hive.connectors import Subset


def _shop(customers: int = 120) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(3)
    people = pd.DataFrame({"customer_id": np.arange(1, customers + 1),
                           "segment": rng.choice(["retail", "pro", "vip"], customers).astype(object)})
    orders = pd.DataFrame({"order_id": np.arange(1, 3 * customers + 1),
                           "customer_id": rng.integers(1, customers + 1, 3 * customers),
                           "total": rng.gamma(2.0, 30.0, 3 * customers).round(2)})
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    return metadata, {"customers": people, "orders": orders}


def test_a_subset_trains_on_part_and_samples_the_source_size(tmp_path: Path) -> None:
    metadata, frames = _shop()
    synth = Synthesizer(metadata, seed=0, epochs=1)
    synth.fit(frames, subset=Subset(root="customers", fraction=0.25, seed=0), progress_bar=False)
    report = synth.subset_report_
    assert report is not None and report.kept["customers"] == 30 and report.total["customers"] == 120
    assert 0 < report.kept["orders"] < report.total["orders"]
    assert synth.source_rows_ == {"customers": 120}
    assert len(synth.sample(seed=1)["customers"]) == 120          # scale 1.0 of the source, not of the subset
    assert len(synth.sample(seed=1, scale=0.5)["customers"]) == 60
    assert len(synth.sample(seed=1, num_rows={"customers": 7})["customers"]) == 7
    synth.save(tmp_path / "s")
    loaded = Synthesizer.load(tmp_path / "s")
    assert loaded.source_rows_ == {"customers": 120}
    pd.testing.assert_frame_equal(loaded.sample(seed=2)["orders"], synth.sample(seed=2)["orders"])


def test_without_a_subset_scale_follows_the_training_data() -> None:
    metadata, frames = _shop(40)
    synth = Synthesizer(metadata, seed=0, epochs=1).fit(frames, progress_bar=False)
    assert synth.subset_report_ is None and synth.source_rows_ == {}
    assert len(synth.sample(seed=0)["customers"]) == 40


def _diamond(customers: int = 1_000, per_customer: int = 2) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """Orders with two foreign keys to customers (buyer and recipient): a diamond below the root."""
    rng = np.random.default_rng(5)
    n = per_customer * customers
    people = pd.DataFrame({"customer_id": np.arange(1, customers + 1),
                           "segment": rng.choice(["retail", "pro"], customers).astype(object)})
    orders = pd.DataFrame({"order_id": np.arange(1, n + 1), "customer_id": rng.integers(1, customers + 1, n),
                           "recipient_id": rng.integers(1, customers + 1, n), "total": rng.gamma(2.0, 30.0, n)})
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id",
                                                         "recipient_id": "customers.customer_id"}))
    return metadata, {"customers": people, "orders": orders}


def test_a_diamond_subset_learns_the_children_per_parent_of_the_source() -> None:
    # The second foreign key pulls in customers without their orders (most kept customers are such
    # recipients); counts learned from every kept customer gave about half the orders per customer.
    metadata, frames = _diamond()
    synth = Synthesizer(metadata, seed=0, epochs=1)
    synth.fit(frames, subset=Subset(root="customers", rows=100, seed=0), progress_bar=False)
    assert synth.subset_report_ is not None and synth.subset_report_.kept["customers"] > 150  # the diamond pulled
    out = synth.sample(seed=0)
    real = len(frames["orders"]) / len(frames["customers"])
    generated = len(out["orders"]) / len(out["customers"])
    assert len(out["customers"]) == 1_000
    assert abs(generated / real - 1) < 0.15, (generated, real)
