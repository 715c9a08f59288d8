"""Multi-table benchmark: SynthoHive's Synthesizer vs SDV's HMASynthesizer, in one run.

Cases:

* ``nyc``: the nycflights13 tables (``../shared/data/nycflights13`` relative to the repository root):
  flights referencing airlines, airports twice (origin, dest) and planes. The real data is dirty
  (flights to airports missing from ``airports``, tail numbers missing from ``planes``); the offending
  flights are dropped once, with SynthoHive's ``drop_integrity_violations``, and both sides get the
  same clean tables. ``--flights`` rows of flights are drawn (seeded) to keep the run short.
* ``deep``: a generated shop schema of 6 tables with depth 3 (regions -> customers -> orders ->
  order_items, plus products and shipments), which HMA refuses (more than 5 tables or depth > 2).

Measured per side, each in its own fresh subprocess: fit and sample seconds, peak RSS, orphan FK
values per relationship, cardinality similarity (1 - KS distance between real and synthetic
children-per-parent counts, zero-children parents included) and per-table quality (SynthoHive's
column-shape score of the non-key columns).

The peer is BSL-licensed: we only *run* it, from a separate environment (never a dependency of
synthohive). One way, reusing the CPU torch of ``benchmarks/.venv-bench``::

    python3 -m venv /tmp/venv-sdv
    echo "$PWD/benchmarks/.venv-bench/lib/python3.11/site-packages" \\
        > /tmp/venv-sdv/lib/python3.11/site-packages/bench.pth
    /tmp/venv-sdv/bin/python -m pip install sdv

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_multitable.py --peer-python /tmp/venv-sdv/bin/python
    .venv/bin/python benchmarks/bench_multitable.py --sides ours --flights 2000 --epochs 2   # quick

Writes ``results.md`` and ``results.json`` to ``--output-dir`` (default ``benchmarks/output/multitable``).
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "nycflights13"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "output" / "multitable"

# A plain description of each case's keys, read by both sides: table -> (pk, {fk column: parent table}).
SCHEMAS: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "nyc": {
        "airlines": ("carrier", {}),
        "airports": ("faa", {}),
        "planes": ("tailnum", {}),
        "flights": ("flight_id", {"carrier": "airlines", "origin": "airports", "dest": "airports",
                                  "tailnum": "planes"}),
    },
    "deep": {
        "regions": ("region_id", {}),
        "customers": ("customer_id", {"region_id": "regions"}),
        "products": ("product_id", {}),
        "orders": ("order_id", {"customer_id": "customers"}),
        "order_items": ("item_id", {"order_id": "orders", "product_id": "products"}),
        "shipments": ("shipment_id", {"order_id": "orders"}),
    },
}


# ---------------------------------------------------------------------- data
def load_nyc(data_dir: Path, n_flights: int, seed: int) -> dict[str, pd.DataFrame]:
    """nycflights13 with a sample of flights, an integer flight_id, and orphan flights dropped."""
    from syntho_hive.core.metadata import Metadata
    from syntho_hive.relational.graph import SchemaGraph
    from syntho_hive.relational.keys import drop_integrity_violations

    if not data_dir.is_dir():
        raise SystemExit(f"nycflights13 not found at {data_dir}; pass --data DIR.")
    tables = {name: pd.read_parquet(data_dir / f"{name}.parquet") for name in ("airlines", "airports", "planes")}
    flights = pd.read_parquet(data_dir / "flights.parquet")
    flights = flights.sample(n=min(n_flights, len(flights)), random_state=seed).reset_index(drop=True)
    flights = flights.drop(columns=["year"])  # constant (2013)
    flights.insert(0, "flight_id", np.arange(1, len(flights) + 1))
    tables["flights"] = flights
    metadata = ours_metadata("nyc", Metadata)
    clean, dropped = drop_integrity_violations(SchemaGraph.from_metadata(metadata), tables,
                                               {t: c.pk_columns for t, c in metadata.tables.items()})
    print(f"nyc: dropped rows with broken keys: {dropped}", file=sys.stderr)
    return clean


def make_deep(seed: int) -> dict[str, pd.DataFrame]:
    """A 6-table shop, depth 3, with attribute-dependent cardinalities and a skewed product popularity."""
    rng = np.random.default_rng(seed)
    regions = pd.DataFrame({"region_id": [f"R{i:02d}" for i in range(1, 13)],
                            "market": rng.choice(["mature", "emerging"], 12)})
    per_region = rng.poisson(np.where(regions["market"] == "mature", 250, 80))
    n_c = int(per_region.sum())
    tier = rng.choice(["basic", "plus", "premium"], n_c, p=[0.6, 0.3, 0.1])
    customers = pd.DataFrame({"customer_id": np.arange(1, n_c + 1),
                              "region_id": np.repeat(regions["region_id"], per_region).to_numpy(),
                              "tier": tier, "age": rng.integers(18, 85, n_c)})
    per_customer = rng.poisson(np.select([tier == "premium", tier == "plus"], [7.0, 3.0], 0.8))
    n_o = int(per_customer.sum())
    orders = pd.DataFrame({
        "order_id": [f"ORD{i:07d}" for i in range(1, n_o + 1)],
        "customer_id": np.repeat(customers["customer_id"], per_customer).to_numpy(),
        "channel": rng.choice(["web", "app", "store"], n_o),
        "created_at": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730 * 24, n_o), unit="h"),
    })
    products = pd.DataFrame({"product_id": np.arange(100, 400), "category": rng.choice(["a", "b", "c", "d"], 300),
                             "list_price": rng.gamma(2.0, 15.0, 300).round(2)})
    popularity = rng.gamma(0.5, 1.0, 300)
    per_order = 1 + rng.poisson(np.where(orders["channel"] == "store", 2.5, 1.0))
    n_i = int(per_order.sum())
    items = pd.DataFrame({"item_id": np.arange(1, n_i + 1),
                          "order_id": np.repeat(orders["order_id"], per_order).to_numpy(),
                          "product_id": rng.choice(products["product_id"], n_i, p=popularity / popularity.sum()),
                          "qty": rng.integers(1, 5, n_i)})
    shipped = rng.random(n_o) < np.where(orders["channel"] == "store", 0.05, 0.95)
    shipments = pd.DataFrame({"shipment_id": np.arange(1, int(shipped.sum()) + 1),
                              "order_id": orders.loc[shipped, "order_id"].to_numpy(),
                              "carrier": rng.choice(["ups", "dhl", "post"], int(shipped.sum())),
                              "days": rng.integers(1, 9, int(shipped.sum()))})
    return {"regions": regions, "customers": customers, "products": products, "orders": orders,
            "order_items": items, "shipments": shipments}


def ours_metadata(case: str, metadata_cls: Any) -> Any:
    metadata = metadata_cls()
    for table, (pk, fks) in SCHEMAS[case].items():
        metadata.add_table(table, pk=pk, fk={col: f"{parent}.{SCHEMAS[case][parent][0]}" for col, parent in fks.items()})
    return metadata


# ---------------------------------------------------------------------- workers (one side per process)
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_ours(case: str, workdir: Path, epochs: int, seed: int) -> dict[str, Any]:
    from syntho_hive import Metadata, Synthesizer

    data = {name: pd.read_parquet(workdir / "real" / f"{name}.parquet") for name in SCHEMAS[case]}
    synth = Synthesizer(ours_metadata(case, Metadata), seed=seed)
    started = time.perf_counter()
    synth.fit(data, epochs=epochs, progress_bar=False)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synth.sample(seed=seed, output_path=workdir / "ours")
    sample_s = time.perf_counter() - started
    started = time.perf_counter()
    synth.sample(scale=3.0, seed=seed + 1, output_path=workdir / "ours_x3")
    sample3_s = time.perf_counter() - started
    return {"fit_s": fit_s, "sample_s": sample_s, "sample_x3_s": sample3_s, "peak_rss_mb": _peak_rss_mb()}


def worker_peer(case: str, workdir: Path, epochs: int, seed: int) -> dict[str, Any]:
    from sdv.metadata import Metadata as SDVMetadata
    from sdv.multi_table import HMASynthesizer

    data = {name: pd.read_parquet(workdir / "real" / f"{name}.parquet") for name in SCHEMAS[case]}
    tables: dict[str, Any] = {}
    relationships = []
    for table, (pk, fks) in SCHEMAS[case].items():
        columns = {}
        for column in data[table].columns:
            series = data[table][column]
            if column == pk or column in fks:
                columns[column] = {"sdtype": "id"}
            elif pd.api.types.is_datetime64_any_dtype(series.dtype):
                columns[column] = {"sdtype": "datetime", "datetime_format": "%Y-%m-%d %H:%M:%S"}
            elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
                columns[column] = {"sdtype": "numerical"}
            else:
                columns[column] = {"sdtype": "categorical"}
        tables[table] = {"primary_key": pk, "columns": columns}
        for column, parent in fks.items():
            relationships.append({"parent_table_name": parent, "parent_primary_key": SCHEMAS[case][parent][0],
                                  "child_table_name": table, "child_foreign_key": column})
    metadata = SDVMetadata.load_from_dict({"METADATA_SPEC_VERSION": "V1", "tables": tables,
                                           "relationships": relationships})
    for table in data:  # SDV's transformers want plain object strings, not pandas' string dtype
        for column in data[table].columns:
            if pd.api.types.is_string_dtype(data[table][column].dtype):
                data[table][column] = data[table][column].astype(object)
    started = time.perf_counter()
    try:
        synth = HMASynthesizer(metadata, verbose=False)
        synth.fit(data)
    except Exception as exc:  # noqa: BLE001 - the peer's refusal is a result to report
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}", "fit_s": time.perf_counter() - started}
    fit_s = time.perf_counter() - started
    roots = [t for t, (_, fks) in SCHEMAS[case].items() if not fks]
    main = max(roots, key=lambda t: len(data[t]))
    started = time.perf_counter()
    out = synth.sample(num_rows=len(data[main]), main_table_name=main)
    sample_s = time.perf_counter() - started
    (workdir / "peer").mkdir(exist_ok=True)
    for name, frame in out.items():
        frame.to_parquet(workdir / "peer" / f"{name}.parquet", index=False)
    return {"fit_s": fit_s, "sample_s": sample_s, "peak_rss_mb": _peak_rss_mb(), "main_table": main}


# ---------------------------------------------------------------------- scoring (in the driver)
def score(case: str, real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame]) -> dict[str, Any]:
    from syntho_hive.relational import children_per_parent, count_ks
    from syntho_hive.validation.column_shapes import column_shape_scores, overall_column_shape

    result: dict[str, Any] = {"orphans": {}, "cardinality": {}, "quality": {}, "rows": {}}
    schema = SCHEMAS[case]
    for table, (pk, fks) in schema.items():
        syn = synthetic[table]
        result["rows"][table] = len(syn)
        for column, parent in fks.items():
            parent_pk = schema[parent][0]
            values = syn[column].dropna()
            result["orphans"][f"{table}.{column}"] = int((~values.isin(synthetic[parent][parent_pk])).sum())
            real_counts = children_per_parent(real[table][column], real[parent][parent_pk])
            syn_counts = children_per_parent(syn[column], synthetic[parent][parent_pk])
            result["cardinality"][f"{table}.{column}"] = round(1.0 - count_ks(real_counts, syn_counts), 4)
        keys = {pk, *fks}
        columns = [c for c in real[table].columns if c not in keys and c in syn.columns]
        if columns:
            scores = column_shape_scores(real[table][columns], syn[columns])
            result["quality"][table] = round(float(overall_column_shape(scores)), 4) if scores else None
    result["total_orphans"] = int(sum(result["orphans"].values()))
    return result


def run_side(side: str, python: str, case: str, workdir: Path, epochs: int, seed: int,
             timeout: int) -> dict[str, Any]:
    command = [python, str(Path(__file__).resolve()), "--worker", side, "--case", case, "--workdir", str(workdir),
               "--epochs", str(epochs), "--seed", str(seed)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:.0f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="nyc,deep")
    parser.add_argument("--sides", default="ours,peer")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--flights", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ours-python", default=sys.executable)
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--timeout", type=int, default=3_600, help="seconds per side and case")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--worker", choices=("ours", "peer"), help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        import logging

        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        work = worker_ours if args.worker == "ours" else worker_peer
        print(json.dumps(work(args.case, args.workdir, args.epochs, args.seed)))
        return

    results: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "command": " ".join(sys.argv), "machine": platform.platform(),
                               "epochs": args.epochs, "flights": args.flights, "cases": {}}
    sides = [s for s in args.sides.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="bench_multitable_") as tmp:
        for case in [c for c in args.cases.split(",") if c]:
            workdir = Path(tmp) / case
            (workdir / "real").mkdir(parents=True)
            real = load_nyc(args.data, args.flights, args.seed) if case == "nyc" else make_deep(args.seed)
            for name, frame in real.items():
                frame.to_parquet(workdir / "real" / f"{name}.parquet", index=False)
            entry: dict[str, Any] = {"real_rows": {t: len(f) for t, f in real.items()}}
            for side in sides:
                python = args.ours_python if side == "ours" else args.peer_python
                print(f"{case}: running {side} ...", file=sys.stderr)
                timing = run_side(side, python, case, workdir, args.epochs, args.seed, args.timeout)
                side_result: dict[str, Any] = dict(timing)
                if "error" not in timing:
                    out = workdir / side
                    synthetic = {t: pd.read_parquet(out / f"{t}.parquet") for t in SCHEMAS[case]}
                    side_result.update(score(case, real, synthetic))
                    if side == "ours":
                        x3 = {t: pd.read_parquet(workdir / "ours_x3" / f"{t}.parquet") for t in SCHEMAS[case]}
                        side_result["total_orphans_x3"] = score(case, real, x3)["total_orphans"]
                entry[side] = side_result
            results["cases"][case] = entry

    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    lines = [f"# Multi-table benchmark ({results['date']})", "", f"`{results['command']}`", "",
             f"epochs={args.epochs}, flights sampled={args.flights}, {results['machine']}", ""]
    for case, entry in results["cases"].items():
        lines += [f"## {case}", "", f"real rows: {entry['real_rows']}", "",
                  "| metric | " + " | ".join(sides) + " |", "|---|" + "---|" * len(sides)]
        rows = ["error", "fit_s", "sample_s", "peak_rss_mb", "total_orphans", "total_orphans_x3"]
        for key in rows:
            if any(key in entry.get(s, {}) for s in sides):
                lines.append(f"| {key} | " + " | ".join(fmt(entry.get(s, {}).get(key)) for s in sides) + " |")
        for group in ("cardinality", "quality", "rows"):
            names = sorted({k for s in sides for k in entry.get(s, {}).get(group, {})})
            for name in names:
                label = {"cardinality": "1-KS children/parent", "quality": "column shapes",
                         "rows": "rows"}[group]
                lines.append(f"| {label} {name} | " + " | ".join(
                    fmt(entry.get(s, {}).get(group, {}).get(name)) for s in sides) + " |")
        lines.append("")
    (args.output_dir / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
