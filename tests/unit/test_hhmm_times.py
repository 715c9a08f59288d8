"""Clock times held as numbers ``hhmm`` (nycflights13's ``dep_time``: ``517`` is 05:17, ``2400`` midnight) come
back as valid clock times from every engine: they are modelled as minutes since midnight, so no engine fills the
gap after every ``:59`` (``2066``, ``1483`` and ``760`` were 19-21% of the generated values)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.core.models import CTGAN, TabularAR
from syntho_hive.exceptions import GenerationError, SchemaError


def _invalid(values: pd.Series) -> int:
    """How many non-null values are no clock time hhmm."""
    present = values.dropna()
    return int(((present < 0) | (present > 2400) | (present % 100 >= 60) | (present != present.round())).sum())


def _flights(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Scheduled departures (int64), actual ones (float64, 10% missing, some at 2400) and arrivals."""
    rng = np.random.default_rng(seed)
    scheduled = rng.integers(5 * 60, 23 * 60 + 59, n)
    delay = rng.integers(-10, 90, n)
    actual = np.minimum(scheduled + delay, 24 * 60).astype(float)
    actual[rng.random(n) < 0.1] = np.nan
    arrival = (scheduled + rng.integers(60, 300, n)) % 1440

    def hhmm(minutes: np.ndarray) -> np.ndarray:
        return minutes // 60 * 100 + minutes % 60

    return pd.DataFrame({"flight_id": np.arange(n), "sched_dep_time": hhmm(scheduled), "dep_time": hhmm(actual),
                         "arr_time": pd.array(hhmm(arrival), dtype="Int64"), "distance": rng.integers(100, 3000, n)})


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    frame = _flights()
    assert (frame["dep_time"] == 2400).any() and frame["dep_time"].isna().any()
    return frame


CLOCKS = ["sched_dep_time", "dep_time", "arr_time"]
ENGINES = {
    "tabular_ar": lambda: TabularAR(Metadata().add_table("flights", pk="flight_id"), epochs=3, hidden_dim=32),
    "ctgan": lambda: CTGAN(Metadata().add_table("flights", pk="flight_id"), epochs=2, batch_size=100,
                           generator_dim=(32,), discriminator_dim=(32,), embedding_dim=8, device="cpu"),
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_detected_clock_times_come_back_valid_and_identical_after_load(engine: str, flights: pd.DataFrame,
                                                                        tmp_path: Path) -> None:
    model = ENGINES[engine]().fit(flights, seed=0, progress_bar=False)
    out = model.sample(5_000, seed=1, progress_bar=False)
    for column in CLOCKS:
        assert _invalid(out[column]) == 0, column
        assert out[column].dtype == flights[column].dtype, column
        assert out[column].nunique() > 50, column
    assert out["dep_time"].isna().any()  # nulls kept
    assert _invalid(out["distance"]) > 0  # a number column that is no clock time is left alone
    model.save(tmp_path / "m")
    loaded = type(model)().load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.sample(5_000, seed=1, progress_bar=False), out)


def test_conditions_and_impute_take_clock_times(flights: pd.DataFrame) -> None:
    model = ENGINES["tabular_ar"]().fit(flights, seed=0, progress_bar=False)
    assert (model.sample(50, seed=2, progress_bar=False, conditions={"sched_dep_time": 1730})["sched_dep_time"]
            == 1730).all()
    with pytest.raises(GenerationError, match="'sched_dep_time'.*1775"):
        model.sample(5, seed=2, progress_bar=False, conditions={"sched_dep_time": 1775})
    holes = flights.dropna().head(40).reset_index(drop=True)
    holes.loc[:9, "arr_time"] = pd.NA
    filled = model.impute(holes, seed=3)
    pd.testing.assert_frame_equal(filled.iloc[10:], holes.iloc[10:])  # observed cells exactly as given
    assert filled["arr_time"].notna().all() and _invalid(filled["arr_time"].astype(float)) == 0


def test_a_synthesizer_keeps_clock_times_valid() -> None:
    flights = _flights(400).assign(carrier_id=lambda f: f["flight_id"] % 20)
    carriers = pd.DataFrame({"carrier_id": np.arange(20), "fleet": np.arange(20) * 3 + 5})
    metadata = (Metadata().add_table("carriers", pk="carrier_id")
                .add_table("flights", pk="flight_id", fk={"carrier_id": "carriers.carrier_id"}))
    synth = Synthesizer(metadata, seed=0).fit({"carriers": carriers, "flights": flights}, epochs=2, n_jobs=1,
                                              progress_bar=False)
    out = synth.sample(seed=1, progress_bar=False)["flights"]
    assert len(out) > 100
    for column in CLOCKS:
        assert _invalid(out[column].astype(float)) == 0, column


def test_a_number_taken_for_a_clock_time_round_trips_exactly() -> None:
    """Years 2000-2023 look like clock times 20:00-20:23: modelled as minutes, they come back as the same years."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"year": rng.integers(2000, 2024, 300), "amount": rng.normal(50, 10, 300)})
    model = TabularAR(epochs=2, hidden_dim=32).fit(frame, seed=0, progress_bar=False)
    assert model.hhmm_columns_ == ["year"]
    pd.testing.assert_frame_equal(model.impute(frame, seed=0), frame)  # nothing missing: every value as given
    out = model.sample(2_000, seed=1, progress_bar=False)
    assert out["year"].dtype == np.int64 and out["year"].between(2000, 2023).all()


def test_detection_needs_clock_like_values() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({
        "hundreds": rng.integers(1, 24, 300) * 100,  # one minute part
        "small": rng.integers(0, 60, 300),  # no value >= 100
        "counts": rng.integers(0, 2400, 300),  # minutes >= 60 in ~40% of the values
        "quarters": rng.integers(0, 24, 300) * 100 + rng.integers(0, 4, 300) * 15,  # 4 minute parts
    })
    model = TabularAR(epochs=1, hidden_dim=32).fit(frame, seed=0, progress_bar=False)
    assert model.hhmm_columns_ == []


def test_declared_clock_times(tmp_path: Path) -> None:
    """``datetime_formats={"col": "%H%M"}`` on a number column declares one (here quarter hours, too few minute
    parts to be detected); a declared column with a value that is no clock time is refused by name."""
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"id": np.arange(300),
                          "slot": rng.integers(6, 22, 300) * 100 + rng.integers(0, 4, 300) * 15})
    metadata = Metadata().add_table("slots", pk="id", datetime_formats={"slot": "%H%M"})
    model = TabularAR(metadata, epochs=2, hidden_dim=32).fit(frame, seed=0, progress_bar=False)
    assert model.hhmm_columns_ == ["slot"]
    assert _invalid(model.sample(2_000, seed=1, progress_bar=False)["slot"]) == 0
    with pytest.raises(SchemaError, match="'slot'.*1275"):
        TabularAR(metadata, epochs=1).fit(frame.assign(slot=frame["slot"].where(frame.index > 0, 1275)), seed=0,
                                          progress_bar=False)
