"""Benchmark: DataTransformer fitted on 10k rows, transform and inverse on 100k rows.

Run: ``python benchmarks/bench_transformer.py [--rows 100000] [--fit-rows 10000]``; prints the
seconds of each step. The table is the unit tests' mixed customer table
(``make_table`` of ``tests/unit/test_transformer.py``: ids, integers, floats, nullable types,
categoricals, text, naive and zoned datetimes, a date string column); the id columns are left out.
The fit cost is bounded by ``gmm_max_samples`` anyway, so it is measured on a subset.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def make_table(n_rows: int, seed: int) -> pd.DataFrame:
    """The unit tests' customer table (see the module docstring)."""
    spec = importlib.util.spec_from_file_location("transformer_tests", ROOT / "tests" / "unit" / "test_transformer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_table(n_rows, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--fit-rows", type=int, default=10_000)
    args = parser.parse_args()
    from syntho_hive.core.data import DataTransformer

    data = make_table(args.rows, seed=1).drop(columns=["customer_id", "account_code"])
    started = time.perf_counter()
    transformer = DataTransformer().fit(data.iloc[:args.fit_rows], seed=0)
    fitted_at = time.perf_counter()
    matrix = transformer.transform(data, rng=np.random.default_rng(0))
    transformed_at = time.perf_counter()
    restored = transformer.inverse_transform(matrix, rng=np.random.default_rng(0))
    done = time.perf_counter()
    assert matrix.shape == (len(data), transformer.output_dim_)
    pd.testing.assert_series_equal(restored["age"], data["age"])  # a sanity check of what was timed
    print(f"table: {data.shape[0]} rows x {data.shape[1]} columns -> matrix {matrix.shape[1]} columns")
    print(f"{'fit (' + str(args.fit_rows) + ' rows)':>22}: {fitted_at - started:6.2f} s")
    print(f"{'transform':>22}: {transformed_at - fitted_at:6.2f} s")
    print(f"{'inverse_transform':>22}: {done - transformed_at:6.2f} s")


if __name__ == "__main__":
    main()
