"""``interface.files.read_table``: the one table reader of the command line and ``Synthesizer``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from syntho_hive.exceptions import SchemaError, SerializationError
from syntho_hive.interface.files import read_table, table_format

FRAME = pd.DataFrame({"zip": ["02134", "00501", "10001"], "continent": ["NA", "EU", "NA"], "n": [1, 2, 3]})


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.csv.bz2", "t.csv.zip", "t.csv.xz", "T.CSV.GZ"])
def test_csv_plain_and_compressed_read_alike(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    FRAME.to_csv(path, index=False, compression={"gz": "gzip", "bz2": "bz2", "zip": "zip", "xz": "xz"}.get(
        name.lower().rsplit(".", 1)[-1]))
    frame = read_table(path, what="data['t']")
    pd.testing.assert_frame_equal(frame, FRAME)  # codes keep their zeros, "NA" stays a value


@pytest.mark.parametrize("name", ["t.parquet", "t.pq"])
def test_parquet_files_and_directories(tmp_path: Path, name: str) -> None:
    FRAME.to_parquet(tmp_path / name)
    pd.testing.assert_frame_equal(read_table(tmp_path / name, what="x"), FRAME)
    folder = tmp_path / "dataset"
    folder.mkdir(exist_ok=True)
    FRAME.to_parquet(folder / "part-0.parquet")
    assert len(read_table(str(folder), what="x")) == 3


def test_typed_errors_name_the_file_and_its_role(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"Cannot tell the format of input file .*t\.xlsx \(data\['t'\]\)"):
        read_table(tmp_path / "t.xlsx", what="data['t']")
    with pytest.raises(SerializationError, match=r"Input file not found: .*nope\.csv \(real data\); check the path"):
        read_table(tmp_path / "nope.csv", what="real data")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SerializationError, match=r"holds no data file"):
        read_table(empty, what="x")
    for name, content in [("bad.parquet", b"not parquet"), ("bad.csv.gz", b"not gzip"), ("bad.csv.zip", b"no zip"),
                          ("bad.csv.xz", b"not xz"), ("bad.csv.bz2", b"not bz2"), ("bad.csv", b"")]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(SerializationError, match=rf"Cannot read (csv|parquet) file .*{name} \(x\)"):
            read_table(tmp_path / name, what="x")


def test_table_format_from_the_name() -> None:
    assert [table_format(n) for n in ("a.csv", "a.CSV.gz", "a.csv.xz", "a.pq", "a.Parquet", "a.json", "csv")] == [
        "csv", "csv", "csv", "parquet", "parquet", None, None]


def test_a_hive_directory_of_part_files_without_a_suffix_is_read(tmp_path: Path) -> None:
    table = tmp_path / "hive_table"
    table.mkdir()
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    frame.to_parquet(table / "000000_0")
    (table / "_SUCCESS").write_bytes(b"")
    pd.testing.assert_frame_equal(read_table(table, what="x"), frame)
