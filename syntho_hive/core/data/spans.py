"""The data contract between the transformer and the networks.

A fitted :class:`~syntho_hive.core.data.transformer.DataTransformer` publishes, for every
modelled column, the list of spans its encoding occupies in the transformed matrix.
Networks read only this contract: they apply ``tanh`` to ``"tanh"`` spans and
gumbel-softmax to ``"softmax"`` spans, and never reach into an encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Activation = Literal["tanh", "softmax"]


@dataclass(frozen=True)
class SpanInfo:
    """One contiguous block of the transformed matrix.

    Attributes:
        dim: Width of the block.
        activation: ``"tanh"`` for a scalar in [-1, 1], ``"softmax"`` for a one-hot block.
    """

    dim: int
    activation: Activation


@dataclass(frozen=True)
class ColumnSpans:
    """All spans of one source column, in order.

    Attributes:
        column: Name of the source column (or of a derived column, e.g. a null indicator
            gets its own ``ColumnSpans`` named ``"<col>#null"``).
        spans: The spans, in matrix order.
        discrete: ``True`` when the column is categorical-like (a single softmax span whose
            categories can be conditioned on, i.e. take part in CTGAN's conditional vector).
        categories: For discrete columns, the category labels in span order (as strings
            for display; the encoder keeps the real values).
    """

    column: str
    spans: tuple[SpanInfo, ...]
    discrete: bool = False
    categories: tuple[str, ...] = field(default_factory=tuple)

    @property
    def dim(self) -> int:
        """Total width of this column's encoding."""
        return sum(span.dim for span in self.spans)


def _is_discrete(column: ColumnSpans) -> bool:
    """A discrete column: one softmax span whose categories can be conditioned on."""
    return column.discrete and len(column.spans) == 1 and column.spans[0].activation == "softmax"


def span_counts(output_info: Sequence[ColumnSpans]) -> tuple[int, int]:
    """``(tanh spans, softmax spans)`` in ``output_info``: a generator's draws for these columns are
    that many scalars and that many drawn entries (see ``DataTransformer.decode_draws``)."""
    spans = [span for column in output_info for span in column.spans]
    softmax = sum(span.activation == "softmax" for span in spans)
    return len(spans) - softmax, softmax


def softmax_span_ranks(output_info: Sequence[ColumnSpans]) -> dict[str, int]:
    """``{column: rank}`` of every discrete column's softmax span among all softmax spans, in matrix order
    (its column in a generator's drawn entries)."""
    ranks: dict[str, int] = {}
    rank = 0
    for column in output_info:
        if _is_discrete(column):
            ranks[column.column] = rank
        rank += sum(span.activation == "softmax" for span in column.spans)
    return ranks


def discrete_spans(output_info: Sequence[ColumnSpans]) -> dict[str, tuple[int, int]]:
    """``{column: (start, width)}`` of every discrete column's one-hot span in the matrix, in order.

    Args:
        output_info: A transformer's ``output_info_``.

    Returns:
        The discrete (single softmax span) columns, in matrix order.
    """
    out: dict[str, tuple[int, int]] = {}
    offset = 0
    for column in output_info:
        if _is_discrete(column):
            out[column.column] = (offset, column.spans[0].dim)
        offset += column.dim
    return out
