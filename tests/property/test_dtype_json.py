"""Property: the one dtype <-> JSON implementation reads back every dtype it writes, exactly.

``dtype_from_json(dtype_to_json(d)) == d`` over NumPy dtypes, pandas nullable dtypes, strings
(``string`` and NaN-missing ``str``, both storages), ``category`` (int, int8, string, timestamp
categories; ordered or not), naive and tz-aware datetimes in every unit, timedeltas, ``object``
and pyarrow-backed ``ArrowDtype``; the JSON survives ``json.dumps``/``json.loads``. Anything that
is not a stored dtype is refused with a :class:`SerializationError`, never a raw builtin error.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive.core.data import _dtypes, text_model
from syntho_hive.core.data._dtypes import dtype_from_json, dtype_to_json
from syntho_hive.exceptions import SerializationError

pa = pytest.importorskip("pyarrow")

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNITS = ("ns", "us", "ms", "s")
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata")

NUMPY = st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                         "float32", "float64", "bool", "object"]).map(np.dtype)
NUMPY_TIMES = st.tuples(st.sampled_from(["datetime64", "timedelta64"]), st.sampled_from(UNITS)).map(
    lambda kind_unit: np.dtype(f"{kind_unit[0]}[{kind_unit[1]}]"))
NULLABLE = st.sampled_from(["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32",
                            "Float64", "boolean", "string[python]", "string[pyarrow]"]).map(pd.api.types.pandas_dtype)
NAN_STRINGS = st.sampled_from(["python", "pyarrow"]).map(lambda storage: pd.StringDtype(storage, na_value=np.nan))
TZ_AWARE = st.builds(pd.DatetimeTZDtype, st.sampled_from(UNITS), st.sampled_from(ZONES))
ARROW = st.one_of(
    st.sampled_from([pa.int8(), pa.int64(), pa.uint32(), pa.float32(), pa.float64(), pa.bool_(), pa.string(),
                     pa.large_string(), pa.binary(), pa.date32()]),
    st.builds(pa.timestamp, st.sampled_from(UNITS), st.sampled_from((None, *ZONES))),
    st.builds(pa.duration, st.sampled_from(UNITS)),
).map(pd.ArrowDtype)
STAMPS = st.integers(0, 2 * 10**9).map(lambda s: pd.Timestamp(s, unit="s"))
CATEGORY_VALUES = st.one_of(
    st.lists(st.integers(-(2**62), 2**62), unique=True, max_size=8).map(pd.Index),
    st.lists(st.integers(-128, 127), unique=True, max_size=8).map(lambda v: pd.Index(v, dtype="int8")),
    st.lists(st.text(max_size=6), unique=True, max_size=8).map(pd.Index),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), unique=True, min_size=1, max_size=5).map(pd.Index),
    st.lists(STAMPS, unique=True, min_size=1, max_size=5).map(pd.Index),
    st.tuples(st.lists(STAMPS, unique=True, min_size=1, max_size=5), st.sampled_from(ZONES)).map(
        lambda stamps_zone: pd.DatetimeIndex(stamps_zone[0]).tz_localize("UTC").tz_convert(stamps_zone[1])),
)
CATEGORIES = st.one_of(
    st.builds(pd.CategoricalDtype, CATEGORY_VALUES, ordered=st.booleans()),
    st.builds(pd.CategoricalDtype, ordered=st.booleans()),
)
DTYPES = st.one_of(NUMPY, NUMPY_TIMES, NULLABLE, NAN_STRINGS, TZ_AWARE, ARROW, CATEGORIES)


def _through_json(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data, allow_nan=False))


@SETTINGS
@given(dtype=DTYPES)
def test_every_dtype_reads_back_as_itself(dtype: Any) -> None:
    back = dtype_from_json(_through_json(dtype_to_json(dtype, "a column")))
    assert back == dtype
    assert type(back) is type(dtype)
    assert _dtypes.dtype_name(back) == _dtypes.dtype_name(dtype)
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None:
        assert back.categories.dtype == dtype.categories.dtype
        assert back.categories.tolist() == dtype.categories.tolist()


@SETTINGS
@given(dtype=DTYPES)
def test_without_categories_a_category_keeps_its_order_only(dtype: Any) -> None:
    stored = _through_json(dtype_to_json(dtype, "a text column", categories=False))
    back = dtype_from_json(stored, categories=False)
    if isinstance(dtype, pd.CategoricalDtype):
        assert stored == {"name": "category", "ordered": dtype.ordered}
        assert back == pd.CategoricalDtype(ordered=dtype.ordered)
    else:
        assert back == dtype


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=8)
NAMES = st.one_of(st.text(max_size=40), st.sampled_from([
    "datetime64[ns, Nowhere/Zone]", "datetime64[xs]", "int64[pyarrow]", "decimal128(10, 2)[pyarrow]",
    "list<item: int64>[pyarrow]", "dictionary<values=string, indices=int32, ordered=0>[pyarrow]", "str[python]",
    "str[nothing]", "string[nowhere]", "Sparse[int64, 0]", "period[Q]", "interval[int64, right]", "category",
    "None", "", "M8[ns, UTC]", "timestamp[us, tz=Not/AZone][pyarrow]"]))
GARBLED = st.one_of(
    JSON_VALUES,
    st.builds(lambda name: {"name": name}, st.one_of(NAMES, JSON_VALUES)),
    st.fixed_dictionaries({"name": st.just("category")}, optional={"ordered": JSON_VALUES, "categories": JSON_VALUES,
                                                                    "categories_dtype": JSON_VALUES}),
    st.fixed_dictionaries({"name": st.just("category"), "ordered": st.booleans(),
                           "categories": st.lists(JSON_VALUES, max_size=4)},
                          optional={"categories_dtype": st.builds(lambda name: {"name": name}, NAMES)}),
)


@SETTINGS
@given(data=GARBLED, categories=st.booleans())
def test_anything_else_is_refused_with_a_serialization_error(data: Any, categories: bool) -> None:
    try:
        dtype = dtype_from_json(data, "a stored column", categories=categories)
    except SerializationError as exc:
        assert "a stored column" in str(exc)
    else:  # a garbled form that happens to name a dtype: a real one
        pd.Series([], dtype=dtype)


@pytest.mark.parametrize("data", [
    None, [], "int64", {"name": 5}, {"nme": "int64"}, {"name": "no such dtype"}, {"name": "0B"}, {"name": "(2,)i4"},
    {"name": "datetime64[ns, Nowhere/Zone]"}, {"name": "category"}, {"name": "category", "ordered": "yes"},
    {"name": "category", "ordered": False, "categories": "abc"},
    {"name": "category", "ordered": False, "categories": [1, 1]},
    {"name": "category", "ordered": False, "categories": [{"t": "not a time"}]},
    {"name": "category", "ordered": False, "categories": [["i", "x"]]},
    {"name": "category", "ordered": False, "categories": [1], "categories_dtype": {"name": "nope"}},
])
def test_known_garbled_forms(data: Any) -> None:
    with pytest.raises(SerializationError, match="the state is corrupt|bad stored|unknown stored"):
        dtype_from_json(data)


@pytest.mark.parametrize("dtype", [
    pd.DatetimeTZDtype("ns", __import__("dateutil.tz").tz.gettz("Europe/Paris")),
    pd.ArrowDtype(pa.decimal128(10, 2)),
    pd.ArrowDtype(pa.list_(pa.int64())),
    pd.CategoricalDtype([(1, 2)]),
])
def test_a_dtype_that_would_not_read_back_is_refused_when_written(dtype: Any) -> None:
    with pytest.raises(SerializationError, match="column 'c'"):
        dtype_to_json(dtype, "column 'c'")


@pytest.mark.parametrize("tz", [zoneinfo.ZoneInfo("Asia/Kolkata"), dt.timezone.utc, dt.timezone(dt.timedelta(hours=1))])
def test_a_zone_object_reads_back_as_the_same_zone(tz: Any) -> None:
    dtype = pd.DatetimeTZDtype("ms", tz)
    back = dtype_from_json(_through_json(dtype_to_json(dtype, "a column")))
    assert (back.unit, str(back.tz)) == (dtype.unit, str(dtype.tz))
    stamps = pd.Series(pd.to_datetime(["2024-03-31 01:30", "2024-10-27 02:30"]).tz_localize("UTC")).dt.tz_convert(tz)
    assert stamps.astype(dtype).astype(back).astype(dtype).equals(stamps.astype(dtype))


def test_stored_forms_of_earlier_states_still_read() -> None:
    assert dtype_from_json({"name": "int64"}) == np.dtype("int64")
    assert dtype_from_json({"name": "string[pyarrow, ArrowDtype]"}) == pd.ArrowDtype(pa.string())
    legacy = {"name": "category", "ordered": True, "categories": [["s", "gold"], ["s", "silver"]]}
    assert dtype_from_json(legacy) == pd.CategoricalDtype(["gold", "silver"], ordered=True)
    # a text model's dtype written with its categories, before they were left out
    assert dtype_from_json({"name": "category", "ordered": False, "categories": ["x"]},
                           categories=False) == pd.CategoricalDtype()


def test_one_implementation() -> None:
    """dtype and cell <-> JSON are defined once, in core/data/_dtypes.py (every other module imports them)."""
    import ast
    from pathlib import Path

    import syntho_hive

    names = {"dtype_to_json", "dtype_from_json", "value_to_json"}
    package = Path(syntho_hive.__file__).parent
    defined = sorted(f"{path.relative_to(package).as_posix()}:{node.name}" for path in package.rglob("*.py")
                     for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in names)
    assert defined == sorted(f"core/data/_dtypes.py:{name}" for name in names)
    assert text_model.dtype_to_json is _dtypes.dtype_to_json


CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(), st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=3), st.dates(), st.times(), st.binary(max_size=16),
    st.datetimes().map(pd.Timestamp))


@given(CELLS)
def test_every_cell_kind_reads_back_as_itself(value: Any) -> None:
    import json
    import math

    from syntho_hive.core.data._dtypes import value_from_json, value_to_json

    stored = json.loads(json.dumps(value_to_json(value, "test")))  # strict JSON in between
    back = value_from_json(stored)
    assert type(back) is type(value)
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == value
