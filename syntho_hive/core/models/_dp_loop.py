"""The DP-SGD epoch loop every engine shares: steps, budget, time cap, records, averaged weights.

An engine supplies one ``step(rows)`` — its clipped per-row gradients, the noise and the optimiser
step for a Poisson batch — and this loop runs the planned steps (never more than the budget allows,
:class:`~syntho_hive.core.dp.accounting.DPPlan`), checks the weights after each epoch, hands each
epoch's record (with the epsilon spent so far) to the model, and optionally leaves the network at the
moving average of its iterates (post-processing: no extra budget).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.models._dp_sgd import poisson_batches
from syntho_hive.events import get_logger, progress
from syntho_hive.exceptions import TrainingError

__all__ = ["run_dp_epochs"]

_log = get_logger(__name__)


def run_dp_epochs(module: nn.Module, plan: DPPlan, step: Callable[[torch.Tensor], None], *, rows: int, epochs: int,
                  generator: torch.Generator, model: str, record_fields: Mapping[str, Any], advice: str,
                  start_fields: Mapping[str, Any], progress_bar: bool = False, max_seconds: float | None = None,
                  average_decay: float | None = None,
                  on_epoch_end: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Run DP-SGD over ``rows`` training rows; return the steps taken.

    Args:
        module: Every trained parameter (checked for finiteness, averaged).
        plan: The calibrated noise, sampling rate and most steps.
        step: One private step on a Poisson batch of row positions.
        rows: Training rows.
        epochs: Planned epochs.
        generator: Source of the batches.
        model: The engine's name (events, messages).
        record_fields: Fixed fields of every epoch record (e.g. ``train_loss: None``).
        advice: What to change when the weights diverge.
        start_fields: Engine fields of the ``dp_training_start`` event (learning rate; never the seed,
            the key of the noise).
        progress_bar: Show a tqdm bar over epochs.
        max_seconds: Training time budget (``None``: none).
        average_decay: Leave the network at the moving average of its iterates with this decay per
            step (``None``: the last iterate).
        on_epoch_end: Called with each epoch's record (``epoch``, ``seconds``, ``steps``, ``epsilon``
            and ``record_fields``), the module in eval mode.

    Raises:
        TrainingError: The weights became non-finite (the message names the epoch).
    """
    params = list(module.parameters())
    average = [p.detach().clone() for p in params] if average_decay is not None else None
    total_steps = min(plan.max_steps, plan.steps_per_epoch * epochs)
    _log.info("dp_training_start", model=model, rows=rows, expected_batch_size=round(plan.sample_rate * rows, 1),
              sample_rate=plan.sample_rate, noise_multiplier=plan.noise_multiplier,
              max_grad_norm=plan.config.max_grad_norm, steps=total_steps, **start_fields)
    started = time.perf_counter()
    taken = 0
    module.train()
    bar = progress(range(1, math.ceil(total_steps / plan.steps_per_epoch) + 1), enabled=progress_bar,
                   desc=f"Training {model} (DP)", unit="epoch")
    for epoch in bar:
        epoch_start = time.perf_counter()
        out_of_time = False
        for batch in poisson_batches(rows, plan.sample_rate, min(plan.steps_per_epoch, total_steps - taken), generator):
            step(batch)
            taken += 1
            if average is not None:
                with torch.no_grad():
                    for mean, param in zip(average, params):
                        mean.lerp_(param, 1.0 - average_decay)
            if max_seconds is not None and time.perf_counter() - started > max_seconds:
                out_of_time = True
                break
        if not all(torch.isfinite(p).all() for p in params):
            raise TrainingError(f"DP training of {model} diverged at epoch {epoch} (non-finite weights); {advice}")
        record = {"epoch": epoch, **record_fields, "seconds": time.perf_counter() - epoch_start, "steps": taken,
                  "epsilon": plan.spent(taken).epsilon}
        if on_epoch_end is not None:
            module.eval()
            with torch.no_grad():
                on_epoch_end(record)
            module.train()
        _log.info("epoch_end", model=model, **record)
        if out_of_time or taken >= total_steps:
            break
    if average is not None:  # the averaged weights: post-processing of the noisy steps, no extra budget
        with torch.no_grad():
            for param, mean in zip(params, average):
                param.copy_(mean)
    module.eval()
    _log.info("dp_training_complete", model=model, steps=taken, seconds=round(time.perf_counter() - started, 3))
    return taken
