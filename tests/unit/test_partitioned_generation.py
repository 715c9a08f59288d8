"""Partitioned generation (``Orchestrator.generate(partition=(p, P))``): the union of the slices is a
valid synthetic schema (unique keys, no orphans, the pandas path's statistics), deterministic for
a fixed ``(seed, P)``; ``tables=`` generates only what the tables asked for need; keys from
global indices."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.core.data._integers import permute_indices
from syntho_hive.exceptions import GenerationError
from syntho_hive.relational.keys import KeyGenerator
from syntho_hive.relational.orchestrator import Orchestrator, PartitionPlan

LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
#: Small enough that the test schema has both global and split roots.
REPLICATE = 100
SCALE = 2.0


def shop_frames(seed: int = 0) -> dict[str, pd.DataFrame]:
    """regions (lookup, code keys ``R01``) -> employees (pattern keys ``EK7H``, self-referencing
    ``manager_id``); customers (int keys) -> orders (zero-padded codes ``ORD000001``, secondary FK to
    regions) -> items (UUID keys, secondary FK to products, pattern keys ``K7QZ``)."""
    rng = np.random.default_rng(seed)
    regions = pd.DataFrame({"region_code": [f"R{i:02d}" for i in range(1, 7)],
                            "climate": ["wet", "dry", "dry", "wet", "mild", "mild"]})
    n_customers = 300
    customers = pd.DataFrame({"customer_id": np.arange(1, n_customers + 1),
                              "tier": rng.choice(["basic", "premium"], n_customers, p=[0.7, 0.3]),
                              "age": rng.integers(18, 80, n_customers)})
    per_customer = rng.poisson(np.where(customers["tier"] == "premium", 5.0, 1.5))
    n_orders = int(per_customer.sum())
    orders = pd.DataFrame({"order_id": [f"ORD{i:06d}" for i in range(1, n_orders + 1)],
                           "customer_id": np.repeat(customers["customer_id"].to_numpy(), per_customer),
                           "region_code": rng.choice(regions["region_code"], n_orders),
                           "amount": np.round(rng.gamma(2.0, 30.0, n_orders), 2)})
    products = pd.DataFrame({"product_code": _patterns(rng, 60, lambda: f"{rng.choice(LETTERS)}{rng.integers(10)}"
                                                                        f"{rng.choice(LETTERS)}{rng.choice(LETTERS)}"),
                             "category": rng.choice(["toys", "books", "garden"], 60)})
    per_order = 1 + rng.poisson(1.2, n_orders)
    n_items = int(per_order.sum())
    items = pd.DataFrame({"item_id": [str(uuid.UUID(int=int(x), version=4)) for x in rng.integers(0, 2**62, n_items)],
                          "order_id": np.repeat(orders["order_id"].to_numpy(), per_order),
                          "product_code": rng.choice(products["product_code"], n_items),
                          "qty": rng.integers(1, 5, n_items)})
    per_region = np.array([30, 5, 12, 0, 20, 3])
    n_employees = int(per_region.sum())
    employees = pd.DataFrame({
        "emp_id": _patterns(rng, n_employees, lambda: f"E{rng.choice(LETTERS)}{rng.integers(10)}{rng.choice(LETTERS)}"),
        "region_code": np.repeat(regions["region_code"].to_numpy(), per_region),
        "salary": np.round(rng.normal(50_000, 8_000, n_employees), 0)})
    manager = employees["emp_id"].to_numpy()[rng.integers(0, 10, n_employees)]
    employees["manager_id"] = np.where((rng.random(n_employees) < 0.15) | (manager == employees["emp_id"]), None,
                                       manager)
    return {"regions": regions, "customers": customers, "orders": orders, "products": products, "items": items,
            "employees": employees}


def shop_metadata() -> Metadata:
    md = Metadata()
    md.add_table("regions", pk="region_code")
    md.add_table("customers", pk="customer_id")
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id",
                                             "region_code": "regions.region_code"})
    md.add_table("products", pk="product_code")
    md.add_table("items", pk="item_id", fk={"order_id": "orders.order_id", "product_code": "products.product_code"})
    md.add_table("employees", pk="emp_id", fk={"region_code": "regions.region_code",
                                               "manager_id": "employees.emp_id"})
    return md


def keyed_frames(seed: int = 0) -> dict[str, pd.DataFrame]:
    """Keys built from foreign keys: sites (lookup) -> visits ``(site_id, visit_no)`` numbered per
    site; links ``(from_site, to_site)`` (a junction of two global keys, plus an owner in a split
    table); users -> sessions ``(user_id, seq)``; bookings ``(site_id, booking_no)`` numbered per
    site but generated under users."""
    rng = np.random.default_rng(seed)
    sites = pd.DataFrame({"site_id": np.arange(1, 9), "kind": rng.choice(["shop", "depot"], 8)})
    users = pd.DataFrame({"user_id": np.arange(100, 300), "age": rng.integers(18, 80, 200)})
    per_user = rng.poisson(2.0, 200)
    sessions = pd.DataFrame({"user_id": np.repeat(users["user_id"], per_user),
                             "seq": np.concatenate([np.arange(1, k + 1) for k in per_user]),
                             "minutes": rng.gamma(2.0, 10.0, int(per_user.sum())).round(1)})
    per_site = np.array([5, 40, 12, 25, 8, 30, 3, 17])
    visits = pd.DataFrame({"site_id": np.repeat(sites["site_id"], per_site),
                           "visit_no": np.concatenate([np.arange(1, k + 1) for k in per_site]),
                           "duration": rng.gamma(2.0, 5.0, int(per_site.sum())).round(1)})
    pairs = [(a, b) for a in range(1, 9) for b in range(1, 9) if a != b]
    chosen = [pairs[i] for i in rng.choice(len(pairs), 30, replace=False)]
    links = pd.DataFrame({"from_site": [a for a, _ in chosen], "to_site": [b for _, b in chosen],
                          "owner_id": rng.choice(users["user_id"], 30), "weight": rng.random(30).round(3)})
    booking_site = rng.choice(sites["site_id"], 300)
    bookings = pd.DataFrame({"site_id": booking_site,
                             "booking_no": pd.Series(booking_site).groupby(booking_site).cumcount().to_numpy() + 1,
                             "user_id": rng.choice(users["user_id"], 300),
                             "amount": rng.gamma(2.0, 20.0, 300).round(2)})
    return {"sites": sites, "users": users, "sessions": sessions, "visits": visits, "links": links,
            "bookings": bookings}


def keyed_metadata() -> Metadata:
    md = Metadata()
    md.add_table("sites", pk="site_id")
    md.add_table("users", pk="user_id")
    md.add_table("sessions", pk=["user_id", "seq"], fk={"user_id": "users.user_id"})
    md.add_table("visits", pk=["site_id", "visit_no"], fk={"site_id": "sites.site_id"})
    md.add_table("links", pk=["from_site", "to_site"], fk={"from_site": "sites.site_id", "to_site": "sites.site_id",
                                                           "owner_id": "users.user_id"})
    md.add_table("bookings", pk=["site_id", "booking_no"], fk={"user_id": "users.user_id",
                                                               "site_id": "sites.site_id"})
    return md


def _patterns(rng: np.random.Generator, n: int, draw: Any) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(draw())
    return sorted(codes)


@pytest.fixture(scope="module")
def shop() -> Orchestrator:
    return Synthesizer(shop_metadata(), seed=0, epochs=1).fit(shop_frames(), progress_bar=False)._engine


@pytest.fixture(scope="module")
def keyed() -> Orchestrator:
    return Synthesizer(keyed_metadata(), seed=0, epochs=1).fit(keyed_frames(), progress_bar=False)._engine


def slices(engine: Orchestrator, count: int, **options: Any) -> list[dict[str, Any]]:
    options = {"seed": 7, "scale": SCALE, "replicate_rows": REPLICATE, **options}
    return [engine.generate(partition=(p, count), **options) for p in range(count)]


def union(parts: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    return {name: pd.concat([part[name] for part in parts], ignore_index=True) for name in parts[0]}


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Key values compared as text (an ``Int64`` FK and an ``int64`` PK hold the same keys)."""
    return frame.astype(object).map(str)


def assert_valid(engine: Orchestrator, tables: dict[str, pd.DataFrame]) -> None:
    """Primary keys unique and non-null, every non-null foreign key found in its parent."""
    for name, frame in tables.items():
        pk = engine.metadata.tables[name].pk_columns
        assert frame[pk].notna().all().all(), name
        assert not frame.duplicated(pk).any(), f"{name}: {int(frame.duplicated(pk).sum())} repeated keys"
    for rel in engine.graph.relationships:
        if rel.child not in tables or rel.parent not in tables:
            continue
        child = tables[rel.child][list(rel.child_columns)]
        child = _as_text(child[child.notna().all(axis=1)])
        parent = _as_text(tables[rel.parent][list(rel.parent_columns)])
        keys = set(map(tuple, parent.to_numpy()))
        orphans = [row for row in map(tuple, child.to_numpy()) if row not in keys]
        assert not orphans, f"{rel.name}: {len(orphans)} orphans, e.g. {orphans[:3]}"


def per_parent(frame: pd.DataFrame, column: str) -> dict[str, int]:
    return frame[column].astype(str).value_counts().sort_index().to_dict()


# ---------------------------------------------------------------------------- plan
def test_partition_plan_splits_large_roots_and_replicates_small_ones(shop: Orchestrator) -> None:
    plan = shop.partition_plan(None, SCALE, 7, replicate_rows=REPLICATE)
    assert isinstance(plan, PartitionPlan)
    assert plan.global_tables == frozenset({"regions"})
    assert plan.root_rows == {"regions": 12, "customers": 600, "products": 120}
    assert [plan.rows_in("customers", p) for p in range(7)] == [86, 86, 86, 86, 86, 85, 85]
    assert sum(plan.rows_in("products", p) for p in range(7)) == 120
    assert [plan.rows_in("regions", p) for p in range(3)] == [12, 0, 0]
    assert shop.partition_plan({"customers": 5}, SCALE, 7, replicate_rows=0).is_global("customers")  # fewer than P
    assert shop.partition_plan(None, SCALE, 3).global_tables == frozenset({"regions", "customers", "products"})
    with pytest.raises(GenerationError, match="not a root"):
        plan.rows_in("orders", 0)
    with pytest.raises(GenerationError, match="partitions"):
        shop.partition_plan(None, SCALE, 0)


@pytest.mark.parametrize("partition", [(3, 3), (-1, 3), (0, 0), [0, 3], (0.0, 2), (True, 2)])
def test_bad_partition_is_a_clear_error(shop: Orchestrator, partition: Any) -> None:
    with pytest.raises(GenerationError, match="partition"):
        shop.generate(seed=0, partition=partition)


# ---------------------------------------------------------------------------- the union is a schema
@pytest.mark.parametrize("count", [1, 3, 7])
def test_union_of_slices_is_a_valid_schema(shop: Orchestrator, count: int) -> None:
    parts = slices(shop, count)
    tables = union(parts)
    assert_valid(shop, tables)
    plan = shop.partition_plan(None, SCALE, count, replicate_rows=REPLICATE)
    for root, rows in plan.root_rows.items():  # split roots add up to N exactly; global ones come once
        assert len(tables[root]) == rows
        assert [len(part[root]) for part in parts] == [plan.rows_in(root, p) for p in range(count)]
    whole = shop.generate(seed=7, scale=SCALE)
    # Regions are global: generated as without partitions, so their employees are drawn exactly as there.
    pd.testing.assert_frame_equal(tables["regions"], whole["regions"])
    assert per_parent(tables["employees"], "region_code") == per_parent(whole["employees"], "region_code")
    for part in parts:  # a hierarchy within each slice; one schema of columns and dtypes in every slice
        assert_valid(shop, {"employees": part["employees"]})
        assert part["employees"]["manager_id"].isna().any()
        for name, frame in whole.items():
            assert list(part[name].columns) == list(frame.columns)
            assert part[name].dtypes.to_dict() == frame.dtypes.to_dict(), name


def test_keys_of_every_format_are_unique_across_slices(shop: Orchestrator) -> None:
    tables = union(slices(shop, 3, num_rows={"products": 700}))
    assert tables["customers"]["customer_id"].sort_values().tolist() == list(range(1, 601))  # int: 0..N-1
    assert tables["orders"]["order_id"].str.fullmatch(r"ORD\d{6}").all()
    assert tables["items"]["item_id"].map(lambda v: uuid.UUID(v).version == 4).all()
    for column, table in (("product_code", "products"), ("emp_id", "employees")):
        keys = tables[table][column]
        assert keys.is_unique and keys.str.len().eq(4).all(), column
    assert tables["employees"]["emp_id"].str.startswith("E").all()
    assert len(tables["products"]) == 700


def test_children_of_split_parents_follow_the_pandas_path(shop: Orchestrator) -> None:
    ratios: dict[str, list[float]] = {"whole": [], "sliced": []}
    for seed in range(2):
        whole = shop.generate(seed=seed, scale=SCALE, tables=["items"])
        sliced = union(slices(shop, 3, seed=seed, tables=["items", "orders", "customers"]))
        for key, tables in (("whole", whole), ("sliced", sliced)):
            ratios[key].append(len(tables["items"]) / SCALE / 300)
        assert_valid(shop, sliced)
        orders_per_customer = len(sliced["orders"]) / len(sliced["customers"])
        assert 2.2 < orders_per_customer < 3.8  # the real data: about 2.6
    assert np.mean(ratios["sliced"]) == pytest.approx(np.mean(ratios["whole"]), rel=0.1)


def test_same_seed_and_partitions_give_identical_slices(shop: Orchestrator) -> None:
    first, again = slices(shop, 2), slices(shop, 2)
    for one, two in zip(first, again):
        for name in one:
            pd.testing.assert_frame_equal(one[name], two[name])
    other = shop.generate(seed=8, scale=SCALE, replicate_rows=REPLICATE, partition=(1, 2), tables=["orders"])
    assert not other["orders"].equals(first[1]["orders"])


def test_chunked_slices_stay_valid(shop: Orchestrator) -> None:
    parts = slices(shop, 2, chunk_rows=300, tables=["items", "employees"])
    assert_valid(shop, union(parts))
    assert len(parts[0]["items"]) > 300


def test_every_root_global_by_default_on_small_data(shop: Orchestrator) -> None:
    parts = [shop.generate(seed=3, partition=(p, 3)) for p in range(3)]
    tables = union(parts)
    assert_valid(shop, tables)
    whole = shop.generate(seed=3)
    for root in ("regions", "customers", "products"):
        pd.testing.assert_frame_equal(tables[root], whole[root])
        assert len(parts[1][root]) == 0
    assert per_parent(tables["orders"], "customer_id") == per_parent(whole["orders"], "customer_id")


# ---------------------------------------------------------------------------- keys made of foreign keys
@pytest.mark.parametrize("count", [1, 3, 7])
def test_keys_made_of_foreign_keys_stay_unique(keyed: Orchestrator, count: int) -> None:
    parts = slices(keyed, count, scale=1.5)
    tables = union(parts)
    assert_valid(keyed, tables)
    whole = keyed.generate(seed=7, scale=1.5)
    assert keyed.partition_plan(None, 1.5, count, replicate_rows=REPLICATE).global_tables == frozenset({"sites"})
    # visits: numbered 1..k per global site over all slices, k exactly as drawn without partitions
    for site, group in tables["visits"].groupby("site_id"):
        assert sorted(group["visit_no"]) == list(range(1, len(group) + 1)), site
    assert per_parent(tables["visits"], "site_id") == per_parent(whole["visits"], "site_id")
    # links: a junction of two global keys, laid out as without partitions, then sliced
    key = ["from_site", "to_site"]
    assert sorted(map(tuple, tables["links"][key].to_numpy())) == sorted(map(tuple, whole["links"][key].to_numpy()))
    assert (tables["links"]["from_site"] != tables["links"]["to_site"]).all()
    # sessions: numbered per user, each user in one slice
    for user, group in tables["sessions"].groupby("user_id"):
        assert sorted(group["seq"]) == list(range(1, len(group) + 1)), user


# ---------------------------------------------------------------------------- tables=
def test_tables_generates_only_what_they_need(shop: Orchestrator, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = shop.generate(seed=5)["orders"]
    for unrelated in ("products", "items", "employees"):
        model = shop.fitted_model(unrelated)
        assert model is not None

        def refuse(*args: Any, table: str = unrelated, **kwargs: Any) -> pd.DataFrame:
            raise AssertionError(f"the model of {table!r} was sampled")

        monkeypatch.setattr(model, "sample", refuse)
    calls: list[str] = []

    def sink(name: str, chunks: Iterator[pd.DataFrame]) -> pd.DataFrame:
        calls.append(name)
        return pd.concat(list(chunks), ignore_index=True)

    result = shop.generate(seed=5, tables=["orders"], sink=sink)
    assert calls == ["orders"] and list(result) == ["orders"]
    pd.testing.assert_frame_equal(result["orders"], expected)  # generated exactly as with every table
    calls.clear()
    parts = [shop.generate(seed=5, tables=["orders"], sink=sink, partition=(p, 3), replicate_rows=REPLICATE)
             for p in range(3)]
    assert calls == ["orders"] * 3
    assert_valid(shop, {"orders": union(parts)["orders"]})


def test_global_tables_emit_only_in_partition_zero(shop: Orchestrator) -> None:
    calls: list[str] = []

    def sink(name: str, chunks: Iterator[pd.DataFrame]) -> int:
        calls.append(name)
        return sum(len(chunk) for chunk in chunks)

    options = {"seed": 2, "scale": SCALE, "replicate_rows": REPLICATE, "tables": ["regions", "employees"]}
    first = shop.generate(partition=(0, 3), **options)
    later = shop.generate(partition=(1, 3), **options)
    assert len(first["regions"]) == 12 and len(later["regions"]) == 0
    assert later["regions"].dtypes.to_dict() == first["regions"].dtypes.to_dict()
    assert len(later["employees"]) > 0
    sunk = shop.generate(partition=(1, 3), sink=sink, **options)
    assert calls == ["employees"] and sunk["regions"] is None and sunk["employees"] == len(later["employees"])


def test_bad_tables_are_a_clear_error(shop: Orchestrator) -> None:
    with pytest.raises(GenerationError, match="unknown table"):
        shop.generate(seed=0, tables=["orders", "nope"])
    with pytest.raises(GenerationError, match="collection"):
        shop.generate(seed=0, tables="orders")


# ---------------------------------------------------------------------------- keys from indices
def test_key_indices_default_to_the_sequence() -> None:
    for real in (pd.Series(np.arange(5, 50, 5)), pd.Series([f"C{i:04d}" for i in range(9)]),
                 pd.Series(pd.date_range("2024-01-01", periods=4, freq="D"))):
        generator = KeyGenerator("k").fit(real)
        rng = np.random.default_rng(0)
        pd.testing.assert_series_equal(generator.generate(6, rng),
                                       generator.generate(6, rng, indices=np.arange(6)))
        assert generator.generate(2, rng, indices=np.array([1, 4])).tolist() == \
            generator.generate(6, rng).iloc[[1, 4]].tolist()


def test_integer_keys_continue_below_start_past_the_dtype_max() -> None:
    generator = KeyGenerator("k").fit(pd.Series([2**63 - 7, 2**63 - 4], dtype="int64"))  # room for 3 above
    keys = generator.generate(3, np.random.default_rng(0), indices=np.array([2, 3, 5]))
    assert keys.tolist() == [2**63 - 1, 2**63 - 10, 2**63 - 16]
    assert keys.tolist() == generator.generate(6, np.random.default_rng(0)).iloc[[2, 3, 5]].tolist()


def test_pattern_keys_are_a_bijection_of_the_index() -> None:
    generator = KeyGenerator("k").fit(pd.Series(["A1X", "B2Y", "C3Z", "D4W", "AB1X"]))  # 4 * 4 * 4 at length 3
    keys = [generator.generate(k, np.random.default_rng(9), indices=np.arange(k) * 4 + p).tolist()
            for p, k in enumerate((16, 16, 16, 16))]
    flat = [key for part in keys for key in part]
    assert len(set(flat)) == 64 and all(len(key) == 3 for key in flat)
    with pytest.raises(GenerationError, match="'k'.*holds only 64"):
        generator.generate(1, np.random.default_rng(9), indices=np.array([64]))


def test_uuid_keys_from_indices_are_unique_and_shared() -> None:
    generator = KeyGenerator("k").fit(pd.Series([str(uuid.uuid4()) for _ in range(3)]))
    one = generator.generate(1000, np.random.default_rng(3), indices=np.arange(1000) * 2)
    two = generator.generate(1000, np.random.default_rng(3), indices=np.arange(1000) * 2 + 1)
    both = pd.concat([one, two])
    assert both.is_unique and both.map(lambda v: uuid.UUID(v).version == 4).all()
    assert one.equals(generator.generate(1000, np.random.default_rng(3), indices=np.arange(1000) * 2))


def test_bad_key_indices_are_a_clear_error() -> None:
    generator = KeyGenerator("k").fit(pd.Series(["x-a", "y-b"]))
    for indices in (np.array([0, 0]), np.array([-1, 2]), np.array([0])):
        with pytest.raises(GenerationError, match="indices"):
            generator.generate(2, np.random.default_rng(0), indices=indices)


@pytest.mark.parametrize("modulus", [1, 2, 3, 97, 4096, 10_007])
def test_index_permutation_is_a_bijection(modulus: int) -> None:
    values = permute_indices(np.arange(modulus), modulus, 12345)
    assert sorted(values.tolist()) == list(range(modulus))
