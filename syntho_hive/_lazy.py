"""Lazy module attributes: public names resolved on first access, so importing a package stays cheap
and needs no optional extra (PEP 562 ``__getattr__`` / ``__dir__``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_attributes(package: str, modules: Mapping[str, Iterable[str]],
                    namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each public name is imported from its module on first
    access and then kept in ``namespace`` (the package's ``globals()``), so later accesses are plain lookups.

    Args:
        package: The package's name, for the ``AttributeError`` message.
        modules: ``{module: the public names it defines}``.
        namespace: The package's ``globals()``.

    Returns:
        The two module-level functions to assign to ``__getattr__`` and ``__dir__``.
    """
    names = {name: module for module, defined in modules.items() for name in defined}

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
