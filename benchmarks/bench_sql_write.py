"""Write benchmark: ``SQLTarget`` vs ``DataFrame.to_sql`` (its defaults), on PostgreSQL and DuckDB.

The rows are Adult-shaped (15 columns: 6 integers, 9 categorical strings with some NULLs): the
project's copy of UCI Adult (``../shared/data/adult.parquet`` from the repository root) resampled
to ``--rows`` rows with a seed, or, when that file is absent, generated with the same shape.

Measured per backend:

* ``SQLTarget``: ``open`` -> ``write_table`` (chunks of ``--chunk-rows``) -> ``commit``, i.e. CREATE
  TABLE, bulk load (PostgreSQL: COPY; DuckDB: Arrow) and commit, timed end to end.
* ``to_sql``: ``frame.to_sql(name, engine, index=False)`` with pandas' defaults, on
  ``--to-sql-rows`` rows (it is much slower; rows/s are compared, not totals).

PostgreSQL is a throw-away server started with ``tests/integration/servers.py`` (Debian's
``postgresql`` binaries; fsync off), unless ``--postgres-url`` names one. DuckDB writes files in a
temporary folder.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_sql_write.py                  # 1,000,000 rows
    .venv/bin/python benchmarks/bench_sql_write.py --rows 100000 --backends duckdb

Prints one line per (backend, method) and the ratio of rows/s; writes nothing else. Not collected
by pytest.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

REPO_ROOT = Path(__file__).resolve().parent.parent
ADULT = REPO_ROOT.parent / "shared" / "data" / "adult.parquet"
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from syntho_hive.connectors.sql.target import SQLTarget  # noqa: E402
from syntho_hive.core.metadata import Metadata  # noqa: E402

_CATEGORIES = {
    "workclass": ["Private", "Self-emp-not-inc", "Local-gov", "State-gov", None],
    "education": ["HS-grad", "Some-college", "Bachelors", "Masters", "Doctorate", "11th"],
    "marital-status": ["Married-civ-spouse", "Never-married", "Divorced", "Widowed"],
    "occupation": ["Prof-specialty", "Craft-repair", "Exec-managerial", "Sales", "Adm-clerical", None],
    "relationship": ["Husband", "Not-in-family", "Own-child", "Unmarried", "Wife"],
    "race": ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"],
    "sex": ["Male", "Female"],
    "native-country": ["United-States", "Mexico", "Philippines", "Germany", None],
    "income": ["<=50K", ">50K"],
}


def adult_rows(rows: int, seed: int) -> pd.DataFrame:
    """``rows`` Adult-shaped rows: the real Adult resampled with ``seed``, or generated like it."""
    rng = np.random.default_rng(seed)
    if ADULT.exists():
        real = pd.read_parquet(ADULT)
        return real.iloc[rng.integers(0, len(real), rows)].reset_index(drop=True)
    frame = pd.DataFrame({
        "age": rng.integers(17, 91, rows), "fnlwgt": rng.integers(12_000, 1_500_000, rows),
        "education-num": rng.integers(1, 17, rows), "capital-gain": rng.integers(0, 100_000, rows),
        "capital-loss": rng.integers(0, 4_500, rows), "hours-per-week": rng.integers(1, 100, rows)})
    for column, values in _CATEGORIES.items():
        frame[column] = pd.Series(np.asarray(values, dtype=object)[rng.integers(0, len(values), rows)], dtype=object)
    return frame


def chunks(frame: pd.DataFrame, size: int):
    for start in range(0, len(frame), size):
        yield frame.iloc[start:start + size]


def time_target(url: str, schema: str | None, frame: pd.DataFrame, chunk_rows: int) -> float:
    metadata = Metadata().add_table("adult_target")
    started = time.perf_counter()
    with SQLTarget(url, schema, if_exists="replace").open(metadata, ["adult_target"]) as writer:
        writer.write_table("adult_target", chunks(frame, chunk_rows))
    return time.perf_counter() - started


def time_to_sql(url: str, schema: str | None, frame: pd.DataFrame) -> float:
    engine = sa.create_engine(url)
    try:
        started = time.perf_counter()
        frame.to_sql("adult_to_sql", engine, schema=schema, index=False, if_exists="replace")
        return time.perf_counter() - started
    finally:
        engine.dispose()


def count(url: str, schema: str | None, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            name = f"{schema}.{table}" if schema else table
            return int(connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one())
    finally:
        engine.dispose()


def run(backend: str, url: str, schema: str | None, frame: pd.DataFrame, to_sql_rows: int,
        chunk_rows: int) -> None:
    seconds = time_target(url, schema, frame, chunk_rows)
    assert count(url, schema, "adult_target") == len(frame)
    target_rate = len(frame) / seconds
    print(f"{backend:10s} SQLTarget  {len(frame):>10,} rows  {seconds:8.2f} s  {target_rate:>12,.0f} rows/s",
          flush=True)
    small = frame.iloc[:to_sql_rows]
    seconds = time_to_sql(url, schema, small)
    assert count(url, schema, "adult_to_sql") == len(small)
    rate = len(small) / seconds
    print(f"{backend:10s} to_sql     {len(small):>10,} rows  {seconds:8.2f} s  {rate:>12,.0f} rows/s", flush=True)
    print(f"{backend:10s} ratio      SQLTarget is {target_rate / rate:,.1f}x faster than to_sql", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows written by SQLTarget")
    parser.add_argument("--to-sql-rows", type=int, default=None,
                        help="rows written by to_sql (default: min(rows, 100000) on PostgreSQL, "
                             "min(rows, 20000) on DuckDB)")
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", default="postgresql,duckdb")
    parser.add_argument("--postgres-url", default=None, help="an existing PostgreSQL (default: start one)")
    args = parser.parse_args()
    frame = adult_rows(args.rows, args.seed)
    print(f"{len(frame):,} Adult-shaped rows x {frame.shape[1]} columns ({'resampled Adult' if ADULT.exists() else 'generated'}); "
          f"python {platform.python_version()}, pandas {pd.__version__}, sqlalchemy {sa.__version__}", flush=True)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if "postgresql" in backends:
        server = None
        url = args.postgres_url
        if url is None:
            import servers

            server = servers.start_postgres()
            url = server.url
        try:
            run("postgresql", url, "bench", frame, args.to_sql_rows or min(args.rows, 100_000), args.chunk_rows)
        finally:
            if server is not None:
                server.stop()
    if "duckdb" in backends:
        with tempfile.TemporaryDirectory(prefix="synthohive-bench-") as folder:
            url = f"duckdb:///{Path(folder) / 'bench.duckdb'}"
            run("duckdb", url, None, frame, args.to_sql_rows or min(args.rows, 20_000), args.chunk_rows)


if __name__ == "__main__":
    main()
