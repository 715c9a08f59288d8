"""Columns of sdtype ``id`` that are no key (an order number, a loyalty card number) are unique over the
whole generated table: across the chunks of ``chunk_rows`` and across the slices of partitioned (Spark)
generation, where each model call used to number its ids from the start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.relational.orchestrator import TablePlan

N = 300


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({"customer_id": np.arange(1, N + 1), "age": rng.integers(18, 90, N),
                              "card_no": [f"LC-{i:06d}" for i in rng.permutation(N) + 1000],
                              "tier": rng.choice(["basic", "gold"], N)})
    customers.loc[::10, "card_no"] = None  # optional, as such numbers often are
    metadata = Metadata().add_table("customers", pk="customer_id", columns={"card_no": "id"})
    return Synthesizer(metadata, seed=0, epochs=1).fit({"customers": customers}, progress_bar=False)


def test_chunks_never_repeat_a_code(synth: Synthesizer) -> None:
    whole = synth.sample(num_rows={"customers": 5_000}, seed=3)["customers"]
    chunked = synth.sample(num_rows={"customers": 5_000}, seed=3, chunk_rows=700)["customers"]
    for frame in (whole, chunked):
        codes = frame["card_no"]
        assert codes.notna().all() and codes.is_unique
        assert codes.str.fullmatch(r"LC-\d{6}").all()
    # the codes are a function of the row's index in the table, not of the chunking
    pd.testing.assert_series_equal(whole["card_no"], chunked["card_no"])


def test_slices_never_repeat_a_code(synth: Synthesizer) -> None:
    parts = [synth._engine.generate(num_rows={"customers": 3_000}, seed=5, partition=(p, 4)) for p in range(4)]
    codes = pd.concat([part["customers"]["card_no"] for part in parts], ignore_index=True)
    assert len(codes) == 3_000 and codes.is_unique


def test_the_plan_keeps_the_column_out_of_the_model_and_older_plans_load(synth: Synthesizer) -> None:
    state = synth._engine.plan("customers").to_dict()
    assert "card_no" in state["unique_columns"] and "card_no" not in state["modelled"]
    del state["unique_columns"]  # as saved before: no such field
    assert TablePlan.from_dict(state).unique_columns == {}
