"""CTGAN's two networks: a residual generator and a PacGAN critic.

Both are built without touching torch's global RNG: modules are created on the ``meta``
device, given real storage on the target device and initialised from a local
:class:`torch.Generator`. The critic's dropout draws its mask from a generator passed to
``forward`` so a seeded run is bit-identical.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

__all__ = ["Generator", "FoldedGenerator", "Discriminator", "init_parameters"]

#: Negative slope of the critic's LeakyReLU.
_SLOPE = 0.2


class Generator(nn.Module):
    """CTGAN's residual generator, computed without re-multiplying what does not change.

    The network is the paper's: residual blocks ``h_k = ReLU(BN(W_k [h_{k-1}, ..., h_1, x]))``
    (each block's output concatenated to its input) and a linear head over
    ``[h_K, ..., h_1, x]``, where ``x = [noise, condition, context]``. Only the parametrisation
    differs, to save work on every step:

    * every block's weights over ``x`` are stacked in one ``body_input`` layer, so ``x`` is
      multiplied once, not once per block, and no block concatenates ``x`` to its output (which
      also spares the backward pass the gradient of ``x``, which nothing needs);
    * the conditional vector is one-hot, so its product with the weights is a row lookup
      (``body_condition``, ``head_condition``) given the index of the hot entry, not a matrix
      product with a mostly-zero matrix.

    This computes the same function as the concatenating form, the *reference form* (equal up to
    float rounding), and :meth:`reference_state_dict` / :meth:`load_reference_state_dict` convert
    between the two; checkpoints written before this parametrisation hold the reference form.

    Args:
        dense_dim: Width of the dense input ``[noise, context]``.
        hidden_dims: Width added by each residual block.
        data_dim: Width of a transformed row.
        condition_dim: Width of the one-hot conditional vector (0: none).
        condition_offset: Position of the conditional vector in the reference form's
            input ``[noise, condition, context]`` (the noise width); used only to convert weights.
    """

    def __init__(self, dense_dim: int, hidden_dims: Sequence[int], data_dim: int, *, condition_dim: int = 0,
                 condition_offset: int = 0) -> None:
        super().__init__()
        self.dense_dim = int(dense_dim)
        self.hidden_dims = [int(h) for h in hidden_dims]
        self.data_dim = int(data_dim)
        self.condition_dim = int(condition_dim)
        self.condition_offset = int(condition_offset)
        total = sum(self.hidden_dims)
        self.body_input = nn.Linear(self.dense_dim, total)
        self.body_condition = nn.Parameter(torch.empty(self.condition_dim, total))
        self.links = nn.ModuleList(nn.Linear(sum(self.hidden_dims[:k]), self.hidden_dims[k], bias=False)
                                   for k in range(1, len(self.hidden_dims)))
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for h in self.hidden_dims)
        self.head = nn.Linear(total + self.dense_dim, self.data_dim)
        self.head_condition = nn.Parameter(torch.empty(self.condition_dim, self.data_dim))

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """Raw (pre-activation) rows, shape ``(batch, data_dim)``, always float32.

        Under a bfloat16 autocast (``precision="bfloat16"``) the residual blocks run in bfloat16
        but the output layer stays in float32: its values become the scalars of every numerical
        column, and bfloat16's 8-bit mantissa would put them on a visible grid.

        Args:
            x: Dense input ``[noise, context]``, shape ``(batch, dense_dim)``.
            condition: Index of the hot entry of each row's conditional vector, shape
                ``(batch,)`` (required when ``condition_dim > 0``).
        """
        pre = self.body_input(x)
        if self.condition_dim:
            pre = pre + self.body_condition.index_select(0, condition)
        hidden: torch.Tensor | None = None
        for k, (piece, norm) in enumerate(zip(pre.split(self.hidden_dims, dim=1), self.norms)):
            z = piece.contiguous() if hidden is None else torch.addmm(piece, hidden, self.links[k - 1].weight.t())
            h = norm(z).relu_()
            hidden = h if hidden is None else torch.cat([h, hidden], dim=1)
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = self.head(torch.cat([hidden.float(), x.float()], dim=1))
            if self.condition_dim:
                out = out + self.head_condition.index_select(0, condition)
        return out

    @torch.no_grad()
    def inference(self, body_dtype: torch.dtype = torch.float32, output_order: torch.Tensor | None = None,
                  masked_columns: torch.Tensor | None = None, exact_columns: int | None = None) -> "FoldedGenerator":
        """This network as it computes in eval mode, with each batch norm folded into its weights.

        In eval mode a batch norm is the affine map ``gamma * (z - mean) / sqrt(var + eps) + beta``
        with fixed statistics, so it can be folded into the weights that produce ``z``; the head's
        input is then multiplied as two blocks (all hidden blocks at once, and ``x``) instead of
        being concatenated first. Generation uses this form: the same function as ``eval()`` +
        :meth:`forward` (equal up to float rounding) with two passes over the activations fewer
        per block and no concatenations.

        Args:
            body_dtype: Dtype of the hidden activations' arithmetic (``torch.bfloat16`` for
                ``precision="bfloat16"``, see :class:`FoldedGenerator`).
            output_order: Output columns to produce, in this order (a permutation of the raw
                columns, repeats allowed); ``None``: all, in matrix order. Lets the output
                activation read its spans without gathering them first.
            masked_columns: Output columns (positions in ``output_order``) to produce as ``-inf``.
            exact_columns: With a bfloat16 ``body_dtype``, only the first ``exact_columns``
                outputs get the head's dense part in float32 (see :class:`FoldedGenerator`);
                ``None``: all of them.

        Returns:
            A :class:`FoldedGenerator` holding copies of the current weights (take a new one
            after the weights change).
        """
        scales, shifts = [], []
        for norm in self.norms:
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            scales.append(scale)
            shifts.append(norm.bias - norm.running_mean * scale)
        scale = torch.cat(scales)
        body_weight = (self.body_input.weight * scale[:, None]).t().contiguous()
        body_bias = self.body_input.bias * scale + torch.cat(shifts)
        body_condition = (self.body_condition * scale).contiguous() if self.condition_dim else None
        # links[k-1] maps [h_{k-1}, ..., h_1] (newest first) to block k; split it per source block.
        links: list[list[torch.Tensor]] = []
        for k in range(1, len(self.hidden_dims)):
            weight = self.links[k - 1].weight * scales[k][:, None]
            pieces, column = [], 0
            for j in range(k - 1, -1, -1):
                pieces.append(weight[:, column:column + self.hidden_dims[j]].t().contiguous())
                column += self.hidden_dims[j]
            links.append(pieces[::-1])  # links[k-1][j]: the weights over h_{j+1}
        total = sum(self.hidden_dims)
        head, head_bias = self.head.weight, self.head.bias
        head_condition = self.head_condition if self.condition_dim else None
        if output_order is not None:
            head, head_bias = head[output_order], head_bias[output_order]
            head_condition = head_condition[:, output_order] if head_condition is not None else None
        if masked_columns is not None:
            head = head.masked_fill(masked_columns[:, None], 0.0)
            head_bias = head_bias.masked_fill(masked_columns, float("-inf"))
            if head_condition is not None:
                head_condition = head_condition.masked_fill(masked_columns, 0.0)
        # The head holds [h_K, ..., h_1, x] (newest block first); put the blocks in h_1..h_K order,
        # the order of the hidden activations' columns.
        blocks, column = [None] * len(self.hidden_dims), 0
        for j in range(len(self.hidden_dims) - 1, -1, -1):
            blocks[j] = head[:, column:column + self.hidden_dims[j]]
            column += self.hidden_dims[j]
        return FoldedGenerator(
            body_weight=body_weight, body_bias=body_bias, body_condition=body_condition,
            hidden_dims=list(self.hidden_dims), links=links,
            head_hidden=torch.cat(blocks, dim=1).t().contiguous(),
            head_dense=head[:, total:].t().contiguous(), head_bias=head_bias.detach().clone(),
            head_condition=head_condition.detach().clone() if head_condition is not None else None,
            body_dtype=body_dtype, exact_columns=exact_columns)

    # ------------------------------------------------------------------ the reference form
    def _input_columns(self) -> tuple[slice, slice, slice]:
        """Noise, condition and context columns of ``x`` in the reference form."""
        noise = slice(0, self.condition_offset)
        cond = slice(self.condition_offset, self.condition_offset + self.condition_dim)
        return noise, cond, slice(cond.stop, self.dense_dim + self.condition_dim)

    def reference_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights in the reference form (``body.{k}.fc``, ``body.{k}.bn``, ``head``).

        Returns:
            A state dict in the reference form (what earlier checkpoints hold).
        """
        noise, _, ctx = self._input_columns()
        width = self.dense_dim + self.condition_dim
        state: dict[str, torch.Tensor] = {}
        starts = [sum(self.hidden_dims[:k]) for k in range(len(self.hidden_dims) + 1)]
        for k, hidden in enumerate(self.hidden_dims):
            rows = slice(starts[k], starts[k + 1])
            weight = torch.empty(hidden, starts[k] + width, dtype=self.head.weight.dtype)
            if k:
                weight[:, :starts[k]] = self.links[k - 1].weight.detach().cpu()
            dense = self.body_input.weight.detach().cpu()[rows]
            weight[:, starts[k]:][:, noise] = dense[:, :noise.stop]
            weight[:, starts[k]:][:, ctx] = dense[:, noise.stop:]
            weight[:, starts[k]:][:, self._input_columns()[1]] = self.body_condition.detach().cpu()[:, rows].t()
            state[f"body.{k}.fc.weight"] = weight
            state[f"body.{k}.fc.bias"] = self.body_input.bias.detach().cpu()[rows].clone()
            for name, value in self.norms[k].state_dict().items():
                state[f"body.{k}.bn.{name}"] = value.detach().cpu().clone()
        total = starts[-1]
        head = torch.empty(self.data_dim, total + width, dtype=self.head.weight.dtype)
        source = self.head.weight.detach().cpu()
        head[:, :total] = source[:, :total]
        head[:, total:][:, noise] = source[:, total:total + noise.stop]
        head[:, total:][:, ctx] = source[:, total + noise.stop:]
        head[:, total:][:, self._input_columns()[1]] = self.head_condition.detach().cpu().t()
        state["head.weight"] = head
        state["head.bias"] = self.head.bias.detach().cpu().clone()
        return state

    def load_reference_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load weights given in the reference form (see :meth:`reference_state_dict`).

        Args:
            state: ``body.{k}.fc.weight`` / ``.bias``, ``body.{k}.bn.*``, ``head.weight`` / ``.bias``.

        Raises:
            RuntimeError: A tensor is missing or has the wrong shape.
        """
        noise, cond, ctx = self._input_columns()
        width = self.dense_dim + self.condition_dim
        starts = [sum(self.hidden_dims[:k]) for k in range(len(self.hidden_dims) + 1)]
        dense_rows, cond_rows, biases, own = [], [], [], {}
        try:
            for k, hidden in enumerate(self.hidden_dims):
                weight = state[f"body.{k}.fc.weight"]
                if tuple(weight.shape) != (hidden, starts[k] + width):
                    raise RuntimeError(f"body.{k}.fc.weight has shape {tuple(weight.shape)}, expected "
                                       f"{(hidden, starts[k] + width)}")
                if k:
                    own[f"links.{k - 1}.weight"] = weight[:, :starts[k]]
                inputs = weight[:, starts[k]:]
                dense_rows.append(torch.cat([inputs[:, noise], inputs[:, ctx]], dim=1))
                cond_rows.append(inputs[:, cond])
                biases.append(state[f"body.{k}.fc.bias"])
                for name in self.norms[k].state_dict():
                    own[f"norms.{k}.{name}"] = state[f"body.{k}.bn.{name}"]
            head = state["head.weight"]
            own["head.bias"] = state["head.bias"]
        except KeyError as exc:
            raise RuntimeError(f"missing generator weight {exc}") from exc
        total = starts[-1]
        if tuple(head.shape) != (self.data_dim, total + width):
            raise RuntimeError(f"head.weight has shape {tuple(head.shape)}, expected {(self.data_dim, total + width)}")
        own["body_input.weight"] = torch.cat(dense_rows, dim=0)
        own["body_input.bias"] = torch.cat(biases)
        own["body_condition"] = torch.cat(cond_rows, dim=0).t().contiguous()
        inputs = head[:, total:]
        own["head.weight"] = torch.cat([head[:, :total], inputs[:, noise], inputs[:, ctx]], dim=1)
        own["head_condition"] = inputs[:, cond].t().contiguous()
        self.load_state_dict(own)

    def init_parameters(self, generator: torch.Generator) -> None:
        """Initialise as the reference form's ``Linear`` layers would be (see :func:`init_parameters`).

        The weights are drawn layer by layer for the reference form (block 1, block 2, ...,
        head), so a seed gives the same initial function as before this parametrisation.
        """
        width = self.dense_dim + self.condition_dim
        state: dict[str, torch.Tensor] = {}
        fan_in = width
        for k, hidden in enumerate(self.hidden_dims):
            weight, bias = _linear_init(hidden, fan_in, generator)
            state[f"body.{k}.fc.weight"], state[f"body.{k}.fc.bias"] = weight, bias
            norm = nn.BatchNorm1d(hidden)
            for name, value in norm.state_dict().items():
                state[f"body.{k}.bn.{name}"] = value
            fan_in += hidden
        state["head.weight"], state["head.bias"] = _linear_init(self.data_dim, fan_in, generator)
        with torch.no_grad():
            self.load_reference_state_dict(state)


class FoldedGenerator:
    """A :class:`Generator` in eval mode with its batch norms folded in (see :meth:`Generator.inference`).

    Plain tensors, no autograd: meant for generation under ``torch.inference_mode()``. Bias and
    condition rows are summed into one lookup table per layer, so a layer is one row gather
    followed by matrix products accumulated in place; the head multiplies all hidden blocks in
    one product (they are adjacent columns of one tensor) and the dense input in another.

    With ``body_dtype=torch.bfloat16`` the hidden activations and their products (the blocks and
    the head's product over them) are bfloat16, which CPUs with AMX and GPUs multiply several
    times faster; the head's product over the dense input, its bias and condition rows stay
    float32 and the two parts are summed in float32. The output's rounding error is then that of
    the bfloat16 blocks (relative ~2^-9), but the values stay continuous: the float32 part
    carries each row's own noise, so a scalar does not land on bfloat16's grid of 256 values
    per octave (which would be visible in a numerical column's values).

    Only scalars need that: a column that becomes a softmax logit only sets the odds of a
    category, and the bfloat16 product already rounds it by ~2^-9 of its size whatever the dense
    part's precision. With ``exact_columns=k`` (the scalars first, as the activation's span order
    puts them) the dense input is multiplied in float32 for the first ``k`` outputs only and in
    bfloat16, within the same product as the hidden blocks, for the others (timings in
    ``benchmarks/RESULTS.md``, "Design measurements").
    """

    def __init__(self, *, body_weight: torch.Tensor, body_bias: torch.Tensor, body_condition: torch.Tensor | None,
                 hidden_dims: list[int], links: list[list[torch.Tensor]], head_hidden: torch.Tensor,
                 head_dense: torch.Tensor, head_bias: torch.Tensor, head_condition: torch.Tensor | None,
                 body_dtype: torch.dtype = torch.float32, exact_columns: int | None = None) -> None:
        self.body_dtype = body_dtype
        self.body_weight = body_weight.to(body_dtype)
        self.body_bias = body_bias.to(body_dtype)
        self.body_table = None if body_condition is None else (body_condition + body_bias).to(body_dtype)
        self.hidden_dims = hidden_dims
        self.links = [[w.to(body_dtype) for w in pieces] for pieces in links]
        self.head_hidden = head_hidden.to(body_dtype)
        self.head_dense, self.head_bias = head_dense, head_bias
        self.head_table = None if head_condition is None else head_condition + head_bias
        #: Leading outputs whose dense part is float32 (all of them in float32 or by default).
        self.exact = head_dense.shape[1] if exact_columns is None or body_dtype == torch.float32 else \
            max(0, min(int(exact_columns), head_dense.shape[1]))
        self.head_dense_low: torch.Tensor | None = None
        if self.exact < head_dense.shape[1]:
            # The dense part of the other outputs in bfloat16 (zero for the exact ones, which get it
            # in float32), and the exact ones' float32 weights.
            self.head_dense_low = head_dense.masked_fill(
                torch.arange(head_dense.shape[1], device=head_dense.device) < self.exact, 0.0).to(body_dtype)
            self.head_dense = head_dense[:, :self.exact].contiguous()

    def __call__(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """Raw rows, as :meth:`Generator.forward` in eval mode.

        Args:
            x: Dense input ``[noise, context]``, float32, shape ``(batch, dense_dim)``.
            condition: Index of the hot entry of each row's conditional vector (when the
                generator has one).

        Returns:
            Float32 tensor of shape ``(batch, len(output_order))`` (``data_dim`` by default).
        """
        with torch.autocast(device_type=x.device.type, enabled=False):
            body_x = x.to(self.body_dtype)
            if self.body_table is not None:
                pre = self.body_table.index_select(0, condition).addmm_(body_x, self.body_weight)
            else:
                pre = torch.addmm(self.body_bias, body_x, self.body_weight)
            hidden: list[torch.Tensor] = []
            for k, block in enumerate(pre.split(self.hidden_dims, dim=1)):
                for h, weight in zip(hidden, self.links[k - 1] if k else ()):
                    block.addmm_(h, weight)
                hidden.append(block.relu_())
            if self.head_table is not None:
                out = self.head_table.index_select(0, condition)
            else:
                out = self.head_bias.expand(x.shape[0], -1).clone()
            if self.exact:  # head_dense holds the exact outputs' float32 dense weights
                out[:, :self.exact].addmm_(x, self.head_dense)
            if self.body_dtype == torch.float32:
                out.addmm_(pre, self.head_hidden)
            else:
                low = pre @ self.head_hidden if self.head_dense_low is None else \
                    torch.addmm(body_x @ self.head_dense_low, pre, self.head_hidden)
                out.add_(low)
        return out


class Discriminator(nn.Module):
    """PacGAN critic: scores groups of ``pac`` rows jointly (WGAN critic, no sigmoid).

    Each hidden layer is ``Linear -> LeakyReLU(0.2) -> Dropout(0.5)``; the dropout mask is
    drawn from the ``generator`` passed to :meth:`forward` (no dropout when it is ``None``
    or in eval mode). A row is ``[data, condition, context]`` and a group packs ``pac`` rows.

    As in :class:`Generator`, the first layer takes the one-hot conditional vector as the
    index of its hot entry: its weights over the ``pac`` condition blocks are a lookup table
    (``condition``, one row per block entry) summed per group, and ``hidden[0]`` multiplies
    only the dense ``[data, context]`` part. That is the paper's function with ~40% fewer
    multiplications in the first layer (which dominates the critic); :meth:`reference_state_dict`
    gives the weights as one ``Linear`` over whole packed rows (the *reference form*, which
    checkpoints written before this parametrisation hold).

    Args:
        input_dim: Width of one row ``[data, condition, context]``.
        hidden_dims: Hidden layer widths.
        pac: Number of rows packed into one critic sample.
        dropout: Dropout probability.
        condition_dim: Width of the one-hot conditional vector (0: none).
        condition_offset: Position of the conditional vector in a row (the data width).
    """

    def __init__(self, input_dim: int, hidden_dims: Sequence[int], pac: int = 10, dropout: float = 0.5, *,
                 condition_dim: int = 0, condition_offset: int = 0) -> None:
        super().__init__()
        self.pac = int(pac)
        self.input_dim = int(input_dim)
        self.condition_dim = int(condition_dim)
        self.condition_offset = int(condition_offset)
        self.dense_dim = self.input_dim - self.condition_dim
        self.pac_dim = self.dense_dim * self.pac
        self.dropout = float(dropout)
        widths = [self.pac_dim, *map(int, hidden_dims)]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.condition = nn.Parameter(torch.empty(self.pac * self.condition_dim, widths[1]))
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Critic scores, shape ``(batch // pac, 1)``.

        Args:
            x: Dense part of the rows ``[data, context]``, shape ``(batch, dense_dim)`` with
                ``batch`` a multiple of ``pac``.
            condition: Index of the hot entry of each row's conditional vector, ``(batch,)``
                (required when ``condition_dim > 0``).
            generator: Source of the dropout masks (training only).
        """
        return self.from_first_layer(self.first_layer(x, condition), generator)

    def first_layer(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-activations of the first layer, shape ``(batch // pac, hidden_dims[0])``."""
        z = self.hidden[0](x.reshape(-1, self.pac_dim))
        if self.condition_dim:
            blocks = torch.arange(self.pac, device=x.device) * self.condition_dim
            z = z + nn.functional.embedding_bag(condition.reshape(-1, self.pac) + blocks, self.condition,
                                                mode="sum")
        return z

    def from_first_layer(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Scores from the first layer's pre-activations (see :meth:`first_layer`)."""
        use_dropout = self.training and generator is not None and self.dropout > 0
        h = z
        for k, layer in enumerate(self.hidden):
            h = nn.functional.leaky_relu(layer(h) if k else h, _SLOPE)
            if use_dropout:
                h = h * self._dropout_mask(h, generator)
        with torch.autocast(device_type=z.device.type, enabled=False):  # scores in float32
            return self.head(h.float())

    def _dropout_mask(self, h: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Bernoulli(keep) mask scaled by ``1 / keep`` (expected activation unchanged).

        Drawn as ``U < keep``: the same distribution as ``bernoulli_``, about twice as fast on CPU.
        """
        keep = 1.0 - self.dropout
        mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
        return mask.to(h.dtype).mul_(1.0 / keep)

    def input_gradient(self, first: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Gradient of each group's score with respect to its packed input, written out.

        For this network ``d score / d x = s_1 (... s_L (w_head) W_L ...) W_1`` where ``s_l`` is
        layer ``l``'s LeakyReLU slope (1 or 0.2) times its dropout mask. The slopes are
        piecewise constant in the parameters, so this expression has the same value and the
        same parameter gradients as differentiating ``forward`` with ``create_graph=True``, but
        its backward pass is a plain first-order one: no double backward through the
        activations, and no gradient for the input or the forward's weights that nothing
        uses. It is what makes the WGAN-GP penalty affordable (a third of a training step
        otherwise).

        The input enters only through the first layer's pre-activations, which are linear in
        it: the caller passes them (for WGAN-GP's interpolated rows, the same interpolation of
        the real and fake rows' pre-activations) instead of the rows.

        Args:
            first: First-layer pre-activations (:meth:`first_layer`), ``(groups, hidden_dims[0])``;
                no gradient flows into them.
            generator: Source of the dropout masks, drawn exactly as :meth:`forward` draws
                them (so the same generator state gives the same masks).

        Returns:
            Shape ``(groups, pac * input_dim)``: the gradient over the dense parts of the
            packed rows, then over their condition blocks; differentiable w.r.t. the parameters.
        """
        use_dropout = self.training and generator is not None and self.dropout > 0
        scales: list[torch.Tensor] = []
        with torch.no_grad():
            z = first.detach()
            for following in (*self.hidden[1:], None):
                scale = torch.where(z > 0, 1.0, _SLOPE).to(z.dtype)
                h = nn.functional.leaky_relu(z, _SLOPE)
                if use_dropout:
                    mask = self._dropout_mask(h, generator)
                    h = h * mask
                    scale = scale * mask
                scales.append(scale)
                if following is not None:
                    z = following(h)
        grad = scales[-1] * self.head.weight.to(scales[-1].dtype)
        for layer, scale in zip(reversed(self.hidden[1:]), reversed(scales[:-1])):
            grad = torch.mm(grad, layer.weight) * scale
        dense = torch.mm(grad, self.hidden[0].weight)
        if not self.condition_dim:
            return dense
        return torch.cat([dense, torch.mm(grad, self.condition.t())], dim=1)

    # ------------------------------------------------------------------ the reference form
    def _row_columns(self) -> tuple[slice, slice, slice]:
        """Data, condition and context columns of one row ``[data, condition, context]``."""
        cond = slice(self.condition_offset, self.condition_offset + self.condition_dim)
        return slice(0, cond.start), cond, slice(cond.stop, self.input_dim)

    def reference_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights with the first layer as one ``Linear`` over whole packed rows.

        Returns:
            A state dict in the reference form (what earlier checkpoints hold).
        """
        data, cond, ctx = self._row_columns()
        state = {k: v.detach().cpu().clone() for k, v in self.state_dict().items() if k != "condition"}
        dense = state["hidden.0.weight"].reshape(-1, self.pac, self.dense_dim)
        width = dense.shape[0]
        weight = torch.empty(width, self.pac, self.input_dim, dtype=dense.dtype)
        weight[:, :, data] = dense[:, :, :data.stop]
        weight[:, :, ctx] = dense[:, :, data.stop:]
        weight[:, :, cond] = self.condition.detach().cpu().reshape(self.pac, self.condition_dim, width).permute(2, 0, 1)
        state["hidden.0.weight"] = weight.reshape(width, -1)
        return state

    def load_reference_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load weights given in the form of :meth:`reference_state_dict`.

        Raises:
            RuntimeError: A tensor is missing or has the wrong shape.
        """
        data, cond, ctx = self._row_columns()
        own = dict(state)
        if "hidden.0.weight" not in own:
            raise RuntimeError("missing critic weight 'hidden.0.weight'")
        weight = own["hidden.0.weight"]
        width = self.hidden[0].out_features
        if tuple(weight.shape) != (width, self.pac * self.input_dim):
            raise RuntimeError(f"hidden.0.weight has shape {tuple(weight.shape)}, expected "
                               f"{(width, self.pac * self.input_dim)}")
        rows = weight.reshape(width, self.pac, self.input_dim)
        own["hidden.0.weight"] = torch.cat([rows[:, :, data], rows[:, :, ctx]], dim=2).reshape(width, -1)
        own["condition"] = rows[:, :, cond].permute(1, 2, 0).reshape(-1, width).contiguous()
        self.load_state_dict(own)

    def init_parameters(self, generator: torch.Generator) -> None:
        """Initialise as the reference form's ``Linear`` layers would be (see :func:`init_parameters`)."""
        widths = [self.pac * self.input_dim, *(layer.out_features for layer in self.hidden)]
        state: dict[str, torch.Tensor] = {}
        for k in range(len(self.hidden)):
            state[f"hidden.{k}.weight"], state[f"hidden.{k}.bias"] = _linear_init(widths[k + 1], widths[k], generator)
        state["head.weight"], state["head.bias"] = _linear_init(1, widths[-1], generator)
        with torch.no_grad():
            self.load_reference_state_dict(state)


def _linear_init(out_features: int, in_features: int,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """PyTorch's default ``Linear`` initialisation, drawn from ``generator`` (CPU).

    Kaiming-uniform weights (``a = sqrt(5)``) and a uniform bias in ``±1/sqrt(in_features)``.
    """
    weight = torch.empty(out_features, in_features)
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
    bias = torch.empty(out_features)
    nn.init.uniform_(bias, -bound, bound, generator=generator)
    return weight, bias


def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """(Re)initialise every ``Linear`` and ``BatchNorm1d`` of ``module`` from ``generator``.

    ``Linear`` layers get PyTorch's default scheme (Kaiming-uniform weights, uniform bias in
    ``±1/sqrt(fan_in)``), reproducibly. CTGAN's networks are initialised as their
    reference form (:meth:`Generator.init_parameters`, :meth:`Discriminator.init_parameters`).

    Args:
        module: A module whose parameters may be uninitialised (e.g. just built by :func:`build`).
        generator: A CPU generator (values are drawn on CPU then copied, so CPU and GPU
            runs start from the same weights).

    Returns:
        ``module``.
    """
    if isinstance(module, (Generator, Discriminator)):
        module.init_parameters(generator)
        return module
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Linear):
                weight, bias = _linear_init(sub.out_features, sub.in_features, generator)
                sub.weight.copy_(weight)
                if sub.bias is not None:
                    sub.bias.copy_(bias)
            elif isinstance(sub, nn.BatchNorm1d):
                sub.reset_parameters()
    return module


def _materialise(module: nn.Module, device: torch.device) -> None:
    """Give the parameters and buffers of a module built on ``meta`` (uninitialised) storage on ``device``.

    What :meth:`torch.nn.Module.to_empty` does, allocating with ``torch.empty`` by shape:
    ``to_empty`` goes through ``empty_like``'s reference implementation for meta tensors, whose
    first use in a process imports ``torch.fx.experimental.symbolic_shapes`` (a noticeable start-up cost,
    see ``benchmarks/RESULTS.md``).
    """
    for sub in module.modules():
        for name, param in list(sub.named_parameters(recurse=False)):
            setattr(sub, name, nn.Parameter(torch.empty(param.shape, dtype=param.dtype, device=device),
                                            requires_grad=param.requires_grad))
        for name, buffer in list(sub.named_buffers(recurse=False)):
            setattr(sub, name, torch.empty(buffer.shape, dtype=buffer.dtype, device=device))


def build(cls: type[nn.Module], *args: object, device: torch.device,
          generator: torch.Generator | None = None, **kwargs: object) -> nn.Module:
    """Construct ``cls(*args, **kwargs)`` on ``device`` without using the global RNG.

    Args:
        cls: :class:`Generator` or :class:`Discriminator`.
        device: Target device.
        generator: CPU generator for the initial weights; ``None`` leaves them uninitialised
            except BatchNorm (use it when a state dict is loaded right after).

    Returns:
        The module on ``device``.
    """
    with torch.device("meta"):
        module = cls(*args, **kwargs)
    _materialise(module, device)
    if generator is not None:
        init_parameters(module, generator)
    else:
        for sub in module.modules():
            if isinstance(sub, nn.BatchNorm1d):
                sub.reset_parameters()
    return module
