"""Held-out validation for ``fit(checkpoint_dir=...)`` of the neural tabular models (CTGAN, TVAE).

With ``checkpoint_dir``, a model's ``fit`` holds out a seeded sample of the rows (with their
parent-context rows), trains on the rest, scores a synthetic sample against the held-out rows
every ``checkpoint_every`` epochs (and at the last epoch) with the column-shape score of
:mod:`syntho_hive.core.quality` (not a loss), and keeps in ``checkpoint_dir``:

- ``best_checkpoint/``: the weights of the best-scoring epoch, replaced atomically on improvement;
- ``final_checkpoint/``: the fitted model;
- ``training_metrics.csv``: one row per epoch, with a ``val_score`` column (empty when not scored).

This module holds the pieces the models share: the argument checks, the split, the score and the
metrics file. :class:`~syntho_hive.core.models._tabular.TabularPipeline` wraps them as methods.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._atomic import atomic_write
from syntho_hive._checks import is_finite_number, is_int
from syntho_hive._random import child_seed, numpy_generator
from syntho_hive.core.quality import column_shape_scores, overall_column_shape
from syntho_hive.exceptions import TrainingError

__all__ = ["BEST_CHECKPOINT", "FINAL_CHECKPOINT", "MAX_VALIDATION_ROWS", "METRICS_FILE", "EpochCheckpoints",
           "MetricsWriter", "Validation", "check_checkpoint_arguments", "column_shape_score", "split_validation",
           "validation_due"]

#: Most rows held out for validation.
MAX_VALIDATION_ROWS = 5_000
#: Per-epoch metrics file in ``checkpoint_dir``.
METRICS_FILE = "training_metrics.csv"
#: Checkpoint of the best validation score, in ``checkpoint_dir``.
BEST_CHECKPOINT = "best_checkpoint"
#: Checkpoint of the fitted model, in ``checkpoint_dir``.
FINAL_CHECKPOINT = "final_checkpoint"

#: ``(held-out rows, their parent-context rows or None)``, both with a fresh ``RangeIndex``.
Validation = tuple[pd.DataFrame, pd.DataFrame | None]


def check_checkpoint_arguments(checkpoint_every: Any, validation_fraction: Any) -> None:
    """Validate the ``fit`` arguments used with ``checkpoint_dir``.

    Args:
        checkpoint_every: Epochs between validations; a positive integer.
        validation_fraction: Share of rows held out; a number in ``(0, 1)``.

    Raises:
        TrainingError: Either argument is out of range or of the wrong type.
    """
    if not is_int(checkpoint_every) or checkpoint_every < 1:
        raise TrainingError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}.")
    if not is_finite_number(validation_fraction) or not 0.0 < validation_fraction < 1.0:
        raise TrainingError(f"validation_fraction must be in (0, 1), got {validation_fraction!r}.")


def split_validation(data: pd.DataFrame, context: pd.DataFrame | None, seed: int,
                     fraction: float) -> tuple[Validation, np.ndarray]:
    """Hold out ``round(len(data) * fraction)`` rows (at least 1, at most :data:`MAX_VALIDATION_ROWS`).

    The rows are drawn by a generator derived from ``seed`` (the same seed holds out the same rows).

    Args:
        data: Training rows.
        context: Parent-context rows aligned with ``data``, or ``None``.
        seed: The fit seed.
        fraction: Share of rows to hold out, in ``(0, 1)``.

    Returns:
        ``((held-out rows, their context rows or None), sorted positions of the rows left to train on)``.

    Raises:
        TrainingError: Holding out leaves no row to train on.
    """
    n = len(data)
    n_val = int(min(MAX_VALIDATION_ROWS, max(1, round(n * fraction))))
    if n - n_val < 1:
        raise TrainingError(f"Too few rows ({n}) to hold out a validation sample; pass more data or "
                            "fit without checkpoint_dir.")
    order = numpy_generator(child_seed(seed, "validation_split")).permutation(n)
    val_rows, train_rows = np.sort(order[:n_val]), np.sort(order[n_val:])
    val_data = data.iloc[val_rows].reset_index(drop=True)
    val_ctx = context.iloc[val_rows].reset_index(drop=True) if context is not None else None
    return (val_data, val_ctx), train_rows


def validation_due(epoch: int, epochs: int, every: int) -> bool:
    """Whether ``epoch`` (1-based) is scored: every ``every`` epochs and always the last one."""
    return epoch % every == 0 or epoch == epochs


def column_shape_score(real: pd.DataFrame, synthetic: pd.DataFrame, declared: Mapping[str, Any]) -> float:
    """Mean column-shape similarity (``1 - KS`` / ``1 - TVD``) of ``synthetic`` to ``real``.

    Args:
        real: Held-out rows.
        synthetic: Generated rows with the same columns.
        declared: Semantic types by column; those not in ``real`` are ignored.

    Returns:
        The overall score in ``[0, 1]`` (``0.0`` when no column can be scored).
    """
    sdtypes = {c: t for c, t in declared.items() if c in real.columns}
    scores = column_shape_scores(real, synthetic, sdtypes)
    return float(overall_column_shape(scores)) if scores else 0.0


class MetricsWriter:
    """Keeps ``training_metrics.csv`` up to date, one row per epoch, each write atomic.

    Floats are written with ``repr`` (round-trip exact), ``seconds`` with 6 decimals, and a
    field missing from the record or NaN (e.g. ``val_score`` of an epoch that was not validated)
    as an empty field.

    Args:
        directory: The ``checkpoint_dir`` (created when missing).
        fields: Column names, in order.

    Raises:
        TrainingError: The directory or the file cannot be written.
    """

    def __init__(self, directory: Path, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self.path = directory / METRICS_FILE
        self._rows: list[list[str]] = []
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrainingError(f"Cannot write training metrics in checkpoint_dir {directory}: {exc}") from exc
        self._flush()

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one epoch's record and rewrite the file atomically.

        Raises:
            TrainingError: The file cannot be written (the previous version is left intact).
        """
        self._rows.append([self._format(name, record.get(name)) for name in self.fields])
        self._flush()

    def rewrite_last(self, record: Mapping[str, Any]) -> None:
        """Replace the last epoch's row (e.g. once it has been scored) and rewrite the file atomically.

        Raises:
            TrainingError: The file cannot be written (the previous version is left intact).
        """
        self._rows[-1] = [self._format(name, record.get(name)) for name in self.fields]
        self._flush()

    @staticmethod
    def _format(name: str, value: Any) -> str:
        if value is None:
            return ""
        if name == "epoch":
            return str(int(value))
        number = float(value)
        if math.isnan(number):
            return ""
        return f"{number:.6f}" if name == "seconds" else repr(number)

    def _flush(self) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.fields)
        writer.writerows(self._rows)
        text = buffer.getvalue()

        def write(temporary: Path) -> None:
            with temporary.open("w", newline="", encoding="utf-8") as handle:
                handle.write(text)

        try:
            atomic_write(self.path, write)
        except OSError as exc:
            raise TrainingError(f"Cannot write training metrics in checkpoint_dir {self.path.parent}: "
                                f"{exc}") from exc


class EpochCheckpoints:
    """The per-epoch side of ``fit(checkpoint_dir=...)``, shared by the models' training loops.

    Scores the epochs that are due (:func:`validation_due`) into the record's ``val_score``,
    writes ``best_checkpoint/`` whenever the score improves, and appends every record to
    ``training_metrics.csv``.

    Args:
        directory: The ``checkpoint_dir``.
        fields: Columns of ``training_metrics.csv``, in order.
        epochs: Epochs of the fit (the last one is always scored).
        every: Epochs between scores.
        score: Validation score of the model as it is after an epoch (given the epoch number).
        save: Writes the model's checkpoint to the given directory, replacing it.

    Raises:
        TrainingError: ``directory`` cannot be written.
    """

    def __init__(self, directory: Path, fields: Sequence[str], *, epochs: int, every: int,
                 score: Callable[[int], float], save: Callable[[Path], object]) -> None:
        self.directory = directory
        self.best_score = -math.inf
        self._epochs, self._every = epochs, every
        self._score, self._save = score, save
        self._metrics = MetricsWriter(directory, fields)

    def score(self, record: MutableMapping[str, Any]) -> None:
        """Score ``record["epoch"]`` when due (setting ``val_score``); keep the best checkpoint."""
        epoch = int(record["epoch"])
        if not validation_due(epoch, self._epochs, self._every):
            return
        record["val_score"] = self._score(epoch)
        if record["val_score"] > self.best_score:
            self.best_score = record["val_score"]
            self._save(self.directory / BEST_CHECKPOINT)

    def write(self, record: Mapping[str, Any]) -> None:
        """Append the epoch's record to ``training_metrics.csv``."""
        self._metrics.write(record)

    def finish(self, record: MutableMapping[str, Any]) -> None:
        """Score the last epoch's ``record`` if it was not (training stopped early, before an epoch that
        was due), keep the best checkpoint and rewrite its row of ``training_metrics.csv``."""
        if not isinstance(record.get("val_score"), float) or math.isnan(record["val_score"]):
            self._epochs = int(record["epoch"])  # the last epoch is always scored
            self.score(record)
            self._metrics.rewrite_last(record)

    @property
    def best(self) -> float | None:
        """The best score so far, ``None`` before any."""
        return None if self.best_score == -math.inf else self.best_score
