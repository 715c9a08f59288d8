"""Membership inference: can an attacker tell which real rows the generator trained on?

The attack is distance-based: it scores a real record by its distance to the closest synthetic row
(closer = more likely a training member). Equal-size seeded samples of training rows (members) and
holdout rows (non-members, which the generator never saw) are scored, and the attack's ROC AUC is
reported: 0.5 means the synthetic data tells nothing about membership, 1 means every member is
closer to the synthetic data than every non-member (e.g. the synthetic rows are copies).

Also reported: the attacker's advantage ``max(TPR - FPR)`` over thresholds, and the true-positive
rate at a false-positive rate of 10% (what an attacker who must rarely be wrong achieves: the best
TPR among thresholds whose FPR is at most 10%, read off the ROC curve without interpolation).
Distances are Gower-like (:mod:`._distances`), fitted on members and non-members together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from syntho_hive._random import child_seed, numpy_generator, resolve_seed, sample_rows
from syntho_hive.core.metadata.schema import SDType
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation._common import FieldsDict, check_columns, check_positive_int, resolve_sdtypes
from syntho_hive.validation._distances import distance_columns, gower_encoder, nearest

__all__ = ["MembershipInferenceResult", "membership_inference_auc", "LOW_FPR"]

#: False-positive rate at which :attr:`MembershipInferenceResult.tpr_at_low_fpr` is read.
LOW_FPR = 0.1


@dataclass(frozen=True)
class MembershipInferenceResult(FieldsDict):
    """The distance-based membership-inference attack on one table.

    Attributes:
        auc: ROC AUC of the attack (0.5 ideal: no leakage; 1: members fully exposed).
        advantage: ``max(TPR - FPR)`` over thresholds (0 ideal).
        tpr_at_low_fpr: True-positive rate at a false-positive rate of :data:`LOW_FPR`
            (:data:`LOW_FPR` ideal: no better than chance).
        n_members: Training rows attacked.
        n_non_members: Holdout rows attacked (as many as members).
        n_synthetic_used: Synthetic rows the distances are measured to.
        rows_sampled: Whether any of those was a seeded sample.
    """

    auc: float
    advantage: float
    tpr_at_low_fpr: float
    n_members: int
    n_non_members: int
    n_synthetic_used: int
    rows_sampled: bool


def membership_inference_auc(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame,
                             sdtypes: Mapping[str, SDType] | None = None, *, max_rows: int = 5_000,
                             max_synthetic: int = 20_000, seed: int | None = 0,
                             n_threads: int = 1) -> MembershipInferenceResult:
    """Attack membership by distance to the closest synthetic row; report the attack's ROC AUC.

    Args:
        train: The real rows the generator learned from (members).
        holdout: Real rows it never saw (non-members), same columns.
        synthetic: The synthetic rows.
        sdtypes: ``{column: sdtype}``; missing columns are detected. id/text columns are ignored.
        max_rows: Members and non-members attacked at most, each (equal-size seeded samples).
        max_synthetic: Synthetic rows searched at most (seeded sample).
        seed: Seed for the samples.
        n_threads: BLAS/OpenMP threads (``threadpool_limits``).

    Returns:
        A :class:`MembershipInferenceResult`.

    Raises:
        SchemaError: If columns are missing, a table is empty, or no column can be compared.
        ConfigurationError: If ``max_rows``, ``max_synthetic`` or ``n_threads`` is not a positive integer.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    check_columns(train, synthetic, what="Membership inference")
    check_columns(train, holdout, what="Membership inference", other="holdout")
    for name, value in (("max_rows", max_rows), ("max_synthetic", max_synthetic), ("n_threads", n_threads)):
        check_positive_int(name, value)
    types = resolve_sdtypes(train, sdtypes)
    columns = distance_columns(train, types)
    if not columns:
        raise SchemaError("Membership inference found no numerical, datetime, categorical or boolean column.")
    base = resolve_seed(seed)
    n = min(len(train), len(holdout), max_rows)
    members = sample_rows(train[columns], n, numpy_generator(child_seed(base, "membership", "members")))
    others = sample_rows(holdout[columns], n, numpy_generator(child_seed(base, "membership", "non-members")))
    synth = sample_rows(synthetic[columns], max_synthetic,
                        numpy_generator(child_seed(base, "membership", "synthetic")))
    real = pd.concat([members, others], ignore_index=True)
    encoder = gower_encoder(types, real)
    with threadpool_limits(limits=n_threads):
        distances, _ = nearest(encoder.transform(synth), encoder.transform(real))
    scores = -distances[:, 0]
    labels = np.r_[np.ones(n), np.zeros(n)]
    fpr, tpr, _ = roc_curve(labels, scores)
    return MembershipInferenceResult(
        auc=float(roc_auc_score(labels, scores)), advantage=float(np.max(tpr - fpr)),
        tpr_at_low_fpr=float(np.max(tpr[fpr <= LOW_FPR])), n_members=n, n_non_members=n,
        n_synthetic_used=len(synth),
        rows_sampled=bool(n < len(train) or n < len(holdout) or len(synth) < len(synthetic)),
    )
