"""What the folder connectors share: tables as entries of a folder, reflection, staged atomic writes.

A source lists the entries of its root (or takes an explicit ``{table: path}`` mapping), skipping
names that start with ``.`` or ``_`` (staging folders, ``_SUCCESS`` and metadata files).

A target's writer stages every table in a hidden folder inside the root
(``.synthohive-staging-*``, on the same file system, so a move is a rename) and :meth:`commit`
moves the tables into place one after another. With ``if_exists="replace"`` the old table is
first moved aside into the staging folder, and only deleted once every table is in place; a
failure at any point moves the new tables out and the old ones back. A reader looking at the root
*during* the commit may see some tables already new and others still old; a replaced table is
absent for the instant between the rename of the old entry aside and the rename of the new one
into place, and an append to a dataset folder adds its new files one by one. Once
:meth:`commit` returns every table is new; after a failure every table is as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from syntho_hive.connectors.base import IfExists, TableSource, TargetWriter, read_existing, table_selection
from syntho_hive.connectors.files._table_files import is_hidden
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata import Metadata

__all__ = ["FolderSource", "FolderWriter", "Staged", "check_table_name", "check_partition_by", "check_tables",
           "existing_entries", "open_folder", "ordered_like", "is_hidden", "make_root", "make_staging",
           "remove_staging", "STAGING_PREFIX"]

_log = get_logger(__name__)
#: Name prefix of a target's staging folder inside its root.
STAGING_PREFIX = ".synthohive-staging-"


def check_table_name(table: str, where: str) -> str:
    """``table`` when it can name a file or folder in the root.

    Raises:
        SchemaError: Empty, a path (``/``, ``\\``), ``.``/``..``, or starting with ``.`` or ``_``
            (sources skip such entries).
    """
    if (not isinstance(table, str) or not table or "/" in table or "\\" in table or "\0" in table
            or table in (".", "..") or is_hidden(table)):
        raise SchemaError(f"Table name {table!r} cannot be written to {where}: it must be a plain file name, not "
                          "empty, without '/' or '\\', not starting with '.' or '_'. Rename the table.")
    return table


def make_root(root: Path, where: str) -> None:
    """Create a target's folder ``root`` (and its parents) when it is missing.

    Raises:
        SerializationError: It cannot be created (the message names ``where``).
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SerializationError(f"Cannot create the {where}: {exc}") from exc


def open_folder(root: Path, metadata: "Metadata", tables: Sequence[str], partition_by: Mapping[str, Sequence[str]],
                where: str) -> list[str]:
    """The table names, once each is usable as a file name and in ``metadata`` (with its partition
    columns), and the folder is created: the checks a folder target's ``open`` starts with.

    Raises:
        SchemaError: A table name is unusable or not in ``metadata`` (see :func:`check_tables`).
        SerializationError: The folder cannot be created.
    """
    tables = [check_table_name(name, where) for name in tables]
    check_tables(metadata, tables, partition_by, where)
    make_root(root, where)
    return tables


def existing_entries(entries: Callable[[str], list[Path]], tables: Sequence[str], if_exists: IfExists,
                     where: str) -> dict[str, list[Path]]:
    """``{table: entries(table)}``; with ``if_exists="fail"`` a present table raises
    :class:`SerializationError` (every present one listed)."""
    existing = {name: entries(name) for name in tables}
    present = {name: paths for name, paths in existing.items() if paths}
    if if_exists == "fail" and present:
        listed = "; ".join(f"{name}: {', '.join(str(p) for p in paths)}" for name, paths in present.items())
        raise SerializationError(f"Table(s) already in the {where} ({listed}) and if_exists='fail'; pass "
                                 "if_exists='replace' or 'append', or choose another folder.")
    return existing


def make_staging(root: Path) -> Path:
    """A new hidden staging folder inside ``root`` (same file system: moving out of it is a rename).

    Raises:
        SerializationError: It cannot be created.
    """
    try:
        return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    except OSError as exc:
        raise SerializationError(f"Cannot write to {str(root)!r}: {exc}") from exc


def remove_staging(staging: Path) -> None:
    """Delete a staging folder and what it holds; never raises (a failure is logged)."""
    try:
        shutil.rmtree(staging)
    except FileNotFoundError:
        pass
    except OSError as exc:
        _log.warning("staging_cleanup_failed", path=str(staging), error=str(exc))


class FolderSource(TableSource):
    """A folder whose entries are tables (or an explicit ``{table: path}`` mapping).

    Args:
        root: The folder (``None`` only with ``tables``).
        tables: Explicit ``{table: path}``; relative paths are taken from ``root``.

    Raises:
        SchemaError: Neither ``root`` nor ``tables``.
        SerializationError: ``root`` does not exist or is not a folder.
    """

    #: The format, for messages ("Parquet", "CSV").
    format_name = ""
    #: What a table is, for messages and the description of an explicit mapping.
    table_noun = "table file"

    def __init__(self, root: str | os.PathLike[str] | None = None, *,
                 tables: Mapping[str, str | os.PathLike[str]] | None = None) -> None:
        if root is None and tables is None:
            raise SchemaError(f"{type(self).__name__} needs a root folder or a tables={{name: path}} mapping.")
        self.root = Path(root) if root is not None else None
        self._explicit = None if tables is None else {
            str(name): (self.root / path if self.root is not None else Path(path)) for name, path in tables.items()}
        self.description = (str(self.root) if self.root is not None
                            else f"{len(self._explicit or {})} {self.table_noun}(s)")
        if self._explicit is None:
            self._paths()  # a missing root is named now, not at the first read

    @abstractmethod
    def _table_of(self, entry: Path) -> str | None:
        """The table a folder entry holds (``None``: not a table of this format)."""

    @abstractmethod
    def _column_types(self, table: str, frame: pd.DataFrame) -> dict[str, ColumnType]:
        """The storage types of ``table``'s columns (``frame``: the whole table, as read)."""

    def _paths(self) -> dict[str, Path]:
        """``{table: path}`` in name order.

        Raises:
            SerializationError: The root is missing or not a folder, or two entries hold one table.
        """
        if self._explicit is not None:
            return dict(sorted(self._explicit.items()))
        assert self.root is not None
        if not self.root.is_dir():
            what = "does not exist" if not self.root.exists() else "is not a folder"
            raise SerializationError(f"{self.format_name} source folder {str(self.root)!r} {what}; give the folder "
                                     f"holding the {self.table_noun}s.")
        found: dict[str, Path] = {}
        try:
            entries = sorted(self.root.iterdir())
        except OSError as exc:
            raise SerializationError(f"Cannot list {self.format_name} source folder {str(self.root)!r}: {exc}") from exc
        for entry in entries:
            if is_hidden(entry.name):
                continue
            table = self._table_of(entry)
            if table is None:
                continue
            if table in found:
                raise SerializationError(f"Table {table!r} is held twice in {str(self.root)!r}: {found[table].name} "
                                         f"and {entry.name}; remove one, or pass tables={{name: path}}.")
            found[table] = entry
        return found

    def _path(self, table: str) -> Path:
        """Where ``table`` lives.

        Raises:
            SchemaError: No such table (the message lists the known ones).
            SerializationError: The root, or the explicit path, is missing.
        """
        paths = self._paths()
        if table not in paths:
            known = ", ".join(paths) or "none"
            raise SchemaError(f"No table {table!r} in {self.format_name} source {self.description!r}; tables found: "
                              f"{known}.")
        path = paths[table]
        if not path.exists():
            raise SerializationError(f"{self.format_name} file for table {table!r} not found: {str(path)!r}; check "
                                     "the path.")
        return path

    def table_names(self) -> list[str]:
        """Every table of the folder (or of the mapping), in name order.

        Raises:
            SerializationError: The root is missing or cannot be listed.
        """
        return list(self._paths())

    def reflect(self, tables: Sequence[str] | None = None) -> "Metadata":
        """Columns, storage types, sdtypes and keys of ``tables`` (``None``: all).

        The storage types come from the files' schemas (CSV: from the values read); sdtypes,
        primary and foreign keys are detected from the data of the tables asked for
        (:meth:`Metadata.detect`), so every table asked for is read whole.

        Raises:
            SchemaError: A table named is missing.
            SerializationError: The folder or a file cannot be read.
        """
        from syntho_hive.core.metadata import Metadata

        names = list(self._paths()) if tables is None else table_selection(tables)
        for name in names:
            self._path(name)
        frames = {name: self.read_table(name) for name in names}
        metadata = Metadata.detect(frames) if frames else Metadata()
        for name, frame in frames.items():
            metadata.tables[name].column_types = self._column_types(name, frame)
        _log.info("source_reflected", source=self.description, tables=names)
        return metadata


@dataclass
class Staged:
    """One table staged for commit.

    Attributes:
        path: The staged file or folder.
        destination: Where it goes.
        merge: Move the files inside ``path`` into the existing folder ``destination`` (an append to a
            dataset) instead of moving ``path`` itself.
        replaced: Entries moved aside at commit besides the table's current ones with
            ``if_exists="replace"`` (the file an append rewrote into ``path``).
    """

    path: Path
    destination: Path
    merge: bool = False
    replaced: list[Path] = field(default_factory=list)


class FolderWriter(TargetWriter):
    """Stages tables in a hidden folder of ``root``; :meth:`commit` moves them all into place.

    Args:
        root: The target folder (it exists).
        tables: The tables the caller will write.
        if_exists: ``"fail"``, ``"replace"`` or ``"append"``.
        entries_of: A table's entries now in ``root`` (checked again at commit).
        format_name: For messages.
    """

    @property
    def finished(self) -> bool:
        return self._closed

    def __init__(self, root: Path, tables: Sequence[str], if_exists: IfExists,
                 entries_of: Callable[[str], list[Path]], format_name: str) -> None:
        self.root = root
        self.tables = list(tables)
        self.if_exists = if_exists
        self.entries_of = entries_of
        self.format_name = format_name
        self.staging = make_staging(root)
        self._staged: dict[str, Staged] = {}
        self._closed = False

    @abstractmethod
    def _stage(self, table: str, chunks: Iterable[pd.DataFrame]) -> Staged:
        """Write every chunk of ``table`` under :attr:`staging`."""

    @abstractmethod
    def _source(self, table: str, path: Path) -> TableSource:
        """A source reading the table ``table`` held by ``path`` (an existing entry of the root)."""

    def existing_rows(self, table: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """The values of ``columns`` in the rows of ``table`` an append adds to (see :class:`TargetWriter`).

        Raises:
            SchemaError: ``table`` was not opened.
            SerializationError: The existing file or folder cannot be read, or lacks a column.
        """
        if table not in self.tables:
            raise SchemaError(f"Table {table!r} was not opened for writing to {str(self.root)!r}; opened: "
                              f"{self.tables}.")
        present = self.entries_of(table) if self.if_exists == "append" else []
        if not present:
            return None
        return read_existing(self._source(table, present[0]), table, columns, str(present[0]))

    def write_table(self, table: str, chunks: Iterable[pd.DataFrame]) -> str:
        """Stage every chunk of ``table``; nothing in the root changes before :meth:`commit`.

        Returns:
            The path the table will have.

        Raises:
            SchemaError: ``table`` was not opened, or is written twice.
            SerializationError: The table cannot be written (errors of ``chunks`` propagate unchanged).
        """
        if self._closed:
            raise SerializationError(f"The write to {str(self.root)!r} is already committed or aborted; open the "
                                     "target again.")
        if table not in self.tables:
            raise SchemaError(f"Table {table!r} was not opened for writing to {str(self.root)!r}; opened: "
                              f"{self.tables}.")
        if table in self._staged:
            raise SchemaError(f"Table {table!r} is written twice to {str(self.root)!r}.")
        staged = self._stage(table, chunks)
        self._staged[table] = staged
        _log.info("table_staged", target=str(self.root), table=table, format=self.format_name)
        return str(staged.destination)

    def commit(self) -> None:
        """Move every staged table into place (see the module docstring for what readers see).

        Raises:
            SerializationError: A move failed, or a table appeared meanwhile with ``if_exists="fail"``;
                the root is left as it was.
        """
        if self._closed:
            raise SerializationError(f"The write to {str(self.root)!r} is already committed or aborted.")
        self._closed = True
        undo: list[tuple[str, Path, Path | None]] = []  # ("moved", from, to) / ("made", folder, None)
        try:
            for table, staged in self._staged.items():
                self._commit_table(table, staged, undo)
        except BaseException as exc:
            if self._undo(undo):
                self._remove_staging()
            else:  # keep what could not be moved back (old tables included) where the log says
                _log.error("target_rollback_incomplete", target=str(self.root), kept=str(self.staging))
            if isinstance(exc, SerializationError) or not isinstance(exc, OSError):
                raise
            raise SerializationError(f"Cannot move the tables into {str(self.root)!r}: {exc}; the folder is as it "
                                     "was.") from exc
        self._remove_staging()
        _log.info("target_committed", target=str(self.root), tables=list(self._staged), format=self.format_name)

    def _commit_table(self, table: str, staged: Staged, undo: list[tuple[str, Path, Path | None]]) -> None:
        present = self.entries_of(table)
        if self.if_exists == "fail" and present:
            raise SerializationError(f"Table {table!r} appeared in {str(self.root)!r} during the write "
                                     f"({', '.join(p.name for p in present)}) and if_exists='fail'.")
        olds = list(dict.fromkeys([*staged.replaced, *(present if self.if_exists == "replace" else [])]))
        aside = self.staging / ".replaced"
        for old in olds:
            aside.mkdir(exist_ok=True)
            moved = aside / f"{len(undo)}-{old.name}"
            os.replace(old, moved)
            undo.append(("moved", old, moved))
        if not staged.merge:
            os.replace(staged.path, staged.destination)
            undo.append(("moved", staged.path, staged.destination))
            return
        for source in sorted(p for p in staged.path.rglob("*") if p.is_file()):
            relative = source.relative_to(staged.path)
            folder = staged.destination
            for part in relative.parent.parts:  # partition folders the dataset does not have yet
                folder = folder / part
                if not folder.exists():
                    folder.mkdir()
                    undo.append(("made", folder, None))
            os.replace(source, staged.destination / relative)
            undo.append(("moved", source, staged.destination / relative))

    def _undo(self, undo: list[tuple[str, Path, Path | None]]) -> bool:
        """Reverse the moves of a failed commit; ``False`` when one could not be reversed (logged)."""
        complete = True
        for action, first, second in reversed(undo):
            try:
                if action == "moved" and second is not None:
                    os.replace(second, first)
                elif action == "made":
                    first.rmdir()
            except OSError as exc:
                complete = False
                _log.error("target_rollback_failed", target=str(self.root), path=str(first), error=str(exc))
        return complete

    def abort(self) -> None:
        """Discard everything staged; the root stays as it was."""
        self._closed = True
        self._remove_staging()
        _log.info("target_aborted", target=str(self.root), format=self.format_name)

    def _remove_staging(self) -> None:
        remove_staging(self.staging)


def ordered_like(chunk: pd.DataFrame, names: Sequence[str], where: str) -> pd.DataFrame:
    """``chunk`` with its columns in the order of ``names`` (an existing table's).

    Raises:
        SerializationError: The chunk's columns are not those of the existing table.
    """
    if list(chunk.columns) == list(names):
        return chunk
    if set(map(str, chunk.columns)) != set(names) or len(chunk.columns) != len(names):
        raise SerializationError(f"Cannot append to {where}: the rows have columns {list(chunk.columns)}, the "
                                 f"existing table {list(names)}; append rows with the same columns, or replace it.")
    return chunk[list(names)]


def check_tables(metadata: "Metadata", tables: Sequence[str], partition_by: Mapping[str, Sequence[str]],
                  where: str) -> None:
    """Every table written, and every table and column partitioned, is in ``metadata``."""
    unknown = [name for name in tables if name not in metadata.tables]
    if unknown:
        raise SchemaError(f"Table(s) {unknown} are not in the metadata given to the {where}; metadata tables: "
                          f"{sorted(metadata.tables)}.")
    for table, columns in partition_by.items():
        if table not in metadata.tables:
            raise SchemaError(f"partition_by names table {table!r}, which is not in the metadata; metadata tables: "
                              f"{sorted(metadata.tables)}.")
        config = metadata.tables[table]
        known = set(config.column_types) | set(config.columns)
        missing = [column for column in columns if known and column not in known]
        if missing:
            raise SchemaError(f"partition_by[{table!r}] names column(s) {missing} that table {table!r} does not "
                              f"have; its columns: {sorted(known)}.")


def check_partition_by(partition_by: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """``partition_by`` checked: ``{table: [distinct column names]}`` (``{}`` for ``None``).

    Raises:
        SchemaError: Not a mapping of non-empty lists of distinct names.
    """
    if partition_by is None:
        return {}
    if not isinstance(partition_by, Mapping):
        raise SchemaError(f"partition_by must map table names to column lists, got {type(partition_by).__name__}.")
    checked: dict[str, list[str]] = {}
    for table, columns in partition_by.items():
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns) or not columns:
            raise SchemaError(f"partition_by[{table!r}] must be a non-empty list of column names, got {columns!r}.")
        if len(set(columns)) != len(columns):
            raise SchemaError(f"partition_by[{table!r}] repeats a column: {list(columns)}.")
        checked[str(table)] = list(columns)
    return checked
