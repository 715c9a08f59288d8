"""Type checks of option values shared by every layer (numpy only: no torch, no pandas)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["is_finite_number", "is_int"]


def is_int(value: Any) -> bool:
    """Whether ``value`` is a Python or numpy integer (a bool is not one)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a finite int or float (not a bool; an int too large for a float is not)."""
    if not (is_int(value) or isinstance(value, (float, np.floating))):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond any float
        return False
