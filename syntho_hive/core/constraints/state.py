"""What the engine learned, as strict-JSON plain data, and back (checkpoints hold no pickles)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from syntho_hive.core._json_state import frame_from_json, frame_to_json
from syntho_hive.core.constraints.plans import MAX_DECIMALS, UNPAIRED_SUFFIX, _InequalityPlan
from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    value_from_json,
    value_to_json,
)
from syntho_hive.exceptions import SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.constraints.engine import ConstraintEngine

STATE_FORMAT = 1  # version of the state_to_dict() layout


def state_to_dict(engine: ConstraintEngine) -> dict[str, Any]:
    """The fitted ``engine``'s learned state (see :meth:`.ConstraintEngine.to_dict`)."""
    where = f"the constraints of {engine._where}"
    stored_inequalities = [{
        "low": q.low, "high": q.high, "strict": bool(q.strict), "kind": q.kind,
        "integer": bool(q.integer), "decimals": None if q.decimals is None else int(q.decimals),
        "step_ns": int(q.step_ns), "unpaired": q.unpaired, "high_sdtype": q.high_sdtype,
        "high_format": q.high_format,
        "high_dtype": dtype_to_json(q.high_dtype, f"column {q.high!r} of {where}"),
        "high_string_dtype": None if q.high_string_dtype is None else dtype_to_json(
            q.high_string_dtype, f"column {q.high!r} of {where}"),
        "high_objects": getattr(q, "high_objects", None),
        "high_marker": marker_to_json(getattr(q, "high_marker", None)),
        "reparametrised": bool(getattr(q, "reparametrised", True)),
    } for q in engine._inequalities]
    combinations = []
    for plan in engine._combos:
        assert plan.combos is not None and plan.labels is not None
        combinations.append({
            "columns": list(plan.columns),
            "combinations": frame_to_json(plan.combos, f"the fixed combinations of {where}"),
            "labels": [str(label) for label in plan.labels],
        })
    return {
        "format": STATE_FORMAT,
        "table": engine.table.name,
        "columns": list(engine.columns_),
        "formats": dict(engine._formats),
        "inequalities": stored_inequalities,
        "fixed_combinations": combinations,
        "bounds": {column: [value_to_json(v, f"bound of column {column!r} of {where}") for v in pair]
                   for column, pair in engine.bounds.items()},
        "datetime_bounds": list(engine.datetime_bounds),
    }


def restore_state(engine: ConstraintEngine, data: Mapping[str, Any]) -> None:
    """Fill the unfitted ``engine`` from :func:`state_to_dict`'s output (see :meth:`.ConstraintEngine.from_dict`).

    Raises:
        SerializationError: If ``data`` is malformed or does not match the engine's declared
            inequalities and fixed combinations.
    """
    where = f"Stored constraint state of {engine._where}"

    def expect(ok: bool, what: str) -> None:
        if not ok:
            raise SerializationError(f"{where} is malformed: {what}; save the model again.")

    try:
        expect(isinstance(data, Mapping), f"expected a dict, got {type(data).__name__}")
        expect(data["format"] == STATE_FORMAT,
               f"format {data['format']!r} is not {STATE_FORMAT} (written by another SynthoHive version)")
        expect(data["table"] == engine.table.name, f"it belongs to table {data['table']!r}")
        columns = [str(c) for c in data["columns"]]
        formats = dict(data["formats"])
        expect(all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in formats.items()),
               "'formats' must map column names to strftime formats or null")
        stored = list(data["inequalities"])
        declared = [(q.low, q.high, q.strict) for q in engine._inequalities]
        expect([(s["low"], s["high"], s["strict"]) for s in stored] == declared,
               f"its inequalities {[(s['low'], s['high'], s['strict']) for s in stored]} are not the "
               f"table's {declared}")
        for q, s in zip(engine._inequalities, stored):
            _restore_inequality(q, s, expect, where)
        groups = list(data["fixed_combinations"])
        expect([list(g["columns"]) for g in groups] == [p.columns for p in engine._combos],
               f"its fixed combinations {[g['columns'] for g in groups]} are not the table's "
               f"{[p.columns for p in engine._combos]}")
        for plan, g in zip(engine._combos, groups):
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
    engine.columns_, engine._formats = columns, formats
    engine.bounds, engine.datetime_bounds = bounds, {c: bounds[c] for c in dated}


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
    # absent from states saved before date / datetime objects were given back as such
    expect(s.get("high_objects") in (None, "date", "datetime"), f"'high_objects' of {q.high!r}")
    expect(s.get("high_marker") in (None, "NA", "NaT", "nan"), f"'high_marker' of {q.high!r}")
    q.high_objects, q.high_marker = s.get("high_objects"), marker_from_json(s.get("high_marker"))
    # absent from states saved before a pair of non-overlapping ranges kept its high modelled (all had a gap)
    expect(isinstance(s.get("reparametrised", True), bool), f"'reparametrised' of {q.high!r} must be true/false")
    q.reparametrised = s.get("reparametrised", True)
