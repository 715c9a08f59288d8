"""Differentially private TabularAR vs MOSTLY AI's engine with its own DP option (issue 16).

The Adult split of ``bench_tabular_ar.py`` (80/20, fixed permutation) is used for every run. For
each privacy setting (no DP, then each ``--epsilons`` value at ``--delta``) both sides train on the
training rows and sample as many rows in their own fresh subprocess:

* ours: ``TabularAR(dp=DPConfig(max_epsilon=e, delta=d))`` (in this interpreter's environment);
* the peer: ``mostlyai.engine.TabularARGN(differential_privacy=DifferentialPrivacyConfig(
  max_epsilon=e, delta=d))`` with its other DP settings at their defaults (in
  ``benchmarks/.venv-mostly``).

Both sides get the same budget rules: ``--max-training-time`` seconds of training (the peer takes
minutes: the value is divided by 60), their own default epoch cap and early stopping, ``--threads``
torch threads. Each synthetic table is then scored against the same holdout by ``mostlyai-qa``
(accuracy, discriminator AUC, DCR share; ``OMP_NUM_THREADS=1``) and SynthoHive's column-shape score,
with ``bench_tabular_ar.py``'s scoring stage.

The epsilon each side spent is read from the side itself: ours from the fitted model, the peer from
the engine's progress log (``dp_eps`` of the last checkpoint it kept, i.e. of the weights it samples
from, which includes the ``value_protection_epsilon`` its analysis step charges).

Run on demand (never in CI)::

    bash benchmarks/setup_mostly_env.sh          # once
    .venv/bin/python benchmarks/bench_dp.py      # both sides, no DP + epsilon 1, 4, 10
    .venv/bin/python benchmarks/bench_dp.py --sides mostly --epsilons 4 --skip-no-dp

With ``--match-peer-epsilon`` the peer trains first at each target and ours gets the smaller of the target
and the epsilon the peer reports as spent (the peer may stop early, or overspend), so the comparison is at
equal or lower epsilon for ours.

Results are printed as a Markdown table and written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tabular_ar import (  # noqa: E402 - the sibling benchmark holds the shared split and scoring
    DEFAULT_DATA,
    MOSTLY_PYTHON,
    REPO,
    fmt,
    load_split,
    parse_or_run_stage,
    run_stage,
    stage_qa,
)

SIDES = ("ours", "mostly")


def _epsilon(args: argparse.Namespace) -> float | None:
    """The stage's target epsilon (``None``: no DP)."""
    return None if args.epsilon in (None, "none") else float(args.epsilon)


def _set_threads(threads: int) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


# --------------------------------------------------------------------------- stages (subprocesses)

def stage_ours(args: argparse.Namespace) -> dict:
    """Fit TabularAR (with DP when an epsilon is given) and sample as many rows as the training set."""
    _set_threads(args.threads)
    from syntho_hive.core.models.tabular_ar import TabularAR

    train, _ = load_split(args.data, args.split_seed)
    kwargs = json.loads(args.model_kwargs)
    epsilon = _epsilon(args)
    if epsilon is not None:
        from syntho_hive.core.dp import DPConfig

        kwargs["dp"] = DPConfig(max_epsilon=epsilon, delta=args.delta, **json.loads(args.dp_kwargs))
    started = time.perf_counter()
    model = TabularAR(max_training_time=args.max_training_time, **kwargs).fit(train, seed=args.seed,
                                                                              progress_bar=False)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(len(train), seed=args.seed + 1)
    sample_s = time.perf_counter() - started
    synthetic.to_parquet(args.workdir / f"synthetic_{args.side}.parquet")
    result = {"train_s": train_s, "sample_s": sample_s, "epochs": len(model.history_),
              "hyper_parameters": model.hyper_parameters()}
    if epsilon is not None:
        result.update(_our_privacy_report(model))
    return result


def _our_privacy_report(model: object) -> dict:
    """The budget the fitted model reports as spent (``privacy_spent_``: preprocessing and training)."""
    spent = model.privacy_spent_.to_dict()
    return {"epsilon_spent": spent["epsilon"], "delta": spent["delta"], "privacy_spent": spent}


def stage_mostly(args: argparse.Namespace) -> dict:
    """Fit MOSTLY AI's TabularARGN (its own DP option when an epsilon is given), sample the training size."""
    _set_threads(args.threads)
    import pandas as pd
    from mostlyai.engine import TabularARGN
    from mostlyai.engine.domain import DifferentialPrivacyConfig

    train, _ = load_split(args.data, args.split_seed)
    epsilon = _epsilon(args)
    dp = None
    if epsilon is not None:
        dp = DifferentialPrivacyConfig(max_epsilon=epsilon, delta=args.delta, **json.loads(args.peer_dp_kwargs))
    workspace = args.workdir / f"mostly_workspace_{args.side}"
    shutil.rmtree(workspace, ignore_errors=True)
    kwargs: dict = {"differential_privacy": dp, **json.loads(args.peer_kwargs)}
    if args.max_training_time:
        kwargs["max_training_time"] = args.max_training_time / 60  # the engine takes minutes
    started = time.perf_counter()
    model = TabularARGN(random_state=args.seed, verbose=0, workspace_dir=str(workspace), **kwargs)
    model.fit(train)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(n_samples=len(train))
    sample_s = time.perf_counter() - started
    synthetic.to_parquet(args.workdir / f"synthetic_{args.side}.parquet")

    progress = pd.read_csv(workspace / "ModelStore" / "model-data" / "progress-messages.csv")
    result = {"train_s": train_s, "sample_s": sample_s, "epochs": float(progress["epoch"].max()),
              "dp_config": dp.model_dump() if dp else None}
    if dp is not None:
        stats = json.loads((workspace / "ModelStore" / "tgt-stats" / "stats.json").read_text())
        kept = progress[progress["is_checkpoint"] == 1]
        result.update({
            # the weights it samples from are those of its last kept checkpoint
            "epsilon_spent": float(kept["dp_eps"].iloc[-1]) if len(kept) else None,
            "epoch_kept": float(kept["epoch"].iloc[-1]) if len(kept) else None,
            "epsilon_accountant_final": float(progress["dp_eps"].dropna().iloc[-1]),
            "value_protection_epsilon_spent": stats.get("value_protection_epsilon_spent"),
            "delta": float(progress["dp_delta"].dropna().iloc[-1]),
        })
    return result


STAGES = {"ours": stage_ours, "mostly": stage_mostly, "qa": stage_qa}


# --------------------------------------------------------------------------- orchestration

def _matched_epsilon(epsilon: float | None, peer: dict | None) -> float | None:
    """Our budget under ``--match-peer-epsilon``: the target, or less where the peer spent less of it."""
    spent = (peer or {}).get("epsilon_spent")
    if epsilon is None or not isinstance(spent, float):
        return epsilon
    return min(epsilon, round(spent, 4))


def _label(epsilon: float | None) -> str:
    return "nodp" if epsilon is None else f"eps{epsilon:g}"


def _stage_options(args: argparse.Namespace, epsilon: float | None) -> list[str]:
    return ["--epsilon", "none" if epsilon is None else repr(epsilon), "--delta", repr(args.delta),
            "--dp-kwargs", args.dp_kwargs, "--peer-dp-kwargs", args.peer_dp_kwargs,
            "--peer-kwargs", args.peer_kwargs]


def _table(args: argparse.Namespace, settings: list[float | None], results: dict) -> list[str]:
    """Markdown table: one row per privacy setting, both sides side by side."""
    def cell(setting: str, side: str, key: str, digits: int = 3) -> str:
        return fmt(results.get(setting, {}).get(side, {}).get(key), digits)

    lines = ["| epsilon (target) | accuracy ours | accuracy MOSTLY | ours / MOSTLY | epsilon spent ours | "
             "epsilon spent MOSTLY | disc. AUC ours | disc. AUC MOSTLY | DCR share ours | DCR share MOSTLY | "
             "train s (epochs) ours | train s (epochs) MOSTLY |",
             "|---|" + "---:|" * 11]
    for epsilon in settings:
        label = _label(epsilon)
        row = results.get(label, {})
        ours, peer = row.get("ours", {}), row.get("mostly", {})
        ratio = (ours["accuracy"] / peer["accuracy"]
                 if isinstance(ours.get("accuracy"), float) and isinstance(peer.get("accuracy"), float) else None)

        def wall(side: dict) -> str:
            if "train_s" not in side:
                return "n/a"
            return f"{side['train_s']:.0f} ({fmt(side.get('epochs'), 1)})"

        lines.append(
            f"| {'no DP' if epsilon is None else f'{epsilon:g}'} | {cell(label, 'ours', 'accuracy')} | "
            f"{cell(label, 'mostly', 'accuracy')} | {fmt(ratio)} | {cell(label, 'ours', 'epsilon_spent', 2)} | "
            f"{cell(label, 'mostly', 'epsilon_spent', 2)} | {cell(label, 'ours', 'discriminator_auc')} | "
            f"{cell(label, 'mostly', 'discriminator_auc')} | {cell(label, 'ours', 'dcr_share')} | "
            f"{cell(label, 'mostly', 'dcr_share')} | {wall(ours)} | {wall(peer)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    parser.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 4.0, 10.0])
    parser.add_argument("--skip-no-dp", action="store_true", help="leave out the no-DP row")
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--max-training-time", type=float, default=240.0,
                        help="training budget per side and setting, seconds (0: each side's own default)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides (0: torch default)")
    parser.add_argument("--model-kwargs", default="{}", help="extra TabularAR parameters as JSON")
    parser.add_argument("--dp-kwargs", default="{}", help="extra DPConfig parameters as JSON (ours)")
    parser.add_argument("--peer-kwargs", default="{}", help="extra TabularARGN parameters as JSON")
    parser.add_argument("--peer-dp-kwargs", default="{}",
                        help="extra DifferentialPrivacyConfig fields as JSON (peer), e.g. "
                             "'{\"value_protection_epsilon\": 0.1}'")
    parser.add_argument("--match-peer-epsilon", action="store_true",
                        help="train the peer first and give ours the smaller of the target and the epsilon the "
                             "peer spent, so ours never spends more than the peer")
    parser.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / "output" / "dp")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "output" / "results_dp.json")
    parser.add_argument("--epsilon", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--speed-rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parse_or_run_stage(parser, STAGES)
    if args is None:
        return
    if not MOSTLY_PYTHON.exists():
        sys.exit(f"{MOSTLY_PYTHON} missing: run bash benchmarks/setup_mostly_env.sh (the scorer lives there).")

    settings: list[float | None] = ([] if args.skip_no_dp else [None]) + list(args.epsilons)
    results: dict[str, dict] = {}
    meta = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "delta": args.delta,
            "max_training_time_s": args.max_training_time, "threads": args.threads,
            "load_avg_start": round(os.getloadavg()[0], 2),
            "command": " ".join([Path(sys.executable).name, *sys.argv])}
    script = Path(__file__)
    sides = sorted(args.sides, key=lambda side: side != "mostly") if args.match_peer_epsilon else args.sides
    for epsilon in settings:
        label = _label(epsilon)
        results[label] = {}
        for side in sides:
            name = f"{side}_{label}"
            python = sys.executable if side == "ours" else MOSTLY_PYTHON
            target = _matched_epsilon(epsilon, results[label].get("mostly")) \
                if side == "ours" and args.match_peer_epsilon else epsilon
            print(f"[{time.strftime('%H:%M:%S')}] training {name} (max_epsilon {target}) ...", flush=True)
            result = run_stage(python, side, args, side=name, script=script, extra=_stage_options(args, target))
            if target != epsilon:
                result["max_epsilon"] = target
            if "error" not in result:
                print(f"[{time.strftime('%H:%M:%S')}] scoring {name} with mostlyai-qa ...", flush=True)
                result.update(run_stage(MOSTLY_PYTHON, "qa", args, side=name, script=script,
                                        env={"OMP_NUM_THREADS": "1"}))
            results[label][side] = result
            meta["load_avg_end"] = round(os.getloadavg()[0], 2)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))

    print(f"\n{meta}\n")
    print("\n".join(_table(args, settings, results)))
    for label, row in results.items():
        for side, result in row.items():
            if "error" in result:
                print(f"\n{side} {label}: {result['error']}")
    print(f"\nJSON: {args.out}")


if __name__ == "__main__":
    main()
