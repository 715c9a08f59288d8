"""CTGAN end to end on small real-looking tables: fit, sample, conditions, context, seeds,
checkpoints and training outputs (what it shares with TVAE: ``test_tabular_engines.py``; with every
engine: ``test_model_contract.py``)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from structlog.testing import capture_logs

from syntho_hive.core.checkpoint import encode_state_dict
from syntho_hive.core.metadata.schema import Constraint, Metadata
from syntho_hive.core.models import CTGAN, ConditionalGenerativeModel
from syntho_hive.exceptions import (
    GenerationError,
    NotFittedError,
    SerializationError,
    TrainingError,
)

SMALL = dict(embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32, 32), batch_size=100,
             epochs=2, max_modes=3)
# Shared fixtures: make_customers, make_metadata, parents, digest, edit_manifest (tests/unit/conftest.py) and
# run_python (tests/conftest.py).
CustomersFactory = Callable[..., pd.DataFrame]
MetadataFactory = Callable[[], Metadata]
Digest = Callable[[pd.DataFrame], str]
RunPython = Callable[..., str]
EditManifest = Callable[..., dict]


@pytest.fixture(scope="module")
def customers(make_customers: CustomersFactory) -> pd.DataFrame:
    return make_customers()


@pytest.fixture(scope="module")
def fitted(customers: pd.DataFrame, make_metadata: MetadataFactory) -> CTGAN:
    return CTGAN(make_metadata(), **SMALL).fit(customers, seed=11, progress_bar=False)


@pytest.fixture(scope="module")
def fitted_with_context(customers: pd.DataFrame, parents: pd.DataFrame, make_metadata: MetadataFactory) -> CTGAN:
    return CTGAN(make_metadata(), **SMALL).fit(customers, parents, seed=3, progress_bar=False)


# ----------------------------------------------------------------------------- fit / sample
def test_is_a_conditional_generative_model(fitted: CTGAN) -> None:
    assert isinstance(fitted, ConditionalGenerativeModel)
    assert fitted.is_fitted
    assert fitted.device_.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_sample_more_rows_than_one_chunk_keeps_ids_unique(fitted: CTGAN) -> None:
    synthetic = fitted.sample(10_000, seed=2)
    assert len(synthetic) == 10_000
    assert synthetic["customer_id"].is_unique


def test_sample_before_fit_and_save_before_fit(tmp_path: Path, make_metadata: MetadataFactory) -> None:
    model = CTGAN(make_metadata(), **SMALL)
    assert not model.is_fitted
    with pytest.raises(NotFittedError, match="fit.*load"):
        model.sample(5)
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m")


def test_invalid_parameters_are_rejected_before_training(customers: pd.DataFrame,
                                                         make_metadata: MetadataFactory) -> None:
    with pytest.raises(TrainingError, match=r"batch_size \(95\) must be a multiple of pac \(10\)"):
        CTGAN(make_metadata(), **{**SMALL, "batch_size": 95}).fit(customers, progress_bar=False)
    with pytest.raises(TrainingError, match="epochs must be a positive integer"):
        CTGAN(make_metadata(), **{**SMALL, "epochs": 0}).fit(customers, progress_bar=False)
    with pytest.raises(TrainingError, match="generator_dim must be a non-empty sequence"):
        CTGAN(make_metadata(), **{**SMALL, "generator_dim": ()}).fit(customers, progress_bar=False)
    with pytest.raises(TrainingError, match="empty table"):
        CTGAN(make_metadata(), **SMALL).fit(customers.iloc[:0], progress_bar=False)
    with pytest.raises(TrainingError, match="seed"):
        CTGAN(make_metadata(), **SMALL).fit(customers, seed=-1, progress_bar=False)
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="CUDA is not available"):
            CTGAN(make_metadata(), **{**SMALL, "device": "cuda"}).fit(customers, progress_bar=False)


def test_invalid_sample_seed(fitted: CTGAN) -> None:
    with pytest.raises(GenerationError, match="seed"):
        fitted.sample(5, seed=-2)


# ----------------------------------------------------------------------------- conditions
def test_conditions_yield_only_matching_rows(fitted: CTGAN) -> None:
    rare = fitted.sample(120, seed=4, conditions={"city": "Seattle"})
    assert len(rare) == 120
    assert (rare["city"] == "Seattle").all()
    assert rare["customer_id"].is_unique
    both = fitted.sample(60, seed=4, conditions={"city": "Denver", "plan": "premium"})
    assert len(both) == 60
    assert ((both["city"] == "Denver") & (both["plan"] == "premium")).all()
    flags = fitted.sample(40, seed=4, conditions={"active": False})
    assert (~flags["active"]).all()


def test_conditioned_sample_is_reproducible(fitted: CTGAN) -> None:
    first = fitted.sample(50, seed=9, conditions={"plan": "premium"})
    pd.testing.assert_frame_equal(first, fitted.sample(50, seed=9, conditions={"plan": "premium"}))


def test_conditions_on_a_fixed_combination_member() -> None:
    rng = np.random.default_rng(2)
    pairs = [("Boston", "US"), ("Denver", "US"), ("Lyon", "FR"), ("Paris", "FR")]
    picks = rng.integers(0, len(pairs), 300)
    data = pd.DataFrame({"city": [pairs[i][0] for i in picks], "country": [pairs[i][1] for i in picks],
                         "spend": np.round(rng.gamma(2.0, 30.0, 300), 2)})
    metadata = Metadata().add_table("shops", columns={"city": "categorical", "country": "categorical",
                                                      "spend": "numerical"},
                                    fixed_combinations=[["city", "country"]])
    model = CTGAN(metadata, **SMALL).fit(data, seed=0, progress_bar=False)
    french = model.sample(80, seed=1, conditions={"country": "FR"})
    assert (french["country"] == "FR").all()
    assert set(french["city"]) <= {"Lyon", "Paris"}
    combos = set(zip(model.sample(200, seed=2)["city"], model.sample(200, seed=2)["country"]))
    assert combos <= set(pairs)
    with pytest.raises(GenerationError, match="DE"):
        model.sample(5, conditions={"country": "DE"})
    # Two members of the combination: the rows satisfy both; a pair never seen is refused at once.
    both = model.sample(30, seed=3, conditions={"city": "Paris", "country": "FR"})
    assert (both["city"] == "Paris").all() and (both["country"] == "FR").all()
    with pytest.raises(GenerationError, match=r"\{'city': 'Boston', 'country': 'FR'\} contradict"):
        model.sample(5, conditions={"city": "Boston", "country": "FR"})


# ----------------------------------------------------------------------------- seeds
def test_seed_gives_bit_identical_training_and_sampling(customers: pd.DataFrame, fitted: CTGAN,
                                                        make_metadata: MetadataFactory) -> None:
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.random.get_rng_state().clone()
    again = CTGAN(make_metadata(), **SMALL).fit(customers, seed=11, progress_bar=False)
    for key, value in fitted.generator_.state_dict().items():
        assert torch.equal(value, again.generator_.state_dict()[key]), key
    pd.testing.assert_frame_equal(fitted.sample(100, seed=5), again.sample(100, seed=5))
    assert not fitted.sample(100, seed=5).equals(fitted.sample(100, seed=6))
    # No global RNG was seeded or consumed.
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_seed_is_bit_identical_in_another_process(fitted: CTGAN, digest: Digest, run_python: RunPython,
                                                  tmp_path: Path) -> None:
    theirs = run_python("""
        from conftest import customers_metadata, customers_table, frame_digest
        from test_ctgan import SMALL
        from syntho_hive.core.models.ctgan import CTGAN
        model = CTGAN(customers_metadata(), **SMALL).fit(customers_table(), seed=11, progress_bar=False)
        print(frame_digest(model.sample(100, seed=5)))
    """, cwd=tmp_path)
    assert theirs == digest(fitted.sample(100, seed=5))


def test_generator_runs_on_padded_chunks_whose_rows_do_not_leak(fitted: CTGAN,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples of many sizes reach the generator in a handful of row counts (kernels are compiled
    per shape), and the padding rows' outputs are dropped: the real rows are what an unpadded
    forward gives."""
    from syntho_hive.core.models.ctgan.networks import FoldedGenerator

    seen: list[int] = []
    checked: list[bool] = []
    forward = FoldedGenerator.__call__

    def recording(self: FoldedGenerator, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        out = forward(self, x, condition)
        seen.append(len(x))
        real = int((x != 0).any(dim=1).sum())  # padding rows are all zero, noise rows never are
        if real < len(x):
            unpadded = forward(self, x[:real], None if condition is None else condition[:real])
            checked.append(torch.allclose(out[:real], unpadded, rtol=1e-5, atol=1e-5))
        return out

    monkeypatch.setattr(FoldedGenerator, "__call__", recording)
    for rows in (1, 37, 300, 2_047, 2_049, 5_000):
        assert len(fitted.sample(rows, seed=rows)) == rows
    assert set(seen) <= {256, 512, 1024, 2048} and checked and all(checked)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_sample_is_the_same_with_one_thread_or_several(fitted: CTGAN, precision: str, digest: Digest,
                                                       run_python: RunPython, tmp_path: Path) -> None:
    """Several chunks, generated side by side here (one worker per core) and one after the other in
    a process limited to one thread: the same rows."""
    path = fitted.save(tmp_path / "model")
    theirs = run_python(f"""
        import torch
        from conftest import frame_digest
        from syntho_hive.core.models.ctgan import CTGAN
        assert torch.get_num_threads() == 1
        model = CTGAN().load({str(path)!r})
        model.precision = {precision!r}
        print(frame_digest(model.sample(5_000, seed=5)))
    """, cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    here = CTGAN().load(path)
    here.precision = precision
    assert theirs == digest(here.sample(5_000, seed=5))


# ----------------------------------------------------------------------------- checkpoints
#: The seed contract: a CTGAN checkpoint directory holds exactly these files.
SEED_CONTRACT_FILES = ("generator.pt", "discriminator.pt", "transformer.joblib", "context_transformer.joblib",
                       "embedding_layers.joblib", "data_column_info.joblib", "reference_profile.json", "metadata.json")


def test_save_load_round_trip_in_a_fresh_object_with_other_dims(fitted: CTGAN, tmp_path: Path,
                                                                make_metadata: MetadataFactory) -> None:
    expected = fitted.sample(150, seed=21)
    path = fitted.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == sorted(SEED_CONTRACT_FILES)
    fresh = CTGAN(make_metadata(), embedding_dim=4, generator_dim=(8,), discriminator_dim=(8, 8, 8), pac=5)
    assert fresh.load(path) is fresh
    assert fresh.is_fitted
    assert (fresh.embedding_dim, fresh.generator_dim, fresh.pac) == (16, (32, 32), 10)
    pd.testing.assert_frame_equal(fresh.sample(150, seed=21), expected)
    pd.testing.assert_frame_equal(CTGAN().load(path).sample(30, seed=3, conditions={"city": "Austin"}),
                                  fitted.sample(30, seed=3, conditions={"city": "Austin"}))
    manifest = json.loads((path / "metadata.json").read_text())
    assert manifest["seed"] == 11
    assert manifest["hyper_parameters"]["generator_dim"] == [32, 32]
    assert manifest["column_schema"]["columns"] == list(fitted.columns_)
    assert manifest["column_schema"]["sdtypes"]["customer_id"] == "id"


def test_context_model_round_trip(fitted_with_context: CTGAN, parents: pd.DataFrame, tmp_path: Path) -> None:
    ctx = parents.iloc[:25].reset_index(drop=True)
    expected = fitted_with_context.sample(25, context=ctx, seed=8)
    loaded = CTGAN().load(fitted_with_context.save(tmp_path / "ctx"))
    pd.testing.assert_frame_equal(loaded.sample(25, context=ctx, seed=8), expected)


def test_checkpoint_with_networks_in_the_reference_form_loads(fitted_with_context: CTGAN, parents: pd.DataFrame,
                                                               edit_manifest: EditManifest, tmp_path: Path) -> None:
    """Earlier checkpoints hold both networks in their reference form (one Linear per layer)."""
    path = fitted_with_context.save(tmp_path / "old")
    for name, network in (("generator.pt", fitted_with_context.generator_),
                          ("discriminator.pt", fitted_with_context.discriminator_)):
        (path / name).write_bytes(encode_state_dict(network.reference_state_dict()))
    edit_manifest(path, rehash=["generator.pt", "discriminator.pt"])
    assert "body.0.fc.weight" in torch.load(path / "generator.pt", weights_only=True)
    loaded = CTGAN().load(path)
    for key, value in fitted_with_context.discriminator_.state_dict().items():
        assert torch.equal(value, loaded.discriminator_.state_dict()[key]), key
    ctx = parents.iloc[:40].reset_index(drop=True)
    pd.testing.assert_frame_equal(CTGAN().load(path).sample(40, context=ctx, seed=5),
                                  fitted_with_context.sample(40, context=ctx, seed=5))


def test_save_overwrite_semantics(fitted: CTGAN, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fitted.save(tmp_path / "m")
    with pytest.raises(SerializationError, match="already exists.*overwrite=True"):
        fitted.save(path)
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    import syntho_hive.core.checkpoint as checkpoint_module

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash while writing weights")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash)
    with pytest.raises(SerializationError, match="simulated crash"):
        fitted.save(path, overwrite=True)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    fitted.save(path, overwrite=True)
    pd.testing.assert_frame_equal(CTGAN().load(path).sample(20, seed=1), fitted.sample(20, seed=1))


def test_load_errors(fitted: CTGAN, tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="does not exist"):
        CTGAN().load(tmp_path / "missing")
    path = fitted.save(tmp_path / "m")
    (path / "embedding_layers.joblib").unlink()
    with pytest.raises(SerializationError, match="missing file embedding_layers.joblib"):
        CTGAN().load(path)
    path = fitted.save(tmp_path / "m2")
    blob = bytearray((path / "transformer.joblib").read_bytes())
    blob[-10] ^= 0x01
    (path / "transformer.joblib").write_bytes(bytes(blob))
    with pytest.raises(SerializationError, match="transformer.joblib failed its checksum"):
        CTGAN().load(path)
    path = fitted.save(tmp_path / "m3")
    weights = (path / "generator.pt").read_bytes()
    (path / "generator.pt").write_bytes(weights[:100])
    with pytest.raises(SerializationError, match="generator.pt has 100 bytes.*truncated"):
        CTGAN().load(path)


def test_version_mismatch_warns_and_still_loads(fitted: CTGAN, edit_manifest: EditManifest, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "m")
    edit_manifest(path, lambda manifest: manifest.update(version="0.0.0-old"))
    with capture_logs() as logs:
        model = CTGAN().load(path)
    warnings = [e for e in logs if e["event"] == "checkpoint_version_mismatch"]
    assert warnings and warnings[0]["log_level"] == "warning"
    pd.testing.assert_frame_equal(model.sample(10, seed=2), fitted.sample(10, seed=2))


# ----------------------------------------------------------------------------- training outputs
def test_training_events(customers: pd.DataFrame, make_metadata: MetadataFactory) -> None:
    with capture_logs() as logs:
        CTGAN(make_metadata(), **{**SMALL, "epochs": 3}).fit(customers, seed=1, progress_bar=False)
    names = [e["event"] for e in logs]
    assert names.count("training_start") == 1 and names.count("training_complete") == 1
    epochs = [e for e in logs if e["event"] == "epoch_end"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for event in epochs:
        assert {"g_loss", "d_loss", "eta_seconds"} <= set(event)
        assert np.isfinite(event["g_loss"]) and event["eta_seconds"] >= 0
    assert epochs[-1]["eta_seconds"] == 0


def test_diverging_loss_raises_training_error(customers: pd.DataFrame, make_metadata: MetadataFactory) -> None:
    model = CTGAN(make_metadata(), **{**SMALL, "discriminator_lr": 1e300})  # finite, but the weights blow up
    with pytest.raises(TrainingError, match="diverged at epoch 1"):
        model.fit(customers, seed=0, progress_bar=False)
    assert not model.is_fitted


def test_checkpoint_dir_outputs(customers: pd.DataFrame, tmp_path: Path, make_metadata: MetadataFactory) -> None:
    model = CTGAN(make_metadata(), **{**SMALL, "epochs": 3}).fit(
        customers, seed=2, progress_bar=False, checkpoint_dir=tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"best_checkpoint", "final_checkpoint", "training_metrics.csv"}
    with (tmp_path / "training_metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"epoch", "g_loss", "d_loss", "val_score", "seconds"}
    scores = [float(r["val_score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    final = CTGAN().load(tmp_path / "final_checkpoint")
    pd.testing.assert_frame_equal(final.sample(20, seed=1), model.sample(20, seed=1))
    best = CTGAN().load(tmp_path / "best_checkpoint")
    assert len(best.sample(20, seed=1)) == 20
    if int(np.argmax(scores)) == len(scores) - 1:
        pd.testing.assert_frame_equal(best.sample(20, seed=1), model.sample(20, seed=1))
    else:
        assert not best.sample(20, seed=1).equals(model.sample(20, seed=1))


# ----------------------------------------------------------------------------- schema and constraints
def test_without_metadata_the_schema_is_detected(customers: pd.DataFrame) -> None:
    model = CTGAN(**SMALL).fit(customers, seed=0, progress_bar=True)
    assert model.transformer_.sdtypes_["customer_id"] == "id"
    synthetic = model.sample(300, seed=0)
    assert synthetic["customer_id"].is_unique
    assert synthetic.dtypes.to_dict() == customers.dtypes.to_dict()


def test_declared_constraints_hold_in_every_sample() -> None:
    rng = np.random.default_rng(4)
    start = rng.integers(0, 100, 300)
    data = pd.DataFrame({"start": start, "end": start + rng.integers(0, 30, 300),
                         "score": np.round(rng.uniform(0, 10, 300), 1),
                         "kind": rng.choice(["x", "y"], 300)})
    metadata = Metadata().add_table(
        "spans", columns={"start": "numerical", "end": "numerical", "score": "numerical", "kind": "categorical"},
        constraints={"score": Constraint(min=0, max=10)}, inequalities=[("start", "end")])
    model = CTGAN(metadata, **SMALL).fit(data, seed=0, progress_bar=False)
    synthetic = model.sample(400, seed=3, enforce_constraints=True)
    assert len(synthetic) == 400
    assert (synthetic["start"] <= synthetic["end"]).all()
    assert synthetic["score"].between(0, 10).all()
    assert model.constraint_engine_.is_valid(synthetic).all()
