"""Detection of semantic column types (names + values), and declared-type checks."""

from __future__ import annotations

import pandas as pd
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from syntho_hive.core.semantic import (
    ALWAYS_GENERATED, SEMANTIC_TYPES, check_semantic_type, country_code, detect_semantic_type, resolve_locale,
    should_generate,
)
from syntho_hive.exceptions import ConfigurationError, SchemaError
from semantic_customers import COLS, chinook_like_customers  # tests/unit is on sys.path (its conftest)



@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return chinook_like_customers()


def test_type_constants() -> None:
    assert len(SEMANTIC_TYPES) == 20 and len(set(SEMANTIC_TYPES)) == 20
    assert ALWAYS_GENERATED < set(SEMANTIC_TYPES)
    assert {"city", "state", "country", "company", "job_title", "title", "text"}.isdisjoint(ALWAYS_GENERATED)


def test_detects_customers_table(customers: pd.DataFrame) -> None:
    expected = {"FirstName": "first_name", "LastName": "last_name", "Company": "company",
                "Address": "street_address", "City": "city", "State": "state", "Country": "country",
                "PostalCode": "postcode", "Phone": "phone_number", "Fax": "phone_number", "Email": "email"}
    assert {c: detect_semantic_type(customers[c], c) for c in COLS} == expected


@pytest.mark.parametrize("name", ["BillingCity", "BillingState", "BillingCountry", "BillingPostalCode",
                                  "BillingAddress"])
def test_detects_billing_prefixed_names(customers: pd.DataFrame, name: str) -> None:
    source = {"BillingCity": "City", "BillingState": "State", "BillingCountry": "Country",
              "BillingPostalCode": "PostalCode", "BillingAddress": "Address"}[name]
    assert detect_semantic_type(customers[source], name) == detect_semantic_type(customers[source], source)


def test_full_name_and_job_title(customers: pd.DataFrame) -> None:
    full = customers["FirstName"] + " " + customers["LastName"]
    assert detect_semantic_type(full, "customer_name") == "full_name"
    jobs = pd.Series(["General Manager", "Sales Manager", "Sales Support Agent", "IT Manager", "IT Staff"] * 2)
    assert detect_semantic_type(jobs, "Title") == "job_title"


def test_titles_and_text_from_values() -> None:
    tracks = pd.Series(["For Those About To Rock", "Balls to the Wall", "Fast As a Shark", "Restless and Wild",
                        "Princess of the Dawn", "Put The Finger On You", "Let's Get It Up", "Inject The Venom",
                        "Snowballed", "Evil Walks", "Breaking The Rules", "Night Of The Long Knives"])
    assert detect_semantic_type(tracks, "Name") == "title"
    text = pd.Series([f"This product arrived quickly and works exactly as described in the listing number {i}."
                      for i in range(20)])
    assert detect_semantic_type(text, "review") == "text"
    assert detect_semantic_type(text, "whatever") == "text"


@pytest.mark.parametrize("values,name", [
    (["N14228", "N24211", "N619DL", "N804JB", "N668DN"] * 3, "tailnum"),
    (["JFK", "LGA", "EWR"] * 5, "origin"),
    (["JFK", "LGA", "EWR"] * 5, "city"),
    (["A", "B", "C"] * 5, "State"),
    (["x1", "x2", "x3"], "Email"),
    (["1", "2", "3"], "Phone"),
])
def test_codes_are_not_semantic(values: list[str], name: str) -> None:
    assert detect_semantic_type(pd.Series(values), name) is None


@pytest.mark.parametrize("series,name", [
    (pd.Series([1, 2, 3]), "Email"),
    (pd.Series([1.5, 2.5]), "Phone"),
    (pd.Series([True, False]), "Country"),
    (pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])), "City"),
    (pd.Series([94043, 10012]), "zip"),
])
def test_non_text_columns_are_not_semantic(series: pd.Series, name: str) -> None:
    assert detect_semantic_type(series, name) is None


def test_value_only_detection() -> None:
    assert detect_semantic_type(pd.Series(["a.b@x.com", "c@y.org"] * 3), "contact") == "email"
    assert detect_semantic_type(pd.Series(["https://www.example.com", "http://foo.org/a"]), "col") == "url"
    assert detect_semantic_type(pd.Series(["8.8.8.8", "2001:4860::8888"]), "col") == "ip_address"
    assert detect_semantic_type(pd.Series(["DE89370400440532013000", "GB29NWBK60161331926819"]), "c") == "iban"
    assert detect_semantic_type(pd.Series(["4111111111111111", "5500 0000 0000 0004"]), "c") == "credit_card_number"
    assert detect_semantic_type(pd.Series(["Germany", "France", "Brazil", "Czech Republic"]), "c") == "country"


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8})?@[a-z]{2,10}\.(com|de|org)", fullmatch=True),
                min_size=3, max_size=20))
def test_any_email_values_detected(emails: list[str]) -> None:
    assert detect_semantic_type(pd.Series(emails), "col") == "email"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.from_regex(r"4[0-9]{14}", fullmatch=True), min_size=3, max_size=20))
def test_any_luhn_card_values_detected(bodies: list[str]) -> None:
    cards = [_luhn_complete(b) for b in bodies]
    assert detect_semantic_type(pd.Series(cards), "col") == "credit_card_number"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z]{1,3}[0-9]{2,5}", fullmatch=True), min_size=3, max_size=30))
def test_alphanumeric_codes_never_detected(codes: list[str]) -> None:
    assert detect_semantic_type(pd.Series(codes), "code") is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=20))
def test_integer_strings_are_not_semantic_under_neutral_names(numbers: list[int]) -> None:
    assert detect_semantic_type(pd.Series([str(v) for v in numbers]), "amount") is None


@pytest.mark.parametrize("value,code", [("USA", "US"), ("Czech Republic", "CZ"), ("United Kingdom", "GB"),
                                        ("UK", "GB"), ("Brazil", "BR"), ("de", "DE"), ("FRA", "FR"),
                                        ("Atlantis", None), (3, None)])
def test_country_code(value: object, code: str | None) -> None:
    assert country_code(value) == code


def test_check_semantic_type_errors() -> None:
    with pytest.raises(SchemaError, match=r"'Email'.*'customers'.*'email'"):
        check_semantic_type(pd.Series([1, 2, 3]), "Email", "email", table="customers")
    with pytest.raises(SchemaError, match="float64"):
        check_semantic_type(pd.Series([1.5]), "Email", "email", table="t")
    with pytest.raises(SchemaError):
        check_semantic_type(pd.Series([True]), "Email", "email", table="t")
    with pytest.raises(SchemaError):
        check_semantic_type(pd.Series(pd.to_datetime(["2020-01-01"])), "Email", "email", table="t")
    with pytest.raises(SchemaError, match="unknown semantic type 'emial'"):
        check_semantic_type(pd.Series(["a@b.com"]), "Email", "emial", table="t")
    check_semantic_type(pd.Series([94043, 10012]), "zip", "postcode", table="t")  # ZIP codes stored as integers


def test_check_semantic_type_warns_on_mismatch() -> None:
    with structlog.testing.capture_logs() as logs:
        check_semantic_type(pd.Series(["apple", "pear", "plum", "a@b.com"]), "Email", "email", table="t")
    warnings = [e for e in logs if e["event"] == "semantic_type_mismatch"]
    assert len(warnings) == 1 and warnings[0]["valid"] == 1 and warnings[0]["checked"] == 4
    with structlog.testing.capture_logs() as logs:
        check_semantic_type(pd.Series(["a@b.com", "c@d.org"]), "Email", "email", table="t")
    assert not [e for e in logs if e["event"] == "semantic_type_mismatch"]


def test_should_generate(customers: pd.DataFrame) -> None:
    assert should_generate(customers["Email"], "email", rare_threshold=1)
    assert not should_generate(customers["Country"], "country", rare_threshold=5)  # USA is frequent
    assert should_generate(customers["City"], "city", rare_threshold=5)  # no city seen 5 times
    assert should_generate(pd.Series([None, None]), "city", rare_threshold=5)


def test_resolve_locale() -> None:
    assert resolve_locale("de_DE") == "de_DE"
    assert resolve_locale("de-DE") == "de_DE"
    with pytest.raises(ConfigurationError, match=r"'de_XX'.*de_DE"):
        resolve_locale("de_XX")


def test_state_needs_real_subdivisions_not_just_the_name() -> None:
    assert detect_semantic_type(pd.Series(["CO"] * 12), "state") == "state"  # one state, still a state
    assert detect_semantic_type(pd.Series(["SP", "RJ", "CA", "ON", "Dublin", "NSW"]), "BillingState") == "state"
    assert detect_semantic_type(pd.Series(["open", "closed", "open", "pending"] * 3), "state") is None  # an order's
    assert detect_semantic_type(pd.Series(["North", "South", "East", "West"] * 3), "region") is None  # sales regions
