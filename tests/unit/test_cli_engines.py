"""``synthohive fit TABLE --model``: every engine for a single table file, TabularAR by default."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive.interface.cli import main

ENGINES = {"tabular_ar": "TabularAR", "ctgan": "CTGAN", "tvae": "TVAE"}


@pytest.fixture()
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = 80
    path = tmp_path / "train.csv"
    pd.DataFrame({"age": rng.integers(18, 80, rows), "city": rng.choice(["Lisbon", "Porto", "Faro"], rows),
                  "income": np.round(rng.lognormal(10, 0.4, rows), 2)}).to_csv(path, index=False)
    return path


def _manifest_model(checkpoint: Path) -> str:
    return json.loads((checkpoint / "metadata.json").read_text())["model"]


def _assert_one_error_line(stderr: str, *fragments: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("engine", list(ENGINES))
def test_fit_a_table_with_each_engine_then_sample(engine: str, table: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = tmp_path / "model"
    options = ["--batch-size", "40"] + (["--device", "cpu"] if engine != "tabular_ar" else [])
    assert main(["fit", str(table), "--model", engine, "--epochs", "1", *options, "--seed", "3",
                 "--output", str(checkpoint), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"trained {ENGINES[engine]} on 80 rows x 3 columns" in out
    manifest = json.loads((checkpoint / "metadata.json").read_text())
    assert manifest["model"] == ENGINES[engine]
    assert manifest["hyper_parameters"]["epochs"] == 1 and manifest["hyper_parameters"]["batch_size"] == 40
    synthetic = tmp_path / "synthetic.csv"
    assert main(["sample", str(checkpoint), "--rows", "25", "--output", str(synthetic), "--seed", "1"]) == 0
    frame = pd.read_csv(synthetic)
    assert frame.shape == (25, 3) and list(frame.columns) == ["age", "city", "income"]


def test_a_table_is_fitted_with_tabular_ar_by_default(table: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = tmp_path / "model"
    assert main(["fit", str(table), "--epochs", "1", "--output", str(checkpoint), "--no-progress"]) == 0
    assert _manifest_model(checkpoint) == "TabularAR"
    assert "trained TabularAR on 80 rows" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--device", "cuda"], ["--model", "tabular_ar", "--device", "cpu"]])
def test_an_option_the_engine_does_not_take_exits_two(argv: list[str], table: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", str(table), *argv, "--epochs", "1", "--output", str(tmp_path / "model")]) == 2
    captured = capsys.readouterr()
    _assert_one_error_line(captured.err, f"--device {argv[-1]} applies to --model ctgan or tvae",
                           "see 'synthohive fit --help'")
    assert captured.out == ""
    assert not (tmp_path / "model").exists()
