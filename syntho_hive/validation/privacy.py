"""Privacy: are synthetic rows suspiciously close to the rows the generator trained on?

Rows are encoded Gower-like: numerical/datetime columns scaled to [0, 1] by the training range,
categoricals one-hot weighted ``1/sqrt(2)`` (two different categories are exactly 1 apart), nulls
as their own indicator/category. Nearest neighbours come from scikit-learn's ``NearestNeighbors``.

* **DCR share** (needs a holdout of real rows the generator never saw): for each synthetic row,
  compare its distance to the closest training row with its distance to the closest holdout row;
  the share closer to training (ties count half). 0.5 is ideal: the generator is no closer to
  what it trained on than to fresh real data. Training and holdout are sampled to the same size.
* **DCR medians** to training and to holdout, and the holdout's own median DCR to training (the
  natural distance between real records) as a baseline.
* **NNDR**: distance to the closest training row divided by the distance to the second closest;
  values near 0 single out one real record. The median and 5th percentile are reported.
* **Exact-copy rate**: share of synthetic rows identical (on every compared column) to some
  training row, computed on all rows by hashing. With a holdout, the **holdout copy rate** (the
  share of holdout rows identical to a training row) is its chance level: columns that take few
  values (a table compared on ``qty`` 1-4 alone) make copies of real rows unavoidable, and a
  generator that never saw the holdout copies no more than that.

Synthetic rows and reference rows are sampled with a seeded generator (``max_synthetic``,
``max_reference``); the result says when.
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
from syntho_hive.validation.disclosure import DisclosureResult
from syntho_hive.validation._distances import distance_columns, gower_encoder, nearest, row_keys

__all__ = ["PrivacyResult", "privacy_metrics", "exact_copy_rate"]


@dataclass(frozen=True)
class PrivacyResult(FieldsDict):
    """Distance-based privacy figures of one table.

    Attributes:
        dcr_share_closer_to_training: Share of synthetic rows closer to training than to holdout
            (0.5 ideal; ``None`` without a holdout).
        dcr_synthetic_to_training_median: Median distance of a synthetic row to its closest
            training row.
        dcr_synthetic_to_holdout_median: Same against the holdout (``None`` without one).
        dcr_holdout_to_training_median: Median distance of a holdout row to its closest training
            row: the baseline for "close" (``None`` without a holdout).
        nndr_median: Median nearest/second-nearest distance ratio to training rows (1 is safest).
        nndr_p05: 5th percentile of that ratio.
        exact_copy_rate: Share of synthetic rows equal to some training row (all rows compared).
        exact_copies: Number of such synthetic rows.
        holdout_copy_rate: Share of holdout rows equal to some training row on the same columns
            (all rows compared): the chance level of ``exact_copy_rate``, the share a generator
            that never saw its training rows would reach (``None`` without a holdout). Informative
            only: no gate reads it.
        n_synthetic_used: Synthetic rows used for the distance figures.
        n_reference_used: Training rows used as references for the distances.
        rows_sampled: Whether any of those was a sample.
        columns: Columns compared.
        membership_inference_auc: ROC AUC of a distance-based membership-inference attack, 0.5
            ideal (``None`` unless computed: needs a holdout; see :mod:`.membership`).
        attribute_inference_risk: Largest excess accuracy, on training rows over holdout rows, of
            an attacker guessing a sensitive column from quasi-identifiers, 0 ideal (``None``
            unless sensitive columns and a holdout were given; see :mod:`.attribute_inference`).
        pii_value_leaks: Synthetic values of PII columns equal to a real value of the column
            (``None`` unless computed; see :mod:`.pii_leaks`).
        real_rows_reproduced: Real rows reproduced whole (every non-id column, text and PII
            included) by some synthetic row (``None`` unless computed).
        disclosure: The details of those disclosure figures (``None`` when not computed, and in
            the worst-case summary over several tables).
    """

    dcr_share_closer_to_training: float | None
    dcr_synthetic_to_training_median: float
    dcr_synthetic_to_holdout_median: float | None
    dcr_holdout_to_training_median: float | None
    nndr_median: float
    nndr_p05: float
    exact_copy_rate: float
    exact_copies: int
    n_synthetic_used: int
    n_reference_used: int
    rows_sampled: bool
    columns: list[str]
    membership_inference_auc: float | None = None
    attribute_inference_risk: float | None = None
    pii_value_leaks: int | None = None
    real_rows_reproduced: int | None = None
    disclosure: DisclosureResult | None = None
    holdout_copy_rate: float | None = None


def exact_copy_rate(train: pd.DataFrame, synthetic: pd.DataFrame,
                    sdtypes: Mapping[str, SDType] | None = None) -> tuple[float, int]:
    """Share and count of synthetic rows identical to a training row (id/text columns ignored).

    Args:
        train: The real rows the generator learned from.
        synthetic: The synthetic rows.
        sdtypes: ``{column: sdtype}``; missing columns are detected.

    Returns:
        ``(rate, count)``.

    Raises:
        SchemaError: If columns are missing or a table is empty.
    """
    check_columns(train, synthetic, what="Exact-copy rate")
    types = resolve_sdtypes(train, sdtypes)
    columns = distance_columns(train, types)
    if not columns:
        return 0.0, 0
    copies = np.isin(row_keys(synthetic, types, columns), row_keys(train, types, columns))
    return float(copies.mean()), int(copies.sum())


def privacy_metrics(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
                    sdtypes: Mapping[str, SDType] | None = None, *, max_synthetic: int = 5_000,
                    max_reference: int = 20_000, seed: int | None = 0, n_threads: int = 1) -> PrivacyResult:
    """Distance-to-closest-record, NNDR and exact-copy figures for one table.

    Args:
        train: The real rows the generator learned from.
        synthetic: The synthetic rows.
        holdout: Real rows the generator never saw (enables the DCR share).
        sdtypes: ``{column: sdtype}``; missing columns are detected. id/text columns are ignored.
        max_synthetic: Synthetic rows used for distances at most (seeded sample).
        max_reference: Training/holdout rows used as references at most (seeded sample). The
            DCR share compares equal-size samples of both (so its ideal stays 0.5); the distances
            to training rows (DCR median, NNDR) use every training row up to this bound.
        seed: Seed for the samples.
        n_threads: BLAS/OpenMP threads (``threadpool_limits``).

    Returns:
        A :class:`PrivacyResult`.

    Raises:
        SchemaError: If columns are missing, a table is empty, or the training table has fewer
            than 2 rows.
        ConfigurationError: If ``max_synthetic``, ``max_reference`` or ``n_threads`` is not a
            positive integer.
    """
    from sklearn.neighbors import NearestNeighbors

    check_columns(train, synthetic, what="Privacy metrics")
    for name, value in (("max_synthetic", max_synthetic), ("max_reference", max_reference), ("n_threads", n_threads)):
        check_positive_int(name, value)
    if holdout is not None:
        check_columns(train, holdout, what="Privacy metrics", other="holdout")
    if len(train) < 2:
        raise SchemaError(f"Privacy metrics need at least 2 training rows, got {len(train)}.")
    types = resolve_sdtypes(train, sdtypes)
    columns = distance_columns(train, types)
    if not columns:
        raise SchemaError("Privacy metrics found no numerical, datetime, categorical or boolean column.")
    train_keys = row_keys(train, types, columns)  # hashed once: the synthetic and the holdout rows look them up
    copied = np.isin(row_keys(synthetic, types, columns), train_keys)
    rate, copies = float(copied.mean()), int(copied.sum())
    chance = float(np.isin(row_keys(holdout, types, columns), train_keys).mean()) if holdout is not None else None
    base = resolve_seed(seed)
    # Distances to training rows (DCR, NNDR) use up to max_reference of them; only the DCR share,
    # which compares training with holdout, uses equal-size samples of both.
    train_used = sample_rows(train[columns], max(2, min(len(train), max_reference)),  # NNDR needs 2
                             numpy_generator(child_seed(base, "privacy", "train")))
    synth_used = sample_rows(synthetic[columns], max_synthetic,
                             numpy_generator(child_seed(base, "privacy", "synthetic")))
    encoder = gower_encoder(types, train[columns])
    train_matrix, synth_matrix = encoder.transform(train_used), encoder.transform(synth_used)
    sampled = len(train_used) < len(train) or len(synth_used) < len(synthetic)
    with threadpool_limits(limits=n_threads):
        train_index = NearestNeighbors(n_neighbors=2).fit(train_matrix)
        train_distances, _ = train_index.kneighbors(synth_matrix)
        share = to_holdout_median = baseline = None
        if holdout is not None:
            n_share = min(len(train_used), len(holdout), max_reference)
            holdout_used = sample_rows(holdout[columns], n_share,
                                       numpy_generator(child_seed(base, "privacy", "holdout")))
            sampled = sampled or len(holdout_used) < len(holdout)
            holdout_matrix = encoder.transform(holdout_used)
            to_holdout, _ = nearest(holdout_matrix, synth_matrix)
            if n_share < len(train_matrix):  # the share needs as many training as holdout rows
                rows = numpy_generator(child_seed(base, "privacy", "share")).choice(
                    len(train_matrix), size=n_share, replace=False)
                closest_train = nearest(train_matrix[np.sort(rows)], synth_matrix)[0][:, 0]
            else:
                closest_train = train_distances[:, 0]
            closest_holdout = to_holdout[:, 0]
            share = float(np.mean(closest_train < closest_holdout)
                          + 0.5 * np.mean(closest_train == closest_holdout))
            to_holdout_median = float(np.median(closest_holdout))
            probe_rows = numpy_generator(child_seed(base, "privacy", "baseline")).choice(
                len(holdout_matrix), size=min(len(holdout_matrix), max_synthetic), replace=False)
            probe = holdout_matrix[probe_rows]
            baseline_distances, _ = train_index.kneighbors(probe, n_neighbors=1)
            baseline = float(np.median(baseline_distances[:, 0]))
    first, second = train_distances[:, 0], train_distances[:, 1]
    nndr = np.divide(first, second, out=np.zeros_like(first), where=second > 0)
    return PrivacyResult(
        dcr_share_closer_to_training=share,
        dcr_synthetic_to_training_median=float(np.median(first)),
        dcr_synthetic_to_holdout_median=to_holdout_median,
        dcr_holdout_to_training_median=baseline,
        nndr_median=float(np.median(nndr)), nndr_p05=float(np.quantile(nndr, 0.05)),
        exact_copy_rate=rate, exact_copies=copies, n_synthetic_used=len(synth_used),
        n_reference_used=len(train_used), rows_sampled=bool(sampled), columns=[str(c) for c in columns],
        holdout_copy_rate=chance,
    )
