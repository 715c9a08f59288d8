"""Key-closed subsets in pandas: the rows drawn, their descendants, every row they reference, zero orphans.

The orphan check and the descendant check are written here from the metadata's ``fk`` strings with
plain Python sets, independent of the schema graph and of the code under test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import ConfigurationError, SchemaError
from syntho_hive.relational.subset import (
    Subset,
    SubsetReport,
    complete_rows,
    draw_keys,
    plan_subset,
    subset_frames,
)


# --------------------------------------------------------------------------- independent checks
def _fk_groups(md: Metadata, table: str) -> list[tuple[str, list[str], list[str]]]:
    """``(parent, child columns, parent columns)`` per FK, composite FKs grouped by parent."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    singles: list[tuple[str, list[str], list[str]]] = []
    for column, target in md.tables[table].fk.items():
        parent, _, parent_column = target.rpartition(".")
        if len(md.tables[parent].pk_columns) > 1:
            children, parents = groups.setdefault(parent, ([], []))
            children.append(column)
            parents.append(parent_column)
        else:
            singles.append((parent, [column], [parent_column]))
    return singles + [(parent, c, p) for parent, (c, p) in groups.items()]


def _tuples(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...] | None]:
    """Each row's values of ``columns`` as a tuple of Python values, ``None`` when one is null."""
    out: list[tuple[Any, ...] | None] = []
    for row in frame[columns].astype(object).itertuples(index=False, name=None):
        out.append(None if any(pd.isna(v) for v in row) else tuple(int(v) for v in row))
    return out


def orphans(md: Metadata, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Per ``child->parent`` FK, how many non-null FK values have no row in the parent."""
    found: dict[str, int] = {}
    for table in md.tables:
        for parent, children, parents in _fk_groups(md, table):
            present = {t for t in _tuples(frames[parent], parents) if t is not None}
            missing = sum(1 for t in _tuples(frames[table], children) if t is not None and t not in present)
            if missing:
                found[f"{table}.{'+'.join(children)}->{parent}"] = missing
    return found


def key_set(frame: pd.DataFrame, columns: list[str]) -> set[tuple[Any, ...]]:
    return {t for t in _tuples(frame, columns) if t is not None}


# --------------------------------------------------------------------------- the shop
def shop(n_customers: int = 120, seed: int = 0) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """customers -> orders -> order_items (composite key); products (and their categories) referenced
    by items; employees (managers: a self-reference) referenced by orders; an isolated audit_log."""
    rng = np.random.default_rng(seed)
    md = Metadata()
    md.add_table("product_category", pk="category_id")
    md.add_table("products", pk="product_id", fk={"category_id": "product_category.category_id"})
    md.add_table("customers", pk="customer_id")
    md.add_table("employees", pk="employee_id", fk={"manager_id": "employees.employee_id"})
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id",
                                              "employee_id": "employees.employee_id"})
    md.add_table("order_items", pk=["order_id", "line_no"], fk={"order_id": "orders.order_id",
                                                                "product_id": "products.product_id"})
    md.add_table("audit_log", pk="log_id")
    categories = pd.DataFrame({"category_id": np.arange(1, 9), "name": [f"c{i}" for i in range(8)]})
    products = pd.DataFrame({"product_id": np.arange(500, 560), "category_id": rng.integers(1, 9, 60),
                             "price": np.round(rng.lognormal(3, 0.5, 60), 2)})
    customers = pd.DataFrame({"customer_id": rng.permutation(np.arange(10_000, 10_000 + n_customers)),
                              "city": rng.choice(["Oslo", "Lima", "Pune"], n_customers)})
    managers = [None] + [int(rng.integers(1, i + 1)) for i in range(1, 30)]  # employee i+1 reports to one before
    employees = pd.DataFrame({"employee_id": np.arange(1, 31), "manager_id": pd.array(managers, dtype="Int64")})
    n_orders = 3 * n_customers
    orders = pd.DataFrame({
        "order_id": np.arange(1, n_orders + 1),
        "customer_id": rng.choice(customers["customer_id"], n_orders),
        "employee_id": pd.array([None if rng.random() < 0.2 else int(rng.integers(1, 31)) for _ in range(n_orders)],
                                dtype="Int64"),
    })
    lines = rng.integers(1, 4, n_orders)
    items = pd.DataFrame({"order_id": np.repeat(orders["order_id"].to_numpy(), lines),
                          "line_no": np.concatenate([np.arange(1, k + 1) for k in lines]),
                          "product_id": rng.choice(products["product_id"], int(lines.sum()))})
    audit = pd.DataFrame({"log_id": np.arange(1, 201), "event": rng.choice(["login", "logout"], 200)})
    frames = {"product_category": categories, "products": products, "customers": customers,
              "employees": employees, "orders": orders, "order_items": items, "audit_log": audit}
    return md, frames


@pytest.fixture(scope="module")
def data() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    return shop()


def _manager_closure(employees: pd.DataFrame, start: set[int]) -> set[int]:
    boss = dict(zip(employees["employee_id"], employees["manager_id"]))
    found, todo = set(), list(start)
    while todo:
        e = todo.pop()
        if e in found:
            continue
        found.add(e)
        if not pd.isna(boss[e]):
            todo.append(int(boss[e]))
    return found


# --------------------------------------------------------------------------- behaviour
def test_rows_keeps_the_roots_drawn_all_their_descendants_what_they_reference_and_no_orphan(data) -> None:
    md, frames = data
    out, report = subset_frames(md, frames, Subset(root="customers", rows=20, seed=1))
    assert orphans(md, frames) == {}
    assert orphans(md, out) == {}
    assert report.kept["customers"] == len(out["customers"]) == 20
    kept_customers = key_set(out["customers"], ["customer_id"])
    # every order of a kept customer, and every item of those orders
    orders = frames["orders"]
    assert key_set(out["orders"], ["order_id"]) == key_set(
        orders[orders["customer_id"].isin([c for (c,) in kept_customers])], ["order_id"])
    items = frames["order_items"]
    assert key_set(out["order_items"], ["order_id", "line_no"]) == key_set(
        items[items["order_id"].isin(out["orders"]["order_id"])], ["order_id", "line_no"])
    # exactly the parents referenced (and the manager chains above the reps), no more
    assert set(out["products"]["product_id"]) == set(out["order_items"]["product_id"])
    assert set(out["product_category"]["category_id"]) == set(out["products"]["category_id"])
    reps = {int(e) for e in out["orders"]["employee_id"].dropna()}
    assert set(out["employees"]["employee_id"]) == _manager_closure(frames["employees"], reps)
    assert len(reps) < len(out["employees"])  # the chain added managers who took no order
    # the isolated table follows the root's kept share: 20 of 120 customers -> 33 of 200 logs
    assert len(out["audit_log"]) == round(20 / 120 * 200)
    assert report.total == {t: len(frames[t]) for t in report.total}
    assert list(report.kept) == list(plan_subset(md, Subset("customers", rows=1)).order)
    assert {t: len(f) for t, f in out.items()} == report.kept
    assert list(out) == list(md.tables)
    for name, frame in out.items():  # kept rows keep their columns, dtypes and original order
        assert list(frame.columns) == list(frames[name].columns)
        assert frame.dtypes.equals(frames[name].dtypes)
        source = frames[name].reset_index(drop=True)
        position = source.reset_index().merge(frame, on=list(frame.columns))["index"]
        assert position.is_monotonic_increasing


def test_fraction_keeps_that_share_of_the_roots(data) -> None:
    md, frames = data
    out, report = subset_frames(md, frames, Subset(root="customers", fraction=0.25, seed=0))
    assert report.kept["customers"] == 30
    assert orphans(md, out) == {}
    assert len(out["audit_log"]) == 50
    tiny, _ = subset_frames(md, frames, Subset(root="customers", fraction=1e-9))
    assert len(tiny["customers"]) == 1  # at least one root row
    whole, _ = subset_frames(md, frames, Subset(root="customers", fraction=1.0))
    for name in ("customers", "orders", "order_items", "audit_log"):
        assert len(whole[name]) == len(frames[name])


def test_the_same_seed_keeps_the_same_rows_whatever_the_row_order(data) -> None:
    md, frames = data
    first, _ = subset_frames(md, frames, Subset(root="customers", rows=15, seed=7))
    again, _ = subset_frames(md, frames, Subset(root="customers", rows=15, seed=7))
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name])
    shuffled = {name: frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
                for name, frame in frames.items()}
    moved, _ = subset_frames(md, shuffled, Subset(root="customers", rows=15, seed=7))
    for name in first:
        key = md.tables[name].pk_columns
        assert key_set(moved[name], key) == key_set(first[name], key)
    other, _ = subset_frames(md, frames, Subset(root="customers", rows=15, seed=8))
    assert key_set(other["customers"], ["customer_id"]) != key_set(first["customers"], ["customer_id"])


def test_the_root_draw_is_a_seeded_choice_among_the_sorted_keys() -> None:
    keys = pd.DataFrame({"id": [30, 10, None, 20, 10, 40]})
    chosen = np.sort(np.random.default_rng(5).choice(4, size=2, replace=False))
    expected = [[10, 20, 30, 40][i] for i in chosen]
    assert draw_keys(keys, 2, seed=5)["id"].tolist() == expected
    composite = pd.DataFrame({"a": [2, 1, 1], "b": ["x", "z", "y"]})
    assert draw_keys(composite, 3, seed=0).values.tolist() == [[1, "y"], [1, "z"], [2, "x"]]


def test_tables_the_root_does_not_reach_keep_the_rows_whose_every_key_is_kept() -> None:
    # nycflights13's shape: airlines -> flights -> (airports twice, planes); weather -> airports.
    md = Metadata()
    md.add_table("airlines", pk="carrier")
    md.add_table("airports", pk="faa")
    md.add_table("planes", pk="tailnum")
    md.add_table("flights", pk="flight_id", fk={"carrier": "airlines.carrier", "origin": "airports.faa",
                                                "dest": "airports.faa", "tailnum": "planes.tailnum"})
    md.add_table("weather", pk=["origin", "hour"], fk={"origin": "airports.faa"})
    md.add_table("reviews", fk={"tailnum": "planes.tailnum", "airport": "airports.faa"})  # no primary key
    rng = np.random.default_rng(1)
    airports = pd.DataFrame({"faa": np.arange(100, 130)})
    frames = {
        "airlines": pd.DataFrame({"carrier": np.arange(1, 11)}),
        "airports": airports,
        "planes": pd.DataFrame({"tailnum": np.arange(1000, 1040)}),
        "flights": pd.DataFrame({"flight_id": np.arange(200), "carrier": rng.integers(1, 11, 200),
                                 "origin": rng.integers(100, 103, 200), "dest": rng.integers(100, 130, 200),
                                 "tailnum": pd.array([None if i % 7 == 0 else int(rng.integers(1000, 1040))
                                                      for i in range(200)], dtype="Int64")}),
        "weather": pd.DataFrame({"origin": np.repeat(np.arange(100, 130), 4), "hour": np.tile(np.arange(4), 30)}),
        "reviews": pd.DataFrame({"tailnum": pd.array([1000, 1001, None, 1039, 1002], dtype="Int64"),
                                 "airport": pd.array([100, None, 129, 129, 101], dtype="Int64")}),
    }
    out, report = subset_frames(md, frames, Subset(root="airlines", rows=2, seed=0))
    assert orphans(md, out) == {}
    kept_airports = set(out["flights"]["origin"]) | set(out["flights"]["dest"])
    assert set(out["airports"]["faa"]) == kept_airports
    assert set(out["weather"]["origin"]) == kept_airports  # every weather row at a kept airport
    assert len(out["weather"]) == 4 * len(kept_airports)
    planes = set(out["planes"]["tailnum"])
    expected = [(pd.isna(t) or t in planes) and (pd.isna(a) or a in kept_airports)
                for t, a in zip(frames["reviews"]["tailnum"], frames["reviews"]["airport"])]
    assert len(out["reviews"]) == sum(expected) == report.kept["reviews"]


def test_a_disconnected_part_is_sampled_from_its_top_and_a_self_reference_in_the_rest_stays_closed() -> None:
    md = Metadata()
    md.add_table("customers", pk="id")
    md.add_table("stores", pk="id", fk={"parent_store": "stores.id"})
    md.add_table("sales", pk="id", fk={"store_id": "stores.id", "refund_of": "sales.id"})
    stores = pd.DataFrame({"id": np.arange(1, 41), "parent_store": pd.array([None] * 5 + list(range(1, 36)),
                                                                            dtype="Int64")})
    sales = pd.DataFrame({"id": np.arange(1, 301), "store_id": np.arange(300) % 40 + 1,
                          "refund_of": pd.array([None] * 150 + list(range(1, 151)), dtype="Int64")})
    frames = {"customers": pd.DataFrame({"id": np.arange(50)}), "stores": stores, "sales": sales}
    out, _ = subset_frames(md, frames, Subset(root="customers", fraction=0.2, seed=4))
    assert orphans(md, out) == {}
    assert 8 <= len(out["stores"]) < 40  # 8 drawn, plus their parent stores
    kept = set(out["stores"]["id"])
    for sale_id, store, refund_of in sales.itertuples(index=False):
        chain_ok = store in kept
        while chain_ok and not pd.isna(refund_of):  # a refund is kept when its whole chain is
            chain_ok = sales.loc[refund_of - 1, "store_id"] in kept
            refund_of = sales.loc[refund_of - 1, "refund_of"]
        assert (sale_id in set(out["sales"]["id"])) == chain_ok


def test_a_diamond_or_self_reference_below_the_root_can_pull_in_more_root_rows() -> None:
    md = Metadata()
    md.add_table("accounts", pk="id")
    md.add_table("transfers", pk="id", fk={"from_acct": "accounts.id", "to_acct": "accounts.id"})
    frames = {"accounts": pd.DataFrame({"id": np.arange(10)}),
              "transfers": pd.DataFrame({"id": np.arange(10), "from_acct": np.arange(10),
                                         "to_acct": (np.arange(10) + 1) % 10})}
    out, report = subset_frames(md, frames, Subset(root="accounts", rows=1, seed=0))
    assert orphans(md, out) == {}
    assert report.kept == {"accounts": 3, "transfers": 2}  # a transfer from and one to the drawn account
    # the drawn account and its transfers have all their children kept; the two accounts pulled in do not
    complete = complete_rows(md, out, Subset(root="accounts", rows=1, seed=0), report.drawn)
    drawn = set(report.drawn["id"])
    assert len(drawn) == 1 and set(out["accounts"]["id"][complete["accounts"]]) == drawn
    assert complete["transfers"].all()


def test_a_root_without_a_primary_key_draws_sorted_rows() -> None:
    md = Metadata().add_table("events")
    frame = pd.DataFrame({"kind": ["b", "a", "c", "a"], "n": [1, 2, 3, 1]})
    out, report = subset_frames(md, {"events": frame}, Subset(root="events", rows=2, seed=0))
    moved, _ = subset_frames(md, {"events": frame.iloc[::-1].reset_index(drop=True)},
                             Subset(root="events", rows=2, seed=0))
    assert report.kept == {"events": 2}
    assert sorted(map(tuple, out["events"].values.tolist())) == sorted(map(tuple, moved["events"].values.tolist()))


def test_null_foreign_keys_are_kept_and_source_orphans_are_not_made_worse(data) -> None:
    md, frames = data
    dirty = dict(frames)
    orders = frames["orders"].copy()
    orders.loc[orders.index[:40], "employee_id"] = 999  # a rep who does not exist
    dirty["orders"] = orders
    out, _ = subset_frames(md, dirty, Subset(root="customers", fraction=0.5, seed=2))
    assert out["orders"]["employee_id"].isna().any()
    found = orphans(md, out)
    assert set(found) <= {"orders.employee_id->employees"}
    assert found.get("orders.employee_id->employees", 0) == int((out["orders"]["employee_id"] == 999).sum())


def test_events_report_the_rows_kept_and_warn_about_emptied_tables() -> None:
    md = Metadata().add_table("customers", pk="id").add_table("orders", pk="id", fk={"cid": "customers.id"})
    frames = {"customers": pd.DataFrame({"id": [1, 2, 3]}), "orders": pd.DataFrame({"id": [1], "cid": [99]})}
    with capture_logs() as logs:
        _, report = subset_frames(md, frames, Subset(root="customers", rows=2, seed=0))
    kept = [e for e in logs if e["event"] == "subset_kept"]
    assert len(kept) == 1 and kept[0]["log_level"] == "info"
    assert kept[0]["kept"] == report.kept == {"customers": 2, "orders": 0}
    assert kept[0]["total"] == report.total == {"customers": 3, "orders": 1}
    assert isinstance(report, SubsetReport) and report.root == "customers"
    emptied = [e for e in logs if e["event"] == "subset_table_emptied"]
    assert [(e["table"], e["log_level"]) for e in emptied] == [("orders", "warning")]


# --------------------------------------------------------------------------- errors
def test_a_root_with_a_parent_is_refused_naming_its_parents_and_the_roots(data) -> None:
    md, frames = data
    with pytest.raises(SchemaError, match=r"'orders' has parent table\(s\) \['customers', 'employees'\]") as info:
        subset_frames(md, frames, Subset(root="orders", rows=5))
    assert "customers" in str(info.value) and "product_category" in str(info.value)
    with pytest.raises(SchemaError, match="'nope' is not a table"):
        plan_subset(md, Subset(root="nope", rows=5))
    # a self-reference does not make a table a child
    assert plan_subset(md, Subset(root="employees", rows=5)).root == "employees"


@pytest.mark.parametrize("kwargs", [
    {}, {"rows": 5, "fraction": 0.5}, {"rows": 0}, {"rows": -3}, {"rows": 2.5}, {"rows": True},
    {"fraction": 0}, {"fraction": 1.5}, {"fraction": -0.1}, {"fraction": math.nan}, {"fraction": "0.5"},
    {"rows": 5, "seed": -1}, {"rows": 5, "seed": 1.5}, {"rows": 5, "seed": None},
])
def test_bad_rows_fraction_or_seed_are_configuration_errors(kwargs) -> None:
    with pytest.raises(ConfigurationError):
        Subset(root="customers", **kwargs)


def test_more_rows_than_the_root_has_and_missing_data_are_refused_before_any_draw(data) -> None:
    md, frames = data
    with pytest.raises(ConfigurationError, match="rows <= 120"):
        subset_frames(md, frames, Subset(root="customers", rows=121))
    with pytest.raises(SchemaError, match="missing"):
        subset_frames(md, {k: v for k, v in frames.items() if k != "orders"}, Subset(root="customers", rows=1))
    with pytest.raises(SchemaError, match="lacks its key column"):
        subset_frames(md, {**frames, "orders": frames["orders"].drop(columns="employee_id")},
                      Subset(root="customers", rows=1))
    with pytest.raises(ConfigurationError):
        subset_frames(md, frames, {"root": "customers", "rows": 1})  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="cannot order"):
        subset_frames(Metadata().add_table("t", pk="id"), {"t": pd.DataFrame({"id": [1, "a"]})},
                      Subset(root="t", rows=1))


# --------------------------------------------------------------------------- properties
@st.composite
def schemas(draw: st.DrawFn) -> tuple[Metadata, dict[str, pd.DataFrame], Subset]:
    """Random small DAGs: composite keys, several FKs (to one parent too), self-references, null FKs,
    keyless leaves; table t0 is the root."""
    n_tables = draw(st.integers(2, 6))
    md = Metadata()
    frames: dict[str, pd.DataFrame] = {}
    for i in range(n_tables):
        name = f"t{i}"
        keyless = i > 0 and draw(st.integers(0, 5)) == 0
        composite = not keyless and draw(st.booleans())
        pk: list[str] = [] if keyless else (["a", "b"] if composite else ["id"])
        n = draw(st.integers(1 if i == 0 else 0, 10))
        if composite:
            pairs = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=n, max_size=n,
                                  unique=True))
            columns: dict[str, list] = {"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]}
            n = len(pairs)
        elif pk:
            columns = {"id": draw(st.lists(st.integers(0, 50), min_size=n, max_size=n, unique=True))}
        else:
            columns = {"v": list(range(n))}
        fk: dict[str, str] = {}
        parents = [] if i == 0 else draw(st.lists(st.integers(0, i - 1), max_size=3))
        if pk and draw(st.integers(0, 3)) == 0:
            parents.append(i)  # a self-reference
        for j, parent in enumerate(parents):
            parent_table = md.tables[f"t{parent}"] if parent < i else None
            if parent < i and not parent_table.pk_columns:
                continue
            parent_key = (parent_table.pk_columns if parent_table else pk)
            parent_rows = (list(zip(*(frames[f"t{parent}"][c] for c in parent_key))) if parent < i
                           else list(zip(*(columns[c] for c in pk))))
            if len(parent_key) > 1 and any(target.startswith(f"t{parent}.") for target in fk.values()):
                continue  # one composite FK per parent
            values = [draw(st.one_of(st.none(), st.sampled_from(parent_rows))) if parent_rows else None
                      for _ in range(n)]
            for k, key_column in enumerate(parent_key):
                column = f"fk{j}_{k}"
                columns[column] = pd.array([None if v is None else int(v[k]) for v in values], dtype="Int64")
                fk[column] = f"t{parent}.{key_column}"
        md.add_table(name, pk=(pk if len(pk) > 1 else (pk[0] if pk else None)), fk=fk)
        frames[name] = pd.DataFrame(columns)
    root_rows = len(usable(frames["t0"], md.tables["t0"].pk_columns))
    if draw(st.booleans()):
        subset = Subset(root="t0", rows=draw(st.integers(1, root_rows)), seed=draw(st.integers(0, 5)))
    else:
        subset = Subset(root="t0", fraction=draw(st.floats(0.01, 1.0)), seed=draw(st.integers(0, 5)))
    return md, frames, subset


def usable(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    return frame[key].dropna().drop_duplicates()


def _down_tables(md: Metadata, root: str) -> set[str]:
    down = {root}
    for name in md.tables:  # declared parents first in these schemas
        if any(g[0] in down and g[0] != name for g in _fk_groups(md, name)):
            down.add(name)
    return down


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas())
def test_property_no_orphan_and_the_roots_asked_for(case) -> None:
    md, frames, subset = case
    out, report = subset_frames(md, frames, subset)
    assert orphans(md, frames) == {}
    assert orphans(md, out) == {}
    available = len(usable(frames["t0"], md.tables["t0"].pk_columns))
    asked = subset.rows if subset.rows is not None else max(1, round(subset.fraction * available))
    down = _down_tables(md, "t0")
    # Only a second FK path into the root's part, or a self-reference there, can pull in more roots.
    growth = any(name != "t0" and sum(1 for g in _fk_groups(md, name) if g[0] in down and g[0] != name) > 1
                 or any(g[0] == name for g in _fk_groups(md, name)) for name in down)
    assert report.kept["t0"] >= asked
    if not growth:
        assert report.kept["t0"] == asked
    drawn = key_set(draw_keys(frames["t0"][["id"]], asked, subset.seed), ["id"]) if "id" in frames["t0"] else \
        key_set(draw_keys(frames["t0"][["a", "b"]], asked, subset.seed), ["a", "b"])
    assert drawn <= key_set(out["t0"], md.tables["t0"].pk_columns)
    # every descendant of a drawn root row is kept
    below: dict[str, set] = {"t0": drawn}
    for name in md.tables:
        if name == "t0" or name not in down:
            continue
        table = frames[name]
        rows = set()
        for position in range(len(table)):
            for parent, children, parents in _fk_groups(md, name):
                if parent in below and parent != name:
                    value = _tuples(table.iloc[[position]], children)[0]
                    if value is not None and value in below[parent]:
                        rows.add(position)
        key = md.tables[name].pk_columns
        if key:
            below[name] = {_tuples(table.iloc[[p]], key)[0] for p in rows} - {None}
            assert below[name] <= key_set(out[name], key)
        else:
            assert len(out[name]) >= len(rows)
    assert report.kept == {name: len(frame) for name, frame in out.items()} | report.kept
    assert all(report.kept[name] == len(out[name]) for name in out)
