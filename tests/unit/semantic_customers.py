"""A Chinook-shaped customers table for the semantic tests, built from the bundled sales data.

42 customers of ``syntho_hive.datasets.load_sales()`` (invented people in real places), taken country by
country, in CamelCase column names, with Chinook-style notations mixed in: ``USA`` and ``Czech Republic``
for two countries, phone numbers in three formats, a ``Fax`` for customers with a company, a city with a
trailing space, and a missing state outside the US, Canada, Australia and Brazil.
"""

from __future__ import annotations

import pandas as pd
import phonenumbers

from syntho_hive.core.semantic import country_code
from syntho_hive.datasets.sales import load_sales

COLS = ["FirstName", "LastName", "Company", "Address", "City", "State", "Country", "PostalCode", "Phone", "Fax",
        "Email"]
#: Country -> ISO region, for the notations the table uses.
REGION = {"USA": "US", "Canada": "CA", "Brazil": "BR", "Germany": "DE", "France": "FR", "United Kingdom": "GB",
          "Czech Republic": "CZ", "Portugal": "PT", "India": "IN", "Australia": "AU", "The Netherlands": "NL",
          "Spain": "ES", "Italy": "IT"}
_PER_COUNTRY = {"United States": 10, "Canada": 5, "Brazil": 5, "France": 4, "United Kingdom": 3, "Germany": 5,
                "Czechia": 3, "Portugal": 2, "India": 2, "Australia": 1, "The Netherlands": 1, "Spain": 1}
_FORMATS = (phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164)


def _phone(value: str, country: str, row: int) -> str:
    if row % 3 == 2:
        return value  # the bundled notation, "+1 403-262-3443"
    number = phonenumbers.parse(value, country_code(country))
    return phonenumbers.format_number(number, _FORMATS[row % 3])


def chinook_like_customers() -> pd.DataFrame:
    """The 42-row table (a new frame on every call)."""
    sales = load_sales()["customers"]
    picked = pd.concat([sales[sales["country"] == country].head(n) for country, n in _PER_COUNTRY.items()],
                       ignore_index=True)
    out = pd.DataFrame({
        "FirstName": picked["first_name"], "LastName": picked["last_name"], "Company": picked["company"],
        "Address": picked["address"], "City": picked["city"], "State": picked["state"],
        "Country": picked["country"].replace({"United States": "USA", "Czechia": "Czech Republic"}),
        "PostalCode": picked["postal_code"],
        "Phone": [_phone(p, c, i) for i, (p, c) in enumerate(zip(picked["phone"], picked["country"]))],
        "Email": picked["email"],
    })
    out["Fax"] = out["Phone"].where(out["Company"].notna(), None)
    out.loc[len(out) - 1, "City"] = f"{out.loc[len(out) - 1, 'City']} "
    return out[COLS]
