"""The per-table semantic plan: what is learned to generate semantic columns, and the generation itself.

Generation order within a row: country -> state -> city -> postcode -> street address -> phone ->
names -> e-mail -> company -> job title -> url -> (ip, iban, card, national id, date of birth, title,
text), so later columns can read earlier ones (a city of the row's state, an e-mail from the row's
names, a url from its company).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from syntho_hive._checks import is_int
from syntho_hive.core._json_state import plain_json
from syntho_hive.core.semantic.birth_dates import gen_date_of_birth
from syntho_hive.core.semantic.checks import validate_type_name
from syntho_hive.core.semantic.context import RowContext
from syntho_hive.core.semantic.fitting import CASED_TYPES, column_links, learn_spec
from syntho_hive.core.semantic.gen_geo import gen_city, gen_country, gen_postcode, gen_state_city, gen_street
from syntho_hive.core.semantic.gen_ids import gen_national_id
from syntho_hive.core.semantic.gen_misc import gen_card, gen_iban, gen_ip, gen_text, gen_title
from syntho_hive.core.semantic.gen_people import (
    draw_names, gen_company, gen_email, gen_full_name, gen_job_title, gen_url,
)
from syntho_hive.core.semantic.geo import country_of_locale
from syntho_hive.core.semantic.locales import resolve_locale
from syntho_hive.core.semantic.phones import generate_phones, phone_region
from syntho_hive.core.semantic.style import apply_casing
from syntho_hive.core.semantic.types import SEMANTIC_TYPES
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError

__all__ = ["SemanticPlan", "PLAN_FORMAT", "PLAN_VERSION"]

_log = get_logger(__name__)

#: Rounds of drawing again the generated values longer than their column's declared length.
LENGTH_ROUNDS = 8
#: E-mail local parts of the second half of those rounds (``ann``, ``aharris``, ``annh``).
_SHORT_EMAIL_PATTERNS = {"first": 1, "flast": 1, "firstl": 1}

PLAN_FORMAT = "syntho_hive.semantic_plan"
PLAN_VERSION = 1

_ORDER = {t: i for i, t in enumerate((
    "country", "state", "city", "postcode", "street_address", "phone_number", "first_name", "last_name",
    "full_name", "email", "company", "job_title", "url", "ip_address", "iban", "credit_card_number", "national_id",
    "date_of_birth", "title", "text",
))}

Generator = Callable[[dict[str, Any], RowContext, np.random.Generator], np.ndarray]


def _gen_phone(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    codes = ctx.countries(spec.get("country_col"))
    regions = [phone_region(c, ctx.country or "US") for c in codes]
    return np.asarray(generate_phones(regions, spec.get("phone") or {"style": "INTERNATIONAL"}, rng), dtype=object)


_GENERATORS: dict[str, Generator] = {
    "country": gen_country, "city": gen_city, "postcode": gen_postcode, "street_address": gen_street,
    "phone_number": _gen_phone, "full_name": gen_full_name, "email": gen_email, "company": gen_company, "job_title": gen_job_title,
    "url": gen_url, "ip_address": gen_ip, "iban": gen_iban, "credit_card_number": gen_card,
    "title": gen_title, "text": gen_text, "national_id": gen_national_id, "date_of_birth": gen_date_of_birth,
}


def _finish(values: np.ndarray, null: np.ndarray, dtype: str, index: pd.Index) -> pd.Series:
    """Apply the null mask and the learned dtype."""
    if dtype.startswith("int") or dtype.startswith("Int") or dtype.startswith("uint") or dtype.startswith("UInt"):
        numbers = [int("".join(ch for ch in str(v) if ch.isdigit()) or 0) for v in values]
        series = pd.Series(numbers, index=index, dtype="Int64")
        series[null] = pd.NA
        # A numpy integer dtype cannot hold nulls: keep it only when no null was drawn.
        return series.astype(dtype) if not null.any() and not dtype[0].isupper() else series
    out = values.copy()
    out[null] = None
    if dtype.startswith("datetime64"):
        stamps = pd.Series(pd.to_datetime(list(out)), index=index)
        zone = dtype[len("datetime64["):-1].partition(",")[2].strip()
        return stamps.dt.tz_localize(zone) if zone else stamps.astype(dtype)
    if dtype == "category":
        return pd.Series(pd.Categorical(out), index=index)
    if dtype.startswith("string:"):
        return pd.Series(pd.array(out, dtype=pd.StringDtype(dtype.split(":", 1)[1])), index=index)
    return pd.Series(out, index=index, dtype=object)


def _too_long(values: np.ndarray, limit: int) -> np.ndarray:
    return np.flatnonzero([isinstance(v, str) and len(v) > limit for v in values])


def _cut(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters; an e-mail keeps its domain and loses the end of its local part."""
    local, at, domain = value.rpartition("@")
    if at and local and len(domain) + 2 <= limit:
        return f"{local[:limit - len(domain) - 1].rstrip('.')}@{domain}"
    return value[:limit]


def _within_length(column: str, spec: dict[str, Any], ctx: RowContext, values: np.ndarray, limit: int,
                   rng: np.random.Generator) -> np.ndarray:
    """``values`` of ``column`` with no value longer than ``limit``: the longer ones drawn again for their rows
    (:data:`LENGTH_ROUNDS` times at most, e-mails in the second half with short local parts; a redrawn e-mail
    also when it equals another), the rest cut."""
    values = np.asarray(values, dtype=object).copy()
    generator = _GENERATORS.get(spec["type"])
    rows = _too_long(values, limit)
    for round_ in range(LENGTH_ROUNDS if generator is not None else 0):
        if not rows.size:
            break
        if spec["type"] == "email" and round_ == LENGTH_ROUNDS // 2:  # the learned patterns are too long
            spec = {**spec, "patterns": _SHORT_EMAIL_PATTERNS}
        drawn = np.asarray(generator(spec, ctx.subset(rows), rng), dtype=object)
        if spec["type"] in CASED_TYPES:
            drawn = apply_casing(drawn, spec.get("casing", "as_is"))
        values[rows] = drawn
        redrawn = rows
        rows = _too_long(values, limit)
        if spec["type"] == "email":  # e-mails are distinct within a call: a redrawn one may not repeat another
            repeated = np.flatnonzero(pd.Series(values).duplicated(keep=False).to_numpy())
            rows = np.union1d(rows, np.intersect1d(redrawn, repeated))
    rows = _too_long(values, limit)
    if rows.size:
        values[rows] = [_cut(str(values[i]), limit) for i in rows]
        _log.warning("semantic_values_cut", column=column, rows=int(rows.size), max_length=limit,
                     reason=f"still longer than the column's {limit} characters after {LENGTH_ROUNDS} redraws")
    return values


@dataclass
class SemanticPlan:
    """Per table: what is learned (aggregates only, never a real value of a PII-like column) to generate
    semantic columns.

    Attributes:
        locale: The table's Faker locale, used for rows without a known country.
        semantic_types: Every semantic column of the table -> its type (generated or modelled).
        specs: Per generated column (in generation order), its learned spec (see
            :mod:`syntho_hive.core.semantic.fitting`).
        rare_threshold: Domains / values seen fewer times than this are never reused.
    """

    locale: str = "en_US"
    semantic_types: dict[str, str] = field(default_factory=dict)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rare_threshold: int = 5

    @classmethod
    def fit(cls, frame: pd.DataFrame, semantic_types: Mapping[str, str], *, generated: Collection[str],
            locale: str = "en_US", rare_threshold: int = 5, sample_real: Collection[str] = ()) -> "SemanticPlan":
        """Learn how to generate the ``generated`` semantic columns of a table.

        Args:
            frame: The real table.
            semantic_types: Every semantic column of the table -> its type (generated or modelled).
            generated: The columns this plan generates; the other semantic columns are produced by the
                model and may be read at generation time (a row's country, names for e-mails ...).
            locale: Faker locale for rows without a known country.
            rare_threshold: An e-mail domain is reused only when at least this many distinct e-mails use it.
            sample_real: title/text columns whose real values may be sampled (they are stored: use only
                for columns that are not private).

        Returns:
            The fitted plan.

        Raises:
            ConfigurationError: If ``locale`` is unknown or ``rare_threshold`` is not a positive integer.
            SchemaError: If a type is unknown, a generated column is not a semantic column or is missing
                from ``frame``, or ``sample_real`` names a column that is not a generated title/text column.
        """
        locale = resolve_locale(locale)
        if not is_int(rare_threshold) or rare_threshold < 1:
            raise ConfigurationError(f"rare_threshold must be a positive integer, got {rare_threshold!r}.")
        types = {str(c): str(t) for c, t in semantic_types.items()}
        for col, sem in types.items():
            validate_type_name(sem, column=col, table="<frame>")
        generated = list(generated)
        for col in generated:
            if col not in types:
                raise SchemaError(f"Column {col!r} is to be generated but has no semantic type; "
                                  "add it to semantic_types or drop it from generated.")
            if col not in frame.columns:
                raise SchemaError(f"Column {col!r} is to be generated but is not in the table "
                                  f"(columns: {list(frame.columns)}); fix the column name.")
        for col in sample_real:
            if col not in generated or types.get(col) not in ("title", "text"):
                raise SchemaError(f"sample_real names {col!r}, which is not a generated 'title' or 'text' column; "
                                  "only such columns may have real values sampled.")
        links = column_links(types)
        position = {c: i for i, c in enumerate(types)}
        ordered = sorted(generated, key=lambda c: (_ORDER[types[c]], position[c]))
        country = country_of_locale(locale)
        specs = {col: learn_spec(frame, col, types[col], links[col], locale_country=country,
                                 rare_threshold=int(rare_threshold), sample_real=set(sample_real))
                 for col in ordered}
        return cls(locale=locale, semantic_types=types, specs=plain_json(specs), rare_threshold=int(rare_threshold))

    @property
    def generated(self) -> list[str]:
        """The columns this plan generates, in generation order."""
        return list(self.specs)

    def generate(self, rows: pd.DataFrame, rng: np.random.Generator, *,
                 max_lengths: Mapping[str, int] | None = None) -> pd.DataFrame:
        """Generate the plan's columns for ``len(rows)`` rows.

        Args:
            rows: The already generated columns (modelled semantic columns such as a country may be in it).
            rng: Source of randomness; the output is bit-identical for the same generator state.
            max_lengths: ``{column: most characters}`` (a ``VARCHAR(n)``): a longer value is drawn again for
                its row, up to :data:`LENGTH_ROUNDS` times, then cut (an e-mail's local part is shortened, so it
                stays an e-mail); ``None``: no limit.

        Returns:
            A DataFrame with exactly :attr:`generated` columns, ``rows.index``, the learned dtypes and null rates.
        """
        n = len(rows)
        known = {c: rows[c].to_numpy(dtype=object) for c in self.semantic_types
                 if c in rows.columns and c not in self.specs}
        ctx = RowContext(n=n, values=known, locale=self.locale, country=country_of_locale(self.locale))
        seeds = rng.integers(0, 2**63, size=(len(self.specs), 2))
        read = {str(v) for spec in self.specs.values() for k, v in spec.items() if k.endswith("_col") and v}
        nulls = {col: self._nulls(spec, ctx, null_seed) for (col, spec), (_, null_seed) in zip(self.specs.items(), seeds)}
        for (col, spec), (seed, _) in zip(self.specs.items(), seeds):
            if col in ctx.values:
                continue  # produced together with an earlier column (a city with its state)
            col_rng = np.random.default_rng(int(seed))
            if col not in read and spec["type"] not in ("first_name", "last_name", "state") and nulls[col].any():
                # No other column reads it: values are drawn for its present rows only (a company of one
                # customer in five costs a fifth).
                present = np.flatnonzero(~nulls[col])
                values = np.full(n, None, dtype=object)
                if present.size:
                    values[present] = _GENERATORS[spec["type"]](spec, ctx.subset(present), col_rng)
            elif spec["type"] in ("first_name", "last_name"):
                values = self._names(col, spec, ctx, col_rng)
            elif spec["type"] == "state":
                city_col = spec.get("city_col")
                city_spec = self.specs.get(city_col) if city_col and city_col not in ctx.values else None
                values, cities = gen_state_city(spec, city_spec, ctx, col_rng)
                if cities is not None and city_spec is not None:
                    ctx.values[str(city_col)] = apply_casing(cities, city_spec.get("casing", "as_is"))
            else:
                values = _GENERATORS[spec["type"]](spec, ctx, col_rng)
            if spec["type"] in CASED_TYPES:
                values = apply_casing(values, spec.get("casing", "as_is"))
            if max_lengths and col in max_lengths:
                values = _within_length(col, spec, ctx, values, int(max_lengths[col]), col_rng)
            ctx.values[col] = values
        out = {col: _finish(np.asarray(ctx.values[col], dtype=object), nulls[col], str(spec.get("dtype", "object")),
                            rows.index) for col, spec in self.specs.items()}
        return pd.DataFrame(out, index=rows.index, columns=self.generated)

    @staticmethod
    def _nulls(spec: dict[str, Any], ctx: RowContext, seed: Any) -> np.ndarray:
        """Which rows of a column are missing: its null rate, per row country where one was learned."""
        rate = np.full(ctx.n, float(spec.get("null_rate", 0.0)))
        by_country = spec.get("null_by_country") or {}
        if by_country:
            codes = ctx.countries(spec.get("country_col"))
            other = float(spec.get("null_other", spec.get("null_rate", 0.0)))
            rate = np.asarray([by_country.get(c, other) for c in codes], dtype=float)
        return np.random.default_rng(int(seed)).random(ctx.n) < rate

    def _names(self, column: str, spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
        """Draw first and last names together (one gender per row); also store the partner column when it is
        generated, so a row's first and last names match."""
        first, last = draw_names(ctx.locales(spec.get("country_col")), rng)
        is_first = spec["type"] == "first_name"
        partner = spec.get("last_col" if is_first else "first_col")
        if partner and partner != column and partner in self.specs and partner not in ctx.values:
            ctx.values[partner] = apply_casing(last if is_first else first, self.specs[partner].get("casing", "as_is"))
        return first if is_first else last

    def to_dict(self) -> dict[str, Any]:
        """A plain, versioned, JSON-serialisable form of the plan."""
        return {"format": PLAN_FORMAT, "version": PLAN_VERSION, "locale": self.locale,
                "rare_threshold": self.rare_threshold, "semantic_types": dict(self.semantic_types),
                "specs": plain_json(self.specs)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SemanticPlan":
        """Rebuild a plan from :meth:`to_dict` output.

        Raises:
            SerializationError: If the data is not a plan of a supported version or is corrupt.
        """
        where = "semantic plan"
        try:
            if not isinstance(data, Mapping) or data.get("format") != PLAN_FORMAT:
                raise ValueError("missing or wrong 'format' marker")
            if data.get("version") != PLAN_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r} (this SynthoHive reads {PLAN_VERSION})")
            locale = resolve_locale(str(data["locale"]))
            types = {str(c): str(t) for c, t in dict(data["semantic_types"]).items()}
            specs = {str(c): dict(s) for c, s in dict(data["specs"]).items()}
            threshold = int(data["rare_threshold"])
            for col, spec in specs.items():
                if spec.get("type") not in SEMANTIC_TYPES or types.get(col) != spec.get("type"):
                    raise ValueError(f"column {col!r} has an unknown or inconsistent type {spec.get('type')!r}")
                rate = float(spec.get("null_rate", 0.0))
                if not (0.0 <= rate <= 1.0) or math.isnan(rate):
                    raise ValueError(f"column {col!r} has an invalid null rate {rate!r}")
            json.dumps(specs)
        except (KeyError, TypeError, ValueError, OverflowError, ConfigurationError) as exc:
            raise SerializationError(
                f"Cannot load the {where}: {exc}. The saved model is corrupt or from an incompatible version; "
                "re-fit and save it again."
            ) from exc
        return cls(locale=locale, semantic_types=types, specs=specs, rare_threshold=threshold)
