"""Disclosure risk of one table: membership inference, attribute inference, PII leaks, whole rows.

:func:`disclosure_metrics` runs whichever of the attacks its inputs allow and returns a
:class:`DisclosureResult`:

* membership inference (:mod:`.membership`) when a holdout is given;
* attribute inference (:mod:`.attribute_inference`) when sensitive columns are declared (its risk
  figure needs a holdout too);
* PII value leaks and whole-row reproduction (:mod:`.pii_leaks`) always (no PII column: whole rows only).

The attacks compare the modelled columns only: columns generated from scratch (``generated_columns``)
hold no training value and would make a memorised row look new (see :mod:`._generated`).

The privacy gate (:mod:`.privacy_gate`) calls the single attacks its threshold needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from syntho_hive._random import child_seed, resolve_seed
from syntho_hive.core.metadata.schema import SDType
from syntho_hive.validation._common import FieldsDict, check_columns, resolve_sdtypes
from syntho_hive.validation._generated import modelled_view
from syntho_hive.validation.attribute_inference import AttributeInferenceResult, attribute_inference_risk
from syntho_hive.validation.membership import MembershipInferenceResult, membership_inference_auc
from syntho_hive.validation.pii_leaks import PiiLeakResult, pii_value_leaks

__all__ = ["DisclosureResult", "disclosure_metrics"]


@dataclass(frozen=True)
class DisclosureResult(FieldsDict):
    """Disclosure-risk details of one table.

    Attributes:
        membership: The membership-inference attack (``None`` without a holdout).
        attribute_inference: The attribute-inference attack (``None`` without sensitive columns).
        pii: PII value leaks and whole-row reproduction.
    """

    membership: MembershipInferenceResult | None
    attribute_inference: AttributeInferenceResult | None
    pii: PiiLeakResult


def disclosure_metrics(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
                       sdtypes: Mapping[str, SDType] | None = None, *,
                       sensitive_columns: Sequence[Any] = (), quasi_identifiers: Sequence[Any] | None = None,
                       pii_columns: Sequence[Any] = (), generated_columns: Sequence[Any] = (),
                       seed: int | None = 0, n_threads: int = 1) -> DisclosureResult:
    """Every disclosure attack the inputs allow, on one table.

    Args:
        train: The real rows the generator learned from.
        synthetic: The synthetic rows.
        holdout: Real rows it never saw (membership inference, attribute-inference risk).
        sdtypes: ``{column: sdtype}``; missing columns are detected.
        sensitive_columns: Columns an attacker may try to infer (none: no attribute inference).
        quasi_identifiers: Columns the attacker knows (``None``: every other comparable column).
        pii_columns: Columns holding personal data.
        generated_columns: Columns generated rather than modelled (faked personal columns, generated
            semantic columns): left out of the attacks, which compare modelled columns only; still
            checked for PII leaks and whole rows.
        seed: Seed for every sample.
        n_threads: BLAS/OpenMP threads.

    Returns:
        A :class:`DisclosureResult`.

    Raises:
        SchemaError: See the single attacks.
    """
    check_columns(train, synthetic, what="Disclosure metrics")
    base = resolve_seed(seed)
    types = resolve_sdtypes(train, sdtypes)
    view, modelled_types = modelled_view({"train": train, "synthetic": synthetic, "holdout": holdout}, types,
                                         generated_columns)
    membership = None
    if holdout is not None:
        membership = membership_inference_auc(view["train"], view["holdout"], view["synthetic"], modelled_types,
                                              seed=child_seed(base, "membership"), n_threads=n_threads)
    attribute = None
    if sensitive_columns:
        attribute = attribute_inference_risk(view["train"], view["holdout"], view["synthetic"], sensitive_columns,
                                             quasi_identifiers, modelled_types, seed=child_seed(base, "attribute"),
                                             n_threads=n_threads)
    return DisclosureResult(membership=membership, attribute_inference=attribute,
                            pii=pii_value_leaks(train, synthetic, pii_columns, types))
