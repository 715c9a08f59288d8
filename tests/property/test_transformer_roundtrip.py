"""Property: ``inverse_transform(transform(df))`` reproduces ``df`` on generated frames.

Frames mix every supported kind of column (nullable ints, decimals, float32, raw floats,
booleans, unicode categoricals, ``category``/``string`` dtypes, naive and tz-aware datetimes,
date strings, constant and all-null columns, distinct-per-row names), with 1 to 40 rows.
Everything comes back exactly (same values, same dtype) except raw full-precision floats, which
come back within float32 precision of their range (the transformed matrix is float32), and
``text`` columns (names distinct per row, 10+ of them): their values are generated, not copied,
and their nulls drawn at the training rate, so only their dtype and null marker come back exactly
(and a column without nulls stays without).

The transformers here switch the rare-value protection off (``rare_threshold=1``): these tests check
reversibility; the protection itself is checked in ``tests/unit/test_rare_values.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive.core.data import DataTransformer

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

WORDS = st.text(alphabet=st.sampled_from(list("abcXYZ éü東京-_ 0")), min_size=0, max_size=6)
TIMEZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]
NAMES = st.lists(st.text(alphabet=st.sampled_from(list("abkrXYZéü東-'")), min_size=2, max_size=7),
                 min_size=1, max_size=3).map(" ".join)
EXACT, APPROX, TEXT = "exact", "approx", "text"


def _with_nulls(draw, values: list, allow: bool) -> list:
    if not allow:
        return values
    mask = draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    return [None if m else v for v, m in zip(values, mask)]


@st.composite
def names_column(draw, n: int):
    """Names distinct per row: ``text`` when 10 or more are present, else categorical."""
    dtype = draw(st.sampled_from([object, "string", "str"]))
    values = _with_nulls(draw, draw(st.lists(NAMES, min_size=n, max_size=n, unique=True)), draw(st.booleans()))
    series = pd.Series(values, dtype=dtype)
    return series, TEXT if series.notna().sum() >= 10 else EXACT


@st.composite
def columns(draw, n: int):
    """One (series, kind of check) pair: ``EXACT``, ``APPROX`` (raw floats) or ``TEXT`` (names)."""
    kind = draw(st.sampled_from([
        "int", "nullable_int", "decimal", "float32", "raw_float", "bool", "boolean",
        "strings", "category", "string_dtype", "date", "timestamp", "tz", "date_string",
        "constant", "all_null", "wide_int", "str_default", "uint8", "int32", "Float64",
        "timedelta", "object_ints", "date_objects", "mixed_object", "names",
    ]))
    nulls = draw(st.booleans())
    if kind in ("int", "wide_int"):
        bound = 1000 if kind == "int" else 50_000
        values = draw(st.lists(st.integers(-bound, bound), min_size=n, max_size=n))
        return pd.Series(values, dtype="int64"), EXACT
    if kind == "nullable_int":
        values = draw(st.lists(st.integers(-500, 500), min_size=n, max_size=n))
        return pd.Series(_with_nulls(draw, values, nulls), dtype="Int64"), EXACT
    if kind == "decimal":
        decimals = draw(st.integers(0, 3))
        ints = draw(st.lists(st.integers(-20_000, 20_000), min_size=n, max_size=n))
        values = (np.array(ints, dtype=np.float64) / 10**decimals).tolist()
        values = [np.nan if v is None else v for v in _with_nulls(draw, values, nulls)]
        return pd.Series(values, dtype="float64"), EXACT
    if kind == "float32":
        ints = draw(st.lists(st.integers(-5_000, 5_000), min_size=n, max_size=n))
        return pd.Series((np.array(ints) / 100).astype(np.float32)), EXACT
    if kind == "raw_float":
        values = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
                               min_size=n, max_size=n))
        return pd.Series(values, dtype="float64"), APPROX
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool), EXACT
    if kind == "boolean":
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return pd.Series(_with_nulls(draw, values, nulls), dtype="boolean"), EXACT
    if kind in ("strings", "category", "string_dtype"):
        pool = draw(st.lists(WORDS, min_size=1, max_size=8, unique=True))
        values = _with_nulls(draw, draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)), nulls)
        if kind == "category":
            return pd.Series(pd.Categorical(values, categories=sorted(pool))), EXACT
        if kind == "string_dtype":
            return pd.Series(values, dtype="string"), EXACT
        return pd.Series(values, dtype=object), EXACT
    if kind in ("date", "date_string"):
        days = draw(st.lists(st.integers(-20_000, 30_000), min_size=n, max_size=n))
        stamps = pd.Series(pd.Timestamp("1970-01-01") + pd.to_timedelta(days, unit="D"))
        if kind == "date_string":
            fmt = draw(st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"]))
            text = stamps.dt.strftime(fmt).tolist()
            return pd.Series(_with_nulls(draw, text, nulls), dtype=object), EXACT
        return stamps.mask(pd.Series(_with_nulls(draw, [False] * n, nulls)).isna()), EXACT
    if kind in ("timestamp", "tz"):
        seconds = draw(st.lists(st.integers(0, 5 * 86_400), min_size=n, max_size=n))
        stamps = pd.Series(pd.Timestamp("2024-03-30") + pd.to_timedelta(seconds, unit="s"))
        if kind == "tz":
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(draw(st.sampled_from(TIMEZONES)))
        return stamps.mask(pd.Series(_with_nulls(draw, [False] * n, nulls)).isna()), EXACT
    if kind == "str_default":  # pandas' default string dtype
        pool = draw(st.lists(WORDS, min_size=1, max_size=8, unique=True))
        values = _with_nulls(draw, draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)), nulls)
        return pd.Series([v for v in values], dtype="str"), EXACT
    if kind in ("uint8", "int32"):
        values = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n))
        return pd.Series(values, dtype=kind), EXACT
    if kind == "Float64":
        ints = draw(st.lists(st.integers(-999, 999), min_size=n, max_size=n))
        values = _with_nulls(draw, (np.array(ints) / 10).tolist(), nulls)
        return pd.Series(pd.array(values, dtype="Float64")), EXACT
    if kind == "timedelta":
        minutes = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n))
        return pd.Series(pd.to_timedelta(minutes, unit="m")), EXACT
    if kind == "object_ints":
        values = draw(st.lists(st.integers(-300, 300), min_size=n, max_size=n))
        return pd.Series(_with_nulls(draw, values, nulls), dtype=object), EXACT
    if kind == "date_objects":
        days = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
        dates = (pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D")).date
        return pd.Series(list(dates), dtype=object), EXACT
    if kind == "mixed_object":
        pool = [1, "one", 2.5, "二", True]
        values = draw(st.lists(st.sampled_from(pool[:4]), min_size=n, max_size=n))
        return pd.Series(_with_nulls(draw, values, nulls), dtype=object), EXACT
    if kind == "names":
        return draw(names_column(n))
    if kind == "constant":
        return pd.Series([draw(st.sampled_from([3, 2.5, "x"]))] * n), EXACT
    return pd.Series([np.nan] * n, dtype="float64"), EXACT


@st.composite
def frames(draw):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(1, 5))
    cols = [draw(columns(n)) for _ in range(k)]
    data = pd.DataFrame({f"c{i}": series for i, (series, _) in enumerate(cols)})
    check = {f"c{i}": flag for i, (_, flag) in enumerate(cols)}
    return data, check


@st.composite
def frames_with_text(draw):
    """A names column (text when 10+ are present) among 1 to 3 columns of any kind."""
    n = draw(st.integers(10, 40))
    cols = [draw(names_column(n))] + [draw(columns(n)) for _ in range(draw(st.integers(1, 3)))]
    order = draw(st.permutations(range(len(cols))))
    data = pd.DataFrame({f"c{i}": cols[j][0] for i, j in enumerate(order)})
    return data, {f"c{i}": cols[j][1] for i, j in enumerate(order)}


@SETTINGS
@given(frames(), st.integers(0, 2**32), st.sampled_from([2, 50]))
def test_inverse_of_transform_reproduces_the_frame(case, seed, max_onehot):
    """``max_onehot=2`` sends most categoricals through the frequency encoder."""
    _check_round_trip(*case, seed, max_onehot)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames_with_text(), st.integers(0, 2**32))
def test_text_columns_keep_dtype_and_null_rate_and_the_others_their_values(case, seed):
    _check_round_trip(*case, seed, 50)


def _check_round_trip(data: pd.DataFrame, check: dict[str, str], seed: int, max_onehot: int) -> None:
    transformer = DataTransformer(n_jobs=1, max_onehot=max_onehot, rare_threshold=1).fit(data, seed=seed)
    matrix = transformer.transform(data, rng=np.random.default_rng(seed))
    assert matrix.dtype == np.float32
    assert matrix.shape == (len(data), transformer.output_dim_)
    restored = transformer.inverse_transform(matrix, rng=np.random.default_rng(seed))
    assert list(restored.columns) == list(data.columns)
    for column in data.columns:
        original, back = data[column], restored[column]
        assert back.dtype == original.dtype, column
        assert (transformer.sdtypes_[column] == "text") == (check[column] == TEXT), column
        if check[column] == TEXT:
            if not original.isna().any():
                assert back.notna().all(), column
            if original.dtype == object:  # the training null marker (None, nan) is kept too
                assert {type(v) for v in back[back.isna()]} <= {type(v) for v in original[original.isna()]}
            many = transformer.inverse_transform(np.tile(matrix, (4000 // len(data) + 1, 1)),
                                                 rng=np.random.default_rng(seed))[column]
            assert abs(many.isna().mean() - original.isna().mean()) < 0.05, column  # ~6 sd at 4000+ rows
        elif check[column] == EXACT:
            pd.testing.assert_series_equal(back, original, check_names=False)
        else:
            span = float(original.max() - original.min())
            np.testing.assert_allclose(back.to_numpy(), original.to_numpy(), rtol=0,
                                       atol=1e-5 * max(span, 1e-9))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6), min_size=2, max_size=60, unique=True),
       st.integers(0, 2**32))
def test_unique_int_columns_round_trip_exactly(values, seed):
    """Wide integer ranges (up to 2e6) still round-trip exactly through float32."""
    data = pd.DataFrame({"x": pd.Series(values, dtype="int64")})
    transformer = DataTransformer(n_jobs=1, rare_threshold=1).fit(data, {"x": "numerical"}, seed=seed)
    rng = np.random.default_rng(seed)
    restored = transformer.inverse_transform(transformer.transform(data, rng=rng), rng=rng)
    pd.testing.assert_series_equal(restored["x"], data["x"])


@pytest.mark.parametrize("n_rows", [1, 2])
def test_tiny_frames(n_rows):
    data = pd.DataFrame({"a": [1.5, 2.5][:n_rows], "b": ["x", None][:n_rows]})
    transformer = DataTransformer(n_jobs=1, rare_threshold=1).fit(data)
    rng = np.random.default_rng(0)
    restored = transformer.inverse_transform(transformer.transform(data, rng=rng), rng=rng)
    pd.testing.assert_frame_equal(restored, data)
