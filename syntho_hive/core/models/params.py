"""Hyper-parameters declared once per engine, typed and validated the same way for all.

An engine declares each constructor option as a class attribute::

    class CTGAN(ConditionalGenerativeModel):
        embedding_dim = Integer(128, "Width of the generator's noise input.")
        generator_dim = Widths((256, 256), "Width of each residual block of the generator.")
        generator_lr = Number(2e-4, "Adam learning rate of the generator.")

:class:`~syntho_hive.core.models.base.ConditionalGenerativeModel` collects the declarations
(inherited ones first), builds the constructor's signature from them, stores the values given,
checks them all at once before ``fit`` (:class:`~syntho_hive.exceptions.TrainingError` listing
every problem), writes the saved ones into checkpoints and checks them again on ``load``
(:class:`~syntho_hive.exceptions.SerializationError`). Booleans are never numbers here: ``True``
is refused as a learning rate or a layer width by every engine alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from syntho_hive._checks import is_finite_number, is_int
from syntho_hive.core.dp.config import DPConfig
from syntho_hive.exceptions import ConfigurationError

__all__ = ["Choice", "DPSetting", "Flag", "Integer", "Number", "Param", "Text", "Widths", "problems_of"]

_MISSING = object()


class Param:
    """A declared hyper-parameter: its default, its check and its documentation.

    Args:
        default: The value when none is given.
        doc: One line for the docstring and error messages.
        optional: ``None`` is accepted too.
        saved: Written into checkpoints (``False`` for run-time choices such as ``device``).

    Attributes:
        name: Set when the owning class is created.
    """

    def __init__(self, default: Any, doc: str = "", *, optional: bool = False, saved: bool = True) -> None:
        self.default = default
        self.doc = doc
        self.optional = optional
        self.saved = saved
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance.__dict__.get(self.name, self.default)

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.name] = value

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or ``None`` when it is."""
        if value is None:
            return None if self.optional else f"{self.name} must not be None ({self.expected()})"
        return self._problem(value)

    def normalise(self, value: Any) -> Any:
        """The stored form of an accepted ``value`` (plain Python types, JSON-serialisable)."""
        return None if value is None else self._normalise(value)

    def expected(self) -> str:
        """What an accepted value looks like, for messages."""
        return "a value"

    def to_json(self, value: Any) -> Any:
        """The checkpoint form of a normalised value (sequences as lists)."""
        return list(value) if isinstance(value, tuple) else value

    def _problem(self, value: Any) -> str | None:
        return None

    def _normalise(self, value: Any) -> Any:
        return value

    def _fail(self, value: Any) -> str:
        suffix = " or None" if self.optional else ""
        return f"{self.name} must be {self.expected()}{suffix}, got {value!r}"


def problems_of(params: Mapping[str, Param], values: Mapping[str, Any]) -> list[str]:
    """What is wrong with each of ``values`` that ``params`` declares (one line per problem)."""
    return [problem for name, param in params.items() if name in values
            for problem in [param.problem(values[name])] if problem is not None]


class Integer(Param):
    """An integer of at least ``minimum`` (default 1)."""

    def __init__(self, default: Any, doc: str = "", *, minimum: int = 1, **kwargs: Any) -> None:
        super().__init__(default, doc, **kwargs)
        self.minimum = minimum

    def expected(self) -> str:
        return "a positive integer" if self.minimum == 1 else f"an integer >= {self.minimum}"

    def _problem(self, value: Any) -> str | None:
        return None if is_int(value) and value >= self.minimum else self._fail(value)

    def _normalise(self, value: Any) -> Any:
        return int(value)


class Number(Param):
    """A finite real number in ``[minimum, maximum]`` (``positive``: above ``minimum``)."""

    def __init__(self, default: Any, doc: str = "", *, minimum: float = 0.0, maximum: float = math.inf,
                 positive: bool = False, **kwargs: Any) -> None:
        super().__init__(default, doc, **kwargs)
        self.minimum, self.maximum, self.positive = minimum, maximum, positive

    def expected(self) -> str:
        low = "> " if self.positive else ">= "
        if self.maximum == math.inf:
            return "a positive number" if self.positive and self.minimum == 0 else \
                "a non-negative number" if self.minimum == 0 else f"a number {low}{self.minimum}"
        return f"a number in {'(' if self.positive else '['}{self.minimum}, {self.maximum}]"

    def _problem(self, value: Any) -> str | None:
        if not is_finite_number(value):
            return self._fail(value)
        number = float(value)
        below = number <= self.minimum if self.positive else number < self.minimum
        return self._fail(value) if below or number > self.maximum else None

    def _normalise(self, value: Any) -> Any:
        return int(value) if is_int(value) else float(value)


class Widths(Param):
    """A non-empty sequence of positive integers (one width per hidden layer)."""

    def expected(self) -> str:
        return "a non-empty sequence of positive integers (one width per hidden layer)"

    def _problem(self, value: Any) -> str | None:
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or len(value) == 0:
            return self._fail(value)
        return None if all(is_int(v) and v >= 1 for v in value) else self._fail(value)

    def _normalise(self, value: Any) -> Any:
        return tuple(int(v) for v in value)


class Choice(Param):
    """One of ``options``."""

    def __init__(self, default: Any, doc: str = "", *, options: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(default, doc, **kwargs)
        self.options = tuple(options)

    def expected(self) -> str:
        return f"one of {list(self.options)}"

    def _problem(self, value: Any) -> str | None:
        try:
            return None if value in self.options and not isinstance(value, bool) else self._fail(value)
        except TypeError:  # unhashable or incomparable
            return self._fail(value)


class Flag(Param):
    """``True`` or ``False``."""

    def expected(self) -> str:
        return "True or False"

    def _problem(self, value: Any) -> str | None:
        return None if isinstance(value, (bool, np.bool_)) else self._fail(value)

    def _normalise(self, value: Any) -> Any:
        return bool(value)


class Text(Param):
    """Any string, or (for ``device``) a ``torch.device``; not saved unless asked."""

    def expected(self) -> str:
        return "a string"

    def _problem(self, value: Any) -> str | None:
        return None if isinstance(value, str) or type(value).__name__ == "device" else self._fail(value)


class DPSetting(Param):
    """``None`` (no differential privacy) or a :class:`~syntho_hive.core.dp.DPConfig`; checkpoints
    store its ``to_dict()`` form, which is accepted too."""

    def expected(self) -> str:
        return "a DPConfig, e.g. DPConfig(max_epsilon=4.0)"

    def _problem(self, value: Any) -> str | None:
        if isinstance(value, DPConfig):
            return None
        if isinstance(value, Mapping):
            try:
                DPConfig.from_dict(value)
            except ConfigurationError as exc:
                return f"{self.name}: {exc}".rstrip(".")
            return None
        return self._fail(value)

    def _normalise(self, value: Any) -> Any:
        return value if isinstance(value, DPConfig) else DPConfig.from_dict(value)

    def to_json(self, value: Any) -> Any:
        return value.to_dict() if isinstance(value, DPConfig) else value
