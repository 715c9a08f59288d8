"""Times of day (``datetime.time`` cells: SQL ``TIME``, Parquet ``time64``) are modelled as the duration
since midnight by every engine and come back as ``datetime.time`` — not as text made of their characters
(``"1::2::3:"``), which a ``TIME`` column cannot store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syntho_hive import Metadata, Synthesizer
from syntho_hive.core.data.dp_standins import standin_frame
from syntho_hive.core.time_of_day import time_columns, to_durations, to_times
from syntho_hive.core.dp import DPConfig, plan_budget
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.core.models import CTGAN, TVAE, TabularAR
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.exceptions import ConfigurationError, GenerationError, PrivacyError, SchemaError

ENGINES = {
    "tabular_ar": lambda: TabularAR(epochs=3, hidden_dim=32),
    "ctgan": lambda: CTGAN(epochs=2, batch_size=100, generator_dim=(32,), discriminator_dim=(32,), embedding_dim=8,
                           device="cpu"),
    "tvae": lambda: TVAE(epochs=2, batch_size=100, compress_dims=(32,), decompress_dims=(32,), device="cpu"),
}


def _shifts(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Work shifts: a start time between 06:00 and 10:00 (seconds apart, so no value repeats much), 10% unknown."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(6 * 3600, 10 * 3600, n)
    starts = [dt.time(int(s // 3600), int(s % 3600 // 60), int(s % 60)) for s in seconds]
    frame = pd.DataFrame({"start": pd.Series(starts, dtype=object), "hours": rng.integers(4, 10, n)})
    frame.loc[rng.random(n) < 0.1, "start"] = None
    return frame


@pytest.fixture(scope="module")
def shifts() -> pd.DataFrame:
    return _shifts()


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_gives_times_of_day_back(engine: str, shifts: pd.DataFrame, tmp_path: Path) -> None:
    model = ENGINES[engine]().fit(shifts, seed=0, progress_bar=False)
    out = model.sample(500, seed=1, progress_bar=False)
    values = out["start"]
    assert values.dtype == object
    present = values.dropna()
    assert len(present) > 0
    assert all(isinstance(v, dt.time) for v in present)
    if engine == "tabular_ar":  # the default engine keeps the null rate (0.1) and the training range; CTGAN and
        assert 0.03 < values.isna().mean() < 0.2  # TVAE after 2 epochs need not
        assert min(present) >= dt.time(6) and max(present) < dt.time(10)
    model.save(tmp_path / "m")
    loaded = ConditionalGenerativeModel.from_bytes(model.to_bytes())
    assert type(model)().load(tmp_path / "m").time_columns_ == ["start"]
    pd.testing.assert_frame_equal(loaded.sample(500, seed=1, progress_bar=False), out)


def test_tabular_ar_imputes_a_time_of_day(shifts: pd.DataFrame) -> None:
    model = ENGINES["tabular_ar"]().fit(shifts, seed=0, progress_bar=False)
    holes = shifts.head(20).copy()
    holes.loc[:9, "start"] = None
    filled = model.impute(holes, seed=2)
    assert all(isinstance(v, dt.time) for v in filled["start"])
    assert filled["start"].iloc[10:].tolist() == holes["start"].iloc[10:].tolist()


def test_a_time_of_day_is_detected_numerical_and_validates(shifts: pd.DataFrame) -> None:
    assert detect_sdtype(shifts["start"], "start") == "numerical"
    metadata = Metadata.detect(shifts, table_name="shifts")
    assert metadata.tables["shifts"].columns["start"] == "numerical"
    metadata.validate_schema({"shifts": shifts})


def test_a_schema_keeps_a_parent_time_of_day_in_children_context(shifts: pd.DataFrame) -> None:
    sites = pd.DataFrame({"site_id": range(40), "opens": [dt.time(7 + i % 3, 30) for i in range(40)]})
    visits = pd.DataFrame({"visit_id": range(300), "site_id": np.arange(300) % 40,
                           "arrived": [dt.time(8 + i % 9, i % 60, i % 7) for i in range(300)]})
    metadata = (Metadata().add_table("sites", pk="site_id")
                .add_table("visits", pk="visit_id", fk={"site_id": "sites.site_id"}))
    synth = Synthesizer(metadata, seed=0).fit({"sites": sites, "visits": visits}, epochs=2, n_jobs=1,
                                              progress_bar=False)
    tables = synth.sample(seed=1, progress_bar=False)
    for name, column in (("sites", "opens"), ("visits", "arrived")):
        assert all(isinstance(v, dt.time) for v in tables[name][column].dropna()), name


def test_times_with_a_time_zone_are_refused_by_name() -> None:
    zone = dt.timezone(dt.timedelta(hours=2))
    frame = pd.DataFrame({"at": [dt.time(8, 0, tzinfo=zone), dt.time(9, 0, tzinfo=zone)]})
    with pytest.raises(SchemaError, match="'at'.*time zone"):
        time_columns(frame)


@given(st.lists(st.one_of(st.none(), st.times()), min_size=1, max_size=30))
def test_durations_and_times_round_trip_exactly(values: list[dt.time | None]) -> None:
    frame = pd.DataFrame({"t": pd.Series(values, dtype=object)})
    columns = time_columns(frame)
    durations = to_durations(frame, columns)
    if any(v is not None for v in values):
        assert columns == ["t"] and pd.api.types.is_timedelta64_dtype(durations["t"].dtype)
    assert to_times(durations.copy(), columns)["t"].tolist() == values


@pytest.fixture(scope="module")
def shifts_model(shifts: pd.DataFrame) -> TabularAR:
    return ENGINES["tabular_ar"]().fit(shifts, seed=0, progress_bar=False)


def test_impute_keeps_observed_times_given_as_text_or_durations(shifts: pd.DataFrame, shifts_model: TabularAR) -> None:
    """Observed times read back from CSV (ISO text) or given as durations are kept, not imputed over."""
    holes = shifts.head(20).copy()
    holes["hours"] = holes["hours"].astype("float64")
    holes.loc[:4, "hours"] = np.nan
    observed = holes["start"].notna()
    expected = holes["start"][observed].tolist()
    as_text = holes.assign(start=[None if v is None else v.isoformat() for v in holes["start"]])
    as_durations = holes.assign(start=[None if v is None else dt.timedelta(hours=v.hour, minutes=v.minute,
                                                                             seconds=v.second)
                                       for v in holes["start"]])
    for rows in (as_text, as_durations):
        filled = shifts_model.impute(rows, seed=2)
        assert filled["start"][observed].tolist() == expected
        assert all(isinstance(v, dt.time) for v in filled["start"])


@pytest.mark.parametrize("value", ["noon", 3600, dt.datetime(2024, 1, 1, 9), pd.Timedelta(hours=25),
                                   dt.time(8, tzinfo=dt.timezone.utc)])
def test_impute_refuses_a_value_that_is_no_time_of_day_by_column_and_value(
        shifts: pd.DataFrame, shifts_model: TabularAR, value: object) -> None:
    holes = shifts.head(5).copy()
    holes["start"] = pd.Series([value] * 5, dtype=object)
    with pytest.raises(GenerationError, match="impute\\(\\) data.*'start'"):
        shifts_model.impute(holes, seed=2)


def test_conditions_take_iso_text_and_refuse_a_time_zone(shifts_model: TabularAR) -> None:
    out = shifts_model.sample(20, seed=1, progress_bar=False, conditions={"start": "07:30:00"})
    assert set(out["start"]) == {dt.time(7, 30)}
    with pytest.raises(GenerationError, match="'start'.*time zone"):
        shifts_model.sample(5, seed=1, progress_bar=False,
                            conditions={"start": dt.time(7, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))})


def test_an_out_of_range_time_condition_shows_durations_not_ticks(shifts_model: TabularAR) -> None:
    with pytest.raises(GenerationError, match=r"0 days 05:00:00 for column 'start' is outside the modelled range "
                                              r"\[0 days 06:0\d:\d\d, 0 days 09:5\d:\d\d\]"):
        shifts_model.sample(5, seed=1, progress_bar=False, conditions={"start": dt.time(5)})


def test_a_time_of_day_context_may_be_given_as_text_at_sample_and_impute(tmp_path: Path) -> None:
    """The context's time columns are those of the fit (kept in the checkpoint), converted strictly:
    ISO text (a parent read back from CSV) gives the same rows as the times."""
    rng = np.random.default_rng(0)
    context = pd.DataFrame({"opens": [dt.time(int(h), 0) for h in rng.integers(6, 12, 200)]})
    data = pd.DataFrame({"x": rng.normal(size=200)})
    model = ENGINES["tabular_ar"]().fit(data, context, seed=1, progress_bar=False)
    assert model.context_time_columns_ == ["opens"]
    loaded = ConditionalGenerativeModel.from_bytes(model.to_bytes())
    assert loaded.context_time_columns_ == ["opens"]
    parents = context.head(8)
    expected = model.sample(8, parents, seed=2, progress_bar=False)
    mixed = parents.copy()
    mixed.loc[4, "opens"] = parents["opens"][4].isoformat()  # one text value among times
    for rows in (parents.astype(str), mixed):
        pd.testing.assert_frame_equal(loaded.sample(8, rows, seed=2, progress_bar=False), expected)
    holes = data.head(8).copy()
    holes.loc[:2, "x"] = np.nan
    pd.testing.assert_frame_equal(model.impute(holes, parents.astype(str), seed=3),
                                  model.impute(holes, parents, seed=3))
    with pytest.raises(GenerationError, match="sample\\(\\) context.*'opens'.*'soon'"):
        model.sample(8, parents.assign(opens="soon"), seed=2, progress_bar=False)


# ----------------------------------------------------------------------------- under differential privacy
DP_ENGINES = {
    "tabular_ar": lambda dp: TabularAR(dp=dp, epochs=3, hidden_dim=32),
    "tvae": lambda dp: TVAE(dp=dp, epochs=5, batch_size=100, compress_dims=(32,), decompress_dims=(32,), device="cpu"),
}


def _office_hours(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Arrivals between 09:00 and 17:00 (minutes apart) and a shift length of 1 to 8 hours (seconds apart)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"t": [dt.time(int(h), int(m)) for h, m in zip(rng.integers(9, 17, n), rng.integers(0, 60, n))],
                         "shift": pd.to_timedelta(rng.integers(3600, 8 * 3600, n), unit="s"),
                         "x": rng.normal(size=n)})


def test_dp_stand_ins_count_a_duration_in_its_unit_not_in_nanoseconds() -> None:
    """Durations of hours are 1e13 ns, past the top of the sign-logarithmic grid (1e12): counted in
    seconds they keep their range (they came back as ~17 minutes)."""
    frame = _office_hours()[["shift"]]
    plan = plan_budget(DPConfig(max_epsilon=4.0), rows=len(frame), queries=1, category_queries=0, batch_size=100,
                       epochs=1, rare_threshold=5)
    standins, _ = standin_frame(frame, {"shift": "numerical"}, plan, np.random.default_rng(0), rows=2000)
    shift = standins["shift"].dropna()
    assert shift.dtype == frame["shift"].dtype
    assert shift.between(pd.Timedelta(minutes=45), pd.Timedelta(hours=9)).all()
    assert pd.Timedelta(hours=2) < shift.median() < pd.Timedelta(hours=7)


@pytest.mark.parametrize("engine", sorted(DP_ENGINES))
def test_dp_engines_keep_times_of_day_in_their_hours_without_bounds(engine: str) -> None:
    """A time of day is bounded by the day (public) when no bounds are declared; DP TVAE gave every
    time between 00:09 and 00:17."""
    data = _office_hours()[["t", "x"]]
    model = DP_ENGINES[engine](DPConfig(max_epsilon=50.0, epochs=5)).fit(data, seed=1, progress_bar=False)
    times = model.sample(500, seed=2, progress_bar=False)["t"].dropna()
    assert all(isinstance(v, dt.time) for v in times)
    assert np.mean([dt.time(9) <= v < dt.time(17) for v in times]) > 0.6


def test_dp_config_takes_times_of_day_and_durations_as_bounds() -> None:
    config = DPConfig(max_epsilon=1.0, bounds={"t": (dt.time(9), dt.time(17, 30)), "u": ("09:00", "17:00:00.5"),
                                               "shift": (pd.Timedelta(0), dt.timedelta(hours=8))})
    assert config.bounds["t"] == ("09:00:00", "17:30:00") and config.bounds["u"] == ("09:00:00", "17:00:00.500000")
    assert DPConfig.from_dict(config.to_dict()) == config
    for bad, message in (((dt.time(17), dt.time(9)), "low < high"), ((dt.time(9), "2024-01-01"), "one kind"),
                         ((dt.time(9, tzinfo=dt.timezone.utc), dt.time(10)), "time zone")):
        with pytest.raises(ConfigurationError, match=message):
            DPConfig(max_epsilon=1.0, bounds={"t": bad})


@pytest.mark.parametrize("engine", sorted(DP_ENGINES))
def test_dp_bounds_of_a_time_of_day_and_a_duration_hold(engine: str) -> None:
    data = _office_hours()
    config = DPConfig(max_epsilon=4.0, epochs=3, bounds={"t": ("10:00", dt.time(12)),
                                                         "shift": (pd.Timedelta(hours=2), pd.Timedelta(hours=4))})
    out = DP_ENGINES[engine](config).fit(data, seed=1, progress_bar=False).sample(300, seed=2, progress_bar=False)
    times, shifts = out["t"].dropna(), out["shift"].dropna()
    assert len(times) and all(dt.time(10) <= v <= dt.time(12) for v in times)
    assert len(shifts) and shifts.between(pd.Timedelta(hours=2), pd.Timedelta(hours=4)).all()


@pytest.mark.parametrize(("column", "kind", "form"), [("t", "time-of-day column", "datetime.time"),
                                                       ("shift", "duration column", "pd.Timedelta")])
def test_dp_refuses_numbers_as_bounds_of_a_time_of_day_or_duration(column: str, kind: str, form: str) -> None:
    config = DPConfig(max_epsilon=4.0, epochs=1, bounds={column: (32400, 61200)})
    for make in DP_ENGINES.values():
        with pytest.raises(PrivacyError, match=f"{column!r} is a {kind} but its bounds are numbers.*{form}"):
            make(config).fit(_office_hours(200), seed=1, progress_bar=False)


# ----------------------------------------------------------------------------- constraints
@pytest.mark.parametrize("engine", [TabularAR, CTGAN])
def test_an_inequality_between_two_times_of_day_holds(engine: type[ConditionalGenerativeModel],
                                                      tmp_path: Path) -> None:
    """Two time-of-day columns compare as durations (they were refused: 'got object and object')."""
    rng = np.random.default_rng(0)
    opens = rng.integers(6 * 60, 11 * 60, 300)
    closes = opens + rng.integers(4 * 60, 10 * 60, 300)
    stores = pd.DataFrame({"id": range(300), "opens": [dt.time(int(v // 60), int(v % 60)) for v in opens],
                           "closes": [dt.time(int(v // 60), int(v % 60)) for v in closes]})
    metadata = Metadata().add_table("s", pk="id", inequalities=[("opens", "closes")])
    synth = Synthesizer(metadata, model=engine, seed=1).fit({"s": stores}, epochs=2, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=2, progress_bar=False)["s"]
    pairs = [(a, b) for a, b in zip(out["opens"], out["closes"]) if a is not None and b is not None]
    assert len(pairs) > 250 and all(isinstance(v, dt.time) for pair in pairs for v in pair)
    assert all(a <= b for a, b in pairs)
    assert len({b for _, b in pairs}) > 10
    synth.save(tmp_path / "synth")
    again = Synthesizer.load(tmp_path / "synth").sample(seed=2, progress_bar=False)["s"]
    pd.testing.assert_frame_equal(again, out)


def test_evaluation_scores_times_of_day_as_durations() -> None:
    """The quality metrics read a time of day as its duration since midnight (it was NaN: always a perfect 1.0)."""
    from syntho_hive.validation import evaluate

    real = pd.DataFrame({"t": [dt.time(h % 5, 10) for h in range(200)], "x": np.arange(200) % 7})
    far = pd.DataFrame({"t": [dt.time(18 + h % 5, 10) for h in range(200)], "x": np.arange(200) % 7})
    shapes = evaluate(real, far).tables["table"].column_shapes
    assert shapes["t"] < 0.1 and shapes["x"] == 1.0
    assert evaluate(real, real).tables["table"].column_shapes["t"] == 1.0


@pytest.mark.parametrize("bound", ["9:00", "25:00", "12:60"])
def test_dp_bounds_that_are_no_time_of_day_are_a_configuration_error(bound: str) -> None:
    from syntho_hive.core.dp import DPConfig
    from syntho_hive.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"bounds\['t'\].*HH:MM"):
        DPConfig(max_epsilon=1.0, bounds={"t": ("00:00", bound) if bound != "9:00" else (bound, "17:00")})
