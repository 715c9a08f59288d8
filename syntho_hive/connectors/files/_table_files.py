"""Table files by name: which format a file's name says, and the one reader of whole table files.

:func:`read_table` is the reader of the command line and of ``Synthesizer`` (which also takes
file paths); :func:`table_format` tells a file's format from its name (also for output files).
(Re-exported by :mod:`syntho_hive.interface.files`.)
"""

from __future__ import annotations

import lzma
import os
import zipfile
from pathlib import Path
from typing import Literal

import pandas as pd

from syntho_hive.connectors.files._csv_text import read_csv
from syntho_hive.exceptions import SchemaError, SerializationError

__all__ = ["read_table", "table_format", "CSV_SUFFIXES", "PARQUET_SUFFIXES", "READ_ERRORS"]

#: CSV file names: plain, or compressed as pandas infers from the name (gzip, bz2, zip, xz).
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
#: Parquet file names.
PARQUET_SUFFIXES = (".parquet", ".pq")
#: What a reader raises on a damaged file: pandas and pyarrow (OSError, ValueError), truncated
#: xz (EOFError), damaged xz and zip archives.
READ_ERRORS = (OSError, ValueError, EOFError, lzma.LZMAError, zipfile.BadZipFile)


def is_hidden(name: str) -> bool:
    """Whether a folder entry is not a table or data file: names starting with ``.`` or ``_`` (staging
    folders, ``_SUCCESS``, ``_delta_log`` and other metadata)."""
    return name.startswith((".", "_"))


def holds_data_file(folder: Path) -> bool:
    """Whether ``folder`` is a dataset: a file not hidden (see :func:`is_hidden`) anywhere inside it (Parquet
    part files need no suffix: Hive writes ``000000_0``). An empty folder, or one holding only metadata, is not."""
    return any(part.is_file() and not is_hidden(part.name) for part in folder.rglob("*"))


def table_format(path: str | os.PathLike[str]) -> Literal["csv", "parquet"] | None:
    """The format a table file's name says: ``"csv"``, ``"parquet"`` or ``None`` (unknown).

    Args:
        path: A file name, ending (in any case) with one of :data:`CSV_SUFFIXES` or
            :data:`PARQUET_SUFFIXES`.

    Returns:
        ``"csv"``, ``"parquet"``, or ``None`` for any other name (a directory is not looked at).
    """
    name = Path(path).name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def read_table(path: str | os.PathLike[str], *, what: str) -> pd.DataFrame:
    """Read a table from a CSV file (optionally compressed), a Parquet file or a Parquet directory.

    CSV files (:data:`CSV_SUFFIXES`: ``.csv``, ``.csv.gz``, ``.csv.bz2``, ``.csv.zip``, ``.csv.xz``)
    go through :func:`read_csv`, so values keep their form; Parquet files (``.parquet``, ``.pq``)
    and directories of Parquet files (Spark/Hive output: part files, ``key=value`` partition
    folders) through :func:`pandas.read_parquet`.

    Args:
        path: The file or Parquet directory.
        what: What the table is for, named in error messages (e.g. ``"data['orders']"`` or
            ``"training data"``).

    Returns:
        The table (it may have no rows).

    Raises:
        SchemaError: The format cannot be told from the file name.
        SerializationError: The path does not exist, is not a file or directory, is a directory
            without data files, or cannot be read in its format.
    """
    path = Path(path)
    kind: str | None
    if path.is_dir():
        if not holds_data_file(path):
            raise SerializationError(f"Input directory {path} ({what}) holds no data file; give a CSV/Parquet "
                                     "file or a Parquet dataset directory.")
        kind = "parquet"
    else:
        kind = table_format(path)
    if kind is None:
        raise SchemaError(f"Cannot tell the format of input file {path} ({what}): name it {', '.join(CSV_SUFFIXES)}, "
                          f"{' or '.join(PARQUET_SUFFIXES)}, or give a directory of Parquet files.")
    if not path.exists():
        raise SerializationError(f"Input file not found: {path} ({what}); check the path.")
    if not (path.is_file() or path.is_dir()):
        raise SerializationError(f"Input path {path} ({what}) is neither a file nor a directory; give a "
                                 "CSV/Parquet file or a Parquet dataset directory.")
    try:
        return read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except READ_ERRORS as exc:
        raise SerializationError(f"Cannot read {kind} file {path} ({what}): {exc}") from exc
