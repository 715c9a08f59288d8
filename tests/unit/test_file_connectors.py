"""Parquet and CSV connectors: exact round trips of every storage type, streaming, reflection, atomic writes."""

from __future__ import annotations

import datetime
import decimal
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from syntho_hive.connectors.base import TableSource, TableTarget
from syntho_hive.connectors.files import CSVSource, CSVTarget, ParquetSource, ParquetTarget
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import GenerationError, SchemaError, SerializationError

# --------------------------------------------------------------------------- data


def orders_zoo(n: int = 7, seed: int = 0, first_id: int = 1) -> pd.DataFrame:
    """Orders with a column of every storage type, in the storage dtypes; ``note`` is all-null."""
    rng = np.random.default_rng(seed)
    rows = np.arange(n)
    return pd.DataFrame({
        "order_id": np.arange(first_id, first_id + n, dtype=np.int64),
        "customer_id": rng.integers(100, 104, n).astype(np.int64),
        "qty": pd.array([int(v) if i % 3 else None for i, v in enumerate(rng.integers(1, 9, n).tolist())],
                        dtype="Int16"),
        "big": pd.array([2**60 + i if i % 2 else None for i in range(n)], dtype="Int64"),  # beyond 2**53: exact
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
        "at": pd.Series([datetime.time(i % 24, 30, 15, 250) if i % 7 != 6 else None for i in range(n)], dtype=object),
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
    "at": ColumnType(kind="time"),
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
    """``frame`` in chunks of ``sizes`` rows (a 0 gives an empty chunk), each with a fresh index."""
    start = 0
    for size in sizes:
        yield frame.iloc[start:start + size].reset_index(drop=True)
        start += size
    assert start == len(frame)


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("order_id", kind="stable").reset_index(drop=True)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (what 'as it was' means)."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


FORMATS: dict[str, tuple[Callable[..., TableTarget], Callable[..., TableSource]]] = {
    "parquet": (lambda root, **kw: ParquetTarget(root, **kw), lambda root: ParquetSource(root)),
    "partitioned": (lambda root, **kw: ParquetTarget(root, partition_by={"orders": ["region", "year"]}, **kw),
                    lambda root: ParquetSource(root)),
    "csv": (lambda root, **kw: CSVTarget(root, **kw), lambda root: CSVSource(root, metadata=shop_metadata())),
    "csv.gz": (lambda root, **kw: CSVTarget(root, compression="gzip", **kw),
               lambda root: CSVSource(root, metadata=shop_metadata())),
}


def write_shop(target: TableTarget, orders: pd.DataFrame, *sizes: int) -> None:
    with target.open(shop_metadata(), ["customers", "orders"]) as writer:
        writer.write_table("customers", iter([customers()]))
        writer.write_table("orders", chunked(orders, *sizes))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_type_zoo_round_trips_exactly_in_chunks(tmp_path: Path, fmt: str) -> None:
    make_target, make_source = FORMATS[fmt]
    orders = orders_zoo(9)
    write_shop(make_target(tmp_path), orders, 4, 0, 5)  # an empty chunk in the middle; ``note`` all-null

    source = make_source(tmp_path)
    assert source.table_names() == ["customers", "orders"]
    back = source.read_table("orders")
    pd.testing.assert_frame_equal(by_id(back), orders, check_exact=True)
    pd.testing.assert_frame_equal(source.read_table("customers"), customers(), check_exact=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_a_single_parquet_file_has_a_row_group_per_chunk_and_the_declared_arrow_types(tmp_path: Path) -> None:
    write_shop(ParquetTarget(tmp_path), orders_zoo(9), 4, 0, 5)
    file = pq.ParquetFile(tmp_path / "orders.parquet")
    assert file.num_row_groups == 2  # the empty chunk adds none
    schema = file.schema_arrow
    assert schema.field("amount").type == pa.decimal128(12, 2)
    assert schema.field("day").type == pa.date32()
    assert schema.field("shipped").type == pa.timestamp("us", tz="UTC")
    assert schema.field("qty").type == pa.int16() and schema.field("qty").nullable
    assert schema.field("order_id").type == pa.int64() and not schema.field("order_id").nullable
    assert schema.field("note").type == pa.string()  # declared, though every value is null


def test_row_group_rows_caps_the_row_groups(tmp_path: Path) -> None:
    write_shop(ParquetTarget(tmp_path, row_group_rows=4), orders_zoo(10), 10)
    assert [pq.ParquetFile(tmp_path / "orders.parquet").metadata.row_group(i).num_rows for i in range(3)] == [4, 4, 2]


def test_the_interface_keeps_its_import_paths() -> None:
    from syntho_hive.connectors.files import _chunks, _csv_text, _table_files
    from syntho_hive.interface import files, table_writer

    assert files.read_csv is _csv_text.read_csv and files.read_table is _table_files.read_table
    assert table_writer.write_table_chunks is _chunks.write_table_chunks


def test_a_partitioned_dataset_has_hive_folders_and_keeps_the_partition_types(tmp_path: Path) -> None:
    orders = orders_zoo(9)
    write_shop(ParquetTarget(tmp_path, partition_by={"orders": ["region", "year"]}), orders, 9)
    folders = sorted(p.relative_to(tmp_path / "orders").as_posix() for p in (tmp_path / "orders").glob("*/*"))
    assert folders == [f"region={r}/year={y}" for r in ("APAC", "EU", "US") for y in (2023, 2024)]
    reflected = ParquetSource(tmp_path).reflect(["orders"]).tables["orders"].column_types
    assert reflected["year"] == ColumnType(kind="integer", bits=16, nullable=False, source="int16")
    assert reflected["region"].kind == "string" and not reflected["region"].nullable
    back = ParquetSource(tmp_path).read_table("orders", columns=["year", "order_id"])
    assert list(back.columns) == ["year", "order_id"] and back["year"].dtype == np.int16


def test_columns_without_a_column_type_keep_their_pandas_dtype(tmp_path: Path) -> None:
    orders = orders_zoo(9)
    metadata = Metadata().add_table("orders", pk="order_id")  # no column types at all
    with ParquetTarget(tmp_path).open(metadata, ["orders"]) as writer:
        writer.write_table("orders", chunked(orders.drop(columns=["amount"]), 3, 0, 6))
    back = ParquetSource(tmp_path).read_table("orders")
    expected = orders.drop(columns=["amount"])
    # Only the all-null object column cannot tell its type: it stays all-null text.
    pd.testing.assert_frame_equal(back, expected, check_exact=True)


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("fmt", ["parquet", "partitioned", "csv"])
def test_streaming_in_small_batches_equals_the_whole_read(tmp_path: Path, fmt: str) -> None:
    make_target, make_source = FORMATS[fmt]
    orders = orders_zoo(300, seed=3)
    write_shop(make_target(tmp_path), orders, 120, 180)
    source = make_source(tmp_path)

    chunks = list(source.iter_table("orders", chunk_rows=32))
    assert len(chunks) >= 300 // 32 and all(0 < len(chunk) <= 32 for chunk in chunks)
    assert all(chunk.dtypes.equals(chunks[0].dtypes) for chunk in chunks)
    assert all(isinstance(chunk.index, pd.RangeIndex) and chunk.index.start == 0 for chunk in chunks)
    streamed = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(streamed, source.read_table("orders"), check_exact=True)
    pd.testing.assert_frame_equal(by_id(streamed), orders, check_exact=True)


def test_an_empty_table_streams_one_empty_chunk_with_its_dtypes(tmp_path: Path) -> None:
    write_shop(ParquetTarget(tmp_path), orders_zoo(0), 0)
    chunks = list(ParquetSource(tmp_path).iter_table("orders"))
    assert len(chunks) == 1 and chunks[0].empty
    assert chunks[0].dtypes.to_dict() == orders_zoo(3).dtypes.to_dict()


def test_the_csv_source_without_metadata_streams_like_the_exact_csv_reader(tmp_path: Path) -> None:
    from syntho_hive.interface.files import read_csv

    rows = ["id,zip,score,flag,region"] + [
        f"{i},{i % 7:05d},{'NA' if i % 9 == 0 else i / 4},{'' if i % 11 == 0 else ['True', 'False'][i % 2]},"
        f"{['EU', 'NA', 'AS'][i % 3]}" for i in range(200)]
    rows.append(f"200,00001,{2**70},True,EU")  # a huge number in a float column; still a float
    (tmp_path / "visits.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    source = CSVSource(tmp_path)
    chunks = list(source.iter_table("visits", chunk_rows=16))
    whole = read_csv(tmp_path / "visits.csv")
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole, check_exact=True)
    assert [str(t) for t in whole.dtypes] == ["int64", "object", "float64", "boolean", "object"]
    assert whole["region"].tolist()[:3] == ["EU", "NA", "AS"]  # NA is North America, not a gap


# --------------------------------------------------------------------------- reflection


def test_reflect_reads_column_types_from_the_files_and_detects_the_keys(tmp_path: Path) -> None:
    # Files as another tool wrote them: pandas for customers, a Hive dataset (part files without
    # a suffix, a _SUCCESS marker, no schema file) for orders.
    customers().to_parquet(tmp_path / "customers.parquet", index=False)
    orders = orders_zoo(40, seed=5)[["order_id", "customer_id", "amount", "shipped", "day", "qty", "region"]]
    table = pa.Table.from_pandas(orders, preserve_index=False).cast(pa.schema([
        ("order_id", pa.int64()), ("customer_id", pa.int64()), ("amount", pa.decimal128(12, 2)),
        ("shipped", pa.timestamp("us", tz="UTC")), ("day", pa.date32()), ("qty", pa.int16()), ("region", pa.string()),
    ]))
    pq.write_to_dataset(table, tmp_path / "orders", partition_cols=["region"])
    for index, part in enumerate(sorted((tmp_path / "orders").rglob("*.parquet"))):
        part.rename(part.with_name(f"{index:06d}_0"))
    (tmp_path / "orders" / "_SUCCESS").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a table", encoding="utf-8")

    source = ParquetSource(tmp_path)
    metadata = Metadata.from_source(source)
    assert sorted(metadata.tables) == ["customers", "orders"]
    order_table = metadata.tables["orders"]
    assert order_table.pk == "order_id" and metadata.tables["customers"].pk == "customer_id"
    assert order_table.fk == {"customer_id": "customers.customer_id"}
    described = {name: t.describe() for name, t in order_table.column_types.items()}
    assert described == {"order_id": "int64", "customer_id": "int64", "amount": "decimal(12,2)",
                         "shipped": "timestamp with time zone", "day": "date", "qty": "int16",
                         "region": "string"}
    assert order_table.columns["amount"] == "numerical" and order_table.columns["shipped"] == "datetime"
    back = source.read_table("orders")
    assert back["amount"].dropna().map(type).eq(decimal.Decimal).all()
    assert str(back["shipped"].dtype) == "datetime64[ns, UTC]" and str(back["qty"].dtype) == "Int16"
    assert sorted(back["order_id"]) == sorted(orders["order_id"])

    only = source.reflect(["orders"])
    assert list(only.tables) == ["orders"] and only.tables["orders"].fk == {}


def test_reflect_of_a_written_folder_gives_back_the_declared_column_types(tmp_path: Path) -> None:
    write_shop(ParquetTarget(tmp_path), orders_zoo(9), 9)
    reflected = ParquetSource(tmp_path).reflect()
    for name, declared in ZOO_TYPES.items():  # uuid, string lengths... travel in the field metadata
        got = reflected.tables["orders"].column_types[name]
        assert got.model_copy(update={"source": None}) == declared, name
    assert reflected.tables["orders"].fk == {"customer_id": "customers.customer_id"}


def test_csv_reflect_takes_types_from_the_values(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("customer_id,zip,score\n1,02134,1.5\n2,10001,\n", encoding="utf-8")
    types = CSVSource(tmp_path).reflect().tables["customers"].column_types
    assert types["customer_id"] == ColumnType(kind="integer", bits=64, nullable=False, source="int64")
    assert types["zip"].kind == "string" and types["score"].kind == "float" and types["score"].nullable


# --------------------------------------------------------------------------- if_exists


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_if_exists_fail_stops_open_and_names_the_table(tmp_path: Path, fmt: str) -> None:
    make_target, _ = FORMATS[fmt]
    write_shop(make_target(tmp_path), orders_zoo(5), 5)
    before = snapshot(tmp_path)
    with pytest.raises(SerializationError, match=r"orders.*if_exists='fail'") as error:
        make_target(tmp_path).open(shop_metadata(), ["customers", "orders"])
    assert str(tmp_path) in str(error.value)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_if_exists_replace_and_append(tmp_path: Path, fmt: str) -> None:
    make_target, make_source = FORMATS[fmt]
    first, second = orders_zoo(5, seed=1), orders_zoo(6, seed=2, first_id=100)
    write_shop(make_target(tmp_path), first, 5)
    write_shop(make_target(tmp_path, if_exists="replace"), second, 2, 0, 4)
    pd.testing.assert_frame_equal(by_id(make_source(tmp_path).read_table("orders")), second, check_exact=True)

    write_shop(make_target(tmp_path, if_exists="append"), first, 3, 2)
    expected = by_id(pd.concat([second, first], ignore_index=True))
    pd.testing.assert_frame_equal(by_id(make_source(tmp_path).read_table("orders")), expected, check_exact=True)
    assert len(make_source(tmp_path).read_table("customers")) == 2 * len(customers())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_replace_swaps_a_dataset_folder_for_a_single_file(tmp_path: Path) -> None:
    write_shop(ParquetTarget(tmp_path, partition_by={"orders": ["region"]}), orders_zoo(5), 5)
    write_shop(ParquetTarget(tmp_path, if_exists="replace"), orders_zoo(3), 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.parquet", "orders.parquet"]


def test_append_to_a_dataset_must_keep_its_partitioning(tmp_path: Path) -> None:
    write_shop(ParquetTarget(tmp_path, partition_by={"orders": ["region"]}), orders_zoo(5), 5)
    with pytest.raises(SerializationError, match=r"partitioned by \['region'\]"):
        ParquetTarget(tmp_path, if_exists="append", partition_by={"orders": ["year"]}).open(shop_metadata(),
                                                                                            ["orders"])
    write_shop(ParquetTarget(tmp_path, if_exists="append"), orders_zoo(4, first_id=50), 4)  # as it is partitioned
    assert len(ParquetSource(tmp_path).read_table("orders")) == 9


# --------------------------------------------------------------------------- atomicity


def failing(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    yield frame.iloc[:2].reset_index(drop=True)
    raise GenerationError("the model failed on chunk 2")


@pytest.mark.parametrize("if_exists", ["replace", "append"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_an_error_in_the_second_tables_chunks_leaves_the_folder_as_it_was(tmp_path: Path, fmt: str,
                                                                          if_exists: str) -> None:
    make_target, _ = FORMATS[fmt]
    write_shop(make_target(tmp_path), orders_zoo(5), 5)
    before = snapshot(tmp_path)
    with pytest.raises(GenerationError, match="chunk 2"):  # propagated unchanged
        with make_target(tmp_path, if_exists=if_exists).open(shop_metadata(), ["customers", "orders"]) as writer:
            writer.write_table("customers", iter([customers()]))
            writer.write_table("orders", failing(orders_zoo(6, first_id=100)))
    assert snapshot(tmp_path) == before
    assert sorted(os.listdir(tmp_path)) == sorted({name.split("/")[0] for name in before})


def test_a_failure_while_committing_moves_every_table_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_shop(ParquetTarget(tmp_path, partition_by={"orders": ["region"]}), orders_zoo(5), 5)
    before = snapshot(tmp_path)
    real_replace = os.replace

    def replace(source: object, destination: object) -> None:
        if Path(str(destination)).name == "orders" and Path(str(source)).parent.name.startswith(".synthohive"):
            raise OSError("disk full")
        real_replace(source, destination)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    writer = ParquetTarget(tmp_path, if_exists="replace", partition_by={"orders": ["region"]}).open(
        shop_metadata(), ["customers", "orders"])
    writer.write_table("customers", iter([customers(2)]))
    writer.write_table("orders", iter([orders_zoo(3, first_id=100)]))
    with pytest.raises(SerializationError, match="disk full"):
        writer.commit()
    monkeypatch.undo()
    assert snapshot(tmp_path) == before  # customers moved back, the old orders folder restored


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("source_type", [ParquetSource, CSVSource])
def test_a_missing_root_or_table_names_the_path(tmp_path: Path, source_type: type) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(SerializationError, match="nowhere.*does not exist"):
        source_type(missing).table_names()
    with pytest.raises(SerializationError, match="nowhere"):
        source_type(missing).read_table("orders")
    (tmp_path / "data").mkdir()
    with pytest.raises(SchemaError, match=r"No table 'orders'.*data"):
        source_type(tmp_path / "data").read_table("orders")
    with pytest.raises(SerializationError, match=r"gone\.(parquet|csv)"):
        source_type(tmp_path, tables={"orders": "gone.parquet" if source_type is ParquetSource
                                      else "gone.csv"}).read_table("orders")


def test_an_unknown_column_is_a_schema_error_listing_the_columns(tmp_path: Path) -> None:
    write_shop(ParquetTarget(tmp_path), orders_zoo(3), 3)
    with pytest.raises(SchemaError, match=r"no column\(s\) \['colour'\].*order_id"):
        ParquetSource(tmp_path).read_table("orders", columns=["order_id", "colour"])


def test_values_that_do_not_fit_their_column_type_are_named(tmp_path: Path) -> None:
    orders = orders_zoo(4)
    orders.loc[1, "amount"] = decimal.Decimal("12.345")  # three decimals in a decimal(12,2)
    with pytest.raises(SerializationError, match="'amount'"):
        write_shop(ParquetTarget(tmp_path), orders, 4)
    with pytest.raises(SerializationError, match="'weight'.*NOT NULL"):
        write_shop(ParquetTarget(tmp_path), orders_zoo(4).assign(weight=[1.0, None, 2.0, 3.0]), 4)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_bad_target_arguments_are_schema_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="if_exists"):
        ParquetTarget(tmp_path, if_exists="overwrite")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="partition_by"):
        ParquetTarget(tmp_path, partition_by={"orders": "region"})  # type: ignore[dict-item]
    with pytest.raises(SchemaError, match="colour"):
        ParquetTarget(tmp_path, partition_by={"orders": ["colour"]}).open(shop_metadata(), ["orders"])
    with pytest.raises(SchemaError, match="plain file name"):
        CSVTarget(tmp_path).open(Metadata().add_table("../x"), ["../x"])


@pytest.mark.parametrize("source_type", [ParquetSource, CSVSource])
def test_reflect_of_one_table_name_as_a_string_is_a_clear_error(tmp_path: Path, source_type: type) -> None:
    from syntho_hive.exceptions import ConfigurationError

    write_shop(ParquetTarget(tmp_path) if source_type is ParquetSource else CSVTarget(tmp_path), orders_zoo(3), 3)
    with pytest.raises(ConfigurationError, match=r"list of table names, got 'orders'"):
        Metadata.from_source(source_type(tmp_path), "orders")  # not 'o', 'r', 'd'...
    assert list(Metadata.from_source(source_type(tmp_path), ["orders", "orders"]).tables) == ["orders"]


def test_a_parquet_folder_skips_subfolders_without_data_files(tmp_path: Path) -> None:
    """An empty subfolder (or one holding only _SUCCESS) was listed as a table, and reading the folder failed on it,
    while the folder-format rule ignored it: ParquetSource skips it too; a dataset folder stays a table."""
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "kept.parquet")
    (tmp_path / "dataset").mkdir()
    pd.DataFrame({"b": [3]}).to_parquet(tmp_path / "dataset" / "000000_0")
    (tmp_path / "scratch" / "nested").mkdir(parents=True)
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "_SUCCESS").touch()
    source = ParquetSource(tmp_path)
    assert source.table_names() == ["dataset", "kept"]
    assert sorted(source.reflect().tables) == ["dataset", "kept"]
