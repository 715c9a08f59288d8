"""The engines a checkpoint may name: a plain registry, never an import path.

A checkpoint's manifest names its engine (``"model": "CTGAN"``); loading looks that name up here
and instantiates the class registered under it. Nothing in a checkpoint can make SynthoHive import
a module: the built-in engines are imported from a fixed table, and any other engine must have
been registered in the running process with :func:`register_model`.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, TypeVar

from syntho_hive.exceptions import SerializationError

if TYPE_CHECKING:
    from syntho_hive.core.models.base import ConditionalGenerativeModel

__all__ = ["BUILTIN_MODELS", "is_registered", "legacy_class_path", "model_class", "register_model"]

#: Built-in engines: registry name -> the module that defines (and registers) it.
BUILTIN_MODELS: dict[str, str] = {
    "TabularAR": "syntho_hive.core.models.tabular_ar.model",
    "CTGAN": "syntho_hive.core.models.ctgan.model",
    "TVAE": "syntho_hive.core.models.tvae.model",
}

_REGISTRY: dict[str, type["ConditionalGenerativeModel"]] = {}

M = TypeVar("M", bound=type)


def register_model(cls: M, name: str | None = None) -> M:
    """Register an engine class under ``name`` so checkpoints can name it.

    Usable as a decorator. ``name`` (default: ``cls.model_name``, the class name) becomes the class's
    ``model_name``, the name its checkpoints carry. Registering the same class again is a no-op.

    Returns:
        ``cls``.

    Raises:
        SerializationError: ``name`` is taken by another class.
    """
    if name is not None:
        cls.model_name = name  # type: ignore[attr-defined]  # checkpoints store the model_name
    key = getattr(cls, "model_name", None) or cls.__name__
    known = _REGISTRY.get(key)
    if known is not None and known is not cls and not _same_definition(known, cls):
        raise SerializationError(f"Model name {key!r} is already registered for {known.__module__}."
                                 f"{known.__qualname__}; register {cls.__qualname__} under another name.")
    _REGISTRY[key] = cls  # type: ignore[assignment]
    return cls


def _same_definition(one: type, other: type) -> bool:
    """Whether two classes are one definition imported twice (e.g. under two module names)."""
    try:
        return one.__qualname__ == other.__qualname__ and inspect.getsourcefile(one) == inspect.getsourcefile(other)
    except TypeError:  # built-in or dynamically created: no source file
        return False


def model_class(name: object) -> type["ConditionalGenerativeModel"]:
    """The engine registered as ``name`` (built-ins are imported on first use).

    Raises:
        SerializationError: No engine of that name.
    """
    if not isinstance(name, str):
        raise SerializationError(f"A checkpoint names its model as {name!r}, not a model name.")
    if name not in _REGISTRY and name in BUILTIN_MODELS:
        importlib.import_module(BUILTIN_MODELS[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SerializationError(f"Unknown model {name!r} in the checkpoint; known models: "
                                 f"{sorted(set(_REGISTRY) | set(BUILTIN_MODELS))}. A custom engine must be "
                                 "registered with syntho_hive.core.models.register_model(cls) before "
                                 "loading.") from None


def is_registered(cls: type) -> bool:
    """Whether ``cls`` (or the same definition imported under another module name) is registered under
    its ``model_name``."""
    known = _REGISTRY.get(getattr(cls, "model_name", "") or cls.__name__)
    return known is not None and (known is cls or _same_definition(known, cls))


def legacy_class_path(path: object) -> str:
    """The registry name of a built-in engine saved as ``"module:Class"`` by version-1 synthesizers.

    Raises:
        SerializationError: Not the path of a built-in engine (nothing is imported).
    """
    for name, module in BUILTIN_MODELS.items():
        if path in (f"{module}:{name}", f"{module.rsplit('.', 1)[0]}:{name}"):
            return name
    raise SerializationError(f"The saved synthesizer names model class {path!r}; only the built-in engines "
                             f"{sorted(BUILTIN_MODELS)} can be named by a module path. Save it again with this "
                             "version (custom engines are named by their registered name).")

