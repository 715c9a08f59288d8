"""What the engines that honour ``dp=`` (TabularAR, TVAE) share: the budget plan of a fit, and the
privacy spent, where they report and keep it.

A fitted model holds the privacy spent as ``privacy_spent_``; the checkpoint manifest keeps it under
``extra["dp"]``; every ``sampling_complete`` event carries its epsilon and delta.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from syntho_hive.core.dp.accounting import DPPlan, PrivacySpent, plan_budget
from syntho_hive.core.dp.columns import check_bounds, dp_queries, refuse_constraints, with_day_bounds
from syntho_hive.core.dp.config import BoundKind, DPConfig
from syntho_hive.core.metadata.detect import detect_sdtype

__all__ = ["plan_dp_fit", "privacy_event_fields", "privacy_extra", "restored_privacy"]


def _sdtypes(frame: pd.DataFrame, declared: Mapping[str, str]) -> dict[str, str]:
    return {str(c): declared.get(str(c)) or detect_sdtype(frame[c], str(c)) for c in frame.columns}


def plan_dp_fit(frame: pd.DataFrame, context: pd.DataFrame | None, declared: Mapping[str, str], config: DPConfig, *,
                where: str, constrained: bool, batch_size: int, epochs: int, rare_threshold: int,
                times: Collection[str] = (), context_times: Collection[str] = ()
                ) -> tuple[dict[str, str], dict[str, str], DPPlan]:
    """Refuse what DP cannot honour, before any noise is drawn, then plan the fit's budget.

    Refused: declared constraints (their engine learns bounds and seen combinations from the raw
    rows), text columns, declared bounds of unknown or non-numeric / non-datetime columns or of the
    wrong kind (numbers for a time of day or a duration), and budgets that
    :func:`~syntho_hive.core.dp.accounting.plan_budget` cannot honour.

    Args:
        times / context_times: The time-of-day columns of ``frame`` / ``context`` (durations since
            midnight): those without declared bounds get a whole day (public) in the plan's config.

    Returns:
        ``(sdtypes, context sdtypes, plan)``: every column's sdtype is declared or else detected
        (public schema).

    Raises:
        PrivacyError: Anything of the above.
    """
    refuse_constraints(constrained, where)
    sdtypes = _sdtypes(frame, declared)
    kinds: dict[str, BoundKind] = {str(c): "duration" for c in frame.columns
                                   if pd.api.types.is_timedelta64_dtype(frame[c].dtype)}
    kinds.update({str(c): "time" for c in times})
    check_bounds(config, sdtypes, where, numeric_kinds=kinds)
    config = with_day_bounds(config, [*times, *(c for c in context_times if c not in sdtypes)])
    ctx_sdtypes = _sdtypes(context, {}) if context is not None else {}
    queries, categories = dp_queries(sdtypes, where)
    ctx_queries, ctx_categories = dp_queries(ctx_sdtypes, f"{where} (parent context)")
    plan = plan_budget(config, rows=len(frame), queries=queries + ctx_queries,
                       category_queries=categories + ctx_categories, batch_size=batch_size, epochs=epochs,
                       rare_threshold=rare_threshold, where=where)
    return sdtypes, ctx_sdtypes, plan


def privacy_event_fields(spent: PrivacySpent | None) -> dict[str, Any]:
    """``{"dp_epsilon", "dp_delta"}`` for the ``sampling_complete`` event (empty without DP)."""
    if spent is None:
        return {}
    return {"dp_epsilon": spent.epsilon, "dp_delta": spent.delta}


def privacy_extra(spent: PrivacySpent | None) -> dict[str, Any]:
    """The manifest's ``extra`` entry: ``{"dp": spent}`` (empty without DP)."""
    return {"dp": spent.to_dict()} if spent is not None else {}


def restored_privacy(extra: Mapping[str, Any], dp: DPConfig | None) -> PrivacySpent | None:
    """The privacy spent read back from a manifest's ``extra``.

    Raises:
        ValueError: The record is missing for a DP model (or present without DP), or corrupt.
        TypeError: A corrupt record.
    """
    spent = extra.get("dp")
    if (spent is None) != (dp is None):
        raise ValueError("the privacy spent ('dp' in the manifest's extra) does not match the dp setting")
    return PrivacySpent.from_dict(spent) if spent is not None else None
