"""Benchmark: the default ``synthohive demo`` end to end (train, save, load, sample, score).

Run: ``python benchmarks/bench_demo.py [--output-dir DIR]``; the demo prints its own steps' timings,
this adds the total wall-clock seconds. Target: a few minutes at most (about 20 s on an idle
2-core machine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

#: Seconds the default demo should take at most, on a busy 2-core machine.
TARGET_SECONDS = 600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output-dir", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args()
    from syntho_hive.interface.cli import main as cli

    with tempfile.TemporaryDirectory() as scratch:
        output = args.output_dir or Path(scratch)
        started = time.perf_counter()
        code = cli(["demo", "--output-dir", str(output), "--no-progress", "--overwrite"])
        total = time.perf_counter() - started
    print(f"demo exit code {code}; total {total:.1f} s "
          f"(target under {TARGET_SECONDS} s -> {'met' if total < TARGET_SECONDS else 'MISSED'})")


if __name__ == "__main__":
    main()
