"""Every statistic the text model keeps about its rare words is an aggregate of ``rare_threshold`` of them or more.

The reviewer's repro: the only rare value ``Zyxwvut`` left ``"rare_lengths": {"7": 1}``, its casing in
``rare_cases`` and, mixed-case, its own share of uppercase letters as ``upper_share`` in the checkpoint.

They count rows, not occurrences inside one row. The next review's repros (threshold 5): one row ``"Secretname"``
x7 among 90 common phrases kept ``'middle': {'Secretname': 5}`` (157 of 3,000 generated rows held it); the only
rare value ``"Qzxv Qzxv Qzxv Qzxv Qzxv"`` kept ``chars {'q': 5, 'v': 5, 'x': 5, 'z': 5}``; the code
``QZ-QZ-QZ-QZ-QZ`` kept ``{'A': {'Z': 5}, '^A': {'Q': 5}}``; one invalid ``2001-02-29`` among 3,000 dates turned
the date check off (272 invalid of 20,000); a lone ``zq`` next to five rare title-case words left ``rare`` 6 but
``rare_lengths {'5': 5}``. Then (rows, not words): the only rare value ``"Xq Yq Zq Wq Vq Uq Tq"`` (seven distinct
rare words) kept ``rare_lengths {'2': 5}`` and ``chars {'q': 7}``.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from syntho_hive import TabularAR
from syntho_hive.core.data.text_model import TextModel
from syntho_hive.core.metadata.schema import Metadata

LONE = "ZyxWvut-Q"  # mixed case (3 of its 8 letters upper), 9 characters
PHRASES = ["alpha beta", "gamma delta epsilon", "Quick brown fox"]


def _text_states(node: Any) -> list[dict[str, Any]]:
    """Every text model state (a dict with ``slots``) in a JSON document."""
    if isinstance(node, list):
        return [state for item in node for state in _text_states(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if isinstance(node.get("slots"), dict) and "upper_share" in node else []
    return own + [state for value in node.values() for state in _text_states(value)]


def _small_counts(state: dict[str, Any], rare_threshold: int) -> list[str]:
    """Where ``state`` keeps a count of rare-derived values below ``rare_threshold`` (0 stands for none)."""
    tables = {"lengths": state["lengths"]}
    for slot, entry in state["slots"].items():
        tables.update({f"{slot}.rare_lengths": entry["rare_lengths"], f"{slot}.rare_cases": entry["rare_cases"],
                       f"{slot}.rare": {"": entry["rare"]} if entry["rare"] else {}})
    return [f"{name}[{key!r}] = {count}" for name, table in tables.items() for key, count in table.items()
            if count < rare_threshold]


def _fit(notes: list[str], tmp_path: Path) -> tuple[TabularAR, Path, dict[str, Any]]:
    """TabularAR fitted (tiny) on ``notes`` as a text column; its checkpoint and the text state it holds."""
    data = pd.DataFrame({"age": np.random.default_rng(0).integers(18, 80, len(notes)), "note": notes})
    metadata = Metadata().add_table("t", columns={"age": "numerical", "note": "text"})
    model = TabularAR(metadata, hidden_dim=16, epochs=1, batch_size=64).fit(data, seed=1, progress_bar=False)
    path = model.save(tmp_path / "ckpt")
    states = [state for file in sorted(path.rglob("*.json"))
              for state in _text_states(json.loads(file.read_text(encoding="utf-8")))]
    assert len(states) == 1
    return model, path, states[0]


def test_a_checkpoint_keeps_no_statistic_of_a_single_rare_value(tmp_path: Path) -> None:
    model, _, state = _fit([phrase for phrase in PHRASES for _ in range(30)] + [LONE], tmp_path)
    assert not _small_counts(state, 5), _small_counts(state, 5)
    assert state["upper_share"] == 0.0  # not the lone word's 3 / 8
    assert all(str(len(LONE)) not in entry["rare_lengths"] for entry in state["slots"].values())
    assert state["chars"] == {}
    out = model.sample(500, seed=2)
    assert LONE not in set(out["note"]) and out["note"].notna().all()


def test_rare_lengths_fewer_than_the_threshold_each_are_binned_near_their_mean() -> None:
    """40 rare words of 3 to 12 letters, at most 4 of a length: bins of 5 or more words at their mean length."""
    rng = np.random.default_rng(0)
    sizes = [3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12]
    words = ["".join(rng.choice(list(string.ascii_lowercase), size)) for size in sizes]
    model = TextModel.fit(pd.Series(["frequent"] * 20 + words), rare_threshold=5)
    entry = model.state["slots"]["only"]
    assert entry["rare"] == len(words) and sum(entry["rare_lengths"].values()) == len(words)
    assert all(count >= 5 for count in entry["rare_lengths"].values())
    kept = {int(length): count for length, count in entry["rare_lengths"].items()}
    assert len(kept) >= 4 and min(sizes) <= min(kept) and max(kept) <= max(sizes)
    assert abs(sum(k * c for k, c in kept.items()) / len(words) - np.mean(sizes)) < 0.5
    out = model.generate(2000, np.random.default_rng(1))
    invented = out[out != "frequent"].str.len()
    assert set(invented) == set(kept) and not set(words) & set(out)


def test_mixed_case_share_is_kept_from_enough_mixed_words() -> None:
    words = ["McDo", "DeVi", "LaRo", "MacK", "VanD"]  # 5 mixed words, half their letters upper
    model = TextModel.fit(pd.Series(["frequent"] * 20 + words), rare_threshold=5)
    assert model.state["upper_share"] == 0.5 and model.state["slots"]["only"]["rare_cases"] == {"mixed": 5}
    assert TextModel.fit(pd.Series(["frequent"] * 20 + words[:4]), rare_threshold=5).state["upper_share"] == 0.0


_WORD = st.text(alphabet=string.ascii_letters + string.digits + "-'.", min_size=1, max_size=12)
_GAP = st.text(alphabet=" \t", min_size=1, max_size=3)


@st.composite
def _value(draw: st.DrawFn) -> str:
    """A rare value: up to 7 words, each one of up to 4 distinct words (so repeats too), with any whitespace
    between (spaces, tabs, runs of them)."""
    known = {word for phrase in PHRASES for word in phrase.split()}
    pool = draw(st.lists(_WORD.filter(lambda word: word not in known), min_size=1, max_size=4, unique=True))
    words = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=7))
    gaps = draw(st.lists(_GAP, min_size=len(words) - 1, max_size=len(words) - 1))
    return words[0] + "".join(gap + word for gap, word in zip(gaps, words[1:]))


@settings(max_examples=60, deadline=None)
@given(threshold=st.integers(2, 8), data=st.data())
def test_fewer_rare_values_than_the_threshold_leave_no_trace_but_the_row_count(threshold: int,
                                                                               data: st.DataObject) -> None:
    """A state fitted with fewer than ``rare_threshold`` rare values (each of several distinct words of any case,
    length and characters, or one repeated, with spaces) equals the one fitted without them, but for the number of
    rows, counted in the nearest kept number of words per value."""
    frequent = [phrase for phrase in PHRASES for _ in range(max(threshold, 6))]
    rare = data.draw(st.lists(_value(), min_size=1, max_size=threshold - 1))
    without = TextModel.fit(pd.Series(frequent), rare_threshold=threshold).state
    with_rare = TextModel.fit(pd.Series(frequent + rare), rare_threshold=threshold).state
    assert with_rare["rows"] == without["rows"] + len(rare) == sum(with_rare["lengths"].values())
    assert set(with_rare["lengths"]) == set(without["lengths"])
    assert {**with_rare, "rows": without["rows"], "lengths": without["lengths"]} == without
    assert not _small_counts(with_rare, threshold)

COMMON = ["alpha beta", "gamma delta epsilon", "quick brown fox"] * 30


def test_a_word_repeated_in_one_row_is_not_a_frequent_word(tmp_path: Path) -> None:
    model, path, state = _fit(COMMON + [" ".join(["Secretname"] * 7)], tmp_path)
    assert not [f for f in path.rglob("*") if f.is_file() and b"Secretname" in f.read_bytes()]
    assert all("Secretname" not in entry["frequent"] for entry in state["slots"].values())
    assert not model.sample(3000, seed=2, progress_bar=False)["note"].str.contains("Secretname").any()


def test_characters_of_one_rare_value_repeating_a_word_are_not_kept(tmp_path: Path) -> None:
    _, _, state = _fit(COMMON + ["Qzxv Qzxv Qzxv Qzxv Qzxv"], tmp_path)
    assert state["chars"] == {} and state["upper_share"] == 0.0
    assert all(entry["rare"] == 0 and not entry["rare_lengths"] for entry in state["slots"].values())


def test_one_row_of_distinct_rare_words_leaves_no_statistic(tmp_path: Path) -> None:
    """Seven distinct rare 2-letter words sharing ``q`` in one row: no length, casing, count or character kept."""
    model, _, state = _fit(COMMON + ["Xq Yq Zq Wq Vq Uq Tq"], tmp_path)
    assert not _small_counts(state, 5), _small_counts(state, 5)
    assert all("2" not in entry["rare_lengths"] and entry["rare"] == 0 for entry in state["slots"].values())
    assert "q" not in state["chars"] and state["chars"] == {}
    assert "Xq" not in " ".join(model.sample(500, seed=2, progress_bar=False)["note"])


def test_characters_of_one_code_repeating_a_run_are_not_kept(tmp_path: Path) -> None:
    _, _, state = _fit(["AB-CD-AB-CD-AB"] * 30 + ["CD-AB-CD-AB-CD"] * 30 + ["QZ-QZ-QZ-QZ-QZ"], tmp_path)
    assert state["template"]["classes"] == {}
    assert all(run["rare"] == 0 for runs in state["template"]["runs"].values() for run in runs)


def test_one_invalid_date_keeps_the_date_check_and_rare_run_counts_are_dropped(tmp_path: Path) -> None:
    dates = pd.date_range("2000-01-01", periods=3000, freq="D").strftime("%Y-%m-%d").tolist()
    model, _, state = _fit(dates + ["2001-02-29"], tmp_path)
    assert state["template"]["dates"] == {"9999-99-99": [[0, "ymd", [2000, 2008]]]}  # 2000-01-01 to 2008-03-18
    out = model.sample(20000, seed=2, progress_bar=False)["note"]
    assert pd.to_datetime(out, format="%Y-%m-%d", errors="coerce").notna().all()
    days = pd.date_range("2023-01-01", periods=40, freq="D").strftime("%Y-%m-%d").tolist()
    _, _, state = _fit([day for day in days for _ in range(3)] + ["2023-13-01"], tmp_path / "months")
    rare = [run["rare"] for runs in state["template"]["runs"].values() for run in runs]
    assert all(count == 0 or count >= 5 for count in rare), rare  # the month 13 left a rare count of 1


def test_rare_counts_add_up_to_their_lengths_and_casings(tmp_path: Path) -> None:
    words = ["Abcde", "Bcdef", "Cdefg", "Defgh", "Efghi"]
    _, _, state = _fit(["frequent"] * 20 + words + ["zq"] + COMMON[:3], tmp_path)
    entry = state["slots"]["only"]
    assert entry["rare"] == sum(entry["rare_lengths"].values()) == sum(entry["rare_cases"].values()) == 6
    assert state["rows"] == sum(state["lengths"].values())
