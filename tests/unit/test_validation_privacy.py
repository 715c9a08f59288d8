"""Privacy: DCR share, NNDR, exact copies on hand-computed and real-looking data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive.validation import exact_copy_rate, privacy_metrics


def _patients(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 90, n), "bmi": np.round(rng.normal(26, 4, n), 1),
                         "smoker": rng.random(n) < 0.2, "ward": rng.choice(["a", "b", "c", "d"], n)})


def test_hand_computed_distances() -> None:
    train = pd.DataFrame({"x": [0.0, 1.0, 4.0]})        # range 4 -> scaled 0, .25, 1
    synthetic = pd.DataFrame({"x": [2.0]})                # scaled .5: nearest .25 away, next .5
    holdout = pd.DataFrame({"x": [2.4, 3.0, 5.0]})        # scaled .6: .1 away -> closer to holdout
    result = privacy_metrics(train, synthetic, holdout, {"x": "numerical"})
    assert result.dcr_synthetic_to_training_median == pytest.approx(0.25)
    assert result.dcr_synthetic_to_holdout_median == pytest.approx(0.1)
    assert result.nndr_median == pytest.approx(0.5)
    assert result.dcr_share_closer_to_training == 0.0
    assert result.exact_copy_rate == 0.0


def test_category_mismatch_is_distance_one() -> None:
    train = pd.DataFrame({"c": ["a", "b"]})
    result = privacy_metrics(train, pd.DataFrame({"c": ["z"]}), sdtypes={"c": "categorical"})
    assert result.dcr_synthetic_to_training_median == pytest.approx(1.0)


def test_copies_of_training_rows_are_flagged() -> None:
    train, holdout = _patients(2000, 0), _patients(2000, 1)
    copies = train.sample(500, random_state=0).reset_index(drop=True)
    result = privacy_metrics(train, copies, holdout)
    assert result.exact_copy_rate == 1.0 and result.exact_copies == 500
    assert result.dcr_synthetic_to_training_median == 0.0
    assert result.dcr_share_closer_to_training is not None and result.dcr_share_closer_to_training > 0.9


def test_fresh_draws_sit_as_close_to_holdout_as_to_training() -> None:
    train, holdout, synthetic = _patients(3000, 2), _patients(3000, 3), _patients(1500, 4)
    result = privacy_metrics(train, synthetic, holdout, seed=0)
    assert 0.4 < result.dcr_share_closer_to_training < 0.6
    baseline = result.dcr_holdout_to_training_median
    assert baseline is not None and result.dcr_synthetic_to_training_median == pytest.approx(baseline, rel=0.5)


def test_exact_copy_rate_ignores_dtype_differences_and_counts_rows() -> None:
    train = pd.DataFrame({"n": [1, 2, 3], "c": ["x", "y", None]})
    synthetic = pd.DataFrame({"n": [1.0, 2.5, 3.0], "c": ["x", "y", None]})
    rate, count = exact_copy_rate(train, synthetic, {"n": "numerical", "c": "categorical"})
    assert count == 2 and rate == pytest.approx(2 / 3)


def test_sampling_is_seeded_and_balanced() -> None:
    train, holdout, synthetic = _patients(3000, 5), _patients(1000, 6), _patients(3000, 7)
    first = privacy_metrics(train, synthetic, holdout, max_synthetic=500, seed=1)
    assert first == privacy_metrics(train, synthetic, holdout, max_synthetic=500, seed=1)
    assert first.n_reference_used == 3000 and first.n_synthetic_used == 500 and first.rows_sampled


@pytest.mark.parametrize("holdout_rows", [100, 1000])
def test_a_small_holdout_does_not_hide_copies_from_the_training_distances(holdout_rows: int) -> None:
    """The DCR share needs equal-size samples, but the distances to training rows use all of them:
    verbatim copies are at distance 0 (and NNDR 0) whatever the holdout's size."""
    train, holdout = _patients(4000, 8), _patients(holdout_rows, 9)
    copies = train.sample(2000, random_state=1).reset_index(drop=True)
    result = privacy_metrics(train, copies, holdout)
    assert result.dcr_synthetic_to_training_median == 0.0 and result.nndr_median == 0.0
    assert result.n_reference_used == 4000
    # The share compares equal-size samples: with 100 holdout rows it sees 100 training rows and
    # cannot tell copies apart (~0.5); with 1,000, a quarter of the copies are in its sample.
    assert result.dcr_share_closer_to_training is not None
    if holdout_rows == 1000:
        assert result.dcr_share_closer_to_training > 0.55


def test_the_holdout_copy_rate_is_the_chance_level_of_exact_copies() -> None:
    """A table compared on qty 1-4 alone: every synthetic row 'copies' a real one, and so does every holdout row;
    the report warned "100.0% of synthetic rows are exact copies" with nothing to compare it with."""
    from syntho_hive.validation import evaluate
    from syntho_hive.validation.report.html import plain_reading

    rng = np.random.default_rng(0)
    train, holdout, synthetic = (pd.DataFrame({"qty": rng.integers(1, 5, n)}) for n in (400, 100, 400))
    few = evaluate(train, synthetic, holdout=holdout, detection=False)
    assert few.privacy.exact_copy_rate == few.privacy.holdout_copy_rate == pytest.approx(1.0)
    assert few.to_dict()["privacy"]["holdout_copy_rate"] == pytest.approx(1.0)
    assert any("no more than chance" in line for line in plain_reading(few))
    assert not any("are exact copies" in line for line in plain_reading(few))
    assert any(line.startswith("Warning: 400 real row(s)") and "by chance" in line for line in plain_reading(few))
    real, fresh = _patients(400, 1), _patients(200, 2)
    copied = evaluate(real, real.iloc[:100].copy(), holdout=fresh, detection=False)  # copies beyond chance
    assert copied.privacy.holdout_copy_rate < 0.05 and copied.privacy.exact_copy_rate == 1.0
    assert any(line.startswith("Warning: 100.0% of synthetic rows are exact copies") and "chance level" in line
               for line in plain_reading(copied))
    assert evaluate(real, fresh, detection=False).privacy.holdout_copy_rate is None


def test_the_training_rows_are_hashed_once_and_the_copy_rates_match_exact_copy_rate(monkeypatch) -> None:
    """The holdout's copy rate hashed every training row a second time."""
    from syntho_hive.validation import privacy

    rng = np.random.default_rng(7)
    train, holdout = _patients(300, 1), _patients(150, 2)
    synthetic = pd.concat([train.sample(40, random_state=3), _patients(160, 4), holdout.iloc[:20]],
                          ignore_index=True).sample(frac=1.0, random_state=int(rng.integers(1000)))
    calls = []
    row_keys = privacy.row_keys
    monkeypatch.setattr(privacy, "row_keys", lambda frame, *a: calls.append(len(frame)) or row_keys(frame, *a))
    result = privacy_metrics(train, synthetic, holdout, seed=0)
    assert sorted(calls) == sorted([len(train), len(synthetic), len(holdout)])
    monkeypatch.setattr(privacy, "row_keys", row_keys)
    rate, copies = exact_copy_rate(train, synthetic)
    assert (result.exact_copy_rate, result.exact_copies) == (rate, copies) and copies >= 40
    assert result.holdout_copy_rate == exact_copy_rate(train, holdout)[0]


def test_rows_reproduced_with_their_text_are_not_put_down_to_chance() -> None:
    """Whole rows compare the text columns too, the holdout's copy rate does not: 50 real rows copied with their
    unique notes were read as "repeat rows by chance" because qty 1-4 alone repeats."""
    from syntho_hive.validation import evaluate
    from syntho_hive.validation.report.disclosure import disclosure_reading

    def visits(n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"qty": rng.integers(1, 5, n), "notes": [f"visit {seed}-{i}: pain after surgery {i}"
                                                                     for i in range(n)]})

    train = visits(400, 1)
    synthetic = pd.concat([train.iloc[:50], visits(350, 3)], ignore_index=True)
    result = evaluate(train, synthetic, holdout=visits(100, 2), detection=False,
                      sdtypes={"qty": "categorical", "notes": "text"})
    assert result.privacy.real_rows_reproduced == 50 and result.privacy.holdout_copy_rate == pytest.approx(1.0)
    warning = [line for line in disclosure_reading(result) if line.startswith("Warning: 50 real row(s)")]
    assert len(warning) == 1 and "chance" not in warning[0]
