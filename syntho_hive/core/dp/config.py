"""The opt-in differential-privacy settings of a model: :class:`DPConfig`.

A model given ``dp=DPConfig(max_epsilon=...)`` fits its preprocessing from noisy statistics and
trains its network with DP-SGD, and never passes ``max_epsilon`` at ``delta`` (see
``docs/privacy.md`` for what is covered and what is not).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from syntho_hive._checks import is_finite_number
from syntho_hive.core.time_of_day import time_nanoseconds
from syntho_hive.exceptions import ConfigurationError

__all__ = ["DPConfig", "DEFAULT_DP_EPOCHS", "BoundKind", "bound_kind", "bound_nanoseconds"]

#: Epochs of DP-SGD when neither ``DPConfig.epochs`` nor a smaller model ``epochs`` is given (engines
#: may pass their own measured default to :meth:`DPConfig.training_epochs`).
DEFAULT_DP_EPOCHS = 20
_FIELDS = ("max_epsilon", "delta", "noise_multiplier", "max_grad_norm", "preprocessing_share", "epochs", "bounds")


#: A time of day as text: ``HH:MM[:SS[.ffffff]]``, with an optional UTC offset (refused).
_TIME_TEXT = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")
#: What a bound may be, by column kind (for messages).
BOUND_FORMS = {
    "number": "numbers, e.g. (0, 100)",
    "datetime": "dates or timestamps, e.g. ('2020-01-01', '2024-12-31')",
    "time": "times of day, e.g. (datetime.time(9), datetime.time(17)) or ('09:00', '17:00')",
    "duration": "durations, e.g. (pd.Timedelta(0), pd.Timedelta(hours=8))",
}
BoundKind = Literal["number", "datetime", "time", "duration"]


def bound_kind(value: float | str) -> BoundKind:
    """The kind of a stored bound: a number, a timestamp (ISO text), a time of day (``HH:MM:SS[.ffffff]``)
    or a duration (ISO 8601 text, ``P...``)."""
    if not isinstance(value, str):
        return "number"
    if _TIME_TEXT.match(value):
        return "time"
    return "duration" if value.lstrip("-").startswith("P") else "datetime"


def bound_nanoseconds(value: float | str) -> int:
    """A stored time-of-day or duration bound as nanoseconds (since midnight, for a time of day)."""
    if bound_kind(value) == "time":
        return time_nanoseconds(dt.time.fromisoformat(str(value)))
    return int(pd.Timedelta(value).value)


def _order_key(value: float | str) -> float | int | pd.Timestamp:
    """A stored bound as a value that orders bounds of its kind."""
    if not isinstance(value, str):  # a number (an int and a float compare exactly)
        return value
    return pd.Timestamp(value) if bound_kind(value) == "datetime" else bound_nanoseconds(value)


def _bound(column: str, value: Any) -> float | str:
    """A declared bound as stored: a finite number (an integer kept exact: a 64-bit bound past ``2**53`` has
    no float64), a timestamp as ISO text, a time of day as ``HH:MM:SS[.ffffff]`` or a duration as ISO 8601
    text (``P0DT8H0M0S``)."""
    if is_finite_number(value):
        return int(value) if isinstance(value, (int, np.integer)) else float(value)
    if isinstance(value, str) and _TIME_TEXT.match(value.strip()):
        try:
            value = dt.time.fromisoformat(value.strip())
        except ValueError as exc:
            raise ConfigurationError(f"DPConfig.bounds[{column!r}]: {value!r} is not a time of day ({exc}); write "
                                     "it as HH:MM or HH:MM:SS[.ffffff] with two-digit hours 00-23, e.g. '09:00'.") from None
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ConfigurationError(f"DPConfig.bounds[{column!r}] holds the time {value!r} with a time zone; times "
                                     "of day are modelled without one: declare times without a zone.")
        return value.isoformat()
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)) or (
            isinstance(value, str) and value.strip().lstrip("-").startswith("P")):
        try:
            duration = pd.Timedelta(value)
        except ValueError as exc:
            raise ConfigurationError(f"DPConfig.bounds[{column!r}] holds {value!r}, which is not an ISO 8601 "
                                     "duration; declare pd.Timedelta bounds.") from exc
        if pd.isna(duration):
            raise ConfigurationError(f"DPConfig.bounds[{column!r}] holds a missing value; declare (low, high).")
        return duration.isoformat()
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"DPConfig.bounds[{column!r}] holds {value!r}, which is neither a finite number, "
                                 "a timestamp, a time of day nor a duration; declare (low, high) "
                                 f"{'; or '.join(BOUND_FORMS.values())}.") from exc
    if pd.isna(stamp):
        raise ConfigurationError(f"DPConfig.bounds[{column!r}] holds a missing value; declare (low, high).")
    return stamp.isoformat()


@dataclass(frozen=True)
class DPConfig:
    """Differential privacy of one model: ``(max_epsilon, delta)`` for the whole fit.

    The budget covers the fitted preprocessing (category sets from noisy counts with a threshold,
    numeric and datetime ranges and bins from noisy histograms over fixed grids or from the declared
    ``bounds``) and the DP-SGD training (per-row gradient clipping, Gaussian noise, Poisson sampling,
    Rényi-DP accounting), composed in Rényi DP. Training stops before the total would pass
    ``max_epsilon``.

    Args:
        max_epsilon: Total privacy budget epsilon (> 0).
        delta: Total delta (0 < delta < 1), e.g. ``1e-5``; well below ``1 / rows``.
        noise_multiplier: DP-SGD noise standard deviation as a multiple of ``max_grad_norm``;
            ``None``: the smallest noise for which the planned epochs fit in the budget. Given,
            training runs until the budget would be passed (or the epochs end).
        max_grad_norm: Per-row gradient clipping norm (> 0).
        preprocessing_share: The epsilon the preprocessing would spend on its own, as a share of
            ``max_epsilon`` (0 < share < 1). Shares compose in Rényi DP (privacy loss grows like
            the square root of the queries), so 0.3 leaves training about 90% of the budget.
            ``None`` (the default): the smallest of 0.1, 0.2, 0.3 whose category threshold is at
            most 1% of the rows (public), else 0.3 — large tables give training more of the
            budget, small ones keep enough categories
            (:func:`~syntho_hive.core.dp.accounting.auto_preprocessing_share`).
        epochs: DP-SGD epochs (``None``: the model's ``epochs``, at most the engine's default: 80 for
            TabularAR, 20 for TVAE).
        bounds: ``{column: (low, high)}`` declared public bounds of numeric or datetime columns:
            numbers; dates as text / timestamps for a datetime column; times of day
            (``datetime.time`` or ``'HH:MM[:SS[.ffffff]]'``) for a time-of-day column (whose bounds
            are a whole day when none are declared: its domain is public); ``pd.Timedelta`` for a
            duration column. Values are clipped to them, and the column's bins are laid over them
            instead of over a fixed logarithmic grid.

    Raises:
        ConfigurationError: A value out of range or of the wrong type (all problems at once).
    """

    max_epsilon: float
    delta: float = 1e-5
    noise_multiplier: float | None = None
    max_grad_norm: float = 1.0
    preprocessing_share: float | None = None
    epochs: int | None = None
    bounds: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not is_finite_number(self.max_epsilon) or self.max_epsilon <= 0:
            problems.append(f"max_epsilon must be a finite number > 0, got {self.max_epsilon!r}")
        if not is_finite_number(self.delta) or not 0 < self.delta < 1:
            problems.append(f"delta must be a number in (0, 1), got {self.delta!r} (e.g. 1e-5)")
        if self.noise_multiplier is not None and (not is_finite_number(self.noise_multiplier) or self.noise_multiplier <= 0):
            problems.append(f"noise_multiplier must be a number > 0 or None, got {self.noise_multiplier!r}")
        if not is_finite_number(self.max_grad_norm) or self.max_grad_norm <= 0:
            problems.append(f"max_grad_norm must be a number > 0, got {self.max_grad_norm!r}")
        if self.preprocessing_share is not None and (not is_finite_number(self.preprocessing_share)
                                                     or not 0 < self.preprocessing_share < 1):
            problems.append(f"preprocessing_share must be a number in (0, 1) or None, got {self.preprocessing_share!r}")
        if self.epochs is not None and (isinstance(self.epochs, bool) or not isinstance(self.epochs, int)
                                        or self.epochs < 1):
            problems.append(f"epochs must be a positive integer or None, got {self.epochs!r}")
        bounds: dict[str, tuple[float | str, float | str]] = {}
        if not isinstance(self.bounds, Mapping):
            problems.append(f"bounds must be a mapping {{column: (low, high)}}, got {type(self.bounds).__name__}")
        else:
            for column, pair in self.bounds.items():
                if not isinstance(column, str) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    problems.append(f"bounds[{column!r}] must be a pair (low, high) keyed by a column name")
                    continue
                try:
                    low, high = _bound(column, pair[0]), _bound(column, pair[1])
                except ConfigurationError as exc:
                    problems.append(str(exc).rstrip("."))
                    continue
                if bound_kind(low) != bound_kind(high) or _order_key(low) >= _order_key(high):
                    problems.append(f"bounds[{column!r}] = {tuple(pair)!r} must be (low, high) of one kind with "
                                    "low < high")
                    continue
                bounds[column] = (low, high)
        if problems:
            raise ConfigurationError("Invalid DPConfig: " + "; ".join(problems) + ".")
        object.__setattr__(self, "bounds", bounds)
        for name in ("max_epsilon", "delta", "max_grad_norm"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.preprocessing_share is not None:
            object.__setattr__(self, "preprocessing_share", float(self.preprocessing_share))
        if self.noise_multiplier is not None:
            object.__setattr__(self, "noise_multiplier", float(self.noise_multiplier))

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON (what checkpoints store; :meth:`from_dict` reads it back)."""
        return {"max_epsilon": self.max_epsilon, "delta": self.delta, "noise_multiplier": self.noise_multiplier,
                "max_grad_norm": self.max_grad_norm, "preprocessing_share": self.preprocessing_share,
                "epochs": self.epochs, "bounds": {c: list(pair) for c, pair in self.bounds.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DPConfig":
        """The settings :meth:`to_dict` wrote.

        Raises:
            ConfigurationError: Unknown fields or invalid values.
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"DPConfig.from_dict expects a mapping, got {type(data).__name__}.")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ConfigurationError(f"Unknown DPConfig field(s) {unknown}; fields are {list(_FIELDS)}.")
        if "max_epsilon" not in data:
            raise ConfigurationError("DPConfig needs max_epsilon.")
        fields = dict(data)
        fields["bounds"] = {c: tuple(pair) if isinstance(pair, list) else pair
                            for c, pair in (fields.get("bounds") or {}).items()}
        return cls(**fields)

    def training_epochs(self, model_epochs: int, default: int = DEFAULT_DP_EPOCHS) -> int:
        """DP-SGD epochs: ``epochs`` when set, else ``min(model_epochs, default)`` (the engine's default)."""
        return int(self.epochs) if self.epochs is not None else int(min(model_epochs, default))
