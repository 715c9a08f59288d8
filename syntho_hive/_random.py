"""Explicit randomness: seeds flow into local generators, never into global RNG state."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

import numpy as np

from syntho_hive._checks import is_int

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import torch

_MAX_SEED = 2**63 - 1


def resolve_seed(seed: int | None) -> int:
    """Return ``seed`` unchanged, or a fresh random seed when it is ``None``.

    Args:
        seed: A non-negative integer or ``None``.

    Returns:
        A non-negative integer seed.

    Raises:
        ValueError: If ``seed`` is negative or not an integer.
    """
    if seed is None:
        return secrets.randbits(63)
    if not is_int(seed):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return int(seed) & _MAX_SEED


def child_seed(seed: int, *keys: object) -> int:
    """Derive a stable child seed from ``seed`` and a path of keys (table, partition, purpose).

    The derivation is a hash, so it is identical across processes and platforms.

    Args:
        seed: The parent seed.
        *keys: Any values with a stable ``str()``, e.g. ``("users", "sample")``.

    Returns:
        A non-negative 63-bit integer seed.
    """
    text = "/".join([str(int(seed)), *map(str, keys)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") & _MAX_SEED


def numpy_generator(seed: int) -> np.random.Generator:
    """A local NumPy generator for ``seed``."""
    return np.random.default_rng(seed)


def sample_rows(frame: "pd.DataFrame", max_rows: int | None, rng: np.random.Generator) -> "pd.DataFrame":
    """Up to ``max_rows`` rows of ``frame`` drawn without replacement with ``rng``, in their order.

    Args:
        frame: The rows.
        max_rows: The most rows to keep (``None``: all).
        rng: Source of the draw.

    Returns:
        ``frame`` itself when it has ``max_rows`` rows or fewer, else the drawn rows (index kept).
    """
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), size=int(max_rows), replace=False))]


def torch_generator(seed: int, device: "torch.device | str" = "cpu") -> "torch.Generator":
    """A local torch generator on ``device`` seeded with ``seed``."""
    import torch

    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)
    return generator
