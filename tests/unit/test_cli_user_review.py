"""``synthohive`` as a user drives it: metadata checked against the data, outputs never replaced without
asking, usage mistakes exit 2, messages that name the user's paths and flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.interface.cli import main


def _table(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"order_id": np.arange(rows), "zipcode": rng.integers(1000, 9999, rows),
                         "amount": np.round(rng.gamma(2, 50, rows), 2)})


def _one_error_line(stderr: str, *fragments: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


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
