"""End to end on an airline-like schema of 8 tables: a diamond, two FKs to one parent (origin/dest),
a self-referencing hierarchy, composite keys, a key-only junction table, a chain of depth 4."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.models.ctgan import CTGAN
from syntho_hive.core.models.tvae import TVAE

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata
from syntho_hive.relational import SchemaGraph, children_per_parent, count_ks

TINY = {"model": CTGAN, "embedding_dim": 8, "generator_dim": (16,), "discriminator_dim": (16,), "pac": 5,
        "max_modes": 2,
        "device": "cpu"}


def airline_metadata() -> Metadata:
    md = Metadata()
    md.add_table("regions", pk="region_id")
    md.add_table("airlines", pk="carrier", fk={"region_id": "regions.region_id"})
    md.add_table("airports", pk="faa", fk={"region_id": "regions.region_id"})
    md.add_table("flights", pk="flight_id", fk={"carrier": "airlines.carrier", "origin": "airports.faa",
                                                "dest": "airports.faa"},
                 parent_context_cols=["size", "altitude"])  # from airlines and from airports (origin)
    md.add_table("legs", pk=["flight_id", "leg_no"], fk={"flight_id": "flights.flight_id"})
    md.add_table("leg_events", pk="event_id", fk={"leg_flight": "legs.flight_id", "leg_number": "legs.leg_no"})
    md.add_table("employees", pk="emp_id", fk={"airline": "airlines.carrier", "manager_id": "employees.emp_id"})
    md.add_table("crew", pk=["flight_id", "emp_id"], fk={"flight_id": "flights.flight_id",
                                                       "emp_id": "employees.emp_id"})
    return md


def airline_data(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    regions = pd.DataFrame({"region_id": [f"R{i:02d}" for i in range(1, 6)],
                            "climate": ["cold", "mild", "hot", "mild", "cold"]})
    airlines = pd.DataFrame({"carrier": ["AA", "BB", "CC", "DD", "EE", "FF", "GG", "HH"],
                             "region_id": rng.choice(regions["region_id"], 8),
                             "size": ["big", "big", "small", "small", "small", "big", "small", "small"]})
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    codes = np.char.add(np.char.add(rng.choice(letters, 60), rng.choice(letters, 60)), rng.choice(letters, 60))
    faa = pd.unique(codes)[:30]
    airports = pd.DataFrame({"faa": faa, "region_id": rng.choice(regions["region_id"], len(faa)),
                             "altitude": rng.gamma(2.0, 300.0, len(faa)).round()})
    hub = rng.gamma(0.5, 1.0, len(faa))
    hub /= hub.sum()
    n_flights = 400
    big = airlines["size"].eq("big").to_numpy()
    carrier = rng.choice(airlines["carrier"], n_flights, p=np.where(big, 3.0, 1.0) / np.where(big, 3.0, 1.0).sum())
    flights = pd.DataFrame({"flight_id": np.arange(1, n_flights + 1), "carrier": carrier,
                            "origin": rng.choice(faa, n_flights, p=hub), "dest": rng.choice(faa, n_flights, p=hub),
                            "dep_delay": np.where(rng.random(n_flights) < 0.1, np.nan, rng.normal(5, 15, n_flights))})
    legs_per = 1 + rng.poisson(0.5, n_flights)
    legs = pd.DataFrame({"flight_id": np.repeat(flights["flight_id"], legs_per).to_numpy(),
                         "leg_no": np.concatenate([np.arange(1, k + 1) for k in legs_per]),
                         "distance": rng.gamma(3.0, 200.0, int(legs_per.sum())).round()})
    events_per = rng.poisson(1.0, len(legs))
    events = pd.DataFrame({"event_id": np.arange(len(legs) * 10, len(legs) * 10 + int(events_per.sum())),
                           "leg_flight": np.repeat(legs["flight_id"], events_per).to_numpy(),
                           "leg_number": np.repeat(legs["leg_no"], events_per).to_numpy(),
                           "kind": rng.choice(["delay", "diversion", "medical"], int(events_per.sum()))})
    n_emp = 120
    emp_ids = [f"{u:08x}-aaaa-4bbb-8ccc-{u:012x}" for u in rng.choice(10**9, n_emp, replace=False)]
    manager = np.full(n_emp, None, dtype=object)
    for i in range(6, n_emp):  # first six are top managers; the others report to someone earlier
        manager[i] = emp_ids[int(rng.integers(0, min(i, 30)))]
    employees = pd.DataFrame({"emp_id": emp_ids, "airline": rng.choice(airlines["carrier"], n_emp),
                              "manager_id": manager, "salary": rng.normal(60_000, 9_000, n_emp).round()})
    employees.loc[rng.random(n_emp) < 0.2, "airline"] = None
    crew = pd.DataFrame({"flight_id": rng.choice(flights["flight_id"], 500),
                         "emp_id": rng.choice(employees["emp_id"], 500)}).drop_duplicates(ignore_index=True)
    return {"regions": regions, "airlines": airlines, "airports": airports, "flights": flights, "legs": legs,
            "leg_events": events, "employees": employees, "crew": crew}


def assert_integrity(metadata: Metadata, tables: dict[str, pd.DataFrame]) -> None:
    """Every FK (composite ones as tuples) resolves, every PK is unique and non-null."""
    for name, table in metadata.tables.items():
        keys = tables[name][table.pk_columns]
        assert keys.notna().all().all() and not keys.duplicated().any(), name
    for rel in SchemaGraph.from_metadata(metadata).relationships:
        child = tables[rel.child][list(rel.child_columns)].dropna()
        child.columns = list(rel.parent_columns)
        parent = tables[rel.parent][list(rel.parent_columns)].drop_duplicates()
        merged = child.merge(parent, how="left", on=list(rel.parent_columns), indicator=True)
        assert (merged["_merge"] == "both").all(), f"orphans in {rel.name}"


@pytest.fixture(scope="module")
def fitted_and_real() -> tuple[Synthesizer, dict[str, pd.DataFrame]]:
    real = airline_data()
    synth = Synthesizer(airline_metadata(), seed=3, **TINY)
    synth.fit(real, epochs=1, batch_size=100, progress_bar=False)
    return synth, real


def test_generation_order_and_depth() -> None:
    graph = SchemaGraph.from_metadata(airline_metadata())
    assert graph.depth() == 4
    assert graph.order.index("flights") > max(graph.order.index("airlines"), graph.order.index("airports"))


def test_whole_schema_joins_like_the_real_one(fitted_and_real: tuple[Synthesizer, dict]) -> None:
    synth, real = fitted_and_real
    syn = synth.sample(seed=1)
    assert_integrity(synth.metadata, syn)
    for name in real:
        assert list(syn[name].columns) == list(real[name].columns), name
    # Flights per airline follow the airline's size (big carriers fly 3x more).
    per_airline = children_per_parent(syn["flights"]["carrier"], syn["airlines"]["carrier"])
    big = syn["airlines"]["size"].eq("big").to_numpy()
    if big.any() and (~big).any():
        assert per_airline[big].mean() > 1.5 * per_airline[~big].mean()
    # origin and dest both follow the hubs' real popularity (skewed), not a uniform draw.
    for column in ("origin", "dest"):
        real_pop = children_per_parent(real["flights"][column], real["airports"]["faa"])
        syn_pop = children_per_parent(syn["flights"][column], syn["airports"]["faa"])
        assert count_ks(real_pop, syn_pop * real_pop.sum() / max(syn_pop.sum(), 1)) < 0.35
        assert syn_pop.std() / syn_pop.mean() > 0.7, column
    # legs per flight and events per leg (composite FK) keep their distributions.
    for child, child_cols, parent, parent_cols in (
            ("legs", ["flight_id"], "flights", ["flight_id"]),
            ("leg_events", ["leg_flight", "leg_number"], "legs", ["flight_id", "leg_no"])):
        real_c = children_per_parent(real[child][child_cols], real[parent][parent_cols])
        syn_c = children_per_parent(syn[child][child_cols], syn[parent][parent_cols])
        assert count_ks(real_c, syn_c) < 0.1, child
    # Nullable FK keeps its null rate; the hierarchy keeps its roots and has no cycle.
    assert abs(syn["employees"]["airline"].isna().mean() - real["employees"]["airline"].isna().mean()) < 0.02
    emp = syn["employees"]
    roots = real["employees"]["manager_id"].isna().mean()
    assert emp["manager_id"].isna().sum() == max(1, round(len(emp) * roots))
    boss = dict(zip(emp["emp_id"], emp["manager_id"]))
    node = emp["emp_id"].to_numpy(dtype=object)
    for _ in range(len(emp)):
        node = np.array([boss.get(v) if v is not None else None for v in node], dtype=object)
    assert all(v is None for v in node)
    assert emp["emp_id"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()


def test_scaled_sample_keeps_integrity_and_grows(fitted_and_real: tuple[Synthesizer, dict]) -> None:
    synth, real = fitted_and_real
    syn = synth.sample(scale=3.0, seed=2)
    assert_integrity(synth.metadata, syn)
    assert len(syn["regions"]) == 15  # the only root: 3x its real size
    for name in ("airlines", "flights", "legs", "employees"):  # children: sizes implied by their parents
        assert 1.5 * len(real[name]) < len(syn[name]) < 5 * len(real[name]), name


def test_deterministic_across_processes(fitted_and_real: tuple[Synthesizer, dict], tmp_path: Path,
                                        sample_in_a_fresh_process: Callable[..., dict[str, pd.DataFrame]]) -> None:
    synth, _ = fitted_and_real
    expected = synth.sample(seed=9)
    there = sample_in_a_fresh_process(synth.save(tmp_path / "s"), seed=9, output=tmp_path / "o", timeout=120)
    assert sorted(there) == sorted(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(there[name], frame, check_exact=True)


def test_streamed_sample_equals_the_in_memory_sample(fitted_and_real: tuple[Synthesizer, dict],
                                                     tmp_path: Path) -> None:
    """Many small chunks through every kind of table here (composite keys, a nullable FK, a hierarchy,
    a key-only junction): the files read back are the in-memory tables, bit for bit."""
    synth, real = fitted_and_real
    chunk = 100  # legs span several chunks
    expected = synth.sample(seed=4, chunk_rows=chunk)
    assert len(expected["legs"]) > 3 * chunk and expected["employees"]["airline"].isna().any()
    assert_integrity(synth.metadata, expected)
    paths = synth.sample(seed=4, chunk_rows=chunk, output_path=tmp_path / "pq")
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(pd.read_parquet(paths[name]), frame, check_exact=True)
        assert frame.dtypes.to_dict() == real[name].dtypes.to_dict(), name
    import pyarrow.parquet as pq

    assert pq.ParquetFile(paths["legs"]).num_row_groups == -(-len(expected["legs"]) // chunk)  # one per chunk
    csv = synth.sample(seed=4, chunk_rows=chunk, output_path=tmp_path / "csv", output_format="csv")
    for name, frame in expected.items():
        assert csv[name].read_text(encoding="utf-8") == frame.to_csv(index=False), name
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temporary file left


def test_composite_key_leg_is_numbered_within_each_parent(fitted_and_real: tuple[Synthesizer, dict],
                                                          tmp_path: Path) -> None:
    synth, _ = fitted_and_real
    assert synth._engine.plan("legs").per_parent_keys == {"leg_no": 1}  # learned: legs restart at 1 per flight
    assert synth._engine.plan("employees").per_parent_keys == {}
    legs = synth.sample(seed=6, chunk_rows=50)["legs"]
    assert not legs[["flight_id", "leg_no"]].duplicated().any()
    numbered = legs.groupby("flight_id")["leg_no"].agg(lambda s: sorted(s) == list(range(1, len(s) + 1)))
    assert numbered.all() and legs.groupby("flight_id").size().max() > 1
    loaded = Synthesizer.load(synth.save(tmp_path / "s"))
    assert loaded._engine.plan("legs").per_parent_keys == {"leg_no": 1}
    pd.testing.assert_frame_equal(loaded.sample(seed=6, chunk_rows=50)["legs"], legs, check_exact=True)


def test_a_leg_unique_over_the_table_stays_unique_over_the_table() -> None:
    real = airline_data()
    legs = real["legs"].assign(leg_no=np.arange(100, 100 + len(real["legs"])))  # not restarting per flight
    md = Metadata()
    md.add_table("flights", pk="flight_id")
    md.add_table("legs", pk=["flight_id", "leg_no"], fk={"flight_id": "flights.flight_id"})
    synth = Synthesizer(md, seed=0, **TINY)
    synth.fit({"flights": real["flights"][["flight_id", "dep_delay"]], "legs": legs}, epochs=1, batch_size=200,
              progress_bar=False)
    assert synth._engine.plan("legs").per_parent_keys == {}
    out = synth.sample(seed=0)["legs"]
    assert out["leg_no"].is_unique and out["leg_no"].min() == 100


@pytest.mark.parametrize("model", [None, CTGAN, TVAE], ids=["default", "CTGAN", "TVAE"])
def test_lookup_table_names_are_generated_in_their_format_never_copied(tmp_path: Path, model: type | None) -> None:
    """A 16-row lookup table whose names are all distinct: detected as text, generated word by
    word (frequent words such as "Inc." reused, rare ones invented), never a real name. With
    only text beside its key, no network is fitted for it, whatever the model class (CTGAN and
    TVAE would have nothing to model)."""
    from syntho_hive.core.metadata.detect import detect_sdtype
    from syntho_hive.validation.column_shapes import column_shape_scores

    names = ["Endeavor Air Inc.", "American Airlines Inc.", "Alaska Airlines Inc.", "JetBlue Airways",
             "Delta Air Lines Inc.", "ExpressJet Airlines Inc.", "Frontier Airlines Inc.",
             "AirTran Airways Corporation", "Hawaiian Airlines Inc.", "Envoy Air", "SkyWest Airlines Inc.",
             "United Air Lines Inc.", "US Airways Inc.", "Virgin America", "Southwest Airlines Co.",
             "Mesa Airlines Inc."]
    rng = np.random.default_rng(0)
    carriers = [f"{a}{b}" for a, b in zip("ABCDEFGHJKLMNPQR", "ZYXWVUTSRQPONMLK")]
    airlines = pd.DataFrame({"carrier": carriers, "name": names})
    flights = pd.DataFrame({"flight_id": np.arange(300), "carrier": rng.choice(carriers, 300),
                            "delay": rng.normal(5, 10, 300).round(1)})
    md = Metadata()
    # A lookup table is detected as a reference table (copied verbatim) and its names as companies
    # (generated by Faker): both switched off here to exercise the word models.
    md.add_table("airlines", pk="carrier", reference=False, semantic_types={"name": None})
    md.add_table("flights", pk="flight_id", fk={"carrier": "airlines.carrier"})
    assert detect_sdtype(airlines["name"], "name") == "text"
    options = {} if model is None else {"model": model, "batch_size": 50}
    synth = Synthesizer(md, seed=0, epochs=2, **options).fit({"airlines": airlines, "flights": flights},
                                                             progress_bar=False)
    assert synth._engine.fitted_model("airlines") is None
    out = synth.sample(seed=1, scale=4.0)
    made = out["airlines"]["name"]
    assert len(made) == 64 and made.notna().all() and not set(made) & set(names)
    assert (made.str.split().str[-1] == "Inc.").mean() > 0.4  # 11 of 16 real names end with "Inc."
    assert out["flights"]["carrier"].isin(out["airlines"]["carrier"]).all()
    assert column_shape_scores(airlines[["name"]], out["airlines"][["name"]]) == {}  # text has no shape score
    again = Synthesizer.load(synth.save(tmp_path / "s")).sample(seed=1, scale=4.0)
    pd.testing.assert_frame_equal(again["airlines"], out["airlines"], check_exact=True)
