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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from syntho_hive._random import child_seed, torch_generator
from syntho_hive.core.checkpoint import CheckpointLayout
from syntho_hive.core.metadata.schema import TableConfig
from syntho_hive.core.models._adam import Adam
from syntho_hive.core.models._chunks import generate_in_chunks, network_rows, pad_rows
from syntho_hive.core.models._tabular import GeneratedRows, GenerateFn, PreparedData, TabularPipeline
from syntho_hive.core.models.base import EngineState
from syntho_hive.core.models.ctgan.activation import SpanActivation
from syntho_hive.core.models.ctgan.conditional import ConditionalLayout, ConditionalSampler
from syntho_hive.core.models.ctgan.losses import condition_loss, gradient_penalty, wasserstein_critic_loss
from syntho_hive.core.models.ctgan.networks import Discriminator, FoldedGenerator, Generator, build
from syntho_hive.core.models.params import Choice, Flag, Integer, Number, Widths
from syntho_hive.core.models.registry import register_model
from syntho_hive.events import get_logger

__all__ = ["CTGAN"]

_log = get_logger(__name__)

@dataclass
class _Fake:
    """A generated training batch kept (with its graph) for the generator step."""

    raw: torch.Tensor
    rows: torch.Tensor
    column: torch.Tensor | None
    category: torch.Tensor | None
    hot: torch.Tensor | None
    ctx: torch.Tensor | None


@register_model
class CTGAN(TabularPipeline):
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
        rare_threshold: Values seen fewer times are never reproduced verbatim nor kept in the
            checkpoint (as TabularAR's): rare categories share one slot decoded to a frequent category
            drawn by frequency, numbers and timestamps stay between the ``rare_threshold``-th smallest
            and largest values, a column without any frequent category is modelled as numbers or text.
            ``1``: no protection.
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

    embedding_dim = Integer(128, "Width of the generator's noise input.")
    generator_dim = Widths((256, 256), "Width of each residual block of the generator.")
    discriminator_dim = Widths((256, 256), "Width of each hidden layer of the critic.")
    generator_lr = Number(2e-4, "Adam learning rate of the generator.")
    discriminator_lr = Number(2e-4, "Adam learning rate of the critic.")
    weight_decay = Number(1e-6, "Adam weight decay (both networks).")
    batch_size = Integer(500, "Rows per training step; a multiple of pac.")
    epochs = Integer(300, "Training epochs.")
    pac = Integer(10, "Rows packed into one critic sample (PacGAN).")
    discriminator_steps = Integer(1, "Critic updates per generator update.")
    log_frequency = Flag(True, "Training-by-sampling with log-frequency category probabilities.")
    max_modes = Integer(10, "Most GMM modes per numerical column.")
    precision = Choice("float32", "Mixed precision of training and sampling.", options=("float32", "bfloat16"))

    checkpoint_layout = CheckpointLayout(
        weights=("generator.pt", "discriminator.pt"),
        pickles=(TabularPipeline.TRANSFORMER, TabularPipeline.CONTEXT_TRANSFORMER, "embedding_layers.joblib",
                 TabularPipeline.DATA_COLUMN_INFO))
    metrics_fields = ("epoch", "g_loss", "d_loss", "val_score", "seconds")
    dp_refusal = ("its critic reads real rows packed together (PacGAN: pac rows per critic input) and is trained "
                  "with the WGAN-GP gradient penalty (a gradient of the critic's input gradient), so DP-SGD's "
                  "per-input clipping bounds a pack, not a row, and would need a different loss; its "
                  "preprocessing also fits Gaussian mixtures on the raw values.")

    # ------------------------------------------------------------------ state
    def _reset_engine(self) -> None:
        super()._reset_engine()
        self.layout_: ConditionalLayout | None = None
        self.generator_: Generator | None = None
        self.discriminator_: Discriminator | None = None
        self._sampler: ConditionalSampler | None = None
        self._activation: SpanActivation | None = None

    def _check_combination(self, values: Mapping[str, Any]) -> list[str]:
        problems = super()._check_combination(values)
        batch, pac = values.get("batch_size", self.batch_size), values.get("pac", self.pac)
        if batch % pac:
            problems.append(f"batch_size ({batch}) must be a multiple of pac ({pac}); e.g. "
                            f"batch_size={max(pac, batch // pac * pac)}")
        return problems

    @classmethod
    def _optional_in_checkpoint(cls) -> tuple[str, ...]:
        return (*super()._optional_in_checkpoint(), "precision")  # checkpoints before mixed precision are float32

    def _prepare(self, data: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig,
                 seed: int) -> PreparedData:
        prepared = super()._prepare(data, context, table, seed)
        self.layout_ = ConditionalLayout.from_output_info(self.output_info_, prepared.matrix)
        self._activation = SpanActivation(self.output_info_, self.device_)
        return prepared

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
    def _train(self, prepared: PreparedData, *, seed: int, progress_bar: bool) -> None:
        """WGAN-GP training on the prepared rows (see the module docstring)."""
        matrix, context = prepared.tensors(self.device_)
        self._build_networks(seed)
        self._sampler = ConditionalSampler(self.layout_, self.device_, log_frequency=self.log_frequency,
                                           matrix=matrix)
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

        def run_epoch() -> dict[str, float]:
            generator.train()  # a validation sample at the end of an epoch leaves them in eval mode
            critic.train()
            g_loss, d_loss = self._train_epoch(matrix, context, steps, rng, opt_g, opt_d)
            return {"g_loss": g_loss, "d_loss": d_loss}

        self._epoch_loop(run_epoch, progress_bar=progress_bar,
                         diverged="Lower the learning rates or check the data for extreme values.")
        generator.eval()
        critic.eval()

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

    def _generate_fn(self, resolved: list[tuple[int, list[int]]], rng: torch.Generator,
                     progress_bar: bool) -> GenerateFn:
        """Generation with the conditional vector fixed on the first condition (other conditions
        are met by rejection)."""
        fixed = resolved[0] if resolved else None
        folded = self._folded_generator()  # once for every rejection round
        return lambda count, ctx: self._generate(count, ctx, fixed, rng, progress_bar, folded)

    # ------------------------------------------------------------------ persistence
    def _network_state(self) -> EngineState:
        return EngineState(
            weights={"generator.pt": self.generator_.state_dict(), "discriminator.pt": self.discriminator_.state_dict()},
            objects={"embedding_layers.joblib": {"conditional_layout": self.layout_,
                                                 "context_columns": self.context_columns_}},
            extra={"architecture": {"data_dim": self._data_dim, "cond_dim": int(self.layout_.cond_dim),
                                    "context_dim": self._context_dim}})

    def _restore_networks(self, state: EngineState) -> None:
        layout = state.objects["embedding_layers.joblib"]["conditional_layout"]
        if not isinstance(layout, ConditionalLayout):
            raise TypeError("embedding_layers.joblib does not hold a conditional layout")
        self.layout_ = layout
        self._build_networks(None, initialise=False)
        generator_state, critic_state = state.weights["generator.pt"], state.weights["discriminator.pt"]
        for network, weights, reference in ((self.generator_, generator_state, "body.0.fc.weight" in generator_state),
                                            (self.discriminator_, critic_state, "condition" not in critic_state)):
            # reference form: an earlier checkpoint
            (network.load_reference_state_dict if reference else network.load_state_dict)(weights)
            network.eval()
        self._sampler = ConditionalSampler(layout, self.device_, log_frequency=self.log_frequency)
        self._activation = SpanActivation(self.output_info_, self.device_)
