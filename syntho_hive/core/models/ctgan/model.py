"""CTGAN (Xu et al., 2019, "Modeling Tabular Data using Conditional GAN").

Pipeline::

    fit:    data -> ConstraintEngine.fit/transform -> DataTransformer.fit/transform -> tensors
            -> WGAN-GP training of a residual generator against a PacGAN critic, with the
               conditional vector sampled by training-by-sampling (log-frequency)
    sample: noise + conditional vector (+ parent context) -> generator -> tanh / hard one-hot
            -> DataTransformer.inverse_transform -> ConstraintEngine.reverse_transform
            -> resample rows that fail conditions or constraints -> exactly ``num_rows`` rows
            -> column-shape scores against the training marginals (``sample_quality`` event,
               optional ``return_metrics`` / ``quality_threshold`` gate)

All randomness comes from local generators derived from the seed (``syntho_hive._random``):
the same seed gives bit-identical output across runs and processes on the same device. On CUDA
the backward passes of gathers and lookups accumulate with atomic adds, whose order varies; for
bit-identical GPU training call ``torch.use_deterministic_algorithms(True)`` first (a
process-wide choice this library leaves to you). Sampling uses no such accumulation.

The networks compute the paper's functions in a cheaper form (see
:mod:`syntho_hive.core.models.ctgan.networks`): the one-hot conditional vector enters both as
a weight-row lookup, the generator multiplies ``[noise, context]`` once for all its blocks, and
the WGAN-GP gradient is written out instead of taken by double backward.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from syntho_hive._random import child_seed, numpy_generator, torch_generator
from syntho_hive.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from syntho_hive.core.data.spans import ColumnSpans
from syntho_hive.core.metadata.schema import Metadata, TableConfig
from syntho_hive.core.models._adam import Adam
from syntho_hive.core.models._chunks import generate_in_chunks, network_rows, pad_rows
from syntho_hive.core.models._tabular import GeneratedRows, TabularPipeline
from syntho_hive.core.models._tabular import resolve_device as _resolve_device
from syntho_hive.core.models._validation import FINAL_CHECKPOINT, EpochCheckpoints
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.core.models.ctgan.activation import SpanActivation
from syntho_hive.core.models.ctgan.conditional import ConditionalLayout, ConditionalSampler
from syntho_hive.core.models.ctgan.losses import condition_loss, gradient_penalty, wasserstein_critic_loss
from syntho_hive.core.models.ctgan.networks import Discriminator, FoldedGenerator, Generator, build
from syntho_hive.core.quality import MarginalProfile, SampleQuality
from syntho_hive.events import get_logger, progress
from syntho_hive.exceptions import (
    SerializationError,
    TrainingError,
)

__all__ = ["CTGAN"]

_log = get_logger(__name__)

#: Constructor parameters saved in checkpoints (and restored by ``load``).
_HYPER_PARAMETERS = ("embedding_dim", "generator_dim", "discriminator_dim", "generator_lr",
                     "discriminator_lr", "weight_decay", "batch_size", "epochs", "pac",
                     "discriminator_steps", "log_frequency", "max_modes")
#: Accepted ``precision`` values.
_PRECISIONS = ("float32", "bfloat16")
#: Columns of ``training_metrics.csv`` (with ``checkpoint_dir``).
_METRICS_FIELDS = ("epoch", "g_loss", "d_loss", "val_score", "seconds")


@dataclass
class _Fake:
    """A generated training batch kept (with its graph) for the generator step."""

    raw: torch.Tensor
    rows: torch.Tensor
    column: torch.Tensor | None
    category: torch.Tensor | None
    hot: torch.Tensor | None
    ctx: torch.Tensor | None


@dataclass
class _TrainingData:
    """Transformed training tensors (on the model device)."""

    matrix: torch.Tensor
    context: torch.Tensor | None


class CTGAN(TabularPipeline, ConditionalGenerativeModel):
    """Conditional tabular GAN with mode-specific normalisation and training-by-sampling.

    Args:
        metadata: Schema of the data (the table to model is chosen by ``fit(table_name=...)``,
            or is the only table). ``None`` detects it from the data at ``fit``.
        embedding_dim: Width of the generator's noise input.
        generator_dim: Width of each residual block of the generator.
        discriminator_dim: Width of each hidden layer of the critic.
        generator_lr: Adam learning rate of the generator.
        discriminator_lr: Adam learning rate of the critic.
        weight_decay: Adam weight decay (both networks).
        batch_size: Rows per training step; a multiple of ``pac``.
        epochs: Training epochs (an epoch is ``max(1, n_rows // batch_size)`` steps).
        pac: Rows packed into one critic sample (PacGAN).
        discriminator_steps: Critic updates per generator update.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
        log_frequency: Training-by-sampling with log-frequency category probabilities.
        max_modes: Most GMM modes per numerical column (passed to the transformer).
        precision: ``"float32"`` (default) or ``"bfloat16"``: mixed precision for training and
            sampling. The hidden layers of both networks run in bfloat16 (autocast) while the
            weights, the optimiser, the losses, the gradient penalty's norm and the generator's
            output layer stay in float32. On CPUs with native bfloat16 (AVX512-BF16, AMX) and on
            recent GPUs this is markedly faster (see ``benchmarks/RESULTS.md``); results differ
            from float32 runs in the last digits, and a seed stays bit-identical for a given
            precision and device.

    Example:
        >>> model = CTGAN(metadata, epochs=100).fit(df, seed=0)
        >>> model.save("model_dir")
        >>> CTGAN().load("model_dir").sample(1000, seed=1)
    """

    def __init__(self, metadata: Metadata | None = None, *, embedding_dim: int = 128,
                 generator_dim: Sequence[int] = (256, 256), discriminator_dim: Sequence[int] = (256, 256),
                 generator_lr: float = 2e-4, discriminator_lr: float = 2e-4, weight_decay: float = 1e-6,
                 batch_size: int = 500, epochs: int = 300, pac: int = 10, discriminator_steps: int = 1,
                 device: str | torch.device = "auto", log_frequency: bool = True, max_modes: int = 10,
                 precision: str = "float32") -> None:
        self.metadata = metadata
        self.embedding_dim = embedding_dim
        self.generator_dim = tuple(generator_dim)
        self.discriminator_dim = tuple(discriminator_dim)
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.pac = pac
        self.discriminator_steps = discriminator_steps
        self.device = device
        self.log_frequency = log_frequency
        self.max_modes = max_modes
        self.precision = precision
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.table_: TableConfig | None = None
        self.constraint_engine_: Any = None
        self.transformer_: Any = None
        self.context_transformer_: Any = None
        self.context_columns_: list[str] = []
        self.output_info_: list[ColumnSpans] = []
        self.layout_: ConditionalLayout | None = None
        self.columns_: list[str] = []
        self.seed_: int | None = None
        self.generator_: Generator | None = None
        self.discriminator_: Discriminator | None = None
        self.device_: torch.device | None = None
        self.history_: list[dict[str, float]] = []
        self.reference_profile_: MarginalProfile | None = None
        self._sampler: ConditionalSampler | None = None
        self._activation: SpanActivation | None = None
        self._fitted = False

    @property
    def is_fitted(self) -> bool:
        """Whether the model can sample (fitted or loaded)."""
        return self._fitted

    def hyper_parameters(self) -> dict[str, Any]:
        """The constructor parameters that define training and the architecture."""
        params = {name: getattr(self, name) for name in _HYPER_PARAMETERS}
        params["precision"] = self.precision
        params["generator_dim"] = [int(v) for v in self.generator_dim]
        params["discriminator_dim"] = [int(v) for v in self.discriminator_dim]
        return params

    def _check_parameters(self) -> None:
        problems: list[str] = []
        for name in ("embedding_dim", "batch_size", "epochs", "pac", "discriminator_steps", "max_modes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        for name in ("generator_dim", "discriminator_dim"):
            dims = getattr(self, name)
            if not dims or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in dims):
                problems.append(f"{name} must be a non-empty sequence of positive integers (one width per "
                                f"hidden layer), got {dims!r}")
        for name in ("generator_lr", "discriminator_lr", "weight_decay"):
            if not isinstance(getattr(self, name), (int, float)) or getattr(self, name) < 0:
                problems.append(f"{name} must be a non-negative number, got {getattr(self, name)!r}")
        if self.precision not in _PRECISIONS:
            problems.append(f"precision must be one of {list(_PRECISIONS)}, got {self.precision!r}")
        if not problems and self.batch_size % self.pac:
            problems.append(f"batch_size ({self.batch_size}) must be a multiple of pac ({self.pac}); "
                            f"e.g. batch_size={max(self.pac, self.batch_size // self.pac * self.pac)}")
        if problems:
            raise TrainingError("Invalid CTGAN parameters: " + "; ".join(problems) + ".")

    def fit(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *, table_name: str | None = None,
            seed: int | None = None, progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            checkpoint_every: int = 1, validation_fraction: float = 0.1, **kwargs: Any) -> "CTGAN":
        """Learn the distribution of ``data``.

        Args:
            data: Training rows.
            context: Parent-context rows aligned with ``data`` (same length), fed to both networks.
            table_name: Table of ``metadata`` describing ``data`` (default: the only table).
            seed: Seed for every random choice (``None``: a fresh one, kept in ``seed_``).
            progress_bar: Show a tqdm bar over epochs.
            checkpoint_dir: When given, hold out a validation sample, score it every
                ``checkpoint_every`` epochs (column-shape similarity) and keep
                ``best_checkpoint/``, ``final_checkpoint/`` and ``training_metrics.csv`` there.
            checkpoint_every: Epochs between validations (with ``checkpoint_dir``).
            validation_fraction: Share of rows held out for validation (at most 5,000 rows).

        Returns:
            ``self``.

        Raises:
            TrainingError: Invalid parameters, empty data, misaligned context, or a NaN/inf loss
                (the message names the epoch).
            SchemaError: The metadata does not describe ``data``.
            ConstraintViolationError: ``data`` violates a declared constraint.
        """
        seed = self._start_fit(data, context, kwargs, seed=seed, checkpoint_dir=checkpoint_dir,
                               checkpoint_every=checkpoint_every, validation_fraction=validation_fraction)
        tensors = self._prepare(data, context, table_name, seed)

        validation: tuple[pd.DataFrame, pd.DataFrame | None] | None = None
        train_rows = torch.arange(len(data), device=self.device_)
        if checkpoint_dir is not None:
            validation, train_rows = self._split_validation(data, context, seed, validation_fraction)
        matrix = tensors.matrix[train_rows]
        ctx = tensors.context[train_rows] if tensors.context is not None else None
        self._build_networks(seed)
        self._sampler = ConditionalSampler(self.layout_, self.device_, log_frequency=self.log_frequency,
                                           matrix=matrix)
        self._train(matrix, ctx, seed, progress_bar, checkpoint_dir, checkpoint_every, validation)
        self._fitted = True
        return self

    def _prepare(self, data: pd.DataFrame, context: pd.DataFrame | None, table_name: str | None,
                 seed: int) -> _TrainingData:
        """Fit constraints and transformers (shared pipeline); return the training tensors."""
        prepared = self._fit_pipeline(data, context, table_name, seed, self.max_modes)
        self.layout_ = ConditionalLayout.from_output_info(self.output_info_, prepared.matrix)
        self._activation = SpanActivation(self.output_info_, self.device_)
        matrix, ctx_tensor = prepared.tensors(self.device_)
        return _TrainingData(matrix, ctx_tensor)

    def _build_networks(self, seed: int | None, *, initialise: bool = True) -> None:
        data_dim = sum(column.dim for column in self.output_info_)
        cond_dim = self.layout_.cond_dim
        init = torch_generator(child_seed(seed or 0, "init")) if initialise else None
        self.generator_ = build(Generator, self.embedding_dim + self._context_dim, self.generator_dim, data_dim,
                                condition_dim=cond_dim, condition_offset=self.embedding_dim,
                                device=self.device_, generator=init)
        self.discriminator_ = build(Discriminator, data_dim + cond_dim + self._context_dim,
                                    self.discriminator_dim, self.pac, condition_dim=cond_dim,
                                    condition_offset=data_dim, device=self.device_, generator=init)

    def _autocast(self) -> torch.autocast:
        """The autocast context of ``precision`` (a no-op for float32)."""
        return torch.autocast(device_type=self.device_.type, dtype=torch.bfloat16,
                              enabled=self.precision == "bfloat16")

    # ------------------------------------------------------------------ training
    def _train(self, matrix: torch.Tensor, context: torch.Tensor | None, seed: int, progress_bar: bool,
               checkpoint_dir: str | Path | None, checkpoint_every: int,
               validation: tuple[pd.DataFrame, pd.DataFrame | None] | None) -> None:
        generator, critic = self.generator_, self.discriminator_
        # The paper's betas (0.5, 0.9).
        opt_g = Adam(generator.parameters(), lr=self.generator_lr, betas=(0.5, 0.9),
                     weight_decay=self.weight_decay)
        opt_d = Adam(critic.parameters(), lr=self.discriminator_lr, betas=(0.5, 0.9),
                     weight_decay=self.weight_decay)
        rng = torch_generator(child_seed(seed, "train"), self.device_)
        steps = max(1, matrix.shape[0] // self.batch_size)
        _log.info("training_start", rows=int(matrix.shape[0]), columns=len(self.columns_),
                  data_dim=int(matrix.shape[1]), cond_dim=self.layout_.cond_dim, context_dim=self._context_dim,
                  epochs=self.epochs, steps_per_epoch=steps, batch_size=self.batch_size,
                  device=str(self.device_), seed=seed)
        keeper = None
        if checkpoint_dir is not None and validation is not None:
            keeper = EpochCheckpoints(
                Path(checkpoint_dir), _METRICS_FIELDS, epochs=self.epochs, every=checkpoint_every,
                score=lambda epoch: self._validation_score(validation, seed, epoch),
                save=lambda path: save_checkpoint(self._to_checkpoint(), path, overwrite=True))
        started = time.perf_counter()
        bar = progress(range(1, self.epochs + 1), enabled=progress_bar, desc="Training CTGAN",
                       total=self.epochs, unit="epoch")
        for epoch in bar:
            epoch_start = time.perf_counter()
            generator.train()
            critic.train()
            g_loss, d_loss = self._train_epoch(matrix, context, steps, rng, opt_g, opt_d)
            if not (math.isfinite(g_loss) and math.isfinite(d_loss)):
                raise TrainingError(f"Training diverged at epoch {epoch}: generator loss {g_loss}, critic "
                                    f"loss {d_loss}. Lower the learning rates or check the data for "
                                    "extreme values.")
            record: dict[str, float] = {"epoch": epoch, "g_loss": g_loss, "d_loss": d_loss,
                                        "val_score": math.nan}
            if keeper is not None:
                keeper.score(record)
            elapsed = time.perf_counter() - started
            record["seconds"] = time.perf_counter() - epoch_start
            self.history_.append(record)
            if keeper is not None:
                keeper.write(record)
            eta = elapsed / epoch * (self.epochs - epoch)
            _log.info("epoch_end", epoch=epoch, g_loss=g_loss, d_loss=d_loss, eta_seconds=round(eta, 3),
                      val_score=None if math.isnan(record["val_score"]) else record["val_score"])
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(g_loss=f"{g_loss:.3f}", d_loss=f"{d_loss:.3f}")
        generator.eval()
        critic.eval()
        if checkpoint_dir is not None:
            save_checkpoint(self._to_checkpoint(), Path(checkpoint_dir) / FINAL_CHECKPOINT, overwrite=True)
        _log.info("training_complete", epochs=self.epochs, seconds=round(time.perf_counter() - started, 3),
                  g_loss=self.history_[-1]["g_loss"], d_loss=self.history_[-1]["d_loss"],
                  best_val_score=keeper.best if keeper is not None else None)

    def _train_epoch(self, matrix: torch.Tensor, context: torch.Tensor | None, steps: int,
                     rng: torch.Generator, opt_g: Adam, opt_d: Adam) -> tuple[float, float]:
        """One epoch of ``steps`` WGAN-GP steps; returns the mean generator and critic losses."""
        g_total = torch.zeros((), device=self.device_)
        d_total = torch.zeros((), device=self.device_)
        for _ in range(steps):
            # One autocast region per update: autocast caches the bfloat16 copies of the weights
            # until its region ends, so a region spanning optimiser steps would reuse stale ones.
            for k in range(self.discriminator_steps):
                last = k == self.discriminator_steps - 1
                with self._autocast():
                    d_loss, fake = self._critic_step(matrix, context, rng, opt_d, keep_graph=last)
            with self._autocast():
                g_total += self._generator_step(fake, rng, opt_g)
            d_total += d_loss
        return float(g_total) / steps, float(d_total) / steps

    def _conditions(self, batch: int, rng: torch.Generator) -> tuple[torch.Tensor | None, torch.Tensor | None,
                                                                       torch.Tensor | None]:
        """Training conditions: ``(column, category, hot entry of the conditional vector)``."""
        sampler = self._sampler
        if sampler.n_discrete:
            column, category = sampler.sample_train(batch, rng)
            return column, category, sampler.positions(column, category)
        return None, None, None

    @staticmethod
    def _dense(values: torch.Tensor, ctx: torch.Tensor | None) -> torch.Tensor:
        """A network's dense input: ``values`` (noise or rows), then the context when there is one."""
        return values if ctx is None else torch.cat([values, ctx], dim=1)

    def _critic_step(self, matrix: torch.Tensor, context: torch.Tensor | None, rng: torch.Generator,
                     opt_d: Adam, *, keep_graph: bool) -> tuple[torch.Tensor, "_Fake"]:
        """One critic update (Wasserstein loss + gradient penalty).

        The fake batch is generated with its autograd graph when ``keep_graph`` (the last critic
        step before a generator step) and handed to the generator step, which scores it with the
        updated critic, so each step runs the generator forward once (as in PyTorch's reference
        DCGAN loop) instead of twice.
        """
        batch, critic = self.batch_size, self.discriminator_
        column, category, hot = self._conditions(batch, rng)
        rows = self._sampler.sample_rows(column, category, batch, rng)
        perm = torch.randperm(batch, generator=rng, device=self.device_)
        ctx = context[rows] if context is not None else None
        noise = torch.randn((batch, self.embedding_dim), generator=rng, device=self.device_)
        with torch.set_grad_enabled(keep_graph):
            raw = self.generator_(self._dense(noise, ctx), hot)
            fake = self._activation(raw, rng)
        # Real rows are paired with fake rows under the same (permuted) conditions, as in the paper.
        fake_dense = self._dense(fake.detach(), ctx)
        real_dense = self._dense(matrix[rows[perm]], ctx[perm] if ctx is not None else None)
        both_hot = torch.cat([hot, hot[perm]]) if hot is not None else None
        first = critic.first_layer(torch.cat([fake_dense, real_dense], dim=0), both_hot)
        fake_scores, real_scores = critic.from_first_layer(first, rng).split(batch // self.pac)
        fake_first, real_first = first.split(batch // self.pac)
        penalty = gradient_penalty(critic, real_first, fake_first, generator=rng)
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        opt_d.zero_grad()
        (loss + penalty).backward()
        opt_d.step()
        return loss.detach(), _Fake(raw, fake, column, category, hot, ctx)

    def _generator_step(self, fake: "_Fake", rng: torch.Generator, opt_g: Adam) -> torch.Tensor:
        """One generator update: fool the critic and match the conditional vector."""
        self.discriminator_.requires_grad_(False)
        try:
            scores = self.discriminator_(self._dense(fake.rows, fake.ctx), fake.hot, rng)
        finally:
            self.discriminator_.requires_grad_(True)
        loss = -scores.mean()
        if fake.column is not None:
            loss = loss + condition_loss(fake.raw, fake.column, fake.category, self._sampler.span_index,
                                         self._sampler.span_pad)
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return loss.detach()

    # ------------------------------------------------------------------ sampling
    def sample(self, num_rows: int, context: pd.DataFrame | None = None, *, seed: int | None = None,
               conditions: Mapping[str, Any] | None = None, enforce_constraints: bool = False,
               progress_bar: bool = True, return_metrics: bool = False, quality_threshold: float | None = None,
               **kwargs: Any) -> pd.DataFrame | tuple[pd.DataFrame, SampleQuality]:
        """Generate ``num_rows`` synthetic rows.

        Every call scores each generated column against the training marginals kept at ``fit``
        (column shapes: ``1 - KS`` / ``1 - TVD`` with nulls, see :mod:`syntho_hive.core.quality`)
        and logs them as a ``sample_quality`` event (``column_scores``, ``overall``).

        Args:
            num_rows: Number of rows (positive).
            context: Parent-context rows, exactly ``num_rows`` of them (required, and only
                allowed, when the model was fitted with context); row ``i`` is generated for
                context row ``i``.
            seed: Seed (``None``: a fresh one); the same seed gives the same rows.
            conditions: ``{column: value}`` on discrete columns; only matching rows are returned
                (the conditional vector is fixed on the first condition, other rows are rejected).
            enforce_constraints: Raise :class:`ConstraintViolationError` when rows satisfying
                every constraint cannot be produced (otherwise such rows are resampled as far as
                possible and the rest kept).
            progress_bar: Show a tqdm bar over generation chunks (only for samples of more than
                200,000 rows).
            return_metrics: Return ``(data, metrics)`` where ``metrics`` is a
                :class:`~syntho_hive.core.quality.SampleQuality` (``column_shapes``, ``overall``).
            quality_threshold: Raise :class:`QualityError` (nothing is returned) when any column's
                shape score is below this value, e.g. ``0.85``.

        Returns:
            A DataFrame with the training columns, in order, and a fresh ``RangeIndex``; with
            ``return_metrics``, the tuple ``(data, metrics)``.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: ``num_rows <= 0``, wrong context, unknown condition column/value,
                conditions that cannot be met, a bad ``return_metrics`` / ``quality_threshold``, or
                either of them on a model loaded from a checkpoint saved without a reference profile.
            ConstraintViolationError: With ``enforce_constraints`` when constraints cannot be met.
            QualityError: A column scored below ``quality_threshold`` (``failures``: ``{column: score}``).
        """
        num_rows, seed = self._start_sample(num_rows, seed, kwargs, return_metrics=return_metrics,
                                            quality_threshold=quality_threshold)
        started = time.perf_counter()
        frame = self._sample_frame(num_rows, context, seed=seed, conditions=conditions,
                                   enforce_constraints=enforce_constraints, progress_bar=progress_bar)
        return self._finish_sample(frame, time.perf_counter() - started, return_metrics=return_metrics,
                                   quality_threshold=quality_threshold)

    def _folded_generator(self) -> FoldedGenerator:
        """The generator as generation computes it (see :meth:`Generator.inference`).

        In bfloat16 its head also produces the activation's padded span order, ``-inf`` in the
        padding (a gather and a mask fewer per chunk), and multiplies its dense input in float32
        only for the scalar (tanh) columns, which that order puts first; in float32 the padding
        columns (40% more on Adult) would cost more than the gather.
        """
        with torch.inference_mode():
            if self.precision == "bfloat16":
                activation = self._activation
                return self.generator_.inference(torch.bfloat16, output_order=activation.gather_index,
                                                 masked_columns=activation.padding_slots,
                                                 exact_columns=activation.piece_widths[0])
            return self.generator_.inference()

    def _generate(self, count: int, context: torch.Tensor | None, fixed: tuple[int, list[int]] | None,
                  rng: torch.Generator, progress_bar: bool, folded: FoldedGenerator) -> GeneratedRows:
        """Draws for ``count`` rows (tanh scalars and the entry drawn in each softmax span) from
        ``folded`` (:meth:`_folded_generator`, taken once per ``sample()`` call)."""
        sampler, activation = self._sampler, self._activation
        low = self.precision == "bfloat16"
        scalars = torch.empty((count, activation.piece_widths[0]), device=self.device_)
        codes = torch.empty((count, activation.n_softmax_spans), dtype=torch.int64, device=self.device_)

        def fill(start: int, batch: int, generator: torch.Generator) -> None:
            noise = torch.randn((batch, self.embedding_dim), generator=generator, device=self.device_)
            if fixed is not None:
                hot = sampler.positions(*sampler.restricted(batch, fixed[0], fixed[1], generator))
            elif sampler.n_discrete:
                hot = sampler.positions(*sampler.sample_original(batch, generator))
            else:
                hot = None
            ctx = context[start:start + batch] if context is not None else None
            rows = network_rows(batch, count, self.device_)  # padded: few kernel shapes per process
            raw = folded(pad_rows(self._dense(noise, ctx), rows), pad_rows(hot, rows))[:batch]
            # bfloat16's head writes the bucketed order with -inf padding (_folded_generator).
            ordered = raw if low else raw.index_select(1, activation.gather_index)
            activation.draw(ordered, generator, padding_is_masked=low, scalars=scalars[start:start + batch],
                            codes=codes[start:start + batch])

        generate_in_chunks(count, fill, rng=rng, device=self.device_, progress_bar=progress_bar)
        return GeneratedRows(scalars, codes)

    def _sample_frame(self, num_rows: int, context: pd.DataFrame | None, *, seed: int,
                      conditions: Mapping[str, Any] | None, enforce_constraints: bool,
                      progress_bar: bool) -> pd.DataFrame:
        """Generate, decode and filter until ``num_rows`` rows satisfy conditions and constraints."""
        self._check_context(num_rows, context)
        resolved = self._resolve_conditions(conditions)
        rng = torch_generator(child_seed(seed, "sample", "torch"), self.device_)
        np_rng = numpy_generator(child_seed(seed, "sample", "numpy"))
        ctx_all = self._encode_context(context, seed) if context is not None else None
        fixed = resolved[0] if resolved else None
        folded = self._folded_generator()  # once for every rejection round

        def generate(count: int, ctx: torch.Tensor | None) -> GeneratedRows:
            return self._generate(count, ctx, fixed, rng, progress_bar, folded)

        return self._generate_until(num_rows, ctx_all, generate, np_rng=np_rng, conditions=conditions,
                                    enforce_constraints=enforce_constraints,
                                    draw_filter=self._matching_rows(resolved) if resolved else None)

    # ------------------------------------------------------------------ persistence
    def _to_checkpoint(self) -> Checkpoint:
        hyper = self.hyper_parameters()
        hyper["architecture"] = {"data_dim": int(sum(c.dim for c in self.output_info_)),
                                 "cond_dim": int(self.layout_.cond_dim), "context_dim": self._context_dim}
        schema = self._column_schema()
        return Checkpoint(
            generator_state=self.generator_.state_dict(),
            discriminator_state=self.discriminator_.state_dict(),
            transformer={"data_transformer": self.transformer_, "constraint_engine": self.constraint_engine_},
            context_transformer=self.context_transformer_,
            embedding_layers={"conditional_layout": self.layout_, "context_columns": self.context_columns_},
            data_column_info=self.output_info_,
            hyper_parameters=hyper,
            column_schema=schema,
            seed=self.seed_,
            model=type(self).__name__,
            reference_profile=self.reference_profile_.to_dict() if self.reference_profile_ is not None else None,
        )

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write a checkpoint directory (see :mod:`syntho_hive.core.checkpoint`).

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
        return save_checkpoint(self._to_checkpoint(), path, overwrite=overwrite)

    def load(self, path: str | Path) -> "CTGAN":
        """Restore a checkpoint written by :meth:`save`, replacing any state of this object.

        The architecture and hyper-parameters come from the checkpoint, whatever this object
        was constructed with.

        Warning:
            ``.joblib`` files are pickles, which can run code when loaded: load only trusted
            checkpoints (checksums detect corruption, not tampering).

        Args:
            path: A checkpoint directory.

        Returns:
            ``self``.

        Raises:
            SerializationError: Missing path or file, checksum mismatch, truncated or corrupt file,
                or a checkpoint of another model.
        """
        device = _resolve_device(self.device, SerializationError)
        checkpoint = load_checkpoint(path, map_location=device, expected_model=type(self).__name__)
        self._restore(checkpoint, device, Path(path))
        return self

    def _restore(self, checkpoint: Checkpoint, device: torch.device, path: Path) -> None:
        hyper = dict(checkpoint.hyper_parameters)
        try:
            pipeline = checkpoint.transformer
            layers = checkpoint.embedding_layers
            transformer, engine = pipeline["data_transformer"], pipeline["constraint_engine"]
            layout = layers["conditional_layout"]
            for name in _HYPER_PARAMETERS:
                value = hyper[name]
                setattr(self, name, tuple(value) if name.endswith("_dim") and name != "embedding_dim" else value)
            self.precision = hyper.get("precision", "float32")
            if self.precision not in _PRECISIONS:
                raise TypeError(f"unknown precision {self.precision!r}")
        except (KeyError, TypeError) as exc:
            raise SerializationError(f"Checkpoint {path} is corrupt: its content does not match the CTGAN "
                                     f"format ({type(exc).__name__}: {exc}); save the model again.") from exc
        self._reset_state()
        try:
            self._restore_pipeline(checkpoint.column_schema, transformer=transformer, constraint_engine=engine,
                                   context_transformer=checkpoint.context_transformer,
                                   context_columns=list(layers.get("context_columns", [])),
                                   output_info=list(checkpoint.data_column_info), seed=checkpoint.seed,
                                   device=device)
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(f"Checkpoint {path} is corrupt: its column schema does not match the "
                                     f"CTGAN format ({type(exc).__name__}: {exc}); save the model again.") from exc
        self.layout_ = layout
        profile = checkpoint.reference_profile
        try:
            self.reference_profile_ = MarginalProfile.from_dict(profile) if profile is not None else None
        except SerializationError as exc:
            raise SerializationError(f"Checkpoint {path}: {exc}") from exc
        self._build_networks(None, initialise=False)
        try:
            if "body.0.fc.weight" in checkpoint.generator_state:  # reference form: an earlier checkpoint
                self.generator_.load_reference_state_dict(checkpoint.generator_state)
            else:
                self.generator_.load_state_dict(checkpoint.generator_state)
            if "condition" not in checkpoint.discriminator_state:  # reference form: an earlier checkpoint
                self.discriminator_.load_reference_state_dict(checkpoint.discriminator_state)
            else:
                self.discriminator_.load_state_dict(checkpoint.discriminator_state)
        except RuntimeError as exc:
            raise SerializationError(f"Checkpoint {path}: the network weights do not match the saved "
                                     f"architecture ({exc}); the checkpoint is corrupt.") from exc
        self.generator_.eval()
        self.discriminator_.eval()
        self._sampler = ConditionalSampler(layout, device, log_frequency=self.log_frequency)
        self._activation = SpanActivation(self.output_info_, device)
        self._fitted = True
