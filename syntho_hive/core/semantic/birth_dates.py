"""Dates of birth: recognising one value, learning coarse aggregates, generating fresh dates.

What is learned is deliberately coarse: the share of birth dates per five-year span, keeping only
spans with at least ``rare_threshold`` people (a lone person born in 1921 leaves no trace), the
written format and the column's kind (datetime, date objects or text). No real date is stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.semantic.context import RowContext, draw_weighted

__all__ = ["is_date_of_birth", "learn_birth_spec", "gen_date_of_birth", "DATE_FORMATS"]

#: Written forms recognised (and reproduced) for text columns, most common first.
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y%m%d")
_SPAN = 5
_FIRST_YEAR = 1900
_DEFAULT_SPANS = {str(y): 1.0 for y in range(1945, 2005, _SPAN)}


def _parse(value: str) -> tuple[dt.date, str] | None:
    text = value.strip()
    text = text[:10] if text[10:11] in (" ", "T") else text  # a date with a time: the date
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date(), fmt
        except ValueError:
            continue
    return None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        parsed = _parse(value)
        return parsed[0] if parsed else None
    return None


def is_date_of_birth(value: Any) -> bool:
    """Whether ``value`` is a date (object or written in one of :data:`DATE_FORMATS`) of a living person:
    from 1900 up to today."""
    date = _as_date(value)
    return date is not None and _FIRST_YEAR <= date.year and date <= dt.date.today()


def _kind(series: pd.Series) -> str:
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    sample = series.dropna().head(50).tolist()
    if sample and all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in sample):
        return "date"
    return "text"


def learn_birth_spec(series: pd.Series, rare_threshold: int) -> dict[str, Any]:
    """The aggregates a date-of-birth generator needs (see the module docstring).

    Args:
        series: The real column (datetime, ``datetime.date`` objects or text).
        rare_threshold: Five-year spans with fewer people are left out.

    Returns:
        ``{"kind": "datetime"|"date"|"text", "format": strftime format, "spans": {start year: share}}``.
    """
    values = series.dropna().tolist()
    dates = [d for d in (_as_date(v) for v in values) if d is not None]
    formats: Counter[str] = Counter(p[1] for p in (_parse(v) for v in values if isinstance(v, str)) if p)
    counts = Counter(str(d.year - d.year % _SPAN) for d in dates)
    kept = {span: c for span, c in counts.items() if c >= rare_threshold}
    total = sum(kept.values())
    spans = {span: c / total for span, c in sorted(kept.items())} if total else dict(_DEFAULT_SPANS)
    return {"kind": _kind(series), "format": formats.most_common(1)[0][0] if formats else DATE_FORMATS[0],
            "spans": spans}


def gen_date_of_birth(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """A birth date per row drawn from the learned five-year spans (uniform within a span, never after today),
    in the column's kind and format.

    Returns:
        An object array of ``pd.Timestamp`` (kind ``datetime``), ``datetime.date`` (``date``) or strings.
    """
    n = ctx.n
    chosen = draw_weighted(spec.get("spans") or _DEFAULT_SPANS, rng, n).astype(int)
    today = dt.date.today()
    out = np.empty(n, dtype=object)
    offsets = rng.random(n)
    kind, fmt = spec.get("kind", "text"), str(spec.get("format", DATE_FORMATS[0]))
    for i, start in enumerate(chosen.tolist()):
        first = dt.date(int(start), 1, 1)
        last = min(dt.date(int(start) + _SPAN - 1, 12, 31), today)
        date = first + dt.timedelta(days=int(offsets[i] * ((last - first).days + 1)))
        out[i] = pd.Timestamp(date) if kind == "datetime" else date if kind == "date" else date.strftime(fmt)
    return out

