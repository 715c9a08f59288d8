"""Generators of address columns: country, state, city, postcode and street address.

Limits (see :mod:`syntho_hive.core.semantic.geo`): a city and a state are linked through the
gazetteer for the United States and Canada only; elsewhere the state is a real subdivision of the
country and the city a real city of the country, not necessarily inside each other. Countries the
gazetteer lists no city for get a Faker city of their locale; countries without ISO subdivisions get
a missing state.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np

from syntho_hive.core.semantic._regex_sample import sample_regex
from syntho_hive.core.semantic.context import RowContext, by_locale, draw_weighted
from syntho_hive.core.semantic.geo import (
    admin1_to_state, cities_of, country_label, home_subdivisions_of, locale_countries, postcode_regex, state_code,
    state_name, state_to_admin1,
)
from syntho_hive.core.semantic.locales import faker_for
from syntho_hive.events import get_logger

__all__ = ["gen_country", "gen_state_city", "gen_city", "gen_postcode", "gen_street"]

_POSTCODE_TRIES = 3

_log = get_logger(__name__)


@lru_cache(maxsize=1)
def _faker_postcode_states() -> frozenset[str]:
    """US state codes Faker's ``postcode_in_state`` knows (not the territories pycountry lists, such as
    ``UM``, for which it raises a plain ``Exception``)."""
    from faker.providers.address.en_US import Provider

    return frozenset(Provider.states_postcode) & frozenset(Provider.known_usps_abbr)


def gen_country(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Countries written in the learned notation: the frequent countries seen, by frequency, or (none
    being frequent) real countries Faker has a locale for, by population."""
    counts = spec.get("codes") or {}
    if counts:
        drawn = draw_weighted(counts, rng, ctx.n)
    else:
        pool, shares = locale_countries()
        drawn = np.asarray(pool, dtype=object)[rng.choice(len(pool), size=ctx.n, p=shares)]
    spelling = spec.get("spelling") or {}
    labels = {c: spelling.get(c) or country_label(c, spec.get("style", "name")) for c in set(drawn.tolist())}
    return np.asarray([labels[c] for c in drawn], dtype=object)


@lru_cache(maxsize=256)
def _city_index(country: str) -> dict[str, str]:
    cities = cities_of(country)
    if cities is None:
        return {}
    index: dict[str, str] = {}
    for name, admin1 in zip(cities.names.tolist(), cities.admin1.tolist()):
        index.setdefault(name.casefold(), admin1)
    return index


def _draw_cities(countries: np.ndarray, admin1: np.ndarray, locales: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A gazetteer city per row (weighted by population, inside the row's admin-1 when given)."""
    names = np.empty(len(countries), dtype=object)
    adm = np.empty(len(countries), dtype=object)
    keys = [(c or "", a or "") for c, a in zip(countries.tolist(), admin1.tolist())]
    missing = []
    for key in sorted(set(keys)):
        idx = np.asarray([i for i, k in enumerate(keys) if k == key])
        cities = cities_of(key[0])
        if cities is None:
            missing.extend(idx.tolist())
            continue
        names[idx], adm[idx] = cities.draw(rng, len(idx), key[1] or None)
    if missing:
        miss = np.asarray(sorted(missing))
        names[miss] = by_locale(locales[miss], rng, lambda fake, _i: fake.city())
    return names, adm


def _render_state(country: str | None, code: str | None, style: str) -> str | None:
    if country is None or code is None:
        return None
    # Numeric ISO codes (Czech '53', Norwegian '30') are not how people write states: use the name.
    return code if style == "code" and not code[:1].isdigit() else state_name(country, code)


def gen_state_city(spec: dict[str, Any], city_spec: dict[str, Any] | None, ctx: RowContext,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """States (and the group's cities when they are generated too: the city is drawn first).

    Returns:
        ``(states, cities or None)``.
    """
    countries = ctx.countries(spec.get("country_col"))
    locales = ctx.locales(spec.get("country_col"))
    n = ctx.n
    codes = np.empty(n, dtype=object)
    cities_out = None
    known_city = ctx.get(spec.get("city_col")) if city_spec is None else None
    if city_spec is not None or known_city is None:
        names, adm = _draw_cities(countries, np.full(n, None, dtype=object), locales, rng)
        if city_spec is not None:
            cities_out = names
    else:
        adm = np.asarray([_city_index(c).get(str(v).casefold()) if c and isinstance(v, str) else None
                          for c, v in zip(countries, known_city)], dtype=object)
    for i in range(n):
        c = countries[i]
        codes[i] = admin1_to_state(c, adm[i]) if c and adm[i] else None
    todo = [i for i in range(n) if codes[i] is None and countries[i]]
    if todo:
        draws = rng.random(len(todo))
        for i, u in zip(todo, draws):
            subs = home_subdivisions_of(countries[i])  # not an uninhabited territory such as 'UM'
            codes[i] = subs[int(u * len(subs))][0] if subs else None
    style = spec.get("style", "name")
    states = np.asarray([_render_state(c, s, style) for c, s in zip(countries, codes)], dtype=object)
    return states, cities_out


def _row_state_codes(spec: dict[str, Any], ctx: RowContext, countries: np.ndarray) -> np.ndarray:
    """Each row's state as a code of the row's country (``None`` without a state column or a known state)."""
    states = ctx.get(spec.get("state_col"))
    if states is None:
        return np.full(ctx.n, None, dtype=object)
    return np.asarray([state_code(c, s) if c and isinstance(s, str) else None for c, s in zip(countries, states)],
                      dtype=object)


def gen_city(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Real cities of each row's country, inside the row's state where the gazetteer links them."""
    countries = ctx.countries(spec.get("country_col"))
    locales = ctx.locales(spec.get("country_col"))
    admin1 = np.asarray([state_to_admin1(c, code) if code else None
                         for c, code in zip(countries, _row_state_codes(spec, ctx, countries))], dtype=object)
    names, _ = _draw_cities(countries, admin1, locales, rng)
    return names


def _postcode(fake: Any, country: str | None, fake_country: str | None, state: str | None,
              rng: np.random.Generator) -> str:
    if country == "US" and state:  # a state Faker lacks was set to None by gen_postcode (logged)
        return str(fake.postcode_in_state(state))
    pattern = postcode_regex(country) if country else None
    if pattern is None:
        return str(fake.postcode())
    if fake_country == country:
        for _ in range(_POSTCODE_TRIES):
            value = str(fake.postcode())
            if re.fullmatch(pattern, value):
                return value
    return sample_regex(pattern, rng)


def gen_postcode(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Postcodes in each row's country format (GeoNames regex); US codes inside the row's state."""
    countries = ctx.countries(spec.get("country_col"))
    locales = ctx.locales(spec.get("country_col"))
    us_states = np.asarray([code if c == "US" else None
                            for c, code in zip(countries, _row_state_codes(spec, ctx, countries))], dtype=object)
    known = _faker_postcode_states()
    unknown = sorted({str(s) for s in us_states.tolist() if s is not None and s not in known})
    if unknown:
        _log.warning("postcode_state_unknown", states=unknown,
                     rows=int(sum(s is not None and s not in known for s in us_states.tolist())),
                     fallback="a US-format postcode independent of the state",
                     hint="Faker has no postcode ranges for these US territories")
        us_states = np.asarray([s if s is None or s in known else None for s in us_states.tolist()], dtype=object)
    out = np.empty(ctx.n, dtype=object)
    for locale in sorted(set(locales.tolist())):
        fake = faker_for(locale, rng)
        fake_country = locale.split("_")[-1] if "_" in locale else None
        for i in np.flatnonzero(locales == locale):
            state = us_states[i]
            if state is not None and locale != "en_US":
                fake_us = faker_for("en_US", rng)
                out[i] = _postcode(fake_us, "US", "US", state, rng)
            else:
                out[i] = _postcode(fake, countries[i], fake_country, state, rng)
    return out


def _one_line(address: str) -> str:
    """``address`` with its lines joined by ``", "`` (``"Flat 4\nCole Loop"`` -> ``"Flat 4, Cole Loop"``)."""
    return ", ".join(part.strip() for part in address.splitlines() if part.strip())


def gen_street(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Street addresses from the Faker of each row's locale.

    Some locales' Faker addresses span two lines (en_GB, en_IN: ``"Flat 4\nCole Loop"``). Their lines
    are joined with ``", "`` unless the spec's ``multiline`` flag says the real column holds line breaks.
    A spec saved before the flag existed has none and gets one-line addresses, like a real column
    without line breaks (the usual case; a CSV cell then stays on one line).
    """
    multiline = bool(spec.get("multiline", False))

    def street(fake: Any, _i: int) -> str:
        value = str(fake.street_address())
        return value if multiline else _one_line(value)

    return by_locale(ctx.locales(spec.get("country_col")), rng, street)
