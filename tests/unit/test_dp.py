"""Differential privacy (``dp=DPConfig(...)``): the settings, the accountant against Opacus, the budget
plan and its refusals, the per-row clipped gradients, and TabularAR fitted under DP end to end."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from structlog.testing import capture_logs

from syntho_hive.core.dp import DPConfig, PrivacySpent, plan_budget
from syntho_hive.core.dp.accounting import ALPHAS, epsilon_of, gaussian_rdp, sgd_rdp
from syntho_hive.core.dp.mechanisms import log_grid, noisy_categories, uniform_grid, values_from_histogram
from syntho_hive.core.metadata.schema import Inequality, Metadata
from syntho_hive.core.models import CTGAN, TabularAR
from syntho_hive.core.models._dp_sgd import PerRowGradients
from syntho_hive.core.models.tabular_ar.dp_gradients import clipped_gradient_sum
from syntho_hive.core.models.tabular_ar.network import ARNetwork
from syntho_hive.exceptions import (
    ConfigurationError,
    GenerationError,
    PrivacyError,
    SerializationError,
    TrainingError,
)
from dp_people import RARE, make_people

opacus = pytest.importorskip("opacus")

SMALL = dict(hidden_dim=16, epochs=2)


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return make_people()


@pytest.fixture(scope="module")
def dp_model(people: pd.DataFrame) -> TabularAR:
    return TabularAR(dp=DPConfig(max_epsilon=4.0), **SMALL).fit(people, seed=3, progress_bar=False)


# ----------------------------------------------------------------------------- settings
@pytest.mark.parametrize("kwargs, fragment", [
    (dict(max_epsilon=0), "max_epsilon"), (dict(max_epsilon=-1.0), "max_epsilon"),
    (dict(max_epsilon=math.inf), "max_epsilon"), (dict(max_epsilon=True), "max_epsilon"),
    (dict(max_epsilon=1, delta=0), "delta"), (dict(max_epsilon=1, delta=1.0), "delta"),
    (dict(max_epsilon=1, noise_multiplier=0), "noise_multiplier"),
    (dict(max_epsilon=1, max_grad_norm=-1), "max_grad_norm"),
    (dict(max_epsilon=1, preprocessing_share=1.0), "preprocessing_share"),
    (dict(max_epsilon=1, epochs=0), "epochs"),
    (dict(max_epsilon=1, bounds={"age": (80, 18)}), "low < high"),
    (dict(max_epsilon=1, bounds={"age": ("x", 3)}), "neither a finite number"),
])
def test_dpconfig_refuses_bad_values(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        DPConfig(**kwargs)


def test_dpconfig_round_trips_through_json() -> None:
    config = DPConfig(max_epsilon=2, delta=1e-6, noise_multiplier=1.5, epochs=3,
                      bounds={"age": (0, 120), "joined": ("2020-01-01", "2024-12-31")})
    assert DPConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ConfigurationError, match="Unknown DPConfig field"):
        DPConfig.from_dict({"max_epsilon": 1, "epsilon": 2})


# ----------------------------------------------------------------------------- accountant
@pytest.mark.parametrize("noise, rate, steps, delta", [(1.1, 0.01, 1000, 1e-5), (0.8, 0.05, 300, 1e-6),
                                                       (3.0, 0.2, 50, 1e-5)])
def test_training_epsilon_equals_opacus_rdp_accountant(noise: float, rate: float, steps: int, delta: float) -> None:
    accountant = opacus.accountants.RDPAccountant()
    accountant.history = [(noise, rate, steps)]
    expected, _ = accountant.get_privacy_spent(delta=delta, alphas=list(ALPHAS))
    assert epsilon_of(sgd_rdp(noise, rate, steps), delta) == pytest.approx(expected, rel=1e-12)
    # with Opacus' default orders, ours can only be tighter or equal (more orders to choose from)
    default, _ = accountant.get_privacy_spent(delta=delta)
    assert epsilon_of(sgd_rdp(noise, rate, steps), delta) <= default + 1e-12


def test_preprocessing_charges_its_share_and_composes_with_training() -> None:
    config = DPConfig(max_epsilon=2.0, preprocessing_share=0.25)
    plan = plan_budget(config, rows=10_000, queries=8, category_queries=3, batch_size=256, epochs=5, rare_threshold=5)
    before_training = plan.spent(0)
    assert before_training.epsilon == pytest.approx(0.25 * 2.0, rel=1e-4)  # the preprocessing alone
    assert before_training.epsilon == before_training.epsilon_preprocessing
    assert before_training.epsilon_training == 0
    after = plan.spent(plan.max_steps)
    # composed in Rényi DP: more than either part, never more than their sum, within the budget
    assert max(after.epsilon_training, after.epsilon_preprocessing) < after.epsilon
    assert after.epsilon <= after.epsilon_training + after.epsilon_preprocessing
    assert after.epsilon <= 2.0 and after.epsilon == pytest.approx(2.0, rel=1e-3)
    assert plan.delta_rdp + plan.delta_threshold == pytest.approx(config.delta)
    # the preprocessing's Rényi curve is that of `queries` Gaussian counts of noise sigma
    pre = gaussian_rdp(plan.preprocessing_noise, 8)
    assert epsilon_of(pre, plan.delta_rdp) == pytest.approx(after.epsilon_preprocessing)
    assert epsilon_of(pre + sgd_rdp(plan.noise_multiplier, plan.sample_rate, plan.max_steps), plan.delta_rdp) \
        == pytest.approx(after.epsilon)


def test_fixed_noise_stops_training_at_the_budget() -> None:
    config = DPConfig(max_epsilon=1.0, noise_multiplier=1.5)
    plan = plan_budget(config, rows=5_000, queries=4, category_queries=1, batch_size=100, epochs=1000,
                       rare_threshold=5)
    assert plan.steps_per_epoch <= plan.max_steps < plan.steps_per_epoch * 1000
    assert plan.spent(plan.max_steps).epsilon <= 1.0 < plan.spent(plan.max_steps + 1).epsilon


def test_a_budget_that_pays_for_less_than_one_epoch_is_refused() -> None:
    config = DPConfig(max_epsilon=0.05, noise_multiplier=0.5)
    with pytest.raises(PrivacyError, match="less than one epoch"):
        plan_budget(config, rows=1000, queries=3, category_queries=1, batch_size=100, epochs=3, rare_threshold=5)
    with pytest.raises(PrivacyError, match="too small"):
        plan_budget(DPConfig(max_epsilon=1e-4), rows=100, queries=3, category_queries=1, batch_size=64, epochs=50,
                    rare_threshold=5)


def test_category_threshold_bounds_the_release_of_a_single_row_value() -> None:
    plan = plan_budget(DPConfig(max_epsilon=1.0), rows=30_000, queries=10, category_queries=4, batch_size=1024,
                       epochs=5, rare_threshold=5)
    noise = plan.preprocessing_noise
    # P[1 + N(0, noise^2) >= threshold] per categorical column, over all of them: the threshold's delta
    tail = 0.5 * math.erfc((plan.category_threshold - 1) / (noise * math.sqrt(2)))
    assert plan.category_queries * tail == pytest.approx(plan.delta_threshold, rel=1e-3)
    rng = np.random.default_rng(0)
    kept = noisy_categories({"a": 20_000, "b": 1, "c": 5}, noise, plan.category_threshold, rng)
    assert set(kept) == {"a"} and abs(kept["a"] - 20_000) < 6 * noise


# ----------------------------------------------------------------------------- mechanisms
def test_log_grid_puts_each_value_in_its_bucket() -> None:
    grid = log_grid()
    values = np.array([-3e13, -5.0, -1e-9, 0.0, 1e-9, 1.0, 17.0, 99.5, 1e11, 5e12])
    index = grid.index(values)
    inside = (grid.low[index] <= values) & ((values < grid.high[index]) | grid.exact[index])
    assert inside.all()
    assert grid.exact[index[3]] and not grid.exact[np.delete(index, 3)].any()
    assert np.all(np.diff(index) >= 0)


def test_values_from_histogram_keeps_only_buckets_above_the_threshold() -> None:
    grid = uniform_grid(0, 100, integer=True)
    noisy = np.zeros(len(grid))
    noisy[[20, 21, 60]] = [50, 5, 80]
    values, counts, low, high = values_from_histogram(grid, noisy, 10, integer=True)
    assert values.tolist() == [20.0, 60.0] and counts.tolist() == [50.0, 80.0] and (low, high) == (20, 60)
    empty = values_from_histogram(grid, np.zeros(len(grid)), 10, integer=True)
    assert empty[2] is None and len(empty[0]) == 0


# ----------------------------------------------------------------------------- per-row gradients
@pytest.mark.parametrize("context_cards, layers", [([], 1), ([4, 3], 2)])
def test_clipped_gradient_sum_equals_torch_func_per_row_gradients(context_cards: list[int], layers: int) -> None:
    generator = torch.Generator().manual_seed(0)
    cards = [5, 3, 7, 2]
    net = ARNetwork(cards, context_cards, hidden_dim=8, n_layers=layers, generator=generator)
    rows = 37
    codes = torch.stack([torch.randint(0, c, (rows,), generator=generator) for c in cards], 1)
    keys = torch.rand(rows, len(cards), generator=generator)
    ctx = torch.stack([torch.randint(0, c, (rows,), generator=generator) for c in context_cards], 1) \
        if context_cards else None

    def row_loss(call, *row):  # type: ignore[no-untyped-def]
        return call(*(t.unsqueeze(0) for t in row)).sum()

    reference = PerRowGradients(net, row_loss, max_grad_norm=0.3, noise_multiplier=1.0, expected_batch=rows,
                                generator=generator)
    expected = reference.clipped_sum(*((codes, keys) if ctx is None else (codes, keys, ctx)))
    fast = clipped_gradient_sum(net, codes, keys, ctx, 0.3)
    for want, got in zip(expected, fast):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    # clipping bites: the clipped sum is smaller than the plain summed gradient
    plain = torch.autograd.grad(net(codes, keys, ctx).sum(), list(net.parameters()), allow_unused=True)
    assert sum(float(g.norm() ** 2) for g in fast) < sum(float(g.norm() ** 2) for g in plain if g is not None)


# ----------------------------------------------------------------------------- TabularAR end to end
def test_spent_budget_is_within_and_close_to_max_epsilon(dp_model: TabularAR) -> None:
    spent = dp_model.privacy_spent_
    assert isinstance(spent, PrivacySpent)
    assert spent.epsilon <= 4.0 and spent.epsilon == pytest.approx(4.0, rel=1e-3)
    assert spent.delta == 1e-5 and spent.steps > 0 and spent.epochs == pytest.approx(2.0, rel=0.1)
    assert spent.epsilon_preprocessing == pytest.approx(0.3 * 4.0, rel=1e-3)
    assert spent.preprocessing_queries == 6  # age, income, city, active, joined (years, time parts); ids: none
    assert dp_model.reference_profile_ is None
    assert all(record["train_loss"] is None and record["epsilon"] <= 4.0 for record in dp_model.history_)


def test_dp_samples_are_reproducible_and_fits_too(dp_model: TabularAR, people: pd.DataFrame) -> None:
    first = dp_model.sample(300, seed=5, progress_bar=False)
    pd.testing.assert_frame_equal(first, dp_model.sample(300, seed=5, progress_bar=False))
    again = TabularAR(dp=DPConfig(max_epsilon=4.0), **SMALL).fit(people, seed=3, progress_bar=False)
    pd.testing.assert_frame_equal(first, again.sample(300, seed=5, progress_bar=False))
    other = TabularAR(dp=DPConfig(max_epsilon=4.0), **SMALL).fit(people, seed=4, progress_bar=False)
    assert not first.equals(other.sample(300, seed=5, progress_bar=False))


def test_dp_sample_has_the_training_schema(dp_model: TabularAR, people: pd.DataFrame) -> None:
    out = dp_model.sample(2000, seed=1, progress_bar=False)
    assert list(out.columns) == list(people.columns) and out.dtypes.to_dict() == people.dtypes.to_dict()
    assert out["person_id"].is_unique and out["person_id"].min() == 1  # ids from the dtype, not the data
    assert set(out["city"].dropna()) <= {"Boston", "Denver", "Austin"}
    assert out["income"].notna().all()  # five missing values are below the noisy count threshold
    assert out["joined"].dt.year.between(2021, 2023).all()


def test_rare_values_and_raw_extremes_never_reach_the_checkpoint(dp_model: TabularAR, people: pd.DataFrame,
                                                                 tmp_path: Path) -> None:
    path = dp_model.save(tmp_path / "dp")
    blob = b"".join(f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file())
    for value in RARE + [str(people["income"].max()), str(people["income"].min()), str(people["person_id"].max())]:
        # As a whole number, not inside another one (an epoch's "seconds": 1.5599...).
        assert not re.search(rb"(?<![\d.])" + re.escape(value.encode()) + rb"(?![\d])", blob), value
    out = dp_model.sample(3000, seed=2, progress_bar=False)
    assert not set(out["city"]) & set(RARE)


def test_save_load_keeps_the_privacy_spent(dp_model: TabularAR, tmp_path: Path) -> None:
    path = dp_model.save(tmp_path / "dp")
    manifest = json.loads((path / "metadata.json").read_text())
    assert manifest["extra"]["dp"]["epsilon"] == dp_model.privacy_spent_.epsilon
    assert manifest["hyper_parameters"]["dp"] == DPConfig(max_epsilon=4.0).to_dict()
    loaded = TabularAR().load(path)
    assert loaded.dp == DPConfig(max_epsilon=4.0) and loaded.privacy_spent_ == dp_model.privacy_spent_
    pd.testing.assert_frame_equal(loaded.sample(200, seed=9, progress_bar=False),
                                  dp_model.sample(200, seed=9, progress_bar=False))
    restored = TabularAR.from_bytes(dp_model.to_bytes())
    assert restored.privacy_spent_ == dp_model.privacy_spent_
    # a manifest that lost the record of the spent budget is refused
    del manifest["extra"]["dp"]
    (path / "metadata.json").write_text(json.dumps(manifest))
    with pytest.raises(SerializationError):
        TabularAR().load(path)


def test_sample_events_carry_the_spent_epsilon(dp_model: TabularAR) -> None:
    with capture_logs() as logs:
        dp_model.sample(10, seed=0, progress_bar=False)
    done = [e for e in logs if e["event"] == "sampling_complete"]
    assert done and done[0]["dp_epsilon"] == dp_model.privacy_spent_.epsilon and done[0]["dp_delta"] == 1e-5


def test_quality_gates_are_refused_under_dp(dp_model: TabularAR) -> None:
    for kwargs in (dict(return_metrics=True), dict(quality_threshold=0.5)):
        with pytest.raises(GenerationError, match="differential privacy"):
            dp_model.sample(10, seed=0, **kwargs)


def test_declared_bounds_replace_the_grid(people: pd.DataFrame) -> None:
    config = DPConfig(max_epsilon=4.0, epochs=1, bounds={"age": (18, 80), "joined": ("2021-01-01", "2023-06-30")})
    model = TabularAR(dp=config, hidden_dim=16).fit(people, seed=0, progress_bar=False)
    codec = model.codec_.codec("age")
    assert (codec.minimum, codec.maximum) == (18.0, 80.0)
    out = model.sample(1000, seed=0, progress_bar=False)
    assert out["age"].between(18, 80).all()
    assert out["joined"].between(pd.Timestamp("2021-01-01"), pd.Timestamp("2023-06-30 23:59:59")).all()


@pytest.mark.parametrize("engine", [CTGAN])
def test_engines_without_dp_refuse_it_clearly(engine: type) -> None:
    with pytest.raises(PrivacyError, match="cannot train under differential privacy"):
        engine(dp=DPConfig(max_epsilon=1.0))
    assert engine(dp=None).parameter_names() == engine.parameter_names()  # dp=None: no DP, accepted


def test_dp_refusals_come_before_any_work(people: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(PrivacyError, match="checkpoint_dir"):
        TabularAR(dp=DPConfig(max_epsilon=1.0)).fit(people, checkpoint_dir=tmp_path / "c", progress_bar=False)
    assert not (tmp_path / "c").exists()
    with pytest.raises(PrivacyError, match="less than one epoch"):
        TabularAR(dp=DPConfig(max_epsilon=0.05, noise_multiplier=0.3)).fit(people, progress_bar=False)
    text = people.assign(note=[f"free text number {i} about things" for i in range(len(people))])
    meta = Metadata.detect(text, "people")
    meta.tables["people"].columns["note"] = "text"
    with pytest.raises(PrivacyError, match="free-text"):
        TabularAR(meta, dp=DPConfig(max_epsilon=1.0)).fit(text, progress_bar=False)
    constrained = Metadata.detect(people, "people")
    constrained.tables["people"].inequalities.append(Inequality(low="age", high="income"))
    with pytest.raises(PrivacyError, match="constraints"):
        TabularAR(constrained, dp=DPConfig(max_epsilon=1.0)).fit(people, progress_bar=False)
    with pytest.raises(PrivacyError, match="bounds"):
        TabularAR(dp=DPConfig(max_epsilon=1.0, bounds={"city": (0, 1)})).fit(people, progress_bar=False)
    with pytest.raises(TrainingError, match="max_epsilon"):  # checked with the other hyper-parameters
        TabularAR(dp={"max_epsilon": -1}).fit(people, progress_bar=False)


def test_heads_start_at_the_released_marginals(people: pd.DataFrame) -> None:
    """Post-processing of the noisy counts: with no hidden contribution the network generates exactly the
    released shares of each categorical / numerical column (rare stand-in and empty bins at a floor)."""
    from syntho_hive.core.dp.accounting import plan_budget
    from syntho_hive.core.models.tabular_ar.dp_marginals import released_marginals, start_at_marginals
    from syntho_hive.core.models.tabular_ar.dp_stats import dp_table_stats
    from syntho_hive.core.models.tabular_ar.encoders import CodecConfig, TableCodec
    from syntho_hive.core.models.tabular_ar.network import ARNetwork

    sdtypes = {"person_id": "id", "age": "numerical", "income": "numerical", "city": "categorical",
               "active": "boolean", "joined": "datetime"}
    frame = people[list(sdtypes)]
    plan = plan_budget(DPConfig(max_epsilon=8.0), rows=len(frame), queries=6, category_queries=1, batch_size=64,
                       epochs=2, rare_threshold=5, where="test")
    stats = dp_table_stats(frame, sdtypes, CodecConfig(max_bins=10), plan, np.random.default_rng(0))
    codec = TableCodec.build(stats, CodecConfig(max_bins=10))
    marginals = released_marginals(codec, stats)
    city = codec.slices["city"].start
    assert city in marginals and codec.slices["income"].start in marginals
    released = np.array(codec.codec("city").counts, dtype=float)
    shares = marginals[city][:len(released)]
    np.testing.assert_allclose(shares / shares.sum(), released / released.sum(), rtol=1e-3)
    net = ARNetwork(codec.cardinalities, hidden_dim=8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for weights in net.w_out:
            weights.zero_()
    start_at_marginals(net, marginals)
    for target, expected in marginals.items():
        probs = net.head(target, torch.zeros(1, 8)).softmax(dim=1)[0].detach().numpy()
        np.testing.assert_allclose(probs, expected, rtol=1e-5)


def test_integer_columns_keep_each_small_value_and_their_range() -> None:
    """Ages, scores and counts get one bucket per integer in [-100, 100] (data-independent), so their
    range and point masses (a zero) survive; larger integers fall in sign-logarithmic buckets."""
    from syntho_hive.core.dp.mechanisms import integer_grid

    grid = integer_grid()
    assert np.all(np.diff(grid.low) > 0) and np.all(grid.low <= grid.high)
    values = np.array([-150.0, -100.0, 0.0, 17.0, 90.0, 100.0, 101.0, 5000.0])
    buckets = grid.index(values)
    assert grid.exact[buckets].tolist() == [False, True, True, True, True, True, False, False]
    assert np.all(grid.low[buckets] <= values) and np.all(values < grid.high[buckets] + grid.exact[buckets])
