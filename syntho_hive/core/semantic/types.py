"""The closed set of semantic (business / PII) column types SynthoHive recognises."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["SemanticType", "SEMANTIC_TYPES", "ALWAYS_GENERATED", "ADDRESS_TYPES"]

SemanticType = Literal[
    "first_name", "last_name", "full_name", "email", "phone_number", "street_address", "city", "state",
    "postcode", "country", "company", "job_title", "url", "ip_address", "iban", "credit_card_number",
    "title", "text", "national_id", "date_of_birth",
]

#: Every semantic type, in declaration order.
SEMANTIC_TYPES: tuple[str, ...] = get_args(SemanticType)

#: PII-like types: never modelled, always generated from scratch (no real value is kept).
ALWAYS_GENERATED: frozenset[str] = frozenset({
    "first_name", "last_name", "full_name", "email", "phone_number", "street_address", "postcode",
    "iban", "credit_card_number", "ip_address", "url", "national_id",
})

#: Types that describe one postal address; columns sharing a name prefix (``Billing*``) form one address.
ADDRESS_TYPES: frozenset[str] = frozenset({"country", "state", "city", "postcode", "street_address"})
