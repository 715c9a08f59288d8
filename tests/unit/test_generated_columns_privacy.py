"""Generated columns (faked personal columns, generated semantic columns) and the privacy figures.

A generated column holds no training value: the figures that compare rows (exact copies, DCR,
membership and attribute inference) leave it out, or a memorised row with a fresh fake e-mail would
look new. The leak limit counts generated identifiers, not generated names (they equal real ones by
chance), whether the personal columns come from a privacy config or from the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.exceptions import PrivacyError, SchemaError
from syntho_hive.privacy import PrivacyConfig
from syntho_hive.validation import evaluate, privacy_gate

FIRST = ["James", "Mary", "John", "Linda", "Robert", "Susan", "Michael", "Karen", "David", "Lisa"]
LAST = ["Smith", "Johnson", "Brown", "Jones", "Miller", "Davis", "Wilson", "Moore", "Taylor", "Clark"]
THRESHOLD = {"max_exact_copy_rate": 0.01, "max_membership_auc": 0.6}


def _people(n: int, seed: int) -> pd.DataFrame:
    """Customers whose names come from a small pool: generated names equal real ones by chance."""
    rng = np.random.default_rng(seed)
    first, last = rng.choice(FIRST, n), rng.choice(LAST, n)
    return pd.DataFrame({
        "customer_id": np.arange(seed * 10_000, seed * 10_000 + n),
        "first_name": first, "last_name": last,
        "email": [f"{f.lower()}.{l.lower()}{seed}x{i}@realcorp-mail.org" for i, (f, l) in enumerate(zip(first, last))],
        "age": rng.integers(18, 90, n),
        "segment": rng.choice(["gold", "silver", "bronze"], n),
        "income": np.round(rng.lognormal(10, 0.5, n), 2),
    })


@pytest.fixture(scope="module")
def people() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _people(300, 1), _people(300, 2)


@pytest.fixture(scope="module")
def faked(people: tuple[pd.DataFrame, pd.DataFrame]) -> Synthesizer:
    """Names and e-mails detected and faked by a privacy config."""
    metadata = Metadata().add_table("customers", pk="customer_id")
    return Synthesizer(metadata, privacy_config=PrivacyConfig(), seed=0, epochs=1).fit(
        {"customers": people[0]}, progress_bar=False, n_jobs=1)


@pytest.fixture(scope="module")
def semantic(people: tuple[pd.DataFrame, pd.DataFrame]) -> Synthesizer:
    """Names and e-mails declared as semantic types in the metadata, no privacy config."""
    metadata = Metadata().add_table("customers", pk="customer_id", semantic_types={
        "first_name": "first_name", "last_name": "last_name", "email": "email"})
    return Synthesizer(metadata, seed=0, epochs=1).fit({"customers": people[0]}, progress_bar=False, n_jobs=1)


def _memorised(synth: Synthesizer, train: pd.DataFrame) -> pd.DataFrame:
    """What a model that memorised every row returns: modelled columns copied, generated ones fresh."""
    fresh = synth.sample(num_rows={"customers": len(train)}, seed=1)["customers"]
    memorised = train.copy()
    for column in synth.generated_columns_["customers"]:
        memorised[column] = fresh[column].to_numpy()
    return memorised


@pytest.mark.parametrize("which", ["faked", "semantic"])
def test_generated_columns_lists_the_faked_and_the_semantic_generated_columns(which: str,
                                                                              request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(which)
    assert sorted(synth.generated_columns_["customers"]) == ["email", "first_name", "last_name"]


@pytest.mark.parametrize("which", ["faked", "semantic"])
def test_sampling_gate_refuses_memorised_rows_whose_generated_columns_differ(
        which: str, request: pytest.FixtureRequest, people: tuple[pd.DataFrame, pd.DataFrame],
        monkeypatch: pytest.MonkeyPatch) -> None:
    synth = request.getfixturevalue(which)
    train, holdout = people
    memorised = _memorised(synth, train)
    monkeypatch.setattr(synth._engine, "generate", lambda **_: {"customers": memorised})
    with pytest.raises(PrivacyError) as caught:
        synth.sample(num_rows={"customers": len(train)}, seed=1, privacy_threshold=THRESHOLD,
                     real_data={"customers": train}, holdout={"customers": holdout})
    assert caught.value.failures["customers.exact_copy_rate"][0] == 1.0
    assert caught.value.failures["customers.membership_inference_auc"][0] > 0.9


def test_standalone_gate_told_the_generated_columns_refuses_memorised_rows(
        faked: Synthesizer, people: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, holdout = people
    memorised = _memorised(faked, train)
    with pytest.raises(PrivacyError) as caught:
        privacy_gate({"customers": train}, {"customers": memorised}, {"customers": holdout}, THRESHOLD,
                     faked.metadata, generated_columns=faked.generated_columns_)
    assert caught.value.failures["customers.exact_copy_rate"][0] == 1.0


def test_report_counts_memorised_rows_as_exact_copies_over_the_modelled_columns(
        faked: Synthesizer, people: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    train, holdout = people
    out = faked.generate_validation_report({"customers": train}, tmp_path / "report.html",
                                           synthetic_data={"customers": _memorised(faked, train)},
                                           holdout={"customers": holdout}, detection=False, efficacy=False)
    privacy = json.loads(out.with_suffix(".json").read_text())["tables"]["customers"]["privacy"]
    assert privacy["exact_copy_rate"] == 1.0
    assert privacy["membership_inference_auc"] > 0.9
    assert sorted(privacy["columns"]) == ["age", "income", "segment"]
    assert {"first_name", "email"} <= set(privacy["disclosure"]["pii"]["columns"])  # still checked for leaks


def test_evaluate_leaves_out_the_columns_the_metadata_declares_generated(
        semantic: Synthesizer, people: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, holdout = people
    memorised = _memorised(semantic, train)
    result = evaluate({"customers": train}, {"customers": memorised}, semantic.metadata, {"customers": holdout},
                      detection=False, efficacy=False)
    assert result.privacy is not None and result.privacy.exact_copy_rate == 1.0
    assert "email" not in result.privacy.columns
    with pytest.raises(SchemaError, match="generated, not modelled"):
        evaluate({"customers": train}, {"customers": memorised}, semantic.metadata, {"customers": holdout},
                 detection=False, efficacy=False, sensitive_columns={"customers": ["email"]})


def test_leak_limit_ignores_generated_names_declared_by_the_metadata(
        semantic: Synthesizer, people: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train = people[0]
    tables = semantic.sample(num_rows={"customers": 300}, seed=1, privacy_threshold={"max_pii_leaks": 0},
                             real_data={"customers": train})
    out = tables["customers"]
    assert out["first_name"].isin(set(train["first_name"])).sum() > 0  # names do collide by chance
    # The standalone gate's metadata default agrees; naming the name columns counts them.
    assert privacy_gate({"customers": train}, {"customers": out}, None, {"max_pii_leaks": 0},
                        semantic.metadata)["customers"]["pii_value_leaks"] == 0
    with pytest.raises(PrivacyError):
        privacy_gate({"customers": train}, {"customers": out}, None, {"max_pii_leaks": 0}, semantic.metadata,
                     pii_columns={"customers": ["first_name"]})


def test_leak_limit_still_counts_copied_identifiers(semantic: Synthesizer,
                                                     people: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train = people[0]
    out = semantic.sample(num_rows={"customers": 300}, seed=1)["customers"]
    out["email"] = train["email"].to_numpy()
    with pytest.raises(PrivacyError) as caught:
        privacy_gate({"customers": train}, {"customers": out}, None, {"max_pii_leaks": 0}, semantic.metadata)
    assert caught.value.failures["customers.pii_value_leaks"][0] == 300


def test_a_table_whose_every_comparable_column_is_generated_is_gated_on_pii_leaks_only() -> None:
    """Nothing modelled, nothing to measure distances on: the distance limits do not apply to such a table (as in
    evaluate), its PII leaks are still counted and bounded (it raised SchemaError)."""
    real = {"t": pd.DataFrame({"email": [f"a{i}@example.org" for i in range(100)], "k": range(100)})}
    leaked = {"t": pd.DataFrame({"email": [f"a{i}@example.org" for i in range(3)] +
                                 [f"b{i}@example.org" for i in range(97)], "k": range(100)})}
    limits = {"max_dcr_share": 0.6, "max_exact_copy_rate": 0.1, "max_membership_auc": 0.6}
    figures = privacy_gate(real, leaked, real, limits, generated_columns={"t": ["email", "k"]})
    assert figures == {"t": {}}
    with pytest.raises(PrivacyError, match="pii_value_leaks"):
        privacy_gate(real, leaked, real, {**limits, "max_pii_leaks": 0}, generated_columns={"t": ["email", "k"]},
                     pii_columns={"t": ["email"]})
