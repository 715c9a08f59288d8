"""Lazy import of optional dependencies with an error naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from syntho_hive.exceptions import MissingDependencyError


def import_or_raise(module: str, extra: str) -> ModuleType:
    """Import ``module`` or explain which extra provides it.

    Args:
        module: Dotted module name, e.g. ``"pyspark.sql"``.
        extra: The ``synthohive`` extra that installs it, e.g. ``"spark"``.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: If the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"'{module}' is required for this feature but is not installed. "
            f"Install it with: pip install 'synthohive[{extra}]'"
        ) from exc
