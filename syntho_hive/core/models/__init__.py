"""Generative models: the :class:`ConditionalGenerativeModel` interface, :class:`CTGAN`, :class:`TVAE`
and :class:`TabularAR`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syntho_hive.core.models.base import ConditionalGenerativeModel

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.models.ctgan import CTGAN
    from syntho_hive.core.models.tabular_ar import TabularAR
    from syntho_hive.core.models.tvae import TVAE

__all__ = ["ConditionalGenerativeModel", "CTGAN", "TVAE", "TabularAR"]


def __getattr__(name: str) -> Any:
    # The models pull in torch; import it on first use so the interface stays cheap to import.
    if name == "CTGAN":
        from syntho_hive.core.models.ctgan import CTGAN

        return CTGAN
    if name == "TabularAR":
        from syntho_hive.core.models.tabular_ar import TabularAR

        return TabularAR
    if name == "TVAE":
        from syntho_hive.core.models.tvae import TVAE

        return TVAE
    raise AttributeError(f"module 'syntho_hive.core.models' has no attribute {name!r}")
