"""Column-shape scores: known values, null handling, agreement with the textbook KS statistic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from syntho_hive.exceptions import SchemaError
from syntho_hive.validation import (
    column_shape_scores,
    ks_complement,
    overall_column_shape,
    tv_complement,
)

SDTYPES = {"age": "numerical", "city": "categorical", "joined": "datetime", "active": "boolean",
           "user_id": "id"}


def _people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "user_id": np.arange(n),
        "age": rng.integers(18, 90, n),
        "city": rng.choice(["Lisbon", "Porto", "Faro", None], n, p=[0.5, 0.3, 0.1, 0.1]),
        "joined": pd.Timestamp("2020-01-01", tz="Europe/Lisbon")
        + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
        "active": rng.random(n) < 0.3,
    })


def test_identical_frames_score_one() -> None:
    real = _people(500, 1)
    scores = column_shape_scores(real, real.copy(), SDTYPES)
    assert set(scores) == {"age", "city", "joined", "active"}  # id skipped
    assert all(score == 1.0 for score in scores.values())
    assert overall_column_shape(scores) == 1.0


def test_disjoint_frames_score_zero() -> None:
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    synthetic = pd.DataFrame({"x": [10.0, 20.0, 30.0], "c": ["z", "y", "z"]})
    scores = column_shape_scores(real, synthetic, {"x": "numerical", "c": "categorical"})
    assert scores == {"x": 0.0, "c": 0.0}


def test_hand_computed_values() -> None:
    # KS: F_real - F_synth at 1..6 = .25, .5, .5, .5, .25, 0 -> D = 0.5
    assert ks_complement(pd.Series([1, 2, 3, 4]), pd.Series([3, 4, 5, 6])) == pytest.approx(0.5)
    # TV: real a=.5 b=.25 null=.25, synth a=.25 b=.75 -> TVD = (.25 + .5 + .25) / 2 = .5
    real = pd.Series(["a", "a", "b", None])
    assert tv_complement(real, pd.Series(["a", "b", "b", "b"])) == pytest.approx(0.5)
    # numeric nulls: null shares .25 vs 0; KS on {1,2,3} vs {1,2,3,4} = 0.25 -> .75 * .75
    score = ks_complement(pd.Series([1.0, 2.0, 3.0, np.nan]), pd.Series([1.0, 2.0, 3.0, 4.0]))
    assert score == pytest.approx(0.5625)


def test_null_is_a_category_for_discrete_columns() -> None:
    real = pd.Series(["a", None, "a", None], dtype="object")
    # pd.NA and NaN in a category dtype count as the same missing category as None
    synthetic = pd.Series(["a", np.nan, "a", np.nan], dtype="category")
    assert tv_complement(real, synthetic) == 1.0
    assert tv_complement(real, pd.Series(["a", "a", "a", "a"])) == pytest.approx(0.5)


def test_ks_matches_scipy_two_sample_statistic() -> None:
    rng = np.random.default_rng(7)
    real = pd.Series(rng.normal(0, 1, 700))
    synthetic = pd.Series(np.round(rng.normal(0.3, 1.2, 450), 1))  # ties included
    expected = 1.0 - stats.ks_2samp(real, synthetic).statistic
    assert ks_complement(real, synthetic) == pytest.approx(expected, abs=1e-12)


def test_datetime_columns_timezone_aware_and_strings() -> None:
    stamps = pd.Series(pd.date_range("2021-01-01", periods=50, freq="D", tz="UTC"))
    same_instants = stamps.dt.tz_convert("America/New_York")
    assert ks_complement(stamps, same_instants) == 1.0
    as_text = stamps.dt.strftime("%Y-%m-%d")
    shifted = (stamps + pd.Timedelta(days=25)).dt.strftime("%Y-%m-%d")
    assert ks_complement(as_text, shifted) == pytest.approx(0.5)


def test_all_null_edge_cases() -> None:
    empty = pd.Series([np.nan, np.nan])
    assert ks_complement(empty, empty) == 1.0
    assert ks_complement(pd.Series([1.0, 2.0]), empty) == 0.0


def test_scores_bounded_and_follow_real_column_order() -> None:
    real, synthetic = _people(300, 2), _people(200, 3)
    scores = column_shape_scores(real, synthetic, SDTYPES)
    assert list(scores) == ["age", "city", "joined", "active"]
    assert all(0.0 < score < 1.0 for score in scores.values())
    assert overall_column_shape(scores) == pytest.approx(np.mean(list(scores.values())))


def test_missing_synthetic_column_raises_schema_error() -> None:
    real = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    with pytest.raises(SchemaError, match=r"lacks column\(s\) \['b'\]"):
        column_shape_scores(real, real[["a"]], {"a": "numerical", "b": "categorical"})


def test_unknown_sdtype_and_empty_scores_raise() -> None:
    real = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(SchemaError, match="Unknown sdtype"):
        column_shape_scores(real, real, {"a": "number"})  # type: ignore[dict-item]
    with pytest.raises(SchemaError, match="No column to score"):
        overall_column_shape({})


def test_mixed_type_categories_score_without_a_sorting_warning() -> None:
    import warnings

    from syntho_hive.core.quality.shapes import tv_complement

    flags = pd.Series([True, False, None, True] * 25, dtype="boolean")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas warned that <missing> and True cannot be ordered
        assert tv_complement(flags, flags.iloc[::-1].reset_index(drop=True)) == 1.0
        assert tv_complement(flags, pd.Series([True] * 100, dtype="boolean")) == pytest.approx(0.5)
