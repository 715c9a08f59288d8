"""Property: TabularAR's generation-time datetime masks keep every drawn value a valid date
within the training ``[min, max]``, and never forbid a value inside it.

Tokens are drawn part by part as generation does (year, month, day, hour, ...), each uniformly
among the tokens the codec allows given the parts already drawn: a worst case for the bounds,
since a trained network puts little mass out of range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive.core.models.tabular_ar.encoders import CodecConfig, TableCodec

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RESOLUTIONS = ("D", "h", "min", "s", "ms", "us")


def _draw(codec: TableCodec, rows: int, rng: np.random.Generator) -> np.ndarray:
    masker = codec.token_masker()
    assert masker is not None
    tokens = np.zeros((rows, len(codec.sub_columns)), dtype=np.int64)
    for t, sub in enumerate(codec.sub_columns):
        mask = masker(t, tokens)
        if mask is None:
            mask = np.ones((rows, sub.cardinality), dtype=bool)
        assert mask.shape == (rows, sub.cardinality) and mask.any(axis=1).all()
        choice = rng.random((rows, sub.cardinality)) * mask  # uniform among the allowed tokens
        tokens[:, t] = choice.argmax(axis=1)
    return tokens


@SETTINGS
@given(start=st.datetimes(min_value=pd.Timestamp("1999-01-01").to_pydatetime(),
                          max_value=pd.Timestamp("2030-12-31").to_pydatetime()),
       span_seconds=st.integers(min_value=0, max_value=3 * 366 * 86_400),
       resolution=st.sampled_from(RESOLUTIONS), with_nulls=st.booleans(),
       tz=st.sampled_from([None, "Europe/Paris"]), seed=st.integers(0, 2**32 - 1))
def test_drawn_datetimes_are_valid_and_within_the_training_range(start, span_seconds: int, resolution: str,
                                                                 with_nulls: bool, tz: str | None,
                                                                 seed: int) -> None:
    rng = np.random.default_rng(seed)
    low = pd.Timestamp(start).floor(resolution)
    high = (low + pd.Timedelta(seconds=span_seconds)).floor(resolution)
    inner = low + pd.to_timedelta(rng.integers(0, span_seconds * 1_000_000 + 1, 20), unit="us")
    values = pd.Series(pd.DatetimeIndex([low, high, *inner]).floor(resolution))
    if tz is not None:
        values = values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dropna()
        if values.empty:
            return
    if with_nulls:
        values = pd.concat([values, pd.Series([pd.NaT], dtype=values.dtype)], ignore_index=True)
    # rare_threshold=1: bounds at the training extremes (by default they sit inside them, tested in
    # test_tabular_ar_encoders), so every training value is in range.
    codec = TableCodec.fit(pd.DataFrame({"t": values}), {"t": "datetime"}, config=CodecConfig(rare_threshold=1))
    # The training values themselves come back exactly, sub-seconds included.
    pd.testing.assert_series_equal(codec.decode(codec.encode(pd.DataFrame({"t": values})), rng)["t"],
                                   values.rename("t").reset_index(drop=True), check_dtype=False)
    tokens = _draw(codec, 4_000, rng)
    out = codec.decode(tokens, rng)["t"]
    present = out.dropna()
    assert present.min() >= values.min() and present.max() <= values.max()
    protected = TableCodec.fit(pd.DataFrame({"t": values}), {"t": "datetime"})  # the default rare_threshold
    drawn = protected.decode(_draw(protected, 1_000, rng), rng)["t"].dropna()
    assert drawn.min() >= values.min() and drawn.max() <= values.max()
    # Valid dates by construction: the day token never passes the end of the drawn month.
    datetime_codec = codec.codec("t")
    live = tokens[:, 0] != (datetime_codec.null_token if datetime_codec.null_token is not None else -1)
    years, months, days = tokens[live, 0] + datetime_codec.year_min, tokens[live, 1] + 1, tokens[live, 2] + 1
    assert (days <= pd.to_datetime(pd.DataFrame({"year": years, "month": months, "day": 1}))
            .dt.days_in_month.to_numpy()).all()
    # Nothing inside the range is forbidden: each training value's own tokens are allowed at every step.
    real = codec.encode(pd.DataFrame({"t": values}))
    masker = codec.token_masker()
    for t in range(real.shape[1]):
        mask = masker(t, real)
        if mask is not None:
            assert mask[np.arange(len(real)), real[:, t]].all()
