"""PrivacyConfig validation, resolution, and the prepare -> fit -> restore round trip of a real-looking
customers table: no real value of a personal column reaches the model, the output or the saved plan."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_customers import chinook_like_customers  # tests/unit is on sys.path
from syntho_hive.core.semantic.validators import is_email
from syntho_hive.exceptions import ConfigurationError, NotFittedError, PrivacyError, SerializationError
from syntho_hive.privacy import (
    PrivacyConfig, TablePrivacyPlan, check_privacy_config, key_id, pseudonymize, resolve_privacy,
)

SECRET = "correct horse battery staple"
PII = ["FirstName", "LastName", "Address", "PostalCode", "Phone", "Fax", "Email"]


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    frame = chinook_like_customers()
    frame.insert(0, "CustomerId", np.arange(1, len(frame) + 1) * 7)
    frame["BirthDate"] = pd.to_datetime("1950-01-01") + pd.to_timedelta(np.arange(len(frame)) * 397, unit="D")
    return frame


@pytest.fixture(scope="module")
def config() -> PrivacyConfig:
    return PrivacyConfig(actions={"customers.CustomerId": "hash", "Company": "drop", "Email": "mask"},
                         secret=SECRET, custom={"BirthDate": lambda s: s.dt.year})


@pytest.fixture(scope="module")
def plan(config: PrivacyConfig, customers: pd.DataFrame) -> TablePrivacyPlan:
    return resolve_privacy(config, customers, "customers").fit(customers)


def _real_strings(frame: pd.DataFrame, columns: list[str]) -> set[str]:
    return {str(v).strip() for c in columns for v in frame[c].dropna()}


# -- config ----------------------------------------------------------------------------------------------
def test_hash_without_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"'hash'.*\['Email'\].*secret"):
        PrivacyConfig(actions={"Email": "hash"})


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"actions": {"Email": "scramble"}}, "actions.Email"),
    ({"detect": "yes"}, "detect"),
    ({"locale": "xx_YY"}, "locale"),
    ({"mask_char": "ab"}, "mask_char"),
    ({"mask_keep": -1}, "mask_keep"),
    ({"secret": ""}, "empty"),
    ({"custom": {"dob": "year"}}, "callable"),
    ({"custom": {"dob": len}, "actions": {"dob": "drop"}}, "custom transform but the action"),
    ({"unknown": 1}, "unknown"),
])
def test_config_errors_are_typed_and_name_the_problem(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        PrivacyConfig(**kwargs)


def test_config_json_round_trip_never_holds_the_secret(config: PrivacyConfig) -> None:
    data = json.loads(json.dumps(config.to_dict()))
    assert SECRET not in json.dumps(data) and "secret" not in data
    assert data["key_id"] == key_id(SECRET) and data["custom_columns"] == ["BirthDate"]
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump())
    again = PrivacyConfig.from_dict(data, secret=SECRET, custom={"BirthDate": lambda s: s.dt.year})
    assert again.to_dict() == config.to_dict()
    with pytest.raises(ConfigurationError, match="secret"):
        PrivacyConfig.from_dict(data)  # hashing columns needs the secret
    with pytest.raises(ConfigurationError, match="does not match"):
        PrivacyConfig.from_dict(data, secret="another secret")
    with pytest.raises(SerializationError):
        PrivacyConfig.from_dict({**data, "version": 99}, secret=SECRET)


def test_table_column_key_wins_over_bare_column() -> None:
    cfg = PrivacyConfig(actions={"Email": "drop", "orders.Email": "keep"})
    assert cfg.action_for("Email", "orders") == "keep" and cfg.action_for("Email", "customers") == "drop"


# -- resolution ------------------------------------------------------------------------------------------
def test_resolution_applies_detection_defaults_and_config(plan: TablePrivacyPlan) -> None:
    actions = {c: d.action for c, d in plan.decisions.items()}
    assert actions == {"CustomerId": "hash", "FirstName": "fake", "LastName": "fake", "Company": "drop",
                       "Address": "fake", "City": "keep", "PostalCode": "fake", "Phone": "fake", "Fax": "fake",
                       "Email": "mask", "BirthDate": "custom"}
    assert plan.decisions["Phone"].source == "detected" and plan.decisions["Email"].source == "config"
    assert plan.pii_columns == ["CustomerId", "FirstName", "LastName", "Company", "Address", "PostalCode",
                                "Phone", "Fax", "Email"]


def test_every_problem_is_reported_before_any_work(customers: pd.DataFrame) -> None:
    cfg = PrivacyConfig(actions={"customers.Emial": "drop", "Company": "fake", "CustomerId": "custom",
                                 "customers.Phone": "keep"}, detect=False)
    with pytest.raises(ConfigurationError) as caught:
        resolve_privacy(cfg, customers, "customers")
    assert "'customers.Emial'" in str(caught.value)
    cfg = PrivacyConfig(actions={"Company": "fake", "CustomerId": "custom"}, detect=False)
    with pytest.raises(ConfigurationError) as caught:
        resolve_privacy(cfg, customers.assign(Company=range(len(customers))), "customers")
    message = str(caught.value)
    assert "'Company'" in message and "no semantic type" in message and "'CustomerId'" in message
    with pytest.raises(ConfigurationError, match="'Nope'"):
        resolve_privacy(PrivacyConfig(actions={"Nope": "drop"}), customers)  # a lone frame: every key is its own
    with pytest.raises(ConfigurationError, match=r"'orders.Total'"):
        check_privacy_config(PrivacyConfig(actions={"orders.Total": "drop", "Email": "drop"}),
                             {"customers": list(customers.columns), "orders": ["OrderId"]})


def test_detection_off_touches_only_named_columns(customers: pd.DataFrame) -> None:
    plan = resolve_privacy(PrivacyConfig(actions={"Email": "fake"}, detect=False), customers, "customers")
    assert plan.pii_columns == ["Email"] and plan.decisions["Email"].semantic_type == "email"


def test_declared_types_win_over_detection(customers: pd.DataFrame) -> None:
    plan = resolve_privacy(PrivacyConfig(), customers, "customers",
                           declared_semantic_types={"Phone": None, "Company": "full_name"})
    assert "Phone" not in plan.decisions
    assert plan.decisions["Company"].action == "fake" and plan.decisions["Company"].source == "declared"


# -- prepare / restore -----------------------------------------------------------------------------------
def test_prepare_removes_or_transforms_every_personal_value(plan: TablePrivacyPlan, customers: pd.DataFrame) -> None:
    prepared = plan.prepare(customers)
    assert list(prepared.columns) == ["CustomerId", "City", "State", "Country", "BirthDate"]
    assert prepared["BirthDate"].tolist() == customers["BirthDate"].dt.year.tolist()
    assert not set(prepared["CustomerId"]) & set(customers["CustomerId"])
    assert prepared["CustomerId"].dtype == "Int64" and prepared["CustomerId"].is_unique
    leaked = _real_strings(customers, PII + ["Company"]) & {str(v) for c in prepared for v in prepared[c]}
    assert leaked == set()


def test_restore_regenerates_in_order_and_is_seeded(plan: TablePrivacyPlan, customers: pd.DataFrame) -> None:
    model_rows = plan.prepare(customers).sample(frac=1.0, random_state=0).reset_index(drop=True)
    out = plan.restore(model_rows, seed=11)
    assert list(out.columns) == [c for c in customers.columns if c != "Company"]
    assert out.equals(plan.restore(model_rows, seed=11))
    assert not out.equals(plan.restore(model_rows, seed=12))
    # Common first or last names may come up again by chance; a real person's name, address or number may not.
    for column in ("Address", "Phone", "Fax"):
        assert _real_strings(customers, [column]) & _real_strings(out, [column]) == set()
    pairs = set(zip(customers["FirstName"], customers["LastName"]))
    assert pairs & set(zip(out["FirstName"], out["LastName"])) == set()
    masked = out["Email"].dropna()
    # Each run of letters/digits shows its first character; '@', '.', '_' and the top-level domain stay.
    assert masked.str.fullmatch(r"([a-z0-9]\**[._-]?)+@([a-z0-9]\**\.)+[a-z]{2,}").all()
    assert not masked.map(is_email).any() and masked.str.count(r"\*").min() >= 4
    assert out["FirstName"].notna().all()
    usa = out["Country"] == "USA"
    assert out.loc[usa, "Phone"].str.startswith("+1").all()


def test_plan_json_has_no_real_value_and_round_trips(plan: TablePrivacyPlan, customers: pd.DataFrame) -> None:
    text = json.dumps(plan.to_dict())
    assert SECRET not in text
    real = _real_strings(customers, PII + ["Company"]) | {str(v) for v in customers["CustomerId"]}
    assert [v for v in real if f'"{v}"' in text] == []
    loaded = TablePrivacyPlan.from_dict(json.loads(text))
    rows = plan.prepare(customers)
    assert loaded.restore(rows, seed=3).equals(plan.restore(rows, seed=3))
    assert loaded.pii_columns == plan.pii_columns
    with pytest.raises(PrivacyError, match="no secret"):
        loaded.prepare(customers)
    with pytest.raises(ConfigurationError, match="does not match"):
        TablePrivacyPlan.from_dict(json.loads(text), secret="wrong")
    resumed = TablePrivacyPlan.from_dict(json.loads(text), secret=SECRET, custom={"BirthDate": lambda s: s.dt.year})
    assert resumed.prepare(customers).equals(rows)


@pytest.mark.parametrize("corrupt", [{}, {"format": "syntho_hive.privacy_plan", "version": 2}, "nonsense",
                                     {"format": "syntho_hive.privacy_plan", "version": 1, "columns": []}])
def test_from_dict_rejects_corrupt_input(corrupt: object) -> None:
    with pytest.raises(SerializationError):
        TablePrivacyPlan.from_dict(corrupt)  # type: ignore[arg-type]


def test_restore_needs_fit(config: PrivacyConfig, customers: pd.DataFrame) -> None:
    plan = resolve_privacy(config, customers, "customers")
    with pytest.raises(NotFittedError):
        plan.restore(plan.prepare(customers), seed=0)


def test_custom_transform_errors_name_the_column(customers: pd.DataFrame) -> None:
    plan = resolve_privacy(PrivacyConfig(custom={"City": lambda s: s.head(2)}, detect=False), customers)
    with pytest.raises(ConfigurationError, match="'City'.*2 values for 42 rows"):
        plan.prepare(customers)


# -- pseudonyms ------------------------------------------------------------------------------------------
def test_same_key_same_pseudonym_in_two_tables(config: PrivacyConfig, customers: pd.DataFrame) -> None:
    keys = customers["CustomerId"].iloc[[3, 3, 0, 9]].to_numpy()
    invoices = pd.DataFrame({"InvoiceId": [1, 2, 3, 4], "CustomerId": keys, "Total": [1.98, 3.96, 5.94, 0.99]})
    customer_plan = resolve_privacy(config, customers, "customers")
    invoice_plan = resolve_privacy(PrivacyConfig(actions={"CustomerId": "hash"}, secret=SECRET), invoices, "invoices")
    parents = customer_plan.prepare(customers)["CustomerId"]
    children = invoice_plan.prepare(invoices)["CustomerId"]
    assert children.tolist() == parents.iloc[[3, 3, 0, 9]].tolist()  # the hashed key still joins
    strings = pseudonymize(pd.Series(["C-1", None, "C-1"]), SECRET)
    assert strings[0] == strings[2] and strings[1] is None and len(strings[0]) == 24


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.text(max_size=12), st.integers(-10**12, 10**12)), min_size=1, max_size=40,
                       unique_by=lambda v: (type(v), v)),
       secret=st.binary(min_size=1, max_size=32))
def test_pseudonymize_is_deterministic_secret_dependent_and_collision_free(values: list, secret: bytes) -> None:
    first = [pseudonymize(v, secret) for v in values]
    assert first == [pseudonymize(v, secret) for v in values]
    other = [pseudonymize(v, secret + b"!") for v in values]
    assert all(a != b for a, b in zip(first, other))
    by_type = {}
    for value, token in zip(values, first):
        by_type.setdefault(type(value), set()).add(token)
    assert sum(len(t) for t in by_type.values()) == len(values)
    assert all(isinstance(t, int) and 0 <= t < 2**62 if isinstance(v, int) else len(t) == 24
               for v, t in zip(values, first))


def test_pseudonymize_refuses_measurements() -> None:
    with pytest.raises(ConfigurationError, match="float"):
        pseudonymize(1.5, SECRET)
    with pytest.raises(ConfigurationError, match="boolean"):
        pseudonymize(pd.Series([True, False]), SECRET)


def test_fake_national_ids_and_birth_dates_follow_the_row_country_and_learned_spans() -> None:
    from syntho_hive.core.semantic.national_ids import draw_national_id, id_schemes_of

    rng = np.random.default_rng(5)
    countries = ["Netherlands", "Brazil", "France"] * 20
    scheme = {"Netherlands": "nl.bsn", "Brazil": "br.cpf", "France": "fr.nir"}
    real = pd.DataFrame({
        "country": countries,
        "national_id": [draw_national_id(scheme[c], rng, formatted=True) for c in countries],
        "dob": pd.to_datetime("1970-01-01") + pd.to_timedelta(rng.integers(0, 3650, 60), unit="D"),
    })
    plan = resolve_privacy(PrivacyConfig(), real, "people").fit(real)
    assert {c: d.action for c, d in plan.decisions.items()} == {"national_id": "fake", "dob": "fake"}
    prepared = plan.prepare(real)
    assert list(prepared.columns) == ["country"]
    out = plan.restore(prepared, seed=2)
    assert list(out.columns) == ["country", "national_id", "dob"]
    assert all(scheme[c] in id_schemes_of(v) for c, v in zip(out["country"], out["national_id"]))
    assert not set(out["national_id"]) & set(real["national_id"])
    assert out["dob"].dtype == real["dob"].dtype and out["dob"].dt.year.between(1970, 1979).all()
    assert "1970" in json.dumps(plan.to_dict()) and str(real["dob"].iloc[0].date()) not in json.dumps(plan.to_dict())


def _ssns(n: int) -> list[str]:
    """Distinct, valid-looking US SSNs (area 100-665, no 000 group or 0000 serial)."""
    return [f"{100 + i % 500:03d}-{10 + i % 80:02d}-{1000 + i:04d}" for i in range(n)]


def test_formats_held_by_fewer_than_rare_threshold_rows_are_not_kept() -> None:
    import phonenumbers

    from syntho_hive.core.semantic.national_ids import id_schemes_of

    n = 60
    real = pd.DataFrame({"phone": [f"+1 415 555 {i:04d}" for i in range(n)], "ssn": _ssns(n),
                         "age": np.arange(n) % 50 + 20})
    real.loc[3, "phone"] = "+44 20 7946 0018"  # the only UK number
    real.loc[4, "ssn"] = "1 85 05 78 006 084 91"  # the only French NIR (valid check digits)
    assert "fr.nir" in id_schemes_of(real.loc[4, "ssn"])
    config = PrivacyConfig(actions={"phone": "fake", "ssn": "fake"})
    plan = resolve_privacy(config, real, "people").fit(real)
    saved = json.dumps(plan.to_dict())
    assert '"+44"' not in saved and "fr.nir" not in saved
    assert '"+1"' in saved and "us.ssn" in saved  # the frequent format is kept
    out = plan.restore(plan.prepare(real), seed=1)
    assert not out["phone"].str.startswith("+44").any()
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p, "US")) for p in out["phone"])
    assert all("us.ssn" in id_schemes_of(v) for v in out["ssn"])


def test_a_column_whose_every_format_is_rare_still_generates_valid_values() -> None:
    import phonenumbers

    from syntho_hive.core.semantic.national_ids import id_schemes_of

    real = pd.DataFrame({"phone": ["+44 20 7946 0018", "+33 1 42 68 53 00", "+49 30 901820"],
                         "ssn": ["1 85 05 78 006 084 91", *_ssns(2)], "age": [30, 40, 50]})
    config = PrivacyConfig(actions={"phone": "fake", "ssn": "fake"})
    plan = resolve_privacy(config, real, "people").fit(real)
    saved = json.dumps(plan.to_dict())
    assert '"+44"' not in saved and '"+33"' not in saved and "fr.nir" not in saved and "us.ssn" not in saved
    out = plan.restore(plan.prepare(real), seed=1)
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p, "US")) for p in out["phone"])
    assert all(id_schemes_of(v) for v in out["ssn"])  # the default scheme (no country column: US SSN)


@pytest.mark.parametrize(("field", "bad"), [("mask_keep", float("inf")), ("rare_threshold", float("inf")),
                                            ("mask_keep", 1.5), ("mask_keep", -1), ("mask_keep", True),
                                            ("rare_threshold", 0), ("mask_char", None), ("mask_char", "ab"),
                                            ("table", None)])
def test_stored_plan_fields_of_the_wrong_type_are_a_serialization_error(plan: TablePrivacyPlan, field: str,
                                                                        bad: object) -> None:
    """Content matching its checksums but corrupt: Infinity was a raw OverflowError, the rest loaded
    (``mask_char: null`` masked with the text 'None')."""
    data = json.loads(json.dumps(plan.to_dict()))
    data[field] = bad
    with pytest.raises(SerializationError, match="privacy plan"):
        TablePrivacyPlan.from_dict(data)
