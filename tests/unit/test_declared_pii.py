"""Columns declared personal in the metadata (``TableConfig.pii_cols``) never reach a model: a declared
personal column with a personal semantic type (declared or detected) gets that type's default action, one
without any is refused at fit, before any work, naming it and the ways out."""

from __future__ import annotations

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
