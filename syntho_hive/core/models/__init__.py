"""Generative models: the :class:`ConditionalGenerativeModel` interface and :class:`CTGAN`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syntho_hive.core.models.base import ConditionalGenerativeModel

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.models.ctgan import CTGAN
    from syntho_hive.core.models.tabular_ar import TabularAR

__all__ = ["ConditionalGenerativeModel", "CTGAN", "TabularAR"]


def __getattr__(name: str) -> Any:
    # CTGAN pulls in torch; import it on first use so the interface stays cheap to import.
    if name == "CTGAN":
        from syntho_hive.core.models.ctgan import CTGAN

        return CTGAN
    if name == "TabularAR":
        from syntho_hive.core.models.tabular_ar import TabularAR

        return TabularAR
    raise AttributeError(f"module 'syntho_hive.core.models' has no attribute {name!r}")
