"""TVAE's networks: an MLP encoder to ``(mean, log-variance)`` and an MLP decoder.

Built with :func:`syntho_hive.core.models.ctgan.networks.build` (``meta`` device, then
initialised from a local :class:`torch.Generator`), so the global RNG is never used. The
decoder also owns a learned per-dimension ``sigma`` (the standard deviation of the Gaussian
likelihood of scalar ``tanh`` dimensions), reset by :meth:`Decoder.reset_sigma`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Encoder", "Decoder", "INITIAL_SIGMA", "SIGMA_RANGE"]

#: Initial value of the decoder's per-dimension sigma.
INITIAL_SIGMA = 0.1
#: Sigma is clamped to this range after every optimiser step.
SIGMA_RANGE = (0.01, 1.0)


def _mlp(input_dim: int, hidden_dims: Sequence[int]) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    width = input_dim
    for hidden in hidden_dims:
        layers += [nn.Linear(width, int(hidden)), nn.ReLU()]
        width = int(hidden)
    return nn.Sequential(*layers), width


class Encoder(nn.Module):
    """``[row, context] -> (mu, logvar)`` of the approximate posterior ``q(z | x, c)``.

    Args:
        input_dim: Width of ``[row, context]``.
        hidden_dims: Hidden layer widths (``Linear -> ReLU`` each).
        embedding_dim: Width of the latent code ``z``.
    """

    def __init__(self, input_dim: int, hidden_dims: Sequence[int], embedding_dim: int) -> None:
        super().__init__()
        self.body, width = _mlp(input_dim, hidden_dims)
        self.mu = nn.Linear(width, embedding_dim)
        self.logvar = nn.Linear(width, embedding_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each of shape ``(batch, embedding_dim)``."""
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """``[z, context] ->`` raw rows (pre-activation), plus the learned scalar ``sigma``.

    Args:
        input_dim: Width of ``[z, context]``.
        hidden_dims: Hidden layer widths (``Linear -> ReLU`` each).
        data_dim: Width of a transformed row.
    """

    def __init__(self, input_dim: int, hidden_dims: Sequence[int], data_dim: int) -> None:
        super().__init__()
        self.body, width = _mlp(input_dim, hidden_dims)
        self.head = nn.Linear(width, data_dim)
        self.sigma = nn.Parameter(torch.empty(data_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Raw decoder output, shape ``(batch, data_dim)``."""
        return self.head(self.body(z))

    def reset_sigma(self) -> None:
        """Set every sigma to :data:`INITIAL_SIGMA` (after building, before training)."""
        with torch.no_grad():
            self.sigma.fill_(INITIAL_SIGMA)

    def clamp_sigma(self) -> None:
        """Keep sigma in :data:`SIGMA_RANGE` (called after each optimiser step)."""
        with torch.no_grad():
            self.sigma.clamp_(*SIGMA_RANGE)
