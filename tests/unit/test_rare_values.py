"""Rare-value protection of the DataTransformer, CTGAN and TVAE.

No value seen fewer than ``rare_threshold`` times is generated nor kept in a checkpoint: rare
categories share a slot that decodes to frequent ones, and numbers and timestamps are modelled
between the ``rare_threshold``-th smallest and largest values. Frequent categories and spikes still
come back exactly, and seeded output stays reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import joblib
import numpy as np
import pandas as pd
import pytest
import torch

from syntho_hive.core.data import DataTransformer
from syntho_hive.core.data.encoders.rare import RARE_LABEL, inner_range
from syntho_hive.core.models import CTGAN, TVAE
from syntho_hive.exceptions import GenerationError, SchemaError

N = 600
RARE_CITY = "Zzyzx-Unique-City"
RARE_CODES = [f"RARECODE-{i}" for i in range(4)]
RARE_SKUS = [f"SOLO-sku-{i}" for i in range(3)]
RARE_STAMP = pd.Timestamp("1850-03-03 13:37:11")
RARE_LEVEL = 777
RARE_AMOUNT = 7_777_777
RARE_INCOME = 987654.32
RARE_SEGMENT = "RareSegment"
#: Strings none of the checkpoint's files may contain.
NEEDLES = [RARE_CITY, *RARE_CODES, "RARECODE", "SOLO-sku", "1850-03-03", "1850", "7777777", "987654", RARE_SEGMENT]

ENGINES: dict[str, tuple[type, dict[str, Any]]] = {
    "CTGAN": (CTGAN, {"epochs": 3, "batch_size": 100, "pac": 10, "embedding_dim": 8, "generator_dim": (32,),
                      "discriminator_dim": (32,)}),
    "TVAE": (TVAE, {"epochs": 3, "batch_size": 100, "embedding_dim": 8, "compress_dims": (32,),
                    "decompress_dims": (32,)}),
}


def rare_table(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Frequent values everywhere, plus values held by a single row in every kind of column."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["Paris", "Berlin", "Rome", "Madrid"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    city[7] = RARE_CITY
    code = np.where(rng.random(n) < 0.5, "A", "B").astype(object)
    code[10:14] = RARE_CODES
    sku = np.array([f"sku-{i % 60}" for i in range(n)], dtype=object)  # 60 frequent: frequency encoder
    sku[20:23] = RARE_SKUS
    when = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    when = pd.Series(when)
    when[3] = RARE_STAMP
    level = rng.choice([10, 20, 30], n)
    level[4] = RARE_LEVEL
    amount = np.where(rng.random(n) < 0.4, 0, rng.integers(100, 5000, n))  # a spike at 0
    amount[5] = RARE_AMOUNT
    income = np.round(rng.lognormal(10, 0.5, n), 2)
    income[11] = RARE_INCOME
    segment = pd.Categorical(rng.choice(["gold", "silver"], n), categories=["gold", "silver", RARE_SEGMENT, "unused"])
    segment[9] = RARE_SEGMENT
    return pd.DataFrame({"city": city, "code": code, "sku": sku, "when": when, "level": level, "amount": amount,
                         "income": income, "segment": segment})


def assert_no_rare_values(frame: pd.DataFrame) -> None:
    assert not (frame["city"] == RARE_CITY).any()
    assert not frame["code"].isin(RARE_CODES).any()
    assert not frame["sku"].isin(RARE_SKUS).any()
    assert not (frame["when"] == RARE_STAMP).any() and (frame["when"].dt.year >= 2015).all()
    assert not (frame["level"] == RARE_LEVEL).any()
    assert not (frame["amount"] == RARE_AMOUNT).any() and frame["amount"].max() < 5000
    assert not (frame["income"] == RARE_INCOME).any() and frame["income"].max() < RARE_INCOME
    assert not (frame["segment"].astype(object) == RARE_SEGMENT).any()
    assert RARE_SEGMENT not in list(frame["segment"].cat.categories)


def _leaves(obj: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every scalar reachable from a loaded pickle (attributes, containers, arrays, dtypes' categories)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (str, bytes, int, float, np.generic)) or obj is None:
        yield obj
    elif isinstance(obj, np.ndarray):
        yield from (obj.ravel().tolist() if obj.dtype != object else (v for x in obj.ravel() for v in _leaves(x, seen)))
    elif isinstance(obj, pd.CategoricalDtype):
        yield from _leaves(np.asarray(obj.categories, dtype=object), seen)
    elif isinstance(obj, (pd.Index, pd.Series)):
        yield from _leaves(obj.to_numpy(dtype=object), seen)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaves(key, seen)
            yield from _leaves(value, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for value in obj:
            yield from _leaves(value, seen)
    elif isinstance(obj, torch.Tensor):
        yield from obj.detach().cpu().ravel().tolist()
    else:
        state = getattr(obj, "__dict__", None)
        if state is not None:
            yield from _leaves(state, seen)
        for slot in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, slot):
                yield from _leaves(getattr(obj, slot), seen)


def assert_state_holds_no_rare_value(state: Any) -> None:
    stamp_ticks = {int(RARE_STAMP.value), int(RARE_STAMP.value // 10**9)}
    for leaf in _leaves(state):
        if isinstance(leaf, str):
            assert not any(needle in leaf for needle in NEEDLES), leaf
        elif isinstance(leaf, (int, float, np.integer, np.floating)) and not isinstance(leaf, bool):
            value = float(leaf)
            assert value not in (RARE_INCOME, RARE_AMOUNT, RARE_LEVEL), value
            assert int(value) not in stamp_ticks if np.isfinite(value) else True, value


# ----------------------------------------------------------------------------- the transformer
@pytest.fixture(scope="module")
def transformer() -> DataTransformer:
    return DataTransformer(n_jobs=1).fit(rare_table(), seed=0)


def random_matrix(transformer: DataTransformer, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blocks = [rng.uniform(-1, 1, (n, span.dim)) if span.activation == "tanh" else rng.normal(0, 3, (n, span.dim))
              for info in transformer.output_info_ for span in info.spans]
    return np.hstack(blocks).astype(np.float32)


def test_transformer_decodes_no_rare_value_and_keeps_frequent_ones(transformer: DataTransformer) -> None:
    data = rare_table()
    for decoded in (transformer.inverse_transform(random_matrix(transformer, 20_000), rng=np.random.default_rng(1)),
                    transformer.inverse_transform(transformer.transform(data, rng=np.random.default_rng(2)),
                                                  rng=np.random.default_rng(3))):
        assert_no_rare_values(decoded)
        assert set(decoded["city"]) == {"Paris", "Berlin", "Rome", "Madrid"}
        assert set(decoded["code"]) == {"A", "B"} and set(decoded["level"]) == {10, 20, 30}
        assert set(decoded["sku"]) == {f"sku-{i}" for i in range(60)}
        assert (decoded["amount"] == 0).mean() > 0.2  # the spike keeps its exact value
    assert_state_holds_no_rare_value(transformer)


def test_round_trip_keeps_frequent_values_and_the_joint_of_rare_rows(transformer: DataTransformer) -> None:
    data = rare_table()
    rng = np.random.default_rng(4)
    decoded = transformer.inverse_transform(transformer.transform(data, rng=rng), rng=rng)
    frequent = ~data["city"].eq(RARE_CITY)
    assert (decoded["city"][frequent] == data["city"][frequent]).all()
    low, high = inner_range(np.sort(data["income"].to_numpy()), 5)
    inside = data["income"].between(low, high)
    assert np.allclose(decoded["income"][inside], data["income"][inside])
    assert decoded["income"][~inside].isin([low, high]).all()  # the extremes are clipped onto the bounds
    assert RARE_LABEL in {label for info in transformer.output_info_ for label in info.categories or ()}


def test_rare_values_cannot_be_conditioned_on(transformer: DataTransformer) -> None:
    assert transformer.condition_index("city", "Paris")[1] >= 0
    for value in (RARE_CITY, RARE_LABEL):
        with pytest.raises(GenerationError, match="protected"):
            transformer.condition_index("city", value)


def test_columns_without_a_frequent_category_are_modelled_as_text_or_numbers() -> None:
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("bcdfghjklmnpqrstvwxz"), 9)) for _ in range(200)]  # one row each
    data = pd.DataFrame({"ref": [f"Ref {w} {x}" for w, x in zip(rng.choice(["alpha", "beta"], 200), words)],
                         "num": pd.Series(np.arange(200), dtype=np.int64), "x": rng.normal(size=200)})
    fitted = DataTransformer(n_jobs=1).fit(data, {"ref": "categorical", "num": "categorical"}, seed=0)
    assert fitted.sdtypes_["ref"] == "text" and fitted.sdtypes_["num"] == "numerical"
    out = fitted.inverse_transform(random_matrix(fitted, 500), rng=np.random.default_rng(1))
    assert not out["ref"].isin(set(data["ref"])).any()
    assert not any(word in text for text in out["ref"].dropna() for word in words)
    assert out["num"].between(4, 195).all()
    assert_state_holds_no_rare_value(fitted)


def test_rare_threshold_one_switches_the_protection_off_and_bad_values_are_refused() -> None:
    data = rare_table()
    plain = DataTransformer(n_jobs=1, rare_threshold=1).fit(data, seed=0)
    rng = np.random.default_rng(0)
    restored = plain.inverse_transform(plain.transform(data, rng=rng), rng=rng)
    assert (restored["city"] == data["city"]).all() and (restored["level"] == data["level"]).all()
    assert restored["when"].min() == RARE_STAMP and restored["amount"].max() == RARE_AMOUNT
    for bad in (0, -1, 2.5, True, "5"):
        with pytest.raises(SchemaError, match="rare_threshold"):
            DataTransformer(rare_threshold=bad)


# ----------------------------------------------------------------------------- CTGAN and TVAE
@pytest.fixture(scope="module", params=list(ENGINES))
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    cls, params = ENGINES[request.param]
    model = cls(device="cpu", **params).fit(rare_table(), seed=0, progress_bar=False)
    return request.param, model, model.save(tmp_path_factory.mktemp(request.param) / "model")


def test_engines_sample_no_value_held_by_fewer_than_rare_threshold_rows(engine) -> None:
    name, model, _ = engine
    rows = model.sample(3000, seed=1, progress_bar=False)
    assert_no_rare_values(rows)
    assert {"Paris", "Berlin", "Rome", "Madrid"} <= set(rows["city"]), name
    assert set(rows["code"]) <= {"A", "B"} and set(rows["level"]) <= {10, 20, 30}
    assert (rows["amount"] == 0).any(), name  # the spike comes back exactly


def test_engine_checkpoints_hold_no_rare_value(engine) -> None:
    name, model, directory = engine
    files = [path for path in Path(directory).rglob("*") if path.is_file()]
    for path in files:
        raw = path.read_bytes()
        for needle in NEEDLES:
            assert needle.encode() not in raw, (name, path.name, needle)
        if path.suffix == ".joblib":
            assert_state_holds_no_rare_value(joblib.load(path))
    assert any(path.suffix == ".joblib" for path in files)
    assert model.get_params()["rare_threshold"] == 5


def test_engines_are_seeded_and_reloaded_models_sample_the_same(engine) -> None:
    name, model, directory = engine
    cls, params = ENGINES[name]
    first = model.sample(300, seed=7, progress_bar=False)
    pd.testing.assert_frame_equal(first, model.sample(300, seed=7, progress_bar=False))
    pd.testing.assert_frame_equal(first, cls(device="cpu").load(directory).sample(300, seed=7, progress_bar=False))
    again = cls(device="cpu", **params).fit(rare_table(), seed=0, progress_bar=False)
    pd.testing.assert_frame_equal(first, again.sample(300, seed=7, progress_bar=False))


@pytest.mark.parametrize("engine_name", ["tabular_ar", "ctgan"])
def test_fixed_combinations_held_by_few_rows_are_neither_generated_nor_saved(engine_name: str,
                                                                           tmp_path: Path) -> None:
    """The constraint engine's saved combinations are those a generated row may hold: a (city, country) pair
    seen by one row is absent from the samples and from every checkpoint file."""
    from syntho_hive import FixedCombinations, Metadata, TabularAR

    rng = np.random.default_rng(3)
    common = [("Paris", "France"), ("Lyon", "France"), ("Berlin", "Germany"), ("Munich", "Germany")]
    pairs = [common[i] for i in rng.integers(0, len(common), 300)] + [("Zzyzx-Springs", "Atlantis")]
    frame = pd.DataFrame({"city": [c for c, _ in pairs], "country": [k for _, k in pairs],
                          "spend": rng.gamma(2.0, 30.0, len(pairs)).round(2)})
    metadata = Metadata().add_table("t", fixed_combinations=[["city", "country"]])
    model = (TabularAR(metadata, epochs=2, hidden_dim=16) if engine_name == "tabular_ar" else
             CTGAN(metadata, epochs=2, batch_size=50, generator_dim=(16,), discriminator_dim=(16,), embedding_dim=8,
                   pac=5, device="cpu"))
    model.fit(frame, table_name="t", seed=0, progress_bar=False)
    out = model.sample(2_000, seed=1, progress_bar=False)
    assert set(zip(out["city"], out["country"])) <= set(common)
    saved = model.save(tmp_path / "m")
    for path in saved.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert b"Zzyzx" not in raw and b"Atlantis" not in raw, path.name
            if path.suffix == ".joblib":  # what the pickles hold once loaded, not only their bytes
                texts = [leaf for leaf in _leaves(joblib.load(path)) if isinstance(leaf, str)]
                assert not [t for t in texts if "Zzyzx" in t or "Atlantis" in t], path.name


def test_a_column_too_short_for_the_inner_range_is_modelled_at_its_mean_never_one_rows_value() -> None:
    """Fewer than 2k - 1 values have no k-th smallest below a k-th largest: the range collapses onto the mean of
    the values, not onto one row's value (the lower median), which every generated row would have repeated."""
    salaries = np.array([38_250.5, 41_990.25, 52_030.75, 61_500.0, 144_000.0, 47_120.5, 58_800.25, 49_999.0])
    assert inner_range(salaries, 5) == (salaries.mean(), salaries.mean())
    ticks = np.array([10, 20, 30, 70], dtype=np.int64)
    assert inner_range(ticks, 5, step=10) == (30, 30)  # mean 32.5 rounded onto the grid of 10s
    assert inner_range(np.array([2**63 - 10, 2**63 - 2], dtype=np.uint64), 5, step=2) == (2**63 - 6, 2**63 - 6)
    frame = pd.DataFrame({"salary": salaries, "team": ["a"] * 6 + ["b"] * 2})
    model = CTGAN(epochs=2, batch_size=8, pac=4, generator_dim=(8,), discriminator_dim=(8,), embedding_dim=4,
                  device="cpu").fit(frame, seed=0, progress_bar=False)
    out = model.sample(200, seed=1, progress_bar=False)
    assert not out["salary"].isin(salaries).any()


def test_a_bool_column_declared_categorical_keeps_both_values() -> None:
    """A bool's two values are its public domain: declared categorical, a rare True is not pooled away, and two
    rare values are not turned into text (whose strings all read back as True)."""
    one_rare = pd.DataFrame({"b": [True] * 3 + [False] * 57})
    transformer = DataTransformer(n_jobs=1).fit(one_rare, {"b": "categorical"})
    assert transformer.sdtypes_["b"] == "boolean"
    back = transformer.inverse_transform(transformer.transform(one_rare, rng=np.random.default_rng(0)),
                                         rng=np.random.default_rng(0))
    assert back["b"].tolist() == one_rare["b"].tolist()
    both_rare = pd.DataFrame({"b": [True, False] * 4 + [False], "x": np.arange(9.0)})
    assert DataTransformer(n_jobs=1).fit(both_rare, {"b": "categorical"}).sdtypes_["b"] == "boolean"


@pytest.mark.parametrize("engine", ["TabularAR", "CTGAN", "TVAE"])
def test_a_partly_missing_column_with_fewer_values_than_rare_threshold_is_generated_missing(
        engine: str, tmp_path: Path) -> None:
    """Its one value came back in about half the generated rows (its mean is itself); each of its values is rare."""
    from syntho_hive.core.models import TabularAR

    cls, params = (TabularAR, {"epochs": 2}) if engine == "TabularAR" else ENGINES[engine]
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"amount": np.round(rng.gamma(2.0, 30.0, n), 2), "city": rng.choice(["Oslo", "Bergen"], n),
                          "bonus": [987_654.32] + [np.nan] * (n - 1),
                          "closed": pd.Series([pd.Timestamp("1999-09-09")] + [pd.NaT] * (n - 1)),
                          "visits": pd.array([7, 8, 9] + [None] * (n - 3), dtype="Int64"),
                          "opened": pd.Series(["2020-01-17"] + [None] * (n - 1), dtype=object)})  # a date as text
    model = cls(**params).fit(frame, seed=0, progress_bar=False)
    out = model.sample(2_000, seed=1, progress_bar=False)
    assert out[["bonus", "closed", "visits", "opened"]].isna().all().all()
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    directory = model.save(tmp_path / "model")
    stamp = pd.Timestamp("1999-09-09")
    needles = [b"987654.32", b"1999-09-09", b"2020-01-17", *(str(stamp.value // 10**k).encode() for k in (0, 3, 6, 9))]
    for path in (p for p in directory.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        assert not [needle for needle in needles if needle in raw], path.name
