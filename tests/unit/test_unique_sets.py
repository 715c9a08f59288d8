"""Unique column sets declared in the metadata (``unique=``) for sources without constraints (DataFrames,
files): a column alone comes back unique in its real format, a set comes back with no repeated combination,
and the declaration survives the metadata's JSON.
"""

from __future__ import annotations

import datetime as dt
import decimal

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


def test_a_redrawn_row_keeps_its_rules() -> None:
    """A repeated (user_id, day) took only ``day`` from another row, after the rules: its declared ``day <= end``
    and its date part broke. It now takes the whole row but its fixed columns (keys, copies of its parent)."""
    rng = np.random.default_rng(0)
    users = pd.DataFrame({"id": np.arange(1, 101), "country": rng.choice(["FR", "DE", "IT"], 100)})
    rows = [(user, day) for user in range(1, 101) for day in rng.choice(10, rng.integers(1, 9), replace=False)]
    day = pd.to_datetime("2024-01-01") + pd.to_timedelta([9 * d for _, d in rows], unit="D")
    visits = pd.DataFrame({"id": np.arange(1, len(rows) + 1), "user_id": [u for u, _ in rows], "day": day,
                           "end": day + pd.to_timedelta(rng.integers(0, 3, len(rows)), unit="D")})
    visits["month"] = visits["day"].dt.month
    visits["country"] = visits["user_id"].map(users.set_index("id")["country"])
    metadata = Metadata()
    metadata.add_table("users", pk="id", columns={"country": "categorical"})
    metadata.add_table("visits", pk="id", fk={"user_id": "users.id"}, columns={"day": "datetime", "end": "datetime"},
                       inequalities=[{"low": "day", "high": "end"}], date_parts={"month": "day.month"},
                       copied_from={"country": "users.country"}, unique=[["user_id", "day"]])
    synthesizer = Synthesizer(metadata, seed=0)
    synthesizer.fit({"users": users, "visits": visits}, epochs=1, progress_bar=False, n_jobs=1)
    out = synthesizer.sample(num_rows={"users": 100, "visits": 450}, seed=0)
    visits = out["visits"]
    assert not visits.duplicated(["user_id", "day"]).any() and len(visits) >= 0.98 * 450
    assert (visits["day"] <= visits["end"]).all()
    assert (visits["day"].dt.month == visits["month"]).all()
    parents = visits["user_id"].map(out["users"].set_index("id")["country"])
    assert (visits["country"] == parents).all()


def test_a_set_without_a_fixed_column_is_not_redrawn() -> None:
    """Any donor's value is in the chunk already: the repeated rows are dropped without redrawing."""
    frame = pd.DataFrame({"k": [1, 2, 3, 4], "v": ["a", "a", "b", "a"], "w": [1.0, 2.0, 3.0, 4.0]})
    sets = UniqueSets([["v"]], keys={"k"})
    out = sets.apply(frame, np.random.default_rng(0))
    assert out.to_dict("list") == {"k": [1, 3], "v": ["a", "b"], "w": [1.0, 3.0]}
    assert (sets.redrawn, sets.dropped) == (0, 2)


def test_dates_and_decimals_declared_unique_stay_modelled() -> None:
    """A unique column of ``datetime.date``, ``Decimal`` or date strings was generated as string codes
    (``'2024-05-37'``); it is now modelled (its own type and range) and kept unique."""
    rng = np.random.default_rng(0)
    rows = 60
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=int(i)) for i in rng.permutation(200)[:rows]]
    real = pd.DataFrame({"id": np.arange(1, rows + 1), "day": days,
                         "price": [decimal.Decimal(f"{x}.50") for x in rng.permutation(500)[:rows]],
                         "stamp": [d.isoformat() for d in days], "g": np.arange(rows) % 3})
    metadata = Metadata().add_table("t", pk="id", unique=[["day"], ["price"], ["stamp"]])
    synthesizer = Synthesizer(metadata, seed=0)
    synthesizer.fit({"t": real}, epochs=1, progress_bar=False, n_jobs=1)
    out = synthesizer.sample(num_rows={"t": 60}, seed=0)["t"]
    assert len(out) > 0 and all(out[c].is_unique for c in ("day", "price", "stamp"))
    assert all(isinstance(v, dt.date) for v in out["day"]) and all(isinstance(v, decimal.Decimal) for v in out["price"])
    assert pd.to_datetime(out["stamp"], format="%Y-%m-%d").between("2024-01-01", "2024-12-31").all()


def test_a_unique_column_named_by_a_rule_keeps_the_rule() -> None:
    """A column unique alone was generated as a key and its declared bound and inequality were dropped (67 of
    200 seats above the declared 400): it is now modelled, so they hold, and kept unique."""
    rng = np.random.default_rng(0)
    seat = np.sort(rng.choice(np.arange(1, 134), 100, replace=False)) * 3
    real = pd.DataFrame({"id": np.arange(1, 101), "seat": seat, "cap": seat + rng.integers(1, 50, 100)})
    metadata = Metadata().add_table(
        "t", pk="id", columns={"seat": "numerical", "cap": "numerical"}, constraints={"seat": {"min": 1, "max": 400}},
        inequalities=[{"low": "seat", "high": "cap"}], unique=[["seat"]])
    synthesizer = Synthesizer(metadata, seed=0)
    synthesizer.fit({"t": real}, epochs=1, progress_bar=False, n_jobs=1)
    out = synthesizer.sample(num_rows={"t": 200}, seed=0)["t"]
    assert len(out) > 0 and out["seat"].is_unique
    assert out["seat"].between(1, 400).all() and (out["seat"] < out["cap"]).all()
