"""``Synthesizer.sample(conditions={table: {column: value}})``: conditioned rows, and children that follow them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import GenerationError


@pytest.fixture(scope="module")
def shop() -> tuple[Synthesizer, dict[str, pd.DataFrame]]:
    """customers(tier: premium customers have ~6 orders, basic ones ~1) -> orders(status); a reference table."""
    rng = np.random.default_rng(0)
    n = 400
    tier = rng.choice(["basic", "premium"], n, p=[0.75, 0.25])
    customers = pd.DataFrame({"customer_id": np.arange(n), "tier": tier, "region": rng.choice(["CA", "NY", "TX"], n)})
    per = rng.poisson(np.where(tier == "premium", 6.0, 1.0))
    orders = pd.DataFrame({"order_id": np.arange(per.sum()), "customer_id": np.repeat(customers["customer_id"], per),
                           "status": rng.choice(["paid", "refunded"], per.sum(), p=[0.9, 0.1]),
                           "amount": rng.gamma(2.0, 20.0, per.sum()).round(2)})
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    data = {"customers": customers, "orders": orders}
    return Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1), data


def test_conditioned_parents_and_their_children(shop: tuple[Synthesizer, dict[str, pd.DataFrame]]) -> None:
    synth, _ = shop
    plain = synth.sample(seed=1)
    premium = synth.sample(seed=1, conditions={"customers": {"tier": "premium"}, "orders": {"status": "refunded"}})
    assert (premium["customers"]["tier"] == "premium").all() and len(premium["customers"]) == 400
    assert (premium["orders"]["status"] == "refunded").all()
    assert premium["orders"]["customer_id"].isin(premium["customers"]["customer_id"]).all()
    # premium customers have the orders premium customers have: several times as many as the mix
    assert len(premium["orders"]) > 2 * len(plain["orders"])
    again = synth.sample(seed=1, conditions={"customers": {"tier": "premium"}, "orders": {"status": "refunded"}})
    for name in premium:
        pd.testing.assert_frame_equal(premium[name], again[name])


@pytest.mark.parametrize(("conditions", "message"), [
    ({"nope": {"tier": "basic"}}, "unknown table 'nope'"),
    ({"orders": {"customer_id": 3}}, "'customer_id' is not a column its model draws"),
    ({"customers": {"customer_id": 3}}, "'customer_id' is not a column its model draws"),
    ({"customers": "premium"}, "must be a mapping"),
    ({"customers": {"tier": "gold"}}, "gold"),
])
def test_bad_conditions_are_refused(shop: tuple[Synthesizer, dict[str, pd.DataFrame]], conditions: dict,
                                    message: str) -> None:
    synth, _ = shop
    with pytest.raises(GenerationError, match=message):
        synth.sample(seed=1, conditions=conditions)


def test_a_column_the_rules_overwrite_is_refused() -> None:
    """``country`` follows ``city`` by a learned map after the model draws it: a condition on it was accepted,
    then broken (186 FR rows and 114 DE rows for country 'FR'); the determinant can be conditioned."""
    rng = np.random.default_rng(0)
    city = rng.choice(["Paris", "Lyon", "Berlin", "Munich"], 300)
    frame = pd.DataFrame({"id": np.arange(300), "city": city, "country": np.where(np.isin(city, ["Paris", "Lyon"]),
                                                                                  "FR", "DE")})
    metadata = Metadata().add_table("t", pk="id", dependencies=[("city", "country")])
    synth = Synthesizer(metadata, seed=0).fit({"t": frame}, epochs=1, progress_bar=False, n_jobs=1)
    with pytest.raises(GenerationError, match="'country' is not a column its model draws"):
        synth.sample(seed=0, conditions={"t": {"country": "FR"}})
    paris = synth.sample(seed=0, conditions={"t": {"city": "Paris"}})["t"]
    assert (paris["city"] == "Paris").all() and (paris["country"] == "FR").all()
