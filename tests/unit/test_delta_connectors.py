"""Delta Lake connectors (delta-rs): exact round trips, versions, time travel, all-or-nothing writes."""

from __future__ import annotations

import datetime
import decimal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import deltalake  # a dev extra: its absence fails these tests
import numpy as np
import pandas as pd
import pytest

from syntho_hive.connectors.delta import DeltaSource, DeltaTarget
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import (
    GenerationError,
    MissingDependencyError,
    SchemaError,
    SerializationError,
)


def orders_zoo(n: int = 7, seed: int = 0, first_id: int = 1) -> pd.DataFrame:
    """Orders with a column of every type Delta Lake stores, in the storage dtypes; ``note`` is all-null."""
    rng = np.random.default_rng(seed)
    rows = np.arange(n)
    return pd.DataFrame({
        "order_id": np.arange(first_id, first_id + n, dtype=np.int64),
        "customer_id": rng.integers(100, 104, n).astype(np.int64),
        "qty": pd.array([int(v) if i % 3 else None for i, v in enumerate(rng.integers(1, 9, n).tolist())],
                        dtype="Int16"),
        "big": pd.array([2**60 + i if i % 2 else None for i in range(n)], dtype="Int64"),
        "amount": pd.Series([decimal.Decimal(f"{rng.integers(0, 10**6)}.{i % 100:02d}") if i % 5 != 2 else None
                             for i in range(n)], dtype=object),
        "ratio": np.where(rows % 4 == 1, np.nan, rng.random(n)),
        "weight": rng.random(n).astype(np.float32),
        "paid": rng.random(n) > 0.5,
        "gift": pd.array([None if i % 3 == 1 else bool(i % 2) for i in range(n)], dtype="boolean"),
        "day": pd.Series(pd.to_datetime([f"2024-01-{i % 28 + 1:02d}" if i % 4 != 3 else None for i in range(n)]),
                         dtype="datetime64[ns]"),
        "created": pd.Series(pd.Timestamp("2024-03-01 10:00:00.123456") + pd.to_timedelta(rows, unit="h"),
                             dtype="datetime64[ns]"),
        "shipped": pd.Series(pd.Timestamp("2024-03-02 08:30:00", tz="UTC") + pd.to_timedelta(rows * 61, unit="s"),
                             dtype="datetime64[ns, UTC]"),
        "customer": pd.Series([f"Ann N{i}" if i % 5 != 4 else None for i in range(n)], dtype=object),
        "region": pd.Series([("EU", "US", "APAC")[i % 3] for i in range(n)], dtype=object),
        "year": (2023 + rows % 2).astype(np.int16),
        "ref": pd.Series([str(uuid.UUID(int=int(rng.integers(0, 2**62)) * 7 + i)) for i in range(n)], dtype=object),
        "note": pd.Series([None] * n, dtype=object),
        "blob": pd.Series([bytes([i % 256, 255 - i % 256]) if i % 6 != 5 else None for i in range(n)], dtype=object),
    })


ZOO_TYPES = {
    "order_id": ColumnType(kind="integer", bits=64, nullable=False),
    "customer_id": ColumnType(kind="integer", bits=64, nullable=False),
    "qty": ColumnType(kind="integer", bits=16),
    "big": ColumnType(kind="integer", bits=64),
    "amount": ColumnType(kind="decimal", precision=12, scale=2),
    "ratio": ColumnType(kind="float", bits=64),
    "weight": ColumnType(kind="float", bits=32, nullable=False),
    "paid": ColumnType(kind="boolean", nullable=False),
    "gift": ColumnType(kind="boolean"),
    "day": ColumnType(kind="date"),
    "created": ColumnType(kind="timestamp"),
    "shipped": ColumnType(kind="timestamp", timezone=True),
    "customer": ColumnType(kind="string", length=40),
    "region": ColumnType(kind="string", nullable=False),
    "year": ColumnType(kind="integer", bits=16, nullable=False),
    "ref": ColumnType(kind="uuid"),
    "note": ColumnType(kind="string"),
    "blob": ColumnType(kind="binary"),
}


def customers(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": np.arange(100, 100 + n, dtype=np.int64),
                         "city": pd.Series(["Boston", "Denver", "Austin", "Boston", "Denver"][:n], dtype=object)})


def shop_metadata() -> Metadata:
    metadata = Metadata().add_table("customers", pk="customer_id")
    metadata.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"})
    metadata.tables["customers"].column_types = {"customer_id": ColumnType(kind="integer", bits=64, nullable=False),
                                                 "city": ColumnType(kind="string")}
    metadata.tables["orders"].column_types = dict(ZOO_TYPES)
    return metadata


def chunked(frame: pd.DataFrame, *sizes: int) -> Iterator[pd.DataFrame]:
    start = 0
    for size in sizes:
        yield frame.iloc[start:start + size].reset_index(drop=True)
        start += size
    assert start == len(frame)


def by_id(frame: pd.DataFrame, key: str = "order_id") -> pd.DataFrame:
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


def write_shop(target: DeltaTarget, orders: pd.DataFrame, *sizes: int, n_customers: int = 4) -> None:
    with target.open(shop_metadata(), ["customers", "orders"]) as writer:
        writer.write_table("customers", iter([customers(n_customers)]))
        writer.write_table("orders", chunked(orders, *sizes))


def version(path: Path) -> int:
    return deltalake.DeltaTable(str(path)).version()


def failing(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    yield frame.iloc[:2].reset_index(drop=True)
    raise GenerationError("the model failed on chunk 2")


# --------------------------------------------------------------------------- round trips and reading


@pytest.mark.parametrize("partition_by", [None, {"orders": ["region", "year"]}], ids=["flat", "partitioned"])
def test_the_type_zoo_round_trips_exactly_in_chunks(tmp_path: Path, partition_by: dict | None) -> None:
    orders = orders_zoo(9)
    write_shop(DeltaTarget(tmp_path, partition_by=partition_by), orders, 4, 0, 5)
    source = DeltaSource(tmp_path)
    assert source.table_names() == ["customers", "orders"]
    pd.testing.assert_frame_equal(by_id(source.read_table("orders")), orders, check_exact=True)
    pd.testing.assert_frame_equal(by_id(source.read_table("customers"), "customer_id"), customers(),
                                  check_exact=True)
    assert version(tmp_path / "orders") == 0  # one Delta version for the whole table
    if partition_by:
        assert deltalake.DeltaTable(str(tmp_path / "orders")).metadata().partition_columns == ["region", "year"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_streaming_in_small_batches_equals_the_whole_read(tmp_path: Path) -> None:
    orders = orders_zoo(300, seed=3)
    write_shop(DeltaTarget(tmp_path), orders, 100, 200)
    source = DeltaSource(tmp_path)
    chunks = list(source.iter_table("orders", chunk_rows=32))
    assert len(chunks) >= 300 // 32 and all(0 < len(chunk) <= 32 for chunk in chunks)
    assert all(chunk.dtypes.equals(chunks[0].dtypes) for chunk in chunks)
    streamed = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(streamed, source.read_table("orders"), check_exact=True)
    pd.testing.assert_frame_equal(by_id(streamed), orders, check_exact=True)
    picked = source.read_table("orders", columns=["amount", "order_id"])
    assert list(picked.columns) == ["amount", "order_id"]


def test_reflect_gives_column_types_and_detected_keys(tmp_path: Path) -> None:
    write_shop(DeltaTarget(tmp_path), orders_zoo(30, seed=4), 30)
    metadata = Metadata.from_source(DeltaSource(tmp_path))
    orders = metadata.tables["orders"]
    assert orders.pk == "order_id" and metadata.tables["customers"].pk == "customer_id"
    assert orders.fk == {"customer_id": "customers.customer_id"}
    described = {name: t.describe() for name, t in orders.column_types.items()}
    assert described["amount"] == "decimal(12,2)" and described["qty"] == "int16"
    assert described["shipped"] == "timestamp with time zone" and described["created"] == "timestamp"
    assert described["day"] == "date" and described["blob"] == "binary"
    assert not orders.column_types["order_id"].nullable and orders.column_types["qty"].nullable
    assert list(DeltaSource(tmp_path).reflect(["customers"]).tables) == ["customers"]


def test_types_delta_lake_lacks_are_widened(tmp_path: Path) -> None:
    metadata = Metadata().add_table("t")
    metadata.tables["t"].column_types = {"n": ColumnType(kind="integer", bits=32, unsigned=True, nullable=False),
                                         "at": ColumnType(kind="time")}
    frame = pd.DataFrame({"n": np.array([0, 2**32 - 1], dtype=np.uint32),
                          "at": pd.Series([datetime.time(8, 30), None], dtype=object)})
    with DeltaTarget(tmp_path).open(metadata, ["t"]) as writer:
        writer.write_table("t", iter([frame]))
    back = DeltaSource(tmp_path).read_table("t")
    assert back["n"].dtype == np.int64 and back["n"].tolist() == [0, 2**32 - 1]  # uint32 -> int64, exact
    assert back["at"].tolist() == ["08:30:00.000000", None]  # Delta Lake has no time type: ISO text



def test_durations_are_a_clear_error_and_write_nothing(tmp_path: Path) -> None:
    """Delta Lake has no duration type: a timedelta column raised delta-rs's raw ``Exception`` (with a Rust
    backtrace) at commit."""
    metadata = Metadata().add_table("t")
    frame = pd.DataFrame({"n": np.arange(2, dtype=np.int64), "took": pd.to_timedelta([90, 3600], unit="s")})
    with pytest.raises(SerializationError, match="'took' holds durations.*no duration type"):
        with DeltaTarget(tmp_path).open(metadata, ["t"]) as writer:
            writer.write_table("t", iter([frame]))
    assert not (tmp_path / "t" / "_delta_log").exists()

# --------------------------------------------------------------------------- if_exists and versions


def test_if_exists_fail_stops_open(tmp_path: Path) -> None:
    write_shop(DeltaTarget(tmp_path), orders_zoo(3), 3)
    with pytest.raises(SerializationError, match=r"\['customers', 'orders'\].*if_exists='fail'") as error:
        DeltaTarget(tmp_path).open(shop_metadata(), ["customers", "orders"])
    assert str(tmp_path) in str(error.value)
    assert version(tmp_path / "orders") == 0


def test_replace_writes_a_new_version_and_the_old_one_stays_readable(tmp_path: Path) -> None:
    first, second = orders_zoo(5, seed=1), orders_zoo(6, seed=2, first_id=100)
    write_shop(DeltaTarget(tmp_path), first, 5)
    before = version(tmp_path / "orders")
    write_shop(DeltaTarget(tmp_path, if_exists="replace", partition_by={"orders": ["region"]}), second, 2, 4)
    assert version(tmp_path / "orders") == before + 1
    pd.testing.assert_frame_equal(by_id(DeltaSource(tmp_path).read_table("orders")), second, check_exact=True)
    old = deltalake.DeltaTable(str(tmp_path / "orders"), version=before).to_pyarrow_table().to_pandas()
    assert sorted(old["order_id"]) == first["order_id"].tolist()
    travelled = DeltaSource(tmp_path, version={"orders": before}).read_table("orders")
    pd.testing.assert_frame_equal(by_id(travelled), first, check_exact=True)


def test_append_adds_a_version_with_the_new_rows(tmp_path: Path) -> None:
    first, second = orders_zoo(5, seed=1), orders_zoo(4, seed=2, first_id=100)
    write_shop(DeltaTarget(tmp_path, partition_by={"orders": ["region"]}), first, 5)
    write_shop(DeltaTarget(tmp_path, if_exists="append"), second[list(reversed(second.columns))], 4)  # any order
    assert version(tmp_path / "orders") == 1
    expected = pd.concat([first, second], ignore_index=True)
    pd.testing.assert_frame_equal(by_id(DeltaSource(tmp_path).read_table("orders")), expected, check_exact=True)
    with pytest.raises(SerializationError, match=r"partitioned by \['region'\]"):
        DeltaTarget(tmp_path, if_exists="append", partition_by={"orders": ["year"]}).open(shop_metadata(),
                                                                                         ["orders"])


# --------------------------------------------------------------------------- all or nothing


@pytest.mark.parametrize("if_exists", ["replace", "append"])
def test_an_error_in_the_second_tables_chunks_leaves_every_table_as_it_was(tmp_path: Path, if_exists: str) -> None:
    write_shop(DeltaTarget(tmp_path), orders_zoo(5), 5)
    before = {name: (version(tmp_path / name), by_id(DeltaSource(tmp_path).read_table(name), key))
              for name, key in (("customers", "customer_id"), ("orders", "order_id"))}
    with pytest.raises(GenerationError, match="chunk 2"):
        with DeltaTarget(tmp_path, if_exists=if_exists).open(shop_metadata(), ["customers", "orders"]) as writer:
            writer.write_table("customers", iter([customers(2)]))
            writer.write_table("orders", failing(orders_zoo(6, first_id=100)))
    for name, key in (("customers", "customer_id"), ("orders", "order_id")):
        assert version(tmp_path / name) == before[name][0]
        pd.testing.assert_frame_equal(by_id(DeltaSource(tmp_path).read_table(name), key), before[name][1],
                                      check_exact=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers", "orders"]


def test_an_error_in_new_tables_leaves_no_table(tmp_path: Path) -> None:
    with pytest.raises(GenerationError):
        with DeltaTarget(tmp_path).open(shop_metadata(), ["customers", "orders"]) as writer:
            writer.write_table("customers", iter([customers()]))
            writer.write_table("orders", failing(orders_zoo(6)))
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_committing_rolls_the_earlier_tables_back(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = shop_metadata().add_table("returns", pk="return_id")
    with DeltaTarget(tmp_path).open(metadata, ["customers"]) as writer:
        writer.write_table("customers", iter([customers()]))
    real_write = deltalake.write_deltalake

    def write_deltalake(table_or_uri: str, data: object, **options: object) -> None:
        if Path(table_or_uri).name == "returns":
            raise deltalake.exceptions.DeltaError("object store unreachable")
        real_write(table_or_uri, data, **options)

    monkeypatch.setattr(deltalake, "write_deltalake", write_deltalake)
    with pytest.raises(SerializationError, match="object store unreachable"):
        with DeltaTarget(tmp_path, if_exists="replace").open(metadata, ["customers", "orders", "returns"]) as writer:
            writer.write_table("customers", iter([customers(2)]))  # version 1 at commit, then restored
            writer.write_table("orders", iter([orders_zoo(3)]))  # new: created at commit, then removed
            writer.write_table("returns", iter([pd.DataFrame({"return_id": [1, 2]})]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers"]
    # Delta Lake cannot un-commit: the restore is a new version with the rows of version 0.
    assert version(tmp_path / "customers") == 2
    pd.testing.assert_frame_equal(by_id(DeltaSource(tmp_path).read_table("customers"), "customer_id"), customers(),
                                  check_exact=True)


# --------------------------------------------------------------------------- errors


def test_a_missing_extra_names_synthohive_delta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "deltalake", None)  # "not installed"
    import syntho_hive.connectors as connectors  # importing needs no extra

    with pytest.raises(MissingDependencyError, match=r"synthohive\[delta\]"):
        connectors.DeltaSource(tmp_path)
    with pytest.raises(MissingDependencyError, match=r"synthohive\[delta\]"):
        connectors.DeltaTarget(tmp_path)


def test_a_missing_root_table_or_version_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "lake"
    with pytest.raises(SerializationError, match="lake.*does not exist"):
        DeltaSource(missing).table_names()
    write_shop(DeltaTarget(tmp_path), orders_zoo(3), 3)
    with pytest.raises(SchemaError, match=r"No Delta table 'returns'.*customers, orders"):
        DeltaSource(tmp_path).read_table("returns")
    with pytest.raises(SerializationError, match=r"gone.*_delta_log"):
        DeltaSource(tmp_path, tables={"orders": "gone"}).read_table("orders")
    with pytest.raises(SerializationError, match=r"orders.*version 7"):
        DeltaSource(tmp_path, version=7).read_table("orders")
    with pytest.raises(SchemaError, match="version"):
        DeltaSource(tmp_path, version=-1)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "data.csv").write_text("a\n1\n", encoding="utf-8")
    metadata = Metadata().add_table("junk")
    with pytest.raises(SerializationError, match="junk.*not a Delta table"):
        DeltaTarget(tmp_path, if_exists="replace").open(metadata, ["junk"])


def test_reflect_of_one_table_name_as_a_string_is_a_clear_error(tmp_path: Path) -> None:
    from syntho_hive.exceptions import ConfigurationError

    write_shop(DeltaTarget(tmp_path), orders_zoo(3), 3)
    with pytest.raises(ConfigurationError, match=r"list of table names, got 'orders'"):
        Metadata.from_source(DeltaSource(tmp_path), "orders")
    assert list(Metadata.from_source(DeltaSource(tmp_path), ["orders"]).tables) == ["orders"]
    assert DeltaSource(tables={"orders": tmp_path / "orders"}).description == "1 Delta table(s)"
