"""Personal data, wired in: detection, per-column actions and their application around a model.

Building blocks (core layer, so that models' ``fit``/``sample`` can use them):

- :class:`PrivacyConfig`: per-column actions ``drop | mask | hash | fake | keep | custom``, detection on
  or off, locale, HMAC secret (never stored), custom transforms, mask options, DP settings;
- :func:`detect_pii` -> :class:`PIIReport`: which columns are personal data, why, at what share;
- :func:`resolve_privacy` -> :class:`TablePrivacyPlan`: ``fit`` (aggregates only), ``prepare`` (what the
  model trains on), ``restore`` (generated columns back), ``to_dict``/``from_dict``, ``pii_columns``;
- :func:`check_privacy_config`: every named column exists in some table;
- :func:`pseudonymize`: keyed HMAC-SHA256 pseudonyms, the same in every table and run.
"""

from syntho_hive.core.privacy.config import PrivacyConfig
from syntho_hive.core.privacy.detection import PIIFinding, PIIRejection, PIIReport, detect_pii
from syntho_hive.core.privacy.keys import key_id, pseudonymize
from syntho_hive.core.privacy.masking import mask_value
from syntho_hive.core.privacy.plan import ColumnDecision, TablePrivacyPlan
from syntho_hive.core.privacy.resolve import check_privacy_config, resolve_privacy
from syntho_hive.core.privacy.schema import table_for_model
from syntho_hive.core.privacy.types import ACTIONS, DEFAULT_ACTIONS, PII_TYPES, Action

__all__ = [
    "PrivacyConfig", "Action", "ACTIONS", "PII_TYPES", "DEFAULT_ACTIONS", "detect_pii", "PIIReport", "PIIFinding",
    "PIIRejection", "resolve_privacy", "check_privacy_config", "TablePrivacyPlan", "ColumnDecision",
    "pseudonymize", "key_id", "mask_value", "table_for_model",
]
