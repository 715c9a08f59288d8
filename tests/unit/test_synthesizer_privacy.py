"""Synthesizer(privacy_config=...): personal columns never reach a model or a saved file, and come back
generated (fake), masked, pseudonymised (hash) or not at all (drop)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pytest

from syntho_hive.core.semantic.validators import is_email
from syntho_hive.datasets import load_sales, sales_metadata
from syntho_hive.exceptions import ConfigurationError, PrivacyError
from syntho_hive.interface.synthesizer import Synthesizer
from syntho_hive.privacy import PrivacyConfig, pseudonymize

SECRET = "test-secret-0123456789"
CONFIG = PrivacyConfig(secret=SECRET, actions={"customers.company": "hash", "employees.email": "mask",
                                               "suppliers.phone": "drop"})


@pytest.fixture(scope="module")
def sales() -> dict[str, pd.DataFrame]:
    return load_sales()


@pytest.fixture(scope="module")
def fitted(sales: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> tuple[Synthesizer, Path]:
    synth = Synthesizer(sales_metadata(), privacy_config=CONFIG, seed=0, epochs=2)
    synth.fit(sales, progress_bar=False, n_jobs=1)
    return synth, synth.save(tmp_path_factory.mktemp("privacy") / "synth")


def _protected(synth: Synthesizer) -> dict[tuple[str, str], str]:
    return {(table, column): decision["action"] for table, columns in synth.privacy_report_.items()
            for column, decision in columns.items() if decision["action"] in ("fake", "mask", "drop", "hash")}


def test_detection_decides_the_personal_columns_of_every_table(fitted: tuple[Synthesizer, Path]) -> None:
    protected = _protected(fitted[0])
    for column in ("first_name", "last_name", "email", "phone", "address", "postal_code"):
        assert protected[("customers", column)] == "fake"
    assert protected[("customers", "company")] == "hash"
    assert protected[("employees", "email")] == "mask"
    assert protected[("suppliers", "phone")] == "drop"
    assert protected[("invoices", "billing_address")] == "fake"
    assert ("products", "name") not in protected  # a product title is not personal
    report = fitted[0].privacy_report_["customers"]["email"]
    assert report["source"] == "detected" and "values" in report["reason"]


def test_no_real_personal_value_is_in_any_saved_file(sales: dict[str, pd.DataFrame],
                                                      fitted: tuple[Synthesizer, Path]) -> None:
    synth, directory = fitted
    files = [p for p in directory.rglob("*") if p.is_file()]
    text = "\n".join(p.read_text("utf-8", errors="replace") for p in files)
    raw = b"".join(p.read_bytes() for p in files)
    assert SECRET not in text
    protected = _protected(synth)
    # A first name that is also a city ("Austin"), kept in a modelled column, may be stored as the city.
    public = {str(v) for table, frame in sales.items() for column in frame.columns
              if (table, column) not in protected for v in frame[column].dropna().unique()}
    checked = 0
    for (table, column), _ in protected.items():
        for value in set(sales[table][column].dropna().astype(str)) - public:
            checked += 1
            # As a JSON string anywhere, and as raw bytes (weights, pickles) when long enough to be unique.
            assert f'"{value}"' not in text, (table, column, value)
            if len(value) >= 8:
                assert value.encode() not in raw, (table, column, value)
    assert checked > 3000


def test_generated_values_are_valid_and_masked_pseudonymised_or_dropped(sales: dict[str, pd.DataFrame],
                                                                         fitted: tuple[Synthesizer, Path]) -> None:
    synth = fitted[0]
    out = synth.sample(seed=3)
    customers = out["customers"]
    assert list(customers.columns) == list(sales["customers"].columns)
    emails = customers["email"].dropna()
    assert len(emails) and all(is_email(v) for v in emails)
    # Generated from names and domains, never from the real column: a short common one (jruiz@gmail.com) can
    # match a real one by chance, no more often than that.
    assert len(set(emails) & set(sales["customers"]["email"])) <= 0.005 * len(emails)
    phones = customers["phone"].dropna()
    assert np.mean([phonenumbers.is_valid_number(phonenumbers.parse(p, None)) for p in phones]) == 1.0
    companies = customers["company"].dropna()  # the model saw 24-hex pseudonyms only (each company is rare)
    assert len(companies) and companies.str.fullmatch(r"[0-9a-f]{24}").all()
    assert not set(companies) & set(sales["customers"]["company"])
    masked = out["employees"]["email"].dropna()
    assert all(re.fullmatch(r"[^@*]\**(\.[^@*]\**)*@[^@*]\**(\.[^@*]\**)*\.[a-z]+", v) for v in masked), masked.tolist()
    assert "phone" not in out["suppliers"].columns
    # Foreign keys still join: every invoice's customer exists.
    assert out["invoices"]["customer_id"].isin(customers["customer_id"]).all()


def test_the_same_seed_gives_the_same_tables_after_save_and_load(fitted: tuple[Synthesizer, Path]) -> None:
    synth, directory = fitted
    loaded = Synthesizer.load(directory)
    first, again, reloaded = synth.sample(seed=5), synth.sample(seed=5), loaded.sample(seed=5)
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name])
        pd.testing.assert_frame_equal(first[name], reloaded[name])
    assert loaded.privacy_report_ == synth.privacy_report_
    with pytest.raises(PrivacyError, match="privacy config"):  # refitting would train on personal columns
        loaded.fit(load_sales(), progress_bar=False)


def test_the_same_key_gets_the_same_pseudonym_in_every_table() -> None:
    from syntho_hive.core.metadata import Metadata

    rng = np.random.default_rng(0)
    refs = [f"CRM-{i:05d}" for i in rng.integers(0, 40, 200)]
    accounts = pd.DataFrame({"account_id": range(200), "crm_ref": refs, "balance": rng.normal(100, 20, 200)})
    tickets = pd.DataFrame({"ticket_id": range(300), "account_id": rng.integers(0, 200, 300),
                            "crm_ref": [refs[i] for i in rng.integers(0, 200, 300)]})
    md = Metadata()
    md.add_table("accounts", pk="account_id")
    md.add_table("tickets", pk="ticket_id", fk={"account_id": "accounts.account_id"})
    synth = Synthesizer(md, privacy_config=PrivacyConfig(secret=SECRET, detect=False, actions={"crm_ref": "hash"}),
                        seed=1, epochs=1)
    out = synth.fit({"accounts": accounts, "tickets": tickets}, progress_bar=False, n_jobs=1).sample(seed=2)
    mapping = dict(zip(refs, pseudonymize(pd.Series(refs), SECRET)))
    assert set(out["accounts"]["crm_ref"]) | set(out["tickets"]["crm_ref"]) <= set(mapping.values())
    assert not set(out["tickets"]["crm_ref"]) & set(refs)


def test_bad_privacy_configs_fail_before_any_work(sales: dict[str, pd.DataFrame]) -> None:
    metadata = sales_metadata()
    cases = [
        (PrivacyConfig(actions={"customers.Email": "drop"}), "no table has"),
        (PrivacyConfig(actions={"customers.customer_id": "drop"}), "key columns"),
    ]
    for config, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            Synthesizer(metadata, privacy_config=config, epochs=1).fit(sales, progress_bar=False)
    with pytest.raises(ConfigurationError, match="secret"):
        PrivacyConfig(actions={"customers.company": "hash"})
    contextual = sales_metadata()
    contextual.tables["invoices"].parent_context_cols = ["email"]
    with pytest.raises(ConfigurationError, match="parent context column 'email'"):
        Synthesizer(contextual, privacy_config=PrivacyConfig(), epochs=1).fit(sales, progress_bar=False)


def test_the_privacy_gate_measures_the_sample_against_the_real_tables(sales: dict[str, pd.DataFrame],
                                                                      fitted: tuple[Synthesizer, Path]) -> None:
    synth = fitted[0]
    tables = synth.sample(seed=7, privacy_threshold={"max_exact_copy_rate": 0.99, "max_pii_leaks": 0},
                          real_data=sales)
    assert set(tables) == set(sales)
    with pytest.raises(PrivacyError) as caught:  # invoice lines repeat real (price, quantity) pairs
        synth.sample(seed=7, privacy_threshold={"max_exact_copy_rate": 0.0}, real_data=sales)
    assert caught.value.failures and all(value > limit for value, limit in caught.value.failures.values())
    assert all(key.endswith(".exact_copy_rate") for key in caught.value.failures)
    assert not any(key.startswith(("currencies.", "categories.")) for key in caught.value.failures)  # copied lookups
    with pytest.raises(PrivacyError, match="real_data"):
        synth.sample(seed=7, privacy_threshold={"max_exact_copy_rate": 0.1})
    with pytest.raises(PrivacyError, match="holdout"):
        synth.sample(seed=7, privacy_threshold={"max_membership_auc": 0.6}, real_data=sales)


def test_the_report_checks_generated_columns_for_real_values_and_skips_dropped_ones(
        sales: dict[str, pd.DataFrame], fitted: tuple[Synthesizer, Path], tmp_path: Path) -> None:
    import json

    synth = fitted[0]
    out = synth.generate_validation_report(sales, tmp_path / "report.html", seed=1, detection=False,
                                           efficacy=False)
    tables = json.loads(out.with_suffix(".json").read_text())["tables"]
    pii = tables["customers"]["privacy"]["disclosure"]["pii"]["columns"]
    assert {"email", "phone", "first_name"} <= set(pii)  # detected, not declared: from the privacy report
    assert pii["email"]["leaked_values"] == 0 and pii["phone"]["leaked_values"] == 0
    assert "phone" not in tables["suppliers"]["sdtypes"]  # dropped: compared without it


@pytest.mark.parametrize("declared", [{}, {"semantic_types": {"phone": "phone_number"}}, {"unique": [["phone"]]}],
                         ids=["column", "semantic type", "unique"])
def test_the_report_of_a_column_declared_and_dropped_compares_without_it(tmp_path: Path, declared: dict) -> None:
    """evaluate() checks the metadata's columns against the real data: the report must not ask for a dropped one,
    wherever the metadata names it."""
    import json

    from syntho_hive.core.metadata.schema import Metadata

    rng = np.random.default_rng(0)
    people = pd.DataFrame({"id": np.arange(200), "age": rng.integers(18, 80, 200),
                           "phone": [f"555-{i:04d}" for i in range(200)], "city": rng.choice(["a", "b"], 200)})
    metadata = Metadata().add_table("people", pk="id", columns={"id": "id", "age": "numerical",
                                                                "phone": "categorical", "city": "categorical"}, **declared)
    synth = Synthesizer(metadata, seed=0, privacy_config=PrivacyConfig(secret=SECRET, actions={"people.phone": "drop"}))
    synth.fit({"people": people}, epochs=1, progress_bar=False)
    out = synth.generate_validation_report({"people": people}, tmp_path / "r.html", detection=False, efficacy=False)
    assert "phone" not in json.loads(out.with_suffix(".json").read_text())["tables"]["people"]["sdtypes"]
    assert "phone" in synth.metadata.tables["people"].columns  # the synthesizer's own metadata is left as it was


@pytest.mark.parametrize("declared", [
    {"constraints": {"score": {"min": 0, "max": 200}}},
    {"inequalities": [("age", "score")]},
    {"fixed_combinations": [["score", "city"]]},
    {"dependencies": [("score", "region")]},
    {"dependencies": [("city", "score")]},
    {"date_parts": {"score": "ts.hour"}},
], ids=["constraint", "inequality", "fixed combination", "dependency determinant", "dependency dependent",
        "date part"])
def test_a_rule_naming_a_dropped_column_is_dropped_with_it(tmp_path: Path, declared: dict) -> None:
    """A column the privacy config drops takes the declared rules naming it along (logged): fit, sample, the
    report and a reloaded synthesizer all work on the remaining columns."""
    from structlog.testing import capture_logs

    from syntho_hive.core.metadata.schema import Metadata

    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, 200)
    people = pd.DataFrame({"id": np.arange(200), "age": age, "score": age + rng.integers(1, 10, 200),
                           "city": rng.choice(["a", "b"], 200),
                           "ts": pd.date_range("2020-01-01", periods=200, freq="h")})
    people["region"] = people["city"].map({"a": "north", "b": "south"})
    metadata = Metadata().add_table("people", pk="id", columns={
        "id": "id", "age": "numerical", "score": "numerical", "city": "categorical", "region": "categorical",
        "ts": "datetime"}, **declared)
    synth = Synthesizer(metadata, seed=0, privacy_config=PrivacyConfig(secret=SECRET, actions={"people.score": "drop"}))
    with capture_logs() as logs:
        synth.fit({"people": people}, epochs=1, progress_bar=False)
    assert "score" not in synth.sample(seed=0)["people"].columns
    synth.generate_validation_report({"people": people}, tmp_path / "r.html", detection=False, efficacy=False)
    reloaded = Synthesizer.load(synth.save(tmp_path / "synth"))
    assert list(reloaded.sample(seed=0)["people"].columns) == list(synth.sample(seed=0)["people"].columns)
    assert synth.metadata.tables["people"].model_dump() == metadata.tables["people"].model_dump()  # left as declared
    assert [e["columns"] for e in logs if e["event"] == "rules_on_removed_columns_dropped"] == [["score"]]


def test_a_date_part_of_a_dropped_column_with_a_dot_in_its_name_is_dropped_with_it() -> None:
    """``date_parts={"hr": "ev.ts.hour"}`` names column ``ev.ts`` (the part follows the last dot): dropping
    ``ev.ts`` drops the date part too (it was kept, and fit failed: "'ev.ts' is no column")."""
    from syntho_hive.core.metadata.schema import Metadata

    stamps = pd.Series(pd.date_range("2020-01-01", periods=200, freq="h"))
    people = pd.DataFrame({"id": np.arange(200), "ev.ts": stamps, "hr": stamps.dt.hour,
                           "city": np.random.default_rng(0).choice(["a", "b"], 200)})
    metadata = Metadata().add_table("people", pk="id", date_parts={"hr": "ev.ts.hour"})
    synth = Synthesizer(metadata, seed=0, privacy_config=PrivacyConfig(secret=SECRET, actions={"people.ev.ts": "drop"}))
    synth.fit({"people": people}, epochs=1, progress_bar=False)
    assert "ev.ts" not in synth.sample(seed=0)["people"].columns
