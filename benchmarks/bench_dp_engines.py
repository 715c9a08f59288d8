"""DP TabularAR vs DP TVAE on a small table: which engine to pick under differential privacy (issue 16).

The bundled Adult sample (``syntho_hive.datasets.load_adult_sample``, no download): the first
``--train-rows`` rows train both engines with their defaults and ``dp=DPConfig(max_epsilon=e, delta)``,
each samples as many rows as the holdout (the next ``--holdout-rows`` rows), and SynthoHive's column-shape
score compares the synthetic rows with the holdout. One seed per run, in this process.

Run on demand (never in CI)::

    .venv/bin/python benchmarks/bench_dp_engines.py                 # epsilon 1, 4, 10
    .venv/bin/python benchmarks/bench_dp_engines.py --epsilons 4 --seed 1

Prints a Markdown table and writes JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from syntho_hive.core.dp import DPConfig
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.core.models.tvae import TVAE
from syntho_hive.datasets import load_adult_sample
from syntho_hive.validation.column_shapes import column_shape_scores, overall_column_shape

ENGINES = {"TabularAR": TabularAR, "TVAE": TVAE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 4.0, 10.0])
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--train-rows", type=int, default=4000)
    parser.add_argument("--holdout-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "output" / "results_dp_engines.json")
    args = parser.parse_args()

    data = load_adult_sample()
    train = data.iloc[:args.train_rows].reset_index(drop=True)
    holdout = data.iloc[args.train_rows:args.train_rows + args.holdout_rows].reset_index(drop=True)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for epsilon in args.epsilons:
        for name, engine in ENGINES.items():
            started = time.perf_counter()
            model = engine(dp=DPConfig(max_epsilon=epsilon, delta=args.delta)).fit(train, seed=args.seed,
                                                                                  progress_bar=False)
            seconds = time.perf_counter() - started
            synthetic = model.sample(len(holdout), seed=args.seed + 1)
            score = overall_column_shape(column_shape_scores(holdout, synthetic))
            results.setdefault(f"{epsilon:g}", {})[name] = {
                "column_shapes": round(score, 4), "fit_s": round(seconds, 1),
                "epsilon_spent": round(model.privacy_spent_.epsilon, 4)}
            print(f"epsilon {epsilon:g} {name}: column shapes {score:.3f} ({seconds:.0f} s)", flush=True)

    meta = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "cpus": os.cpu_count(),
            "train_rows": len(train), "holdout_rows": len(holdout), "seed": args.seed, "delta": args.delta}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print("\n| epsilon | " + " | ".join(f"{name} column shapes" for name in ENGINES) + " |")
    print("|---|" + "---:|" * len(ENGINES))
    for epsilon, row in results.items():
        print(f"| {epsilon} | " + " | ".join(f"{row[name]['column_shapes']:.3f}" for name in ENGINES) + " |")
    print(f"\nJSON: {args.out}")


if __name__ == "__main__":
    main()
