"""Turn what a user types (a database URL or a folder) into a connector source or target.

Used by the command line (``--source``, ``--target``) and available to scripts:

- a URL with a scheme (``postgresql+psycopg://...``, ``mysql+pymysql://...``, ``sqlite:///file.db``,
  ``duckdb:///file.duckdb``) -> :class:`~syntho_hive.connectors.sql.source.SQLSource` /
  :class:`~syntho_hive.connectors.sql.target.SQLTarget`;
- a folder -> Parquet (the default), CSV or Delta files, one table each, chosen by ``file_format``
  or by what the folder holds (Delta tables have a ``_delta_log`` folder); a target refuses a folder
  holding tables of another format than the one it would write.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from syntho_hive.connectors.base import IfExists, TableSource, TableTarget, check_if_exists
from syntho_hive.exceptions import ConfigurationError, SerializationError

__all__ = ["FileFormat", "is_url", "source_from_string", "target_from_string"]

FileFormat = Literal["parquet", "csv", "delta"]
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_url(text: str) -> bool:
    """Whether ``text`` is a database URL (``scheme://...``) rather than a path."""
    return bool(_SCHEME.match(text))


def _check_format(file_format: str | None) -> FileFormat | None:
    if file_format not in (None, "parquet", "csv", "delta"):
        raise ConfigurationError(f"file format must be 'parquet', 'csv' or 'delta', got {file_format!r}.")
    return file_format  # type: ignore[return-value]


def _no_format_for_url(text: str, file_format: FileFormat | None) -> None:
    """Refuse a file format given with a database URL (it would be silently ignored otherwise).

    Raises:
        ConfigurationError: ``file_format`` is not ``None``.
    """
    if file_format is not None:
        from syntho_hive.connectors.sql.engine import mask_url

        raise ConfigurationError(f"A file format ({file_format!r}, --format/--source-format) applies to folders, "
                                 f"not to the database URL {mask_url(text)!r}; drop it, or give a folder.")


def _folder_format(folder: Path) -> FileFormat:
    """The format to read an existing folder's tables in: Delta if it holds a Delta table, CSV if it holds
    only CSV tables, else Parquet (see :func:`_held_formats`)."""
    held = _held_formats(folder)
    return "delta" if "delta" in held else "csv" if held == {"csv"} else "parquet"


def _held_formats(folder: Path) -> set[FileFormat]:
    """The formats of the tables an existing folder holds (none for a missing or empty folder): Delta for a
    folder with a ``_delta_log``, Parquet for another folder holding a data file (a dataset), CSV or Parquet
    by a file's name; hidden entries, empty folders and other files are left out."""
    from syntho_hive.connectors.files._table_files import holds_data_file, is_hidden, table_format

    if not folder.is_dir():
        return set()
    formats: set[FileFormat] = set()
    for entry in folder.iterdir():
        if is_hidden(entry.name):
            continue
        if entry.is_dir():
            if (entry / "_delta_log").is_dir():
                formats.add("delta")
            elif holds_data_file(entry):
                formats.add("parquet")
        elif (kind := table_format(entry)) is not None:
            formats.add(kind)
    return formats


def source_from_string(text: str | os.PathLike[str], *, schema: str | None = None,
                       file_format: FileFormat | None = None, skip_foreign_keys: Sequence[str] = ()) -> TableSource:
    """The source ``text`` names: a database URL, or a folder of Parquet, CSV or Delta tables.

    Args:
        text: A SQLAlchemy URL or a folder.
        schema: Database schema of a URL (``None``: the default one).
        file_format: The format of a folder's tables (``None``: told from its content).
        skip_foreign_keys: Foreign keys a database's reflection leaves out (``SQLSource``'s).

    Returns:
        The source.

    Raises:
        ConfigurationError: A bad ``file_format``, ``file_format`` given with a URL, or ``schema`` or
            ``skip_foreign_keys`` given with a folder.
        SerializationError: The folder does not exist.
        MissingDependencyError: The extra the source needs is not installed.
    """
    file_format = _check_format(file_format)
    text = os.fspath(text)
    if is_url(text):
        _no_format_for_url(text, file_format)
        from syntho_hive.connectors.sql.source import SQLSource

        return SQLSource(text, schema=schema, skip_foreign_keys=skip_foreign_keys)
    if schema is not None:
        raise ConfigurationError(f"--schema applies to database URLs, not to the folder {text!r}.")
    if skip_foreign_keys:
        raise ConfigurationError(f"--skip-foreign-key applies to database URLs, not to the folder {text!r} "
                                 "(its foreign keys are found by column name, one per column).")
    folder = Path(text)
    if file_format is None and folder.is_dir():
        file_format = _folder_format(folder)
    if file_format == "delta":
        from syntho_hive.connectors.delta import DeltaSource

        return DeltaSource(folder)
    from syntho_hive.connectors.files import CSVSource, ParquetSource

    return CSVSource(folder) if file_format == "csv" else ParquetSource(folder)


def target_from_string(text: str | os.PathLike[str], *, schema: str | None = None, if_exists: IfExists = "fail",
                       file_format: FileFormat | None = None) -> TableTarget:
    """The target ``text`` names: a database URL, or a folder to write Parquet (default), CSV or Delta tables to.

    Args:
        text: A SQLAlchemy URL or a folder.
        schema: Database schema of a URL (``None``: the default one).
        if_exists: What to do with a table that exists: ``"fail"``, ``"replace"`` or ``"append"``.
        file_format: The format of a folder's tables (``None``: the format of the tables the folder
            already holds, else Parquet).

    Returns:
        The target.

    Raises:
        ConfigurationError: A bad ``file_format``, ``file_format`` given with a URL, or ``schema`` given
            with a folder.
        SerializationError: The folder holds tables of another format than ``file_format`` (a table
            written beside one of another format would exist twice: ``if_exists`` would not see it,
            and a source reading the folder would read one of the two).
        SchemaError: A bad ``if_exists``.
        MissingDependencyError: The extra the target needs is not installed.
    """
    file_format = _check_format(file_format)
    if_exists = check_if_exists(if_exists)
    text = os.fspath(text)
    if is_url(text):
        _no_format_for_url(text, file_format)
        from syntho_hive.connectors.sql.target import SQLTarget

        return SQLTarget(text, schema=schema, if_exists=if_exists)
    if schema is not None:
        raise ConfigurationError(f"--schema applies to database URLs, not to the folder {text!r}.")
    held = _held_formats(Path(text))
    if file_format is None:
        file_format = next(iter(held)) if len(held) == 1 else "parquet"
    if held - {file_format}:
        raise SerializationError(f"The folder {text!r} holds {' and '.join(sorted(held))} tables; writing "
                                 f"{file_format} tables beside them would keep a table twice, in two formats. "
                                 + (f"Write {next(iter(held))} (--format), or choose another folder." if len(held) == 1
                                    else "Choose another folder."))
    if file_format == "delta":
        from syntho_hive.connectors.delta import DeltaTarget

        return DeltaTarget(text, if_exists=if_exists)
    from syntho_hive.connectors.files import CSVTarget, ParquetTarget

    return CSVTarget(text, if_exists=if_exists) if file_format == "csv" else ParquetTarget(text, if_exists=if_exists)
