"""Reversible table <-> matrix transformation and the span contract shared with networks."""

from syntho_hive.core.data.spans import ColumnSpans, SpanInfo
from syntho_hive.core.data.transformer import DataTransformer

__all__ = ["DataTransformer", "SpanInfo", "ColumnSpans"]
