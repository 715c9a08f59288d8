"""Output activations: ``tanh`` on scalar spans, gumbel-softmax on one-hot spans.

Softmax spans are bucketed by width rounded up to a power of two and padded with ``-inf``
logits, so one gumbel-softmax call covers every span of a bucket (a few buckets in all,
at most 2x padding). One gather puts the raw columns in that bucketed order (tanh columns
first), one draw of uniforms serves every bucket's gumbel noise, and one more gather puts the
activated columns back in matrix order, dropping the padding: two gathers per call whatever
the number of buckets, and no per-span Python loop in the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from syntho_hive.core.data.spans import ColumnSpans

__all__ = ["SpanActivation"]

_TINY = 1e-30
#: Narrower spans draw their category from ``exp(logits - max)`` rather than ``softmax``: PyTorch's
#: CPU softmax over a last dimension of 2-8 entries is 2-4x slower than those three passes
#: (measured at 4,096 rows), while from 16 entries on the fused softmax is faster.
_FUSED_SOFTMAX_WIDTH = 16


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
        #: Rank of each of this bucket's spans among all softmax spans in matrix order (set later).
        self.span_rank = torch.zeros(len(spans), dtype=torch.int64, device=device)


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
        # Softmax spans are ranked by their first matrix column (matrix order).
        firsts = np.asarray(sorted(int(b.index[k, 0]) for b in self.buckets for k in range(b.index.shape[0])),
                            dtype=np.int64)
        for bucket in self.buckets:
            rank = np.searchsorted(firsts, bucket.index[:, 0].cpu().numpy())
            bucket.span_rank = torch.as_tensor(rank, dtype=torch.int64, device=device)
        #: Number of softmax spans (the width of :meth:`draw`'s ``codes``).
        self.n_softmax_spans = int(firsts.size)
        # Bucketed order: tanh columns, then each bucket's (span, slot) grid; padding slots
        # read column 0 (masked to -inf before use, so they carry no gradient).
        gather = [np.asarray(tanh_cols, dtype=np.int64)] + [b.index.cpu().numpy().ravel() for b in self.buckets]
        self.gather_index = torch.as_tensor(np.concatenate(gather), device=device)
        self.piece_widths = [len(tanh_cols)] + [int(b.index.numel()) for b in self.buckets]
        # Position in the bucketed order of each matrix column (padding slots are skipped).
        position = np.empty(offset, dtype=np.int64)
        position[np.asarray(tanh_cols, dtype=np.int64)] = np.arange(len(tanh_cols))
        start = len(tanh_cols)
        for bucket in self.buckets:
            position[bucket.columns] = start + bucket.valid_flat.cpu().numpy()
            start += int(bucket.index.numel())
        self.inverse = torch.as_tensor(position, device=device)
        #: Padding slots of the bucketed order (see :meth:`hard_from_ordered`).
        self.padding_slots = torch.cat([torch.zeros(len(tanh_cols), dtype=torch.bool, device=device)]
                                       + [b.pad.reshape(-1) for b in self.buckets])

    def __call__(self, raw: torch.Tensor, generator: torch.Generator, *, hard: bool = False) -> torch.Tensor:
        """Activated rows.

        Args:
            raw: Raw generator output, shape ``(batch, data_dim)``.
            generator: Source of the gumbel noise.
            hard: Return exact one-hot blocks (a category drawn from each span's softmax)
                instead of the differentiable gumbel-softmax relaxation (generation uses
                :meth:`draw`, the same draw without the one-hot blocks).

        Returns:
            Tensor of the same shape as ``raw``.
        """
        if hard:
            return self.hard_from_ordered(raw.index_select(1, self.gather_index), generator)
        batch = raw.shape[0]
        pieces = raw.index_select(1, self.gather_index).split(self.piece_widths, dim=1)
        out = [torch.tanh(pieces[0])]
        if self.buckets:
            # Gumbel noise g = -log(-log(U)) for every bucket at once; ``noise`` holds -g.
            noise = torch.rand((batch, sum(self.piece_widths[1:])), generator=generator, device=raw.device,
                               dtype=raw.dtype)
            noise = noise.clamp_(min=_TINY).log_().neg_().log_().split(self.piece_widths[1:], dim=1)
            for bucket, piece, minus_g in zip(self.buckets, pieces[1:], noise):
                logits = piece.reshape(batch, -1, bucket.width)
                if bucket.padded:
                    logits = logits.masked_fill(bucket.pad, float("-inf"))
                block = torch.softmax((logits - minus_g.reshape(logits.shape)) / self.tau, dim=-1)
                out.append(block.reshape(batch, -1))
        return torch.cat(out, dim=1).index_select(1, self.inverse)

    def hard_from_ordered(self, ordered: torch.Tensor, generator: torch.Generator, *,
                          padding_is_masked: bool = False) -> torch.Tensor:
        """Generation-time activation (``hard=True``) of raw columns in bucketed order (see :meth:`draw`).

        Returns:
            Activated rows in matrix order, shape ``(batch, data_dim)``: tanh scalars and
            exact one-hot blocks, one-hot at the entries :meth:`draw` draws.
        """
        scalars, codes = self.draw(ordered, generator, padding_is_masked=padding_is_masked)
        out = torch.zeros((ordered.shape[0], self.data_dim), dtype=ordered.dtype, device=ordered.device)
        out.index_copy_(1, self.tanh_index, scalars)
        for bucket in self.buckets:
            columns = bucket.index.expand(len(out), -1, -1).gather(2, codes[:, bucket.span_rank].unsqueeze(2))
            out.scatter_(1, columns.squeeze(2), 1.0)
        return out

    def draw(self, ordered: torch.Tensor, generator: torch.Generator, *, padding_is_masked: bool = False,
             scalars: torch.Tensor | None = None,
             codes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Generation's draw from raw columns in bucketed order: each tanh scalar, and the entry
        drawn in each softmax span (what exact one-hot blocks would hold, without the blocks).

        ``ordered`` is ``raw[:, gather_index]``: tanh columns first, then each bucket's padded
        span grid. A generator whose head produces its columns in that order
        (:meth:`Generator.inference` with ``output_order=gather_index``) spares the gather, and
        one that also writes ``-inf`` in the :attr:`padding_slots` (``masked_columns``) spares
        the masking.
        Each category is drawn from the span's ``softmax(logits)`` by inverse CDF, the same
        distribution as gumbel-max (``argmax(logits + gumbel)``) with one uniform per span
        instead of one per category.

        Args:
            ordered: Raw columns in bucketed order, shape ``(batch, len(gather_index))``.
            generator: Source of the uniforms.
            padding_is_masked: ``ordered`` already holds ``-inf`` in every padding slot.
            scalars: Where to write the scalars, ``(batch, tanh columns)`` (a new tensor when
                ``None``).
            codes: Where to write the drawn entries, int64 ``(batch, n_softmax_spans)`` (a new
                tensor when ``None``).

        Returns:
            ``(scalars, codes)``: the tanh columns in matrix order, and per softmax span (in
            matrix order) the index of the drawn entry within the span.
        """
        batch = ordered.shape[0]
        pieces = ordered.split(self.piece_widths, dim=1)
        if scalars is None:
            scalars = torch.empty((batch, self.piece_widths[0]), dtype=ordered.dtype, device=ordered.device)
        if codes is None:
            codes = torch.empty((batch, self.n_softmax_spans), dtype=torch.int64, device=ordered.device)
        torch.tanh(pieces[0], out=scalars)
        if not self.buckets:
            return scalars, codes
        spans = [int(bucket.index.shape[0]) for bucket in self.buckets]
        uniforms = torch.rand((batch, sum(spans)), generator=generator, device=ordered.device, dtype=ordered.dtype)
        for bucket, piece, u in zip(self.buckets, pieces[1:], uniforms.split(spans, dim=1)):
            logits = piece.reshape(batch, -1, bucket.width)
            if bucket.padded and not padding_is_masked:
                logits = logits.masked_fill(bucket.pad, float("-inf"))
            if bucket.width < _FUSED_SOFTMAX_WIDTH:
                # Unnormalised inverse CDF: the comparison below scales by the total anyway.
                cdf = (logits - logits.amax(dim=-1, keepdim=True)).exp_().cumsum_(dim=-1)
            else:
                cdf = torch.softmax(logits, dim=-1).cumsum_(dim=-1)
            choice = (cdf < u.unsqueeze(-1) * cdf[..., -1:]).sum(dim=-1).clamp_(max=bucket.width - 1)
            codes.index_copy_(1, bucket.span_rank, choice)
        return scalars, codes
