"""Every engine on the dtypes a demanding user has: integers near the 64-bit limits, datetimes past 2262
(NumPy and Arrow), ``datetime.date`` objects in an inequality, Arrow timestamps beside NumPy ones,
values no engine can model, conditions on missing values and constant columns, nullable strings in a
fixed combination at impute."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.metadata.row_rules import detect_date_orderings
from syntho_hive.core.metadata.schema import Inequality, Metadata, TableConfig
from syntho_hive.core.models import CTGAN, TVAE, TabularAR
from syntho_hive.exceptions import GenerationError, SchemaError, SchemaValidationError

N = 60
TINY_AR = {"epochs": 1, "hidden_dim": 8}
TINY_GAN = {"epochs": 1, "batch_size": 10, "embedding_dim": 8, "generator_dim": (8,), "discriminator_dim": (8,)}
TINY_VAE = {"epochs": 1, "batch_size": 10, "embedding_dim": 8, "compress_dims": (8,), "decompress_dims": (8,)}


def test_tabular_ar_keeps_integers_near_the_64_bit_limits() -> None:
    rng = np.random.default_rng(0)
    real = pd.DataFrame({
        "signed": np.int64(2**63 - 1) - rng.integers(0, 100, N),
        "low": np.int64(-2**63) + rng.integers(0, 100, N),
        "unsigned": np.uint64(2**64 - 1) - rng.integers(0, 100, N).astype(np.uint64),
        "nullable": pd.array(2**62 + rng.integers(0, 10, N), dtype="Int64"),
    })
    model = TabularAR(**TINY_AR).fit(real, seed=0, progress_bar=False)
    out = model.sample(200, seed=1, progress_bar=False)
    for column in real.columns:
        assert out[column].dtype == real[column].dtype
        values = out[column].dropna()
        # float64 arithmetic made every value 2**63 -> -2**63 (int64) or 2**64 -> 0 (uint64)
        assert values.between(real[column].min(), real[column].max()).all(), column
        assert values.nunique() > 1, column
    pinned = model.sample(5, seed=2, conditions={"nullable": 2**62 + 3}, progress_bar=False)
    assert (pinned["nullable"] == 2**62 + 3).all()
    with pytest.raises(GenerationError, match="outside the modelled range"):
        model.sample(5, seed=2, conditions={"nullable": 2**62 + 100}, progress_bar=False)
    again = TabularAR.from_bytes(model.to_bytes()).sample(200, seed=1, progress_bar=False)
    pd.testing.assert_frame_equal(again, out)


def late_dates() -> pd.DataFrame:
    """Datetimes past 2262 in seconds and in an Arrow column, and before 1677."""
    step = np.arange(N) * np.timedelta64(86_400 * 7 + 17, "s")
    late = pd.Series(np.array(["9000-01-01T10:11:12"], dtype="datetime64[s]") + step)
    return pd.DataFrame({
        "x": np.random.default_rng(0).normal(size=N),
        "late": late,
        "late_tz": late.dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata"),
        "arrow": late.astype("timestamp[ms][pyarrow]"),
        "ancient": pd.Series(np.array(["0001-01-01"], dtype="datetime64[s]") + step),
    })


@pytest.mark.parametrize("engine", [TabularAR(**TINY_AR), CTGAN(**TINY_GAN)], ids=["TabularAR", "CTGAN"])
def test_datetimes_past_2262_are_generated_in_their_unit(engine: TabularAR | CTGAN) -> None:
    real = late_dates()
    out = engine.fit(real, seed=0, progress_bar=False).sample(50, seed=1, progress_bar=False)
    for column in real.columns[1:]:
        assert out[column].dtype == real[column].dtype
        assert out[column].between(real[column].min(), real[column].max()).all(), column


def test_tabular_ar_conditions_on_late_dates_and_reads_naive_ones_in_the_column_zone() -> None:
    real = late_dates()
    real["berlin"] = pd.date_range("2021-03-20", periods=N, freq="7h", tz="Europe/Berlin")
    model = TabularAR(**TINY_AR).fit(real, seed=0, progress_bar=False)
    stamp = real["late"].iloc[5]
    assert (model.sample(3, seed=1, conditions={"late": stamp}, progress_bar=False)["late"] == stamp).all()
    wall = model.sample(3, seed=1, conditions={"berlin": "2021-03-25 10:00"}, progress_bar=False)["berlin"]
    assert (wall == pd.Timestamp("2021-03-25 10:00", tz="Europe/Berlin")).all()  # was 11:00 (read as UTC)
    with pytest.raises(GenerationError, match="daylight-saving"):
        model.sample(3, seed=1, conditions={"berlin": "2021-03-28 02:30"}, progress_bar=False)


@pytest.mark.parametrize("engine", [TabularAR(**TINY_AR), TVAE(**TINY_VAE)], ids=["TabularAR", "TVAE"])
def test_the_later_side_of_an_inequality_of_date_objects_stays_dates(engine: TabularAR | TVAE) -> None:
    rng = np.random.default_rng(0)
    start = [dt.date(2020, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 100, N)]
    real = pd.DataFrame({"x": rng.normal(size=N), "start": start,
                         "end": [d + dt.timedelta(days=int(k)) for d, k in zip(start, rng.integers(0, 30, N))]})
    real.loc[3, "end"] = None
    metadata = Metadata().add_table("t", columns={"x": "numerical", "start": "datetime", "end": "datetime"},
                                    inequalities=[Inequality(low="start", high="end")])
    model = type(engine)(metadata, **engine.get_params()).fit(real, seed=0, progress_bar=False)
    out = model.sample(100, seed=1, progress_bar=False)
    ends = out["end"].dropna()
    assert ends.map(type).eq(dt.date).all()  # were '2020-02-06' strings
    assert (ends >= out.loc[ends.index, "start"]).all()
    assert out["end"].isna().sum() == 0 or out.loc[out["end"].isna(), "end"].map(lambda v: v is None).all()
    again = type(engine).from_bytes(model.to_bytes()).sample(100, seed=1, progress_bar=False)
    pd.testing.assert_frame_equal(again, out)


def test_date_orderings_compare_arrow_and_numpy_datetimes() -> None:
    days = pd.Series(pd.date_range("2020-01-01", periods=N, freq="D"))
    frame = pd.DataFrame({
        "opened": days,
        "shipped": (days + pd.Timedelta(hours=5)).astype("timestamp[us][pyarrow]"),
        "paid": (days + pd.Timedelta(days=2)).dt.tz_localize("UTC").astype("timestamp[us, tz=Europe/Paris][pyarrow]"),
        "closed": (days + pd.Timedelta(days=3)).dt.tz_localize("Asia/Tokyo"),
    })
    found = detect_date_orderings(frame, frame.columns)  # raised TypeError (datetime64[ns] vs Arrow)
    assert [(q.low, q.high) for q in found] == [("opened", "shipped"), ("paid", "closed")]


def test_an_inequality_up_to_9999_12_31_round_trips() -> None:
    opened = pd.Series(pd.date_range("2020-01-01", periods=N, freq="D"))
    frame = pd.DataFrame({"opened": opened,
                          "valid_to": pd.Series(np.repeat(np.array(["9999-12-31"], dtype="datetime64[s]"), N))})
    table = TableConfig(name="t", columns={"opened": "datetime", "valid_to": "datetime"},
                        inequalities=[Inequality(low="opened", high="valid_to")])
    engine = ConstraintEngine(table).fit(frame)  # the gap in nanoseconds overflowed (OutOfBoundsTimedelta)
    back = engine.reverse_transform(engine.transform(frame))
    pd.testing.assert_series_equal(back["valid_to"], frame["valid_to"])


@pytest.mark.parametrize("values, what", [
    (np.arange(N) + 1j, "complex numbers"),
    (pd.period_range("2020-01", periods=N, freq="M"), "periods"),
    (pd.arrays.IntervalArray.from_breaks(np.arange(N + 1)), "intervals"),
])
def test_values_no_engine_models_are_refused_before_training(values: object, what: str) -> None:
    real = pd.DataFrame({"x": np.arange(N, dtype=float), "odd": values})
    with pytest.raises(SchemaError, match=what):  # complex: imaginary part dropped; others: raw error at sample
        CTGAN(**TINY_GAN).fit(real, seed=0, progress_bar=False)
    declared = Metadata().add_table("t", columns={"x": "numerical", "odd": "categorical"})
    with pytest.raises(SchemaValidationError, match=what):
        TabularAR(declared, **TINY_AR).fit(real, seed=0, progress_bar=False)


@pytest.mark.parametrize("engine", [CTGAN(**TINY_GAN), TVAE(**TINY_VAE)], ids=["CTGAN", "TVAE"])
def test_conditions_on_missing_values_and_constant_columns(engine: CTGAN | TVAE) -> None:
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=N), "kind": rng.choice(list("abc"), N), "constant": 7,
                         "amount": pd.array(rng.integers(0, 1000, N), dtype="Int64"),
                         "at": pd.date_range("2020-01-01", periods=N, freq="D"),
                         "never": pd.array([pd.NA] * N, dtype="Float64")})
    real.loc[rng.choice(N, 15, replace=False), "amount"] = pd.NA
    real.loc[rng.choice(N, 15, replace=False), "at"] = pd.NaT
    model = engine.fit(real, seed=0, progress_bar=False)
    out = model.sample(20, seed=1, conditions={"amount": None, "at": pd.NaT, "constant": 7, "kind": "a",
                                               "never": None}, progress_bar=False)
    assert out["amount"].isna().all() and out["at"].isna().all() and out["never"].isna().all()
    assert (out["constant"] == 7).all() and (out["kind"] == "a").all()
    with pytest.raises(GenerationError, match="valid values: \\['7'\\]"):
        model.sample(5, seed=1, conditions={"constant": 8}, progress_bar=False)
    with pytest.raises(GenerationError, match="missing in every training row"):
        model.sample(5, seed=1, conditions={"never": 1.5}, progress_bar=False)
    with pytest.raises(GenerationError, match="missing value") as refused:
        model.sample(5, seed=1, conditions={"amount": 5}, progress_bar=False)
    assert "#null" not in str(refused.value)  # internal span names are not columns


def test_tabular_ar_imputes_a_fixed_combination_of_nullable_strings() -> None:
    rng = np.random.default_rng(0)
    city = pd.array(rng.choice(["Paris", "Lyon", "Berlin"], N), dtype="string[pyarrow]")
    real = pd.DataFrame({"x": rng.normal(size=N), "city": city,
                         "country": pd.array(np.where(np.asarray(city) == "Berlin", "DE", "FR"), dtype="string[pyarrow]")})
    real.loc[4, ["city", "country"]] = pd.NA
    metadata = Metadata().add_table("t", columns={"x": "numerical", "city": "categorical", "country": "categorical"},
                                    fixed_combinations=[["city", "country"]])
    model = TabularAR(metadata, **TINY_AR).fit(real, seed=0, progress_bar=False)
    holes = real.head(10).copy()
    holes.loc[2, "country"] = pd.NA  # TypeError: boolean value of NA is ambiguous
    filled = model.impute(holes, seed=3)
    assert filled.loc[2, "country"] == ("DE" if filled.loc[2, "city"] == "Berlin" else "FR")
    assert filled["country"].dtype == real["country"].dtype


@pytest.mark.parametrize("engine", [CTGAN(**TINY_GAN), TVAE(**TINY_VAE)], ids=["CTGAN", "TVAE"])
def test_an_object_column_of_tz_aware_datetimes_keeps_its_zone(engine: CTGAN | TVAE) -> None:
    stamps = pd.date_range("2021-03-20", periods=N, freq="7h", tz="Europe/Berlin")
    real = pd.DataFrame({"x": np.random.default_rng(0).normal(size=N),
                         "at": pd.Series([t.to_pydatetime() for t in stamps], dtype=object)})
    out = engine.fit(real, seed=0, progress_bar=False).sample(20, seed=1, progress_bar=False)
    assert out["at"].dtype == object
    # came back naive, in UTC wall time (an hour or two off what the column shows)
    assert all(str(v.tzinfo) == "Europe/Berlin" for v in out["at"])
    assert out["at"].between(stamps.min(), stamps.max()).all()


@pytest.mark.parametrize("engine", [TabularAR(**TINY_AR), CTGAN(**TINY_GAN)], ids=["TabularAR", "CTGAN"])
def test_datetimes_of_several_zones_in_one_column_are_read_as_utc_instants(engine: TabularAR | CTGAN) -> None:
    half = N // 2
    stamps = ([pd.Timestamp("2021-01-01", tz="US/Eastern") + pd.Timedelta(hours=5 * i) for i in range(half)]
              + [pd.Timestamp("2021-01-01", tz="Asia/Tokyo") + pd.Timedelta(hours=5 * i) for i in range(half)])
    real = pd.DataFrame({"x": np.random.default_rng(0).normal(size=N), "at": pd.Series(stamps, dtype=object)})
    out = engine.fit(real, seed=0, progress_bar=False).sample(20, seed=1, progress_bar=False)  # was refused
    instants = pd.to_datetime(real["at"], utc=True)
    assert out["at"].dtype == object and all(str(v.tzinfo) == "UTC" for v in out["at"])
    assert pd.to_datetime(out["at"], utc=True).between(instants.min(), instants.max()).all()
