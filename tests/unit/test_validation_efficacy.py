"""ML efficacy: train on synthetic, test on real, against train on real."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from syntho_hive.exceptions import SchemaError
from syntho_hive.validation import ml_efficacy


def _loans(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5, 0.4, n)
    debt = rng.uniform(0, 1, n) * income
    grade = np.where(debt / income < 0.3, "A", np.where(debt / income < 0.7, "B", "C"))
    default = rng.random(n) < np.where(grade == "C", 0.7, 0.1)
    return pd.DataFrame({"loan_id": np.arange(n), "income": income, "debt": debt, "grade": grade,
                         "default": default})


SDTYPES = {"loan_id": "id", "income": "numerical", "debt": "numerical", "grade": "categorical",
           "default": "boolean"}


def test_faithful_synthetic_data_is_as_useful_as_real() -> None:
    result = ml_efficacy(_loans(1500, 0), _loans(1500, 1), "grade", _loans(800, 2), SDTYPES, seed=0)
    assert result.task == "classification" and result.metric == "macro_f1"
    assert result.real_score > 0.9
    assert result.ratio is not None and result.ratio > 0.95
    assert result.holdout == "given" and result.n_test == 800


def test_synthetic_data_without_the_signal_is_not_useful() -> None:
    real = _loans(1500, 3)
    useless = _loans(1500, 4)
    useless["grade"] = np.random.default_rng(5).permutation(useless["grade"].to_numpy())
    result = ml_efficacy(real, useless, "grade", _loans(800, 6), SDTYPES, seed=0)
    assert result.ratio is not None and result.ratio < 0.6


def test_regression_target_uses_r2_and_split_holdout() -> None:
    result = ml_efficacy(_loans(1200, 7), _loans(1200, 8), "debt", sdtypes=SDTYPES, seed=1, test_size=0.25)
    assert result.task == "regression" and result.metric == "r2"
    assert result.holdout == "split" and result.n_test == 300 and result.n_train_real == 900
    assert result.real_score > 0.3 and result.synthetic_score > 0.3


def test_single_class_synthetic_training_set_is_noted() -> None:
    synthetic = _loans(300, 9).assign(grade="A")
    result = ml_efficacy(_loans(600, 10), synthetic, "grade", sdtypes=SDTYPES)
    assert any("single class" in note for note in result.notes)
    assert result.synthetic_score < result.real_score


@pytest.mark.parametrize(("target", "message"), [("nope", "not a column"), ("loan_id", "sdtype 'id'")])
def test_bad_target_is_a_schema_error(target: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        ml_efficacy(_loans(50, 0), _loans(50, 1), target, sdtypes=SDTYPES)


def _noisy(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2, kind = rng.normal(size=n), rng.normal(size=n), rng.choice(list("abcd"), n)
    y = x1 + 0.5 * x2**2 + (kind == "a") + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "kind": kind, "y": y})


def test_without_a_holdout_the_figure_is_marked_optimistic(tmp_path) -> None:
    """Without a holdout the test rows are split off the real data, which the generator trained on: a generator
    copying its 2,000 training rows scored a ratio of 1.19 (1.00 with a genuine holdout), and nothing in the result,
    the JSON or the HTML said the figure was optimistic."""
    from syntho_hive.validation import ValidationReport

    real, fresh = _noisy(2000, 1), _noisy(2000, 2)
    copied = real.assign(y=real["y"] + np.random.default_rng(5).normal(scale=0.01, size=2000))
    split = ml_efficacy(real, copied, "y")
    given = ml_efficacy(real, copied, "y", holdout=fresh)
    assert split.ratio > 1.1 and abs(given.ratio - 1) < 0.05  # the bias the note warns about
    assert split.holdout == "split" and any("optimistic" in note for note in split.notes)
    assert given.holdout == "given" and not any("optimistic" in note for note in given.notes)
    html = ValidationReport().generate(real, copied, tmp_path / "r.html", target="y", detection=False,
                                       privacy=False).read_text()
    payload = json.loads((tmp_path / "r.json").read_text())
    assert any("optimistic" in note for note in payload["tables"]["table"]["ml_efficacy"]["notes"])
    assert any("optimistic" in line for line in payload["report"]["reading"])
    assert "No holdout was given, so the efficacy test rows" in html
