"""The training-marginal profile (``reference_profile.json``) on its own: what it stores (nothing the
rare-value protection leaves out), how accurately it scores, version-1 profiles, malformed content,
and the gate helpers without a model."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.quality import MarginalProfile, apply_quality_gate, check_gate_arguments, score_sample
from syntho_hive.core.quality.profile import ContinuousMarginal, DiscreteMarginal
from syntho_hive.core.quality.shapes import ks_complement, tv_complement
from syntho_hive.exceptions import QualityError, SchemaError, SerializationError, TrainingError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "checkpoints_v1"
V1_PROFILES = sorted(FIXTURES.rglob("reference_profile.json"))

FREQUENT = ["grocery", "fuel", "rent", "travel", "dining", "utilities"]


def _spending(n: int, rng: np.random.Generator, rare_share: float = 0.3) -> pd.DataFrame:
    """A frame whose ``merchant`` has ``rare_share`` of its rows on labels seen 1-4 times each."""
    merchant = rng.choice(FREQUENT, n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1]).astype(object)
    rare = rng.random(n) < rare_share
    tail: list[str] = []
    while len(tail) < rare.sum():
        tail += [f"shop_{len(tail)}"] * int(rng.integers(1, 5))
    merchant[rare] = tail[: int(rare.sum())]
    return pd.DataFrame({"merchant": merchant, "amount": rng.lognormal(4.0, 0.8, n),
                         "age": rng.integers(18, 90, n), "flag": rng.random(n) < 0.1})


SPENDING = {"merchant": "categorical", "amount": "numerical", "age": "numerical", "flag": "boolean"}


def _pooled(series: pd.Series, kept: set[Any]) -> pd.Series:
    return series.where(~series.notna() | series.isin(kept), "<rare>")


def _numbers(data: Any) -> list[float]:
    """Every number in parsed JSON (booleans left out)."""
    if isinstance(data, dict):
        return [n for value in data.values() for n in _numbers(value)]
    if isinstance(data, list):
        return [n for value in data for n in _numbers(value)]
    return [float(data)] if isinstance(data, (int, float)) and not isinstance(data, bool) else []


# ----------------------------------------------------------------------------- what is stored
def test_no_rare_label_nor_extreme_value_is_stored() -> None:
    rng = np.random.default_rng(11)
    n = 400
    city = rng.choice(["Boston", "Denver", "Austin"], n).astype(object)
    city[:12] = ["Zzyzx", "Truth or Consequences", "Truth or Consequences", "Kalamazoo", "Kalamazoo", "Kalamazoo",
                 "Kalamazoo", "Seattle", "Seattle", "Seattle", "Seattle", "Seattle"]  # 1, 2, 4 and 5 times
    code = np.where(rng.random(n) < 0.5, 10, 20)
    code[20] = 987_654_321
    flag = np.zeros(n, dtype=bool)
    flag[[3, 50, 77]] = True  # True seen 3 times
    amount = rng.lognormal(4.0, 0.5, n).round(2)
    amount[[5, 6]] = [9_876_543.21, -12_345.678]
    when = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    when = when.where(np.arange(n) != 7, pd.Timestamp("1900-01-01"))
    when = when.where(np.arange(n) != 8, pd.Timestamp("2099-12-31"))
    frame = pd.DataFrame({"city": city, "code": code, "flag": flag, "amount": amount, "when": when})
    profile = MarginalProfile.from_frame(frame, {"city": "categorical", "code": "categorical", "flag": "boolean",
                                                 "amount": "numerical", "when": "datetime"})
    text = json.dumps(profile.to_dict())

    for label in ("Zzyzx", "Truth or Consequences", "Kalamazoo", "987654321"):
        assert label not in text
    for label in ("Boston", "Denver", "Austin", "Seattle"):  # Seattle: exactly min_category_count times
        assert f'"{label}"' in text
    stored = json.loads(text)["columns"]
    assert stored["city"]["rare"] == 7 and sorted(v for v, _ in stored["city"]["categories"]) == [
        "Austin", "Boston", "Denver", "Seattle"]
    assert sorted(v for v, _ in stored["code"]["categories"]) == [10, 20] and stored["code"]["rare"] == 1
    assert stored["flag"]["categories"] == [[False, 397]] and stored["flag"]["rare"] == 3
    assert set(stored["city"]) == {"sdtype", "rows", "missing", "categories", "rare"}  # no count of pooled labels

    numbers = set(_numbers(stored))
    m = profile.min_category_count
    for column in ("amount", "when"):
        values = np.sort(frame[column].to_numpy(dtype=np.float64) if column == "amount"
                         else frame[column].to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64))
        quantiles = stored[column]["quantiles"]
        # The m - 1 most extreme values on each side never enter a stored number ...
        assert values[m - 1] <= min(quantiles) and max(quantiles) <= values[-m]
        assert numbers.isdisjoint(np.r_[values[: m - 1], values[-(m - 1):]].tolist())
        # ... and no stored number is one training row's value.
        once = pd.Series(values).value_counts()
        assert not set(quantiles) & set(once[once == 1].index)
    assert "9876543.21" not in text and "-12345.678" not in text


def test_min_category_count_sets_what_is_pooled() -> None:
    frame = pd.DataFrame({"c": ["a"] * 12 + ["b"] * 7 + ["c"] * 3 + [None] * 2})
    assert MarginalProfile.from_frame(frame, {"c": "categorical"}).columns["c"] == DiscreteMarginal(
        "categorical", 24, 2, {"a": 12, "b": 7}, 3)
    assert MarginalProfile.from_frame(frame, {"c": "categorical"}, min_category_count=10).columns["c"] == \
        DiscreteMarginal("categorical", 24, 2, {"a": 12}, 10)
    assert MarginalProfile.from_frame(frame, {"c": "categorical"}, min_category_count=1).columns["c"] == \
        DiscreteMarginal("categorical", 24, 2, {"a": 12, "b": 7, "c": 3}, 0)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "5", None, np.float64(5.0)])
def test_min_category_count_is_validated(bad: Any) -> None:
    with pytest.raises(TrainingError, match="min_category_count must be a positive integer"):
        MarginalProfile.from_frame(pd.DataFrame({"x": [1.0] * 10}), {"x": "numerical"}, min_category_count=bad)


def test_tiny_columns_store_no_values() -> None:
    four = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": list("abab")})
    profile = MarginalProfile.from_frame(four, {"x": "numerical", "c": "categorical"})
    assert profile.columns == {}  # fewer rows than min_category_count: left out, like id columns
    assert profile.column_scores(four) == {}
    assert score_sample(four, profile).overall == 1.0
    assert '"columns": {}' in json.dumps(profile.to_dict())
    # Enough rows, but at most 2 * min_category_count values: the null share only.
    ten = pd.DataFrame({"x": [3.5, 1.0, 2.0, 7.0, 9.0, np.nan, np.nan, 4.0, 6.0, 8.0, np.nan]})
    marginal = MarginalProfile.from_frame(ten, {"x": "numerical"}).columns["x"]
    assert (marginal.rows, marginal.quantiles, marginal.tail) == (11, (), 0.0)
    assert marginal.null_share == pytest.approx(3 / 11)
    assert marginal.score(ten["x"]) == 1.0 and marginal.score(ten["x"] * 100) == 1.0
    # Eleven values: two quantiles, each mixing two of the three middle records.
    eleven = pd.DataFrame({"x": np.arange(11.0) ** 2})
    sketch = MarginalProfile.from_frame(eleven, {"x": "numerical"}).columns["x"]
    assert sketch.quantiles == (20.5, 30.5) and sketch.tail == pytest.approx(5 / 11)


def test_extremes_shared_by_many_records_close_the_sketch() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"constant": [7.0] * 600, "counts": rng.poisson(1.0, 600).astype(float),
                          "normal": rng.normal(size=600)})
    profile = MarginalProfile.from_frame(frame, dict.fromkeys(frame.columns, "numerical"))
    assert profile.columns["constant"].closed == (True, True)
    assert profile.columns["counts"].closed == (True, False)  # ~220 zeros; few records at the maximum
    assert profile.columns["normal"].closed == (False, False)
    assert profile.columns["counts"].quantiles[0] == 0.0


# ----------------------------------------------------------------------------- scores
def test_scores_on_a_frame_with_30_percent_rare_categories() -> None:
    """Before: every category by label (the exact TVD on the raw rows). After: rare ones pooled."""
    rng = np.random.default_rng(7)
    real = _spending(3_000, rng)
    profile = MarginalProfile.from_frame(real, SPENDING)
    kept = set(profile.columns["merchant"].categories)
    assert kept == set(FREQUENT)
    assert 0.28 < (~real["merchant"].isin(kept)).mean() < 0.34

    # A model that reproduces training labels, rare ones included (drawn like the training rows).
    reproduced = real.sample(2_000, replace=True, random_state=1).reset_index(drop=True)
    reproduced["amount"] = rng.lognormal(4.05, 0.85, 2_000)
    reproduced["age"] = rng.integers(18, 92, 2_000)
    # TabularAR: a rare value decodes to a frequent one drawn by frequency, or to "_RARE_".
    frequent = real["merchant"].value_counts()[list(kept)]
    protected = reproduced.copy()
    rare = ~protected["merchant"].isin(kept)
    protected.loc[rare, "merchant"] = rng.choice(frequent.index, int(rare.sum()), p=frequent / frequent.sum())
    placeholder = reproduced.assign(merchant=reproduced["merchant"].where(~rare, "_RARE_"))

    for synthetic in (reproduced, protected, placeholder):
        scores = profile.column_scores(synthetic)
        raw = tv_complement(real["merchant"], synthetic["merchant"])
        pooled = tv_complement(_pooled(real["merchant"], kept), _pooled(synthetic["merchant"], kept))
        assert scores["merchant"] == pytest.approx(pooled, abs=1e-12)  # the TVD of the pooled distributions
        assert raw - 1e-12 <= scores["merchant"] <= raw + 0.32  # never below; above by the rare share at most
        assert scores["flag"] == pytest.approx(tv_complement(real["flag"], synthetic["flag"]), abs=1e-12)
        for column in ("amount", "age"):
            assert scores[column] == pytest.approx(ks_complement(real[column], synthetic[column]), abs=0.005)
    # Rare values not reproduced (TabularAR's "sample"): the score does not move at all.
    assert profile.column_scores(protected)["merchant"] == pytest.approx(
        tv_complement(real["merchant"], protected["merchant"]), abs=1e-12)


def test_scores_on_a_typical_frame_are_the_raw_scores() -> None:
    rng = np.random.default_rng(8)
    real, synthetic = _spending(3_000, rng, rare_share=0.0), _spending(2_000, rng, rare_share=0.0)
    synthetic["merchant"] = synthetic["merchant"].where(rng.random(2_000) < 0.9, "travel")
    scores = MarginalProfile.from_frame(real, SPENDING).column_scores(synthetic)
    for column, sdtype in SPENDING.items():
        exact = (ks_complement if sdtype == "numerical" else tv_complement)(real[column], synthetic[column])
        assert scores[column] == pytest.approx(exact, abs=0.005 if sdtype == "numerical" else 1e-12), column


def test_generated_values_outside_the_kept_labels_fill_the_rare_bucket() -> None:
    real = pd.Series(["a"] * 60 + ["b"] * 30 + [f"r{i}" for i in range(10)])  # 10 singletons: rare = 10
    marginal = MarginalProfile.from_frame(real.to_frame("c"), {"c": "categorical"}).columns["c"]
    assert marginal.rare == 10 and marginal.categories == {"a": 60, "b": 30}
    # a .6 vs .5, b .3 vs .3, rare .1 vs .2 (two unseen labels and one rare training label) -> TVD .1
    synthetic = pd.Series(["a"] * 50 + ["b"] * 30 + ["new"] * 10 + ["_RARE_"] * 5 + ["r3"] * 5)
    assert marginal.score(synthetic) == pytest.approx(0.9)
    assert marginal.score(pd.Series(["a"] * 60 + ["b"] * 30 + ["x"] * 10)) == pytest.approx(1.0)
    assert marginal.score(pd.Series(["a"] * 60 + ["b"] * 30 + [None] * 10)) == pytest.approx(0.9)


def _wide(n: int, rng: np.random.Generator, shift: float) -> pd.DataFrame:
    values = rng.exponential(2.0 + shift, n)
    values[rng.random(n) < 0.15 + shift / 10] = np.nan
    return pd.DataFrame({
        "normal": rng.normal(50.0 + 5 * shift, 10.0, n),
        "skewed": rng.lognormal(3.0 + shift / 5, 1.0, n),
        "counts": rng.poisson(3.0 + shift, n).astype(float),
        "with_nulls": values,
        "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, int(900 * (1 + shift)), n), unit="D"),
    })


@pytest.mark.parametrize("shift", [0.0, 0.4, 1.5])
def test_ks_against_the_sketch_matches_ks_against_raw_rows(shift: float) -> None:
    rng = np.random.default_rng(int(shift * 10))
    real = _wide(6_000, rng, 0.0)
    synthetic = _wide(2_000, rng, shift)
    sdtypes = {c: "datetime" if c == "when" else "numerical" for c in real.columns}
    profile = MarginalProfile.from_frame(real, sdtypes)
    assert all(len(m.quantiles) == 1_001 for m in profile.columns.values())
    sketch = profile.column_scores(synthetic)
    for column in real.columns:
        assert abs(sketch[column] - ks_complement(real[column], synthetic[column])) < 0.01, column


@pytest.mark.parametrize("n", [60, 300, 1_000])
def test_ks_on_small_tables_with_outliers(n: int) -> None:
    rng = np.random.default_rng(n)
    real = pd.DataFrame({"x": np.r_[rng.normal(0, 1, n - 3), [1e6, -1e6, 5e5]]})
    profile = MarginalProfile.from_frame(real, {"x": "numerical"})
    resolution = 1.0 / len(profile.columns["x"].quantiles)  # 1/11, 1/59, 1/199
    for shift in (0.0, 0.3, 1.0):
        synthetic = pd.DataFrame({"x": rng.normal(shift, 1, 2_000)})
        exact = ks_complement(real["x"], synthetic["x"])
        assert profile.column_scores(synthetic)["x"] == pytest.approx(exact, abs=0.01 + resolution / 2)


def test_the_mass_beyond_an_open_end_is_scored_not_its_place() -> None:
    rng = np.random.default_rng(5)
    real = pd.DataFrame({"x": rng.normal(0, 1, 2_000)})
    profile = MarginalProfile.from_frame(real, {"x": "numerical"})
    tail = profile.columns["x"].tail
    body = rng.normal(0, 1, 2_000)
    # The 0.2% lowest values moved far away: a tail the sketch does not know; the KS barely moves.
    far = np.sort(body)
    far[:4] = -1e9
    assert profile.column_scores(pd.DataFrame({"x": far}))["x"] == pytest.approx(
        ks_complement(real["x"], pd.Series(far)), abs=0.01)
    # 20% of the mass beyond the low end: penalised by that mass (less the tail the sketch leaves open).
    heavy = np.r_[body[:1_600], np.full(400, -50.0)]
    score = profile.column_scores(pd.DataFrame({"x": heavy}))["x"]
    exact = ks_complement(real["x"], pd.Series(heavy))
    assert exact - 0.01 <= score <= exact + tail + 0.01 and score < 0.85


def test_sketch_handles_constant_and_tiny_columns() -> None:
    real = pd.DataFrame({"constant": [7.0] * 50, "one": [np.nan] * 49 + [3.0], "empty": [np.nan] * 50})
    profile = MarginalProfile.from_frame(real, dict.fromkeys(real.columns, "numerical"))
    same = profile.column_scores(real)
    assert same["constant"] == pytest.approx(1.0, abs=1e-3)
    assert same["one"] == same["empty"] == 1.0
    other = pd.DataFrame({"constant": [8.0] * 50, "one": [np.nan] * 40 + [5.0] * 10, "empty": [1.0] * 50})
    # "one" keeps only its null share (a single value is not sketched): 1 - |0.98 - 0.80|.
    assert profile.column_scores(other) == pytest.approx({"constant": 0.0, "one": 0.82, "empty": 0.0})
    assert profile.column_scores(real.assign(one=np.nan))["one"] == 0.0  # values vs none at all


def _reference_sketch_ks(sketch: ContinuousMarginal, synthetic: np.ndarray) -> float:
    """Brute force: the distance of both CDFs and their left limits at every knot and synthetic value.

    Quantile ``i`` of ``k`` stands for probability ``tail + i * (1 - 2 tail) / (k - 1)``. The sketch's
    CDF steps at each knot from the first level of the knot's value to the last one, and is linear
    from one knot's value to the next knot's left limit. Below the first knot (and just below it) it
    is 0 at a closed end, else anywhere in ``[0, first level]``; from the last knot on it is 1 at a
    closed end, else anywhere in ``[last level, 1]``. The distance to a range is 0 inside it.
    """
    quantiles = list(sketch.quantiles)
    k = len(quantiles)
    levels = [sketch.tail + i * (1 - 2 * sketch.tail) / (k - 1) for i in range(k)]
    knots = sorted(set(quantiles))
    first = [levels[quantiles.index(u)] for u in knots]
    at = [levels[k - 1 - quantiles[::-1].index(u)] for u in knots]

    def bounds(x: float, left: bool) -> tuple[float, float]:
        if x < knots[0] or (left and x == knots[0]):
            return (0.0, 0.0) if sketch.closed[0] else (0.0, first[0])
        if x > knots[-1] or (not left and x == knots[-1]):
            return (1.0, 1.0) if sketch.closed[1] else (at[-1], 1.0)
        if not left and x in knots:
            return at[knots.index(x)], at[knots.index(x)]
        j = max(i for i, u in enumerate(knots) if u < x)
        value = at[j] + (x - knots[j]) / (knots[j + 1] - knots[j]) * (first[j + 1] - at[j])
        return value, value

    values = sorted(synthetic.tolist())
    m = len(values)
    worst = 0.0
    for x in set(knots) | set(values):
        for left in (False, True):
            empirical = sum(v < x if left else v <= x for v in values) / m
            low, high = bounds(x, left)
            worst = max(worst, low - empirical, empirical - high)
    return worst


@pytest.mark.parametrize("kind", ["continuous", "few integers", "constant sketch", "rounded", "point mass",
                                  "version 1"])
def test_a_numerical_score_is_one_minus_the_exact_ks_at_every_point(kind: str) -> None:
    """The KS statistic reads each distinct synthetic value once, and is still the supremum over every point:
    a column without nulls scores exactly ``1 - KS`` of its sketch (fitted, or read from a version-1 profile)."""
    rng = np.random.default_rng(len(kind))
    for _ in range(12):
        n, m = int(rng.integers(11, 300)), int(rng.integers(1, 300))
        real, synthetic = {
            "continuous": (rng.normal(size=n), rng.normal(0.2, 1.1, size=m)),
            "few integers": (rng.integers(0, 5, n).astype(float), rng.integers(-1, 6, m).astype(float)),
            "constant sketch": (np.full(n, 3.0), rng.choice([2.0, 3.0, 4.0], m)),
            "rounded": (rng.exponential(size=n).round(1), rng.exponential(size=m).round(1)),
            "point mass": (np.r_[np.zeros(n // 2), rng.normal(size=n - n // 2)],
                           np.r_[np.zeros(m // 3), rng.normal(size=m - m // 3)]),
            "version 1": (rng.integers(0, 8, n).astype(float), rng.integers(-1, 9, m).astype(float)),
        }[kind]
        if kind == "version 1":  # mid-point levels over the whole range; a tie at an end is closed
            q = np.sort(real[: int(rng.integers(2, 40))])
            stored = {"format": "synthohive-marginal-profile", "version": 1,
                      "columns": {"x": {"sdtype": "numerical", "rows": n, "null_share": 0.0, "quantiles": q.tolist()}}}
            sketch = MarginalProfile.from_dict(stored).columns["x"]
        else:
            sketch = MarginalProfile.from_frame(pd.DataFrame({"x": real}), {"x": "numerical"}, max_quantiles=1000,
                                                min_category_count=int(rng.integers(1, 6))).columns["x"]
        ks = 1.0 - sketch.score(pd.Series(synthetic))
        assert ks == pytest.approx(_reference_sketch_ks(sketch, synthetic), abs=1e-12)


def test_large_samples_are_scored_on_a_stride_close_to_the_full_score() -> None:
    from syntho_hive.core.quality.gates import MAX_SCORED_ROWS

    rng = np.random.default_rng(4)
    real = pd.DataFrame({"x": rng.lognormal(3, 1, 5_000), "c": rng.choice(list("abcd"), 5_000)})
    big = pd.DataFrame({"x": rng.lognormal(3.1, 1, 3 * MAX_SCORED_ROWS),
                        "c": rng.choice(list("abcd"), 3 * MAX_SCORED_ROWS, p=[0.4, 0.3, 0.2, 0.1])})
    profile = MarginalProfile.from_frame(real, {"x": "numerical", "c": "categorical"})
    quality = score_sample(big, profile)
    full = profile.column_scores(big)
    assert quality.rows == len(big)
    assert all(abs(quality.column_shapes[c] - full[c]) < 0.01 for c in full)


def test_gate_helpers_work_without_a_model() -> None:
    real = pd.DataFrame({"c": ["a"] * 80 + ["b"] * 20})
    profile = MarginalProfile.from_frame(real, {"c": "categorical"})
    synthetic = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50})
    check_gate_arguments(True, 0.5, profile)
    frame, metrics = apply_quality_gate(synthetic, profile, return_metrics=True, table="t")
    assert frame is synthetic and metrics.column_shapes == {"c": pytest.approx(0.7)}
    with pytest.raises(QualityError, match=r"'c': 0\.700") as info:
        apply_quality_gate(synthetic, profile, quality_threshold=0.8)
    assert info.value.failures == {"c": pytest.approx(0.7)} and info.value.threshold == 0.8
    assert apply_quality_gate(synthetic, None) is synthetic


# ----------------------------------------------------------------------------- JSON
def _small_profile() -> MarginalProfile:
    frame = pd.DataFrame({"x": np.arange(100.0), "c": ["a", "b", None, "a"] * 25, "flag": [True, False] * 50,
                          "r": ["x"] * 95 + ["y", "z", "y", "q", "w"]})
    return MarginalProfile.from_frame(frame, {"x": "numerical", "c": "categorical", "flag": "boolean",
                                              "r": "categorical"})


def test_profile_json_round_trip_and_errors() -> None:
    frame = pd.DataFrame({"x": np.arange(100.0), "c": ["a", "b", None, "a"] * 25, "flag": [True, False] * 50})
    profile = MarginalProfile.from_frame(frame, {"x": "numerical", "c": "categorical", "flag": "boolean"})
    again = MarginalProfile.from_dict(json.loads(json.dumps(profile.to_dict(), allow_nan=False)))
    assert again == profile
    assert again.column_scores(frame) == profile.column_scores(frame)
    assert profile.column_scores(frame)["c"] == 1.0
    with pytest.raises(SchemaError, match=r"lack column\(s\) \['flag'\]"):
        profile.column_scores(frame[["x", "c"]])
    with pytest.raises(SerializationError, match="Not a SynthoHive marginal profile"):
        MarginalProfile.from_dict({"format": "something else", "version": 1})
    with pytest.raises(SerializationError, match="reference profile is corrupt"):
        MarginalProfile.from_dict({"format": "synthohive-marginal-profile", "version": 1, "columns": {"x": {}}})
    with pytest.raises(SchemaError, match="max_quantiles"):
        MarginalProfile.from_frame(frame, {"x": "numerical"}, max_quantiles=1)
    stored = _small_profile().to_dict()
    assert stored["version"] == 2 and stored["min_category_count"] == 5
    assert stored["columns"]["r"] == {"sdtype": "categorical", "rows": 100, "missing": 0, "categories": [["x", 95]],
                                      "rare": 5}
    assert MarginalProfile.from_dict(json.loads(json.dumps(stored))) == _small_profile()


@pytest.mark.parametrize("path", V1_PROFILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_version_1_profiles_load_and_score_as_they_did(path: Path) -> None:
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["version"] == 1
    profile = MarginalProfile.from_dict(stored)
    assert profile.min_category_count == 1 and list(profile.columns) == list(stored["columns"])
    for column, marginal in profile.columns.items():
        entry = stored["columns"][column]
        if isinstance(marginal, DiscreteMarginal):
            assert marginal.rare == 0 and marginal.categories == dict(map(tuple, entry["categories"]))
            # Every category by label: the TVD is computed over all of them, as before.
            real = pd.Series([v for v, c in entry["categories"] for _ in range(c)])
            synthetic = real.iloc[::2].reset_index(drop=True).where(lambda s: s.index % 3 != 0, "unseen")
            assert marginal.score(synthetic) == pytest.approx(tv_complement(real, synthetic), abs=1e-12)
        else:
            assert marginal.quantiles == tuple(entry["quantiles"])
            assert marginal.tail == pytest.approx(0.5 / len(entry["quantiles"]))
    assert MarginalProfile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile  # rewritten as version 2


def _deep(depth: int) -> list[Any]:
    nested: list[Any] = []
    for _ in range(depth):
        nested = [nested]
    return nested


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _drop(*path: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    "columns null": _set("columns", value=None),
    "columns a list": _set("columns", value=[]),
    "column entry null": _set("columns", "x", value=None),
    "sdtype missing": _drop("columns", "x", "sdtype"),
    "sdtype unknown": _set("columns", "x", "sdtype", value="id"),
    "sdtype a list": _set("columns", "x", "sdtype", value=["numerical"]),
    "rows text": _set("columns", "x", "rows", value="100"),
    "rows null": _set("columns", "x", "rows", value=None),
    "rows negative": _set("columns", "c", "rows", value=-1),
    "rows fractional": _set("columns", "x", "rows", value=100.5),
    "rows boolean": _set("columns", "x", "rows", value=True),
    "rows past a float": _set("columns", "x", "rows", value=10**400),
    "rows past int64": _set("columns", "x", "rows", value=2**63),
    "null_share NaN": _set("columns", "x", "null_share", value=float("nan")),
    "null_share text": _set("columns", "x", "null_share", value="0"),
    "null_share above 1": _set("columns", "x", "null_share", value=1.5),
    "quantiles null": _set("columns", "x", "quantiles", value=None),
    "quantile NaN": _set("columns", "x", "quantiles", 3, value=float("nan")),
    "quantile infinite": _set("columns", "x", "quantiles", 3, value=float("inf")),
    "quantile null": _set("columns", "x", "quantiles", 0, value=None),
    "quantile text": _set("columns", "x", "quantiles", 0, value="1.0"),
    "quantiles unsorted": _set("columns", "x", "quantiles", 0, value=1e9),
    "one quantile": _set("columns", "x", "quantiles", value=[1.0]),
    "tail missing": _drop("columns", "x", "tail"),
    "tail NaN": _set("columns", "x", "tail", value=float("nan")),
    "tail zero": _set("columns", "x", "tail", value=0.0),
    "tail above a half": _set("columns", "x", "tail", value=0.7),
    "closed null": _set("columns", "x", "closed", value=None),
    "closed numbers": _set("columns", "x", "closed", value=[0, 1]),
    "closed one": _set("columns", "x", "closed", value=[True]),
    "categories null": _set("columns", "r", "categories", value=None),
    "categories an object": _set("columns", "r", "categories", value={"x": 95}),
    "category not a pair": _set("columns", "r", "categories", 0, value=["x", 95, 1]),
    "category count text": _set("columns", "r", "categories", 0, value=["x", "95"]),
    "category count null": _set("columns", "r", "categories", 0, value=["x", None]),
    "category count float": _set("columns", "r", "categories", 0, value=["x", 95.0]),
    "category count boolean": _set("columns", "c", "categories", 0, 1, value=True),
    "category count NaN": _set("columns", "r", "categories", 0, value=["x", float("nan")]),
    "category null": _set("columns", "r", "categories", 0, value=[None, 95]),
    "category NaN": _set("columns", "r", "categories", 0, value=[float("nan"), 95]),
    "category a list": _set("columns", "r", "categories", 0, value=[["x"], 95]),
    "category an object": _set("columns", "r", "categories", 0, value=[{"x": 1}, 95]),
    "category nested deeply": _set("columns", "r", "categories", 0, value=[_deep(100_000), 95]),
    "missing null": _set("columns", "c", "missing", value=None),
    "rare missing": _drop("columns", "r", "rare"),
    "rare text": _set("columns", "r", "rare", value="5"),
    "counts do not add up": _set("columns", "r", "rare", value=6),
    "min_category_count missing": _drop("min_category_count"),
    "min_category_count zero": _set("min_category_count", value=0),
    "max_quantiles text": _set("max_quantiles", value="1001"),
    "max_quantiles one": _set("max_quantiles", value=1),
    "max_quantiles huge": _set("max_quantiles", value=10**30),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_profiles_raise_serialization_error(name: str) -> None:
    data = copy.deepcopy(_small_profile().to_dict())
    MALFORMED[name](data)
    with pytest.raises(SerializationError, match="reference profile is corrupt"):
        MarginalProfile.from_dict(data)


@pytest.mark.parametrize("data", [None, [], "profile", 3, {}, {"format": "synthohive-marginal-profile"},
                                  {"format": "synthohive-marginal-profile", "version": "1", "columns": {}},
                                  {"format": "synthohive-marginal-profile", "version": True, "columns": {}},
                                  {"format": "synthohive-marginal-profile", "version": 3, "columns": {}},
                                  {"format": "synthohive-marginal-profile", "version": 1.0, "columns": {}},
                                  {"format": _deep(100_000), "version": 2}],
                         ids=["null", "list", "text", "number", "empty", "no version", "version text",
                              "version boolean", "version 3", "version float", "format nested deeply"])
def test_what_is_not_a_profile_raises_serialization_error(data: Any) -> None:
    with pytest.raises(SerializationError):
        MarginalProfile.from_dict(data)


def test_version_1_profile_with_malformed_content_raises_serialization_error() -> None:
    stored = json.loads(V1_PROFILES[0].read_text(encoding="utf-8"))
    for column, entry in stored["columns"].items():
        broken = copy.deepcopy(stored)
        key = "quantiles" if "quantiles" in entry else "categories"
        broken["columns"][column][key][0] = [None, "x"] if key == "categories" else None
        with pytest.raises(SerializationError, match="reference profile is corrupt"):
            MarginalProfile.from_dict(broken)
    assert sys.getrecursionlimit() > 0  # the deeply nested cases above left the interpreter usable


def test_one_true_and_one_point_zero_count_apart_so_none_of_them_is_stored_when_rare() -> None:
    column = pd.Series([True] * 3 + [1] * 3 + [1.0] * 3 + ["a"] * 20, dtype=object)
    profile = MarginalProfile.from_frame(pd.DataFrame({"x": column}), {"x": "categorical"}, min_category_count=5)
    entry = profile.to_dict()["columns"]["x"]
    assert entry["categories"] == [["a", 20]] and entry["rare"] == 9  # each seen 3 times: all rare
    kept = pd.Series([True] * 10 + [1] * 10 + ["a"] * 20, dtype=object)
    restored = MarginalProfile.from_dict(json.loads(json.dumps(
        MarginalProfile.from_frame(pd.DataFrame({"x": kept}), {"x": "categorical"}).to_dict())))
    assert restored.columns["x"].score(kept) == 1.0
    assert restored.columns["x"].score(pd.Series([True] * 40, dtype=object)) == pytest.approx(0.25)
