"""The multi-table :class:`Synthesizer`: a whole schema in, a whole synthetic schema out.

Example:
    >>> synth = Synthesizer(metadata, seed=0, epochs=100)
    >>> synth.fit({"customers": customers, "orders": "orders.parquet"})
    >>> tables = synth.sample(scale=2.0)
    >>> synth.save("synth_dir")
    >>> Synthesizer.load("synth_dir").sample(num_rows={"customers": 500}, output_path="out/")

Saved directory::

    schema.json                   the Metadata
    synthesizer.json              format, version, seed, table directories
    tables/<nnn>_<table>/plan.json    key formats (and key legs numbered per parent), FK null
                                      rates, context columns and the children-per-parent /
                                      popularity models (plain JSON)
    tables/<nnn>_<table>/model/   the table's model checkpoint (core checkpoint format)
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from syntho_hive._random import child_seed, resolve_seed
from syntho_hive.core.checkpoint import write_directory_atomically
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.events import get_logger
from syntho_hive.exceptions import (
    GenerationError,
    NotFittedError,
    PrivacyError,
    SchemaError,
    SchemaValidationError,
    SerializationError,
    TrainingError,
)
from syntho_hive.interface.files import read_csv
from syntho_hive.interface.table_writer import write_table_chunks
from syntho_hive.relational.graph import SchemaGraph
from syntho_hive.relational.keys import drop_integrity_violations
from syntho_hive.relational.orchestrator import (
    Orchestrator,
    TablePlan,
    check_chunk_rows,
    class_path,
    import_model_class,
    model_accepts,
)

__all__ = ["Synthesizer"]

_log = get_logger(__name__)

_FORMAT = "syntho_hive.synthesizer/1"
_SCHEMA_FILE = "schema.json"
_STATE_FILE = "synthesizer.json"
_PLAN_FILE = "plan.json"
_MODEL_DIR = "model"
_READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

ModelSpec = type[ConditionalGenerativeModel] | Mapping[str, type[ConditionalGenerativeModel]]


def _check_model_class(value: Any, where: str) -> type[ConditionalGenerativeModel]:
    if not (isinstance(value, type) and issubclass(value, ConditionalGenerativeModel)):
        raise TypeError(f"{where} must be a ConditionalGenerativeModel subclass (e.g. TabularAR, CTGAN, TVAE), got "
                        f"{value!r}.")
    return value


def _read_table(name: str, source: Any) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise SchemaError(f"data[{name!r}] must be a pandas DataFrame or a CSV/Parquet path, got "
                          f"{type(source).__name__} (Spark tables come with the connectors).")
    path = Path(source)
    kind = "parquet" if path.is_dir() else _READERS.get(path.suffix.lower())
    if kind is None:
        raise SchemaError(f"data[{name!r}]: cannot tell the format of {str(path)!r}; use a .csv, .parquet "
                          "or .pq file (or a Parquet directory).")
    if not path.exists():
        raise SerializationError(f"data[{name!r}]: file {str(path)!r} does not exist.")
    try:
        return read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SerializationError(f"data[{name!r}]: cannot read {str(path)!r} as {kind}: {exc}") from exc


def _safe_name(index: int, table: str) -> str:
    return f"{index:03d}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', table)[:60]}"


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str), encoding="utf-8")


class Synthesizer:
    """Learns a whole relational schema and generates synthetic tables that join like the real ones.

    Args:
        metadata: The schema (tables, primary and foreign keys, context columns, constraints).
        privacy_config: Reserved for differential privacy; must be ``None`` for now.
        spark_session: Reserved for Spark connectors; stored, unused by pandas inputs.
        model: Model class for every table, or ``{table: class}`` (other tables use the default,
            :class:`~syntho_hive.core.models.tabular_ar.TabularAR`; pass ``CTGAN`` or ``TVAE`` to
            choose those). Any :class:`~syntho_hive.core.models.base.ConditionalGenerativeModel`
            subclass.
        seed: Master seed (``None``: a fresh one, kept in ``seed``); training and default
            sampling seeds derive from it, per table.
        **model_kwargs: Model constructor arguments (e.g. ``embedding_dim=64``); each goes to every
            table's model whose constructor takes it.

    Raises:
        TypeError: ``metadata`` is not a Metadata, ``model`` is not a model class (or mapping
            of them), or a model option is taken by none of the models.
        SchemaError: Malformed keys, a table in ``model`` that is not in the metadata, or a
            cycle of foreign keys (the message names the tables).
        PrivacyError: ``privacy_config`` is given (not supported yet).
    """

    def __init__(self, metadata: Metadata, privacy_config: Any = None, spark_session: Any = None,
                 model: ModelSpec = TabularAR, seed: int | None = None, **model_kwargs: Any) -> None:
        if not isinstance(metadata, Metadata):
            raise TypeError(f"metadata must be a syntho_hive Metadata, got {type(metadata).__name__}.")
        if privacy_config is not None:
            raise PrivacyError("privacy_config is not supported yet by Synthesizer; pass None (no "
                               "differential-privacy guarantee is given).")
        if not metadata.tables:
            raise SchemaError("The metadata has no tables; add them with Metadata.add_table(...).")
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
                raise TypeError(f"Unknown model option {option!r}: no model of this synthesizer "
                                f"({sorted({c.__name__ for c in models.values()})}) takes it.")
        self.metadata = metadata
        self.privacy_config = privacy_config
        self.spark_session = spark_session
        self.model = model
        self.models = models
        self.model_kwargs = dict(model_kwargs)
        self.seed = resolve_seed(seed)
        self.graph = SchemaGraph.from_metadata(metadata)
        self._engine = Orchestrator(metadata, models, self.model_kwargs, seed=self.seed)
        self._fitted = False
        self._sample_calls = 0
        self.integrity_report_: dict[str, int] = {}

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`sample` and :meth:`save` can run (after ``fit`` or ``load``)."""
        return self._fitted

    @property
    def fit_seconds_(self) -> dict[str, float]:
        """Seconds spent fitting each table (empty after ``load``)."""
        return dict(self._engine.fit_seconds_)

    # ------------------------------------------------------------------ fit
    def fit(self, data: Mapping[str, Any], epochs: int | None = None, batch_size: int | None = None,
            validate: bool = True, progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            on_integrity_error: Literal["raise", "drop"] = "raise", n_jobs: int | None = None) -> "Synthesizer":
        """Learn every table of the schema.

        Args:
            data: ``{table: DataFrame or CSV/Parquet path}`` for every table of the metadata.
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

        Returns:
            ``self``.

        Raises:
            SchemaValidationError: ``validate`` found problems (every one listed) that
                ``on_integrity_error="drop"`` does not remove.
            SchemaError: Unknown or missing tables, unreadable input type.
            SerializationError: A path does not exist or cannot be read.
            TrainingError: Bad ``on_integrity_error`` or ``n_jobs``, or a model failed to train.
        """
        if on_integrity_error not in ("raise", "drop"):
            raise TrainingError(f"on_integrity_error must be 'raise' or 'drop', got {on_integrity_error!r}.")
        if not isinstance(data, Mapping):
            raise SchemaError(f"fit() expects {{table: DataFrame or path}}, got {type(data).__name__}.")
        unknown = sorted(set(data) - set(self.metadata.tables))
        missing = sorted(set(self.metadata.tables) - set(data))
        if unknown or missing:
            raise SchemaError(f"fit() data must hold exactly the metadata's tables; unknown: {unknown}, "
                              f"missing: {missing}.")
        frames = {name: _read_table(name, source) for name, source in data.items()}
        if on_integrity_error == "drop":
            frames = self._drop_dirty(frames, validate)
        elif validate:
            self.metadata.validate_schema(frames)
        self._engine.fit(frames, epochs=epochs, batch_size=batch_size, progress_bar=progress_bar,
                         checkpoint_dir=checkpoint_dir, n_jobs=n_jobs)
        self._fitted = True
        self._sample_calls = 0
        return self

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
               progress_bar: bool = False, chunk_rows: int | None = None) -> dict[str, Any]:
        """Generate every table, parents first, with valid keys.

        Args:
            num_rows: Rows per table, e.g. ``{"users": 1000}``. Root tables not named get
                ``scale`` times their real size; child tables not named get the size implied by
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

        Returns:
            ``{table: DataFrame}``, or ``{table: Path}`` with ``output_path``.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: Bad ``num_rows``/``scale``/``seed``/``output_format``/``chunk_rows``.
            SerializationError: An output file cannot be written.
        """
        if not self._fitted:
            raise NotFittedError("Cannot sample: this Synthesizer is not fitted. Call fit(data) or "
                                 "Synthesizer.load(path) first.")
        sizes = self._check_sizes(num_rows, scale)
        if output_format not in ("parquet", "csv"):
            raise GenerationError(f"output_format must be 'parquet' or 'csv', got {output_format!r}.")
        if chunk_rows is not None:
            check_chunk_rows(chunk_rows)
        if seed is None:
            seed = child_seed(self.seed, "sample", self._sample_calls)
        try:
            seed = resolve_seed(seed)
        except ValueError as exc:
            raise GenerationError(f"Invalid sample() seed: {exc}.") from exc
        self._sample_calls += 1
        sink = None
        if output_path is not None:
            directory = Path(output_path)
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SerializationError(f"Cannot create output directory {str(directory)!r}: {exc}") from exc

            def sink(name: str, chunks: Iterator[pd.DataFrame]) -> Path:
                return write_table_chunks(chunks, directory / f"{name}.{output_format}", output_format)

        return self._engine.generate(num_rows=sizes, scale=scale, seed=seed, sink=sink,
                                     progress_bar=progress_bar, chunk_rows=chunk_rows)

    # ------------------------------------------------------------------ report
    def generate_validation_report(self, real_data: Mapping[str, Any], output_path: str | Path,
                                   synthetic_data: Mapping[str, pd.DataFrame] | None = None, *,
                                   seed: int | None = None, include_samples: bool = False,
                                   holdout: Mapping[str, pd.DataFrame] | None = None,
                                   target: str | Mapping[str, str] | None = None,
                                   **evaluate_options: Any) -> Path:
        """Write the self-contained HTML quality report (and its JSON twin) for this schema.

        Args:
            real_data: ``{table: DataFrame or CSV/Parquet path}``, the real tables to compare with.
            output_path: HTML file to write; the JSON goes beside it with suffix ``.json``.
            synthetic_data: Synthetic tables to judge; ``None`` samples them now (same sizes as
                ``real_data``'s root tables, with ``seed``).
            seed: Sampling and evaluation seed.
            include_samples: Include a few raw rows per table (off: the report can be shared).
            holdout: Real rows the synthesizer did not see (DCR share, efficacy test set).
            target: ML-efficacy target column, or ``{table: column}``.
            **evaluate_options: Passed to :func:`syntho_hive.validation.evaluate`.

        Returns:
            The path of the HTML file.

        Raises:
            NotFittedError: ``synthetic_data`` is not given and the synthesizer is not fitted.
            SchemaError: The tables do not match the metadata.
            SerializationError: A file cannot be written.
        """
        from syntho_hive.validation import ValidationReport

        real = {name: _read_table(name, source) for name, source in real_data.items()}
        if synthetic_data is None:  # root tables as large as the real ones given; children follow
            roots = SchemaGraph.from_metadata(self.metadata).roots()
            synthetic_data = self.sample(num_rows={name: len(real[name]) for name in roots if name in real},
                                         seed=seed)
        return ValidationReport().generate(
            real, dict(synthetic_data), output_path, metadata=self.metadata,
            include_samples=include_samples, holdout=holdout, target=target,
            seed=0 if seed is None else seed, **evaluate_options)

    def _check_sizes(self, num_rows: Mapping[str, int] | None, scale: float) -> dict[str, int]:
        if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)) \
                or not 0 < scale < math.inf:
            raise GenerationError(f"scale must be a positive finite number, got {scale!r}.")
        if num_rows is None:
            return {}
        if not isinstance(num_rows, Mapping):
            raise GenerationError(f"num_rows must be a mapping {{table: rows}}, got {type(num_rows).__name__}.")
        sizes: dict[str, int] = {}
        for name, rows in num_rows.items():
            if name not in self.metadata.tables:
                raise GenerationError(f"num_rows names unknown table {name!r}; tables: "
                                      f"{sorted(self.metadata.tables)}.")
            if isinstance(rows, (bool, np.bool_)) or not isinstance(rows, (int, np.integer)) or rows < 0:
                raise GenerationError(f"num_rows[{name!r}] must be a non-negative integer, got {rows!r}.")
            sizes[name] = int(rows)
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
            SerializationError: ``path`` exists and ``overwrite`` is false, or writing failed (an
                existing directory is then left intact).
        """
        if not self._fitted:
            raise NotFittedError("Cannot save: this Synthesizer is not fitted. Call fit(data) first.")
        def fill(directory: Path) -> dict[str, Any]:
            self._write(directory)
            return {}

        target, _ = write_directory_atomically(path, fill, overwrite=overwrite, marker=_STATE_FILE)
        _log.info("synthesizer_saved", path=str(target), tables=len(self.metadata.tables))
        return target

    def _write(self, directory: Path) -> None:
        try:
            self.metadata.to_json(directory / _SCHEMA_FILE)
            tables: dict[str, str] = {}
            for index, name in enumerate(self.graph.order):
                folder = directory / "tables" / _safe_name(index, name)
                folder.mkdir(parents=True)
                tables[name] = folder.relative_to(directory).as_posix()
                _write_json(folder / _PLAN_FILE, self._engine.plans_[name].to_dict())
                model = self._engine.fitted_models_.get(name)
                if model is not None:
                    model.save(folder / _MODEL_DIR)
            state = {"format": _FORMAT, "seed": self.seed, "tables": tables,
                     "models": {t: class_path(c) for t, c in self.models.items()},
                     "model_kwargs": self.model_kwargs}
            from syntho_hive._version import __version__

            state["version"] = str(__version__)
            _write_json(directory / _STATE_FILE, state)
        except OSError as exc:
            raise SerializationError(f"Cannot write synthesizer files in {str(directory)!r}: {exc}") from exc

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
            SerializationError: Missing directory or file, or content of the wrong format.
        """
        directory = Path(path)
        state_file = directory / _STATE_FILE
        if not state_file.is_file():
            raise SerializationError(f"{str(directory)!r} is not a saved Synthesizer (no {_STATE_FILE}).")
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SerializationError(f"Cannot read {str(state_file)!r}: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise SerializationError(f"{str(state_file)!r} is not a {_FORMAT} file; save the synthesizer again.")
        try:
            metadata = Metadata.load(directory / _SCHEMA_FILE)
        except SchemaError as exc:
            raise SerializationError(f"Saved synthesizer {str(directory)!r}: {exc}") from exc
        models = {t: import_model_class(p) for t, p in state.get("models", {}).items()}
        kwargs = state.get("model_kwargs") or {}
        synth = cls(metadata, model=models or TabularAR, seed=int(state["seed"]), **kwargs)
        engine = synth._engine
        for name in synth.graph.order:
            folder = directory / state["tables"].get(name, "")
            plan_file = folder / _PLAN_FILE
            try:
                plan = TablePlan.from_dict(json.loads(plan_file.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise SerializationError(f"Cannot read {str(plan_file)!r}: {exc}") from exc
            engine.plans_[name] = plan
            if plan.model_class is not None:
                model_cls = import_model_class(plan.model_class)
                try:
                    model = model_cls()
                except TypeError as exc:
                    raise SerializationError(f"Cannot create {plan.model_class} without arguments to load "
                                             f"table {name!r}: {exc}") from exc
                engine.fitted_models_[name] = model.load(folder / _MODEL_DIR)
        synth._fitted = True
        _log.info("synthesizer_loaded", path=str(directory), tables=len(metadata.tables))
        return synth
