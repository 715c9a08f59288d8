"""TVAE's training under differential privacy: DP-SGD on the encoder and decoder together.

Both networks see real rows (the encoder reads them, the reconstruction term scores the decoder
against them), so each step's whole gradient, over every parameter of both networks and the
decoder's ``sigma``, is taken per row (``torch.func``, :class:`~syntho_hive.core.models._dp_sgd.PerRowGradients`),
clipped to ``max_grad_norm`` and noised (Poisson-sampled batches, Rényi-DP accounting). The
reparametrisation noise of each row is drawn outside the per-row function from a seeded
generator. Nothing is decided from the real rows outside the private steps: no loss in the
records, no validation or early stopping; training runs the planned steps and stops before the
budget would be passed (:class:`~syntho_hive.core.dp.accounting.DPPlan`). Each epoch's record
carries the epsilon spent so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from syntho_hive._random import child_seed, torch_generator
from syntho_hive.core.data.spans import ColumnSpans
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.models._adam import Adam
from syntho_hive.core.models._dp_loop import run_dp_epochs
from syntho_hive.core.models._dp_sgd import PerRowGradients
from syntho_hive.core.models.tvae.losses import ReconstructionLoss, kl_divergence
from syntho_hive.core.models.tvae.networks import Decoder, Encoder

__all__ = ["DPSettings", "train_tvae_dp"]


class _VAE(nn.Module):
    """Encoder and decoder as one module (one set of per-row gradients): ``(x, c, eps) -> (mu, logvar, raw, sigma)``."""

    def __init__(self, encoder: Encoder, decoder: Decoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x: torch.Tensor, c: torch.Tensor,
                eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(torch.cat([x, c], dim=1))
        z = mu + eps * torch.exp(0.5 * logvar)
        return mu, logvar, self.decoder(torch.cat([z, c], dim=1)), self.decoder.sigma


@dataclass(frozen=True, kw_only=True)
class DPSettings:
    """TVAE's training settings under DP.

    Attributes:
        epochs: Planned epochs.
        loss_factor: Weight of the reconstruction term.
        learning_rate: Adam learning rate.
        weight_decay: Adam weight decay.
        embedding_dim: Width of the latent code.
    """

    epochs: int
    loss_factor: float
    learning_rate: float
    weight_decay: float
    embedding_dim: int


def train_tvae_dp(encoder: Encoder, decoder: Decoder, matrix: torch.Tensor, context: torch.Tensor | None,
                  output_info: Sequence[ColumnSpans], plan: DPPlan, settings: DPSettings, *, seed: int,
                  progress_bar: bool = False, on_epoch_end: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Fit ``encoder`` and ``decoder`` with DP-SGD on every row of ``matrix``; return the steps taken.

    Args:
        encoder / decoder: Freshly initialised networks.
        matrix: ``(rows, data_dim)`` encoded rows (from the DP preprocessing).
        context: ``(rows, context_dim)`` encoded parent context, or ``None``.
        output_info: The transformer's spans.
        plan: The calibrated noise, sampling rate and most steps.
        settings: Epochs, loss weight, optimiser settings.
        seed: Seed of the batches, reparametrisation noise and gradient noise.
        progress_bar: Show a tqdm bar over epochs.
        on_epoch_end: Called with each epoch's record (``epoch``, ``epsilon``, ``steps``, ``seconds``;
            ``loss`` / ``reconstruction`` / ``kl`` are ``None``).

    Returns:
        DP-SGD steps taken (what the privacy spent is computed from).

    Raises:
        TrainingError: The weights became non-finite (the message names the epoch).
    """
    n, device = matrix.shape[0], matrix.device
    ctx = context if context is not None else matrix[:, :0]
    vae = _VAE(encoder, decoder)
    reconstruction = ReconstructionLoss(output_info, device)
    loss_factor = settings.loss_factor

    def row_loss(call: Callable[..., Any], x: torch.Tensor, c: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        mu, logvar, raw, sigma = call(x.unsqueeze(0), c.unsqueeze(0), eps.unsqueeze(0))
        return loss_factor * reconstruction(raw, x.unsqueeze(0), sigma) + kl_divergence(mu, logvar)

    batches = torch_generator(child_seed(seed, "dp-train"))
    latent = torch_generator(child_seed(seed, "dp-latent"), device)
    gradients = PerRowGradients(vae, row_loss, max_grad_norm=plan.config.max_grad_norm,
                                noise_multiplier=plan.noise_multiplier, expected_batch=plan.sample_rate * n,
                                generator=torch_generator(child_seed(seed, "dp-noise"), device))
    optimiser = Adam(vae.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)

    def step(rows: torch.Tensor) -> None:
        rows = rows.to(device)
        eps = torch.randn((rows.numel(), settings.embedding_dim), generator=latent, device=device)
        gradients.step(matrix[rows], ctx[rows], eps)
        optimiser.step()
        optimiser.zero_grad()
        decoder.clamp_sigma()

    return run_dp_epochs(vae, plan, step, rows=n, epochs=settings.epochs, generator=batches, model="TVAE",
                         record_fields={"loss": None, "reconstruction": None, "kl": None},
                         advice="raise max_grad_norm or lower loss_factor.",
                         start_fields={"learning_rate": settings.learning_rate},
                         progress_bar=progress_bar, on_epoch_end=on_epoch_end)
