"""Training loop: validation split, early stopping, learning-rate schedule, time budget.

Deterministic: shuffling, orders and dropout come from one local ``torch.Generator``; the
split from a local NumPy generator; validation uses a fixed seed each epoch. No kernel accumulates with
atomics on CPU (embeddings are looked up with ``F.embedding``), so a seeded fit is bit-identical across
runs and processes on the same device with the same number of torch threads; another thread count
splits the sums differently (last bits, and possibly the epoch where early stopping stops).
"""

from __future__ import annotations

import math
from collections.abc import Callable
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from syntho_hive._random import child_seed, numpy_generator, torch_generator
from syntho_hive.core.models._adam import Adam, PlateauHalving
from syntho_hive.core.models.tabular_ar.network import ARNetwork
from syntho_hive.events import get_logger, progress
from syntho_hive.exceptions import TrainingError

__all__ = ["TrainingConfig", "auto_batch_size", "auto_learning_rate", "BASE_LEARNING_RATE", "train_network"]

_log = get_logger(__name__)
_EVAL_BATCH = 4096
_MAX_VALIDATION_ROWS = 20_000
#: AdamW learning rate for batches of about ``rows / 40`` (about 40 steps per epoch).
BASE_LEARNING_RATE = 5e-4


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings.

    Attributes:
        learning_rate: AdamW learning rate at the start (halved on validation plateaus);
            ``None``: :func:`auto_learning_rate` with an automatic batch size, else
            :data:`BASE_LEARNING_RATE`.
        weight_decay: AdamW weight decay.
        batch_size: Rows per step; ``None``: :func:`auto_batch_size`.
        max_epochs: Upper bound on epochs.
        patience: Epochs without validation improvement before stopping.
        validation_fraction: Share of rows held out (none below 50 rows).
        max_training_time: Wall-clock budget in seconds (``None``: unbounded).
        fixed_order_share: Share of rows trained in the canonical column order (the rest in a
            random order).
        dropout: Dropout rate on hidden activations.
    """

    learning_rate: float | None = None
    weight_decay: float = 1e-5
    batch_size: int | None = None
    max_epochs: int = 100
    patience: int = 4
    validation_fraction: float = 0.1
    max_training_time: float | None = None
    fixed_order_share: float = 0.8
    dropout: float = 0.0


def _power_of_two(target: float) -> int:
    return int(min(1024, max(32, 2 ** round(math.log2(max(target, 1.0))))))


def auto_batch_size(n_rows: int) -> int:
    """A power of two near ``n_rows / 10`` (about ten steps per epoch), between 32 and 1024.

    Small tables train in few, larger steps: a step costs about the same below a few hundred
    rows (its cost is per-operation overhead, not arithmetic), so fewer steps per epoch make
    each epoch cheaper; :func:`auto_learning_rate` makes the steps correspondingly larger.
    """
    return _power_of_two(n_rows / 10.0)


def auto_learning_rate(n_rows: int, batch_size: int) -> float:
    """:data:`BASE_LEARNING_RATE` scaled by the square root of the batch growth.

    The base rate suits batches of about ``n_rows / 40`` (a power of two in [32, 1024]); a
    larger batch gets ``sqrt(batch_size / that)`` times the rate (the square-root scaling rule
    for Adam), never less than the base rate. With :func:`auto_batch_size` this is 1e-3 for
    tables up to about 10,000 training rows and 5e-4 from about 40,000.
    """
    reference = _power_of_two(n_rows / 40.0)
    return BASE_LEARNING_RATE * math.sqrt(max(batch_size / reference, 1.0))


def _order_keys(rows: int, n_sub: int, share: float, generator: torch.Generator) -> torch.Tensor:
    keys = torch.rand((rows, n_sub), generator=generator)
    fixed = torch.rand((rows, 1), generator=generator) < share
    canonical = torch.arange(n_sub, dtype=keys.dtype).unsqueeze(0) / max(n_sub, 1)
    return torch.where(fixed, canonical, keys)


@torch.no_grad()
def _evaluate(net: ARNetwork, codes: torch.Tensor, context: torch.Tensor | None, share: float,
              seed: int) -> float:
    net.eval()
    generator = torch_generator(seed)
    total = 0.0
    for start in range(0, codes.shape[0], _EVAL_BATCH):
        batch = codes[start:start + _EVAL_BATCH]
        keys = _order_keys(batch.shape[0], net.n_sub, share, generator)
        ctx = context[start:start + _EVAL_BATCH] if context is not None else None
        total += float(net(batch, keys, ctx).sum())
    net.train()
    return total / max(codes.shape[0], 1)


def _clone_state(net: ARNetwork) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def train_network(net: ARNetwork, codes: np.ndarray, context: np.ndarray | None, config: TrainingConfig, *,
                  seed: int, progress_bar: bool = False,
                  on_epoch_end: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Fit ``net`` on tokens ``codes`` (rows aligned with ``context`` tokens); keep the best weights.

    Args:
        net: A freshly initialised network.
        codes: ``(rows, n_sub)`` int64 tokens.
        context: ``(rows, n_context_sub)`` tokens or ``None``.
        config: Optimisation settings.
        seed: Seed of the split, shuffling, orders and dropout.
        progress_bar: Show a tqdm bar over epochs.
        on_epoch_end: Called with each epoch's record (network in eval mode, gradients off) before
            it is logged; it may add fields to the record (e.g. ``val_score``).

    Returns:
        One record per epoch: ``epoch``, ``train_loss``, ``val_loss`` (nats per row), ``lr``,
        ``seconds``.

    Raises:
        TrainingError: A non-finite loss (the message names the epoch).
    """
    n = codes.shape[0]
    n_val = 0 if n < 50 else int(min(_MAX_VALIDATION_ROWS, max(1, round(n * config.validation_fraction))))
    order = numpy_generator(child_seed(seed, "split")).permutation(n)
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    all_codes = torch.as_tensor(codes, dtype=torch.long)
    all_ctx = torch.as_tensor(context, dtype=torch.long) if context is not None else None
    train_codes, val_codes = all_codes[train_idx], all_codes[val_idx]
    train_ctx = all_ctx[train_idx] if all_ctx is not None else None
    val_ctx = all_ctx[val_idx] if all_ctx is not None else None
    n_train = train_codes.shape[0]
    batch_size = int(config.batch_size or auto_batch_size(n_train))
    learning_rate = config.learning_rate
    if learning_rate is None:
        learning_rate = (auto_learning_rate(n_train, batch_size) if config.batch_size is None
                         else BASE_LEARNING_RATE)
    steps = max(1, math.ceil(n_train / batch_size))
    generator = torch_generator(child_seed(seed, "train"))
    optimiser = Adam(net.parameters(), lr=learning_rate, weight_decay=config.weight_decay,
                     decoupled_weight_decay=True)
    scheduler = PlateauHalving(optimiser, factor=0.5, patience=1)
    _log.info("training_start", rows=n_train, validation_rows=n_val, sub_columns=net.n_sub,
              batch_size=batch_size, learning_rate=learning_rate, steps_per_epoch=steps,
              max_epochs=config.max_epochs, seed=seed)
    started = time.perf_counter()
    history: list[dict[str, Any]] = []
    best_loss, best_state, stale = math.inf, _clone_state(net), 0
    out_of_time = False
    net.train()
    epochs = progress(range(1, config.max_epochs + 1), enabled=progress_bar, desc="Training TabularAR",
                      total=config.max_epochs, unit="epoch")
    for epoch in epochs:
        epoch_start = time.perf_counter()
        perm = torch.randperm(n_train, generator=generator)
        total, seen = 0.0, 0
        for step in range(steps):
            rows = perm[step * batch_size:(step + 1) * batch_size]
            batch = train_codes[rows]
            keys = _order_keys(batch.shape[0], net.n_sub, config.fixed_order_share, generator)
            ctx = train_ctx[rows] if train_ctx is not None else None
            loss = net(batch, keys, ctx, dropout=config.dropout, generator=generator).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * batch.shape[0]
            seen += batch.shape[0]
            if config.max_training_time is not None and time.perf_counter() - started > config.max_training_time:
                out_of_time = True
                break
        train_loss = total / max(seen, 1)
        if not math.isfinite(train_loss):
            raise TrainingError(f"Training TabularAR diverged at epoch {epoch} (loss {train_loss}); lower "
                                "learning_rate or check the data.")
        val_loss = (_evaluate(net, val_codes, val_ctx, config.fixed_order_share, child_seed(seed, "validation"))
                    if n_val else train_loss)
        scheduler.step(val_loss)
        record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                  "lr": optimiser.lr, "seconds": time.perf_counter() - epoch_start}
        if on_epoch_end is not None:
            net.eval()
            with torch.no_grad():
                on_epoch_end(record)
            net.train()
        history.append(record)
        _log.info("epoch_end", **record)
        if hasattr(epochs, "set_postfix"):
            epochs.set_postfix(train=f"{train_loss:.3f}", val=f"{val_loss:.3f}")
        if val_loss < best_loss - 1e-4 * abs(best_loss if math.isfinite(best_loss) else 1.0):
            best_loss, best_state, stale = val_loss, _clone_state(net), 0
        else:
            stale += 1
        if stale >= config.patience or out_of_time:
            break
    net.load_state_dict(best_state)
    net.eval()
    _log.info("training_complete", epochs=len(history), seconds=round(time.perf_counter() - started, 3),
              best_val_loss=best_loss, stopped_early=len(history) < config.max_epochs, out_of_time=out_of_time)
    return history
