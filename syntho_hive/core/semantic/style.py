"""Learning and applying a column's written style: casing, country/state notation, e-mail patterns.

Everything learned here is an aggregate (shares, counts of patterns, frequent domains); no value of
a PII-like column is kept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pycountry
from faker.decode import unidecode

from syntho_hive.core.semantic.geo import country_code, state_code

__all__ = [
    "learn_casing", "apply_casing", "learn_slot_words", "word_slot", "learn_country_style", "learn_state_style",
    "ascii_token", "EMAIL_PATTERNS", "learn_email_style", "learn_url_style", "learn_card_style", "learn_word_counts",
]


def learn_casing(values: Sequence[str]) -> str:
    """``"upper"`` / ``"lower"`` when at least 80 % of the values with letters are so, else ``"as_is"``."""
    lettered = [v for v in values if any(ch.isalpha() for ch in v)]
    if not lettered:
        return "as_is"
    if sum(v.isupper() for v in lettered) >= 0.8 * len(lettered):
        return "upper"
    if sum(v.islower() for v in lettered) >= 0.8 * len(lettered):
        return "lower"
    return "as_is"


def apply_casing(values: np.ndarray, casing: str) -> np.ndarray:
    """Apply a learned casing to an object array of strings (``None`` kept)."""
    if casing == "as_is":
        return values
    fn = str.upper if casing == "upper" else str.lower
    return np.asarray([fn(v) if isinstance(v, str) else v for v in values], dtype=object)


def learn_country_style(values: Sequence[str], min_count: int = 1) -> dict[str, Any]:
    """How a column writes countries, and its countries seen at least ``min_count`` times.

    Rarer countries are not kept (the rare-value protection): generation draws other real
    countries in their place (:func:`~syntho_hive.core.semantic.gen_geo.gen_country`).

    Returns:
        ``{"style": "alpha2"|"alpha3"|"name", "spelling": {code: most common written form},
        "codes": {code: count}}`` (spelling and codes of the kept countries only).
    """
    styles: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    codes: Counter[str] = Counter()
    for value in values:
        code = country_code(value)
        if code is None:
            continue
        codes[code] += 1
        text = value.strip()
        found = pycountry.countries.get(alpha_2=code)
        if len(text) == 2 and text.upper() == code:
            styles["alpha2"] += 1
        elif found is not None and text.upper() == found.alpha_3:
            styles["alpha3"] += 1
        else:
            styles["name"] += 1
        spellings.setdefault(code, Counter())[text] += 1
    style = styles.most_common(1)[0][0] if styles else "name"
    kept = {code: count for code, count in sorted(codes.items()) if count >= min_count}
    spelling = {code: c.most_common(1)[0][0] for code, c in sorted(spellings.items()) if code in kept}
    return {"style": style, "spelling": spelling, "codes": kept}


def learn_state_style(values: Sequence[str], countries: Sequence[str | None]) -> str:
    """``"code"`` when most states are written as codes (``"CA"``), else ``"name"`` (``"California"``)."""
    code_like = 0
    for value, country in zip(values, countries):
        text = value.strip()
        if country is not None and state_code(country, text) == text.upper() and len(text) <= 3:
            code_like += 1
        elif country is None and text.isupper() and len(text) <= 3:
            code_like += 1
    return "code" if values and code_like >= 0.5 * len(values) else "name"


def ascii_token(text: Any) -> str:
    """Lower-case ASCII letters/digits of ``text`` (``"José Müller"`` -> ``"josemuller"``)."""
    if not isinstance(text, str):
        return ""
    return re.sub(r"[^a-z0-9]", "", unidecode(text).lower())


#: Local-part patterns of e-mails made from names.
EMAIL_PATTERNS: dict[str, Any] = {
    "first.last": lambda f, l: f"{f}.{l}",
    "last.first": lambda f, l: f"{l}.{f}",
    "first_last": lambda f, l: f"{f}_{l}",
    "firstlast": lambda f, l: f"{f}{l}",
    "flast": lambda f, l: f"{f[:1]}{l}",
    "f.last": lambda f, l: f"{f[:1]}.{l}",
    "firstl": lambda f, l: f"{f}{l[:1]}",
    "first": lambda f, l: f,
    "last": lambda f, l: l,
}


def _structural_pattern(local: str) -> str:
    if "." in local:
        return "first.last"
    if "_" in local:
        return "first_last"
    return "firstlast"


def learn_email_style(emails: Sequence[str], firsts: Sequence[Any], lasts: Sequence[Any],
                      rare_threshold: int, countries: Sequence[str | None] | None = None) -> dict[str, Any]:
    """Learn e-mail local-part patterns, digit suffixes, casing and frequent domains.

    Args:
        emails: Non-null e-mail strings.
        firsts: The row's first name (or ``None``) for each e-mail.
        lasts: The row's last name (or ``None``) for each e-mail.
        rare_threshold: A domain is kept only when at least this many distinct e-mails use it.
        countries: The row's country (alpha-2 or ``None``) for each e-mail: domains are also kept per
            country (a Czech row gets a Czech provider), for countries of ``rare_threshold`` e-mails or more.

    Returns:
        ``{"patterns": {pattern: count}, "digit_share", "lower", "domains": {domain: count}, "domain_share",
        "country_domains": {code: {"domains": {domain: count}, "share": float}}}``.
    """
    patterns: Counter[str] = Counter()
    digits = 0
    lower = 0
    per_domain: dict[str, set[str]] = {}
    per_country: dict[str, dict[str, set[str]]] = {}
    in_country: Counter[str] = Counter()
    valid = 0
    for email, first, last, country in zip(emails, firsts, lasts, countries or [None] * len(emails)):
        if not isinstance(email, str) or "@" not in email:
            continue
        valid += 1
        local, _, domain = email.strip().rpartition("@")
        lower += email == email.lower()
        per_domain.setdefault(domain.lower(), set()).add(email.lower())
        if country:
            in_country[country] += 1
            per_country.setdefault(country, {}).setdefault(domain.lower(), set()).add(email.lower())
        stripped = local.lower().rstrip("0123456789")
        digits += stripped != local.lower()
        f, l = ascii_token(first), ascii_token(last)
        match = None
        if f and l:
            for name, build in EMAIL_PATTERNS.items():
                if re.sub(r"[^a-z0-9._]", "", stripped) == build(f, l):
                    match = name
                    break
        patterns[match or _structural_pattern(stripped)] += 1
    domains = {d: len(s) for d, s in sorted(per_domain.items()) if len(s) >= rare_threshold}
    total = max(valid, 1)
    country_domains: dict[str, dict[str, Any]] = {}
    for country, seen in sorted(per_country.items()):
        if in_country[country] < rare_threshold:
            continue
        kept = {d: len(s) for d, s in sorted(seen.items()) if len(s) >= rare_threshold}
        country_domains[country] = {"domains": kept, "share": sum(kept.values()) / in_country[country]}
    return {
        "patterns": dict(sorted(patterns.items())) or {"first.last": 1},
        "digit_share": digits / total,
        "lower": lower >= 0.5 * total,
        "domains": domains,
        "domain_share": sum(domains.values()) / total,
        "country_domains": country_domains,
    }


def learn_url_style(urls: Sequence[str]) -> dict[str, Any]:
    """Learn URL prefixes (``https://www.`` ...) and the share of country-code TLDs."""
    prefixes: Counter[str] = Counter()
    cc_tld = 0
    for url in urls:
        m = re.match(r"^((?:[a-z]+://)?(?:www\.)?)([^/:?#]+)", url.strip().lower())
        if not m:
            continue
        prefixes[m.group(1)] += 1
        host = m.group(2)
        cc_tld += len(host.rsplit(".", 1)[-1]) == 2
    total = max(sum(prefixes.values()), 1)
    return {"prefixes": dict(sorted(prefixes.items())) or {"https://www.": 1}, "cc_tld_share": cc_tld / total}


def learn_card_style(values: Sequence[str]) -> dict[str, Any]:
    """Learn card-number lengths and separators (``""``, ``" "`` or ``"-"``)."""
    lengths: Counter[int] = Counter()
    seps: Counter[str] = Counter()
    for value in values:
        text = str(value).strip()
        lengths[sum(ch.isdigit() for ch in text)] += 1
        seps[" " if " " in text else "-" if "-" in text else ""] += 1
    lengths_ok = {str(k): v for k, v in sorted(lengths.items()) if 13 <= k <= 19}
    return {"lengths": lengths_ok or {"16": 1}, "separator": seps.most_common(1)[0][0] if seps else ""}


def word_slot(position: int, count: int) -> str:
    """The slot of word ``position`` of a ``count``-word value: ``only``, ``first``, ``middle`` or ``last``."""
    if count == 1:
        return "only"
    return "first" if position == 0 else "last" if position == count - 1 else "middle"


def learn_slot_words(values: Sequence[str], rare_threshold: int) -> dict[str, dict[str, Any]]:
    """The words a title column repeats in each slot (only, first, middle, last word of a value).

    A word seen at least ``rare_threshold`` times in a slot (``Airport`` last, ``The`` first) is kept
    with its count, and the share of the slot's words that are kept ones; rarer words are not stored.

    Returns:
        ``{slot: {"words": {word: count}, "share": float}}`` for slots that keep a word.
    """
    per_slot: dict[str, Counter[str]] = {}
    for value in values:
        words = value.split()
        for position, word in enumerate(words):
            per_slot.setdefault(word_slot(position, len(words)), Counter())[word] += 1
    out: dict[str, dict[str, Any]] = {}
    for slot, counts in sorted(per_slot.items()):
        kept = {w: c for w, c in sorted(counts.items()) if c >= rare_threshold}
        if kept:
            out[slot] = {"words": kept, "share": sum(kept.values()) / sum(counts.values())}
    return out


def learn_word_counts(values: Sequence[str]) -> dict[str, int]:
    """Histogram ``{word count: number of values}``."""
    counts = Counter(len(v.split()) for v in values if v.split())
    return {str(k): v for k, v in sorted(counts.items())} or {"3": 1}
