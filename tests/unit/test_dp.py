"""Differential privacy (``dp=DPConfig(...)``): the settings, the accountant against Opacus, the budget
plan and its refusals, the per-row clipped gradients, TabularAR's DP codecs and heads (what every engine
guarantees under DP is tested in ``test_dp_engines.py``)."""

from __future__ import annotations

import json
import math

import numpy as np
import opacus.accountants
import pandas as pd
import pytest
import torch

from syntho_hive.core.dp import DPConfig, plan_budget
from syntho_hive.core.dp.accounting import ALPHAS, epsilon_of, gaussian_rdp, sgd_rdp
from syntho_hive.core.dp.mechanisms import log_grid, noisy_categories, uniform_grid, values_from_histogram
from syntho_hive.core.models import CTGAN, TabularAR
from syntho_hive.core.models._dp_sgd import PerRowGradients
from syntho_hive.core.models.tabular_ar.dp_gradients import clipped_gradient_sum
from syntho_hive.core.models.tabular_ar.network import ARNetwork
from syntho_hive.exceptions import ConfigurationError, PrivacyError, TrainingError
from dp_people import make_people

SMALL = dict(hidden_dim=16, epochs=2)


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return make_people()


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
@pytest.mark.parametrize("context_cards, layers, ordinal", [([], 1, False), ([4, 3], 2, False), ([4], 1, True)])
def test_clipped_gradient_sum_equals_torch_func_per_row_gradients(context_cards: list[int], layers: int,
                                                                   ordinal: bool) -> None:
    generator = torch.Generator().manual_seed(0)
    cards = [5, 3, 7, 2]
    # ordinal: two numeric sub-columns with token places (their terms in the embedding and the head)
    positions = [[-1.5, -0.5, 0.0, 0.5, 1.5], None, [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0], None] if ordinal else None
    net = ARNetwork(cards, context_cards, hidden_dim=8, n_layers=layers, generator=generator, positions=positions)
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


def test_a_dp_setting_that_is_not_a_dpconfig_is_refused_with_the_hyper_parameters(people: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match="max_epsilon"):  # checked with the other hyper-parameters
        TabularAR(dp={"max_epsilon": -1}).fit(people, progress_bar=False)

def test_heads_start_at_the_released_marginals(people: pd.DataFrame) -> None:
    """Post-processing of the noisy counts: at the start, whatever the row, the network generates exactly the
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
    generator = torch.Generator().manual_seed(0)
    net = ARNetwork(codec.cardinalities, hidden_dim=8, generator=generator, positions=codec.positions)
    assert net.ordinal
    start_at_marginals(net, marginals)
    hidden = torch.randn(5, 8, generator=generator)  # any row's hidden state: the start reads none
    for target, expected in marginals.items():
        probs = net.head(target, hidden).softmax(dim=1).detach().numpy()
        np.testing.assert_allclose(probs, np.tile(expected, (5, 1)), rtol=1e-5)


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


def test_automatic_preprocessing_share_gives_large_tables_more_training_budget() -> None:
    """``preprocessing_share=None`` reads only public numbers: the smallest share whose category threshold is
    at most 1% of the rows (a 39k-row table at epsilon 4: 0.1), else 0.3 (a 4,000-row one keeps its categories)."""
    config = DPConfig(max_epsilon=4.0)
    assert config.preprocessing_share is None and DPConfig.from_dict(config.to_dict()) == config

    def share(rows: int, cfg: DPConfig = config) -> float:
        return plan_budget(cfg, rows=rows, queries=15, category_queries=9, batch_size=min(1024, rows // 30),
                           epochs=20, rare_threshold=5).config.preprocessing_share

    assert share(39_074) == 0.1 and share(4_000) == 0.3
    large = plan_budget(config, rows=39_074, queries=15, category_queries=9, batch_size=1024, epochs=20,
                        rare_threshold=5)
    assert large.category_threshold <= 0.01 * 39_074
    assert large.spent(large.max_steps).epsilon_preprocessing == pytest.approx(0.1 * 4.0, rel=1e-3)
    assert share(39_074, DPConfig(max_epsilon=4.0, preprocessing_share=0.25)) == 0.25  # a given share is kept


@pytest.mark.parametrize("dtype, top", [("int64", 2**63 - 1), ("uint64", 2**64 - 1)])
def test_integers_past_2_53_are_exact_within_their_declared_bounds(dtype: str, top: int) -> None:
    """A 64-bit column past 2**53 is counted from its declared low bound (public) and decoded in integer
    arithmetic: its values stay integers of its dtype inside the exact declared bounds, as many as the noisy
    histogram gives (float64 steps are 2048 apart near 2**63 and 2**64: a handful of neighbours, or 2**63 / 2**64
    wrapping to the dtype's other end)."""
    rng = np.random.default_rng(0)
    kind = np.dtype(dtype).type
    real = pd.DataFrame({"big": kind(top) - rng.integers(0, 4096, 400).astype(kind),
                         "mid": kind(2**60) + rng.integers(0, 1000, 400).astype(kind)})
    bounds = {"big": (top - 4095, top), "mid": (2**60, 2**60 + 999)}
    model = TabularAR(dp=DPConfig(max_epsilon=8.0, epochs=1, bounds=bounds), hidden_dim=8)
    out = model.fit(real, seed=0, progress_bar=False).sample(300, seed=1, progress_bar=False)
    for column, (low, high) in bounds.items():
        assert out[column].dtype == real[column].dtype, column
        values = [int(v) for v in out[column]]
        assert low <= min(values) and max(values) <= high, column
        assert len(set(values)) > 50, column


def test_the_release_of_a_column_past_2_53_does_not_depend_on_its_smallest_value() -> None:
    """Without declared bounds, the noisy histogram counts the values themselves: not offsets from the smallest
    one (private), which one row moves for every other row."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"big": np.int64(2**62) + rng.integers(2**30, 2**40, 400)})
    neighbour = real.copy()
    neighbour.loc[int(real["big"].idxmin()), "big"] = 2**62  # one row moved: the smallest value drops 2**30
    config = DPConfig(max_epsilon=8.0, epochs=1)
    codecs = [TabularAR(dp=config, hidden_dim=8).fit(frame, seed=0, progress_bar=False).codec_.codec("big").to_dict()
              for frame in (real, neighbour)]
    assert codecs[0] == codecs[1]
    out = TabularAR(dp=config, hidden_dim=8).fit(real, seed=0, progress_bar=False).sample(50, seed=1,
                                                                                           progress_bar=False)
    assert out["big"].dtype == np.int64


def test_numpy_numbers_are_numeric_bounds() -> None:
    """Bounds taken from the data's public range (``(df.x.min(), df.x.max())``) are NumPy scalars: an integer
    one was stored as a date (``np.int64(2**60)`` read as nanoseconds since 1970) and the fit then refused
    the column's bounds as dates. They are numbers, kept exact; a NumPy boolean is no number."""
    config = DPConfig(max_epsilon=1.0, bounds={"mid": (np.int64(2**60), np.int64(2**60 + 999)),
                                               "big": (np.uint64(0), np.uint64(2**64 - 1)),
                                               "x": (np.float32(-1.5), np.float64(2.5))})
    assert config.bounds == {"mid": (2**60, 2**60 + 999), "big": (0, 2**64 - 1), "x": (-1.5, 2.5)}
    assert all(type(v) is int for v in (*config.bounds["mid"], *config.bounds["big"]))
    real = pd.DataFrame({"mid": np.int64(2**60) + np.random.default_rng(0).integers(0, 1000, 400)})
    bounds = {"mid": (real["mid"].min(), real["mid"].max())}
    out = TabularAR(dp=DPConfig(max_epsilon=8.0, epochs=1, bounds=bounds), hidden_dim=8).fit(
        real, seed=0, progress_bar=False).sample(100, seed=1, progress_bar=False)
    assert bounds["mid"][0] <= out["mid"].min() and out["mid"].max() <= bounds["mid"][1]
    with pytest.raises(ConfigurationError, match="bounds"):
        DPConfig(max_epsilon=1.0, bounds={"flag": (np.bool_(False), np.bool_(True))})
