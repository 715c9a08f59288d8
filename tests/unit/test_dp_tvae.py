"""TVAE under differential privacy (``TVAE(dp=DPConfig(...))``): the transformer fitted to stand-ins made
from noisy counts, the rows encoded cell by cell, DP-SGD on the encoder and decoder together, and the
privacy spent kept and reported like TabularAR's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.data.dp_standins import standin_frame
from syntho_hive.core.data.dp_transformer import dp_transform, fit_dp_transformer
from syntho_hive.core.data.encoders.numerical import NumericalEncoder
from syntho_hive.core.dp import DPConfig, PrivacySpent, plan_budget
from syntho_hive.core.metadata.schema import Inequality, Metadata
from syntho_hive.core.models import CTGAN, TVAE
from syntho_hive.exceptions import GenerationError, PrivacyError, SerializationError
from dp_people import RARE, make_people

pytest.importorskip("opacus")

SMALL = dict(compress_dims=(32,), decompress_dims=(32,), embedding_dim=8, batch_size=100, epochs=2)
SDTYPES = {"person_id": "id", "age": "numerical", "income": "numerical", "city": "categorical",
           "active": "boolean", "joined": "datetime"}


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return make_people()


@pytest.fixture(scope="module")
def dp_tvae(people: pd.DataFrame) -> TVAE:
    return TVAE(dp=DPConfig(max_epsilon=4.0), **SMALL).fit(people, seed=3, progress_bar=False)


def _plan(rows: int = 600, queries: int = 6) -> object:
    return plan_budget(DPConfig(max_epsilon=4.0), rows=rows, queries=queries, category_queries=1, batch_size=100,
                       epochs=2, rare_threshold=5)


# ----------------------------------------------------------------------------- preprocessing
def test_stand_ins_keep_dtypes_and_only_released_values() -> None:
    n = 800
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "tier": pd.Categorical(rng.choice(["gold", "silver", "bronze"], n), categories=["bronze", "silver", "gold",
                                                                                          "unused"]),
        "code": pd.array(rng.choice(["a", "b"], n), dtype="string"),
        "count": pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 9, n)), dtype="Int64"),
        "stamp": pd.Series(pd.Timestamp("2020-03-01", tz="Europe/Paris")
                           + pd.to_timedelta(rng.integers(0, 10_000, n), unit="h")),
        "day": (pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")).strftime("%d/%m/%Y"),
        "price": np.round(rng.uniform(1, 50, n), 2),
    })
    sdtypes = {"tier": "categorical", "code": "categorical", "count": "numerical", "stamp": "datetime",
               "day": "datetime", "price": "numerical"}
    standins, formats = standin_frame(frame, sdtypes, _plan(n), np.random.default_rng(0),
                                      datetime_formats={"day": "%d/%m/%Y"}, rows=2000)
    assert len(standins) == 2000 and formats == {"day": "%d/%m/%Y"}
    for column in frame.columns:
        want = frame[column].dtype
        if column == "tier":  # a category list is data: the unused one is not released
            assert list(standins[column].dtype.categories) == ["bronze", "silver", "gold"]
        else:
            assert standins[column].dtype == want, column
    assert standins["count"].isna().mean() == pytest.approx(0.3, abs=0.05)  # the noisy share of nulls
    assert standins["price"].round(2).equals(standins["price"])  # the number format is kept
    assert pd.to_datetime(standins["day"], format="%d/%m/%Y").dt.year.between(2019, 2020).all()


def test_each_row_is_encoded_from_its_own_cells_only(people: pd.DataFrame) -> None:
    plan = _plan()
    encoding = fit_dp_transformer(people, SDTYPES, plan, np.random.default_rng(0), seed=0, max_modes=5)
    first = dp_transform(encoding, people, SDTYPES, np.random.default_rng(7))
    changed = people.copy()
    changed.loc[100, ["age", "income", "city"]] = [33, 41_000.5, "Denver" if people.loc[100, "city"] != "Denver"
                                                   else "Boston"]
    second = dp_transform(encoding, changed, SDTYPES, np.random.default_rng(7))
    others = np.arange(len(people)) != 100
    np.testing.assert_array_equal(first[others], second[others])
    assert not np.array_equal(first[100], second[100])


def test_no_mixture_or_range_is_fitted_on_raw_values(people: pd.DataFrame) -> None:
    config = DPConfig(max_epsilon=4.0, epochs=1, bounds={"age": (18, 80)})
    model = TVAE(dp=config, **{**SMALL, "epochs": 1}).fit(people, seed=0, progress_bar=False)
    encoders = {e.column: e for e in model.transformer_.encoders_}
    age = encoders["age"]
    assert isinstance(age, NumericalEncoder) and (age.base, age.top) == (18, 80)  # the declared bounds
    income = encoders["income"]
    # the range comes from the noisy logarithmic grid (bucket edges), not from the raw extremes
    assert income.core.lo + income.base != people["income"].min()
    assert income.core.hi + income.base != people["income"].max()
    assert income.core.indicator is None  # five missing values: below the noisy count threshold
    out = model.sample(500, seed=0, progress_bar=False)
    assert out["age"].between(18, 80).all()


# ----------------------------------------------------------------------------- end to end
def test_spent_budget_is_within_and_close_to_max_epsilon(dp_tvae: TVAE) -> None:
    spent = dp_tvae.privacy_spent_
    assert isinstance(spent, PrivacySpent)
    assert spent.epsilon <= 4.0 and spent.epsilon == pytest.approx(4.0, rel=1e-3)
    assert spent.epsilon_preprocessing == pytest.approx(0.3 * 4.0, rel=1e-3)
    assert spent.preprocessing_queries == 6  # age, income, city, active, joined (years, time parts); ids: none
    assert spent.steps > 0 and spent.epochs == pytest.approx(2.0, rel=0.1)
    assert dp_tvae.reference_profile_ is None and dp_tvae.constraint_engine_ is None
    assert all(r["loss"] is None and r["epsilon"] <= 4.0 for r in dp_tvae.history_)


def test_fixed_noise_stops_training_at_the_budget(people: pd.DataFrame) -> None:
    config = DPConfig(max_epsilon=4.0, noise_multiplier=1.5, epochs=50)
    model = TVAE(dp=config, **SMALL).fit(people, seed=0, progress_bar=False)
    spent = model.privacy_spent_
    assert spent.epsilon <= 4.0 and 6 <= spent.steps < 50 * 6  # stopped before the planned epochs
    one_more = plan_budget(config, rows=600, queries=6, category_queries=1, batch_size=100, epochs=50,
                           rare_threshold=5).spent(spent.steps + 1)
    assert one_more.epsilon > 4.0


def test_dp_samples_are_reproducible_and_fits_too(dp_tvae: TVAE, people: pd.DataFrame) -> None:
    first = dp_tvae.sample(300, seed=5, progress_bar=False)
    pd.testing.assert_frame_equal(first, dp_tvae.sample(300, seed=5, progress_bar=False))
    again = TVAE(dp=DPConfig(max_epsilon=4.0), **SMALL).fit(people, seed=3, progress_bar=False)
    pd.testing.assert_frame_equal(first, again.sample(300, seed=5, progress_bar=False))
    other = TVAE(dp=DPConfig(max_epsilon=4.0), **SMALL).fit(people, seed=4, progress_bar=False)
    assert not first.equals(other.sample(300, seed=5, progress_bar=False))


def test_dp_sample_has_the_training_schema(dp_tvae: TVAE, people: pd.DataFrame) -> None:
    out = dp_tvae.sample(2000, seed=1, progress_bar=False)
    assert list(out.columns) == list(people.columns) and out.dtypes.to_dict() == people.dtypes.to_dict()
    assert out["person_id"].is_unique and out["person_id"].min() == 1  # ids from the dtype, not the data
    assert set(out["city"]) <= {"Boston", "Denver", "Austin"}
    assert out["income"].notna().all()
    assert out["joined"].dt.year.between(2021, 2023).all()


def test_rare_values_and_raw_extremes_never_reach_the_checkpoint(dp_tvae: TVAE, people: pd.DataFrame,
                                                                 tmp_path: Path) -> None:
    path = dp_tvae.save(tmp_path / "dp")
    blob = b"".join(f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file())
    for value in RARE + [str(people["income"].max()), str(people["income"].min()), str(people["person_id"].max())]:
        # As a whole number, not inside another one (an epoch's "seconds": 1.5599...).
        assert not re.search(rb"(?<![\d.])" + re.escape(value.encode()) + rb"(?![\d])", blob), value


def test_save_load_keeps_the_privacy_spent(dp_tvae: TVAE, tmp_path: Path) -> None:
    path = dp_tvae.save(tmp_path / "dp")
    manifest = json.loads((path / "metadata.json").read_text())
    assert manifest["extra"]["dp"]["epsilon"] == dp_tvae.privacy_spent_.epsilon
    assert manifest["hyper_parameters"]["dp"] == DPConfig(max_epsilon=4.0).to_dict()
    loaded = TVAE().load(path)
    assert loaded.dp == DPConfig(max_epsilon=4.0) and loaded.privacy_spent_ == dp_tvae.privacy_spent_
    pd.testing.assert_frame_equal(loaded.sample(200, seed=9, progress_bar=False),
                                  dp_tvae.sample(200, seed=9, progress_bar=False))
    assert TVAE.from_bytes(dp_tvae.to_bytes()).privacy_spent_ == dp_tvae.privacy_spent_
    del manifest["extra"]["dp"]  # a manifest that lost the record of the spent budget is refused
    (path / "metadata.json").write_text(json.dumps(manifest))
    with pytest.raises(SerializationError):
        TVAE().load(path)


def test_sample_events_carry_the_spent_epsilon_and_gates_are_refused(dp_tvae: TVAE) -> None:
    with capture_logs() as logs:
        dp_tvae.sample(10, seed=0, progress_bar=False)
    done = [e for e in logs if e["event"] == "sampling_complete"]
    assert done and done[0]["dp_epsilon"] == dp_tvae.privacy_spent_.epsilon and done[0]["dp_delta"] == 1e-5
    for kwargs in (dict(return_metrics=True), dict(quality_threshold=0.5)):
        with pytest.raises(GenerationError, match="differential privacy"):
            dp_tvae.sample(10, seed=0, **kwargs)


def test_parent_context_is_preprocessed_under_the_budget_too(people: pd.DataFrame) -> None:
    rng = np.random.default_rng(2)
    context = pd.DataFrame({"region": rng.choice(["north", "south"], len(people)).astype(object),
                            "size": rng.integers(1, 500, len(people))})
    model = TVAE(dp=DPConfig(max_epsilon=4.0, epochs=1), **SMALL).fit(people, context, seed=0, progress_bar=False)
    assert model.privacy_spent_.preprocessing_queries == 8  # the context's two columns are counted
    out = model.sample(40, context=context.iloc[:40], seed=0, progress_bar=False)
    assert len(out) == 40 and list(out.columns) == list(people.columns)


def test_dp_refusals_come_before_any_work(people: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(PrivacyError, match="checkpoint_dir"):
        TVAE(dp=DPConfig(max_epsilon=1.0)).fit(people, checkpoint_dir=tmp_path / "c", progress_bar=False)
    assert not (tmp_path / "c").exists()
    with pytest.raises(PrivacyError, match="less than one epoch"):
        TVAE(dp=DPConfig(max_epsilon=0.05, noise_multiplier=0.3)).fit(people, progress_bar=False)
    text = people.assign(note=[f"free text number {i} about things" for i in range(len(people))])
    meta = Metadata.detect(text, "people")
    meta.tables["people"].columns["note"] = "text"
    with pytest.raises(PrivacyError, match="free-text"):
        TVAE(meta, dp=DPConfig(max_epsilon=1.0)).fit(text, progress_bar=False)
    constrained = Metadata.detect(people, "people")
    constrained.tables["people"].inequalities.append(Inequality(low="age", high="income"))
    with pytest.raises(PrivacyError, match="constraints"):
        TVAE(constrained, dp=DPConfig(max_epsilon=1.0)).fit(people, progress_bar=False)
    with pytest.raises(PrivacyError, match="bounds"):
        TVAE(dp=DPConfig(max_epsilon=1.0, bounds={"city": (0, 1)})).fit(people, progress_bar=False)


def test_ctgan_still_refuses_dp() -> None:
    with pytest.raises(PrivacyError, match="cannot train under differential privacy"):
        CTGAN(dp=DPConfig(max_epsilon=1.0))
    assert "dp" in TVAE.parameter_names() and "dp" not in CTGAN.parameter_names()
