"""End to end: ``synthohive demo`` holds out rows of the bundled Adult sample, trains on the rest, saves, reloads,
samples and writes the validation report scored against the held-out rows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from syntho_hive.datasets import load_adult_sample
from syntho_hive.interface.cli import main


def _figure(stdout: str, label: str) -> float:
    match = re.search(rf"^\s+{label}\s+([0-9.]+)", stdout, flags=re.MULTILINE)
    assert match, stdout
    return float(match.group(1))


def _report(folder: Path) -> dict[str, Any]:
    """The demo's report: the HTML and the JSON beside it, which must parse."""
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "</html>" in html
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


def test_bundled_adult_sample_is_intact() -> None:
    real = load_adult_sample()
    assert real.shape == (5000, 15)
    assert str(real["age"].dtype) == "int64"
    assert real[["workclass", "occupation", "native-country"]].isna().any().all()
    assert set(real["income"].unique()) == {"<=50K", ">50K"}


@pytest.mark.parametrize("model, name", [([], "TabularAR"), (["--model", "ctgan"], "CTGAN")],
                         ids=["default", "ctgan"])
def test_demo_tiny(model: list[str], name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--output-dir", str(tmp_path), *model, "--epochs", "1", "--rows", "300", "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert json.loads((tmp_path / "checkpoint" / "metadata.json").read_text())["model"] == name
    assert f"trained {name}: 1 epoch" in out
    synthetic = pd.read_csv(tmp_path / "synthetic.csv")
    real = load_adult_sample()
    assert synthetic.shape == (300, 15)
    assert list(synthetic.columns) == list(real.columns)
    assert "sample (same seed): yes" in out
    assert "4,000 to train on, 1,000 held out" in out
    report = _report(tmp_path)
    table = next(iter(report["tables"].values()))
    assert table["n_rows_real"] == 4000 and table["n_rows_synthetic"] == 300
    assert 0.0 <= report["column_shapes"] == pytest.approx(_figure(out, "column shapes"), abs=1e-3)
    # ML efficacy is tested on the 1,000 held-out rows, not on the rows the model trained on
    assert report["ml_efficacy"] == pytest.approx(_figure(out, "ML efficacy"), abs=1e-3)
    assert table["ml_efficacy"]["target"] == "income" and table["ml_efficacy"]["holdout"] == "given"
    assert table["ml_efficacy"]["n_test"] == 1000 and table["ml_efficacy"]["n_train_real"] == 4000
    assert report["privacy"]["dcr_share_closer_to_training"] is not None
    assert f"report written to {tmp_path / 'report.html'} and {tmp_path / 'report.json'}" in out


@pytest.mark.slow
def test_demo_default_is_good(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its quality (the time it takes: ``benchmarks/bench_demo.py``)."""
    assert main(["demo", "--output-dir", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "trained TabularAR" in out
    assert "sample (same seed): yes" in out
    assert "columns and dtypes identical to the real table: yes" in out
    assert _figure(out, "column shapes") >= 0.90
    assert _report(tmp_path)["overall"] >= 0.90


SHARED_ADULT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "adult.parquet"


@pytest.mark.skipif(not SHARED_ADULT.is_file(), reason="reference copy ../shared/data/adult.parquet absent")
def test_bundled_sample_is_reproducible_from_the_reference_copy(tmp_path: Path) -> None:
    import runpy

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "make_adult_sample.py"
    make = runpy.run_path(str(script))
    output = tmp_path / "adult_sample.csv.gz"
    assert make["main"](["--source", str(SHARED_ADULT), "--output", str(output)]) == 0
    bundled = Path(__file__).resolve().parents[2] / "syntho_hive" / "datasets" / "adult_sample.csv.gz"
    assert output.read_bytes() == bundled.read_bytes()
