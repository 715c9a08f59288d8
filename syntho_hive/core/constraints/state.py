"""What the engine learned, as strict-JSON plain data, and back (checkpoints hold no pickles).

Kept: per inequality, its kind, integer flag or decimals, datetime step, unpaired column, dtypes
and date format; per fixed-combination group, its seen combinations and their labels; the fitted
column order, the published bounds and the date formats. The declarations themselves are not
stored: the table configuration is given back when the state is restored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from syntho_hive.core._json_state import (
    dtype_from_json,
    dtype_to_json,
    frame_from_json,
    frame_to_json,
    value_from_json,
    value_to_json,
)
from syntho_hive.core.constraints.plans import MAX_DECIMALS, UNPAIRED_SUFFIX, _ComboPlan, _InequalityPlan
from syntho_hive.core.metadata.schema import TableConfig
from syntho_hive.exceptions import SerializationError

__all__ = ["STATE_FORMAT", "RestoredState", "state_to_dict", "restore_state"]

STATE_FORMAT = 1  # version of the state_to_dict() layout


class RestoredState(NamedTuple):
    """The engine attributes :func:`restore_state` reads back besides the plans."""

    columns: list[str]
    formats: dict[str, str | None]
    bounds: dict[str, tuple[Any, Any]]
    datetime_bounds: dict[str, tuple[Any, Any]]


def state_to_dict(table_name: str, columns: Sequence[str], formats: Mapping[str, str | None],
                  inequalities: Sequence[_InequalityPlan], combos: Sequence[_ComboPlan],
                  bounds: Mapping[str, tuple[Any, Any]], datetime_bounds: Mapping[str, tuple[Any, Any]],
                  where: str) -> dict[str, Any]:
    """A fitted engine's learned state as strict-JSON plain data (``json.dumps(allow_nan=False)``).

    Args:
        table_name: The table's name.
        columns: The fitted column order.
        formats: The date format per date-string column.
        inequalities: The fitted inequality plans.
        combos: The fitted fixed-combination plans.
        bounds: The published bounds (timestamps are stored as ISO strings with their timezone).
        datetime_bounds: The datetime entries of ``bounds`` (only their columns are stored).
        where: How messages name the engine (``"the constraints of table 'orders'"``).

    Returns:
        A dict of JSON types only.

    Raises:
        SerializationError: If a learned dtype or a fixed-combination value cannot be stored as
            JSON (e.g. ``Decimal`` objects; the message names the column).
    """
    stored_inequalities = [{
        "low": q.low, "high": q.high, "strict": bool(q.strict), "kind": q.kind,
        "integer": bool(q.integer), "decimals": None if q.decimals is None else int(q.decimals),
        "step_ns": int(q.step_ns), "unpaired": q.unpaired, "high_sdtype": q.high_sdtype,
        "high_format": q.high_format,
        "high_dtype": dtype_to_json(q.high_dtype, f"column {q.high!r} of {where}"),
        "high_string_dtype": None if q.high_string_dtype is None else dtype_to_json(
            q.high_string_dtype, f"column {q.high!r} of {where}"),
    } for q in inequalities]
    combinations = []
    for plan in combos:
        assert plan.combos is not None and plan.labels is not None
        combinations.append({
            "columns": list(plan.columns),
            "combinations": frame_to_json(plan.combos, f"the fixed combinations of {where}"),
            "labels": [str(label) for label in plan.labels],
        })
    return {
        "format": STATE_FORMAT,
        "table": table_name,
        "columns": list(columns),
        "formats": dict(formats),
        "inequalities": stored_inequalities,
        "fixed_combinations": combinations,
        "bounds": {column: [value_to_json(v, f"bound of column {column!r} of {where}") for v in pair]
                   for column, pair in bounds.items()},
        "datetime_bounds": list(datetime_bounds),
    }


def restore_state(table: TableConfig, data: Mapping[str, Any], inequalities: Sequence[_InequalityPlan],
                  combos: Sequence[_ComboPlan], where: str) -> RestoredState:
    """Read :func:`state_to_dict`'s output back into the unfitted plans of ``table``.

    Args:
        table: The table configuration the state was saved with.
        data: The output of :func:`state_to_dict` (after a JSON round trip or not).
        inequalities: ``table``'s unfitted inequality plans in decoding order, filled in place.
        combos: ``table``'s unfitted fixed-combination plans, filled in place.
        where: How messages name the state (``"Stored constraint state of table 'orders'"``).

    Returns:
        The fitted column order, date formats, bounds and datetime bounds.

    Raises:
        SerializationError: If ``data`` is malformed or does not match ``table``'s declared
            inequalities and fixed combinations.
    """

    def expect(ok: bool, what: str) -> None:
        if not ok:
            raise SerializationError(f"{where} is malformed: {what}; save the model again.")

    try:
        expect(isinstance(data, Mapping), f"expected a dict, got {type(data).__name__}")
        expect(data["format"] == STATE_FORMAT,
               f"format {data['format']!r} is not {STATE_FORMAT} (written by another SynthoHive version)")
        expect(data["table"] == table.name, f"it belongs to table {data['table']!r}")
        columns = [str(c) for c in data["columns"]]
        formats = dict(data["formats"])
        expect(all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in formats.items()),
               "'formats' must map column names to strftime formats or null")
        stored = list(data["inequalities"])
        declared = [(q.low, q.high, q.strict) for q in inequalities]
        expect([(s["low"], s["high"], s["strict"]) for s in stored] == declared,
               f"its inequalities {[(s['low'], s['high'], s['strict']) for s in stored]} are not the "
               f"table's {declared}")
        for q, s in zip(inequalities, stored):
            _restore_inequality(q, s, expect, where)
        groups = list(data["fixed_combinations"])
        expect([list(g["columns"]) for g in groups] == [p.columns for p in combos],
               f"its fixed combinations {[g['columns'] for g in groups]} are not the table's "
               f"{[p.columns for p in combos]}")
        for plan, g in zip(combos, groups):
            stored_combos = frame_from_json(g["combinations"], where)
            labels = list(g["labels"])
            expect(list(stored_combos.columns) == plan.columns and len(labels) == len(stored_combos)
                   and all(isinstance(v, str) for v in labels) and len(set(labels)) == len(labels),
                   f"the combinations of {plan.columns} do not match their labels")
            plan.combos = stored_combos
            plan.labels = pd.Index(np.array(labels, dtype=object), dtype=object)
        bounds = {}
        for column, pair in dict(data["bounds"]).items():
            pair = [value_from_json(v, where) for v in pair]
            expect(len(pair) == 2 and all(v is None or isinstance(v, (float, pd.Timestamp)) for v in pair),
                   f"bounds of {column!r} must be [min, max] numbers, timestamps or null")
            bounds[str(column)] = (pair[0], pair[1])
        dated = [str(c) for c in data["datetime_bounds"]]
        expect(set(dated) <= set(bounds), "'datetime_bounds' names columns without bounds")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SerializationError(f"{where} is malformed ({type(exc).__name__}: {exc}); save the model "
                                 "again.") from exc
    return RestoredState(columns, formats, bounds, {c: bounds[c] for c in dated})


def _restore_inequality(q: _InequalityPlan, s: Mapping[str, Any], expect: Callable[[bool, str], None],
                        where: str) -> None:
    """Fill a declared inequality's plan from its stored form (see :func:`restore_state`)."""
    expect(s["kind"] in ("numeric", "datetime"), f"kind {s['kind']!r} of {q.high!r}")
    expect(isinstance(s["integer"], bool), f"'integer' of {q.high!r} must be true/false")
    expect(s["decimals"] is None or (type(s["decimals"]) is int and 0 <= s["decimals"] <= MAX_DECIMALS),
           f"'decimals' of {q.high!r} must be null or 0..{MAX_DECIMALS}")
    expect(type(s["step_ns"]) is int and s["step_ns"] >= 1, f"'step_ns' of {q.high!r} must be >= 1")
    expect(s["unpaired"] in (None, f"{q.high}{UNPAIRED_SUFFIX}"), f"'unpaired' of {q.high!r}")
    expect(s["high_sdtype"] in ("numerical", "datetime"), f"'high_sdtype' of {q.high!r}")
    expect(s["high_format"] is None or isinstance(s["high_format"], str), f"'high_format' of {q.high!r}")
    q.kind, q.integer, q.decimals, q.step_ns = s["kind"], s["integer"], s["decimals"], s["step_ns"]
    q.unpaired, q.high_sdtype, q.high_format = s["unpaired"], s["high_sdtype"], s["high_format"]
    q.high_dtype = dtype_from_json(s["high_dtype"], f"{where}, column {q.high!r}")
    q.high_string_dtype = None if s["high_string_dtype"] is None else dtype_from_json(
        s["high_string_dtype"], f"{where}, column {q.high!r}")
