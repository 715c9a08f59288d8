"""The checkpoint directory format, in one place.

A checkpoint is a directory::

    generator.pt                 generator state dict (torch.save)
    discriminator.pt             critic state dict (torch.save)
    transformer.joblib           the fitted preprocessing (data transformer + constraint engine)
    context_transformer.joblib   the fitted parent-context transformer, or None
    embedding_layers.joblib      the conditional-vector layout the networks were trained with
    data_column_info.joblib      the transformer's output spans (list of ColumnSpans)
    reference_profile.json       privacy-safe reference of the training marginals (quantile
                                 sketches, category counts) for the sampling quality gates, or
                                 ``null``; optional: checkpoints saved before it existed lack it
    metadata.json                manifest: format, version, model, hyper-parameters, column
                                 schema, seed, saved_at, and size + SHA-256 of every other file

That is CTGAN's file list (:class:`CheckpointFiles`). Other models keep the same layout with
their own list, through the generic helpers :func:`write_directory_atomically`,
:func:`write_manifest` (``metadata.json`` with the checksums of exactly the files given) and
:func:`verify_checkpoint`: TVAE writes ``encoder.pt`` / ``decoder.pt`` and no embedding layers
(:data:`syntho_hive.core.models.tvae.model.TVAE_FILES`).

Network weights are loaded with ``torch.load(..., weights_only=True)``.

Warning:
    The ``.joblib`` files are Python pickles: loading one can run arbitrary code. Load only
    checkpoints you trust. The SHA-256 checksums detect corruption and truncation, not an
    attacker (who can rewrite the manifest too).

Saving is atomic: everything is written to a temporary directory beside the target, then
swapped in with two renames, so an error or crash mid-save leaves the previous checkpoint
intact; leftovers of an interrupted save are removed by the next save to the same path.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import torch

from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError

__all__ = ["CheckpointFiles", "Checkpoint", "save_checkpoint", "load_checkpoint", "FORMAT_VERSION",
           "running_version", "write_directory_atomically", "write_manifest", "verify_checkpoint",
           "read_state_dict", "write_state_dict", "write_pickle", "read_pickle"]

_log = get_logger(__name__)

FORMAT_VERSION = 1


class CheckpointFiles:
    """The name of every file in a checkpoint directory."""

    GENERATOR = "generator.pt"
    DISCRIMINATOR = "discriminator.pt"
    TRANSFORMER = "transformer.joblib"
    CONTEXT_TRANSFORMER = "context_transformer.joblib"
    EMBEDDING_LAYERS = "embedding_layers.joblib"
    DATA_COLUMN_INFO = "data_column_info.joblib"
    REFERENCE_PROFILE = "reference_profile.json"
    METADATA = "metadata.json"

    TORCH: tuple[str, ...] = (GENERATOR, DISCRIMINATOR)
    PICKLES: tuple[str, ...] = (TRANSFORMER, CONTEXT_TRANSFORMER, EMBEDDING_LAYERS, DATA_COLUMN_INFO)
    JSON: tuple[str, ...] = (REFERENCE_PROFILE,)
    #: Payload files that older checkpoints may lack (skipped on load when the manifest does not list them).
    OPTIONAL: tuple[str, ...] = (REFERENCE_PROFILE,)
    PAYLOAD: tuple[str, ...] = TORCH + PICKLES + JSON
    ALL: tuple[str, ...] = PAYLOAD + (METADATA,)


@dataclass
class Checkpoint:
    """Everything a checkpoint holds, in memory.

    Attributes:
        generator_state: Generator ``state_dict``.
        discriminator_state: Critic ``state_dict``.
        transformer: The fitted preprocessing object(s) (pickled).
        context_transformer: The fitted context transformer, or ``None``.
        embedding_layers: The conditional layout (pickled).
        data_column_info: The transformer's output spans (pickled).
        hyper_parameters: JSON-serialisable constructor and architecture parameters.
        column_schema: JSON-serialisable description of the modelled columns.
        seed: The training seed.
        model: Name of the model class that wrote the checkpoint.
        version: SynthoHive version that wrote it (filled in on save / from the manifest).
        saved_at: ISO-8601 UTC timestamp (filled in on save / from the manifest).
        extra: JSON-serialisable extra manifest entries.
        reference_profile: JSON-serialisable reference of the training marginals
            (:meth:`syntho_hive.core.quality.MarginalProfile.to_dict`), or ``None`` (also for
            checkpoints saved before profiles existed).
    """

    generator_state: Mapping[str, torch.Tensor]
    discriminator_state: Mapping[str, torch.Tensor]
    transformer: Any
    context_transformer: Any
    embedding_layers: Any
    data_column_info: Any
    hyper_parameters: dict[str, Any]
    column_schema: dict[str, Any]
    seed: int | None
    model: str = "CTGAN"
    version: str = ""
    saved_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    reference_profile: dict[str, Any] | None = None


def running_version() -> str:
    """The installed SynthoHive version."""
    from syntho_hive._version import __version__

    return str(__version__)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_torch(state: Mapping[str, torch.Tensor], path: Path) -> None:
    cpu_state = {key: value.detach().cpu() for key, value in state.items()}
    torch.save(cpu_state, path)


def _write_pickle(obj: Any, path: Path) -> None:
    joblib.dump(obj, path)


def _write_json(data: Mapping[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str), encoding="utf-8")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stale_siblings(target: Path) -> list[Path]:
    parent = target.parent
    if not parent.is_dir():
        return []
    prefixes = (f".{target.name}.tmp-", f".{target.name}.old-")
    return [p for p in parent.iterdir() if p.name.startswith(prefixes)]


def _write_all(checkpoint: Checkpoint, directory: Path) -> dict[str, Any]:
    """Write every payload file and the manifest into ``directory``; return the manifest."""
    _write_torch(checkpoint.generator_state, directory / CheckpointFiles.GENERATOR)
    _write_torch(checkpoint.discriminator_state, directory / CheckpointFiles.DISCRIMINATOR)
    _write_pickle(checkpoint.transformer, directory / CheckpointFiles.TRANSFORMER)
    _write_pickle(checkpoint.context_transformer, directory / CheckpointFiles.CONTEXT_TRANSFORMER)
    _write_pickle(checkpoint.embedding_layers, directory / CheckpointFiles.EMBEDDING_LAYERS)
    _write_pickle(checkpoint.data_column_info, directory / CheckpointFiles.DATA_COLUMN_INFO)
    (directory / CheckpointFiles.REFERENCE_PROFILE).write_text(
        json.dumps(checkpoint.reference_profile, allow_nan=False), encoding="utf-8")
    files = {
        name: {"sha256": _sha256(directory / name), "bytes": (directory / name).stat().st_size}
        for name in CheckpointFiles.PAYLOAD
    }
    manifest = {
        "format": "synthohive-checkpoint",
        "format_version": FORMAT_VERSION,
        "version": running_version(),
        "model": checkpoint.model,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "seed": checkpoint.seed,
        "hyper_parameters": checkpoint.hyper_parameters,
        "column_schema": checkpoint.column_schema,
        "extra": checkpoint.extra,
        "files": files,
    }
    _write_json(manifest, directory / CheckpointFiles.METADATA)
    _fsync_dir(directory)
    return manifest


def save_checkpoint(checkpoint: Checkpoint, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``checkpoint`` as a directory at ``path``, atomically.

    Args:
        checkpoint: What to save.
        path: Target directory.
        overwrite: Replace an existing checkpoint at ``path``.

    Returns:
        The checkpoint directory.

    Raises:
        SerializationError: If ``path`` exists and ``overwrite`` is false, if ``path`` is an
            existing file or a non-empty directory that is not a checkpoint (never deleted),
            or if writing fails (the previous checkpoint, if any, is left intact).
    """
    target, manifest = write_directory_atomically(path, lambda tmp: _write_all(checkpoint, tmp),
                                                  overwrite=overwrite)
    _log.info("checkpoint_saved", path=str(target), model=checkpoint.model, version=manifest["version"])
    checkpoint.version = manifest["version"]
    checkpoint.saved_at = manifest["saved_at"]
    return target


def write_directory_atomically(path: str | Path, fill: Callable[[Path], dict[str, Any]], *,
                               overwrite: bool = False,
                               marker: str = CheckpointFiles.METADATA) -> tuple[Path, dict[str, Any]]:
    """Write a checkpoint directory at ``path`` atomically (generic: any model, any files).

    ``fill`` writes every file (manifest included) into a fresh temporary directory beside
    ``path`` and returns the manifest; the directory is then swapped in with two renames, so
    an error or crash leaves any previous checkpoint intact.

    Args:
        path: Target directory.
        fill: Writes the files into the directory it is given; returns the manifest.
        overwrite: Replace an existing checkpoint at ``path``.
        marker: File that identifies a directory this function may overwrite (a non-empty
            directory without it is never replaced).

    Returns:
        ``(directory, manifest)``.

    Raises:
        SerializationError: As :func:`save_checkpoint`.
    """
    target = Path(path).expanduser().absolute()
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise SerializationError(
                f"Checkpoint path {target} already exists; pass overwrite=True to replace it "
                "or choose another path."
            )
        if not target.is_dir():
            raise SerializationError(f"Cannot overwrite {target}: it is not a directory. Remove it or "
                                     "choose another path.")
        if any(target.iterdir()) and not (target / marker).is_file():
            raise SerializationError(
                f"Refusing to overwrite {target}: it is a non-empty directory that is not a SynthoHive "
                f"checkpoint (no {marker}). Choose another path."
            )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SerializationError(f"Cannot create the parent directory of {target}: {exc}") from exc
    for stale in _stale_siblings(target):
        shutil.rmtree(stale, ignore_errors=True)

    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    try:
        tmp.mkdir()
        manifest = fill(tmp)
        _fsync_dir(tmp)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise SerializationError(f"Saving the checkpoint to {target} failed ({type(exc).__name__}: "
                                 f"{exc}); any previous checkpoint there is unchanged.") from exc

    backup: Path | None = None
    try:
        if target.exists():
            backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
            os.replace(target, backup)
        os.replace(tmp, target)
    except OSError as exc:
        if backup is not None and backup.exists() and not target.exists():
            os.replace(backup, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise SerializationError(f"Could not move the new checkpoint into {target}: {exc}; any previous "
                                 "checkpoint there is unchanged.") from exc
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
    _fsync_dir(target.parent)
    return target, manifest


def write_manifest(directory: Path, payload: list[str] | tuple[str, ...], *, model: str, seed: int | None,
                   hyper_parameters: Mapping[str, Any], column_schema: Mapping[str, Any],
                   extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``metadata.json`` listing size + SHA-256 of each ``payload`` file; return it.

    Generic counterpart of the CTGAN manifest (same keys), for models with other files.
    """
    files = {name: {"sha256": _sha256(directory / name), "bytes": (directory / name).stat().st_size}
             for name in payload}
    manifest = {
        "format": "synthohive-checkpoint",
        "format_version": FORMAT_VERSION,
        "version": running_version(),
        "model": model,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "seed": seed,
        "hyper_parameters": dict(hyper_parameters),
        "column_schema": dict(column_schema),
        "extra": dict(extra or {}),
        "files": files,
    }
    _write_json(manifest, directory / CheckpointFiles.METADATA)
    return manifest


def verify_checkpoint(path: str | Path, payload: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Read the manifest of the checkpoint at ``path`` and check the ``payload`` files' checksums.

    Returns:
        The manifest.

    Raises:
        SerializationError: Missing path, manifest or file; corrupt manifest; checksum mismatch.
    """
    directory = Path(path).expanduser()
    manifest = read_manifest(directory)
    _verify_files(directory, manifest, payload)
    version = str(manifest["version"])
    if version != running_version():
        _log.warning("checkpoint_version_mismatch", path=str(directory), saved_version=version,
                     running_version=running_version())
    return manifest


def read_state_dict(path: str | Path, map_location: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Load a state dict with ``torch.load(..., weights_only=True)``.

    Raises:
        SerializationError: The file is unreadable or not a state dict.
    """
    return _read_torch(Path(path), map_location)


def write_state_dict(state: Mapping[str, torch.Tensor], path: str | Path) -> None:
    """Save a state dict (tensors moved to CPU) for :func:`read_state_dict`."""
    _write_torch(state, Path(path))


def write_pickle(obj: Any, path: str | Path) -> None:
    """Pickle ``obj`` with joblib (for fitted transformers and span lists)."""
    _write_pickle(obj, Path(path))


def write_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as JSON (for statistics and reference profiles: data, never code)."""
    Path(path).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by :func:`write_json`.

    Raises:
        SerializationError: The file cannot be read or is not valid JSON.
    """
    return _read_json_file(Path(path))


def read_pickle(path: str | Path) -> Any:
    """Unpickle a file written by :func:`write_pickle`.

    Warning:
        Unpickling can run arbitrary code: verify the checksums first and load only trusted files.

    Raises:
        SerializationError: The file cannot be unpickled.
    """
    return _read_pickle(Path(path))


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check the manifest (``metadata.json``) of the checkpoint at ``path``.

    Raises:
        SerializationError: If the directory or manifest is missing or the manifest is corrupt.
    """
    directory = Path(path).expanduser()
    if not directory.exists():
        raise SerializationError(f"Checkpoint path {directory} does not exist; pass the directory "
                                 "written by save().")
    if not directory.is_dir():
        raise SerializationError(f"Checkpoint path {directory} is not a directory; pass the directory "
                                 "written by save().")
    manifest_path = directory / CheckpointFiles.METADATA
    if not manifest_path.is_file():
        raise SerializationError(f"Checkpoint {directory} is missing file {CheckpointFiles.METADATA}; "
                                 "the checkpoint is incomplete, save it again.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SerializationError(f"Checkpoint file {manifest_path} is corrupt or truncated "
                                 f"(invalid JSON: {exc}); save the model again.") from exc
    required = ("version", "hyper_parameters", "column_schema", "files")
    missing = [key for key in required if not isinstance(manifest, dict) or key not in manifest]
    if missing:
        raise SerializationError(f"Checkpoint file {manifest_path} is corrupt: missing key(s) "
                                 f"{', '.join(missing)}; save the model again.")
    return manifest


def _verify_files(directory: Path, manifest: Mapping[str, Any],
                  payload: list[str] | tuple[str, ...] = CheckpointFiles.PAYLOAD) -> None:
    files = manifest["files"]
    for name in payload:
        if name in CheckpointFiles.OPTIONAL and isinstance(files, Mapping) and name not in files:
            continue  # saved before this file existed
        file_path = directory / name
        if not file_path.is_file():
            raise SerializationError(f"Checkpoint {directory} is missing file {name}; the checkpoint is "
                                     "incomplete, save it again.")
        entry = files.get(name) if isinstance(files, Mapping) else None
        if not isinstance(entry, Mapping) or "sha256" not in entry:
            raise SerializationError(f"Checkpoint file {directory / CheckpointFiles.METADATA} has no "
                                     f"checksum for {name}; the manifest is corrupt, save the model again.")
        size = file_path.stat().st_size
        expected_size = entry.get("bytes")
        if expected_size is not None and size < int(expected_size):
            raise SerializationError(f"Checkpoint file {file_path} is truncated ({size} bytes, expected "
                                     f"{expected_size}); save the model again.")
        if _sha256(file_path) != entry["sha256"]:
            raise SerializationError(f"Checkpoint file {file_path} failed its checksum (SHA-256 mismatch): "
                                     "it is corrupt or was modified after saving; save the model again.")


def _read_torch(path: Path, map_location: torch.device | str) -> dict[str, torch.Tensor]:
    try:
        with path.open("rb") as handle:
            data = io.BytesIO(handle.read())
        state = torch.load(data, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for bad archives
        raise SerializationError(f"Checkpoint file {path} is corrupt and cannot be read "
                                 f"({type(exc).__name__}: {exc}); save the model again.") from exc
    if not isinstance(state, Mapping):
        raise SerializationError(f"Checkpoint file {path} does not hold a state dict; save the model again.")
    return dict(state)


def _read_pickle(path: Path) -> Any:
    try:
        return joblib.load(path)
    except Exception as exc:  # unpickling raises many types for bad files
        raise SerializationError(f"Checkpoint file {path} is corrupt and cannot be unpickled "
                                 f"({type(exc).__name__}: {exc}); save the model again.") from exc


def _read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SerializationError(f"Checkpoint file {path} is corrupt and cannot be read (invalid JSON: "
                                 f"{exc}); save the model again.") from exc


def _read_optional_profile(directory: Path, manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reference profile, or ``None`` when the checkpoint has none (older checkpoint or ``null``)."""
    if CheckpointFiles.REFERENCE_PROFILE not in manifest["files"]:
        return None
    profile = _read_json_file(directory / CheckpointFiles.REFERENCE_PROFILE)
    if profile is not None and not isinstance(profile, dict):
        raise SerializationError(f"Checkpoint file {directory / CheckpointFiles.REFERENCE_PROFILE} does not "
                                 "hold a reference profile; save the model again.")
    return profile


def load_checkpoint(path: str | Path, *, map_location: torch.device | str = "cpu",
                    expected_model: str | None = None) -> Checkpoint:
    """Read and verify a checkpoint directory.

    Warning:
        The ``.joblib`` files are pickles: load only checkpoints you trust.

    Args:
        path: Directory written by :func:`save_checkpoint`.
        map_location: Device for the network weights (a GPU-saved checkpoint loads on CPU).
        expected_model: Model class name the checkpoint must hold (checked from the manifest,
            before any other file is read: the files differ per model).

    Returns:
        The :class:`Checkpoint`.

    Raises:
        SerializationError: Missing path or file, checksum mismatch, truncated or corrupt file,
            or a checkpoint of another model than ``expected_model``.
    """
    directory = Path(path).expanduser()
    manifest = read_manifest(directory)
    held = str(manifest.get("model", "CTGAN"))
    if expected_model is not None and held != expected_model:
        raise SerializationError(f"Checkpoint {path} holds a {held} model, not {expected_model}; load it with "
                                 "that class.")
    _verify_files(directory, manifest)
    version = str(manifest["version"])
    if version != running_version():
        _log.warning("checkpoint_version_mismatch", path=str(directory), saved_version=version,
                     running_version=running_version())
    checkpoint = Checkpoint(
        generator_state=_read_torch(directory / CheckpointFiles.GENERATOR, map_location),
        discriminator_state=_read_torch(directory / CheckpointFiles.DISCRIMINATOR, map_location),
        transformer=_read_pickle(directory / CheckpointFiles.TRANSFORMER),
        context_transformer=_read_pickle(directory / CheckpointFiles.CONTEXT_TRANSFORMER),
        embedding_layers=_read_pickle(directory / CheckpointFiles.EMBEDDING_LAYERS),
        data_column_info=_read_pickle(directory / CheckpointFiles.DATA_COLUMN_INFO),
        hyper_parameters=dict(manifest["hyper_parameters"]),
        column_schema=dict(manifest["column_schema"]),
        seed=manifest.get("seed"),
        model=held,
        version=version,
        saved_at=str(manifest.get("saved_at", "")),
        extra=dict(manifest.get("extra") or {}),
        reference_profile=_read_optional_profile(directory, manifest),
    )
    _log.info("checkpoint_loaded", path=str(directory), model=checkpoint.model, version=version)
    return checkpoint
