"""The orchestrator owns its state: ``plan``/``fitted_model`` read it, ``to_dict``/``from_dict`` move it."""

from __future__ import annotations

import copy
import importlib.util
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata
from syntho_hive.core.models import ConditionalGenerativeModel
from syntho_hive.exceptions import NotFittedError, SchemaError, SerializationError
from syntho_hive.relational.orchestrator import Orchestrator


def _resampler() -> type[ConditionalGenerativeModel]:
    """``Resampler`` of the Synthesizer tests: draws training rows again (keys and state, no training time)."""
    name = "_synthesizer_tests"  # registered: a saved Synthesizer names the module of its model class
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_synthesizer.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].Resampler


Bootstrap = _resampler()


def _metadata() -> Metadata:
    return (Metadata().add_table("regions", pk="region_id")
            .add_table("airlines", pk="carrier")
            .add_table("flights", pk="flight_id", fk={"region_id": "regions.region_id", "carrier": "airlines.carrier"}))


def _data() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    regions = pd.DataFrame({"region_id": np.arange(1, 6)})                               # keys only
    names = ["Endeavor Air Inc.", "American Airlines Inc.", "Alaska Airlines Inc.", "JetBlue Airways",
             "Delta Air Lines Inc.", "ExpressJet Airlines Inc.", "Frontier Airlines Inc.",
             "AirTran Airways Corporation", "Hawaiian Airlines Inc.", "Envoy Air", "SkyWest Airlines Inc.",
             "United Air Lines Inc.", "US Airways Inc.", "Virgin America", "Southwest Airlines Co.",
             "Mesa Airlines Inc."]
    carriers = [f"{a}{b}" for a, b in zip("ABCDEFGHJKLMNPQR", "ZYXWVUTSRQPONMLK")]
    airlines = pd.DataFrame({"carrier": carriers, "name": names})                          # text only
    flights = pd.DataFrame({"flight_id": np.arange(200), "region_id": rng.integers(1, 6, 200),
                            "carrier": rng.choice(carriers, 200), "minutes": rng.integers(30, 600, 200)})
    return {"regions": regions, "airlines": airlines, "flights": flights}


@pytest.fixture(scope="module")
def engine() -> Orchestrator:
    models = {name: Bootstrap for name in _metadata().tables}
    return Orchestrator(_metadata(), models, seed=3).fit(_data(), progress_bar=False, n_jobs=1)


def _restore(state: Any, fitted: Any) -> Orchestrator:
    return Orchestrator.from_dict(_metadata(), state, fitted, models={t: Bootstrap for t in _metadata().tables}, seed=3)


def test_to_dict_is_json_in_generation_order_and_says_which_tables_have_a_model(engine: Orchestrator) -> None:
    state = json.loads(json.dumps(engine.to_dict()))
    assert [entry["name"] for entry in state["tables"]] == engine.graph.order
    assert {entry["name"]: entry["has_model"] for entry in state["tables"]} == {
        "regions": False, "airlines": False, "flights": True}
    assert engine.fitted_model("regions") is None and engine.fitted_model("airlines") is None
    assert isinstance(engine.fitted_model("flights"), Bootstrap)
    assert engine.plan("flights").to_dict() == state["tables"][engine.graph.order.index("flights")]["plan"]


def test_from_dict_generates_what_the_original_generated(engine: Orchestrator) -> None:
    state = json.loads(json.dumps(engine.to_dict()))
    state["tables"].reverse()  # any order
    restored = _restore(state, {"flights": engine.fitted_model("flights")})
    assert restored.is_fitted and restored.fit_seconds_ == {}
    expected, again = engine.generate(seed=9), restored.generate(seed=9)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(again[name], frame, check_exact=True)


def test_reading_state_before_fit_or_of_an_unknown_table_is_a_typed_error(engine: Orchestrator) -> None:
    fresh = Orchestrator(_metadata(), {t: Bootstrap for t in _metadata().tables}, seed=0)
    assert not fresh.is_fitted
    for call in (fresh.to_dict, lambda: fresh.plan("flights"), lambda: fresh.fitted_model("flights")):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()
    with pytest.raises(SchemaError, match=r"Unknown table 'nope'.*'flights'"):
        engine.plan("nope")


def _broken(engine: Orchestrator, change) -> dict[str, Any]:
    state = copy.deepcopy(engine.to_dict())
    change({entry["name"]: entry for entry in state["tables"]}, state)
    return state


@pytest.mark.parametrize(("change", "message"), [
    (lambda by, st: st.clear(), r"mapping with a 'tables' list"),
    (lambda by, st: st.update(tables={"a": 1}), r"mapping with a 'tables' list"),
    (lambda by, st: st["tables"].append(["flights"]), r"tables\[3\] must be a mapping with a 'name' string"),
    (lambda by, st: st["tables"].append({"name": "ghosts"}), r"'ghosts' is not in the metadata"),
    (lambda by, st: st["tables"].append(dict(by["regions"])), r"'regions' appears twice"),
    (lambda by, st: st["tables"].remove(by["airlines"]), r"no plan for table\(s\) \['airlines'\]"),
    (lambda by, st: by["flights"].update(plan=None), r"'flights' needs a 'plan' mapping and a 'has_model' boolean"),
    (lambda by, st: by["flights"].update(has_model="yes"), r"'flights' needs a 'plan' mapping"),
    (lambda by, st: by["flights"]["plan"].update(keys=[]), r"table 'flights': Saved plan of a table is corrupt"),
    (lambda by, st: by["flights"]["plan"].pop("columns"), r"table 'flights': Saved plan of a table is corrupt"),
    (lambda by, st: by["regions"]["plan"].update(name="flights"), r"entry of table 'regions' holds the plan of "
                                                                    r"table 'flights'"),
    (lambda by, st: by["airlines"].update(has_model=True), r"'airlines' has 'has_model': True, but its plan has no "
                                                          r"use for a model"),
])
def test_malformed_state_is_a_serialization_error(engine: Orchestrator, change, message: str) -> None:
    with pytest.raises(SerializationError, match=message):
        _restore(_broken(engine, change), {"flights": engine.fitted_model("flights")})


def test_fitted_models_must_match_the_state(engine: Orchestrator) -> None:
    state = engine.to_dict()
    with pytest.raises(SerializationError, match=r"Table 'flights' needs its fitted model.*got NoneType"):
        _restore(state, {})
    with pytest.raises(SerializationError, match=r"Table 'flights' needs its fitted model.*got str"):
        _restore(state, {"flights": "model.pt"})
    with pytest.raises(SerializationError, match=r"models for table\(s\) \['airlines'\]"):
        _restore(state, {"flights": engine.fitted_model("flights"), "airlines": engine.fitted_model("flights")})
    with pytest.raises(SerializationError, match="fitted_models must be a mapping"):
        _restore(state, [engine.fitted_model("flights")])


def test_synthesizer_save_and_load_go_through_the_state(tmp_path: Path) -> None:
    synth = Synthesizer(_metadata(), model=Bootstrap, seed=1).fit(_data(), progress_bar=False, n_jobs=1)
    saved = synth.save(tmp_path / "s")
    plans = sorted(p.parent.name for p in saved.glob("tables/*/plan.json"))
    assert plans == [f"{i:03d}_{name}" for i, name in enumerate(synth.graph.order)]
    assert sorted(p.parent.name for p in saved.glob("tables/*/model")) == [
        f"{synth.graph.order.index('flights'):03d}_flights"]
    loaded = Synthesizer.load(saved)
    for name, frame in synth.sample(seed=2).items():
        pd.testing.assert_frame_equal(loaded.sample(seed=2)[name], frame, check_exact=True)
    plan_file = next(saved.glob("tables/*_airlines/plan.json"))
    plan = json.loads(plan_file.read_text())
    plan["name"] = "regions"
    plan_file.write_text(json.dumps(plan))
    with pytest.raises(SerializationError, match="truncated or was modified|checksum"):  # the manifest sees it
        Synthesizer.load(saved)
    manifest = json.loads((saved / "synthesizer.json").read_text())  # with matching checksums: the state check
    raw = plan_file.read_bytes()
    manifest["files"][plan_file.relative_to(saved).as_posix()] = {"sha256": hashlib.sha256(raw).hexdigest(),
                                                                  "bytes": len(raw)}
    (saved / "synthesizer.json").write_text(json.dumps(manifest))
    with pytest.raises(SerializationError, match=r"Saved synthesizer .*: Orchestrator state: the entry of table "
                                                 r"'airlines' holds the plan of table 'regions'"):
        Synthesizer.load(saved)
