"""TabularAR's bin copula: values inside numerical tokens keep the columns' correlation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from syntho_hive.core.dp import DPConfig
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.core.models.tabular_ar.encoders.base import CodecConfig
from syntho_hive.core.models.tabular_ar.encoders.bin_copula import COPULA_BELOW_BINS, BinCopula
from syntho_hive.core.models.tabular_ar.encoders.table import TableCodec
from syntho_hive.exceptions import SerializationError


def _body(rows: int = 600, nulls: int = 0, seed: int = 0) -> pd.DataFrame:
    """Height and weight (strongly related), age (weakly), a category."""
    rng = np.random.default_rng(seed)
    height = rng.normal(172, 9, rows)
    weight = 0.9 * (height - 172) + rng.normal(75, 4, rows)
    age = np.round(rng.uniform(18, 80, rows) + 0.1 * (weight - 75)).astype("int64")
    frame = pd.DataFrame({"height": np.round(height, 1), "weight": np.round(weight, 1), "age": age,
                          "team": rng.choice(["red", "blue"], rows)})
    frame.loc[: nulls - 1, "weight"] = np.nan
    return frame


def _coded(frame: pd.DataFrame, max_bins: int = 8) -> tuple[TableCodec, np.ndarray]:
    codec = TableCodec.fit(frame, config=CodecConfig(max_bins=max_bins))
    codes = codec.encode(frame)
    codec.fit_copula(frame, codes)
    return codec, codes


def _pearson(frame: pd.DataFrame, a: str, b: str) -> float:
    both = frame[[a, b]].dropna().astype(float)
    return float(np.corrcoef(both[a], both[b])[0, 1])


def test_real_tokens_decoded_through_the_copula_keep_the_correlation() -> None:
    real = _body()
    codec, codes = _coded(real)
    assert codec.copula is not None and codec.copula.columns == ["height", "weight", "age"]
    with_copula = codec.decode(codes, np.random.default_rng(1))
    copula, codec.copula = codec.copula, None
    independent = codec.decode(codes, np.random.default_rng(1))
    codec.copula = copula
    target = _pearson(real, "height", "weight")
    assert abs(_pearson(with_copula, "height", "weight") - target) < 0.02
    assert target - _pearson(independent, "height", "weight") > 0.03  # what the copula wins back
    # every value stays in its token's bin (up to the column's rounding): the bins are the network's
    for column, step in (("height", 0.1), ("weight", 0.1), ("age", 1.0)):
        numeric = codec.codec(column)
        bins = codes[:, codec.slices[column].start] - len(numeric.points)
        inside = bins >= 0
        values = with_copula[column].to_numpy(dtype=float)[inside]
        low, high = numeric.edges[bins[inside]], numeric.edges[bins[inside] + 1]
        low = np.where(bins[inside] == 0, numeric.minimum, low)  # the outer bins reach towards the extremes
        high = np.where(bins[inside] == numeric.n_intervals - 1, numeric.maximum, high)
        assert np.all(values >= low - step / 2 - 1e-9) and np.all(values <= high + step / 2 + 1e-9), column


def test_positions_inside_a_bin_stay_uniform() -> None:
    real = _body(rows=2_000)
    codec, codes = _coded(real)
    numeric = {c: codec.codec(c) for c in codec.copula.columns}
    tokens = {c: codes[:, codec.slices[c].start] for c in codec.copula.columns}
    places = codec.copula.positions(numeric, tokens, np.random.default_rng(2))
    for column, place in places.items():
        in_bin = tokens[column] >= len(numeric[column].points)
        assert stats.kstest(place[in_bin], "uniform").pvalue > 1e-3, column


def test_identity_correlation_gives_independent_uniform_positions() -> None:
    real = _body(rows=2_000)
    codec, codes = _coded(real)
    codec.copula = BinCopula(codec.copula.columns, np.eye(3), codec.copula.shares)
    decoded = codec.decode(codes, np.random.default_rng(3))
    tokens = codes[:, codec.slices["height"].start]
    # inside one height bin, height and weight are as related as under independent draws
    residual = []
    for column in ("height", "weight"):
        numeric = codec.codec(column)
        t = codes[:, codec.slices[column].start] - len(numeric.points)
        residual.append((decoded[column] - numeric.edges[t]) / (numeric.edges[t + 1] - numeric.edges[t]))
    inner = (tokens > 0) & (tokens < codec.codec("height").n_intervals - 1)
    assert abs(np.corrcoef(residual[0][inner], residual[1][inner])[0, 1]) < 0.08


def test_missing_cells_and_seeded_draws() -> None:
    real = _body(nulls=60)
    codec, codes = _coded(real)
    first = codec.decode(codes, np.random.default_rng(5))
    again = codec.decode(codes, np.random.default_rng(5))
    pd.testing.assert_frame_equal(first, again)
    assert first["weight"].isna().sum() == 60
    assert abs(_pearson(first, "height", "weight") - _pearson(real, "height", "weight")) < 0.03


def test_copula_needs_two_numerical_columns_with_ranges() -> None:
    frame = pd.DataFrame({"price": np.linspace(1, 100, 300), "team": ["a", "b", "c"] * 100})
    codec, _ = _coded(frame)
    assert codec.copula is None
    assert "copula" not in codec.to_dict()


def test_state_round_trips_exactly_and_malformed_states_are_refused() -> None:
    real = _body()
    codec, codes = _coded(real)
    state = json.loads(json.dumps(codec.to_dict()))
    restored = TableCodec.from_dict(state)
    pd.testing.assert_frame_equal(restored.decode(codes, np.random.default_rng(7)),
                                  codec.decode(codes, np.random.default_rng(7)))
    bad_matrix = json.loads(json.dumps(state))
    bad_matrix["copula"]["correlation"][0][1] = 3.0
    bad_shares = json.loads(json.dumps(state))
    bad_shares["copula"]["shares"][0] = bad_shares["copula"]["shares"][0][:-1]
    bad_column = json.loads(json.dumps(state))
    bad_column["copula"]["columns"][0] = "team"
    infinite_share = json.loads(json.dumps(state))
    infinite_share["copula"]["shares"][0][0] = float("inf")  # JSON's Infinity: a NaN position in every bin
    for broken in (bad_matrix, bad_shares, bad_column, infinite_share):
        with pytest.raises(SerializationError, match="copula"):
            TableCodec.from_dict(broken)


def test_state_holds_no_training_value() -> None:
    real = _body()
    codec, _ = _coded(real)
    numbers = {float(v) for v in np.ravel(json.loads(json.dumps(codec.copula.to_dict()))["correlation"])}
    numbers |= {float(v) for share in codec.copula.to_dict()["shares"] for v in share}
    assert not numbers & set(real["height"]) - {1.0}
    assert not numbers & set(real["weight"]) - {1.0}


def test_tabular_ar_fits_a_copula_for_coarse_bins_only_and_never_under_dp() -> None:
    real = _body()  # 600 rows: the automatic rule gives 12 bins
    small = TabularAR(epochs=1, hidden_dim=16).fit(real, seed=0, progress_bar=False)
    assert small.codec_.copula is not None and small.codec_.copula.columns == ["height", "weight", "age"]
    fine = TabularAR(epochs=1, hidden_dim=16, max_bins=COPULA_BELOW_BINS).fit(real, seed=0, progress_bar=False)
    assert fine.codec_.copula is None
    private = TabularAR(epochs=1, hidden_dim=16, dp=DPConfig(max_epsilon=8.0)).fit(real, seed=0, progress_bar=False)
    assert private.codec_.copula is None
    assert "copula" not in json.dumps(private.codec_.to_dict())
