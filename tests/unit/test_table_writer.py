"""Chunked table files: one Parquet row group per chunk, CSV header once, atomic on errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from syntho_hive.exceptions import GenerationError, SerializationError
from syntho_hive.interface.table_writer import write_table_chunks


def _chunks(seed: int = 0) -> list[pd.DataFrame]:
    """Three chunks of an orders-like table; ``note`` is all-null (Arrow type null) in the first one."""
    rng = np.random.default_rng(seed)
    out = []
    for index, size in enumerate((4, 5, 3)):
        out.append(pd.DataFrame({
            "order_id": pd.Series([f"ORD-{index}{i}" for i in range(size)], dtype="str"),
            "amount": rng.gamma(2.0, 20.0, size).round(2),
            "referrer": pd.array(rng.choice([1, 2, None], size), dtype="Int64"),
            "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 99, size), unit="D"),
            "note": pd.Series([None] * size if index == 0 else ["late", None, "gift", None, None][:size],
                              dtype=object),
        }))
    return out


def test_parquet_chunks_read_back_like_the_whole_table(tmp_path: Path) -> None:
    chunks = _chunks()
    whole = pd.concat(chunks, ignore_index=True)
    whole.to_parquet(tmp_path / "whole.parquet", index=False)
    path = write_table_chunks(iter(chunks), tmp_path / "orders.parquet", "parquet")
    assert path == tmp_path / "orders.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(tmp_path / "whole.parquet"),
                                  check_exact=True)
    assert pq.ParquetFile(path).num_row_groups == 3  # one per chunk, the first rewritten with a wider schema
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet", "whole.parquet"]


def test_csv_chunks_write_the_header_once(tmp_path: Path) -> None:
    chunks = _chunks(1)
    path = write_table_chunks(iter(chunks), tmp_path / "orders.csv", "csv")
    assert path.read_text(encoding="utf-8") == pd.concat(chunks, ignore_index=True).to_csv(index=False)


def test_an_empty_table_keeps_its_columns(tmp_path: Path) -> None:
    empty = _chunks()[1].iloc[:0]
    back = pd.read_parquet(write_table_chunks(iter([empty]), tmp_path / "t.parquet", "parquet"))
    assert list(back.columns) == list(empty.columns) and len(back) == 0


@pytest.mark.parametrize("output_format", ["parquet", "csv"])
def test_a_failure_while_generating_leaves_no_file(tmp_path: Path, output_format: str) -> None:
    def failing() -> Iterator[pd.DataFrame]:
        yield from _chunks()[:2]
        raise GenerationError("model failed on chunk 3")

    with pytest.raises(GenerationError, match="chunk 3"):  # propagated as is, not as a write error
        write_table_chunks(failing(), tmp_path / f"t.{output_format}", output_format)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_chunk_that_does_not_fit_the_file_is_a_typed_error(tmp_path: Path) -> None:
    first, second = _chunks()[1], _chunks()[2]
    with pytest.raises(SerializationError, match="columns"):
        write_table_chunks(iter([first, second.drop(columns="note")]), tmp_path / "t.parquet", "parquet")
    with pytest.raises(SerializationError, match="amount"):
        write_table_chunks(iter([first, second.assign(amount="n/a")]), tmp_path / "t.parquet", "parquet")
    assert list(tmp_path.iterdir()) == []
