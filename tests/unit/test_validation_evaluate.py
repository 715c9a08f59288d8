"""evaluate(): one entry point, typed result, JSON-serialisable, logged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import SchemaError, SchemaValidationError
from syntho_hive.validation import QualityResult, evaluate


def _employees(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = rng.integers(0, 30, n)
    level = np.where(years > 15, "senior", np.where(years > 5, "mid", "junior"))
    salary = 30_000 + years * 2_000 + rng.normal(0, 4_000, n)
    return pd.DataFrame({"employee_id": np.arange(n), "years": years, "salary": salary, "level": level,
                         "remote": rng.random(n) < 0.4})


SDTYPES = {"employee_id": "id", "years": "numerical", "salary": "numerical", "level": "categorical",
           "remote": "boolean"}

TOP_KEYS = {"schema_version", "overall", "column_shapes", "column_pair_trends", "detection_auc", "ml_efficacy",
            "privacy", "relational", "tables", "seed", "seconds"}
TABLE_KEYS = {"name", "n_rows_real", "n_rows_synthetic", "sdtypes", "overall", "column_shapes",
              "column_pair_trends", "detection", "ml_efficacy", "privacy", "reference", "skipped"}


def test_identical_data_is_perfect_and_result_is_typed() -> None:
    real = _employees(600, 0)
    result = evaluate(real, real.copy(), sdtypes=SDTYPES, target="level", holdout=_employees(600, 1))
    assert isinstance(result, QualityResult)
    assert result.overall == pytest.approx(1.0)
    assert result.column_shapes == pytest.approx(1.0) and result.column_pair_trends == pytest.approx(1.0)
    table = result.tables["table"]
    assert set(table.column_shapes) == {"years", "salary", "level", "remote"}
    assert result.column_details == {"table": table.column_shapes}
    assert result.privacy is not None and result.privacy.exact_copy_rate == 1.0
    assert result.ml_efficacy is not None and result.detection_auc is not None
    assert result.relational is None


def test_to_dict_is_json_with_the_documented_keys() -> None:
    result = evaluate(_employees(400, 2), _employees(400, 3), sdtypes=SDTYPES, target="salary")
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(data) == TOP_KEYS and data["schema_version"] == "1"
    assert set(data["tables"]["table"]) == TABLE_KEYS
    assert set(data["tables"]["table"]["column_shapes"]) == {"score", "columns"}
    pair = data["tables"]["table"]["column_pair_trends"]["pairs"][0]
    assert set(pair) == {"column_1", "column_2", "metric", "score", "real_correlation", "synthetic_correlation",
                         "real_association", "contributes"}
    assert data["tables"]["table"]["ml_efficacy"]["metric"] == "r2"


def test_event_is_logged_and_seed_reproduces() -> None:
    real, synthetic = _employees(300, 4), _employees(300, 5)
    with capture_logs() as logs:
        first = evaluate(real, synthetic, sdtypes=SDTYPES, seed=9)
    events = [entry for entry in logs if entry["event"] == "quality_evaluated"]
    assert len(events) == 1 and events[0]["overall"] == pytest.approx(first.overall, abs=1e-4)
    second = evaluate(real, synthetic, sdtypes=SDTYPES, seed=9)
    assert {k: v for k, v in first.to_dict().items() if k != "seconds"} == \
        {k: v for k, v in second.to_dict().items() if k != "seconds"}


def test_multi_table_with_metadata() -> None:
    metadata = (Metadata().add_table("teams", pk="team_id")
                .add_table("employees", pk="employee_id", fk={"team_id": "teams.team_id"}))
    teams = pd.DataFrame({"team_id": np.arange(30), "budget": np.linspace(1, 100, 30)})
    staff = _employees(300, 6).assign(team_id=np.arange(300) % 30)
    result = evaluate({"teams": teams, "employees": staff}, {"teams": teams, "employees": staff.copy()},
                      metadata, detection=False, privacy=False)
    assert set(result.tables) == {"teams", "employees"}
    assert result.tables["employees"].sdtypes["team_id"] == "id"
    assert result.relational is not None and result.relational.max_orphan_rate == 0.0
    assert result.detection_auc is None and result.privacy is None


def test_bad_input_raises_before_work() -> None:
    real = _employees(50, 0)
    with pytest.raises(SchemaError, match="lacks table"):
        evaluate({"a": real, "b": real}, {"a": real})
    with pytest.raises(SchemaError, match="give target as"):
        evaluate({"a": real, "b": real}, {"a": real, "b": real}, target="level")
    with pytest.raises(SchemaError, match="target 'nope' is not a column of table 'table'"):
        evaluate(real, real, target="nope")
    with pytest.raises(SchemaError, match="lacks column"):
        evaluate({"a": real, "b": real}, {"a": real, "b": real.drop(columns=["salary"])})
    with pytest.raises(SchemaError, match="DataFrame"):
        evaluate([1, 2], real)  # type: ignore[arg-type]


@pytest.mark.slow
def test_independent_100k_by_30_draws_score_alike_and_undetectable() -> None:
    """At scale (the time it takes: ``benchmarks/bench_evaluate.py``), two independent draws of one
    distribution score as alike, and the detector cannot tell them apart."""
    import importlib.util
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_evaluate.py"
    spec = importlib.util.spec_from_file_location("bench_evaluate", bench)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    real, holdout, synthetic = (module.make_table(100_000, seed) for seed in (1, 2, 3))
    result = evaluate(real, synthetic, holdout=holdout, target="cat_0")
    assert result.overall > 0.9 and 0.4 < result.detection_auc < 0.6


def test_a_holdout_missing_a_column_is_named_as_the_holdout() -> None:
    from syntho_hive.validation import ml_efficacy

    real = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    with pytest.raises(SchemaError, match=r"^Holdout data lacks column\(s\) \['b'\]"):
        ml_efficacy(real, real, "b", holdout=real[["a"]])
    with pytest.raises(SchemaError, match=r"^Synthetic data lacks column\(s\) \['b'\]"):
        ml_efficacy(real, real[["a"]], "b")


def test_integer_categories_stored_as_floats_are_the_same_categories_in_every_metric() -> None:
    """``1`` and ``1.0`` are one category for the shapes; so for copies, distances and ML efficacy."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=1500)
    real = pd.DataFrame({"x": x, "z": rng.normal(size=1500), "label": (x + 0.3 * rng.normal(size=1500) > 0).astype(int)})
    synthetic = real.assign(label=real["label"].astype(float))  # e.g. read from a CSV with a gap
    result = evaluate(real, synthetic, holdout=real.sample(500, random_state=0), target="label",
                      sdtypes={"label": "categorical"}, detection=False)
    assert result.column_shapes == 1.0
    assert result.privacy is not None and result.privacy.exact_copy_rate == 1.0
    assert result.privacy.dcr_synthetic_to_training_median == 0.0
    assert result.ml_efficacy is not None and result.ml_efficacy > 0.9


def test_bad_frames_are_schema_errors_and_key_only_tables_are_skipped() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    with pytest.raises(SchemaError, match="'x' of the real data of table 'table' holds infinite values"):
        evaluate(frame.assign(x=[np.inf, *frame["x"].iloc[1:]]), frame)
    with pytest.raises(SchemaError, match="duplicated column names"):
        evaluate(pd.concat([frame, frame[["x"]]], axis=1), frame)
    with pytest.raises(SchemaError, match="seed"):
        evaluate(frame, frame, seed=-1)
    assert evaluate(frame, frame, holdout=frame.iloc[:1], detection=False).privacy is not None  # 1-row holdout
    users = pd.DataFrame({"uid": range(40), "age": rng.integers(18, 80, 40)})
    groups = pd.DataFrame({"gid": range(8), "size": rng.integers(1, 9, 8)})
    members = pd.DataFrame({"uid": rng.integers(0, 40, 90), "gid": rng.integers(0, 8, 90)}).drop_duplicates()
    metadata = (Metadata().add_table("users", pk="uid").add_table("groups", pk="gid")
                .add_table("members", pk=["uid", "gid"], fk={"uid": "users.uid", "gid": "groups.gid"}))
    data = {"users": users, "groups": groups, "members": members}
    result = evaluate(data, data, metadata)  # a junction table has only keys: nothing to detect or compare
    assert result.tables["members"].detection is None and result.tables["members"].privacy is None
    assert result.tables["users"].detection is not None and result.relational is not None


def test_one_frame_with_the_metadata_of_several_tables_is_refused() -> None:
    metadata = Metadata().add_table("users", pk="uid").add_table("orders", pk="oid", fk={"uid": "users.uid"})
    frame = pd.DataFrame({"uid": range(20), "age": range(20, 40)})
    with pytest.raises(SchemaError, match="single DataFrame was given with metadata of 2 tables"):
        evaluate(frame, frame, metadata)


def test_metadata_that_does_not_describe_the_data_is_refused_before_work() -> None:
    """Metadata declaring other columns or keys was ignored (table named after it, sdtypes detected)."""
    real = _employees(200, 0)
    other = Metadata().add_table("t", columns={"id": "id", "zip": "categorical", "age": "numerical"}, pk="id")
    with pytest.raises(SchemaValidationError) as raised:
        evaluate(real, real.copy(), other)
    assert any("'zip'" in issue and "missing from the data" in issue for issue in raised.value.issues)
    assert any("'id'" in issue for issue in raised.value.issues)
    keyed = Metadata().add_table("staff", columns=SDTYPES, pk="employee_id")
    assert evaluate({"staff": real}, {"staff": real.copy()}, keyed, detection=False).overall == pytest.approx(1.0)


def test_every_tables_missing_columns_are_listed_in_one_error() -> None:
    """Only the first table's missing columns were listed; the second's came after fixing the first."""
    frame = pd.DataFrame({"id": range(20), "x": range(20)})
    metadata = (Metadata().add_table("a", pk="id", columns={"id": "id", "x": "numerical", "gone": "numerical"})
                .add_table("b", pk="id", columns={"id": "id", "x": "numerical", "lost": "categorical"}))
    data = {"a": frame, "b": frame.copy()}
    with pytest.raises(SchemaValidationError) as raised:
        evaluate(data, {name: f.copy() for name, f in data.items()}, metadata, detection=False, efficacy=False)
    issues = raised.value.issues
    assert any("'a'" in issue and "'gone'" in issue for issue in issues)
    assert any("'b'" in issue and "'lost'" in issue for issue in issues)
