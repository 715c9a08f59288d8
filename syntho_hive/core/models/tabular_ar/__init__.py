"""TabularAR: an any-order autoregressive tabular model (TabularARGN-style, our own code)."""

from syntho_hive.core.models.tabular_ar.model import TabularAR

__all__ = ["TabularAR"]
