"""``synthohive`` as a user drives it: metadata checked against the data, outputs never replaced without
asking, usage mistakes exit 2, messages that name the user's paths and flags."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import one_error_line as _one_error_line
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.interface.cli import main


def _table(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"order_id": np.arange(rows), "zipcode": rng.integers(1000, 9999, rows),
                         "amount": np.round(rng.gamma(2, 50, rows), 2)})


def test_report_refuses_metadata_that_does_not_describe_the_data(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The metadata's table 't(id, zip, age)' was applied to '(order_id, zipcode, amount)' without a word."""
    data = tmp_path / "orders.csv"
    _table().to_csv(data, index=False)
    meta = tmp_path / "t.yaml"
    Metadata().add_table("t", columns={"id": "id", "zip": "categorical", "age": "numerical"}, pk="id").save(meta)
    output = tmp_path / "r.html"
    assert main(["report", str(data), str(data), "-o", str(output), "-m", str(meta)]) == 1
    _one_error_line(capsys.readouterr().err, "'zip'", "missing from the data")
    assert not output.exists() and not output.with_suffix(".json").exists()


@pytest.fixture(scope="module")
def synthesizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``fit --source`` on a folder of two CSV tables (customers -> orders), one epoch."""
    folder = tmp_path_factory.mktemp("shop")
    rng = np.random.default_rng(0)
    pd.DataFrame({"customer_id": np.arange(40), "tier": rng.choice(["gold", "basic"], 40)}).to_csv(
        folder / "customers.csv", index=False)
    pd.DataFrame({"order_id": np.arange(100), "customer_id": rng.integers(0, 40, 100),
                  "amount": np.round(rng.gamma(2, 50, 100), 2)}).to_csv(folder / "orders.csv", index=False)
    meta = folder.parent / "shop.yaml"
    (Metadata().add_table("customers", pk="customer_id", columns={"customer_id": "id", "tier": "categorical"})
     .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"},
                columns={"order_id": "id", "customer_id": "id", "amount": "numerical"}).save(meta))
    output = folder.parent / "synth"
    assert main(["fit", "--source", str(folder), "-m", str(meta), "--output", str(output), "--epochs", "1",
                 "--seed", "0", "--no-progress"]) == 0
    return output


def test_a_folder_target_sees_tables_of_another_format(synthesizer: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A folder of CSV tables took Parquet tables beside them: 'fail' did not fail, 'append' repeated every key."""
    target = tmp_path / "out"
    assert main(["sample", str(synthesizer), "--target", str(target), "--format", "csv", "--seed", "1"]) == 0
    first = sorted(p.name for p in target.iterdir())
    capsys.readouterr()
    assert main(["sample", str(synthesizer), "--target", str(target), "--seed", "2"]) == 1  # default: fail
    _one_error_line(capsys.readouterr().err, "already in the", "customers")
    assert main(["sample", str(synthesizer), "--target", str(target), "--format", "parquet", "--seed", "2",
                 "--if-exists", "append"]) == 1
    _one_error_line(capsys.readouterr().err, "holds csv tables", "--format")
    assert sorted(p.name for p in target.iterdir()) == first
    assert main(["sample", str(synthesizer), "--target", str(target), "--seed", "2", "--if-exists", "append"]) == 0
    assert sorted(p.name for p in target.iterdir()) == first  # appended to the CSV tables, in their format
    keys = pd.read_csv(target / "customers.csv")["customer_id"]
    assert len(keys) > 40 and keys.is_unique  # a second batch never repeats a key


def test_demo_never_replaces_the_users_files_without_overwrite(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """``demo --output-dir DIR`` replaced DIR/synthetic.csv and report.json without a word."""
    mine = {"synthetic.csv": "MY DATA\n", "report.json": '{"mine": 1}\n'}
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    argv = ["demo", "--output-dir", str(tmp_path), "--epochs", "1", "--rows", "200", "--no-progress"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    _one_error_line(captured.err, "synthetic.csv already exists", "--overwrite")
    assert captured.out == "" and not (tmp_path / "checkpoint").exists()
    assert {name: (tmp_path / name).read_text() for name in mine} == mine
    (tmp_path / "synthetic.csv").unlink()
    (tmp_path / "report.json").unlink()
    (tmp_path / "checkpoint").mkdir()
    assert main(argv) == 1
    _one_error_line(capsys.readouterr().err, "checkpoint already exists", "--output-dir")
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    assert main([*argv, "--overwrite"]) == 0
    assert (tmp_path / "report.json").read_text() != mine["report.json"]
    assert (tmp_path / "checkpoint" / "model.json").is_file()


@pytest.mark.parametrize("command", ["fit", "report"])
def test_a_metadata_file_without_tables_is_one_input_error(command: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """``fit -m '{}'`` crashed with an internal StopIteration (status 3); ``report`` went on without it."""
    data = tmp_path / "t.csv"
    _table().to_csv(data, index=False)
    meta = tmp_path / "bad.json"
    meta.write_text("{}")
    output = tmp_path / ("model" if command == "fit" else "r.html")
    args = [str(data)] if command == "fit" else [str(data), str(data)]
    assert main([command, *args, "-m", str(meta), "-o", str(output)]) == 1
    captured = capsys.readouterr()
    _one_error_line(captured.err, "bad.json describes no table")
    assert captured.out == "" and not output.exists()


@pytest.mark.parametrize("damage", ["stray-file", "corrupt-manifest"])
def test_a_damaged_synthesizer_directory_says_what_is_wrong(damage: str, synthesizer: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """It was called 'a single model's checkpoint: use --rows N --output FILE', advice that then failed too."""
    copy = tmp_path / "synth"
    shutil.copytree(synthesizer, copy)
    if damage == "stray-file":
        (copy / "NOTES.txt").write_text("hi")
    else:
        (copy / "synthesizer.json").write_text("{not json")
    assert main(["sample", str(copy), "--target", str(tmp_path / "out")]) == 1
    line = _one_error_line(capsys.readouterr().err, "NOTES.txt" if damage == "stray-file" else "synthesizer.json")
    assert "single model" not in line and not (tmp_path / "out").exists()


def test_usage_mistakes_exit_two_and_input_problems_one(synthesizer: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """README: usage mistakes exit 2; these option mistakes exited 1, like a missing file."""
    from syntho_hive.core import models

    models.TabularAR(epochs=1).fit(_table(40), seed=0, progress_bar=False).save(tmp_path / "ck")
    data = tmp_path / "t.csv"
    _table().to_csv(data, index=False)
    meta = tmp_path / "two.yaml"
    Metadata().add_table("a", columns={"x": "numerical"}).add_table("b", columns={"y": "numerical"}).save(meta)
    usage = [["sample", str(tmp_path / "ck"), "-o", str(tmp_path / "s.csv")],            # no --rows
             ["sample", str(tmp_path / "ck"), "--target", str(tmp_path / "x")],         # --target, one model
             ["sample", str(tmp_path / "ck"), "--rows", "5", "-o", str(tmp_path / "s.txt")],
             ["sample", str(synthesizer), "--rows", "5", "-o", str(tmp_path / "x.csv")],
             ["sample", str(synthesizer), "--target", f"sqlite:///{tmp_path / 'x.db'}", "--format", "csv"],
             ["report", str(data), str(data), "-o", str(tmp_path / "same.txt")],
             ["fit", str(data), "-m", str(meta), "-o", str(tmp_path / "m")]]                # no --table
    for argv in usage:
        assert main(argv) == 2, argv
        _one_error_line(capsys.readouterr().err, f"see 'synthohive {argv[0]} --help'")
    problems = [["sample", str(tmp_path / "none"), "--rows", "5", "-o", str(tmp_path / "s.csv")],
                ["fit", str(data), "-m", str(meta), "--table", "c", "-o", str(tmp_path / "m")]]
    for argv in problems:
        assert main(argv) == 1, argv
        capsys.readouterr()
    assert not any(p.name in ("s.csv", "s.txt", "x", "x.csv", "x.db", "same.html", "m") for p in tmp_path.iterdir())


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's /sys, where no file can be created")
def test_an_unwritable_output_is_named_not_its_temporary_file(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """``sample -o /sys/x.csv`` said "Permission denied: '/sys/.x.csv.aiezwhi8.tmp'"."""
    from syntho_hive.core import models

    models.TabularAR(epochs=1).fit(_table(40), seed=0, progress_bar=False).save(tmp_path / "ck")
    assert main(["sample", str(tmp_path / "ck"), "--rows", "5", "-o", "/sys/x.csv"]) == 1
    line = _one_error_line(capsys.readouterr().err, "'/sys/x.csv'")
    assert ".tmp" not in line


def test_the_cli_report_names_the_cli_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The HTML said "pass sensitive_columns" in a report written by ``synthohive report``."""
    real, synthetic = tmp_path / "real.csv", tmp_path / "synth.csv"
    _table(120, 0).to_csv(real, index=False)
    _table(120, 1).to_csv(synthetic, index=False)
    assert main(["report", str(real), str(synthetic), "-o", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "--sensitive on the command line" in html
