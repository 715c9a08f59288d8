"""Children-per-parent model: attribute dependence, zero-children parents, back-off, JSON state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from syntho_hive.relational.cardinality import CardinalityModel, children_per_parent, count_ks, rescale_counts


@pytest.fixture(scope="module")
def customers() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 2_000
    frame = pd.DataFrame({
        "tier": rng.choice(["basic", "premium"], n, p=[0.8, 0.2]),
        "region": rng.choice(["north", "south", "east"], n),  # no effect on counts
        "age": rng.integers(18, 80, n),
        "signup": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1_000, n), unit="D"),
    })
    counts = rng.poisson(np.where(frame["tier"] == "premium", 8.0, 0.7))  # many basic customers have 0
    return frame, counts


def test_counts_follow_the_parent_attribute(customers: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, counts = customers
    sdtypes = {"tier": "categorical", "region": "categorical", "age": "numerical", "signup": "datetime"}
    model = CardinalityModel().fit(frame, counts, sdtypes=sdtypes)
    assert model.feature_columns[0] == "tier"
    drawn = model.sample(frame, np.random.default_rng(0))
    premium = (frame["tier"] == "premium").to_numpy()
    assert drawn[premium].mean() == pytest.approx(counts[premium].mean(), rel=0.1)
    assert drawn[~premium].mean() == pytest.approx(counts[~premium].mean(), rel=0.15)
    # Zero-children parents are kept at their real share.
    assert (drawn == 0).mean() == pytest.approx((counts == 0).mean(), abs=0.03)
    assert count_ks(counts, drawn) < 0.05
    # Shuffling the tier of the parents moves the counts with it: the model reads the attribute.
    flipped = frame.assign(tier=np.where(premium, "basic", "premium"))
    assert model.sample(flipped, np.random.default_rng(0))[~premium].mean() > 5


def test_unseen_levels_and_missing_values_back_off(customers: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, counts = customers
    model = CardinalityModel().fit(frame, counts, sdtypes={"tier": "categorical", "age": "numerical"})
    odd = pd.DataFrame({"tier": ["gold", None, "premium"], "region": ["x", "y", "z"], "age": [np.nan, 30, 200],
                        "signup": pd.to_datetime([None, "2021-01-01", "2030-01-01"])})
    drawn = model.sample(odd, np.random.default_rng(1))
    assert drawn.shape == (3,) and drawn.dtype == np.int64 and (drawn >= 0).all()


def test_json_round_trip_gives_identical_draws(customers: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, counts = customers
    model = CardinalityModel().fit(frame, counts, sdtypes={"age": "numerical", "signup": "datetime"})
    text = json.dumps(model.to_dict())
    again = CardinalityModel.from_dict(json.loads(text))
    a = model.sample(frame, np.random.default_rng(5))
    b = again.sample(frame, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_no_informative_attribute_uses_the_global_distribution() -> None:
    # 2,000 parents: a pure-noise attribute's chance eta squared (about chi2(4) / 2,000 over five bins)
    # stays far below min_eta whatever the draw (at 500 parents it passed min_eta for ~30% of seeds).
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"noise": rng.normal(size=2_000)})
    counts = rng.poisson(2.0, 2_000)
    model = CardinalityModel().fit(frame, counts, sdtypes={"noise": "numerical"})
    assert model.feature_columns == []
    assert count_ks(counts, model.sample(frame, np.random.default_rng(1))) < 0.08


def test_children_per_parent_counts_zeros_and_composite_keys() -> None:
    parent = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"]})
    child = pd.DataFrame({"a": [1, 1, 2, None], "b": ["y", "y", "x", "x"]})
    np.testing.assert_array_equal(children_per_parent(child, parent), [0, 2, 1])
    np.testing.assert_array_equal(children_per_parent(pd.Series([3, 3, None]), pd.Series([1, 3])), [0, 2])


def test_count_ks_and_rescale() -> None:
    assert count_ks(np.array([0, 1, 2]), np.array([0, 1, 2])) == 0.0
    assert count_ks(np.array([0, 0]), np.array([5, 5])) == 1.0
    rng = np.random.default_rng(0)
    scaled = rescale_counts(np.array([1, 3, 0, 6]), 25, rng)
    assert scaled.sum() == 25 and scaled[2] == 0 and scaled[3] >= scaled[1] >= scaled[0]
    assert rescale_counts(np.zeros(4, dtype=int), 6, rng).sum() == 6


def test_few_parents_get_the_real_counts_back() -> None:
    # 16 airlines with very unequal flight counts: an i.i.d. draw could double or halve the total;
    # stratified draws give back the same multiset of counts.
    counts = np.array([18_000, 54_000, 700, 54_600, 48_100, 32, 14_000, 600, 12_200, 58_600,
                       5_100, 20, 342, 32_700, 601, 2_000])
    frame = pd.DataFrame({"name": [f"airline {i}" for i in range(16)]})
    model = CardinalityModel().fit(frame, counts, sdtypes={"name": "categorical"})
    for seed in range(3):
        drawn = model.sample(frame, np.random.default_rng(seed))
        np.testing.assert_array_equal(np.sort(drawn), np.sort(counts))


def test_bytes_and_times_of_day_in_the_parent_table() -> None:
    """A parent's BLOB column (random bytes, nothing to learn) is no feature, and a time-of-day column is binned by
    its seconds since midnight: early openers have more children here."""
    import datetime as dt

    rng = np.random.default_rng(4)
    n = 200
    opens = rng.integers(6, 12, n)
    parents = pd.DataFrame({"pw_hash": [bytes(rng.integers(0, 256, 16, dtype=np.uint8)) for _ in range(n)],
                            "opens": [dt.time(int(h), 30) for h in opens]})
    counts = np.where(opens < 9, 8, 1) + rng.integers(0, 2, n)
    model = CardinalityModel().fit(parents, counts, sdtypes={"pw_hash": "categorical", "opens": "numerical"})
    assert [feature.column for feature in model.features_] == ["opens"]
    drawn = model.sample(parents, np.random.default_rng(0))
    assert drawn[opens < 9].mean() > 4 * drawn[opens >= 9].mean()


def test_the_busiest_parents_exact_counts_are_neither_stored_nor_drawn() -> None:
    """With ``min_count`` (the synthesizer passes its rare_threshold), the five largest counts are pooled into
    their mean: a customer's unique 125 orders is not in the state and never drawn; the total is kept."""
    rng = np.random.default_rng(1)
    counts = rng.poisson(2.0, 500)
    counts[7], counts[8] = 125, 41
    frame = pd.DataFrame({"tier": rng.choice(["basic", "premium"], 500)})
    model = CardinalityModel(min_count=5).fit(frame, counts, sdtypes={"tier": "categorical"})
    stored = _stored_counts(model)
    assert 125 not in stored and 41 not in stored
    top = np.sort(counts)[-5:]
    assert max(stored) == -(-int(top.sum()) // 5)  # their mean, rounded up for the remainder
    drawn = np.concatenate([model.sample(frame, np.random.default_rng(seed)) for seed in range(5)])
    assert drawn.max() < 125 and abs(drawn.sum() / 5 - counts.sum()) < 0.05 * counts.sum()
    # a lookup-sized parent table (under 20 * 5 parents) keeps its counts: pooling would flatten them
    assert 125 in _stored_counts(CardinalityModel(min_count=5).fit(frame.iloc[:60], counts[:60]))
    # a top count held by five parents is frequent: kept as it is
    counts[[1, 2, 3, 4]] = 125
    assert 125 in _stored_counts(CardinalityModel(min_count=5).fit(frame, counts))


def _stored_counts(model: CardinalityModel) -> set[int]:
    return {v for level in model.to_dict()["levels"] for group in level.values() for v in group["values"]}
