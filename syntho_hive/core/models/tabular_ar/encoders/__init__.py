"""Column codecs of the autoregressive model: every column becomes discrete sub-columns."""

from syntho_hive.core.models.tabular_ar.encoders.base import Codec, CodecConfig, SubColumn
from syntho_hive.core.models.tabular_ar.encoders.table import (
    ColumnStats,
    TableCodec,
    analyze_table,
    reduce_stats,
    stats_from_dict,
)

__all__ = ["Codec", "CodecConfig", "SubColumn", "ColumnStats", "TableCodec", "analyze_table",
           "reduce_stats", "stats_from_dict"]
