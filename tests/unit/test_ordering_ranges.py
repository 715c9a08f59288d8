"""An ordering whose columns' ranges never overlap keeps its later column in its own range.

``born`` (1970-94) always comes before ``created`` (2024-25): decoding ``created`` as ``born`` + a
learned gap lost its range (most generated ``created`` fell outside 2024-25). Such a pair keeps
``created`` modelled itself, and the order still holds in every generated row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.models import TVAE
from syntho_hive.interface.config import Inequality, Metadata
from syntho_hive.interface.synthesizer import Synthesizer


def _people(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "id": range(n),
        "born": pd.Timestamp("1970-01-01") + pd.to_timedelta(rng.integers(0, 9000, n), unit="D"),
        "created": pd.Timestamp("2024-01-01 01:02:03") + pd.to_timedelta(rng.integers(0, 9000, n), unit="h"),
    })


def _out_of_range(real: pd.Series, generated: pd.Series) -> int:
    return int(((generated < real.min()) | (generated > real.max())).sum())


@pytest.mark.parametrize("declared", [False, True])
def test_later_column_of_separate_ranges_keeps_its_range(declared: bool) -> None:
    real = _people(150)
    metadata = Metadata().add_table("people", pk="id")
    if declared:
        metadata.tables["people"].inequalities = [Inequality(low="born", high="created")]
    synth = Synthesizer(metadata, seed=0)
    synth.fit({"people": real}, epochs=30, progress_bar=False, n_jobs=1)
    if not declared:
        assert {"low": "born", "high": "created"} in synth.rules_["people"]["date_orderings"]
    out = synth.sample(seed=1)["people"]
    assert _out_of_range(real["created"], out["created"]) == 0  # was 143 of 150
    assert _out_of_range(real["born"], out["born"]) == 0
    assert (out["born"] <= out["created"]).all()


def test_separate_ranges_with_another_engine() -> None:
    real = _people(400)
    metadata = Metadata().add_table("people", pk="id", inequalities=[Inequality(low="born", high="created")])
    synth = Synthesizer(metadata, seed=0, model=TVAE)
    synth.fit({"people": real}, epochs=20, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=1)["people"]
    assert _out_of_range(real["created"], out["created"]) == 0
    assert (out["born"] <= out["created"]).all()


def test_engine_models_high_of_separate_ranges_and_still_rejects_broken_rows() -> None:
    real = _people(50).drop(columns="id")
    real["updated"] = real["created"] + pd.to_timedelta(np.arange(50), unit="h")  # overlaps created
    metadata = Metadata().add_table("people", inequalities=[("born", "created"), ("created", "updated")])
    engine = ConstraintEngine(metadata.get_table("people")).fit(real)
    out = engine.transform(real)
    assert list(out.columns) == ["born", "created", "updated#gap"]  # created modelled, updated a gap
    pd.testing.assert_frame_equal(engine.reverse_transform(out), real)
    broken = real.copy()
    broken.loc[3, "created"] = pd.Timestamp("1960-01-01")
    assert engine.is_valid(broken).tolist() == [i != 3 for i in range(50)]
    restored = ConstraintEngine.from_dict(metadata.get_table("people"), engine.to_dict())
    assert list(restored.transform(real).columns) == list(out.columns)


def test_pair_after_a_gap_keeps_its_gap() -> None:
    # created decoded as born + gap may pass its maximum: a later pair on it cannot rely on ranges
    real = _people(50).drop(columns="id")
    real["born"] = real["created"] - pd.to_timedelta(np.arange(50), unit="D")  # overlaps created
    real["closed"] = pd.Timestamp("2030-01-01")
    metadata = Metadata().add_table("people", inequalities=[("born", "created"), ("created", "closed")])
    engine = ConstraintEngine(metadata.get_table("people")).fit(real)
    assert list(engine.transform(real).columns) == ["born", "created#gap", "closed#gap"]
