"""The saved :class:`~syntho_hive.interface.synthesizer.Synthesizer`: one directory, one manifest.

Layout (format ``synthohive-synthesizer``, version 2)::

    synthesizer.json                  the manifest: format, version, seed (null under differential
                                      privacy: the key of the noise is a secret), engines by registry name,
                                      model options, table folders, the privacy spent under
                                      differential privacy (``dp``: totals and per table, or null),
                                      and size + SHA-256 of every other file below (model
                                      checkpoints included)
    schema.json                       the Metadata
    tables/<nnn>_<table>/plan.json    keys, links, context and cardinality models (plain JSON)
    tables/<nnn>_<table>/model/       the table's model checkpoint (core checkpoint format, with its
                                      own manifest)

Everything is verified before any model file is decoded; the files cannot name a module to import
(engines are looked up in :mod:`syntho_hive.core.models.registry`) nor a path outside the directory.
Saving goes through :class:`~syntho_hive.core.checkpoint.CheckpointContent`: atomic, crash-safe,
and ``overwrite=True`` replaces only a directory that is recognisably a saved synthesizer.
Version-1 directories (``syntho_hive.synthesizer/1``: built-in engines named by module path, no
top-level checksums) still load; their model checkpoints are verified by their own manifests.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syntho_hive.core.checkpoint import (
    JUNK_FILES,
    CheckpointContent,
    check_format,
    decode_json,
    encode_json,
    is_checkpoint_directory,
    lists_everything,
    manifest_at,
    running_version,
)
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.core.models.registry import BUILTIN_MODELS, is_registered, legacy_class_path, model_class
from syntho_hive.core.metadata.io import from_dict as metadata_from_dict
from syntho_hive.exceptions import SchemaError, SerializationError, SynthoHiveError
from syntho_hive.relational.orchestrator import Orchestrator

if TYPE_CHECKING:
    from syntho_hive.interface.synthesizer import Synthesizer

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "read_synthesizer", "synthesizer_content"]

#: ``format`` of a saved synthesizer's manifest.
FORMAT = "synthohive-synthesizer"
#: Newest version written and read.
FORMAT_VERSION = 2
_LEGACY_FORMAT = "syntho_hive.synthesizer/1"
#: File name of a saved synthesizer's manifest (its presence marks a Synthesizer directory).
MANIFEST = "synthesizer.json"
_SCHEMA = "schema.json"
_PLAN = "plan.json"
_MODEL = "model"
_FOLDER = re.compile(r"tables/[A-Za-z0-9_.-]+")
#: Synthesizer arguments that saved model options may not name.
_SYNTHESIZER_ARGUMENTS = frozenset({"metadata", "model", "seed", "privacy_config", "spark_session"})


def _folder(index: int, table: str) -> str:
    return f"tables/{index:03d}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', table)[:60]}"


def _registered_name(model: ConditionalGenerativeModel) -> str:
    """The registry name of ``model``'s engine, which must resolve back to its class."""
    name = type(model).model_name
    if name in BUILTIN_MODELS:
        model_class(name)  # imports the built-in, which registers it
    if not is_registered(type(model)):
        raise SerializationError(f"Cannot save: engine {type(model).__qualname__} is not registered under its name "
                                 f"{name!r}; call syntho_hive.core.models.register_model({type(model).__name__}) "
                                 "where the class is defined, then save again.")
    return name


def synthesizer_content(synth: "Synthesizer") -> CheckpointContent:
    """Every file of ``synth``'s saved directory, in memory.

    Raises:
        SerializationError: A table's engine is not registered.
    """
    payload: dict[str, bytes] = {_SCHEMA: synth.metadata.to_json().encode("utf-8")}
    tables: dict[str, str] = {}
    models: dict[str, str] = {}
    content = CheckpointContent()
    for index, entry in enumerate(synth._engine.to_dict()["tables"]):  # parents first
        name, folder = entry["name"], _folder(index, entry["name"])
        tables[name] = folder
        payload[f"{folder}/{_PLAN}"] = encode_json(entry["plan"])
        model = synth._engine.fitted_model(name)
        if model is not None:
            models[name] = _registered_name(model)
            content.nest(f"{folder}/{_MODEL}", model.checkpoint_content())
    payload.update(content.files)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "version": running_version(),
                "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                "seed": synth.seed if synth.privacy_spent_ is None else None,  # under DP: the noise's secret key
                "engines": {t: c.model_name for t, c in synth.models.items()}, "models": models,
                "model_kwargs": synth.model_kwargs, "tables": tables, "source_rows": synth.source_rows_,
                "rules": synth._engine.rules_report_,
                "dp": synth.privacy_spent_.to_dict() if synth.privacy_spent_ is not None else None}
    try:
        return CheckpointContent.build(payload, manifest, manifest_name=MANIFEST)
    except SerializationError as exc:
        raise SerializationError(f"Cannot save the synthesizer: its model options {synth.model_kwargs} are not "
                                 f"JSON ({exc}).") from exc


def is_synthesizer_directory(directory: Path) -> bool:
    """Whether ``directory`` is recognisably a saved synthesizer (so ``overwrite=True`` may replace it):
    a version-2 manifest listing every file, or a version-1 layout and nothing else."""
    manifest = manifest_at(directory, MANIFEST)
    if not isinstance(manifest, dict):  # unreadable (then only an empty directory is replaced), or not an object
        return not any(directory.iterdir())
    if manifest.get("format") == FORMAT:
        return lists_everything(directory, manifest, MANIFEST)
    if manifest.get("format") != _LEGACY_FORMAT:
        return False
    present = {p.relative_to(directory).as_posix() for p in directory.rglob("*")
               if (p.is_file() or p.is_symlink()) and p.name not in JUNK_FILES}
    models = [p for p in directory.glob("tables/*/model") if p.is_dir()]
    if not all(is_checkpoint_directory(m) for m in models):
        return False
    in_models = {p.relative_to(directory).as_posix() for m in models for p in m.rglob("*") if p.is_file()}
    plans = {p.relative_to(directory).as_posix() for p in directory.glob(f"tables/*/{_PLAN}")}
    return present <= {MANIFEST, _SCHEMA} | plans | in_models


def _engine(name: Any, legacy: bool) -> type[ConditionalGenerativeModel]:
    """The registered engine ``name`` (a built-in's module path in version-1 directories)."""
    return model_class(legacy_class_path(name) if legacy else name)


def read_synthesizer(cls: type["Synthesizer"], path: Path | CheckpointContent) -> "Synthesizer":
    """Restore a synthesizer saved by :func:`synthesizer_content` (or a version-1 directory).

    Args:
        cls: The Synthesizer class.
        path: The saved directory, or its files already in memory (a :class:`CheckpointContent`,
            e.g. from ``Synthesizer.from_bytes``), checked exactly like a directory.

    Raises:
        SerializationError: Missing or unknown format, a newer version, a file failing its checksum or
            not listed, a path outside the directory, an unregistered engine, or corrupt content.
    """
    content = path if isinstance(path, CheckpointContent) else CheckpointContent.read(path)
    where = content.origin
    if MANIFEST not in content.files:
        raise SerializationError(f"{where} is not a saved Synthesizer (no {MANIFEST}); pass the directory written "
                                 "by Synthesizer.save().")
    manifest = content.manifest(MANIFEST)
    version = check_format(manifest, f"{where}/{MANIFEST}", expected=FORMAT, newest=FORMAT_VERSION,
                           legacy=(_LEGACY_FORMAT,))
    legacy = manifest.get("format") == _LEGACY_FORMAT
    if not legacy:
        content.verify(manifest, manifest_name=MANIFEST)
    seed, tables = manifest.get("seed"), manifest.get("tables")
    kwargs = manifest.get("model_kwargs") or {}
    bad_seed = seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64)
    if bad_seed or not isinstance(tables, dict) or not isinstance(kwargs, dict) or set(kwargs) & _SYNTHESIZER_ARGUMENTS:
        raise SerializationError(f"Saved synthesizer {where} is corrupt: seed, tables and model_kwargs must be an "
                                 f"integer (or null) and two objects (format version {version}); save it again.")
    if manifest.get("dp") is not None:  # the key of the DP noise (held by files saved before it was dropped)
        seed = None
    for table, folder in tables.items():
        if not isinstance(folder, str) or not _FOLDER.fullmatch(folder):
            raise SerializationError(f"Saved synthesizer {where} names folder {folder!r} for table {table!r}, not a "
                                     "folder under tables/; the manifest is corrupt or was tampered with.")
    if _SCHEMA not in content.files:
        raise SerializationError(f"Saved synthesizer {where} is missing {_SCHEMA}; save it again.")
    try:  # parsed from the bytes: checkpoint content is never handed to an API that also takes a path
        metadata = metadata_from_dict(decode_json(content.files[_SCHEMA], f"{where}/{_SCHEMA}"), _SCHEMA)
    except SchemaError as exc:
        raise SerializationError(f"Saved synthesizer {where}: {_SCHEMA} is not a valid schema ({exc}).") from exc
    engines = manifest.get("models" if legacy else "engines") or {}
    if not isinstance(engines, dict):
        raise SerializationError(f"Saved synthesizer {where} is corrupt: its engines are not an object.")
    classes = {t: _engine(n, legacy) for t, n in engines.items()}
    try:
        synth = cls(metadata, model=classes or model_class("TabularAR"), seed=seed, **kwargs)
    except SynthoHiveError as exc:
        raise SerializationError(f"Saved synthesizer {where} is corrupt: its engines or model options are refused "
                                 f"({type(exc).__name__}: {exc}); save it again.") from exc
    entries: list[dict[str, Any]] = []
    fitted: dict[str, ConditionalGenerativeModel] = {}
    for name in synth.graph.order:
        folder = tables.get(name)
        if folder is None or f"{folder}/{_PLAN}" not in content.files:
            raise SerializationError(f"Saved synthesizer {where} has no plan for table {name!r}; save it again.")
        plan = decode_json(content.files[f"{folder}/{_PLAN}"], f"{where}/{folder}/{_PLAN}")
        stored = plan.get("model_class") if isinstance(plan, dict) else None
        if stored is not None:
            engine = _engine(stored, legacy or ":" in str(stored))
            plan["model_class"] = engine.model_name
            fitted[name] = engine()._load_content(content.sub(f"{folder}/{_MODEL}"))
        entries.append({"name": name, "plan": plan, "has_model": stored is not None})
    try:
        synth._engine = Orchestrator.from_dict(metadata, {"tables": entries, "rules": manifest.get("rules"),
                                                          "dp": manifest.get("dp")}, fitted, models=synth.models,
                                               model_kwargs=synth.model_kwargs, seed=synth.seed)
    except SerializationError as exc:
        raise SerializationError(f"Saved synthesizer {where}: {exc}") from exc
    source_rows = manifest.get("source_rows") or {}
    if not isinstance(source_rows, dict) or any(
            name not in metadata.tables or isinstance(rows, bool) or not isinstance(rows, int) or rows < 0
            for name, rows in source_rows.items()):
        raise SerializationError(f"Saved synthesizer {where} is corrupt: source_rows must map tables of its schema "
                                 "to row counts; save it again.")
    synth.source_rows_ = dict(source_rows)
    synth._fitted = True
    return synth
