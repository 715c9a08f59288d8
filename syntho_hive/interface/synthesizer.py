"""The multi-table :class:`Synthesizer`: a whole schema in, a whole synthetic schema out.

Example:
    >>> synth = Synthesizer(metadata, seed=0, epochs=100)
    >>> synth.fit({"customers": customers, "orders": "orders.parquet"})
    >>> tables = synth.sample(scale=2.0)
    >>> synth.save("synth_dir")
    >>> Synthesizer.load("synth_dir").sample(num_rows={"customers": 500}, output_path="out/")

A database or file source and a target work the same way (see :mod:`syntho_hive.connectors`):

    >>> src = SQLSource("postgresql+psycopg://app@db/shop")
    >>> synth = Synthesizer(Metadata.from_source(src), seed=0)
    >>> synth.fit(src, subset=Subset(root="customers", rows=50_000, seed=0))
    >>> synth.sample(output=SQLTarget("postgresql+psycopg://app@db/shop", schema="synthetic"))

The saved directory (manifest with checksums, engines by registry name, atomic and crash-safe
writes) is described in :mod:`syntho_hive.interface.persistence`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from syntho_hive._checks import is_finite_number, is_int
from syntho_hive._random import child_seed, resolve_seed
from syntho_hive.connectors.base import TableSource, TableTarget
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.core.privacy import PrivacyConfig
from syntho_hive.core.privacy.schema import without_columns
from syntho_hive.events import get_logger
from syntho_hive.exceptions import (
    ConfigurationError,
    GenerationError,
    NotFittedError,
    PrivacyError,
    SchemaError,
    SchemaValidationError,
    SerializationError,
    TrainingError,
)
from syntho_hive.interface.files import read_table
from syntho_hive.interface.persistence import is_synthesizer_directory, read_synthesizer, synthesizer_content
from syntho_hive.interface.table_writer import write_table_chunks
from syntho_hive.relational.dp_budget import SchemaPrivacySpent
from syntho_hive.relational.dp_checks import refuse_dp_model_option
from syntho_hive.relational.graph import SchemaGraph
from syntho_hive.relational.keys import drop_integrity_violations
from syntho_hive.relational.subset import Subset, SubsetReport, complete_rows, plan_subset, subset_frames
from syntho_hive.relational.orchestrator import (
    Orchestrator,
    check_chunk_rows,
    model_accepts,
)

__all__ = ["Synthesizer"]

_log = get_logger(__name__)


ModelSpec = type[ConditionalGenerativeModel] | Mapping[str, type[ConditionalGenerativeModel]]


def _check_model_class(value: Any, where: str) -> type[ConditionalGenerativeModel]:
    """``value`` itself when it is a model class.

    Raises:
        ConfigurationError: It is not (e.g. an instance such as ``CTGAN()``).
    """
    if not (isinstance(value, type) and issubclass(value, ConditionalGenerativeModel)):
        raise ConfigurationError(f"{where} must be a ConditionalGenerativeModel subclass (e.g. TabularAR, CTGAN, "
                                 f"TVAE), got {value!r}; pass the class itself, not an instance.")
    return value


def _as_path(value: Any, argument: str) -> Path:
    """``value`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigurationError: ``value`` is not a ``str`` or ``os.PathLike``.
    """
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigurationError(f"{argument} must be a path (str or os.PathLike), got {type(value).__name__} "
                                 f"{value!r}.")
    return Path(value)


def _read_table(argument: str, name: str, source: Any) -> pd.DataFrame:
    """Table ``name`` of the mapping given as ``argument``: a DataFrame, or read from its path.

    Raises:
        SchemaError: ``source`` is neither a DataFrame nor a path, or its format is unknown.
        SerializationError: The file does not exist or cannot be read.
    """
    if isinstance(source, pd.DataFrame):
        return source
    where = f"{argument}[{name!r}]"
    if not isinstance(source, (str, os.PathLike)):
        raise SchemaError(f"{where} must be a pandas DataFrame or a CSV/Parquet path, got "
                          f"{type(source).__name__} (Spark tables come with the connectors).")
    return read_table(source, what=where)


class Synthesizer:
    """Learns a whole relational schema and generates synthetic tables that join like the real ones.

    Every argument after ``metadata`` is keyword-only.

    Args:
        metadata: The schema (tables, primary and foreign keys, context columns, constraints).
        privacy_config: Personal data (:class:`~syntho_hive.privacy.PrivacyConfig`): per-column actions
            (``drop``, ``mask``, ``hash``, ``fake``, ``keep``, ``custom``) and detection. At ``fit`` every
            table's personal columns are decided first and removed (or pseudonymised) before any model,
            cardinality model, context or rule learns from the tables; ``sample`` generates them back
            (``fake``/``mask``) in the locale of each row's country. The decisions are in
            :attr:`privacy_report_` and are saved with the synthesizer (without the secret), so a
            loaded synthesizer samples the same way; refitting it needs the config again. ``None``
            where a table declares personal columns (``pii_cols``): ``PrivacyConfig(detect=False)``, as a
            single model's fit (each declared personal column and semantic type gets its default
            action, a declared personal column without a personal semantic type is refused). With
            ``PrivacyConfig(dp=DPConfig(max_epsilon=..., delta=...))`` the whole fit is differentially
            private within that one budget, split between the tables (each table's model, and a
            noisy children-per-parent histogram per foreign key); what is covered, switched off and
            refused is in ``docs/privacy.md`` ("Multi-table"), the spend in :attr:`privacy_spent_`.
        spark_session: A SparkSession: ``fit`` then also takes a Hive database name or a mapping of
            Spark DataFrames / ``"db.table"`` names (read through
            :class:`~syntho_hive.connectors.spark.source.SparkSource`), and :meth:`sample_spark`
            generates inside Spark.
        model: Model class for every table, or ``{table: class}`` (other tables use the default,
            :class:`~syntho_hive.core.models.tabular_ar.TabularAR`; pass ``CTGAN`` or ``TVAE`` to
            choose those). Any :class:`~syntho_hive.core.models.base.ConditionalGenerativeModel`
            subclass.
        seed: Master seed (``None``: a fresh one, kept in ``seed``); training and default
            sampling seeds derive from it, per table. Under ``PrivacyConfig(dp=...)`` it is the key of
            the noise, a secret: whoever knows it (and the other rows) can remove the noise, so no saved
            file or event holds it (``None``: a fresh seed from OS entropy, known to nobody); after the
            fit, and on load, ``seed`` is a fresh one for the default sampling seeds (and a refit).
        **model_kwargs: Model constructor arguments (e.g. ``embedding_dim=64``); each goes to every
            table's model whose constructor takes it. Not ``dp`` (refused: pass it in ``privacy_config``).

    Raises:
        ConfigurationError: ``metadata`` is not a Metadata, ``model`` is not a model class (or
            mapping of them), a model option is taken by none of the models, or ``seed`` is not
            a non-negative integer. (It is also a ``TypeError`` and a ``ValueError``.)
        SchemaError: Malformed keys, a table in ``model`` that is not in the metadata, or a
            cycle of foreign keys (the message names the tables).
        ConfigurationError: ``privacy_config`` is not a PrivacyConfig.
        PrivacyError: ``dp=`` given as a model option (one budget for the schema goes in
            ``privacy_config=PrivacyConfig(dp=...)``).
    """

    def __init__(self, metadata: Metadata, *, privacy_config: Any = None, spark_session: Any = None,
                 model: ModelSpec = TabularAR, seed: int | None = None, **model_kwargs: Any) -> None:
        if not isinstance(metadata, Metadata):
            raise ConfigurationError(f"metadata must be a syntho_hive Metadata, got {type(metadata).__name__}; "
                                     "build one with Metadata().add_table(...) or Metadata.load(path).")
        if privacy_config is not None and not isinstance(privacy_config, PrivacyConfig):
            raise ConfigurationError(f"privacy_config must be a syntho_hive.privacy.PrivacyConfig or None, got "
                                     f"{type(privacy_config).__name__}.")
        if not metadata.tables:
            raise SchemaError("The metadata has no tables; add them with Metadata.add_table(...).")
        refuse_dp_model_option(model_kwargs)
        if isinstance(model, Mapping):
            unknown = sorted(set(model) - set(metadata.tables))
            if unknown:
                raise SchemaError(f"model names table(s) {unknown} that are not in the metadata "
                                  f"({sorted(metadata.tables)}).")
            models = {t: _check_model_class(model.get(t, TabularAR), f"model[{t!r}]") for t in metadata.tables}
        else:
            cls = _check_model_class(model, "model")
            models = {t: cls for t in metadata.tables}
        for option in model_kwargs:
            if not any(model_accepts(cls, option) for cls in set(models.values())):
                raise ConfigurationError(f"Unknown model option {option!r}: no model of this synthesizer "
                                         f"({sorted({c.__name__ for c in models.values()})}) takes it; drop it "
                                         "or check its spelling.")
        try:
            master_seed = resolve_seed(seed)
        except ValueError as exc:
            raise ConfigurationError(f"Invalid Synthesizer seed: {exc}.") from exc
        self.metadata = metadata
        self.privacy_config = privacy_config
        self.spark_session = spark_session
        self.model = model
        self.models = models
        self.model_kwargs = dict(model_kwargs)
        self.seed = master_seed
        self.graph = SchemaGraph.from_metadata(metadata)
        self._engine = Orchestrator(metadata, models, self.model_kwargs, seed=self.seed, privacy=privacy_config)
        self._fitted = False
        self._sample_calls = 0
        self.integrity_report_: dict[str, int] = {}
        self.subset_report_: SubsetReport | None = None
        self.source_rows_: dict[str, int] = {}

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`sample` and :meth:`save` can run (after ``fit`` or ``load``)."""
        return self._fitted

    @property
    def fit_seconds_(self) -> dict[str, float]:
        """Seconds spent fitting each table (empty after ``load``)."""
        return dict(self._engine.fit_seconds_)

    @property
    def rules_(self) -> dict[str, Any]:
        """The business rules the last ``fit`` used, per table (kept by ``save``/``load``).

        For each table: ``reference`` (copied verbatim) and why, ``semantic_types`` (columns
        generated realistically; ``detected_semantic`` names the detected ones), ``copied_from``
        (columns copied from the parent row, with the share of real rows where that held),
        ``dependencies`` (within-row functional dependencies) and ``date_orderings`` (detected
        inequalities between dates). Declare or override any of them in the metadata
        (``TableConfig.semantic_types``, ``copied_from``, ``dependencies``, ``reference``).
        Empty before ``fit``.
        """
        return dict(self._engine.rules_report_)

    @property
    def privacy_spent_(self) -> SchemaPrivacySpent | None:
        """What a fit under differential privacy spent: ``epsilon``/``delta`` (the totals, at most the
        configured ``max_epsilon``/``delta``), per table ``tables[name]`` (its model's and its foreign keys'
        parts), and ``to_dict()`` for JSON. ``None`` without ``PrivacyConfig(dp=...)`` or before ``fit``;
        kept by ``save``/``load``."""
        return self._engine.privacy_spent_

    @property
    def privacy_report_(self) -> dict[str, dict[str, Any]]:
        """What the privacy config decided, per table: ``{table: {column: {action, semantic_type, source,
        reason}}}`` for every personal or decided column (kept by ``save``/``load``; empty before ``fit`` and
        without a privacy config or declared personal columns)."""
        return self._engine.privacy_report()

    @property
    def generated_columns_(self) -> dict[str, list[str]]:
        """The columns generated rather than modelled, per table (tables with none left out): faked or masked
        personal columns and generated semantic columns (names, e-mails, phones...). They hold no training
        value, so the privacy figures that compare rows (exact copies, DCR, membership and attribute
        inference) leave them out; pass this as ``generated_columns=`` to
        :func:`~syntho_hive.validation.evaluate` or :func:`~syntho_hive.validation.privacy_gate.privacy_gate`.
        Empty before ``fit``."""
        return {name: list(columns) for name, columns in self._generated_types().items() if columns}

    def _generated_types(self) -> dict[str, dict[str, str | None]]:
        """``{table: {column: semantic type}}`` of the generated columns of every synthesised (not reference)
        table: the privacy config's ``fake`` / ``mask`` columns, then the semantic plan's generated columns,
        then the columns copied from a generated column of the parent row (an invoice's billing address
        copied from the customer's generated address holds no training value either)."""
        if not self._fitted:
            return {}
        decided = self.privacy_report_
        generated: dict[str, dict[str, str | None]] = {}
        for name in self.graph.order:  # parents first: a copy reads its parent's generated columns
            rules = self._engine.plan(name).rules
            if rules.reference is not None:  # copied verbatim (Orchestrator.reference_tables)
                continue
            columns: dict[str, str | None] = {c: d["semantic_type"] for c, d in decided.get(name, {}).items()
                                              if d["action"] in ("fake", "mask")}
            semantic = rules.semantic_plan()
            if semantic is not None:
                columns.update({c: semantic.semantic_types.get(c) for c in semantic.generated if c not in columns})
            parents = self.graph.parents_of(name)
            for copy in rules.copied:
                source = generated.get(parents[copy.via].parent, {})
                if copy.parent_column in source and copy.column not in columns:
                    columns[copy.column] = source[copy.parent_column]
            generated[name] = columns
        return generated

    # ------------------------------------------------------------------ fit
    def _privacy_decided_again(self) -> bool:
        """Whether a refit without a privacy config makes every decision of ``privacy_report_`` again: without a
        config, declared personal columns make the fit use ``PrivacyConfig(detect=False)``, which decides the
        declared columns again (but no configured or detected one)."""
        return self._engine.fit_privacy_config is not None and all(
            d["source"] == "declared" for decided in self.privacy_report_.values() for d in decided.values())

    def fit(self, data: Mapping[str, Any] | TableSource, epochs: int | None = None, batch_size: int | None = None,
            validate: bool = True, progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            on_integrity_error: Literal["raise", "drop"] = "raise", n_jobs: int | None = None, *,
            subset: Subset | None = None) -> "Synthesizer":
        """Learn every table of the schema.

        Args:
            data: ``{table: DataFrame or path}`` for every table of the metadata (a path is a CSV
                file (``.csv``, or compressed: ``.csv.gz``, ``.csv.bz2``, ``.csv.zip``, ``.csv.xz``),
                a Parquet file (``.parquet``, ``.pq``) or a directory of Parquet files), or a
                connector source (:class:`~syntho_hive.connectors.SQLSource`, ``ParquetSource``,
                ``DeltaSource``...) holding every table of the metadata.
            epochs: Training epochs of each table's model (``None``: the model's default).
            batch_size: Batch size of each table's model (``None``: the model's default).
            validate: Check schema and data first (``Metadata.validate_schema``): orphan FKs,
                duplicate/null PKs, FK/PK dtype mismatches, constraint violations...
            progress_bar: Show progress bars.
            checkpoint_dir: When given, each model keeps training checkpoints in
                ``checkpoint_dir/<table>``.
            on_integrity_error: ``"raise"`` to stop on dirty keys, or ``"drop"`` to drop rows with
                null/duplicate primary keys and orphan foreign keys (parents first, counts in
                ``integrity_report_``) and go on.
            n_jobs: Models fitted at once: one in this process, the others in ``n_jobs - 1`` worker
                processes (``None``: one per CPU core; 1: one after the other, in this process).
                Every fit uses one torch thread, so the fitted synthesizer is the same for any
                ``n_jobs``. Workers receive the models pickled: a custom model class must be
                importable and picklable.
            subset: Train on a key-closed subset (:class:`~syntho_hive.relational.subset.Subset`):
                sampled root rows, their descendants and every parent row they reference, so no
                foreign key is an orphan. A database source computes it on the server and reads
                only the rows kept. The rows kept per table are in ``subset_report_``; the root
                tables' full sizes in the source are kept in ``source_rows_`` (saved with the
                synthesizer), so that ``sample(scale=1.0)`` sizes them like the source, not like
                the subset. Children per parent are learned from the parents whose children were
                all kept (the root rows drawn and the rows below them), not from the parents a
                second foreign key pulled in.

        Returns:
            ``self``.

        Raises:
            SchemaValidationError: ``validate`` found problems (every one listed) that
                ``on_integrity_error="drop"`` does not remove.
            SchemaError: Unknown or missing tables, an input that is neither a DataFrame nor a
                path, or a file name of unknown format.
            SerializationError: A path does not exist or cannot be read.
            ConfigurationError: ``checkpoint_dir`` is not a path.
            TrainingError: Bad ``on_integrity_error`` or ``n_jobs``, or a model failed to train.
            ConfigurationError: ``subset`` is not a Subset, or has bad ``rows``/``fraction``.
        """
        if on_integrity_error not in ("raise", "drop"):
            raise TrainingError(f"on_integrity_error must be 'raise' or 'drop', got {on_integrity_error!r}.")
        if self.privacy_spent_ is not None and (self.privacy_config is None or self.privacy_config.dp is None):
            raise PrivacyError("This synthesizer was fitted under differential privacy; refitting it without "
                               "PrivacyConfig(dp=...) would learn from the rows outside any budget. Build "
                               "Synthesizer(metadata, privacy_config=PrivacyConfig(dp=DPConfig(...))) to fit again.")
        if self.privacy_config is None and self.privacy_report_ and not self._privacy_decided_again():
            raise PrivacyError("This synthesizer was fitted with a privacy config, which is not saved (it may hold a "
                               "secret and functions); refitting without it would train on personal columns. Build "
                               "Synthesizer(metadata, privacy_config=...) to fit again.")
        if checkpoint_dir is not None:
            checkpoint_dir = _as_path(checkpoint_dir, "checkpoint_dir")
        if subset is not None and not isinstance(subset, Subset):
            raise ConfigurationError(f"subset must be a syntho_hive Subset(root=..., rows=... or fraction=...), "
                                     f"got {type(subset).__name__}.")
        frames, self.subset_report_ = self._training_frames(data, subset)
        report = self.subset_report_
        self.source_rows_ = {} if report is None else {
            name: int(total) for name, total in report.total.items()
            if total is not None and name in self.graph.roots()}
        if on_integrity_error == "drop":
            frames = self._drop_dirty(frames, validate)
        elif validate:
            self.metadata.validate_schema(frames)
        complete = None if report is None or subset is None else \
            complete_rows(self.metadata, frames, subset, report.drawn)
        self._engine.fit(frames, epochs=epochs, batch_size=batch_size, progress_bar=progress_bar,
                         checkpoint_dir=checkpoint_dir, n_jobs=n_jobs, complete=complete)
        if self.privacy_spent_ is not None:  # the fit seed is the key of the DP noise: nothing derived from it stays
            self.seed = self._engine.seed = resolve_seed(None)
        self._fitted = True
        self._sample_calls = 0
        return self

    def _training_frames(self, data: Mapping[str, Any] | TableSource,
                         subset: Subset | None) -> tuple[dict[str, pd.DataFrame], SubsetReport | None]:
        """The tables to learn from ``data`` (a mapping or a source), narrowed to ``subset``."""
        data = self._spark_source(data)
        if isinstance(data, TableSource):
            if subset is not None:
                plan_subset(self.metadata, subset)  # checked before the source is read
            _log.info("training_data_read", source=data.description, tables=list(self.metadata.tables))
            return data.read_tables(self.metadata, subset)
        if not isinstance(data, Mapping):
            raise SchemaError(f"fit() expects {{table: DataFrame or path}} or a connector source (SQLSource, "
                              f"ParquetSource, DeltaSource...), got {type(data).__name__} (a Hive database name "
                              "needs Synthesizer(..., spark_session=spark)).")
        unknown = sorted(set(data) - set(self.metadata.tables))
        missing = sorted(set(self.metadata.tables) - set(data))
        if unknown or missing:
            raise SchemaError(f"fit() data must hold exactly the metadata's tables; unknown: {unknown}, "
                              f"missing: {missing}.")
        frames = {name: _read_table("data", name, source) for name, source in data.items()}
        if subset is None:
            return frames, None
        return subset_frames(self.metadata, frames, subset)

    def _spark_source(self, data: Any) -> Any:
        """``data`` as a :class:`~syntho_hive.connectors.spark.source.SparkSource` when it names Spark
        data — a Hive database name, or a mapping holding a Spark DataFrame or a ``"db.table"`` name with
        ``spark_session`` given — else ``data`` itself.

        Raises:
            ConfigurationError: A Spark DataFrame without ``spark_session``.
        """
        spark_frame = type(data).__module__.startswith("pyspark.")
        values = list(data.values()) if isinstance(data, Mapping) else []
        spark_values = [v for v in values if type(v).__module__.startswith("pyspark.")]
        if self.spark_session is None:
            if spark_frame or spark_values:
                raise ConfigurationError("fit() got Spark DataFrames but this Synthesizer has no spark_session; "
                                         "pass Synthesizer(..., spark_session=spark).")
            return data
        from syntho_hive.connectors.spark.source import SparkSource

        if isinstance(data, str):
            return SparkSource(self.spark_session, data)
        if isinstance(data, Mapping) and (spark_values or any(
                isinstance(v, str) and not os.path.exists(v) for v in values)):
            return SparkSource(self.spark_session, tables=dict(data))
        return data

    def _drop_dirty(self, frames: dict[str, pd.DataFrame], validate: bool) -> dict[str, pd.DataFrame]:
        if validate:
            try:
                self.metadata.validate_schema(frames)
            except SchemaValidationError as exc:
                _log.warning("integrity_issues_found", count=len(exc.issues), issues=exc.issues,
                             action="drop offending rows")
        pk_of = {name: table.pk_columns for name, table in self.metadata.tables.items()}
        clean, dropped = drop_integrity_violations(self.graph, frames, pk_of)
        self.integrity_report_ = {name: count for name, count in dropped.items() if count}
        if self.integrity_report_:
            _log.warning("integrity_rows_dropped", rows=self.integrity_report_)
        for name in self.metadata.tables:
            if len(clean[name]) == 0:
                raise SchemaError(f"table {name!r} has no rows left after dropping rows with broken keys; "
                                  "fix the data instead.")
        if validate:
            self.metadata.validate_schema(clean)
        return clean

    # ------------------------------------------------------------------ sample
    def sample(self, num_rows: Mapping[str, int] | None = None, scale: float = 1.0, seed: int | None = None,
               output_path: str | Path | None = None,
               output_format: Literal["parquet", "csv"] = "parquet",
               progress_bar: bool = False, chunk_rows: int | None = None, *,
               output: TableTarget | None = None, privacy_threshold: Any = None,
               real_data: Mapping[str, Any] | None = None, holdout: Mapping[str, Any] | None = None,
               sensitive_columns: Mapping[str, list[str]] | None = None,
               conditions: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """Generate every table, parents first, with valid keys.

        Args:
            num_rows: Rows per table, e.g. ``{"users": 1000}``. Root tables not named get
                ``scale`` times their real size (their size in the source, ``source_rows_``, after a
                fit on a subset); child tables not named get the size implied by
                their parents (the learned children-per-parent distribution).
            scale: Size factor for root tables not named in ``num_rows``.
            seed: Sampling seed; the same seed gives bit-identical tables (also in another
                process). ``None`` derives one from the synthesizer's seed and the number of
                earlier ``sample`` calls.
            output_path: A directory: each table is written to ``<table>.<format>`` chunk by
                chunk as it is generated (one Parquet row group per chunk, atomically: an error
                leaves no partial file), so memory holds one chunk of content at a time plus the
                table's row positions and primary keys and the parent columns later tables need
                (a self-referencing table is held whole; see ``docs/architecture.md``); the tables
                are the same as without ``output_path``.
            output_format: ``"parquet"`` or ``"csv"`` (with ``output_path``).
            progress_bar: Show progress over tables.
            chunk_rows: Rows generated (and written) per step; ``None``: 50 000. Smaller chunks
                lower peak memory; the rows drawn depend on it, so keep it fixed for identical tables.
            output: A connector target (:class:`~syntho_hive.connectors.SQLTarget`,
                ``ParquetTarget``, ``CSVTarget``, ``DeltaTarget``): checked before any row is
                generated, then every table is streamed to it chunk by chunk, parents first, and
                committed together; on any error the target is left as it was (see each
                target's documentation for what "together" means there). With ``if_exists="append"``
                to tables that hold rows, the generated keys (and unique values) continue after the
                existing ones and the new children point at the new parents, so the tables stay valid;
                a reference table gets only the rows it lacks. Exclusive with ``output_path``.
            privacy_threshold: A :class:`~syntho_hive.validation.PrivacyThreshold` (or its
                ``{limit: value}`` dict): the generated tables are measured against ``real_data``
                (and ``holdout``) and nothing is returned when a figure exceeds its limit. Only for
                tables returned in memory (not with ``output_path`` / ``output``).
            real_data: The real training tables (``{table: DataFrame or path}``), needed by
                ``privacy_threshold``: a synthesizer keeps no real rows.
            holdout: Real rows the synthesizer never saw, per table: needed by the DCR-share,
                membership and attribute-inference limits.
            sensitive_columns: ``{table: columns}`` an attacker may try to infer (attribute-inference limit).
            conditions: ``{table: {column: value}}``: every generated row of the table has these values
                (e.g. ``{"customers": {"tier": "premium"}}``); the tables below it follow the rows generated,
                so premium customers get the orders premium customers have. Only columns a table's model
                draws can be conditioned (not keys, foreign keys, copied or generated columns).

        Returns:
            ``{table: DataFrame}``, ``{table: Path}`` with ``output_path``, or ``{table: location}``
            (a description safe to show) with ``output``.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: Bad ``num_rows``/``scale``/``seed``/``output_format``/``chunk_rows``/``conditions``
                (a condition value the table's model never saw is refused when that table is generated).
            ConfigurationError: ``output_path`` is not a path, ``output`` is not a target, or
                both are given.
            SerializationError: An output file or target cannot be written (e.g. a table exists
                and the target says ``if_exists="fail"``), or an appended row would repeat a primary
                key the target holds (one made only of foreign keys to a reference table).
            PrivacyError: A privacy figure exceeds its limit (``failures``: ``{"table.figure":
                (value, limit)}``, every one), or ``privacy_threshold`` lacks what it needs
                (``real_data``, a ``holdout``, sensitive columns) — checked before generating.
        """
        if not self._fitted:
            raise NotFittedError("Cannot sample: this Synthesizer is not fitted. Call fit(data) or "
                                 "Synthesizer.load(path) first.")
        gate = None
        if privacy_threshold is not None:
            if output is not None or output_path is not None:
                raise ConfigurationError("privacy_threshold measures the tables in memory; drop output/output_path "
                                         "and write the returned tables once they pass.")
            gate = self._privacy_inputs(privacy_threshold, real_data, holdout, sensitive_columns)
        if output is not None:
            if not isinstance(output, TableTarget):
                raise ConfigurationError(f"output must be a connector target (SQLTarget, ParquetTarget, "
                                         f"CSVTarget, DeltaTarget), got {type(output).__name__}; for a folder of "
                                         "files pass output_path.")
            if output_path is not None:
                raise ConfigurationError("Pass either output (a connector target) or output_path (a folder), "
                                         "not both.")
        sizes = self._check_sizes(num_rows, scale)
        if output_format not in ("parquet", "csv"):
            raise GenerationError(f"output_format must be 'parquet' or 'csv', got {output_format!r}.")
        if chunk_rows is not None:
            check_chunk_rows(chunk_rows)
        self._engine.check_conditions(conditions)
        seed = self._next_seed(seed, "sample")
        if output is not None:
            with output.open(self.metadata, list(self.graph.order)) as writer:
                written = self._engine.generate(num_rows=sizes, scale=scale, seed=seed, sink=writer.write_table,
                                                progress_bar=progress_bar, chunk_rows=chunk_rows,
                                                conditions=conditions, existing=writer.existing_rows)
            _log.info("synthetic_tables_written", target=output.description, tables=written)
            return written
        sink: Callable[[str, Iterator[pd.DataFrame]], Path] | None = None
        if output_path is not None:
            directory = _as_path(output_path, "output_path")
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SerializationError(f"Cannot create output directory {str(directory)!r}: {exc}") from exc

            def write_file(name: str, chunks: Iterator[pd.DataFrame]) -> Path:
                return write_table_chunks(chunks, directory / f"{name}.{output_format}", output_format)

            sink = write_file

        tables = self._engine.generate(num_rows=sizes, scale=scale, seed=seed, sink=sink,
                                       progress_bar=progress_bar, chunk_rows=chunk_rows, conditions=conditions)
        if gate is not None:
            self._check_privacy(tables, *gate)
        return tables

    def _privacy_inputs(self, threshold: Any, real_data: Mapping[str, Any] | None,
                        holdout: Mapping[str, Any] | None,
                        sensitive: Mapping[str, list[str]] | None) -> tuple[Any, dict[str, pd.DataFrame],
                                                                              dict[str, pd.DataFrame] | None,
                                                                              Mapping[str, list[str]] | None]:
        """The privacy gate's checked inputs, before any generation: the threshold, the real and holdout
        tables of the synthesised (not reference) tables.

        Raises:
            ConfigurationError: A bad threshold.
            PrivacyError: ``real_data`` missing, or a limit that cannot be computed from what is given.
            SchemaError: ``real_data`` / ``holdout`` not mappings of the metadata's tables.
        """
        from syntho_hive.validation.privacy_gate import PrivacyThreshold, require_inputs

        checked = PrivacyThreshold.coerce(threshold)
        if real_data is None:
            raise PrivacyError("privacy_threshold needs real_data={table: real training rows}: a synthesizer keeps "
                               "no real rows to measure the synthetic ones against.")
        require_inputs(checked, has_holdout=holdout is not None, has_sensitive_columns=bool(sensitive))
        references = set(self._engine.reference_tables)
        names = [name for name in self.graph.order if name not in references]

        def frames(what: str, given: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
            if not isinstance(given, Mapping) or sorted(set(names) - set(given)):
                raise SchemaError(f"{what} must be a mapping holding every synthesised table {names}.")
            return {name: _read_table(what, name, given[name]) for name in names}

        return checked, frames("real_data", real_data), (frames("holdout", holdout) if holdout is not None
                                                          else None), sensitive

    def _check_privacy(self, tables: Mapping[str, pd.DataFrame], threshold: Any, real: dict[str, pd.DataFrame],
                       holdout: dict[str, pd.DataFrame] | None, sensitive: Mapping[str, list[str]] | None) -> None:
        """Raise :class:`PrivacyError` when the generated tables exceed a privacy limit. The figures that
        compare rows leave out the generated columns (:attr:`generated_columns_`); the leak limit counts the
        generated personal identifiers (e-mails, phones, street addresses, ids, IBANs, cards): generated
        names, postcodes and birth dates equal real ones by chance."""
        from syntho_hive.core.semantic.types import ALWAYS_GENERATED
        from syntho_hive.validation._generated import leak_counted_columns
        from syntho_hive.validation.privacy_gate import privacy_gate

        real, holdout = self._without_dropped(real), self._without_dropped(holdout) if holdout is not None else None
        generated = self._generated_types()
        decided = self.privacy_report_
        personal = {name: {c: t for c, t in generated.get(name, {}).items()
                           if decided.get(name, {}).get(c, {}).get("action") in ("fake", "mask")
                           or t in ALWAYS_GENERATED}
                    for name in real}
        figures = privacy_gate(real, {name: tables[name] for name in real}, holdout, threshold, self.metadata,
                               sensitive_columns=sensitive,
                               pii_columns={name: leak_counted_columns(personal[name]) for name in real},
                               generated_columns={name: [c for c in generated.get(name, {}) if c in real[name].columns]
                                                  for name in real})
        _log.info("privacy_gate_passed", figures=figures)

    # ------------------------------------------------------------------ report
    def generate_validation_report(self, real_data: Mapping[str, Any], output_path: str | Path,
                                   synthetic_data: Mapping[str, pd.DataFrame] | None = None, *,
                                   seed: int | None = None, include_samples: bool = False,
                                   holdout: Mapping[str, pd.DataFrame] | None = None,
                                   target: str | Mapping[str, str] | None = None,
                                   **evaluate_options: Any) -> Path:
        """Write the self-contained HTML quality report (and its JSON twin) for this schema.

        Args:
            real_data: ``{table: DataFrame or path}``, the real tables to compare with (paths as
                in :meth:`fit`).
            output_path: HTML file to write; the JSON goes beside it with suffix ``.json``.
            synthetic_data: Synthetic tables to judge; ``None`` samples them now (same sizes as
                ``real_data``'s root tables, with ``seed``).
            seed: Sampling and evaluation seed.
            include_samples: Include a few raw rows per table (off: the report can be shared).
            holdout: Real rows the synthesizer did not see (DCR share, efficacy test set).
            target: ML-efficacy target column, or ``{table: column}``.
            **evaluate_options: Passed to :func:`syntho_hive.validation.evaluate`. By default the
                privacy figures compare modelled columns only (``generated_columns``: this
                synthesizer's :attr:`generated_columns_`) and leave out the reference tables, copied
                verbatim by design (``reference_tables``).

        Returns:
            The path of the HTML file.

        Raises:
            NotFittedError: ``synthetic_data`` is not given and the synthesizer is not fitted.
            SchemaError: The tables do not match the metadata, ``real_data`` or ``synthetic_data``
                is not a mapping, or a file name is of unknown format.
            ConfigurationError: ``output_path`` is not a path.
            SerializationError: An input file cannot be read or the report cannot be written.
        """
        from syntho_hive.validation import ValidationReport

        output_path = _as_path(output_path, "output_path")
        if not isinstance(real_data, Mapping):
            raise SchemaError(f"real_data must be a mapping {{table: DataFrame or path}}, got "
                              f"{type(real_data).__name__}.")
        if synthetic_data is not None and not isinstance(synthetic_data, Mapping):
            raise SchemaError(f"synthetic_data must be a mapping {{table: DataFrame}} or None, got "
                              f"{type(synthetic_data).__name__}.")
        real = {name: _read_table("real_data", name, source) for name, source in real_data.items()}
        if synthetic_data is None:  # root tables as large as the real ones given; children follow
            roots = SchemaGraph.from_metadata(self.metadata).roots()
            sampled = self.sample(num_rows={name: len(real[name]) for name in roots if name in real}, seed=seed)
            synthetic_data = {name: frame for name, frame in sampled.items() if name in real}  # judged: those given
        spent = self.privacy_spent_
        decided = self.privacy_report_
        metadata = self.metadata
        if decided:  # dropped columns are absent from the output; generated ones are checked for real values
            real, holdout = self._without_dropped(real), self._without_dropped(holdout) if holdout else holdout
            metadata = Metadata(tables={name: without_columns(table, self._dropped(name))
                                        for name, table in self.metadata.tables.items()})
            evaluate_options.setdefault("pii_columns", {
                name: [c for c, d in columns.items() if d["action"] in ("fake", "mask")]
                for name, columns in decided.items() if name in real})
        # Generated columns hold no training value: the figures comparing rows use the modelled ones only.
        evaluate_options.setdefault("generated_columns", {
            name: [c for c in columns if c in real[name].columns]
            for name, columns in self._generated_types().items() if name in real})
        # Reference tables are copied verbatim by design: all exact copies, no privacy figure.
        evaluate_options.setdefault("reference_tables", [n for n in self._engine.reference_tables if n in real])
        return ValidationReport().generate(
            real, dict(synthetic_data), output_path, metadata=metadata,
            include_samples=include_samples, holdout=holdout, target=target,
            seed=0 if seed is None else seed, differential_privacy=spent.to_dict() if spent is not None else None,
            **evaluate_options)

    def _without_dropped(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """``frames`` without the columns the privacy config drops (the synthetic tables have none of them)."""
        return {name: frame.drop(columns=[c for c in self._dropped(name) if c in frame.columns])
                for name, frame in frames.items()}

    def _dropped(self, table: str) -> list[str]:
        """The columns of ``table`` the privacy config drops."""
        return [c for c, d in self.privacy_report_.get(table, {}).items() if d["action"] == "drop"]

    def _next_seed(self, seed: int | None, verb: str) -> int:
        """The seed of this ``sample`` / ``sample_spark`` call (``None``: derived from the synthesizer's
        seed and the number of earlier calls), counting the call.

        Raises:
            GenerationError: ``seed`` is not a non-negative integer.
        """
        if seed is None:
            seed = child_seed(self.seed, "sample", self._sample_calls)
        try:
            seed = resolve_seed(seed)
        except ValueError as exc:
            raise GenerationError(f"Invalid {verb}() seed: {exc}.") from exc
        self._sample_calls += 1
        return seed

    def _check_sizes(self, num_rows: Mapping[str, int] | None, scale: float) -> dict[str, int]:
        """Checked ``num_rows`` plus the roots' sizes after a fit on a subset (``scale`` times the source's).

        Raises:
            GenerationError: Bad ``num_rows`` or ``scale``.
        """
        if not is_finite_number(scale) or not scale > 0:
            raise GenerationError(f"scale must be a positive finite number, got {scale!r}.")
        if num_rows is not None and not isinstance(num_rows, Mapping):
            raise GenerationError(f"num_rows must be a mapping {{table: rows}}, got {type(num_rows).__name__}.")
        sizes: dict[str, int] = {}
        for name, rows in (num_rows or {}).items():
            if name not in self.metadata.tables:
                raise GenerationError(f"num_rows names unknown table {name!r}; tables: "
                                      f"{sorted(self.metadata.tables)}.")
            if not is_int(rows) or rows < 0:
                raise GenerationError(f"num_rows[{name!r}] must be a non-negative integer, got {rows!r}.")
            sizes[name] = int(rows)
        for root, total in self.source_rows_.items():  # fitted on a subset: scale the source's size
            sizes.setdefault(root, int(round(scale * total)))
        return sizes

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fitted synthesizer to a directory, atomically.

        Args:
            path: Target directory.
            overwrite: Replace an existing directory at ``path`` (swapped in only once the new
                one is complete).

        Returns:
            The directory.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            ConfigurationError: ``path`` is not a path.
            SerializationError: ``path`` exists and ``overwrite`` is false, or writing failed (an
                existing directory is then left intact).
        """
        if not self._fitted:
            raise NotFittedError("Cannot save: this Synthesizer is not fitted. Call fit(data) first.")
        target = synthesizer_content(self).write(_as_path(path, "path"), overwrite=overwrite,
                                                 recognise=is_synthesizer_directory)
        _log.info("synthesizer_saved", path=str(target), tables=len(self.metadata.tables))
        return target

    @classmethod
    def load(cls, path: str | Path) -> "Synthesizer":
        """Restore a synthesizer written by :meth:`save`, ready to sample (no refit, no session).

        Warning:
            Model checkpoints contain pickles (see :mod:`syntho_hive.core.checkpoint`): load only
            trusted directories.

        Args:
            path: Directory written by :meth:`save`.

        Returns:
            A fitted synthesizer.

        Raises:
            ConfigurationError: ``path`` is not a path.
            SerializationError: Missing directory or file, or content of the wrong format.
        """
        directory = _as_path(path, "path")
        synth = read_synthesizer(cls, directory)
        _log.info("synthesizer_loaded", path=str(directory), tables=len(synth.metadata.tables))
        return synth

    def to_bytes(self) -> bytes:
        """The fitted synthesizer as one archive: exactly the files :meth:`save` writes, in memory (an
        uncompressed ZIP). :meth:`from_bytes` rebuilds it; no Python object of this process is pickled
        into it (model checkpoints hold their own files, as on disk).

        Raises:
            NotFittedError: Before ``fit``/``load``.
            SerializationError: A table's engine is not registered.
        """
        if not self._fitted:
            raise NotFittedError("Cannot serialise: this Synthesizer is not fitted. Call fit(data) first.")
        return synthesizer_content(self).to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Synthesizer":
        """Restore a synthesizer from :meth:`to_bytes`, with the checks of :meth:`load` (manifest, checksums,
        registered engines) and nothing written to disk. Its sampling counter starts at 0, as after ``load``.

        Warning:
            Model checkpoints contain pickles: load only trusted bytes.

        Raises:
            SerializationError: Not such an archive, or corrupt content.
        """
        from syntho_hive.core.checkpoint import CheckpointContent

        return read_synthesizer(cls, CheckpointContent.from_bytes(data))

    def sample_spark(self, num_rows: Mapping[str, int] | None = None, scale: float = 1.0, seed: int | None = None, *,
                     num_partitions: int, spark: Any = None, replicate_rows: int = 10_000,
                     chunk_rows: int | None = None) -> dict[str, Any]:
        """Generate every table inside Spark: ``{table: DataFrame}``, lazily computed on the executors.

        See :func:`syntho_hive.connectors.spark.generate.sample_spark` (this calls it with ``self``):
        the models travel once as a broadcast of :meth:`to_bytes`, each of ``num_partitions`` tasks
        generates its slice of every table with ``mapInArrow``, keys are unique across partitions and
        foreign keys have no orphans; no generated row comes back to the driver. The same ``seed`` and
        ``num_partitions`` give identical tables on any cluster.

        Args:
            num_rows: As in :meth:`sample`.
            scale: As in :meth:`sample`.
            seed: As in :meth:`sample` (``None``: derived from the synthesizer's seed and the number of
                earlier ``sample``/``sample_spark`` calls).
            num_partitions: Spark partitions (tasks) per table; part of what the tables depend on.
            spark: The SparkSession (``None``: the ``spark_session`` given to the constructor).
            replicate_rows: Root tables with at most this many rows are generated whole in every task
                (so their children can reference any of their rows) and written by partition 0 only.
            chunk_rows: Rows per generated chunk (``None``: 50 000).

        Returns:
            ``{table: pyspark.sql.DataFrame}`` in metadata order.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: Bad ``num_partitions``, ``num_rows``, ``scale``, ``seed`` or ``chunk_rows``.
            ConfigurationError: No SparkSession given here or to the constructor.
            MissingDependencyError: pyspark is not installed (``pip install 'synthohive[spark]'``).
        """
        from syntho_hive.connectors.spark.generate import sample_spark

        return sample_spark(self, spark if spark is not None else self.spark_session, num_rows=num_rows, scale=scale,
                            seed=seed, num_partitions=num_partitions, replicate_rows=replicate_rows,
                            chunk_rows=chunk_rows)

    def save_to_hive(self, tables: Mapping[str, Any], database: str, mode: Literal["error", "overwrite"] = "error", *,
                     partition_by: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Write Spark DataFrames (e.g. from :meth:`sample_spark`) as Hive tables of ``database``.

        See :func:`syntho_hive.connectors.spark.hive.save_to_hive`: identifiers are checked before any
        SQL; ``"overwrite"`` writes each table to a staging table and swaps it in, so a failure leaves
        the old tables; tables are written parents first.

        Args:
            tables: ``{table: pyspark.sql.DataFrame}``.
            database: The Hive database (created when missing).
            mode: ``"error"`` (a table that exists stops the call before anything is written) or
                ``"overwrite"``.
            partition_by: ``{table: [columns]}`` to partition tables by.

        Returns:
            What ``save_to_hive`` returns (the qualified table names written).

        Raises:
            SchemaError: A database, table or column name outside the allow-list.
            SerializationError: A table exists with ``mode="error"``, a view or an external table is in
                the way, or the write failed (old tables kept).
            MissingDependencyError: pyspark is not installed.
        """
        from syntho_hive.connectors.spark.hive import save_to_hive

        ordered = {name: tables[name] for name in self.graph.order if name in tables}
        ordered.update({name: frame for name, frame in tables.items() if name not in ordered})
        return save_to_hive(ordered, database, mode, partition_by=partition_by)
