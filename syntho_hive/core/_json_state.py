"""Exact, strict-JSON forms of small frames (fitted state as plain data), column by column, and of
nested containers holding NumPy scalars (:func:`plain_json`).

Cells and dtypes use the forms of :mod:`syntho_hive.core.data._dtypes` (their one implementation); a
cell or dtype without such a form is refused with a :class:`SerializationError` rather than stored lossily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    restore_objects,
    value_from_json,
    value_to_json,
)
from syntho_hive.exceptions import SerializationError

__all__ = ["frame_from_json", "frame_to_json", "plain_json"]


def plain_json(value: Any, *, finite: bool = False) -> Any:
    """``value`` with mappings (keys as text), lists and tuples rebuilt and NumPy scalars as Python ones;
    with ``finite``, NaN and infinite floats become ``None``."""
    if isinstance(value, Mapping):
        return {str(k): plain_json(v, finite=finite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v, finite=finite) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if finite and isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def frame_to_json(frame: pd.DataFrame, where: str) -> dict[str, Any]:
    """A small frame column by column: names, dtypes and cells (index dropped).

    Raises:
        SerializationError: If a dtype or a cell cannot be stored (see above).
    """
    columns = [str(c) for c in frame.columns]
    return {
        "columns": columns,
        "dtypes": [dtype_to_json(frame[c].dtype, f"column {c!r} of {where}") for c in columns],
        "values": [[value_to_json(v, f"column {c!r} of {where}") for v in frame[c].astype(object)]
                   for c in columns],
    }


def frame_from_json(data: Any, where: str) -> pd.DataFrame:
    """Inverse of :func:`frame_to_json` (with a ``RangeIndex``).

    Raises:
        SerializationError: If ``data`` is malformed.
    """
    try:
        columns, dtypes, values = list(data["columns"]), list(data["dtypes"]), list(data["values"])
    except (KeyError, TypeError) as exc:
        raise SerializationError(f"{where}: stored frame lacks {exc}; the state is corrupt, save it again.") from exc
    if not all(isinstance(c, str) for c in columns) or not all(isinstance(v, list) for v in values):
        raise SerializationError(f"{where}: stored frame needs column names and one list of cells per column; the "
                                 "state is corrupt, save it again.")
    lengths = {len(v) for v in values}
    if not (len(columns) == len(dtypes) == len(values)) or len(lengths) > 1:
        raise SerializationError(f"{where}: stored frame has {len(columns)} columns, {len(dtypes)} dtypes and "
                                 f"{len(values)} value lists of lengths {sorted(lengths)}; the state is corrupt.")
    out: dict[str, pd.Series] = {}
    for column, dtype_data, cells in zip(columns, dtypes, values):
        here = f"column {column!r} of {where}"
        dtype = dtype_from_json(dtype_data, here)
        objects = np.empty(len(cells), dtype=object)
        objects[:] = [value_from_json(v, here) for v in cells]
        if isinstance(dtype, np.dtype) and dtype == object:
            out[column] = pd.Series(objects, dtype=object, name=column)
            continue
        try:
            out[column] = restore_objects(objects, pd.isna(objects), dtype, None, column)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"{here}: stored values do not fit dtype {dtype} ({exc}); the state is "
                                     "corrupt, save it again.") from exc
    return pd.DataFrame(out, columns=columns)
