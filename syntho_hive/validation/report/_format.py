"""Number formatting shared by the report's HTML parts."""

from __future__ import annotations

from html import escape

import numpy as np

__all__ = ["fmt", "e"]


def fmt(value: object, digits: int = 3) -> str:
    """``value`` as text: floats with ``digits`` decimals, ``None`` and non-finite numbers as ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "n/a" if not np.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def e(value: object, digits: int = 3) -> str:
    """:func:`fmt`, HTML-escaped."""
    return escape(fmt(value, digits))
