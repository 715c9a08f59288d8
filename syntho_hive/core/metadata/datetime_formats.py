"""Date/time string formats: detection, parsing and formatting, shared by every datetime codec.

Formats are ``strftime`` formats plus one pseudo-directive, ``%3f``: milliseconds, exactly three
digits (``2021-01-01T08:15:00.837``, as JavaScript and Java systems write them). ``strftime``'s
own ``%f`` always writes six digits, so a millisecond column written with it would change shape.

Date-times with a UTC offset, as pandas writes tz-aware values (``2021-01-01 00:00:00+01:00``), get
a detected format that ends in the offset itself when every value has the same one (the values are
then read and written as local times of that offset), else in the pseudo-directive ``%:z``: any
``+HH:MM`` offset on reading (values become UTC instants), ``+00:00`` on writing. A declared ``%z``
(written ``+HHMM``) is refused over values whose offset is written ``+HH:MM``.
"""

from __future__ import annotations

import warnings

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DATETIME_FORMATS", "MILLISECONDS", "UTC_OFFSET", "detect_datetime_format", "format_datetimes",
           "formats_exactly", "numpy_datetimes", "parse_datetimes", "parse_objects", "time_unit"]

#: The milliseconds pseudo-directive (three digits).
MILLISECONDS = "%3f"
#: The UTC offset pseudo-directive (``+HH:MM`` read, converted to UTC; ``+00:00`` written).
UTC_OFFSET = "%:z"

DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%3f",
    "%Y-%m-%dT%H:%M:%S.%3f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%dT%H:%M:%S.%3fZ",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d",
    "%d %b %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%Y-%m",
)

_CHECK_LIMIT = 50_000
#: Marks where ``%f``'s six digits go while formatting ``%3f`` (a private-use character).
_MARK = "\ue000"
#: A ``+HH:MM`` UTC offset at the end of a value.
_OFFSET_AT_END = r"[+-]\d{2}:\d{2}$"


def parse_datetimes(values: pd.Series, fmt: str, *, errors: str = "raise") -> pd.Series:
    """``pd.to_datetime`` with ``fmt`` (``%3f`` read as ``%f``, which takes 1-6 digits; ``%:z`` as an offset,
    the values converted to naive UTC).

    Raises:
        ValueError, TypeError: A value does not match ``fmt`` (with ``errors="raise"``); ValueError also for
            values of several UTC offsets under ``%z`` (whatever ``errors``: ``%:z`` reads them), or of an offset
            written ``+HH:MM`` (``%z`` writes ``+HHMM``: the format ending in the offset itself keeps them).
    """
    pattern = fmt.replace(MILLISECONDS, "%f")
    if UTC_OFFSET not in fmt:
        if "%z" not in pattern:
            return pd.to_datetime(values, format=pattern, errors=errors)
        with warnings.catch_warnings():  # pandas warns that several offsets will raise: they do, below
            warnings.simplefilter("ignore", FutureWarning)
            parsed = pd.to_datetime(values, format=pattern, errors=errors)
        if parsed.dtype == object:  # pandas keeps several offsets as objects
            raise ValueError(f"the values hold several UTC offsets, which format {fmt!r} cannot keep in one "
                             f"column; declare {fmt.replace('%z', UTC_OFFSET)!r} to read them as UTC instants")
        colon = values.dropna().astype(str).str.extract(f"({_OFFSET_AT_END})", expand=False).dropna()
        if not colon.empty:
            offset = colon.iloc[0]
            raise ValueError(f"the values write their UTC offset as {offset!r}, which format {fmt!r} writes as "
                             f"{offset.replace(':', '')!r}; declare {fmt.replace('%z', offset)!r} to keep them as "
                             f"they are, or {fmt.replace('%z', UTC_OFFSET)!r} to read them as UTC instants "
                             "(written +00:00)")
        return parsed
    parsed = pd.to_datetime(values, format=pattern.replace(UTC_OFFSET, "%z"), errors=errors, utc=True)
    return parsed.dt.tz_localize(None)


def format_datetimes(stamps: pd.Series, fmt: str) -> pd.Series:
    """``Series.dt.strftime`` with ``fmt``, ``%3f`` written as three digits (truncated), ``%:z`` as ``+00:00``
    (tz-aware stamps converted to UTC, naive ones taken as UTC)."""
    if UTC_OFFSET in fmt:
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        fmt = fmt.replace(UTC_OFFSET, "+00:00")
    if MILLISECONDS not in fmt:
        return stamps.dt.strftime(fmt)
    text = stamps.dt.strftime(fmt.replace(MILLISECONDS, f"{_MARK}%f{_MARK}"))
    return text.str.replace(f"{_MARK}(\\d{{3}})\\d{{3}}{_MARK}", r"\1", regex=True)


def detect_datetime_format(strings: pd.Series) -> str | None:
    """The first of :data:`DATETIME_FORMATS` that parses and re-formats every value exactly; for values that
    all end in a ``+HH:MM`` UTC offset (or ``Z``, UTC), the first that does so for the values without it,
    followed by the offset (the same in every value) or ``%:z`` (several offsets, ``Z`` and ``+02:00`` too: read
    as UTC instants, written in UTC; not for dates without a time of day, which that would move to another day).

    Args:
        strings: Non-null strings (the distinct ones are checked, at most 50,000).

    Returns:
        The format, or ``None`` when no candidate fits.
    """
    distinct = pd.Series(pd.unique(strings.to_numpy(dtype=object))[:_CHECK_LIMIT], dtype=object)
    if distinct.empty:
        return DATETIME_FORMATS[0]
    probe = distinct.iloc[:50]
    for fmt in DATETIME_FORMATS:
        if formats_exactly(probe, fmt) and formats_exactly(distinct, fmt):
            return fmt
    offsets = distinct.str.extract(f"({_OFFSET_AT_END})", expand=False)
    zulu = offsets.isna() & distinct.str.endswith("Z")  # UTC written Z
    offsets[zulu] = "Z"
    if offsets.isna().any():
        return None
    local = detect_datetime_format(distinct.str[:-6].where(~zulu, distinct.str[:-1]))
    if local is None:
        return None
    shared = offsets.unique()
    if len(shared) == 1:
        return local + shared[0]
    # Several offsets are read as UTC instants, which moves a date without a time of day to another day.
    return local + UTC_OFFSET if "%H" in local else None


def formats_exactly(strings: pd.Series, fmt: str) -> bool:
    """Whether every string parses with ``fmt`` and formats back to itself."""
    try:
        parsed = parse_datetimes(strings, fmt, errors="coerce")
    except ValueError:  # several UTC offsets under %z
        return False
    if parsed.isna().any():
        return False
    return bool((format_datetimes(parsed, fmt) == strings).all())


def time_unit(dtype: Any) -> str:
    """The unit (``"ns"``, ``"us"``, ``"ms"``, ``"s"``) of a datetime / duration dtype: NumPy, tz-aware or Arrow
    (dates: seconds); ``"ns"`` for any other dtype."""
    if isinstance(dtype, pd.ArrowDtype):
        unit = getattr(dtype.pyarrow_dtype, "unit", "s")
        return unit if unit in ("s", "ms", "us", "ns") else "s"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return str(dtype.unit)
    if isinstance(dtype, np.dtype) and dtype.kind in "mM":
        return np.datetime_data(dtype)[0]
    return "ns"


def numpy_datetimes(series: pd.Series) -> pd.Series:
    """An Arrow timestamp or date column as NumPy ``datetime64`` in the Arrow column's own unit (seconds for
    dates), its time zone kept; any other column unchanged.

    ``pd.to_datetime`` and ``astype("datetime64[ns]")`` would cast to nanoseconds, whose range ends at
    1677-2262: a ``9999-12-31`` validity end date would not fit.
    """
    dtype = series.dtype
    if not isinstance(dtype, pd.ArrowDtype) or dtype.kind != "M":
        return series
    unit = time_unit(dtype)
    tz = getattr(dtype.pyarrow_dtype, "tz", None)
    return series.astype(f"datetime64[{unit}, {tz}]" if tz else f"datetime64[{unit}]")


def parse_objects(series: pd.Series, **options: object) -> pd.Series:
    """``pd.to_datetime(series, **options)`` of an ``object`` column of dates / datetimes, where tz-aware values
    of several zones (or UTC offsets) are read as UTC instants instead of refused.

    Raises:
        ValueError / TypeError: What ``pd.to_datetime`` raises for any other column (naive and aware values
            mixed, values that are no dates).
    """
    try:
        return pd.to_datetime(series, **options)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        present = series.dropna()
        if not len(present) or not all(getattr(value, "tzinfo", None) is not None for value in present):
            raise
        return pd.to_datetime(series, utc=True, **options)  # type: ignore[call-overload]
