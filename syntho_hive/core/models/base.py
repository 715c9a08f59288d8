"""The interface every generative model implements (CTGAN today, more engines later)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd


class ConditionalGenerativeModel(ABC):
    """A tabular generative model, optionally conditioned on parent-context rows.

    Contract (scikit-learn style): ``__init__`` only stores parameters; ``fit`` returns
    ``self``; learned state lives in attributes ending in ``_``; ``sample`` and ``save``
    raise :class:`~syntho_hive.exceptions.NotFittedError` before ``fit`` or ``load``.
    """

    @abstractmethod
    def fit(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *,
            table_name: str | None = None, seed: int | None = None,
            progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            **kwargs: Any) -> "ConditionalGenerativeModel":
        """Learn the distribution of ``data`` (rows aligned with ``context`` when given).

        Returns:
            ``self``.
        """

    @abstractmethod
    def sample(self, num_rows: int, context: pd.DataFrame | None = None, *,
               seed: int | None = None, conditions: Mapping[str, Any] | None = None,
               **kwargs: Any) -> pd.DataFrame:
        """Generate ``num_rows`` rows (one per context row when ``context`` is given)."""

    @abstractmethod
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write a checkpoint directory at ``path`` and return it."""

    @abstractmethod
    def load(self, path: str | Path) -> "ConditionalGenerativeModel":
        """Restore a checkpoint written by :meth:`save`; returns ``self``."""

    @property
    @abstractmethod
    def is_fitted(self) -> bool:
        """Whether the model can sample (fitted or loaded)."""
