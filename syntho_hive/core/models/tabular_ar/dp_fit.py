"""TabularAR's fit under differential privacy, up to the tokens: refusals, budget plan, codecs.

Everything that can be refused is refused first, before any statistic is computed
(:func:`~syntho_hive.core.models._dp_state.plan_dp_fit`). Then the codecs are built from noisy
counts (:mod:`~syntho_hive.core.models.tabular_ar.dp_stats`), the parent-context codec too.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from syntho_hive._random import child_seed, numpy_generator
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.dp.config import DPConfig
from syntho_hive.core.metadata.schema import TableConfig
from syntho_hive.core.models._dp_state import plan_dp_fit
from syntho_hive.core.models.tabular_ar.dp_marginals import released_marginals
from syntho_hive.core.models.tabular_ar.dp_stats import dp_table_stats
from syntho_hive.core.models.tabular_ar.encoders import CodecConfig, TableCodec

__all__ = ["DPFit", "dp_batch_size", "fill_unmodelled_nulls", "prepare_dp"]

#: Expected rows per DP-SGD step: about a thirtieth of the table, a power of two in [64, 1024]
#: (large batches: the noise is shared by the batch, so its share of the update shrinks).
_MIN_BATCH, _MAX_BATCH = 64, 1024


def dp_batch_size(rows: int) -> int:
    """The expected DP-SGD batch: a power of two near ``rows / 30``, between 64 and 1024 (at most ``rows``)."""
    target = 2 ** round(math.log2(max(rows / 30.0, 1.0)))
    return int(min(max(rows, 1), min(_MAX_BATCH, max(_MIN_BATCH, target))))


@dataclass(frozen=True)
class DPFit:
    """What the DP preprocessing hands to training.

    Attributes:
        codec / context_codec: The codecs built from noisy counts.
        plan: The calibrated budget.
        epochs / batch_size: Planned epochs and expected batch size.
        marginals: ``{sub_column: token shares}`` released with the codecs (where the heads start).
    """

    codec: TableCodec
    context_codec: TableCodec | None
    plan: DPPlan
    epochs: int
    batch_size: int
    marginals: dict[int, np.ndarray]


def prepare_dp(frame: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig, declared: Mapping[str, str],
               config: DPConfig, *, seed: int, codec_config: CodecConfig | None = None, batch_size: int | None,
               epochs: int, rare_threshold: int, constrained: bool, times: Collection[str] = (),
               context_times: Collection[str] = ()) -> DPFit:
    """Plan the budget and build the codecs of ``frame`` (and ``context``) from noisy counts.

    Args:
        frame: Training rows (index reset).
        context: Parent-context rows aligned with ``frame``, or ``None``.
        table: The table (for messages).
        declared: Declared sdtypes (the others are detected, as public schema).
        config: The DP settings.
        seed: Seed of the noise.
        codec_config: Codec settings.
        batch_size: The model's batch size (``None``: :func:`dp_batch_size`).
        epochs: Planned DP-SGD epochs.
        rare_threshold: The model's least count of a kept value.
        constrained: Whether the table declares constraints (refused).
        times / context_times: The time-of-day columns of ``frame`` / ``context`` (their bounds: a day).

    Returns:
        The codecs and the plan.

    Raises:
        PrivacyError: Anything DP cannot honour (see the module docstring), before any noise is drawn.
    """
    where = f"TabularAR(dp=...) on table {table.name!r}"
    batch = int(min(batch_size, len(frame))) if batch_size is not None else dp_batch_size(len(frame))
    sdtypes, ctx_sdtypes, plan = plan_dp_fit(frame, context, declared, config, where=where, constrained=constrained,
                                             batch_size=batch, epochs=epochs, rare_threshold=rare_threshold,
                                             times=times, context_times=context_times)
    codec_config = codec_config or CodecConfig()
    rng = numpy_generator(child_seed(seed, "dp", "preprocessing"))
    stats = dp_table_stats(frame, sdtypes, codec_config, plan, rng, datetime_formats=dict(table.datetime_formats),
                           where=where)
    codec = TableCodec.build(stats, codec_config)
    ctx_codec = None
    if context is not None:
        ctx_codec = TableCodec.build(dp_table_stats(context, ctx_sdtypes, codec_config, plan, rng,
                                                    where=f"{where} (parent context)"), codec_config)
    return DPFit(codec, ctx_codec, plan, epochs, batch, released_marginals(codec, stats))


def fill_unmodelled_nulls(frame: pd.DataFrame, codec: TableCodec, rng: np.random.Generator) -> pd.DataFrame:
    """``frame`` with the missing values of columns whose codec has no null token (too few of them
    for the noisy count) replaced by the value of the codec's first token, so the rows can be
    encoded (a per-row mapping: DP-SGD's guarantee is unchanged)."""
    out = frame
    for column_codec in codec.codecs:
        subs = column_codec.sub_columns
        column = column_codec.column
        if not subs or subs[0].null_token is not None or not frame[column].isna().any():
            continue
        fill = column_codec.decode(np.zeros((1, len(subs)), dtype=np.int64), rng).iloc[0]
        if out is frame:
            out = frame.copy()
        series = out[column].astype(object)
        series[series.isna()] = fill
        out[column] = series.astype(frame[column].dtype) if frame[column].dtype != object else series
    return out
