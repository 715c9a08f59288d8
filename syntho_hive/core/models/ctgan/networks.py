"""CTGAN's two networks: a residual generator and a PacGAN critic.

Both are built without touching torch's global RNG: modules are created on the ``meta``
device, materialised with :meth:`torch.nn.Module.to_empty` and initialised from a local
:class:`torch.Generator`. The critic's dropout draws its mask from a generator passed to
``forward`` so a seeded run is bit-identical.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Residual", "Generator", "Discriminator", "init_parameters"]


class Residual(nn.Module):
    """``Linear -> BatchNorm1d -> ReLU``, its output concatenated to its input.

    Args:
        in_dim: Width of the input.
        out_dim: Width added by the block (the output is ``in_dim + out_dim`` wide).
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``cat([relu(bn(fc(x))), x], dim=1)``."""
        return torch.cat([self.bn(self.fc(x)).relu_(), x], dim=1)


class Generator(nn.Module):
    """Residual MLP mapping ``[noise, condition, context]`` to raw (pre-activation) rows.

    Args:
        input_dim: Width of ``[noise, condition, context]``.
        hidden_dims: Width added by each residual block.
        data_dim: Width of a transformed row.
    """

    def __init__(self, input_dim: int, hidden_dims: Sequence[int], data_dim: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = input_dim
        for hidden in hidden_dims:
            blocks.append(Residual(width, int(hidden)))
            width += int(hidden)
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, data_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw generator output, shape ``(batch, data_dim)``, always float32.

        Under a bfloat16 autocast (``precision="bfloat16"``) the residual blocks run in bfloat16
        but the output layer stays in float32: its values become the scalars of every numerical
        column, and bfloat16's 8-bit mantissa would put them on a visible grid.
        """
        hidden = self.body(x)
        with torch.autocast(device_type=x.device.type, enabled=False):
            return self.head(hidden.float())


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
        keep = 1.0 - self.dropout
        for layer in self.hidden:
            h = nn.functional.leaky_relu(layer(h), 0.2)
            if use_dropout:
                # Bernoulli(keep) mask as ``U < keep`` (same distribution as ``bernoulli_``,
                # about twice as fast on CPU), scaled so the expected activation is unchanged.
                mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
                h = h * mask.to(h.dtype).mul_(1.0 / keep)
        with torch.autocast(device_type=x.device.type, enabled=False):  # scores in float32
            return self.head(h.float())


def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """(Re)initialise every ``Linear`` and ``BatchNorm1d`` of ``module`` from ``generator``.

    ``Linear`` layers get PyTorch's default scheme (Kaiming-uniform weights, uniform bias in
    ``±1/sqrt(fan_in)``), reproducibly.

    Args:
        module: A module whose parameters may be uninitialised (e.g. after ``to_empty``).
        generator: A CPU generator (values are drawn on CPU then copied, so CPU and GPU
            runs start from the same weights).

    Returns:
        ``module``.
    """
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Linear):
                weight = torch.empty(sub.weight.shape, dtype=sub.weight.dtype)
                nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
                sub.weight.copy_(weight)
                if sub.bias is not None:
                    bound = 1.0 / math.sqrt(sub.in_features) if sub.in_features > 0 else 0.0
                    bias = torch.empty(sub.bias.shape, dtype=sub.bias.dtype)
                    nn.init.uniform_(bias, -bound, bound, generator=generator)
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
