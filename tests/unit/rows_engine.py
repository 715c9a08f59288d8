"""A toy engine base for tests: it keeps its training rows, and a subclass says how rows are drawn
(``_draw``), which proves that engines plug in through the model contract's hooks alone."""

from __future__ import annotations

import pandas as pd

from syntho_hive.core.checkpoint import CheckpointLayout
from syntho_hive.core.models import ConditionalGenerativeModel
from syntho_hive.core.models.base import EngineState


class RowsEngine(ConditionalGenerativeModel):
    """Keeps the training rows (``rows_``, saved as ``rows.joblib``); subclasses define ``_draw``."""

    checkpoint_layout = CheckpointLayout(pickles=("rows.joblib",))

    def _reset_engine(self) -> None:
        self.rows_: pd.DataFrame | None = None

    def _modelled_sdtypes(self) -> dict[str, str]:
        return {}

    def _prepare(self, data, context, table, seed):  # noqa: ANN001, ANN202
        return data.reset_index(drop=True)

    def _train(self, prepared, *, seed, progress_bar):  # noqa: ANN001, ANN202
        self.rows_ = prepared

    def _state(self) -> EngineState:
        return EngineState(objects={"rows.joblib": self.rows_})

    def _restore(self, state: EngineState) -> None:
        self.rows_ = state.objects["rows.joblib"]
