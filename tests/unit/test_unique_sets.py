"""Unique column sets declared in the metadata (``unique=``) for sources without constraints (DataFrames,
files): a column alone comes back unique in its real format, a set comes back with no repeated combination,
and the declaration survives the metadata's JSON.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.exceptions import SchemaError
from syntho_hive.relational.unique_sets import UniqueSets


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    users = pd.DataFrame({"id": np.arange(1, 101), "seat": rng.choice(np.arange(1, 400), 100, replace=False),
                          "g": np.arange(1, 101) % 3})
    rows = [(user, day) for user in range(1, 101) for day in rng.choice(10, rng.integers(1, 9), replace=False)]
    visits = pd.DataFrame({"id": np.arange(1, len(rows) + 1), "user_id": [u for u, _ in rows],
                           "day": pd.to_datetime("2024-01-01") + pd.to_timedelta([d for _, d in rows], unit="D")})
    return {"users": users, "visits": visits}


def _metadata() -> Metadata:
    metadata = Metadata()
    metadata.add_table("users", pk="id", columns={"seat": "numerical", "g": "categorical"}, unique=[["seat"]])
    metadata.add_table("visits", pk="id", fk={"user_id": "users.id"}, columns={"day": "datetime"},
                       unique=[["user_id", "day"]])
    return metadata


def test_declared_unique_sets_come_back_unique() -> None:
    frames = _frames()
    synthesizer = Synthesizer(_metadata(), seed=0)
    synthesizer.fit(frames, epochs=1, progress_bar=False, n_jobs=1)
    out = synthesizer.sample(num_rows={"users": 100, "visits": 450}, seed=0)
    seats = out["users"]["seat"]
    assert seats.is_unique and len(seats) == 100 and seats.dtype == frames["users"]["seat"].dtype
    visits = out["visits"]
    assert not visits.duplicated(["user_id", "day"]).any()
    assert len(visits) >= 0.98 * 450  # repeated pairs are redrawn; only a hopeless one is dropped


def test_unique_sets_are_validated_and_survive_json() -> None:
    metadata = _metadata()
    assert Metadata.from_json(metadata.to_json()).tables["visits"].unique == [["user_id", "day"]]
    with pytest.raises(SchemaError):
        Metadata().add_table("t", unique=[[]])
    with pytest.raises(SchemaError, match="unique"):
        metadata.validate_schema(_frames() | {"visits": _frames()["visits"].drop(columns="day")})


def test_rows_are_redrawn_then_dropped_and_nulls_repeat_nothing() -> None:
    frame = pd.DataFrame({"k": [1, 1, 1, 2, None, None], "v": ["a", "a", "b", "a", "a", "a"]})
    sets = UniqueSets([["k", "v"]], keys={"k"}, prior=pd.DataFrame({"k": [2.0], "v": ["a"]}))
    out = sets.apply(frame, np.random.default_rng(0))
    complete = out.dropna(subset=["k"])
    assert not complete.duplicated().any() and (complete.values.tolist().count([2.0, "a"]) == 0)
    assert out["k"].isna().sum() == 2  # a null in the set repeats nothing
    fixed = UniqueSets([["k"]], keys={"k"}).apply(pd.DataFrame({"k": [1, 1, 2]}), np.random.default_rng(0))
    assert fixed["k"].tolist() == [1, 2]  # nothing to redraw: the repeated row is dropped
