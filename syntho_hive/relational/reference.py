"""Reference (lookup) tables as plain JSON: stored whole with the synthesizer, returned verbatim.

A reference table (currencies, statuses, categories) is schema rather than data about people,
so its real rows are kept (:func:`frame_to_json`) and every generation returns them unchanged,
in their dtypes (:func:`frame_from_json`). Cells use the strict-JSON forms of
:mod:`syntho_hive.core.data._dtypes`, so no pickle is involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    null_marker,
    restore_objects,
    value_from_json,
    value_to_json,
)
from syntho_hive.exceptions import SerializationError

__all__ = ["frame_to_json", "frame_from_json"]


def frame_to_json(frame: pd.DataFrame, table: str) -> dict[str, Any]:
    """The rows of ``frame`` as plain JSON (column order, dtypes and null markers kept).

    Args:
        frame: The real table.
        table: Its name, for error messages.

    Returns:
        ``{"columns": [{"name", "dtype", "marker", "values"}, ...], "rows": n}``.

    Raises:
        SerializationError: A cell or dtype has no JSON form.
    """
    columns = []
    for column in frame.columns:
        series = frame[column]
        where = f"reference table {table!r}, column {column!r}"
        values = [None if pd.isna(v) else value_to_json(v, where)
                  for v in series.astype(object).to_numpy()]
        columns.append({"name": str(column), "dtype": dtype_to_json(series.dtype, where),
                        "marker": marker_to_json(null_marker(series)), "values": values})
    return {"columns": columns, "rows": int(len(frame))}


def frame_from_json(data: Mapping[str, Any], table: str) -> pd.DataFrame:
    """Inverse of :func:`frame_to_json`.

    Raises:
        SerializationError: ``data`` is not such a form.
    """
    try:
        rows = int(data["rows"])
        out: dict[str, pd.Series] = {}
        for item in data["columns"]:
            where = f"reference table {table!r}, column {item['name']!r}"
            cells = list(item["values"])
            if len(cells) != rows:
                raise SerializationError(f"{where}: {len(cells)} stored values for {rows} rows; save it again.")
            nulls = np.array([cell is None for cell in cells], dtype=bool)
            values = np.empty(rows, dtype=object)
            values[:] = [None if cell is None else value_from_json(cell, where) for cell in cells]
            dtype = dtype_from_json(item["dtype"], where)
            out[str(item["name"])] = restore_objects(values, nulls, dtype, marker_from_json(item["marker"]),
                                                     item["name"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SerializationError(f"Stored reference table {table!r} is corrupt ({type(exc).__name__}: {exc}); "
                                 "save the synthesizer again.") from exc
    return pd.DataFrame(out, index=pd.RangeIndex(rows))
