"""Columns declared personal in the metadata (``TableConfig.pii_cols``) never reach a model: a declared
personal column with a personal semantic type (declared or detected) gets that type's default action, one
without any is refused at fit, before any work, naming it and the ways out."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer, TabularAR
from syntho_hive.exceptions import ConfigurationError
from syntho_hive.privacy import PrivacyConfig

SECRET = "test-secret-0123456789"


def _patients() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = 200
    return pd.DataFrame({
        "patient_id": range(rows),
        "contact": [f"patient.no{i:04d}@clinic-mail.org" for i in range(rows)],  # an e-mail under a neutral name
        "diagnosis": rng.choice(["hiv", "diabetes", "asthma", "cancer"], rows),
        "insurer_ref": [f"INS{n}" for n in rng.integers(10**7, 10**8, rows)],
        "age": rng.integers(18, 90, rows),
    })


def _metadata(pii_cols: list[str]) -> Metadata:
    return Metadata().add_table("patients", pk="patient_id", pii_cols=pii_cols)


def _saved_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize("privacy_config", [None, PrivacyConfig()])
def test_a_declared_personal_column_without_a_generator_is_refused_at_fit(privacy_config) -> None:
    synth = Synthesizer(_metadata(["diagnosis", "insurer_ref"]), privacy_config=privacy_config, seed=0, epochs=1)
    with pytest.raises(ConfigurationError, match=r"patients\.diagnosis") as error:
        synth.fit({"patients": _patients()}, progress_bar=False, n_jobs=1)
    assert "patients.insurer_ref" in str(error.value) and "'drop'" in str(error.value)
    assert not synth.is_fitted


def test_a_single_model_refuses_a_declared_personal_column_without_a_generator() -> None:
    model = TabularAR(metadata=_metadata(["diagnosis"]), epochs=1)
    with pytest.raises(ConfigurationError, match=r"patients\.diagnosis"):
        model.fit(_patients(), table_name="patients", seed=0)


def test_declared_personal_columns_get_actions_and_no_real_value_reaches_output_or_files(tmp_path: Path) -> None:
    real = _patients()
    config = PrivacyConfig(secret=SECRET, detect=False,
                           actions={"patients.diagnosis": "drop", "patients.insurer_ref": "hash"})
    synth = Synthesizer(_metadata(["contact", "diagnosis", "insurer_ref"]), privacy_config=config, seed=0, epochs=1)
    synth.fit({"patients": real}, progress_bar=False, n_jobs=1)
    contact = synth.privacy_report_["patients"]["contact"]
    assert (contact["action"], contact["semantic_type"], contact["source"]) == ("fake", "email", "declared")
    out = synth.sample(seed=1)["patients"]
    assert "diagnosis" not in out.columns
    assert not out["contact"].isin(real["contact"]).any()
    assert not out["insurer_ref"].isin(real["insurer_ref"]).any()
    raw = _saved_bytes(synth.save(tmp_path / "synth"))
    for value in [*real["contact"], *real["insurer_ref"]]:
        assert value.encode() not in raw


def test_a_single_model_generates_a_declared_personal_column_and_saves_no_real_value(tmp_path: Path) -> None:
    real = _patients()
    model = TabularAR(metadata=_metadata(["contact"]), epochs=1).fit(real, table_name="patients", seed=0)
    assert not model.sample(200, seed=1)["contact"].isin(real["contact"]).any()
    assert model.privacy_plan_.decisions["contact"].source == "declared"
    directory = tmp_path / "model"
    model.save(directory)
    raw = _saved_bytes(directory)
    assert not any(value.encode() in raw for value in real["contact"])
    loaded = TabularAR().load(directory)
    assert not loaded.sample(200, seed=2)["contact"].isin(real["contact"]).any()


def _people(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "person_id": range(rows),
        "date_of_birth": pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 18000, rows), unit="D"),
        "city": rng.choice(["London", "Paris", "Berlin", "Madrid", "Rome", "Vienna"], rows),
        "age": rng.integers(18, 90, rows),
    })


def test_a_synthesizer_without_a_config_decides_declared_personal_columns_like_a_single_model() -> None:
    """Without a privacy config a declared date of birth was refused by the Synthesizer although a single
    model (and any PrivacyConfig) generates it: both now apply ``PrivacyConfig(detect=False)``."""
    real = _people()
    metadata = Metadata().add_table("people", pk="person_id", pii_cols=["date_of_birth"])
    synth = Synthesizer(metadata, seed=0, epochs=1).fit({"people": real}, progress_bar=False, n_jobs=1)
    model = TabularAR(metadata=metadata, epochs=1).fit(real, table_name="people", seed=0)
    decided = synth.privacy_report_["people"]
    assert decided == {c: asdict(d) for c, d in model.privacy_plan_.decisions.items()}
    born = decided["date_of_birth"]
    assert (born["action"], born["semantic_type"], born["source"]) == ("fake", "date_of_birth", "declared")
    assert set(decided) == {"date_of_birth"}  # detect=False: the undeclared city stays modelled
    out = synth.sample(seed=1)["people"]
    assert pd.api.types.is_datetime64_any_dtype(out["date_of_birth"]) and out["date_of_birth"].notna().all()
    synth.fit({"people": real}, progress_bar=False, n_jobs=1)  # a refit without a config decides them again
    assert synth.privacy_report_["people"] == decided


def test_without_a_config_a_declared_column_without_a_generator_is_refused_before_any_state_is_reset() -> None:
    synth = Synthesizer(_metadata(["contact"]), seed=0, epochs=1)
    synth.fit({"patients": _patients()}, progress_bar=False, n_jobs=1)
    before = synth.sample(seed=1)["patients"]
    coded = _patients().assign(contact=[f"C{i:05d}" for i in range(200)])  # no e-mail left to generate it by
    with pytest.raises(ConfigurationError, match=r"patients\.contact"):
        synth.fit({"patients": coded}, progress_bar=False, n_jobs=1)
    pd.testing.assert_frame_equal(synth.sample(seed=1)["patients"], before)


@pytest.mark.parametrize("privacy_config", [None, PrivacyConfig()])
@pytest.mark.parametrize("semantic_types", [None, {"city": "city"}])
def test_an_explicitly_declared_personal_city_is_generated_not_kept(semantic_types, privacy_config) -> None:
    real = _people()
    metadata = Metadata().add_table("people", pk="person_id", pii_cols=["city"], semantic_types=semantic_types)
    synth = Synthesizer(metadata, privacy_config=privacy_config, seed=0, epochs=1)
    synth.fit({"people": real}, progress_bar=False, n_jobs=1)
    city = synth.privacy_report_["people"]["city"]
    assert (city["action"], city["semantic_type"], city["source"]) == ("fake", "city", "declared")
    assert "city" in synth.generated_columns_["people"]  # removed before training: its real values reach no model
    assert synth.sample(seed=1)["people"]["city"].notna().all()
    model = TabularAR(metadata=metadata, epochs=1).fit(real, table_name="people", seed=0)
    assert model.privacy_plan_.decisions["city"].action == "fake"


@pytest.mark.parametrize("semantic_types", [None, {"city": "city"}])
def test_a_detected_or_semantic_type_declared_city_is_still_kept(semantic_types) -> None:
    metadata = Metadata().add_table("people", pk="person_id", semantic_types=semantic_types)
    synth = Synthesizer(metadata, privacy_config=PrivacyConfig(), seed=0, epochs=1)
    synth.fit({"people": _people()}, progress_bar=False, n_jobs=1)
    assert synth.privacy_report_["people"]["city"]["action"] == "keep"


def test_personal_columns_declared_on_one_table_leave_the_others_as_they_are() -> None:
    """``pii_cols`` on table ``a`` applied ``PrivacyConfig(detect=False)`` to every table: ``b``'s e-mails (a
    declared semantic type) were generated otherwise and ``b`` appeared in ``privacy_report_``."""
    rng = np.random.default_rng(0)
    a = pd.DataFrame({"id": np.arange(1, 41), "email": [f"user{i}@example.com" for i in range(40)],
                      "x": rng.normal(size=40)})
    b = pd.DataFrame({"id": np.arange(1, 41), "email": [f"p{i}.q@mail.org" for i in range(40)],
                      "y": rng.normal(size=40)})

    def fitted(pii_cols: list[str]) -> Synthesizer:
        metadata = Metadata()
        metadata.add_table("a", pk="id", pii_cols=pii_cols, semantic_types={"email": "email"})
        metadata.add_table("b", pk="id", semantic_types={"email": "email"})
        return Synthesizer(metadata, seed=0).fit({"a": a, "b": b}, epochs=1, progress_bar=False, n_jobs=1)

    plain, declared = fitted([]), fitted(["email"])
    assert set(declared.privacy_report_) == {"a"} and declared.privacy_report_["a"]["email"]["action"] == "fake"
    sizes = {"a": 5, "b": 5}
    pd.testing.assert_frame_equal(declared.sample(num_rows=sizes, seed=0)["b"],
                                  plain.sample(num_rows=sizes, seed=0)["b"])
