"""Generators of person and organisation columns: names, e-mails, companies, job titles and URLs."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from syntho_hive.core.semantic.context import RowContext, by_locale, draw_weighted
from syntho_hive.core.semantic.geo import country_of_locale, country_tld
from syntho_hive.core.semantic.locales import WordList, provider_attr, word_list
from syntho_hive.core.semantic.style import EMAIL_PATTERNS, ascii_token

__all__ = ["draw_names", "gen_full_name", "gen_email", "gen_company", "gen_job_title", "gen_url"]

_FALLBACK_LOCALE = "en_US"
_FREE_MAIL = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com")
_UNIQUE_ROUNDS = 20
_COMPANY_SUFFIXES = re.compile(
    r"\b(inc|llc|ltd|limited|plc|gmbh|ag|kg|sa|s\.a|srl|sro|s\.r\.o|spa|bv|nv|oy|ab|as|co|corp|group|"
    r"ltda|e\.v|ev|se|sas|sarl|and|und|et|a|s)\b\.?", re.IGNORECASE)


def _list(locale: str, attr: str) -> WordList | None:
    return word_list(locale, attr) or word_list(_FALLBACK_LOCALE, attr)


def draw_names(locales: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A realistic (first, last) name per row from the Faker of the row's locale.

    Each row gets a gender and both names of that gender, so locales with gendered surnames (Czech,
    Polish, Russian ...) stay consistent (``Jana Nováková``, not ``Jana Novák``). Faker's own methods
    are used because the locales store their gendered lists under different attribute names.
    """
    female = rng.random(len(locales)) < 0.5
    pairs = by_locale(locales, rng, lambda fake, i: (fake.first_name_female(), fake.last_name_female())
                      if female[i] else (fake.first_name_male(), fake.last_name_male()))
    first = np.asarray([str(p[0]) for p in pairs], dtype=object)
    last = np.asarray([str(p[1]) for p in pairs], dtype=object)
    return first, last


def gen_full_name(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """``first + ' ' + last`` (or ``'last, first'`` when the data writes it so) of the row."""
    first = ctx.get(spec.get("first_col"))
    last = ctx.get(spec.get("last_col"))
    if first is None or last is None:
        f2, l2 = draw_names(ctx.locales(spec.get("country_col")), rng)
        first = f2 if first is None else first
        last = l2 if last is None else last
    if spec.get("order") == "last_first":
        return np.asarray([f"{l}, {f}" for f, l in zip(first, last)], dtype=object)
    return np.asarray([f"{f} {l}" for f, l in zip(first, last)], dtype=object)


def _email_names(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    first = ctx.get(spec.get("first_col"))
    last = ctx.get(spec.get("last_col"))
    full = ctx.get(spec.get("full_col"))
    if (first is None or last is None) and full is not None:
        parts = [str(v).replace(",", " ").split() if isinstance(v, str) else [] for v in full]
        comma = spec.get("full_order") == "last_first"
        f_full = np.asarray([(p[-1] if comma else p[0]) if p else "" for p in parts], dtype=object)
        l_full = np.asarray([(p[0] if comma else p[-1]) if len(p) > 1 else "" for p in parts], dtype=object)
        first = f_full if first is None else first
        last = l_full if last is None else last
    if first is None or last is None:
        f2, l2 = draw_names(ctx.locales(spec.get("country_col")), rng)
        first = f2 if first is None else first
        last = l2 if last is None else last
    return first, last


def _digits(rng: np.random.Generator) -> str:
    return str(int(rng.integers(1, 100 if rng.random() < 0.7 else 10_000)))


def gen_email(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Valid, unique-within-call e-mails built from the row's (ASCII-folded) names and learned patterns."""
    n = ctx.n
    first, last = _email_names(spec, ctx, rng)
    patterns = draw_weighted(spec.get("patterns") or {"first.last": 1}, rng, n)
    add_digits = rng.random(n) < float(spec.get("digit_share", 0.0))
    domains = spec.get("domains") or {}
    use_known = rng.random(n) < (float(spec.get("domain_share", 0.0)) if domains else 0.0)
    known = draw_weighted(domains, rng, n) if domains else np.full(n, "", dtype=object)
    by_country = spec.get("country_domains") or {}
    if by_country:  # a row of a country seen often enough takes that country's domains and share
        codes = ctx.countries(spec.get("country_col"))
        draws = rng.random(n)
        for code in sorted({c for c in codes.tolist() if c in by_country}):
            rows = np.flatnonzero(codes == code)
            local = by_country[code]
            use_known[rows] = draws[rows] < (float(local["share"]) if local["domains"] else 0.0)
            if local["domains"]:
                known[rows] = draw_weighted(local["domains"], rng, len(rows))
    locales = ctx.locales(spec.get("country_col"))
    free = np.empty(n, dtype=object)
    for locale in sorted(set(locales.tolist())):
        idx = np.flatnonzero(locales == locale)
        pool = provider_attr(locale, "free_email_domains") or _FREE_MAIL
        pool = sorted(set(pool))
        free[idx] = np.asarray(pool, dtype=object)[rng.integers(len(pool), size=len(idx))]
    out = np.empty(n, dtype=object)
    for i in range(n):
        f, l = ascii_token(first[i]), ascii_token(last[i])
        if not f and not l:
            f, l = "user", ""
        local = EMAIL_PATTERNS[patterns[i]](f or l, l or f)
        local = re.sub(r"\.{2,}", ".", local).strip("._") or "user"
        if add_digits[i]:
            local += _digits(rng)
        out[i] = f"{local}@{known[i] if use_known[i] else free[i]}"
    seen: set[str] = set()
    for i in range(n):
        email = out[i]
        rounds = 0
        while email in seen and rounds < _UNIQUE_ROUNDS:
            local, _, domain = out[i].rpartition("@")
            email = f"{local}{_digits(rng)}@{domain}"
            rounds += 1
        seen.add(email)
        out[i] = email
    if not spec.get("lower", True):
        return out
    return np.asarray([e.lower() for e in out], dtype=object)


def gen_company(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Company names from the Faker of each row's locale."""
    return by_locale(ctx.locales(spec.get("country_col")), rng, lambda fake, _i: str(fake.company()))


def gen_job_title(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Job titles from the job list of each row's locale."""
    locales = ctx.locales(spec.get("country_col"))
    out = np.empty(ctx.n, dtype=object)
    for locale in sorted(set(locales.tolist())):
        idx = np.flatnonzero(locales == locale)
        out[idx] = _list(locale, "jobs").draw(rng, len(idx))  # type: ignore[union-attr]
    return out


def _slug(company: Any) -> str:
    text = _COMPANY_SUFFIXES.sub(" ", str(company)) if isinstance(company, str) else ""
    words = [ascii_token(w) for w in re.split(r"[\s,&+/-]+", text)]
    words = [w for w in words if w]
    return "".join(words[:2]) or "example"


def gen_url(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Web sites made from the row's company (when the table has one) and a learned prefix/TLD style."""
    company = ctx.get(spec.get("company_col"))
    locales = ctx.locales(spec.get("country_col"))
    if company is None:
        company = gen_company(spec, ctx, rng)
    prefixes = draw_weighted(spec.get("prefixes") or {"https://www.": 1}, rng, ctx.n)
    cc = rng.random(ctx.n) < float(spec.get("cc_tld_share", 0.0))
    out = np.empty(ctx.n, dtype=object)
    for i in range(ctx.n):
        country = country_of_locale(locales[i])
        tld = country_tld(country) if cc[i] and country else "com"
        out[i] = f"{prefixes[i]}{_slug(company[i])}.{tld}"
    return out
