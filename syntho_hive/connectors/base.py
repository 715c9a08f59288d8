"""What every connector is: a :class:`TableSource` to read real tables from, a :class:`TableTarget`
to write synthetic ones to.

A source knows its tables, reflects them into :class:`~syntho_hive.core.metadata.Metadata`
(columns, sdtypes, storage types and, where the source declares them, keys), streams a table in
chunks, and reads a key-closed :class:`~syntho_hive.relational.subset.Subset` of a schema (a
database computes it on the server; the default here computes it in pandas).

A target is opened once per ``Synthesizer.sample`` call, *before* any row is generated (so a
table that exists with ``if_exists="fail"`` stops the call at once); the open
:class:`TargetWriter` then receives every table, parents before children, as an iterator of
chunks, and either commits all of them or aborts, leaving the destination as it was.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import pandas as pd

from syntho_hive.exceptions import ConfigurationError, SchemaError, SerializationError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata import Metadata
    from syntho_hive.relational.subset import Subset, SubsetReport

__all__ = ["TableSource", "TableTarget", "TargetWriter", "IfExists", "DEFAULT_CHUNK_ROWS", "check_if_exists",
           "table_selection"]

IfExists = Literal["fail", "replace", "append"]
#: Rows per chunk when a source streams a table and nobody said otherwise.
DEFAULT_CHUNK_ROWS = 50_000


def check_if_exists(value: object) -> IfExists:
    """``value`` when it is ``"fail"``, ``"replace"`` or ``"append"``.

    Raises:
        SchemaError: Any other value.
    """
    if value not in ("fail", "replace", "append"):
        raise SchemaError(f"if_exists must be 'fail', 'replace' or 'append', got {value!r}.")
    return value  # type: ignore[return-value]


def table_selection(tables: object) -> list[str]:
    """The table names of a ``reflect(tables=...)`` selection, each once, in the order given.

    Raises:
        ConfigurationError: ``tables`` is a single string, or not a collection of strings.
    """
    names = list(tables) if isinstance(tables, Iterable) and not isinstance(tables, (str, bytes)) else None
    if names is None or not all(isinstance(name, str) for name in names):
        raise ConfigurationError(f"tables must be a list of table names, got {tables!r}.")
    return list(dict.fromkeys(names))


class TableSource(ABC):
    """Where real tables are read from (a database, a folder of files, a Delta table...)."""

    #: A description safe to show in logs and messages (a URL with its password masked).
    description: str = ""

    @abstractmethod
    def table_names(self) -> list[str]:
        """Every table this source can read, in a stable order.

        Raises:
            SerializationError: The source cannot be reached.
        """

    @abstractmethod
    def reflect(self, tables: Sequence[str] | None = None) -> "Metadata":
        """The schema of ``tables`` (``None``: all): columns, sdtypes, storage types, keys.

        Raises:
            SchemaError: A table named is missing, or a foreign key points outside the selection.
            SerializationError: The source cannot be reached or read.
        """

    @abstractmethod
    def iter_table(self, table: str, *, columns: Sequence[str] | None = None,
                   chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Stream ``table`` in chunks of at most ``chunk_rows`` rows, every chunk with the same dtypes.

        A table without rows yields one empty chunk with the table's columns and dtypes.

        Raises:
            SchemaError: ``table`` or a column is missing.
            SerializationError: The source cannot be read.
        """

    def read_table(self, table: str, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The whole of ``table`` (or of ``columns``) as one frame, dtypes as :meth:`iter_table` gives them.

        Raises:
            SchemaError: ``table`` or a column is missing.
            SerializationError: The source cannot be read.
        """
        chunks = list(self.iter_table(table, columns=columns))
        if len(chunks) == 1:
            return chunks[0].reset_index(drop=True)
        return pd.concat(chunks, ignore_index=True)

    def read_tables(self, metadata: "Metadata",
                    subset: "Subset | None" = None) -> tuple[dict[str, pd.DataFrame], "SubsetReport | None"]:
        """Every table of ``metadata`` (only its columns), or the key-closed ``subset`` of them.

        The default reads each table whole and computes the subset in pandas
        (:func:`~syntho_hive.relational.subset.subset_frames`); database sources override it
        to compute the subset on the server and read only the rows kept.

        Args:
            metadata: The tables (and foreign keys) to read.
            subset: Which rows to keep (``None``: all).

        Returns:
            ``({table: frame}, report)``; the report (rows kept per table) is ``None`` without a subset.

        Raises:
            SchemaError: A table is missing from the source, or the subset does not fit the schema.
            SerializationError: The source cannot be read.
        """
        frames = {name: self.read_table(name, columns=_declared_columns(metadata, name))
                  for name in metadata.tables}
        if subset is None:
            return frames, None
        from syntho_hive.relational.subset import subset_frames

        return subset_frames(metadata, frames, subset)


def _declared_columns(metadata: "Metadata", table: str) -> list[str] | None:
    """The columns ``metadata`` names for ``table`` (storage types first, then sdtypes), or ``None``."""
    config = metadata.tables[table]
    names = list(config.column_types) or list(config.columns)
    return names or None


def read_existing(source: TableSource, table: str, columns: Sequence[str], where: str) -> pd.DataFrame:
    """``columns`` of the existing ``table`` read from ``source``, for :meth:`TargetWriter.existing_rows`.

    Raises:
        SerializationError: The table cannot be read, or lacks one of ``columns`` (``where`` names it).
    """
    try:
        return source.read_table(table, columns=list(columns))
    except SchemaError as exc:
        raise SerializationError(f"Cannot append to table {table!r} ({where}): {exc} Append to a table of "
                                 "the same columns, or replace it (if_exists='replace').") from exc


class TargetWriter(ABC):
    """An open write of one synthetic schema: tables arrive parents first, then commit or abort.

    Use it as a context manager: leaving the block normally commits, an exception aborts.
    """

    @abstractmethod
    def write_table(self, table: str, chunks: Iterable[pd.DataFrame]) -> str:
        """Write every chunk of ``table`` (consumed as it comes; one chunk may be empty).

        Returns:
            Where the table went, safe to show (e.g. ``"synthetic.customers"`` or a path).

        Raises:
            SerializationError: The write failed (the caller then calls :meth:`abort`).
            GenerationError: Errors raised while producing ``chunks`` propagate unchanged.
        """

    def existing_rows(self, table: str, columns: Sequence[str]) -> pd.DataFrame | None:
        """The values of ``columns`` in the rows ``table`` already holds that this write adds rows to.

        ``Synthesizer.sample`` reads the keys of a table it appends to, so that the new rows' keys
        continue after them instead of repeating them. Call it before :meth:`write_table` of ``table``.
        This default returns ``None`` (nothing to continue): a writer that appends to existing rows
        overrides it, or the new keys may repeat existing ones.

        Returns:
            One row per existing row, in the destination's dtypes; ``None`` when this write adds no rows
            to existing ones (``if_exists`` is not ``"append"``, or the table does not exist).

        Raises:
            SerializationError: The existing table cannot be read, or lacks one of ``columns``.
        """
        return None

    @abstractmethod
    def commit(self) -> None:
        """Make every table written visible at once (as far as the destination allows; see its docs).

        Raises:
            SerializationError: The commit failed; the destination is left as it was.
        """

    @abstractmethod
    def abort(self) -> None:
        """Undo everything written so far; never raises for a failure to clean up (it logs it)."""

    @property
    def finished(self) -> bool:
        """Whether :meth:`commit` or :meth:`abort` has run (a writer that does not track it says ``False``)."""
        return False

    def __enter__(self) -> "TargetWriter":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        """Commit on a clean exit, abort on an error; nothing when the block already committed or aborted."""
        if self.finished:
            return
        if kind is None:
            self.commit()
        else:
            self.abort()


class TableTarget(ABC):
    """Where synthetic tables are written (a database schema, a folder of files, Delta tables...)."""

    #: A description safe to show in logs and messages.
    description: str = ""

    @abstractmethod
    def open(self, metadata: "Metadata", tables: Sequence[str]) -> TargetWriter:
        """Check the destination and start writing ``tables`` (parents first) of ``metadata``.

        Called before any row is generated.

        Raises:
            SerializationError: A table exists and ``if_exists="fail"``, or the destination
                cannot be reached or written.
            SchemaError: A table name is not acceptable to the destination.
        """


