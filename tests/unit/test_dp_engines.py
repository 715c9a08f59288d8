"""What every engine fitted under differential privacy guarantees (TabularAR and TVAE alike): the budget
spent, seeded reproducibility, the training schema, no rare value or raw extreme in the checkpoint, the
spent budget kept by save/load and reported in events, refusals before any work, and one DP preprocessing
for a check of the release followed by the fit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.dp import DPConfig, PrivacySpent
from syntho_hive.core.metadata.schema import Inequality, Metadata
from syntho_hive.core.models import TVAE, ConditionalGenerativeModel
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.exceptions import GenerationError, PrivacyError, SerializationError
from dp_people import RARE, make_people

ENGINES: dict[str, tuple[type[ConditionalGenerativeModel], dict[str, Any]]] = {
    "TabularAR": (TabularAR, dict(hidden_dim=16, epochs=2)),
    "TVAE": (TVAE, dict(compress_dims=(32,), decompress_dims=(32,), embedding_dim=8, batch_size=100, epochs=2)),
}


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return make_people()


@pytest.fixture(scope="module", params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> tuple[type[ConditionalGenerativeModel], dict[str, Any]]:
    return ENGINES[request.param]


@pytest.fixture(scope="module")
def fitted(engine, people: pd.DataFrame) -> ConditionalGenerativeModel:
    cls, small = engine
    return cls(dp=DPConfig(max_epsilon=4.0), **small).fit(people, seed=3, progress_bar=False)


def test_spent_budget_is_within_and_close_to_max_epsilon(fitted) -> None:
    spent = fitted.privacy_spent_
    assert isinstance(spent, PrivacySpent)
    assert spent.epsilon <= 4.0 and spent.epsilon == pytest.approx(4.0, rel=1e-3)
    assert spent.delta == 1e-5 and spent.steps > 0 and spent.epochs == pytest.approx(2.0, rel=0.1)
    assert spent.epsilon_preprocessing == pytest.approx(0.3 * 4.0, rel=1e-3)
    assert spent.preprocessing_queries == 6  # age, income, city, active, joined (years, time parts); ids: none
    assert fitted.reference_profile_ is None
    losses = ("train_loss", "val_loss", "loss", "reconstruction", "kl")
    assert all(record["epsilon"] <= 4.0 and all(record.get(k) is None for k in losses) for record in fitted.history_)


def test_dp_samples_are_reproducible_and_fits_too(engine, fitted, people: pd.DataFrame) -> None:
    cls, small = engine
    first = fitted.sample(300, seed=5, progress_bar=False)
    pd.testing.assert_frame_equal(first, fitted.sample(300, seed=5, progress_bar=False))
    again = cls(dp=DPConfig(max_epsilon=4.0), **small).fit(people, seed=3, progress_bar=False)
    pd.testing.assert_frame_equal(first, again.sample(300, seed=5, progress_bar=False))
    other = cls(dp=DPConfig(max_epsilon=4.0), **small).fit(people, seed=4, progress_bar=False)
    assert not first.equals(other.sample(300, seed=5, progress_bar=False))


def test_dp_sample_has_the_training_schema(fitted, people: pd.DataFrame) -> None:
    out = fitted.sample(2000, seed=1, progress_bar=False)
    assert list(out.columns) == list(people.columns) and out.dtypes.to_dict() == people.dtypes.to_dict()
    assert out["person_id"].is_unique and out["person_id"].min() == 1  # ids from the dtype, not the data
    assert set(out["city"].dropna()) <= {"Boston", "Denver", "Austin"}  # never a rare city
    assert out["income"].notna().all()  # five missing values are below the noisy count threshold
    assert out["joined"].dt.year.between(2021, 2023).all()


def test_rare_values_and_raw_extremes_never_reach_the_checkpoint(fitted, people: pd.DataFrame,
                                                                 tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "dp")
    blob = b"".join(f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file())
    for value in RARE + [str(people["income"].max()), str(people["income"].min()), str(people["person_id"].max())]:
        # As a whole number, not inside another one (an epoch's "seconds": 1.5599...).
        assert not re.search(rb"(?<![\d.])" + re.escape(value.encode()) + rb"(?![\d])", blob), value


def test_save_load_keeps_the_privacy_spent(engine, fitted, tmp_path: Path) -> None:
    cls, _ = engine
    path = fitted.save(tmp_path / "dp")
    manifest = json.loads((path / "metadata.json").read_text())
    assert manifest["extra"]["dp"]["epsilon"] == fitted.privacy_spent_.epsilon
    assert manifest["hyper_parameters"]["dp"] == DPConfig(max_epsilon=4.0).to_dict()
    loaded = cls().load(path)
    assert loaded.dp == DPConfig(max_epsilon=4.0) and loaded.privacy_spent_ == fitted.privacy_spent_
    pd.testing.assert_frame_equal(loaded.sample(200, seed=9, progress_bar=False),
                                  fitted.sample(200, seed=9, progress_bar=False))
    assert cls.from_bytes(fitted.to_bytes()).privacy_spent_ == fitted.privacy_spent_
    del manifest["extra"]["dp"]  # a manifest that lost the record of the spent budget is refused
    (path / "metadata.json").write_text(json.dumps(manifest))
    with pytest.raises(SerializationError):
        cls().load(path)


def test_sample_events_carry_the_spent_epsilon_and_gates_are_refused(fitted) -> None:
    with capture_logs() as logs:
        fitted.sample(10, seed=0, progress_bar=False)
    done = [e for e in logs if e["event"] == "sampling_complete"]
    assert done and done[0]["dp_epsilon"] == fitted.privacy_spent_.epsilon and done[0]["dp_delta"] == 1e-5
    for kwargs in (dict(return_metrics=True), dict(quality_threshold=0.5)):
        with pytest.raises(GenerationError, match="differential privacy"):
            fitted.sample(10, seed=0, **kwargs)


def test_dp_refusals_come_before_any_work(engine, people: pd.DataFrame, tmp_path: Path) -> None:
    cls, _ = engine
    with pytest.raises(PrivacyError, match="checkpoint_dir"):
        cls(dp=DPConfig(max_epsilon=1.0)).fit(people, checkpoint_dir=tmp_path / "c", progress_bar=False)
    assert not (tmp_path / "c").exists()
    with pytest.raises(PrivacyError, match="less than one epoch"):
        cls(dp=DPConfig(max_epsilon=0.05, noise_multiplier=0.3)).fit(people, progress_bar=False)
    text = people.assign(note=[f"free text number {i} about things" for i in range(len(people))])
    meta = Metadata.detect(text, "people")
    meta.tables["people"].columns["note"] = "text"
    with pytest.raises(PrivacyError, match="free-text"):
        cls(meta, dp=DPConfig(max_epsilon=1.0)).fit(text, progress_bar=False)
    constrained = Metadata.detect(people, "people")
    constrained.tables["people"].inequalities.append(Inequality(low="age", high="income"))
    with pytest.raises(PrivacyError, match="constraints"):
        cls(constrained, dp=DPConfig(max_epsilon=1.0)).fit(people, progress_bar=False)
    with pytest.raises(PrivacyError, match="bounds"):
        cls(dp=DPConfig(max_epsilon=1.0, bounds={"city": (0, 1)})).fit(people, progress_bar=False)


def test_a_numeric_column_with_no_released_bucket_is_refused_at_fit(engine) -> None:
    """20 rows of distinct prices: no bucket of the noisy histogram reaches the count threshold, so the
    column has no released range. It used to fit and then fail to sample (an IndexError in TabularAR's
    codec; TVAE generated zeros). Declared bounds give it the range instead."""
    cls, small = engine
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"sku": [f"S{i:03d}" for i in range(20)], "price": np.round(rng.uniform(4, 97, 20), 2)})
    meta = Metadata().add_table("products", pk="sku")
    with pytest.raises(PrivacyError, match=r"table 'products', column 'price': no bucket .* DPConfig\.bounds"):
        cls(meta, dp=DPConfig(max_epsilon=1.7), **small).fit(frame, table_name="products", seed=0,
                                                              progress_bar=False)
    bounded = DPConfig(max_epsilon=1.7, bounds={"price": (0.0, 100.0)})
    model = cls(meta, dp=bounded, **small).fit(frame, table_name="products", seed=0, progress_bar=False)
    assert model.sample(5, seed=0)["price"].between(0.0, 100.0).all()


def test_a_datetime_column_with_no_released_year_is_refused_at_fit(engine) -> None:
    """20 rows over 20 different years: no year's noisy count reaches the threshold. It used to fall back to the
    year 2000 silently (every generated date in 2000); it is refused like a numeric column, and declared bounds
    give it the range instead."""
    cls, small = engine
    frame = pd.DataFrame({"sku": [f"S{i:03d}" for i in range(20)],
                          "launched": pd.to_datetime([f"{1990 + i}-03-01" for i in range(20)])})
    meta = Metadata().add_table("products", pk="sku")
    with pytest.raises(PrivacyError, match=r"table 'products', column 'launched': no year .* DPConfig\.bounds"):
        cls(meta, dp=DPConfig(max_epsilon=1.7), **small).fit(frame, table_name="products", seed=0,
                                                              progress_bar=False)
    bounded = DPConfig(max_epsilon=1.7, bounds={"launched": ("1990-01-01", "2010-12-31")})
    model = cls(meta, dp=bounded, **small).fit(frame, table_name="products", seed=0, progress_bar=False)
    years = model.sample(20, seed=0)["launched"].dt.year
    assert years.between(1990, 2010).all() and years.nunique() > 1


def counted_prepare(monkeypatch: pytest.MonkeyPatch, cls: type[ConditionalGenerativeModel]) -> list[int]:
    calls: list[int] = []
    prepare = cls._prepare

    def wrapped(self: ConditionalGenerativeModel, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return prepare(self, *args, **kwargs)

    monkeypatch.setattr(cls, "_prepare", wrapped)
    return calls


def test_fit_after_check_dp_release_preprocesses_once_with_the_same_result(engine, fitted, people: pd.DataFrame,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A Synthesizer under DP checks every table's release before fitting any: the fit used to run the DP
    preprocessing again; it now trains the copy the check prepared, bit-identically."""
    cls, small = engine
    calls = counted_prepare(monkeypatch, cls)
    model = cls(dp=DPConfig(max_epsilon=4.0), **small)
    model.check_dp_release(people, seed=3)
    assert not model.is_fitted
    model.fit(people, seed=3, progress_bar=False)
    assert len(calls) == 1
    assert model.privacy_spent_ == fitted.privacy_spent_
    pd.testing.assert_frame_equal(model.sample(200, seed=5, progress_bar=False),
                                  fitted.sample(200, seed=5, progress_bar=False))


def test_a_fit_unlike_the_checked_one_preprocesses_again(engine, people: pd.DataFrame,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another seed, or the same frame changed in place since the check, is prepared afresh."""
    cls, small = engine
    calls = counted_prepare(monkeypatch, cls)
    model = cls(dp=DPConfig(max_epsilon=4.0), **small)
    model.check_dp_release(people, seed=3)
    model.fit(people, seed=4, progress_bar=False)
    assert len(calls) == 2
    changed = people.copy()
    model.check_dp_release(changed, seed=3)
    changed.iloc[0, 0] = changed.iloc[1, 0]
    model.fit(changed, seed=3, progress_bar=False)
    assert len(calls) == 4
    again = cls(dp=DPConfig(max_epsilon=4.0), **small).fit(changed, seed=3, progress_bar=False)
    pd.testing.assert_frame_equal(model.sample(200, seed=5, progress_bar=False),
                                  again.sample(200, seed=5, progress_bar=False))


@pytest.mark.parametrize("edit", ["object value of another type", "categories added", "categories ordered"])
def test_a_frame_edited_in_place_after_the_check_is_prepared_again(engine, monkeypatch: pytest.MonkeyPatch,
                                                                     edit: str) -> None:
    """Edits that keep every cell's text but change what preprocessing reads (a ``1`` becoming ``"1"``, a
    categorical's categories or order) are seen: the fit prepares the edited frame and samples as a fresh fit."""
    cls, small = engine
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(20, 70, 400),
                          "code": pd.Series(rng.choice([1, 2], 400), dtype=object),
                          "city": pd.Categorical(rng.choice(["Austin", "Boston", "Denver"], 400))})
    calls = counted_prepare(monkeypatch, cls)
    model = cls(dp=DPConfig(max_epsilon=4.0), **small)
    model.check_dp_release(frame, seed=3)
    if edit == "object value of another type":
        frame.loc[frame["code"] == 1, "code"] = "1"
    elif edit == "categories added":
        frame["city"] = frame["city"].cat.add_categories(["Zurich"])
    else:
        frame["city"] = frame["city"].cat.as_ordered()
    model.fit(frame, seed=3, progress_bar=False)
    assert len(calls) == 2
    fresh = cls(dp=DPConfig(max_epsilon=4.0), **small).fit(frame, seed=3, progress_bar=False)
    pd.testing.assert_frame_equal(model.sample(200, seed=5, progress_bar=False),
                                  fresh.sample(200, seed=5, progress_bar=False))
