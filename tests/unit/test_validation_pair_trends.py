"""Column pair trends: known values, SDMetrics definitions, sampling."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from syntho_hive.exceptions import SchemaError
from syntho_hive.validation import column_pair_trends, column_shape_scores, overall_column_shape


def _customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    age = (20 + np.clip(income / 1000, 0, 50) + rng.normal(0, 5, n)).round()
    segment = np.where(income > 28_000, "premium",
                       np.where(rng.random(n) < 0.5, "basic", "standard"))
    churned = rng.random(n) < np.where(segment == "premium", 0.1, 0.4)
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta((age * 10 + rng.integers(0, 100, n)).astype(int), "D")
    return pd.DataFrame({"income": income, "age": age, "segment": segment, "churned": churned,
                         "signup": signup, "region": rng.choice(["north", "south", "east"], n)})


SDTYPES = {"income": "numerical", "age": "numerical", "segment": "categorical", "churned": "boolean",
           "signup": "datetime", "region": "categorical"}


def test_identical_data_scores_one_for_every_pair() -> None:
    real = _customers(800, 0)
    result = column_pair_trends(real, real.copy(), SDTYPES)
    assert result.score == pytest.approx(1.0)
    assert len(result.pairs) == 15
    assert all(p.score == pytest.approx(1.0) for p in result.pairs)


def test_correlation_similarity_hand_computed() -> None:
    x = np.arange(10, dtype=float)
    real = pd.DataFrame({"a": x, "b": x})          # r = 1
    synthetic = pd.DataFrame({"a": x, "b": -x})    # r = -1
    result = column_pair_trends(real, synthetic, {"a": "numerical", "b": "numerical"})
    pair = result.pairs[0]
    assert pair.metric == "CorrelationSimilarity"
    assert pair.real_correlation == pytest.approx(1.0)
    assert pair.synthetic_correlation == pytest.approx(-1.0)
    assert pair.score == pytest.approx(0.0)  # 1 - |1 - (-1)| / 2


def test_contingency_similarity_hand_computed() -> None:
    real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["p", "q", "p", "q"]})
    synthetic = pd.DataFrame({"a": ["x", "x", "x", "y"], "b": ["p", "p", "q", None]})
    # real joint: (x,p).25 (x,q).25 (y,p).25 (y,q).25 ; synth: (x,p).5 (x,q).25 (y,NA).25
    # TVD = (|.25-.5| + 0 + .25 + .25 + .25) / 2 = 0.5
    result = column_pair_trends(real, synthetic, {"a": "categorical", "b": "categorical"},
                                real_association_threshold=0)
    assert result.pairs[0].metric == "ContingencySimilarity"
    assert result.pairs[0].score == pytest.approx(0.5)
    assert result.score == pytest.approx(0.5)


def test_breaking_relationships_lowers_the_score() -> None:
    real = _customers(2000, 1)
    rng = np.random.default_rng(5)
    independent = real.apply(lambda column: column.sample(frac=1.0, random_state=int(rng.integers(1e6)))
                             .reset_index(drop=True))
    fresh = _customers(2000, 2)
    good = column_pair_trends(real, fresh, SDTYPES).score
    bad = column_pair_trends(real, independent, SDTYPES).score
    assert good > 0.85  # own-range binning (SDMetrics) costs a little on heavy tails
    assert column_pair_trends(real, fresh, SDTYPES, shared_bins=True).score > 0.95
    assert bad < good - 0.15


def test_only_related_pairs_contribute() -> None:
    real = _customers(1500, 3)
    result = column_pair_trends(real, real.copy(), SDTYPES)
    flags = {(p.column_1, p.column_2): p.contributes for p in result.pairs}
    assert flags[("income", "age")] is True           # strongly correlated
    assert flags[("age", "region")] is False          # independent
    all_pairs = column_pair_trends(real, real.copy(), SDTYPES, real_correlation_threshold=0,
                                   real_association_threshold=0)
    assert all(p.contributes for p in all_pairs.pairs)


def test_constant_column_pair_is_skipped_not_scored() -> None:
    real = pd.DataFrame({"a": [1.0, 1.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0, 4.0]})
    result = column_pair_trends(real, real.copy(), {"a": "numerical", "b": "numerical"})
    assert result.pairs == []
    assert "a|b" in result.skipped
    assert result.score is None


@pytest.mark.parametrize("lost", [50_000.0, float("nan")], ids=["constant", "all-null"])
def test_a_synthetic_column_without_variation_loses_the_real_trend(lost: float) -> None:
    """The real data's strongest trend was skipped when the synthetic side was constant: no penalty at all."""
    real = _customers(1000, 0)[["income", "age"]]
    synthetic = real.assign(income=lost)
    result = column_pair_trends(real, synthetic, {"income": "numerical", "age": "numerical"})
    assert result.skipped == {}
    (pair,) = result.pairs
    assert pair.contributes and pair.synthetic_correlation is None
    assert pair.score == pytest.approx(1 - abs(pair.real_correlation) / 2)  # scored as no correlation
    assert result.score == pytest.approx(pair.score) and result.score < 0.8


def test_row_and_pair_sampling_is_seeded_and_reported() -> None:
    real, synthetic = _customers(3000, 4), _customers(3000, 5)
    first = column_pair_trends(real, synthetic, SDTYPES, max_rows=500, max_pairs=5, seed=7)
    second = column_pair_trends(real, synthetic, SDTYPES, max_rows=500, max_pairs=5, seed=7)
    assert first.rows_sampled and first.pairs_sampled
    assert first.n_rows_real == 500 and len(first.pairs) == 5 and first.pairs_total == 15
    assert first.to_dict() == second.to_dict()


def test_missing_synthetic_column_is_a_schema_error() -> None:
    real = _customers(50, 0)
    with pytest.raises(SchemaError, match="lacks column"):
        column_pair_trends(real, real.drop(columns=["age"]), SDTYPES)


def _sdmetrics_overall(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        metadata = {"columns": {c: ({"sdtype": t, "datetime_format": "%Y-%m-%d"} if t == "datetime"
                                    else {"sdtype": t}) for c, t in SDTYPES.items()}}
        report.generate(real, synthetic, metadata, verbose=False)
        return float(report.get_score()), report.get_details("Column Pair Trends")


@pytest.mark.parametrize("case", ["independent_draw", "shuffled_columns", "noisy"])
def test_overall_matches_sdmetrics_quality_report(case: str) -> None:
    real = _customers(3000, 10)
    rng = np.random.default_rng(11)
    if case == "independent_draw":
        synthetic = _customers(3000, 12)
    elif case == "shuffled_columns":
        synthetic = real.copy()
        for column in ["income", "segment", "signup"]:
            synthetic[column] = rng.permutation(synthetic[column].to_numpy())
    else:
        synthetic = _customers(3000, 13)
        synthetic["income"] = synthetic["income"] * rng.lognormal(0, 0.6, 3000)
        synthetic.loc[rng.random(3000) < 0.3, "segment"] = "basic"
    expected, details = _sdmetrics_overall(real, synthetic)
    trends = column_pair_trends(real, synthetic, SDTYPES)
    ours = (overall_column_shape(column_shape_scores(real, synthetic, SDTYPES)) + trends.score) / 2
    assert abs(ours - expected) <= 0.02, (case, ours, expected)
    # Pair by pair the scores are the same definitions (no nulls here): they agree closely.
    theirs = {(r["Column 1"], r["Column 2"]): r["Score"] for _, r in details.iterrows() if np.isfinite(r["Score"])}
    mine = {(p.column_1, p.column_2): p.score for p in trends.pairs if p.contributes}
    assert set(theirs) == set(mine)
    for key, value in theirs.items():
        assert mine[key] == pytest.approx(value, abs=1e-6), key


def test_association_threshold_uses_cramers_v_hand_computed() -> None:
    # 2x2 table [[30, 10], [10, 30]]: phi^2 = 0.25 -> Cramer's V = 0.5 > 0.3
    a = ["x"] * 40 + ["y"] * 40
    b = ["p"] * 30 + ["q"] * 10 + ["p"] * 10 + ["q"] * 30
    real = pd.DataFrame({"a": a, "b": b})
    pair = column_pair_trends(real, real.copy(), {"a": "categorical", "b": "categorical"}).pairs[0]
    assert pair.real_association == pytest.approx(0.5)
    assert pair.contributes


def test_high_cardinality_pairs_are_scored_exactly() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3000, 6000)
    real = pd.DataFrame({"a": a.astype(str), "b": (a // 2).astype(str)})  # b determined by a
    result = column_pair_trends(real, real.copy(), {"a": "categorical", "b": "categorical"})
    pair = result.pairs[0]
    assert pair.score == pytest.approx(1.0)
    assert pair.real_association is not None and pair.real_association > 0.9 and pair.contributes
