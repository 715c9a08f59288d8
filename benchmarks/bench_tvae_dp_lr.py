"""DP TVAE's learning rate: a sweep behind ``tvae/model.py``'s ``_DP_LEARNING_RATE`` (issue 16).

The bundled Adult sample (``syntho_hive.datasets.load_adult_sample``, no download): the first 4,000 rows train
``TVAE(dp=DPConfig(max_epsilon=e, delta=1e-5))`` with each learning rate, the model samples 1,000 rows, and
SynthoHive's column-shape score compares them with the next 1,000 rows (the holdout). The rate is set by
replacing the module's private constant for the run: a measurement, not an API.

Run on demand (never in CI)::

    .venv/bin/python benchmarks/bench_tvae_dp_lr.py                       # 1e-3, 2e-3, 5e-3, 1e-2 at epsilon 4 and 1
    .venv/bin/python benchmarks/bench_tvae_dp_lr.py --rates 5e-3 --epsilons 4 --seeds 0

Prints one line per fit and the mean per (epsilon, rate).
"""

from __future__ import annotations

import argparse
import time

import syntho_hive.core.models.tvae.model as tvae_model
from syntho_hive.core.dp import DPConfig
from syntho_hive.datasets import load_adult_sample
from syntho_hive.validation.column_shapes import column_shape_scores, overall_column_shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", nargs="+", type=float, default=[1e-3, 5e-3, 2e-3, 1e-2])
    parser.add_argument("--epsilons", nargs="+", type=float, default=[4.0, 1.0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = parser.parse_args()
    data = load_adult_sample()
    train = data.iloc[:4000].reset_index(drop=True)
    holdout = data.iloc[4000:5000].reset_index(drop=True)
    for epsilon in args.epsilons:
        for rate in args.rates:
            tvae_model._DP_LEARNING_RATE = rate
            scores = []
            for seed in args.seeds:
                started = time.perf_counter()
                model = tvae_model.TVAE(dp=DPConfig(max_epsilon=epsilon, delta=1e-5)).fit(train, seed=seed,
                                                                                        progress_bar=False)
                synthetic = model.sample(len(holdout), seed=seed + 1, progress_bar=False)
                scores.append(overall_column_shape(column_shape_scores(holdout, synthetic)))
                print(f"epsilon {epsilon:g} lr {rate:g} seed {seed}: {scores[-1]:.4f} "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
            print(f"== epsilon {epsilon:g} lr {rate:g}: mean {sum(scores) / len(scores):.4f}", flush=True)


if __name__ == "__main__":
    main()
