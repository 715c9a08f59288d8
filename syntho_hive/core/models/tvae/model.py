"""TVAE (Xu et al., 2019): a variational autoencoder on the CTGAN data representation.

Pipeline (the preprocessing, context handling, decoding and resampling are shared with CTGAN
through :class:`~syntho_hive.core.models._tabular.TabularPipeline`)::

    fit:    data -> ConstraintEngine -> DataTransformer -> rows x (+ parent context c)
            -> encoder([x, c]) = (mu, logvar); z = mu + exp(logvar / 2) * eps
            -> decoder([z, c]) -> loss = loss_factor * reconstruction + KL
    sample: z ~ N(0, I) (+ context) -> decoder -> tanh(raw) + sigma * noise on scalars,
            a category drawn from each softmax span -> DataTransformer.inverse_transform
            -> ConstraintEngine.reverse_transform -> reject rows failing ``conditions`` /
            constraints, generate again -> exactly ``num_rows`` rows

All randomness (initial weights, batch order, reparametrisation noise, sampling) comes from
local generators derived from the seed: the same seed gives bit-identical output on the same
device. A checkpoint holds ``encoder.pt``, ``decoder.pt`` and the pipeline's pickles (see
:mod:`syntho_hive.core.checkpoint`); ``fit(checkpoint_dir=...)`` is the model contract's
(:class:`~syntho_hive.core.models.base.ConditionalGenerativeModel`).
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from syntho_hive._random import child_seed, torch_generator
from syntho_hive.core.checkpoint import CheckpointLayout
from syntho_hive.core.metadata.schema import TableConfig
from syntho_hive.core.models._adam import Adam
from syntho_hive.core.models._chunks import generate_in_chunks, network_rows, pad_rows
from syntho_hive.core.dp.accounting import PrivacySpent
from syntho_hive.core.models._tabular import GeneratedRows, GenerateFn, PreparedData, TabularPipeline
from syntho_hive.core.models.base import EngineState
from syntho_hive.core.models.ctgan.activation import SpanActivation
from syntho_hive.core.models.ctgan.networks import build
from syntho_hive.core.models.params import DPSetting, Integer, Number, Widths
from syntho_hive.core.models.registry import register_model
from syntho_hive.core.models.tvae.dp_fit import TVAEDPFit, prepare_tvae_dp
from syntho_hive.core.models.tvae.dp_training import DPSettings, train_tvae_dp
from syntho_hive.core.models.tvae.losses import ReconstructionLoss, kl_divergence
from syntho_hive.core.models.tvae.networks import Decoder, Encoder
from syntho_hive.events import get_logger

__all__ = ["TVAE"]

_log = get_logger(__name__)

#: Adam learning rate (Xu et al.'s setting).
_LEARNING_RATE = 1e-3
#: Adam learning rate under DP: fewer, noisier steps (measured on the Adult sample: benchmarks/RESULTS.md,
#: "DP TVAE learning rate").
_DP_LEARNING_RATE = 5e-3


@register_model
class TVAE(TabularPipeline):
    """Tabular variational autoencoder, optionally conditioned on parent-context rows.

    Args:
        metadata: Schema of the data (the table to model is chosen by ``fit(table_name=...)``,
            or is the only table). ``None`` detects it from the data at ``fit``.
        embedding_dim: Width of the latent code.
        compress_dims: Hidden layer widths of the encoder.
        decompress_dims: Hidden layer widths of the decoder.
        l2scale: Adam weight decay.
        batch_size: Rows per training step.
        epochs: Training epochs (an epoch is one pass over the rows in a seeded random order).
        loss_factor: Weight of the reconstruction term against the KL term.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
        rare_threshold: Values seen fewer times are never reproduced verbatim nor kept in the
            checkpoint (as TabularAR's): rare categories share one slot decoded to a frequent category
            drawn by frequency, numbers and timestamps stay between the ``rare_threshold``-th smallest
            and largest values, a column without any frequent category is modelled as numbers or text;
            under ``dp``, the least noisy count of a kept category or bucket. ``1``: no protection.
        dp: Differential privacy (:class:`~syntho_hive.core.dp.DPConfig`; ``None``: off). The
            transformer is fitted to stand-in columns made from noisy counts (no mixture fitted on a
            raw value) and the encoder and decoder are trained together with DP-SGD, within
            ``max_epsilon`` at ``delta`` for the whole fit; the spent budget is ``privacy_spent_``,
            kept in checkpoints and in every ``sampling_complete`` event. Under DP there is no
            reference profile (no quality gates), no ``checkpoint_dir``, and tables with declared
            constraints or text columns are refused (``docs/privacy.md``).

    Example:
        >>> model = TVAE(metadata, epochs=100).fit(df, seed=0)
        >>> model.save("model_dir")
        >>> TVAE().load("model_dir").sample(1000, seed=1)
    """

    embedding_dim = Integer(128, "Width of the latent code.")
    compress_dims = Widths((128, 128), "Hidden layer widths of the encoder.")
    decompress_dims = Widths((128, 128), "Hidden layer widths of the decoder.")
    l2scale = Number(1e-5, "Adam weight decay.")
    batch_size = Integer(500, "Rows per training step.")
    epochs = Integer(300, "Training epochs.")
    loss_factor = Number(2, "Weight of the reconstruction term against the KL term.", positive=True)
    dp = DPSetting(None, "Differential privacy settings (None: off).", optional=True)

    checkpoint_layout = CheckpointLayout(
        weights=("encoder.pt", "decoder.pt"),
        pickles=(TabularPipeline.TRANSFORMER, TabularPipeline.CONTEXT_TRANSFORMER, TabularPipeline.DATA_COLUMN_INFO))
    metrics_fields = ("epoch", "loss", "reconstruction", "kl", "val_score", "seconds")

    # ------------------------------------------------------------------ state
    def _reset_engine(self) -> None:
        super()._reset_engine()
        self.encoder_: Encoder | None = None
        self.decoder_: Decoder | None = None
        self._activation: SpanActivation | None = None
        self.privacy_spent_: PrivacySpent | None = None
        self._dp_fit: TVAEDPFit | None = None

    def _prepare(self, data: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig,
                 seed: int) -> PreparedData:
        if self.dp is not None:
            prepared = self._prepare_dp(data, context, table, seed)
        else:
            prepared = super()._prepare(data, context, table, seed)
        self._activation = SpanActivation(self.output_info_, self.device_)
        return prepared

    def _prepare_dp(self, data: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig,
                    seed: int) -> PreparedData:
        """The DP preprocessing (:mod:`~syntho_hive.core.models.tvae.dp_fit`): no constraint engine, the
        transformers fitted to noisy stand-ins, the rows encoded cell by cell."""
        fitted = prepare_tvae_dp(data.reset_index(drop=True),
                                 context.reset_index(drop=True) if context is not None else None, table, self.dp,
                                 seed=seed, batch_size=int(self.batch_size),
                                 epochs=self.dp.training_epochs(int(self.epochs)), max_modes=self._max_modes,
                                 rare_threshold=int(self.rare_threshold), times=self.time_columns_,
                                 context_times=self.context_time_columns_)
        self.constraint_engine_ = None
        self.transformer_, self.context_transformer_ = fitted.transformer, fitted.context_transformer
        self.output_info_ = list(fitted.transformer.output_info_)
        self._dp_fit = fitted
        return PreparedData(fitted.matrix, fitted.context)

    def _train_dp(self, prepared: PreparedData, *, seed: int, progress_bar: bool) -> None:
        fitted = self._dp_fit
        matrix, context = prepared.tensors(self.device_)
        self._build_networks(seed)
        settings = DPSettings(epochs=fitted.epochs, loss_factor=float(self.loss_factor),
                              learning_rate=_DP_LEARNING_RATE, weight_decay=float(self.l2scale),
                              embedding_dim=int(self.embedding_dim))
        steps = train_tvae_dp(self.encoder_, self.decoder_, matrix, context, self.output_info_, fitted.plan, settings,
                              seed=seed, progress_bar=progress_bar, on_epoch_end=self._end_epoch)
        self._record_privacy_spent(fitted.plan, steps)

    def _build_networks(self, seed: int | None, *, initialise: bool = True) -> None:
        init = torch_generator(child_seed(seed or 0, "init")) if initialise else None
        self.encoder_ = build(Encoder, self._data_dim + self._context_dim, self.compress_dims,
                              self.embedding_dim, device=self.device_, generator=init)
        self.decoder_ = build(Decoder, self.embedding_dim + self._context_dim, self.decompress_dims,
                              self._data_dim, device=self.device_, generator=init)
        self.decoder_.reset_sigma()

    def _train(self, prepared: PreparedData, *, seed: int, progress_bar: bool) -> None:
        """Train the encoder and decoder on the prepared rows (ELBO, see the module docstring)."""
        if self.dp is not None:
            self._train_dp(prepared, seed=seed, progress_bar=progress_bar)
            return
        matrix, context = prepared.tensors(self.device_)
        self._build_networks(seed)
        encoder, decoder = self.encoder_, self.decoder_
        reconstruction = ReconstructionLoss(self.output_info_, self.device_)
        optimiser = Adam([*encoder.parameters(), *decoder.parameters()], lr=_LEARNING_RATE,
                         weight_decay=float(self.l2scale))
        rng = torch_generator(child_seed(seed, "train"), self.device_)
        n = matrix.shape[0]
        steps = math.ceil(n / self.batch_size)
        _log.info("training_start", model="TVAE", rows=int(n), columns=len(self.columns_),
                  data_dim=int(matrix.shape[1]), context_dim=self._context_dim, epochs=self.epochs,
                  steps_per_epoch=steps, batch_size=self.batch_size, device=str(self.device_), seed=seed)
        encoder.train()
        decoder.train()

        def run_epoch() -> dict[str, float]:
            totals = torch.zeros(3, device=self.device_)
            order = torch.randperm(n, generator=rng, device=self.device_)
            for start in range(0, n, self.batch_size):
                rows = order[start:start + self.batch_size]
                x = matrix[rows]
                c = context[rows] if context is not None else x[:, :0]
                mu, logvar = encoder(torch.cat([x, c], dim=1))
                eps = torch.randn(mu.shape, generator=rng, device=self.device_, dtype=mu.dtype)
                z = mu + eps * torch.exp(0.5 * logvar)
                raw = decoder(torch.cat([z, c], dim=1))
                rec = reconstruction(raw, x, decoder.sigma)
                kl = kl_divergence(mu, logvar)
                loss = self.loss_factor * rec + kl
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                decoder.clamp_sigma()
                totals += torch.stack([loss.detach(), rec.detach(), kl.detach()])
            loss_value, rec_value, kl_value = (float(v) / steps for v in totals.cpu())
            return {"loss": loss_value, "reconstruction": rec_value, "kl": kl_value}

        self._epoch_loop(run_epoch, progress_bar=progress_bar, model="TVAE",
                         diverged="Check the data for extreme values or lower loss_factor.")
        encoder.eval()
        decoder.eval()

    # ------------------------------------------------------------------ sampling
    def _generate_fn(self, resolved: list[tuple[int, list[int]]], rng: torch.Generator,
                     progress_bar: bool) -> GenerateFn:
        """Free generation from the prior (conditions are met by rejection)."""
        return lambda count, ctx: self._generate(count, ctx, rng, progress_bar)

    def _generate(self, count: int, context: torch.Tensor | None, rng: torch.Generator,
                  progress_bar: bool) -> GeneratedRows:
        """Draws for ``count`` rows from ``p(x | z, c)`` with ``z ~ N(0, I)``: tanh scalars (with the
        decoder's noise) and the entry drawn in each softmax span."""
        decoder, activation = self.decoder_, self._activation
        scalar = activation.tanh_index
        scalars = torch.empty((count, scalar.numel()), device=self.device_)
        codes = torch.empty((count, activation.n_softmax_spans), dtype=torch.int64, device=self.device_)
        with torch.inference_mode():
            sigma = decoder.sigma[scalar]

        def fill(start: int, batch: int, generator: torch.Generator) -> None:
            z = torch.randn((batch, self.embedding_dim), generator=generator, device=self.device_)
            ctx = context[start:start + batch] if context is not None else z[:, :0]
            rows = network_rows(batch, count, self.device_)  # padded: few kernel shapes per process
            raw = decoder(pad_rows(torch.cat([z, ctx], dim=1), rows))[:batch]
            values, _ = activation.draw(raw.index_select(1, activation.gather_index), generator,
                                        scalars=scalars[start:start + batch], codes=codes[start:start + batch])
            if scalar.numel():
                noise = torch.randn((batch, scalar.numel()), generator=generator, device=self.device_)
                values.add_(noise * sigma).clamp_(-1.0, 1.0)

        generate_in_chunks(count, fill, rng=rng, device=self.device_, progress_bar=progress_bar)
        return GeneratedRows(scalars, codes)

    # ------------------------------------------------------------------ persistence
    def _network_state(self) -> EngineState:
        return EngineState(weights={"encoder.pt": self.encoder_.state_dict(), "decoder.pt": self.decoder_.state_dict()},
                           extra={"architecture": {"data_dim": self._data_dim, "context_dim": self._context_dim}})

    def _restore_networks(self, state: EngineState) -> None:
        self._build_networks(None, initialise=False)
        self.encoder_.load_state_dict(state.weights["encoder.pt"])
        self.decoder_.load_state_dict(state.weights["decoder.pt"])
        self.encoder_.eval()
        self.decoder_.eval()
        self._activation = SpanActivation(self.output_info_, self.device_)
