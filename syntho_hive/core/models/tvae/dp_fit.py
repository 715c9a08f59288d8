"""TVAE's preprocessing under differential privacy: refusals, budget plan, transformers from noisy counts.

Everything that can be refused is refused before any statistic is computed
(:func:`~syntho_hive.core.models._dp_state.plan_dp_fit`). Then the transformers of the rows and of the
parent context are fitted to stand-ins made from noisy counts
(:mod:`~syntho_hive.core.data.dp_transformer`), and the real rows are encoded cell by cell.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from syntho_hive._random import child_seed, numpy_generator
from syntho_hive.core.data import DataTransformer
from syntho_hive.core.data.dp_transformer import dp_transform, fit_dp_transformer
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.dp.config import DPConfig
from syntho_hive.core.metadata.schema import TableConfig
from syntho_hive.core.models._dp_state import plan_dp_fit
from syntho_hive.exceptions import TrainingError

__all__ = ["TVAEDPFit", "prepare_tvae_dp"]

#: Least noisy count of a kept category or bucket (as TabularAR's default ``rare_threshold``).
RARE_THRESHOLD = 5


@dataclass(frozen=True)
class TVAEDPFit:
    """What the DP preprocessing hands to training.

    Attributes:
        transformer / context_transformer: Fitted to stand-ins from noisy counts.
        matrix / context: The real rows (and parent context) encoded cell by cell.
        plan: The calibrated budget.
        epochs / batch_size: Planned epochs and expected rows per DP-SGD step.
    """

    transformer: DataTransformer
    context_transformer: DataTransformer | None
    matrix: np.ndarray
    context: np.ndarray | None
    plan: DPPlan
    epochs: int
    batch_size: int


def prepare_tvae_dp(frame: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig, config: DPConfig, *,
                    seed: int, batch_size: int, epochs: int, max_modes: int,
                    rare_threshold: int = RARE_THRESHOLD, times: Collection[str] = (),
                    context_times: Collection[str] = ()) -> TVAEDPFit:
    """Plan the budget, fit the transformers to noisy stand-ins and encode the rows.

    Args:
        frame: Training rows (index reset).
        context: Parent-context rows aligned with ``frame``, or ``None``.
        table: The table (declared sdtypes, keys, formats, constraints).
        config: The DP settings.
        seed: Seed of the noise, mixtures and draws.
        batch_size: Expected rows per DP-SGD step (capped at the rows).
        epochs: Planned DP-SGD epochs.
        max_modes: Most mixture modes per number.
        rare_threshold: Least noisy count of a kept category or bucket (the model's ``rare_threshold``).
        times / context_times: The time-of-day columns of ``frame`` / ``context`` (their bounds: a day).

    Returns:
        The transformers, encoded rows and plan.

    Raises:
        PrivacyError: Anything DP cannot honour (see the module docstring), before any noise is drawn.
        TrainingError: Nothing left to model (every column an id or constant).
    """
    where = f"TVAE(dp=...) on table {table.name!r}"
    declared = {c: t for c, t in table.columns.items() if c in frame.columns}
    declared.update({c: "id" for c in table.key_columns if c in frame.columns})
    batch = int(min(batch_size, len(frame)))
    sdtypes, ctx_sdtypes, plan = plan_dp_fit(
        frame, context, declared, config, where=where, batch_size=batch, epochs=epochs, rare_threshold=rare_threshold,
        constrained=table.declares_constraints, times=times, context_times=context_times)
    noise = numpy_generator(child_seed(seed, "dp", "preprocessing"))
    draws = numpy_generator(child_seed(seed, "dp", "transform"))
    formats = {c: f for c, f in table.datetime_formats.items() if c in frame.columns}
    encoding = fit_dp_transformer(frame, sdtypes, plan, noise, seed=child_seed(seed, "transformer"),
                                  max_modes=max_modes, datetime_formats=formats, where=where)
    if encoding.transformer.output_dim_ == 0:
        raise TrainingError(f"{where}: nothing to model: every column is an id or a single released value "
                            f"({encoding.transformer.sdtypes_}); fit this table with TabularAR, or add varying "
                            "columns.")
    matrix = dp_transform(encoding, frame, sdtypes, draws)
    ctx_transformer, ctx_matrix = None, None
    if context is not None:
        ctx_encoding = fit_dp_transformer(context, ctx_sdtypes, plan, noise,
                                          seed=child_seed(seed, "context_transformer"), max_modes=max_modes,
                                          where=f"{where} (parent context)")
        ctx_transformer = ctx_encoding.transformer
        ctx_matrix = dp_transform(ctx_encoding, context, ctx_sdtypes, draws)
    return TVAEDPFit(encoding.transformer, ctx_transformer, matrix, ctx_matrix, plan, epochs, batch)
