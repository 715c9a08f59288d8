"""Keys: unique PKs in the real format, JSON state, hierarchies, popularity, dirty-data clean-up."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import GenerationError
from syntho_hive.relational.graph import SchemaGraph
from syntho_hive.relational.keys import (
    KeyGenerator,
    ReferenceChecker,
    allocate,
    build_hierarchy,
    cap_counts,
    distinct_within_groups,
    redraw_repeated_combinations,
    drop_integrity_violations,
    group_ids,
    per_parent_start,
    place_nulls,
    running_numbers,
)


@pytest.mark.parametrize(("real", "pattern"), [
    (pd.Series([10, 20, 30, 40], dtype="int64"), None),
    (pd.Series(["CUST-000017", "CUST-000018", "CUST-000020"]), r"^CUST-\d{6}$"),
    (pd.Series(["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"]),
     r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
])
def test_generated_keys_are_unique_in_the_real_format(real: pd.Series, pattern: str | None) -> None:
    generator = KeyGenerator("id").fit(real)
    keys = generator.generate(5_000, np.random.default_rng(0))
    assert keys.is_unique and keys.notna().all()
    assert keys.dtype == real.dtype
    if pattern is None:
        assert keys.iloc[0] == 10 and (np.diff(keys.to_numpy()) == 10).all()
    else:
        assert keys.astype(str).str.match(pattern).all()
    restored = KeyGenerator.from_dict(json.loads(json.dumps(generator.to_dict())))
    pd.testing.assert_series_equal(restored.generate(50, np.random.default_rng(1)),
                                   generator.generate(50, np.random.default_rng(1)))


@pytest.mark.parametrize("real", [
    pd.Series(pd.date_range("2023-01-01", periods=300)),                                   # a date dimension
    pd.Series(pd.date_range("2023-01-01", periods=300, tz="Europe/Paris")),               # ... tz-aware, DST
    pd.Series(pd.date_range("2023-03-25 22:00", periods=100, freq="h", tz="Europe/Paris")),  # hourly over DST
    pd.Series(pd.date_range("2023-01-01", periods=30, freq="D").as_unit("s")),            # second resolution
])
def test_datetime_keys_continue_the_real_sequence(real: pd.Series) -> None:
    """A date primary key (a calendar table's) is generated as the real sequence, in its dtype."""
    generator = KeyGenerator("day").fit(real)
    keys = generator.generate(1_000, np.random.default_rng(0))
    assert keys.dtype == real.dtype and keys.is_unique and keys.notna().all()
    assert keys.iloc[0] == real.min() and keys.iloc[len(real) - 1] == real.max()
    if real.dt.tz is not None and (real.dt.hour == 0).all():  # days stay at local midnight across DST
        assert (keys.dt.hour == 0).all()
    restored = KeyGenerator.from_dict(json.loads(json.dumps(generator.to_dict())))
    pd.testing.assert_series_equal(restored.generate(50, np.random.default_rng(1)), keys.head(50))
    yearly = KeyGenerator("year").fit(pd.Series(pd.date_range("2000-01-01", periods=5, freq="YS")))
    with pytest.raises(GenerationError, match="passes the last timestamp"):
        yearly.generate(400, np.random.default_rng(0))


@pytest.mark.parametrize("dtype", ["str", "category"])
def test_free_form_codes_keep_their_lengths_and_characters(dtype: str) -> None:
    rng = np.random.default_rng(0)
    digits, letters = np.array(list("0123456789")), np.array(list("ABCDEFGHJKLMNPRSTUWXYZ"))
    tails = ["N" + "".join(rng.choice(digits, 3)) + "".join(rng.choice(letters, int(rng.integers(1, 3))))
             for _ in range(400)]
    real = pd.Series(pd.unique(np.array(tails)), dtype=dtype)  # "N123AB" / "N123A", like aircraft tail numbers
    keys = KeyGenerator("tailnum").fit(real).generate(3 * len(real), np.random.default_rng(1))
    assert keys.is_unique and str(keys.dtype) == str(real.dtype)  # categories are the new keys
    assert keys.astype(str).str.fullmatch(r"N\d{3}[A-Z]{1,2}").all()
    share_long = (keys.astype(str).str.len() == 6).mean()
    assert share_long == pytest.approx((real.astype(str).str.len() == 6).mean(), abs=0.05)
    carriers = pd.Series(["9E", "AA", "B6", "DL", "UA", "WN"])
    codes = KeyGenerator("carrier").fit(carriers).generate(12, np.random.default_rng(0))
    assert codes.is_unique and codes.str.fullmatch(r"[9ABDUW][6AELN]").all()


def test_hierarchy_is_a_forest_with_the_real_root_share() -> None:
    rng = np.random.default_rng(0)
    n = 500
    parent = build_hierarchy(n, 0.04, rng.poisson(1.0, n), rng)
    assert (parent == -1).sum() == 20
    # Following managers always ends at a root: no cycles, no self-loops.
    node = np.arange(n)
    for _ in range(n):
        node = np.where(node >= 0, parent[np.maximum(node, 0)], -1)
    assert (node == -1).all()
    assert (parent != np.arange(n)).all()


def test_allocate_follows_popularity_exactly() -> None:
    positions = allocate(np.array([0.0, 1.0, 3.0, 6.0]), 1_000, np.random.default_rng(0))
    np.testing.assert_array_equal(np.bincount(positions, minlength=4), [0, 100, 300, 600])
    assert place_nulls(1_000, 0.237, np.random.default_rng(0)).sum() == 237


def test_reference_checker_raises_on_an_orphan() -> None:
    md = Metadata().add_table("c", pk="id").add_table("o", pk="oid", fk={"cid": "c.id"})
    rel = SchemaGraph.from_metadata(md).primary("o")
    parent = pd.DataFrame({"id": [1, 2]})
    checker = ReferenceChecker(rel, parent)
    checker.check(pd.DataFrame({"cid": [1, 2, None]}))
    with pytest.raises(GenerationError, match=r"'o'.*1 generated value"):
        checker.check(pd.DataFrame({"cid": [1, 7]}))


def test_drop_integrity_violations_cascades_parents_first() -> None:
    md = Metadata().add_table("customers", pk="customer_id")
    md.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"})
    md.add_table("items", pk="item_id", fk={"order_id": "orders.order_id"})
    md.add_table("staff", pk="id", fk={"boss": "staff.id"})
    data = {
        "customers": pd.DataFrame({"customer_id": [1, 2, 2, None], "tier": ["a", "b", "c", "d"]}),
        "orders": pd.DataFrame({"order_id": [10, 11, 12, 13], "customer_id": ["1", "2", "99", None]}),
        "items": pd.DataFrame({"item_id": [1, 2, 3], "order_id": [10, 12, 13]}),
        "staff": pd.DataFrame({"id": [1, 2, 3, 4], "boss": [None, 1, 9, 3]}),
    }
    graph = SchemaGraph.from_metadata(md)
    clean, dropped = drop_integrity_violations(graph, data, {t: md.tables[t].pk_columns for t in md.tables})
    assert clean["customers"]["customer_id"].tolist() == [1, 2]     # duplicate and null pk dropped
    assert clean["orders"]["order_id"].tolist() == [10, 11, 13]     # orphan 99 dropped, null FK kept
    assert clean["orders"]["customer_id"].iloc[0] == 1              # string FK coerced to the pk kind
    assert clean["items"]["item_id"].tolist() == [1, 3]             # its order 12 was dropped
    assert clean["staff"]["id"].tolist() == [1, 2]                  # 3 is an orphan, so is 4 under it
    assert dropped == {"customers": 2, "orders": 1, "items": 1, "staff": 2}


def test_per_parent_numbering_is_detected_only_when_every_parent_restarts() -> None:
    orders = pd.DataFrame({"order_id": ["A", "A", "A", "B", "C", "C"]})
    assert per_parent_start(pd.Series([2, 1, 3, 1, 1, 2]), orders) == 1          # any row order
    assert per_parent_start(pd.Series([0, 1, 2, 0, 0, 1]), orders) == 0          # starting at the min
    assert per_parent_start(pd.Series([1.0, 2.0, 3.0, 1.0, 1.0, 2.0]), orders) == 1
    assert per_parent_start(pd.Series([1, 2, 4, 1, 1, 2]), orders) is None      # a gap in 1 of 6 rows
    assert per_parent_start(pd.Series([1, 2, 2, 1, 1, 2]), orders) is None      # a repeat
    assert per_parent_start(pd.Series([1, 2, 3, 2, 1, 2]), orders) is None      # B starts at 2
    assert per_parent_start(pd.Series([1, 2, 3, 4, 5, 6]), orders) is None      # unique over the table
    assert per_parent_start(pd.Series([1.5, 2, 3, 1, 1, 2]), orders) is None
    assert per_parent_start(pd.Series(["1", "2", "3", "1", "1", "2"]), orders) is None
    two = pd.DataFrame({"a": [1, 1, 1, 2], "b": [1, 1, 2, 1]})                 # composite parent part
    assert per_parent_start(pd.Series([1, 2, 1, 1]), two) == 1


def test_running_numbers_count_within_groups_in_row_order() -> None:
    groups, first = group_ids([np.array([7, 3, 7, 7, -1, 3]), np.array([0, 0, 0, 1, 0, 0])])
    assert len(first) == 4 and groups[0] == groups[2] and groups[0] != groups[3] and groups[1] == groups[5]
    np.testing.assert_array_equal(running_numbers(groups), [0, 0, 1, 0, 0, 1])
    big = np.random.default_rng(0).integers(0, 50, 10_000)
    numbers = running_numbers(big)
    frame = pd.DataFrame({"g": big, "n": numbers})
    assert (frame.groupby("g")["n"].agg(lambda s: list(s) == list(range(len(s))))).all()


def test_reference_checker_checks_chunks_against_one_index() -> None:
    md = Metadata().add_table("legs", pk=["flight", "leg"]).add_table(
        "events", pk="id", fk={"f": "legs.flight", "l": "legs.leg"})
    rel = SchemaGraph.from_metadata(md).primary("events")
    checker = ReferenceChecker(rel, pd.DataFrame({"flight": [1, 1, 2], "leg": [1, 2, 1]}))
    checker.check(pd.DataFrame({"f": [1, 2, None], "l": [2, 1, None]}))
    with pytest.raises(GenerationError, match=r"'events'.*1 generated value.*'f': 2, 'l': 2"):
        checker.check(pd.DataFrame({"f": [1, 2], "l": [1, 2]}))


def test_cap_counts_moves_the_excess_to_parents_with_room() -> None:
    rng = np.random.default_rng(0)
    capped = cap_counts(np.array([0, 3, 1, 0, 2, 0]), 1, rng)
    assert capped.sum() == 6 and capped.max() == 1
    capped = cap_counts(np.array([9, 0, 1, 2]), 4, rng)
    assert capped.sum() == 12 and capped.max() <= 4 and capped[0] == 4
    with pytest.raises(GenerationError):
        cap_counts(np.array([5, 1]), 2, rng)


def test_distinct_within_groups_never_repeats_a_parent_in_a_group() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(2_000), rng.integers(1, 8, 2_000))
    rng.shuffle(groups)
    weights = np.array([40, 20, 10, 10, 5, 5, 5, 0.0])
    pos = distinct_within_groups(groups, weights, rng, max_cells=1_000)  # several blocks
    frame = pd.DataFrame({"g": groups, "p": pos})
    assert not frame.duplicated().any()
    popularity = np.bincount(pos, minlength=8)
    assert popularity[0] > popularity[1] > popularity[4] > 0
    assert popularity[7] == 0  # weight 0: used only by a group needing all 8 parents, and none does
    full = distinct_within_groups(np.repeat([0, 1], 8), weights, rng)  # groups needing every parent
    assert sorted(full[:8]) == sorted(full[8:]) == list(range(8))
    with pytest.raises(GenerationError):
        distinct_within_groups(np.zeros(9, dtype=np.int64), weights, rng)


def test_distinct_within_groups_can_exclude_each_groups_own_parent() -> None:
    """A self-join junction (``follows(follower_id, followee_id)``): nobody follows themselves."""
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(50), 7)
    rng.shuffle(groups)
    weights = np.r_[np.full(10, 50.0), np.ones(40)]  # the popular ones would otherwise pick themselves
    pos = distinct_within_groups(groups, weights, rng, exclude_own=True, max_cells=200)
    assert not (pos == groups).any()
    assert not pd.DataFrame({"g": groups, "p": pos}).duplicated().any()
    everyone_else = distinct_within_groups(np.repeat([0, 3], 7), weights[:8], rng, exclude_own=True)
    assert sorted(everyone_else[:7]) == [1, 2, 3, 4, 5, 6, 7] and sorted(everyone_else[7:]) == [0, 1, 2, 4, 5, 6, 7]
    with pytest.raises(GenerationError, match="among 7"):
        distinct_within_groups(np.zeros(8, dtype=np.int64), weights[:8], rng, exclude_own=True)


def test_redrawn_combinations_repeat_nothing_and_keep_the_popularity() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(300), 6)
    weights = [np.array([6.0, 3.0, 1.0]), np.array([1.0, 1.0, 1.0, 1.0])]
    columns = [rng.choice(3, groups.size, p=weights[0] / 10), rng.integers(0, 4, groups.size)]
    assert pd.DataFrame({"g": groups, "b": columns[0], "c": columns[1]}).duplicated().any()
    redrawn = redraw_repeated_combinations(groups, columns, weights, rng)
    assert not pd.DataFrame({"g": groups, "b": redrawn[0], "c": redrawn[1]}).duplicated().any()
    share = np.bincount(redrawn[0], minlength=3) / groups.size
    assert share[0] > share[1] > share[2] > 0  # still popular-first (6:3:1 drawn, squeezed by distinctness)
    assert not np.shares_memory(redrawn[0], columns[0])


def test_hierarchy_gives_each_row_its_wanted_reports_and_a_real_depth() -> None:
    """An org chart: CEO -> 5 VPs -> 4-8 managers -> 3-10 staff. Wanted report counts in a shuffled
    row order; the built hierarchy matches them exactly and is 4 levels deep."""
    rng = np.random.default_rng(3)
    vps = 5
    managers = rng.integers(4, 9, vps)
    staff = rng.integers(3, 11, int(managers.sum()))
    wanted = np.concatenate([[vps], managers, staff, np.zeros(int(staff.sum()), dtype=np.int64)])
    n = len(wanted)
    shuffle = rng.permutation(n)
    parent = build_hierarchy(n, 1 / n, wanted[shuffle], rng)
    reports = np.bincount(parent[parent >= 0], minlength=n)
    assert (reports == wanted[shuffle]).all()  # nobody who wants none has reports
    depth = np.zeros(n, dtype=np.int64)
    node = parent.copy()
    while (node >= 0).any():
        depth += node >= 0
        node = np.where(node >= 0, parent[np.maximum(node, 0)], -1)
    assert depth.max() == 3 and (parent == -1).sum() == 1


def test_per_parent_numbering_survives_a_few_deleted_lines() -> None:
    """900 order lines numbered 1..k per order, 3 of them deleted: still numbered per order."""
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 6, 300)
    lines = pd.DataFrame({"order_id": np.repeat(np.arange(300), sizes),
                          "line_no": np.concatenate([np.arange(1, k + 1) for k in sizes])})
    kept = lines.drop(index=rng.choice(len(lines), 3, replace=False)).reset_index(drop=True)
    assert per_parent_start(kept["line_no"], kept[["order_id"]]) == 1
    # One number repeated within one order (its second line numbered like its first): not per-parent.
    order = int(kept["order_id"][kept.duplicated("order_id")].iloc[0])
    second = kept.index[kept["order_id"] == order][1]
    repeated = kept.copy()
    repeated.loc[second, "line_no"] = repeated.loc[kept.index[kept["order_id"] == order][0], "line_no"]
    assert per_parent_start(repeated["line_no"], repeated[["order_id"]]) is None


def test_redrawn_combinations_fill_a_saturated_group_exactly() -> None:
    """A group needing every combination but one: random redraws would rarely finish, so the missing
    combinations are drawn from the unused ones and no row has to be dropped."""
    rng = np.random.default_rng(5)
    groups = np.repeat([0, 1], [11, 3])  # group 0: 11 of the 12 combinations of 4 x 3 parents
    columns = [np.zeros(14, dtype=np.int64), np.zeros(14, dtype=np.int64)]  # every row on one combination
    redrawn = redraw_repeated_combinations(groups, columns, [np.ones(4), np.ones(3)], rng, rounds=1)
    frame = pd.DataFrame({"g": groups, "b": redrawn[0], "c": redrawn[1]})
    assert not frame.duplicated().any()
    assert len(frame[frame["g"] == 0].drop_duplicates()) == 11


def test_a_grouped_hierarchy_keeps_bosses_in_the_group_and_the_real_root_share() -> None:
    """Within shared columns (a boss in the row's company) every group got ``max(1, share * size)`` roots: one
    big company and 500 pairs at a share of 0.3 gave 0.4 (the pairs' forced roots came on top), in a Python loop
    per group."""
    from syntho_hive.relational.keys import hierarchy_within

    company = np.concatenate([np.zeros(1000, dtype=np.int64), np.repeat(np.arange(1, 501), 2)])
    frame = pd.DataFrame({"company": company, "emp_no": np.arange(company.size)})
    reports = np.random.default_rng(0).poisson(1.0, company.size)
    shares = []
    for seed in range(20):
        parent = hierarchy_within(frame[["company"]], 0.3, reports, np.random.default_rng(seed))
        has = parent >= 0
        assert (company[parent[has]] == company[has]).all()  # a boss in the row's own company
        for _ in range(company.size):  # a forest: every chain ends at a root
            parent = np.where(parent >= 0, parent[np.maximum(parent, 0)], parent)
            if (parent < 0).all():
                break
        assert (parent < 0).all()
        shares.append((~has).mean())
        assert np.bincount(company[~has]).min() >= 1  # a root in every company
    assert abs(np.mean(shares) - 0.3) < 0.01
