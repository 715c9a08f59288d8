"""Character counts of the text model never spell out a rare value: a character's count is kept only when at
least ``rare_threshold`` rare values (occurrences) hold it. The reviewer's repro: the only rare value
``QQ-9931`` left ``{"-": 1, "1": 1, "3": 1, "9": 2, "q": 2}`` in the checkpoint (its multiset of letters)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive import TabularAR
from syntho_hive.core.data.text_model import TextModel
from syntho_hive.core.metadata.schema import Metadata

#: Characters only the two rare values hold (the frequent values are words and the codes AB-12, CD-34).
RARE_ONLY = set("QQ-9931".lower()) | set("QQ-9931") | set("XZ97")


def _char_tables(node: Any) -> list[dict[str, Any]]:
    """Every character count table of the text model states in a JSON document (``chars``, each table of
    ``classes``, each of ``positions``)."""
    if isinstance(node, list):
        return [table for item in node for table in _char_tables(item)]
    if not isinstance(node, dict):
        return []
    own = [node["chars"]] if isinstance(node.get("chars"), dict) else []
    own += list(node["classes"].values()) if isinstance(node.get("classes"), dict) else []
    own += [t for t in node["positions"] if isinstance(t, dict)] if isinstance(node.get("positions"), list) else []
    return own + [table for value in node.values() for table in _char_tables(value)]


def test_a_checkpoint_keeps_no_character_count_of_a_single_rare_value(tmp_path: Path) -> None:
    rows = 61
    data = pd.DataFrame({"age": np.random.default_rng(0).integers(18, 80, rows),
                         "note": ["alpha beta"] * 40 + ["gamma"] * 20 + ["QQ-9931"],
                         "code": ["AB-12"] * 30 + ["CD-34"] * 30 + ["XZ-97"]})
    metadata = Metadata().add_table("t", columns={"age": "numerical", "note": "text", "code": "text"})
    model = TabularAR(metadata, hidden_dim=16, epochs=1, batch_size=64).fit(data, seed=1, progress_bar=False)
    path = model.save(tmp_path / "ckpt")
    tables = [table for file in sorted(path.rglob("*.json"))
              for table in _char_tables(json.loads(file.read_text(encoding="utf-8")))]
    multiset = dict(Counter("QQ-9931".lower()))
    assert multiset not in tables
    leaked = [table for table in tables if set(table) & RARE_ONLY]
    assert not leaked, leaked
    out = model.sample(2000, seed=2)
    assert not {"QQ-9931"} & set(out["note"]) and not {"XZ-97"} & set(out["code"])
    assert out["code"].str.fullmatch(r"[A-Z]{2}-\d\d").all()  # the rare share is still invented, in shape


def test_characters_held_by_enough_rare_words_are_kept_with_their_counts() -> None:
    """Ten rare words hold 'e' (14 times in all, in 9 words), four hold 'x': 'e' is kept with its 9 rows, 'x' is not; a
    word model whose characters are all dropped still invents its rare words (from a-z)."""
    words = ["bee", "eel", "elm", "keel", "reed", "ewe", "hex", "lex", "axe", "box"]
    model = TextModel.fit(pd.Series(["frequent"] * 20 + words), rare_threshold=5)
    chars = model.state["chars"]
    assert chars["e"] == sum("e" in word for word in words) == 9 and "x" not in chars
    assert all(sum(char in word for word in words) >= 5 for char in chars)
    lone = ["Zyx", "Wvu", "Tsr", "Qpo", "Nml"]  # no letter in two of them
    apart = TextModel.fit(pd.Series(["frequent"] * 20 + lone), rare_threshold=5)
    assert apart.state["chars"] == {}
    out = apart.generate(400, np.random.default_rng(0))
    invented = out[out != "frequent"]
    assert len(invented) > 0 and invented.str.fullmatch(r"[A-Z][a-z]{2}").all() and not set(lone) & set(out)
