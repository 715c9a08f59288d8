"""Starting TabularAR's heads at the released marginals: post-processing of the DP preprocessing.

The noisy counts the DP codecs are built from (:mod:`~syntho_hive.core.models.tabular_ar.dp_stats`)
already tell each token's share of the rows. Setting every head's bias to the log of that share
starts generation at the right marginals; DP-SGD then spends its noisy steps on the dependencies
between columns instead of rediscovering each column's distribution through the noise. It reads no
row: the guarantee and the budget are unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from syntho_hive.core.models.tabular_ar.encoders import TableCodec
from syntho_hive.core.models.tabular_ar.encoders.categorical import CategoricalCodec, CategoricalStats
from syntho_hive.core.models.tabular_ar.encoders.numeric import NumericCodec, NumericStats
from syntho_hive.core.models.tabular_ar.network import ARNetwork

__all__ = ["released_marginals", "start_at_marginals"]

#: A token with no released mass (the rare stand-in, an empty bin) starts at this share of the rows.
_FLOOR = 1e-4


def _categorical(codec: CategoricalCodec, stats: CategoricalStats) -> np.ndarray:
    weights = np.zeros(codec.sub_columns[0].cardinality)
    weights[:len(codec.counts)] = codec.counts
    if codec.null_token is not None:
        weights[codec.null_token] = stats.nulls
    return weights


def _numerical(codec: NumericCodec, stats: NumericStats) -> np.ndarray:
    weights = np.zeros(codec.sub_columns[0].cardinality)
    if stats.values:
        np.add.at(weights, codec._tokens(np.asarray(stats.values, dtype=np.float64)),
                  np.asarray(stats.counts, dtype=np.float64))
    if codec.null_token is not None:
        weights[codec.null_token] = stats.nulls
    return weights


def released_marginals(codec: TableCodec, stats: Mapping[str, object]) -> dict[int, np.ndarray]:
    """``{sub_column: token shares}`` of the categorical and numerical columns, from their released counts
    (other columns: none, their heads start as usual)."""
    out: dict[int, np.ndarray] = {}
    for column_codec in codec.codecs:
        column_stats = stats.get(column_codec.column)
        if isinstance(column_codec, CategoricalCodec) and isinstance(column_stats, CategoricalStats):
            weights = _categorical(column_codec, column_stats)
        elif isinstance(column_codec, NumericCodec) and isinstance(column_stats, NumericStats):
            weights = _numerical(column_codec, column_stats)
        else:
            continue
        total = weights.sum()
        if total > 0 and len(weights) > 1:
            shares = np.maximum(weights / total, _FLOOR)
            out[codec.slices[column_codec.column].start] = shares / shares.sum()
    return out


@torch.no_grad()
def start_at_marginals(net: ARNetwork, marginals: Mapping[int, np.ndarray]) -> None:
    """Start every head listed in ``marginals`` at its released marginal, whatever the row (in place).

    The head's row-dependent weights (``w_out``, the ordinal centre and width) start at zero, and its
    bias at the log of the shares plus the ordinal width term at zero hidden weight
    (``u_k^2 softplus(r_t) / 2``), so the head's softmax is exactly the shares for every hidden state.
    """
    for target, shares in marginals.items():
        bias = torch.as_tensor(np.log(shares), dtype=net.b_out[target].dtype)
        net.w_out[target].zero_()
        if net.ordinal:
            net.ordinal_centre[target].zero_()
            net.ordinal_width[target].zero_()
            start = int(net.offsets[target])
            places = net.token_position[start:start + net.cardinalities[target]]
            bias = bias + 0.5 * places.square() * torch.nn.functional.softplus(net.ordinal_width_bias[target])
        net.b_out[target].copy_(bias)
