"""Structured events (structlog) and progress bars (tqdm) used across the library.

The library never configures logging; callers do. Event names are part of the public
contract: ``training_start``, ``epoch_end``, ``training_complete``, ``sampling_complete``,
``checkpoint_saved``, ``checkpoint_loaded``, ``checkpoint_version_mismatch``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import structlog
from tqdm.auto import tqdm

T = TypeVar("T")


def get_logger(name: str) -> Any:
    """Return a structlog logger bound to ``name`` (module path)."""
    return structlog.get_logger(name)


def progress(iterable: Iterable[T], *, enabled: bool, desc: str, total: int | None = None,
             unit: str = "it") -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar when ``enabled``; otherwise return it unchanged."""
    if not enabled:
        return iterable
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=False)
