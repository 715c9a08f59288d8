"""Reading and writing :class:`Metadata` as JSON or YAML files.

Writes are atomic: the text goes to a temporary file in the target directory, which is then
``os.replace``-d over the target, so a crash never leaves a half-written schema behind.
Every problem reading a file (missing, unparsable, wrong shape) raises
:class:`~syntho_hive.exceptions.SchemaError` naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from syntho_hive._atomic import atomic_write_text as _atomic_write_text
from syntho_hive.exceptions import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata.schema import Metadata

__all__ = [
    "to_dict", "from_dict", "to_json", "from_json", "to_yaml", "from_yaml", "save", "load",
    "atomic_write_text",
]

_JSON_SUFFIXES = {".json"}
_YAML_SUFFIXES = {".yaml", ".yml"}


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temp file in the same folder, then replace).

    Args:
        path: Target file; its parent folder is created if needed.
        text: UTF-8 text to write.

    Returns:
        The target path.

    Raises:
        SchemaError: If the file cannot be written (the message names it).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(target, text)
    except OSError as exc:
        raise SchemaError(f"Cannot write metadata file {str(target)!r}: {exc}") from exc
    return target


def to_dict(metadata: Metadata) -> dict[str, Any]:
    """A plain, JSON-able dict of ``metadata`` (defaults left out to keep files short)."""
    data = metadata.model_dump(mode="json", exclude_defaults=True)
    data["version"] = metadata.version
    data.setdefault("tables", {})
    for name, table in data["tables"].items():
        table.setdefault("name", name)
    return {"version": data.pop("version"), **data}


def from_dict(data: Any, source: str) -> Metadata:
    """Build a :class:`Metadata` from a parsed document.

    A table entry may omit ``name``; it defaults to its key.

    Args:
        data: The parsed JSON/YAML document.
        source: What the data came from, for error messages (a file name or ``"<text>"``).

    Raises:
        SchemaError: If the document does not describe a valid schema (every problem and
            its location in the document is listed).
    """
    from syntho_hive.core.metadata.schema import Metadata

    if not isinstance(data, dict):
        raise SchemaError(f"Metadata in {source} must be a mapping with a 'tables' key, got {type(data).__name__}.")
    data = dict(data)
    tables = data.get("tables")
    if isinstance(tables, dict):
        data["tables"] = {
            key: ({"name": key, **value} if isinstance(value, dict) else value)
            for key, value in tables.items()
        }
    try:
        return Metadata.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SchemaError(f"Invalid metadata in {source}: {problems}.") from exc


def _read_source(path_or_text: str | os.PathLike[str], suffixes: set[str], opener: str
                 ) -> tuple[str, str]:
    """Return (text, source description) for a path or inline text."""
    if isinstance(path_or_text, os.PathLike):
        is_path = True
    elif isinstance(path_or_text, str):
        stripped = path_or_text.strip()
        is_path = bool(stripped) and "\n" not in stripped and (
            Path(stripped).suffix.lower() in suffixes or os.path.isfile(stripped)
            or not stripped.startswith(opener) and ":" not in stripped
        )
    else:
        raise SchemaError(f"Expected a file path or metadata text, got {type(path_or_text).__name__}.")
    if not is_path:
        return str(path_or_text), "<text>"
    path = Path(path_or_text)
    try:
        return path.read_text(encoding="utf-8"), f"file {str(path)!r}"
    except FileNotFoundError:
        raise SchemaError(f"Metadata file {str(path)!r} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"Cannot read metadata file {str(path)!r}: {exc}") from exc


def to_json(metadata: Metadata, path: str | os.PathLike[str] | None = None) -> str:
    """Serialise to JSON text, also writing it atomically to ``path`` when given.

    Returns:
        The JSON text.

    Raises:
        SchemaError: If ``path`` cannot be written.
    """
    text = json.dumps(to_dict(metadata), indent=2, ensure_ascii=False) + "\n"
    if path is not None:
        atomic_write_text(path, text)
    return text


def from_json(path_or_text: str | os.PathLike[str]) -> Metadata:
    """Load from a JSON file path or JSON text.

    Raises:
        SchemaError: Missing/unreadable file, invalid JSON (with line and column) or an
            invalid schema; the message names the file.
    """
    text, source = _read_source(path_or_text, _JSON_SUFFIXES, "{")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"Invalid JSON in {source} at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from exc
    return from_dict(data, source)


def to_yaml(metadata: Metadata, path: str | os.PathLike[str] | None = None) -> str:
    """Serialise to YAML text, also writing it atomically to ``path`` when given.

    Returns:
        The YAML text.

    Raises:
        SchemaError: If ``path`` cannot be written.
    """
    text = yaml.safe_dump(to_dict(metadata), sort_keys=False, allow_unicode=True)
    if path is not None:
        atomic_write_text(path, text)
    return text


def from_yaml(path_or_text: str | os.PathLike[str]) -> Metadata:
    """Load from a YAML file path or YAML text.

    Raises:
        SchemaError: Missing/unreadable file, invalid YAML (with line) or an invalid
            schema; the message names the file.
    """
    text, source = _read_source(path_or_text, _YAML_SUFFIXES, "tables")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaError(f"Invalid YAML in {source}{where}: {problem}.") from exc
    return from_dict(data, source)


def _format_of(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in _JSON_SUFFIXES:
        return "json"
    if suffix in _YAML_SUFFIXES:
        return "yaml"
    raise SchemaError(f"Cannot tell the format of metadata file {str(path)!r}: use a .json, .yaml or .yml extension.")


def save(metadata: Metadata, path: str | os.PathLike[str]) -> Path:
    """Write ``metadata`` to ``path`` as JSON or YAML, chosen by the extension.

    Returns:
        The path written.

    Raises:
        SchemaError: Unknown extension or unwritable path.
    """
    if _format_of(path) == "json":
        to_json(metadata, path)
    else:
        to_yaml(metadata, path)
    return Path(path)


def load(path: str | os.PathLike[str]) -> Metadata:
    """Read a JSON or YAML metadata file, chosen by the extension.

    Raises:
        SchemaError: Unknown extension, missing/unreadable file or invalid content; the
            message names the file.
    """
    fmt = _format_of(path)
    return from_json(Path(path)) if fmt == "json" else from_yaml(Path(path))
