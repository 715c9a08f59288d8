"""Identifier columns: not modelled; generated unique in the training format.

Reuses :class:`syntho_hive.core.data.encoders.ids.IdGenerator` (the core engine's id
generation) and stores its learned format as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.models.tabular_ar.encoders.base import CodecConfig, GeneratedCodec
from syntho_hive.core.models.tabular_ar.encoders.values import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
)

__all__ = ["IdStats", "IdCodec", "analyze_id"]

_FIELDS = ("kind", "start", "step", "prefix", "width", "upper", "length")


@dataclass
class IdStats:
    """The id format learned on one partition (``format`` holds the generator's fields)."""

    format: dict[str, Any] = field(default_factory=dict)
    kind: str = "id"

    def merge(self, other: "IdStats") -> "IdStats":
        """Both partitions: the first format, starting at the smallest start (sequences)."""
        merged = dict(self.format)
        if merged.get("kind") == other.format.get("kind") and merged.get("kind") in ("int", "code"):
            merged["start"] = min(int(merged["start"]), int(other.format["start"]))
            merged["step"] = min(int(merged["step"]), int(other.format["step"]))
        if merged.get("kind") == "random":
            merged["alphabet"] = "".join(sorted(set(merged["alphabet"]) | set(other.format.get("alphabet", ""))))
            merged["length"] = max(int(merged["length"]), int(other.format.get("length", 0)))
        return IdStats(merged)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"kind": self.kind, "format": self.format}


def _state(generator: IdGenerator, column: str) -> dict[str, Any]:
    state = {name: getattr(generator, name) for name in _FIELDS}
    state["start"], state["step"] = int(state["start"]), int(state["step"])
    state["width"], state["length"] = int(state["width"]), int(state["length"])
    state["upper"] = bool(state["upper"])
    state["alphabet"] = bytes(np.asarray(generator.alphabet, dtype=np.uint8)).decode("ascii")
    state["dtype"] = dtype_to_json(generator.dtype, f"column {column!r}")
    state["marker"] = marker_to_json(generator.marker)
    return state


def analyze_id(series: pd.Series) -> IdStats:
    """The id format of one partition."""
    generator = IdGenerator(str(series.name))
    generator.prepare(series, seed=0)
    return IdStats(_state(generator, str(series.name)))


class IdCodec(GeneratedCodec):
    """Generates ids; has no sub-columns."""

    kind = "id"
    not_modelled = "ids are generated, not modelled."

    def __init__(self, column: str, state: dict[str, Any]) -> None:
        super().__init__(column, state)
        self._generator = IdGenerator(column)
        for name in _FIELDS:
            setattr(self._generator, name, state[name])
        self._generator.alphabet = np.frombuffer(state["alphabet"].encode("ascii"), dtype=np.uint8)
        self._generator.dtype = dtype_from_json(state["dtype"], f"column {column!r}")
        self._generator.marker = marker_from_json(state["marker"])

    @classmethod
    def build(cls, column: str, stats: IdStats, config: CodecConfig) -> "IdCodec":
        """The codec for reduced statistics."""
        return cls(column, stats.format)

    def generate(self, n: int, rng: np.random.Generator) -> pd.Series:
        return self._generator.generate(n, rng)
