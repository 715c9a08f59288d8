"""Quality validation of synthetic data against the real data it imitates."""

from syntho_hive.validation.column_shapes import (
    column_shape_scores,
    ks_complement,
    overall_column_shape,
    tv_complement,
)

__all__ = ["column_shape_scores", "overall_column_shape", "ks_complement", "tv_complement"]
