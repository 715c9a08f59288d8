"""The shape every column codec follows: analyze -> reduce -> build -> encode / decode.

* ``analyze(series)`` computes typed, JSON-serialisable statistics of one partition;
* ``Stats.merge`` reduces partition statistics (associative and commutative, so the
  statistics of a table split in any way merge to those of the whole table);
* ``build(stats, config)`` turns the reduced statistics into a :class:`Codec`;
* ``Codec.encode`` maps a column to integer tokens in one or more discrete sub-columns and
  ``Codec.decode`` maps tokens back to a column with the training dtype.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from syntho_hive.exceptions import GenerationError

__all__ = ["SubColumn", "CodecConfig", "Codec", "GeneratedCodec", "tail_reach"]


@dataclass(frozen=True)
class SubColumn:
    """One discrete sub-column the network models.

    Attributes:
        name: ``column`` or ``column.part`` (e.g. ``"signup.month"``).
        column: The source column.
        cardinality: Number of tokens.
        null_token: Index of the token meaning "missing value", or ``None``.
        positions: For an ordered sub-column (numeric values), each token's place on a
            standard-normal scale (its rank among the value tokens mapped through the normal
            quantile function; ``0`` for the null token), which lets the network share strength
            between neighbouring tokens; ``None`` for unordered sub-columns.
    """

    name: str
    column: str
    cardinality: int
    null_token: int | None = None
    positions: tuple[float, ...] | None = None


@dataclass(frozen=True)
class CodecConfig:
    """Privacy and resolution settings shared by the codecs.

    Attributes:
        rare_threshold: Categories (and numeric values) seen fewer than this many times are
            never reproduced verbatim.
        max_bins: Most value tokens of a numeric column.
        tail_quantile: Share of the interval-coded numeric mass beyond the outer bin edges at
            each end: the edges are inner quantiles; the rows beyond them are decoded between the
            edge and :func:`tail_reach`, never at a training extreme.
        max_distinct: Distinct numeric values kept exactly in partition statistics; beyond
            it values are rounded to ``significant_digits`` significant digits.
        significant_digits: See ``max_distinct``.
    """

    rare_threshold: int = 5
    max_bins: int = 100
    tail_quantile: float = 0.001
    max_distinct: int = 10_000
    significant_digits: int = 4


class Codec(ABC):
    """A fitted column codec (see the module docstring)."""

    kind: ClassVar[str] = ""

    def __init__(self, column: str) -> None:
        self.column = column

    @property
    @abstractmethod
    def sub_columns(self) -> list[SubColumn]:
        """The discrete sub-columns, in model order (empty for generated-only columns)."""

    @abstractmethod
    def encode(self, series: pd.Series) -> np.ndarray:
        """Tokens of shape ``(len(series), len(sub_columns))`` (int64).

        Raises:
            GenerationError: A value cannot be represented (unseen category and no rare token).
        """

    @abstractmethod
    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """A column with the training dtype from tokens of shape ``(n, len(sub_columns))``."""

    @abstractmethod
    def allowed_tokens(self, value: Any) -> list[np.ndarray]:
        """For a condition ``column == value``: the allowed tokens of each sub-column.

        Raises:
            GenerationError: The value cannot occur in generated data.
        """

    def token_mask(self, offset: int, prefix: np.ndarray) -> np.ndarray | None:
        """Generation-time restriction of sub-column ``offset`` given this column's earlier ones.

        Generation draws a column's sub-columns in order, so ``prefix`` holds the tokens already
        drawn for sub-columns ``0 .. offset - 1``.

        Args:
            offset: Index of the sub-column within this column.
            prefix: ``(rows, offset)`` tokens.

        Returns:
            ``(rows, cardinality)`` booleans of the allowed tokens, or ``None`` (all allowed, the
            default).
        """
        return None

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (``Codec.from_dict`` in ``table.py`` restores it)."""

    def _null(self, token: int | None, *, conditioned: bool = False) -> int:
        """``token``, the null token, for missing values being encoded (or ``conditioned`` on).

        Raises:
            GenerationError: ``token`` is ``None``: the column had no missing values in training.
        """
        if token is not None:
            return token
        if conditioned:
            raise GenerationError(f"Cannot condition column {self.column!r} on a missing value: it had no "
                                  "missing values in training.")
        raise GenerationError(f"Column {self.column!r} holds missing values but had none in training; "
                              "fill them first or impute them.")


class GeneratedCodec(Codec):
    """A column generated on decode, not modelled (ids, text): no sub-columns, no conditions.

    Subclasses implement :meth:`generate` and set ``not_modelled`` (why a condition on the
    column is refused, the end of the error message); ``state`` is their plain-JSON state.
    """

    #: The reason a condition on such a column is refused.
    not_modelled: ClassVar[str] = ""

    def __init__(self, column: str, state: dict[str, Any]) -> None:
        super().__init__(column)
        self.state = state

    @property
    def sub_columns(self) -> list[SubColumn]:
        return []

    def encode(self, series: pd.Series) -> np.ndarray:
        return np.zeros((len(series), 0), dtype=np.int64)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        return self.generate(codes.shape[0], rng)

    @abstractmethod
    def generate(self, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` generated values with the training dtype."""

    def allowed_tokens(self, value: Any) -> list[np.ndarray]:
        raise GenerationError(f"Cannot condition on {self.kind} column {self.column!r}: {self.not_modelled}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "state": self.state}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GeneratedCodec":
        return cls(data["column"], data["state"])


def tail_reach(edge: float, beyond: np.ndarray, weights: np.ndarray, cap: float, least: int) -> float:
    """How far generated values reach past an inner ``edge`` (a ``rare_threshold``-th extreme).

    ``edge`` moved towards the training values ``beyond`` it by their mean distance from it, each
    distance capped at ``cap`` (the width of the adjacent inner range), over at least ``least``
    values (the missing ones count as lying on the edge): a point strictly inside the training
    range that is no single row's value and that no outlier can stretch.

    Args:
        edge: The inner edge.
        beyond: The training values past it (all on one side).
        weights: Their counts.
        cap: The most one value's distance counts for.
        least: The fewest values the mean is taken over (the ``rare_threshold``).

    Returns:
        The reach (``edge`` itself when nothing lies beyond).
    """
    if not len(beyond):
        return float(edge)
    distance = np.minimum(np.abs(beyond - edge), cap)
    mean = float(distance @ weights) / max(float(np.sum(weights)), float(least))
    return float(edge + np.sign(beyond[0] - edge) * mean)
