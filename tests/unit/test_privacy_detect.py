"""Personal-data detection: every validator on valid and invalid examples, names in seven languages,
and no false alarm on ordinary business columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pii_examples import INVALID, VALID, international_phones, national_phones  # tests/unit is on sys.path
from semantic_customers import chinook_like_customers
from syntho_hive.core.semantic.detect import VALUE_CHECKS
from syntho_hive.core.semantic.national_ids import ID_SCHEMES, draw_national_id, id_schemes_of
from syntho_hive.core.semantic.naming import name_hints
from syntho_hive.exceptions import ConfigurationError
from syntho_hive.privacy import detect_pii
from syntho_hive.core.privacy.detection import is_valid_phone


@pytest.mark.parametrize("kind", sorted(VALID))
def test_validators_accept_valid_and_refuse_invalid_examples(kind: str) -> None:
    check = VALUE_CHECKS[kind] if kind != "national_id" else (lambda v: bool(id_schemes_of(v, strong_only=True)))
    assert [v for v in VALID[kind] if kind != "national_id" or v != "111222333" if not check(v)] == []
    assert [v for v in INVALID[kind] if check(v)] == []


def test_each_national_scheme_checks_its_digits() -> None:
    expected = {"536-90-4399": "us.ssn", "390.533.447-05": "br.cpf", "295109912611193": "fr.nir",
                "36 574 261 809": "de.idnr", "54362315K": "es.dni", "X2482300W": "es.nie",
                "RCCMNL83S18D969H": "it.codicefiscale", "44051401359": "pl.pesel", "880320-0016": "se.personnummer",
                "123-456-782": "ca.sin", "2341 2341 2346": "in.aadhaar", "AB 12 34 56 C": "gb.nino",
                "756.9217.0769.85": "ch.ahv", "111222333": "nl.bsn"}
    for value, scheme in expected.items():
        assert scheme in id_schemes_of(value), value
    # One digit changed: the check digit (or the letter key) fails.
    for value in INVALID["national_id"]:
        assert id_schemes_of(value, strong_only=True) == (), value


@pytest.mark.parametrize("scheme", sorted(ID_SCHEMES))
def test_generated_national_ids_are_valid_in_their_scheme(scheme: str) -> None:
    rng = np.random.default_rng(7)
    values = [draw_national_id(scheme, rng, formatted=i % 2 == 0) for i in range(40)]
    assert all(scheme in id_schemes_of(v) for v in values)
    assert len(set(values)) > 30


def test_phone_numbers_of_twelve_countries() -> None:
    assert all(is_valid_phone(p, None) for p in international_phones())
    assert all(is_valid_phone(p, region) for p, region in national_phones())
    for bad in ("+1 000-000-0000", "+49 123", "12345", "ORD-1234567", "2024-01-15", "+44 99 1234 5678"):
        assert not is_valid_phone(bad, "US"), bad


@pytest.mark.parametrize(("column", "expected"), [
    ("Vorname", "first_name"), ("Nachname", "last_name"), ("prénom", "first_name"), ("apellidos", "last_name"),
    ("cognome", "last_name"), ("voornaam", "first_name"), ("sobrenome", "last_name"), ("courriel", "email"),
    ("correo_electronico", "email"), ("Telefonnummer", "phone_number"), ("telefono", "phone_number"),
    ("telefoon", "phone_number"), ("Straße", "street_address"), ("direccion", "street_address"),
    ("indirizzo", "street_address"), ("Wohnort", "city"), ("ville", "city"), ("PLZ", "postcode"),
    ("código_postal", "postcode"), ("code_postal", "postcode"), ("Geburtsdatum", "date_of_birth"),
    ("fecha_de_nacimiento", "date_of_birth"), ("data_di_nascita", "date_of_birth"),
    ("geboortedatum", "date_of_birth"), ("CustomerSSN", "national_id"), ("codice_fiscale", "national_id"),
    ("Steuer-ID", "national_id"), ("kreditkartennummer", "credit_card_number"), ("IBAN", "iban"),
    ("ip_adresse", "ip_address"),
])
def test_multilingual_column_names(column: str, expected: str) -> None:
    assert name_hints(column)[0] == expected


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    ids = [draw_national_id("nl.bsn", rng, formatted=False) for _ in range(n)]
    return pd.DataFrame({
        "klant_id": np.arange(1, n + 1),
        "bsn": ids,
        "contact": [f"user{i}@example.com" for i in range(n)],
        "mobile": [international_phones()[i % 12] for i in range(n)],
        "account": [VALID["iban"][i % 5] for i in range(n)],
        "payment": [VALID["credit_card_number"][i % 6].replace(" ", "") for i in range(n)],
        "last_login_ip": [f"81.2.{i}.{i + 1}" for i in range(n)],
        "geburtsdatum": pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 15000, n), unit="D"),
        "status": rng.choice(["shipped", "pending", "cancelled", "returned"], n),
        "product_code": [f"SKU-{int(x):05d}" for x in rng.integers(0, 99999, n)],
        "ref": rng.integers(900_000_000, 999_999_999, n),  # 9 digits, area 9xx: never an SSN
        "amount": rng.normal(100, 20, n).round(2),
        "colour": rng.choice(["red", "green", "blue"], n),
        "signup": pd.date_range("2020-01-01", periods=n, freq="D"),
        "email": np.arange(n),  # the name says e-mail, the values do not agree
    })


def test_detects_each_type_and_says_why(people: pd.DataFrame) -> None:
    report = detect_pii(people, "klanten")
    found = {f.column: (f.semantic_type, f.reason) for f in report.findings}
    assert found == {
        "bsn": ("national_id", "name+values"), "contact": ("email", "values"),
        "mobile": ("phone_number", "name+values"), "account": ("iban", "values"),
        "payment": ("credit_card_number", "values"), "last_login_ip": ("ip_address", "name+values"),
        "geburtsdatum": ("date_of_birth", "name+values"),
    }
    assert all(f.share == 1.0 and f.sample_size == len(people) for f in report.findings)
    assert [(r.column, r.semantic_type) for r in report.rejected] == [("email", "email")]
    assert report.rejected[0].share == 0.0
    text = str(report)
    assert "bsn: national_id by name+values (100% of 60 values valid) -> fake" in text
    assert report.to_dict()["findings"][0]["column"] == "bsn"


def test_no_false_alarm_on_business_columns(people: pd.DataFrame) -> None:
    report = detect_pii(people)
    assert not {"klant_id", "status", "product_code", "ref", "amount", "colour", "signup"} & set(report.columns)


def test_random_integers_and_digit_strings_are_not_identifiers() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "n9": rng.integers(100_000_000, 999_999_999, 500), "n11": rng.integers(10**10, 10**11 - 1, 500),
        "n16": rng.integers(10**15, 10**16 - 1, 500), "s9": [str(v) for v in rng.integers(10**8, 10**9, 500)],
        "order_id": np.arange(500), "zip_like": [f"{v:05d}" for v in rng.integers(0, 99999, 500)],
    })
    assert detect_pii(frame).findings == []


def test_a_personal_name_decides_with_the_share_it_reports() -> None:
    """A name-matched finding reports the share of the check that decided it (it used to be a finding at
    "0% of 200 values valid"). Local phone numbers without an area code cannot be validated but look like
    phone numbers: under a phone name they are personal data (privacy first); values that do not look like
    phone numbers are rejected with their share."""
    rng = np.random.default_rng(0)
    digits = [str(v) for v in rng.integers(1_000_000, 9_999_999, 200)]
    frame = pd.DataFrame({"phone": digits, "telefono": digits[::-1],
                          "mobile": [f"+1 212 555 {i:04d}" for i in range(200)],
                          "phone_note": [["call after 5", "no answer", "n/a", "busy"][i % 4] for i in range(200)]})
    report = detect_pii(frame)
    assert sorted(report.columns) == ["mobile", "phone", "telefono"]
    assert {report[c].share for c in ("mobile", "phone", "telefono")} == {1.0}
    assert "phone_note" not in report.columns
    for finding in report.findings:  # every name-matched finding holds the agreeing share it reports
        assert finding.reason != "name+values" or finding.share >= 0.8


def test_date_of_birth_only_where_the_name_says_so() -> None:
    dates = pd.Series(pd.date_range("1970-01-01", periods=30, freq="90D"))
    text_dates = dates.dt.strftime("%d.%m.%Y")
    frame = pd.DataFrame({"created": dates, "date_of_birth": dates, "geboren_text": text_dates,
                          "fecha_nacimiento": text_dates})
    report = detect_pii(frame)
    assert report.columns == ["date_of_birth", "fecha_nacimiento"]


def test_customers_table_in_every_country() -> None:
    report = detect_pii(chinook_like_customers(), "customers")
    assert {f.column: f.semantic_type for f in report.findings} == {
        "FirstName": "first_name", "LastName": "last_name", "Address": "street_address", "City": "city",
        "PostalCode": "postcode", "Phone": "phone_number", "Fax": "phone_number", "Email": "email"}
    assert report["Phone"].share == 1.0  # national and international numbers of 12 countries, all valid
    assert report["City"].default_action == "keep" and report["Email"].default_action == "fake"


def test_name_only_when_no_value_can_be_checked() -> None:
    report = detect_pii(pd.DataFrame({"telefono": [None, None], "x": [1, 2]}))
    assert [(f.column, f.reason, f.share, f.sample_size) for f in report.findings] == [("telefono", "name", None, 0)]


def test_sampling_is_seeded_and_bad_arguments_are_refused() -> None:
    frame = pd.DataFrame({"email": [f"a{i}@example.com" for i in range(300)]})
    assert detect_pii(frame, sample_rows=50, seed=1).to_dict() == detect_pii(frame, sample_rows=50, seed=1).to_dict()
    assert detect_pii(frame, sample_rows=50).sampled == 50
    with pytest.raises(ConfigurationError, match="sample_rows"):
        detect_pii(frame, sample_rows=0)
    with pytest.raises(ConfigurationError, match="DataFrame"):
        detect_pii(frame["email"])  # type: ignore[arg-type]
