"""Generation: sub-column by sub-column, batched over rows.

Known tokens (conditions, or the observed cells when imputing) are placed first in the order:
their embeddings start the running sum. Sub-columns restricted to a set of tokens are sampled
next, then the rest in canonical order. Sampling uses the inverse CDF with uniforms from the
caller's generator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch

from syntho_hive.core.models.tabular_ar.network import ARNetwork

__all__ = ["generate_tokens"]

_CHUNK = 8_192  # rows per pass: activations stay in cache


def _draw(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Inverse-CDF draw from unnormalised ``exp(logits)`` (one uniform per row)."""
    weights = (logits - logits.max(dim=1, keepdim=True).values).exp_()
    cdf = weights.cumsum(dim=1)
    u = torch.rand((logits.shape[0], 1), generator=generator, dtype=cdf.dtype) * cdf[:, -1:]
    return torch.searchsorted(cdf, u).squeeze(1).clamp_(max=logits.shape[1] - 1)


@torch.no_grad()
def generate_tokens(net: ARNetwork, rows: int, generator: torch.Generator, *,
                    context_codes: torch.Tensor | None = None, known_codes: torch.Tensor | None = None,
                    known_mask: torch.Tensor | None = None,
                    allowed: Mapping[int, torch.Tensor] | None = None,
                    excluded: Mapping[int, int] | None = None, temperature: float = 1.0,
                    masker: Callable[[int, np.ndarray], np.ndarray | None] | None = None) -> torch.Tensor:
    """Sample ``(rows, n_sub)`` tokens.

    Args:
        net: The trained network (eval mode).
        rows: Rows to generate.
        generator: Source of all randomness.
        context_codes: ``(rows, n_context_sub)`` context tokens.
        known_codes: ``(rows, n_sub)`` tokens kept where ``known_mask`` is true.
        known_mask: ``(rows, n_sub)`` booleans.
        allowed: ``{sub_column: bool mask over its tokens}`` restricting sampled tokens.
        excluded: ``{sub_column: token}`` never sampled (e.g. the null token when imputing).
        temperature: Softmax temperature (``< 1`` sharper, ``> 1`` flatter).
        masker: ``masker(t, tokens)``: per-row allowed tokens of sub-column ``t`` given the
            ``(rows, n_sub)`` tokens drawn so far, or ``None`` (see ``TableCodec.token_masker``).

    Returns:
        The tokens (long).
    """
    allowed = dict(allowed or {})
    excluded = dict(excluded or {})
    restricted = [t for t in range(net.n_sub) if t in allowed]
    order = restricted + [t for t in range(net.n_sub) if t not in allowed]
    pieces = []
    for start in range(0, rows, _CHUNK):
        stop = min(rows, start + _CHUNK)
        size = stop - start
        ctx = (net.context_vector(context_codes[start:stop], size)
               if context_codes is not None and net.context_cardinalities else None)
        out = torch.zeros((size, net.n_sub), dtype=torch.long)
        summed = net.target.new_zeros((size, net.hidden_dim))
        known = known_mask[start:stop] if known_mask is not None else None
        if known is not None:
            codes = known_codes[start:stop]
            out = torch.where(known, codes, out)
            for t in range(net.n_sub):
                if bool(known[:, t].any()):
                    summed += net.token_embedding(t, codes[:, t]) * known[:, t:t + 1]
        for t in order:
            todo = ~known[:, t] if known is not None else None
            if todo is not None and not bool(todo.any()):
                continue
            logits = net.step_logits(t, summed, ctx)
            if temperature != 1.0:
                logits = logits / temperature
            if t in allowed:
                logits.masked_fill_(~allowed[t].unsqueeze(0), float("-inf"))
            if t in excluded and net.cardinalities[t] > 1:
                logits[:, excluded[t]] = float("-inf")
            rows_mask = masker(t, out.numpy()) if masker is not None else None
            if rows_mask is not None:
                logits.masked_fill_(~torch.from_numpy(rows_mask), float("-inf"))
            drawn = _draw(logits, generator)
            if todo is None:
                out[:, t] = drawn
                summed += net.token_embedding(t, drawn)
            else:
                out[:, t] = torch.where(todo, drawn, out[:, t])
                summed += net.token_embedding(t, drawn) * todo.unsqueeze(1)
        pieces.append(out)
    return torch.cat(pieces) if len(pieces) > 1 else pieces[0]
