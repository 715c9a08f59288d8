"""ConstraintEngine: violations at fit, exact reparametrisation, validity by construction."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.metadata import Constraint, Metadata, TableConfig
from syntho_hive.exceptions import (
    ConstraintViolationError,
    GenerationError,
    NotFittedError,
    SchemaError,
)


def _table(**kwargs: object) -> TableConfig:
    return Metadata().add_table("trips", **kwargs).get_table("trips")  # type: ignore[arg-type]


@pytest.fixture()
def trips() -> pd.DataFrame:
    """Bookings: city/country pairs, tz-aware start/end to the second, nights, prices."""
    rng = np.random.default_rng(11)
    n = 50
    places = np.array([("Paris", "FR"), ("Lyon", "FR"), ("Berlin", "DE"), ("Porto", "PT"),
                       ("Paris", "US")])
    pick = places[rng.integers(0, len(places), n)]
    start = pd.Timestamp("2024-03-01 08:00", tz="Europe/Paris") + pd.to_timedelta(
        rng.integers(0, 90 * 86_400, n), unit="s")
    nights = rng.integers(0, 10, n)
    df = pd.DataFrame({
        "trip_id": np.arange(n),
        "city": pick[:, 0],
        "country": pick[:, 1],
        "start": start,
        "end": start + pd.to_timedelta(nights * 86_400 + rng.integers(0, 7_200, n), unit="s"),
        "guests": rng.integers(1, 5, n),
        "max_guests": 0,
        "nights": nights,
        "price": np.round(rng.uniform(40, 400, n), 2),
        "paid": 0.0,
    })
    df["max_guests"] = df["guests"] + rng.integers(1, 3, n)
    df["paid"] = np.round(df["price"] + rng.uniform(0, 50, n), 2)
    df.loc[[3, 17], "price"] = np.nan      # null low: paid travels alone
    df.loc[[5], "paid"] = np.nan           # null high
    df.loc[[8], "start"] = pd.NaT
    return df


def _engine(**extra: object) -> ConstraintEngine:
    table = _table(
        pk="trip_id",
        constraints={"nights": Constraint(dtype="int", min=0, max=30),
                     "price": Constraint(min=0), "guests": Constraint(min=1, max=8)},
        inequalities=[("start", "end"), {"low": "guests", "high": "max_guests", "strict": True},
                      ("price", "paid")],
        fixed_combinations=[["city", "country"]],
        **extra,
    )
    return ConstraintEngine(table)


# --------------------------------------------------------------------------- violations at fit


def test_fit_reports_bound_violation_with_column_bound_count_examples(trips: pd.DataFrame) -> None:
    bad = trips.copy()
    bad.loc[[2, 4, 6], "nights"] = [-1, -3, -1]
    with pytest.raises(ConstraintViolationError) as info:
        _engine().fit(bad)
    err = info.value
    assert err.column == "nights"
    assert err.count == 3
    assert err.examples == [-1, -3, -1]
    assert "'nights'" in str(err) and "below the declared min=0" in str(err)
    assert "table 'trips'" in str(err)


def test_fit_reports_at_most_five_examples(trips: pd.DataFrame) -> None:
    bad = trips.assign(guests=trips["guests"] + 20, max_guests=trips["max_guests"] + 20)
    with pytest.raises(ConstraintViolationError) as info:
        _engine().fit(bad)
    assert info.value.column == "guests"
    assert info.value.count == len(trips)
    assert len(info.value.examples) == 5
    assert "above the declared max=8" in str(info.value)


def test_fit_reports_inequality_and_int_violations_together(trips: pd.DataFrame) -> None:
    bad = trips.copy()
    bad["nights"] = bad["nights"].astype(float)
    bad.loc[1, "nights"] = 2.5
    bad.loc[[10, 11], "end"] = bad.loc[[10, 11], "start"] - pd.Timedelta(minutes=1)
    bad.loc[12, "max_guests"] = bad.loc[12, "guests"]  # strict: equal is a violation
    with pytest.raises(ConstraintViolationError) as info:
        _engine().fit(bad)
    message = str(info.value)
    assert message.startswith("3 constraints are violated")
    assert "'nights' is declared Constraint(dtype='int') but has 1 non-integral value(s)" in message
    assert "2 row(s) violate the inequality start <= end" in message
    assert "1 row(s) violate the inequality guests < max_guests" in message
    assert info.value.column == "nights" and info.value.examples == [2.5]


def test_inequality_violation_examples_are_pairs(trips: pd.DataFrame) -> None:
    bad = trips.copy()
    bad.loc[20, "paid"] = bad.loc[20, "price"] - 1
    with pytest.raises(ConstraintViolationError) as info:
        _engine().fit(bad)
    assert info.value.column == "price <= paid"
    assert info.value.examples == [(bad.loc[20, "price"], bad.loc[20, "paid"])]


def test_nulls_never_violate(trips: pd.DataFrame) -> None:
    engine = _engine()
    assert engine.find_violations(trips) == []
    assert engine.is_valid(trips).all()


def test_missing_column_and_bad_types_are_schema_errors(trips: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"lacks column\(s\) \['paid'\]"):
        _engine().fit(trips.drop(columns="paid"))
    with pytest.raises(SchemaError, match="needs two numeric, two datetime"):
        ConstraintEngine(_table(inequalities=[("city", "end")])).fit(trips)
    odd = pd.DataFrame({"a": ["2024-01-05", "2024-1-6"], "b": ["2024-01-07", "2024-01-08"]})
    with pytest.raises(SchemaError, match=r"no single format reproduces.*datetime_formats\['a'\]"):
        ConstraintEngine(_table(inequalities=[("a", "b")])).fit(odd)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"inequalities": [("a", "b"), ("b", "c"), ("c", "a")]}, "form a cycle"),
        ({"inequalities": [("a", "c"), ("b", "c")]}, "'high' side of 2 inequalities"),
        ({"fixed_combinations": [["a", "b"], ["b", "c"]]}, "two FixedCombinations groups"),
        ({"fixed_combinations": [["a", "b"]], "inequalities": [("b", "c")]},
         "both a FixedCombinations group and an Inequality"),
    ],
)
def test_inconsistent_declarations_are_rejected(kwargs: dict, fragment: str) -> None:
    with pytest.raises(SchemaError, match=fragment):
        ConstraintEngine(_table(**kwargs))


# --------------------------------------------------------------------------- transform / reverse


def test_transform_replaces_columns_and_round_trips_exactly(trips: pd.DataFrame) -> None:
    engine = _engine().fit(trips)
    out = engine.transform(trips)
    assert list(out.columns) == [
        "trip_id", "city#country", "start", "end#gap", "end#unpaired", "guests",
        "max_guests#gap", "nights", "price", "paid#gap", "paid#unpaired",
    ]
    gaps = out[["end#gap", "max_guests#gap", "paid#gap"]].to_numpy()
    assert np.nanmin(gaps) >= 0
    assert out["end#gap"].isna().sum() == 1 and out["paid#gap"].isna().sum() == 3
    assert set(out["city#country"]) == {"Paris | FR", "Lyon | FR", "Berlin | DE", "Porto | PT",
                                        "Paris | US"}
    pd.testing.assert_frame_equal(engine.reverse_transform(out), trips)
    assert engine.derived_sdtypes == {
        "city#country": "categorical", "end#gap": "numerical", "end#unpaired": "datetime",
        "max_guests#gap": "numerical", "paid#gap": "numerical", "paid#unpaired": "numerical",
    }
    assert engine.bounds == {
        "nights": (0.0, 30.0), "price": (0.0, None), "guests": (1.0, 8.0),
        "end#gap": (0.0, None), "max_guests#gap": (0.0, None), "paid#gap": (0.0, None),
    }
    assert engine.dtypes == {"nights": "int"}


def test_reverse_transform_restores_order_with_shuffled_columns(trips: pd.DataFrame) -> None:
    engine = _engine().fit(trips)
    out = engine.transform(trips)
    back = engine.reverse_transform(out[out.columns[::-1]])
    pd.testing.assert_frame_equal(back, trips)


@pytest.mark.parametrize("freq_unit", ["D", "s", "ms"])
@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York"])
def test_datetime_gap_round_trip(freq_unit: str, tz: str | None) -> None:
    rng = np.random.default_rng(3)
    start = pd.Series(pd.Timestamp("2023-10-29", tz=tz)
                      + pd.to_timedelta(rng.integers(0, 400, 30), unit=freq_unit))
    end = start + pd.to_timedelta(rng.integers(0, 10_000, 30), unit=freq_unit)
    if tz is not None:
        end = end.dt.tz_convert("Asia/Kolkata")  # a different zone on the high side
    df = pd.DataFrame({"start": start, "end": end})
    engine = ConstraintEngine(_table(inequalities=[("start", "end")])).fit(df)
    pd.testing.assert_frame_equal(engine.reverse_transform(engine.transform(df)), df)


INT64 = st.integers(min_value=-(2**40), max_value=2**40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(INT64, st.integers(min_value=0, max_value=2**40)),
                      min_size=1, max_size=25),
       strict=st.booleans())
def test_int_gap_round_trip_is_exact(pairs: list[tuple[int, int]], strict: bool) -> None:
    low = np.array([p[0] for p in pairs], dtype=np.int64)
    gap = np.array([p[1] for p in pairs], dtype=np.int64) + (1 if strict else 0)
    df = pd.DataFrame({"low": low, "high": low + gap})
    table = _table(inequalities=[{"low": "low", "high": "high", "strict": strict}])
    engine = ConstraintEngine(table).fit(df)
    back = engine.reverse_transform(engine.transform(df))
    pd.testing.assert_frame_equal(back, df)  # dtype int64 and exact values


FLOATS = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_subnormal=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(FLOATS, st.floats(min_value=0, max_value=1e9,
                                                  allow_subnormal=False)),
                      min_size=1, max_size=25))
def test_float_gap_round_trip(pairs: list[tuple[float, float]]) -> None:
    low = np.array([p[0] for p in pairs])
    high = low + np.array([p[1] for p in pairs])
    df = pd.DataFrame({"low": low, "high": high})
    engine = ConstraintEngine(_table(inequalities=[("low", "high")])).fit(df)
    back = engine.reverse_transform(engine.transform(df))
    np.testing.assert_allclose(back["high"], high, rtol=1e-12, atol=1e-6)
    assert (back["high"].to_numpy() >= low).all()
    assert back["low"].equals(df["low"])


def test_nullable_int_columns_round_trip() -> None:
    df = pd.DataFrame({"lo": pd.array([1, None, 5, 7], dtype="Int64"),
                       "hi": pd.array([3, 4, None, 7], dtype="Int64")})
    engine = ConstraintEngine(_table(inequalities=[("lo", "hi")])).fit(df)
    out = engine.transform(df)
    assert list(out.columns) == ["lo", "hi#gap", "hi#unpaired"]
    pd.testing.assert_frame_equal(engine.reverse_transform(out), df)


# --------------------------------------------------------------------------- by construction


def _fake_model_output(engine: ConstraintEngine, real: pd.DataFrame, n: int,
                       rng: np.random.Generator) -> pd.DataFrame:
    """What a generator could emit in the transformed space: any non-negative gaps, any
    joint category, other columns resampled independently (so no row is copied)."""
    space = engine.transform(real)
    fake = {col: space[col].sample(n, replace=True, random_state=rng).to_numpy()
            for col in space.columns}
    labels = space["city#country"].unique()
    fake["city#country"] = rng.choice(labels, n)
    for gap in ("end#gap", "max_guests#gap", "paid#gap"):
        values = rng.exponential(2.0, n)
        values[rng.random(n) < 0.1] = 0.0  # exactly on the bound of the gap space
        fake[gap] = values
    fake["nights"] = rng.uniform(0, 30, n)  # a model emits floats; dtype int is applied
    return pd.DataFrame(fake)


def test_any_model_output_decodes_to_valid_rows(trips: pd.DataFrame) -> None:
    engine = _engine().fit(trips)
    rng = np.random.default_rng(5)
    fake = _fake_model_output(engine, trips, 2_000, rng)
    sample = engine.reverse_transform(fake)
    assert list(sample.columns) == list(trips.columns)
    assert engine.is_valid(sample).all()
    engine.check(sample, context="generated sample")  # does not raise
    paired = sample["start"].notna() & sample["end"].notna()
    assert (sample.loc[paired, "end"] >= sample.loc[paired, "start"]).all()
    assert (sample["max_guests"] > sample["guests"]).all()
    seen = set(map(tuple, trips[["city", "country"]].to_numpy()))
    assert set(map(tuple, sample[["city", "country"]].to_numpy())) <= seen
    assert sample["nights"].dtype == np.int64
    assert sample["max_guests"].dtype == trips["max_guests"].dtype
    assert sample["end"].dtype == trips["end"].dtype
    # gaps keep the data's granularity (whole seconds here) and are the monotone decoding
    # of the model's log-gap, so nothing is pushed onto the bound: a zero gap comes only
    # from a log-gap below log1p(0.5)
    gap_s = (sample["end"] - sample["start"]).dt.total_seconds()
    assert (gap_s.dropna() == np.round(gap_s.dropna())).all()
    np.testing.assert_array_equal(gap_s[paired], np.rint(np.expm1(fake["end#gap"][paired])))


def test_unknown_joint_label_is_a_generation_error(trips: pd.DataFrame) -> None:
    engine = _engine().fit(trips)
    out = engine.transform(trips)
    out.loc[0, "city#country"] = "Paris | DE"
    with pytest.raises(GenerationError, match=r"'city#country'.*1 value\(s\).*'Paris \| DE'"):
        engine.reverse_transform(out)


def test_joint_labels_for_member_condition(trips: pd.DataFrame) -> None:
    engine = _engine().fit(trips)
    assert sorted(engine.joint_labels_for("city", "Paris")) == ["Paris | FR", "Paris | US"]
    assert engine.joint_column_of("country") == "city#country"
    assert engine.joint_column_of("nights") is None


def test_combination_labels_stay_unique_when_values_print_alike() -> None:
    df = pd.DataFrame({"a": pd.Series([1, "1", 1], dtype=object), "b": ["x", "x", "x"]})
    engine = ConstraintEngine(_table(fixed_combinations=[["a", "b"]])).fit(df)
    out = engine.transform(df)
    assert out["a#b"].nunique() == 2
    back = engine.reverse_transform(out)
    assert [type(v) for v in back["a"]] == [int, str, int]


def test_is_valid_mask(trips: pd.DataFrame) -> None:
    engine = _engine().fit(trips)
    rows = trips.iloc[:8].copy().reset_index(drop=True)
    rows.loc[1, "nights"] = 31                                   # above max
    rows.loc[2, "country"] = "DE"                                # Paris/Lyon/... never with DE
    rows.loc[2, "city"] = "Paris"
    rows.loc[4, "max_guests"] = rows.loc[4, "guests"]           # strict inequality
    rows.loc[6, "end"] = rows.loc[6, "start"] - pd.Timedelta(seconds=1)
    rows.loc[7, "price"] = np.nan                                # null: still valid
    expected = np.array([True, False, False, True, False, True, False, True])
    np.testing.assert_array_equal(engine.is_valid(rows), expected)
    with pytest.raises(ConstraintViolationError, match="4 constraints are violated"):
        engine.check(rows, context="generated sample")


def test_not_fitted(trips: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError, match="fit"):
        _engine().transform(trips)


def test_no_constraints_is_identity(trips: pd.DataFrame) -> None:
    engine = ConstraintEngine(_table()).fit(trips)
    pd.testing.assert_frame_equal(engine.transform(trips), trips)
    pd.testing.assert_frame_equal(engine.reverse_transform(trips), trips)
    assert engine.bounds == {} and engine.derived_sdtypes == {}


def test_datetime_bounds(trips: pd.DataFrame) -> None:
    table = _table(constraints={"start": Constraint(min="2024-03-01", max="2024-06-30")})
    engine = ConstraintEngine(table).fit(trips)
    assert engine.bounds == engine.datetime_bounds
    low, high = engine.bounds["start"]
    assert low == pd.Timestamp("2024-03-01", tz="Europe/Paris")
    assert high == pd.Timestamp("2024-06-30", tz="Europe/Paris")
    early = trips.assign(start=trips["start"] - pd.Timedelta(days=400))
    with pytest.raises(ConstraintViolationError, match="'start' has 49 value"):
        engine.check(early, context="generated sample")


def test_engine_pickles_and_handles_duplicate_index(trips: pd.DataFrame) -> None:
    import pickle

    engine = pickle.loads(pickle.dumps(_engine().fit(trips)))
    shuffled = trips.set_axis(np.arange(len(trips)) % 7)  # duplicated index labels
    pd.testing.assert_frame_equal(engine.reverse_transform(engine.transform(shuffled)), shuffled)


def test_empty_frame(trips: pd.DataFrame) -> None:
    empty = trips.iloc[:0]
    engine = _engine().fit(empty)
    pd.testing.assert_frame_equal(engine.reverse_transform(engine.transform(empty)), empty)


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y %H:%M", None])
def test_date_string_inequality(fmt: str | None) -> None:
    rng = np.random.default_rng(9)
    n = 40
    written = fmt or "%Y-%m-%d"
    check_in = pd.Timestamp("2024-02-20") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    check_out = check_in + pd.to_timedelta(rng.integers(1, 15, n), unit="D")
    df = pd.DataFrame({"check_in": check_in.strftime(written),
                       "check_out": check_out.strftime(written)})
    df.loc[[2, 9], "check_in"] = np.nan
    df.loc[[4], "check_out"] = np.nan
    formats = {"check_in": fmt, "check_out": fmt} if fmt else {}
    table = _table(inequalities=[{"low": "check_in", "high": "check_out", "strict": True}],
                   datetime_formats=formats)
    engine = ConstraintEngine(table).fit(df)
    out = engine.transform(df)
    assert list(out.columns) == ["check_in", "check_out#gap", "check_out#unpaired"]
    assert engine.derived_sdtypes["check_out#unpaired"] == "datetime"
    pd.testing.assert_frame_equal(engine.reverse_transform(out), df)
    fake = out.assign(**{"check_out#gap": rng.exponential(1.5, n)})
    back = engine.reverse_transform(fake)
    assert back["check_out"].dtype == df["check_out"].dtype
    assert engine.is_valid(back).all()
    paired = back.dropna()
    days = (pd.to_datetime(paired["check_out"], format=written)
            - pd.to_datetime(paired["check_in"], format=written)).dt.days
    assert (days >= 1).all()
    bad = df.copy()
    bad.loc[0, "check_out"] = bad.loc[0, "check_in"]
    with pytest.raises(ConstraintViolationError, match="check_in < check_out"):
        engine.check(bad, context="generated sample")


# --------------------------------------------------------------------------- state as plain data


def _json_round_trip(engine: ConstraintEngine) -> ConstraintEngine:
    import json

    return ConstraintEngine.from_dict(engine.table, json.loads(json.dumps(engine.to_dict(), allow_nan=False)))


def test_state_from_json_behaves_identically_and_holds_no_high_values(trips: pd.DataFrame) -> None:
    import json

    table = _table(constraints={"nights": Constraint(dtype="int", min=0, max=30),
                                "start": Constraint(min="2024-03-01", max="2024-12-31")},
                   inequalities=_engine().table.inequalities, fixed_combinations=[["city", "country"]])
    engine = ConstraintEngine(table).fit(trips)
    restored = _json_round_trip(engine)
    pd.testing.assert_frame_equal(restored.transform(trips), engine.transform(trips))
    fake = _fake_model_output(engine, trips, 500, np.random.default_rng(2))
    decoded = engine.reverse_transform(fake)
    pd.testing.assert_frame_equal(restored.reverse_transform(fake), decoded)
    np.testing.assert_array_equal(restored.is_valid(decoded), engine.is_valid(decoded))
    assert restored.bounds == engine.bounds and restored.derived_sdtypes == engine.derived_sdtypes
    assert restored.bounds["start"][0] == pd.Timestamp("2024-03-01", tz="Europe/Paris")
    assert sorted(restored.joint_labels_for("city", "Paris")) == ["Paris | FR", "Paris | US"]
    text = json.dumps(engine.to_dict())
    highs = [v.isoformat() for v in trips["end"].dropna()] + [repr(v) for v in trips["paid"].dropna()]
    assert not [v for v in highs if v in text]
    assert "Porto" in text  # the seen combinations are kept, like any category


def _mutate(state: dict, how: str) -> object:
    if how == "not_a_dict":
        return [state]
    if how == "format":
        state["format"] = 99
    elif how == "table":
        state["table"] = "other"
    elif how == "missing_key":
        del state["bounds"]
    elif how == "strict":
        state["inequalities"][1]["strict"] = False
    elif how == "labels":
        state["fixed_combinations"][0]["labels"].pop()
    elif how == "value_tag":
        state["fixed_combinations"][0]["combinations"]["values"][0][0] = {"x": 1}
    elif how == "step":
        state["inequalities"][0]["step_ns"] = 0
    elif how == "dtype":
        state["inequalities"][0]["high_dtype"] = {"name": "no-such-dtype"}
    elif how == "bound":
        state["bounds"]["nights"] = [0.0]
    return state


@pytest.mark.parametrize("how, fragment", [
    ("not_a_dict", "expected a dict"), ("format", "format 99"), ("table", "belongs to table 'other'"),
    ("missing_key", "KeyError"), ("strict", "are not the table's"), ("labels", "do not match their labels"),
    ("value_tag", "unknown stored value"), ("step", "step_ns"), ("dtype", "bad stored dtype"),
    ("bound", "bounds of 'nights'"),
])
def test_from_dict_rejects_malformed_state(trips: pd.DataFrame, how: str, fragment: str) -> None:
    from syntho_hive.exceptions import SerializationError

    engine = _engine().fit(trips)
    with pytest.raises(SerializationError, match=fragment):
        ConstraintEngine.from_dict(engine.table, _mutate(engine.to_dict(), how))


def test_to_dict_refuses_unstorable_values_and_needs_fit() -> None:
    from decimal import Decimal

    from syntho_hive.exceptions import SerializationError

    table = _table(fixed_combinations=[["price", "tier"]])
    df = pd.DataFrame({"price": [Decimal("9.99"), Decimal("19.99")], "tier": ["basic", "pro"]})
    with pytest.raises(NotFittedError):
        ConstraintEngine(table).to_dict()
    # Decimals (SQL NUMERIC) are stored exactly and come back as Decimals.
    state = json.loads(json.dumps(ConstraintEngine(table).fit(df).to_dict(), allow_nan=False))
    restored = ConstraintEngine.from_dict(table, state)
    back = restored.reverse_transform(restored.transform(df))
    assert back["price"].tolist() == [Decimal("9.99"), Decimal("19.99")]
    odd = pd.DataFrame({"price": [(9, 99), (19, 99)], "tier": ["basic", "pro"]})
    with pytest.raises(SerializationError, match="column 'price'.*tuple.*cast the column"):
        ConstraintEngine(table).fit(odd).to_dict()


def test_combinations_with_null_members_get_distinct_labels() -> None:
    df = pd.DataFrame({"city": pd.Series([None, None, "Oslo", None], dtype=object),
                       "country": ["FR", "NO", "NO", "FR"]})
    engine = ConstraintEngine(_table(fixed_combinations=[["city", "country"]])).fit(df)
    out = engine.transform(df)
    assert out["city#country"].tolist() == ["None | FR", "None | NO", "Oslo | NO", "None | FR"]
    pd.testing.assert_frame_equal(engine.reverse_transform(out), df)
    pd.testing.assert_frame_equal(_json_round_trip(engine).reverse_transform(out), df)
    assert engine.combinations("country").equals(df.drop_duplicates().reset_index(drop=True))


def test_strict_date_strings_without_paired_rows_step_by_the_format() -> None:
    """No training row has both dates: the step comes from the format (days), so a decoded
    strict gap never rounds to the same day; object date strings stay object."""
    df = pd.DataFrame({"check_in": pd.Series(["2024-03-01", np.nan, "2024-03-09"], dtype=object),
                       "check_out": pd.Series([np.nan, "2024-03-05", np.nan], dtype=object)})
    table = _table(inequalities=[{"low": "check_in", "high": "check_out", "strict": True}],
                   datetime_formats={"check_in": "%Y-%m-%d", "check_out": "%Y-%m-%d"})
    engine = ConstraintEngine(table).fit(df)
    out = engine.transform(df)
    pd.testing.assert_frame_equal(engine.reverse_transform(out), df)
    back = engine.reverse_transform(out.assign(**{"check_out#gap": [0.0, 0.1, 0.4]}))
    assert back["check_out"].dtype == object
    assert back["check_out"].tolist() == ["2024-03-02", "2024-03-05", "2024-03-10"]
    assert engine.is_valid(back).all()


def test_reverse_transform_result_is_independent_of_its_input() -> None:
    """A table without derived columns takes the fast path; its result must not share the input's columns."""
    md = Metadata()
    md.add_table("t", columns={"a": "numerical", "b": "numerical"}, constraints={"a": Constraint(dtype="float")})
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    engine = ConstraintEngine(md.get_table("t")).fit(df)
    given = engine.transform(df)
    out = engine.reverse_transform(given)
    out.loc[0, "b"] = -1.0
    assert given.loc[0, "b"] == 4.0
