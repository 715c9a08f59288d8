"""evaluate() on inputs data engineers pass: pyarrow dtypes, tiny lookup tables, odd names and targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation import evaluate

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["timestamp[ns, tz=UTC][pyarrow]", "timestamp[ms, tz=Europe/Paris][pyarrow]",
                                   "timestamp[us][pyarrow]", "date32[pyarrow]", "duration[s][pyarrow]"])
def test_pyarrow_temporal_columns_are_scored(dtype: str) -> None:
    """They raised ``ValueError: Could not convert object to NumPy timedelta`` (objects from to_numpy)."""
    if dtype.startswith("duration"):
        base = pd.Series(pd.to_timedelta(np.arange(60), unit="s"))
    else:
        base = pd.Series(pd.date_range("2020-01-01", periods=60, tz="UTC" if "tz=" in dtype else None))
    frame = pd.DataFrame({"t": base.astype(dtype), "x": RNG.normal(size=60), "c": RNG.choice(["a", "b"], 60)})
    result = evaluate(frame, frame, privacy=False)
    assert result.column_shapes == 1.0 and result.column_pair_trends == 1.0


def test_tiny_lookup_tables_skip_detection_and_privacy_instead_of_failing_the_schema() -> None:
    metadata = Metadata().add_table("status", pk="status_id").add_table(
        "orders", pk="oid", fk={"status_id": "status.status_id"})
    status = pd.DataFrame({"status_id": [1], "label": ["open"]})
    orders = pd.DataFrame({"oid": range(50), "status_id": 1, "amount": RNG.normal(5, 1, 50)})
    data = {"status": status, "orders": orders}
    with capture_logs() as logs:
        result = evaluate(data, data, metadata=metadata)
    skipped = {(e["table"], e["metric"]) for e in logs if e["event"] == "evaluation_metric_skipped"}
    assert skipped == {("status", "detection"), ("status", "privacy")}
    assert result.tables["status"].detection is None and result.tables["orders"].detection is not None


def test_a_target_without_features_and_an_integer_target() -> None:
    ids = pd.DataFrame({"user_id": range(60), "label": RNG.choice(["a", "b"], 60)})
    metadata = Metadata().add_table("users", columns={"user_id": "id", "label": "categorical"})
    with pytest.raises(SchemaError, match="no feature to predict 'label'"):
        evaluate(ids, ids.sample(frac=1, random_state=1), metadata=metadata, target="label",
                 detection=False, privacy=False)
    numbered = pd.DataFrame({0: RNG.normal(size=60), 1: RNG.choice(["a", "b"], 60)})  # a header-less table
    result = evaluate(numbered, numbered, target=1, detection=False, privacy=False)
    assert result.tables["table"].efficacy is not None
    with pytest.raises(SchemaError, match="target must be a column name"):
        evaluate(numbered, numbered, target=[1], detection=False, privacy=False)


def test_unparsable_numbers_and_infinite_objects_are_refused() -> None:
    """Text in a numerical column was read as missing on both sides, so two unrelated columns scored 1.0."""
    real = pd.DataFrame({"x": ["1,234.5", "2,000.1", "3,100.0"] * 20})
    metadata = Metadata().add_table("t", columns={"x": "numerical"})
    with pytest.raises(SchemaError, match="'x' is declared 'numerical' but 60 value"):
        evaluate(real, pd.DataFrame({"x": ["9,999.9"] * 60}), metadata=metadata, detection=False, privacy=False)
    infinite = pd.DataFrame({"x": pd.Series([1.0, 2.0, np.inf] * 20, dtype=object), "y": RNG.choice(["a", "b"], 60)})
    with pytest.raises(SchemaError, match="holds infinite values"):
        evaluate(infinite, infinite)


def test_child_columns_named_like_parent_columns_do_not_collide() -> None:
    """Flattened joins name columns ``users.age``; the parent-child join raised a KeyError on them."""
    metadata = Metadata().add_table("users", pk="uid").add_table("tx", pk="tid", fk={"uid": "users.uid"})
    users = pd.DataFrame({"uid": range(20), "age": RNG.integers(18, 80, 20)})
    tx = pd.DataFrame({"tid": range(50), "uid": RNG.integers(0, 20, 50), "users.age": RNG.normal(size=50)})
    data = {"users": users, "tx": tx}
    result = evaluate(data, data, metadata=metadata, detection=False, privacy=False)
    pairs = result.relational.foreign_keys[0].pairs
    assert [(p.column_1, p.column_2) for p in pairs] == [("users.age", "users.age")]


def test_plain_reading_of_unusual_efficacy_ratios() -> None:
    """A negative R^2 ratio used to read "reaches -50% of the score"."""
    import dataclasses

    from syntho_hive.validation.report.html import plain_reading

    frame = pd.DataFrame({"x": RNG.normal(size=60), "c": RNG.choice(["a", "b"], 60)})
    result = evaluate(frame, frame, detection=False, privacy=False)
    texts = {ratio: " ".join(plain_reading(dataclasses.replace(result, ml_efficacy=ratio)))
             for ratio in (-0.5, 0.8, 3.1)}
    assert "does worse than predicting the average" in texts[-0.5] and "-50%" not in texts[-0.5]
    assert "reaches 80% of the score" in texts[0.8] and "above 100%" not in texts[0.8]
    assert "reaches 310%" in texts[3.1] and "ratio is noisy" in texts[3.1]
