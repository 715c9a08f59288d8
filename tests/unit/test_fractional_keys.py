"""A float primary key with fractional values (``1.5, 2.0, 3.25``): its keys were generated as random strings over
its characters ('911.00.'), which crashed ``sample()`` with a raw ``ValueError``. They are floats on the real
decimal grid, unique, and referenced by the children; floats that are not short decimals are refused at fit."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import SchemaError
from syntho_hive.relational.keys import KeyGenerator


def _data(pid: np.ndarray) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(0)
    parents = pd.DataFrame({"pid": pid, "x": rng.normal(size=pid.size)})
    children = pd.DataFrame({"cid": np.arange(90), "pid": rng.choice(pid, 90), "y": rng.normal(size=90)})
    md = Metadata().add_table("parents", pk="pid").add_table("children", pk="cid", fk={"pid": "parents.pid"})
    return md, {"parents": parents, "children": children}


def test_fractional_float_keys_are_generated_unique_on_their_decimal_grid(tmp_path: Path) -> None:
    md, data = _data(np.arange(30) * 1.25 + 1.5)  # 1.5, 2.75, 4.0, 5.25, ...
    synth = Synthesizer(md, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    tables = synth.sample(seed=1, num_rows={"parents": 50})
    parents, children = tables["parents"], tables["children"]
    assert parents["pid"].dtype == np.float64 and len(parents) == 50 and parents["pid"].is_unique
    assert (parents["pid"] != parents["pid"].round()).any()  # fractional, as the real keys
    assert ((parents["pid"] * 100).round() == parents["pid"] * 100).all()  # at most two digits after the point
    assert children["pid"].notna().all() and children["pid"].isin(parents["pid"]).all()  # zero orphans
    synth.save(tmp_path / "synth")
    again = Synthesizer.load(tmp_path / "synth").sample(seed=1, num_rows={"parents": 50})
    pd.testing.assert_frame_equal(again["parents"], parents)


def test_floats_that_are_not_short_decimals_are_refused_at_fit() -> None:
    md, data = _data(np.arange(1, 31) / 3.0)
    with pytest.raises(SchemaError, match=r"Table 'parents': Column 'pid' is a key holding fractional floats "
                                          r"such as 0\.333.*Declare an integer or string key column"):
        Synthesizer(md, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)


def test_decimal_keys_merge_store_and_continue_after_existing_keys() -> None:
    first, second = IdGenerator("k"), IdGenerator("k")
    first.prepare(pd.Series([1.5, 2.0, 3.25]), seed=0)  # two digits: 150, 200, 325 on a step of 50
    second.prepare(pd.Series([0.125, 0.5]), seed=0)  # three digits: 125, 500
    merged = IdGenerator.from_dict(first.merge(second).to_dict(), column="k")
    rng = np.random.default_rng(0)
    assert merged.generate(4, rng, indices=np.arange(4)).tolist() == [0.125, 0.5, 0.875, 1.25]
    keys = KeyGenerator("k").fit(pd.Series([1.5, 2.0, 3.25, 0.29]))
    # 0.29 + 0.5 * k after the largest existing key (0.29 * 100 is 28.999999999999996: its grid number is 29)
    assert keys.generate(3, rng, existing=pd.Series([1.5, 2.0, 3.25, 0.29])).tolist() == [3.29, 3.79, 4.29]
