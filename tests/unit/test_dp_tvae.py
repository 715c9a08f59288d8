"""TVAE under differential privacy (``TVAE(dp=DPConfig(...))``): the transformer fitted to stand-ins made
from noisy counts, the rows encoded cell by cell, DP-SGD on the encoder and decoder together, and the
privacy spent kept and reported like TabularAR's (what every engine guarantees under DP is tested in
``test_dp_engines.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.data.dp_standins import standin_frame
from syntho_hive.core.data.dp_transformer import dp_transform, fit_dp_transformer
from syntho_hive.core.data.encoders.numerical import NumericalEncoder
from syntho_hive.core.dp import DPConfig, plan_budget
from syntho_hive.core.models import CTGAN, TVAE
from syntho_hive.exceptions import PrivacyError
from dp_people import make_people

SMALL = dict(compress_dims=(32,), decompress_dims=(32,), embedding_dim=8, batch_size=100, epochs=2)
SDTYPES = {"person_id": "id", "age": "numerical", "income": "numerical", "city": "categorical",
           "active": "boolean", "joined": "datetime"}


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return make_people()


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
def test_fixed_noise_stops_training_at_the_budget(people: pd.DataFrame) -> None:
    config = DPConfig(max_epsilon=4.0, noise_multiplier=1.5, epochs=50)
    model = TVAE(dp=config, **SMALL).fit(people, seed=0, progress_bar=False)
    spent = model.privacy_spent_
    assert spent.epsilon <= 4.0 and 6 <= spent.steps < 50 * 6  # stopped before the planned epochs
    one_more = plan_budget(config, rows=600, queries=6, category_queries=1, batch_size=100, epochs=50,
                           rare_threshold=5).spent(spent.steps + 1)
    assert one_more.epsilon > 4.0


def test_parent_context_is_preprocessed_under_the_budget_too(people: pd.DataFrame) -> None:
    rng = np.random.default_rng(2)
    context = pd.DataFrame({"region": rng.choice(["north", "south"], len(people)).astype(object),
                            "size": rng.integers(1, 500, len(people))})
    model = TVAE(dp=DPConfig(max_epsilon=4.0, epochs=1), **SMALL).fit(people, context, seed=0, progress_bar=False)
    assert model.privacy_spent_.preprocessing_queries == 8  # the context's two columns are counted
    out = model.sample(40, context=context.iloc[:40], seed=0, progress_bar=False)
    assert len(out) == 40 and list(out.columns) == list(people.columns)


def test_ctgan_still_refuses_dp() -> None:
    with pytest.raises(PrivacyError, match="cannot train under differential privacy"):
        CTGAN(dp=DPConfig(max_epsilon=1.0))
    assert "dp" in TVAE.parameter_names() and "dp" not in CTGAN.parameter_names()
