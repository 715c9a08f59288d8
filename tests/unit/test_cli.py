"""The ``synthohive`` command line: help everywhere, one-line errors with exit codes, fit -> sample."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import structlog

from syntho_hive.interface.cli import main

SUBCOMMANDS = [[], ["fit"], ["sample"], ["demo"]]
ENTRY_POINT = Path(sys.executable).parent / "synthohive"


def _tiny_table(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(18, 80, rows),
        "income": np.round(rng.lognormal(10, 0.4, rows), 2),
        "city": rng.choice(["Lisbon", "Porto", "Faro"], rows),
        "member": rng.random(rows) < 0.4,
    })


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train once (2 tiny epochs) through the CLI; reused by the sampling tests."""
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "train.csv"
    _tiny_table().to_csv(data, index=False)
    target = folder / "model"
    code = main(["fit", str(data), "--output", str(target), "--epochs", "2", "--batch-size", "60",
                 "--seed", "7", "--no-progress"])
    assert code == 0
    return target


def _assert_one_error_line(stderr: str, *fragments: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_exits_zero_everywhere(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: synthohive {' '.join(command)}".rstrip())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from syntho_hive import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"synthohive {__version__}"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    _assert_one_error_line(capsys.readouterr().err, "choose a command")


@pytest.mark.parametrize("argv, fragment", [
    (["fit", "data.csv"], "--output"),
    (["sample", "ckpt", "--rows", "0", "--output", "x.csv"], "positive integer"),
    (["fit", "data.csv", "-o", "m", "--seed", "-3"], "non-negative"),
    (["frobnicate"], "invalid choice"),
    (["fit", "data.csv", "-o", "m", "--table", "t"], "--table needs --metadata"),
])
def test_usage_errors_exit_two_with_one_line(argv: list[str], fragment: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    _assert_one_error_line(capsys.readouterr().err, fragment)


def test_missing_input_file_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.csv"
    assert main(["fit", str(missing), "--output", str(tmp_path / "model")]) == 1
    captured = capsys.readouterr()
    _assert_one_error_line(captured.err, "not found", str(missing))
    assert captured.out == ""
    assert not (tmp_path / "model").exists()


def test_unreadable_and_unknown_format_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "table.parquet"
    bad.write_text("this is not parquet")
    assert main(["fit", str(bad), "--output", str(tmp_path / "m")]) == 1
    _assert_one_error_line(capsys.readouterr().err, "Cannot read parquet file", str(bad))
    odd = tmp_path / "table.xlsx"
    odd.write_text("x")
    assert main(["fit", str(odd), "--output", str(tmp_path / "m")]) == 1
    _assert_one_error_line(capsys.readouterr().err, ".csv", str(odd))


@pytest.mark.parametrize("suffix", [".csv.gz", ".CSV.BZ2"])
def test_fit_reads_compressed_csv(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line and ``Synthesizer`` share one reader (``interface.files.read_table``)."""
    data = tmp_path / f"train{suffix}"
    _tiny_table(60).to_csv(data, index=False, compression="gzip" if suffix == ".csv.gz" else "bz2")
    assert main(["fit", str(data), "-o", str(tmp_path / "m"), "--epochs", "1", "--batch-size", "30",
                 "--seed", "0", "--no-progress"]) == 0
    assert "60 rows" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert main(["sample", str(tmp_path / "m"), "--rows", "10", "--seed", "1", "-o", str(out)]) == 0
    assert list(pd.read_csv(out).columns) == list(_tiny_table().columns)


def test_empty_and_damaged_compressed_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("age,city\n")
    assert main(["fit", str(empty), "-o", str(tmp_path / "m")]) == 1
    _assert_one_error_line(capsys.readouterr().err, "has no rows", "(training data)", str(empty))
    damaged = tmp_path / "damaged.csv.gz"
    damaged.write_bytes(b"not gzip")
    assert main(["fit", str(damaged), "-o", str(tmp_path / "m")]) == 1
    _assert_one_error_line(capsys.readouterr().err, "Cannot read csv file", str(damaged), "(training data)")


def test_existing_checkpoint_refused_before_training(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "t.csv"
    _tiny_table().to_csv(data, index=False)
    (tmp_path / "model").mkdir()
    assert main(["fit", str(data), "--output", str(tmp_path / "model"), "--epochs", "1"]) == 1
    _assert_one_error_line(capsys.readouterr().err, "already exists", "--overwrite")


def test_missing_metadata_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "t.csv"
    _tiny_table().to_csv(data, index=False)
    code = main(["fit", str(data), "-o", str(tmp_path / "m"), "--metadata", str(tmp_path / "meta.yaml")])
    assert code == 1
    _assert_one_error_line(capsys.readouterr().err, "Metadata file not found")


def test_metadata_with_several_tables_needs_table(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from syntho_hive.core.metadata import Metadata

    data = tmp_path / "t.csv"
    _tiny_table().to_csv(data, index=False)
    metadata = Metadata()
    metadata.add_table("people", columns={"age": "numerical", "city": "categorical"})
    metadata.add_table("orders", columns={"amount": "numerical"})
    meta_path = tmp_path / "meta.yaml"
    metadata.save(meta_path)
    assert main(["fit", str(data), "-o", str(tmp_path / "m"), "--metadata", str(meta_path)]) == 2  # usage
    _assert_one_error_line(capsys.readouterr().err, "2 tables", "--table")
    assert main(["fit", str(data), "-o", str(tmp_path / "m"), "-m", str(meta_path), "--table", "users"]) == 1
    _assert_one_error_line(capsys.readouterr().err, "'users'", "orders, people")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables: [\n")
    assert main(["fit", str(data), "-o", str(tmp_path / "m"), "-m", str(bad)]) == 1
    _assert_one_error_line(capsys.readouterr().err, str(bad))


def test_broken_checkpoint_is_one_line_and_debug_shows_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    argv = ["sample", str(broken), "--rows", "5", "--output", str(tmp_path / "o.csv")]
    assert main(argv) == 1
    _assert_one_error_line(capsys.readouterr().err, str(broken))
    assert main([*argv, "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "o.csv").exists()


def test_missing_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(tmp_path / "none"), "--rows", "5", "-o", str(tmp_path / "o.csv")]) == 1
    _assert_one_error_line(capsys.readouterr().err, "not found")


@pytest.mark.parametrize("rows", [str(2**63 - 1), str(10**15)])
def test_a_row_count_too_large_to_hold_is_one_error_line(checkpoint: Path, tmp_path: Path, rows: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(checkpoint), "--rows", rows, "-o", str(tmp_path / "o.csv")]) == 1
    _assert_one_error_line(capsys.readouterr().err, "too large")
    assert not (tmp_path / "o.csv").exists()


def test_fit_then_sample_round_trip(checkpoint: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    real = _tiny_table()
    out = tmp_path / "synthetic.parquet"
    assert main(["sample", str(checkpoint), "--rows", "75", "--output", str(out), "--seed", "3"]) == 0
    assert "75 rows" in capsys.readouterr().out
    synthetic = pd.read_parquet(out)
    assert synthetic.shape == (75, 4)
    assert list(synthetic.columns) == list(real.columns)
    assert synthetic["city"].isin(["Lisbon", "Porto", "Faro"]).all()
    assert synthetic["age"].between(18, 79).all()
    # Refuses to overwrite an existing output unless asked.
    assert main(["sample", str(checkpoint), "--rows", "5", "--output", str(out)]) == 1
    _assert_one_error_line(capsys.readouterr().err, "already exists")
    assert len(pd.read_parquet(out)) == 75


def test_installed_entry_point_reproduces_in_process_sample(checkpoint: Path, tmp_path: Path) -> None:
    if not ENTRY_POINT.exists():
        pytest.skip(f"the synthohive entry point is not installed next to {sys.executable}")
    in_process = tmp_path / "a.csv"
    assert main(["sample", str(checkpoint), "--rows", "40", "-o", str(in_process), "--seed", "11"]) == 0
    other = tmp_path / "b.csv"
    result = subprocess.run(
        [str(ENTRY_POINT), "sample", str(checkpoint), "--rows", "40", "-o", str(other), "--seed", "11"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "40 rows" in result.stdout
    assert in_process.read_bytes() == other.read_bytes()


def test_installed_entry_point_error_has_no_traceback(tmp_path: Path) -> None:
    if not ENTRY_POINT.exists():
        pytest.skip(f"the synthohive entry point is not installed next to {sys.executable}")
    result = subprocess.run([str(ENTRY_POINT), "fit", str(tmp_path / "x.csv"), "-o", str(tmp_path / "m")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    _assert_one_error_line(result.stderr, "not found")


def test_main_restores_the_callers_structlog_configuration(tmp_path: Path) -> None:
    before = structlog.get_config()
    main(["sample", str(tmp_path / "none"), "--rows", "1", "-o", str(tmp_path / "o.csv")])
    assert structlog.get_config() == before


def test_metadata_that_does_not_match_the_data_fails_before_training(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "t.csv"
    _tiny_table().to_csv(data, index=False)
    meta = tmp_path / "meta.yaml"
    meta.write_text("tables:\n  t:\n    pk: nope_col\n    columns:\n      ghost: numerical\n", encoding="utf-8")
    code = main(["fit", str(data), "-o", str(tmp_path / "m"), "--metadata", str(meta), "--no-progress"])
    assert code == 1 and not (tmp_path / "m").exists()
    _assert_one_error_line(capsys.readouterr().err, "2 problem(s)", "'nope_col' (named in pk) is missing",
                           "'ghost'")


@pytest.mark.parametrize("model_name", ["TVAE", "TabularAR"])
def test_sample_reads_every_models_checkpoint(model_name: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from syntho_hive.core import models

    model = getattr(models, model_name)(epochs=1).fit(_tiny_table(), seed=0, progress_bar=False)
    model.save(tmp_path / "ck")
    out = tmp_path / "out.csv"
    assert main(["sample", str(tmp_path / "ck"), "--rows", "40", "--seed", "3", "-o", str(out)]) == 0
    written = pd.read_csv(out)
    expected = model.sample(40, seed=3)
    assert list(written.columns) == list(expected.columns) and len(written) == 40
    pd.testing.assert_series_equal(written["city"], expected["city"].astype(object), check_names=False)


def test_nested_parquet_columns_are_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "nested.parquet"
    _tiny_table(40).assign(tags=[["a", "b"]] * 40).to_parquet(data)
    assert main(["fit", str(data), "-o", str(tmp_path / "m"), "--no-progress"]) == 1
    _assert_one_error_line(capsys.readouterr().err, "Column 'tags' holds nested values", "flatten")


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.zip"])
def test_compressed_samples_are_byte_identical_for_a_seed(checkpoint: Path, tmp_path: Path, suffix: str) -> None:
    import zipfile

    paths = [tmp_path / "one" / f"a{suffix}", tmp_path / "two" / f"a{suffix}"]
    for path in paths:
        path.parent.mkdir()
        assert main(["sample", str(checkpoint), "--rows", "50", "--seed", "4", "-o", str(path)]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()  # no time stamp, no temporary name inside
    assert len(pd.read_csv(paths[0])) == 50
    if suffix.endswith(".zip"):
        assert zipfile.ZipFile(paths[0]).namelist() == ["a.csv"]


def test_csv_integers_with_gaps_stay_integers(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ages = pd.array(np.where(rng.random(150) < 0.15, None, rng.integers(18, 90, 150)), dtype="Int64")
    data = tmp_path / "people.csv"
    _tiny_table(150).assign(age=ages).to_csv(data, index=False)
    assert main(["fit", str(data), "-o", str(tmp_path / "m"), "--epochs", "1", "--no-progress"]) == 0
    out = tmp_path / "out.csv"
    assert main(["sample", str(tmp_path / "m"), "--rows", "200", "--seed", "1", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8").splitlines()
    ages_written = [line.split(",")[0] for line in text[1:]]
    assert all(a == "" or a.isdigit() for a in ages_written)  # "63", never "63.0"
    assert "" in ages_written  # the gaps are generated too


def _write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_na_spellings_and_zero_padded_codes_keep_their_values(tmp_path: Path) -> None:
    from syntho_hive.interface.files import read_csv as _read_csv

    data = _write_lines(tmp_path / "t.csv",
                        "continent,zip,qty,price,flag,note",
                        "EU,02134,1,1.5,True,a",
                        "NA,00501,2,N/A,False,",
                        "AS,10001,NA,2.25,,b",
                        "NA,,4,3,True,c")
    frame = _read_csv(data)
    assert frame["continent"].tolist() == ["EU", "NA", "AS", "NA"]  # North America, not a gap
    assert frame["continent"].notna().all()
    assert frame["zip"].dtype == object and frame["zip"].tolist() == ["02134", "00501", "10001", None]
    pd.testing.assert_series_equal(frame["qty"], pd.Series([1, 2, None, 4], dtype="Int64", name="qty"))
    pd.testing.assert_series_equal(frame["price"], pd.Series([1.5, np.nan, 2.25, 3.0], name="price"))
    pd.testing.assert_series_equal(frame["flag"], pd.Series([True, False, None, True], dtype="boolean",
                                                            name="flag"))
    assert frame["note"].dtype == object and frame["note"].tolist() == ["a", None, "b", "c"]
    assert all(type(value) is str for value in frame["zip"].dropna()) and frame["zip"].isna().sum() == 1


def test_csv_column_types_at_the_edges(tmp_path: Path) -> None:
    from syntho_hive.interface.files import read_csv as _read_csv

    data = _write_lines(tmp_path / "t.csv",
                        'signed_code,offset,gaps,spaced,infinite,big_id,thousands,flags,only_na,exact,named',
                        '-05,-5,NULL, 1,inf,12345678901234567890,"1,000",TRUE,NA,0.001049001171530397,NA',
                        '+07,+3,#N/A, NA ,-Infinity,1,12,false,,-0.07037352358069926,None',
                        '12,0,7, 3,1e3,2,7,FALSE,n/a,0.1,Nauru')
    frame = _read_csv(data)
    assert frame["signed_code"].tolist() == ["-05", "+07", "12"]  # signed zero padding is a code too
    assert frame["offset"].dtype == np.int64 and frame["offset"].tolist() == [-5, 3, 0]
    assert frame["gaps"].dtype == "Int64" and frame["gaps"].isna().tolist() == [True, True, False]
    assert frame["spaced"].dtype == "Int64" and frame["spaced"].tolist()[::2] == [1, 3]
    assert frame["spaced"].isna().tolist() == [False, True, False]  # " NA " is a gap in numbers
    assert frame["infinite"].dtype == np.float64 and frame["infinite"].tolist() == [np.inf, -np.inf, 1000.0]
    assert frame["big_id"].tolist() == ["12345678901234567890", "1", "2"]  # beyond int64: every digit kept
    assert frame["thousands"].tolist() == ["1,000", "12", "7"]
    assert frame["flags"].dtype == bool and frame["flags"].tolist() == [True, False, False]
    assert frame["only_na"].dtype == np.float64 and frame["only_na"].isna().all()
    assert frame["exact"].tolist() == [0.001049001171530397, -0.07037352358069926, 0.1]  # no last-bit drift
    assert frame["named"].tolist() == ["NA", "None", "Nauru"]  # text: NA spellings are values


def test_csv_type_needs_every_row_not_only_the_first(tmp_path: Path) -> None:
    from syntho_hive.interface.files import read_csv as _read_csv

    rows = [str(i) for i in range(3000)]
    data = tmp_path / "t.csv"
    pd.DataFrame({"late_code": [*rows[:-1], "0042"], "late_text": [*rows[:-1], "x"],
                  "late_float": [*rows[:-1], "2.5"], "late_gap": [*rows[:-1], "NA"]}).to_csv(data, index=False)
    frame = _read_csv(data)
    assert frame["late_code"].iloc[-1] == "0042" and frame["late_code"].iloc[0] == "0"
    assert frame["late_text"].iloc[-1] == "x"
    assert frame["late_float"].dtype == np.float64 and frame["late_float"].iloc[-1] == 2.5
    assert frame["late_gap"].dtype == "Int64" and frame["late_gap"].isna().sum() == 1


def test_fit_and_sample_keep_na_categories_and_zero_padded_codes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = 150
    table = pd.DataFrame({
        "continent": rng.choice(["EU", "NA", "AS"], rows),
        "zip": rng.choice(["02134", "00501", "10001", "07030"], rows),
        "qty": rng.integers(1, 9, rows),
    })
    data = tmp_path / "orders.csv"
    table.to_csv(data, index=False)
    assert main(["fit", str(data), "-o", str(tmp_path / "m"), "--epochs", "1", "--batch-size", "50",
                 "--seed", "0", "--no-progress"]) == 0
    out = tmp_path / "out.csv"
    assert main(["sample", str(tmp_path / "m"), "--rows", "200", "--seed", "1", "-o", str(out)]) == 0
    written = pd.read_csv(out, dtype=str, keep_default_na=False)  # the file's text, as written
    assert written["zip"].str.fullmatch(r"[0-9]{5}").all()
    assert written["zip"].isin(table["zip"]).all()
    assert (written["continent"] == "NA").any()
    assert written["continent"].isin(["EU", "NA", "AS"]).all()  # no empty cells


def test_fit_reads_a_parquet_dataset_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Spark/Hive write tables as directories of part files (with key=value partition folders)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"region": rng.choice(["north", "south"], 120), "amount": np.round(rng.gamma(2, 20, 120), 2)})
    dataset = tmp_path / "sales"
    pq.write_to_dataset(pa.Table.from_pandas(table, preserve_index=False), root_path=dataset,
                        partition_cols=["region"])
    (dataset / "_SUCCESS").write_text("")
    assert main(["fit", str(dataset), "-o", str(tmp_path / "m"), "--epochs", "1", "--batch-size", "40",
                 "--seed", "0", "--no-progress"]) == 0
    out = tmp_path / "out.parquet"
    assert main(["sample", str(tmp_path / "m"), "--rows", "50", "--seed", "1", "-o", str(out)]) == 0
    sampled = pd.read_parquet(out)
    assert sorted(sampled.columns) == ["amount", "region"] and set(sampled["region"].astype(str)) <= {"north", "south"}
    empty = tmp_path / "empty"
    empty.mkdir()
    capsys.readouterr()
    assert main(["fit", str(empty), "-o", str(tmp_path / "m2")]) == 1
    assert "holds no data file" in capsys.readouterr().err


def test_an_unexpected_exception_is_one_internal_error_line_with_its_own_status(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A bug or a dependency's failure (not a user error) prints one line naming its type and message,
    exits 3 (not 1, so scripts can tell it from bad input), and shows its traceback with --debug."""
    import syntho_hive.interface.cli as cli

    def broken(args: object) -> int:
        raise RuntimeError("dependency blew up\nsecond line")

    monkeypatch.setattr(cli, "_cmd_sample", broken)
    argv = ["sample", str(tmp_path / "ckpt"), "--rows", "5", "--output", str(tmp_path / "o.csv")]
    assert main(argv) == cli.EXIT_INTERNAL == 3
    _assert_one_error_line(capsys.readouterr().err, "internal error (RuntimeError: dependency blew up second line)",
                           "--debug")
    assert main([*argv, "--debug"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "cli_internal_error" in err and "dependency blew up" in err
    assert err.strip().splitlines()[-1].startswith("error: internal error (RuntimeError")


def test_one_file_gets_the_business_rules_through_fit_source(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """README: ``fit DATA`` applies no business rules; a folder holding the one file, fitted with
    ``fit --source``, is a one-table Synthesizer, which prints the rules and generates realistic e-mails."""
    from syntho_hive.core.semantic.validators import is_email
    from syntho_hive.datasets import load_sales

    real = load_sales()["customers"].drop(columns=["support_rep_id"])
    (tmp_path / "src").mkdir()
    real.to_csv(tmp_path / "src" / "customers.csv", index=False)
    synth = tmp_path / "synth"
    assert main(["fit", "--source", str(tmp_path / "src"), "-o", str(synth), "--epochs", "1", "--seed", "0",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "business rules" in out and "email: email (detected)" in out
    assert main(["sample", str(synth), "--target", str(tmp_path / "out"), "--format", "csv", "--seed", "1"]) == 0
    emails = pd.read_csv(tmp_path / "out" / "customers.csv")["email"].dropna()
    assert len(emails) > 0 and all(is_email(e) for e in emails) and not emails.isin(real["email"]).any()
    assert main(["fit", str(tmp_path / "src" / "customers.csv"), "-o", str(tmp_path / "model"), "--epochs", "1",
                 "--no-progress"]) == 0
    assert "business rules" not in capsys.readouterr().out  # one engine's checkpoint: no rules
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "`synthohive fit --source` prints them" in readme and "`synthohive fit DATA`" in readme
