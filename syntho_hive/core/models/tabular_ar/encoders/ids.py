"""Identifier columns: not modelled; generated unique in the training format.

Reuses :class:`syntho_hive.core.data.encoders.ids.IdGenerator` (the core engine's id
generation); its learned format, as :meth:`IdGenerator.to_dict` writes it, is the statistics
and the codec state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.models.tabular_ar.encoders.base import CodecConfig, GeneratedCodec

__all__ = ["IdStats", "IdCodec", "analyze_id"]


@dataclass
class IdStats:
    """The id format learned on one partition (``format``: :meth:`IdGenerator.to_dict`)."""

    format: dict[str, Any] = field(default_factory=dict)
    kind: str = "id"

    def merge(self, other: "IdStats") -> "IdStats":
        """Both partitions' formats together (see :meth:`IdGenerator.merge`).

        Raises:
            SerializationError: A format is corrupt.
        """
        mine = IdGenerator.from_dict(self.format, column="")
        return IdStats(mine.merge(IdGenerator.from_dict(other.format, column="")).to_dict())

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"kind": self.kind, "format": self.format}


def analyze_id(series: pd.Series) -> IdStats:
    """The id format of one partition.

    Raises:
        SerializationError: The column's dtype cannot be stored.
    """
    generator = IdGenerator(str(series.name))
    generator.prepare(series, seed=0)
    return IdStats(generator.to_dict())


class IdCodec(GeneratedCodec):
    """Generates ids; has no sub-columns.

    Args:
        column: Column name.
        state: The learned format (:meth:`IdGenerator.to_dict`).

    Raises:
        SerializationError: ``state`` is corrupt.
    """

    kind = "id"
    not_modelled = "ids are generated, not modelled."

    def __init__(self, column: str, state: dict[str, Any]) -> None:
        super().__init__(column, state)
        self._generator = IdGenerator.from_dict(state, column=column)

    @classmethod
    def build(cls, column: str, stats: IdStats, config: CodecConfig) -> "IdCodec":
        """The codec for reduced statistics."""
        return cls(column, stats.format)

    def generate(self, n: int, rng: np.random.Generator) -> pd.Series:
        return self._generator.generate(n, rng)
