"""Generator of national identity numbers (dates of birth: :mod:`.birth_dates`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from syntho_hive.core.semantic.context import RowContext, draw_weighted
from syntho_hive.core.semantic.national_ids import draw_national_id, scheme_for_country

__all__ = ["gen_national_id"]

_DEFAULT_SCHEME = "us.ssn"


def gen_national_id(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Check-digit-valid identity numbers: the scheme of the row's country when the column uses it (or
    when nothing was learned), else a scheme drawn by its learned share; written formatted for the
    learned share of rows."""
    learned: dict[str, Any] = spec.get("schemes") or {}
    drawn = draw_weighted(learned, rng, ctx.n) if learned else None
    formatted = rng.random(ctx.n) < float(spec.get("formatted_share", 1.0 if not learned else 0.0))
    codes = ctx.countries(spec.get("country_col"))
    out = np.empty(ctx.n, dtype=object)
    for i in range(ctx.n):
        own = scheme_for_country(codes[i])
        if own is not None and (own.name in learned or not learned):
            scheme = own.name
        elif drawn is not None:
            scheme = str(drawn[i])
        else:
            scheme = _DEFAULT_SCHEME
        out[i] = draw_national_id(scheme, rng, formatted=bool(formatted[i]))
    return out
