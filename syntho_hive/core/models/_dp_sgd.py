"""DP-SGD (Abadi et al., 2016) for the engines: Poisson-sampled batches, per-row gradient clipping,
Gaussian noise from a seeded generator.

Per-row gradients come from ``torch.func`` (``vmap`` of ``grad`` of a per-row loss over the
module's parameters), which works for any network built from differentiable tensor operations
(TabularAR's raw parameters included), computed in micro-batches to bound memory. Batches are
drawn by Opacus' ``UniformWithReplacementSampler`` (each row independently with probability
``sample_rate``: the sampling the RDP analysis assumes) from a seeded ``torch.Generator``. The
noisy sum is divided by the expected batch size, as Opacus' ``DPOptimizer`` does for Poisson
sampling, so any optimiser can take the step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from syntho_hive._optional import import_or_raise

__all__ = ["PerRowGradients", "add_noise", "poisson_batches"]

#: Rows whose per-row gradients are held at once.
MICRO_BATCH = 256


def poisson_batches(rows: int, sample_rate: float, steps: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """``steps`` batches of row indices, each row in each batch with probability ``sample_rate``.

    Raises:
        MissingDependencyError: Opacus is not installed.
    """
    sampler_module = import_or_raise("opacus.utils.uniform_sampler", "dp")
    sampler = sampler_module.UniformWithReplacementSampler(num_samples=rows, sample_rate=sample_rate,
                                                           generator=generator, steps=steps)
    for indices in sampler:
        yield torch.as_tensor(indices, dtype=torch.long)


def add_noise(params: list[torch.Tensor], sums: list[torch.Tensor], *, noise_multiplier: float,
              max_grad_norm: float, expected_batch: float, generator: torch.Generator) -> None:
    """Set each parameter's ``.grad`` to its clipped sum plus ``N(0, (noise_multiplier * max_grad_norm)^2)``
    noise, divided by the expected batch size (the noise is drawn in parameter order from ``generator``)."""
    std = noise_multiplier * max_grad_norm
    for p, total in zip(params, sums):
        noise = torch.normal(0.0, std, size=p.shape, generator=generator, dtype=p.dtype,
                             device=generator.device).to(p.device)
        p.grad = (total + noise) / expected_batch


class PerRowGradients:
    """Clipped, noised gradients of a per-row loss (one DP-SGD step's ``.grad``).

    Args:
        module: The network (its trainable parameters get the gradients).
        row_loss: ``row_loss(module_output_fn, *row_tensors) -> scalar``: the loss of one row,
            given ``call(*inputs)`` that runs the module with the parameters under differentiation
            on inputs with a leading batch dimension of 1.
        max_grad_norm: Clipping norm ``C`` of each row's whole gradient.
        noise_multiplier: Noise standard deviation as a multiple of ``C``.
        expected_batch: Rows expected per batch (the sum is divided by it).
        generator: Source of the noise.
    """

    def __init__(self, module: nn.Module, row_loss: Callable[..., torch.Tensor], *, max_grad_norm: float,
                 noise_multiplier: float, expected_batch: float, generator: torch.Generator) -> None:
        self.module = module
        self.names = [name for name, p in module.named_parameters() if p.requires_grad]
        self.params = [p for _, p in module.named_parameters() if p.requires_grad]
        self.max_grad_norm = float(max_grad_norm)
        self.noise_multiplier = float(noise_multiplier)
        self.expected_batch = float(expected_batch)
        self.generator = generator

        def loss(values: tuple[torch.Tensor, ...], *row: torch.Tensor) -> torch.Tensor:
            params = dict(zip(self.names, values))

            def call(*inputs: Any) -> Any:
                return torch.func.functional_call(module, params, inputs)

            return row_loss(call, *row)

        self._loss = loss

    def _clipped_sum(self, rows: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        values = tuple(p.detach() for p in self.params)
        per_row = torch.func.vmap(torch.func.grad(self._loss), in_dims=(None, *([0] * len(rows))),
                                  randomness="error")(values, *rows)
        squares = torch.stack([g.reshape(g.shape[0], -1).pow(2).sum(dim=1) for g in per_row], dim=1)
        factor = (self.max_grad_norm / (squares.sum(dim=1).sqrt() + 1e-6)).clamp(max=1.0)
        return [torch.einsum("b,b...->...", factor, g) for g in per_row]

    def clipped_sum(self, *batch: torch.Tensor) -> list[torch.Tensor]:
        """The sum of the rows' clipped gradients, per parameter (``batch``: tensors with one row per
        sampled row; possibly empty)."""
        total = [torch.zeros_like(p) for p in self.params]
        count = batch[0].shape[0] if batch else 0
        for start in range(0, count, MICRO_BATCH):
            part = tuple(t[start:start + MICRO_BATCH] for t in batch)
            for acc, g in zip(total, self._clipped_sum(part)):
                acc += g
        return total

    def step(self, *batch: torch.Tensor) -> None:
        """Set every parameter's ``.grad`` to the clipped, noised, averaged gradient of ``batch``."""
        add_noise(self.params, self.clipped_sum(*batch), noise_multiplier=self.noise_multiplier,
                  max_grad_norm=self.max_grad_norm, expected_batch=self.expected_batch, generator=self.generator)
