"""Quality validation of synthetic data against the real data it imitates."""

from syntho_hive.validation.column_shapes import (
    column_shape_scores,
    ks_complement,
    overall_column_shape,
    tv_complement,
)

__all__ = ["column_shape_scores", "overall_column_shape", "ks_complement", "tv_complement"]

# --- metrics, evaluate() and the report (helper "validation") ---
from syntho_hive.validation.detection import DetectionResult, detection_auc  # noqa: E402
from syntho_hive.validation.efficacy import EfficacyResult, ml_efficacy  # noqa: E402
from syntho_hive.validation.evaluate import QualityResult, TableQuality, evaluate  # noqa: E402
from syntho_hive.validation.pair_trends import PairScore, PairTrendsResult, column_pair_trends  # noqa: E402
from syntho_hive.validation.privacy import PrivacyResult, exact_copy_rate, privacy_metrics  # noqa: E402
from syntho_hive.validation.relational import (  # noqa: E402
    ForeignKeyQuality,
    RelationalResult,
    relational_metrics,
)
from syntho_hive.validation.report import ValidationReport  # noqa: E402

# --- disclosure risk and the privacy gate (issue #16, part 2) ---
from syntho_hive.validation.attribute_inference import (  # noqa: E402
    AttributeInferenceColumn,
    AttributeInferenceResult,
    attribute_inference_risk,
)
from syntho_hive.validation.disclosure import DisclosureResult, disclosure_metrics  # noqa: E402
from syntho_hive.validation.membership import MembershipInferenceResult, membership_inference_auc  # noqa: E402
from syntho_hive.validation.pii_leaks import PiiLeakColumn, PiiLeakResult, pii_value_leaks  # noqa: E402
from syntho_hive.validation.privacy_gate import (  # noqa: E402
    PrivacyThreshold,
    check_privacy,
    privacy_gate,
    require_inputs,
)

__all__ += [
    "evaluate",
    "QualityResult",
    "TableQuality",
    "column_pair_trends",
    "PairScore",
    "PairTrendsResult",
    "detection_auc",
    "DetectionResult",
    "ml_efficacy",
    "EfficacyResult",
    "privacy_metrics",
    "exact_copy_rate",
    "PrivacyResult",
    "relational_metrics",
    "RelationalResult",
    "ForeignKeyQuality",
    "ValidationReport",
    "membership_inference_auc",
    "MembershipInferenceResult",
    "attribute_inference_risk",
    "AttributeInferenceResult",
    "AttributeInferenceColumn",
    "pii_value_leaks",
    "PiiLeakResult",
    "PiiLeakColumn",
    "disclosure_metrics",
    "DisclosureResult",
    "PrivacyThreshold",
    "check_privacy",
    "privacy_gate",
    "require_inputs",
]
