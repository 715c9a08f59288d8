"""The masked any-order autoregressive network (after MADE and TabularARGN; our own code).

Every sub-column ``s`` has an embedding table (one ``hidden_dim`` vector per token). For a
row and an order of its sub-columns, the prediction of sub-column ``t`` sees the sum of the
embeddings of the sub-columns placed before ``t`` (a masked sum, one ``bmm`` for every
target at once), plus a learned embedding of the target itself and of the parent context::

    z_t = LayerNorm(sum_{s before t} E_s[x_s] + T_t + C(context))
    h_t = z_t + ReLU(W_t z_t + b_t)          (per-target weights, ``n_layers`` blocks)
    p(x_t | x_before) = softmax(V_t h_t + c_t)

Ordered sub-columns (numeric values) also carry each token's place ``u_k`` on a normal scale
(``SubColumn.positions``): the input embedding adds ``u_k D_s``, and the head adds
``u_k (a_t . h_t) - u_k^2 softplus(q_t . h_t + r_t) / 2``, a discretised Gaussian whose centre
and width follow the row. The free logits keep any shape; the ordinal terms let a small table
teach "a larger x goes with a larger y" with a few weights instead of one per bin pair.

Training draws a random order per row (a share of rows use the canonical column order,
which generation uses), so one network holds every conditional: generation, conditional
generation and imputation fix the known sub-columns first and sample the rest in order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ARNetwork"]

#: Up to this many sub-columns, training sums the visible embeddings with one masked batch
#: product (fastest for the usual table widths: 30% less time per step on a 17-sub-column
#: table); wider tables use an exclusive cumulative sum in each row's order (O(n_sub) per row,
#: and no ``rows x n_sub x n_sub`` mask in memory).
MASKED_SUM_MAX_SUB_COLUMNS = 128

#: Initial bias of the ordinal width (softplus(-3) = 0.05: a nearly flat Gaussian term at first).
_WIDTH_BIAS = -3.0

def _dropout(x: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout drawing its mask from ``generator`` (never the global RNG)."""
    if p <= 0.0 or generator is None:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep / (1.0 - p)


class ARNetwork(nn.Module):
    """Per-sub-column embeddings, masked sums, per-target residual MLPs and softmax heads.

    Args:
        cardinalities: Number of tokens of each modelled sub-column.
        context_cardinalities: Number of tokens of each parent-context sub-column.
        hidden_dim: Width of embeddings and hidden layers.
        n_layers: Per-target residual blocks.
        generator: Seeded generator for the initial weights (``None`` leaves them at zero,
            for loading a state dict).
        positions: Per sub-column token positions (``None`` entries: unordered), or ``None``
            for a network without ordinal terms (checkpoints saved before they existed).
    """

    def __init__(self, cardinalities: Sequence[int], context_cardinalities: Sequence[int] = (), *,
                 hidden_dim: int = 64, n_layers: int = 1, generator: torch.Generator | None = None,
                 positions: Sequence[Sequence[float] | None] | None = None) -> None:
        super().__init__()
        cards = [int(c) for c in cardinalities]
        ctx_cards = [int(c) for c in context_cardinalities]
        self.cardinalities = cards
        self.context_cardinalities = ctx_cards
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        n_sub = len(cards)
        self.register_buffer("offsets", torch.tensor([0, *cards[:-1]], dtype=torch.long).cumsum(0)
                             if cards else torch.zeros(0, dtype=torch.long), persistent=False)
        self.register_buffer("context_offsets", torch.tensor([0, *ctx_cards[:-1]], dtype=torch.long).cumsum(0)
                             if ctx_cards else torch.zeros(0, dtype=torch.long), persistent=False)
        self.embedding = nn.Parameter(torch.zeros(sum(cards), hidden_dim))
        self.context_embedding = nn.Parameter(torch.zeros(sum(ctx_cards), hidden_dim))
        self.target = nn.Parameter(torch.zeros(n_sub, hidden_dim))
        self.norm = nn.LayerNorm(hidden_dim)
        self.w_hidden = nn.Parameter(torch.zeros(n_layers, n_sub, hidden_dim, hidden_dim))
        self.b_hidden = nn.Parameter(torch.zeros(n_layers, n_sub, hidden_dim))
        self.w_out = nn.ParameterList([nn.Parameter(torch.zeros(hidden_dim, card)) for card in cards])
        self.b_out = nn.ParameterList([nn.Parameter(torch.zeros(card)) for card in cards])
        self.ordinal = positions is not None
        if self.ordinal:
            if len(positions) != n_sub:
                raise ValueError(f"positions has {len(positions)} entries for {n_sub} sub-columns")
            places = [torch.tensor(p, dtype=torch.float32) if p is not None else torch.zeros(c)
                      for p, c in zip(positions, cards)]
            if any(len(p) != c for p, c in zip(places, cards)):
                raise ValueError("positions must give one place per token")
            self.register_buffer("token_position", torch.cat(places) if places else torch.zeros(0),
                                 persistent=False)
            self.ordinal_in = nn.Parameter(torch.zeros(n_sub, hidden_dim))
            self.ordinal_centre = nn.Parameter(torch.zeros(n_sub, hidden_dim))
            self.ordinal_width = nn.Parameter(torch.zeros(n_sub, hidden_dim))
            self.ordinal_width_bias = nn.Parameter(torch.zeros(n_sub))
        if generator is not None:
            self.initialise(generator)

    @torch.no_grad()
    def initialise(self, generator: torch.Generator) -> None:
        """Draw the initial weights from ``generator``."""
        scale = 1.0 / math.sqrt(self.hidden_dim)
        for param in (self.embedding, self.context_embedding, self.target):
            param.copy_(torch.randn(param.shape, generator=generator) * scale)
        for param in (self.w_hidden, *self.w_out):
            param.copy_((torch.rand(param.shape, generator=generator) * 2 - 1) * scale)
        for param in (self.b_hidden, *self.b_out):
            param.zero_()
        if self.ordinal:
            for param in (self.ordinal_in, self.ordinal_centre, self.ordinal_width):
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
            self.ordinal_width_bias.fill_(_WIDTH_BIAS)

    @property
    def n_sub(self) -> int:
        return len(self.cardinalities)

    def context_vector(self, context_codes: torch.Tensor | None, rows: int) -> torch.Tensor:
        """The summed context embeddings, shape ``(rows, hidden_dim)`` (zeros without context)."""
        if context_codes is None or not self.context_cardinalities:
            return self.target.new_zeros(rows, self.hidden_dim)
        return F.embedding(context_codes + self.context_offsets, self.context_embedding).sum(dim=1)

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """Token embeddings, shape ``(rows, n_sub, hidden_dim)``.

        Looked up with ``F.embedding``, never ``self.embedding[index]``: the backward of tensor
        indexing on CPU adds the rows' gradients with atomic adds across intra-op threads, so with
        more than one thread their order (and so the float sums) would vary from run to run.
        """
        index = codes + self.offsets
        vectors = F.embedding(index, self.embedding)
        if not self.ordinal:
            return vectors
        return vectors + self.token_position[index].unsqueeze(-1) * self.ordinal_in

    def head(self, target: int, h: torch.Tensor) -> torch.Tensor:
        """Logits ``(rows, cardinality)`` of sub-column ``target`` from its hidden state ``(rows, hidden)``."""
        logits = torch.addmm(self.b_out[target], h, self.w_out[target])
        if not self.ordinal:
            return logits
        start = int(self.offsets[target]) if self.n_sub else 0
        places = self.token_position[start:start + self.cardinalities[target]]
        # places * centre(h) - places^2 * width(h) / 2 as one rank-2 update of the logits (no
        # (rows, cardinality) temporaries): [centre, width] @ [places, -places^2 / 2]
        pair = h @ torch.stack((self.ordinal_centre[target], self.ordinal_width[target]), dim=1)
        terms = torch.stack((pair[:, 0], F.softplus(pair[:, 1] + self.ordinal_width_bias[target])), dim=1)
        return torch.addmm(logits, terms, torch.stack((places, -0.5 * places.square())))

    def forward(self, codes: torch.Tensor, order_keys: torch.Tensor, context_codes: torch.Tensor | None = None,
                *, dropout: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-row negative log-likelihood (nats) of ``codes`` under the orders ``order_keys``.

        Args:
            codes: Tokens ``(rows, n_sub)``.
            order_keys: ``(rows, n_sub)``; sub-column ``s`` comes before ``t`` when
                ``order_keys[:, s] < order_keys[:, t]``.
            context_codes: Context tokens ``(rows, n_context_sub)`` or ``None``.
            dropout: Dropout rate on hidden activations.
            generator: Source of the dropout masks.

        Returns:
            ``(rows,)`` summed over sub-columns.
        """
        rows = codes.shape[0]
        embedded = self.embed(codes)
        if self.n_sub <= MASKED_SUM_MAX_SUB_COLUMNS:
            # Sum of the embeddings placed before each target: visible[r, t, s] = s comes before t.
            visible = (order_keys.unsqueeze(1) < order_keys.unsqueeze(2)).to(embedded.dtype)
            summed = torch.bmm(visible, embedded)  # (rows, target, hidden)
        else:
            # The same sum as an exclusive cumulative sum in each row's order.
            order = order_keys.argsort(dim=1)
            rank = order.argsort(dim=1)
            width = embedded.shape[-1]
            in_order = embedded.gather(1, order.unsqueeze(-1).expand(-1, -1, width))
            before = in_order.cumsum(dim=1) - in_order
            summed = before.gather(1, rank.unsqueeze(-1).expand(-1, -1, width))
        z = summed + self.target.unsqueeze(0)
        if context_codes is not None and self.context_cardinalities:
            z = z + self.context_vector(context_codes, rows).unsqueeze(1)
        h = F.relu(self.norm(z)).transpose(0, 1)  # (target, rows, hidden)
        for layer in range(self.n_layers):
            inner = torch.baddbmm(self.b_hidden[layer].unsqueeze(1), _dropout(h, dropout, generator),
                                  self.w_hidden[layer])
            h = h + F.relu(inner)
        h = _dropout(h, dropout, generator)
        if not self.n_sub:
            return codes.new_zeros(rows, dtype=h.dtype)
        losses = [F.cross_entropy(self.head(t, h_t), codes[:, t], reduction="none")
                  for t, h_t in enumerate(h.unbind(0))]  # per-target heads: no padded logits
        return torch.stack(losses, dim=1).sum(dim=1)

    def step_logits(self, target: int, summed: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        """Logits ``(rows, cardinality)`` of sub-column ``target`` given the summed visible embeddings."""
        z = summed + self.target[target]
        if context is not None:
            z += context
        h = torch.relu_(self.norm(z))
        for layer in range(self.n_layers):
            h += torch.relu_(torch.addmm(self.b_hidden[layer, target], h, self.w_hidden[layer, target]))
        return self.head(target, h)

    def token_embedding(self, target: int, tokens: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(rows, hidden_dim)`` of ``tokens`` of sub-column ``target``."""
        index = tokens + self.offsets[target]
        vectors = F.embedding(index, self.embedding)
        if not self.ordinal:
            return vectors
        return vectors + self.token_position[index].unsqueeze(-1) * self.ordinal_in[target]
