"""The privacy spent by a model trained under DP, where the engines report and keep it.

A fitted model holds it as ``privacy_spent_``; the checkpoint manifest keeps it under
``extra["dp"]``; every ``sampling_complete`` event carries its epsilon and delta. Shared by the
engines that honour ``dp=`` (TabularAR, TVAE).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syntho_hive.core.dp.accounting import PrivacySpent
from syntho_hive.core.dp.config import DPConfig

__all__ = ["privacy_event_fields", "privacy_extra", "restored_privacy"]


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
