"""The SynthoHive exception tree.

Every error the library raises on purpose derives from :class:`SynthoHiveError`.
Leaves also subclass the matching builtin so that callers catching ``ValueError``
or ``OSError`` keep working::

    SynthoHiveError
    ├── SchemaError (ValueError)
    │   └── SchemaValidationError        carries ``issues``: every problem found
    ├── NotFittedError (RuntimeError)
    ├── TrainingError (RuntimeError)
    ├── SerializationError (OSError)
    ├── ConstraintViolationError (ValueError)
    ├── GenerationError (ValueError)
    ├── PrivacyError                     carries ``failures``: {figure: (value, limit)}
    ├── QualityError                     carries ``failures``: {column: score}
    ├── MissingDependencyError (ImportError)
    └── ConfigurationError (ValueError, TypeError)

Messages say what was wrong, where (table / column / file) and how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "SynthoHiveError",
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
    "ConfigurationError",
]


class SynthoHiveError(Exception):
    """Root of every error raised on purpose by SynthoHive."""


class SchemaError(SynthoHiveError, ValueError):
    """The metadata (tables, keys, column types) is wrong or inconsistent."""


class SchemaValidationError(SchemaError):
    """Schema validation found one or more problems; all of them are listed.

    Attributes:
        issues: One human-readable line per problem, in the order found.
    """

    def __init__(self, issues: Sequence[str]) -> None:
        self.issues: list[str] = list(issues)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"Schema validation found {len(self.issues)} problem(s):\n{lines}")


class NotFittedError(SynthoHiveError, RuntimeError):
    """A method that needs a fitted (or loaded) model was called before ``fit``/``load``."""


class TrainingError(SynthoHiveError, RuntimeError):
    """Training could not proceed (bad data, diverging loss, ...)."""


class SerializationError(SynthoHiveError, OSError):
    """Saving or loading a checkpoint failed (exists, missing, corrupt, checksum mismatch)."""


class ConstraintViolationError(SynthoHiveError, ValueError):
    """Data violates a declared constraint.

    Attributes:
        column: The column (or ``"a <= b"`` expression) whose constraint is violated.
        count: How many rows violate it.
        examples: A few offending values.
    """

    def __init__(self, message: str, *, column: str | None = None, count: int = 0,
                 examples: Sequence[Any] = ()) -> None:
        self.column = column
        self.count = count
        self.examples = list(examples)
        super().__init__(message)


class GenerationError(SynthoHiveError, ValueError):
    """A sampling request is invalid or cannot be satisfied."""


class PrivacyError(SynthoHiveError):
    """A privacy guarantee or check failed.

    Attributes:
        failures: ``{figure: (value, limit)}`` for each privacy figure over its limit (empty when
            the error is not about measured figures); figures of a table are named ``"table.figure"``.
    """

    def __init__(self, message: str = "", *, failures: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.failures: dict[str, tuple[float, float]] = dict(failures or {})
        super().__init__(message)


class QualityError(SynthoHiveError):
    """Generated data scored below a requested quality threshold.

    Attributes:
        failures: ``{column: score}`` for each column below the threshold.
        threshold: The threshold that was requested.
    """

    def __init__(self, message: str, *, failures: Mapping[str, float] | None = None,
                 threshold: float | None = None) -> None:
        self.failures = dict(failures or {})
        self.threshold = threshold
        super().__init__(message)


class MissingDependencyError(SynthoHiveError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class ConfigurationError(SynthoHiveError, ValueError, TypeError):
    """An argument of a public constructor or method has the wrong type or names an unknown option
    (e.g. ``Synthesizer(metadata=dict(...))``, ``model=CTGAN()`` instead of ``CTGAN``, a model
    option that no model takes, a seed that is not a non-negative integer).

    It subclasses both ``ValueError`` and ``TypeError``, so code that caught the builtin error
    raised before it existed keeps working.
    """
