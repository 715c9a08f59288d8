"""Integer keys beyond 2**53 stay exact: generated, copied, nulled, compared and stored as integers.

A ``float64`` holds every integer only up to ``2**53``: ``2**62 + 1`` and ``2**62 + 2`` both become
``2**62``. Keys must therefore never pass through floats (``np.where`` with NaN, ``Series.where``
on an ``int64``, ``DataFrame.to_numpy`` of an ``Int64`` with nulls, joins of ``int64`` with ``float64``
or ``uint64``), and generated integer sequences must stay inside their dtype.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Metadata, Synthesizer
from syntho_hive.exceptions import GenerationError
from syntho_hive.relational.cardinality import children_per_parent
from syntho_hive.relational.graph import SchemaGraph
from syntho_hive.relational.keys import (
    KeyGenerator,
    ReferenceChecker,
    cast_like,
    comparable_keys,
    drop_integrity_violations,
    per_parent_start,
    same_rows,
)

BIG = 2**62 + 1  # float64(BIG) == float64(BIG + 1) == 2**62
INT64_MAX = 2**63 - 1


def _ints(values: pd.Series) -> set[int]:
    """The non-null values as Python ints (exact, whatever the dtype)."""
    return {int(v) for v in values.dropna().tolist()}


def _assert_references(child: pd.DataFrame, columns: list[str], parent: pd.DataFrame, keys: list[str]) -> None:
    """Every non-null FK combination of ``child`` is a key combination of ``parent``, compared as Python ints."""
    present = child[columns].notna().all(axis=1)
    wanted = {tuple(int(v) for v in row) for row in child.loc[present, columns].itertuples(index=False)}
    known = {tuple(int(v) for v in row) for row in parent[keys].itertuples(index=False)}
    missing = wanted - known
    assert not missing, f"{len(missing)} FK value(s) of {columns} have no parent, e.g. {sorted(missing)[:3]}"


# --------------------------------------------------------------------------- the three-table schema
def _company(seed: int = 0) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """``dept`` (int64 keys from 2**62 + 1), ``line`` (composite key: a big FK and a big per-dept
    line number) and ``employee`` (int64 keys, a nullable ``Int64`` manager and department)."""
    rng = np.random.default_rng(seed)
    n_dept = 40
    dept = pd.DataFrame({"dept_id": np.int64(BIG) + np.arange(n_dept, dtype=np.int64),
                         "budget": rng.gamma(3.0, 100.0, n_dept),
                         "region": rng.choice(["north", "south"], n_dept)})
    owners = np.repeat(dept["dept_id"].to_numpy(), rng.integers(1, 5, n_dept))
    line = pd.DataFrame({"dept_id": owners, "amount": rng.normal(size=owners.size)})
    line.insert(1, "line_no", np.int64(BIG) + line.groupby("dept_id").cumcount().to_numpy(dtype=np.int64))
    n_emp = 90
    emp_ids = np.int64(BIG) + 3 * np.arange(n_emp, dtype=np.int64)  # neighbours only 3 apart: one float64 apart
    boss = [None] + [int(emp_ids[i]) for i in rng.integers(0, 9, n_emp - 1)]  # a hierarchy under row 0
    dept_of = [None if rng.random() < 0.2 else int(v) for v in rng.choice(dept["dept_id"].to_numpy(), n_emp)]
    employee = pd.DataFrame({"emp_id": emp_ids, "boss": pd.array(boss, dtype="Int64"),
                             "dept_id": pd.array(dept_of, dtype="Int64"), "salary": rng.gamma(5.0, 10.0, n_emp)})
    metadata = (Metadata()
                .add_table("dept", pk="dept_id")
                .add_table("line", pk=["dept_id", "line_no"], fk={"dept_id": "dept.dept_id"})
                .add_table("employee", pk="emp_id", fk={"dept_id": "dept.dept_id", "boss": "employee.emp_id"}))
    return metadata, {"dept": dept, "line": line, "employee": employee}


@pytest.fixture(scope="module")
def company() -> tuple[Synthesizer, dict[str, pd.DataFrame]]:
    metadata, data = _company()
    synth = Synthesizer(metadata, seed=0, epochs=1).fit(data, progress_bar=False, n_jobs=1)
    return synth, data


def test_big_integer_foreign_keys_all_have_a_parent(company: tuple[Synthesizer, dict[str, pd.DataFrame]]) -> None:
    synth, _ = company
    out = synth.sample(seed=1)
    _assert_references(out["line"], ["dept_id"], out["dept"], ["dept_id"])
    _assert_references(out["employee"], ["dept_id"], out["dept"], ["dept_id"])
    _assert_references(out["employee"], ["boss"], out["employee"], ["emp_id"])
    assert out["employee"]["boss"].isna().any() and out["employee"]["boss"].notna().any()
    assert out["employee"]["dept_id"].isna().any()


def test_big_integer_keys_keep_their_dtypes_values_and_uniqueness(
        company: tuple[Synthesizer, dict[str, pd.DataFrame]]) -> None:
    synth, real = company
    out = synth.sample(seed=1)
    for name, frame in out.items():
        assert dict(frame.dtypes) == dict(real[name].dtypes), name
    assert out["dept"]["dept_id"].is_unique and out["employee"]["emp_id"].is_unique
    assert not out["line"].duplicated(["dept_id", "line_no"]).any()
    # The real formats: a sequence from the real start on the real step, numbering per department.
    assert out["dept"]["dept_id"].tolist() == [BIG + i for i in range(len(out["dept"]))]
    assert out["employee"]["emp_id"].tolist() == [BIG + 3 * i for i in range(len(out["employee"]))]
    numbers = out["line"].groupby("dept_id")["line_no"].apply(lambda s: sorted(int(v) - BIG for v in s))
    assert all(n == list(range(len(n))) for n in numbers)
    # Nothing rounded to a float64 neighbour (2**62 is no real key).
    for frame in out.values():
        for column in frame.columns:
            if pd.api.types.is_integer_dtype(frame[column].dtype):
                assert 2**62 not in _ints(frame[column]), column


def test_big_integer_keys_sample_reproducibly(company: tuple[Synthesizer, dict[str, pd.DataFrame]]) -> None:
    synth, _ = company
    first, again = synth.sample(seed=7), synth.sample(seed=7)
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name])
    small = synth.sample(seed=7, chunk_rows=16)  # chunked generation keeps the keys exact too
    _assert_references(small["employee"], ["boss"], small["employee"], ["emp_id"])
    _assert_references(small["line"], ["dept_id"], small["dept"], ["dept_id"])


def test_the_plan_learns_big_keys_exactly(company: tuple[Synthesizer, dict[str, pd.DataFrame]]) -> None:
    """Nobody manages themselves (bosses are other rows, one float64 apart), and the line number
    leg is numbered per department from 2**62 + 1."""
    synth, _ = company
    engine = synth._engine
    assert engine.plan("employee").self_refs[0].self_root_share == 0.0
    assert engine.plan("line").per_parent_keys == {"line_no": BIG}


# --------------------------------------------------------------------------- uint64 and composite FKs
def _shipments(seed: int = 0) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    """``hub`` keyed by uint64 above 2**63, ``parcel`` keyed by uint64 with a nullable ``UInt64`` FK
    to ``hub`` and a nullable composite ``Int64`` FK to ``line`` (a big int in each leg)."""
    rng = np.random.default_rng(seed)
    n_hub = 30
    hub = pd.DataFrame({"hub_id": np.uint64(2**63 + 1) + np.arange(n_hub, dtype=np.uint64),
                        "size": rng.integers(1, 9, n_hub)})
    line = pd.DataFrame({"dept_id": np.int64(BIG) + np.repeat(np.arange(20, dtype=np.int64), 2),
                         "line_no": np.int64(BIG) + np.tile(np.arange(2, dtype=np.int64), 20),
                         "amount": rng.normal(size=40)})
    k = 150
    pick = rng.integers(0, len(line), k)
    hub_of = [None if rng.random() < 0.15 else int(v) for v in rng.choice(hub["hub_id"].to_numpy(), k)]
    parcel = pd.DataFrame({"parcel_id": np.uint64(2**64 - 1) - np.uint64(7) * np.arange(k, dtype=np.uint64)[::-1],
                           "hub_id": pd.array(hub_of, dtype="UInt64"),
                           "dept_id": pd.array(line["dept_id"].to_numpy()[pick], dtype="Int64"),
                           "line_no": pd.array(line["line_no"].to_numpy()[pick], dtype="Int64"),
                           "weight": rng.gamma(2.0, 1.0, k)})
    parcel.loc[rng.random(k) < 0.2, ["dept_id", "line_no"]] = pd.NA
    metadata = (Metadata()
                .add_table("hub", pk="hub_id")
                .add_table("line", pk=["dept_id", "line_no"])
                .add_table("parcel", pk="parcel_id",
                           fk={"hub_id": "hub.hub_id", "dept_id": "line.dept_id", "line_no": "line.line_no"}))
    return metadata, {"hub": hub, "line": line, "parcel": parcel}


def test_uint64_keys_above_2_63_and_composite_big_foreign_keys(tmp_path: Path) -> None:
    """uint64 keys are supported: exact above 2**63, a nullable FK becomes ``UInt64`` (not a float),
    a key sequence ending at 2**64 - 1 continues below its start; the model saves and loads exactly."""
    metadata, data = _shipments()
    synth = Synthesizer(metadata, seed=0, epochs=1).fit(data, progress_bar=False, n_jobs=1)
    out = synth.sample(num_rows={"hub": 30, "line": 40, "parcel": 300}, seed=2)
    for name, frame in out.items():
        assert dict(frame.dtypes) == dict(data[name].dtypes), name
    hub, parcel = out["hub"], out["parcel"]
    assert hub["hub_id"].tolist() == [2**63 + 1 + i for i in range(30)]
    assert parcel["parcel_id"].is_unique and len(parcel) == 300
    assert max(_ints(parcel["parcel_id"])) == 2**64 - 1 and min(_ints(parcel["parcel_id"])) > 2**63
    _assert_references(parcel, ["hub_id"], hub, ["hub_id"])
    _assert_references(parcel, ["dept_id", "line_no"], out["line"], ["dept_id", "line_no"])
    assert parcel["hub_id"].isna().any() and parcel["dept_id"].isna().any()
    assert (parcel["dept_id"].isna() == parcel["line_no"].isna()).all()
    saved = synth.save(tmp_path / "model")
    again = Synthesizer.load(saved).sample(num_rows={"hub": 30, "line": 40, "parcel": 300}, seed=2)
    for name in out:
        pd.testing.assert_frame_equal(out[name], again[name])


# --------------------------------------------------------------------------- key generation near the dtype's end
@pytest.mark.parametrize(("dtype", "top"), [("int64", INT64_MAX), ("Int64", INT64_MAX), ("uint64", 2**64 - 1),
                                            ("UInt64", 2**64 - 1), ("int8", 127)])
def test_key_sequences_never_overflow_their_dtype(dtype: str, top: int) -> None:
    """Keys ending at the dtype's largest value go on below the real start, on the real step, in the dtype."""
    real = pd.Series([top - 9 + i for i in range(10)], dtype=dtype)
    generator = KeyGenerator("id").fit(real)
    keys = generator.generate(25, np.random.default_rng(0))
    assert keys.dtype == real.dtype and keys.is_unique and keys.notna().all()
    values = [int(v) for v in keys]
    assert values[:10] == [top - 9 + i for i in range(10)]
    assert values[10:] == [top - 10 - i for i in range(15)]
    restored = KeyGenerator.from_dict(json.loads(json.dumps(generator.to_dict())))
    pd.testing.assert_series_equal(restored.generate(25, np.random.default_rng(1)), keys)


def test_a_dtype_without_room_for_the_keys_is_a_clear_error() -> None:
    generator = KeyGenerator("id").fit(pd.Series(np.arange(100, 110, dtype=np.int8)))
    assert len(generator.generate(256, np.random.default_rng(0)).unique()) == 256  # every int8
    with pytest.raises(GenerationError, match="holds only 256 values"):
        generator.generate(257, np.random.default_rng(0))
    wide = KeyGenerator("id").fit(pd.Series([INT64_MAX - 2**62, INT64_MAX], dtype="int64"))  # step 2**62
    assert [int(v) for v in wide.generate(4, np.random.default_rng(0))] == [
        INT64_MAX - 2**62, INT64_MAX, INT64_MAX - 2**63, INT64_MAX - 2**62 - 2**63]
    with pytest.raises(GenerationError, match="holds only 4 values"):
        wide.generate(5, np.random.default_rng(0))


def test_big_integer_keys_learn_their_exact_start_and_step() -> None:
    real = pd.Series([BIG + 4, BIG, BIG + 2, BIG + 6], dtype="int64")
    keys = KeyGenerator("id").fit(real).generate(6, np.random.default_rng(0))
    assert keys.tolist() == [BIG + 2 * i for i in range(6)]
    unsigned = pd.Series(np.array([2**63 + 10, 2**63 + 15, 2**63 + 20], dtype=np.uint64))
    keys = KeyGenerator("id").fit(unsigned).generate(4, np.random.default_rng(0))
    assert keys.dtype == np.uint64 and [int(v) for v in keys] == [2**63 + 10 + 5 * i for i in range(4)]


# --------------------------------------------------------------------------- the building blocks
@pytest.mark.parametrize(("child", "found"), [
    (pd.Series([BIG + 1, None], dtype="Int64"), [1]),
    (pd.Series(np.array([BIG + 1, 2**63 + 5], dtype=np.uint64)), [1, -1]),
])
def test_integer_keys_of_two_dtypes_are_compared_exactly(child: pd.Series, found: list[int]) -> None:
    parent = pd.Series([BIG, BIG + 1, BIG + 2], dtype="int64")
    left, right = comparable_keys(child, parent)
    assert pd.Index(right).get_indexer(pd.Index(left.dropna())).tolist() == found


def test_an_integer_and_a_float_key_meet_as_float64() -> None:
    """The float side holds no more than float64 (the schema validation compares them so too)."""
    left, right = comparable_keys(pd.Series([float(BIG), np.nan]), pd.Series([BIG, None], dtype="Int64"))
    assert left.dtype == right.dtype == np.float64 and right.isna().tolist() == [False, True]


def test_rows_are_compared_exactly() -> None:
    left = pd.DataFrame({"a": pd.array([BIG, None, BIG + 1], dtype="Int64")})
    right = pd.DataFrame({"a": np.array([BIG, BIG, BIG], dtype=np.int64)})
    assert same_rows(left, right).tolist() == [True, False, False]


def test_reference_checker_and_counts_see_neighbouring_big_keys_apart() -> None:
    md = Metadata().add_table("p", pk="id").add_table("c", pk="cid", fk={"pid": "p.id"})
    rel = SchemaGraph.from_metadata(md).parents_of("c")[0]
    parent = pd.DataFrame({"id": np.array([BIG, BIG + 2], dtype=np.int64)})
    checker = ReferenceChecker(rel, parent)
    checker.check(pd.DataFrame({"pid": pd.array([BIG + 2, None], dtype="Int64")}))
    with pytest.raises(GenerationError, match="1 generated value"):
        checker.check(pd.DataFrame({"pid": pd.array([BIG + 1, BIG], dtype="Int64")}))  # float64: both 2**62
    counts = children_per_parent(pd.Series([BIG + 2, BIG + 2, None, BIG + 1], dtype="Int64"), parent["id"])
    assert counts.tolist() == [0, 2]


def test_cleaning_compares_big_keys_exactly() -> None:
    """A float FK equal to two keys as float64 is one row (the join used to add one per key), an
    ``Int64`` FK one away from every key is an orphan, and a string FK is parsed to the exact integer."""
    md = (Metadata().add_table("p", pk="id").add_table("c", pk="cid", fk={"pid": "p.id"})
          .add_table("s", pk="sid", fk={"pid": "p.id"}))
    graph = SchemaGraph.from_metadata(md)
    parent = pd.DataFrame({"id": np.array([BIG, BIG + 1], dtype=np.int64)})  # both 2**62 as float64
    floats = pd.DataFrame({"cid": [1, 2, 3], "pid": [float(BIG), np.nan, 1.5]})
    strings = pd.DataFrame({"sid": [1, 2], "pid": [str(BIG + 1), None]})
    clean, dropped = drop_integrity_violations(graph, {"p": parent, "c": floats, "s": strings},
                                               {"p": ["id"], "c": ["cid"], "s": ["sid"]})
    assert clean["c"]["cid"].tolist() == [1, 2] and dropped["c"] == 1
    assert clean["s"]["sid"].tolist() == [1, 2] and [int(clean["s"]["pid"].iloc[0])] == [BIG + 1]
    assert clean["s"]["pid"].dtype == pd.Int64Dtype()
    nullable = pd.DataFrame({"cid": [1, 2, 3], "pid": pd.array([BIG + 1, None, BIG + 2], dtype="Int64")})
    clean, dropped = drop_integrity_violations(graph, {"p": parent, "c": nullable, "s": strings.iloc[:0]},
                                               {"p": ["id"], "c": ["cid"], "s": ["sid"]})
    assert clean["c"]["cid"].tolist() == [1, 2] and dropped["c"] == 1


def test_per_parent_numbering_of_big_integers_is_exact() -> None:
    parents = pd.DataFrame({"order": [1, 1, 1, 2, 2]})
    assert per_parent_start(pd.Series([BIG, BIG + 1, BIG + 2, BIG, BIG + 1], dtype="int64"), parents) == BIG
    # 2**62 + 1 repeated under float64 would look like a repeat; exact, the second parent skips a number.
    assert per_parent_start(pd.Series([BIG, BIG + 1, BIG + 2, BIG, BIG + 2], dtype="int64"), parents) is None
    unsigned = pd.Series(np.array([2**63, 2**63 + 1, 2**63 + 2, 2**63, 2**63 + 1], dtype=np.uint64))
    assert per_parent_start(unsigned, parents) == 2**63


def test_nullable_casts_keep_the_signedness() -> None:
    values = pd.Series(pd.array([2**64 - 1, None], dtype="UInt64"))
    assert cast_like(values, np.dtype("uint64")).dtype == pd.UInt64Dtype()
    assert cast_like(pd.Series(pd.array([BIG, None], dtype="Int64")), np.dtype("int64")).tolist()[0] == BIG


@pytest.mark.parametrize(("start", "step", "dtype"), [(2**62, 1024, np.float64),  # every key a float64
                                                      (BIG, 1, pd.Int64Dtype())])  # keys float64 cannot hold
def test_a_float_foreign_key_to_big_integer_keys(start: int, step: int, dtype: object) -> None:
    """A float FK (an integer column read with NaN) stays float while floats hold the parent's keys
    exactly; beyond that it is generated as ``Int64``, as ``float64`` would round keys onto others."""
    rng = np.random.default_rng(0)
    parent = pd.DataFrame({"id": np.int64(start) + step * np.arange(30, dtype=np.int64), "x": rng.normal(size=30)})
    fk = parent["id"].to_numpy()[rng.integers(0, 30, 100)].astype(np.float64)
    fk[:10] = np.nan
    child = pd.DataFrame({"cid": np.arange(100), "pid": fk, "y": rng.normal(size=100)})
    metadata = Metadata().add_table("p", pk="id").add_table("c", pk="cid", fk={"pid": "p.id"})
    synth = Synthesizer(metadata, seed=0, epochs=1).fit({"p": parent, "c": child}, progress_bar=False, n_jobs=1)
    out = synth.sample(seed=1)
    assert out["c"]["pid"].dtype == dtype and out["c"]["pid"].isna().any()
    _assert_references(out["c"], ["pid"], out["p"], ["id"])


@pytest.mark.parametrize("values, dtype", [
    ([2**62 + 1, 2**62 + 2], "int64"), ([2**63 + 3, 2**63 + 5], "uint64"), ([2**63 - 9, 2**63 - 8], "int64")])
def test_the_id_encoder_continues_big_integer_sequences_exactly(values: list[int], dtype: str) -> None:
    from syntho_hive.core.data.encoders.ids import IdGenerator

    generator = IdGenerator("id")
    generator.fit(pd.Series(np.array(values, dtype=dtype)))
    out = generator.generate(3, np.random.default_rng(0))
    assert out.dtype == np.dtype(dtype)
    step = values[1] - values[0]
    assert [int(v) for v in out] == [values[0] + step * i for i in range(3)]


def test_the_id_encoder_refuses_to_wrap_past_its_dtype() -> None:
    from syntho_hive.core.data.encoders.ids import IdGenerator
    from syntho_hive.exceptions import GenerationError

    generator = IdGenerator("id")
    generator.fit(pd.Series(np.array([2**63 - 2, 2**63 - 1], dtype="int64")))
    with pytest.raises(GenerationError, match="outside what its dtype"):
        generator.generate(3, np.random.default_rng(0))
