"""The checkpoint directory format: files, manifest, atomic overwrite, verified loading."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest
import torch
from structlog.testing import capture_logs

from syntho_hive.core import checkpoint as ckpt
from syntho_hive.core.checkpoint import Checkpoint, CheckpointFiles, load_checkpoint, save_checkpoint
from syntho_hive.exceptions import SerializationError


def _checkpoint(scale: float = 1.0) -> Checkpoint:
    gen = torch.Generator().manual_seed(0)
    return Checkpoint(
        generator_state={"w": torch.randn(4, 3, generator=gen) * scale, "b": torch.zeros(3)},
        discriminator_state={"w": torch.randn(2, 2, generator=gen)},
        transformer={"data_transformer": {"kind": "stand-in", "scale": scale}},
        context_transformer=None,
        embedding_layers={"conditional_layout": [1, 2, 3]},
        data_column_info=["a", "b"],
        hyper_parameters={"embedding_dim": 8, "generator_dim": [16, 16]},
        column_schema={"columns": ["a", "b"]},
        seed=7,
    )


def test_save_writes_every_file_and_a_manifest(tmp_path: Path) -> None:
    target = save_checkpoint(_checkpoint(), tmp_path / "model")
    assert sorted(p.name for p in target.iterdir()) == sorted(CheckpointFiles.ALL)
    manifest = json.loads((target / CheckpointFiles.METADATA).read_text())
    assert manifest["version"] == ckpt.running_version()
    assert manifest["seed"] == 7
    assert manifest["hyper_parameters"]["generator_dim"] == [16, 16]
    assert manifest["column_schema"] == {"columns": ["a", "b"]}
    assert manifest["saved_at"].endswith("+00:00")
    assert set(manifest["files"]) == set(CheckpointFiles.PAYLOAD)
    assert manifest["files"][CheckpointFiles.GENERATOR]["sha256"] == ckpt._sha256(target / CheckpointFiles.GENERATOR)
    # Nothing else was left beside the target.
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_round_trip(tmp_path: Path) -> None:
    original = _checkpoint()
    loaded = load_checkpoint(save_checkpoint(original, tmp_path / "m"))
    assert torch.equal(loaded.generator_state["w"], original.generator_state["w"])
    assert loaded.transformer == original.transformer
    assert loaded.context_transformer is None
    assert loaded.data_column_info == ["a", "b"]
    assert loaded.seed == 7 and loaded.model == "CTGAN"


def test_existing_path_without_overwrite(tmp_path: Path) -> None:
    save_checkpoint(_checkpoint(), tmp_path / "m")
    with pytest.raises(SerializationError, match=r"already exists.*overwrite=True"):
        save_checkpoint(_checkpoint(2.0), tmp_path / "m")


def test_overwrite_replaces_atomically(tmp_path: Path) -> None:
    save_checkpoint(_checkpoint(), tmp_path / "m")
    (tmp_path / "m" / "stale.txt").write_text("old")
    save_checkpoint(_checkpoint(2.0), tmp_path / "m", overwrite=True)
    loaded = load_checkpoint(tmp_path / "m")
    assert loaded.transformer["data_transformer"]["scale"] == 2.0
    assert not (tmp_path / "m" / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_crash_mid_save_keeps_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_checkpoint(_checkpoint(), tmp_path / "m")
    before = {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()}
    calls = {"n": 0}
    real_dump = joblib.dump

    def failing_dump(obj, path, *args, **kwargs):  # fails on the third pickle, mid-save
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real_dump(obj, path, *args, **kwargs)

    monkeypatch.setattr(ckpt.joblib, "dump", failing_dump)
    with pytest.raises(SerializationError, match="disk full.*unchanged"):
        save_checkpoint(_checkpoint(2.0), tmp_path / "m", overwrite=True)
    after = {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temp dir left behind
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "m").transformer["data_transformer"]["scale"] == 1.0


def test_leftovers_of_a_killed_save_are_cleaned(tmp_path: Path) -> None:
    leftover = tmp_path / ".m.tmp-deadbeef"
    leftover.mkdir()
    (leftover / CheckpointFiles.GENERATOR).write_bytes(b"partial")
    save_checkpoint(_checkpoint(), tmp_path / "m")
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_refuses_to_overwrite_a_directory_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "precious.csv").write_text("a,b\n")
    with pytest.raises(SerializationError, match="not a SynthoHive checkpoint"):
        save_checkpoint(_checkpoint(), tmp_path / "data", overwrite=True)
    assert (tmp_path / "data" / "precious.csv").exists()


def test_load_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")


@pytest.mark.parametrize("name", CheckpointFiles.ALL)
def test_load_missing_file(tmp_path: Path, name: str) -> None:
    target = save_checkpoint(_checkpoint(), tmp_path / "m")
    (target / name).unlink()
    with pytest.raises(SerializationError, match=rf"missing file {name}"):
        load_checkpoint(target)


@pytest.mark.parametrize("name", CheckpointFiles.PAYLOAD)
def test_load_checksum_mismatch(tmp_path: Path, name: str) -> None:
    target = save_checkpoint(_checkpoint(), tmp_path / "m")
    data = bytearray((target / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (target / name).write_bytes(bytes(data))
    with pytest.raises(SerializationError, match=rf"{name} failed its checksum"):
        load_checkpoint(target)


@pytest.mark.parametrize("name", CheckpointFiles.PAYLOAD)
def test_load_truncated_file(tmp_path: Path, name: str) -> None:
    target = save_checkpoint(_checkpoint(), tmp_path / "m")
    data = (target / name).read_bytes()
    (target / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(SerializationError, match=rf"{name} is truncated"):
        load_checkpoint(target)


def test_load_truncated_manifest(tmp_path: Path) -> None:
    target = save_checkpoint(_checkpoint(), tmp_path / "m")
    text = (target / CheckpointFiles.METADATA).read_text()
    (target / CheckpointFiles.METADATA).write_text(text[: len(text) // 2])
    with pytest.raises(SerializationError, match=r"metadata.json is corrupt or truncated"):
        load_checkpoint(target)


def test_corrupt_file_with_matching_checksum_is_reported(tmp_path: Path) -> None:
    """A file whose manifest entry was rewritten to match garbage still fails to load cleanly."""
    target = save_checkpoint(_checkpoint(), tmp_path / "m")
    (target / CheckpointFiles.GENERATOR).write_bytes(b"not a torch archive at all")
    manifest = json.loads((target / CheckpointFiles.METADATA).read_text())
    manifest["files"][CheckpointFiles.GENERATOR] = {
        "sha256": ckpt._sha256(target / CheckpointFiles.GENERATOR), "bytes": 26}
    (target / CheckpointFiles.METADATA).write_text(json.dumps(manifest))
    with pytest.raises(SerializationError, match=r"generator.pt is corrupt"):
        load_checkpoint(target)


def test_version_mismatch_warns_and_loads(tmp_path: Path) -> None:
    target = save_checkpoint(_checkpoint(), tmp_path / "m")
    manifest = json.loads((target / CheckpointFiles.METADATA).read_text())
    manifest["version"] = "0.0.1"
    (target / CheckpointFiles.METADATA).write_text(json.dumps(manifest))
    with capture_logs() as logs:
        loaded = load_checkpoint(target)
    events = [e for e in logs if e["event"] == "checkpoint_version_mismatch"]
    assert len(events) == 1
    assert events[0]["log_level"] == "warning"
    assert events[0]["saved_version"] == "0.0.1"
    assert loaded.version == "0.0.1"


def test_weights_are_loaded_to_the_requested_device(tmp_path: Path) -> None:
    target = save_checkpoint(_checkpoint(), tmp_path / "m")
    loaded = load_checkpoint(target, map_location="cpu")
    assert loaded.generator_state["w"].device.type == "cpu"
