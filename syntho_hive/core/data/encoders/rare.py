"""Rare-value protection shared by the DataTransformer's encoders (CTGAN and TVAE).

The privacy rule of the package (``docs/architecture.md``, "Habits") is that no value seen fewer
than ``rare_threshold`` times is reproduced, nor kept in a fitted model's state:

* categories seen fewer times share one *rare slot* (:class:`~syntho_hive.core.data.encoders.categorical.CategoryCodec`)
  that the network learns but that never decodes to a real value: a row that gets it gets a
  frequent category drawn by training frequency;
* numbers and timestamps are modelled between the ``rare_threshold``-th smallest and the
  ``rare_threshold``-th largest training value (:func:`inner_range`; on a column of fewer than
  ``2 * rare_threshold - 1`` values, at the mean of them all): the more extreme values are clipped
  onto those bounds when encoding and are neither decoded nor stored, while a value repeated at least ``rare_threshold`` times (a spike such as
  the ``0`` of a capital-gain column) keeps its exact place.

``rare_threshold=1`` switches the protection off (every value may be shown).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from syntho_hive._checks import is_int
from syntho_hive.exceptions import SchemaError

__all__ = ["RARE_LABEL", "check_rare_threshold", "inner_range"]

RARE_LABEL = "<rare>"
"""Display label of the rare slot (conditioning refuses it; it is never a decoded value)."""


def check_rare_threshold(value: Any, where: str) -> int:
    """``value`` as an int, checked to be an integer >= 1.

    Args:
        value: The setting's value.
        where: The setting's name, for the message.

    Returns:
        ``int(value)``.

    Raises:
        SchemaError: ``value`` is not an integer >= 1 (``where`` names the setting).
    """
    if not is_int(value) or value < 1:
        raise SchemaError(f"{where} must be an integer >= 1 (1 switches the rare-value protection off), "
                          f"got {value!r}.")
    return int(value)


def inner_range(values: np.ndarray, rare_threshold: int, step: int = 1) -> tuple[Any, Any]:
    """The ``rare_threshold``-th smallest and ``rare_threshold``-th largest of ``values``.

    At least ``rare_threshold`` values lie at or beyond each returned bound, so neither bound is
    one of the ``rare_threshold - 1`` most extreme values (an order statistic, unmoved by how far an
    outlier lies). With fewer than ``2 * rare_threshold - 1`` values the bounds would cross, and no value
    has that many rows beyond it: both bounds are then the mean of all the values (rounded onto the
    integers' grid), an aggregate rather than one row's value.

    Args:
        values: A non-empty 1-D array (floats without NaN, or exact integers such as ``int64`` /
            ``uint64`` ticks; the dtype is kept).
        rare_threshold: ``k >= 1``; ``1`` gives the minimum and the maximum.
        step: For integers, the grid the values lie on (every value is ``min + i * step``): the mean of a
            small column is rounded onto it.

    Returns:
        ``(low, high)`` of ``values``' dtype with ``low <= high``.
    """
    n = int(values.size)
    k = int(rare_threshold)
    if n >= 2 * k - 1:
        picked = np.partition(values, sorted({k - 1, n - k}))
        return picked[k - 1], picked[n - k]
    if values.dtype.kind in "iu":  # exact: Python integers (no int64 / uint64 overflow), rounded to the grid
        anchor, grid = int(values.min()), max(int(step), 1)
        offsets = sum(int(v) - anchor for v in values.tolist())
        mean = values.dtype.type(anchor + grid * ((2 * offsets + grid * n) // (2 * grid * n)))
    else:
        mean = values.dtype.type(values.mean())
    return mean, mean
