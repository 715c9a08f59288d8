"""Declared text lengths (``ColumnType.length``) hold for generated values of every source, not only SQL ones:
faked e-mails are drawn again then shortened as e-mails, other text is cut, and codes that would not fit are
refused before generation with a typed error naming the column and how many fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import GenerationError


def _fitted() -> Synthesizer:
    rng = np.random.default_rng(0)
    first = np.array(["ann", "bob", "cy", "dee", "eve"])
    frame = pd.DataFrame({"id": np.arange(1, 101), "code": [f"C{9900 + i}" for i in range(100)],
                          "email": [f"{rng.choice(first)}{i}@ex.io" for i in range(100)],
                          "note": rng.choice(["alpha beta", "gamma delta", "epsilon"], 100)})
    metadata = Metadata().add_table("t", pk="id", columns={"code": "id", "note": "categorical"},
                                    semantic_types={"email": "email"})
    metadata.tables["t"].column_types.update({"code": ColumnType(kind="string", length=5),
                                              "email": ColumnType(kind="string", length=14),
                                              "note": ColumnType(kind="string", length=4)})
    synthesizer = Synthesizer(metadata, seed=0)
    synthesizer.fit({"t": frame}, epochs=1, progress_bar=False, n_jobs=1)
    return synthesizer


def test_generated_text_fits_its_declared_length() -> None:
    out = _fitted().sample(num_rows={"t": 100}, seed=0)["t"]
    assert out["email"].str.len().max() <= 14 and out["email"].str.fullmatch(r"[^@]+@[^@]+").all()
    assert out["note"].str.len().max() <= 4 and out["code"].str.len().max() <= 5


def test_codes_past_the_declared_length_are_refused_before_generation() -> None:
    with pytest.raises(GenerationError, match=r"'code'.*at most 5 characters.*room for 100 .*101 are needed"):
        _fitted().sample(num_rows={"t": 101}, seed=0)
