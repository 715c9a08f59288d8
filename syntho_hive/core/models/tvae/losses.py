"""TVAE's loss: span-aware reconstruction log-likelihood and the Gaussian KL divergence.

The decoder's output is read through the transformer's spans (the same bookkeeping as
CTGAN's :class:`~syntho_hive.core.models.ctgan.activation.SpanActivation`): a scalar
``tanh`` dimension is a Gaussian with mean ``tanh(raw)`` and a learned ``sigma``; a softmax
span is a categorical with logits ``raw`` (cross-entropy against the one-hot target). Softmax
spans are handled by width bucket, with padding masked out: no per-span Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from syntho_hive.core.data.spans import ColumnSpans
from syntho_hive.core.models.ctgan.activation import SpanActivation

__all__ = ["ReconstructionLoss", "kl_divergence"]


class ReconstructionLoss:
    """Negative log-likelihood of transformed rows under the decoder's output distribution.

    Args:
        output_info: The transformer's spans.
        device: Device of the index tensors.
    """

    def __init__(self, output_info: Sequence[ColumnSpans], device: torch.device) -> None:
        self.spans = SpanActivation(output_info, device)

    def __call__(self, raw: torch.Tensor, target: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of the summed per-row negative log-likelihood (constants dropped).

        Args:
            raw: Decoder output, shape ``(batch, data_dim)``.
            target: Transformed real rows, same shape.
            sigma: Per-dimension standard deviations, shape ``(data_dim,)`` (scalar dims only used).

        Returns:
            A scalar tensor.
        """
        batch = raw.shape[0]
        total = raw.new_zeros(())
        scalar = self.spans.tanh_index
        if scalar.numel():
            std = sigma[scalar]
            diff = target[:, scalar] - torch.tanh(raw[:, scalar])
            total = total + (diff.pow(2) / (2.0 * std.pow(2))).sum() + torch.log(std).sum() * batch
        for bucket in self.spans.buckets:
            logits = raw[:, bucket.index]
            onehot = target[:, bucket.index]
            if bucket.padded:
                logits = logits.masked_fill(bucket.pad, float("-inf"))
            log_p = torch.log_softmax(logits, dim=-1)
            if bucket.padded:
                log_p = log_p.masked_fill(bucket.pad, 0.0)
                onehot = onehot.masked_fill(bucket.pad, 0.0)
            total = total - (onehot * log_p).sum()
        return total / batch


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` summed over dimensions, averaged over the batch."""
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp()) / mu.shape[0]
