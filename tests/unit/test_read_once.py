"""Columns read once: a datetime encoder's transform after prepare reuses the strings prepare parsed,
and ``detect_sdtype`` infers an object column's kind once, checking values one by one only where the
kind leaves nested values possible. Guards that the shortcuts never change a result."""

from __future__ import annotations

import datetime as dt
import decimal
import pickle

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.data.encoders.datetime import DatetimeEncoder
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.exceptions import SchemaError


def test_a_datetime_encoder_reuses_its_parse_only_for_the_strings_it_prepared() -> None:
    prepared = pd.Series(["2020-01-01", "2020-03-05", None, "2021-07-09", "2020-11-30"] * 4, dtype=object)
    other = prepared.iloc[::-1].reset_index(drop=True)
    encoder = DatetimeEncoder("day").fit(prepared, seed=0)
    pickled = pickle.dumps(encoder)
    assert b"2020-03-05" not in pickled  # the parsed training strings are never pickled
    fresh = pickle.loads(pickled)  # parses every transform
    again = pickle.loads(pickled)
    assert np.array_equal(encoder.transform(other, np.random.default_rng(1)),
                          fresh.transform(other, np.random.default_rng(1)))
    reused = DatetimeEncoder("day").fit(prepared, seed=0)
    assert np.array_equal(reused.transform(prepared, np.random.default_rng(1)),
                          again.transform(prepared, np.random.default_rng(1)))
    edited = DatetimeEncoder("day").fit(prepared, seed=0)
    prepared.iloc[0] = "2021-07-09"  # changed in place after prepare: parsed again
    assert np.array_equal(edited.transform(prepared, np.random.default_rng(1)),
                          pickle.loads(pickled).transform(prepared, np.random.default_rng(1)))


@pytest.mark.parametrize("values", [
    ["a", ["b"]], [1, [2]], [[1], [2]], [np.array([1]), "a"], ["a", {"k": 1}], [1.5, [1]], [True, [1]],
    [dt.date(2020, 1, 1), [1]], [b"x", [1]], [decimal.Decimal(1), [1]], [{1}, "a"], [dt.time(1), [1]],
    [1, np.array([2])]])
def test_nested_values_are_refused_whatever_else_the_column_holds(values: list[object]) -> None:
    with pytest.raises(SchemaError, match="'tags' holds nested values"):
        detect_sdtype(pd.Series(values + [None], dtype=object), "tags")


@pytest.mark.parametrize(("values", "sdtype"), [
    (["2020-01-01", "2021-02-03", None] * 5, "datetime"), ([True, False, None] * 5, "boolean"),
    ([1, 2, None] * 5, "numerical"), ([dt.time(1), None] * 5, "numerical"), ([None, None], "categorical"),
    ([dt.date(2020, 1, 1), None] * 5, "datetime"), (["a", "b", "a", None] * 5, "categorical")])
def test_object_columns_keep_their_sdtype(values: list[object], sdtype: str) -> None:
    assert detect_sdtype(pd.Series(values, dtype=object), "column") == sdtype
