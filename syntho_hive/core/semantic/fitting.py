"""Learning, per generated semantic column, the aggregates its generator needs (a column "spec").

A spec is a plain JSON-able dict: ``type``, ``null_rate``, ``dtype``, ``casing``, the names of the
linked columns (``country_col``, ``state_col``, ``first_col`` ...) and type-specific style fields.
Only title/text columns listed in ``sample_real`` keep real values (``real_values``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.semantic.birth_dates import learn_birth_spec
from syntho_hive.core.semantic.geo import country_code
from syntho_hive.core.semantic.naming import address_prefix
from syntho_hive.core.semantic.national_ids import learn_id_spec
from syntho_hive.core.semantic.phones import learn_phone_style, phone_region
from syntho_hive.core.semantic.style import (
    learn_card_style, learn_casing, learn_country_style, learn_email_style, learn_state_style,
    learn_slot_words, learn_url_style, learn_word_counts,
)
from syntho_hive.core.semantic.types import ADDRESS_TYPES

__all__ = ["column_links", "learn_spec", "dtype_tag", "CASED_TYPES"]

#: Types whose output takes the learned casing.
CASED_TYPES = frozenset({"first_name", "last_name", "full_name", "street_address", "city", "state", "postcode",
                         "country", "company", "job_title"})


def dtype_tag(series: pd.Series) -> str:
    """A JSON-able tag of the column's dtype (``object``, ``string:python``, ``category``, ``int64``,
    ``datetime64[ns]`` ...)."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return f"string:{dtype.storage}"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if ptypes.is_integer_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype):
        return str(dtype)
    return "object"


def _first_of(semantic_types: Mapping[str, str], sem: str) -> str | None:
    return next((c for c, t in semantic_types.items() if t == sem), None)


def column_links(semantic_types: Mapping[str, str]) -> dict[str, dict[str, str | None]]:
    """For each semantic column, the columns it reads: its address's country/state/city, names, company.

    Address columns sharing a name prefix (``BillingCity``, ``BillingCountry``) form one address; an
    address without its own country uses the table's main country column.
    """
    groups: dict[str, dict[str, str]] = {}
    for col, sem in semantic_types.items():
        if sem in ADDRESS_TYPES:
            groups.setdefault(address_prefix(col, sem), {}).setdefault(sem, col)
    main_country = groups.get("", {}).get("country") or _first_of(semantic_types, "country")
    people = {
        "first_col": _first_of(semantic_types, "first_name"),
        "last_col": _first_of(semantic_types, "last_name"),
        "full_col": _first_of(semantic_types, "full_name"),
        "company_col": _first_of(semantic_types, "company"),
    }
    links: dict[str, dict[str, str | None]] = {}
    for col, sem in semantic_types.items():
        if sem in ADDRESS_TYPES:
            group = groups[address_prefix(col, sem)]
            links[col] = {"country_col": group.get("country") or main_country,
                          "state_col": group.get("state"), "city_col": group.get("city")}
        else:
            links[col] = {"country_col": main_country, **people}
    return links


def _strings(series: pd.Series) -> tuple[list[int], list[str]]:
    positions, values = [], []
    for i, v in enumerate(series.tolist()):
        if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
            continue
        positions.append(i)
        values.append(str(v).strip())
    return positions, values


def _column_values(frame: pd.DataFrame, column: str | None, positions: list[int]) -> list[Any]:
    if column is None or column not in frame.columns:
        return [None] * len(positions)
    col = frame[column].tolist()
    return [col[i] for i in positions]


def _null_by_country(series: pd.Series, country: pd.Series, rare_threshold: int) -> dict[str, float]:
    """Null rate of the column per country with at least ``rare_threshold`` rows (e.g. no state in Europe)."""
    codes = country.map(country_code)
    frame = pd.DataFrame({"code": codes, "null": series.isna().to_numpy()}).dropna(subset=["code"])
    stats = frame.groupby("code")["null"].agg(["mean", "size"])
    return {str(c): float(r["mean"]) for c, r in stats.iterrows() if r["size"] >= rare_threshold}


def _null_other(series: pd.Series, country: pd.Series, listed: Collection[str]) -> float:
    """Null rate of the rows whose country is not listed in the per-country rates (rare or unknown)."""
    rest = ~country.map(country_code).isin(list(listed)).to_numpy()
    return float(series[rest].isna().mean()) if rest.any() else float(series.isna().mean())


def learn_spec(frame: pd.DataFrame, column: str, semantic_type: str, links: Mapping[str, str | None], *,
               locale_country: str | None, rare_threshold: int, sample_real: Collection[str]) -> dict[str, Any]:
    """Learn the spec of one generated column (see the module docstring)."""
    series = frame[column]
    n = len(series)
    positions, values = _strings(series)
    spec: dict[str, Any] = {
        "type": semantic_type,
        "null_rate": float(1.0 - len(values) / n) if n else 0.0,
        "dtype": dtype_tag(series),
        "casing": learn_casing(values) if semantic_type in CASED_TYPES else "as_is",
        **{k: v for k, v in links.items()},
    }
    countries = [country_code(v) for v in _column_values(frame, links.get("country_col"), positions)]
    country_col = links.get("country_col")
    if country_col and country_col in frame.columns and country_col != column:
        spec["null_by_country"] = _null_by_country(series, frame[country_col], rare_threshold)
        spec["null_other"] = _null_other(series, frame[country_col], spec["null_by_country"])
    if semantic_type == "country":
        spec.update(learn_country_style(values, rare_threshold))
    elif semantic_type == "state":
        spec["style"] = learn_state_style(values, [c or locale_country for c in countries])
    elif semantic_type == "phone_number":
        regions = [phone_region(c, locale_country or "US") for c in countries]
        spec["phone"] = learn_phone_style(values, regions, rare_threshold=rare_threshold)
    elif semantic_type == "full_name":
        spec["order"] = "last_first" if values and sum("," in v for v in values) >= 0.5 * len(values) else "first_last"
    elif semantic_type == "email":
        firsts = _column_values(frame, links.get("first_col"), positions)
        lasts = _column_values(frame, links.get("last_col"), positions)
        if links.get("full_col") and links.get("first_col") is None:
            full = _column_values(frame, links.get("full_col"), positions)
            parts = [str(v).replace(",", " ").split() if isinstance(v, str) else [] for v in full]
            firsts = [p[0] if p else None for p in parts]
            lasts = [p[-1] if len(p) > 1 else None for p in parts]
        spec.update(learn_email_style(values, firsts, lasts, rare_threshold, countries))
        full_col = links.get("full_col")
        if full_col and full_col in frame.columns:
            _, fulls = _strings(frame[full_col])
            spec["full_order"] = "last_first" if fulls and sum("," in v for v in fulls) >= 0.5 * len(fulls) else "first_last"
    elif semantic_type == "street_address":
        # Faker writes some locales' addresses on two lines ("Flat 4\nCole Loop"); keep the line breaks
        # only when the real column has them (saved specs without the flag: one line, see gen_street).
        spec["multiline"] = any("\n" in v or "\r" in v for v in values)
    elif semantic_type == "url":
        spec.update(learn_url_style(values))
    elif semantic_type == "ip_address":
        spec["v6_share"] = float(sum(":" in v for v in values) / len(values)) if values else 0.0
    elif semantic_type == "iban":
        spec["spaced"] = bool(values) and sum(" " in v for v in values) >= 0.5 * len(values)
    elif semantic_type == "credit_card_number":
        spec.update(learn_card_style(values))
    elif semantic_type == "national_id":
        spec.update(learn_id_spec(values, rare_threshold=rare_threshold))
    elif semantic_type == "date_of_birth":
        spec.update(learn_birth_spec(series, rare_threshold))
    elif semantic_type in ("title", "text"):
        spec["word_counts"] = learn_word_counts(values)
        if semantic_type == "title":
            spec["slot_words"] = learn_slot_words(values, rare_threshold)
        if column in sample_real:
            spec["real_values"] = list(values)
    return spec
