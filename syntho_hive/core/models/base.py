"""The interface every generative model implements (CTGAN today, more engines later)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._random import resolve_seed
from syntho_hive.core.metadata.schema import Metadata, TableConfig
from syntho_hive.core.metadata.validate import check_table_data
from syntho_hive.exceptions import GenerationError, NotFittedError, SchemaError, TrainingError


class ConditionalGenerativeModel(ABC):
    """A tabular generative model, optionally conditioned on parent-context rows.

    Contract (scikit-learn style): ``__init__`` only stores parameters; ``fit`` returns
    ``self``; learned state lives in attributes ending in ``_``; ``sample`` and ``save``
    raise :class:`~syntho_hive.exceptions.NotFittedError` before ``fit`` or ``load``.

    Subclasses set ``metadata`` in ``__init__``; the helpers below are shared by every model.
    """

    metadata: Metadata | None

    def _require_fitted(self, action: str) -> None:
        """Raise :class:`NotFittedError` naming ``action`` unless the model is fitted or loaded."""
        if not self.is_fitted:
            raise NotFittedError(f"Cannot {action}: this {type(self).__name__} is not fitted. Call fit(data) "
                                 "or load(path) first.")

    def _check_parameters(self) -> None:
        """Raise :class:`TrainingError` for invalid hyper-parameters (each model checks its own)."""

    def _begin_fit(self, data: Any, context: Any, unknown: Mapping[str, Any], seed: Any) -> int:
        """The checks every ``fit()`` starts with, before any work; returns the resolved seed.

        Raises:
            TrainingError: Unknown argument, invalid parameters, unusable data or context, bad seed.
            SchemaError: Column names that are not unique strings.
        """
        if unknown:
            raise TrainingError(f"Unknown fit() argument(s): {', '.join(sorted(unknown))}.")
        self._check_parameters()
        self._check_training_input(data, context)
        return self._resolved_seed(seed, "fit", TrainingError)

    def _begin_sample(self, num_rows: Any, unknown: Mapping[str, Any]) -> int:
        """The checks every ``sample()`` starts with; returns ``num_rows`` as an ``int``.

        Raises:
            GenerationError: Unknown argument or ``num_rows`` not a positive integer.
            NotFittedError: Before ``fit``/``load``.
        """
        if unknown:
            raise GenerationError(f"Unknown sample() argument(s): {', '.join(sorted(unknown))}.")
        self._require_fitted("sample")
        if isinstance(num_rows, bool) or not isinstance(num_rows, (int, np.integer)) or num_rows <= 0:
            raise GenerationError(f"num_rows must be a positive integer, got {num_rows!r}.")
        return int(num_rows)

    @staticmethod
    def _resolved_seed(seed: Any, call: str, error: type[Exception]) -> int:
        """``resolve_seed(seed)``, a bad seed raising ``error`` that names ``call``."""
        try:
            return resolve_seed(seed)
        except ValueError as exc:
            raise error(f"Invalid {call}() seed: {exc}.") from exc

    def _check_training_input(self, data: Any, context: Any) -> None:
        """Raise :class:`TrainingError` unless ``data``/``context`` are usable training frames
        (:class:`SchemaError` for column names that are not unique strings)."""
        if not isinstance(data, pd.DataFrame):
            raise TrainingError(f"fit() expects a pandas DataFrame, got {type(data).__name__}.")
        if len(data) == 0 or data.shape[1] == 0:
            raise TrainingError(f"Cannot fit {type(self).__name__} on an empty table ({data.shape[0]} rows, "
                                f"{data.shape[1]} columns); pass the training rows.")
        for frame, what in ((data, "data"), (context, "context")):
            if isinstance(frame, pd.DataFrame):
                odd = [c for c in frame.columns if not isinstance(c, str)]
                if odd:  # checkpoints, metadata and outputs name columns by text
                    raise SchemaError(f"Column names of {what} must be strings, got {odd[:5]} "
                                      f"({type(odd[0]).__name__}); rename them, e.g. "
                                      "data.columns = [str(c) for c in data.columns].")
                if not frame.columns.is_unique:
                    dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
                    raise SchemaError(f"Column names of {what} repeat: {dupes}; rename them.")
        if context is not None:
            if not isinstance(context, pd.DataFrame):
                raise TrainingError(f"context must be a pandas DataFrame, got {type(context).__name__}.")
            if len(context) != len(data):
                raise TrainingError(f"context has {len(context)} rows but data has {len(data)}; pass one "
                                    "parent-context row per training row.")
            if context.shape[1] == 0:
                raise TrainingError("context has no columns; pass context=None instead.")

    def _validate_sample_context(self, num_rows: int, context: Any, *, fitted_with_context: bool) -> None:
        """Raise :class:`GenerationError` unless ``context`` matches how the model was fitted.

        Uses ``self.context_columns_`` (the parent-context columns seen at fit).
        """
        columns = list(getattr(self, "context_columns_", None) or [])
        if not fitted_with_context:
            if context is not None:
                raise GenerationError("This model was fitted without parent context; call sample() "
                                      "without context.")
            return
        if context is None:
            raise GenerationError(f"This model was fitted with parent context (columns {columns}); pass "
                                  "context with one row per sampled row.")
        if not isinstance(context, pd.DataFrame):
            raise GenerationError(f"context must be a pandas DataFrame, got {type(context).__name__}.")
        if len(context) != num_rows:
            raise GenerationError(f"context has {len(context)} rows but num_rows is {num_rows}; pass "
                                  "exactly one context row per sampled row.")
        missing = [c for c in columns if c not in context.columns]
        if missing:
            raise GenerationError(f"context is missing column(s) {missing}; the model was fitted with "
                                  f"context columns {columns}.")

    def _resolve_table(self, data: pd.DataFrame, table_name: str | None) -> TableConfig:
        """The table of ``metadata`` describing ``data`` (detected when there is no metadata), checked
        against ``data`` (see :func:`~syntho_hive.core.metadata.validate.check_table_data`).

        Raises:
            SchemaError: Unknown ``table_name``, or several tables and no ``table_name``.
            SchemaValidationError: Null or duplicated primary keys, or values that do not fit a
                column's declared sdtype (all listed at once).
        """
        if self.metadata is None or not self.metadata.tables:
            detected = Metadata.detect(data, table_name or "table")
            return next(iter(detected.tables.values()))
        if table_name is not None:
            table = self.metadata.get_table(table_name)
        elif len(self.metadata.tables) == 1:
            table = next(iter(self.metadata.tables.values()))
        else:
            raise SchemaError(f"The metadata has {len(self.metadata.tables)} tables "
                              f"({', '.join(sorted(self.metadata.tables))}); pass fit(..., table_name=...).")
        check_table_data(table, data)
        return table

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
