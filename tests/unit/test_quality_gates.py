"""Sampling quality gates in a model: the ``sample_quality`` event, ``return_metrics``,
``quality_threshold`` and the profile in checkpoints (the profile itself, its sketch and the gate
helpers: ``test_reference_profile.py``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models import CTGAN
from syntho_hive.core.quality import SampleQuality
from syntho_hive.core.quality.shapes import ks_complement, tv_complement
from syntho_hive.exceptions import GenerationError, QualityError, SerializationError

SMALL = dict(embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32, 32), batch_size=100,
             epochs=2, max_modes=3)
SCORED = ["age", "income", "city", "active", "signup"]


def make_customers(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5, 0.4, n)
    income[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "age": rng.integers(18, 80, n),
        "income": income,
        "city": rng.choice(["Boston", "Denver", "Austin", "Seattle"], n, p=[0.5, 0.25, 0.2, 0.05]),
        "active": rng.random(n) < 0.8,
        "signup": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
    })


def make_metadata() -> Metadata:
    return Metadata().add_table(
        "customers", pk="customer_id",
        columns={"customer_id": "id", "age": "numerical", "income": "numerical", "city": "categorical",
                 "active": "boolean", "signup": "datetime"})


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return make_customers()


@pytest.fixture(scope="module")
def fitted(customers: pd.DataFrame) -> CTGAN:
    return CTGAN(make_metadata(), **SMALL).fit(customers, seed=4, progress_bar=False)


@pytest.fixture(scope="module")
def saved(fitted: CTGAN, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fitted.save(tmp_path_factory.mktemp("gates") / "model")


# ----------------------------------------------------------------------------- the model's gates
def test_every_sample_logs_per_column_scores(fitted: CTGAN) -> None:
    with capture_logs() as logs:
        frame = fitted.sample(200, seed=1)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 200
    events = [e for e in logs if e["event"] == "sample_quality"]
    assert len(events) == 1
    event = events[0]
    assert list(event["column_scores"]) == SCORED  # the id column has no shape score
    assert all(0.0 <= s <= 1.0 for s in event["column_scores"].values())
    assert event["overall"] == pytest.approx(np.mean(list(event["column_scores"].values())), abs=1e-5)
    assert event["table"] == "customers" and event["model"] == "CTGAN" and event["rows"] == 200


def test_return_metrics_gives_the_frame_and_typed_scores(fitted: CTGAN, customers: pd.DataFrame) -> None:
    data, metrics = fitted.sample(400, seed=2, return_metrics=True)
    pd.testing.assert_frame_equal(data, fitted.sample(400, seed=2))  # same rows as the plain call
    assert isinstance(metrics, SampleQuality)
    assert list(metrics.column_shapes) == SCORED
    assert metrics.overall == pytest.approx(np.mean(list(metrics.column_shapes.values())))
    assert metrics.to_dict() == {"column_shapes": metrics.column_shapes, "overall": metrics.overall, "rows": 400}
    json.dumps(metrics.to_dict())
    # The sketch scores agree with the exact scores against the raw training rows.
    for column in ("age", "income", "signup"):
        assert metrics.column_shapes[column] == pytest.approx(ks_complement(customers[column], data[column]),
                                                              abs=0.03)
    for column in ("city", "active"):
        assert metrics.column_shapes[column] == pytest.approx(tv_complement(customers[column], data[column]),
                                                              abs=1e-12)


def test_threshold_zero_passes_and_returns_a_frame(fitted: CTGAN) -> None:
    frame = fitted.sample(100, seed=3, quality_threshold=0.0)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 100


def test_threshold_one_fails_every_column(fitted: CTGAN) -> None:
    with capture_logs() as logs, pytest.raises(QualityError) as info:
        fitted.sample(100, seed=3, quality_threshold=1)
    error = info.value
    assert set(error.failures) == set(SCORED)
    assert error.threshold == 1.0
    logged = next(e for e in logs if e["event"] == "sample_quality")["column_scores"]
    assert error.failures == pytest.approx(logged, abs=1e-6)
    message = str(error)
    assert "5 of 5 column(s) of table 'customers'" in message and "threshold 1 " in message
    for column in SCORED:
        assert repr(column) in message


def test_threshold_names_only_the_failing_columns(fitted: CTGAN) -> None:
    _, metrics = fitted.sample(300, seed=5, return_metrics=True)
    cut = sorted(metrics.column_shapes.values())[1] + 1e-9  # the two lowest columns fail
    with pytest.raises(QualityError) as info:
        fitted.sample(300, seed=5, quality_threshold=cut)
    worst = sorted(metrics.column_shapes, key=metrics.column_shapes.get)[:2]
    assert sorted(info.value.failures) == sorted(worst)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"return_metrics": "yes"}, "return_metrics must be True or False"),
    ({"quality_threshold": "0.8"}, "quality_threshold must be a number"),
    ({"quality_threshold": float("nan")}, "quality_threshold must be a number"),
    ({"quality_threshold": True}, "quality_threshold must be a number"),
    ({"quality_threshold": 1.01}, r"quality_threshold must be a number in \[0, 1\].*1\.01"),  # was a QualityError
    ({"quality_threshold": -0.5}, r"quality_threshold must be a number in \[0, 1\].*-0\.5"),  # passed every sample
])
def test_bad_gate_arguments_fail_before_sampling(fitted: CTGAN, kwargs: dict, fragment: str) -> None:
    with capture_logs() as logs, pytest.raises(GenerationError, match=fragment):
        fitted.sample(50, seed=1, **kwargs)
    assert not [e for e in logs if e["event"] in ("sampling_complete", "sample_quality")]


# ----------------------------------------------------------------------------- checkpoints
def test_profile_survives_save_and_load(fitted: CTGAN, saved: Path) -> None:
    assert (saved / "reference_profile.json").is_file()
    manifest = json.loads((saved / "metadata.json").read_text())
    assert "reference_profile.json" in manifest["files"]
    fresh = CTGAN().load(saved)
    assert fresh.reference_profile_ == fitted.reference_profile_
    data, metrics = fresh.sample(150, seed=8, return_metrics=True)
    expected_data, expected = fitted.sample(150, seed=8, return_metrics=True)
    pd.testing.assert_frame_equal(data, expected_data)
    assert metrics == expected


def test_profile_holds_no_raw_training_values(customers: pd.DataFrame, saved: Path) -> None:
    text = (saved / "reference_profile.json").read_text()
    profile = json.loads(text)
    incomes = customers["income"].dropna()
    assert incomes.is_unique
    stored = set(profile["columns"]["income"]["quantiles"])
    assert stored.isdisjoint(set(incomes.tolist()))  # no stored quantile is a training income
    for value in (incomes.iloc[17], incomes.min(), incomes.max()):
        assert repr(float(value)) not in text
    assert "customer_id" not in profile["columns"]  # ids are not profiled at all
    assert str(customers["customer_id"].iloc[5]) not in text
    # Small table: at most one quantile per five records.
    assert len(stored) <= incomes.size // 5
    assert {value for value, _ in profile["columns"]["city"]["categories"]} == set(customers["city"])


def test_checkpoint_without_profile_loads_and_gates_fail_clearly(saved: Path, edit_manifest: Callable[..., dict],
                                                                 tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(saved, old)
    (old / "reference_profile.json").unlink()
    edit_manifest(old, lambda manifest: manifest["files"].pop("reference_profile.json"))
    model = CTGAN().load(old)
    assert model.reference_profile_ is None
    with capture_logs() as logs:
        assert len(model.sample(20, seed=1)) == 20
    assert not [e for e in logs if e["event"] == "sample_quality"]
    for kwargs in ({"return_metrics": True}, {"quality_threshold": 0.5}):
        with pytest.raises(GenerationError, match="no reference profile.*Fit the model again"):
            model.sample(20, seed=1, **kwargs)


def test_corrupt_profile_is_reported(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(saved, broken)
    path = broken / "reference_profile.json"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="reference_profile.json failed its checksum"):
        CTGAN().load(broken)
