"""Disclosure risk: membership inference, attribute inference, PII leaks, the privacy gate, the report."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import ConfigurationError, PrivacyError, SchemaError
from syntho_hive.validation import (
    PrivacyThreshold,
    ValidationReport,
    attribute_inference_risk,
    check_privacy,
    evaluate,
    membership_inference_auc,
    pii_value_leaks,
    privacy_gate,
    require_inputs,
)


def _customers(n: int, seed: int) -> pd.DataFrame:
    """Customers with related columns: income grows with age, the segment follows income."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 85, n)
    income = np.round(rng.lognormal(10.3, 0.5, n) * (1 + (age - 18) / 100), 2)
    segment = np.where(income > 45_000, "premium", np.where(rng.random(n) < 0.5, "standard", "basic"))
    return pd.DataFrame({
        "customer_id": np.arange(seed * 10_000, seed * 10_000 + n),
        "age": age,
        "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "income": income,
        "segment": segment,
        "churned": rng.random(n) < np.where(segment == "premium", 0.1, 0.3),
        "signup": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
    })


SDTYPES = {"customer_id": "id", "age": "numerical", "region": "categorical", "income": "numerical",
           "segment": "categorical", "churned": "boolean", "signup": "datetime"}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    """400 training rows, 400 holdout rows, 400 independent draws from the same population."""
    return {"train": _customers(400, 1), "holdout": _customers(400, 2), "fresh": _customers(400, 3)}


# --- membership inference -------------------------------------------------------------------------

def test_membership_auc_is_chance_for_independent_draws(data: dict[str, pd.DataFrame]) -> None:
    result = membership_inference_auc(data["train"], data["holdout"], data["fresh"], SDTYPES)
    assert 0.4 < result.auc < 0.6
    assert result.advantage < 0.15 and result.tpr_at_low_fpr < 0.25
    assert result.n_members == result.n_non_members == 400 and not result.rows_sampled


def test_membership_auc_exposes_copied_training_rows(data: dict[str, pd.DataFrame]) -> None:
    copies = data["train"].sample(frac=1.0, random_state=0)  # shuffled copies, new order
    result = membership_inference_auc(data["train"], data["holdout"], copies, SDTYPES)
    assert result.auc > 0.9 and result.tpr_at_low_fpr > 0.9


def test_membership_samples_equal_sizes_with_a_seed(data: dict[str, pd.DataFrame]) -> None:
    first = membership_inference_auc(data["train"], data["holdout"].iloc[:150], data["fresh"], SDTYPES, seed=4)
    assert first.n_members == first.n_non_members == 150 and first.rows_sampled
    assert first == membership_inference_auc(data["train"], data["holdout"].iloc[:150], data["fresh"], SDTYPES,
                                             seed=4)


# --- attribute inference --------------------------------------------------------------------------

def test_attribute_inference_reads_members_values_off_copies(data: dict[str, pd.DataFrame]) -> None:
    result = attribute_inference_risk(data["train"], data["holdout"], data["train"], ["segment", "income"],
                                      sdtypes=SDTYPES)
    assert result.quasi_identifiers == ["age", "region", "churned", "signup"]  # the id is no quasi-identifier
    for column in result.columns.values():
        assert column.member_accuracy > 0.95
        assert column.holdout_accuracy is not None and column.holdout_accuracy < 0.6
        assert column.risk is not None and column.risk > 0.3
    assert result.max_risk == max(c.risk for c in result.columns.values() if c.risk is not None)
    assert result.columns["income"].tolerance == pytest.approx(
        0.05 * np.ptp(pd.concat([data["train"], data["holdout"]])["income"]))


def test_attribute_inference_has_no_excess_for_independent_draws(data: dict[str, pd.DataFrame]) -> None:
    result = attribute_inference_risk(data["train"], data["holdout"], data["fresh"], ["segment", "income"],
                                      sdtypes=SDTYPES)
    for column in result.columns.values():
        assert column.risk is not None and abs(column.risk) < 0.12
        assert 0 < column.naive_accuracy < 1


def test_attribute_inference_majority_vote_and_explicit_quasi_identifiers() -> None:
    train = pd.DataFrame({"zip": ["a", "a", "b", "b"], "diagnosis": ["flu", "flu", "cold", "cold"]})
    synthetic = pd.DataFrame({"zip": ["a", "a", "a", "b", "b", "b"],
                              "diagnosis": ["flu", "flu", "cold", "cold", "cold", "flu"]})
    result = attribute_inference_risk(train, None, synthetic, ["diagnosis"], ["zip"], k=3)
    column = result.columns["diagnosis"]
    assert column.member_accuracy == 1.0  # 2 of 3 neighbours vote right in each zip
    assert column.holdout_accuracy is None and column.risk is None and result.max_risk is None
    assert column.naive_accuracy == 0.5  # the synthetic mode ("cold") is right for half the rows


@pytest.mark.parametrize(("sensitive", "quasi", "message"), [
    (["segment"], ["segment", "age"], "both sensitive and quasi-identifier"),
    (["customer_id"], None, "id columns"),
    (["nope"], None, "lacks"),
    (["segment"], ["customer_id"], "id/text"),
    ([], None, "at least one sensitive column"),
])
def test_attribute_inference_refuses_unusable_columns(data: dict[str, pd.DataFrame], sensitive: list[str],
                                                      quasi: list[str] | None, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        attribute_inference_risk(data["train"], data["holdout"], data["fresh"], sensitive, quasi, SDTYPES)


# --- PII leaks -----------------------------------------------------------------------------------

def test_pii_leaks_are_counted_exactly_after_normalisation() -> None:
    real = pd.DataFrame({"email": ["ann@x.org", "bob@y.com", None, "Cy@Z.net"],
                         "phone": ["+1 555 0100", "+1 555 0101", "+1 555 0102", None],
                         "age": [30, 40, 50, 60]})
    synthetic = pd.DataFrame({"email": [" ANN@x.org", "new@q.io", "cy@z.net", "ann@x.org", None],
                              "phone": ["+15550100", "+1 555 9999", None, None, "+1 555 0102"],
                              "age": [31, 40, 50, 61, 70]})
    result = pii_value_leaks(real, synthetic, ["email", "phone"], {"email": "text", "phone": "text",
                                                                   "age": "numerical"})
    email, phone = result.columns["email"], result.columns["phone"]
    assert (email.n_synthetic_values, email.leaked_values, email.distinct_real_values_leaked) == (4, 3, 2)
    assert email.leak_share == pytest.approx(0.75)
    assert (phone.n_synthetic_values, phone.leaked_values, phone.distinct_real_values_leaked) == (3, 2, 2)
    assert result.total_leaked_values == 5
    assert result.real_rows_reproduced == 0  # no synthetic row repeats a real one on every column


def test_blank_pii_values_are_not_leaks() -> None:
    """A blank phone (``""``, common in SQL tables) disclosed nothing, yet every blank synthetic value counted
    as a leak of the blank real ones, so ``max_pii_leaks=0`` refused faithful data."""
    real = pd.DataFrame({"phone": ["", "  ", "+1 555 0100", None], "age": [30, 40, 50, 60]})
    synthetic = pd.DataFrame({"phone": ["", " ", "+1 555 0199", "+15550100"], "age": [31, 41, 51, 61]})
    leaks = pii_value_leaks(real, synthetic, ["phone"], {"phone": "text", "age": "numerical"}).columns["phone"]
    assert (leaks.n_synthetic_values, leaks.leaked_values, leaks.distinct_real_values_leaked) == (2, 1, 1)


def test_whole_rows_reproduced_ignore_keys_but_not_text() -> None:
    real = pd.DataFrame({"id": [1, 2, 3], "name": ["Ann", "Bob", "Cy"], "age": [30, 40, 50]})
    synthetic = pd.DataFrame({"id": [7, 8, 9, 10], "name": ["Ann", "Bob", "Bob", "Dee"], "age": [30.0, 41, 40, 50]})
    result = pii_value_leaks(real, synthetic, sdtypes={"id": "id", "name": "text", "age": "numerical"})
    assert result.columns == {} and result.total_leaked_values == 0
    assert result.row_columns == ["name", "age"]
    assert (result.real_rows_reproduced, result.synthetic_rows_reproducing) == (2, 2)


# --- threshold and gate --------------------------------------------------------------------------

@pytest.mark.parametrize("limits", [
    {"max_membership_auc": 1.5}, {"max_exact_copy_rate": -0.1}, {"max_dcr_share": float("nan")},
    {"max_attribute_risk": "0.1"}, {"max_pii_leaks": 1.5}, {"max_pii_leaks": -1}, {"max_membership_auc": True},
    {},  # no limit at all (max_pii_leaks is off by default)
])
def test_threshold_validation(limits: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        PrivacyThreshold(**limits)  # type: ignore[arg-type]


def test_threshold_coerces_dicts_and_refuses_unknown_limits() -> None:
    threshold = PrivacyThreshold.coerce({"max_membership_auc": 0.6})
    assert threshold.limits() == {"membership_inference_auc": 0.6}
    with pytest.raises(ConfigurationError, match="max_auc"):
        PrivacyThreshold.coerce({"max_auc": 0.6})
    with pytest.raises(ConfigurationError):
        PrivacyThreshold.coerce(0.6)  # type: ignore[arg-type]


def test_require_inputs_refuses_limits_that_cannot_be_computed() -> None:
    threshold = PrivacyThreshold(max_membership_auc=0.6, max_dcr_share=0.6, max_attribute_risk=0.1)
    with pytest.raises(PrivacyError, match="max_dcr_share needs holdout.*max_membership_auc needs holdout"):
        require_inputs(threshold, has_holdout=False, has_sensitive_columns=True)
    with pytest.raises(PrivacyError, match="max_attribute_risk needs sensitive columns"):
        require_inputs(threshold, has_holdout=True)
    require_inputs(threshold, has_holdout=True, has_sensitive_columns=True)
    require_inputs(PrivacyThreshold(max_exact_copy_rate=0.0), has_holdout=False)


def test_check_privacy_lists_every_failure_and_refuses_missing_figures(data: dict[str, pd.DataFrame]) -> None:
    threshold = PrivacyThreshold(max_exact_copy_rate=0.01, max_membership_auc=0.6, max_pii_leaks=None)
    with pytest.raises(PrivacyError) as caught:
        check_privacy({"exact_copy_rate": 0.2, "membership_inference_auc": 0.9}, threshold)
    assert caught.value.failures == {"exact_copy_rate": (0.2, 0.01), "membership_inference_auc": (0.9, 0.6)}
    assert "exact_copy_rate = 0.2 (limit 0.01)" in str(caught.value)
    check_privacy({"exact_copy_rate": 0.0, "membership_inference_auc": 0.55}, threshold)
    with pytest.raises(PrivacyError, match="membership_inference_auc was not computed"):
        check_privacy({"exact_copy_rate": 0.0, "membership_inference_auc": None}, threshold)


def test_privacy_gate_raises_with_every_failing_figure_of_every_table(data: dict[str, pd.DataFrame]) -> None:
    train, holdout = data["train"], data["holdout"]
    real = {"customers": train, "prospects": holdout.iloc[:200]}
    synthetic = {"customers": train.sample(300, random_state=1), "prospects": data["fresh"].iloc[:200]}
    holdouts = {"customers": holdout, "prospects": data["fresh"].iloc[200:]}
    threshold = {"max_exact_copy_rate": 0.05, "max_membership_auc": 0.7, "max_dcr_share": 0.7,
                 "max_attribute_risk": 0.2}
    with pytest.raises(PrivacyError) as caught:
        privacy_gate(real, synthetic, holdouts, threshold, sensitive_columns={"customers": ["segment"]},
                     quasi_identifiers={"customers": ["age", "region", "income"]})
    failures = caught.value.failures
    assert set(failures) == {"customers.exact_copy_rate", "customers.membership_inference_auc",
                             "customers.dcr_share_closer_to_training", "customers.attribute_inference_risk"}
    assert failures["customers.exact_copy_rate"] == (1.0, 0.05)
    assert all(value > limit for value, limit in failures.values())
    assert "4 privacy figure(s)" in str(caught.value)
    # The independent draws pass alone; the figures computed are exactly those the threshold limits.
    with pytest.raises(PrivacyError, match="max_attribute_risk needs sensitive columns"):
        privacy_gate({"prospects": real["prospects"]}, synthetic, {"prospects": holdouts["prospects"]}, threshold)
    del threshold["max_attribute_risk"]
    figures = privacy_gate({"prospects": real["prospects"]}, synthetic, {"prospects": holdouts["prospects"]},
                           threshold)
    assert set(figures["prospects"]) == {"exact_copy_rate", "dcr_share_closer_to_training",
                                         "membership_inference_auc"}


@pytest.mark.parametrize(("options", "message"), [
    ({"sensitive_columns": {"prospects": ["nope"]}}, "lacks"),
    ({"pii_columns": {"prospects": ["email"]}}, "lacks"),
    ({"sensitive_columns": {"prospects": ["customer_id"]}}, "id columns"),
    ({"quasi_identifiers": {"prospects": ["age"]}}, "no sensitive_columns"),
    ({"sensitive_columns": {"prospects": "segment"}, "quasi_identifiers": {"prospects": ["segment"]}},
     "both sensitive"),
])
def test_privacy_gate_refuses_bad_columns_of_any_table_before_any_figure(
        data: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch, options: dict[str, object],
        message: str) -> None:
    gate = importlib.import_module("syntho_hive.validation.privacy_gate")  # the package re-exports the function
    computed: list[str] = []
    monkeypatch.setattr(gate, "_table_figures", lambda name, *args: computed.append(name) or {})
    real = {"customers": data["train"], "prospects": data["holdout"]}
    synthetic = {"customers": data["fresh"], "prospects": data["fresh"]}
    with pytest.raises(SchemaError, match=message):
        privacy_gate(real, synthetic, None, {"max_exact_copy_rate": 0.5}, **options)  # type: ignore[arg-type]
    assert computed == []  # the first table's figures were not computed either


def test_privacy_gate_checks_pii_declared_in_metadata_and_refuses_a_missing_holdout() -> None:
    real = pd.DataFrame({"email": ["ann@x.org", "bob@y.com", "cy@z.net"], "age": [30, 40, 50]})
    synthetic = pd.DataFrame({"email": ["BOB@y.com", "q@r.io", "s@t.io"], "age": [33, 44, 55]})
    metadata = Metadata().add_table("people", columns={"email": "text", "age": "numerical"}, pii_cols=["email"])
    with pytest.raises(PrivacyError) as caught:
        privacy_gate({"people": real}, {"people": synthetic}, None, PrivacyThreshold(max_pii_leaks=0), metadata)
    assert caught.value.failures == {"people.pii_value_leaks": (1.0, 0.0)}
    with pytest.raises(PrivacyError, match="needs holdout"):
        privacy_gate({"people": real}, {"people": synthetic}, None, {"max_membership_auc": 0.6})


# --- evaluate(), JSON and HTML -------------------------------------------------------------------

def test_evaluate_report_json_and_html_carry_the_disclosure_figures(data: dict[str, pd.DataFrame],
                                                                   tmp_path: Path) -> None:
    train = data["train"].assign(email=[f"c{i}@shop.example" for i in range(400)])
    synthetic = train.assign(email=["C0@SHOP.example", "c1@shop.example"] + [f"n{i}@new.example"
                                                                               for i in range(2, 400)])
    holdout = data["holdout"].assign(email=[f"h{i}@shop.example" for i in range(400)])
    types = {**SDTYPES, "email": "text"}
    html_path = ValidationReport().generate(train, synthetic, tmp_path / "report.html", holdout=holdout,
                                            sdtypes=types, detection=False, sensitive_columns=["segment"],
                                            pii_columns=["email"])
    data_json = json.loads((tmp_path / "report.json").read_text())
    privacy = data_json["privacy"]
    assert privacy["exact_copy_rate"] == 1.0  # old keys kept
    assert privacy["membership_inference_auc"] > 0.9
    assert privacy["attribute_inference_risk"] > 0.3
    # Rows 0 and 1 keep a real e-mail (row 0 in other case): two leaked values, one row repeated whole.
    assert privacy["pii_value_leaks"] == 2 and privacy["real_rows_reproduced"] == 1
    table = data_json["tables"]["table"]["privacy"]["disclosure"]
    assert table["pii"]["columns"]["email"]["leaked_values"] == 2
    assert table["attribute_inference"]["columns"]["segment"]["member_accuracy"] > 0.95
    reading = data_json["report"]["reading"]
    assert any("PII column(s) email" in line for line in reading)
    assert any("1 real row(s) are reproduced whole" in line for line in reading)
    html = html_path.read_text()
    for text in ("Disclosure risk", "Membership-inference ROC AUC", "Attribute inference", "segment",
                 "Real rows reproduced whole", "Membership-inference AUC (0.5 ideal)"):
        assert text in html


def test_evaluate_without_holdout_or_sensitive_columns_reports_what_it_can(data: dict[str, pd.DataFrame]) -> None:
    result = evaluate(data["train"], data["fresh"], sdtypes=SDTYPES, detection=False)
    assert result.privacy is not None and result.privacy.disclosure is not None
    assert result.privacy.membership_inference_auc is None and result.privacy.attribute_inference_risk is None
    assert result.privacy.pii_value_leaks == 0 and result.privacy.real_rows_reproduced == 0
    assert result.to_dict()["privacy"]["membership_inference_auc"] is None


@pytest.mark.parametrize(("options", "message"), [
    ({"sensitive_columns": ["nope"]}, "lacks"),
    ({"pii_columns": {"other": ["email"]}}, "unknown table"),
    ({"sensitive_columns": ["segment"], "quasi_identifiers": ["segment"]}, "both sensitive"),
    ({"quasi_identifiers": ["age"]}, "no sensitive_columns"),
])
def test_evaluate_refuses_bad_disclosure_columns_before_any_metric(data: dict[str, pd.DataFrame],
                                                                   options: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        evaluate(data["train"], data["fresh"], sdtypes=SDTYPES, detection=False, **options)  # type: ignore[arg-type]


def test_cli_report_prints_the_disclosure_figures(data: dict[str, pd.DataFrame], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from syntho_hive.interface.cli import main

    paths = {name: tmp_path / f"{name}.csv" for name in ("real", "synthetic", "holdout")}
    data["train"].to_csv(paths["real"], index=False)
    data["train"].to_csv(paths["synthetic"], index=False)  # copies: every figure fires
    data["holdout"].to_csv(paths["holdout"], index=False)
    code = main(["report", str(paths["real"]), str(paths["synthetic"]), "--output", str(tmp_path / "r.html"),
                 "--holdout", str(paths["holdout"])])
    out = capsys.readouterr().out
    assert code == 0
    assert float(re.search(r"^  membership AUC\s+(\S+)", out, flags=re.MULTILINE).group(1)) > 0.9  # type: ignore[union-attr]
    assert re.search(r"^  rows reproduced\s+400\b.*WARNING", out, flags=re.MULTILINE)
    # the attribute attack and the PII leaks from the command line
    code = main(["report", str(paths["real"]), str(paths["synthetic"]), "--output", str(tmp_path / "a.html"),
                 "--holdout", str(paths["holdout"]), "--sensitive", "segment", "--quasi-identifier", "age",
                 "--quasi-identifier", "income", "--pii", "region"])
    out = capsys.readouterr().out
    assert code == 0
    assert float(re.search(r"^  attribute risk\s+(\S+)", out, flags=re.MULTILINE).group(1)) > 0.1  # type: ignore[union-attr]
    assert re.search(r"^  PII values leaked\s+400\b", out, flags=re.MULTILINE)  # every row's region
    saved = json.loads((tmp_path / "a.json").read_text())
    assert saved["privacy"]["disclosure"]["attribute_inference"]["quasi_identifiers"] == ["age", "income"]
    code = main(["report", str(paths["real"]), str(paths["synthetic"]), "--output", str(tmp_path / "b.html"),
                 "--sensitive", "nope"])
    assert code == 1 and "nope" in capsys.readouterr().err
