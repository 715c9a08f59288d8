"""TabularAR: an any-order autoregressive model of a table's discrete sub-columns.

Pipeline::

    fit:    data -> ConstraintEngine (when the table declares constraints) -> TableCodec
            (analyze -> reduce -> build; every column -> discrete sub-columns) -> tokens
            -> ARNetwork trained with random orders, early stopping on validation loss
    sample: conditions -> known / restricted tokens -> sub-column-by-sub-column sampling
            -> TableCodec.decode -> ConstraintEngine.reverse_transform -> rows

Checkpoints hold no pickles: weights as a state dict (``torch.load(weights_only=True)``),
codecs, hyper-parameters and (only for tables with constraints) what the constraint engine learned
as JSON (:meth:`ConstraintEngine.to_dict`: kinds, steps, dtypes, bounds, the seen fixed
combinations; no training rows).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from syntho_hive._random import child_seed, numpy_generator, torch_generator
from syntho_hive.core.checkpoint import (
    CheckpointFiles,
    read_json,
    read_state_dict,
    verify_checkpoint,
    write_directory_atomically,
    write_json,
    write_manifest,
)
from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.metadata.schema import Metadata, TableConfig
from syntho_hive.core.models._validation import FINAL_CHECKPOINT, EpochCheckpoints
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.core.models.tabular_ar.encoders import CodecConfig, TableCodec
from syntho_hive.core.quality import (
    MarginalProfile,
    SampleQuality,
    apply_quality_gate,
    check_gate_arguments,
    profile_sdtypes,
)
from syntho_hive.core.quality.gates import score_sample
from syntho_hive.core.models.tabular_ar.network import ARNetwork
from syntho_hive.core.models.tabular_ar.sampling import generate_tokens
from syntho_hive.core.models.tabular_ar.training import TrainingConfig, train_network
from syntho_hive.events import get_logger
from syntho_hive.exceptions import (
    ConstraintViolationError,
    GenerationError,
    SerializationError,
    TrainingError,
)

__all__ = ["TabularAR"]

_log = get_logger(__name__)

_HYPER_PARAMETERS = ("hidden_dim", "n_layers", "dropout", "learning_rate", "weight_decay", "batch_size",
                     "epochs", "patience", "validation_fraction", "max_training_time", "fixed_order_share",
                     "rare_threshold", "rare_strategy", "max_bins", "tail_quantile")
_WEIGHTS = "weights.pt"
_STATE = "model.json"
_PROFILE = CheckpointFiles.REFERENCE_PROFILE
_MAX_ROUNDS = 10
#: Columns of ``training_metrics.csv``.
_METRICS_FIELDS = ("epoch", "train_loss", "val_loss", "val_score", "lr", "seconds")
#: Redraws of imputed rows that contradict their observed cells (only those rows are redrawn; a row
#: whose observed ``high`` sits low in its range accepts few draws of ``low``).
_MAX_IMPUTE_ROUNDS = 50
_VALIDATION_SAMPLE_ROWS = 5_000
"""Rows generated per epoch to score column shapes when ``fit(checkpoint_dir=...)``."""


def _declares_constraints(table: TableConfig | None) -> bool:
    """Whether ``table`` declares constraints (then the model keeps a constraint engine)."""
    return table is not None and bool(table.constraints or table.inequalities or table.fixed_combinations)


class TabularAR(ConditionalGenerativeModel):
    """Any-order autoregressive tabular model (TabularARGN-style), CPU.

    Args:
        metadata: Schema (the table is chosen by ``fit(table_name=...)`` or is the only one);
            ``None`` detects it at ``fit``.
        hidden_dim: Width of embeddings and hidden layers.
        n_layers: Per-target residual blocks.
        dropout: Dropout rate while training.
        learning_rate: Initial AdamW learning rate (halved on validation plateaus); ``None``:
            5e-4, scaled up with the automatic batch size on small tables (1e-3 up to about
            10,000 rows; see :func:`~syntho_hive.core.models.tabular_ar.training.auto_learning_rate`).
        weight_decay: AdamW weight decay.
        batch_size: Rows per step (``None``: about a tenth of the rows, 32 to 1024).
        epochs: Most epochs (training stops earlier on a validation plateau); named like
            CTGAN's so ``Synthesizer.fit(epochs=...)`` reaches it.
        patience: Epochs without validation improvement before stopping.
        validation_fraction: Share of rows held out for early stopping.
        max_training_time: Training budget in seconds (``None``: unbounded).
        fixed_order_share: Share of training rows in the canonical order (generation order).
        rare_threshold: Values seen fewer times are never reproduced verbatim.
        rare_strategy: Rare categories decode to a frequent one (``"sample"``) or to
            ``"_RARE_"`` (``"placeholder"``).
        max_bins: Most value tokens per numerical column.
        tail_quantile: Share of interval-coded numeric mass cut at each end.

    Example:
        >>> model = TabularAR(max_training_time=60).fit(df, seed=0)
        >>> model.sample(1000, seed=1, conditions={"sex": "Female"})
    """

    def __init__(self, metadata: Metadata | None = None, *, hidden_dim: int = 64, n_layers: int = 1,
                 dropout: float = 0.0, learning_rate: float | None = None, weight_decay: float = 1e-5,
                 batch_size: int | None = None, epochs: int = 100, patience: int = 4,
                 validation_fraction: float = 0.1, max_training_time: float | None = None,
                 fixed_order_share: float = 0.8, rare_threshold: int = 5, rare_strategy: str = "sample",
                 max_bins: int = 100, tail_quantile: float = 0.001) -> None:
        self.metadata = metadata
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.max_training_time = max_training_time
        self.fixed_order_share = fixed_order_share
        self.rare_threshold = rare_threshold
        self.rare_strategy = rare_strategy
        self.max_bins = max_bins
        self.tail_quantile = tail_quantile
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.table_: TableConfig | None = None
        self.constraint_engine_: ConstraintEngine | None = None
        self.codec_: TableCodec | None = None
        self.context_codec_: TableCodec | None = None
        self.columns_: list[str] = []
        self.context_columns_: list[str] = []
        self.network_: ARNetwork | None = None
        self.history_: list[dict[str, Any]] = []
        self.seed_: int | None = None
        self.reference_profile_: MarginalProfile | None = None
        self._fitted = False

    @property
    def is_fitted(self) -> bool:
        """Whether the model can sample (fitted or loaded)."""
        return self._fitted

    def hyper_parameters(self) -> dict[str, Any]:
        """The constructor parameters that define training, the codecs and the network."""
        return {name: getattr(self, name) for name in _HYPER_PARAMETERS}

    def _codec_config(self) -> CodecConfig:
        return CodecConfig(rare_threshold=self.rare_threshold, rare_strategy=self.rare_strategy,
                           max_bins=self.max_bins, tail_quantile=self.tail_quantile)

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(learning_rate=self.learning_rate, weight_decay=self.weight_decay,
                              batch_size=self.batch_size, max_epochs=self.epochs, patience=self.patience,
                              validation_fraction=self.validation_fraction,
                              max_training_time=self.max_training_time, fixed_order_share=self.fixed_order_share,
                              dropout=self.dropout)

    def _check_parameters(self) -> None:
        problems: list[str] = []
        for name in ("hidden_dim", "n_layers", "epochs", "patience", "rare_threshold", "max_bins"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or not isinstance(
                self.batch_size, (int, np.integer)) or self.batch_size < 1):
            problems.append(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        for name, low, high in (("dropout", 0.0, 0.99), ("validation_fraction", 0.0, 0.9),
                                ("fixed_order_share", 0.0, 1.0), ("tail_quantile", 0.0, 0.49)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not low <= value <= high:
                problems.append(f"{name} must be a number in [{low}, {high}], got {value!r}")
        for name in ("learning_rate", "weight_decay"):
            if name == "learning_rate" and self.learning_rate is None:
                continue
            if not isinstance(getattr(self, name), (int, float)) or getattr(self, name) < 0:
                problems.append(f"{name} must be a non-negative number, got {getattr(self, name)!r}")
        if self.max_training_time is not None and (not isinstance(self.max_training_time, (int, float))
                                                   or self.max_training_time <= 0):
            problems.append(f"max_training_time must be a positive number or None, got {self.max_training_time!r}")
        if self.rare_strategy not in ("sample", "placeholder"):
            problems.append(f"rare_strategy must be 'sample' or 'placeholder', got {self.rare_strategy!r}")
        if problems:
            raise TrainingError("Invalid TabularAR parameters: " + "; ".join(problems) + ".")

    def fit(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *, table_name: str | None = None,
            seed: int | None = None, progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            **kwargs: Any) -> "TabularAR":
        """Learn the distribution of ``data``.

        Args:
            data: Training rows.
            context: Parent-context rows aligned with ``data`` (same length).
            table_name: Table of ``metadata`` describing ``data`` (default: the only table).
            seed: Seed for every random choice (``None``: a fresh one, kept in ``seed_``).
            progress_bar: Show a tqdm bar over epochs.
            checkpoint_dir: When given, each epoch's sample is scored on column shapes against
                the training marginals and the best epoch (by that score, not the loss) is kept in
                ``checkpoint_dir/best_checkpoint``; the fitted model goes to
                ``checkpoint_dir/final_checkpoint`` and the per-epoch losses and scores to
                ``checkpoint_dir/training_metrics.csv``.

        Returns:
            ``self``.

        Raises:
            TrainingError: Invalid parameters, empty data, misaligned context, unusable column,
                or a diverging loss.
            SchemaError: The metadata does not describe ``data``.
            ConstraintViolationError: ``data`` violates a declared constraint.
        """
        seed = self._begin_fit(data, context, kwargs, seed)
        self._reset_state()
        table = self._resolve_table(data, table_name)
        frame = self._fit_constraints(table, data)
        sdtypes = self._sdtypes(table, frame)
        config = self._codec_config()
        formats = {c: f for c, f in table.datetime_formats.items() if c in frame.columns}
        codec = TableCodec.fit(frame, sdtypes, config=config, datetime_formats=formats)
        codes = codec.encode(frame)
        ctx_codes = None
        if context is not None:
            ctx = context.reset_index(drop=True)
            self.context_columns_ = [str(c) for c in ctx.columns]
            self.context_codec_ = TableCodec.fit(ctx.set_axis(self.context_columns_, axis=1), config=config)
            ctx_codes = self.context_codec_.encode(ctx.set_axis(self.context_columns_, axis=1))
        self.table_ = table
        self.codec_ = codec
        self.columns_ = [str(c) for c in data.columns]
        self.seed_ = seed
        self.reference_profile_ = MarginalProfile.from_frame(data, profile_sdtypes(data, table, codec.sdtypes))
        on_epoch_end = (self._best_checkpointer(Path(checkpoint_dir), ctx_codes, seed)
                        if checkpoint_dir is not None else None)
        if codec.sub_columns:
            self.network_ = self._build_network(torch_generator(child_seed(seed, "init")))
            self.history_ = train_network(self.network_, codes, ctx_codes, self._training_config(), seed=seed,
                                          progress_bar=progress_bar, on_epoch_end=on_epoch_end)
        self._fitted = True
        if checkpoint_dir is not None:
            self.save(Path(checkpoint_dir) / FINAL_CHECKPOINT, overwrite=True)
        return self

    def _fit_constraints(self, table: TableConfig, data: pd.DataFrame) -> pd.DataFrame:
        if not _declares_constraints(table):
            return data.reset_index(drop=True)
        # Raises on violations, with counts over all rows; keeps only what it learned (to_dict).
        self.constraint_engine_ = ConstraintEngine(table).fit(data)
        return self.constraint_engine_.transform(data.reset_index(drop=True))

    def _sdtypes(self, table: TableConfig, frame: pd.DataFrame) -> dict[str, str]:
        sdtypes: dict[str, str] = {c: t for c, t in table.columns.items() if c in frame.columns}
        if self.constraint_engine_ is not None:
            sdtypes.update(self.constraint_engine_.derived_sdtypes)
        sdtypes.update({c: "id" for c in table.key_columns if c in frame.columns})
        return sdtypes

    def _build_network(self, generator: torch.Generator | None) -> ARNetwork:
        ctx_cards = self.context_codec_.cardinalities if self.context_codec_ is not None else []
        return ARNetwork(self.codec_.cardinalities, ctx_cards, hidden_dim=self.hidden_dim, n_layers=self.n_layers,
                         generator=generator)

    def _best_checkpointer(self, directory: Path, ctx_codes: np.ndarray | None,
                           seed: int) -> Callable[[dict[str, Any]], None]:
        """Per-epoch callback of ``fit(checkpoint_dir=...)`` (:class:`EpochCheckpoints`): score a
        sample's column shapes against the training marginals (:mod:`syntho_hive.core.quality`, not
        the loss), keep ``best_checkpoint/`` and append the epoch to ``training_metrics.csv``.

        Raises:
            TrainingError: ``directory`` cannot be written.
        """
        rows = min(_VALIDATION_SAMPLE_ROWS, len(ctx_codes) if ctx_codes is not None else _VALIDATION_SAMPLE_ROWS)
        ctx = torch.as_tensor(ctx_codes[:rows], dtype=torch.long) if ctx_codes is not None else None
        records: list[dict[str, Any]] = []

        def score(epoch: int) -> float:
            epoch_seed = child_seed(seed, "validation_sample", epoch)
            frame = self._generate(rows, ctx, {}, {}, {}, torch_generator(epoch_seed), numpy_generator(epoch_seed), 1.0)
            return score_sample(frame, self.reference_profile_).overall

        def save(path: Path) -> None:
            self._fitted = True  # save() needs a sampling-ready model; fit() sets it again at the end
            self.history_ = list(records)  # the epochs so far go into the best checkpoint
            try:
                self.save(path, overwrite=True)
            finally:
                self._fitted = False

        keeper = EpochCheckpoints(directory, _METRICS_FIELDS, epochs=self.epochs, every=1, score=score, save=save)

        def after_epoch(record: dict[str, Any]) -> None:
            records.append(record)
            keeper.score(record)
            keeper.write(record)

        return after_epoch

    # ------------------------------------------------------------------ sampling
    def sample(self, num_rows: int, context: pd.DataFrame | None = None, *, seed: int | None = None,
               conditions: Mapping[str, Any] | None = None, enforce_constraints: bool = False,
               temperature: float = 1.0, progress_bar: bool = False, return_metrics: bool = False,
               quality_threshold: float | None = None,
               **kwargs: Any) -> pd.DataFrame | tuple[pd.DataFrame, SampleQuality]:
        """Generate ``num_rows`` synthetic rows.

        Every call scores each generated column against the training marginals kept at ``fit``
        and logs them as a ``sample_quality`` event (see :mod:`syntho_hive.core.quality`).

        Args:
            num_rows: Number of rows (positive).
            context: Parent-context rows, exactly ``num_rows`` (required, and only allowed, when
                fitted with context); row ``i`` is generated for context row ``i``.
            seed: Seed (``None``: a fresh one); the same seed gives the same rows.
            conditions: ``{column: value}``: every row has these values (the conditioned
                sub-columns are fixed first, the rest sampled given them).
            enforce_constraints: Raise :class:`ConstraintViolationError` when rows satisfying
                every declared constraint cannot be produced (otherwise failing rows are
                resampled a few times and the rest kept).
            temperature: Softmax temperature (``1.0``: the learned distribution).
            progress_bar: Accepted for interface compatibility (sampling is fast).
            return_metrics: Return ``(data, metrics)`` with a
                :class:`~syntho_hive.core.quality.SampleQuality`.
            quality_threshold: Raise :class:`QualityError` (nothing is returned) when any column's
                shape score is below this value, e.g. ``0.85``.

        Returns:
            A DataFrame with the training columns, in order, with a fresh ``RangeIndex``; with
            ``return_metrics``, the tuple ``(data, metrics)``.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: ``num_rows <= 0``, bad temperature or context, unknown condition
                column or value.
            ConstraintViolationError: With ``enforce_constraints`` when constraints cannot be met.
            QualityError: A column scored below ``quality_threshold`` (``failures``: ``{column: score}``).
        """
        num_rows = self._begin_sample(num_rows, kwargs)
        seed = self._check_generation_arguments(seed, temperature, "sample")
        check_gate_arguments(return_metrics, quality_threshold, self.reference_profile_, model=type(self).__name__)
        started = time.perf_counter()
        ctx_codes = self._context_codes(num_rows, context)
        known, allowed, overrides = self._resolve_conditions(conditions)
        generator = torch_generator(child_seed(seed, "sample", "torch"))
        rng = numpy_generator(child_seed(seed, "sample", "numpy"))
        frame = self._generate(num_rows, ctx_codes, known, allowed, overrides, generator, rng, temperature)
        if self.constraint_engine_ is not None:
            for _ in range(_MAX_ROUNDS):
                bad = ~np.asarray(self.constraint_engine_.is_valid(frame), dtype=bool)
                if not bad.any():
                    break
                rows = np.flatnonzero(bad)
                sub_ctx = ctx_codes[torch.as_tensor(rows)] if ctx_codes is not None else None
                redo = self._generate(len(rows), sub_ctx, known, allowed, overrides, generator, rng, temperature)
                for column in frame.columns:
                    frame.loc[rows, column] = redo[column].to_numpy()
            bad = ~np.asarray(self.constraint_engine_.is_valid(frame), dtype=bool)
            if bad.any() and enforce_constraints:
                raise ConstraintViolationError(
                    f"Could not generate {num_rows} rows of table {self.table_.name!r} satisfying its constraints "
                    f"after {_MAX_ROUNDS} rounds ({int(bad.sum())} rows still violate them). Train longer or "
                    "check that the constraints match the data.", count=int(bad.sum()))
            for codec in self.codec_.codecs:  # ids stay unique across resampling rounds
                if codec.kind == "id" and codec.column in frame.columns:
                    frame[codec.column] = codec.decode(np.zeros((num_rows, 0), dtype=np.int64), rng).to_numpy()
        _log.info("sampling_complete", model=type(self).__name__, rows=num_rows,
                  seconds=round(time.perf_counter() - started, 3))
        return apply_quality_gate(frame, self.reference_profile_, return_metrics=bool(return_metrics),
                                  quality_threshold=quality_threshold, model=type(self).__name__,
                                  table=self.table_.name if self.table_ is not None else None)

    def _generate(self, rows: int, ctx_codes: torch.Tensor | None, known: dict[int, int],
                  allowed: dict[int, torch.Tensor], overrides: dict[str, Any], generator: torch.Generator,
                  rng: np.random.Generator, temperature: float) -> pd.DataFrame:
        n_sub = len(self.codec_.sub_columns)
        if n_sub:
            known_codes = known_mask = None
            if known:
                known_codes = torch.zeros((rows, n_sub), dtype=torch.long)
                known_mask = torch.zeros((rows, n_sub), dtype=torch.bool)
                for t, token in known.items():
                    known_codes[:, t] = token
                    known_mask[:, t] = True
            tokens = generate_tokens(self.network_, rows, generator, context_codes=ctx_codes,
                                     known_codes=known_codes, known_mask=known_mask, allowed=allowed,
                                     temperature=temperature, masker=self.codec_.token_masker()).numpy()
        else:
            tokens = np.zeros((rows, 0), dtype=np.int64)
        frame = self.codec_.decode(tokens, rng)
        if self.constraint_engine_ is not None:
            frame = self.constraint_engine_.reverse_transform(frame)
        for column, value in overrides.items():
            frame[column] = pd.Series([value] * rows, dtype=object).astype(frame[column].dtype)
        return frame[self.columns_].reset_index(drop=True)

    def _context_codes(self, num_rows: int, context: pd.DataFrame | None) -> torch.Tensor | None:
        self._validate_sample_context(num_rows, context, fitted_with_context=self.context_codec_ is not None)
        if context is None:
            return None
        codes = self.context_codec_.encode(context[self.context_columns_].reset_index(drop=True))
        return torch.as_tensor(codes, dtype=torch.long)

    def _resolve_conditions(self, conditions: Mapping[str, Any] | None
                            ) -> tuple[dict[int, int], dict[int, torch.Tensor], dict[str, Any]]:
        """``{sub_column: token}`` fixed, ``{sub_column: allowed mask}`` restricted, exact overrides."""
        known: dict[int, int] = {}
        allowed: dict[int, torch.Tensor] = {}
        overrides: dict[str, Any] = {}
        if not conditions:
            return known, allowed, overrides
        if not isinstance(conditions, Mapping):
            raise GenerationError(f"conditions must be a mapping {{column: value}}, got {type(conditions).__name__}.")
        codec = self.codec_
        for column, value in conditions.items():
            if column in codec.columns:
                column_codec = codec.codec(column)
                start = codec.slices[column].start
                for offset, tokens in enumerate(column_codec.allowed_tokens(value)):
                    if len(tokens) == 1:
                        known[start + offset] = int(tokens[0])
                    else:
                        mask = torch.zeros(codec.sub_columns[start + offset].cardinality, dtype=torch.bool)
                        mask[torch.as_tensor(tokens)] = True
                        allowed[start + offset] = mask
                if column_codec.kind == "numerical":
                    overrides[column] = value
                continue
            joint = self.constraint_engine_.joint_column_of(column) if self.constraint_engine_ else None
            if joint is not None and joint in codec.columns:
                labels = self.constraint_engine_.joint_labels_for(column, value)
                if not labels:
                    raise GenerationError(f"Unknown value {value!r} for condition column {column!r}: it never "
                                          "occurs in the training data.")
                index = codec.slices[joint].start
                tokens = sorted({int(t) for label in labels for t in codec.codec(joint).allowed_tokens(label)[0]})
                mask = allowed.get(index, torch.ones(codec.sub_columns[index].cardinality, dtype=torch.bool))
                restricted = torch.zeros_like(mask)
                restricted[torch.as_tensor(tokens)] = True
                allowed[index] = mask & restricted
                if not bool(allowed[index].any()):
                    raise GenerationError(f"Conditions {dict(conditions)} are incompatible: no allowed combination "
                                          f"of {joint!r} satisfies all of them.")
                continue
            if column in self.columns_:
                raise GenerationError(f"Cannot condition on column {column!r}: it is derived by a declared "
                                      "inequality constraint; condition on the columns it depends on.")
            raise GenerationError(f"Unknown condition column {column!r}; columns: {self.columns_}.")
        return known, allowed, overrides

    # ------------------------------------------------------------------ imputation
    @staticmethod
    def _check_generation_arguments(seed: int | None, temperature: Any, what: str) -> int:
        """The resolved seed; :class:`GenerationError` for a bad seed or temperature."""
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
                or not 0 < temperature < math.inf:
            raise GenerationError(f"temperature must be a positive finite number, got {temperature!r}.")
        return ConditionalGenerativeModel._resolved_seed(seed, what, GenerationError)

    def impute(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *, seed: int | None = None,
               temperature: float = 1.0) -> pd.DataFrame:
        """Fill the missing cells of ``data`` given its observed cells.

        Observed cells are fixed first; missing ones are sampled (never as "missing") given
        them. Id columns are left as they are.

        Args:
            data: Rows with the training columns (missing cells as NaN/None/NA).
            context: Parent-context rows aligned with ``data`` (models fitted with context).
            seed: Seed (``None``: a fresh one).
            temperature: Softmax temperature.

        Returns:
            A copy of ``data`` (same index) with the missing cells filled.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: Missing columns, bad context, or observed values the model cannot
                represent.
        """
        self._require_fitted("impute")
        seed = self._check_generation_arguments(seed, temperature, "impute")
        if not isinstance(data, pd.DataFrame):
            raise GenerationError(f"impute() expects a pandas DataFrame, got {type(data).__name__}.")
        missing = [c for c in self.columns_ if c not in data.columns]
        if missing:
            raise GenerationError(f"impute() data is missing column(s) {missing}; pass every training column.")
        rows = len(data)
        original = data[self.columns_].reset_index(drop=True)
        if rows == 0 or self.network_ is None:  # nothing modelled: only id columns, left as they are
            return data.copy()
        ctx_codes = self._context_codes(rows, context)
        frame = original
        if self.constraint_engine_ is not None:
            # A fixed-combination group with a missing member is imputed as a whole: stand a seen
            # combination in for it so the engine accepts the row, then blank the joint column.
            holed = original.copy()
            partial: dict[str, np.ndarray] = {}
            for group in self.table_.fixed_combinations:
                missing = original[group.columns].isna().any(axis=1).to_numpy()
                if missing.any():
                    seen = self.constraint_engine_.combinations(group.columns[0]).iloc[0]
                    for member in group.columns:
                        holed.loc[missing, member] = seen[member]
                    partial[self.constraint_engine_.joint_column_of(group.columns[0])] = missing
            frame = self.constraint_engine_.transform(holed)
            for joint, missing in partial.items():
                frame[joint] = frame[joint].where(~missing)
        codec = self.codec_
        n_sub = len(codec.sub_columns)
        known_codes = torch.zeros((rows, n_sub), dtype=torch.long)
        known_mask = torch.zeros((rows, n_sub), dtype=torch.bool)
        excluded: dict[int, int] = {}
        for column_codec in codec.codecs:
            span = codec.slices[column_codec.column]
            if span.stop == span.start:
                continue
            series = frame[column_codec.column]
            present = series.notna().to_numpy()
            if present.any():
                encoded = column_codec.encode(series[present].reset_index(drop=True))
                known_codes[torch.as_tensor(np.flatnonzero(present)), span.start:span.stop] = torch.as_tensor(encoded)
                known_mask[torch.from_numpy(present.copy()), span.start:span.stop] = True
            null_token = codec.sub_columns[span.start].null_token
            if null_token is not None:
                excluded[span.start] = null_token
        generator = torch_generator(child_seed(seed, "impute", "torch"))
        rng = numpy_generator(child_seed(seed, "impute", "numpy"))
        tokens = generate_tokens(self.network_, rows, generator, context_codes=ctx_codes, known_codes=known_codes,
                                 known_mask=known_mask, excluded=excluded, temperature=temperature,
                                 masker=self.codec_.token_masker()).numpy()
        decoded = self._decode_imputed(tokens, frame, rng)
        if self.constraint_engine_ is not None:
            for _ in range(_MAX_IMPUTE_ROUNDS):  # redraw rows contradicting a known member or a constraint
                clash = self._contradicts_known_members(original, decoded)
                if not clash.any():
                    break
                redo = torch.from_numpy(np.flatnonzero(clash))
                again = generate_tokens(self.network_, len(redo), generator,
                                        context_codes=ctx_codes[redo] if ctx_codes is not None else None,
                                        known_codes=known_codes[redo], known_mask=known_mask[redo],
                                        excluded=excluded, temperature=temperature,
                                        masker=self.codec_.token_masker()).numpy()
                fresh = self._decode_imputed(again, frame.iloc[redo.numpy()].reset_index(drop=True), rng)
                for column in decoded.columns:
                    decoded.loc[redo.numpy(), column] = fresh[column].to_numpy()
            clash = self._contradicts_known_members(original, decoded)
            if clash.any():
                raise GenerationError(
                    f"Could not impute {int(clash.sum())} row(s) of table {self.table_.name!r} consistently with "
                    f"their known values (fixed-combination members, inequalities) after {_MAX_IMPUTE_ROUNDS} rounds "
                    f"(first rows: {np.flatnonzero(clash)[:5].tolist()}); check that those values occur together "
                    "in training.")
        result = data.copy()
        for column, values in self._filled(original, decoded).items():
            result[column] = values
        return result

    def _filled(self, original: pd.DataFrame, decoded: pd.DataFrame) -> dict[str, Any]:
        """The columns of ``original`` with holes, each filled from ``decoded`` (ids left as they are),
        as arrays to assign to a frame with any index."""
        ids = {c.column for c in self.codec_.codecs if c.kind == "id"}
        out: dict[str, Any] = {}
        for column in self.columns_:
            nulls = original[column].isna().to_numpy()
            if column in ids or not nulls.any():
                continue
            filled = original[column].astype(object).where(~nulls, decoded[column].astype(object))
            target = decoded[column].dtype
            try:
                filled = filled.astype(target)
            except (TypeError, ValueError):
                pass  # a value the training dtype cannot hold stays an object, as observed
            out[column] = filled.array if isinstance(filled.dtype, pd.api.extensions.ExtensionDtype) \
                else filled.to_numpy()
        return out

    def _decode_imputed(self, tokens: np.ndarray, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Decode imputed tokens, keeping the observed cells of ``frame`` exactly (so derived columns,
        e.g. an inequality's ``high`` = ``low`` + gap, are rebuilt from the observed values)."""
        decoded = self.codec_.decode(tokens, rng)
        for codec in self.codec_.codecs:
            if codec.kind != "id":
                known = frame[codec.column].notna().to_numpy()
                if known.any():
                    column = decoded[codec.column].astype(object)
                    column[known] = frame[codec.column].to_numpy(dtype=object)[known]
                    decoded[codec.column] = column.astype(decoded[codec.column].dtype)
        if self.constraint_engine_ is not None:
            decoded = self.constraint_engine_.reverse_transform(decoded)
        return decoded

    def _contradicts_known_members(self, original: pd.DataFrame, decoded: pd.DataFrame) -> np.ndarray:
        """Rows whose decoded fixed-combination members differ from a known (observed) member, or
        whose observed cells with the imputed ones break a constraint (``low`` imputed above an
        observed ``high``)."""
        engine = self.constraint_engine_
        holed = original.isna().any(axis=1).to_numpy()
        merged = original.copy()
        for column, values in self._filled(original, decoded).items():
            merged[column] = values
        # Rows whose observed cells already break a constraint are the caller's, not the imputation's.
        clash = holed & np.asarray(engine.is_valid(original), dtype=bool) & ~np.asarray(engine.is_valid(merged),
                                                                                        dtype=bool)
        for group in self.table_.fixed_combinations:
            for member in group.columns:
                known = original[member].notna().to_numpy()
                same = original[member].astype(object).to_numpy() == decoded[member].astype(object).to_numpy()
                clash |= known & ~same & original[group.columns].isna().any(axis=1).to_numpy()
        return clash

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write a checkpoint directory (no pickles; see the module docstring).

        Args:
            path: Target directory.
            overwrite: Atomically replace an existing checkpoint at ``path``.

        Returns:
            The checkpoint directory.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            SerializationError: ``path`` exists and ``overwrite`` is false, or writing failed (a
                previous checkpoint at ``path`` is then left intact).
        """
        self._require_fitted("save")
        state = {
            "hyper_parameters": self.hyper_parameters(),
            "codec": self.codec_.to_dict(),
            "context_codec": self.context_codec_.to_dict() if self.context_codec_ is not None else None,
            "columns": self.columns_,
            "context_columns": self.context_columns_,
            "table": self.table_.model_dump(mode="json") if self.table_ is not None else None,
            "constraints": self.constraint_engine_.to_dict() if self.constraint_engine_ is not None else None,
            "history": self.history_,
        }
        payload = [_WEIGHTS, _STATE, _PROFILE]
        weights = {k: v.detach().cpu() for k, v in self.network_.state_dict().items()} if self.network_ else {}

        def fill(directory: Path) -> dict[str, Any]:
            torch.save(weights, directory / _WEIGHTS)
            (directory / _STATE).write_text(json.dumps(state, indent=1), encoding="utf-8")
            write_json(self.reference_profile_.to_dict() if self.reference_profile_ is not None else None,
                       directory / _PROFILE)
            return write_manifest(directory, payload, model=type(self).__name__, seed=self.seed_,
                                  hyper_parameters=self.hyper_parameters(),
                                  column_schema={"columns": self.columns_, "sdtypes": self.codec_.sdtypes,
                                                 "context_columns": self.context_columns_})

        target, manifest = write_directory_atomically(path, fill, overwrite=overwrite)
        _log.info("checkpoint_saved", path=str(target), model=type(self).__name__, version=manifest["version"])
        return target

    def load(self, path: str | Path) -> "TabularAR":
        """Restore a checkpoint written by :meth:`save`, replacing any state of this object.

        Args:
            path: A checkpoint directory.

        Returns:
            ``self``.

        Raises:
            SerializationError: Missing path or file, checksum mismatch, corrupt file, or a
                checkpoint of another model.
        """
        from syntho_hive.core.checkpoint import read_manifest

        directory = Path(path).expanduser()
        manifest = read_manifest(directory)
        if manifest.get("model") != type(self).__name__:
            raise SerializationError(f"Checkpoint {directory} holds a {manifest.get('model')} model, not "
                                     f"{type(self).__name__}; load it with that class.")
        payload = [_WEIGHTS, _STATE]
        if _PROFILE in (manifest.get("files") or {}):
            payload.append(_PROFILE)
        verify_checkpoint(directory, payload)
        profile = read_json(directory / _PROFILE) if _PROFILE in payload else None
        try:
            state = json.loads((directory / _STATE).read_text(encoding="utf-8"))
            hyper = state["hyper_parameters"]
            codec = TableCodec.from_dict(state["codec"])
            context_codec = TableCodec.from_dict(state["context_codec"]) if state["context_codec"] else None
            table = TableConfig.model_validate(state["table"]) if state["table"] is not None else None
            columns, context_columns = list(state["columns"]), list(state["context_columns"])
            history = list(state.get("history", []))
            constraints = state.get("constraints")
            if (constraints is not None) != _declares_constraints(table) or not isinstance(
                    constraints, (dict, type(None))):
                raise ValueError("the constraint state does not match the table's declared constraints "
                                 "(checkpoints that kept constraints.parquet predate this version)")
            for name in _HYPER_PARAMETERS:
                setattr(self, name, hyper[name])
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise SerializationError(f"Checkpoint file {directory / _STATE} is corrupt ({type(exc).__name__}: "
                                     f"{exc}); save the model again.") from exc
        engine = ConstraintEngine.from_dict(table, constraints) if constraints is not None else None
        weights = read_state_dict(directory / _WEIGHTS)
        self._reset_state()
        self.table_, self.codec_, self.context_codec_ = table, codec, context_codec
        self.columns_, self.context_columns_, self.history_ = columns, context_columns, history
        self.seed_ = manifest.get("seed")
        self.reference_profile_ = MarginalProfile.from_dict(profile) if profile is not None else None
        self.constraint_engine_ = engine
        if codec.sub_columns:
            self.network_ = self._build_network(None)
            try:
                self.network_.load_state_dict(weights)
            except RuntimeError as exc:
                raise SerializationError(f"Checkpoint {directory}: the weights do not match the saved "
                                         f"architecture ({exc}); the checkpoint is corrupt.") from exc
            self.network_.eval()
        self._fitted = True
        _log.info("checkpoint_loaded", path=str(directory), model=type(self).__name__)
        return self
