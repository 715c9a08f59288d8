"""Distributed generation with Spark (``Synthesizer.sample_spark``) against the pandas path, on nycflights13.

Issue #17's targets, on a local Spark:

- rows/s of the Spark path (``local[2]`` and ``local[1]``) and of the pandas path (``Synthesizer.sample``
  with ``output_path``, streamed to Parquet) on the same fitted models;
- ``local[2]`` rows/s >= **1.7x** ``local[1]``;
- peak RSS of the driver's Python process at ``--rows`` (default 10M) <= **1.2x** its value at
  ``--small-rows`` (default 1M); the pandas path's peak is measured beside it;
- what a 100-core cluster would generate per hour, from the measured per-core rate.

What it does (on demand; not collected by pytest):

1. loads ``../shared/data/nycflights13`` (relative to the repository root): airlines, airports, planes and
   flights with a surrogate key ``flight_id``; flights whose ``dest`` is not an airport are dropped and
   ``tailnum``s absent from planes set to null (the real data is not referentially clean), as
   ``bench_subset_rss.py`` does; ``--train-rows`` flights (random, seed 0) are kept for training;
2. fits two synthesizers (TabularAR, ``--epochs``) and saves them: **schema** (the 4 tables, flights a
   child of all three others) and **single** (flights alone; its key columns are plain columns);
3. for each synthesizer, size and path, in a fresh subprocess (nothing of the fit in its memory): loads
   the synthesizer, starts Spark (``local[N]``, UI off), then times ``sample_spark(num_rows={"flights":
   rows}, num_partitions=--partitions)`` plus ``df.write.parquet`` of every table (the whole pipeline:
   driver plan and probe, broadcast, generation on the executors, Arrow transfer, Parquet encoding);
   the rows written are counted from the Parquet files (``spark.read.parquet(...).count()``, after the
   timer); ``--sink count`` times ``count()`` of every table instead (generation and the Arrow transfer
   to the JVM, no Parquet encoding). The pandas path runs ``Synthesizer.sample(num_rows=..., output_path=...)`` in the same way.
   Each subprocess reports its own peak RSS (``VmHWM``) and, for Spark, the JVM's (driver and, in local
   mode, the executor too: it is not the driver's memory on a cluster).

Run: ``.venv/bin/python benchmarks/bench_spark.py [--rows 10000000] [--small-rows 1000000]``
(``--quick`` runs 200k / 1M rows in a few minutes; ``--pin`` restricts each run to as many CPUs as Spark task
slots; ``--help`` lists every option). Torch uses one
thread per Spark task (``spark.task.cpus``) and one thread in the pandas path, so that cores compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "nycflights13"


# --------------------------------------------------------------------------- fit
def training_frames(train_rows: int) -> dict[str, "object"]:
    import pandas as pd

    frames = {name: pd.read_parquet(DATA / f"{name}.parquet") for name in ("airlines", "airports", "planes", "flights")}
    flights = frames["flights"]
    flights = flights[flights["dest"].isin(frames["airports"]["faa"])].copy()
    flights.loc[~flights["tailnum"].isin(frames["planes"]["tailnum"]), "tailnum"] = None
    flights = flights.sample(min(train_rows, len(flights)), random_state=0).reset_index(drop=True)
    flights.insert(0, "flight_id", range(1, len(flights) + 1))
    frames["flights"] = flights
    return frames


def fit(workdir: Path, train_rows: int, epochs: int) -> dict[str, float]:
    from syntho_hive import Metadata, Synthesizer

    frames = training_frames(train_rows)
    schema = (Metadata()
              .add_table("airlines", pk="carrier")
              .add_table("airports", pk="faa")
              .add_table("planes", pk="tailnum")
              .add_table("flights", pk="flight_id", fk={"carrier": "airlines.carrier", "origin": "airports.faa",
                                                         "dest": "airports.faa", "tailnum": "planes.tailnum"}))
    single = Metadata().add_table("flights", pk="flight_id")
    seconds = {}
    for name, metadata, data in (("schema", schema, frames), ("single", single, {"flights": frames["flights"]})):
        started = time.perf_counter()
        synth = Synthesizer(metadata, seed=0).fit(data, epochs=epochs, progress_bar=False)
        seconds[name] = time.perf_counter() - started
        synth.save(workdir / name, overwrite=True)
    return seconds


# --------------------------------------------------------------------------- one measurement (subprocess)
def _peak_kib(pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def _tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and all its descendants alive now
    (the JVM, its Python daemon and workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for pid, parent in parents.items():
            if parent == current and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(times.get(pid, 0.0) for pid in tree)


def _rss_kib() -> int:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))


def measure(args: argparse.Namespace) -> None:
    """``--measure``: one run, its figures as one JSON line."""
    if args.pin:  # this process, the JVM it starts and the Python workers: --cores CPUs in all
        os.sched_setaffinity(0, range(args.cores))
    import torch

    torch.set_num_threads(1)
    from syntho_hive import Synthesizer

    synth = Synthesizer.load(args.synth)
    out = Path(args.out)
    sizes = {"flights": args.rows}
    figures: dict[str, object] = {"path": args.path, "synth": Path(args.synth).name, "rows_asked": args.rows}
    if args.path == "pandas":
        baseline = _rss_kib()
        cpu = _tree_cpu_seconds(os.getpid())
        started = time.perf_counter()
        written = synth.sample(num_rows=sizes, seed=1, output_path=out, chunk_rows=50_000)
        figures["seconds"] = time.perf_counter() - started
        figures["cpu_seconds"] = _tree_cpu_seconds(os.getpid()) - cpu
        import pyarrow.parquet as pq

        figures["rows"] = {name: pq.ParquetFile(path).metadata.num_rows for name, path in written.items()}
        figures["driver_baseline_kib"] = baseline
        figures["driver_peak_kib"] = _peak_kib()
        print(json.dumps(figures))
        return
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{args.cores}]").appName("bench_spark")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
             .config("spark.sql.shuffle.partitions", str(args.partitions)).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(args.cores, numPartitions=args.cores).count()  # JVM and Python workers up before the timer
    baseline = _rss_kib()
    cpu = _tree_cpu_seconds(os.getpid())
    started = time.perf_counter()
    tables = synth.sample_spark(num_rows=sizes, seed=1, num_partitions=args.partitions, spark=spark)
    figures["plan_seconds"] = time.perf_counter() - started
    if args.sink == "parquet":
        for name, frame in tables.items():
            frame.write.mode("overwrite").parquet(str(out / name))
    else:  # every row generated and handed to the JVM, which only counts them
        counted = {name: frame.count() for name, frame in tables.items()}
    figures["seconds"] = time.perf_counter() - started
    figures["cpu_seconds"] = _tree_cpu_seconds(os.getpid()) - cpu
    figures["rows"] = ({name: spark.read.parquet(str(out / name)).count() for name in tables}
                       if args.sink == "parquet" else counted)
    figures["driver_baseline_kib"] = baseline
    figures["driver_peak_kib"] = _peak_kib()
    gateway = getattr(spark.sparkContext._gateway, "proc", None)  # the JVM pyspark launched
    figures["jvm_peak_kib"] = _peak_kib(gateway.pid) if gateway is not None else None
    spark.stop()
    print(json.dumps(figures))


def run_one(workdir: Path, synth: str, path: str, rows: int, partitions: int, sink: str = "parquet",
            pin: bool = False) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"bench-spark-{synth}-{path}-", dir=workdir))
    cores = {"pandas": 1, "spark1": 1, "spark2": 2}[path]
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", "--synth", str(workdir / synth),
               "--path", path, "--rows", str(rows), "--partitions", str(partitions), "--cores", str(cores),
               "--out", str(out), "--sink", sink] + (["--pin"] if pin else [])
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env={**os.environ, "PYSPARK_PYTHON": sys.executable})
    load_after = os.getloadavg()[0]
    shutil.rmtree(out, ignore_errors=True)
    if result.returncode != 0:
        sys.exit(f"{synth}/{path}/{rows}: failed\n{result.stderr[-4000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = time.perf_counter() - started
    figures["load_average"] = [round(load_before, 2), round(load_after, 2)]  # 1-minute, before and after
    figures["total_rows"] = sum(figures["rows"].values())
    figures["rows_per_s"] = figures["total_rows"] / figures["seconds"]
    figures["rows_per_cpu_s"] = figures["total_rows"] / max(figures["cpu_seconds"], 1e-9)
    print(f"  {synth:6s} {path:6s} {rows:>11,} flights: {figures['total_rows']:>11,} rows in {figures['seconds']:7.1f} s "
          f"= {figures['rows_per_s']:>9,.0f} rows/s ({figures['rows_per_cpu_s']:,.0f} per CPU-s); driver peak {figures['driver_peak_kib'] / 1024:6.0f} MiB"
          + (f", JVM peak {figures['jvm_peak_kib'] / 1024:6.0f} MiB" if figures.get("jvm_peak_kib") else "")
          + f"; load {figures['load_average'][0]:.1f}->{figures['load_average'][1]:.1f}", flush=True)
    return figures


# --------------------------------------------------------------------------- report
def report(results: list[dict], args: argparse.Namespace) -> str:
    def find(synth: str, path: str, rows: int) -> dict | None:
        return next((r for r in results if r["synth"] == synth and r["path"] == path and r["rows_asked"] == rows),
                    None)

    lines = [f"### Spark generation — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores",
             "",
             f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`; TabularAR, {args.epochs} epochs on "
             f"{args.train_rows:,} flights; {args.partitions} partitions; Spark: sample_spark + "
             + ("df.write.parquet of every table" if args.sink == "parquet" else "count() of every table (no write)")
             + "; pandas: sample(output_path=...) (streamed Parquet).",
             "",
             "| model | path | flights asked | rows written | seconds | rows/s | rows per CPU-s | driver peak RSS (MiB) "
             "| JVM peak (MiB) | load avg before/after |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        jvm = f"{r['jvm_peak_kib'] / 1024:.0f}" if r.get("jvm_peak_kib") else "-"
        load = "/".join(f"{v:.1f}" for v in r["load_average"])
        lines.append(f"| {r['synth']} | {r['path']} | {r['rows_asked']:,} | {r['total_rows']:,} | {r['seconds']:.1f} | "
                     f"{r['rows_per_s']:,.0f} | {r['rows_per_cpu_s']:,.0f} | {r['driver_peak_kib'] / 1024:.0f} | {jvm} | {load} |")
    lines.append("")
    for synth in args.synths:
        two, one = find(synth, "spark2", args.rows), find(synth, "spark1", args.scaling_rows)
        two_s = find(synth, "spark2", args.scaling_rows)
        if two_s and one:
            ratio = two_s["rows_per_s"] / one["rows_per_s"]
            lines.append(f"- {synth}: local[2] / local[1] rows/s at {args.scaling_rows:,} flights = **{ratio:.2f}x** "
                         f"(target >= 1.7: {'met' if ratio >= 1.7 else 'NOT met'})")
        small, big = find(synth, "spark2", args.small_rows), two
        if small and big:
            ratio = big["driver_peak_kib"] / small["driver_peak_kib"]
            lines.append(f"- {synth}: Spark driver (Python) peak RSS {args.rows:,} / {args.small_rows:,} = "
                         f"**{ratio:.2f}x** (target <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'})")
        p_small, p_big = find(synth, "pandas", args.small_rows), find(synth, "pandas", args.rows)
        if p_small and p_big:
            lines.append(f"- {synth}: pandas path peak RSS {args.rows:,} / {args.small_rows:,} = "
                         f"{p_big['driver_peak_kib'] / p_small['driver_peak_kib']:.2f}x")
        if one:
            per_core = one["rows_per_s"]
            lines.append(f"- {synth}: per-core rate (local[1]) {per_core:,.0f} rows/s -> a 100-core cluster: about "
                         f"{per_core * 100 * 3600 / 1e9:.2f} billion rows per hour at linear scaling"
                         + (f" ({two_s['rows_per_s'] / 2 * 100 * 3600 / 1e9:.2f} billion at the per-core rate of "
                            "local[2])" if two_s else ""))
        if big:  # the CPU time of the whole process tree: not skewed by other processes on the machine
            per_cpu = big["rows_per_cpu_s"]
            lines.append(f"- {synth}: Spark local[2] at {args.rows:,}: {per_cpu:,.0f} rows per CPU-second (driver, JVM "
                         f"and Python workers together) -> 100 cores: about {per_cpu * 100 * 3600 / 1e9:.2f} billion "
                         "rows per hour")
        if big and p_big:
            lines.append(f"- {synth}: Spark local[2] / pandas rows/s at {args.rows:,} = "
                         f"{big['rows_per_s'] / p_big['rows_per_s']:.2f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="flights generated in the big runs")
    parser.add_argument("--small-rows", type=int, default=1_000_000, help="flights in the small runs (RSS baseline)")
    parser.add_argument("--scaling-rows", type=int, default=None,
                        help="flights of the local[1] vs local[2] comparison (default: --rows)")
    parser.add_argument("--partitions", type=int, default=8, help="num_partitions of sample_spark (default 8)")
    parser.add_argument("--train-rows", type=int, default=20_000, help="flights used for training")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--synths", default="single,schema", help="which synthesizers: single,schema")
    parser.add_argument("--paths", default="spark2,spark1,pandas", help="which paths: spark2,spark1,pandas")
    parser.add_argument("--sink", choices=("parquet", "count"), default="parquet",
                        help="Spark path: write every table with df.write.parquet (default), or count() its rows "
                             "(generation and transfer to the JVM only, no Parquet encoding)")
    parser.add_argument("--pin", action="store_true",
                        help="restrict each measured run (its JVM and Python workers too) to as many CPUs as it has "
                             "Spark task slots (local[1]: 1 CPU, local[2]: 2; pandas: 1), so that local[n] means "
                             "n cores; without it local[1]'s JVM writes Parquet on the second core")
    parser.add_argument("--quick", action="store_true", help="1M / 200k rows (a few minutes)")
    parser.add_argument("--workdir", default=None, help="where synthesizers and outputs go (default: a temp dir)")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "output" / "bench_spark.md"))
    # --measure: the subprocess of one run
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--synth", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--cores", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args)
        return
    if args.quick:
        args.rows, args.small_rows = 1_000_000, 200_000
    args.scaling_rows = args.scaling_rows or args.rows
    args.synths = [s for s in args.synths.split(",") if s]
    paths = [p for p in args.paths.split(",") if p]
    if not DATA.is_dir():
        sys.exit(f"nycflights13 not found at {DATA}")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-spark-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"fitting on {args.train_rows:,} flights, {args.epochs} epochs ...", flush=True)
    fit_seconds = fit(workdir, args.train_rows, args.epochs)
    print(f"fit seconds: {fit_seconds}", flush=True)
    results = []
    for synth in args.synths:
        plan = []
        if "spark2" in paths:
            plan += [("spark2", args.small_rows), ("spark2", args.rows)]
            if args.scaling_rows != args.rows:
                plan.append(("spark2", args.scaling_rows))
        if "spark1" in paths:
            plan.append(("spark1", args.scaling_rows))
        if "pandas" in paths:
            plan += [("pandas", args.small_rows), ("pandas", args.rows)]
        for path, rows in plan:
            results.append(run_one(workdir, synth, path, rows, args.partitions, args.sink, args.pin))
    text = report(results, args)
    print()
    print(text)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n", encoding="utf-8")
    output.with_suffix(".json").write_text(json.dumps({"fit_seconds": fit_seconds, "results": results}, indent=1),
                                           encoding="utf-8")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
