"""Privacy gate: refuse synthetic data whose disclosure figures exceed the limits asked for.

A :class:`PrivacyThreshold` sets limits on figures of :class:`~.privacy.PrivacyResult`:

============================  ======================================  ==========================
limit                         figure                                   needs
============================  ======================================  ==========================
``max_exact_copy_rate``       ``exact_copy_rate``                      real rows
``max_dcr_share``             ``dcr_share_closer_to_training``         a holdout
``max_membership_auc``        ``membership_inference_auc``             a holdout
``max_attribute_risk``        ``attribute_inference_risk``             a holdout, sensitive columns
``max_pii_leaks``             ``pii_value_leaks``                      real rows (PII columns)
============================  ======================================  ==========================

``max_pii_leaks`` is off unless set. Generated names collide with real ones by chance (a real
"Smith" and a generated "Smith"), so the PII columns it counts by default leave out names,
postcodes and birth dates (:data:`~._generated.CHANCE_TYPES`): a limit of 0 suits the identifiers
(e-mails, phones, ids). The report always shows every PII column's leak count.

The distance-based figures (exact copies, DCR, membership, attribute inference) compare the
modelled columns only: ``generated_columns`` (faked or masked personal columns, generated semantic
columns; default: the metadata's always-generated semantic columns) hold no training value and
would make a memorised row look new.

Wiring it into sampling::

    threshold = PrivacyThreshold.coerce(privacy_threshold)
    require_inputs(threshold, has_holdout=holdout is not None, has_sensitive_columns=bool(sensitive))
    synthetic = ...generate...
    privacy_gate(real, synthetic, holdout, threshold, metadata, sensitive_columns=sensitive,
                 generated_columns=synthesizer.generated_columns_)

:func:`privacy_gate` computes only the figures the threshold limits and raises one
:class:`~syntho_hive.exceptions.PrivacyError` listing every failing figure of every table
(``failures``: ``{"table.figure": (value, limit)}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import pandas as pd

from syntho_hive._checks import is_finite_number, is_int
from syntho_hive._random import child_seed, resolve_seed
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, PrivacyError, SchemaError
from syntho_hive.validation._common import check_columns, check_positive_int, resolve_sdtypes
from syntho_hive.validation._disclosure_options import check_disclosure_columns, column_lists
from syntho_hive.validation._generated import (
    compares_modelled,
    generated_columns_of,
    leak_counted_columns,
    modelled_view,
)
from syntho_hive.validation.attribute_inference import attribute_inference_risk
from syntho_hive.validation.membership import membership_inference_auc
from syntho_hive.validation.pii_leaks import declared_pii_columns, pii_value_leaks
from syntho_hive.validation.privacy import PrivacyResult, exact_copy_rate, privacy_metrics

__all__ = ["PrivacyThreshold", "FIGURES", "require_inputs", "privacy_figures", "check_privacy", "privacy_gate"]

_log = get_logger(__name__)

#: Limit name -> the :class:`PrivacyResult` figure it bounds (every limit is an upper bound).
FIGURES: dict[str, str] = {
    "max_exact_copy_rate": "exact_copy_rate",
    "max_dcr_share": "dcr_share_closer_to_training",
    "max_membership_auc": "membership_inference_auc",
    "max_attribute_risk": "attribute_inference_risk",
    "max_pii_leaks": "pii_value_leaks",
}
_NEEDS_HOLDOUT = ("max_dcr_share", "max_membership_auc", "max_attribute_risk")


@dataclass(frozen=True)
class PrivacyThreshold:
    """Upper limits on disclosure figures; ``None`` leaves a figure unchecked.

    Attributes:
        max_exact_copy_rate: Largest share of synthetic rows equal to a training row, in [0, 1].
        max_dcr_share: Largest share of synthetic rows closer to training than to holdout rows,
            in [0, 1] (0.5 is what fresh data gives; e.g. 0.6).
        max_membership_auc: Largest membership-inference ROC AUC, in [0, 1] (0.5: no leak; e.g. 0.6).
        max_attribute_risk: Largest attribute-inference risk (member minus holdout accuracy), in
            [0, 1] (e.g. 0.1).
        max_pii_leaks: Most synthetic PII values equal to a real one, an integer >= 0 (``None``: not
            checked, the default; common names collide by chance).

    Raises:
        ConfigurationError: A limit has the wrong type or is out of range, or no limit is set.
    """

    max_exact_copy_rate: float | None = None
    max_dcr_share: float | None = None
    max_membership_auc: float | None = None
    max_attribute_risk: float | None = None
    max_pii_leaks: int | None = None

    def __post_init__(self) -> None:
        problems = []
        for name in FIGURES:
            value = getattr(self, name)
            if value is None:
                continue
            if name == "max_pii_leaks":
                if not is_int(value) or value < 0:
                    problems.append(f"max_pii_leaks must be an integer >= 0 (or None), got {value!r}")
                continue
            if not is_finite_number(value) or not 0 <= value <= 1:
                problems.append(f"{name} must be a number in [0, 1] (or None), got {value!r}")
        if problems:
            raise ConfigurationError("Invalid PrivacyThreshold: " + "; ".join(problems) + ".")
        if self.limits() == {}:
            raise ConfigurationError("PrivacyThreshold sets no limit; set at least one of "
                                     f"{', '.join(FIGURES)}.")

    def limits(self) -> dict[str, float]:
        """``{figure: limit}`` of the limits that are set."""
        return {FIGURES[name]: float(value) for name, value in asdict(self).items() if value is not None}

    @classmethod
    def coerce(cls, value: PrivacyThreshold | Mapping[str, Any]) -> PrivacyThreshold:
        """A :class:`PrivacyThreshold` from itself or a ``{limit: value}`` mapping.

        Raises:
            ConfigurationError: ``value`` is neither, names an unknown limit, or is invalid.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(map(str, value)) - {f.name for f in fields(cls)})
            if unknown:
                raise ConfigurationError(f"Unknown privacy threshold limit(s) {unknown}; use {list(FIGURES)}.")
            return cls(**{str(k): v for k, v in value.items()})
        raise ConfigurationError(f"privacy_threshold must be a PrivacyThreshold or a dict of limits, got "
                                 f"{type(value).__name__}.")


def require_inputs(threshold: PrivacyThreshold, *, has_holdout: bool, has_sensitive_columns: bool = False) -> None:
    """Refuse, before any sampling work, a threshold whose figures cannot be computed.

    Args:
        threshold: The limits.
        has_holdout: Whether holdout rows (real rows the generator never saw) are given.
        has_sensitive_columns: Whether sensitive columns are declared (for ``max_attribute_risk``).

    Raises:
        PrivacyError: A limit needs a holdout or sensitive columns that are missing.
    """
    missing = []
    if not has_holdout:
        missing += [f"{name} needs holdout rows (real rows the generator never saw): pass holdout="
                    for name in _NEEDS_HOLDOUT if getattr(threshold, name) is not None]
    if threshold.max_attribute_risk is not None and not has_sensitive_columns:
        missing.append("max_attribute_risk needs sensitive columns: pass sensitive_columns=")
    if missing:
        raise PrivacyError("The privacy threshold cannot be checked: " + "; ".join(missing)
                           + " (or drop that limit).")


def privacy_figures(result: PrivacyResult | Mapping[str, float | None]) -> dict[str, float | None]:
    """``{figure: value}`` of the gated figures of a :class:`PrivacyResult` (or a mapping of them)."""
    if isinstance(result, PrivacyResult):
        return {figure: getattr(result, figure) for figure in FIGURES.values()}
    return {figure: result.get(figure) for figure in FIGURES.values()}


def _failures(figures: Mapping[str, float | None], limits: Mapping[str, float],
              table: str | None) -> dict[str, tuple[float, float]]:
    failures: dict[str, tuple[float, float]] = {}
    for figure, limit in limits.items():
        value = figures.get(figure)
        where = f" of table {table!r}" if table else ""
        if value is None:
            raise PrivacyError(f"The privacy figure {figure}{where} was not computed, so its limit {limit:g} cannot "
                               "be checked; compute it (holdout rows, sensitive columns) or drop that limit.")
        if float(value) > limit:
            failures[f"{table}.{figure}" if table else figure] = (float(value), limit)
    return failures


def _raise(failures: Mapping[str, tuple[float, float]]) -> None:
    listed = ", ".join(f"{name} = {value:.4g} (limit {limit:g})" for name, (value, limit) in failures.items())
    raise PrivacyError(f"{len(failures)} privacy figure(s) exceed the threshold: {listed}. The synthetic data "
                       "discloses too much about its training rows; train with differential privacy, fewer "
                       "epochs or more data, or relax privacy_threshold.", failures=failures)


def check_privacy(result: PrivacyResult | Mapping[str, float | None], threshold: PrivacyThreshold, *,
                  table: str | None = None) -> None:
    """Raise when a figure exceeds its limit.

    Args:
        result: A :class:`PrivacyResult`, or ``{figure: value}`` (names as in :data:`FIGURES`).
        threshold: The limits.
        table: Table name, for the message and the ``failures`` keys (``"table.figure"``).

    Raises:
        PrivacyError: A limited figure is missing (``None``: it was not computed), or figures
            exceed their limits; ``failures`` holds ``{figure: (value, limit)}`` of each.
    """
    failures = _failures(privacy_figures(result), threshold.limits(), table)
    if failures:
        _raise(failures)


def _table_figures(name: str, train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None,
                   threshold: PrivacyThreshold, types: Mapping[str, Any], sensitive: list[Any],
                   quasi: list[Any] | None, pii: list[Any], generated: list[Any], seed: int,
                   n_threads: int, comparable: bool) -> dict[str, float | None]:
    """Only the figures ``threshold`` limits, for one table (distances over the modelled columns; only PII leaks
    unless ``comparable``, :func:`compares_modelled`)."""
    figures: dict[str, float | None] = {}
    view, modelled = modelled_view({"train": train, "synthetic": synthetic, "holdout": holdout}, types, generated)
    if not comparable:  # as evaluate() does
        _log.warning("privacy_figure_skipped", table=name, generated=list(generated),
                     reason="every comparable column is generated, none modelled: no distance to compare")
        if threshold.max_pii_leaks is not None:
            figures["pii_value_leaks"] = float(pii_value_leaks(train, synthetic, pii, types).total_leaked_values)
        return figures
    if threshold.max_dcr_share is not None:
        full = privacy_metrics(view["train"], view["synthetic"], view["holdout"], modelled,
                               seed=child_seed(seed, name, "privacy"), n_threads=n_threads)
        figures.update(exact_copy_rate=full.exact_copy_rate, dcr_share_closer_to_training=full.dcr_share_closer_to_training)
    elif threshold.max_exact_copy_rate is not None:
        figures["exact_copy_rate"] = exact_copy_rate(view["train"], view["synthetic"], modelled)[0]
    if threshold.max_membership_auc is not None and holdout is not None:
        figures["membership_inference_auc"] = membership_inference_auc(
            view["train"], view["holdout"], view["synthetic"], modelled, seed=child_seed(seed, name, "membership"),
            n_threads=n_threads).auc
    if threshold.max_attribute_risk is not None and sensitive:
        figures["attribute_inference_risk"] = attribute_inference_risk(
            view["train"], view["holdout"], view["synthetic"], sensitive, quasi, modelled,
            seed=child_seed(seed, name, "attribute"), n_threads=n_threads).max_risk
    if threshold.max_pii_leaks is not None:
        figures["pii_value_leaks"] = float(pii_value_leaks(train, synthetic, pii, types).total_leaked_values)
    return figures


def privacy_gate(real_train: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame],
                 holdout: Mapping[str, pd.DataFrame] | None, threshold: PrivacyThreshold | Mapping[str, Any],
                 metadata: Metadata | None = None, *, sensitive_columns: Mapping[str, Sequence[Any]] | None = None,
                 quasi_identifiers: Mapping[str, Sequence[Any]] | None = None,
                 pii_columns: Mapping[str, Sequence[Any]] | None = None,
                 generated_columns: Mapping[str, Sequence[Any]] | None = None, seed: int | None = 0,
                 n_threads: int = 1) -> dict[str, dict[str, float | None]]:
    """Compute the figures ``threshold`` limits, table by table, and raise if any exceeds its limit.

    Pass only synthesised tables: a reference table copied verbatim is all exact copies.

    Args:
        real_train: ``{table: real rows the generator learned from}``.
        synthetic: ``{table: synthetic rows}`` for every table of ``real_train``.
        holdout: ``{table: real rows the generator never saw}`` for every table, or ``None``.
        threshold: The limits (a :class:`PrivacyThreshold` or a ``{limit: value}`` dict).
        metadata: Schema (sdtypes, keys, PII columns); ``None``: sdtypes detected.
        sensitive_columns: ``{table: columns}`` an attacker may try to infer (``max_attribute_risk``
            is checked on the tables that have some).
        quasi_identifiers: ``{table: columns}`` the attacker knows (default: the other columns).
        pii_columns: ``{table: columns}`` whose leaks ``max_pii_leaks`` counts; default: the
            metadata's ``pii_cols`` and declared PII semantic types (e-mails, phones, ...) except
            names, postcodes and birth dates, which equal real values by chance.
        generated_columns: ``{table: columns}`` generated rather than modelled (faked or masked
            personal columns, generated semantic columns): left out of the exact copies, DCR,
            membership and attribute inference, which compare modelled columns only. Default: the
            columns the metadata declares with an always-generated semantic type; pass a fitted
            synthesizer's ``generated_columns_``.
        seed: Seed for every sample.
        n_threads: BLAS/OpenMP threads.

    Returns:
        ``{table: {figure: value}}`` of the computed figures, when every one is within its limit.

    Raises:
        ConfigurationError: ``threshold`` is invalid, or ``n_threads`` is not a positive integer.
        PrivacyError: A limit cannot be checked (see :func:`require_inputs`), or figures exceed
            their limits; ``failures`` holds ``{"table.figure": (value, limit)}`` of every one.
        SchemaError: Tables or columns do not match, or an unknown column is named.
    """
    threshold = PrivacyThreshold.coerce(threshold)
    check_positive_int("n_threads", n_threads)
    for label, mapping in (("real_train", real_train), ("synthetic", synthetic), ("holdout", holdout)):
        if mapping is None and label == "holdout":
            continue
        if not isinstance(mapping, Mapping) or not all(isinstance(v, pd.DataFrame) for v in mapping.values()):
            raise SchemaError(f"The privacy gate needs {label} as {{table: DataFrame}}, got {type(mapping).__name__}"
                              + (" (wrap one table as {'table': frame})" if isinstance(mapping, pd.DataFrame) else "")
                              + ".")
    columns = {label: column_lists(mapping, label, real_train, single=False)
               for label, mapping in (("sensitive_columns", sensitive_columns),
                                      ("quasi_identifiers", quasi_identifiers), ("pii_columns", pii_columns),
                                      ("generated_columns", generated_columns))}
    require_inputs(threshold, has_holdout=holdout is not None,
                   has_sensitive_columns=any(columns["sensitive_columns"].values()))
    for label, mapping in (("synthetic", synthetic), ("holdout", holdout)):
        missing = sorted(set(real_train) - set(mapping)) if mapping is not None else []
        if missing:
            raise SchemaError(f"The privacy gate has no {label} data for table(s) {missing}; give every table.")
    types: dict[str, Mapping[str, Any]] = {}
    generated: dict[str, list[Any]] = {}
    for name, train in real_train.items():
        check_columns(train, synthetic[name], what="The privacy gate", table=name)
        if holdout is not None:
            check_columns(train, holdout[name], what="The privacy gate", table=name, other="holdout")
        config = metadata.tables.get(name) if metadata is not None else None
        types[name] = resolve_sdtypes(train, None, config)
        generated[name] = generated_columns_of(name, columns["generated_columns"], config, list(train.columns))
        check_disclosure_columns(name, train, types[name], columns, generated[name])  # every table before any figure
    base = resolve_seed(seed)
    results: dict[str, dict[str, float | None]] = {}
    failures: dict[str, tuple[float, float]] = {}
    for name, train in real_train.items():
        config = metadata.tables.get(name) if metadata is not None else None
        sensitive = columns["sensitive_columns"].get(name, [])
        pii = (columns["pii_columns"][name] if name in columns["pii_columns"]
               else leak_counted_columns({c: config.semantic_types.get(c) if config is not None else None
                                          for c in declared_pii_columns(config, list(train.columns))}))
        quasi = columns["quasi_identifiers"].get(name)
        comparable = compares_modelled(types[name], list(train.columns), generated[name])
        figures = _table_figures(name, train, synthetic[name], holdout[name] if holdout is not None else None,
                                 threshold, types[name], sensitive, quasi, pii, generated[name], base, n_threads,
                                 comparable)
        limits = threshold.limits()
        if not sensitive:  # attribute risk is defined over declared sensitive columns: none here to bound
            limits.pop("attribute_inference_risk", None)
        if not comparable:  # nothing to measure on
            limits = {figure: limit for figure, limit in limits.items() if figure == "pii_value_leaks"}
        results[name] = figures
        failures.update(_failures(figures, limits, name))
    _log.info("privacy_gate", tables=list(results), figures=results, passed=not failures)
    if failures:
        _raise(failures)
    return results

