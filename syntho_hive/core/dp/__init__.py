"""Differential privacy for the models (opt-in): settings, mechanisms and the privacy accountant.

``DPConfig`` is what users pass (``TabularAR(dp=DPConfig(max_epsilon=4.0))``); ``plan_budget``
calibrates a fit's preprocessing noise and DP-SGD within it; ``PrivacySpent`` is what a fitted model
reports (``model.privacy_spent_``, the checkpoint manifest, ``sampling_complete`` events). The
accountant's Rényi-DP analysis comes from Opacus (extra ``dp``), imported when a fit needs it.
See ``docs/privacy.md``.
"""

from syntho_hive.core.dp.accounting import DPPlan, PrivacySpent, plan_budget
from syntho_hive.core.dp.config import DPConfig

__all__ = ["DPConfig", "DPPlan", "PrivacySpent", "plan_budget"]
