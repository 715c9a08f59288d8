"""A folder's format as the source reads it and as the target writes to it: one rule for both."""

from __future__ import annotations

from pathlib import Path

import pytest

from syntho_hive.connectors.files import CSVSource, CSVTarget
from syntho_hive.connectors.resolve import source_from_string, target_from_string
from syntho_hive.exceptions import SerializationError


@pytest.mark.parametrize("other", ["README.txt", "empty folder", ".hidden.parquet", "_SUCCESS"])
def test_a_folder_of_csv_tables_and_other_entries_is_read_and_written_as_csv(tmp_path: Path, other: str) -> None:
    """a.csv + README.txt was read as Parquet but written as CSV; a.csv + an empty folder refused every format."""
    (tmp_path / "a.csv").write_text("x\n1\n")
    if other == "empty folder":
        (tmp_path / "sub").mkdir()
    else:
        (tmp_path / other).write_text("not a table\n")
    assert isinstance(source_from_string(tmp_path), CSVSource)
    assert isinstance(target_from_string(tmp_path), CSVTarget)


def test_a_folder_of_two_formats_is_refused_without_advising_a_format(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.parquet").write_bytes(b"")
    for file_format in (None, "csv", "parquet"):
        with pytest.raises(SerializationError) as caught:
            target_from_string(tmp_path, file_format=file_format)
        message = str(caught.value)
        assert "holds csv and parquet tables" in message and "--format" not in message
        assert message.endswith("Choose another folder.")
