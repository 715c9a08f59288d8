"""Rare-value protection shared by the DataTransformer's encoders (CTGAN and TVAE).

The privacy rule of the package (``docs/architecture.md``, "Habits") is that no value seen fewer
than ``rare_threshold`` times is reproduced, nor kept in a fitted model's state:

* categories seen fewer times share one *rare slot* (:class:`~syntho_hive.core.data.encoders.categorical.CategoryCodec`)
  that the network learns but that never decodes to a real value: a row that gets it gets a
  frequent category drawn by training frequency;
* numbers and timestamps are modelled between the ``rare_threshold``-th smallest and the
  ``rare_threshold``-th largest training value (:func:`inner_range`): the ``rare_threshold - 1``
  most extreme values at each end are clipped onto those bounds when encoding and are neither
  decoded nor stored, while a value repeated at least ``rare_threshold`` times (a spike such as
  the ``0`` of a capital-gain column) keeps its exact place.

``rare_threshold=1`` switches the protection off (every value may be shown).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from syntho_hive.exceptions import SchemaError

__all__ = ["RARE_LABEL", "check_rare_threshold", "inner_range"]

RARE_LABEL = "<rare>"
"""Display label of the rare slot (conditioning refuses it; it is never a decoded value)."""


def check_rare_threshold(value: Any, where: str) -> int:
    """``value`` as an int, checked to be an integer >= 1.

    Raises:
        SchemaError: ``value`` is not an integer >= 1 (``where`` names the setting).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SchemaError(f"{where} must be an integer >= 1 (1 switches the rare-value protection off), "
                          f"got {value!r}.")
    return int(value)


def inner_range(values: np.ndarray, rare_threshold: int) -> tuple[Any, Any]:
    """The ``rare_threshold``-th smallest and ``rare_threshold``-th largest of ``values``.

    At least ``rare_threshold`` values lie at or beyond each returned bound, so neither bound is
    one of the ``rare_threshold - 1`` most extreme values. With fewer than ``2 * rare_threshold - 1``
    values the bounds would cross; both are then the lower median.

    Args:
        values: A non-empty 1-D array (floats without NaN, or exact integers such as ``int64`` /
            ``uint64`` ticks; the dtype is kept).
        rare_threshold: ``k >= 1``; ``1`` gives the minimum and the maximum.

    Returns:
        ``(low, high)`` elements of ``values`` with ``low <= high``.
    """
    n = int(values.size)
    k = int(rare_threshold)
    if n >= 2 * k - 1:
        low_at, high_at = k - 1, n - k
    else:
        low_at = high_at = (n - 1) // 2
    picked = np.partition(values, sorted({low_at, high_at}))
    return picked[low_at], picked[high_at]
