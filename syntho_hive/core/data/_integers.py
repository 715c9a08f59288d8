"""Exact integer arithmetic for generated keys and ids: no ``float64`` detour, no silent wrap-around.

Shared by the id encoders (``core/data/encoders/ids.py``) and the relational key generator
(``relational/keys.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.exceptions import GenerationError

__all__ = ["integer_dtype", "integer_sequence"]


def integer_dtype(dtype: Any) -> np.dtype | None:
    """The NumPy integer dtype behind ``dtype`` (``int64`` for ``int64`` and ``Int64``, ``uint64`` for
    ``UInt64``), or ``None`` when ``dtype`` is not an integer dtype (booleans are not)."""
    if isinstance(dtype, np.dtype):
        return dtype if dtype.kind in "iu" else None
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_integer_dtype(dtype):
        return None
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if numpy_dtype is None or np.dtype(numpy_dtype).kind not in "iu":
        return None
    return np.dtype(numpy_dtype)


def integer_sequence(start: int, offsets: np.ndarray, step: int, dtype: np.dtype, column: str) -> np.ndarray:
    """``start + step * offsets`` computed exactly in the integer ``dtype`` (no ``float64``, no wrap-around).

    Args:
        start: First value (a Python int; it may be above ``2**63`` for ``uint64``).
        offsets: ``int64`` multiples of ``step`` (negative ones count down from ``start``).
        step: Positive gap between consecutive values.
        dtype: A NumPy integer dtype.
        column: Column name, for messages.

    Returns:
        The values, of ``dtype``.

    Raises:
        GenerationError: A value would fall outside ``dtype``.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    info = np.iinfo(dtype)
    if offsets.size:
        low, high = start + step * int(offsets.min()), start + step * int(offsets.max())
        if low < info.min or high > info.max:
            raise GenerationError(
                f"Cannot generate the keys of column {column!r}: they would reach {low if low < info.min else high}, "
                f"outside what its dtype {dtype} holds ({info.min}..{info.max}). Generate fewer rows for this "
                "table, or store the key in a wider integer dtype.")
    # Arithmetic modulo 2**64: every true value fits ``dtype``, so its 64-bit pattern is exact.
    wrapped = np.uint64(start % 2**64) + offsets.view(np.uint64) * np.uint64(step % 2**64)
    return (wrapped if dtype.kind == "u" else wrapped.view(np.int64)).astype(dtype)
