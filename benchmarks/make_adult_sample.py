"""Regenerate the bundled demo dataset ``syntho_hive/datasets/adult_sample.csv.gz``.

The sample is a deterministic, uniform random sample without replacement of the UCI Adult
table (train + test, 48,842 rows x 15 columns), keeping every column and every null. The
rows keep their order in the source. The gzip header carries no timestamp, so running this
script twice gives byte-identical output.

Usage (from the repository root)::

    .venv/bin/python benchmarks/make_adult_sample.py [--source ../shared/data/adult.parquet]
        [--rows 5000] [--seed 20190601] [--output syntho_hive/datasets/adult_sample.csv.gz]

Not part of the installed package.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "adult.parquet"
DEFAULT_OUTPUT = REPO_ROOT / "syntho_hive" / "datasets" / "adult_sample.csv.gz"
DEFAULT_ROWS = 5_000
DEFAULT_SEED = 20190601


def make_sample(source: Path, rows: int, seed: int) -> pd.DataFrame:
    """Return ``rows`` rows drawn without replacement from ``source`` with ``seed``.

    Args:
        source: Path of the Adult Parquet file.
        rows: Number of rows to keep.
        seed: Seed of the local NumPy generator that picks the rows.

    Returns:
        The sampled rows, in source order, with a fresh RangeIndex.
    """
    data = pd.read_parquet(source)
    if rows > len(data):
        raise ValueError(f"--rows {rows} exceeds the {len(data)} rows of {source}")
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(data), size=rows, replace=False))
    return data.iloc[picked].reset_index(drop=True)


def write_csv_gz(frame: pd.DataFrame, output: Path) -> None:
    """Write ``frame`` as gzip-compressed CSV with a fixed (zero) gzip timestamp."""
    text = frame.to_csv(index=False, lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"error: Adult source file not found: {args.source} "
              "(expected ../shared/data/adult.parquet relative to the repository root; pass --source)",
              file=sys.stderr)
        return 1
    sample = make_sample(args.source, args.rows, args.seed)
    write_csv_gz(sample, args.output)
    print(f"wrote {len(sample)} rows x {sample.shape[1]} columns "
          f"({int(sample.isna().sum().sum())} null cells) to {args.output} "
          f"({args.output.stat().st_size / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
