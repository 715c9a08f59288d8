"""Property: ``object`` columns mixing values Python counts as equal keep every value, with its type.

``1 == True == 1.0`` (and ``0 == False == 0.0 == -0.0``), and they hash alike, so encoders
keyed by value used to merge them: ``True`` and ``1.0`` came back as ``1``. Over object
columns drawn from bools, ints, floats and strings (NumPy scalars and nulls included), the
round trips of both encoders are exact by ``(type, value)``:

* the DataTransformer (CTGAN, TVAE): ``inverse_transform(transform(df))``, one-hot and
  frequency-encoded, declared categorical or boolean;
* TabularAR's TableCodec: ``decode(encode(df))``, also after its state went through JSON.

The transformers here switch the rare-value protection off (``rare_threshold=1``): these tests check
reversibility; the protection itself is checked in ``tests/unit/test_rare_values.py``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive.core.data import DataTransformer
from syntho_hive.core._value_kinds import factorize_values
from syntho_hive.core.models.tabular_ar.encoders import CodecConfig, TableCodec
from syntho_hive.exceptions import SchemaError

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Values that collide across types (and a few that do not).
POOL = [1, True, 1.0, "1", 0, False, 0.0, "0", 2, 2.0, "x", "True", np.int64(1), np.float64(2.0), np.bool_(False)]
NULLS = [None, np.nan]


def _canonical(value: Any) -> tuple[type, Any] | None:
    """``(type, value)`` with NumPy scalars as the Python type they stand for; ``None`` for nulls."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return type(value), value


def _pairs(series: pd.Series) -> list[tuple[type, Any] | None]:
    return [_canonical(v) for v in series.to_numpy(dtype=object)]


@st.composite
def mixed_columns(draw: st.DrawFn, min_size: int = 1) -> pd.Series:
    pool = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=8, unique_by=_canonical))
    values = draw(st.lists(st.sampled_from(pool), min_size=min_size, max_size=40))
    if draw(st.booleans()):
        nulls = draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
        values = [NULLS[0] if null else v for v, null in zip(values, nulls)]
    series = pd.Series(np.empty(len(values), dtype=object), name="mixed")
    series[:] = values
    return series


@SETTINGS
@given(series=mixed_columns(), max_onehot=st.sampled_from([1, 50]))
def test_transformer_round_trip_is_exact_by_type_and_value(series: pd.Series, max_onehot: int) -> None:
    frame = series.to_frame()
    transformer = DataTransformer(n_jobs=1, max_onehot=max_onehot, rare_threshold=1).fit(frame, {"mixed": "categorical"})
    rng = np.random.default_rng(0)
    back = transformer.inverse_transform(transformer.transform(frame, rng=rng), rng=rng)
    assert _pairs(back["mixed"]) == _pairs(series)
    assert back["mixed"].dtype == object


@SETTINGS
@given(series=mixed_columns())
def test_transformer_conditions_on_each_value_by_type(series: pd.Series) -> None:
    frame = series.to_frame()
    transformer = DataTransformer(n_jobs=1, rare_threshold=1).fit(frame, {"mixed": "categorical"})
    _, distinct = factorize_values(series.dropna().to_numpy(dtype=object))
    if len(distinct) + int(series.isna().any()) < 2:
        return  # one category: not modelled, nothing to condition on
    slots = [transformer.condition_index("mixed", value)[1] for value in distinct]
    assert len(set(slots)) == len(distinct)


@SETTINGS
@given(series=mixed_columns(), through_json=st.booleans())
def test_table_codec_round_trip_is_exact_by_type_and_value(series: pd.Series, through_json: bool) -> None:
    frame = series.to_frame()
    codec = TableCodec.fit(frame, {"mixed": "categorical"}, config=CodecConfig(rare_threshold=1))
    if through_json:
        codec = TableCodec.from_dict(json.loads(json.dumps(codec.to_dict(), allow_nan=False)))
    back = codec.decode(codec.encode(frame), np.random.default_rng(0))
    assert _pairs(back["mixed"]) == _pairs(series)
    for value in series.dropna().unique():
        tokens = codec.codec("mixed").allowed_tokens(value)[0]
        decoded = codec.decode(tokens.reshape(1, 1), np.random.default_rng(0))["mixed"]
        assert _pairs(decoded) == [_canonical(value)]


@SETTINGS
@given(values=st.lists(st.sampled_from([1, True, 1.0, 0, False, 0.0]), min_size=2, max_size=30))
def test_a_boolean_table_codec_column_is_exact_or_refused(values: list[Any]) -> None:
    series = pd.Series(np.empty(len(values), dtype=object), name="flag")
    series[:] = values
    kinds = {type(v) for v in values}
    try:
        codec = TableCodec.fit(series.to_frame(), {"flag": "boolean"})
    except SchemaError as exc:
        assert len(kinds) > 1
        assert "'flag'" in str(exc) and "declare it categorical" in str(exc)
        return
    assert len(kinds) == 1
    codec = TableCodec.from_dict(json.loads(json.dumps(codec.to_dict())))
    back = codec.decode(codec.encode(series.to_frame()), np.random.default_rng(0))
    assert _pairs(back["flag"]) == _pairs(series)


@pytest.mark.parametrize("values", [[True, 1], [1, 1.0, 0], [False, 0.0]])
def test_partitions_that_mix_boolean_kinds_are_refused_when_merged(values: list[Any]) -> None:
    from syntho_hive.core.models.tabular_ar.encoders import analyze_table, reduce_stats

    parts = [analyze_table(pd.DataFrame({"flag": pd.Series([v] * 3, dtype=object)}), {"flag": "boolean"})
             for v in values]
    with pytest.raises(SchemaError, match="Boolean column 'flag' mixes"):
        TableCodec.build(reduce_stats(parts))
