"""Composite foreign keys that are partly null in the real data (``region`` known, ``store_no`` null): as in
SQL's ``MATCH SIMPLE``, such a row references no parent row. Generation keeps them partly null at the real rate,
with the non-null leg a value the parent has, and a fully non-null key still always matches a parent row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata

_FK = ["region", "store_no"]


def _data(seed: int = 0) -> dict[str, pd.DataFrame]:
    """stores(region, store_no) <- visits(region, store_no): 30% of visits know the region only, 10% neither."""
    rng = np.random.default_rng(seed)
    stores = pd.DataFrame({"region": np.repeat(["N", "S", "E"], 20), "store_no": np.tile(np.arange(1, 21), 3),
                           "size": rng.integers(100, 900, 60)})
    n = 400
    pick = rng.integers(0, 60, n)
    visits = pd.DataFrame({"visit_id": np.arange(n), "region": stores["region"].to_numpy()[pick].astype(object),
                           "store_no": stores["store_no"].to_numpy()[pick].astype("float64"),
                           "amount": rng.gamma(2.0, 50.0, n).round(2)})
    u = rng.random(n)
    visits.loc[u < 0.3, "store_no"] = np.nan
    visits.loc[(u >= 0.3) & (u < 0.4), _FK] = [None, np.nan]
    return {"stores": stores, "visits": visits}


def _metadata() -> Metadata:
    return (Metadata().add_table("stores", pk=_FK)
            .add_table("visits", pk="visit_id", fk={"region": "stores.region", "store_no": "stores.store_no"}))


@pytest.fixture(scope="module")
def fitted() -> Synthesizer:
    return Synthesizer(_metadata(), seed=0).fit(_data(), epochs=1, progress_bar=False, n_jobs=1)


def _shares(visits: pd.DataFrame) -> tuple[float, float, float]:
    """Shares of rows with the region only, the store only, and neither."""
    region, store = visits["region"].notna(), visits["store_no"].notna()
    return float((region & ~store).mean()), float((~region & store).mean()), float((~region & ~store).mean())


def _check(tables: dict[str, pd.DataFrame]) -> None:
    stores, visits = tables["stores"], tables["visits"]
    full = visits.dropna(subset=_FK)
    assert len(full.merge(stores, on=_FK)) == len(full)  # every fully non-null key matches a generated store
    partly = visits[visits["region"].notna() & visits["store_no"].isna()]
    assert partly["region"].isin(stores["region"]).all()  # its known leg is a generated store's region


def test_partly_null_keys_come_back_partly_null_at_the_real_rate(fitted: Synthesizer) -> None:
    tables = fitted.sample(seed=1)
    _check(tables)
    region_only, store_only, neither = _shares(tables["visits"])
    assert abs(region_only - 0.305) < 0.08  # real share 0.305 (every row fully null before)
    assert store_only == 0.0
    assert abs(neither - 0.125) < 0.06


def test_partly_null_keys_survive_chunks_and_a_load(fitted: Synthesizer, tmp_path: Path) -> None:
    chunked = fitted.sample(seed=2, chunk_rows=37)
    _check(chunked)
    assert abs(_shares(chunked["visits"])[0] - 0.305) < 0.08
    fitted.save(tmp_path / "synth")
    again = Synthesizer.load(tmp_path / "synth").sample(seed=2, chunk_rows=37)
    pd.testing.assert_frame_equal(chunked["visits"], again["visits"])


def test_dropping_dirty_rows_keeps_partly_null_keys_whose_legs_the_parent_has() -> None:
    data = _data()
    visits = data["visits"]
    visits.loc[0, _FK] = ["W", np.nan]  # a region no store has: dropped like an orphan
    fitted = Synthesizer(_metadata(), seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1,
                                                  on_integrity_error="drop")
    assert fitted.integrity_report_ == {"visits": 1}
    assert abs(_shares(fitted.sample(seed=3)["visits"])[0] - 0.305) < 0.08
