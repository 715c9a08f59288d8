"""Benchmark: evaluate() with every metric on a 100k x 30 mixed-type table.

Run: ``python benchmarks/bench_evaluate.py [--rows 100000] [--threads 1]``; prints seconds per metric
and in total. Target: well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

#: Target for evaluate() on the default 100k x 30 table, on 2 cores (seconds).
TARGET_SECONDS = 60


def make_table(n_rows: int, seed: int) -> pd.DataFrame:
    """15 correlated numerical, 10 categorical, 3 boolean and 2 datetime columns.

    Tables made with different seeds are independent draws from the same distribution.
    """
    weights_all = np.random.default_rng(0).normal(size=(15, 3))
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_rows, 3))
    columns: dict[str, object] = {}
    for i in range(15):
        weights = weights_all[i]
        values = latent @ weights + rng.normal(scale=0.5, size=n_rows)
        columns[f"num_{i}"] = np.exp(values / 3) * 100 if i % 3 == 0 else values
    for i in range(10):
        k = [3, 5, 8, 12, 20, 30, 50, 4, 6, 10][i]
        logits = latent[:, i % 3][:, None] * np.linspace(-1, 1, k)[None, :]
        cumulative = np.cumsum(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), axis=1)
        codes = (rng.random(n_rows)[:, None] > cumulative).sum(axis=1)
        columns[f"cat_{i}"] = np.array([f"c{i}_{j}" for j in range(k)], dtype=object)[np.minimum(codes, k - 1)]
    for i in range(3):
        columns[f"flag_{i}"] = latent[:, i] + rng.normal(size=n_rows) > 0
    start = np.datetime64("2020-01-01")
    for i in range(2):
        columns[f"date_{i}"] = start + (np.abs(latent[:, i]) * 200 + rng.integers(0, 30, n_rows)).astype(
            "timedelta64[D]")
    frame = pd.DataFrame(columns)
    frame.loc[rng.random(n_rows) < 0.05, "num_1"] = np.nan
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    # Measure as a user of the SDK would run it: torch (and its OpenMP runtime) already imported.
    import torch  # noqa: F401

    from syntho_hive.validation import (
        column_pair_trends,
        column_shape_scores,
        detection_auc,
        evaluate,
        ml_efficacy,
        privacy_metrics,
    )

    real, holdout, synthetic = (make_table(args.rows, seed) for seed in (1, 2, 3))
    print(f"table: {real.shape[0]} rows x {real.shape[1]} columns")
    timings = {}
    for name, call in (
        ("column_shapes", lambda: column_shape_scores(real, synthetic)),
        ("column_pair_trends", lambda: column_pair_trends(real, synthetic)),
        ("detection", lambda: detection_auc(real, synthetic, n_threads=args.threads)),
        ("ml_efficacy", lambda: ml_efficacy(real, synthetic, "cat_0", holdout, n_threads=args.threads)),
        ("privacy", lambda: privacy_metrics(real, synthetic, holdout, n_threads=args.threads)),
    ):
        started = time.perf_counter()
        call()
        timings[name] = time.perf_counter() - started
        print(f"{name:>20}: {timings[name]:6.2f} s")
    started = time.perf_counter()
    result = evaluate(real, synthetic, holdout=holdout, target="cat_0", n_threads=args.threads)
    total = time.perf_counter() - started
    print(f"{'evaluate (all)':>20}: {total:6.2f} s  overall={result.overall:.3f} "
          f"detection_auc={result.detection_auc:.3f}")
    print(f"target: evaluate (all) under {TARGET_SECONDS} s -> {'met' if total < TARGET_SECONDS else 'MISSED'}")


if __name__ == "__main__":
    main()
