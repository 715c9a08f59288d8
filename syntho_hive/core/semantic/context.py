"""Per-call generation context: the row values available so far and each row's country and locale."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from faker import Faker

from syntho_hive.core.semantic.geo import country_code, locale_for_country
from syntho_hive.core.semantic.locales import faker_for

__all__ = ["RowContext", "by_locale", "draw_weighted"]


@dataclass
class RowContext:
    """Values of the semantic columns known so far (modelled ones from the input rows, then generated ones).

    Attributes:
        n: Number of rows.
        values: ``{column: object array of length n}``.
        locale: The plan's locale (used where a row has no known country).
        country: The plan locale's country (alpha-2), or ``None``.
    """

    n: int
    values: dict[str, np.ndarray]
    locale: str
    country: str | None
    _codes: dict[str | None, np.ndarray] = field(default_factory=dict)

    def subset(self, rows: np.ndarray) -> "RowContext":
        """The context of rows ``rows`` only (values and resolved countries sliced)."""
        return RowContext(n=len(rows), values={c: v[rows] for c, v in self.values.items()}, locale=self.locale,
                          country=self.country, _codes={c: v[rows] for c, v in self._codes.items()})

    def get(self, column: str | None) -> np.ndarray | None:
        """The values of ``column`` when known, else ``None``."""
        return None if column is None else self.values.get(column)

    def countries(self, column: str | None) -> np.ndarray:
        """Each row's country (alpha-2) from ``column``; the plan's country where unknown."""
        if column not in self._codes:
            raw = self.get(column)
            if raw is None:
                codes = np.full(self.n, self.country, dtype=object)
            else:
                codes = np.asarray([country_code(v) or self.country for v in raw], dtype=object)
            self._codes[column] = codes
        return self._codes[column]

    def locales(self, column: str | None) -> np.ndarray:
        """Each row's Faker locale: the locale of its country, else the plan's locale."""
        codes = self.countries(column)
        table = {c: (locale_for_country(c) if c else None) or self.locale for c in set(codes.tolist())}
        return np.asarray([table[c] for c in codes], dtype=object)


def by_locale(locales: np.ndarray, rng: np.random.Generator, fn: Callable[[Faker, int], Any]) -> np.ndarray:
    """Call ``fn(faker, row)`` for each row with the row's locale's Faker (re-seeded from ``rng``)."""
    out = np.empty(len(locales), dtype=object)
    for locale in sorted(set(locales.tolist())):
        fake = faker_for(locale, rng)
        for i in np.flatnonzero(locales == locale):
            out[i] = fn(fake, int(i))
    return out


def draw_weighted(weights: Mapping[Any, Any], rng: np.random.Generator, size: int | None = None) -> Any:
    """Keys of ``weights`` drawn with probabilities proportional to their values: one key (``size`` ``None``)
    or an object array of ``size`` keys."""
    keys = list(weights)
    p = np.asarray([float(weights[k]) for k in keys])
    picks = rng.choice(len(keys), size=size, p=p / p.sum())
    return keys[int(picks)] if size is None else np.asarray(keys, dtype=object)[picks]
