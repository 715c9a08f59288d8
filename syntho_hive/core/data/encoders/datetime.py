"""Datetime columns (``datetime64`` with or without timezone, or date/time strings).

Values are converted to whole multiples of the coarsest unit that represents every
training value exactly (day, hour, minute, second, millisecond, microsecond, nanosecond),
counted from the earliest value, and modelled like numbers (bounded mixture, integer
rounding, null indicator). Timezone-aware columns are modelled in UTC and converted back to
their zone, as are strings of a format ending in ``%z`` (one offset: written back with it). String
columns keep their format: it is detected from
:data:`DATETIME_FORMATS` (the first format that parses every distinct value and formats it
back to the identical string) or given explicitly, and decoded values are formatted with it.

With ``rare_threshold = k > 1`` the modelled range runs from the ``k``-th earliest to the ``k``-th
latest value: the ``k - 1`` most extreme timestamps at each end are neither decoded nor kept
(:mod:`~syntho_hive.core.data.encoders.rare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import null_marker, restore_objects
from syntho_hive.core.metadata.datetime_formats import (
    DATETIME_FORMATS,
    detect_datetime_format,
    format_datetimes,
    numpy_datetimes,
    parse_datetimes,
    parse_objects,
)
from syntho_hive.core.data.encoders.numerical import CoreEncoder
from syntho_hive.core.data.encoders.rare import inner_range
from syntho_hive.core.data.encoders.timeunits import coarsest_step
from syntho_hive.exceptions import SchemaError

__all__ = ["DatetimeEncoder", "DATETIME_FORMATS", "detect_datetime_format"]

_NAT = np.iinfo(np.int64).min


class DatetimeEncoder(CoreEncoder):
    """Encoder of a datetime column (see the module docstring).

    Args:
        column: Source column name.
        max_modes: Upper bound on the mixture's components.
        weight_threshold: Mixture components at or below this weight are pruned.
        gmm_max_samples: Size of the subsample the mixture is fitted on.
        bounds: Declared ``(min, max)`` (timestamps or strings ``pd.Timestamp`` accepts).
        datetime_format: ``strftime`` format of a string column (detected when ``None``).
        rare_threshold: Timestamps are modelled from the ``rare_threshold``-th earliest to the
            ``rare_threshold``-th latest (``1``: the whole range).
    """

    sdtype = "datetime"

    def __init__(self, column: str, *, max_modes: int = 10, weight_threshold: float = 0.005,
                 gmm_max_samples: int = 10_000, bounds: Sequence[Any] | None = None,
                 datetime_format: str | None = None, rare_threshold: int = 1) -> None:
        super().__init__(column, max_modes=max_modes, weight_threshold=weight_threshold,
                         gmm_max_samples=gmm_max_samples, bounds=bounds, rare_threshold=rare_threshold)
        self.format = datetime_format
        self.tz: Any = None
        self.native_unit = "ns"
        self.step = 1
        self.base = 0
        self.is_string = False
        self.date_objects = False
        #: ``(series, ticks, nulls)`` of the strings :meth:`prepare` parsed, until the next transform.
        self._prepared: tuple[pd.Series, np.ndarray, np.ndarray] | None = None

    # -- conversions --------------------------------------------------------------------
    def _to_naive_utc(self, series: pd.Series) -> pd.Series:
        """Parse/convert ``series`` to naive UTC ``datetime64``."""
        series = numpy_datetimes(series)  # Arrow timestamps in their own unit (nanoseconds end in 2262)
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            return series.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_dtype(series.dtype):
            return series
        if self.is_string:
            return self._parse_strings(series)[0]
        try:
            parsed = parse_objects(series)
        except (TypeError, ValueError) as exc:
            raise SchemaError(
                f"Column {self.column!r} is declared datetime but its values cannot be read as "
                f"dates ({exc}); declare another sdtype or convert the column."
            ) from exc
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        return parsed

    def _parse_strings(self, series: pd.Series) -> tuple[pd.Series, Any]:
        """Strings parsed with the format: naive UTC ``datetime64`` and the UTC offset they were written with
        (a format ending in ``%z``; ``None`` for any other).

        Raises:
            SchemaError: If a value does not match the format, or the values hold several offsets under ``%z``.
        """
        # Parse each distinct string once (dates repeat a lot), then broadcast.
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
        try:
            parsed = parse_datetimes(distinct, self.format, errors="coerce")
        except ValueError as exc:  # several UTC offsets under %z
            raise SchemaError(f"Column {self.column!r}: {exc}.") from exc
        bad = parsed.isna()
        if bad.any():
            raise SchemaError(
                f"Column {self.column!r}: {int(bad.sum())} distinct value(s) do not match the "
                f"datetime format {self.format!r}, e.g. {distinct[bad].tolist()[:5]}; pass the "
                "right format (TableConfig.datetime_formats) or declare the column 'categorical'."
            )
        zone = getattr(parsed.dtype, "tz", None)
        if zone is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        stamps = parsed.to_numpy()
        out = np.full(codes.size, np.datetime64("NaT"), dtype=stamps.dtype if stamps.size else "datetime64[ns]")
        out[codes >= 0] = stamps[codes[codes >= 0]]
        return pd.Series(out), zone

    def _ticks(self, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Integer ticks in the native unit and the null mask."""
        return self._naive_ticks(self._to_naive_utc(series))

    def _naive_ticks(self, naive: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_ticks` of values :meth:`_to_naive_utc` has converted already."""
        array = naive.to_numpy()
        if array.dtype.kind != "M":
            array = array.astype("datetime64[ns]")
        unit = np.datetime_data(array.dtype)[0]
        if unit != self.native_unit:
            array = array.astype(f"datetime64[{self.native_unit}]")
        ticks = array.view(np.int64)
        return ticks, ticks == _NAT

    def _bound_ticks(self, bound: Any) -> int:
        stamp = pd.Timestamp(bound)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        elif self.tz is not None:
            stamp = stamp.tz_localize(self.tz).tz_convert("UTC").tz_localize(None)
        return int(np.datetime64(stamp.to_datetime64(), self.native_unit).astype(np.int64))

    # -- encoder API --------------------------------------------------------------------
    def prepare(self, series: pd.Series, *, seed: int) -> None:
        """Learn format, timezone, unit, range and nulls; prepare the mixture.

        Raises:
            SchemaError: If string values match no known format (or the given one).
        """
        self.dtype = series.dtype
        self.marker = null_marker(series)
        self.tz = series.dt.tz if isinstance(series.dtype, pd.DatetimeTZDtype) else None
        present = series.notna()
        strings = series[present]
        self.is_string = not pd.api.types.is_datetime64_any_dtype(series.dtype) and (
            strings.empty or pd.api.types.infer_dtype(strings, skipna=True) == "string")
        self.date_objects = (series.dtype == object and not strings.empty
                             and pd.api.types.infer_dtype(strings, skipna=True) == "date")
        if series.dtype == object and not self.is_string and not self.date_objects and not strings.empty:
            try:  # tz-aware datetime objects come back in their zone (bad values: _to_naive_utc says which)
                self.tz = getattr(parse_objects(strings).dtype, "tz", None)
            except (TypeError, ValueError):
                pass
        if self.is_string and self.format is None:
            self.format = detect_datetime_format(strings.astype(object))
            if self.format is None:
                raise SchemaError(
                    f"Column {self.column!r}: could not detect the datetime format of values such "
                    f"as {strings.unique()[:3].tolist()}; set it in TableConfig.datetime_formats "
                    "(a strftime format) or declare the column 'categorical'."
                )
        if self.is_string:  # parsed here once: ticks and the transform reuse them
            # A format ending in %z: modelled in UTC, written back with the offset the values were read with.
            naive, self.tz = self._parse_strings(series)
        else:
            naive = self._to_naive_utc(series)
        array = naive.to_numpy()
        self.native_unit = np.datetime_data(array.dtype)[0] if array.dtype.kind == "M" else "ns"
        ticks, nulls = self._naive_ticks(naive)
        observed = ticks[~nulls]
        self.step = coarsest_step(observed, self.native_unit)
        if observed.size:
            # The lower bound of the modelled range (the earliest value with rare_threshold 1); earlier
            # rare extremes get negative offsets, which the core clips.
            self.base = int(inner_range(observed, self.core.rare_threshold, self.step)[0])
        else:
            self.base = 0
        values = np.full(ticks.size, np.nan)
        values[~nulls] = ((observed - self.base) // self.step).astype(np.float64)
        bounds = None
        if self.bounds is not None:
            low, high = self.bounds
            bounds = (
                None if low is None else -(-(self._bound_ticks(low) - self.base) // self.step),
                None if high is None else (self._bound_ticks(high) - self.base) // self.step,
            )
        base, step, unit, tz = self.base, self.step, self.native_unit, self.tz

        def to_original(array: np.ndarray) -> list:
            stamps = pd.to_datetime((array * step + base).astype(np.int64), unit=unit)
            return list(stamps.tz_localize("UTC").tz_convert(tz) if tz is not None else stamps)

        self.core.prepare(values, decimals=0, bounds=bounds, seed=seed, to_original=to_original)
        self.core._to_original = None  # keep the encoder picklable (no closures)
        self._prepared = (series.copy(), ticks, nulls) if self.is_string else None  # a copy: edits show

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_prepared", None)  # training values: never pickled
        return state

    def _transform_ticks(self, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_ticks` of ``series``; for the first transform after :meth:`prepare` of the same
        strings (a data transformer's fit, then its transform), those prepare parsed."""
        prepared, self._prepared = getattr(self, "_prepared", None), None
        if prepared is not None and prepared[0].equals(series):
            return prepared[1], prepared[2]
        return self._ticks(series)

    def transform(self, series: pd.Series, rng: np.random.Generator) -> np.ndarray:
        ticks, nulls = self._transform_ticks(series)
        values = np.full(ticks.size, np.nan)
        values[~nulls] = ((ticks[~nulls] - self.base) / self.step).astype(np.float64)
        return self.core.encode(values, rng)

    def inverse_transform(self, block: np.ndarray, rng: np.random.Generator,
                          codes: np.ndarray | None = None) -> pd.Series:
        values = self.core.decode(block, codes)
        nulls = np.isnan(values)
        ticks = np.full(values.size, _NAT, dtype=np.int64)
        ticks[~nulls] = values[~nulls].astype(np.int64) * self.step + self.base
        stamps = pd.Series(ticks.view(f"datetime64[{self.native_unit}]"), name=self.column)
        if self.tz is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.tz)
        if self.is_string:
            # Format each distinct timestamp once, then broadcast.
            codes, uniques = pd.factorize(ticks)
            distinct = pd.Series(np.asarray(uniques).view(f"datetime64[{self.native_unit}]"))
            if self.tz is not None:
                distinct = distinct.dt.tz_localize("UTC").dt.tz_convert(self.tz)
            text = format_datetimes(distinct, self.format).to_numpy(dtype=object)[codes]
            return restore_objects(text, nulls, self.dtype, self.marker, self.column)
        if isinstance(self.dtype, np.dtype) and self.dtype == object:
            objects = (stamps.dt.date if self.date_objects else stamps).to_numpy(dtype=object)
            return restore_objects(objects, nulls, self.dtype, self.marker, self.column)
        return stamps.astype(self.dtype)
