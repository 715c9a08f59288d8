"""The model contract, checked the same way for every engine (in the spirit of scikit-learn's
estimator checks): CTGAN, TVAE, TabularAR, and a fourth engine defined here with hooks only.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core import checkpoint as ckpt
from syntho_hive.core.checkpoint import CheckpointLayout
from syntho_hive.core.metadata.schema import Metadata, TableConfig
from syntho_hive.core.models import CTGAN, TVAE, TabularAR
from syntho_hive.core.models.base import ConditionalGenerativeModel, EngineState
from syntho_hive.core.models.params import Integer, Number, Param, Widths
from syntho_hive.core.models.registry import register_model
from syntho_hive.core.quality import SampleQuality
from syntho_hive.exceptions import ConfigurationError, GenerationError, SchemaError, NotFittedError, QualityError, SerializationError, TrainingError


@register_model
class Marginals(ConditionalGenerativeModel):
    """Each column drawn independently from its training frequencies: a test engine, hooks only."""

    epochs = Integer(2, "Passes over the data (no effect on the result).")
    smoothing = Number(0.0, "Added to every count.")
    checkpoint_layout = CheckpointLayout(documents=("marginals.json",))

    def _reset_engine(self) -> None:
        self.marginals_: dict[str, dict[str, Any]] = {}

    def _modelled_sdtypes(self) -> Mapping[str, str]:
        return {column: "categorical" for column in self.marginals_}

    def _prepare(self, data: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig, seed: int) -> Any:
        for column in data.columns:
            counts = data[column].value_counts(dropna=False, sort=False)
            self.marginals_[column] = {"values": [v.item() if hasattr(v, "item") else v for v in counts.index],
                                       "counts": counts.to_numpy().tolist(), "dtype": str(data[column].dtype)}
        return data

    def _train(self, prepared: Any, *, seed: int, progress_bar: bool) -> None:
        for epoch in range(1, self.epochs + 1):
            self._end_epoch({"epoch": epoch, "seconds": 0.0})

    def _draw(self, num_rows: int, context: pd.DataFrame | None, *, seed: int, conditions: Mapping[str, Any],
              enforce_constraints: bool, progress_bar: bool, **options: Any) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        out = {}
        for column, marginal in self.marginals_.items():
            values = marginal["values"]
            if column in conditions:
                if conditions[column] not in values:
                    raise GenerationError(f"Unknown value {conditions[column]!r} for condition column {column!r}.")
                drawn = [conditions[column]] * num_rows
            else:
                weights = np.asarray(marginal["counts"], dtype=float) + self.smoothing
                drawn = [values[i] for i in rng.choice(len(values), size=num_rows, p=weights / weights.sum())]
            out[column] = pd.Series(drawn).astype(marginal["dtype"])
        return pd.DataFrame(out)[self.columns_]

    def _decoded_columns(self) -> list[str]:
        return list(self.marginals_)

    def _state(self) -> EngineState:
        return EngineState(documents={"marginals.json": self.marginals_})

    def _restore(self, state: EngineState) -> None:
        self.marginals_ = {str(column): {"values": list(m["values"]), "counts": [int(c) for c in m["counts"]],
                                         "dtype": str(m["dtype"])}
                           for column, m in state.documents["marginals.json"].items()}


def _frame(n: int = 160, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "income": np.round(rng.lognormal(10, 0.4, n), 2),
        "city": rng.choice(["Paris", "Rome", "Oslo", "Lima"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "member": rng.random(n) < 0.4,
    })
    return data, pd.DataFrame({"region": rng.choice(["north", "south"], n)})


ENGINES: dict[str, tuple[type[ConditionalGenerativeModel], dict[str, Any]]] = {
    "CTGAN": (CTGAN, {"epochs": 2, "batch_size": 40, "pac": 4, "embedding_dim": 8, "generator_dim": (16,),
                      "discriminator_dim": (16,), "device": "cpu"}),
    "TVAE": (TVAE, {"epochs": 2, "batch_size": 40, "embedding_dim": 8, "compress_dims": (16,),
                    "decompress_dims": (16,), "device": "cpu"}),
    "TabularAR": (TabularAR, {"epochs": 2, "hidden_dim": 16}),
    "Marginals": (Marginals, {"epochs": 2}),
}


def _runtime(cls: type) -> dict[str, Any]:
    """Run-time options a fresh object gets before ``load`` (not part of a checkpoint)."""
    return {"device": "cpu"} if "device" in cls.parameter_names() else {}


@pytest.fixture(scope="module", params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> tuple[type, dict[str, Any]]:
    return ENGINES[request.param]


@pytest.fixture(scope="module")
def fitted(engine) -> ConditionalGenerativeModel:
    cls, params = engine
    data, _ = _frame()
    return cls(**params).fit(data, seed=3, progress_bar=False)


@pytest.fixture(scope="module")
def fitted_with_context(engine) -> ConditionalGenerativeModel:
    cls, params = engine
    data, context = _frame()
    return cls(**params).fit(data, context, seed=3, progress_bar=False)


def _sample(model: ConditionalGenerativeModel, rows: int = 57, **kwargs: Any) -> pd.DataFrame:
    return model.sample(rows, seed=kwargs.pop("seed", 11), progress_bar=False, **kwargs)


# ---------------------------------------------------------------------- shapes, seeds, round trips
def test_sample_has_the_training_columns_dtypes_and_a_fresh_index(fitted) -> None:
    data, _ = _frame()
    rows = _sample(fitted)
    assert list(rows.columns) == list(data.columns) and len(rows) == 57
    assert isinstance(rows.index, pd.RangeIndex) and rows.index.start == 0
    for column in data.columns:
        assert rows[column].dtype.kind == data[column].dtype.kind, column
    assert set(rows["city"]) <= set(data["city"])


def test_with_context_one_row_per_context_row(fitted_with_context) -> None:
    _, context = _frame()
    rows = fitted_with_context.sample(30, context.iloc[:30], seed=1, progress_bar=False)
    assert len(rows) == 30
    with pytest.raises(GenerationError, match="parent context"):
        fitted_with_context.sample(30, seed=1)
    with pytest.raises(GenerationError, match="context has 5 rows"):
        fitted_with_context.sample(30, context.iloc[:5], seed=1)


@pytest.mark.parametrize("region", [[1], "atlantis", 3.5], ids=["a list", "unseen", "a number"])
def test_context_values_unlike_the_fit_are_generation_errors(fitted_with_context, region: Any) -> None:
    if type(fitted_with_context) is Marginals:
        pytest.skip("Marginals ignores its context")
    _, context = _frame()
    bad = context.iloc[:10].assign(region=pd.Series([region] * 10, dtype=object))
    with pytest.raises(GenerationError, match="region"):  # were a raw TypeError, a SchemaError or a GenerationError
        fitted_with_context.sample(10, bad, seed=1, progress_bar=False)


def test_same_seed_same_rows_different_seed_different_rows(fitted) -> None:
    first = _sample(fitted, seed=5)
    pd.testing.assert_frame_equal(first, _sample(fitted, seed=5))
    assert not first.equals(_sample(fitted, seed=6))


def test_seeded_fit_is_reproducible(engine) -> None:
    cls, params = engine
    data, _ = _frame(80)
    one = cls(**params).fit(data, seed=9, progress_bar=False)
    two = cls(**params).fit(data, seed=9, progress_bar=False)
    pd.testing.assert_frame_equal(_sample(one), _sample(two))

    def losses(model: ConditionalGenerativeModel) -> list[dict[str, Any]]:
        return [{k: v for k, v in record.items() if k != "seconds"} for record in model.history_]

    assert losses(one) == losses(two) and len(one.history_) >= 1


def test_save_load_and_bytes_round_trips_are_exact(fitted, tmp_path: Path) -> None:
    cls = type(fitted)
    expected = _sample(fitted)
    path = fitted.save(tmp_path / "model")
    loaded = cls(**_runtime(cls)).load(path)
    pd.testing.assert_frame_equal(_sample(loaded), expected)
    blob = fitted.to_bytes()
    again = ConditionalGenerativeModel.from_bytes(blob, **_runtime(cls))
    assert type(again) is cls
    pd.testing.assert_frame_equal(_sample(again), expected)
    # The archive holds exactly the directory's files.
    on_disk = {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    in_blob = ckpt.CheckpointContent.from_bytes(blob).files
    assert set(on_disk) == set(in_blob)
    assert loaded.hyper_parameters() == fitted.hyper_parameters()
    assert loaded.columns_ == fitted.columns_ and loaded.seed_ == fitted.seed_


def test_seeded_samples_are_identical_in_another_process(fitted, tmp_path: Path) -> None:
    cls = type(fitted)
    path = fitted.save(tmp_path / "model")
    expected = _sample(fitted).to_csv(index=False)
    script = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("contract", {str(Path(__file__))!r})
        module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
        from syntho_hive.core.models.registry import model_class
        cls = model_class({cls.model_name!r})
        model = cls(**module._runtime(cls)).load({str(path)!r})
        module._sample(model).to_csv({str(tmp_path / "rows.csv")!r}, index=False)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "rows.csv").read_text() == expected


# ---------------------------------------------------------------------- bad input, before any work
def _bad_values(param: Param) -> list[Any]:
    if isinstance(param, Integer):
        return [True, 0, -1, 2.5, "3", None] if not param.optional else [True, 0, "3"]
    if isinstance(param, Number):
        return [True, "x", math.nan, math.inf, -1, 10**400]
    if isinstance(param, Widths):
        return [[], [True], 5, "16", [0]]
    return []


def test_bad_hyper_parameters_are_rejected_alike(engine) -> None:
    cls, params = engine
    data, _ = _frame(40)
    checked = 0
    for name, param in cls._parameters.items():
        for value in _bad_values(param):
            model = cls(**{**params, name: value})
            with pytest.raises(TrainingError, match=f"Invalid {cls.__name__} parameters: .*{name}"):
                model.fit(data, seed=0, progress_bar=False)
            assert not model.is_fitted
            checked += 1
    assert checked >= 5
    with pytest.raises(ConfigurationError, match="Unknown .* parameter"):
        cls(no_such_option=1)


def test_a_refit_refused_by_its_checks_keeps_the_fitted_model(engine) -> None:
    cls, params = engine
    data, _ = _frame(60)
    model = cls(Metadata.detect(data, "people"), **params).fit(data, seed=1, progress_bar=False)
    expected = _sample(model)
    with pytest.raises(SchemaError, match="no_such_table"):
        model.fit(data, seed=1, table_name="no_such_table", progress_bar=False)
    with pytest.raises(TrainingError, match="Too few rows"):
        model.fit(data.iloc[:1], seed=1, progress_bar=False, checkpoint_dir="unused")
    assert model.is_fitted
    pd.testing.assert_frame_equal(_sample(model), expected)


def test_verbs_before_fit_raise_not_fitted(engine, tmp_path: Path) -> None:
    cls, params = engine
    model = cls(**params)
    with pytest.raises(NotFittedError):
        model.sample(5)
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m")
    with pytest.raises(NotFittedError):
        model.to_bytes()


@pytest.mark.parametrize("rows", [0, -3, 2.0, True, "10", 2**63 - 1, 10**15])
def test_bad_or_huge_row_counts_fail_before_work(fitted, rows) -> None:
    with pytest.raises(GenerationError, match="num_rows"):
        fitted.sample(rows, seed=0)


@pytest.mark.parametrize(("conditions", "message"), [
    ({"nope": 1}, "Unknown condition column 'nope'"),
    ({"city": "Atlantis"}, "Atlantis"),
    ({"city": ["Paris", "Rome"]}, "must be one value"),
    ({"city": {"Paris"}}, "must be one value"),
    ("city=Paris", "must be a mapping"),
])
def test_condition_mistakes_are_generation_errors(fitted, conditions, message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        fitted.sample(10, seed=0, conditions=conditions)


def test_conditions_hold_on_every_row(fitted) -> None:
    rows = _sample(fitted, conditions={"city": "Rome"})
    assert (rows["city"] == "Rome").all() and len(rows) == 57


def test_unknown_sample_argument_is_refused(fitted) -> None:
    with pytest.raises(GenerationError, match="Unknown sample\\(\\) argument"):
        fitted.sample(10, seed=0, colour="red")


def test_quality_gate(fitted) -> None:
    rows, metrics = fitted.sample(200, seed=2, return_metrics=True, progress_bar=False)
    assert isinstance(metrics, SampleQuality) and set(metrics.column_shapes) <= set(rows.columns)
    assert 0.0 <= metrics.overall <= 1.0
    with pytest.raises(QualityError) as caught:
        fitted.sample(200, seed=2, quality_threshold=1.0, progress_bar=False)
    assert caught.value.failures
    with pytest.raises(GenerationError):
        fitted.sample(10, seed=2, quality_threshold="high")


def test_checkpoint_dir_keeps_best_final_and_metrics(engine, tmp_path: Path) -> None:
    cls, params = engine
    data, _ = _frame()
    model = cls(**params).fit(data, seed=1, progress_bar=False, checkpoint_dir=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best_checkpoint", "final_checkpoint", "training_metrics.csv"]
    metrics = pd.read_csv(tmp_path / "training_metrics.csv")
    assert list(metrics["epoch"]) == [r["epoch"] for r in model.history_] and metrics["val_score"].notna().any()
    final = cls(**_runtime(cls)).load(tmp_path / "final_checkpoint")
    pd.testing.assert_frame_equal(_sample(final), _sample(model))
    cls(**_runtime(cls)).load(tmp_path / "best_checkpoint")


# ---------------------------------------------------------------------- checkpoints: refused content
def _tamper(path: Path, edit) -> None:
    """Apply ``edit(manifest)`` to the manifest and keep the checksums valid (content matching its
    checksums, as an attacker or a buggy writer would leave it)."""
    manifest = json.loads((path / "metadata.json").read_text())
    edit(manifest, path)
    for name in manifest["files"]:
        raw = (path / name).read_bytes()
        manifest["files"][name] = {"sha256": ckpt._sha256(raw), "bytes": len(raw)}
    (path / "metadata.json").write_text(json.dumps(manifest))


def _set(key: str, value: Any):
    def edit(manifest: dict, path: Path) -> None:
        target = manifest
        *parents, last = key.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    return edit


def _first_number(fitted) -> str:
    return next(name for name, p in type(fitted)._parameters.items() if p.saved and isinstance(p, Number))


def _first_parameter(fitted) -> str:
    return next(name for name, p in type(fitted)._parameters.items() if p.saved)


@pytest.mark.parametrize("case", ["newer", "foreign", "null_param", "bool_param", "huge_param", "bad_seed",
                                  "negative_seed", "no_columns", "deep", "columns_not_list", "other_columns",
                                  "other_model"])
def test_corrupt_content_matching_its_checksums_is_a_serialization_error(fitted, tmp_path: Path,
                                                                          case: str) -> None:
    cls = type(fitted)
    path = fitted.save(tmp_path / "m")
    name = _first_parameter(fitted)
    edits = {
        "newer": _set("format_version", 999),
        "foreign": _set("format", "other-tool"),
        "null_param": _set(f"hyper_parameters.{name}", None),
        "bool_param": _set(f"hyper_parameters.{name}", True),
        "huge_param": _set(f"hyper_parameters.{_first_number(fitted)}", 10**400),
        "bad_seed": _set("seed", "x"),
        "negative_seed": _set("seed", -4),
        "no_columns": lambda m, p: m["column_schema"].pop("columns"),
        "deep": _set("column_schema.columns", json.loads("[" * 200 + "]" * 200)),
        "columns_not_list": _set("column_schema.columns", 12),
        "other_columns": _set("column_schema.columns", ["x", "y"]),
        "other_model": _set("model", "TVAE" if cls is not TVAE else "CTGAN"),
    }
    _tamper(path, edits[case])
    if case == "deep":  # nested past what json.loads accepts, written as text
        text = (path / "metadata.json").read_text().replace('"columns": [', '"columns": ' + "[" * 100_000, 1)
        (path / "metadata.json").write_text(text)
    model = cls(**_runtime(cls))
    with pytest.raises(SerializationError) as caught:
        model.load(path)
    if case == "newer":
        assert "999" in str(caught.value) and "version 1" in str(caught.value)


@pytest.mark.parametrize("columns", [["nope"], ["region", "nope"], []])
def test_saved_context_columns_must_be_those_the_model_encodes(fitted_with_context, tmp_path: Path,
                                                               columns: list[str]) -> None:
    cls = type(fitted_with_context)
    if cls is Marginals:
        pytest.skip("Marginals ignores its context")
    path = fitted_with_context.save(tmp_path / "m")
    _tamper(path, _set("column_schema.context_columns", columns))  # sampling then failed with a raw KeyError
    with pytest.raises(SerializationError, match="context"):
        cls(**_runtime(cls)).load(path)


def test_corrupt_engine_file_matching_its_checksum_is_a_serialization_error(fitted, tmp_path: Path) -> None:
    cls = type(fitted)
    path = fitted.save(tmp_path / "m")
    layout = cls.checkpoint_layout
    victim = (layout.documents or layout.pickles or layout.weights)[0]

    def edit(manifest: dict, folder: Path) -> None:
        if victim.endswith(".json"):
            (folder / victim).write_text(json.dumps({"unexpected": [1, 2, 3]}))
        elif victim.endswith(".joblib"):
            (folder / victim).write_bytes(ckpt.encode_pickle({"unexpected": 1}))
        else:
            (folder / victim).write_bytes(ckpt.encode_state_dict({}))

    _tamper(path, edit)
    with pytest.raises(SerializationError):
        cls(**_runtime(cls)).load(path)


def test_a_failed_load_leaves_a_fitted_model_as_it_was(fitted, tmp_path: Path) -> None:
    cls = type(fitted)
    model = cls(**_runtime(cls)).load(fitted.save(tmp_path / "good"))
    expected = _sample(model)
    broken = fitted.save(tmp_path / "broken")
    _tamper(broken, _set("column_schema.columns", 12))  # fails inside the restore, after the checks
    with pytest.raises(SerializationError):
        model.load(broken)
    assert model.is_fitted
    pd.testing.assert_frame_equal(_sample(model), expected)
