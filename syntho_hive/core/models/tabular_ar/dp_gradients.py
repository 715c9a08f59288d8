"""Per-row clipped gradients of :class:`ARNetwork` in two backward passes, without per-row gradient tensors.

Every parameter of the network enters a row's loss in a way whose per-row gradient norm follows
from the gradients of the loss with respect to a few intermediate tensors (Goodfellow 2015, "Efficient
per-example gradient computations"):

* a gathered embedding row (``embedding``, ``context_embedding``) or an added vector (``target``,
  biases): the per-row gradient is the intermediate's gradient itself (a row's sub-columns index
  distinct embedding rows, so their squared norms add up);
* a matrix applied to one vector per row and target (``w_hidden``, ``w_out``): the per-row gradient
  is an outer product, whose norm is the product of the two vectors' norms;
* the layer norm's scale and shift: sums over the targets of ``dL/dy * x_hat`` and ``dL/dy``;
* the ordinal terms (networks with token places): ``ordinal_in`` scales a sub-column's vector by the
  row's token place (norm: place times the embedding gradient), ``ordinal_centre`` / ``ordinal_width``
  are vectors applied to the row's hidden state (norm: the hidden state's norm times the gradient of
  the row's centre / width), the width bias an added scalar.

The first pass (gradients of the summed loss with respect to those intermediates) gives each row's
gradient norm, hence its clipping factor ``min(1, C / norm)``; the second pass differentiates the
loss weighted by those factors, which is exactly the sum of the clipped per-row gradients. The
forward here computes what :meth:`ARNetwork.forward` computes (same operations; a test pins the
losses and the clipped sums against ``torch.func``'s per-row gradients).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from syntho_hive.core.models.tabular_ar.network import MASKED_SUM_MAX_SUB_COLUMNS, ARNetwork

__all__ = ["clipped_gradient_sum"]


def _summed(embedded: torch.Tensor, order_keys: torch.Tensor) -> torch.Tensor:
    """The embeddings placed before each target, summed (as in :meth:`ARNetwork.forward`)."""
    if embedded.shape[1] <= MASKED_SUM_MAX_SUB_COLUMNS:
        visible = (order_keys.unsqueeze(1) < order_keys.unsqueeze(2)).to(embedded.dtype)
        return torch.bmm(visible, embedded)
    order = order_keys.argsort(dim=1)
    rank = order.argsort(dim=1)
    width = embedded.shape[-1]
    in_order = embedded.gather(1, order.unsqueeze(-1).expand(-1, -1, width))
    before = in_order.cumsum(dim=1) - in_order
    return before.gather(1, rank.unsqueeze(-1).expand(-1, -1, width))


def _sq(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    return x.pow(2).sum(dim=dims)


def clipped_gradient_sum(net: ARNetwork, codes: torch.Tensor, order_keys: torch.Tensor,
                         context_codes: torch.Tensor | None, max_grad_norm: float) -> list[torch.Tensor]:
    """The sum over rows of each row's gradient clipped to ``max_grad_norm`` (L2 over all parameters).

    Args:
        net: The network (no dropout).
        codes: ``(rows, n_sub)`` tokens.
        order_keys: ``(rows, n_sub)`` order keys.
        context_codes: ``(rows, n_context_sub)`` tokens or ``None``.
        max_grad_norm: Clipping norm.

    Returns:
        One tensor per parameter of ``net.parameters()``, in that order.
    """
    params = list(net.parameters())
    rows = codes.shape[0]
    if rows == 0:
        return [torch.zeros_like(p) for p in params]
    embedded = net.embed(codes)
    z = _summed(embedded, order_keys) + net.target.unsqueeze(0)
    with_context = context_codes is not None and bool(net.context_cardinalities)
    if with_context:
        z = z + net.context_vector(context_codes, rows).unsqueeze(1)
    y = F.layer_norm(z, net.norm.normalized_shape, net.norm.weight, net.norm.bias, net.norm.eps)
    h = F.relu(y).transpose(0, 1)  # (target, rows, hidden)
    inputs, inners = [], []
    for layer in range(net.n_layers):
        inputs.append(h)
        inner = torch.baddbmm(net.b_hidden[layer].unsqueeze(1), h, net.w_hidden[layer])
        inners.append(inner)
        h = h + F.relu(inner)
    finals = h.unbind(0)
    logits = [torch.addmm(net.b_out[t], h_t, net.w_out[t]) for t, h_t in enumerate(finals)]
    heads, ordinal = logits, []  # the ordinal terms' row-wise centre and width pre-activation (net.head)
    if net.ordinal:
        heads = []
        for t, (h_t, lg) in enumerate(zip(finals, logits)):
            start = int(net.offsets[t])
            places = net.token_position[start:start + net.cardinalities[t]]
            centre = h_t @ net.ordinal_centre[t]
            width = h_t @ net.ordinal_width[t] + net.ordinal_width_bias[t]
            ordinal += [centre, width]
            heads.append(lg + places * centre.unsqueeze(1) - 0.5 * places.square() * F.softplus(width).unsqueeze(1))
    losses = torch.stack([F.cross_entropy(lg, codes[:, t], reduction="none") for t, lg in enumerate(heads)],
                         dim=1).sum(dim=1)
    grads = torch.autograd.grad(losses.sum(), [embedded, z, y, *inners, *logits, *ordinal], retain_graph=True)
    d_embedded, d_z, d_y = grads[0], grads[1], grads[2]
    d_inners = grads[3:3 + len(inners)]
    d_logits = grads[3 + len(inners):3 + len(inners) + len(logits)]
    d_ordinal = grads[3 + len(inners) + len(logits):]
    with torch.no_grad():
        norm2 = _sq(d_embedded, (1, 2)) + _sq(d_z, (1, 2))
        if net.ordinal:  # ordinal_in: one vector per sub-column, scaled by the row's token place
            places = net.token_position[codes + net.offsets]
            norm2 += (places.square() * _sq(d_embedded, (2,))).sum(dim=1)
        if with_context:
            norm2 += context_codes.shape[1] * _sq(d_z.sum(dim=1), (1,))
        x_hat = F.layer_norm(z, net.norm.normalized_shape, eps=net.norm.eps)
        norm2 += _sq((d_y * x_hat).sum(dim=1), (1,)) + _sq(d_y.sum(dim=1), (1,))
        for h_in, d_inner in zip(inputs, d_inners):  # (target, rows, hidden)
            norm2 += (_sq(h_in, (2,)) * _sq(d_inner, (2,))).sum(dim=0) + _sq(d_inner, (0, 2))
        for h_t, d_t in zip(finals, d_logits):
            norm2 += _sq(h_t, (1,)) * _sq(d_t, (1,)) + _sq(d_t, (1,))
        for t, h_t in enumerate(finals[:len(d_ordinal) // 2]):  # ordinal_centre, ordinal_width (+ its bias)
            d_centre, d_width = d_ordinal[2 * t], d_ordinal[2 * t + 1]
            norm2 += _sq(h_t, (1,)) * (d_centre.square() + d_width.square()) + d_width.square()
        factor = (max_grad_norm / (norm2.sqrt() + 1e-6)).clamp(max=1.0)
    clipped = torch.autograd.grad((losses * factor).sum(), params, allow_unused=True)
    return [g if g is not None else torch.zeros_like(p) for g, p in zip(clipped, params)]
