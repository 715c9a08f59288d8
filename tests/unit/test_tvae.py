"""TVAE on small real-looking tables: fit, sample, conditions, context, seeds, checkpoints, errors (what it
shares with CTGAN: ``test_tabular_engines.py``; with every engine: ``test_model_contract.py``)."""

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

from syntho_hive._random import child_seed
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models import _tabular as tabular_module
from syntho_hive.core.models import CTGAN, TVAE
from syntho_hive.core.models._validation import column_shape_score, split_validation
from syntho_hive.exceptions import GenerationError, NotFittedError, SerializationError, TrainingError

SMALL = dict(embedding_dim=8, compress_dims=(32,), decompress_dims=(32,), batch_size=100, epochs=2, device="cpu")
# The shared fixtures make_customers, make_metadata and parents: tests/unit/conftest.py.
CustomersFactory = Callable[..., pd.DataFrame]
MetadataFactory = Callable[[], Metadata]


@pytest.fixture(scope="module")
def customers(make_customers: CustomersFactory) -> pd.DataFrame:
    return make_customers(240)


@pytest.fixture(scope="module")
def fitted(customers: pd.DataFrame, make_metadata: MetadataFactory) -> TVAE:
    return TVAE(make_metadata(), **SMALL).fit(customers, seed=11, progress_bar=False)


@pytest.fixture(scope="module")
def fitted_with_context(customers: pd.DataFrame, parents: pd.DataFrame, make_metadata: MetadataFactory) -> TVAE:
    return TVAE(make_metadata(), **SMALL).fit(customers, parents, seed=3, progress_bar=False)


# ----------------------------------------------------------------------------- fit / sample
def test_seed_gives_bit_identical_sampling_and_other_seeds_differ(fitted: TVAE) -> None:
    first = fitted.sample(120, seed=7)
    pd.testing.assert_frame_equal(first, fitted.sample(120, seed=7))
    assert not first.equals(fitted.sample(120, seed=8))


def test_seeded_training_is_bit_identical_and_leaves_global_rngs_alone(
        customers: pd.DataFrame, fitted: TVAE, make_metadata: MetadataFactory) -> None:
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    with capture_logs() as logs:
        again = TVAE(make_metadata(), **SMALL).fit(customers, seed=11, progress_bar=False)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)
    for mine, theirs in ((again.encoder_, fitted.encoder_), (again.decoder_, fitted.decoder_)):
        for (name, a), (_, b) in zip(mine.state_dict().items(), theirs.state_dict().items()):
            assert torch.equal(a, b), name
    pd.testing.assert_frame_equal(again.sample(50, seed=2), fitted.sample(50, seed=2))
    events = [entry["event"] for entry in logs]
    assert events.count("epoch_end") == SMALL["epochs"]
    assert events.index("training_start") < events.index("epoch_end") < events.index("training_complete")
    assert next(e for e in logs if e["event"] == "training_start")["rows"] == len(customers)  # nothing held out


def test_sigma_is_learned_within_its_range(fitted: TVAE) -> None:
    sigma = fitted.decoder_.sigma.detach()
    assert sigma.shape == (sum(c.dim for c in fitted.output_info_),)
    assert bool(((sigma >= 0.01) & (sigma <= 1.0)).all())
    assert not torch.all(sigma == 0.1)  # trained away from its initial value


# ----------------------------------------------------------------------------- conditions
def test_conditions_yield_only_matching_rows(fitted: TVAE) -> None:
    rows = fitted.sample(60, seed=3, conditions={"city": "Seattle", "plan": "premium"})
    assert len(rows) == 60
    assert (rows["city"] == "Seattle").all() and (rows["plan"] == "premium").all()
    assert rows["customer_id"].is_unique
    pd.testing.assert_frame_equal(rows, fitted.sample(60, seed=3, conditions={"city": "Seattle",
                                                                                "plan": "premium"}))


def test_conditions_through_fixed_combinations_and_unmeetable_conditions(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    pairs = [("Boston", "US"), ("Denver", "US"), ("Lyon", "FR"), ("Paris", "FR")]
    picks = rng.integers(0, len(pairs), 200)
    picks[0] = 4  # one shop in Oslo: a category the model (almost) never generates
    pairs.append(("Oslo", "NO"))
    data = pd.DataFrame({"city": [pairs[i][0] for i in picks], "country": [pairs[i][1] for i in picks],
                         "spend": np.round(rng.gamma(2.0, 30.0, 200), 2)})
    metadata = Metadata().add_table("shops", columns={"city": "categorical", "country": "categorical",
                                                      "spend": "numerical"},
                                    fixed_combinations=[["city", "country"]])
    model = TVAE(metadata, **SMALL).fit(data, seed=0, progress_bar=False)
    french = model.sample(40, seed=1, conditions={"country": "FR"})
    assert (french["country"] == "FR").all() and set(french["city"]) <= {"Lyon", "Paris"}
    assert set(zip(*model.sample(200, seed=2)[["city", "country"]].T.values)) <= set(pairs)
    # Each value exists, the combination never does: refused at once, before generating anything.
    with pytest.raises(GenerationError, match=r"contradict a fixed-combination constraint of table 'shops'"):
        model.sample(5, seed=3, conditions={"city": "Boston", "country": "FR"})
    both = model.sample(20, seed=3, conditions={"city": "Paris", "country": "FR"})
    assert (both["city"] == "Paris").all() and (both["country"] == "FR").all()
    # A value held by one row is protected (rare_threshold, default 5): it cannot be conditioned on.
    with pytest.raises(GenerationError, match=r"city='Oslo'.*protected"):
        model.sample(5, seed=3, conditions={"city": "Oslo"})
    # Without the protection it is a possible but (here) never generated condition: rejection gives up
    # after bounded rounds.
    unprotected = TVAE(metadata, **SMALL, rare_threshold=1).fit(data, seed=0, progress_bar=False)
    monkeypatch.setattr(tabular_module, "MAX_ROUNDS", 1)
    with pytest.raises(GenerationError, match=r"after 1 rounds"):
        unprotected.sample(50, seed=3, conditions={"city": "Oslo"})


# ----------------------------------------------------------------------------- context
def test_the_encoder_reads_the_data_and_context_spans(fitted_with_context: TVAE) -> None:
    data_dim = sum(c.dim for c in fitted_with_context.output_info_)
    context_dim = fitted_with_context.context_transformer_.output_dim_
    assert context_dim > 0
    assert fitted_with_context.encoder_.body[0].in_features == data_dim + context_dim


# ----------------------------------------------------------------------------- checkpoints
def test_save_load_round_trip_in_a_fresh_object(fitted: TVAE, fitted_with_context: TVAE, parents: pd.DataFrame,
                                                 tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "tvae")
    files = {"encoder.pt", "decoder.pt", "transformer.joblib", "context_transformer.joblib", "data_column_info.joblib",
             "reference_profile.json"}
    assert sorted(p.name for p in path.iterdir()) == sorted([*files, "metadata.json"])
    manifest = json.loads((path / "metadata.json").read_text())
    assert manifest["model"] == "TVAE" and set(manifest["files"]) == files
    loaded = TVAE(embedding_dim=64, compress_dims=(4,), decompress_dims=(4, 4)).load(path)
    assert loaded.is_fitted and loaded.hyper_parameters() == fitted.hyper_parameters()
    pd.testing.assert_frame_equal(loaded.sample(80, seed=5), fitted.sample(80, seed=5))
    ctx = parents.iloc[:25].reset_index(drop=True)
    loaded_ctx = TVAE().load(fitted_with_context.save(tmp_path / "ctx"))
    pd.testing.assert_frame_equal(loaded_ctx.sample(25, context=ctx, seed=6),
                                  fitted_with_context.sample(25, context=ctx, seed=6))
    with pytest.raises(SerializationError, match="already exists"):
        fitted.save(path)
    fitted.save(path, overwrite=True)


def test_corrupt_or_foreign_checkpoints_raise_serialization_error(fitted: TVAE, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "tvae")
    with pytest.raises(SerializationError, match="holds a TVAE model, not CTGAN"):
        CTGAN(device="cpu").load(path)  # named before CTGAN's files are looked for
    data = bytearray((path / "decoder.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / "decoder.pt").write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="checksum"):
        TVAE().load(path)
    (path / "encoder.pt").unlink()
    with pytest.raises(SerializationError, match="missing file encoder.pt"):
        TVAE().load(path)
    with pytest.raises(SerializationError, match="does not exist"):
        TVAE().load(tmp_path / "nowhere")
    ctgan_dir = tmp_path / "ctgan"
    ctgan_dir.mkdir()
    (ctgan_dir / "metadata.json").write_text(json.dumps({"format": "synthohive-checkpoint", "format_version": 1,
                                                         "model": "CTGAN", "version": "0", "hyper_parameters": {},
                                                         "column_schema": {}, "files": {}}))
    with pytest.raises(SerializationError, match="holds a CTGAN model, not TVAE"):
        TVAE().load(ctgan_dir)


def test_checkpoint_dir_keeps_the_best_validation_epoch_final_checkpoint_and_metrics(
        customers: pd.DataFrame, tmp_path: Path, make_metadata: MetadataFactory) -> None:
    seed, epochs = 3, 4
    with capture_logs() as logs:
        model = TVAE(make_metadata(), **{**SMALL, "epochs": epochs}).fit(
            customers, seed=seed, progress_bar=False, checkpoint_dir=tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"best_checkpoint", "final_checkpoint", "training_metrics.csv"}
    held_out = round(0.1 * len(customers))
    assert next(e for e in logs if e["event"] == "training_start")["rows"] == len(customers) - held_out
    with (tmp_path / "training_metrics.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["epoch", "loss", "reconstruction", "kl", "val_score", "seconds"]
    assert [int(r["epoch"]) for r in rows] == list(range(1, epochs + 1))
    assert all(np.isfinite(float(r["loss"])) and float(r["seconds"]) >= 0 for r in rows)
    scores = [float(r["val_score"]) for r in rows]
    assert all(0.0 < s <= 1.0 for s in scores)
    best_epoch = int(np.argmax(scores)) + 1
    # Re-score the held-out rows the way fit did, through public routes: the loaded best_checkpoint
    # reproduces the best recorded val_score (its weights are that epoch's), final_checkpoint the last.
    (validation, _), _ = split_validation(customers, None, seed, 0.1)
    declared = json.loads((tmp_path / "final_checkpoint" / "metadata.json").read_text())["column_schema"]["sdtypes"]

    def rescore(checkpoint: str, epoch: int) -> float:
        synthetic = TVAE().load(tmp_path / checkpoint).sample(len(validation), seed=child_seed(seed, "validation",
                                                                                               epoch))
        return column_shape_score(validation, synthetic, {**make_metadata().tables["customers"].columns,
                                                          **declared})

    assert len(validation) == held_out
    assert rescore("best_checkpoint", best_epoch) == pytest.approx(max(scores), abs=1e-12)
    assert rescore("final_checkpoint", epochs) == pytest.approx(scores[-1], abs=1e-12)
    final = TVAE().load(tmp_path / "final_checkpoint")
    pd.testing.assert_frame_equal(final.sample(30, seed=4), model.sample(30, seed=4))
    best = TVAE().load(tmp_path / "best_checkpoint")
    assert [h["epoch"] for h in best.history_] == list(range(1, best_epoch + 1))  # its epochs so far


def test_checkpoint_every_and_checkpoint_argument_errors(customers: pd.DataFrame, tmp_path: Path,
                                                         make_metadata: MetadataFactory) -> None:
    TVAE(make_metadata(), **{**SMALL, "epochs": 5}).fit(customers, seed=0, progress_bar=False,
                                                         checkpoint_dir=tmp_path, checkpoint_every=2)
    with (tmp_path / "training_metrics.csv").open(encoding="utf-8", newline="") as handle:
        scored = [int(r["epoch"]) for r in csv.DictReader(handle) if r["val_score"]]
    assert scored == [2, 4, 5]  # every second epoch and the last one
    model = TVAE(make_metadata(), **SMALL)
    with pytest.raises(TrainingError, match="checkpoint_every must be a positive integer"):
        model.fit(customers, checkpoint_dir=tmp_path / "a", checkpoint_every=0, progress_bar=False)
    with pytest.raises(TrainingError, match="validation_fraction must be in"):
        model.fit(customers, checkpoint_dir=tmp_path / "b", validation_fraction=1.0, progress_bar=False)
    with pytest.raises(TrainingError, match="Too few rows"):
        model.fit(customers.iloc[:1], checkpoint_dir=tmp_path / "c", progress_bar=False)
    assert not model.is_fitted


def test_synthesizer_keeps_a_tvae_best_checkpoint_for_a_child_table_with_context(
        tmp_path: Path, make_customers: CustomersFactory) -> None:
    from syntho_hive import Synthesizer

    customers = make_customers(120, seed=2)
    rng = np.random.default_rng(4)
    per_customer = rng.poisson(np.where(customers["plan"] == "premium", 4.0, 1.5))
    orders = pd.DataFrame({"order_id": np.arange(1, per_customer.sum() + 1),
                           "customer_id": np.repeat(customers["customer_id"].to_numpy(), per_customer),
                           "amount": np.round(rng.lognormal(4.0, 0.5, per_customer.sum()), 2),
                           "channel": rng.choice(["web", "store"], per_customer.sum())})
    metadata = Metadata()
    metadata.add_table("customers", pk="customer_id")
    metadata.add_table("orders", pk="order_id", fk={"customer_id": "customers.customer_id"},
                       parent_context_cols=["plan"])
    Synthesizer(metadata, model=TVAE, seed=1, embedding_dim=8, compress_dims=(16,), decompress_dims=(16,),
                device="cpu").fit({"customers": customers, "orders": orders}, epochs=2, batch_size=100,
                                  progress_bar=False, checkpoint_dir=tmp_path)
    for table in ("customers", "orders"):
        with (tmp_path / table / "training_metrics.csv").open(encoding="utf-8", newline="") as handle:
            scores = [float(r["val_score"]) for r in csv.DictReader(handle)]
        assert len(scores) == 2 and all(0.0 < s <= 1.0 for s in scores), table
        assert json.loads((tmp_path / table / "best_checkpoint" / "metadata.json").read_text())["model"] == "TVAE"
        assert (tmp_path / table / "final_checkpoint" / "metadata.json").is_file()
    child = TVAE().load(tmp_path / "orders" / "best_checkpoint")
    assert child.context_transformer_ is not None  # trained (and validated) with the parent's context
    assert len(child.context_columns_) == 1  # the parent's plan
    parents = customers[["plan"]].iloc[:10].set_axis(child.context_columns_, axis=1)
    rows = child.sample(10, context=parents, seed=0)
    assert len(rows) == 10 and set(rows["channel"]) <= {"web", "store"}


# ----------------------------------------------------------------------------- errors
def test_not_fitted_and_argument_errors(fitted: TVAE, customers: pd.DataFrame, tmp_path: Path,
                                        make_metadata: MetadataFactory) -> None:
    model = TVAE(make_metadata(), **SMALL)
    with pytest.raises(NotFittedError, match="fit.*load"):
        model.sample(5)
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m")
    with pytest.raises(GenerationError, match="Unknown sample"):
        fitted.sample(5, temperature=2.0)
    with pytest.raises(TrainingError, match="Unknown fit"):
        TVAE(make_metadata(), **SMALL).fit(customers, pac=10)
    with pytest.raises(TrainingError, match="compress_dims must be a non-empty sequence of positive integers"):
        TVAE(make_metadata(), **{**SMALL, "compress_dims": (0,)}).fit(customers, progress_bar=False)
    with pytest.raises(TrainingError, match="loss_factor must be a positive number"):
        TVAE(make_metadata(), **{**SMALL, "loss_factor": 0}).fit(customers, progress_bar=False)
    with pytest.raises(TrainingError, match="empty table"):
        TVAE(make_metadata(), **SMALL).fit(customers.iloc[:0], progress_bar=False)


def test_diverging_loss_raises_training_error(customers: pd.DataFrame, make_metadata: MetadataFactory) -> None:
    model = TVAE(make_metadata(), **{**SMALL, "epochs": 1, "loss_factor": 1e38})
    with pytest.raises(TrainingError, match="diverged at epoch 1"):
        model.fit(customers, seed=0, progress_bar=False)
    assert not model.is_fitted


@pytest.mark.slow
def test_training_learns_marginals_and_the_parent_child_dependency(make_metadata: MetadataFactory,
                                                                   make_customers: CustomersFactory) -> None:
    data = make_customers(1000, seed=0)
    rng = np.random.default_rng(1)
    segment = rng.choice(["smb", "enterprise"], len(data))
    data["plan"] = np.where(segment == "enterprise", "premium", "basic")  # the child copies its parent
    context = pd.DataFrame({"segment": segment})
    model = TVAE(make_metadata(), embedding_dim=32, compress_dims=(64, 64), decompress_dims=(64, 64),
                 batch_size=200, epochs=40, device="cpu").fit(data, context, seed=0, progress_bar=False)
    assert model.history_[-1]["loss"] < 0.6 * model.history_[0]["loss"]
    synthetic = model.sample(len(data), context, seed=3)
    agreement = (synthetic["plan"].eq("premium").to_numpy() == (segment == "enterprise")).mean()
    assert agreement > 0.75
    real_share = data["city"].value_counts(normalize=True)
    synthetic_share = synthetic["city"].value_counts(normalize=True).reindex(real_share.index, fill_value=0.0)
    assert 0.5 * (real_share - synthetic_share).abs().sum() < 0.1  # total variation distance


def test_quality_gates_and_profile_survive_save_and_load(tmp_path) -> None:
    from syntho_hive.core.quality import SampleQuality
    from syntho_hive.exceptions import QualityError

    data = _gate_frame()
    model = TVAE(epochs=1, batch_size=100, compress_dims=(16,), decompress_dims=(16,), embedding_dim=8)
    model.fit(data, seed=3, progress_bar=False)
    frame, metrics = model.sample(50, seed=1, return_metrics=True)
    assert isinstance(metrics, SampleQuality) and set(metrics.column_shapes) == {"amount", "city"}
    with pytest.raises(QualityError) as err:
        model.sample(50, seed=1, quality_threshold=1.0)
    assert set(err.value.failures) == {"amount", "city"}
    model.save(tmp_path / "ckpt")
    fresh = TVAE().load(tmp_path / "ckpt")
    again, metrics_again = fresh.sample(50, seed=1, return_metrics=True)
    pd.testing.assert_frame_equal(frame, again)
    assert metrics_again.column_shapes == metrics.column_shapes


def _gate_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"amount": rng.gamma(2.0, 30.0, 200).round(2),
                         "city": rng.choice(["Oslo", "Lima", "Pune"], 200)})


def test_column_names_must_be_unique_strings() -> None:
    from syntho_hive.exceptions import SchemaError

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 2)))  # columns 0 and 1
    with pytest.raises(SchemaError, match="Column names of data must be strings, got \\[0, 1\\]"):
        TVAE(epochs=1).fit(frame, progress_bar=False)
    with pytest.raises(SchemaError, match="repeat"):
        TVAE(epochs=1).fit(frame.set_axis(["a", "a"], axis=1), progress_bar=False)


def test_conditions_accept_display_labels_as_ctgan_does() -> None:
    """``{"flag": "True"}`` or ``{"code": "2"}`` (labels of a boolean and an int categorical) are matched
    on the generated categories; comparing decoded values with the raw label never matched."""
    from syntho_hive.core.metadata.schema import Metadata

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"flag": rng.random(300) < 0.4, "code": rng.integers(1, 4, 300), "x": rng.normal(size=300)})
    model = TVAE(Metadata().add_table("t", columns={"code": "categorical"}), epochs=2).fit(
        frame, table_name="t", seed=0, progress_bar=False)
    assert model.sample(40, seed=1, conditions={"flag": "True"})["flag"].tolist() == [True] * 40
    assert model.sample(40, seed=1, conditions={"code": "2"})["code"].tolist() == [2] * 40
