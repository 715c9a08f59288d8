"""``synthohive report``: HTML + JSON written, overall scores printed, one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import one_error_line as _one_error_line
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.interface.cli import main
from syntho_hive.interface.files import read_csv


def _table(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(18, 80, rows),
        "income": np.round(rng.lognormal(10, 0.4, rows), 2) + rng.random(rows) / 1000,
        "city": rng.choice(["Lisbon", "Porto", "Faro"], rows),
        "member": rng.random(rows) < 0.4,
    })


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report")
    paths = {"real": folder / "real.csv", "synth": folder / "synth.parquet", "holdout": folder / "holdout.csv",
             "meta": folder / "meta.yaml", "multi": folder / "multi.yaml"}
    _table(160, 0).to_csv(paths["real"], index=False)
    _table(160, 1).to_parquet(paths["synth"], index=False)
    _table(80, 2).to_csv(paths["holdout"], index=False)
    columns = {"age": "numerical", "income": "numerical", "city": "categorical", "member": "boolean"}
    Metadata().add_table("people", columns=columns).save(paths["meta"])
    Metadata().add_table("people", columns=columns).add_table("other", columns={"x": "numerical"}).save(
        paths["multi"])
    return paths


def test_report_writes_html_and_json_and_prints_the_scores(files: dict[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.html"
    code = main(["report", str(files["real"]), str(files["synth"]), "--output", str(output),
                 "--metadata", str(files["meta"]), "--target", "member", "--holdout", str(files["holdout"])])
    out = capsys.readouterr().out
    assert code == 0
    payload = json.loads(output.with_suffix(".json").read_text())
    printed = dict(re.findall(r"^  (overall quality|column shapes|detection AUC|ML efficacy|DCR share)\s+(\S+)",
                              out, flags=re.MULTILINE))
    assert printed["overall quality"] == f"{payload['overall']:.3f}"
    assert printed["column shapes"] == f"{payload['column_shapes']:.3f}"
    assert printed["detection AUC"] == f"{payload['detection_auc']:.3f}"
    assert printed["ML efficacy"] == f"{payload['ml_efficacy']:.3f}"  # --target was used
    assert "DCR share" in printed  # --holdout was used
    assert list(payload["tables"]) == ["people"]  # the metadata's table
    assert f"report written to {output}" in out
    html = output.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    real = read_csv(files["real"])  # as the command reads it: every float exact
    assert f"{real['income'].iloc[3]}" not in html  # no real row without --include-samples


def test_include_samples_puts_rows_in_the_report(files: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "with_rows.html"
    assert main(["report", str(files["real"]), str(files["synth"]), "-o", str(output), "--include-samples",
                 "--seed", "3"]) == 0
    capsys.readouterr()
    real = read_csv(files["real"])  # as the command reads it: every float exact
    assert f"{real['income'].iloc[0]}" in output.read_text()
    assert json.loads(output.with_suffix(".json").read_text())["ml_efficacy"] is None


@pytest.mark.parametrize(("extra", "fragments", "status"), [
    (["--output", "{tmp}/r.txt"], ["must be an .html file"], 2),
    (["--output", "{tmp}/missing/r.html"], ["does not exist"], 1),
    (["--output", "{tmp}/r.html", "--metadata", "{multi}"], ["describes 2 tables", "--table NAME"], 2),
    (["--output", "{tmp}/r.html", "--metadata", "{multi}", "--table", "nope"], ["'nope' is not in metadata"], 1),
    (["--output", "{tmp}/r.html", "--target", "salary"], ["--target 'salary' is not a column"], 1),
    (["--output", "{tmp}/r.html", "--holdout", "{tmp}/nope.csv"], ["Input file not found"], 1),
])
def test_bad_arguments_give_one_error_line(files: dict[str, Path], tmp_path: Path, extra: list[str],
                                           fragments: list[str], status: int,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Usage mistakes (options, an output name) exit 2; problems with the files exit 1."""
    argv = ["report", str(files["real"]), str(files["synth"]),
            *[a.format(tmp=tmp_path, multi=files["multi"]) for a in extra]]
    assert main(argv) == status
    _one_error_line(capsys.readouterr().err, *fragments)
    assert not (tmp_path / "r.html").exists()


def test_missing_input_and_existing_output(files: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope.csv"), str(files["synth"]), "-o", str(tmp_path / "a.html")]) == 1
    _one_error_line(capsys.readouterr().err, "Input file not found", "nope.csv")
    existing = tmp_path / "b.html"
    existing.with_suffix(".json").write_text("{}")
    assert main(["report", str(files["real"]), str(files["synth"]), "-o", str(existing)]) == 1
    _one_error_line(capsys.readouterr().err, "b.json already exists", "--overwrite")
    assert existing.with_suffix(".json").read_text() == "{}"


def test_mismatched_tables_are_one_line(files: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_csv(other, index=False)
    assert main(["report", str(files["real"]), str(other), "-o", str(tmp_path / "c.html")]) == 1
    _one_error_line(capsys.readouterr().err)


def test_report_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: synthohive report")
    for option in ("--output", "--metadata", "--target", "--include-samples", "--holdout"):
        assert option in out


def test_table_without_metadata_is_a_usage_error(files: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", str(files["real"]), str(files["synth"]), "--output", str(tmp_path / "r.html"),
            "--table", "people"]
    assert main(argv) == 2
    _one_error_line(capsys.readouterr().err, "--table needs --metadata")
    assert not (tmp_path / "r.html").exists()


def test_efficacy_without_holdout_is_printed_as_optimistic(files: dict[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Without --holdout the ML-efficacy test rows are real rows the generator trained on: the line said nothing."""
    assert main(["report", str(files["real"]), str(files["synth"]), "-o", str(tmp_path / "r.html"),
                 "--target", "member"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  ML efficacy"))
    assert "optimistic without --holdout" in line


def test_skipped_figures_print_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A table too small for detection (and one real row: too few for privacy) prints the reasons, not 'n/a'."""
    real, synth = tmp_path / "real.csv", tmp_path / "synth.csv"
    _table(1, 0).to_csv(real, index=False)
    _table(1, 1).to_csv(synth, index=False)
    assert main(["report", str(real), str(synth), "--output", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    skipped = json.loads((tmp_path / "r.json").read_text())["tables"]["table"]["skipped"]
    assert f"  detection AUC       skipped: {skipped['detection']}\n" in out
    assert f"  privacy             skipped: {skipped['privacy']}\n" in out
    assert "n/a" not in out.split("detection AUC")[1].splitlines()[0]
