"""The checkpoint format, in one place: named files, a manifest with checksums, atomic swaps.

A checkpoint is a set of named files plus ``metadata.json``, the manifest::

    {"format": "synthohive-checkpoint", "format_version": 1, "version": "0.1.0", "model": "CTGAN",
     "saved_at": "...", "seed": 0, "hyper_parameters": {...}, "column_schema": {...}, "extra": {...},
     "files": {"generator.pt": {"sha256": "...", "bytes": 1234}, ...}}

:class:`CheckpointContent` holds those files in memory (name -> bytes). It is written as a
directory (:meth:`CheckpointContent.write`) or as one uncompressed ZIP archive of the same files
(:meth:`CheckpointContent.to_bytes`, the form broadcast to Spark executors), and read back from
either. Reading checks, before any file is unpickled or handed to ``torch.load``:

- the manifest: its ``format`` (:data:`FORMAT`, or the Synthesizer's) and ``format_version``
  (newer versions are refused, naming both), and the shape of every entry;
- the file names: exactly the files the manifest lists, each a plain name of the layout (no path
  outside the checkpoint, no undeclared file);
- every file's size and SHA-256.

Which files a model writes is its :class:`CheckpointLayout`; CTGAN's is the seed contract::

    generator.pt  discriminator.pt                        state dicts (torch.load(weights_only=True))
    transformer.joblib  context_transformer.joblib        fitted preprocessing (pickles)
    embedding_layers.joblib  data_column_info.joblib      conditional layout, output spans (pickles)
    reference_profile.json                                privacy-safe training marginals, or null
    metadata.json                                         the manifest

Warning:
    ``.joblib`` files are Python pickles: loading one can run arbitrary code. Load only checkpoints
    you trust. The checksums detect corruption and truncation, not an attacker (who can rewrite the
    manifest too). TabularAR checkpoints hold no pickles.

Saving is crash-safe: the files go to a temporary directory beside the target, which is then
swapped in with two renames (target -> ``.<name>.old-<id>``, temporary -> target). A crash
between the renames leaves the previous checkpoint in the ``.old`` directory; the next
:func:`recover` (run by every save and load of that path) moves it back, and only then are
leftover temporary directories removed. ``overwrite=True`` replaces only a directory that is
recognisably a SynthoHive checkpoint: a valid manifest and no file that it does not list.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import re
import shutil
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import joblib
import torch

from syntho_hive.events import get_logger
from syntho_hive.exceptions import SerializationError

__all__ = ["FORMAT", "FORMAT_VERSION", "JUNK_FILES", "MANIFEST", "REFERENCE_PROFILE", "CheckpointContent", "CheckpointLayout",
           "check_format", "decode_json", "decode_pickle", "decode_state_dict", "encode_json", "encode_pickle",
           "encode_state_dict", "is_checkpoint_directory", "lists_everything", "manifest_at", "recover",
           "running_version"]

_log = get_logger(__name__)

#: ``format`` of a model checkpoint's manifest.
FORMAT = "synthohive-checkpoint"
#: Newest model-checkpoint format this version writes and reads.
FORMAT_VERSION = 1
#: The manifest's file name.
MANIFEST = "metadata.json"
#: The reference profile every model writes (JSON, optional in older checkpoints).
REFERENCE_PROFILE = "reference_profile.json"

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Files operating systems drop into folders; never part of a checkpoint, ignored when reading one.
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_MAX_BYTES = 1 << 40


def running_version() -> str:
    """The installed SynthoHive version."""
    from syntho_hive._version import __version__

    return str(__version__)


@dataclass(frozen=True)
class CheckpointLayout:
    """The files of one kind of checkpoint, by how each is encoded.

    Attributes:
        weights: State dicts (``torch.save``; read with ``weights_only=True``).
        pickles: Fitted Python objects (joblib pickles).
        documents: JSON documents.
        optional: Files that checkpoints of older versions may lack.
    """

    weights: tuple[str, ...] = ()
    pickles: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        """Every payload file (the manifest excluded)."""
        return self.weights + self.pickles + self.documents


# ---------------------------------------------------------------------- encoders
def encode_state_dict(state: Mapping[str, torch.Tensor]) -> bytes:
    """A state dict (tensors moved to CPU) as ``torch.save`` bytes."""
    buffer = io.BytesIO()
    torch.save({key: value.detach().cpu() for key, value in state.items()}, buffer)
    return buffer.getvalue()


def encode_pickle(obj: Any) -> bytes:
    """``obj`` pickled with joblib."""
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def encode_json(data: Any) -> bytes:
    """``data`` as strict JSON (no NaN), UTF-8.

    Raises:
        SerializationError: ``data`` is not JSON-serialisable.
    """
    try:
        return json.dumps(data, indent=1, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"Cannot write checkpoint state as JSON ({exc}); this is a bug, please "
                                 "report it.") from exc


def decode_json(raw: bytes, where: str) -> Any:
    """Parse JSON ``raw`` read from ``where``.

    Raises:
        SerializationError: Not UTF-8 JSON, or nested too deeply to parse.
    """
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SerializationError(f"Checkpoint file {where} is corrupt and cannot be read (invalid JSON: "
                                 f"{type(exc).__name__}); save the model again.") from exc


def decode_state_dict(raw: bytes, where: str, map_location: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Load a state dict with ``torch.load(..., weights_only=True)``.

    Raises:
        SerializationError: Unreadable archive, or not a mapping of names to tensors.
    """
    try:
        state = torch.load(io.BytesIO(raw), map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for bad archives
        raise SerializationError(f"Checkpoint file {where} is corrupt and cannot be read "
                                 f"({type(exc).__name__}: {exc}); save the model again.") from exc
    if not isinstance(state, Mapping) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                 for k, v in state.items()):
        raise SerializationError(f"Checkpoint file {where} does not hold a state dict; save the model again.")
    return dict(state)


def decode_pickle(raw: bytes, where: str) -> Any:
    """Unpickle ``raw`` (joblib).

    Warning:
        Unpickling can run arbitrary code: the checksums are verified first; load only trusted files.

    Raises:
        SerializationError: The bytes cannot be unpickled.
    """
    try:
        return joblib.load(io.BytesIO(raw))
    except Exception as exc:  # unpickling raises many types for bad files
        raise SerializationError(f"Checkpoint file {where} is corrupt and cannot be unpickled "
                                 f"({type(exc).__name__}: {exc}); save the model again.") from exc


# ---------------------------------------------------------------------- manifest
def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _check_name(name: Any, where: str) -> str:
    """``name`` when it is a relative POSIX path inside the checkpoint (no ``..``, no absolute path)."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise SerializationError(f"Checkpoint {where} names a file {name!r} that is not a plain relative path; "
                                 "the manifest is corrupt, save again.")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts) or PurePosixPath(name).as_posix() != name:
        raise SerializationError(f"Checkpoint {where} names a file {name!r} outside the checkpoint; the manifest "
                                 "is corrupt or was tampered with.")
    return name


def _files_entry(manifest: Mapping[str, Any], where: str) -> dict[str, tuple[str, int]]:
    """The manifest's ``files``: ``{name: (sha256, bytes)}``, every entry checked."""
    files = manifest.get("files")
    if not isinstance(files, Mapping):
        raise SerializationError(f"Checkpoint manifest {where} has no 'files' mapping; it is corrupt, save again.")
    checked: dict[str, tuple[str, int]] = {}
    for name, entry in files.items():
        _check_name(name, where)
        digest = entry.get("sha256") if isinstance(entry, Mapping) else None
        size = entry.get("bytes") if isinstance(entry, Mapping) else None
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest) or isinstance(size, bool) \
                or not isinstance(size, int) or not 0 <= size < _MAX_BYTES:
            raise SerializationError(f"Checkpoint manifest {where} has a malformed entry for {name!r} (want "
                                     "{'sha256': 64 hex digits, 'bytes': a non-negative integer}); save again.")
        checked[name] = (digest, size)
    return checked


def check_format(manifest: Any, where: str, *, expected: str = FORMAT, newest: int = FORMAT_VERSION,
                 legacy: Iterable[str] = ()) -> int:
    """The manifest's ``format_version``, after checking its ``format``.

    Args:
        manifest: The parsed manifest.
        where: Its location, for messages.
        expected: The format it must declare.
        newest: Newest version this release reads.
        legacy: Older format strings also accepted (read as version 1).

    Raises:
        SerializationError: Not a mapping, another format, or a version newer than ``newest``.
    """
    if not isinstance(manifest, Mapping):
        raise SerializationError(f"Checkpoint manifest {where} is not a JSON object; it is corrupt, save again.")
    declared = manifest.get("format")
    if declared in tuple(legacy):
        return 1
    if declared != expected:
        raise SerializationError(f"Checkpoint manifest {where} declares format {declared!r}, not {expected!r}: "
                                 "it was not written by SynthoHive for this kind of object.")
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SerializationError(f"Checkpoint manifest {where} has an invalid format_version {version!r}; it is "
                                 "corrupt, save again.")
    if version > newest:
        raise SerializationError(f"Checkpoint {where} has {expected} format version {version}, newer than "
                                 f"version {newest} that SynthoHive {running_version()} reads; upgrade "
                                 "SynthoHive to load it.")
    return version


# ---------------------------------------------------------------------- content
@dataclass
class CheckpointContent:
    """A checkpoint's files in memory: ``{relative path: bytes}``, the manifest included.

    Attributes:
        files: Every file by relative POSIX path.
        origin: Where it was read from (for messages).
    """

    files: dict[str, bytes] = field(default_factory=dict)
    origin: str = "<memory>"

    # -- building
    @classmethod
    def build(cls, payload: Mapping[str, bytes], manifest: Mapping[str, Any],
              manifest_name: str = MANIFEST) -> "CheckpointContent":
        """``payload`` plus a manifest (``manifest`` with ``files``: size + SHA-256 of each payload file)."""
        full = dict(manifest)
        full["files"] = {name: {"sha256": _sha256(raw), "bytes": len(raw)} for name, raw in payload.items()}
        files = dict(payload)
        files[manifest_name] = encode_json(full)
        return cls(files)

    @staticmethod
    def manifest_fields(*, model: str, seed: int | None, hyper_parameters: Mapping[str, Any],
                        column_schema: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        """The manifest of a model checkpoint, less ``files``."""
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "version": running_version(), "model": model,
                "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(), "seed": seed,
                "hyper_parameters": dict(hyper_parameters), "column_schema": dict(column_schema),
                "extra": dict(extra)}

    def nest(self, prefix: str, inner: "CheckpointContent") -> None:
        """Add every file of ``inner`` under ``prefix/``."""
        for name, raw in inner.files.items():
            self.files[f"{prefix}/{name}"] = raw

    def sub(self, prefix: str) -> "CheckpointContent":
        """The files under ``prefix/``, with that prefix removed."""
        head = prefix.rstrip("/") + "/"
        return CheckpointContent({name[len(head):]: raw for name, raw in self.files.items() if name.startswith(head)},
                                 origin=f"{self.origin}/{prefix}")

    # -- reading
    def manifest(self, name: str = MANIFEST) -> dict[str, Any]:
        """The parsed manifest (a JSON object).

        Raises:
            SerializationError: Missing or not a JSON object.
        """
        raw = self.files.get(name)
        if raw is None:
            raise SerializationError(f"Checkpoint {self.origin} is missing its manifest {name}; it is not a "
                                     "complete SynthoHive checkpoint (pass the directory written by save()).")
        manifest = decode_json(raw, f"{self.origin}/{name}")
        if not isinstance(manifest, dict):
            raise SerializationError(f"Checkpoint manifest {self.origin}/{name} is not a JSON object; save again.")
        return manifest

    def verify(self, manifest: Mapping[str, Any], *, allowed: Iterable[str] | None = None,
               required: Iterable[str] = (), manifest_name: str = MANIFEST) -> None:
        """Check that the files are exactly those the manifest lists, with their sizes and checksums.

        Args:
            manifest: The parsed manifest.
            allowed: Names a manifest may list (``None``: any safe relative path).
            required: Names it must list.
            manifest_name: The manifest's own name (not listed in itself).

        Raises:
            SerializationError: A listed file missing, truncated or failing its checksum, a file not
                listed, a name outside ``allowed``, or a required name not listed.
        """
        where = f"{self.origin}/{manifest_name}"
        listed = _files_entry(manifest, where)
        allowed_set = set(allowed) if allowed is not None else None
        for name in listed:
            if allowed_set is not None and name not in allowed_set:
                raise SerializationError(f"Checkpoint {where} lists file {name!r}, which is not part of this kind of "
                                         f"checkpoint ({sorted(allowed_set)}); it is corrupt or was tampered with.")
        missing = [name for name in required if name not in listed]
        if missing:
            raise SerializationError(f"Checkpoint {where} does not list required file(s) {missing}; the checkpoint "
                                     "is incomplete, save it again.")
        extra = sorted(set(self.files) - set(listed) - {manifest_name})
        if extra:
            raise SerializationError(f"Checkpoint {self.origin} holds file(s) {extra[:5]} that its manifest does not "
                                     "list; it was modified after saving. Remove them or save again.")
        for name, (digest, size) in listed.items():
            raw = self.files.get(name)
            if raw is None:
                raise SerializationError(f"Checkpoint {self.origin} is missing file {name}; the checkpoint is "
                                         "incomplete, save it again.")
            if len(raw) != size:
                raise SerializationError(f"Checkpoint file {self.origin}/{name} has {len(raw)} bytes, expected {size}: "
                                         "it is truncated or was modified; save the model again.")
            if _sha256(raw) != digest:
                raise SerializationError(f"Checkpoint file {self.origin}/{name} failed its checksum (SHA-256 "
                                         "mismatch): it is corrupt or was modified after saving; save the model again.")

    # -- directories
    @classmethod
    def read(cls, path: str | Path) -> "CheckpointContent":
        """Every file under the directory ``path`` (after :func:`recover`).

        Raises:
            SerializationError: Missing path, not a directory, a link, or unreadable files.
        """
        directory = recover(Path(path).expanduser())
        if not directory.exists():
            raise SerializationError(f"Checkpoint path {directory} does not exist; pass the directory written "
                                     "by save().")
        if not directory.is_dir():
            raise SerializationError(f"Checkpoint path {directory} is not a directory; pass the directory "
                                     "written by save().")
        files: dict[str, bytes] = {}
        try:
            for item in sorted(directory.rglob("*")):
                name = item.relative_to(directory).as_posix()
                if item.is_symlink():
                    raise SerializationError(f"Checkpoint {directory} holds a link {name!r}; checkpoints hold only "
                                             "plain files. Save the model again.")
                if item.is_file() and item.name not in JUNK_FILES:
                    files[name] = item.read_bytes()
        except OSError as exc:
            raise SerializationError(f"Cannot read checkpoint {directory}: {exc}") from exc
        return cls(files, origin=str(directory))

    def write(self, path: str | Path, *, overwrite: bool = False,
              recognise: Callable[[Path], bool] | None = None) -> Path:
        """Write the files as the directory ``path``, atomically (see the module docstring).

        Args:
            path: Target directory.
            overwrite: Replace an existing checkpoint at ``path``.
            recognise: Whether an existing directory is a checkpoint this call may replace
                (default :func:`is_checkpoint_directory`).

        Returns:
            The directory.

        Raises:
            SerializationError: ``path`` exists and ``overwrite`` is false; ``path`` is a file, or a
                directory that is not recognisably a SynthoHive checkpoint (never deleted); or
                writing failed (the previous checkpoint, if any, is left intact).
        """
        target = Path(path).expanduser().absolute()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SerializationError(f"Cannot create the parent directory of {target}: {exc}") from exc
        recover(target)
        _check_replaceable(target, overwrite, recognise or is_checkpoint_directory)
        for stale in _siblings(target):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
        try:
            tmp.mkdir()
            for name in sorted(self.files):  # the directory is swapped in only once complete
                _write_file(tmp / name, self.files[name])
            for folder in sorted({(tmp / name).parent for name in self.files}, key=lambda p: -len(p.parts)):
                _fsync_dir(folder)  # nested folders first, the root last
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise SerializationError(f"Saving the checkpoint to {target} failed ({type(exc).__name__}: {exc}); any "
                                     "previous checkpoint there is unchanged.") from exc
        _swap(tmp, target)
        return target

    # -- bytes
    def to_bytes(self) -> bytes:
        """The files as one uncompressed ZIP archive (the same files as the directory)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                archive.writestr(info, self.files[name])
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "CheckpointContent":
        """Read an archive made by :meth:`to_bytes` (file names checked; nothing touches the disk).

        Raises:
            SerializationError: Not bytes, not such an archive, or unsafe member names.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise SerializationError(f"from_bytes() expects the bytes of to_bytes(), got {type(data).__name__}.")
        try:
            with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
                files: dict[str, bytes] = {}
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
                        raise ValueError(f"entry {info.filename!r} is compressed or encrypted; to_bytes() stores "
                                         "files as they are")
                    files[_check_name(info.filename, "archive")] = archive.read(info)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError,
                RuntimeError, zlib.error) as exc:
            raise SerializationError(f"The bytes are not a SynthoHive checkpoint archive ({type(exc).__name__}: "
                                     f"{exc}); pass what to_bytes() returned.") from exc
        return cls(files, origin="<bytes>")


# ---------------------------------------------------------------------- directory safety
def _write_file(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # platforms without directory file descriptors
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the renames are still atomic
    finally:
        os.close(fd)


def _siblings(target: Path, kinds: tuple[str, ...] = ("tmp", "old")) -> list[Path]:
    parent = target.parent
    if not parent.is_dir():
        return []
    prefixes = tuple(f".{target.name}.{kind}-" for kind in kinds)
    return [p for p in parent.iterdir() if p.name.startswith(prefixes) and p.is_dir() and not p.is_symlink()]


def recover(target: Path) -> Path:
    """Move back the previous checkpoint that a save interrupted between its two renames.

    When ``target`` does not exist and ``.<name>.old-<id>`` directories lie beside it (each a whole
    checkpoint moved aside by a save), the newest is renamed to ``target`` (logged as ``checkpoint_recovered``). When
    the rename is not allowed (a read-only location), that directory is returned to read from.

    Returns:
        The directory to read: ``target``, or the recovered copy when it could not be moved.
    """
    if target.exists() or target.is_symlink():
        return target
    olds = sorted(_siblings(target, ("old",)), key=lambda p: p.stat().st_mtime)
    if not olds:
        return target
    try:
        os.replace(olds[-1], target)
    except OSError:
        _log.warning("checkpoint_recovered_read_only", path=str(target), copy=str(olds[-1]))
        return olds[-1]
    _fsync_dir(target.parent)
    _log.warning("checkpoint_recovered", path=str(target), reason="a save was interrupted before it finished")
    return target


def lists_everything(directory: Path, manifest: Mapping[str, Any], manifest_name: str = MANIFEST) -> bool:
    """Whether ``manifest`` lists every file below ``directory`` (besides itself and :data:`JUNK_FILES`)
    and every folder there holds a listed file: nothing in it is someone else's."""
    try:
        listed = set(_files_entry(manifest, str(directory))) | {manifest_name}
    except SerializationError:
        return False
    entries = list(directory.rglob("*"))
    present = {p.relative_to(directory).as_posix() for p in entries
               if (not p.is_dir() or p.is_symlink()) and p.name not in JUNK_FILES}
    folders = {p.relative_to(directory).as_posix() for p in entries if p.is_dir() and not p.is_symlink()}
    return present <= listed and all(any(name.startswith(f + "/") for name in listed) for f in folders)


def is_checkpoint_directory(directory: Path) -> bool:
    """Whether ``directory`` is recognisably a model checkpoint: a manifest of :data:`FORMAT` that
    lists everything in it (an empty directory counts too)."""
    if not any(directory.iterdir()):
        return True
    manifest = manifest_at(directory)
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT and lists_everything(directory, manifest)


def manifest_at(directory: Path, name: str = MANIFEST) -> Any:
    """The parsed JSON of ``directory``'s manifest ``name``, or ``None`` where it cannot be read or parsed."""
    try:
        return json.loads((directory / name).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def _check_replaceable(target: Path, overwrite: bool, recognise: Callable[[Path], bool]) -> None:
    if not (target.exists() or target.is_symlink()):
        return
    if not overwrite:
        raise SerializationError(f"Checkpoint path {target} already exists; pass overwrite=True to replace it or "
                                 "choose another path.")
    if target.is_symlink() or not target.is_dir():
        raise SerializationError(f"Cannot overwrite {target}: it is not a directory. Remove it or choose another "
                                 "path.")
    if not recognise(target):
        raise SerializationError(f"Refusing to overwrite {target}: it is not recognisably a SynthoHive checkpoint "
                                 "(no valid manifest, or it holds files the manifest does not list, e.g. files of "
                                 "yours). Choose another path or remove those files.")


def _swap(tmp: Path, target: Path) -> None:
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
        raise SerializationError(f"Could not move the new checkpoint into {target}: {exc}; any previous checkpoint "
                                 "there is unchanged.") from exc
    _fsync_dir(target.parent)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
