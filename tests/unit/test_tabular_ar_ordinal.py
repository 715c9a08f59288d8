"""Ordinal terms of TabularAR's network: numeric tokens carry their place on a normal scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from syntho_hive._random import torch_generator
from syntho_hive.core.models.tabular_ar.encoders.base import CodecConfig
from syntho_hive.core.models.tabular_ar.encoders.table import TableCodec
from syntho_hive.core.models.tabular_ar.network import ARNetwork


def _income(rows: int = 400, nulls: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    income = np.round(rng.lognormal(10.5, 0.6, rows), 2)
    income[:nulls] = np.nan
    return pd.DataFrame({"income": income, "region": rng.choice(["north", "south", "east"], rows)})


def test_numeric_positions_follow_the_values_and_put_the_null_token_at_zero() -> None:
    codec = TableCodec.fit(_income(nulls=20), config=CodecConfig(max_bins=10))
    numeric = codec.codec("income")
    places = np.asarray(codec.positions[codec.slices["income"].start])
    value_tokens = len(numeric.points) + numeric.n_intervals
    middles = (numeric.edges[:-1] + numeric.edges[1:]) / 2
    values = np.concatenate([numeric.points, middles])
    assert len(places) == value_tokens + 1 and places[-1] == 0.0
    assert np.all(np.diff(places[:value_tokens][np.argsort(values)]) > 0)  # larger value, larger place
    assert abs(places[:value_tokens].mean()) < 1e-9  # symmetric normal scores
    assert codec.positions[codec.slices["region"].start] is None  # categories are unordered


def test_fewer_than_three_value_tokens_are_unordered() -> None:
    frame = pd.DataFrame({"flag": [0, 1] * 50})
    codec = TableCodec.fit(frame, config=CodecConfig(max_bins=10))
    assert codec.positions == [None]


def test_the_ordinal_head_moves_mass_towards_larger_values_as_its_centre_grows() -> None:
    places = [(-1.0, 0.0, 1.0), None]
    net = ARNetwork([3, 2], hidden_dim=4, generator=torch_generator(0), positions=places)
    with torch.no_grad():
        net.w_out[0].zero_()
        net.ordinal_centre.zero_()
        net.ordinal_centre[0, 0] = 1.0
        h = torch.tensor([[-2.0, 0, 0, 0], [0.0, 0, 0, 0], [2.0, 0, 0, 0]])
        probs = net.head(0, h).softmax(dim=1)
    assert probs[0].argmax() == 0 and probs[2].argmax() == 2  # the row's centre picks the token
    assert torch.allclose(probs[1][0], probs[1][2])  # centre 0: symmetric
    unordered = net.head(1, h) - torch.addmm(net.b_out[1], h, net.w_out[1])
    assert torch.count_nonzero(unordered) == 0  # no ordinal term on an unordered sub-column


def test_a_network_without_positions_has_no_ordinal_weights() -> None:
    net = ARNetwork([3, 2], hidden_dim=4, generator=torch_generator(0))
    assert not any(name.startswith("ordinal") for name in net.state_dict())
    with pytest.raises(ValueError, match="one place per token"):
        ARNetwork([3], hidden_dim=4, positions=[(0.0, 1.0)])
