"""End to end: ``synthohive demo`` trains on the bundled Adult sample, saves, reloads, samples, scores."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from syntho_hive.datasets import load_adult_sample
from syntho_hive.interface.cli import main


def _overall(stdout: str) -> float:
    match = re.search(r"^\s+overall\s+mean\s+([0-9.]+)$", stdout, flags=re.MULTILINE)
    assert match, stdout
    return float(match.group(1))


def test_bundled_adult_sample_is_intact() -> None:
    real = load_adult_sample()
    assert real.shape == (5000, 15)
    assert str(real["age"].dtype) == "int64"
    assert real[["workclass", "occupation", "native-country"]].isna().any().all()
    assert set(real["income"].unique()) == {"<=50K", ">50K"}


def test_demo_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--output-dir", str(tmp_path), "--epochs", "1", "--rows", "300", "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert (tmp_path / "checkpoint" / "metadata.json").is_file()
    synthetic = pd.read_csv(tmp_path / "synthetic.csv")
    real = load_adult_sample()
    assert synthetic.shape == (300, 15)
    assert list(synthetic.columns) == list(real.columns)
    assert "sample (same seed): yes" in out
    for column in real.columns:
        assert re.search(rf"^\s+{re.escape(column)}\s", out, flags=re.MULTILINE), column
    assert 0.0 <= _overall(out) <= 1.0


@pytest.mark.slow
def test_demo_default_is_good(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its quality (the time it takes: ``benchmarks/bench_demo.py``)."""
    assert main(["demo", "--output-dir", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "sample (same seed): yes" in out
    assert "columns and dtypes identical to the real table: yes" in out
    assert _overall(out) >= 0.80


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
