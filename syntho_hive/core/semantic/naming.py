"""Column-name tokens: ``BillingPostalCode`` -> ``("billing", "postal", "code")``."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["name_tokens", "name_hints", "address_prefix"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

#: Token sequences (joined by "_") naming each type; the LAST tokens of a column name are matched.
_HINTS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "firstname", "given_name", "givenname", "fname", "forename", "first"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "familyname", "lname", "last"),
    "full_name": ("full_name", "fullname", "name", "contact_name", "customer_name", "person_name",
                  "contact", "person"),
    "email": ("email", "e_mail", "mail", "email_address", "mail_address"),
    "phone_number": ("phone", "phone_number", "fax", "mobile", "tel", "telephone", "cell", "cellphone",
                     "phone_no", "mobile_number", "fax_number", "msisdn"),
    "street_address": ("address", "street", "address_line1", "address_line_1", "address1", "addr",
                       "street_address", "address_line", "line1"),
    "city": ("city", "town", "municipality", "locality"),
    "state": ("state", "province", "region", "state_province", "county"),
    "postcode": ("postal_code", "postalcode", "zip", "zipcode", "zip_code", "postcode", "post_code", "plz"),
    "country": ("country", "nation", "country_name", "country_code"),
    "company": ("company", "employer", "organisation", "organization", "company_name", "firm", "org"),
    "job_title": ("job_title", "jobtitle", "job", "position", "occupation", "role", "title"),
    "title": ("title",),
    "url": ("url", "website", "homepage", "web", "link", "web_site", "home_page", "site"),
    "ip_address": ("ip", "ip_address", "ipaddress", "ipv4", "ipv6", "ip_addr"),
    "iban": ("iban",),
    "credit_card_number": ("card_number", "credit_card", "credit_card_number", "cc_number", "card_no",
                           "cardnumber", "creditcard", "pan"),
    "text": ("description", "comment", "comments", "notes", "note", "text", "body", "review", "message",
             "summary", "bio", "content"),
}


@lru_cache(maxsize=4096)
def name_tokens(column: str) -> tuple[str, ...]:
    """Lower-case word tokens of a column name (camelCase, snake_case, kebab and spaces split)."""
    spaced = _CAMEL.sub("_", str(column))
    return tuple(t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t)


def _match(tokens: tuple[str, ...]) -> list[tuple[int, str]]:
    joined_all = "".join(tokens)
    found: list[tuple[int, str]] = []
    for sem, names in _HINTS.items():
        best = 0
        for name in names:
            parts = tuple(name.split("_"))
            if tokens[-len(parts):] == parts:
                best = max(best, len(name))
            elif len(name) > 4 and joined_all.endswith(name.replace("_", "")):
                best = max(best, len(name) - 1)
        if best:
            found.append((best, sem))
    return found


@lru_cache(maxsize=4096)
def name_hints(column: str) -> tuple[str, ...]:
    """Semantic types whose name the column name ends with, most specific first.

    ``BillingCity`` -> ``("city",)``; ``FirstName`` -> ``("first_name", "full_name")``; a trailing
    number is ignored when nothing matches with it (``Email2``, ``phone_2``).
    """
    tokens = name_tokens(column)
    found = _match(tokens)
    if not found and tokens:
        stripped = [*tokens[:-1], tokens[-1].rstrip("0123456789")]
        found = _match(tuple(t for t in stripped if t))
    found.sort(key=lambda item: -item[0])
    return tuple(sem for _, sem in found)


def address_prefix(column: str, semantic_type: str) -> str:
    """The name prefix that groups one address's columns (``BillingCity`` -> ``"billing"``; ``City`` -> ``""``)."""
    tokens = list(name_tokens(column))
    for name in sorted(_HINTS.get(semantic_type, ()), key=len, reverse=True):
        parts = name.split("_")
        if tokens[-len(parts):] == parts:
            return "_".join(tokens[: -len(parts)])
    return "_".join(tokens[:-1])
