"""Continuous columns: bounded mode-specific normalisation, null indicator, exact dtype.

* Values are modelled by :class:`~syntho_hive.core.data.encoders.gmm.BoundedGMM` between the
  observed ``[min, max]`` (or declared ``bounds``), so decoded values stay inside by
  construction; output spans ``[tanh 1, softmax K]``.
* Integers come back as integers; floats are rounded to the number of decimals detected in
  the training column (up to 15; none detected -> full precision).
* A partly-null column gets a ``"<column>#null"`` 2-way softmax indicator; the null rate is
  learned, not imputed away. An all-null column and a constant column need no model.
* Integer columns are shifted by their lower bound (in exact integer arithmetic) before going to
  floating point, so large integers (e.g. epoch nanoseconds) keep every digit.
* Rare extremes (:mod:`~syntho_hive.core.data.encoders.rare`): with ``rare_threshold = k > 1`` the
  mixture's support is the range from the ``k``-th smallest to the ``k``-th largest value (on a column of
  fewer than ``2k - 1`` values, the mean of them all); the ``k - 1`` most extreme values at each end are
  encoded as those bounds, so they are neither
  decoded nor kept in the encoder (no narrow mode of their own, no stored minimum or maximum).
  Values repeated ``k`` times or more at an end (a spike such as ``0``) keep their exact place.

Round-trip precision: the transformed matrix is float32, so a value survives
``inverse_transform(transform(x))`` exactly when ``(max - min) * 1e-7`` (times the mode's
latent spread, typically < 1) is below half its resolution; wider ranges come back within
float32 relative precision of the range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from syntho_hive.core.data._dtypes import (
    decimal_places,
    is_integer_like_dtype,
    null_marker,
    restore_decimals,
    restore_numbers,
)
from syntho_hive.core.data.encoders.base import ColumnEncoder
from syntho_hive.core.data.encoders.gmm import BoundedGMM
from syntho_hive.core.data.encoders.nulls import NullIndicator
from syntho_hive.core.data.encoders.rare import check_rare_threshold, inner_range
from syntho_hive.core.data.encoders.timeunits import coarsest_step
from syntho_hive.core.data.spans import ColumnSpans, SpanInfo
from syntho_hive.exceptions import ConstraintViolationError, GenerationError, SchemaError

__all__ = ["CoreEncoder", "NumericalEncoder", "NumericCore", "detect_decimals", "numeric_values"]

MAX_DECIMALS = 15
_EPS_MIN = 1e-12
_EPS_FULL_PRECISION = 1e-8
_CELL_MARGIN = 1 - 1e-4


def detect_decimals(values: np.ndarray, dtype: Any = np.float64) -> int | None:
    """Smallest number of decimals that represents every value (within the dtype's precision).

    Args:
        values: Finite non-null values.
        dtype: Storage dtype of the column (float32 columns are compared at float32 precision).

    Returns:
        ``0`` .. ``15``, or ``None`` when more than 15 decimals would be needed.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return 0
    try:
        resolution = np.finfo(dtype).eps
    except (TypeError, ValueError):
        resolution = np.finfo(np.float64).eps
    tolerance = 4 * resolution * np.maximum(np.abs(values), 1.0)
    for decimals in range(MAX_DECIMALS + 1):
        if np.all(np.abs(np.round(values, decimals) - values) <= tolerance):
            return decimals
    return None


def numeric_values(series: pd.Series, column: str) -> np.ndarray:
    """The column as float64 with NaN for nulls.

    Raises:
        SchemaError: If the column holds non-numeric or infinite values.
    """
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        ticks = series.to_numpy().view(np.int64)
        values = ticks.astype(np.float64)
        values[ticks == np.iinfo(np.int64).min] = np.nan
    elif is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            examples = series[bad].unique()[:5].tolist()
            raise SchemaError(
                f"Column {column!r} is declared numerical but holds non-numeric values such as "
                f"{examples}; declare it 'categorical' (or clean the values)."
            )
        values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    values = np.array(values, dtype=np.float64, copy=True)  # pandas may hand out read-only views
    if np.isinf(values).any():
        raise SchemaError(
            f"Column {column!r} holds infinite values; replace them (e.g. with nulls) before fitting."
        )
    return values


class NumericCore:
    """Nulls + bounded mixture (or a constant) for a float array with NaN nulls.

    Shared by numerical and datetime columns (the latter pass integer time units).

    Args:
        column: Source column name.
        max_modes: Upper bound on the mixture's components.
        weight_threshold: Mixture components at or below this weight are pruned.
        gmm_max_samples: Size of the subsample the mixture is fitted on.
        rare_threshold: The modelled range runs from the ``rare_threshold``-th smallest to the
            ``rare_threshold``-th largest value (``1``: the observed or declared extremes).
    """

    #: Cores pickled before the rare-value protection modelled the whole observed range.
    rare_threshold = 1

    def __init__(self, column: str, *, max_modes: int, weight_threshold: float,
                 gmm_max_samples: int, rare_threshold: int = 1) -> None:
        self.column = column
        self.rare_threshold = check_rare_threshold(rare_threshold, f"rare_threshold of column {column!r}")
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.gmm_max_samples = gmm_max_samples
        self.decimals: int | None = None
        self.lo = 0.0
        self.hi = 0.0
        self.all_null = False
        self.null_rate = 0.0
        self.gmm: BoundedGMM | None = None
        self.indicator: NullIndicator | None = None
        self._to_original: Callable[[np.ndarray], list] | None = None

    def prepare(self, values: np.ndarray, *, decimals: int | None,
                bounds: tuple[float | None, float | None] | None, seed: int,
                to_original: Callable[[np.ndarray], list] | None = None) -> None:
        """Learn range, precision and null rate; prepare the mixture.

        Args:
            values: Float64 values with NaN for nulls.
            decimals: Decimals to round decoded values to (``None``: no rounding).
            bounds: Declared ``(min, max)`` (``None`` entries use the observed extremes); with
                ``rare_threshold > 1`` they are checked but the modelled range is the inner one.
            seed: Seed of the subsample and mixture.
            to_original: Maps modelled values back to the user's units (error messages only).

        Raises:
            ConstraintViolationError: If the data lies outside declared bounds.
        """
        nulls = np.isnan(values)
        observed = values[~nulls]
        self._to_original = to_original
        self.decimals = decimals
        self.null_rate = float(nulls.mean()) if values.size else 0.0
        self.all_null = observed.size == 0
        self.indicator = NullIndicator(self.column) if nulls.any() and not self.all_null else None
        self.gmm = None
        if self.all_null:
            return
        lo, hi = float(observed.min()), float(observed.max())
        declared_lo, declared_hi = bounds if bounds is not None else (None, None)
        if declared_lo is not None:
            self._check_bound(observed, float(declared_lo), below=True)
            lo = self._aligned(float(declared_lo), up=True)
        if declared_hi is not None:
            self._check_bound(observed, float(declared_hi), below=False)
            hi = self._aligned(float(declared_hi), up=False)
        if self.rare_threshold > 1:
            # Inside any declared bounds (the data was checked against them above).
            lo, hi = (float(v) for v in inner_range(observed, self.rare_threshold))
        self.lo, self.hi = lo, hi
        if hi <= lo:
            return
        cell = None if decimals is None else 0.5 * 10.0**-decimals * _CELL_MARGIN
        if cell is None or cell >= hi - lo:
            # Full precision; also when the whole range is narrower than one rounding cell (0 and 7e-121
            # "have 0 decimals"), where squeezing by a cell would leave nothing of the unit interval.
            eps, exact = _EPS_FULL_PRECISION, False
        else:
            # The squeeze is the outer half of each boundary rounding cell (see gmm.py).
            eps, exact = max(cell / (hi - lo + 2 * cell), _EPS_MIN), True
        self.gmm = BoundedGMM(lo, hi, eps, max_modes=self.max_modes,
                              weight_threshold=self.weight_threshold,
                              gmm_max_samples=self.gmm_max_samples, exact_inverse=exact)
        self.gmm.prepare(observed, seed=seed)

    def _aligned(self, bound: float, *, up: bool) -> float:
        if self.decimals is None:
            return bound
        scale = 10.0**self.decimals
        aligned = (math.ceil(bound * scale - 1e-9) if up else math.floor(bound * scale + 1e-9)) / scale
        return round(aligned, self.decimals)

    def _check_bound(self, observed: np.ndarray, bound: float, *, below: bool) -> None:
        bad = observed < bound if below else observed > bound
        if bad.any():
            side = "min" if below else "max"
            show = self._to_original or (lambda array: array.tolist())
            examples = show(observed[bad][:5])
            shown_bound = show(np.array([bound]))[0]
            raise ConstraintViolationError(
                f"Column {self.column!r}: {int(bad.sum())} value(s) violate the declared {side} "
                f"{shown_bound!r} (e.g. {examples}); fix the data or the bound.",
                column=self.column, count=int(bad.sum()), examples=examples,
            )

    def pending_models(self) -> list[BoundedGMM]:
        """The mixture when it still needs fitting."""
        return [self.gmm] if self.gmm is not None and self.gmm.needs_fit else []

    @property
    def output_info(self) -> list[ColumnSpans]:
        """``[tanh 1, softmax K]`` for the value (if modelled) and the null indicator (if any)."""
        info = []
        if self.gmm is not None:
            info.append(ColumnSpans(self.column, (SpanInfo(1, "tanh"),
                                                  SpanInfo(self.gmm.n_modes, "softmax"))))
        if self.indicator is not None:
            info.append(self.indicator.spans)
        return info

    @property
    def value_dim(self) -> int:
        """Width of the value part (0 for constant / all-null columns)."""
        return 0 if self.gmm is None else 1 + self.gmm.n_modes

    def encode(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Encode float values with NaN nulls into ``(n, value_dim + indicator)``."""
        nulls = np.isnan(values)
        blocks = []
        if self.gmm is not None:
            filled = values
            if nulls.any():
                # Null rows carry an arbitrary in-range value (ignored on decode): draw
                # observed values so the value spans keep the column's distribution.
                filled = values.copy()
                present = values[~nulls]
                filled[nulls] = rng.choice(present, size=int(nulls.sum())) if present.size else self.lo
            blocks.append(self.gmm.encode(filled, rng))
        if self.indicator is not None:
            blocks.append(self.indicator.encode(nulls))
        if not blocks:
            return np.zeros((values.size, 0), dtype=np.float32)
        return blocks[0] if len(blocks) == 1 else np.hstack(blocks)

    def decode(self, block: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
        """Decode to float values (rounded to the column's decimals) with NaN nulls.

        Args:
            block: Shape ``(n, value_dim + indicator width)``; with ``codes``, only the scalar
                (shape ``(n, 1)``, or ``(n, 0)`` without a modelled value).
            codes: The drawn mode and null-indicator entry (the softmax spans, in order);
                ``None``: read from ``block`` by arg-max.
        """
        n = block.shape[0]
        if self.all_null:
            return np.full(n, np.nan)
        if self.gmm is not None:
            values = self.gmm.decode(block[:, : self.value_dim]) if codes is None else \
                self.gmm.decode(block[:, :1], codes[:, 0])
            if self.decimals is not None:
                values = np.round(values, self.decimals)
            # In [lo, hi] by construction (gmm.py); this only absorbs float round-off (ulps).
            values = np.minimum(np.maximum(values, self.lo), self.hi)
        else:
            values = np.full(n, self.lo)
        if self.indicator is not None:
            nulls = NullIndicator.decode(block[:, self.value_dim:]) if codes is None else codes[:, -1] == 1
            values[nulls] = np.nan
        return values

    def category_index(self, spans_name: str, value: Any) -> int:
        """Condition index on the null indicator (the only discrete part).

        Raises:
            GenerationError: For the value span or an unknown value.
        """
        if self.indicator is not None and spans_name == self.indicator.name:
            return self.indicator.category_index(value)
        raise GenerationError(
            f"Column {self.column!r} is continuous and cannot be conditioned on"
            + (f"; its null indicator {self.indicator.name!r} can." if self.indicator else ".")
        )


class CoreEncoder(ColumnEncoder):
    """An encoder whose spans are a :class:`NumericCore`'s (numerical and datetime columns).

    Args:
        column: Source column name.
        max_modes / weight_threshold / gmm_max_samples: The core's mixture settings.
        bounds: Declared ``(min, max)``, in the column's units.
        rare_threshold: The core's inner range (see :class:`NumericCore`).
    """

    def __init__(self, column: str, *, max_modes: int, weight_threshold: float, gmm_max_samples: int,
                 bounds: Sequence[Any] | None, rare_threshold: int = 1) -> None:
        super().__init__(column)
        self.bounds = tuple(bounds) if bounds is not None else None
        self.core = NumericCore(column, max_modes=max_modes, weight_threshold=weight_threshold,
                                gmm_max_samples=gmm_max_samples, rare_threshold=rare_threshold)
        self.dtype: Any = None
        self.marker: Any = None

    def pending_models(self) -> list[BoundedGMM]:
        return self.core.pending_models()

    @property
    def output_info(self) -> list[ColumnSpans]:
        return self.core.output_info

    def category_index(self, spans_name: str, value: Any) -> int:
        return self.core.category_index(spans_name, value)


class NumericalEncoder(CoreEncoder):
    """Encoder of a continuous numeric column (see the module docstring).

    Args:
        column: Source column name.
        max_modes: Upper bound on the mixture's components.
        weight_threshold: Mixture components at or below this weight are pruned.
        gmm_max_samples: Size of the subsample the mixture is fitted on.
        bounds: Declared ``(min, max)``; ``None`` entries use the observed extremes.
        rare_threshold: Values are modelled from the ``rare_threshold``-th smallest to the
            ``rare_threshold``-th largest (``1``: the whole range).
    """

    sdtype = "numerical"

    def __init__(self, column: str, *, max_modes: int = 10, weight_threshold: float = 0.005,
                 gmm_max_samples: int = 10_000,
                 bounds: Sequence[float | None] | None = None, rare_threshold: int = 1) -> None:
        super().__init__(column, max_modes=max_modes, weight_threshold=weight_threshold,
                         gmm_max_samples=gmm_max_samples, bounds=bounds, rare_threshold=rare_threshold)
        self.base = 0
        self.step = 1
        self.object_ints = False
        self.timedelta = False
        self.decimal_places: int | None = None
        self.top: int | None = None  # exact upper bound (float64 cannot hold every int64/uint64)

    def prepare(self, series: pd.Series, *, seed: int) -> None:
        """Learn dtype, precision, range and nulls; prepare the mixture."""
        self.dtype = series.dtype
        self.marker = null_marker(series)
        values = numeric_values(series, self.column)
        present = ~np.isnan(values)
        self.timedelta = pd.api.types.is_timedelta64_dtype(series.dtype)
        self.object_ints = series.dtype == object and pd.api.types.infer_dtype(
            series[series.notna()], skipna=True) == "integer"
        integral = is_integer_like_dtype(series.dtype) or self.timedelta or self.object_ints
        self.decimal_places = decimal_places(series)
        self.base, self.step = 0, 1
        if integral and present.any():
            if self.timedelta:
                exact = series.to_numpy().view(np.int64)[present]
                self.step = coarsest_step(exact, np.datetime_data(series.to_numpy().dtype)[0])
            else:
                exact = series[series.notna()].to_numpy(
                    dtype=np.uint64 if pd.api.types.is_unsigned_integer_dtype(series.dtype) else np.int64)
            low, high = inner_range(exact, self.core.rare_threshold, self.step)
            self.base = int(low)
            self.top = int(high)
            # Offsets from the lower bound, each a non-negative difference in the exact dtype (no uint64
            # wrap-around); the rare extremes below it are negative, and the core clips them.
            below = exact < low
            values[present] = ((np.where(below, low, exact) - low) // self.step).astype(np.float64)
            values[np.flatnonzero(present)[below]] = -((low - exact[below]) // self.step).astype(np.float64)
        decimals = 0 if integral else detect_decimals(values[present], _float_dtype(series.dtype))
        if self.decimal_places is not None:
            decimals = self.decimal_places
        bounds = None
        if self.bounds is not None:
            bounds = tuple(None if b is None else (float(b) - self.base) / self.step for b in self.bounds)
        base, step = self.base, self.step
        self.core.prepare(values, decimals=decimals, bounds=bounds, seed=seed,
                          to_original=lambda array: (array * step + base).tolist())
        self.core._to_original = None  # keep the encoder picklable (no lambdas)

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        values = numeric_values(series, self.column)
        if self.base or self.step != 1:
            values = (values - self.base) / self.step
        return self.core.encode(values, rng)

    def inverse_transform(self, block: np.ndarray, rng: np.random.Generator,
                          codes: np.ndarray | None = None) -> pd.Series:
        values = self.core.decode(block, codes)
        nulls = np.isnan(values)
        if is_integer_like_dtype(self.dtype) or self.timedelta or self.object_ints:
            # uint64 values past 2**63 would wrap around in int64
            kind = np.uint64 if pd.api.types.is_unsigned_integer_dtype(self.dtype) else np.int64
            ints = np.zeros(values.size, dtype=kind)
            ints[~nulls] = values[~nulls].astype(kind) * kind(self.step) + kind(self.base)
            top = getattr(self, "top", None)  # encoders pickled before it was kept
            if top is not None:  # past 2**53 the float decode can overshoot by its rounding
                ints[~nulls] = np.minimum(ints[~nulls], kind(top))
            if self.timedelta:
                ints[nulls] = np.iinfo(np.int64).min
                unit = np.datetime_data(self.dtype)[0]
                return pd.Series(ints.view(f"timedelta64[{unit}]"), name=self.column).astype(self.dtype)
            if self.object_ints:
                objects = ints.astype(object)
                objects[nulls] = self.marker
                return pd.Series(objects, dtype=object, name=self.column)
            return restore_numbers(ints, nulls, self.dtype, self.marker, self.column)
        places = getattr(self, "decimal_places", None)  # encoders pickled before it was kept
        if places is not None:
            return restore_decimals(values + self.base, nulls, places, self.marker, self.column)
        return restore_numbers(values + self.base, nulls, self.dtype, self.marker, self.column)


def _float_dtype(dtype: Any) -> Any:
    """NumPy float dtype whose precision the column's values carry."""
    text = str(dtype).lower()
    if "float32" in text or "float16" in text:
        return np.float32
    return np.float64
