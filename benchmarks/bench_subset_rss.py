"""Reflect + key-closed subset + read of a nycflights13-shaped schema in PostgreSQL: peak memory.

Issue #15's target: reading the subset of a big schema must not bring the full tables into memory —
peak RSS growth during ``Metadata.from_source`` + ``SQLSource.read_tables(metadata, Subset(...))``
at most 1.5x the in-memory size of the subset that comes back.

What it does (on demand; not collected by pytest):
1. starts a throw-away PostgreSQL on loopback (``tests/integration/servers.py``);
2. loads nycflights13 from ``../shared/data/nycflights13`` with the flights repeated ``--copies`` times
   (default 4: 1,347,104 flights) under a surrogate key ``flight_id``; orphan ``dest`` rows are dropped and
   ``tailnum``s absent from planes set to null (the real data is not referentially clean); weather's 3
   duplicated (origin, time_hour) rows dropped, giving it a composite primary key;
3. in a fresh subprocess (nothing of the load in its memory): imports and connects, notes the RSS, then
   reflects, subsets (root ``airlines``, ``--root-rows`` of 16 carriers) and reads; reports the peak RSS
   (``ru_maxrss``) growth over the RSS before reflecting, the subset's in-memory size
   (``DataFrame.memory_usage(deep=True)``), their ratio, and the rows kept per table.

Run: ``.venv/bin/python benchmarks/bench_subset_rss.py [--copies 4] [--root-rows 3]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "nycflights13"
sys.path.insert(0, str(ROOT / "tests" / "integration"))


def load(url: str, copies: int) -> dict[str, int]:
    import pandas as pd

    from syntho_hive import Metadata
    from syntho_hive.connectors import SQLTarget

    frames = {name: pd.read_parquet(DATA / f"{name}.parquet")
              for name in ("airlines", "airports", "planes", "flights", "weather")}
    flights = frames["flights"]
    flights = flights[flights["dest"].isin(frames["airports"]["faa"])].copy()
    flights.loc[~flights["tailnum"].isin(frames["planes"]["tailnum"]), "tailnum"] = None
    flights = pd.concat([flights] * copies, ignore_index=True)
    flights.insert(0, "flight_id", range(1, len(flights) + 1))
    frames["flights"] = flights
    frames["weather"] = frames["weather"].drop_duplicates(["origin", "time_hour"])
    metadata = (Metadata()
                .add_table("airlines", pk="carrier")
                .add_table("airports", pk="faa")
                .add_table("planes", pk="tailnum")
                .add_table("flights", pk="flight_id", fk={"carrier": "airlines.carrier", "origin": "airports.faa",
                                                           "dest": "airports.faa", "tailnum": "planes.tailnum"})
                .add_table("weather", pk=["origin", "time_hour"], fk={"origin": "airports.faa"}))
    order = ["airlines", "airports", "planes", "flights", "weather"]
    with SQLTarget(url, if_exists="replace").open(metadata, order) as writer:
        for name in order:
            frame = frames[name]
            writer.write_table(name, (frame.iloc[i:i + 200_000] for i in range(0, max(len(frame), 1), 200_000)))
    return {name: len(frame) for name, frame in frames.items()}


MEASURE = r"""
import json, resource, sys, time
import pandas as pd
from syntho_hive import Metadata
from syntho_hive.connectors import SQLSource, Subset

def rss_now():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

def rss_peak():  # VmHWM: this process's own high-water mark (ru_maxrss also counts the parent before exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

source = SQLSource(sys.argv[1])
source.table_names()                      # connect (driver loaded) before the baseline
before = rss_now()
started = time.perf_counter()
metadata = Metadata.from_source(source)
frames, report = source.read_tables(metadata, Subset(root="airlines", rows=int(sys.argv[2]), seed=0))
seconds = time.perf_counter() - started
peak = rss_peak()
retained = rss_now()
size = sum(int(frame.memory_usage(deep=True).sum()) for frame in frames.values())
del frames
import gc; gc.collect()
print(json.dumps({"baseline_rss": before, "peak_rss": peak, "retained_rss": retained, "subset_bytes": size, "seconds": seconds,
                  "kept": report.kept, "total": report.total}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="times the flights are repeated (default 4)")
    parser.add_argument("--root-rows", type=int, default=3, help="airlines kept as subset roots (default 3)")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"nycflights13 not found at {DATA}")
    import servers

    server = servers.start_postgres()
    try:
        started = time.perf_counter()
        rows = load(server.url, args.copies)
        print(f"loaded {rows} into PostgreSQL in {time.perf_counter() - started:.1f} s")
        result = subprocess.run([sys.executable, "-c", MEASURE, server.url, str(args.root_rows)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.exit(result.stderr[-3000:])
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        server.stop()
    growth = figures["peak_rss"] - figures["baseline_rss"]
    print(f"rows kept: {figures['kept']} of {figures['total']}")
    print(f"reflect + subset + read: {figures['seconds']:.1f} s")
    print(f"subset in memory: {figures['subset_bytes'] / 1e6:.1f} MB; peak RSS growth {growth / 1e6:.1f} MB "
          f"(baseline {figures['baseline_rss'] / 1e6:.0f} MB, peak {figures['peak_rss'] / 1e6:.0f} MB)")
    retained = figures["retained_rss"] - figures["baseline_rss"]
    print(f"RSS growth still held once the read returned: {retained / 1e6:.1f} MB (frames plus memory the "
          "allocator keeps)")
    ratio = growth / figures["subset_bytes"]
    print(f"ratio peak growth / subset size: {ratio:.2f}  (target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
