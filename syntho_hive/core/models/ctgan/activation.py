"""Output activations: ``tanh`` on scalar spans, gumbel-softmax on one-hot spans.

Softmax spans are bucketed by width rounded up to a power of two and padded with ``-inf``
logits, so one gumbel-softmax call covers every span of a bucket (a few buckets in all,
at most 2x padding). The activated pieces are concatenated and put back in matrix order with
one precomputed permutation. No per-span Python loop runs in the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from syntho_hive.core.data.spans import ColumnSpans

__all__ = ["SpanActivation"]

_TINY = 1e-30


def _bucket(width: int) -> int:
    return 1 << max(0, int(width - 1).bit_length())


class _Bucket:
    """Softmax spans padded to a common width ``width``."""

    def __init__(self, spans: list[list[int]], width: int, device: torch.device) -> None:
        index = np.zeros((len(spans), width), dtype=np.int64)
        valid = np.zeros((len(spans), width), dtype=bool)
        for row, cols in enumerate(spans):
            index[row, :len(cols)] = cols
            valid[row, :len(cols)] = True
        self.width = width
        self.padded = bool((~valid).any())
        self.index = torch.as_tensor(index, device=device)
        self.pad = torch.as_tensor(~valid, device=device)
        self.valid_flat = torch.as_tensor(np.flatnonzero(valid.ravel()), device=device)
        self.columns = index[valid]  # matrix columns, in the order of valid_flat


class SpanActivation:
    """Apply CTGAN's output activations to raw generator rows.

    Args:
        output_info: The transformer's spans.
        device: Device of the index tensors.
        tau: Gumbel-softmax temperature (the paper uses 0.2).
    """

    def __init__(self, output_info: Sequence[ColumnSpans], device: torch.device, tau: float = 0.2) -> None:
        self.tau = float(tau)
        tanh_cols: list[int] = []
        by_bucket: dict[int, list[list[int]]] = {}
        offset = 0
        for column in output_info:
            for span in column.spans:
                cols = list(range(offset, offset + span.dim))
                if span.activation == "tanh":
                    tanh_cols.extend(cols)
                else:
                    by_bucket.setdefault(_bucket(span.dim), []).append(cols)
                offset += span.dim
        self.data_dim = offset
        self.tanh_index = torch.as_tensor(np.asarray(tanh_cols, dtype=np.int64), device=device)
        self.buckets = [_Bucket(spans, width, device) for width, spans in sorted(by_bucket.items())]
        order = np.concatenate([np.asarray(tanh_cols, dtype=np.int64)]
                               + [bucket.columns for bucket in self.buckets])
        self.inverse = torch.as_tensor(np.argsort(order), device=device)

    def __call__(self, raw: torch.Tensor, generator: torch.Generator, *, hard: bool = False) -> torch.Tensor:
        """Activated rows.

        Args:
            raw: Raw generator output, shape ``(batch, data_dim)``.
            generator: Source of the gumbel noise.
            hard: Return exact one-hot blocks (a category drawn from each span's softmax)
                instead of the differentiable gumbel-softmax relaxation; used when generating.

        Returns:
            Tensor of the same shape as ``raw``.
        """
        if hard:
            return self._hard(raw, generator)
        batch = raw.shape[0]
        pieces = [torch.tanh(raw[:, self.tanh_index])]
        for bucket in self.buckets:
            logits = raw[:, bucket.index]  # (batch, n_spans, width); padding masked to -inf below
            if bucket.padded:
                logits = logits.masked_fill(bucket.pad, float("-inf"))
            # Gumbel noise g = -log(-log(U)); ``noise`` holds -g.
            noise = torch.rand(logits.shape, generator=generator, device=raw.device, dtype=raw.dtype)
            noise.clamp_(min=_TINY).log_().neg_().log_()
            block = torch.softmax((logits - noise) / self.tau, dim=-1)
            block = block.reshape(batch, -1)
            pieces.append(block[:, bucket.valid_flat] if bucket.padded else block)
        return torch.cat(pieces, dim=1)[:, self.inverse]

    def _hard(self, raw: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Generation-time activation: tanh scalars and one category per softmax span.

        Each category is drawn from the span's ``softmax(logits)`` by inverse CDF, the same
        distribution as gumbel-max (``argmax(logits + gumbel)``) with one uniform per span
        instead of one per category; the ones are scattered straight into the output.
        """
        out = torch.zeros_like(raw)
        out[:, self.tanh_index] = torch.tanh(raw[:, self.tanh_index])
        batch = raw.shape[0]
        for bucket in self.buckets:
            logits = raw[:, bucket.index]
            if bucket.padded:
                logits = logits.masked_fill(bucket.pad, float("-inf"))
            cdf = torch.softmax(logits, dim=-1).cumsum_(dim=-1)
            u = torch.rand(logits.shape[:-1] + (1,), generator=generator, device=raw.device, dtype=raw.dtype)
            choice = (cdf < u * cdf[..., -1:]).sum(dim=-1).clamp_(max=bucket.width - 1)
            columns = bucket.index.expand(batch, -1, -1).gather(2, choice.unsqueeze(2)).squeeze(2)
            out.scatter_(1, columns, 1.0)
        return out
