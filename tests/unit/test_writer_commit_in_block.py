"""A target writer committed (or aborted) inside its ``with`` block: the block's exit adds nothing.

As with ``sqlite3``'s connection, an explicit ``commit()`` in the block is the same write, not an error at exit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive.connectors.base import TableSource, TableTarget
from syntho_hive.connectors.delta import DeltaSource, DeltaTarget
from syntho_hive.connectors.files.csv import CSVSource, CSVTarget
from syntho_hive.connectors.files.parquet import ParquetSource, ParquetTarget
from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.connectors.sql.target import SQLTarget
from syntho_hive.core.metadata import Metadata

FRAME = pd.DataFrame({"id": np.arange(1, 6, dtype=np.int64), "city": ["Lyon", "Nice", "Lyon", "Paris", "Nice"]})


def _metadata() -> Metadata:
    return Metadata().add_table("t", pk="id")


TARGETS: dict[str, tuple[Callable[[Path], TableTarget], Callable[[Path], TableSource]]] = {
    "parquet": (lambda root: ParquetTarget(root), lambda root: ParquetSource(root)),
    "csv": (lambda root: CSVTarget(root), lambda root: CSVSource(root, metadata=_metadata())),
    "delta": (lambda root: DeltaTarget(root), lambda root: DeltaSource(root)),
    "sqlite": (lambda root: SQLTarget(f"sqlite:///{root / 'out.db'}"),
               lambda root: SQLSource(f"sqlite:///{root / 'out.db'}")),
}


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_a_commit_inside_the_block_is_the_write(tmp_path: Path, kind: str) -> None:
    make_target, make_source = TARGETS[kind]
    with make_target(tmp_path).open(_metadata(), ["t"]) as writer:
        writer.write_table("t", iter([FRAME]))
        writer.commit()
    back = make_source(tmp_path).read_table("t").sort_values("id").reset_index(drop=True)
    assert back["id"].astype("int64").tolist() == FRAME["id"].tolist()
    assert back["city"].tolist() == FRAME["city"].tolist()


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_an_abort_inside_the_block_writes_nothing(tmp_path: Path, kind: str) -> None:
    make_target, _ = TARGETS[kind]
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    with make_target(tmp_path).open(_metadata(), ["t"]) as writer:
        writer.write_table("t", iter([FRAME]))
        writer.abort()
    after = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    if kind == "sqlite":  # the database file may exist; the table must not
        assert "t" not in SQLSource(f"sqlite:///{tmp_path / 'out.db'}").reflect().tables
    else:
        assert after == before
