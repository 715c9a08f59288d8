"""Machine-learning efficacy: is a model trained on synthetic data as good as one trained on real data?

Train a histogram gradient-boosting model on the synthetic table and, separately, on the real
training table; score both on held-out real rows. Classification targets (categorical/boolean)
are scored with macro F1, regression targets (numerical/datetime) with R^2. ``ratio`` =
synthetic score / real score (1.0 means synthetic data is as useful as real data).

When no holdout is given, a seeded ``test_size`` share of the real rows is held out and the "real"
model trains on the rest. The synthetic data was usually learned from all real rows, test rows
included, so the synthetic model is scored on rows its generator saw and the figure is optimistic: a
generator that copies its 2,000 training rows scored a ratio of 1.19 without a holdout and 1.00 with
one. Only the caller knows which rows the generator did not see, so the result says so in ``notes``:
pass a genuine holdout for an unbiased figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from syntho_hive._checks import is_finite_number
from syntho_hive._random import child_seed, numpy_generator, resolve_seed, sample_rows
from syntho_hive.core.metadata.schema import SDType
from syntho_hive.core.quality.shapes import as_float
from syntho_hive.exceptions import ConfigurationError, SchemaError
from syntho_hive.validation._common import (
    CONTINUOUS,
    DISCRETE,
    FieldsDict,
    category_text,
    check_columns,
    check_positive_int,
    resolve_sdtypes,
)
from syntho_hive.validation._encoding import MixedEncoder

__all__ = ["EfficacyResult", "ml_efficacy"]

_SPLIT_NOTE = ("No holdout was given: the test rows were split off the real data, which the generator most likely "
               "trained on, so the synthetic score and the ratio are optimistic. Pass real rows kept out of "
               "training as the holdout for an unbiased figure.")


@dataclass
class EfficacyResult(FieldsDict):
    """Train-on-synthetic / test-on-real against train-on-real / test-on-real.

    Attributes:
        target: The predicted column.
        task: ``"classification"`` or ``"regression"``.
        metric: ``"macro_f1"`` or ``"r2"``.
        real_score: Test score of the model trained on real rows.
        synthetic_score: Test score of the model trained on synthetic rows.
        ratio: ``synthetic_score / real_score`` (``None`` when ``real_score <= 0``).
        n_train_real: Real training rows used.
        n_train_synthetic: Synthetic training rows used.
        n_test: Held-out real rows scored.
        holdout: ``"given"`` or ``"split"`` (split off the real data with the seed: optimistic, see
            the module docstring).
        notes: Anything the reader should know (no holdout, a single-class training set).
    """

    target: str
    task: str
    metric: str
    real_score: float
    synthetic_score: float
    ratio: float | None
    n_train_real: int
    n_train_synthetic: int
    n_test: int
    holdout: str
    notes: list[str] = field(default_factory=list)


def _fit_predict(task: str, features: np.ndarray, labels: np.ndarray, test: np.ndarray,
                 random_state: int, notes: list[str], which: str, categorical: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "classification":
        classes = np.unique(labels)
        if classes.size == 1:
            notes.append(f"{which} training rows hold a single class ({classes[0]!r}); "
                         "its model predicts that class for every row.")
            return np.full(test.shape[0], classes[0], dtype=object)
        model = HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=random_state,
                                               categorical_features=categorical)
    else:
        model = HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=random_state,
                                              categorical_features=categorical)
    model.fit(features, labels)
    return model.predict(test)


def ml_efficacy(real: pd.DataFrame, synthetic: pd.DataFrame, target: str,
                holdout: pd.DataFrame | None = None, sdtypes: Mapping[str, SDType] | None = None, *,
                seed: int | None = 0, max_rows: int = 20_000, test_size: float = 0.3,
                n_threads: int = 1) -> EfficacyResult:
    """Compare a model trained on synthetic rows with one trained on real rows, on real test rows.

    Args:
        real: The real (training) table.
        synthetic: The synthetic table.
        target: Column to predict; categorical/boolean -> classification (macro F1),
            numerical/datetime -> regression (R^2).
        holdout: Real rows not used to train the generator; when ``None`` a seeded ``test_size``
            share of ``real`` is held out, and a note says that the figure is optimistic (the
            generator most likely trained on those rows).
        sdtypes: ``{column: sdtype}``; missing columns are detected.
        seed: Seed for splitting, sampling and the models.
        max_rows: Cap on training rows of each model and on test rows (seeded sample).
        test_size: Share of ``real`` held out when ``holdout`` is ``None``.
        n_threads: Threads for the models (``threadpool_limits``).

    Returns:
        An :class:`EfficacyResult`.

    Raises:
        SchemaError: If ``target`` is missing or is an id/text column, no other column can be a
            feature, columns are missing, or too
            few rows have a target value.
        ConfigurationError: If ``max_rows`` or ``n_threads`` is not a positive integer, or
            ``test_size`` is not in (0, 1).
    """
    from sklearn.metrics import f1_score, r2_score

    check_columns(real, synthetic, what="ML efficacy")
    for name, value in (("max_rows", max_rows), ("n_threads", n_threads)):
        check_positive_int(name, value)
    if holdout is None and (not is_finite_number(test_size) or not 0 < test_size < 1):
        raise ConfigurationError(f"test_size must be a number strictly between 0 and 1, got {test_size!r}.")
    if target not in real.columns:
        raise SchemaError(f"ML efficacy target {target!r} is not a column of the real data; "
                          f"choose one of {list(real.columns)}.")
    types = resolve_sdtypes(real, sdtypes)
    if types[target] not in CONTINUOUS | DISCRETE:
        raise SchemaError(f"ML efficacy target {target!r} has sdtype {types[target]!r}; choose a "
                          "categorical, boolean, numerical or datetime column.")
    task = "classification" if types[target] in DISCRETE else "regression"
    base = resolve_seed(seed)
    if holdout is None:
        rng = numpy_generator(child_seed(base, "efficacy", "split"))
        order = rng.permutation(len(real))
        n_test = int(round(len(real) * test_size))
        test_frame, train_frame, holdout_kind = real.iloc[order[:n_test]], real.iloc[order[n_test:]], "split"
    else:
        check_columns(real, holdout, what="ML efficacy", other="holdout")
        test_frame, train_frame, holdout_kind = holdout, real, "given"

    def usable(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        kept = frame[frame[target].notna()]
        kept = sample_rows(kept, max_rows, numpy_generator(child_seed(base, "efficacy", name)))
        if len(kept) < 2:
            raise SchemaError(f"ML efficacy needs at least 2 {name} rows with a value in {target!r}; "
                              f"got {len(kept)}.")
        return kept

    train_real, train_synth, test = (usable(train_frame, "real training"),
                                     usable(synthetic[real.columns], "synthetic"), usable(test_frame, "test"))
    feature_types = {c: t for c, t in types.items() if c != target}
    encoder = MixedEncoder(feature_types, scale="standard", categorical="ordinal").fit(train_real)
    if encoder.n_features == 0:
        raise SchemaError(f"ML efficacy has no feature to predict {target!r} from: every other column is an id, "
                          "text or absent; evaluate without a target for this table.")
    categorical = np.asarray(encoder.categorical_mask, dtype=bool)

    def labels(frame: pd.DataFrame) -> np.ndarray:
        if task == "classification":
            return category_text(frame[target], "<missing>").to_numpy(dtype=object)
        return as_float(frame[target])

    notes: list[str] = []
    if holdout_kind == "split":
        notes.append(_SPLIT_NOTE)
    random_state = child_seed(base, "efficacy", "model") % (2**32)
    x_test, y_test = encoder.transform(test), labels(test)
    with threadpool_limits(limits=n_threads):
        predictions = {
            which: _fit_predict(task, encoder.transform(frame), labels(frame), x_test, random_state, notes, which,
                                categorical)
            for which, frame in (("real", train_real), ("synthetic", train_synth))
        }
    if task == "classification":
        scores = {k: float(f1_score(y_test, v.astype(str), average="macro")) for k, v in predictions.items()}
        metric = "macro_f1"
    else:
        scores = {k: float(r2_score(y_test, v)) for k, v in predictions.items()}
        metric = "r2"
    ratio = scores["synthetic"] / scores["real"] if scores["real"] > 0 else None
    return EfficacyResult(
        target=str(target), task=task, metric=metric, real_score=scores["real"],
        synthetic_score=scores["synthetic"], ratio=ratio, n_train_real=len(train_real),
        n_train_synthetic=len(train_synth), n_test=len(test), holdout=holdout_kind, notes=notes,
    )
