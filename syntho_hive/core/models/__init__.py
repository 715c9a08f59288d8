"""Generative models: the :class:`ConditionalGenerativeModel` contract, :class:`CTGAN`, :class:`TVAE`,
:class:`TabularAR`, the engine registry (:func:`register_model`) and :func:`load_model`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syntho_hive.core.models.base import ConditionalGenerativeModel, load_model
from syntho_hive.core.models.registry import register_model

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.models.ctgan import CTGAN
    from syntho_hive.core.models.tabular_ar import TabularAR
    from syntho_hive.core.models.tvae import TVAE

__all__ = ["ConditionalGenerativeModel", "CTGAN", "TVAE", "TabularAR", "load_model", "register_model"]


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
