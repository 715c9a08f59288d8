"""The saved Synthesizer (interface/persistence.py): one manifest over every file, registry names only,
paths inside the directory, crash-safe and recognisable overwrites."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syntho_hive import Synthesizer
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import SerializationError


def _schema() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(4)
    customers = pd.DataFrame({"customer_id": np.arange(1, 61), "segment": rng.choice(["retail", "pro"], 60)})
    orders = pd.DataFrame({"order_id": np.arange(1, 181), "customer_id": rng.integers(1, 61, 180),
                           "amount": np.round(rng.gamma(2.0, 30.0, 180), 2)})
    metadata = (Metadata().add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"}))
    return metadata, {"customers": customers, "orders": orders}


@pytest.fixture(scope="module")
def fitted() -> Synthesizer:
    metadata, data = _schema()
    return Synthesizer(metadata, seed=0, epochs=2, hidden_dim=16).fit(data, progress_bar=False, n_jobs=1)


def _rewrite_manifest(saved: Path, edit) -> None:
    """Edit ``synthesizer.json`` (checksums of the edited files kept valid)."""
    manifest = json.loads((saved / "synthesizer.json").read_text())
    edit(manifest)
    for name in manifest["files"]:
        raw = (saved / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    (saved / "synthesizer.json").write_text(json.dumps(manifest))


def test_the_manifest_lists_every_file_with_its_checksum(fitted: Synthesizer, tmp_path: Path) -> None:
    saved = fitted.save(tmp_path / "s")
    manifest = json.loads((saved / "synthesizer.json").read_text())
    assert manifest["format"] == "synthohive-synthesizer" and manifest["format_version"] == 2
    on_disk = {p.relative_to(saved).as_posix() for p in saved.rglob("*") if p.is_file()} - {"synthesizer.json"}
    assert set(manifest["files"]) == on_disk
    assert any(name.endswith("/model/weights.pt") for name in on_disk)
    assert manifest["engines"] == {"customers": "TabularAR", "orders": "TabularAR"}
    assert not any(":" in name for name in [*manifest["engines"].values(), *manifest["models"].values()])
    loaded = Synthesizer.load(saved)
    for name, table in fitted.sample(seed=3).items():
        pd.testing.assert_frame_equal(loaded.sample(seed=3)[name], table)


@pytest.mark.parametrize("damage", ["plan", "model_weights", "schema", "added_file"])
def test_any_changed_or_added_file_is_refused(fitted: Synthesizer, tmp_path: Path, damage: str) -> None:
    saved = fitted.save(tmp_path / "s")
    if damage == "added_file":
        (saved / "tables" / "notes.txt").write_text("x")
    else:
        pattern = {"plan": "tables/*/plan.json", "model_weights": "tables/*/model/weights.pt",
                   "schema": "schema.json"}[damage]
        path = next(saved.glob(pattern))
        raw = path.read_bytes()
        path.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(SerializationError, match="checksum|does not list"):
        Synthesizer.load(saved)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m["tables"].update(orders="../../elsewhere"), "not a folder under tables/"),
    (lambda m: m["tables"].update(orders="/etc"), "not a folder under tables/"),
    (lambda m: m["engines"].update(orders="os:system"), "Unknown model 'os:system'"),
    (lambda m: m["engines"].update(orders="Nonexistent"), "Unknown model 'Nonexistent'"),
    (lambda m: m.update(format_version=3), "version 3, newer than version 2"),
    (lambda m: m.update(seed="zero"), "corrupt"),
    (lambda m: m.update(seed=-5), "corrupt"),
    (lambda m: m["model_kwargs"].update(model=1), "corrupt"),
    (lambda m: m["model_kwargs"].update(seed=1), "corrupt"),
    (lambda m: m["model_kwargs"].update(bogus=1), "model options are refused"),
    (lambda m: m["engines"].update(nope="TabularAR"), "model options are refused"),
])
def test_the_manifest_cannot_name_a_module_or_a_path_outside(fitted: Synthesizer, tmp_path: Path, edit,
                                                             message: str) -> None:
    saved = fitted.save(tmp_path / "s")
    _rewrite_manifest(saved, edit)
    with pytest.raises(SerializationError, match=message):
        Synthesizer.load(saved)


def test_schema_content_is_never_read_as_a_path(fitted: Synthesizer, tmp_path: Path) -> None:
    saved = fitted.save(tmp_path / "s")
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes((saved / "schema.json").read_bytes())
    (saved / "schema.json").write_text(str(outside))  # a path where the schema's JSON should be
    _rewrite_manifest(saved, lambda m: None)
    with pytest.raises(SerializationError, match="schema.json"):
        Synthesizer.load(saved)


def test_a_version_1_module_path_that_is_not_a_builtin_engine_is_never_imported(tmp_path: Path) -> None:
    fixture = Path(__file__).parents[1] / "fixtures" / "checkpoints_v1" / "synthesizer"
    copy = tmp_path / "v1"
    copy.mkdir()
    for path in fixture.rglob("*"):
        if path.is_file():
            (copy / path.relative_to(fixture)).parent.mkdir(parents=True, exist_ok=True)
            (copy / path.relative_to(fixture)).write_bytes(path.read_bytes())
    state = json.loads((copy / "synthesizer.json").read_text())
    state["models"]["orders"] = "os:system"
    (copy / "synthesizer.json").write_text(json.dumps(state))
    with pytest.raises(SerializationError, match="only the built-in engines"):
        Synthesizer.load(copy)


def test_overwrite_replaces_a_saved_synthesizer_but_never_a_folder_of_yours(fitted: Synthesizer,
                                                                           tmp_path: Path) -> None:
    saved = fitted.save(tmp_path / "s")
    with pytest.raises(SerializationError, match="already exists"):
        fitted.save(saved)
    fitted.save(saved, overwrite=True)
    (saved / "my_notes.md").write_text("keep me")
    with pytest.raises(SerializationError, match="not recognisably"):
        fitted.save(saved, overwrite=True)
    assert (saved / "my_notes.md").read_text() == "keep me"
    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "synthesizer.json").write_text(json.dumps({"mine": True}))
    with pytest.raises(SerializationError, match="not recognisably"):
        fitted.save(mine, overwrite=True)
    assert (mine / "synthesizer.json").exists()


def test_a_version_1_directory_can_be_overwritten_with_version_2(tmp_path: Path, fitted: Synthesizer) -> None:
    fixture = Path(__file__).parents[1] / "fixtures" / "checkpoints_v1" / "synthesizer"
    copy = tmp_path / "v1"
    for path in fixture.rglob("*"):
        if path.is_file():
            (copy / path.relative_to(fixture)).parent.mkdir(parents=True, exist_ok=True)
            (copy / path.relative_to(fixture)).write_bytes(path.read_bytes())
    fitted.save(copy, overwrite=True)
    assert json.loads((copy / "synthesizer.json").read_text())["format_version"] == 2


def test_a_save_interrupted_between_its_renames_is_recovered_on_load(fitted: Synthesizer, tmp_path: Path) -> None:
    saved = fitted.save(tmp_path / "s")
    os.replace(saved, tmp_path / ".s.old-0123")  # where a kill between the two renames leaves it
    loaded = Synthesizer.load(saved)
    assert saved.is_dir()
    for name, table in fitted.sample(seed=2).items():
        pd.testing.assert_frame_equal(loaded.sample(seed=2)[name], table)


def test_overwrite_never_removes_an_empty_folder_of_yours(fitted: Synthesizer, tmp_path: Path) -> None:
    saved = fitted.save(tmp_path / "s")
    (saved / "tables" / "mine").mkdir()
    with pytest.raises(SerializationError, match="not recognisably"):
        fitted.save(saved, overwrite=True)
    assert (saved / "tables" / "mine").is_dir()


@pytest.fixture(scope="module")
def with_rules() -> Synthesizer:
    """A schema with a reference table (statuses) and a copied column (orders.ship_country)."""
    rng = np.random.default_rng(4)
    statuses = pd.DataFrame({"status_id": [1, 2, 3, 4], "name": ["open", "paid", "shipped", "cancelled"]})
    customers = pd.DataFrame({"customer_id": np.arange(1, 61), "segment": rng.choice(["retail", "pro"], 60),
                              "country": rng.choice(["FR", "DE", "IT"], 60)})
    buyer = rng.integers(1, 61, 180)
    orders = pd.DataFrame({"order_id": np.arange(1, 181), "customer_id": buyer, "status_id": rng.integers(1, 5, 180),
                           "amount": np.round(rng.gamma(2.0, 30.0, 180), 2),
                           "ship_country": customers.set_index("customer_id").loc[buyer, "country"].to_numpy()})
    metadata = (Metadata().add_table("statuses", pk="status_id").add_table("customers", pk="customer_id")
                .add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id",
                                                        "status_id": "statuses.status_id"}))
    synth = Synthesizer(metadata, seed=0, epochs=2, hidden_dim=16).fit(
        {"statuses": statuses, "customers": customers, "orders": orders}, progress_bar=False, n_jobs=1)
    assert synth.rules_["statuses"]["reference"] and "ship_country" in synth.rules_["orders"]["copied_from"]
    return synth


def _edit_plan(table: str, edit):
    def change(saved: Path) -> None:
        path = next(saved.glob(f"tables/*_{table}/plan.json"))
        plan = json.loads(path.read_text())
        edit(plan["rules"])
        path.write_text(json.dumps(plan))
    return change


@pytest.mark.parametrize("edit", [
    _edit_plan("orders", lambda r: r["copied"][0].update(via=7)),
    _edit_plan("orders", lambda r: r["copied"][0].update(via=float("inf"))),
    _edit_plan("orders", lambda r: r["copied"][0].update(via=True)),
    _edit_plan("orders", lambda r: r["copied"][0].update(column="nope")),
    _edit_plan("orders", lambda r: r["copied"][0].update(column=None)),
    _edit_plan("orders", lambda r: r["copied"][0].update(parent_column="nope")),
    _edit_plan("orders", lambda r: r["copied"][0].update(modelled="x")),
    _edit_plan("statuses", lambda r: r["reference"]["values"].__setitem__(0, None)),
    _edit_plan("statuses", lambda r: r["reference"]["columns"].__setitem__(0, None)),
    _edit_plan("statuses", lambda r: r["reference"]["columns"].__setitem__(0, "nope")),
], ids=["via out of range", "via infinite", "via boolean", "unknown column", "null column", "unknown parent column",
        "modelled text", "reference cells null", "reference column null", "reference column unknown"])
def test_corrupt_business_rules_are_refused_at_load(with_rules: Synthesizer, tmp_path: Path, edit) -> None:
    """Content matching its checksums but corrupt: these loaded, then sample() failed with a raw KeyError,
    IndexError or TypeError (or load with a raw OverflowError)."""
    saved = with_rules.save(tmp_path / "s")
    edit(saved)
    _rewrite_manifest(saved, lambda m: None)
    with pytest.raises(SerializationError, match="rules|reference|copies"):
        Synthesizer.load(saved)


def test_a_synthesizer_with_rules_round_trips(with_rules: Synthesizer, tmp_path: Path) -> None:
    loaded = Synthesizer.load(with_rules.save(tmp_path / "s"))
    again = Synthesizer.from_bytes(with_rules.to_bytes())
    for name, table in with_rules.sample(seed=3).items():
        pd.testing.assert_frame_equal(loaded.sample(seed=3)[name], table)
        pd.testing.assert_frame_equal(again.sample(seed=3)[name], table)


def _edit_json(pattern: str, edit):
    """``edit`` applied to the saved JSON file matching ``pattern`` (e.g. ``tables/*_orders/plan.json``)."""
    def change(saved: Path) -> None:
        path = next(saved.glob(pattern))
        content = json.loads(path.read_text())
        edit(content)
        path.write_text(json.dumps(content))
    return change


def _edit_table_plan(table: str, edit):
    return _edit_json(f"tables/*_{table}/plan.json", edit)


def _edit_model_manifest(table: str, edit):
    return _edit_json(f"tables/*_{table}/model/metadata.json", edit)


@pytest.mark.parametrize(("edit", "field"), [
    (_edit_table_plan("orders", lambda p: p.update(columns="order_id")), "'columns'"),
    (_edit_table_plan("orders", lambda p: p.update(columns=[1, 2, 3])), "'columns'"),
    (_edit_table_plan("orders", lambda p: p["columns"].append("order_id")), "'columns'"),
    (_edit_table_plan("orders", lambda p: p.update(modelled=[*p["modelled"], "nope"])), "'modelled'"),
    (_edit_table_plan("orders", lambda p: p["dtypes"].update(amount=7)), "'dtypes'"),
    (_edit_table_plan("orders", lambda p: p["dtypes"].update(amount="no-such-dtype")), "'dtypes'"),
    (_edit_table_plan("orders", lambda p: p["dtypes"].pop("amount")), "'dtypes'"),
    (_edit_model_manifest("orders", lambda m: m["extra"].update(time_of_day=["amount"])), "times of day"),
], ids=["columns a string", "columns numbers", "columns repeated", "modelled unknown", "dtype a number",
        "dtype unknown", "dtype missing", "time of day on a float column"])
def test_plan_fields_of_another_type_or_at_odds_are_refused_at_load(fitted: Synthesizer, tmp_path: Path, edit,
                                                                    field: str) -> None:
    """Content matching its checksums but inconsistent: each loaded, then generated other values (times of day
    in a float column, columns in another dtype) or failed at sample() with a raw error."""
    saved = fitted.save(tmp_path / "s")
    edit(saved)
    _rewrite_manifest(saved, lambda m: None)
    with pytest.raises(SerializationError, match=rf"Saved synthesizer .*s: .*table 'orders'.*{field}"):
        Synthesizer.load(saved)


@pytest.fixture(scope="module")
def with_parts() -> Synthesizer:
    """stores(region, store_no) <- visits: ``hour`` a date part of ``at``; the FK partly null (region known)."""
    rng = np.random.default_rng(0)
    stores = pd.DataFrame({"region": np.repeat(["N", "S"], 10), "store_no": np.tile(np.arange(1, 11), 2)})
    pick, n = rng.integers(0, 20, 200), 200
    visits = pd.DataFrame({"visit_id": np.arange(n), "region": stores["region"].to_numpy()[pick].astype(object),
                           "store_no": stores["store_no"].to_numpy()[pick].astype("float64"),
                           "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 7200, n), "h"),
                           "amount": rng.gamma(2.0, 30.0, n).round(2)})
    visits["hour"] = visits["at"].dt.hour
    visits.loc[rng.random(n) < 0.3, "store_no"] = np.nan
    metadata = (Metadata().add_table("stores", pk=["region", "store_no"])
                .add_table("visits", pk="visit_id", fk={"region": "stores.region", "store_no": "stores.store_no"}))
    synth = Synthesizer(metadata, seed=0, epochs=1, hidden_dim=16).fit({"stores": stores, "visits": visits},
                                                                      progress_bar=False, n_jobs=1)
    plan = synth._engine.plan("visits")
    assert plan.rules.date_parts == {"hour": ["at", "hour"]} and plan.parents[0].partly_null[0][0] == ["region"]
    return synth


def _edit_visits(edit):
    return _edit_table_plan("visits", edit)


def test_a_self_reference_with_a_leg_it_lacks_is_refused_at_load(tmp_path: Path) -> None:
    """A self-reference's partly null legs are checked like a parent's (they are generated since the fifth review)."""
    staff = pd.DataFrame({"company": np.repeat(["a", "b"], 20), "emp_no": np.tile(np.arange(1, 21), 2),
                          "salary": np.arange(40.0)})
    staff["boss_company"] = staff["company"].where(staff["emp_no"] > 1)
    staff["boss_no"] = pd.array(np.where((staff["emp_no"] % 3 == 0) | (staff["emp_no"] == 1), None, 1), dtype="Int64")
    metadata = Metadata().add_table("staff", pk=["company", "emp_no"],
                                    fk={"boss_company": "staff.company", "boss_no": "staff.emp_no"})
    synth = Synthesizer(metadata, seed=0, epochs=1, hidden_dim=16).fit({"staff": staff}, progress_bar=False, n_jobs=1)
    assert synth._engine.plan("staff").self_refs[0].partly_null[0][0] == ["boss_company"]
    saved = synth.save(tmp_path / "s")
    _edit_table_plan("staff", lambda p: p["self_refs"][0].update(partly_null=[[["zz"], 0.1]]))(saved)
    _rewrite_manifest(saved, lambda m: None)
    with pytest.raises(SerializationError, match=r"table 'staff', field 'self_refs\[0\].partly_null'"):
        Synthesizer.load(saved)


@pytest.mark.parametrize(("edit", "field"), [
    (_edit_visits(lambda p: p["rules"].update(date_parts={"hour": ["amount", "hour"]})), "rules.date_parts"),
    (_edit_visits(lambda p: p["rules"].update(date_parts={"amount": ["at", "hour"]})), "rules.date_parts"),
    (_edit_visits(lambda p: p["rules"].update(date_parts={"hour": ["at", "week"]})), "rules.date_parts"),
    (_edit_visits(lambda p: p["rules"].update(date_parts={"region": ["at", "hour"]})), "rules.date_parts"),
    (_edit_visits(lambda p: p["parents"][0].update(partly_null=[[["region"], -0.5]])), r"parents\[0\].partly_null"),
    (_edit_visits(lambda p: p["parents"][0].update(partly_null=[[["zz"], 0.1]])), r"parents\[0\].partly_null"),
    (_edit_visits(lambda p: p["parents"][0].update(partly_null=[[["region", "store_no"], 0.1]])),
     r"parents\[0\].partly_null"),
    (_edit_visits(lambda p: p["parents"][0].update(partly_null=[[["region"], float("nan")]])),
     r"parents\[0\].partly_null"),
    (_edit_visits(lambda p: p["parents"][0].update(null_rate=0.0)), r"parents\[0\].partly_null"),
], ids=["source not a timestamp", "modelled column", "unknown part", "FK column", "negative share", "unknown leg",
        "every leg", "share NaN", "shares above the null rate"])
def test_broken_date_parts_or_partly_null_legs_are_refused_at_load(with_parts: Synthesizer, tmp_path: Path, edit,
                                                                   field: str) -> None:
    """These loaded, then gave an ``hour`` of 0 in every row (the part of a float column), or failed at sample()
    with a raw KeyError / ValueError, or were ignored (an unknown leg, a partly null key of every leg)."""
    saved = with_parts.save(tmp_path / "s")
    edit(saved)
    _rewrite_manifest(saved, lambda m: None)
    with pytest.raises(SerializationError, match=rf"Saved synthesizer .*s: .*table 'visits', field '{field}'"):
        Synthesizer.load(saved)
    hours = Synthesizer.load(with_parts.save(tmp_path / "intact")).sample(seed=1)["visits"]
    assert (hours["hour"] == hours["at"].dt.hour).all()
