"""The parent context a child's model is sampled with: generated parent values reach it as they are,
except where the child's model could not encode them (unseen categories, nulls it never saw)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from rows_engine import RowsEngine

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.models import register_model
from syntho_hive.relational.context import ContextDomain


@register_model
class ContextEcho(RowsEngine):
    """Test engine: each generated row's ``echo`` is its parent context's first column (so the context
    the orchestrator passes is visible in the output)."""

    def _draw(self, num_rows, context, *, seed, conditions, enforce_constraints, progress_bar, **options):
        echo = context.iloc[:, 0].to_numpy() if context is not None else np.zeros(num_rows)
        return pd.DataFrame({"echo": echo})


def test_wide_integer_context_reaches_the_child_model_unchanged() -> None:
    """A parent's integer attribute with many values (head count, altitude) is a number to every engine:
    generated values the training parents did not have are kept (they used to be replaced by a random
    training value, which erased the parent-child relation)."""
    rng = np.random.default_rng(0)
    customers = pd.DataFrame({"customer_id": np.arange(200), "employees": rng.integers(1, 5_000, 200)})
    per = rng.integers(1, 4, 200)
    orders = pd.DataFrame({"order_id": np.arange(per.sum()), "customer_id": np.repeat(customers["customer_id"], per),
                           "echo": rng.normal(size=per.sum())})  # not a copy of the parent's column
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    metadata.tables["orders"].parent_context_cols = ["employees"]
    synth = Synthesizer(metadata, model={"orders": ContextEcho}, seed=0)
    synth.fit({"customers": customers, "orders": orders}, epochs=1, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=0)
    joined = out["orders"].merge(out["customers"], on="customer_id")
    assert len(joined) == len(out["orders"]) > 0
    assert (joined["echo"].to_numpy() == joined["employees"].to_numpy()).all()
    assert not set(out["customers"]["employees"]) <= set(customers["employees"])  # new values were generated
    domain = synth._engine.plan("orders").context_domain.columns
    assert domain["customer_id.employees"] == {"nulls": False}  # no real value stored


def test_null_context_unseen_in_training_does_not_break_the_child() -> None:
    """Parents whose attributes are null have no children in the real data, so the child's model never saw
    a null there; generated parents with a null and children get another generated parent's value
    (TabularAR refused the null and the whole sample failed)."""
    rng = np.random.default_rng(0)
    n = 300
    year = rng.normal(2000, 5, n).round()
    year[:90] = np.nan
    opened = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"))
    opened[:90] = pd.NaT
    planes = pd.DataFrame({"plane_id": np.arange(n), "year": year, "opened": opened,
                           "kind": rng.choice(["a", "b", "c"], n)})
    planes.loc[:90, "kind"] = None
    per = rng.poisson(3, n)
    per[:90] = 0
    flights = pd.DataFrame({"flight_id": np.arange(per.sum()), "plane_id": np.repeat(planes["plane_id"], per),
                            "minutes": rng.normal(size=per.sum())})
    metadata = (Metadata().add_table("planes", pk="plane_id")
                .add_table("flights", pk="flight_id", fk={"plane_id": "planes.plane_id"}))
    synth = Synthesizer(metadata, seed=0)
    synth.fit({"planes": planes, "flights": flights}, epochs=2, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=0)
    assert len(out["flights"]) > 0
    assert synth._engine.plan("flights").context_domain.columns["plane_id.year"] == {"nulls": False}


def test_context_domain_guards_discrete_columns_and_only_nulls_of_continuous_ones() -> None:
    training = pd.DataFrame({
        "stamp": pd.date_range("2020-01-01", periods=20, tz="UTC"), "count": pd.array(range(20), dtype="Int64"),
        "opens": [dt.time(i % 24) for i in range(20)], "price": np.arange(20.0), "tier": ["a", "b"] * 10,
        "stars": [1, 2, 3, 4, 5] * 4, "flag": [True, False] * 10})
    domain = ContextDomain.learn(training)
    for column in ("stamp", "count", "opens", "price"):  # no value of a continuous column is stored
        assert domain.columns[column] == {"nulls": False}
    assert sorted(domain.columns["stars"]["values"]) == [1, 2, 3, 4, 5]
    assert sorted(domain.columns["tier"]["values"]) == ["a", "b"]
    generated = pd.DataFrame({
        "stamp": pd.Series([pd.NaT, *pd.date_range("2030-01-01", periods=3, tz="UTC")]),
        "count": pd.array([None, 50, 60, 70], dtype="Int64"), "opens": [None, dt.time(3), dt.time(4), dt.time(5)],
        "price": [np.nan, 1.5, 2.0, 3.0], "tier": ["z", None, "a", "b"], "stars": [7, 1, 2, 3],
        "flag": [True, False, False, True]})
    fixed, replaced = domain.apply(generated, np.random.default_rng(0))
    assert replaced == 7  # four nulls of continuous columns, "z", the null tier, the 7 stars
    assert fixed.notna().all().all()
    assert fixed["count"].tolist()[1:] == [50, 60, 70] and fixed["count"].iloc[0] in (50, 60, 70)
    assert fixed["stamp"].iloc[0] in set(generated["stamp"].iloc[1:])
    assert fixed["stamp"].dtype == generated["stamp"].dtype
    assert fixed["price"].tolist()[1:] == [1.5, 2.0, 3.0]
    assert set(fixed["tier"]) <= {"a", "b"} and set(fixed["stars"]) <= {1, 2, 3, 4, 5}
    assert fixed["count"].dtype == "Int64"


@pytest.mark.parametrize("column", [pd.Series([np.nan, np.nan]), pd.Series([1.0, 2.0])])
def test_a_continuous_column_all_null_or_without_nulls_is_left_as_it_is(column: pd.Series) -> None:
    domain = ContextDomain({"x": {"nulls": False}})
    fixed, replaced = domain.apply(pd.DataFrame({"x": column}), np.random.default_rng(0))
    assert replaced == 0
    pd.testing.assert_series_equal(fixed["x"], column, check_names=False)


def test_a_parents_rare_values_never_reach_the_childs_checkpoint(tmp_path) -> None:  # noqa: ANN001
    """Counted over child rows, the city of one sales rep with 30 customers (and that rep's outlier salary)
    looked frequent to the customers' model, which kept them in its files; they are rare over the reps."""
    rng = np.random.default_rng(1)
    reps = pd.DataFrame({"rep_id": np.arange(1, 41), "city": ["Denver"] * 20 + ["Aurora"] * 19 + ["Zzyzxville"],
                         "salary": np.r_[np.round(rng.normal(50_000, 5_000, 39), 2), 987_654.32]})
    rep = np.r_[np.full(30, 40), rng.integers(1, 40, 370)]  # the rep in Zzyzxville has 30 customers
    customers = pd.DataFrame({"customer_id": np.arange(1, 401), "rep_id": rep,
                              "spend": np.round(rng.gamma(2, 50, 400), 2), "segment": rng.choice(["a", "b"], 400)})
    metadata = (Metadata().add_table("reps", pk="rep_id")
                .add_table("customers", pk="customer_id", fk={"rep_id": "reps.rep_id"},
                           parent_context_cols=["city", "salary"]))
    synth = Synthesizer(metadata, seed=0, epochs=1).fit({"reps": reps, "customers": customers}, progress_bar=False)
    directory = synth.save(tmp_path / "synth")
    for path in (p for p in directory.rglob("*") if p.is_file() and "customers" in str(p)):
        raw = path.read_bytes()
        assert b"Zzyzx" not in raw and b"987654" not in raw, path.name
    assert [c.parent_column for c in synth._engine.plan("customers").context] == ["city", "salary"]
    out = synth.sample(seed=2)
    assert len(out["customers"]) and out["customers"]["rep_id"].isin(out["reps"]["rep_id"]).all()
