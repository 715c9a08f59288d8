"""What protecting the training extremes costs TabularAR's quality on small tables.

TabularAR's numeric codecs used to keep each column's exact ``[min, max]`` and spread the rows beyond
the outer bin edges out to one unit inside them; they now keep a protected range (the edges moved out
by the capped mean distance of the values beyond them, see ``encoders.base.tail_reach``). The
network and its tokens do not depend on that range, so each table and seed is fitted once and sampled
twice with the same seed: with the codecs' protected range (``protected``) and with the exact training
extremes put back (``exact``, the former decoding). Both are scored against the real rows with
SDMetrics' QualityReport, as in ``bench_small_tables.py``. Run on demand (never collected by pytest)::

    .venv/bin/python benchmarks/bench_tabular_ar_extremes.py --tables iris wine diabetes --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import bench_small_tables as small  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["iris", "wine", "diabetes_numeric", "diabetes"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--shared", type=Path, default=small.SHARED)
    args = parser.parse_args(argv)

    from syntho_hive.core.models.tabular_ar import TabularAR
    from syntho_hive.core.models.tabular_ar.encoders.numeric import NumericCodec

    print("| table | exact extremes | protected | difference |\n|---|---:|---:|---:|")
    for table in args.tables:
        scores: dict[str, list[float]] = {"exact": [], "protected": []}
        for seed in args.seeds:
            real = small.load_table(table, seed, args.shared)
            metadata = small.sdmetrics_metadata(real)
            model = TabularAR().fit(real, seed=seed, progress_bar=False)
            codecs = [c for c in model.codec_.codecs if isinstance(c, NumericCodec)]
            protected = {c.column: (c.minimum, c.maximum) for c in codecs}
            for name in ("exact", "protected"):
                for codec in codecs:
                    values = real[codec.column].dropna().astype(float)
                    codec.minimum, codec.maximum = ((float(values.min()), float(values.max())) if name == "exact"
                                                    else protected[codec.column])
                synthetic = model.sample(len(real), seed=seed + 1, progress_bar=False)
                scores[name].append(small.quality(real, synthetic, metadata)["score"])
        exact, kept = float(np.mean(scores["exact"])), float(np.mean(scores["protected"]))
        print(f"| {table} | {exact:.3f} | {kept:.3f} | {kept - exact:+.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
