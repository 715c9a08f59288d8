"""Category values of TabularAR's codecs as JSON and as lookup keys (checkpoints hold no pickles).

Values use the strict-JSON forms of :mod:`syntho_hive.core.data._dtypes` (their one implementation); a
value of any other type is refused with a :class:`SerializationError` at fit, not stored lossily. States
written before this form (``["s", "x"]``-style tagged pairs) still load (``value_from_json(legacy=True)``).
"""

from __future__ import annotations

import json
from typing import Any

from syntho_hive.core.data import _dtypes
from syntho_hive.exceptions import SerializationError

__all__ = ["value_key", "find_key"]


def value_key(value: Any, where: str) -> str:
    """A canonical string key of a non-null value (stable across processes and partitions).

    Values that compare equal across types (``1``, ``True``, ``1.0``) get different keys.

    Args:
        value: A non-null cell value.
        where: What the value belongs to, for the error message.

    Returns:
        The compact, key-sorted JSON text of its strict-JSON form.

    Raises:
        SerializationError: The value's type has no JSON form.
    """
    return json.dumps(_dtypes.value_to_json(value, where), sort_keys=True, separators=(",", ":"))


def find_key(value: Any) -> str | None:
    """:func:`value_key` for a lookup: ``None`` for a value that no stored category can equal.

    Args:
        value: A looked-up value.

    Returns:
        Its key, or ``None``.
    """
    try:
        return value_key(value, "a looked-up value")
    except SerializationError:
        return None
