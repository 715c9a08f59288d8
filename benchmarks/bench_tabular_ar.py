"""TabularAR vs MOSTLY AI's engine (TabularARGN) on the same 80/20 split of the Adult table.

Side by side in one run: each model trains and samples in its own fresh subprocess (ours in this
interpreter's environment, the peer in ``benchmarks/.venv-mostly``), then both synthetic tables are
scored the same way:

* ``mostlyai-qa`` (in ``.venv-mostly``, ``OMP_NUM_THREADS=1``): accuracy (overall and its maximum,
  the holdout's own score), discriminator AUC training-vs-synthetic (0.5 ideal), DCR share;
* SynthoHive's column-shape score (``syntho_hive.validation.column_shapes``);
* SDMetrics' QualityReport, when ``benchmarks/.venv-bench`` (``setup_bench_env.sh``) exists.

Run on demand (never in CI)::

    bash benchmarks/setup_mostly_env.sh          # once
    .venv/bin/python benchmarks/bench_tabular_ar.py            # both sides
    .venv/bin/python benchmarks/bench_tabular_ar.py --sides ours

Results are printed as a Markdown table and written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "adult.parquet"
MOSTLY_PYTHON = REPO / "benchmarks" / ".venv-mostly" / "bin" / "python"
BENCH_PYTHON = REPO / "benchmarks" / ".venv-bench" / "bin" / "python"


def load_split(data: Path, seed: int):  # noqa: ANN201 - pandas imported lazily
    """The 80/20 split (fixed permutation): ``(train, holdout)``."""
    import numpy as np
    import pandas as pd

    df = pd.read_parquet(data)
    order = np.random.default_rng(seed).permutation(len(df))
    n_train = int(round(len(df) * 0.8))
    return (df.iloc[order[:n_train]].reset_index(drop=True), df.iloc[order[n_train:]].reset_index(drop=True))


# --------------------------------------------------------------------------- stages (subprocesses)

def stage_ours(args: argparse.Namespace) -> dict:
    """Train TabularAR, sample as many rows as the training set, time sampling of 100k rows."""
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from syntho_hive.core.models.tabular_ar import TabularAR

    train, _ = load_split(args.data, args.split_seed)
    started = time.perf_counter()
    model = TabularAR(max_training_time=args.max_training_time, **json.loads(args.model_kwargs)).fit(
        train, seed=args.seed, progress_bar=False)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(len(train), seed=args.seed + 1)
    sample_s = time.perf_counter() - started
    started = time.perf_counter()
    model.sample(args.speed_rows, seed=args.seed + 2)
    speed_s = time.perf_counter() - started
    synthetic.to_parquet(args.workdir / "synthetic_ours.parquet")
    return {"train_s": train_s, "epochs": len(model.history_), "sample_s": sample_s,
            "rows_per_s": args.speed_rows / speed_s, "speed_rows": args.speed_rows,
            "best_val_loss": min(h["val_loss"] for h in model.history_),
            "hyper_parameters": model.hyper_parameters()}


def stage_mostly(args: argparse.Namespace) -> dict:
    """Train MOSTLY AI's TabularARGN with its defaults, sample as many rows as the training set."""
    from mostlyai.engine import TabularARGN

    train, _ = load_split(args.data, args.split_seed)
    started = time.perf_counter()
    model = TabularARGN(random_state=args.seed, verbose=0,
                        workspace_dir=str(args.workdir / "mostly_workspace"))
    model.fit(train)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(n_samples=len(train))
    sample_s = time.perf_counter() - started
    started = time.perf_counter()
    model.sample(n_samples=args.speed_rows)
    speed_s = time.perf_counter() - started
    synthetic.to_parquet(args.workdir / "synthetic_mostly.parquet")
    return {"train_s": train_s, "sample_s": sample_s, "rows_per_s": args.speed_rows / speed_s,
            "speed_rows": args.speed_rows}


def stage_qa(args: argparse.Namespace) -> dict:
    """mostlyai-qa metrics and SynthoHive's column-shape score of one synthetic table."""
    import pandas as pd
    from mostlyai import qa

    from syntho_hive.validation.column_shapes import column_shape_scores, overall_column_shape

    train, holdout = load_split(args.data, args.split_seed)
    synthetic = pd.read_parquet(args.workdir / f"synthetic_{args.side}.parquet")
    _, metrics = qa.report(syn_tgt_data=synthetic, trn_tgt_data=train, hol_tgt_data=holdout,
                           report_path=args.workdir / f"report_{args.side}.html")
    shapes = column_shape_scores(train, synthetic)
    return {"accuracy": metrics.accuracy.overall, "accuracy_max": metrics.accuracy.overall_max,
            "univariate": metrics.accuracy.univariate, "bivariate": metrics.accuracy.bivariate,
            "discriminator_auc": metrics.similarity.discriminator_auc_training_synthetic,
            "dcr_share": metrics.distances.dcr_share, "column_shapes": overall_column_shape(shapes)}


def stage_sdmetrics(args: argparse.Namespace) -> dict:
    """SDMetrics QualityReport of one synthetic table against the training rows."""
    import pandas as pd
    from sdmetrics.reports.single_table import QualityReport

    train, _ = load_split(args.data, args.split_seed)
    synthetic = pd.read_parquet(args.workdir / f"synthetic_{args.side}.parquet")
    metadata = {"columns": {c: {"sdtype": "numerical" if pd.api.types.is_numeric_dtype(train[c]) else "categorical"}
                            for c in train.columns}}
    report = QualityReport()
    report.generate(train, synthetic[train.columns], metadata, verbose=False)
    return {"sdmetrics_quality": float(report.get_score())}


STAGES = {"ours": stage_ours, "mostly": stage_mostly, "qa": stage_qa, "sdmetrics": stage_sdmetrics}


# --------------------------------------------------------------------------- orchestration

def run_stage(python: Path | str, stage: str, args: argparse.Namespace, *, side: str = "",
              env: dict | None = None, script: Path | None = None, extra: list[str] | None = None) -> dict:
    """Run one stage in a fresh subprocess and return its JSON result.

    ``script`` is the benchmark file that defines the stage (default: this one; ``bench_dp.py`` passes
    itself) and ``extra`` its further command-line options.
    """
    out = args.workdir / f"stage_{stage}_{side or stage}.json"
    command = [str(python), str((script or Path(__file__)).resolve()), "--stage", stage, "--side", side or stage,
               "--data", str(args.data), "--workdir", str(args.workdir), "--seed", str(args.seed),
               "--split-seed", str(args.split_seed), "--speed-rows", str(args.speed_rows),
               "--stage-out", str(out), "--threads", str(args.threads), "--model-kwargs", args.model_kwargs]
    if args.max_training_time:
        command += ["--max-training-time", str(args.max_training_time)]
    command += extra or []
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    started = time.perf_counter()
    done = subprocess.run(command, env=full_env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        return {"error": f"stage {stage}/{side} failed (exit {done.returncode}):\n{tail}"}
    result = json.loads(out.read_text())
    result["stage_wall_s"] = time.perf_counter() - started
    return result


def parse_or_run_stage(parser: argparse.ArgumentParser, stages: dict) -> argparse.Namespace | None:
    """Parse the command line; in a stage subprocess (``--stage``) run that stage and return ``None``.

    Adds the hidden options :func:`run_stage` passes, checks ``--data`` and creates ``--workdir``.
    """
    parser.add_argument("--stage", choices=sorted(stages), help=argparse.SUPPRESS)
    parser.add_argument("--side", default="", help=argparse.SUPPRESS)
    parser.add_argument("--stage-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"Data file {args.data} not found; pass --data PATH to a copy of adult.parquet.")
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.stage:
        args.stage_out.write_text(json.dumps(stages[args.stage](args), default=str))
        return None
    return args


def fmt(value: object, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "n/a" if value is None else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sides", nargs="+", default=["ours", "mostly"], choices=["ours", "mostly"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--speed-rows", type=int, default=100_000)
    parser.add_argument("--max-training-time", type=float, default=None,
                        help="TabularAR training budget in seconds (default: early stopping only)")
    parser.add_argument("--model-kwargs", default="{}",
                        help='extra TabularAR parameters as JSON, e.g. \'{"hidden_dim": 96}\'')
    parser.add_argument("--threads", type=int, default=0, help="torch threads for ours (0: torch default)")
    parser.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / "output" / "tabular_ar")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default: WORKDIR/results.json)")
    args = parse_or_run_stage(parser, STAGES)
    if args is None:
        return

    results: dict[str, dict] = {}
    load_start = os.getloadavg()[0]
    for side in args.sides:
        python = sys.executable if side == "ours" else MOSTLY_PYTHON
        if side == "mostly" and not Path(python).exists():
            results[side] = {"error": f"{python} missing: run bash benchmarks/setup_mostly_env.sh"}
            continue
        print(f"training {side} ...", flush=True)
        results[side] = run_stage(python, side, args)
    for side in args.sides:
        if "error" in results[side]:
            continue
        if MOSTLY_PYTHON.exists():
            print(f"scoring {side} with mostlyai-qa ...", flush=True)
            results[side].update(run_stage(MOSTLY_PYTHON, "qa", args, side=side, env={"OMP_NUM_THREADS": "1"}))
        if BENCH_PYTHON.exists():
            print(f"scoring {side} with sdmetrics ...", flush=True)
            results[side].update(run_stage(BENCH_PYTHON, "sdmetrics", args, side=side))
    meta = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "load_avg_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
            "command": " ".join([Path(sys.executable).name, *sys.argv])}
    out = args.out or args.workdir / "results.json"
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))

    rows = [("train wall (s)", "train_s", 1), ("epochs", "epochs", 0), ("sampling rows/s", "rows_per_s", 0),
            ("mostlyai-qa accuracy", "accuracy", 3), ("accuracy max (holdout)", "accuracy_max", 3),
            ("discriminator AUC", "discriminator_auc", 3), ("DCR share", "dcr_share", 3),
            ("column shapes (ours)", "column_shapes", 3), ("SDMetrics quality", "sdmetrics_quality", 3)]
    print(f"\n{meta}\n")
    print("| metric | " + " | ".join(args.sides) + " |")
    print("|---|" + "---:|" * len(args.sides))
    for label, key, digits in rows:
        cells = [fmt(results[s].get(key) if digits else (int(results[s][key]) if key in results[s] else None),
                     digits) for s in args.sides]
        print(f"| {label} | " + " | ".join(cells) + " |")
    for side in args.sides:
        if "error" in results[side]:
            print(f"\n{side}: {results[side]['error']}")
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
