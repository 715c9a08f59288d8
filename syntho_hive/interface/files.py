"""Reading users' table files: CSV so that values keep their form, Parquet files and directories.

:func:`read_table` is the one reader of the command line and of ``Synthesizer`` (which also
takes file paths); :func:`table_format` tells a file's format from its name (also for output
files).
"""

from __future__ import annotations

import lzma
import os
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from syntho_hive.exceptions import SchemaError, SerializationError

__all__ = ["read_csv", "read_table", "table_format", "CSV_SUFFIXES", "PARQUET_SUFFIXES"]

#: CSV file names: plain, or compressed as pandas infers from the name (gzip, bz2, zip, xz).
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
#: Parquet file names.
PARQUET_SUFFIXES = (".parquet", ".pq")
#: What a reader raises on a damaged file: pandas and pyarrow (OSError, ValueError), truncated
#: xz (EOFError), damaged xz and zip archives.
_READ_ERRORS = (OSError, ValueError, EOFError, lzma.LZMAError, zipfile.BadZipFile)


#: The cells pandas' ``read_csv`` turns into missing values by default (its ``na_values``
#: documentation, less the empty string). :func:`read_csv` treats them as missing only in a column
#: whose other values are all numbers or all booleans; elsewhere they are ordinary text.
_NA_TOKENS = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)
#: The spellings pandas' default reader parses as booleans.
_BOOL_TOKENS = ("True", "False", "TRUE", "FALSE", "true", "false")
#: Numbers as :func:`read_csv` recognises them. A zero followed by more digits ("007", "02134",
#: "-05", "00.5") is not a number: such values are codes, which would lose their leading zeros.
_INTEGER_PATTERN = r"[+-]?(?:0|[1-9][0-9]*)"
_FLOAT_PATTERN = (r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
                  r"|(?i:inf|infinity))")
#: The first values of a column are classified first: one text value there settles the column.
_KIND_SAMPLE_ROWS = 1000


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV file so that writing the synthetic rows back gives values in the same form.

    Every cell is first read as text (only an empty cell is missing); each column's type is then
    decided from all of its values, one vectorised pass per column:

    * A column whose values are all integers (``-3``, ``+5``, ``42``) is ``int64``, or ``Int64``
      when it has gaps: pandas' default reader would turn it into floats (``63`` written back as
      ``63.0``). A column with an integer outside the ``int64`` range is text (long identifiers
      keep every digit).
    * A column whose values are all numbers, some with a decimal point or an exponent (``1.5``,
      ``.5``, ``2e-3``) or infinite (``inf``, ``-Infinity``, any case), is ``float64`` with NaN for
      gaps, parsed exactly (the nearest double, as Python's ``float``; pandas' fast parser is
      sometimes one unit in the last place off).
    * Zero-padded values are codes, not numbers: a column with a ``0`` followed by more digits
      (``"007"``, ``"02134"``, ``"-05"``, ``"00.5"``), signed or not, is text, so a zip or product
      code keeps its leading zeros. (``0``, ``-0``, ``0.5`` and ``0e3`` are numbers.)
    * A column of ``True`` / ``False`` (also all upper or lower case) is ``bool``, or ``boolean``
      when it has gaps.
    * In those number and boolean columns, pandas' default NA spellings (:data:`_NA_TOKENS`:
      ``NA``, ``N/A``, ``NULL``, ``NaN``, ``None``, ...) and blank cells are gaps, so ``1, 2, NA``
      is an ``Int64`` column with one gap.
    * Every other column is text: ``object`` dtype with the cells' ``str`` values exactly as
      written (spaces included) and ``None`` for empty cells. NA spellings are ordinary values
      there: ``NA`` in ``EU, NA, AS`` is North America and ``NA`` in a ``country`` column is
      Namibia, not a gap (pandas' default reader loses both). Numbers with thousands separators
      (``1,000``) are text, as with pandas.
    * A column with nothing but empty cells, blanks and NA spellings is an all-missing ``float64``
      column (as with pandas), even one whose only value is ``NA``.

    Whitespace around a value is ignored when deciding whether it is a number, a boolean or
    an NA spelling (``1, 2, 3`` with spaces after the commas is an integer column).

    Args:
        path: The CSV file, optionally compressed (the compression is inferred from the name).

    Returns:
        The table, with the dtypes above.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for position in range(frame.shape[1]):  # by position: column names may repeat
        frame.isetitem(position, _typed_csv_column(frame.iloc[:, position]))
    return frame


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
        # Parquet part files need no suffix (Hive writes 000000_0); names starting with _ or . are metadata.
        if not any(p.is_file() and not p.name.startswith(("_", ".")) for p in path.rglob("*")):
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
    except _READ_ERRORS as exc:
        raise SerializationError(f"Cannot read {kind} file {path} ({what}): {exc}") from exc


def _typed_csv_column(column: pd.Series) -> pd.Series:
    """One column of text cells (NaN for empty ones) with the dtype :func:`read_csv` describes."""
    present = column.notna()
    stripped = column.str.strip()
    missing = (~present | stripped.isin(_NA_TOKENS) | stripped.eq("")).to_numpy()
    values = stripped[~missing]
    if values.empty:
        return pd.Series(np.nan, index=column.index, dtype="float64", name=column.name)
    kind = _csv_values_kind(values.iloc[:_KIND_SAMPLE_ROWS])
    if kind != "text" and len(values) > _KIND_SAMPLE_ROWS:
        kind = _csv_values_kind(values, guess=kind)
    if kind == "integer":
        try:
            parsed = values.astype(np.int64)  # exact, unlike a detour through floats
        except OverflowError:  # beyond int64 (pandas would give uint64 or text)
            kind = "text"
    if kind == "text":
        return column.astype(object).where(present, None)
    if kind == "integer":
        if not missing.any():
            return pd.Series(parsed.to_numpy(), index=column.index, name=column.name)
        numbers = np.zeros(len(column), dtype=np.int64)
        numbers[~missing] = parsed.to_numpy()
        return pd.Series(pd.arrays.IntegerArray(numbers, missing), index=column.index, name=column.name)
    if kind == "float":
        numbers = np.full(len(column), np.nan)
        numbers[~missing] = values.astype("float64").to_numpy()  # Python's float: correctly rounded
        return pd.Series(numbers, index=column.index, name=column.name)
    flags = np.zeros(len(column), dtype=bool)
    flags[~missing] = values.str.lower().eq("true").to_numpy()
    if not missing.any():
        return pd.Series(flags, index=column.index, name=column.name)
    return pd.Series(pd.arrays.BooleanArray(flags, missing), index=column.index, name=column.name)


def _csv_values_kind(values: pd.Series, guess: str | None = None) -> str:
    """``"integer"``, ``"float"``, ``"boolean"`` or ``"text"`` for stripped, non-missing CSV cells.

    ``guess``, the kind of the column's first values, skips the checks it already rules out.
    """
    if guess in (None, "integer") and values.str.fullmatch(_INTEGER_PATTERN).all():
        return "integer"
    if guess in (None, "integer", "float") and values.str.fullmatch(_FLOAT_PATTERN).all():
        return "float"
    if guess in (None, "boolean") and values.isin(_BOOL_TOKENS).all():
        return "boolean"
    return "text"
