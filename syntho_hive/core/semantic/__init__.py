"""Semantic (business / PII) columns: detection, checks and realistic generation.

PII-like columns (:data:`ALWAYS_GENERATED`: names, e-mails, phones, street addresses, postcodes,
IBANs, card numbers, IPs, URLs) are never modelled: a :class:`SemanticPlan` learns only aggregates
(null rate, dtype, formats, frequent e-mail domains) and generates fresh, valid values per row, in
the locale of the row's country. Other semantic columns (city, state, country, company, job title,
title, text) are generated only when no value is frequent enough to be modelled
(:func:`should_generate`).
"""

from syntho_hive.core.semantic.checks import check_semantic_type, should_generate
from syntho_hive.core.semantic.detect import detect_semantic_type
from syntho_hive.core.semantic.geo import country_code
from syntho_hive.core.semantic.locales import resolve_locale
from syntho_hive.core.semantic.plan import SemanticPlan
from syntho_hive.core.semantic.types import ALWAYS_GENERATED, SEMANTIC_TYPES, SemanticType

__all__ = [
    "SEMANTIC_TYPES", "SemanticType", "ALWAYS_GENERATED", "detect_semantic_type", "check_semantic_type",
    "should_generate", "resolve_locale", "country_code", "SemanticPlan",
]
