"""Engines keep the values of an ``object`` column that mixes ``1``, ``True``, ``1.0`` and ``"1"`` apart.

Python counts ``1 == True == 1.0`` (and hashes them alike), so encoders keyed by value used to
merge them and ``True`` / ``1.0`` came back as ``1``. Every engine now samples only ``(type,
value)`` pairs seen in training, also after a save / load; its encoder keeps one category per
pair. A boolean column TabularAR cannot tell apart is refused, naming the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.models.ctgan import CTGAN
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.core.models.tabular_ar.encoders import TableCodec
from syntho_hive.core.models.tabular_ar.encoders.ids import IdCodec, IdStats
from syntho_hive.core.models.tvae import TVAE
from syntho_hive.exceptions import SchemaError, SerializationError

MIXED = [1, True, 1.0, "1", 2, False, "x"]
TINY = {
    "ctgan": lambda: CTGAN(epochs=1, batch_size=40, pac=4, generator_dim=(16,), discriminator_dim=(16,),
                           embedding_dim=8, device="cpu"),
    "tvae": lambda: TVAE(epochs=1, batch_size=40, device="cpu"),
    "tabular_ar": lambda: TabularAR(epochs=1, hidden_dim=16),
}


def _pairs(values: pd.Series) -> set[tuple[type, Any]]:
    return {(type(v), v) for v in values}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    n = len(MIXED) * 30
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "mixed": pd.Series(MIXED * 30, dtype=object),
        "amount": np.round(rng.normal(50, 10, n), 2),
        "city": rng.choice(["Paris", "Oslo", "Rome"], n).astype(object),
    })


@pytest.mark.parametrize("engine", sorted(TINY))
def test_sampled_values_are_training_values_with_their_type(engine: str, table: pd.DataFrame,
                                                            tmp_path: Path) -> None:
    model = TINY[engine]().fit(table, seed=0, progress_bar=False)
    seen = _pairs(table["mixed"])
    for fitted in (model, type(model)().load(model.save(tmp_path / engine))):
        sample = fitted.sample(400, seed=1)
        assert _pairs(sample["mixed"]) <= seen
        assert len(_pairs(sample["mixed"]) & {(bool, True), (int, 1), (float, 1.0)}) >= 2
    if engine == "tabular_ar":
        values = model.codec_.codec("mixed").values_json
    else:
        values = [v for v in model.transformer_.output_info_ if v.column == "mixed"][0].categories
    assert len(values) == len(MIXED)


def test_tabular_ar_refuses_a_boolean_column_mixing_true_and_1() -> None:
    frame = pd.DataFrame({"flag": pd.Series([True, 1, False, 0] * 10, dtype=object)})
    with pytest.raises(SchemaError, match="Boolean column 'flag' mixes bool and int values.*declare it categorical"):
        TableCodec.fit(frame, {"flag": "boolean"})


@pytest.mark.parametrize("values", [[1, 0, 1], [1.0, 0.0, 0.0], [True, False, np.bool_(True)]])
def test_tabular_ar_decodes_a_boolean_object_column_as_its_own_type(values: list[Any]) -> None:
    frame = pd.DataFrame({"flag": pd.Series(values * 10, dtype=object)})
    codec = TableCodec.fit(frame, {"flag": "boolean"})
    back = codec.decode(codec.encode(frame), np.random.default_rng(0))["flag"]
    assert [(type(v), v) for v in back] == [(type(v.item() if isinstance(v, np.generic) else v), v)
                                            for v in frame["flag"]]
    assert "value_type" not in codec.codec("flag").to_dict() or not isinstance(values[0], (bool, np.bool_))


# ----------------------------------------------------------------------------- id generator state


@pytest.mark.parametrize("series", [
    pd.Series([5, 7, 9, 11]),
    pd.Series(["C0042", "C0043", "C0045"], dtype=object),
    pd.Series(["8A6E0804-2BD0-4672-B79D-D97027F9071A"], dtype="string"),
    pd.Series(["ab-x", "zz-y", "q"], dtype=object),
    pd.Series(pd.date_range("2024-03-30", periods=4, freq="D", tz="Europe/Paris")),
])
def test_an_id_generator_stores_its_own_format(series: pd.Series) -> None:
    generator = IdGenerator("key").fit(series)
    state = generator.to_dict()
    again = IdGenerator.from_dict(state, column="key")
    assert again.to_dict() == state
    pd.testing.assert_series_equal(again.generate(20, np.random.default_rng(3)),
                                   generator.generate(20, np.random.default_rng(3)))


def test_an_id_codec_state_from_before_reads_back() -> None:
    stored = {"kind": "code", "start": 42, "step": 1, "prefix": "C", "width": 4, "upper": False, "length": 12,
              "alphabet": "0123456789abcdefghijklmnopqrstuvwxyz", "dtype": {"name": "object"}, "marker": None}
    codec = IdCodec.from_dict({"kind": "id", "column": "key", "state": stored})
    assert codec.generate(3, np.random.default_rng(0)).tolist() == ["C0042", "C0043", "C0044"]
    assert codec.to_dict()["state"] == stored


def test_id_formats_merge_on_the_generator() -> None:
    first = IdStats(IdGenerator("k").fit(pd.Series(["C10", "C12"])).to_dict())
    second = IdStats(IdGenerator("k").fit(pd.Series(["C04", "C05"])).to_dict())
    merged = first.merge(second).format
    assert (merged["kind"], merged["start"], merged["step"]) == ("code", 4, 1)
    words = IdStats(IdGenerator("k").fit(pd.Series(["ab", "zz-y"])).to_dict())
    more = IdStats(IdGenerator("k").fit(pd.Series(["Q!", "xQ"])).to_dict())
    merged = words.merge(more).format
    assert (merged["alphabet"], merged["length"]) == ("!-Qabxyz", 4)


@pytest.mark.parametrize("broken", [
    {}, {"kind": "nonsense"}, {"kind": "int", "start": "x"},
    {"step": 0}, {"step": -1}, {"step": True}, {"step": 1.5}, {"start": 2.5}, {"width": -1}, {"width": 10**30},
    {"length": 0}, {"length": 10**30}, {"prefix": None}, {"prefix": ["C"]}, {"upper": "no"}, {"alphabet": ""},
    {"alphabet": None}, {"alphabet": ["a"]},
])
def test_a_corrupt_id_format_is_a_serialization_error(broken: dict[str, Any]) -> None:
    state = {"kind": "int", "start": 0, "step": 1, "prefix": "", "width": 0, "upper": False, "length": 12,
             "alphabet": "0123456789", "dtype": {"name": "int64"}, "marker": None}
    with pytest.raises(SerializationError, match="id column 'key'"):
        IdGenerator.from_dict({**state, **broken} if broken else {}, column="key")
