"""Quality maths that the models need at sampling time (column shapes, training-marginal profile, gates).

Lives in ``core`` so that models can score their own samples; :mod:`syntho_hive.validation`
builds the full metrics and reports on top of it (``validation -> core``, never the reverse).
"""

from syntho_hive.core.quality.gates import SampleQuality, apply_quality_gate, check_gate_arguments, score_sample
from syntho_hive.core.quality.profile import MarginalProfile, profile_sdtypes
from syntho_hive.core.quality.shapes import column_shape_scores, ks_complement, overall_column_shape, tv_complement

__all__ = ["MarginalProfile", "profile_sdtypes", "SampleQuality", "apply_quality_gate", "check_gate_arguments",
           "score_sample", "column_shape_scores", "overall_column_shape", "ks_complement", "tv_complement"]
