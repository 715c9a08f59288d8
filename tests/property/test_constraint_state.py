"""Property: a ConstraintEngine restored from its JSON state behaves exactly like the fitted one.

Tables are generated with one inequality of every supported kind (int64, nullable Int64,
decimal floats, raw floats, naive datetimes in several granularities, tz-aware datetimes,
date strings with a declared or guessed format; strict or not; nulls on either side, so
unpaired values), a fixed-combination group (strings with None, ints, mixed objects,
``category``, tz-aware timestamps) and min/max bounds on a numeric and a datetime column.
The state goes through ``json.dumps(allow_nan=False)`` / ``json.loads``; ``transform``,
``reverse_transform`` (of the training rows and of arbitrary model output), ``is_valid``,
``bounds`` and ``derived_sdtypes`` must then be identical.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.metadata import Constraint, Metadata, TableConfig

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PAIR_KINDS = ["int", "nullable_int", "decimal", "raw_float", "datetime", "tz", "date_string"]
COMBO_KINDS = ["strings", "ints", "mixed_object", "category", "tz_stamps"]
TIMEZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]


def _nulls(draw, n: int, allow: bool) -> np.ndarray:
    if not allow:
        return np.zeros(n, dtype=bool)
    return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


@st.composite
def pairs(draw, n: int, strict: bool):
    """(low, high, datetime_formats) satisfying low <= high (low < high when strict)."""
    kind = draw(st.sampled_from(PAIR_KINDS))
    low_null, high_null = _nulls(draw, n, draw(st.booleans())), _nulls(draw, n, draw(st.booleans()))
    ints = np.array(draw(st.lists(st.integers(-10_000, 10_000), min_size=n, max_size=n)), dtype=np.int64)
    gaps = np.array(draw(st.lists(st.integers(0, 5_000), min_size=n, max_size=n)), dtype=np.int64) + int(strict)
    if kind in ("int", "nullable_int"):
        low, high = pd.Series(ints), pd.Series(ints + gaps)
        if kind == "nullable_int":
            low, high = low.astype("Int64").mask(low_null), high.astype("Int64").mask(high_null)
        return low, high, {}
    if kind in ("decimal", "raw_float"):
        scale = 10 ** draw(st.integers(0, 4)) if kind == "decimal" else 7.3
        low, high = pd.Series(ints / scale), pd.Series((ints + gaps) / scale)
        return low.mask(low_null), high.mask(high_null), {}
    unit = draw(st.sampled_from(["D", "h", "s", "ms"]))
    low = pd.Series(pd.Timestamp("2024-03-30 01:00") + pd.to_timedelta(ints, unit=unit))
    high = pd.Series(pd.Timestamp("2024-03-30 01:00") + pd.to_timedelta(ints + gaps, unit=unit))
    if kind == "tz":
        tz = draw(st.sampled_from(TIMEZONES))
        low, high = low.dt.tz_localize("UTC").dt.tz_convert(tz), high.dt.tz_localize("UTC").dt.tz_convert(tz)
    formats = {}
    if kind == "date_string":
        fmt = draw(st.sampled_from(["%Y-%m-%d", "%d/%m/%Y %H:%M"]))
        low, high = low.dt.floor("D"), low.dt.floor("D") + pd.to_timedelta(gaps, unit="D")
        low, high = low.dt.strftime(fmt).astype(object), high.dt.strftime(fmt).astype(object)
        if fmt != "%Y-%m-%d" or low_null.all() or high_null.all() or draw(st.booleans()):
            formats = {"low": fmt, "high": fmt}  # else guessed from the values
    return low.mask(low_null), high.mask(high_null), formats


@st.composite
def combos(draw, n: int) -> pd.DataFrame:
    kind = draw(st.sampled_from(COMBO_KINDS))
    pick = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=np.int64)
    names = np.array(["Oslo", "Lima", "Pune", None, "Nîmes"], dtype=object)
    second = np.array(["NO", "PE", "IN", "FR", "FR"], dtype=object)
    if kind == "strings":
        first = pd.Series(names[pick], dtype=object)
    elif kind == "ints":
        first = pd.Series(pick * 7 - 3, dtype=np.int64)
    elif kind == "mixed_object":
        first = pd.Series(np.array([1, "1", 2.5, True, None], dtype=object)[pick], dtype=object)
    elif kind == "category":
        first = pd.Series(pd.Categorical(names[pick], categories=["Pune", "Oslo", "Lima", "Nîmes", "Unused"]))
    else:
        first = pd.Series(pd.Timestamp("2024-01-01 09:30", tz="Europe/Paris") + pd.to_timedelta(pick, unit="h"))
    return pd.DataFrame({"place": first, "country": pd.Series(second[pick], dtype="str")})


@st.composite
def cases(draw):
    n = draw(st.integers(1, 30))
    strict = draw(st.booleans())
    low, high, formats = draw(pairs(n, strict))
    group = draw(combos(n))
    amount = pd.Series(draw(st.lists(st.integers(0, 500), min_size=n, max_size=n)), dtype=np.int64)
    seen = pd.Series(pd.Timestamp("2024-05-01", tz="UTC")
                     + pd.to_timedelta(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n)), unit="min"))
    frame = pd.DataFrame({"low": low, "amount": amount, "high": high, "seen": seen}).join(group)
    table = Metadata().add_table(
        "events", inequalities=[{"low": "low", "high": "high", "strict": strict}],
        fixed_combinations=[["place", "country"]], datetime_formats=formats,
        constraints={"amount": Constraint(min=0, max=500.5),
                     "seen": Constraint(min="2024-05-01", max="2024-05-02T00:00:00+00:00")},
    ).get_table("events")
    return frame, table


def _restored(engine: ConstraintEngine, table: TableConfig) -> ConstraintEngine:
    text = json.dumps(engine.to_dict(), allow_nan=False)
    return ConstraintEngine.from_dict(table, json.loads(text))


def _model_output(engine: ConstraintEngine, frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Transformed rows with arbitrary gaps and joint labels, as a generator could emit them."""
    rng = np.random.default_rng(seed)
    out = engine.transform(frame)
    out["high#gap"] = np.where(rng.random(len(out)) < 0.2, np.nan, rng.uniform(0.0, 7.0, len(out)))
    labels = out["place#country"].unique()
    out["place#country"] = rng.choice(labels, len(out))
    return out


@SETTINGS
@given(cases(), st.integers(0, 2**32 - 1))
def test_engine_from_json_state_behaves_identically(case, seed) -> None:
    frame, table = case
    fitted = ConstraintEngine(table).fit(frame)
    restored = _restored(fitted, table)
    pd.testing.assert_frame_equal(restored.transform(frame), fitted.transform(frame))
    space = fitted.transform(frame)
    pd.testing.assert_frame_equal(restored.reverse_transform(space), fitted.reverse_transform(space))
    pd.testing.assert_frame_equal(fitted.reverse_transform(space), frame)
    fake = _model_output(fitted, frame, seed)
    decoded = fitted.reverse_transform(fake)
    pd.testing.assert_frame_equal(restored.reverse_transform(fake), decoded)
    np.testing.assert_array_equal(restored.is_valid(decoded), fitted.is_valid(decoded))
    assert fitted.is_valid(decoded).all()
    assert restored.bounds == fitted.bounds and restored.datetime_bounds == fitted.datetime_bounds
    assert restored.derived_sdtypes == fitted.derived_sdtypes
    assert restored.to_dict() == fitted.to_dict()
