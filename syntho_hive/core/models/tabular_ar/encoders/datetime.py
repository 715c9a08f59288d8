"""Datetime columns: sub-columns year, month, day (and hour, minute, second, millisecond and
microsecond-within-the-millisecond when present; nanoseconds are not modelled).

Generated values stay within bounds inside the training ``[min, max]`` (at the codec's resolution;
the ``rare_threshold``-th earliest / latest value moved outwards by the capped mean distance of
the values beyond it, so no training extreme is kept or generated) and are valid dates, by
construction: :meth:`DatetimeCodec.token_mask` restricts
each part, given the parts drawn before it, to the tokens that keep the value in range and
the day within its month (no clamping that would pile values on a bound or on month ends).
Time zones, string storage (with its format) and ``datetime.date`` / ``datetime`` objects in
``object`` columns are restored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    null_marker,
    restore_objects,
)
from syntho_hive.core.dp.columns import time_part_levels
from syntho_hive.core.metadata.datetime_formats import (
    detect_datetime_format,
    format_datetimes,
    numpy_datetimes,
    parse_datetimes,
    parse_objects,
)
from syntho_hive.core.models.tabular_ar.encoders.base import Codec, CodecConfig, SubColumn, tail_reach
from syntho_hive.exceptions import GenerationError, SchemaError, TrainingError

__all__ = ["DatetimeStats", "DatetimeCodec", "analyze_datetime"]

_PARTS = ("year", "month", "day", "hour", "minute", "second", "millisecond", "microsecond")
_SIZES = {"month": 12, "day": 31, "hour": 24, "minute": 60, "second": 60, "millisecond": 1000, "microsecond": 1000}
#: Microseconds in one unit of each time part.
_MICROSECONDS = {"hour": 3_600_000_000, "minute": 60_000_000, "second": 1_000_000, "millisecond": 1_000,
                 "microsecond": 1}
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _parts_of(stamp: pd.Timestamp) -> list[int]:
    """``[year, month, day, hour, minute, second, millisecond, microsecond]`` of a naive timestamp
    (the microsecond within its millisecond)."""
    return [int(stamp.year), int(stamp.month), int(stamp.day), int(stamp.hour), int(stamp.minute),
            int(stamp.second), int(stamp.microsecond) // 1000, int(stamp.microsecond) % 1000]


def _stamp(parts: list[int]) -> pd.Timestamp:
    """The naive timestamp of :func:`_parts_of` ``parts`` (six of them in states saved before
    sub-seconds were modelled)."""
    fields = list(parts) + [0] * (8 - len(parts))
    return pd.Timestamp(*fields[:6], fields[6] * 1000 + fields[7])


def _part_values(values: pd.Series, part: str) -> np.ndarray:
    """One part of every (non-missing) timestamp, as :func:`_parts_of` numbers it."""
    if part == "millisecond":
        return values.dt.microsecond.to_numpy(dtype=np.int64) // 1000
    if part == "microsecond":
        return values.dt.microsecond.to_numpy(dtype=np.int64) % 1000
    return getattr(values.dt, part).to_numpy(dtype=np.int64)


def _assemble(years: np.ndarray, parts: np.ndarray, names: list[str]) -> np.ndarray:
    """Naive ``datetime64[us]`` timestamps from their year and the tokens of the later ``names`` parts
    (month and day from 0; the day capped at the month's last).

    Computed in microseconds, whose range (about 290,000 years) holds every year a column of any unit
    has, where pandas' nanosecond assembly stops at 1677-2262.
    """
    months = parts[:, 0] + 1
    days = np.minimum(parts[:, 1] + 1, _days_in_month(years, months))
    stamps = ((years - 1970) * 12 + months - 1).astype("datetime64[M]").astype("datetime64[D]") + (days - 1)
    micros = np.zeros(len(years), dtype=np.int64)
    for j, part in enumerate(names[3:], start=2):
        micros += parts[:, j].astype(np.int64) * _MICROSECONDS[part]
    return stamps.astype("datetime64[us]") + micros.astype("timedelta64[us]")


def _days_in_month(years: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Days in each ``(year, month)`` (months 1-12), leap years included."""
    leap = ((years % 4 == 0) & (years % 100 != 0)) | (years % 400 == 0)
    return _DAYS_IN_MONTH[months - 1] + ((months == 2) & leap)


def _object_kind(series: pd.Series) -> str | None:
    """``"date"`` / ``"datetime"`` for an ``object`` column of date / datetime objects, else ``None``."""
    if series.dtype != object:
        return None
    inferred = pd.api.types.infer_dtype(series.dropna(), skipna=True)
    return inferred if inferred in ("date", "datetime") else None


def _to_utc_naive(series: pd.Series, column: str, fmt: str | None) -> tuple[pd.Series, str | None, str | None]:
    """Parse ``series`` to naive UTC timestamps; return them, the time zone and the string format."""
    # pyarrow timestamps and dates: compute on NumPy datetimes (the column's dtype is restored on decode)
    series = numpy_datetimes(series)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        tz = getattr(series.dtype, "tz", None)
        values = series.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else series
        return values, str(tz) if tz is not None else None, None
    present = series.dropna()
    if present.empty:
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]"), None, fmt
    if fmt is None and pd.api.types.infer_dtype(present, skipna=True) == "string":
        # The same detection as the core transformer: a format every value re-formats to exactly.
        fmt = detect_datetime_format(present)
        if fmt is None:
            raise SchemaError(f"Could not detect the datetime format of column {column!r} (values such as "
                                f"{present.unique()[:3].tolist()}); set it in TableConfig.datetime_formats (a "
                                "strftime format) or declare the column 'categorical'.")
    try:
        parsed = parse_datetimes(series, fmt) if fmt else parse_objects(series, format="mixed", errors="raise")
    except (ValueError, TypeError) as exc:
        raise TrainingError(f"Datetime column {column!r} holds values that do not parse as dates ({exc}); "
                            "declare its format in TableConfig.datetime_formats or clean it.") from exc
    tz = getattr(parsed.dtype, "tz", None)
    if tz is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed, str(tz) if tz is not None else None, fmt


@dataclass
class DatetimeStats:
    """Per-partition statistics of a datetime column.

    Attributes:
        year_min / year_max: Year range (``None`` when all missing).
        time_parts: 0 (dates only), 1 (hours), 2 (minutes), 3 (seconds), 4 (milliseconds) or 5
            (microseconds) present.
        nulls: Missing values.
        tz: Time zone of a tz-aware column.
        fmt: ``strftime`` format of a column stored as strings.
        dtype / marker: JSON dtype and null marker.
        low / high: :func:`_parts_of` the earliest / latest value (naive UTC), ``None`` when all
            missing (six parts, to the second, in states saved before sub-seconds were modelled).
        objects: ``"date"`` or ``"datetime"`` for an ``object`` column of such objects.
        earliest / latest: The ``2 * keep`` earliest / latest values (naive UTC microseconds, sorted;
            all of them when fewer), from which the codec's range is drawn; ``None`` for a
            differentially private release, whose ``low`` / ``high`` are the range.
        keep: The ``rare_threshold`` (``earliest`` / ``latest`` hold twice as many values).
    """

    year_min: int | None = None
    year_max: int | None = None
    time_parts: int = 0
    nulls: int = 0
    tz: str | None = None
    fmt: str | None = None
    dtype: dict[str, Any] = field(default_factory=lambda: {"name": "datetime64[ns]"})
    marker: str | None = None
    kind: str = "datetime"
    low: list[int] | None = None
    high: list[int] | None = None
    objects: str | None = None
    earliest: list[int] | None = None
    latest: list[int] | None = None
    keep: int = 5

    def merge(self, other: "DatetimeStats") -> "DatetimeStats":
        """Statistics of both partitions together."""
        lows = [y for y in (self.year_min, other.year_min) if y is not None]
        highs = [y for y in (self.year_max, other.year_max) if y is not None]
        firsts = [p for p in (self.low, other.low) if p is not None]
        lasts = [p for p in (self.high, other.high) if p is not None]
        return DatetimeStats(min(lows) if lows else None, max(highs) if highs else None,
                             max(self.time_parts, other.time_parts), self.nulls + other.nulls,
                             self.tz or other.tz, self.fmt or other.fmt, self.dtype, self.marker or other.marker,
                             low=min(firsts) if firsts else None, high=max(lasts) if lasts else None,
                             objects=self.objects or other.objects,
                             earliest=_extremes(self.earliest, other.earliest, self.keep, last=False),
                             latest=_extremes(self.latest, other.latest, self.keep, last=True), keep=self.keep)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"kind": self.kind, "year_min": self.year_min, "year_max": self.year_max,
                "time_parts": self.time_parts, "nulls": self.nulls, "tz": self.tz, "fmt": self.fmt,
                "dtype": self.dtype, "marker": self.marker, "low": self.low, "high": self.high,
                "objects": self.objects, "earliest": self.earliest, "latest": self.latest, "keep": self.keep}


def _extremes(first: list[int] | None, second: list[int] | None, keep: int, *, last: bool) -> list[int] | None:
    """The ``2 * keep`` earliest (``last``: latest) of two partitions' extreme values (``None``: unknown)."""
    if first is None or second is None:
        return None
    merged = sorted(first + second)
    return merged[-2 * keep:] if last else merged[:2 * keep]


def _protected_bounds(stats: "DatetimeStats") -> tuple[list[int] | None, list[int] | None]:
    """``low`` / ``high`` parts of the range a codec generates in, at the column's resolution: the
    ``keep``-th earliest / latest value moved outwards by :func:`tail_reach` of the values beyond it
    (capped at the spread of the next ``keep``), or the mean of a column too short for that; no
    training extreme is stored or generated. A differentially private release keeps its own."""
    if not stats.earliest or stats.latest is None:
        return stats.low, stats.high
    keep = stats.keep
    bounds = []
    for ticks in (stats.earliest, stats.latest[::-1]):
        if len(ticks) < 2 * keep - 1:  # every value is among the extremes: their mean only
            bounds.append(sum(ticks) // len(ticks))
            continue
        # microseconds relative to the edge, exact in float64
        offsets = (np.asarray(ticks, dtype=np.int64) - ticks[keep - 1]).astype(np.float64)
        cap = abs(offsets[min(2 * keep - 1, len(ticks) - 1)])
        bounds.append(ticks[keep - 1] + int(tail_reach(0.0, offsets[:keep - 1], np.ones(keep - 1), cap, keep)))
    step = (86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000, 1_000, 1)[stats.time_parts]
    low, high = (bound - bound % step for bound in bounds)  # at the column's resolution
    first, last = (_parts_of(pd.Timestamp(np.datetime64(bound, "us"))) for bound in (low, max(low, high)))
    return first, last


def analyze_datetime(series: pd.Series, fmt: str | None = None, keep: int = 5) -> DatetimeStats:
    """Statistics of one partition of a datetime column (``keep``: extreme values kept, see
    :class:`DatetimeStats`)."""
    column = str(series.name)
    values, tz, fmt = _to_utc_naive(series, column, fmt)
    present = values.dropna()
    ordered = np.sort(present.to_numpy(dtype="datetime64[us]").view(np.int64))
    parts = int(time_part_levels(present).max()) if not present.empty else 0
    return DatetimeStats(int(present.dt.year.min()) if not present.empty else None,
                         int(present.dt.year.max()) if not present.empty else None, parts,
                         int(values.isna().sum()), tz, fmt, dtype_to_json(series.dtype, f"column {column!r}"),
                         marker_to_json(null_marker(series)),
                         low=_parts_of(present.min()) if not present.empty else None,
                         high=_parts_of(present.max()) if not present.empty else None,
                         objects=_object_kind(series), earliest=ordered[:2 * keep].tolist(),
                         latest=ordered[-2 * keep:].tolist() if len(ordered) else [], keep=keep)


class DatetimeCodec(Codec):
    """Year/month/day(/hour/minute/second/millisecond/microsecond) tokens; the null token is the last
    year token."""

    kind = "datetime"

    def __init__(self, column: str, year_min: int, year_max: int, time_parts: int, has_null: bool,
                 tz: str | None, fmt: str | None, dtype: dict[str, Any], marker: str | None, *,
                 low: list[int] | None = None, high: list[int] | None = None, objects: str | None = None,
                 empty: bool = False) -> None:
        super().__init__(column)
        self.year_min, self.year_max = year_min, year_max
        #: No value in training (an all-missing column): every generated value is missing.
        self.empty = bool(empty) and has_null
        self.time_parts = time_parts
        self.has_null = has_null
        self.tz, self.fmt = tz, fmt
        self.dtype_json, self.marker_json = dtype, marker
        self._dtype = dtype_from_json(dtype, f"column {column!r}")
        self._marker = marker_from_json(marker)
        self.parts = list(_PARTS[: 3 + time_parts])
        self.low, self.high, self.objects = low, high, objects
        # The bounds as tokens of each part (states saved before bounds were kept have none).
        self._low_tokens = self._high_tokens = None
        if low is not None and high is not None:
            self._low_tokens = self._bound_tokens(low)
            self._high_tokens = self._bound_tokens(high)

    def _bound_tokens(self, parts: list[int]) -> np.ndarray:
        offsets = {"year": self.year_min, "month": 1, "day": 1}
        return np.array([int(parts[j]) - offsets.get(part, 0) for j, part in enumerate(self.parts)], dtype=np.int64)

    @classmethod
    def build(cls, column: str, stats: DatetimeStats, config: CodecConfig) -> "DatetimeCodec":
        """The codec for reduced statistics."""
        low, high = _protected_bounds(stats)
        year_min = low[0] if low is not None else stats.year_min if stats.year_min is not None else 2000
        year_max = high[0] if high is not None else stats.year_max if stats.year_max is not None else year_min
        return cls(column, year_min, year_max, stats.time_parts, stats.nulls > 0, stats.tz, stats.fmt,
                   stats.dtype, stats.marker, low=low, high=high, objects=stats.objects,
                   empty=stats.year_min is None)

    @property
    def null_token(self) -> int | None:
        return self.year_max - self.year_min + 1 if self.has_null else None

    @property
    def sub_columns(self) -> list[SubColumn]:
        years = self.year_max - self.year_min + 1 + int(self.has_null)
        subs = [SubColumn(f"{self.column}.year", self.column, years, self.null_token)]
        subs += [SubColumn(f"{self.column}.{p}", self.column, _SIZES[p]) for p in self.parts[1:]]
        return subs

    def _tokens(self, values: pd.Series) -> np.ndarray:
        codes = np.zeros((len(values), len(self.parts)), dtype=np.int64)
        nulls = values.isna().to_numpy()
        present = values[~nulls]
        offsets = {"year": self.year_min, "month": 1, "day": 1}
        for j, part in enumerate(self.parts):
            raw = _part_values(present, part) - offsets.get(part, 0)
            limit = (self.year_max - self.year_min) if part == "year" else _SIZES[part] - 1
            codes[~nulls, j] = np.clip(raw, 0, limit)
        if nulls.any():
            codes[nulls, 0] = self._null(self.null_token)
        return codes

    def encode(self, series: pd.Series) -> np.ndarray:
        """Tokens of ``series``; values past the codec's range are coded at its bounds."""
        values, _, _ = _to_utc_naive(series, self.column, self.fmt)
        if self.low is not None and self.high is not None:
            values = values.clip(_stamp(self.low), _stamp(self.high))
        return self._tokens(values)

    def token_mask(self, offset: int, prefix: np.ndarray) -> np.ndarray | None:
        """Allowed tokens of part ``offset`` given the parts drawn before it (see the module docstring).

        Each part may range over its whole vocabulary, except that a value whose earlier parts
        equal those of the training minimum (maximum) may not go below (above) the minimum's
        (maximum's) part, and the day may not pass the end of the drawn month.

        Args:
            offset: Index of the part (0: year).
            prefix: ``(rows, offset)`` tokens of the earlier parts.

        Returns:
            ``(rows, cardinality)`` booleans, or ``None`` when no row is restricted (always for
            the year, whose vocabulary already spans the training years, unless the column had no
            value: then only the null token is allowed).
        """
        if offset == 0:
            if not self.empty or self.null_token is None:
                return None
            mask = np.zeros((prefix.shape[0], self.year_max - self.year_min + 2), dtype=bool)
            mask[:, self.null_token] = True
            return mask
        size = _SIZES[self.parts[offset]]
        rows = prefix.shape[0]
        lo = np.zeros(rows, dtype=np.int64)
        hi = np.full(rows, size - 1, dtype=np.int64)
        if self._low_tokens is not None and self._high_tokens is not None:
            at_low = (prefix == self._low_tokens[:offset]).all(axis=1)
            at_high = (prefix == self._high_tokens[:offset]).all(axis=1)
            lo[at_low] = self._low_tokens[offset]
            hi[at_high] = self._high_tokens[offset]
        if self.parts[offset] == "day":
            present = prefix[:, 0] != self.null_token if self.null_token is not None else np.ones(rows, bool)
            days = _days_in_month(prefix[:, 0] + self.year_min, prefix[:, 1] + 1)
            hi = np.where(present, np.minimum(hi, days - 1), hi)
        hi = np.maximum(hi, lo)  # never empty (only an out-of-order prefix could make it so)
        if not lo.any() and (hi == size - 1).all():
            return None  # no row restricted (the usual case away from the bounds and month ends)
        tokens = np.arange(size)
        return (tokens >= lo[:, None]) & (tokens <= hi[:, None])

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        nulls = codes[:, 0] == self.null_token if self.null_token is not None else np.zeros(len(codes), bool)
        stamps = pd.Series(_assemble(np.where(nulls, 0, codes[:, 0]) + self.year_min, codes[:, 1:], self.parts))
        stamps = stamps.where(~nulls)
        if self.tz is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.tz)
        if pd.api.types.is_datetime64_any_dtype(self._dtype):
            return pd.Series(stamps.to_numpy() if self.tz is None else stamps.array,
                             name=self.column).astype(self._dtype)
        if self.objects is not None:
            objects = (stamps.dt.date if self.objects == "date" else stamps).to_numpy(dtype=object)
            return restore_objects(objects, nulls, self._dtype, self._marker, self.column)
        fmt = self.fmt or ("%Y-%m-%d" if self.time_parts == 0 else "%Y-%m-%d %H:%M:%S" if self.time_parts <= 3
                           else "%Y-%m-%d %H:%M:%S.%f")
        text = format_datetimes(stamps, fmt).to_numpy(dtype=object)
        return restore_objects(text, nulls, self._dtype, self._marker, self.column)

    def allowed_tokens(self, value: Any) -> list[np.ndarray]:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return [np.array([self._null(self.null_token, conditioned=True)])] + [np.array([0]) for _ in self.parts[1:]]
        try:
            moment = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise GenerationError(f"Condition value {value!r} for datetime column {self.column!r} is not a "
                                  "date.") from exc
        if moment.tzinfo is None and self.tz is not None:  # a wall time of the column's zone, as it shows
            try:
                moment = moment.tz_localize(self.tz)
            except Exception as exc:  # pytz's NonExistentTimeError / AmbiguousTimeError subclass Exception only
                raise GenerationError(f"Condition value {value!r} for column {self.column!r} (time zone {self.tz}) "
                                      f"is not one moment there ({type(exc).__name__}: a daylight-saving change); "
                                      "give it with its UTC offset, e.g. '2021-10-31 02:30+01:00'.") from exc
        try:
            if moment.tzinfo is not None:
                moment = moment.tz_convert("UTC").tz_localize(None)
            # in microseconds, whose range holds any year a column can have (nanoseconds end in 2262)
            stamp = pd.Series(np.array([moment.as_unit("us").to_datetime64()]))
        except (TypeError, ValueError) as exc:
            raise GenerationError(f"Condition value {value!r} for datetime column {self.column!r} is not a "
                                  "date.") from exc
        if not self.year_min <= int(stamp.dt.year.iloc[0]) <= self.year_max:
            raise GenerationError(f"Condition value {value!r} for column {self.column!r} is outside the "
                                  f"training years {self.year_min}-{self.year_max}.")
        return [np.array([t]) for t in self._tokens(stamp)[0]]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "year_min": self.year_min, "year_max": self.year_max,
                "time_parts": self.time_parts, "has_null": self.has_null, "tz": self.tz, "fmt": self.fmt,
                "dtype": self.dtype_json, "marker": self.marker_json, "low": self.low, "high": self.high,
                "objects": self.objects, "empty": self.empty}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DatetimeCodec":
        # low / high / objects are absent from states saved before they were kept.
        return cls(data["column"], data["year_min"], data["year_max"], data["time_parts"], data["has_null"],
                   data["tz"], data["fmt"], data["dtype"], data["marker"], low=data.get("low"),
                   high=data.get("high"), objects=data.get("objects"), empty=data.get("empty", False) is True)
