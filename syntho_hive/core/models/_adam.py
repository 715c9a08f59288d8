"""Adam / AdamW for the models' training loops, without ``torch.optim``'s per-process and per-step costs.

``torch.optim.Adam`` computes the same update, but the first optimiser a process builds imports
``torch._dynamo`` (paid by every CLI ``fit`` and the first fit of every worker) and each ``step()``
spends time in Python bookkeeping (parameter groups, state dictionaries, device grouping); the figures
are in ``benchmarks/RESULTS.md``, "Design measurements". :class:`Adam` keeps its
state in plain lists and calls PyTorch's fused Adam kernel (``torch._fused_adam_``, the kernel
``torch.optim.Adam(fused=True)`` runs; bit-identical to it) once per step; where that kernel is
missing (PyTorch < 2.4 on CPU, or a device without it) it runs the same update tensor by tensor.

The update (Kingma & Ba, 2015, Algorithm 1, with L2 weight decay added to the gradient as in
``torch.optim.Adam``), for step ``t``::

    g = grad + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

With ``decoupled_weight_decay=True`` it is AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``:
``g = grad`` and ``p = p * (1 - lr * weight_decay)`` before the update. :class:`PlateauHalving` lowers
the learning rate when a validation loss stops improving, as ``ReduceLROnPlateau`` (which needs a
``torch.optim`` optimiser) does with the settings TabularAR uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from syntho_hive.events import get_logger
from syntho_hive.exceptions import TrainingError

__all__ = ["Adam", "PlateauHalving"]

_log = get_logger(__name__)

#: Device types on which ``torch._fused_adam_`` was found to run (probed once per type).
_FUSED_SUPPORT: dict[str, bool] = {}


def _fused_kernel_runs(device: torch.device) -> bool:
    """Whether ``torch._fused_adam_`` and ``torch._fused_adamw_`` exist and run on ``device`` (one tiny
    probe per device type)."""
    if device.type not in _FUSED_SUPPORT:
        kernel = getattr(torch, "_fused_adam_", None) if hasattr(torch, "_fused_adamw_") else None
        works = kernel is not None
        if works:
            one = [torch.zeros(1, device=device)]
            try:
                kernel(one, [torch.ones(1, device=device)], [torch.zeros(1, device=device)],
                       [torch.zeros(1, device=device)], [], [torch.ones((), device=device)], lr=1e-3,
                       beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
            except (RuntimeError, NotImplementedError, TypeError):
                works = False  # the per-tensor update below computes the same values
        if not works:
            _log.debug("adam_fused_kernel_unavailable", device=device.type, torch=torch.__version__)
        _FUSED_SUPPORT[device.type] = works
    return _FUSED_SUPPORT[device.type]


class Adam:
    """Adam over a fixed list of parameters (one group, one learning rate).

    Args:
        params: The parameters to update (those with ``requires_grad``); a parameter whose
            ``grad`` is ``None`` at a step is left alone, and its step count does not advance.
        lr: Learning rate.
        betas: ``(beta1, beta2)``.
        eps: Added to the denominator.
        weight_decay: L2 penalty added to the gradient (Adam), or the decoupled decay rate (AdamW).
        decoupled_weight_decay: AdamW's decay (parameters shrunk by ``lr * weight_decay``) instead
            of an L2 penalty.

    Raises:
        TrainingError: A negative learning rate, epsilon or weight decay, or a beta outside [0, 1).
    """

    def __init__(self, params: Iterable[torch.Tensor], *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False) -> None:
        beta1, beta2 = (float(b) for b in betas)
        if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise TrainingError(f"Adam needs lr, eps, weight_decay >= 0 and betas in [0, 1); got lr={lr}, "
                                f"betas={betas}, eps={eps}, weight_decay={weight_decay}; pass values in "
                                "those ranges.")
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.beta1, self.beta2 = float(lr), beta1, beta2
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.decoupled = bool(decoupled_weight_decay)
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]
        self._fused = all(_fused_kernel_runs(p.device) for p in self.params) and \
            len({(p.device, p.dtype) for p in self.params}) <= 1

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (the next backward pass allocates fresh ones)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        active = [k for k, p in enumerate(self.params) if p.grad is not None]
        if not active:
            return
        params = [self.params[k] for k in active]
        grads = [p.grad for p in params]
        exp_avgs = [self.exp_avgs[k] for k in active]
        exp_avg_sqs = [self.exp_avg_sqs[k] for k in active]
        steps = [self.steps[k] for k in active]
        if self._fused:
            torch._foreach_add_(steps, 1)
            kernel = torch._fused_adamw_ if self.decoupled else torch._fused_adam_
            kernel(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=self.lr, beta1=self.beta1, beta2=self.beta2,
                   weight_decay=self.weight_decay, eps=self.eps, amsgrad=False, maximize=False)
            return
        for p, grad, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
            t += 1
            step = float(t)
            if self.decoupled:
                p.mul_(1 - self.lr * self.weight_decay)
            elif self.weight_decay:
                grad = grad.add(p, alpha=self.weight_decay)
            m.lerp_(grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            denom = (v.sqrt() / math.sqrt(1 - self.beta2 ** step)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / (1 - self.beta1 ** step))


class PlateauHalving:
    """Multiply an :class:`Adam`'s learning rate by ``factor`` when a loss has not improved for more
    than ``patience`` checks in a row.

    The loss improves when it is below ``best * (1 - threshold)``; after a reduction the count of
    checks without improvement starts again from zero. These are ``ReduceLROnPlateau``'s rules in its
    default ``mode="min"``, ``threshold_mode="rel"``, without cooldown or minimum rate.

    Args:
        optimiser: The optimiser whose ``lr`` is lowered.
        factor: Multiplier of the learning rate, in (0, 1).
        patience: Checks without improvement tolerated before lowering it.
        threshold: Relative improvement that counts.
    """

    def __init__(self, optimiser: Adam, *, factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4) -> None:
        self.optimiser = optimiser
        self.factor, self.patience, self.threshold = float(factor), int(patience), float(threshold)
        self.best = math.inf
        self.bad_checks = 0

    def step(self, loss: float) -> None:
        """Record one validation loss, lowering the learning rate when it has plateaued."""
        current = float(loss)
        if current < self.best * (1.0 - self.threshold):
            self.best, self.bad_checks = current, 0
        else:
            self.bad_checks += 1
        if self.bad_checks > self.patience:
            lowered = self.optimiser.lr * self.factor
            if self.optimiser.lr - lowered > 1e-8:  # ReduceLROnPlateau's eps: ignore negligible changes
                self.optimiser.lr = lowered
            self.bad_checks = 0
