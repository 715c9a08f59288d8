"""Privacy: personal-data detection and replacement (and, with the ``dp`` extra, differential privacy).

The public names of :mod:`syntho_hive.core.privacy`, where the building blocks live so that models can
use them, and of :mod:`syntho_hive.core.dp` (differential privacy: :class:`DPConfig`, the budget spent).
Disclosure metrics (distance to closest record, membership inference ...) and the privacy gate's
``PrivacyThreshold`` live in :mod:`syntho_hive.validation`.
"""

from syntho_hive.core.privacy import (
    ACTIONS, DEFAULT_ACTIONS, PII_TYPES, Action, ColumnDecision, PIIFinding, PIIRejection, PIIReport,
    PrivacyConfig, TablePrivacyPlan, check_privacy_config, detect_pii, key_id, mask_value, pseudonymize,
    resolve_privacy,
)
from syntho_hive.core.dp import DPConfig, PrivacySpent

__all__ = [
    "PrivacyConfig", "Action", "ACTIONS", "PII_TYPES", "DEFAULT_ACTIONS", "detect_pii", "PIIReport", "PIIFinding",
    "PIIRejection", "resolve_privacy", "check_privacy_config", "TablePrivacyPlan", "ColumnDecision",
    "pseudonymize", "key_id", "mask_value", "DPConfig", "PrivacySpent",
]
