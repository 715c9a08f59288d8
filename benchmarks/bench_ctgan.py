"""Side-by-side benchmark: SynthoHive's CTGAN vs the ``ctgan`` package (SDV's), in one run.

Same real data (UCI Adult, ``../shared/data/adult.parquet`` relative to the repository root), the same
architecture (embedding 128, generator and discriminator (256, 256), batch 500, pac 10, lr 2e-4,
1 discriminator step, log-frequency conditioning) and the same epochs. Measured, each side in its own
fresh subprocess so that imports, caches and allocator state never leak from one side to the other:

* transformer fit + transform time at 10k / 100k / 300k rows (Adult sampled without replacement for
  10k, upsampled with replacement above its 48,842 rows), and the peak memory of that process;
* training seconds per epoch: (fit wall time - transformer fit/transform time) / epochs;
* sampling rows per second;
* peak RSS of the training process (training + sampling), the process alone (``getrusage``) and
  with its worker processes (sampled with psutil every 0.5 s);
* quality of both outputs against the training data: SDMetrics ``QualityReport`` (when ``sdmetrics``
  is installed) and SynthoHive's column-shape score.

The peer is BSL-licensed: it is only *run* here, from a separate environment created by
``benchmarks/setup_bench_env.sh`` (``benchmarks/.venv-bench``); it is never a SynthoHive dependency.

Usage (from the repository root)::

    bash benchmarks/setup_bench_env.sh
    benchmarks/.venv-bench/bin/python benchmarks/bench_ctgan.py                  # full run
    benchmarks/.venv-bench/bin/python benchmarks/bench_ctgan.py --sizes 10000 --epochs 3 \\
        --train-rows 10000 --sample-rows 20000                                    # quick run

Not collected by pytest (it lives outside ``tests/``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "adult.parquet"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "output"
SIDES = ("ours", "peer")
ARCHITECTURE = {
    "embedding_dim": 128,
    "generator_dim": (256, 256),
    "discriminator_dim": (256, 256),
    "generator_lr": 2e-4,
    "discriminator_lr": 2e-4,
    "weight_decay": 1e-6,
    "pac": 10,
    "discriminator_steps": 1,
    "log_frequency": True,
}
TARGETS = {
    "transform": ">= 20x faster at 300k rows",
    "epoch": ">= 3x faster",
    "sampling": ">= 5x faster",
    "rss": "<= 0.5x",
    "quality": ">= peer",
}


# =========================================================================== worker side


class _PeakMemory:
    """Track peak RSS of this process plus its children (psutil, sampled) while running.

    The default interval is deliberately coarse. Each poll walks ``/proc`` to find the children,
    and on a 2-core machine a poller waking every 20 ms measurably slowed what it observed
    (torch's OpenMP threads lose a core to it): training 17% and sampling 40% slower in our
    own measurement. Worker processes live for seconds, so 0.5 s still catches their peak.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peak_total_mb = float("nan")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _PeakMemory:
        try:
            import psutil
        except ImportError:
            return self
        process = psutil.Process()
        self.peak_total_mb = 0.0

        def poll() -> None:
            while not self._stop.is_set():
                try:
                    total = process.memory_info().rss
                    for child in process.children(recursive=True):
                        try:
                            total += child.memory_info().rss
                        except psutil.Error:
                            continue
                except psutil.Error:
                    total = 0
                self.peak_total_mb = max(self.peak_total_mb, total / 2**20)
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _self_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _load_rows(data_path: str, rows: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    data = pd.read_parquet(data_path)
    if rows == len(data):
        return data
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data), size=rows, replace=rows > len(data))
    return data.iloc[index].reset_index(drop=True)


def _sdtypes(frame: Any) -> dict[str, str]:
    import pandas as pd

    return {column: ("numerical" if pd.api.types.is_numeric_dtype(frame[column].dtype) else "categorical")
            for column in frame.columns}


class _Timer:
    """Accumulate the wall time spent inside wrapped methods (instrumentation only)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, owner: type, name: str) -> None:
        original = getattr(owner, name)
        timer = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - started

        setattr(owner, name, timed)


def _worker_transform(side: str, config: dict[str, Any]) -> dict[str, Any]:
    data = _load_rows(config["data"], config["rows"], config["seed"])
    sdtypes = _sdtypes(data)
    discrete = [column for column, sdtype in sdtypes.items() if sdtype == "categorical"]
    baseline = _self_peak_rss_mb()
    with _PeakMemory() as memory:
        if side == "ours":
            from syntho_hive._random import numpy_generator
            from syntho_hive.core.data import DataTransformer

            started = time.perf_counter()
            transformer = DataTransformer().fit(data, sdtypes, seed=config["seed"])
            matrix = transformer.transform(data, rng=numpy_generator(config["seed"]))
            seconds = time.perf_counter() - started
            width = int(transformer.output_dim_)
        else:
            from ctgan.data_transformer import DataTransformer as PeerTransformer

            started = time.perf_counter()
            transformer = PeerTransformer()
            transformer.fit(data, discrete)
            matrix = transformer.transform(data)
            seconds = time.perf_counter() - started
            width = int(transformer.output_dimensions)
    return {"seconds": seconds, "output_dim": width, "shape": list(matrix.shape),
            "baseline_rss_mb": baseline, "peak_rss_mb": _self_peak_rss_mb(),
            "peak_rss_with_children_mb": memory.peak_total_mb}


def _worker_train(side: str, config: dict[str, Any]) -> dict[str, Any]:
    data = _load_rows(config["data"], config["train_rows"], config["seed"])
    sdtypes = _sdtypes(data)
    discrete = [column for column, sdtype in sdtypes.items() if sdtype == "categorical"]
    epochs, batch_size, seed = config["epochs"], config["batch_size"], config["seed"]
    preprocess = _Timer()
    baseline = _self_peak_rss_mb()
    with _PeakMemory() as memory:
        if side == "ours":
            from syntho_hive.core.data import DataTransformer
            from syntho_hive.core.metadata import Metadata
            from syntho_hive.core.models.ctgan import CTGAN

            preprocess.wrap(DataTransformer, "fit")
            preprocess.wrap(DataTransformer, "transform")
            metadata = Metadata()
            metadata.add_table("adult", columns=sdtypes)
            model = CTGAN(metadata, epochs=epochs, batch_size=batch_size, device="cpu",
                          precision=config.get("precision", "float32"), **ARCHITECTURE)
            started = time.perf_counter()
            model.fit(data, table_name="adult", seed=seed, progress_bar=False)
            fit_seconds = time.perf_counter() - started
            started = time.perf_counter()
            synthetic = model.sample(config["sample_rows"], seed=seed)
            sample_seconds = time.perf_counter() - started
        else:
            import inspect

            import ctgan.synthesizers.ctgan as peer_module

            preprocess.wrap(peer_module.DataTransformer, "fit")
            preprocess.wrap(peer_module.DataTransformer, "transform")
            options = {key: value for key, value in ARCHITECTURE.items() if key != "weight_decay"}
            options.update(generator_decay=ARCHITECTURE["weight_decay"],
                           discriminator_decay=ARCHITECTURE["weight_decay"])
            parameters = inspect.signature(peer_module.CTGAN.__init__).parameters
            device_option = {"enable_gpu": False} if "enable_gpu" in parameters else {"cuda": False}
            model = peer_module.CTGAN(epochs=epochs, batch_size=batch_size, verbose=False,
                                      **device_option, **options)
            model.set_random_state(seed)
            started = time.perf_counter()
            model.fit(data, discrete)
            fit_seconds = time.perf_counter() - started
            started = time.perf_counter()
            synthetic = model.sample(config["sample_rows"])
            sample_seconds = time.perf_counter() - started
    quality_rows = min(len(data), len(synthetic))
    synthetic_path = Path(config["output_dir"]) / f"synthetic_{side}.parquet"
    synthetic.iloc[:quality_rows].to_parquet(synthetic_path, index=False)
    return {
        "fit_seconds": fit_seconds,
        "preprocess_seconds": preprocess.seconds,
        "epoch_seconds": (fit_seconds - preprocess.seconds) / epochs,
        "sample_rows": len(synthetic),
        "sample_seconds": sample_seconds,
        "sample_rows_per_s": len(synthetic) / sample_seconds,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _self_peak_rss_mb(),
        "peak_rss_with_children_mb": memory.peak_total_mb,
        "synthetic_path": str(synthetic_path),
    }


def _worker(side: str, task: str, config_path: str, result_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    if config.get("threads"):
        import torch

        torch.set_num_threads(int(config["threads"]))  # this worker process only, both sides alike
    if task == "transform":
        result = _worker_transform(side, config)
    else:
        result = _worker_train(side, config)
    Path(result_path).write_text(json.dumps(result))
    return 0


# =========================================================================== parent side


def _run_worker(python: str, side: str, task: str, config: dict[str, Any], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        config_path, result_path = Path(folder) / "config.json", Path(folder) / "result.json"
        config_path.write_text(json.dumps(config))
        command = [python, str(Path(__file__).resolve()), "--worker", side, task, str(config_path),
                   str(result_path)]
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                   env={**os.environ, "PYTHONWARNINGS": "ignore"})
        wall = time.perf_counter() - started
        if completed.returncode != 0 or not result_path.exists():
            tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{side} {task} worker failed (exit {completed.returncode}):\n{tail}")
        result = json.loads(result_path.read_text())
    result["process_wall_seconds"] = wall
    return result


def _quality(real: Any, synthetic: Any) -> dict[str, float]:
    from syntho_hive.validation import column_shape_scores, overall_column_shape

    sdtypes = _sdtypes(real)
    result = {"column_shapes": overall_column_shape(column_shape_scores(real, synthetic, sdtypes))}
    try:
        with warnings.catch_warnings():  # the single-table report is deprecated in newer sdmetrics
            warnings.simplefilter("ignore", FutureWarning)
            from sdmetrics.reports.single_table import QualityReport
    except ImportError:
        return result
    report = QualityReport()
    metadata = {"columns": {column: {"sdtype": sdtype} for column, sdtype in sdtypes.items()}}
    report.generate(real, synthetic[real.columns], metadata, verbose=False)
    result["sdmetrics_overall"] = float(report.get_score())
    for _, row in report.get_properties().iterrows():
        key = "sdmetrics_" + str(row["Property"]).lower().replace(" ", "_")
        result[key] = float(row["Score"])
    return result


def _version(python: str, module: str) -> str:
    code = f"from importlib.metadata import version; print(version({module!r}))"
    completed = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return completed.stdout.strip() if completed.returncode == 0 else "not installed"


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio(ours: float | None, peer: float | None, *, higher_is_better: bool) -> str:
    if ours is None or peer is None or ours != ours or peer != peer or ours <= 0 or peer <= 0:
        return "n/a"
    if higher_is_better:
        return f"{ours / peer:.1f}x faster" if ours >= peer else f"{peer / ours:.1f}x slower"
    return f"{peer / ours:.1f}x faster" if peer >= ours else f"{ours / peer:.1f}x slower"


def _table(results: dict[str, Any], args: argparse.Namespace) -> str:
    peer_name = f"peer (ctgan {results['versions']['ctgan']})"
    ours_name = "ours" if args.precision == "float32" else f"ours (precision={args.precision})"
    rows = [f"| metric | {ours_name} | {peer_name} | ours vs peer | target |", "|---|---:|---:|---:|---|"]
    for size, sides in results["transform"].items():
        ours, peer = sides.get("ours"), sides.get("peer")
        peer_cell = _fmt(peer["seconds"]) if peer else sides.get("peer_skipped", "n/a")
        rows.append(
            f"| transformer fit+transform, {int(size):,} rows (s) | {_fmt(ours['seconds']) if ours else 'n/a'}"
            f" | {peer_cell} | {_ratio(ours and ours['seconds'], peer and peer['seconds'], higher_is_better=False)}"
            f" | {TARGETS['transform'] if int(size) >= 300_000 else ''} |")
    for size, sides in results["transform"].items():
        ours, peer = sides.get("ours"), sides.get("peer")
        if ours and peer:
            rows.append(
                f"| peak RSS, transformer at {int(size):,} rows, incl. workers (MB) |"
                f" {_fmt(ours['peak_rss_with_children_mb'], 0)} | {_fmt(peer['peak_rss_with_children_mb'], 0)} |"
                f" {_fmt(ours['peak_rss_with_children_mb'] / peer['peak_rss_with_children_mb'])}x | |")
    train = results.get("train", {})
    ours, peer = train.get("ours"), train.get("peer")
    if ours or peer:
        def cell(side: dict[str, Any] | None, key: str, digits: int = 2) -> str:
            return _fmt(side[key], digits) if side else "n/a"

        def value(side: dict[str, Any] | None, key: str) -> float | None:
            return side[key] if side else None

        label = f"{args.train_rows:,} rows, batch {args.batch_size}, {args.epochs} epochs"
        if args.repeat > 1:
            label += f", median of {args.repeat} runs"
        rows += [
            f"| training, seconds per epoch ({label}) | {cell(ours, 'epoch_seconds')} | {cell(peer, 'epoch_seconds')}"
            f" | {_ratio(value(ours, 'epoch_seconds'), value(peer, 'epoch_seconds'), higher_is_better=False)}"
            f" | {TARGETS['epoch']} |",
            f"| fit wall time incl. preprocessing (s) | {cell(ours, 'fit_seconds')} | {cell(peer, 'fit_seconds')}"
            f" | {_ratio(value(ours, 'fit_seconds'), value(peer, 'fit_seconds'), higher_is_better=False)} | |",
            f"| sampling ({args.sample_rows:,} rows), rows/s | {cell(ours, 'sample_rows_per_s', 0)}"
            f" | {cell(peer, 'sample_rows_per_s', 0)}"
            f" | {_ratio(value(ours, 'sample_rows_per_s'), value(peer, 'sample_rows_per_s'), higher_is_better=True)}"
            f" | {TARGETS['sampling']} |",
        ]
        runs = results.get("train_runs", {})
        if len(runs.get("ours", ())) > 1 and len(runs.get("peer", ())) == len(runs["ours"]):
            for key, name, better in (("epoch_seconds", "epoch", False), ("sample_rows_per_s", "sampling", True)):
                pairs = zip(runs["ours"], runs["peer"])
                per_run = ", ".join(_ratio(o[key], p[key], higher_is_better=better).replace(" faster", "")
                                    for o, p in pairs)
                rows.append(f"| {name}, ours vs peer in each run (times faster) | | | {per_run} | |")
        for key, name in (("peak_rss_mb", "process only"), ("peak_rss_with_children_mb", "incl. workers")):
            o, p = value(ours, key), value(peer, key)
            ratio = f"{o / p:.2f}x" if o and p and o == o and p == p else "n/a"
            rows.append(f"| peak RSS, training + sampling, {name} (MB) | {cell(ours, key, 0)} | {cell(peer, key, 0)}"
                        f" | {ratio} | {TARGETS['rss']} |")
        quality = results.get("quality", {})
        keys = sorted({key for side in quality.values() for key in side})
        for key in keys:
            o, p = quality.get("ours", {}).get(key), quality.get("peer", {}).get(key)
            diff = f"{o - p:+.3f}" if o is not None and p is not None else "n/a"
            rows.append(f"| quality: {key} | {_fmt(o, 3)} | {_fmt(p, 3)} | {diff} | {TARGETS['quality']} |")
    return "\n".join(rows)


def _aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side's training runs: the median of every time and speed, the largest memory peak."""
    merged = dict(runs[-1])
    for key, value in runs[-1].items():
        if isinstance(value, (int, float)):
            values = [run[key] for run in runs]
            merged[key] = max(values) if "rss" in key else statistics.median(values)
    merged["runs"] = len(runs)
    return merged


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark SynthoHive's CTGAN against the ctgan package (SDV) side by side.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Adult table (Parquet)")
    parser.add_argument("--sizes", default="10000,100000,300000",
                        help="comma-separated row counts for the transformer benchmark ('' to skip it)")
    parser.add_argument("--peer-max-rows", type=int, default=None,
                        help="run the peer's transformer only up to this many rows (it needs minutes "
                             "at 100k+ rows); larger sizes are reported as skipped")
    parser.add_argument("--skip-peer-300k", action="store_true",
                        help="shortcut for --peer-max-rows 299999")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (both sides)")
    parser.add_argument("--batch-size", type=int, default=500, help="training batch size (both sides)")
    parser.add_argument("--train-rows", type=int, default=48_842,
                        help="training rows (48,842 = the whole Adult table)")
    parser.add_argument("--sample-rows", type=int, default=50_000, help="rows sampled for the speed test")
    parser.add_argument("--no-train", action="store_true", help="only run the transformer benchmark")
    parser.add_argument("--repeat", type=int, default=1,
                        help="training runs per side, alternating sides; times are the median over runs "
                             "(this shared VM's speed drifts by 20-30%% between minutes)")
    parser.add_argument("--sides", default="ours,peer", help="which sides to run (for debugging one side)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ours-python", default=sys.executable,
                        help="interpreter for our side (needs synthohive installed)")
    parser.add_argument("--peer-python", default=sys.executable,
                        help="interpreter for the peer (needs ctgan installed)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads in every worker, both sides (default: torch's own)")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                        help="our CTGAN's precision (the peer always trains in float32)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per worker process")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT,
                        help="where results.json, results.md and the synthetic samples go")
    args = parser.parse_args(argv)
    args.sides = tuple(side for side in SIDES if side in args.sides.split(","))
    if args.skip_peer_300k:
        args.peer_max_rows = 299_999 if args.peer_max_rows is None else min(args.peer_max_rows, 299_999)
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if not args.data.is_file():
        print(f"error: benchmark data not found: {args.data}. It is the UCI Adult table as Parquet, expected "
              "at ../shared/data/adult.parquet relative to the repository root; pass --data PATH.",
              file=sys.stderr)
        return 1
    versions = {"ctgan": _version(args.peer_python, "ctgan"), "rdt": _version(args.peer_python, "rdt"),
                "synthohive": _version(args.ours_python, "synthohive"),
                "torch": _version(args.ours_python, "torch"), "sdmetrics": _version(sys.executable, "sdmetrics")}
    for name, side_python in (("ctgan", args.peer_python), ("synthohive", args.ours_python)):
        if versions[name] == "not installed":
            print(f"error: {name} is not installed for {side_python}; create the benchmark environment with "
                  "'bash benchmarks/setup_bench_env.sh' and run this script with "
                  "benchmarks/.venv-bench/bin/python.", file=sys.stderr)
            return 1
    args.output_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    pythons = {"ours": args.ours_python, "peer": args.peer_python}
    results: dict[str, Any] = {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "versions": versions, "load_average_at_start": list(os.getloadavg()),
        "transform": {}, "train": {}, "quality": {},
    }
    results_path = args.output_dir / "results.json"

    def save() -> None:  # after every step, so a late failure keeps the numbers measured so far
        results_path.write_text(json.dumps(results, indent=2))

    base = {"data": str(args.data), "seed": args.seed, "output_dir": str(args.output_dir),
            "threads": args.threads, "precision": args.precision}
    for size in sizes:
        results["transform"][str(size)] = {}
        for side in args.sides:
            if side == "peer" and args.peer_max_rows is not None and size > args.peer_max_rows:
                results["transform"][str(size)]["peer_skipped"] = f"skipped (--peer-max-rows {args.peer_max_rows})"
                print(f"[transform {size:,}] peer skipped (above --peer-max-rows)", file=sys.stderr)
                continue
            print(f"[transform {size:,}] {side} ...", file=sys.stderr, flush=True)
            outcome = _run_worker(pythons[side], side, "transform", {**base, "rows": size}, args.timeout)
            results["transform"][str(size)][side] = outcome
            save()
            print(f"[transform {size:,}] {side}: {outcome['seconds']:.2f} s", file=sys.stderr, flush=True)
    if not args.no_train:
        import pandas as pd

        config = {**base, "train_rows": args.train_rows, "epochs": args.epochs,
                  "batch_size": args.batch_size, "sample_rows": args.sample_rows}
        results["train_runs"] = {side: [] for side in args.sides}
        for repeat in range(1, args.repeat + 1):  # sides alternate, so slow phases of the machine hit both
            for side in args.sides:
                print(f"[train {repeat}/{args.repeat}] {side}: {args.epochs} epochs on {args.train_rows:,} rows ...",
                      file=sys.stderr, flush=True)
                outcome = _run_worker(pythons[side], side, "train", config, args.timeout)
                results["train_runs"][side].append(outcome)
                results["train"][side] = _aggregate(results["train_runs"][side])
                save()
                print(f"[train {repeat}/{args.repeat}] {side}: {outcome['epoch_seconds']:.2f} s/epoch, "
                      f"{outcome['sample_rows_per_s']:,.0f} rows/s", file=sys.stderr, flush=True)
        real = _load_rows(str(args.data), args.train_rows, args.seed)
        for side in args.sides:
            synthetic = pd.read_parquet(results["train"][side]["synthetic_path"])
            print(f"[quality] {side} ...", file=sys.stderr, flush=True)
            results["quality"][side] = _quality(real, synthetic)
    results["load_average_at_end"] = list(os.getloadavg())
    save()
    table = _table(results, args)
    load = f"{results['load_average_at_start'][1]:.1f} / {results['load_average_at_end'][1]:.1f}"
    header = (f"Run {results['date_utc']} on {results['machine']} (5-min load average at start / end: "
              f"{load}); torch {versions['torch']}, "
              f"synthohive {versions['synthohive']}, ctgan {versions['ctgan']} (rdt {versions['rdt']}), "
              f"sdmetrics {versions['sdmetrics']}.\nCommand: `{results['command']}`")
    (args.output_dir / "results.md").write_text(f"{header}\n\n{table}\n")
    print(header)
    print()
    print(table)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sys.exit(_worker(*sys.argv[2:6]))
    sys.exit(main())
