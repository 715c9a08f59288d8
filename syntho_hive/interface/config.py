"""Configuration objects for users (stable import path).

``from syntho_hive.interface.config import Metadata`` is a promised import path; the
classes live in :mod:`syntho_hive.core.metadata`.
"""

from syntho_hive.core.metadata.schema import (
    Constraint,
    FixedCombinations,
    FunctionalDependency,
    Inequality,
    Metadata,
    TableConfig,
)

__all__ = ["Metadata", "TableConfig", "Constraint", "Inequality", "FixedCombinations",
           "FunctionalDependency"]
