"""Detection AUC: indistinguishable data near 0.5, broken joint structure easily detected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive.exceptions import SchemaError
from syntho_hive.validation import detection_auc


def _orders(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    quantity = rng.integers(1, 6, n)
    price = np.round(rng.gamma(3.0, 12.0, n), 2)
    channel = rng.choice(["web", "store", "phone"], n, p=[0.6, 0.3, 0.1])
    total = quantity * price * np.where(channel == "web", 0.95, 1.0)
    return pd.DataFrame({"quantity": quantity, "price": price, "total": total, "channel": channel})


def test_same_distribution_is_near_chance() -> None:
    result = detection_auc(_orders(1500, 0), _orders(1500, 1), seed=0, max_iter=30)
    assert 0.4 < result.auc < 0.62
    assert result.score > 0.75
    assert result.n_rows_per_class == 1500 and not result.rows_sampled


def test_independent_columns_are_detected() -> None:
    real = _orders(1500, 2)
    rng = np.random.default_rng(3)
    broken = real.copy()
    broken["total"] = rng.permutation(broken["total"].to_numpy())  # marginals intact, joint broken
    result = detection_auc(real, broken, seed=0, max_iter=30)
    assert result.auc > 0.85
    assert result.score < 0.3


def test_seeded_and_sampled() -> None:
    real, synthetic = _orders(900, 4), _orders(700, 5)
    first = detection_auc(real, synthetic, max_rows=400, seed=3, max_iter=20)
    second = detection_auc(real, synthetic, max_rows=400, seed=3, max_iter=20)
    assert first == second
    assert first.rows_sampled and first.n_rows_per_class == 400


def test_too_few_rows_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="at least 30 rows"):
        detection_auc(_orders(2, 0), _orders(2, 1))


def test_copied_rows_score_chance_not_below_it() -> None:
    """A synthetic copy of a real row used to sit in another fold than its twin, so the classifier learnt
    each row with the wrong label: a table against itself scored an AUC of ~0.2 (far *below* 0.5)."""
    real = _orders(1500, 0)
    for copy in (real.copy(), real.sample(frac=1, random_state=1).reset_index(drop=True)):
        result = detection_auc(real, copy, seed=0, max_iter=30)
        assert 0.45 <= result.auc <= 0.55 and result.score > 0.9
    # Half copied, half fresh: still near chance, the fresh half as in the same-distribution test.
    mixed = pd.concat([real.iloc[:750], _orders(750, 5)], ignore_index=True)
    assert 0.4 < detection_auc(real, mixed, seed=0, max_iter=30).auc < 0.62


def _shifted_pair(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Real rows and synthetic rows three standard deviations away: plainly detectable."""
    rng = np.random.default_rng(n)
    real = pd.DataFrame({"x": rng.normal(size=n), "kind": rng.choice(["a", "b"], n)})
    return real, real.assign(x=rng.normal(size=n) + 3.0)


def test_tables_too_small_for_the_classifier_to_split_are_refused_not_scored_chance(tmp_path) -> None:
    """With 5 or 20 rows per side no training fold reached two leaves of 20 rows: the classifier predicted a
    constant and the AUC was exactly 0.5 (ideal) even for plainly different data; evaluate() reported it."""
    from syntho_hive.validation import ValidationReport, evaluate
    from syntho_hive.validation.detection import min_detection_rows

    assert (min_detection_rows(), min_detection_rows(2), min_detection_rows(10)) == (30, 40, 23)
    for n in (5, 20, min_detection_rows() - 1):
        with pytest.raises(SchemaError, match="at least 30 rows per table with n_folds=3.* cannot split"):
            detection_auc(*_shifted_pair(n))
    assert detection_auc(*_shifted_pair(min_detection_rows())).auc > 0.8  # from 30 rows on it does see
    real, synthetic = _shifted_pair(20)
    result = evaluate(real, synthetic, privacy=False)
    assert result.detection_auc is None and result.tables["table"].detection is None
    reason = result.to_dict()["tables"]["table"]["skipped"]["detection"]
    assert reason.startswith("needs at least 30 rows per side, got 20")
    html = ValidationReport().generate(real, synthetic, tmp_path / "r.html", privacy=False).read_text()
    assert "Detection skipped: needs at least 30 rows per side" in html
