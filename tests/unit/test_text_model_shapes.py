"""Text columns beyond words: structured strings keep their shape, no value is longer than the
column's longest, ``bytes`` columns are generated as random bytes, and states written before these
additions (``tests/fixtures/text_model_v1.json``) generate exactly as they did."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syntho_hive import TabularAR
from syntho_hive.core.data.text_model import TextModel, TextStats, analyze_text, shape_of
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models import CTGAN, TVAE
from syntho_hive.exceptions import SchemaError, SerializationError

FIXTURES = Path(__file__).parents[1] / "fixtures"
ENGINES: dict[str, tuple[type, dict[str, Any]]] = {
    "tabular_ar": (TabularAR, dict(hidden_dim=32, epochs=2, batch_size=64, learning_rate=3e-3)),
    "ctgan": (CTGAN, dict(embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32, 32), batch_size=100,
                          epochs=1, max_modes=3, device="cpu")),
    "tvae": (TVAE, dict(embedding_dim=8, compress_dims=(32,), decompress_dims=(32,), batch_size=100, epochs=1,
                        device="cpu")),
}
TIME = re.compile(r"\d\d:\d\d:\d\d")
CODE = re.compile(r"[A-Z]{2}-\d{4}")


def _v1() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_text_v1", FIXTURES / "make_text_model_v1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _docs(n: int = 300, seed: int = 0) -> list[str]:
    return [json.dumps({"k": int(v)}) for v in np.random.default_rng(seed).integers(0, 1000, n)]


def _times(n: int = 300, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{h:02d}:{m:02d}:{s:02d}" for h, m, s in zip(rng.integers(0, 24, n), rng.integers(0, 60, n),
                                                           rng.integers(0, 60, n))]


def _codes(n: int = 300, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{''.join(rng.choice(list('ABCDEFGHJK'), 2))}-{rng.integers(0, 10000):04d}" for _ in range(n)]


def _blobs(n: int = 300, seed: int = 0, size: int = 8) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for _ in range(n)]


def _short(n: int = 300, seed: int = 0) -> list[str]:
    """At most 6 characters (a ``VARCHAR(6)`` column): one word, or two whose lengths add up to 5 at most
    (words drawn independently by their slot would often make longer values)."""
    rng = np.random.default_rng(seed)
    letters = list("bcdfghjklmnpqrstvwz")

    def word(size: int) -> str:
        return "".join(rng.choice(letters, size))

    out = []
    for _ in range(n):
        first = int(rng.integers(1, 5))
        out.append(word(int(rng.integers(2, 7))) if rng.random() < 0.3 else f"{word(first)} {word(5 - first)}")
    return out


def _is_doc(value: str) -> bool:
    try:
        doc = json.loads(value)
    except json.JSONDecodeError:
        return False
    return isinstance(doc, dict) and list(doc) == ["k"] and isinstance(doc["k"], int)


# ---------------------------------------------------------------- the model itself

def test_shape_maps_letters_and_digits_and_keeps_the_rest() -> None:
    assert shape_of('{"k": 802}') == '{"a": 999}'
    assert shape_of("AB-1234") == "AA-9999"
    assert shape_of("12:05:59") == "99:99:99"
    assert shape_of("John Smith") == "Aaaa Aaaaa"


def test_json_documents_come_back_as_json_with_their_key() -> None:
    model = TextModel.fit(pd.Series(_docs(), name="doc"))
    out = model.generate(3000, np.random.default_rng(1), name="doc")
    assert all(_is_doc(value) for value in out), [v for v in out if not _is_doc(v)][:5]
    assert out.map(lambda v: len(str(json.loads(v)["k"]))).value_counts(normalize=True)[3] > 0.8


@pytest.mark.parametrize(("values", "pattern"), [(_times(), TIME), (_codes(), CODE)], ids=["times", "codes"])
def test_times_and_codes_keep_their_pattern(values: list[str], pattern: re.Pattern[str]) -> None:
    out = TextModel.fit(pd.Series(values)).generate(2000, np.random.default_rng(2))
    assert all(pattern.fullmatch(v) for v in out), [v for v in out if not pattern.fullmatch(v)][:5]


def test_the_template_state_holds_no_rare_value_and_is_plain_json() -> None:
    codes = _codes()
    state = TextModel.fit(pd.Series(codes)).to_dict()
    text = json.dumps(state)
    assert "template" in state and not [code for code in codes if code in text]
    assert set(state["template"]["shapes"]) == {"AA-9999"}
    assert all(count >= 5 for table in state["template"]["positions"]["AA-9999"] for count in table.values())
    assert TextModel(json.loads(text)).generate(50, np.random.default_rng(0)).tolist() == \
        TextModel(state).generate(50, np.random.default_rng(0)).tolist()


def test_shapes_seen_less_than_rare_threshold_times_are_not_templates() -> None:
    docs = _docs(40)  # 2-digit numbers are too few for their shape to be kept at threshold 5
    model = TextModel.fit(pd.Series(docs), rare_threshold=5)
    shapes = model.state["template"]["shapes"]
    assert all(count >= 5 for count in shapes.values()) and '{"a": 9}' not in shapes
    # Above the coverage the shapes can give (all distinct), the word model stays.
    assert "template" not in TextModel.fit(pd.Series(docs), rare_threshold=len(docs)).state


def test_names_keep_the_word_model_output() -> None:
    """Names (letters and spaces) never switch to templates: same values as before these changes."""
    old = json.loads((FIXTURES / "text_model_v1.json").read_text(encoding="utf-8"))
    names = _v1().columns()["names"]
    model = TextModel.fit(names)
    assert "template" not in model.state and model.state["max_length"] == names.str.len().max()
    out = model.generate(40, np.random.default_rng(3), name="names")
    assert [None if pd.isna(v) else v for v in out] == old["names"]["expected"]
    assert {k: v for k, v in model.state.items() if k != "max_length"} == TextModel(old["names"]["state"]).state


@pytest.mark.parametrize("column", ["names", "emails", "codes", "docs"])
def test_states_written_before_generate_as_before(column: str) -> None:
    old = json.loads((FIXTURES / "text_model_v1.json").read_text(encoding="utf-8"))[column]
    assert not {"max_length", "template", "binary"} & set(old["state"])
    out = TextModel.from_dict(old["state"]).generate(40, np.random.default_rng(3), name=column)
    assert [None if pd.isna(v) else v for v in out] == old["expected"]


def test_no_value_is_longer_than_the_longest_training_value() -> None:
    short = pd.Series(_short() + [None] * 10, name="tag")
    model = TextModel.fit(short)
    out = model.generate(3000, np.random.default_rng(0)).dropna()
    assert out.str.len().max() <= 6 and model.state["max_length"] == 6
    assert not out.str.endswith(" ").any() and out.str.len().min() >= 1
    # Word counts stay as in training (too-long values are drawn again with the same number of words).
    real = short.dropna().str.split().str.len().value_counts(normalize=True)
    made = out.str.split().str.len().value_counts(normalize=True)
    assert made.reindex(real.index).to_numpy() == pytest.approx(real.to_numpy(), abs=0.04)


def test_bytes_are_random_bytes_with_the_training_lengths() -> None:
    blobs = _blobs(200, size=8) + _blobs(100, seed=1, size=16) + _blobs(2, seed=2, size=5)
    series = pd.Series(blobs + [None] * 30, name="pw_hash")
    model = TextModel.fit(series)
    assert model.state["binary"] == {"8": 200, "16": 100}  # length 5 (2 rows) is rare
    out = model.generate(2000, np.random.default_rng(0), name="pw_hash")
    present = out.dropna()
    assert out.dtype == object and set(map(type, present)) == {bytes}
    assert set(present.map(len)) == {8, 16} and present.map(len).eq(8).mean() == pytest.approx(2 / 3, abs=0.04)
    assert abs(out.isna().mean() - 30 / 332) < 0.03
    assert not set(present) & set(blobs)
    again = TextModel.from_dict(json.loads(json.dumps(model.to_dict()))).generate(2000, np.random.default_rng(0))
    assert again.tolist() == out.tolist()


def test_bytes_lengths_none_frequent_keep_the_most_common_length() -> None:
    blobs = [bytes([1] * size) for size in (3, 4, 4, 5, 7, 7)]
    model = TextModel.fit(pd.Series(blobs + [bytearray(b"ab"), memoryview(b"cd")]), rare_threshold=5)
    assert model.state["binary"] == {"2": 2}  # 2, 4 and 7 bytes: twice each, the shortest wins
    assert set(model.generate(50, np.random.default_rng(0)).map(len)) == {2}


def test_nested_values_and_bytes_mixed_with_text_are_refused_with_the_column_name() -> None:
    with pytest.raises(SchemaError, match=r"'payload'.*nested values \(dict\)"):
        TextModel.fit(pd.Series([{"k": 1}, "a"], name="payload"))
    with pytest.raises(SchemaError, match=r"'blob'.*mixes bytes with other values \(str\)"):
        TextModel.fit(pd.Series([b"\x00\xff", "text"], name="blob"))
    parts = [analyze_text(pd.Series([b"\x01"] * 3, name="blob")), analyze_text(pd.Series(["x"] * 3, name="blob"))]
    with pytest.raises(SchemaError, match="'blob'.*bytes in some partitions"):
        TextModel.build(parts[0].merge(parts[1]), column="blob")


@pytest.mark.parametrize(("change", "match"), [
    ({"max_length": -1}, "max_length"),
    ({"max_length": "3"}, "max_length"),
    ({"binary": {}}, "binary"),
    ({"binary": {"x": 3}}, "binary"),
    ({"template": {"shapes": {"99": 5}}}, "template"),
    ({"template": {"shapes": {"99": 5}, "positions": {"99": [{}]}, "classes": {"9": {"1": 5}}}}, "position"),
    ({"template": {"shapes": {"99": 5}, "positions": {"99": [{"12": 5}, {}]}, "classes": {"9": {"1": 5}}}},
     "position 0"),
    ({"template": {"shapes": {"9-9": 5}, "positions": {"9-9": [{}, {"-": 5}, {}]}, "classes": {"9": {"1": 5}}}},
     "literal position 1"),
    ({"template": {"shapes": {"99": 5}, "positions": {"99": [{}, {}]}, "classes": {"9": {"1": 5}}}}, "'\\^9'"),
    ({"template": {"shapes": {"99": 5}, "positions": {"99": [{"1": 6}, {}]}, "classes": {}}}, "more characters"),
    ({"template": {"shapes": {"9": 5}, "positions": {"9": [{}]}, "classes": {"x": {"1": 5}}}}, "classes"),
])
def test_malformed_new_state_fields_raise_serialization_error(change: dict[str, Any], match: str) -> None:
    state = {**TextModel.fit(pd.Series(["a b"] * 10)).to_dict(), **change}
    with pytest.raises(SerializationError, match=match):
        TextModel(state)


_VALUES = st.one_of(st.none(), st.sampled_from(["AB-12", "CD-34", "x y", "Anna Lee", '{"k": 1}']),
                    st.text(alphabet="ab1-: ", max_size=6))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_VALUES, max_size=30), st.lists(_VALUES, max_size=30), st.lists(_VALUES, max_size=30))
def test_merge_is_associative_and_commutative_and_matches_one_partition(a: list, b: list, c: list) -> None:
    stats = [analyze_text(pd.Series(part, dtype=object, name="c")) for part in (a, b, c)]
    left = stats[0].merge(stats[1]).merge(stats[2])
    right = stats[0].merge(stats[1].merge(stats[2]))
    swapped = stats[2].merge(stats[0]).merge(stats[1])
    whole = analyze_text(pd.Series(a + b + c, dtype=object, name="c"))
    for other in (right, swapped, whole):
        assert {k: v for k, v in left.to_dict().items() if k != "marker"} == \
            {k: v for k, v in other.to_dict().items() if k != "marker"}
    assert TextStats(**json.loads(json.dumps(left.to_dict()))) == left
    if sum(left.lengths.values()):
        model = TextModel.build(left, 2)
        out = model.generate(30, np.random.default_rng(0)).dropna()
        assert out.str.len().max() <= left.longest
        assert model.generate(30, np.random.default_rng(0)).tolist() == \
            TextModel.build(whole, 2).generate(30, np.random.default_rng(0)).tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=6), min_size=1, max_size=30), st.integers(1, 6))
def test_bytes_model_never_returns_a_length_it_did_not_keep(blobs: list[bytes], threshold: int) -> None:
    model = TextModel.fit(pd.Series(blobs, dtype=object), rare_threshold=threshold)
    kept = {int(k) for k in model.state["binary"]}
    assert all(count >= threshold for count in model.state["binary"].values()) or len(kept) == 1
    out = model.generate(40, np.random.default_rng(0))
    assert set(out.map(len)) <= kept and max(kept) <= max(map(len, blobs))


# ---------------------------------------------------------------- through the engines

def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "doc": _docs(n, seed=5),
        "code": _codes(n, seed=6),
        "tag": _short(n, seed=7),
        "pw_hash": _blobs(n, seed=8),
    })


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


def _check_shapes(out: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert out["doc"].map(_is_doc).all()
    assert out["code"].map(lambda v: bool(CODE.fullmatch(v))).all()


def _check_length(out: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert out["tag"].str.len().max() <= 6


def _check_bytes(out: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert out["pw_hash"].dtype == object and set(map(type, out["pw_hash"])) == {bytes}
    assert set(out["pw_hash"].map(len)) == {8} and not set(out["pw_hash"]) & set(frame["pw_hash"])


DEFECTS = {"shapes": (["doc", "code"], _check_shapes), "length": (["tag"], _check_length),
           "bytes": (["pw_hash"], _check_bytes)}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
@pytest.mark.parametrize("name", sorted(ENGINES))
def test_engines_generate_json_and_codes_in_shape_capped_text_and_bytes(name: str, defect: str,
                                                                          frame: pd.DataFrame) -> None:
    cls, params = ENGINES[name]
    columns, check = DEFECTS[defect]
    data = frame[["age", *columns]]
    metadata = Metadata().add_table("t", columns={"age": "numerical", **{c: "text" for c in columns}})
    out = cls(metadata, **params).fit(data, seed=1, progress_bar=False).sample(200, seed=2)
    check(out, data)
    again = cls(metadata, **params).fit(data, seed=1, progress_bar=False).sample(200, seed=2)
    pd.testing.assert_frame_equal(again[columns], out[columns])  # seeded: identical run to run


def test_tabular_ar_detected_bytes_and_all_rare_codes(frame: pd.DataFrame) -> None:
    """The pandas repro: a detected table with a column of random 8-byte values fits (the column,
    all of whose values are rare, is generated as bytes) and so do codes seen 3 times each (detected
    as categorical, all rare: modelled as text) keep their shape."""
    data = frame[["age", "pw_hash"]].assign(code=_codes(100, seed=6) * 3)
    metadata = Metadata.detect(data, "t")
    assert metadata.tables["t"].columns["code"] == "categorical"
    model = TabularAR(metadata, **ENGINES["tabular_ar"][1]).fit(data, seed=0)
    out = model.sample(100, seed=1)
    assert out["pw_hash"].dtype == object and set(map(type, out["pw_hash"])) == {bytes}
    assert set(out["pw_hash"].map(len)) == {8} and not set(out["pw_hash"]) & set(data["pw_hash"])
    assert out["code"].map(lambda v: bool(CODE.fullmatch(v))).all()


def test_tabular_ar_refuses_a_text_column_of_nested_values_by_name() -> None:
    data = pd.DataFrame({"age": range(20), "payload": [{"k": i} for i in range(20)]})
    metadata = Metadata().add_table("t", columns={"age": "numerical", "payload": "text"})
    with pytest.raises(SchemaError, match="'payload'"):
        TabularAR(metadata, **ENGINES["tabular_ar"][1]).fit(data, seed=0)
