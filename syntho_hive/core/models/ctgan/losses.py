"""CTGAN's losses: WGAN-GP gradient penalty (PacGAN form) and the generator's condition loss."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["gradient_penalty", "condition_loss", "wasserstein_critic_loss"]


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's WGAN loss, ``mean(D(fake)) - mean(D(real))``."""
    return fake_scores.mean() - real_scores.mean()


def gradient_penalty(critic: nn.Module, real_first: torch.Tensor, fake_first: torch.Tensor, *,
                     generator: torch.Generator, weight: float = 10.0) -> torch.Tensor:
    """WGAN-GP penalty ``weight * E[(||grad D(x_hat)|| - 1)^2]`` on interpolated pac-groups.

    ``x_hat = alpha * real + (1 - alpha) * fake`` with one coefficient per pac group (rows
    packed into one critic input share it), and the gradient norm is taken over the whole
    packed input, condition included. The critic's first layer is affine, so its
    pre-activations at ``x_hat`` are the same interpolation of those at the real and fake
    groups, which the critic step has computed already: no forward pass of ``x_hat`` through
    the first layer is needed. The gradient comes from the critic's written-out
    :meth:`~syntho_hive.core.models.ctgan.networks.Discriminator.input_gradient` (same value and
    parameter gradients as autograd's double backward, much cheaper).

    Args:
        critic: The PacGAN critic; ``critic.input_gradient(first, generator)`` gives the gradient
            of each group's score w.r.t. its packed input from its first-layer pre-activations.
        real_first: First-layer pre-activations of the real groups, ``(groups, width)``.
        fake_first: Those of the fake groups (paired with the real ones), same shape.
        generator: Random source for the coefficients and the critic's dropout.
        weight: The penalty weight lambda.

    Returns:
        A scalar tensor (differentiable w.r.t. the critic's parameters).
    """
    groups = real_first.shape[0]
    alpha = torch.rand((groups, 1), generator=generator, device=real_first.device, dtype=torch.float32)
    mixed = alpha * real_first.detach().float() + (1.0 - alpha) * fake_first.detach().float()
    grads = critic.input_gradient(mixed, generator)
    norms = grads.float().norm(2, dim=1)
    return weight * ((norms - 1.0) ** 2).mean()


def condition_loss(raw: torch.Tensor, column: torch.Tensor, category: torch.Tensor,
                   span_index: torch.Tensor, span_pad: torch.Tensor) -> torch.Tensor:
    """Cross-entropy between the generator's logits on the conditioned column and the condition.

    Only the column named in each row's conditional vector contributes (the paper's mask),
    so the loss is one gather and one ``cross_entropy`` for the whole batch.

    Args:
        raw: Raw generator output (before activations), shape ``(batch, data_dim)``.
        column: Conditioned discrete column per row, ``(batch,)``.
        category: Required category per row, ``(batch,)``.
        span_index: ``(n_discrete, max_categories)`` matrix column of every category (padded).
        span_pad: ``(n_discrete, max_categories)`` mask of the padding.

    Returns:
        Sum of the per-row cross-entropies divided by the batch size.
    """
    logits = raw.gather(1, span_index[column])
    logits = logits.masked_fill(span_pad[column], float("-inf"))
    return nn.functional.cross_entropy(logits, category, reduction="sum") / raw.shape[0]
