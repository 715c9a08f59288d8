"""Sampling quality gates: the training-marginal profile, its sketch accuracy, the ``sample_quality``
event, ``return_metrics``, ``quality_threshold`` and the profile in checkpoints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.checkpoint import CheckpointFiles
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models import CTGAN
from syntho_hive.core.quality import MarginalProfile, SampleQuality, apply_quality_gate, check_gate_arguments
from syntho_hive.core.quality.shapes import ks_complement, tv_complement
from syntho_hive.core.quality.profile import _quantile_sketch, _sketch_ks
from syntho_hive.exceptions import GenerationError, QualityError, SchemaError, SerializationError

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


def test_threshold_above_one_fails_every_column(fitted: CTGAN) -> None:
    with capture_logs() as logs, pytest.raises(QualityError) as info:
        fitted.sample(100, seed=3, quality_threshold=1.01)
    error = info.value
    assert set(error.failures) == set(SCORED)
    assert error.threshold == 1.01
    logged = next(e for e in logs if e["event"] == "sample_quality")["column_scores"]
    assert error.failures == pytest.approx(logged, abs=1e-6)
    message = str(error)
    assert "5 of 5 column(s) of table 'customers'" in message and "1.01" in message
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
])
def test_bad_gate_arguments_fail_before_sampling(fitted: CTGAN, kwargs: dict, fragment: str) -> None:
    with capture_logs() as logs, pytest.raises(GenerationError, match=fragment):
        fitted.sample(50, seed=1, **kwargs)
    assert not [e for e in logs if e["event"] in ("sampling_complete", "sample_quality")]


# ----------------------------------------------------------------------------- checkpoints
def test_profile_survives_save_and_load(fitted: CTGAN, saved: Path) -> None:
    assert (saved / CheckpointFiles.REFERENCE_PROFILE).is_file()
    manifest = json.loads((saved / CheckpointFiles.METADATA).read_text())
    assert CheckpointFiles.REFERENCE_PROFILE in manifest["files"]
    fresh = CTGAN().load(saved)
    assert fresh.reference_profile_ == fitted.reference_profile_
    data, metrics = fresh.sample(150, seed=8, return_metrics=True)
    expected_data, expected = fitted.sample(150, seed=8, return_metrics=True)
    pd.testing.assert_frame_equal(data, expected_data)
    assert metrics == expected


def test_profile_holds_no_raw_training_values(customers: pd.DataFrame, saved: Path) -> None:
    text = (saved / CheckpointFiles.REFERENCE_PROFILE).read_text()
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


def test_checkpoint_without_profile_loads_and_gates_fail_clearly(saved: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(saved, old)
    (old / CheckpointFiles.REFERENCE_PROFILE).unlink()
    manifest = json.loads((old / CheckpointFiles.METADATA).read_text())
    del manifest["files"][CheckpointFiles.REFERENCE_PROFILE]
    (old / CheckpointFiles.METADATA).write_text(json.dumps(manifest))
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
    path = broken / CheckpointFiles.REFERENCE_PROFILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="reference_profile.json failed its checksum"):
        CTGAN().load(broken)


# ----------------------------------------------------------------------------- the profile itself
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


def test_large_samples_are_scored_on_a_stride_close_to_the_full_score() -> None:
    from syntho_hive.core.quality import MarginalProfile
    from syntho_hive.core.quality.gates import MAX_SCORED_ROWS, score_sample

    rng = np.random.default_rng(4)
    real = pd.DataFrame({"x": rng.lognormal(3, 1, 5_000), "c": rng.choice(list("abcd"), 5_000)})
    big = pd.DataFrame({"x": rng.lognormal(3.1, 1, 3 * MAX_SCORED_ROWS),
                        "c": rng.choice(list("abcd"), 3 * MAX_SCORED_ROWS, p=[0.4, 0.3, 0.2, 0.1])})
    profile = MarginalProfile.from_frame(real, {"x": "numerical", "c": "categorical"})
    quality = score_sample(big, profile)
    full = profile.column_scores(big)
    assert quality.rows == len(big)
    assert all(abs(quality.column_shapes[c] - full[c]) < 0.01 for c in full)


def _reference_sketch_ks(quantiles: np.ndarray, synthetic: np.ndarray) -> float:
    """Brute force: both CDFs and their left limits at every knot and every synthetic value, point by point.

    The sketch's CDF is 0 below its first knot, 1 above its last, steps at each knot from the share of
    quantiles below it to the share at or below it (to 0 / 1 at a tied first / last knot), and is
    linear from one knot's value to the next knot's left limit.
    """
    k = len(quantiles)
    knots = sorted(set(quantiles.tolist()))
    # Quantile i of k stands for probability (i + 0.5) / k.
    below = [(sum(q < u for q in quantiles) + 0.5) / k for u in knots]
    at = [(sum(q <= u for q in quantiles) - 0.5) / k for u in knots]
    if sum(q == knots[0] for q in quantiles) > 1:
        below[0] = 0.0
    if sum(q == knots[-1] for q in quantiles) > 1:
        at[-1] = 1.0

    def sketch(x: float, left: bool) -> float:
        if x < knots[0] or (left and x == knots[0]):
            return 0.0
        if x > knots[-1]:
            return 1.0
        if x in knots and not left:
            return at[knots.index(x)]
        j = max(i for i, u in enumerate(knots) if u < x)
        return at[j] + (x - knots[j]) / (knots[j + 1] - knots[j]) * (below[j + 1] - at[j])

    values = sorted(synthetic.tolist())
    m = len(values)
    worst = 0.0
    for x in set(knots) | set(values):
        worst = max(worst, abs(sketch(x, False) - sum(v <= x for v in values) / m),
                    abs(sketch(x, True) - sum(v < x for v in values) / m))
    return worst


@pytest.mark.parametrize("kind", ["continuous", "few integers", "constant sketch", "rounded", "point mass"])
def test_sketch_ks_is_exactly_the_evaluation_at_every_point(kind: str) -> None:
    """The KS statistic reads each distinct synthetic value once, and is still the supremum over every point."""
    rng = np.random.default_rng(len(kind))
    for _ in range(12):
        n, m = int(rng.integers(2, 300)), int(rng.integers(1, 300))
        real, synthetic = {
            "continuous": (rng.normal(size=n), rng.normal(0.2, 1.1, size=m)),
            "few integers": (rng.integers(0, 5, n).astype(float), rng.integers(-1, 6, m).astype(float)),
            "constant sketch": (np.full(n, 3.0), rng.choice([2.0, 3.0, 4.0], m)),
            "rounded": (rng.exponential(size=n).round(1), rng.exponential(size=m).round(1)),
            "point mass": (np.r_[np.zeros(n // 2), rng.normal(size=n - n // 2)],
                           np.r_[np.zeros(m // 3), rng.normal(size=m - m // 3)]),
        }[kind]
        quantiles = _quantile_sketch(real, 1000)
        assert _sketch_ks(quantiles, synthetic) == pytest.approx(_reference_sketch_ks(quantiles, synthetic), abs=1e-12)
