"""Column-shape scores (KSComplement / TVComplement with null handling), re-exported from the core.

The maths lives in :mod:`syntho_hive.core.quality.shapes`, so that the models' sampling quality
gates (core) can use it without importing this package (``validation -> core``, never the
reverse). This module keeps the public import path ``syntho_hive.validation.column_shapes``; see
the core module for the definitions and the treatment of nulls.
"""

from __future__ import annotations

from syntho_hive.core.quality.shapes import (
    SKIPPED_SDTYPES,
    column_shape_scores,
    ks_complement,
    overall_column_shape,
    tv_complement,
)

__all__ = [
    "column_shape_scores",
    "overall_column_shape",
    "ks_complement",
    "tv_complement",
    "SKIPPED_SDTYPES",
]
