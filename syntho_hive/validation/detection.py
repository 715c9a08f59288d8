"""Detection: can a classifier tell real rows from synthetic ones?

One- and two-column scores saturate; a classifier sees every column at once. We train a
histogram gradient-boosting classifier (scikit-learn) to separate a balanced sample of real and
synthetic rows, and report its cross-validated ROC AUC: 0.5 means indistinguishable (ideal), 1.0
means every synthetic row is recognisable. ``score = clip(2 * (1 - auc), 0, 1)`` rescales it so
that 1 is best.

Identical rows (after encoding) are kept in the same fold. Otherwise a synthetic copy of a real row
trains the classifier to call that very row synthetic when the real one is tested, and the other way
round, so copied data scored an AUC far *below* 0.5 (0.1-0.2 on a table against itself) instead of
0.5. (Copies are a privacy matter, which the privacy metrics report.) A table with so few distinct
rows that grouping them would leave fewer than ten groups per fold keeps plain stratified folds.

A tree of the classifier splits a node only if both sides keep ``min_samples_leaf`` (20) rows. Each
training fold therefore needs twice that many rows, or the classifier predicts one constant and the
AUC is 0.5 ("indistinguishable") whatever the data: a table of 20 rows shifted by three standard
deviations scored 0.5. :func:`detection_auc` refuses fewer rows (:func:`min_detection_rows`: 30 per
side with 3 folds), and :func:`~syntho_hive.validation.evaluate` skips such a table, saying why.

Fitting runs under ``threadpoolctl.threadpool_limits(n_threads)``: in a process that imported torch,
scikit-learn's OpenMP estimators can otherwise be dozens of times slower.
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
from syntho_hive.validation._encoding import MixedEncoder

__all__ = ["DetectionResult", "detection_auc", "min_detection_rows"]

#: Fewer distinct rows than this many per fold: plain stratified folds (see the module docstring).
_MIN_GROUPS_PER_FOLD = 10
#: Fewest rows in a leaf of the classifier's trees (scikit-learn's default, written out: the row minimum
#: follows from it).
_MIN_SAMPLES_LEAF = 20


def min_detection_rows(n_folds: int = 3) -> int:
    """Fewest rows per table for which :func:`detection_auc` can tell anything.

    Every training fold (both classes, all folds but one) must hold ``2 * min_samples_leaf`` rows for
    the classifier to split at all: ``n - ceil(n / n_folds) >= min_samples_leaf`` rows of each class.

    Args:
        n_folds: Cross-validation folds (>= 2).

    Returns:
        The minimum number of rows of each table (30 with 3 folds, 40 with 2).
    """
    return max(n_folds, -(-_MIN_SAMPLES_LEAF * n_folds // (n_folds - 1)))


@dataclass(frozen=True)
class DetectionResult(FieldsDict):
    """Cross-validated real-vs-synthetic classifier.

    Attributes:
        auc: Mean ROC AUC over the folds (0.5 ideal, 1.0 worst).
        auc_std: Standard deviation of the fold AUCs.
        score: ``clip(2 * (1 - auc), 0, 1)``: 1 is indistinguishable, 0 fully detectable.
        n_rows_per_class: Rows of each class used (balanced sample).
        rows_sampled: Whether rows were subsampled.
        n_folds: Cross-validation folds.
        model: The classifier used.
    """

    auc: float
    auc_std: float
    score: float
    n_rows_per_class: int
    rows_sampled: bool
    n_folds: int
    model: str


def detection_auc(real: pd.DataFrame, synthetic: pd.DataFrame,
                  sdtypes: Mapping[str, SDType] | None = None, *, max_rows: int = 10_000,
                  n_folds: int = 3, seed: int | None = 0, n_threads: int = 1,
                  max_iter: int = 100) -> DetectionResult:
    """Cross-validated ROC AUC of a classifier separating real from synthetic rows.

    On a few dozen rows (the minimum is :func:`min_detection_rows`) the figure stays weak evidence: a
    classifier that cannot learn from so few rows scores near 0.5 whatever the data, so an AUC near 0.5
    there does not show the data are alike (real rows over 16 categories, synthetic rows over 4 of them:
    0.5 at 30 rows per side, for every seed). Judge a small table by its column shapes and pair trends too.

    Args:
        real: The real table.
        synthetic: The synthetic table (must hold every column of ``real``).
        sdtypes: ``{column: sdtype}``; missing columns are detected. ``id``/``text`` are left out.
        max_rows: Rows per class at most (seeded sample); both classes get the same count.
        n_folds: Stratified cross-validation folds (>= 2), identical rows in the same fold.
        seed: Seed for sampling, fold assignment and the classifier.
        n_threads: Threads for the classifier (``threadpool_limits``).
        max_iter: Boosting iterations.

    Returns:
        A :class:`DetectionResult`.

    Raises:
        SchemaError: If columns are missing, fewer than :func:`min_detection_rows` rows per table can
            be used (with ``max_rows``), or no column can be encoded.
        ConfigurationError: If ``max_rows``, ``n_folds``, ``max_iter`` or ``n_threads`` is not a
            positive integer.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    check_columns(real, synthetic, what="Detection")
    for name, value in (("max_rows", max_rows), ("n_folds", n_folds), ("max_iter", max_iter), ("n_threads", n_threads)):
        check_positive_int(name, value)
    if n_folds < 2:
        raise SchemaError(f"n_folds must be at least 2, got {n_folds}.")
    types = resolve_sdtypes(real, sdtypes)
    base = resolve_seed(seed)
    n = int(min(len(real), len(synthetic), max_rows))
    minimum = min_detection_rows(n_folds)
    if n < minimum:
        raise SchemaError(
            f"Detection needs at least {minimum} rows per table with n_folds={n_folds}; got {len(real)} real and "
            f"{len(synthetic)} synthetic (max_rows={max_rows}). With fewer, its classifier (leaves of at least "
            f"{_MIN_SAMPLES_LEAF} rows) cannot split and would score 0.5 whatever the data; judge so small a table "
            "by its column shapes and pair trends.")
    real_used = sample_rows(real, n, numpy_generator(child_seed(base, "detection", "real")))
    synth_used = sample_rows(synthetic, n, numpy_generator(child_seed(base, "detection", "synthetic")))
    encoder = MixedEncoder(types, scale="standard", categorical="ordinal").fit(pd.concat([real_used, synth_used[real.columns]],
                                                                  ignore_index=True))
    if encoder.n_features == 0:
        raise SchemaError("Detection found no numerical, datetime, categorical or boolean column to use.")
    features = np.vstack([encoder.transform(real_used), encoder.transform(synth_used)])
    labels = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)])
    random_state = child_seed(base, "detection", "model") % (2**32)
    groups = pd.factorize(pd.util.hash_pandas_object(pd.DataFrame(features), index=False))[0]
    if groups.max() + 1 >= _MIN_GROUPS_PER_FOLD * n_folds:
        splits = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=random_state).split(
            features, labels, groups)
    else:
        splits = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state).split(features, labels)
    aucs = []
    with threadpool_limits(limits=n_threads):
        for train_index, test_index in splits:
            model = HistGradientBoostingClassifier(max_iter=max_iter, early_stopping=False,
                                                   min_samples_leaf=_MIN_SAMPLES_LEAF, random_state=random_state,
                                                   categorical_features=np.asarray(encoder.categorical_mask))
            model.fit(features[train_index], labels[train_index])
            probabilities = model.predict_proba(features[test_index])[:, 1]
            aucs.append(roc_auc_score(labels[test_index], probabilities))
    auc = float(np.mean(aucs))
    return DetectionResult(
        auc=auc, auc_std=float(np.std(aucs)), score=float(np.clip(2.0 * (1.0 - auc), 0.0, 1.0)),
        n_rows_per_class=n, rows_sampled=n < len(real) or n < len(synthetic), n_folds=n_folds,
        model=f"HistGradientBoostingClassifier(max_iter={max_iter})",
    )
