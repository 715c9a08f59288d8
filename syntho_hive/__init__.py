"""SynthoHive: synthetic relational data with intact keys, measured quality and safe checkpoints.

The main names are importable from here. Heavy parts (torch models) are loaded lazily, on
first attribute access, so ``import syntho_hive`` stays cheap and needs no optional extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syntho_hive._lazy import lazy_attributes
from syntho_hive._version import __version__
from syntho_hive.exceptions import (
    ConfigurationError,
    ConstraintViolationError,
    GenerationError,
    MissingDependencyError,
    NotFittedError,
    PrivacyError,
    QualityError,
    SchemaError,
    SchemaValidationError,
    SerializationError,
    SynthoHiveError,
    TrainingError,
)

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.data import DataTransformer
    from syntho_hive.core.metadata import (
        Constraint,
        FixedCombinations,
        FunctionalDependency,
        Inequality,
        Metadata,
        TableConfig,
    )
    from syntho_hive.core.models import CTGAN, TVAE, ConditionalGenerativeModel, TabularAR, load_model, register_model
    from syntho_hive.interface.synthesizer import Synthesizer

_LAZY: dict[str, tuple[str, ...]] = {
    "syntho_hive.core.metadata": ("Metadata", "TableConfig", "Constraint", "Inequality", "FixedCombinations",
                                  "FunctionalDependency"),
    "syntho_hive.core.data": ("DataTransformer",),
    "syntho_hive.core.models.base": ("ConditionalGenerativeModel", "load_model"),
    "syntho_hive.core.models.registry": ("register_model",),
    "syntho_hive.core.models.ctgan": ("CTGAN",),
    "syntho_hive.core.models.tabular_ar": ("TabularAR",),
    "syntho_hive.core.models.tvae": ("TVAE",),
    "syntho_hive.interface.synthesizer": ("Synthesizer",),
}

__all__ = [
    "__version__",
    "Metadata",
    "TableConfig",
    "Constraint",
    "Inequality",
    "FixedCombinations",
    "FunctionalDependency",
    "DataTransformer",
    "ConditionalGenerativeModel",
    "CTGAN",
    "TabularAR",
    "TVAE",
    "load_model",
    "register_model",
    "Synthesizer",
    "SynthoHiveError",
    "ConfigurationError",
    "SchemaError",
    "SchemaValidationError",
    "NotFittedError",
    "TrainingError",
    "SerializationError",
    "ConstraintViolationError",
    "GenerationError",
    "PrivacyError",
    "QualityError",
    "MissingDependencyError",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
