"""Attribute inference: does the synthetic data let an attacker guess a real person's sensitive value?

The attacker knows a real record's quasi-identifiers (age, postcode, ...) and looks up the ``k``
synthetic rows nearest on them (Gower-like distances, :mod:`._distances`); the guess is their
majority sensitive value (ties go to the nearest row's value) for a categorical/boolean/text
column, their mean for a numerical/datetime one. A numerical guess is right when within
``tolerance`` times the column's range over the attacked real rows (training and holdout) of the
true value; a categorical guess when equal. Real rows whose numerical sensitive value is null are
not scored.

The attack runs on training rows (members) and on holdout rows (non-members). Accuracy on the
holdout is what the synthetic data teaches about the population in general; the privacy-relevant
figure is the **risk**: member accuracy minus holdout accuracy (0 ideal; a generator that copies
its training rows lets the attacker read members' values off the copies). The naive baseline is
the accuracy of always guessing the synthetic data's most frequent value (categorical) or median
(numerical), on the members.

Defaults: ``k=1`` (the closest synthetic record, as in Giomi et al., "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", PETS 2023), ``tolerance=0.05``, quasi-identifiers =
every numerical, datetime, categorical and boolean column that is not declared sensitive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from syntho_hive._checks import is_int
from syntho_hive._random import child_seed, numpy_generator, resolve_seed, sample_rows
from syntho_hive.core.metadata.schema import SDType
from syntho_hive.core.quality.shapes import as_float
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation._common import (
    CONTINUOUS,
    DISCRETE,
    FieldsDict,
    category_text,
    check_columns,
    check_positive_int,
    resolve_sdtypes,
)
from syntho_hive.validation._distances import NULL_LABEL, gower_encoder, nearest

__all__ = ["AttributeInferenceColumn", "AttributeInferenceResult", "attribute_inference_risk",
           "attack_columns", "default_quasi_identifiers"]

#: sdtypes a sensitive column may have (``id`` columns carry no attribute to infer).
_SENSITIVE_TYPES = CONTINUOUS | DISCRETE | {"text"}


@dataclass(frozen=True)
class AttributeInferenceColumn(FieldsDict):
    """The attack on one sensitive column.

    Attributes:
        column: The sensitive column.
        kind: ``"categorical"`` (exact match) or ``"numerical"`` (match within ``tolerance``).
        member_accuracy: Share of training rows whose value the attacker guesses.
        holdout_accuracy: Same on holdout rows (``None`` without a holdout).
        naive_accuracy: Share of training rows guessed by the synthetic mode / median alone.
        risk: ``member_accuracy - holdout_accuracy`` (0 ideal; ``None`` without a holdout).
        tolerance: Absolute tolerance of a numerical guess, in the column's units (datetimes in
            nanoseconds); ``None`` for a categorical column.
    """

    column: str
    kind: str
    member_accuracy: float
    holdout_accuracy: float | None
    naive_accuracy: float
    risk: float | None
    tolerance: float | None


@dataclass(frozen=True)
class AttributeInferenceResult(FieldsDict):
    """The attribute-inference attack on one table.

    Attributes:
        columns: Per sensitive column, its :class:`AttributeInferenceColumn`.
        max_risk: Largest ``risk`` over the columns (``None`` without a holdout).
        quasi_identifiers: Columns the attacker knows.
        k: Synthetic neighbours per guess.
        n_members: Training rows attacked.
        n_non_members: Holdout rows attacked (0 without a holdout).
        n_synthetic_used: Synthetic rows searched.
        rows_sampled: Whether any of those was a seeded sample.
    """

    columns: dict[str, AttributeInferenceColumn]
    max_risk: float | None
    quasi_identifiers: list[str]
    k: int
    n_members: int
    n_non_members: int
    n_synthetic_used: int
    rows_sampled: bool


def default_quasi_identifiers(frame: pd.DataFrame, types: Mapping[str, SDType],
                              sensitive_columns: Sequence[str]) -> list[str]:
    """Every numerical, datetime, categorical and boolean column of ``frame`` not in ``sensitive_columns``."""
    excluded = set(sensitive_columns)
    return [c for c in frame.columns if c not in excluded and types[c] in CONTINUOUS | DISCRETE]


def attack_columns(frame: pd.DataFrame, types: Mapping[str, SDType], sensitive_columns: Sequence[Any],
                   quasi_identifiers: Sequence[Any] | None = None) -> tuple[list[Any], list[Any]]:
    """Validate the attacked and the known columns; fill in the default quasi-identifiers.

    Args:
        frame: The real rows.
        types: ``{column: sdtype}`` of every column of ``frame``.
        sensitive_columns: Columns the attacker tries to guess.
        quasi_identifiers: Columns it knows (``None``: :func:`default_quasi_identifiers`).

    Returns:
        ``(sensitive, quasi_identifiers)`` without duplicates.

    Raises:
        SchemaError: A column is unknown, an id column is sensitive, an id/text column is a
            quasi-identifier, a column is both, or either list is empty.
    """
    sensitive = list(dict.fromkeys(sensitive_columns))
    quasi = (default_quasi_identifiers(frame, types, sensitive) if quasi_identifiers is None
             else list(dict.fromkeys(quasi_identifiers)))
    _check_columns(frame, types, sensitive, quasi)
    return sensitive, quasi


def _check_columns(train: pd.DataFrame, types: Mapping[str, SDType], sensitive: list[Any], quasi: list[Any]) -> None:
    if not sensitive:
        raise SchemaError("Attribute inference needs at least one sensitive column.")
    unknown = [c for c in [*sensitive, *quasi] if c not in train.columns]
    if unknown:
        raise SchemaError(f"Attribute inference names column(s) {unknown} that the data lacks; its columns: "
                          f"{list(map(str, train.columns))}.")
    wrong = [c for c in sensitive if types[c] not in _SENSITIVE_TYPES]
    if wrong:
        raise SchemaError(f"Sensitive column(s) {wrong} are id columns; a sensitive column must be numerical, "
                          "datetime, categorical, boolean or text.")
    both = sorted(set(sensitive) & set(quasi), key=str)
    if both:
        raise SchemaError(f"Column(s) {both} are declared both sensitive and quasi-identifier; the attacker "
                          "cannot know what it tries to guess. Remove them from one list.")
    if not quasi:
        raise SchemaError("Attribute inference found no quasi-identifier (a numerical, datetime, categorical or "
                          "boolean column that is not sensitive); pass quasi_identifiers explicitly.")
    not_comparable = [c for c in quasi if types[c] not in CONTINUOUS | DISCRETE]
    if not_comparable:
        raise SchemaError(f"Quasi-identifier(s) {not_comparable} are id/text columns, which distances cannot "
                          "compare; use numerical, datetime, categorical or boolean columns.")


def _check_attack(k: int, tolerance: float) -> None:
    if not is_int(k) or k < 1:
        raise SchemaError(f"Attribute inference k must be a positive integer, got {k!r}.")
    if not 0 <= tolerance < 1:
        raise SchemaError(f"Attribute inference tolerance must be in [0, 1) (a share of the column's range), "
                          f"got {tolerance!r}.")


def _vote(labels: np.ndarray) -> np.ndarray:
    """Per row of ``labels`` (neighbours nearest first), the most frequent value; ties go to the nearest."""
    counts = (labels[:, :, None] == labels[:, None, :]).sum(axis=2)
    return labels[np.arange(len(labels)), np.argmax(counts, axis=1)]


def _hits(truth: pd.Series, guesses: np.ndarray, numerical: bool, tolerance: float) -> np.ndarray:
    """Per scored real row, whether the guess is right (numerical rows with a null truth are not scored)."""
    if not numerical:
        return guesses == category_text(truth, NULL_LABEL).to_numpy()
    real = as_float(truth)
    scored = ~np.isnan(real)
    return (np.abs(guesses - real) <= tolerance)[scored]  # a null guess is never within tolerance


def _guesses(values: np.ndarray, neighbours: np.ndarray, numerical: bool) -> np.ndarray:
    """The attacker's guess per row: the neighbours' mean (numerical, nulls skipped) or majority label."""
    picked = values[neighbours]
    if not numerical:
        return _vote(picked)
    known = ~np.isnan(picked)
    counts = known.sum(axis=1)
    return np.divide(np.where(known, picked, 0.0).sum(axis=1), counts, out=np.full(len(picked), np.nan),
                     where=counts > 0)


def _attack_column(column: Any, numerical: bool, members: pd.DataFrame, others: pd.DataFrame | None,
                   synth: pd.DataFrame, member_nn: np.ndarray, other_nn: np.ndarray | None,
                   tolerance: float) -> AttributeInferenceColumn:
    if numerical:
        real = as_float(pd.concat([members[column], others[column]]) if others is not None else members[column])
        span = float(np.nanmax(real) - np.nanmin(real)) if (~np.isnan(real)).any() else 0.0
        absolute: float | None = tolerance * span
        values = as_float(synth[column])
        naive_guess = np.nanmedian(values) if (~np.isnan(values)).any() else np.nan
    else:
        absolute = None
        values = category_text(synth[column], NULL_LABEL).to_numpy()
        naive_guess = pd.Series(values).value_counts().index[0]
    limit = absolute or 0.0
    member_accuracy = _share(_hits(members[column], _guesses(values, member_nn, numerical), numerical, limit))
    holdout_accuracy = None
    if others is not None and other_nn is not None:
        holdout_accuracy = _share(_hits(others[column], _guesses(values, other_nn, numerical), numerical, limit))
    naive = _hits(members[column], np.full(len(members), naive_guess, dtype=values.dtype), numerical, limit)
    return AttributeInferenceColumn(
        column=str(column), kind="numerical" if numerical else "categorical", member_accuracy=member_accuracy,
        holdout_accuracy=holdout_accuracy, naive_accuracy=_share(naive),
        risk=None if holdout_accuracy is None else member_accuracy - holdout_accuracy, tolerance=absolute)


def _share(hits: np.ndarray) -> float:
    return float(hits.mean()) if hits.size else 0.0


def attribute_inference_risk(train: pd.DataFrame, holdout: pd.DataFrame | None, synthetic: pd.DataFrame,
                             sensitive_columns: Sequence[str], quasi_identifiers: Sequence[str] | None = None,
                             sdtypes: Mapping[str, SDType] | None = None, *, k: int = 1, tolerance: float = 0.05,
                             max_rows: int = 5_000, max_synthetic: int = 20_000, seed: int | None = 0,
                             n_threads: int = 1) -> AttributeInferenceResult:
    """Attack each sensitive column from the quasi-identifiers; compare members with the holdout.

    Args:
        train: The real rows the generator learned from.
        holdout: Real rows it never saw (the baseline); ``None`` reports no risk, only accuracies.
        synthetic: The synthetic rows.
        sensitive_columns: Columns the attacker tries to guess.
        quasi_identifiers: Columns the attacker knows; ``None``: every numerical, datetime,
            categorical and boolean column that is not sensitive.
        sdtypes: ``{column: sdtype}``; missing columns are detected.
        k: Synthetic neighbours per guess (majority vote / mean).
        tolerance: A numerical guess is right within ``tolerance`` x the column's real range.
        max_rows: Members (and holdout rows) attacked at most, each (equal-size seeded samples).
        max_synthetic: Synthetic rows searched at most (seeded sample).
        seed: Seed for the samples.
        n_threads: BLAS/OpenMP threads (``threadpool_limits``).

    Returns:
        An :class:`AttributeInferenceResult`.

    Raises:
        SchemaError: If columns are missing or empty, a column is both sensitive and
            quasi-identifier, no quasi-identifier remains, or ``k`` / ``tolerance`` is out of range.
        ConfigurationError: If ``max_rows``, ``max_synthetic`` or ``n_threads`` is not a positive integer.
    """
    check_columns(train, synthetic, what="Attribute inference")
    if holdout is not None:
        check_columns(train, holdout, what="Attribute inference", other="holdout")
    types = resolve_sdtypes(train, sdtypes)
    _check_attack(k, tolerance)
    for name, value in (("max_rows", max_rows), ("max_synthetic", max_synthetic), ("n_threads", n_threads)):
        check_positive_int(name, value)
    sensitive, quasi = attack_columns(train, types, sensitive_columns, quasi_identifiers)
    base = resolve_seed(seed)
    n = min(len(train), len(holdout), max_rows) if holdout is not None else min(len(train), max_rows)
    members = sample_rows(train, n, numpy_generator(child_seed(base, "attribute", "members")))
    others = (sample_rows(holdout, n, numpy_generator(child_seed(base, "attribute", "non-members")))
              if holdout is not None else None)
    synth = sample_rows(synthetic, max_synthetic, numpy_generator(child_seed(base, "attribute", "synthetic")))
    real = pd.concat([members[quasi], others[quasi]], ignore_index=True) if others is not None else members[quasi]
    encoder = gower_encoder({c: types[c] for c in quasi}, real)
    neighbours_k = min(k, len(synth))
    with threadpool_limits(limits=n_threads):
        index = encoder.transform(synth[quasi])
        _, member_nn = nearest(index, encoder.transform(members[quasi]), neighbours_k)
        other_nn = nearest(index, encoder.transform(others[quasi]), neighbours_k)[1] if others is not None else None
    columns = {str(c): _attack_column(c, types[c] in CONTINUOUS, members, others, synth, member_nn, other_nn,
                                      tolerance) for c in sensitive}
    risks = [c.risk for c in columns.values() if c.risk is not None]
    return AttributeInferenceResult(
        columns=columns, max_risk=max(risks) if risks else None, quasi_identifiers=[str(c) for c in quasi],
        k=neighbours_k, n_members=len(members), n_non_members=len(others) if others is not None else 0,
        n_synthetic_used=len(synth),
        rows_sampled=bool(len(members) < len(train) or (holdout is not None and n < len(holdout))
                          or len(synth) < len(synthetic)),
    )
