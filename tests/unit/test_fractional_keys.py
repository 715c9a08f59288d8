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
from syntho_hive.exceptions import GenerationError, SchemaError, SchemaValidationError
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


def test_fractional_keys_and_references_can_be_declared_id() -> None:
    """``columns={"pid": "id"}`` was refused as 'fractional numbers ... Declare it numerical', and a key cannot be
    numerical: the ``id`` check accepts the floats a decimal key is generated from."""
    md, data = _data(np.arange(30) * 1.25 + 1.5)
    md = Metadata().add_table("parents", pk="pid", columns={"pid": "id", "ref": "id"}).add_table(
        "children", pk="cid", fk={"pid": "parents.pid"})
    data["parents"]["ref"] = np.arange(30) * 0.5 + 0.25
    synth = Synthesizer(md, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    parents = synth.sample(seed=1)["parents"]
    assert parents["pid"].is_unique and parents["ref"].is_unique and (parents["ref"] % 1 == 0.25).any()
    md, data = _data(np.arange(1, 31) / 3.0)  # not short decimals: still refused by the id check
    md = Metadata().add_table("parents", pk="pid", columns={"pid": "id"}).add_table(
        "children", pk="cid", fk={"pid": "parents.pid"})
    with pytest.raises(SchemaValidationError, match=r"'pid' is declared 'id' but .* not short decimals"):
        Synthesizer(md, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)


def test_float32_keys_are_decimals_at_their_own_precision() -> None:
    """A float32 1.1 was read as 1.100000023841858 and refused as 'not short decimals'."""
    md, data = _data((np.arange(30) * 1.1 + 1.1).astype(np.float32))
    synth = Synthesizer(md, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    tables = synth.sample(seed=1, num_rows={"parents": 40})
    pid = tables["parents"]["pid"]
    assert pid.dtype == np.float32 and pid.is_unique and tables["children"]["pid"].isin(pid).all()
    assert pid.iloc[:3].tolist() == np.array([1.1, 2.2, 3.3], dtype=np.float32).tolist()


def test_float32_decimal_keys_are_refused_before_they_repeat() -> None:
    """Keys on a grid of 0.25 passed float32's resolution (indices 32,000,000.. gave 9000000.0 three times): the
    numerators were capped at 2**53 whatever the dtype."""
    ids = IdGenerator("k")
    ids.prepare(pd.Series(np.float32(1e5) + np.arange(40, dtype=np.float32) * np.float32(0.25)), seed=0)
    rng = np.random.default_rng(0)
    last = (2**21 - 100_000) * 4 - 1  # the last index below 2**21, where float32 still tells 0.25 apart
    assert ids.generate(2, rng, indices=np.array([last - 1, last])).astype(np.float64).diff().iloc[1] == 0.25
    with pytest.raises(GenerationError, match=r"'k'.*float32 holds distinctly.*store the key as float64"):
        ids.generate(4, rng, indices=np.arange(32_000_000, 32_000_004))
    wide = IdGenerator("k")
    wide.prepare(pd.Series(1e6 + np.arange(40) * 0.25), seed=0)  # float64: still unique there
    assert wide.generate(4, rng, indices=np.arange(32_000_000, 32_000_004)).is_unique


def test_float32_whole_number_keys_are_refused_before_they_repeat() -> None:
    """Whole-number float32 keys (the int kind) were not capped: a key column 16776916..16777115 sampled with 400 rows
    wrote 16777217 as 16777216 and so on (351 distinct keys of 400). Keys float32 cannot hold exactly are refused;
    below 2**24 (and on an even grid past it, which float32 holds) they are generated as before."""
    md, data = _data((2**24 - 300 + np.arange(200)).astype(np.float32))
    synth = Synthesizer(md, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    pid = synth.sample(seed=1, num_rows={"parents": 300})["parents"]["pid"]
    assert pid.dtype == np.float32 and pid.is_unique and pid.max() == 2**24 - 1
    with pytest.raises(GenerationError, match=r"'pid'.*float32 holds exactly \(16777217 is not one\).*float64"):
        synth.sample(seed=1, num_rows={"parents": 400})
    even = IdGenerator("k")
    even.prepare(pd.Series((2**24 - 8 + 2 * np.arange(4)).astype(np.float32)), seed=0)
    keys = even.generate(10, np.random.default_rng(0))
    assert keys.is_unique and keys.astype(np.int64).tolist() == list(range(2**24 - 8, 2**24 + 12, 2))
