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
from syntho_hive.relational.graph import Relationship
from syntho_hive.relational.orchestrator import LinkPlan, _fill_partly_null

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


def _staff() -> dict[str, pd.DataFrame]:
    """staff(company, emp_no) with a boss (boss_company, boss_no): 3% of rows have none, 23% know the company only."""
    rng = np.random.default_rng(5)
    staff = pd.DataFrame({"company": np.repeat(["acme", "globex", "initech"], 100),
                          "emp_no": np.tile(np.arange(1, 101), 3), "salary": rng.normal(50_000, 5_000, 300).round()})
    boss = np.where(staff["emp_no"] <= 3, 0, rng.integers(1, 4, 300))
    staff["boss_company"] = staff["company"].where(boss > 0)
    staff["boss_no"] = pd.array(np.where(boss > 0, boss, None), dtype="Int64")
    staff.loc[(boss > 0) & (rng.random(300) < 0.2), "boss_no"] = pd.NA
    return {"staff": staff}


def test_a_partly_null_self_reference_comes_back_at_the_real_share(tmp_path: Path) -> None:
    """The company-only bosses (23% of rows) came back fully null: 26% of rows without any boss instead of 3%."""
    metadata = Metadata().add_table("staff", pk=["company", "emp_no"],
                                    fk={"boss_company": "staff.company", "boss_no": "staff.emp_no"})
    synth = Synthesizer(metadata, seed=0).fit(_staff(), epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=0)["staff"]
    company_only = out["boss_company"].notna() & out["boss_no"].isna()
    assert abs(company_only.mean() - 0.23) < 0.08 and (out["boss_company"].isna() & out["boss_no"].notna()).sum() == 0
    assert out.loc[company_only, "boss_company"].isin(out["company"]).all()
    bosses = out.dropna(subset=["boss_company", "boss_no"])
    assert len(bosses.merge(out, left_on=["boss_company", "boss_no"], right_on=["company", "emp_no"])) == len(bosses)
    saved = synth.save(tmp_path / "synth")
    pd.testing.assert_frame_equal(Synthesizer.load(saved).sample(seed=0)["staff"], out)


def test_a_partly_null_self_reference_keeps_the_rows_own_shared_column() -> None:
    """``(company, boss_dept, boss_no) -> staff(company, dept, emp_no)``: the boss_dept of a row without a boss
    number was lent by a row of any company (24 of 50 acme rows with a globex dept or back), although the shared
    company is the row's own."""
    rel = Relationship(child="staff", child_columns=("company", "boss_dept", "boss_no"), parent="staff",
                       parent_columns=("company", "dept", "emp_no"))
    frame = pd.DataFrame({"company": np.repeat(["acme", "globex"], 50), "dept": np.repeat(["a1", "g1"], 50),
                          "emp_no": np.tile(np.arange(50), 2), "boss_dept": pd.Series([None] * 100, dtype=object),
                          "boss_no": pd.array([None] * 100, dtype="Int64")})
    positions = np.where(np.arange(100) % 2 == 0, -1, np.arange(100) - 1)  # every other row: the row before
    frame.loc[positions >= 0, "boss_dept"] = frame["dept"].to_numpy()[positions[positions >= 0]]
    link = LinkPlan(0.5, None, 0.0, partly_null=[(["company", "boss_dept"], 0.5)])
    _fill_partly_null(frame, rel, link, positions, positions, frame, np.random.default_rng(0))
    partly = frame[positions < 0]
    assert partly["boss_dept"].notna().all() and partly["boss_no"].isna().all()
    assert (partly["boss_dept"] == partly["company"].map({"acme": "a1", "globex": "g1"})).all()
