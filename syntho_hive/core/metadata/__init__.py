"""Schema of a dataset: tables, keys, semantic types, constraints; detection, validation, IO."""

from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.core.metadata.schema import (
    SDTYPES,
    Constraint,
    FixedCombinations,
    FunctionalDependency,
    Inequality,
    Metadata,
    SDType,
    TableConfig,
)

__all__ = [
    "Metadata",
    "TableConfig",
    "ColumnType",
    "Constraint",
    "Inequality",
    "FixedCombinations",
    "FunctionalDependency",
    "SDType",
    "SDTYPES",
    "detect_sdtype",
]
