"""Decimal formats of float values: the rule a ``decimal`` key follows (its values written with a fixed number of
digits after the point). Fit learns a key's format with it (``core/data/encoders/ids.py``) and metadata validation
accepts an ``id`` column of such floats."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FLOAT_EXACT", "MAX_DECIMALS", "decimal_digits", "float_dtype"]

#: Most digits after the point of a ``decimal`` key.
MAX_DECIMALS = 15
#: Largest magnitude up to which every integer has an exact ``float64``.
FLOAT_EXACT = 2**53


def float_dtype(dtype: Any) -> np.dtype:
    """The numpy float type a float column holds (``float64`` for any other)."""
    numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype)) if dtype is not None else None
    return numpy_dtype if numpy_dtype is not None and numpy_dtype.kind == "f" else np.dtype(np.float64)


def decimal_digits(values: np.ndarray) -> int | None:
    """The fewest digits after the point that write every one of ``values`` (finite floats) exactly at
    their own precision (a ``float32`` 1.1 is ``1.1``), with every value times ``10 ** digits`` an integer
    below ``2**53``; ``None`` when no number of digits up to ``MAX_DECIMALS`` does.

    This is the rule a ``decimal`` key follows: fit learns its format with it and metadata validation
    accepts an ``id`` column of such floats.

    Args:
        values: The column's non-null values, in its own float dtype.

    Returns:
        The number of digits (``0`` for integral values), or ``None``.
    """
    values = np.asarray(values)
    dtype = float_dtype(values.dtype)
    own, wide = values.astype(dtype), values.astype(np.float64)
    if not np.all(np.isfinite(wide)):
        return None
    for digits in range(MAX_DECIMALS + 1):
        scaled = np.round(wide * 10.0 ** digits)
        if np.all(np.abs(scaled) < FLOAT_EXACT) and np.all((scaled / 10.0 ** digits).astype(dtype) == own):
            return digits
    return None
