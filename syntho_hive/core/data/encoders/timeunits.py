"""Time units: the coarsest calendar unit that represents every datetime/timedelta exactly."""

from __future__ import annotations

import numpy as np

__all__ = ["coarsest_step"]

_UNITS_NS: tuple[tuple[str, int], ...] = (
    ("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("m", 60 * 10**9), ("s", 10**9),
    ("ms", 10**6), ("us", 10**3), ("ns", 1),
)


def coarsest_step(ticks: np.ndarray, native_unit: str) -> int:
    """Largest calendar unit (day ... nanosecond), in native ticks, dividing every value.

    Args:
        ticks: Integer ticks (non-null) in ``native_unit``.
        native_unit: NumPy datetime unit of the ticks (``"s"``, ``"us"``, ``"ns"``...).

    Returns:
        The step in native ticks (``1`` when nothing coarser fits).
    """
    native_ns = int(np.timedelta64(1, native_unit) / np.timedelta64(1, "ns"))
    for _, unit_ns in _UNITS_NS:
        if unit_ns % native_ns:
            continue
        step = unit_ns // native_ns
        if ticks.size == 0 or np.all(ticks % step == 0):
            return int(step)
    return 1
