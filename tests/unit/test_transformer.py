"""Unit tests of the reversible DataTransformer and its column encoders."""

from __future__ import annotations

import io
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.data import DataTransformer, SpanInfo
from syntho_hive.core.metadata.datetime_formats import format_datetimes, parse_datetimes
from syntho_hive.core.data.encoders.frequency import FrequencyEncoder
from syntho_hive.core.data.encoders.gmm import BoundedGMM
from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.data.encoders.numerical import detect_decimals
from syntho_hive.exceptions import (
    ConstraintViolationError,
    GenerationError,
    NotFittedError,
    SchemaError,
    SynthoHiveError,
)

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def make_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """A small, real-looking customer table with every supported kind of column."""
    rng = np.random.default_rng(seed)
    signup = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "account_code": [f"C{i:05d}" for i in range(42, 42 + n)],
        "age": rng.integers(18, 90, n),
        "income": np.round(rng.lognormal(10, 0.6, n), 2),
        "balance": np.where(rng.random(n) < 0.15, np.nan, np.round(rng.normal(500, 200, n), 1)),
        "score": rng.normal(0.0, 1.0, n).round(3).astype(np.float32),
        "children": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 4, n)), dtype="Int64"),
        "visits": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 400, n)), dtype="Int64"),
        "active": rng.random(n) < 0.7,
        "newsletter": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.4), dtype="boolean"),
        "segment": pd.Categorical(rng.choice(["gold", "silver", "bronze"], n),
                                  categories=["bronze", "silver", "gold", "platinum"]),
        "city": pd.Series(rng.choice(["Paris", "Köln", "東京", None], n, p=[0.4, 0.3, 0.2, 0.1]), dtype=object),
        "channel": pd.Series(rng.choice(["web", "shop", None], n), dtype="string"),
        "signup": signup,
        "last_login": (pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 3 * 86_400, n), unit="s")
                       ).tz_localize("UTC").tz_convert("Europe/Berlin"),
        "birthday": pd.Series((pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 20_000, n), unit="D")
                               ).strftime("%d/%m/%Y")),
        "country": "FR",
    })


SDTYPES = {"customer_id": "id", "account_code": "id"}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture(scope="module")
def fitted(table) -> DataTransformer:
    # rare_threshold=1: no rare-value protection, so the encoding is exactly reversible (the protection is
    # tested in test_rare_values.py).
    return DataTransformer(n_jobs=1, rare_threshold=1).fit(table, SDTYPES, seed=7)


def random_matrix(transformer: DataTransformer, n: int, seed: int = 0) -> np.ndarray:
    """A model-like output: uniform values in tanh spans, random logits in softmax spans."""
    rng = np.random.default_rng(seed)
    blocks = []
    for info in transformer.output_info_:
        for span in info.spans:
            if span.activation == "tanh":
                blocks.append(rng.uniform(-1, 1, size=(n, span.dim)))
            else:
                blocks.append(rng.normal(0, 2, size=(n, span.dim)))
    return np.hstack(blocks).astype(np.float32)


def shuffled_marginals(transformer: DataTransformer, matrix: np.ndarray, seed: int = 0) -> np.ndarray:
    """Permute each column's block independently: a 'model' that learned the marginals."""
    rng = np.random.default_rng(seed)
    out = matrix.copy()
    start = 0
    for info in transformer.output_info_:
        out[:, start:start + info.dim] = matrix[rng.permutation(len(matrix)), start:start + info.dim]
        start += info.dim
    return out


# ------------------------------------------------------------------------------ round trip
def test_round_trip_reproduces_values_and_dtypes(table, fitted):
    matrix = fitted.transform(table, rng=np.random.default_rng(1))
    assert matrix.dtype == np.float32 and matrix.shape == (len(table), fitted.output_dim_)
    assert np.all(np.abs(matrix) <= 1.0)
    restored = fitted.inverse_transform(matrix, rng=np.random.default_rng(2))
    assert list(restored.columns) == list(table.columns)
    for column in table.columns:
        assert restored[column].dtype == table[column].dtype, column
        if column not in SDTYPES:
            pd.testing.assert_series_equal(restored[column], table[column], obj=column)


def test_learned_attributes(fitted, table):
    assert fitted.columns_ == list(table.columns)
    assert fitted.sdtypes_["customer_id"] == "id"
    assert fitted.sdtypes_["income"] == "numerical"
    assert fitted.sdtypes_["signup"] == "datetime"
    assert fitted.sdtypes_["birthday"] == "datetime"
    assert fitted.output_dim_ == sum(info.dim for info in fitted.output_info_)
    names = [info.column for info in fitted.output_info_]
    # ids and constants are not modelled; partly-null numerics get an indicator
    assert "customer_id" not in names and "country" not in names
    assert "balance#null" in names and "visits#null" in names and "income#null" not in names
    income = next(info for info in fitted.output_info_ if info.column == "income")
    assert income.spans[0] == SpanInfo(1, "tanh")
    assert income.spans[1].activation == "softmax" and 1 <= income.spans[1].dim <= 10
    city = next(info for info in fitted.output_info_ if info.column == "city")
    assert city.discrete and city.spans == (SpanInfo(4, "softmax"),)
    assert set(city.categories) == {"Paris", "Köln", "東京", "<NA>"}
    assert fitted.discrete_column_names_ == [info.column for info in fitted.output_info_ if info.discrete]
    # low-cardinality ints (children: 0..3) are categoricals; wide ints stay numerical
    assert "children" in fitted.discrete_column_names_
    assert "age" not in fitted.discrete_column_names_


# ------------------------------------------------------------------- model-like matrices
def test_random_matrices_decode_within_observed_range_with_types(fitted, table):
    decoded = fitted.inverse_transform(random_matrix(fitted, 5000), rng=np.random.default_rng(3))
    for column in ["age", "income", "balance", "score", "visits", "signup", "last_login"]:
        values = decoded[column].dropna()
        assert values.min() >= table[column].min(), column
        assert values.max() <= table[column].max(), column
    assert decoded["age"].dtype == np.int64
    assert np.all(decoded["income"] == decoded["income"].round(2))
    assert np.all(decoded["balance"].dropna() == decoded["balance"].dropna().round(1))
    assert (decoded["signup"] == decoded["signup"].dt.normalize()).all()
    assert (decoded["last_login"] == decoded["last_login"].dt.floor("s")).all()
    assert set(decoded["segment"].dropna()) <= {"gold", "silver", "bronze"}
    assert list(decoded["segment"].cat.categories) == ["bronze", "silver", "gold", "platinum"]
    parsed = pd.to_datetime(decoded["birthday"], format="%d/%m/%Y")
    assert parsed.min() >= pd.to_datetime(table["birthday"], format="%d/%m/%Y").min()
    assert (decoded["country"] == "FR").all()


def test_bounds_hold_by_construction_not_by_piling(table):
    """A model that learned the modes but blurs within them must not pile mass on the bounds.

    Scalars are drawn N(0, 0.3) (a Gaussian mode's values occupy about +-0.5 of its window):
    decoded values stay in range and the share sitting exactly on a bound stays close to the
    training share (clipping would put every overshoot there).
    """
    data = table[["income", "age"]]
    transformer = DataTransformer(n_jobs=1).fit(data, seed=0)
    rng = np.random.default_rng(0)
    matrix = transformer.transform(pd.concat([data] * 30, ignore_index=True), rng=rng)
    tanh = np.concatenate([[span.activation == "tanh" for span in info.spans for _ in range(span.dim)]
                           for info in transformer.output_info_])
    matrix[:, tanh] = np.tanh(rng.normal(0, 0.3, size=(len(matrix), int(tanh.sum()))))
    decoded = transformer.inverse_transform(matrix, rng=rng)
    for column in ["income", "age"]:
        low, high = table[column].min(), table[column].max()
        values = decoded[column]
        assert values.between(low, high).all()
        on_bounds = ((values == low) | (values == high)).mean()
        in_data = ((data[column] == low) | (data[column] == high)).mean()
        assert on_bounds <= 2 * in_data + 0.01, (column, on_bounds, in_data)


def test_declared_bounds_are_respected_and_checked(table):
    data = table[["income"]]
    transformer = DataTransformer(n_jobs=1, rare_threshold=1).fit(data, bounds={"income": (0, 1e6)}, seed=0)
    decoded = transformer.inverse_transform(random_matrix(transformer, 4000), rng=np.random.default_rng(0))
    assert decoded["income"].between(0, 1e6).all()
    assert decoded["income"].max() > table["income"].max()  # the declared range is reachable
    # with the rare-value protection (the default) the modelled range is the inner one, inside the bounds
    inner = DataTransformer(n_jobs=1).fit(data, bounds={"income": (0, 1e6)}, seed=0)
    decoded = inner.inverse_transform(random_matrix(inner, 4000), rng=np.random.default_rng(0))["income"]
    ordered = np.sort(table["income"].to_numpy())
    assert decoded.min() >= ordered[4] and decoded.max() <= ordered[-5]
    with pytest.raises(ConstraintViolationError, match="income") as info:
        DataTransformer(n_jobs=1).fit(data, bounds={"income": (None, 1000.0)})
    assert info.value.column == "income" and info.value.count > 0
    with pytest.raises(SchemaError, match="city"):
        DataTransformer(n_jobs=1).fit(table[["city"]], bounds={"city": (0, 1)})


def test_null_rates_survive_decoding(fitted, table):
    matrix = fitted.transform(table, rng=np.random.default_rng(4))
    decoded = fitted.inverse_transform(shuffled_marginals(fitted, matrix), rng=np.random.default_rng(5))
    for column in ["balance", "visits", "children", "newsletter", "city", "channel"]:
        assert decoded[column].isna().mean() == pytest.approx(table[column].isna().mean(), abs=1e-12), column
    # the value distribution of a shuffled column is the training one
    assert decoded["income"].sort_values().to_numpy() == pytest.approx(table["income"].sort_values().to_numpy())


def test_integer_and_float_precision_detection():
    assert detect_decimals(np.array([1.0, 2.0, -3.0])) == 0
    assert detect_decimals(np.array([0.1, 0.25, 3.0])) == 2
    assert detect_decimals(np.array([0.1, 0.2], dtype=np.float32).astype(np.float64), np.float32) == 1
    assert detect_decimals(np.array([12.5, 0.125, -7.0])) == 3
    pi = detect_decimals(np.array([np.pi]))
    assert pi is None or pi >= 14  # full precision: no harmful rounding


# ------------------------------------------------------------------------------ encoders
def test_mode_is_sampled_from_the_posterior():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 3000), rng.normal(6, 1, 3000)])
    model = BoundedGMM(float(x.min()), float(x.max()), 1e-6, max_modes=10, weight_threshold=0.005,
                       gmm_max_samples=2000, exact_inverse=True).fit(x, seed=1)
    assert 2 <= model.n_modes <= 10
    # a value between the two bumps is assigned to different modes on different draws
    block = model.encode(np.full(4000, 3.0), np.random.default_rng(2))
    assigned = np.argmax(block[:, 1:], axis=1)
    shares = np.bincount(assigned, minlength=model.n_modes) / assigned.size
    assert (shares > 0.05).sum() >= 2
    # and decoding recovers the value whatever the drawn mode (to float32 matrix precision)
    assert model.decode(block) == pytest.approx(3.0, abs=1e-5)


def test_mixture_is_fitted_on_a_bounded_subsample():
    x = np.random.default_rng(0).normal(size=50_000)
    model = BoundedGMM(float(x.min()), float(x.max()), 1e-6, max_modes=10,
                       weight_threshold=0.005, gmm_max_samples=1234)
    model.prepare(x, seed=0)
    z, kwargs = model.fit_arguments()
    assert z.size == 1234 and kwargs["max_modes"] == 10


def test_a_fitted_mixture_keeps_no_fit_seed_even_from_a_file_written_before_it_was_dropped():
    import pickle

    x = np.random.default_rng(0).normal(size=500)
    model = BoundedGMM(float(x.min()), float(x.max()), 1e-6, max_modes=4, weight_threshold=0.005,
                       gmm_max_samples=500).fit(x, seed=987654321)
    assert model._seed == 0  # dropped by the fit
    model.__dict__["_seed"] = 987654321  # what files of earlier builds hold (a DP fit's seed, derived)
    restored = pickle.loads(pickle.dumps(model))
    assert restored._seed == 0 and b"987654321" not in pickle.dumps(restored)
    assert str(987654321) not in repr(pickle.loads(pickle.dumps(restored)).__dict__)
    np.testing.assert_array_equal(restored.decode(model.encode(x[:20], np.random.default_rng(1))),
                                  model.decode(model.encode(x[:20], np.random.default_rng(1))))


def test_constant_and_all_null_columns_need_no_model():
    data = pd.DataFrame({"const": [7] * 20, "empty": [np.nan] * 20, "word": ["a"] * 20})
    transformer = DataTransformer(n_jobs=1).fit(data)
    assert transformer.output_dim_ == 0 and transformer.output_info_ == []
    decoded = transformer.inverse_transform(np.zeros((5, 0), dtype=np.float32), rng=np.random.default_rng(0))
    assert decoded["const"].tolist() == [7] * 5 and decoded["const"].dtype == np.int64
    assert decoded["empty"].isna().all() and decoded["word"].tolist() == ["a"] * 5


def test_high_cardinality_uses_one_tanh_span_and_keeps_frequencies():
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, 501)
    values = rng.choice([f"sku-{i}" for i in range(500)], 20_000, p=weights / weights.sum())
    data = pd.DataFrame({"sku": values, "small": rng.choice(list("abc"), 20_000)})
    transformer = DataTransformer(n_jobs=1, rare_threshold=1).fit(data)  # exact round trip of the rare skus too
    info = {i.column: i for i in transformer.output_info_}
    assert info["sku"].spans == (SpanInfo(1, "tanh"),) and not info["sku"].discrete
    assert info["small"].dim == 3 and transformer.output_dim_ == 4
    matrix = transformer.transform(data, rng=np.random.default_rng(1))
    restored = transformer.inverse_transform(matrix, rng=np.random.default_rng(1))
    pd.testing.assert_frame_equal(restored, data)
    # a uniform scalar decodes to the training frequencies
    uniform = np.column_stack([rng.uniform(-1, 1, 200_000), rng.normal(size=(200_000, 3))])
    decoded = transformer.inverse_transform(uniform, rng=np.random.default_rng(2))["sku"]
    real = data["sku"].value_counts(normalize=True)
    synth = decoded.value_counts(normalize=True).reindex(real.index, fill_value=0)
    assert 0.5 * np.abs(real - synth).sum() < 0.03
    # max_onehot moves the switch point
    wide = DataTransformer(n_jobs=1, max_onehot=1000, rare_threshold=1).fit(data)
    assert {i.column: i.dim for i in wide.output_info_}["sku"] == data["sku"].nunique()  # one-hot: every value


# --------------------------------------------------------------------------------- text
FIRST_NAMES = ["Anna", "Ben", "Carla", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas"]
SYLLABLES = ["kor", "van", "del", "mi", "tra", "zu", "bel", "ost", "rin", "ga", "lek", "pho", "dru", "nal"]


def made_up_people(n: int, seed: int) -> pd.DataFrame:
    """Common first names with made-up surnames (one per row) and emails, ~10% missing names."""
    rng = np.random.default_rng(seed)
    surnames: list[str] = []
    while len(surnames) < n:
        name = "".join(rng.choice(SYLLABLES, 3)).title()
        if name not in surnames:
            surnames.append(name)
    first = rng.choice(FIRST_NAMES, n)
    full = [f"{f} {s}" for f, s in zip(first, surnames)]
    return pd.DataFrame({
        "full_name": [None if m else v for v, m in zip(full, rng.random(n) < 0.1)],
        "email": [f"{f.lower()}.{s.lower()}@example.org" for f, s in zip(first, surnames)],
        "visits": rng.poisson(4.0, n).astype(np.int64) + 1,
    })


def test_text_columns_are_generated_not_modelled_and_never_copied():
    data = made_up_people(300, seed=0)
    transformer = DataTransformer(n_jobs=1).fit(data)
    assert transformer.sdtypes_ == {"full_name": "text", "email": "text", "visits": "numerical"}
    assert [i.column for i in transformer.output_info_] == ["visits"]  # no span for text
    matrix = random_matrix(transformer, 3000)
    out = transformer.inverse_transform(matrix, rng=np.random.default_rng(4))
    assert out["full_name"].dtype == object and out["email"].dtype == object
    for column in ("full_name", "email"):
        assert not set(out[column].dropna()) & set(data[column].dropna()), column  # zero exact copies
    assert abs(out["full_name"].isna().mean() - data["full_name"].isna().mean()) < 0.03  # training rate
    assert out["email"].notna().all()
    # Frequent words (common first names, seen >= 5 times first) are reused; surnames are invented.
    words = out["full_name"].dropna().str.split()
    assert words.str.len().eq(2).all()
    assert words.str[0].isin(FIRST_NAMES).mean() > 0.95
    assert words.str[1].str[:1].str.isupper().all()
    # Same generator state, same values; the fitted transformer (pickled in checkpoints) holds no value.
    again = transformer.inverse_transform(matrix, rng=np.random.default_rng(4))
    pd.testing.assert_frame_equal(again, out)
    pickled = _pickle_bytes(transformer)
    surnames = data["full_name"].dropna().str.split().str[1]
    assert not [v for v in [*surnames, *data["email"]] if v.encode() in pickled or v.lower().encode() in pickled]


def _pickle_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def test_text_keeps_string_and_category_dtypes_and_rejects_conditions():
    data = made_up_people(60, seed=1)[["full_name"]]
    frame = pd.DataFrame({"s": data["full_name"].astype("string"), "c": data["full_name"].astype("category"),
                          "n": np.arange(60, dtype=np.float64)})
    transformer = DataTransformer(n_jobs=1).fit(frame, {"s": "text", "c": "text"})
    out = transformer.inverse_transform(random_matrix(transformer, 200), rng=np.random.default_rng(0))
    assert out["s"].dtype == "string" and out["s"].isna().any()
    assert isinstance(out["c"].dtype, pd.CategoricalDtype) and out["c"].isna().any()
    assert not set(out["c"].cat.categories) & set(data["full_name"].dropna())
    with pytest.raises(GenerationError, match="'s' \\(sdtype 'text'\\) is not encoded"):
        transformer.condition_index("s", "Anna Korvandel")
    with pytest.raises(SchemaError, match="rare_threshold"):
        DataTransformer(rare_threshold=0)


def test_frequency_encoder_is_for_categoricals_only():
    assert FrequencyEncoder("sku").sdtype == "categorical"
    with pytest.raises(TypeError):
        FrequencyEncoder("note", sdtype="text")  # type: ignore[call-arg]


# ---------------------------------------------------------------------------------- ids
def test_generated_ids_are_unique_in_the_training_format():
    n = 300
    rng = np.random.default_rng(0)
    data = pd.DataFrame({
        "seq": np.arange(100, 100 + 10 * n, 10),
        "nullable_seq": pd.array(np.arange(5, 5 + n), dtype="Int64"),
        "uuid": [f"{a:08x}-0000-4000-8000-{b:012x}" for a, b in zip(range(n), range(n))],
        "code": [f"CUST-{i:06d}" for i in rng.permutation(n) + 7],
        "free": [f"k{i}x" for i in range(n)],
        "value": rng.normal(size=n),
    })
    transformer = DataTransformer(n_jobs=1).fit(
        data, {c: "id" for c in ["seq", "nullable_seq", "uuid", "code", "free"]})
    assert [i.column for i in transformer.output_info_] == ["value"]
    m = 2 * n  # more rows than seen in training
    out = transformer.inverse_transform(random_matrix(transformer, m), rng=np.random.default_rng(1))
    assert out["seq"].tolist() == list(range(100, 100 + 10 * m, 10)) and out["seq"].dtype == np.int64
    assert out["nullable_seq"].dtype == "Int64" and out["nullable_seq"].iloc[0] == 5
    for column in ["seq", "nullable_seq", "uuid", "code", "free"]:
        assert out[column].is_unique and out[column].notna().all(), column
        assert out[column].dtype == data[column].dtype, column
    assert out["uuid"].map(lambda s: bool(UUID_V4.match(s))).all()
    assert out["code"].str.fullmatch(r"CUST-\d{6}").all() and out["code"].iloc[0] == "CUST-000007"
    # uuids come from the caller's generator: same seed, same ids
    again = transformer.inverse_transform(random_matrix(transformer, m), rng=np.random.default_rng(1))
    assert again["uuid"].equals(out["uuid"])


def test_unpadded_codes_and_uppercase_uuids():
    gen = IdGenerator("c").fit(pd.Series(["A1", "A2", "A10"]))
    assert gen.generate(3, np.random.default_rng(0)).tolist() == ["A1", "A2", "A3"]
    upper = IdGenerator("u").fit(pd.Series(["8A6E0804-2BD0-4672-B79D-D97027F9071A"]))
    assert upper.generate(5, np.random.default_rng(0)).str.fullmatch(r"[0-9A-F\-]{36}").all()


# ------------------------------------------------------------------------ conditioning
def test_condition_index(fitted):
    position, index = fitted.condition_index("city", "Köln")
    assert fitted.discrete_column_names_[position] == "city"
    info = next(i for i in fitted.output_info_ if i.column == "city")
    assert info.categories[index] == "Köln"
    assert info.categories[fitted.condition_index("city", None)[1]] == "<NA>"
    assert fitted.condition_index("active", True)[1] == 1  # booleans are ordered False, True
    assert fitted.condition_index("balance#null", "null")[1] == 1
    with pytest.raises(GenerationError, match=r"'Lyon'.*'city'.*Paris"):
        fitted.condition_index("city", "Lyon")
    with pytest.raises(GenerationError, match=r"'income'.*not encoded as a discrete"):
        fitted.condition_index("income", 3.0)
    with pytest.raises(GenerationError, match="unknown column 'nope'"):
        fitted.condition_index("nope", 1)


# ------------------------------------------------------------------------------ errors
def test_errors_are_typed_and_name_the_column(table):
    transformer = DataTransformer()
    with pytest.raises(NotFittedError):
        transformer.transform(table, rng=np.random.default_rng(0))
    with pytest.raises(NotFittedError):
        transformer.inverse_transform(np.zeros((1, 1)), rng=np.random.default_rng(0))
    with pytest.raises(NotFittedError):
        transformer.condition_index("city", "Paris")
    with pytest.raises(NotFittedError):
        _ = transformer.output_info_
    with pytest.raises(SchemaError, match="'missing'"):
        transformer.fit(table, {"missing": "numerical"})
    with pytest.raises(SchemaError, match="'fancy'.*'age'"):
        transformer.fit(table, {"age": "fancy"})
    with pytest.raises(SchemaError, match="no rows"):
        transformer.fit(table.iloc[:0])
    with pytest.raises(SchemaError, match="'city'.*non-numeric"):
        transformer.fit(table[["city"]], {"city": "numerical"})
    with pytest.raises(SchemaError, match="infinite"):
        transformer.fit(pd.DataFrame({"x": [1.0, np.inf, 2.0]}))
    fitted = DataTransformer(n_jobs=1).fit(table[["city", "age"]])
    with pytest.raises(SchemaError, match=r"\['age'\]"):
        fitted.transform(table[["city"]], rng=np.random.default_rng(0))
    with pytest.raises(SchemaError, match="'city'.*Lyon"):
        fitted.transform(pd.DataFrame({"city": ["Lyon"], "age": [30]}), rng=np.random.default_rng(0))
    with pytest.raises(SchemaError, match="np.random.Generator"):
        fitted.transform(table[["city", "age"]], rng=None)
    with pytest.raises(GenerationError, match="np.random.Generator"):
        fitted.inverse_transform(np.zeros((3, fitted.output_dim_)), rng=42)
    with pytest.raises(GenerationError, match=str(fitted.output_dim_)):
        fitted.inverse_transform(np.zeros((3, fitted.output_dim_ + 1)), rng=np.random.default_rng(0))
    assert issubclass(NotFittedError, SynthoHiveError)


def test_undetectable_datetime_format_is_a_schema_error():
    data = pd.DataFrame({"when": ["2020-01-01", "01/02/2020 noon"]})
    with pytest.raises(SchemaError, match="'when'.*datetime_formats"):
        DataTransformer(n_jobs=1).fit(data, {"when": "datetime"})
    fixed = DataTransformer(n_jobs=1, rare_threshold=1).fit(pd.DataFrame({"when": ["2020|01|05", "2021|03|07"]}),
                                          {"when": "datetime"}, datetime_formats={"when": "%Y|%m|%d"})
    out = fixed.inverse_transform(random_matrix(fixed, 50), rng=np.random.default_rng(0))
    assert out["when"].str.fullmatch(r"\d{4}\|\d{2}\|\d{2}").all()


def test_detected_datetime_without_exact_format_is_modelled_as_categorical():
    # "mixed" date strings: detected as datetime, but no single format restores them exactly
    data = pd.DataFrame({"when": ["2020-01-01", "2020/01/02", "03.01.2020", "2020-01-04"] * 5})
    transformer = DataTransformer(n_jobs=1).fit(data)
    assert transformer.sdtypes_["when"] == "categorical"  # logged as datetime_format_undetected
    rng = np.random.default_rng(0)
    restored = transformer.inverse_transform(transformer.transform(data, rng=rng), rng=rng)
    pd.testing.assert_frame_equal(restored, data)
    with pytest.raises(SchemaError, match="'when'"):
        DataTransformer(n_jobs=1).fit(data, {"when": "datetime"})


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S.%3fZ"])
def test_datetime_string_formats_are_restored(fmt):
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 400 * 86_400, 300), unit="s")
    if "%H" not in fmt:
        stamps = stamps.normalize()
    if "%3f" in fmt:  # milliseconds, three digits (JavaScript / Java timestamps)
        stamps = stamps + pd.to_timedelta(rng.integers(0, 1000, 300), unit="ms")
    data = pd.DataFrame({"when": pd.Series(format_datetimes(pd.Series(stamps), fmt), dtype=object)})
    assert data["when"].str.fullmatch(r"[\d:\-T]+\.\d{3}Z").all() if "%3f" in fmt else True
    transformer = DataTransformer(n_jobs=1, rare_threshold=1).fit(data, {"when": "datetime"})
    assert transformer.encoders_[0].format == fmt
    restored = transformer.inverse_transform(transformer.transform(data, rng=rng), rng=rng)
    if "%H" in fmt:  # second resolution over 400 days: float32 limits exactness to ~seconds
        delta = (parse_datetimes(restored["when"], fmt) - parse_datetimes(data["when"], fmt))
        assert delta.abs().max() <= pd.Timedelta(seconds=10)
    else:
        pd.testing.assert_frame_equal(restored, data)
    decoded = transformer.inverse_transform(random_matrix(transformer, 500), rng=rng)["when"]
    assert parse_datetimes(decoded, fmt).notna().all()
    assert (format_datetimes(parse_datetimes(decoded, fmt), fmt) == decoded).all()  # same shape, e.g. 3 digits


# ---------------------------------------------------------------- pickling, determinism
def test_pickles_with_joblib(fitted, table, tmp_path):
    path = tmp_path / "transformer.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    assert loaded.output_info_ == fitted.output_info_
    a = fitted.transform(table, rng=np.random.default_rng(9))
    b = loaded.transform(table, rng=np.random.default_rng(9))
    assert np.array_equal(a, b)
    pd.testing.assert_frame_equal(fitted.inverse_transform(a, rng=np.random.default_rng(3)),
                                  loaded.inverse_transform(b, rng=np.random.default_rng(3)))


def test_same_seed_same_result_threads_or_processes(table):
    data = table[["income", "balance", "city"]]
    first = DataTransformer(n_jobs=1).fit(data, seed=3)
    second = DataTransformer(n_jobs=2, backend="threading").fit(data, seed=3)
    third = DataTransformer(n_jobs=2, backend="loky").fit(data, seed=3)
    assert first.output_info_ == second.output_info_ == third.output_info_
    matrices = [t.transform(data, rng=np.random.default_rng(5)) for t in (first, second, third)]
    assert np.array_equal(matrices[0], matrices[1]) and np.array_equal(matrices[0], matrices[2])
    other = first.transform(data, rng=np.random.default_rng(6))
    assert not np.array_equal(matrices[0], other)  # the mode draws come from the rng


def test_decimal_objects_come_back_as_decimals_with_their_scale() -> None:
    """Parquet decimal128 / SQL NUMERIC columns (object Decimals) used to come back as floats."""
    from decimal import Decimal

    rng = np.random.default_rng(0)
    prices = [Decimal(f"{x:.2f}") for x in rng.uniform(1, 100, 400)]
    prices[4], prices[7] = Decimal("5.10"), None  # trailing zero: the scale is 2, not 1
    frame = pd.DataFrame({"price": pd.Series(prices, dtype=object)})
    transformer = DataTransformer(rare_threshold=1).fit(frame, {"price": "numerical"}, seed=0)
    out = transformer.inverse_transform(transformer.transform(frame, rng=rng), rng=rng)["price"]
    assert out.dtype == object and out[7] is None
    present = out.drop(index=7)
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for v in present)
    assert (present == frame["price"].drop(index=7)).all()  # exact round trip
    drawn = transformer.inverse_transform(rng.uniform(-1, 1, (200, transformer.output_dim_)).astype(np.float32),
                                          rng=rng)["price"].dropna()
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for v in drawn)
    assert min(drawn) >= min(p for p in prices if p is not None) and max(drawn) <= max(p for p in prices if p)


def test_uint64_values_past_two_to_the_63_do_not_wrap(huge_uint64: pd.Series) -> None:
    """They came back negative-wrapped (int64 arithmetic) or raised an OverflowError with gaps."""
    rng = np.random.default_rng(0)
    values, dtype = huge_uint64, str(huge_uint64.dtype)
    frame = pd.DataFrame({"h": values})
    transformer = DataTransformer().fit(frame, {"h": "numerical"}, seed=0)
    drawn = transformer.inverse_transform(rng.uniform(-1, 1, (500, transformer.output_dim_)).astype(np.float32),
                                          rng=rng)["h"]
    assert str(drawn.dtype) == dtype
    present = drawn.dropna()
    assert present.min() >= values.min() and present.max() <= values.max() and (present > 2**63).any()


def _draws(transformer: DataTransformer, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A generator's draws for ``matrix``: its tanh columns, and the arg-max of every softmax span."""
    scalars, codes, start = [], [], 0
    for info in transformer.output_info_:
        for span in info.spans:
            block = matrix[:, start:start + span.dim]
            if span.activation == "softmax":
                codes.append(np.argmax(block, axis=1))
            else:
                scalars.append(block)
            start += span.dim
    return np.hstack(scalars), np.stack(codes, axis=1)


def test_decoding_draws_is_decoding_their_one_hot_matrix(fitted) -> None:
    """Scalars and drawn entries decode exactly as the matrix with one-hot blocks at those entries."""
    matrix = random_matrix(fitted, 400, seed=3).astype(np.float32)
    scalars, codes = _draws(fitted, matrix)
    by_argmax = fitted.inverse_transform(matrix, rng=np.random.default_rng(5))
    drawn = fitted.decode_draws(scalars, codes, rng=np.random.default_rng(5))
    pd.testing.assert_frame_equal(drawn, by_argmax)
    assert drawn["customer_id"].is_unique and drawn["account_code"].is_unique  # generated columns too


def test_draws_of_the_wrong_shape_are_refused(fitted) -> None:
    scalars, codes = _draws(fitted, random_matrix(fitted, 10).astype(np.float32))
    for bad_scalars, bad_codes in ((scalars[:, 1:], codes), (scalars, codes[:, 1:]), (scalars, codes[1:]),
                                   (scalars[:, 0], codes)):
        with pytest.raises(GenerationError, match="decode_draws expects scalars of shape"):
            fitted.decode_draws(bad_scalars, bad_codes, rng=np.random.default_rng(0))


def test_decoded_frames_own_their_columns(fitted) -> None:
    """Decoders' arrays go into the frame uncopied: each frame must still own them."""
    scalars, codes = _draws(fitted, random_matrix(fitted, 50).astype(np.float32))
    first = fitted.decode_draws(scalars, codes, rng=np.random.default_rng(1))
    second = fitted.decode_draws(scalars, codes, rng=np.random.default_rng(1))
    first.loc[0, "age"] = -1
    first.loc[0, "segment"] = "platinum"
    assert second.loc[0, "age"] != -1 and second.loc[0, "segment"] != "platinum"
    pd.testing.assert_frame_equal(fitted.decode_draws(scalars, codes, rng=np.random.default_rng(1)), second)
    assert isinstance(second.index, pd.RangeIndex) and second.index.equals(pd.RangeIndex(50))


def test_wide_decoded_frames_are_not_fragmented() -> None:
    """Past 64 columns the decoded frame is merged by dtype: adding a column raises no pandas warning."""
    rng = np.random.default_rng(0)
    wide = pd.DataFrame({f"c{i}": rng.choice(["a", "b", "c"], 60) for i in range(120)})
    transformer = DataTransformer(n_jobs=1).fit(wide, seed=0)
    frame = transformer.inverse_transform(transformer.transform(wide, rng=rng), rng=rng)
    pd.testing.assert_frame_equal(frame, wide)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        frame["extra"] = 1


@pytest.mark.parametrize("values", [[0.0, 7e-121], [5e-324, 0.0], [1.0, 1.0 + 1e-17]])
def test_a_range_narrower_than_its_rounding_cell_decodes_to_numbers(values: list[float]) -> None:
    """Values that differ by less than their detected rounding (0 decimals) once decoded to NaN."""
    frame = pd.DataFrame({"x": values})
    transformer = DataTransformer(n_jobs=1).fit(frame, seed=0)
    back = transformer.inverse_transform(transformer.transform(frame, rng=np.random.default_rng(0)),
                                         rng=np.random.default_rng(0))
    assert back["x"].notna().all()
    np.testing.assert_allclose(back["x"].to_numpy(), frame["x"].to_numpy(), rtol=0, atol=1e-15)
