"""Exact integer arithmetic for generated keys and ids: no ``float64`` detour, no silent wrap-around.

Shared by the id encoders (``core/data/encoders/ids.py``) and the relational key generator
(``relational/keys.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.exceptions import GenerationError

__all__ = ["integer_dtype", "integer_sequence", "mix64", "permute_indices"]


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


_MASK64 = 2**64 - 1


def _splitmix(value: int) -> int:
    """The SplitMix64 finalizer of one Python int (a bijection of 64-bit values), for round keys."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def mix64(values: np.ndarray, key: int) -> np.ndarray:
    """A keyed hash of each 64-bit value: the SplitMix64 finalizer of ``value + key``.

    It is a bijection of the 64-bit values for a fixed ``key``, so distinct inputs give
    distinct outputs.

    Args:
        values: Non-negative integers (any integer dtype; taken modulo ``2**64``).
        key: Any Python int.

    Returns:
        ``uint64`` hashes, one per value.
    """
    z = np.asarray(values).astype(np.uint64) + np.uint64(_splitmix(int(key)))  # wraps modulo 2**64
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def permute_indices(indices: np.ndarray, modulus: int, key: int, *, rounds: int = 3) -> np.ndarray:
    """A keyed permutation of ``0 .. modulus - 1`` applied to ``indices``: distinct indices give
    distinct results, whoever computes them (no state is shared but ``key``).

    Each round adds a round key, multiplies by an odd number and xor-shifts, all modulo the
    smallest power of two ``2**b >= modulus`` (each step is a bijection of ``b``-bit values);
    a value that lands at or above ``modulus`` is permuted again until it does not ("cycle
    walking"), which keeps the map a bijection of ``0 .. modulus - 1``.

    Args:
        indices: Non-negative integers below ``modulus``.
        modulus: Size of the permuted range, ``1 <= modulus <= 2**63``.
        key: Any Python int (e.g. drawn from a seeded generator).
        rounds: Mixing rounds.

    Returns:
        ``int64`` permuted values, each below ``modulus``.

    Raises:
        GenerationError: An index is negative or not below ``modulus``.
    """
    values = np.asarray(indices, dtype=np.int64)
    if values.size and (int(values.min()) < 0 or int(values.max()) >= modulus):
        raise GenerationError(f"Indices must lie in 0..{modulus - 1} to be permuted, got "
                              f"{int(values.min())}..{int(values.max())}.")
    bits = max(1, (int(modulus) - 1).bit_length())
    mask = np.uint64((1 << bits) - 1)
    shift = np.uint64((bits + 1) // 2)
    keys = [_splitmix(int(key) + 2 * r) for r in range(rounds)]
    odds = [np.uint64(_splitmix(int(key) + 2 * r + 1) | 1) for r in range(rounds)]

    def scramble(x: np.ndarray) -> np.ndarray:
        for round_key, odd in zip(keys, odds):
            x = (x + np.uint64(round_key)) & mask
            x = (x * odd) & mask
            x = x ^ (x >> shift)
        return x

    out = scramble(values.astype(np.uint64))
    outside = np.flatnonzero(out >= np.uint64(modulus))
    while outside.size:
        out[outside] = scramble(out[outside])
        outside = outside[out[outside] >= np.uint64(modulus)]
    return out.astype(np.int64)
