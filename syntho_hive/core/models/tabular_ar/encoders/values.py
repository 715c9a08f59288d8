"""JSON forms of cell values, dtypes and null markers (checkpoints hold no pickles).

Cell values use the strict-JSON forms of :mod:`syntho_hive.core._json_state` (the same as the
constraint state): JSON scalars for ``None``, booleans, integers, finite floats and strings,
one-key tagged objects for non-finite floats, timestamps (with their zone name), dates and
decimals. A value of any other type is refused with a :class:`SerializationError` at fit, not
stored lossily. States written before this form (``["s", "x"]``-style tagged pairs) still load.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from syntho_hive.core import _json_state
from syntho_hive.core.data._dtypes import dtype_from_name, dtype_name
from syntho_hive.core.data._dtypes import marker_from_json, marker_to_json  # re-exported
from syntho_hive.exceptions import SerializationError

__all__ = ["value_to_json", "value_from_json", "value_key", "find_key", "dtype_to_json", "dtype_from_json",
           "marker_to_json", "marker_from_json"]

#: Tags of the earlier ``[tag, value]`` form.
_LEGACY_TAGS = frozenset("sifbt")


def value_to_json(value: Any, where: str) -> Any:
    """The strict-JSON form of one non-null cell value.

    Raises:
        SerializationError: The value's type has no JSON form (the message names ``where``).
    """
    return _json_state.value_to_json(value, where)


def value_from_json(data: Any, where: str = "a stored category") -> Any:
    """Inverse of :func:`value_to_json` (also reads the earlier ``[tag, value]`` pairs).

    Raises:
        SerializationError: ``data`` is no stored value.
    """
    if isinstance(data, list) and len(data) == 2 and data[0] in _LEGACY_TAGS:
        tag, raw = data
        if tag == "t":
            return pd.Timestamp(raw)
        return {"b": bool, "i": int, "f": float, "s": str}[tag](raw)
    return _json_state.value_from_json(data, where)


def value_key(value: Any, where: str) -> str:
    """A canonical string key of a non-null value (stable across processes and partitions).

    Raises:
        SerializationError: The value's type has no JSON form.
    """
    return json.dumps(value_to_json(value, where), sort_keys=True, separators=(",", ":"))


def find_key(value: Any) -> str | None:
    """:func:`value_key` for a lookup: ``None`` for a value that no stored category can equal."""
    try:
        return value_key(value, "a looked-up value")
    except SerializationError:
        return None


def dtype_to_json(dtype: Any, where: str) -> dict[str, Any]:
    """A JSON description of a pandas/NumPy dtype (``category`` with its categories and order).

    Raises:
        SerializationError: A category has no JSON form.
    """
    if isinstance(dtype, pd.CategoricalDtype):
        return {"name": "category", "ordered": bool(dtype.ordered),
                "categories": [value_to_json(v, f"{where} (categories)") for v in dtype.categories]}
    return {"name": dtype_name(dtype)}


def dtype_from_json(data: dict[str, Any], where: str = "a stored dtype") -> Any:
    """Inverse of :func:`dtype_to_json`.

    Raises:
        SerializationError: ``data`` names no dtype.
    """
    try:
        if data["name"] == "category":
            return pd.CategoricalDtype([value_from_json(v, where) for v in data["categories"]],
                                       ordered=bool(data["ordered"]))
        return dtype_from_name(str(data["name"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SerializationError(f"{where}: bad stored dtype {data!r} ({type(exc).__name__}: {exc}); the "
                                 "state is corrupt, save it again.") from exc
