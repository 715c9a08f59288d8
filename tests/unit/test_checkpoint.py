"""The checkpoint format (core/checkpoint.py): manifest, verification, atomic and crash-safe saves.

These tests use :class:`CheckpointContent` directly with stand-in files; the engines' use of it is
covered by tests/unit/test_model_contract.py.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from structlog.testing import capture_logs

from syntho_hive.core import checkpoint as ckpt
from syntho_hive.core.checkpoint import MANIFEST, CheckpointContent
from syntho_hive.exceptions import SerializationError


def _content(tag: str = "a") -> CheckpointContent:
    payload = {"weights.pt": ckpt.encode_state_dict({"w": torch.arange(6.0).reshape(2, 3)}),
               "state.json": ckpt.encode_json({"tag": tag})}
    manifest = CheckpointContent.manifest_fields(model="Toy", seed=7, hyper_parameters={"width": 3},
                                                 column_schema={"columns": ["a"]}, extra={})
    return CheckpointContent.build(payload, manifest)


def _read_tag(path: Path) -> str:
    content = CheckpointContent.read(path)
    content.verify(content.manifest())
    return json.loads(content.files["state.json"])["tag"]


def test_write_then_read_round_trips_every_file(tmp_path: Path) -> None:
    original = _content()
    target = original.write(tmp_path / "m")
    assert sorted(p.name for p in target.iterdir()) == sorted(original.files)
    loaded = CheckpointContent.read(target)
    assert loaded.files == original.files
    manifest = loaded.manifest()
    assert manifest["format"] == ckpt.FORMAT and manifest["format_version"] == ckpt.FORMAT_VERSION
    assert manifest["saved_at"].endswith("+00:00")
    loaded.verify(manifest, allowed={"weights.pt", "state.json"}, required=["weights.pt"])
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # nothing left beside it


def test_bytes_hold_the_same_files_as_the_directory(tmp_path: Path) -> None:
    original = _content()
    target = original.write(tmp_path / "m")
    assert CheckpointContent.from_bytes(original.to_bytes()).files == CheckpointContent.read(target).files
    assert original.to_bytes() == original.to_bytes()  # deterministic archive


@pytest.mark.parametrize("blob", [b"", b"not a zip", 12, "text"])
def test_from_bytes_refuses_what_is_not_an_archive(blob) -> None:
    with pytest.raises(SerializationError):
        CheckpointContent.from_bytes(blob)


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_from_bytes_refuses_compressed_entries_before_inflating_them(compression: int) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, raw in _content().files.items():
            archive.writestr(name, raw)
    with pytest.raises(SerializationError, match="compressed or encrypted"):
        CheckpointContent.from_bytes(buffer.getvalue())


def test_from_bytes_refuses_encrypted_or_unknown_entries() -> None:
    blob = bytearray(_content().to_bytes())
    central = blob.rfind(b"PK\x01\x02")  # the last central-directory entry: set its "encrypted" flag
    blob[central + 8] |= 0x1
    with pytest.raises(SerializationError):
        CheckpointContent.from_bytes(bytes(blob))


@pytest.mark.parametrize("name", ["../evil.json", "/abs.json", "a/../../b", "a\\b"])
def test_names_outside_the_checkpoint_are_refused(name: str) -> None:
    content = _content()
    manifest = content.manifest()
    manifest["files"][name] = {"sha256": "0" * 64, "bytes": 1}
    with pytest.raises(SerializationError, match="outside the checkpoint|plain relative path"):
        content.verify(manifest)


def test_existing_path_needs_overwrite(tmp_path: Path) -> None:
    _content().write(tmp_path / "m")
    with pytest.raises(SerializationError, match=r"already exists.*overwrite=True"):
        _content("b").write(tmp_path / "m")
    _content("b").write(tmp_path / "m", overwrite=True)
    assert _read_tag(tmp_path / "m") == "b"


def test_overwrite_never_deletes_a_folder_with_user_files(tmp_path: Path) -> None:
    target = _content().write(tmp_path / "m")
    (target / "notes.txt").write_text("mine")
    with pytest.raises(SerializationError, match="not recognisably a SynthoHive checkpoint"):
        _content("b").write(target, overwrite=True)
    assert (target / "notes.txt").read_text() == "mine"
    # A folder holding some other metadata.json is not a checkpoint either (the old rule deleted it).
    other = tmp_path / "project"
    other.mkdir()
    (other / MANIFEST).write_text(json.dumps({"name": "my project"}))
    (other / "data.csv").write_text("a\n1\n")
    with pytest.raises(SerializationError, match="not recognisably"):
        _content().write(other, overwrite=True)
    assert (other / "data.csv").exists()


def test_an_error_mid_save_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    _content("old").write(tmp_path / "m")
    broken = _content("new")
    broken.files["state.json"] = object()  # type: ignore[assignment]  # not bytes: writing it fails
    with pytest.raises(SerializationError, match="unchanged"):
        broken.write(tmp_path / "m", overwrite=True)
    assert _read_tag(tmp_path / "m") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


_CRASHING_SAVE = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_checkpoint import _content
    import syntho_hive.core.checkpoint as ckpt
    crash_at, kind = int(sys.argv[1]), sys.argv[2]
    calls = {{"n": 0}}
    def crash(real):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == crash_at:
                os._exit(17)  # a kill: no cleanup, no exception handlers
            return real(*args, **kwargs)
        return wrapped
    if kind == "replace":
        os.replace = crash(os.replace)
    else:
        ckpt._write_file = crash(ckpt._write_file)
    _content("new").write(Path(sys.argv[3]), overwrite=True)
""")


@pytest.mark.parametrize(("crash_at", "kind"), [(1, "write"), (2, "write"), (3, "write"), (1, "replace"),
                                                (2, "replace")])
def test_a_kill_at_any_point_of_a_save_leaves_a_loadable_checkpoint(tmp_path: Path, crash_at: int,
                                                                   kind: str) -> None:
    target = _content("old").write(tmp_path / "m")
    script = _CRASHING_SAVE.format(tests=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", script, str(crash_at), kind, str(target)], check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 17, done.stderr
    assert _read_tag(target) == "old"  # the save never finished: the previous checkpoint is there
    # The next save cleans every leftover and replaces the recovered checkpoint.
    _content("next").write(target, overwrite=True)
    assert _read_tag(target) == "next"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_load_recovers_the_previous_checkpoint_left_between_the_renames(tmp_path: Path) -> None:
    target = _content("old").write(tmp_path / "m")
    os.replace(target, tmp_path / ".m.old-123")  # what a kill between the two renames leaves
    (tmp_path / ".m.tmp-456").mkdir()  # and a half-written new one
    with capture_logs() as logs:
        assert _read_tag(target) == "old"
    assert any(entry["event"] == "checkpoint_recovered" for entry in logs)
    assert target.is_dir()


def test_a_file_added_after_saving_is_refused(tmp_path: Path) -> None:
    target = _content().write(tmp_path / "m")
    (target / "extra.joblib").write_bytes(b"x")
    content = CheckpointContent.read(target)
    with pytest.raises(SerializationError, match="does not list"):
        content.verify(content.manifest())


@pytest.mark.parametrize("damage", ["truncate", "flip", "remove"])
def test_damaged_files_are_refused_before_decoding(tmp_path: Path, damage: str) -> None:
    target = _content().write(tmp_path / "m")
    path = target / "weights.pt"
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[:20])
    elif damage == "flip":
        path.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    else:
        path.unlink()
    content = CheckpointContent.read(target)
    with pytest.raises(SerializationError, match="truncated|checksum|missing"):
        content.verify(content.manifest())


@pytest.mark.parametrize(("field", "value", "message"), [
    ("format", "someone-else", "declares format"),
    ("format_version", 999, r"version 999, newer than version 1"),
    ("format_version", "1", "invalid format_version"),
    ("format_version", None, "invalid format_version"),
])
def test_format_and_version_are_checked(field: str, value, message: str) -> None:
    manifest = _content().manifest()
    manifest[field] = value
    with pytest.raises(SerializationError, match=message):
        ckpt.check_format(manifest, "here")


@pytest.mark.parametrize("entry", [{"sha256": "0" * 64, "bytes": "12"}, {"sha256": "0" * 64, "bytes": -1},
                                   {"sha256": "xyz", "bytes": 1}, None, {"bytes": 1}, {"sha256": "0" * 64,
                                                                                        "bytes": True}])
def test_malformed_manifest_entries_are_refused(entry) -> None:
    content = _content()
    manifest = content.manifest()
    manifest["files"]["state.json"] = entry
    with pytest.raises(SerializationError, match="malformed entry"):
        content.verify(manifest)


def test_deeply_nested_or_invalid_json_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="invalid JSON"):
        ckpt.decode_json(b"[" * 100_000 + b"]" * 100_000, "deep.json")
    with pytest.raises(SerializationError, match="invalid JSON"):
        ckpt.decode_json(b"\xff\xfe", "bad.json")


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_state_dicts_are_loaded_with_weights_only() -> None:
    import pickle

    evil = pickle.dumps({"w": torch.zeros(1), "x": print})
    with pytest.raises(SerializationError, match="cannot be read|state dict"):
        ckpt.decode_state_dict(evil, "w.pt")
    buffer = io.BytesIO()
    torch.save([torch.zeros(1)], buffer)  # loadable with weights_only, but not a state dict
    with pytest.raises(SerializationError, match="state dict"):
        ckpt.decode_state_dict(buffer.getvalue(), "w.pt")


def test_files_an_operating_system_drops_in_a_folder_are_ignored(tmp_path: Path) -> None:
    target = _content().write(tmp_path / "m")
    (target / ".DS_Store").write_bytes(b"\x00\x01")
    assert _read_tag(target) == "a"
    _content("b").write(target, overwrite=True)
    assert _read_tag(target) == "b"
