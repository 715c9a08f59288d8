"""CTGAN's two networks: a residual generator and a PacGAN critic.

Both are built without touching torch's global RNG: modules are created on the ``meta``
device, materialised with :meth:`torch.nn.Module.to_empty` and initialised from a local
:class:`torch.Generator`. The critic's dropout draws its mask from a generator passed to
``forward`` so a seeded run is bit-identical.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

__all__ = ["Generator", "Discriminator", "init_parameters"]

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

    This computes the same function as the concatenating form (equal up to float rounding), and
    :meth:`residual_state_dict` / :meth:`load_residual_state_dict` convert between the two.

    Args:
        dense_dim: Width of the dense input ``[noise, context]``.
        hidden_dims: Width added by each residual block.
        data_dim: Width of a transformed row.
        condition_dim: Width of the one-hot conditional vector (0: none).
        condition_offset: Position of the conditional vector in the concatenating form's
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

    # ------------------------------------------------------------------ the concatenating form
    def _input_columns(self) -> tuple[slice, slice, slice]:
        """Noise, condition and context columns of ``x`` in the concatenating form."""
        noise = slice(0, self.condition_offset)
        cond = slice(self.condition_offset, self.condition_offset + self.condition_dim)
        return noise, cond, slice(cond.stop, self.dense_dim + self.condition_dim)

    def residual_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights in the concatenating form (``body.{k}.fc``, ``body.{k}.bn``, ``head``).

        Returns:
            A state dict of the form the generator of SynthoHive 0.1.0 checkpoints used.
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

    def load_residual_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load weights given in the concatenating form (see :meth:`residual_state_dict`).

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
        """Initialise as the concatenating form's ``Linear`` layers would be (see :func:`init_parameters`).

        The weights are drawn layer by layer for the concatenating form (block 1, block 2, ...,
        head), so a seed gives the same initial function as in SynthoHive 0.1.0.
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
            self.load_residual_state_dict(state)


class Discriminator(nn.Module):
    """PacGAN critic: scores groups of ``pac`` rows jointly (WGAN critic, no sigmoid).

    Each hidden layer is ``Linear -> LeakyReLU(0.2) -> Dropout(0.5)``; the dropout mask is
    drawn from the ``generator`` passed to :meth:`forward` (no dropout when it is ``None``
    or in eval mode).

    Args:
        input_dim: Width of one row ``[data, condition, context]``.
        hidden_dims: Hidden layer widths.
        pac: Number of rows packed into one critic sample.
        dropout: Dropout probability.
    """

    def __init__(self, input_dim: int, hidden_dims: Sequence[int], pac: int = 10,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.pac = int(pac)
        self.pac_dim = input_dim * self.pac
        self.dropout = float(dropout)
        widths = [self.pac_dim, *map(int, hidden_dims)]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Critic scores, shape ``(batch // pac, 1)``.

        Args:
            x: Rows, shape ``(batch, input_dim)`` with ``batch`` a multiple of ``pac``.
            generator: Source of the dropout masks (training only).
        """
        h = x.reshape(-1, self.pac_dim)
        use_dropout = self.training and generator is not None and self.dropout > 0
        for layer in self.hidden:
            h = nn.functional.leaky_relu(layer(h), _SLOPE)
            if use_dropout:
                h = h * self._dropout_mask(h, generator)
        with torch.autocast(device_type=x.device.type, enabled=False):  # scores in float32
            return self.head(h.float())

    def _dropout_mask(self, h: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Bernoulli(keep) mask scaled by ``1 / keep`` (expected activation unchanged).

        Drawn as ``U < keep``: the same distribution as ``bernoulli_``, about twice as fast on CPU.
        """
        keep = 1.0 - self.dropout
        mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
        return mask.to(h.dtype).mul_(1.0 / keep)

    def input_gradient(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Gradient of each group's score with respect to its packed input, written out.

        For this network ``d score / d x = s_1 (... s_L (w_head) W_L ...) W_1`` where ``s_l`` is
        layer ``l``'s LeakyReLU slope (1 or 0.2) times its dropout mask. The slopes are
        piecewise constant in the parameters, so this expression has the same value and the
        same parameter gradients as differentiating ``forward`` with ``create_graph=True``, but
        its backward pass is a plain first-order one: no double backward through the
        activations, and no gradient for the input or the forward's weights that nothing
        uses. It is what makes the WGAN-GP penalty affordable (a third of a training step
        otherwise).

        Args:
            x: Rows, shape ``(batch, input_dim)`` with ``batch`` a multiple of ``pac``.
            generator: Source of the dropout masks, drawn exactly as :meth:`forward` draws
                them (so the same generator state gives the same masks).

        Returns:
            Shape ``(batch // pac, pac * input_dim)``, differentiable w.r.t. the parameters.
        """
        h = x.reshape(-1, self.pac_dim)
        use_dropout = self.training and generator is not None and self.dropout > 0
        scales: list[torch.Tensor] = []
        with torch.no_grad():
            for layer in self.hidden:
                z = layer(h)
                scale = torch.where(z > 0, 1.0, _SLOPE).to(z.dtype)
                h = nn.functional.leaky_relu(z, _SLOPE)
                if use_dropout:
                    mask = self._dropout_mask(h, generator)
                    h = h * mask
                    scale = scale * mask
                scales.append(scale)
        grad = scales[-1] * self.head.weight.to(scales[-1].dtype)
        for layer, scale in zip(reversed(self.hidden[1:]), reversed(scales[:-1])):
            grad = torch.mm(grad, layer.weight) * scale
        return torch.mm(grad, self.hidden[0].weight)


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
    ``±1/sqrt(fan_in)``), reproducibly. A :class:`Generator` is initialised as its
    concatenating form (:meth:`Generator.init_parameters`).

    Args:
        module: A module whose parameters may be uninitialised (e.g. after ``to_empty``).
        generator: A CPU generator (values are drawn on CPU then copied, so CPU and GPU
            runs start from the same weights).

    Returns:
        ``module``.
    """
    if isinstance(module, Generator):
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
    module = module.to_empty(device=device)
    if generator is not None:
        init_parameters(module, generator)
    else:
        for sub in module.modules():
            if isinstance(sub, nn.BatchNorm1d):
                sub.reset_parameters()
    return module
