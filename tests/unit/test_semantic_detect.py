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

# A Chinook-like customers table: mixed countries, nulls, several phone formats.
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


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=COLS)


def test_type_constants() -> None:
    assert len(SEMANTIC_TYPES) == 18 and len(set(SEMANTIC_TYPES)) == 18
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
