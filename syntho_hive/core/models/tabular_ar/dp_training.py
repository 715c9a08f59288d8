"""TabularAR's training under differential privacy: DP-SGD on every row, no held-out rows.

Unlike :func:`~syntho_hive.core.models.tabular_ar.training.train_network`, nothing is decided from
the real rows outside the private gradient steps: no validation split, early stopping or plateau
halving (they read a loss of real rows), no training loss in the records (it would be a statistic
of the rows released without noise), no dropout (the two-pass per-row gradients of
``dp_gradients`` run the network without it).
Training runs the planned steps and stops before the budget would be passed
(:class:`~syntho_hive.core.dp.accounting.DPPlan`), or when ``max_training_time`` runs out; each
epoch's record carries the epsilon spent so far.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from syntho_hive._random import child_seed, torch_generator
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.models._adam import Adam
from syntho_hive.core.models._dp_loop import run_dp_epochs
from syntho_hive.core.models._dp_sgd import add_noise
from syntho_hive.core.models.tabular_ar.dp_gradients import clipped_gradient_sum
from syntho_hive.core.models.tabular_ar.network import ARNetwork
from syntho_hive.core.models.tabular_ar.training import TrainingConfig, _order_keys

__all__ = ["DP_EPOCHS", "DP_LEARNING_RATE", "train_network_dp"]

#: Default learning rate under DP (``learning_rate=None``): Adam divides each step by the gradient's
#: spread, which DP noise dominates, so every weight moves about this much per step whatever its
#: signal; measured on Adult (benchmarks/RESULTS.md), 2e-4 beat the non-DP automatic rate (5e-4) at
#: epsilon 1 and 4 and tied at 10.
DP_LEARNING_RATE = 2e-4

#: Default DP-SGD epochs (``DPConfig.epochs=None``; at most the model's ``epochs``): the noise is calibrated
#: so they fit the budget. On Adult at epsilon 2.97 (benchmarks/RESULTS.md, mostlyai-qa accuracy, 2 seeds)
#: 20 / 40 / 80 epochs gave 0.913 / 0.926 / 0.933: more, noisier steps, averaged, go further than fewer,
#: cleaner ones.
DP_EPOCHS = 80

#: Decay per step of the weights' moving average, which the trained network takes at the end: the
#: last DP-SGD iterate carries the last steps' noise; the average (a few hundred steps) smooths it out.
_AVERAGE_DECAY = 0.99


def train_network_dp(net: ARNetwork, codes: np.ndarray, context: np.ndarray | None, config: TrainingConfig,
                     plan: DPPlan, *, epochs: int, batch_size: int, seed: int, progress_bar: bool = False,
                     on_epoch_end: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Fit ``net`` with DP-SGD on every row of ``codes``; return the steps taken.

    Args:
        net: A freshly initialised network.
        codes: ``(rows, n_sub)`` tokens (from the DP preprocessing).
        context: ``(rows, n_context_sub)`` tokens or ``None``.
        config: Learning rate, weight decay, order share and time budget (``patience``,
            ``validation_fraction`` and ``dropout`` do not apply).
        plan: The calibrated noise, sampling rate and most steps.
        epochs: Planned epochs.
        batch_size: Expected rows per step.
        seed: Seed of the batches, orders and noise.
        progress_bar: Show a tqdm bar over epochs.
        on_epoch_end: Called with each epoch's record (``epoch``, ``epsilon``, ``steps``, ``lr``,
            ``seconds``; ``train_loss`` / ``val_loss`` are ``None``).

    Returns:
        DP-SGD steps taken (what the privacy spent is computed from).

    Raises:
        TrainingError: The weights became non-finite (the message names the epoch).
    """
    n = codes.shape[0]
    all_codes = torch.as_tensor(codes, dtype=torch.long)
    all_ctx = torch.as_tensor(context, dtype=torch.long) if context is not None else None
    learning_rate = config.learning_rate if config.learning_rate is not None else DP_LEARNING_RATE
    generator = torch_generator(child_seed(seed, "dp-train"))
    noise = torch_generator(child_seed(seed, "dp-noise"))
    params = list(net.parameters())
    optimiser = Adam(net.parameters(), lr=learning_rate, weight_decay=config.weight_decay,
                     decoupled_weight_decay=True)

    def step(rows: torch.Tensor) -> None:
        batch = all_codes[rows]
        keys = _order_keys(batch.shape[0], net.n_sub, config.fixed_order_share, generator)
        sums = clipped_gradient_sum(net, batch, keys, all_ctx[rows] if all_ctx is not None else None,
                                    plan.config.max_grad_norm)
        add_noise(params, sums, noise_multiplier=plan.noise_multiplier, max_grad_norm=plan.config.max_grad_norm,
                  expected_batch=plan.sample_rate * n, generator=noise)
        optimiser.step()
        optimiser.zero_grad()

    return run_dp_epochs(net, plan, step, rows=n, epochs=epochs, generator=generator, model="TabularAR",
                         record_fields={"train_loss": None, "val_loss": None, "lr": learning_rate},
                         advice="lower learning_rate or raise max_grad_norm.",
                         start_fields={"learning_rate": learning_rate}, progress_bar=progress_bar,
                         max_seconds=config.max_training_time, average_decay=_AVERAGE_DECAY,
                         on_epoch_end=on_epoch_end)
