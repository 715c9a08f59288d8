"""One entry point for every quality figure: :func:`evaluate` returns a :class:`QualityResult`.

Scores (all in [0, 1], higher is better, unless noted):

* ``column_shapes``: mean per-column KSComplement / TVComplement (:mod:`.column_shapes`).
* ``column_pair_trends``: mean CorrelationSimilarity / ContingencySimilarity of related pairs
  (:mod:`.pair_trends`).
* ``overall``: mean of the two, as SDMetrics' QualityReport (for several tables: mean over tables).
* ``detection_auc``: real-vs-synthetic classifier ROC AUC, 0.5 ideal (:mod:`.detection`); skipped for
  tables too small for its classifier to split (``TableQuality.skipped`` says why).
* ``ml_efficacy``: synthetic/real score ratio of a model predicting ``target`` (:mod:`.efficacy`).
* ``privacy``: DCR share, NNDR, exact copies (:mod:`.privacy`) over the modelled columns (generated
  ones left out, see ``generated_columns``), and disclosure risk
  (:mod:`.disclosure`): membership-inference AUC (with a holdout), attribute-inference risk of
  declared sensitive columns, PII values equal to a real value, real rows reproduced whole.
* ``relational``: orphans, cardinality, parent-child trends (:mod:`.relational`).

``QualityResult.to_dict()`` is JSON-serialisable; its schema (``schema_version`` "1") is documented
in ``docs/report_schema.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._random import child_seed, resolve_seed
from syntho_hive.core._json_state import plain_json
from syntho_hive.core.metadata.schema import Metadata, SDType
from syntho_hive.core.metadata.validate import declared_sdtype_issue, missing_column_issues
from syntho_hive.core.quality.shapes import as_float
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError, SchemaValidationError
from syntho_hive.validation._common import (
    CONTINUOUS,
    DISCRETE,
    check_columns,
    check_positive_int,
    check_switches,
    resolve_sdtypes,
)
from syntho_hive.validation._disclosure_options import (
    ColumnLists,
    check_disclosure_columns,
    column_lists,
    with_disclosure,
)
from syntho_hive.validation._generated import compares_modelled, generated_columns_of, modelled_view
from syntho_hive.validation.column_shapes import column_shape_scores
from syntho_hive.validation.detection import DetectionResult, detection_auc, min_detection_rows
from syntho_hive.validation.disclosure import disclosure_metrics
from syntho_hive.validation.efficacy import EfficacyResult, ml_efficacy
from syntho_hive.validation.pair_trends import PairTrendsResult, column_pair_trends
from syntho_hive.validation.pii_leaks import declared_pii_columns
from syntho_hive.validation.privacy import PrivacyResult, privacy_metrics
from syntho_hive.validation.relational import RelationalResult, relational_metrics

__all__ = ["QualityResult", "TableQuality", "evaluate", "SCHEMA_VERSION"]

#: Version of the ``to_dict()`` / JSON schema.
SCHEMA_VERSION = "1"

_log = get_logger(__name__)
#: ``infer_dtype`` kinds of ``object`` columns holding numbers (checked for infinities).
_NUMBER_OBJECTS = ("floating", "mixed-integer-float", "decimal")
#: Fewest real rows for privacy (its nearest-neighbour ratio needs two training rows); smaller tables
#: skip it, as tables under ``min_detection_rows()`` rows per side skip detection (logged and in ``skipped``).
_MIN_PRIVACY_ROWS = 2


@dataclass
class TableQuality:
    """Every figure for one table.

    Attributes:
        name: Table name.
        n_rows_real: Real rows.
        n_rows_synthetic: Synthetic rows.
        sdtypes: ``{column: sdtype}`` used.
        column_shapes: ``{column: score}``.
        column_shapes_score: Mean column-shape score (``None`` when no column is scorable).
        pair_trends: Column pair trends with per-pair details.
        overall: Mean of column shapes and pair trends (the available ones).
        detection: Detection result, or ``None`` when disabled, or skipped for a table under
            :func:`~syntho_hive.validation.detection.min_detection_rows` (30) rows per side, where its
            classifier cannot split (``skipped`` and an ``evaluation_metric_skipped`` event say so; a
            lookup table of 2 rows does not stop the evaluation of the schema).
        efficacy: ML-efficacy result, or ``None`` without a target / when disabled.
        privacy: Privacy result (its ``disclosure`` holds the disclosure-risk details), or ``None``
            when disabled, or skipped for a table of 1 real row (logged the same way), or for a
            reference table.
        reference: Whether the table was named in ``reference_tables`` (copied verbatim: no privacy
            figure).
        skipped: ``{metric: reason}`` for the metrics asked for but not computed for this table.
    """

    name: str
    n_rows_real: int
    n_rows_synthetic: int
    sdtypes: dict[str, str]
    column_shapes: dict[str, float]
    column_shapes_score: float | None
    pair_trends: PairTrendsResult
    overall: float | None
    detection: DetectionResult | None = None
    efficacy: EfficacyResult | None = None
    privacy: PrivacyResult | None = None
    reference: bool = False
    skipped: dict[str, str] = field(default_factory=dict)

    def _skip(self, metric: str, reason: str, *, level: str = "warning", **details: Any) -> None:
        """Record that ``metric`` was not computed and why, and log an ``evaluation_metric_skipped`` event."""
        self.skipped[metric] = reason
        getattr(_log, level)("evaluation_metric_skipped", table=self.name, metric=metric, reason=reason, **details)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return {
            "name": self.name, "n_rows_real": self.n_rows_real, "n_rows_synthetic": self.n_rows_synthetic,
            "sdtypes": dict(self.sdtypes), "overall": self.overall,
            "column_shapes": {"score": self.column_shapes_score, "columns": dict(self.column_shapes)},
            "column_pair_trends": self.pair_trends.to_dict(),
            "detection": self.detection.to_dict() if self.detection else None,
            "ml_efficacy": self.efficacy.to_dict() if self.efficacy else None,
            "privacy": self.privacy.to_dict() if self.privacy else None,
            "reference": self.reference, "skipped": dict(self.skipped),
        }


@dataclass
class QualityResult:
    """The result of :func:`evaluate`.

    Attributes:
        overall: Mean of ``column_shapes`` and ``column_pair_trends`` (SDMetrics' overall score).
        column_shapes: Mean column-shape score over tables.
        column_pair_trends: Mean pair-trend score over tables (``None`` when no pair contributes).
        detection_auc: Mean detection ROC AUC over tables (0.5 ideal; ``None`` when disabled or skipped
            for every table).
        ml_efficacy: Mean synthetic/real efficacy ratio over tables with a target (``None`` if none);
            optimistic without a holdout (the tables' ``efficacy.notes`` say so).
        privacy: Worst-case privacy figures over tables (the single table's result for one table).
        relational: Foreign-key figures (``None`` for one table or no foreign keys).
        tables: Per-table details (per-column and per-pair scores).
        seed: Seed used for every sample.
        seconds: Wall time of the evaluation.
    """

    overall: float
    column_shapes: float | None
    column_pair_trends: float | None
    detection_auc: float | None
    ml_efficacy: float | None
    privacy: PrivacyResult | None
    relational: RelationalResult | None
    tables: dict[str, TableQuality] = field(default_factory=dict)
    seed: int = 0
    seconds: float = 0.0

    @property
    def column_details(self) -> dict[str, dict[str, float]]:
        """``{table: {column: shape score}}``."""
        return {name: dict(table.column_shapes) for name, table in self.tables.items()}

    @property
    def pair_details(self) -> dict[str, list[dict[str, Any]]]:
        """``{table: [pair score dicts]}``."""
        return {name: [p.to_dict() for p in table.pair_trends.pairs] for name, table in self.tables.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict following ``docs/report_schema.md`` (``schema_version`` "1")."""
        return plain_json({
            "schema_version": SCHEMA_VERSION,
            "overall": self.overall, "column_shapes": self.column_shapes,
            "column_pair_trends": self.column_pair_trends, "detection_auc": self.detection_auc,
            "ml_efficacy": self.ml_efficacy,
            "privacy": self.privacy.to_dict() if self.privacy else None,
            "relational": self.relational.to_dict() if self.relational else None,
            "tables": {name: table.to_dict() for name, table in self.tables.items()},
            "seed": self.seed, "seconds": self.seconds,
        }, finite=True)


def _over(values: Iterable[Any], reduce: Callable[[list[Any]], Any]) -> Any:
    """``reduce`` of the values that are not ``None`` (``None`` when every one is)."""
    kept = [v for v in values if v is not None]
    return reduce(kept) if kept else None


def _mean(values: Iterable[float | None]) -> float | None:
    return _over(values, lambda kept: float(np.mean(kept)))


def _worst_privacy(results: list[PrivacyResult]) -> PrivacyResult | None:
    if len(results) <= 1:
        return results[0] if results else None
    return PrivacyResult(
        dcr_share_closer_to_training=_over((r.dcr_share_closer_to_training for r in results), max),
        dcr_synthetic_to_training_median=min(r.dcr_synthetic_to_training_median for r in results),
        dcr_synthetic_to_holdout_median=_over((r.dcr_synthetic_to_holdout_median for r in results), min),
        dcr_holdout_to_training_median=_over((r.dcr_holdout_to_training_median for r in results), min),
        nndr_median=min(r.nndr_median for r in results), nndr_p05=min(r.nndr_p05 for r in results),
        exact_copy_rate=max(r.exact_copy_rate for r in results),
        exact_copies=sum(r.exact_copies for r in results),
        n_synthetic_used=sum(r.n_synthetic_used for r in results),
        n_reference_used=sum(r.n_reference_used for r in results),
        rows_sampled=any(r.rows_sampled for r in results),
        columns=[c for r in results for c in r.columns],
        membership_inference_auc=_over((r.membership_inference_auc for r in results), max),
        attribute_inference_risk=_over((r.attribute_inference_risk for r in results), max),
        pii_value_leaks=_over((r.pii_value_leaks for r in results), sum),
        real_rows_reproduced=_over((r.real_rows_reproduced for r in results), sum),
        # the chance level of the table whose exact-copy rate is the worst, so the two stay comparable
        holdout_copy_rate=max(results, key=lambda r: r.exact_copy_rate).holdout_copy_rate,
    )


def _as_tables(data: pd.DataFrame | Mapping[str, pd.DataFrame], what: str) -> dict[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        return {"table": data}
    if isinstance(data, Mapping) and all(isinstance(v, pd.DataFrame) for v in data.values()) and data:
        return dict(data)
    raise SchemaError(f"{what} must be a pandas DataFrame or a non-empty dict of DataFrames, "
                      f"got {type(data).__name__}.")


def _check_frame(frame: pd.DataFrame, table: str, which: str) -> None:
    """Refuse duplicate column names (also as text: the JSON names columns by their text) and infinite numbers
    (no metric can use them)."""
    if not frame.columns.is_unique:
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise SchemaError(f"The {which} data of table {table!r} has duplicated column names {dupes}; rename them.")
    texts = pd.Index([str(c) for c in frame.columns])
    if not texts.is_unique:  # the JSON report keys columns by their text: 1 and "1" would overwrite each other
        clashes = sorted({t for t in texts[texts.duplicated()]})
        raise SchemaError(f"The {which} data of table {table!r} has columns whose names read the same as text "
                          f"({[c for c in frame.columns if str(c) in clashes]}); rename them.")
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in _NUMBER_OBJECTS:
            values = pd.to_numeric(values, errors="coerce")  # Python floats in an object column
        if pd.api.types.is_float_dtype(values.dtype) and np.isinf(values.to_numpy(dtype=np.float64,
                                                                                  na_value=np.nan)).any():
            raise SchemaError(f"Column {column!r} of the {which} data of table {table!r} holds infinite values; "
                              "replace them (e.g. with nulls) before evaluating.")


def _given_sdtypes(sdtypes: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    """The ``sdtypes`` argument for table ``name`` (per table, or one mapping for a single table)."""
    if sdtypes is None:
        return None
    return sdtypes.get(name) if isinstance(sdtypes.get(name), Mapping) else sdtypes


def _check_declared_values(name: str, given: Mapping[str, Any] | None, metadata: Metadata | None,
                           frames: Mapping[str, pd.DataFrame | None]) -> None:
    """Refuse a column declared numerical that holds non-numbers, or declared datetime that holds no date:
    every such value would count as missing on both sides, and two columns of nothing but unparsable text
    would score a perfect 1."""
    config = metadata.tables.get(name) if metadata is not None else None
    declared = {**(config.columns if config is not None else {}), **(given or {})}
    for column, sdtype in declared.items():
        if sdtype not in ("numerical", "datetime"):
            continue
        for which, frame in frames.items():
            if isinstance(frame, pd.DataFrame) and column in frame.columns:
                problem = (declared_sdtype_issue(str(column), "numerical", frame[column]) if sdtype == "numerical"
                           else _undated_values(column, frame[column]))
                if problem:
                    raise SchemaError(f"Table {name!r} ({which} data): {problem}")


def _undated_values(column: Any, values: pd.Series) -> str | None:
    """What is wrong with a column declared datetime none of whose values is a date (``None`` when some are, or
    all are null or blank). Some unreadable values (``'N/A'``) count as missing, as the models read them."""
    if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
            or isinstance(values.dtype, pd.CategoricalDtype)):
        return None  # datetimes, durations, numbers (epochs): as_float reads every value
    present = (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()
    if not present.any() or not np.isnan(as_float(values)[present]).all():
        return None
    examples = [repr(v) for v in pd.unique(values[present].astype(object))[:5]]
    return (f"column {column!r} is declared 'datetime' but none of its {int(present.sum())} value(s) can be read "
            f"as a date (examples: [{', '.join(examples)}]); every one would count as missing, on both sides. "
            "Convert them, or declare another sdtype.")


def _reference_tables(given: Iterable[str] | None, tables: Mapping[str, pd.DataFrame]) -> set[str]:
    """The ``reference_tables`` argument as a set of known table names."""
    if given is None:
        return set()
    if isinstance(given, (str, bytes)) or not isinstance(given, Iterable):
        raise SchemaError(f"reference_tables must be a list of table names, got {type(given).__name__}.")
    names = set(given)
    unknown = sorted(map(str, names - set(tables)))
    if unknown:
        raise SchemaError(f"reference_tables names unknown table(s) {unknown}; tables: {sorted(map(str, tables))}.")
    return names


def _check_given_sdtypes(sdtypes: Mapping[str, Any] | None, tables: Mapping[str, pd.DataFrame],
                         single: bool) -> None:
    """Refuse ``sdtypes`` naming a column (or table) the data lacks: a misspelt name would leave the column
    to detection silently."""
    if sdtypes is None:
        return
    if not isinstance(sdtypes, Mapping):
        raise SchemaError(f"sdtypes must be {{column: sdtype}} or {{table: {{column: sdtype}}}}, got "
                          f"{type(sdtypes).__name__}.")
    per_table = {name: sdtypes[name] for name in tables if isinstance(sdtypes.get(name), Mapping)}
    if per_table:
        unknown_tables = sorted(str(k) for k, v in sdtypes.items() if isinstance(v, Mapping) and k not in tables)
        if unknown_tables:
            raise SchemaError(f"sdtypes names unknown table(s) {unknown_tables}; tables: {sorted(map(str, tables))}.")
        for name, given in per_table.items():
            unknown = [c for c in given if c not in tables[name].columns]
            if unknown:
                raise SchemaError(f"sdtypes names column(s) {unknown} that table {name!r} lacks; its columns: "
                                  f"{list(tables[name].columns)}.")
        return
    known = {c for frame in tables.values() for c in frame.columns}
    unknown = [c for c in sdtypes if c not in known]
    if unknown:
        where = "the data lacks; its columns" if single or len(tables) == 1 else "no table has; their columns"
        raise SchemaError(f"sdtypes names column(s) {unknown} that {where}: {sorted(map(str, known))}.")


def evaluate(real: pd.DataFrame | Mapping[str, pd.DataFrame],
             synthetic: pd.DataFrame | Mapping[str, pd.DataFrame], metadata: Metadata | None = None,
             holdout: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None, *,
             target: str | Mapping[str, str] | None = None, seed: int | None = 0, detection: bool = True,
             efficacy: bool = True, privacy: bool = True,
             sdtypes: Mapping[str, Mapping[str, SDType]] | Mapping[str, SDType] | None = None,
             n_threads: int = 1, sensitive_columns: ColumnLists = None, quasi_identifiers: ColumnLists = None,
             pii_columns: ColumnLists = None, generated_columns: ColumnLists = None,
             reference_tables: Iterable[str] | None = None) -> QualityResult:
    """Measure how faithful, useful and private synthetic data is.

    Args:
        real: The real table, or ``{table: DataFrame}``.
        synthetic: The synthetic data, same shape as ``real`` (same table and column names).
        metadata: Schema (column sdtypes, keys, foreign keys); when ``None`` sdtypes are detected and
            no relational figures are computed. A single DataFrame uses the metadata's only table
            (metadata of several tables needs ``{table: DataFrame}`` mappings).
        holdout: Real rows the generator did not train on (same shape as ``real``); enables the DCR
            share and an unbiased ML-efficacy test set (without it the efficacy test rows are split
            off ``real``, which the generator saw: the figure is optimistic, and its notes say so).
        target: Column for ML efficacy (a single table) or ``{table: column}``; ``None`` skips it.
        seed: Seed for every sample and model (results are reproducible for a given seed).
        detection: Compute the detection AUC.
        efficacy: Compute ML efficacy (needs ``target``).
        privacy: Compute privacy figures.
        sdtypes: ``{column: sdtype}`` for one table, or ``{table: {column: sdtype}}``; overrides
            the metadata.
        n_threads: Threads for scikit-learn models (``threadpool_limits``).
        sensitive_columns: Columns an attacker may try to infer (attribute-inference risk, with
            ``privacy``): a list for one table, or ``{table: [columns]}``.
        quasi_identifiers: Columns that attacker knows, same shapes; default: every numerical,
            datetime, categorical and boolean column that is not sensitive.
        pii_columns: Columns holding personal data, checked for synthetic values equal to a real
            one, same shapes; default: the metadata's ``pii_cols`` and columns declared with a PII
            semantic type (names, e-mails, phones, ...).
        generated_columns: Columns the generator makes up rather than learns (faked or masked
            personal columns, generated semantic columns), same shapes: left out of the
            distance-based figures (exact copies, DCR, NNDR, membership and attribute inference),
            which compare modelled columns only (a generated e-mail would make a copied row look
            new); still checked for PII leaks and whole rows. Default: the columns the metadata
            declares with an always-generated semantic type; ``Synthesizer.generated_columns_``
            lists a fitted synthesizer's.
        reference_tables: Tables copied verbatim from the real data by design (a synthesizer's
            reference tables: small lookup tables, ``Synthesizer.rules_[table]["reference"]``). Every
            row of such a table is a real row, so no privacy figure is computed for it (its exact
            copies would dominate the worst case over tables); its quality is scored as any table's.

    Returns:
        A :class:`QualityResult`.

    Raises:
        SchemaError: If tables or columns do not match, the target is unknown, the metadata does
            not describe the tables (a table it lacks, or columns or keys it declares that the real
            data lacks: ``SchemaValidationError``, listing every one), a sensitive / quasi-identifier / PII column is unknown or
            unusable, ``sdtypes`` names an unknown table or column, or ``reference_tables`` an
            unknown table.
        ConfigurationError: If ``n_threads`` is not a positive integer, or ``detection`` /
            ``efficacy`` / ``privacy`` is not a bool.
    """
    started = time.perf_counter()
    real_tables = _as_tables(real, "real")
    synth_tables = _as_tables(synthetic, "synthetic")
    single = isinstance(real, pd.DataFrame)
    holdout_tables = _as_tables(holdout, "holdout") if holdout is not None else {}
    if single and metadata is not None and len(metadata.tables) == 1:
        name = next(iter(metadata.tables))
        real_tables, synth_tables = {name: real_tables["table"]}, {name: synth_tables["table"]}
        holdout_tables = {name: holdout_tables["table"]} if holdout_tables else {}
    elif single and metadata is not None and len(metadata.tables) > 1:
        raise SchemaError(f"A single DataFrame was given with metadata of {len(metadata.tables)} tables "
                          f"({sorted(metadata.tables)}); pass {{table: DataFrame}} mappings, or the metadata of "
                          "that one table.")
    missing = sorted(set(real_tables) - set(synth_tables))
    if missing:
        raise SchemaError(f"Synthetic data lacks table(s) {missing}; generate every real table.")
    if holdout_tables and set(holdout_tables) != set(real_tables):
        raise SchemaError(f"Holdout tables {sorted(holdout_tables)} differ from real tables "
                          f"{sorted(real_tables)}; pass a holdout for every table (or none).")
    targets: dict[str, str] = {}
    if target is not None and not isinstance(target, Mapping):  # a column name (str, or an int label)
        try:
            hash(target)
        except TypeError:
            raise SchemaError(f"target must be a column name or {{table: column}}, got {type(target).__name__}.") \
                from None
        if not single and len(real_tables) > 1:
            raise SchemaError("With several tables, give target as {table: column}.")
        targets = {next(iter(real_tables)): target}
    elif target is not None:
        targets = dict(target)
        unknown = sorted(set(targets) - set(real_tables))
        if unknown:
            raise SchemaError(f"target names unknown table(s) {unknown}; tables: {sorted(real_tables)}.")
    try:
        base = resolve_seed(seed)
    except ValueError as exc:
        raise SchemaError(f"Invalid evaluate() seed: {exc}.") from exc
    check_switches(detection=detection, efficacy=efficacy, privacy=privacy)
    check_positive_int("n_threads", n_threads)
    references = _reference_tables(reference_tables, real_tables)
    _check_given_sdtypes(sdtypes, real_tables, single)
    columns_by_table = {label: column_lists(value, label, real_tables, single)
                        for label, value in (("sensitive_columns", sensitive_columns),
                                             ("quasi_identifiers", quasi_identifiers), ("pii_columns", pii_columns),
                                             ("generated_columns", generated_columns))}
    # Every input problem is raised before any metric runs.
    types_by_table: dict[str, dict[str, SDType]] = {}
    generated_by_table: dict[str, list[Any]] = {}
    missing: list[str] = []  # every table's missing columns, raised together
    for name, real_frame in real_tables.items():
        for which, frame in (("real", real_frame), ("synthetic", synth_tables.get(name)),
                             ("holdout", holdout_tables.get(name))):
            if isinstance(frame, pd.DataFrame):
                _check_frame(frame, name, which)
        check_columns(real_frame, synth_tables[name], what="Evaluation", table=name)
        if name in holdout_tables:
            check_columns(real_frame, holdout_tables[name], what="Evaluation", table=name, other="holdout")
        if metadata is not None and name not in metadata.tables and not single:
            raise SchemaError(f"Table {name!r} is not in the metadata; add it or drop it from the data.")
        if metadata is not None and name in metadata.tables:  # every column and key it declares, as fit checks
            issues = missing_column_issues(metadata.tables[name], real_frame, f"table {name!r} (real data)")
            if issues:
                missing.extend(issues)
                continue
        if efficacy and name in targets and targets[name] not in real_frame.columns:
            raise SchemaError(f"ML efficacy target {targets[name]!r} is not a column of table {name!r}; "
                              f"choose one of {list(real_frame.columns)}.")
        _check_declared_values(name, _given_sdtypes(sdtypes, name), metadata,
                                {"real": real_frame, "synthetic": synth_tables[name], "holdout": holdout_tables.get(name)})
        config = metadata.tables.get(name) if metadata is not None else None
        types_by_table[name] = resolve_sdtypes(real_frame, _given_sdtypes(sdtypes, name), config)  # type: ignore[arg-type]
        generated_by_table[name] = generated_columns_of(name, columns_by_table["generated_columns"], config,
                                                        list(real_frame.columns))
        if privacy:
            check_disclosure_columns(name, real_frame, types_by_table[name], columns_by_table,
                                     generated_by_table[name])
    if missing:
        raise SchemaValidationError(missing)
    tables: dict[str, TableQuality] = {}
    for name, real_frame in real_tables.items():
        synth_frame = synth_tables[name]
        config = metadata.tables.get(name) if metadata is not None else None
        types = types_by_table[name]
        shapes = column_shape_scores(real_frame, synth_frame, types)
        trends = column_pair_trends(real_frame, synth_frame, types, seed=child_seed(base, name, "trends"))
        shapes_score = float(np.mean(list(shapes.values()))) if shapes else None
        table_overall = _mean([shapes_score, trends.score])
        quality = TableQuality(name=name, n_rows_real=len(real_frame), n_rows_synthetic=len(synth_frame),
                               sdtypes=dict(types), column_shapes=shapes, column_shapes_score=shapes_score,
                               pair_trends=trends, overall=table_overall)
        scorable = any(types[c] in CONTINUOUS | DISCRETE for c in real_frame.columns)
        rows = min(len(real_frame), len(synth_frame))
        if detection and scorable and rows < min_detection_rows():
            quality._skip("detection", f"needs at least {min_detection_rows()} rows per side, got {rows}: with fewer, "
                         "its classifier cannot split and would score 0.5 whatever the data", rows=rows)
        elif detection and scorable:  # a table of keys or text only (a junction table) has nothing to detect
            quality.detection = detection_auc(real_frame, synth_frame, types, seed=child_seed(base, name, "detection"),
                                              n_threads=n_threads)
        if efficacy and name in targets:
            quality.efficacy = ml_efficacy(real_frame, synth_frame, targets[name], holdout_tables.get(name), types,
                                           seed=child_seed(base, name, "efficacy"), n_threads=n_threads)
        generated = generated_by_table[name]
        view, modelled_types = modelled_view({"train": real_frame, "synthetic": synth_frame,
                                              "holdout": holdout_tables.get(name)}, types, generated)
        modelled = compares_modelled(types, list(real_frame.columns), generated)
        quality.reference = name in references
        if privacy and scorable and quality.reference:
            quality._skip("privacy", "reference table copied verbatim: every row is real by design", level="info")
        elif privacy and scorable and not modelled:
            quality._skip("privacy", "every comparable column is generated, none modelled", generated=list(generated))
        elif privacy and scorable and len(real_frame) < _MIN_PRIVACY_ROWS:
            quality._skip("privacy", f"needs at least {_MIN_PRIVACY_ROWS} real rows, got {len(real_frame)}",
                         rows=len(real_frame))
        elif privacy and scorable:
            quality.privacy = privacy_metrics(view["train"], view["synthetic"], view["holdout"], modelled_types,
                                              seed=child_seed(base, name, "privacy"), n_threads=n_threads)
            pii = columns_by_table["pii_columns"].get(name)
            disclosure = disclosure_metrics(
                real_frame, synth_frame, holdout_tables.get(name), types,
                sensitive_columns=columns_by_table["sensitive_columns"].get(name) or [],
                quasi_identifiers=columns_by_table["quasi_identifiers"].get(name),
                pii_columns=pii if pii is not None else declared_pii_columns(config, list(real_frame.columns)),
                generated_columns=generated, seed=child_seed(base, name, "disclosure"), n_threads=n_threads)
            quality.privacy = with_disclosure(quality.privacy, disclosure)
        tables[name] = quality
    relational = None
    if metadata is not None and not single:
        relational = relational_metrics(real_tables, synth_tables, metadata, seed=child_seed(base, "relational"))
    shapes_all = _mean([t.column_shapes_score for t in tables.values()])
    trends_all = _mean([t.pair_trends.score for t in tables.values()])
    overall = _mean([shapes_all, trends_all])
    if overall is None:
        raise SchemaError("Nothing to score: no numerical, datetime, categorical or boolean column in any table.")
    efficacy_ratios = [t.efficacy.ratio for t in tables.values() if t.efficacy is not None]
    result = QualityResult(
        overall=overall, column_shapes=shapes_all, column_pair_trends=trends_all,
        detection_auc=_mean([t.detection.auc for t in tables.values() if t.detection is not None]),
        ml_efficacy=_mean(efficacy_ratios),
        privacy=_worst_privacy([t.privacy for t in tables.values() if t.privacy is not None]),
        relational=relational, tables=tables, seed=base, seconds=time.perf_counter() - started,
    )
    _log.info("quality_evaluated", tables=list(tables), overall=round(result.overall, 4),
              column_shapes=result.column_shapes, column_pair_trends=result.column_pair_trends,
              detection_auc=result.detection_auc, ml_efficacy=result.ml_efficacy,
              seconds=round(result.seconds, 3))
    return result
