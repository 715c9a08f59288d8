"""Detection of semantic column types from a column's name and values.

A column name only *suggests* a type; the values must agree (an ``Email`` column of integers is
not an e-mail column). Some types are recognised from values alone (e-mails, URLs, IP addresses,
IBANs, card numbers, country names, titles, free text). When unsure the answer is ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import phonenumbers
from pandas.api import types as ptypes

from syntho_hive.core.semantic.geo import country_code, is_subdivision
from syntho_hive.core.semantic.lexicon import is_job_title, known_first_names
from syntho_hive.core.semantic.birth_dates import is_date_of_birth
from syntho_hive.core.semantic.naming import name_hints
from syntho_hive.core.semantic.national_ids import id_schemes_of, is_national_id
from syntho_hive.core.semantic.types import SemanticType
from syntho_hive.core.semantic.validators import is_card_number, is_email, is_iban, is_ip, is_url

__all__ = ["detect_semantic_type", "string_values", "VALUE_CHECKS", "looks_valid_share", "NAME_ONLY_TYPES",
           "VALUE_ONLY_CHECKS"]

#: Distinct values inspected per column.
_SAMPLE = 1_000
#: Share of distinct values that must pass a value check for a value-only detection.
_STRONG = 0.9
#: Share that must pass when the column name already suggests the type.
_AGREE = 0.8

_CAP_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.\-]*(?:['’\-][^\W\d_]+)*\.?$")
_PHONE_CHARS = re.compile(r"^[+()\d\s./\-x]+$", re.IGNORECASE)
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,9}$")


def string_values(series: pd.Series) -> list[str] | None:
    """Up to 1 000 distinct non-null string values of a text column, or ``None`` for a non-text column."""
    if ptypes.is_bool_dtype(series) or ptypes.is_numeric_dtype(series) or ptypes.is_datetime64_any_dtype(series):
        return None
    non_null = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        non_null = non_null.astype(object)
    if non_null.empty:
        return None
    distinct = pd.unique(non_null.to_numpy(dtype=object))
    strings = [v for v in distinct if isinstance(v, str)]
    if len(strings) < 0.95 * len(distinct):
        return None
    strings = [s.strip() for s in strings if s.strip()]
    if not strings:
        return None
    if len(strings) > _SAMPLE:
        rng = np.random.default_rng(0)  # fixed: detection must be deterministic
        strings = [strings[i] for i in sorted(rng.choice(len(strings), _SAMPLE, replace=False))]
    return strings


def _share(values: list[str], check: Callable[[str], bool]) -> float:
    return sum(1 for v in values if check(v)) / len(values)


def _is_first_or_last(value: str) -> bool:
    words = value.split()
    return 1 <= len(words) <= 3 and all(_CAP_WORD.match(w) and w[0].isupper() for w in words) and len(value) <= 40


def _is_full_name(value: str) -> bool:
    words = value.replace(",", " ").split()
    return 2 <= len(words) <= 4 and all(_CAP_WORD.match(w) and w[0].isupper() for w in words) and len(value) <= 60


def _first_token_known(values: list[str]) -> float:
    known = known_first_names()
    return _share(values, lambda v: v.replace(",", " ").split()[0].casefold() in known
                  or v.replace(",", " ").split()[-1].casefold() in known)


def _is_phone(value: str) -> bool:
    if not _PHONE_CHARS.match(value) or sum(ch.isdigit() for ch in value) < 7:
        return False
    try:
        phonenumbers.parse(value, None if value.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return True


def _is_strict_phone(value: str) -> bool:
    if not value.startswith("+") or not _is_phone(value):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False


def _is_street(value: str) -> bool:
    return any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value) and len(value.split()) >= 2


def _is_place(value: str) -> bool:
    letters = sum(ch.isalpha() for ch in value)
    return letters >= 0.7 * len(value.replace(" ", "")) and len(value) <= 60 and not _is_code_like(value)


def _is_state(value: str) -> bool:
    return _is_place(value) or (value.isalpha() and value.isupper() and 2 <= len(value) <= 3)


def _is_code_like(value: str) -> bool:
    return len(value) <= 4 and value.isupper() and " " not in value


def _is_postcode(value: str) -> bool:
    return _POSTCODE.match(value) is not None and any(ch.isdigit() for ch in value)


def _is_company(value: str) -> bool:
    return any(ch.isalpha() for ch in value) and len(value) >= 2 and not value.replace(" ", "").isdigit()


def _is_title(value: str) -> bool:
    words = value.split()
    if not 2 <= len(words) <= 12 or len(value) > 80:
        return False
    letters = sum(ch.isalpha() for ch in value)
    return letters >= 0.75 * len(value.replace(" ", ""))


def _is_country(value: str) -> bool:
    return country_code(value) is not None


#: Per type: does one value look valid? (used by detection and by declared-type checks)
VALUE_CHECKS: dict[str, Callable[[str], bool]] = {
    "first_name": _is_first_or_last,
    "last_name": _is_first_or_last,
    "full_name": _is_full_name,
    "email": is_email,
    "phone_number": _is_phone,
    "street_address": _is_street,
    "city": _is_place,
    "state": _is_state,
    "postcode": _is_postcode,
    "country": _is_country,
    "company": _is_company,
    "job_title": lambda v: _is_company(v) and len(v) <= 80,
    "url": is_url,
    "ip_address": is_ip,
    "iban": is_iban,
    "credit_card_number": is_card_number,
    "title": lambda v: any(ch.isalpha() for ch in v) and len(v) <= 200,
    "text": lambda v: len(v.split()) >= 2,
    "national_id": is_national_id,
    "date_of_birth": is_date_of_birth,
}

#: Types recognised by name only, never by this module (a date column says nothing about whose date it
#: is): privacy detection (:mod:`syntho_hive.core.privacy`) reports them when the column name says so.
NAME_ONLY_TYPES: frozenset[str] = frozenset({"date_of_birth"})


def _is_strong_national_id(value: str) -> bool:
    return bool(id_schemes_of(value, strong_only=True))


#: Unambiguous value formats that decide a column's type by themselves (checked in this order).
VALUE_ONLY_CHECKS: dict[str, Callable[[str], bool]] = {
    "email": is_email, "url": is_url, "ip_address": is_ip, "iban": is_iban, "credit_card_number": is_card_number,
    "national_id": _is_strong_national_id,
}


def looks_valid_share(values: list[str], semantic_type: str) -> float:
    """Share of ``values`` that look like valid values of ``semantic_type``."""
    return _share(values, VALUE_CHECKS[semantic_type]) if values else 0.0


def _named(sem: str, values: list[str], distinct_ratio: float) -> bool:
    """Whether values agree with a type that the column name suggests."""
    share = looks_valid_share(values, sem)
    if sem in ("first_name", "last_name"):
        return share >= _AGREE and np.mean([len(v.split()) for v in values]) < 1.6
    if sem == "full_name":
        return share >= _AGREE and _first_token_known(values) >= 0.3
    if sem == "country":
        return share >= _STRONG
    if sem == "job_title":
        return share >= _AGREE and _share(values, is_job_title) >= 0.5
    if sem == "title":
        return share >= _AGREE and _looks_like_titles(values, distinct_ratio)
    if sem == "state":  # an order's "state" (open, closed) is no region: most values must be real ones
        return share >= _AGREE and _share(values, is_subdivision) >= 0.6
    if sem in ("city", "company"):
        return share >= _AGREE and len(values) >= 2
    if sem == "text":
        return _looks_like_text(values)
    return share >= _AGREE


def _looks_like_titles(values: list[str], distinct_ratio: float) -> bool:
    if distinct_ratio < 0.7 or len(values) < 5:
        return False
    if _share(values, _is_title) < _AGREE or np.mean([len(v) for v in values]) > 50:
        return False
    return not (_share(values, _is_full_name) >= 0.5 and _first_token_known(values) >= 0.3)


def _looks_like_text(values: list[str]) -> bool:
    return float(np.mean([len(v) for v in values])) > 50 and float(np.mean([len(v.split()) for v in values])) >= 6


def detect_semantic_type(series: pd.Series, column_name: str) -> SemanticType | None:
    """Detect the semantic type of a column from its name and its values.

    Args:
        series: The column's values.
        column_name: The column's name (e.g. ``"BillingPostalCode"``).

    Returns:
        The semantic type, or ``None`` when the column is not semantic or the evidence is weak
        (codes such as ``'N14228'`` or ``'JFK'``, numbers, dates).
    """
    values = string_values(series)
    if values is None:
        return None
    non_null = series.dropna()
    distinct_ratio = series.nunique(dropna=True) / max(len(non_null), 1)
    # Unambiguous value formats decide by themselves.
    for sem, check in VALUE_ONLY_CHECKS.items():
        if _share(values, check) >= _STRONG:
            return sem  # type: ignore[return-value]
    for sem in name_hints(column_name):
        if sem in VALUE_ONLY_CHECKS and sem != "national_id":
            continue  # their values did not agree above
        if sem in NAME_ONLY_TYPES:
            continue
        if _named(sem, values, distinct_ratio):
            return sem  # type: ignore[return-value]
    # Value-only detections.
    if _share(values, _is_strict_phone) >= _STRONG:
        return "phone_number"
    long_names = [v for v in values if len(v) > 3]
    if len(long_names) >= 0.9 * len(values) and len(values) >= 3 and _share(values, _is_country) >= _STRONG:
        return "country"
    if _looks_like_text(values):
        return "text"
    if _looks_like_titles(values, distinct_ratio):
        return "title"
    return None
