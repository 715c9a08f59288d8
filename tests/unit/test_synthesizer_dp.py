"""Synthesizer(privacy_config=PrivacyConfig(dp=DPConfig(...))): one differential-privacy budget for a whole
schema — split between the tables, spent at most once, reported (privacy_spent_, manifest, events, report),
kept by save/load; no value below the noisy thresholds in any saved file; refusals before any work."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from syntho_hive.core.dp import DPConfig
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models import CTGAN
from syntho_hive.exceptions import ConfigurationError, PrivacyError
from syntho_hive.interface.synthesizer import Synthesizer
from syntho_hive.privacy import PrivacyConfig
from syntho_hive.relational.dp_budget import SchemaPrivacySpent
from syntho_hive.relational.dp_cardinality import MAX_CHILDREN, count_histogram, dp_link

RARE_STATUS = "lost-in-Zanzibar"
BUDGET = DPConfig(max_epsilon=9.0, delta=1e-5)


def shop(seed: int = 0, n: int = 300) -> dict[str, pd.DataFrame]:
    """customers(tier, age, email) -> orders(amount, status, created_at) -> order_items(qty, category)."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(["basic", "premium"], n, p=[0.7, 0.3])
    customers = pd.DataFrame({"customer_id": np.arange(101, 101 + n), "tier": tier, "age": rng.integers(18, 80, n),
                              "email": [f"buyer{i}@shop-example.org" for i in range(n)]})
    per = rng.poisson(np.where(tier == "premium", 5.0, 1.5))
    owner = np.repeat(customers["customer_id"].to_numpy(), per)
    m = owner.size
    status = rng.choice(["paid", "shipped", "returned"], m, p=[0.5, 0.4, 0.1]).astype(object)
    status[:2] = RARE_STATUS  # held by two rows: far below the noisy category threshold
    orders = pd.DataFrame({"order_id": [f"ORD-{i:05d}" for i in range(m)], "customer_id": owner,
                           "amount": np.round(rng.gamma(2.0, 30, m), 2), "status": status,
                           "created_at": pd.Timestamp("2024-01-01")
                           + pd.to_timedelta(rng.integers(0, 365, m), unit="D")})
    per_order = 1 + rng.poisson(1.0, m)
    k = int(per_order.sum())
    items = pd.DataFrame({"item_id": np.arange(5000, 5000 + k),
                          "order_id": np.repeat(orders["order_id"].to_numpy(), per_order),
                          "qty": rng.integers(1, 4, k), "category": rng.choice(["toys", "books", "garden"], k)})
    return {"customers": customers, "orders": orders, "order_items": items}


def shop_metadata() -> Metadata:
    md = Metadata()
    md.add_table("customers", pk="customer_id")
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}, parent_context_cols=["tier"])
    md.add_table("order_items", pk="item_id", fk={"order_id": "orders.order_id"})
    return md


def dp_synthesizer(metadata: Metadata | None = None, config: DPConfig = BUDGET, **kwargs: object) -> Synthesizer:
    return Synthesizer(metadata or shop_metadata(), privacy_config=PrivacyConfig(dp=config), seed=7, epochs=1,
                       hidden_dim=16, **kwargs)


@pytest.fixture(scope="module")
def real() -> dict[str, pd.DataFrame]:
    return shop()


@pytest.fixture(scope="module")
def fitted(real: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> tuple[Synthesizer, Path]:
    synth = dp_synthesizer().fit(real, progress_bar=False, n_jobs=1)
    return synth, synth.save(tmp_path_factory.mktemp("dp") / "synth")


# ----------------------------------------------------------------------------- the budget
def test_the_schema_spends_at_most_its_budget_and_the_total_is_the_sum_of_the_tables(
        fitted: tuple[Synthesizer, Path]) -> None:
    spent = fitted[0].privacy_spent_
    assert isinstance(spent, SchemaPrivacySpent)
    assert set(spent.tables) == {"customers", "orders", "order_items"}
    assert 0 < spent.epsilon <= BUDGET.max_epsilon
    assert 0 < spent.delta <= BUDGET.delta
    assert spent.epsilon == pytest.approx(math.fsum(t.epsilon for t in spent.tables.values()), rel=1e-12)
    for name, table in spent.tables.items():
        assert table.model is not None, name  # every table has content columns
        assert table.model.epsilon <= table.model.max_epsilon
        assert table.epsilon <= table.budget_epsilon and table.delta <= table.budget_delta
        parts = table.model.epsilon + (table.links.epsilon if table.links else 0.0)
        assert table.epsilon == pytest.approx(parts)
    assert spent.tables["customers"].links is None  # a root: no foreign key to count
    assert spent.tables["orders"].links.links == 1 and spent.tables["orders"].links.sensitivity_sq == 2.0
    # The budget is used, not hoarded: the shares are spent almost fully.
    assert spent.epsilon > 0.95 * BUDGET.max_epsilon


def test_nothing_is_learned_outside_the_budget(fitted: tuple[Synthesizer, Path]) -> None:
    synth = fitted[0]
    engine = synth._engine
    rules = synth.rules_
    for name, table_rules in rules.items():  # nothing detected from values
        assert not table_rules["reference"] and not table_rules["detected_semantic"], name
        assert not table_rules["copied_from"] and not table_rules["dependencies"] and not table_rules["date_orderings"]
    orders = engine.plan("orders")
    assert orders.context_domain.columns == {}  # the DP context codec keeps the released values only
    assert orders.parents[0].counts.feature_columns == []  # the children count reads no parent attribute
    assert orders.per_parent_keys == {}
    customers = engine.plan("customers")
    assert customers.keys["customer_id"].generate(3, np.random.default_rng(0)).tolist() == [1, 2, 3]  # from dtype
    # PII detected by name alone and generated from defaults.
    assert synth.privacy_report_["customers"]["email"]["action"] == "fake"


def test_no_rare_category_real_key_or_personal_value_is_in_any_saved_file(real: dict[str, pd.DataFrame],
                                                                          fitted: tuple[Synthesizer, Path]) -> None:
    directory = fitted[1]
    blobs = [path.read_bytes() for path in directory.rglob("*") if path.is_file()]
    assert blobs
    forbidden = [RARE_STATUS, "ORD-0", "shop-example.org", "buyer1@"]
    for value in forbidden:
        assert not any(value.encode() in blob for blob in blobs), value
    synthetic = fitted[0].sample(seed=3)
    assert RARE_STATUS not in set(synthetic["orders"]["status"])
    assert not synthetic["customers"]["email"].str.endswith("shop-example.org").any()


def test_the_tables_join_and_the_children_count_follows_the_noisy_histogram(
        real: dict[str, pd.DataFrame], fitted: tuple[Synthesizer, Path]) -> None:
    synthetic = fitted[0].sample(seed=5)
    assert synthetic["orders"]["customer_id"].isin(synthetic["customers"]["customer_id"]).all()
    assert synthetic["order_items"]["order_id"].isin(synthetic["orders"]["order_id"]).all()
    assert synthetic["orders"]["order_id"].is_unique
    real_mean = len(real["orders"]) / len(real["customers"])
    synthetic_mean = len(synthetic["orders"]) / len(synthetic["customers"])
    assert 0.5 * real_mean < synthetic_mean < 1.5 * real_mean


def test_sampling_events_carry_the_schema_total(fitted: tuple[Synthesizer, Path]) -> None:
    synth = fitted[0]
    with capture_logs() as logs:
        synth.sample(seed=11)
    done = [e for e in logs if e["event"] == "relational_sampling_complete"]
    assert len(done) == 1
    assert done[0]["dp_epsilon"] == synth.privacy_spent_.epsilon
    assert done[0]["dp_max_epsilon"] == BUDGET.max_epsilon


def test_save_and_load_keep_the_spent_budget_and_the_samples(fitted: tuple[Synthesizer, Path]) -> None:
    synth, directory = fitted
    manifest = json.loads((directory / "synthesizer.json").read_text())
    assert manifest["dp"]["epsilon"] == synth.privacy_spent_.epsilon
    assert set(manifest["dp"]["tables"]) == set(synth.privacy_spent_.tables)
    loaded = Synthesizer.load(directory)
    assert loaded.privacy_spent_ == synth.privacy_spent_
    first, second = synth.sample(seed=21), loaded.sample(seed=21)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])
    with pytest.raises(PrivacyError, match="differential privacy"):
        loaded.fit(shop(), progress_bar=False)


def test_the_same_seed_gives_the_same_fit(real: dict[str, pd.DataFrame], fitted: tuple[Synthesizer, Path]) -> None:
    again = dp_synthesizer().fit(real, progress_bar=False, n_jobs=1)
    assert again.privacy_spent_ == fitted[0].privacy_spent_
    first, second = fitted[0].sample(seed=4), again.sample(seed=4)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_the_validation_report_shows_the_spent_budget(real: dict[str, pd.DataFrame], fitted: tuple[Synthesizer, Path],
                                                      tmp_path: Path) -> None:
    synth = fitted[0]
    html = synth.generate_validation_report(real, tmp_path / "report.html", seed=1, detection=False,
                                            efficacy=False, privacy=False)
    payload = json.loads(html.with_suffix(".json").read_text())
    assert payload["differential_privacy"]["epsilon"] == synth.privacy_spent_.epsilon
    assert "Differential privacy" in html.read_text()


# ----------------------------------------------------------------------------- refusals, before any work
def _refused(metadata: Metadata, data: dict[str, pd.DataFrame], fragment: str, **kwargs: object) -> None:
    synth = dp_synthesizer(metadata, **kwargs)
    with pytest.raises(PrivacyError, match=fragment):
        synth.fit(data, progress_bar=False, n_jobs=1)
    assert not synth.is_fitted and synth.privacy_spent_ is None


def test_a_model_that_cannot_honour_dp_is_refused_naming_the_table(real: dict[str, pd.DataFrame]) -> None:
    _refused(shop_metadata(), real, r"table 'orders': CTGAN cannot honour dp", model={"orders": CTGAN})


def test_declared_reference_tables_dependencies_and_constraints_are_refused_all_at_once(
        real: dict[str, pd.DataFrame]) -> None:
    md = Metadata()
    md.add_table("customers", pk="customer_id", reference=True)
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"},
                 dependencies=[{"determinants": ["status"], "dependent": "amount"}])
    md.add_table("order_items", pk="item_id", fk={"order_id": "orders.order_id"},
                 fixed_combinations=[["qty", "category"]])
    synth = dp_synthesizer(md, model={"order_items": CTGAN})
    with pytest.raises(PrivacyError) as info:
        synth.fit(real, progress_bar=False)
    message = str(info.value)
    assert "'customers' is declared a reference table" in message
    assert "'orders' declares functional dependencies" in message
    assert "'order_items' declares constraints" in message
    assert "table 'order_items': CTGAN cannot honour dp" in message
    assert not synth.is_fitted


def test_a_checkpoint_dir_and_unknown_bounds_are_refused(real: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    synth = dp_synthesizer(config=DPConfig(max_epsilon=9.0, bounds={"orders.price": (0, 10)}))
    with pytest.raises(PrivacyError) as info:
        synth.fit(real, progress_bar=False, checkpoint_dir=tmp_path)
    assert "checkpoint_dir" in str(info.value) and "orders.price" in str(info.value)


def test_text_columns_are_refused_unless_a_privacy_action_removes_them(real: dict[str, pd.DataFrame]) -> None:
    data = dict(real)
    data["order_items"] = real["order_items"].assign(
        note=[f"customer wrote a long remark number {i} about the parcel" for i in range(len(real["order_items"]))])
    _refused(shop_metadata(), data, r"Free-text columns .*'order_items': \['note'\]")
    md = shop_metadata()
    md.tables["customers"].columns["tier"] = "text"  # declared
    _refused(md, real, r"Free-text columns .*'customers': \['tier'\]")
    synth = Synthesizer(shop_metadata(), privacy_config=PrivacyConfig(dp=BUDGET, actions={"note": "drop"}),
                        seed=7, epochs=1, hidden_dim=16)
    synth.fit(data, progress_bar=False, n_jobs=1)
    assert "note" not in synth.sample(seed=0)["order_items"].columns


def test_dp_as_a_model_option_is_refused() -> None:
    with pytest.raises(PrivacyError, match="privacy_config=PrivacyConfig"):
        Synthesizer(shop_metadata(), dp=DPConfig(max_epsilon=1.0))


def test_privacy_config_dp_is_typed_and_round_trips_through_json() -> None:
    config = PrivacyConfig(dp=DPConfig(max_epsilon=2.5, delta=1e-6, bounds={"orders.amount": (0, 500)}))
    restored = PrivacyConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored.dp == config.dp
    with pytest.raises(ConfigurationError, match="DPConfig"):
        PrivacyConfig(dp=4.0)
    with pytest.raises(ConfigurationError, match="max_epsilon"):
        PrivacyConfig(dp={"max_epsilon": -1})


# ----------------------------------------------------------------------------- the noisy children count
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, MAX_CHILDREN + 50), min_size=1, max_size=40), st.integers(0, 5), st.data())
def test_one_child_row_changes_the_histogram_by_at_most_sqrt_2(counts: list[int], nulls: int,
                                                               data: st.DataObject) -> None:
    before = count_histogram(np.array(counts), nulls)
    parent = data.draw(st.integers(-1, len(counts) - 1))  # -1: the new child's key is null
    more = np.array(counts)
    if parent >= 0:
        more[parent] += 1
    after = count_histogram(more, nulls + (parent < 0))
    assert float(np.sum((after - before) ** 2)) <= 2.0


def test_the_noisy_histogram_keeps_the_children_distribution_of_a_large_table() -> None:
    rng = np.random.default_rng(0)
    counts = rng.poisson(3.0, 20_000)
    model, null_rate = dp_link(counts, 2_000, noise=5.0, rng=np.random.default_rng(1))
    values, probs = model.levels_[0]["*"]
    assert float(np.dot(values, probs)) == pytest.approx(counts.mean(), rel=0.05)
    assert null_rate == pytest.approx(2_000 / (2_000 + counts.sum()), rel=0.1)
    assert max(values) <= 15  # no bucket of noise alone far out


def test_what_the_noisy_releases_refuse_is_refused_for_every_table_before_any_model_trains(
        real: dict[str, pd.DataFrame]) -> None:
    """Two small tables whose release keeps nothing (20 distinct labels; 20 distinct weights): both are
    named in one PrivacyError raised before the large tables' models have trained (they used to be
    trained first, the smallest table's refusal coming last)."""
    md = shop_metadata()
    md.add_table("products", pk="sku")
    md.add_table("depots", pk="depot_id")
    md.tables["products"].columns["label"] = "categorical"
    md.tables["depots"].columns["weight"] = "numerical"
    data = {**real, "products": pd.DataFrame({"sku": [f"S{i:02d}" for i in range(20)],
                                              "label": [f"label {i}" for i in range(20)]}),
            "depots": pd.DataFrame({"depot_id": np.arange(20), "weight": np.linspace(1.5, 950.25, 20)})}
    synth = dp_synthesizer(md)
    with capture_logs() as logs, pytest.raises(PrivacyError) as info:
        synth.fit(data, progress_bar=False, n_jobs=1)
    message = str(info.value)
    assert "no model was trained" in message
    assert "table 'products', column 'label': no category reaches" in message
    assert "table 'depots', column 'weight': no bucket" in message
    assert not [e for e in logs if e["event"] in ("training_start", "dp_training_start", "relational_table_fitted")]
    assert not synth.is_fitted and synth.privacy_spent_ is None
