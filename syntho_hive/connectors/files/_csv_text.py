"""CSV cells to typed columns and back: the exact CSV reader, whole or streamed, with or without ColumnTypes.

:func:`read_csv` and :func:`iter_csv` decide each column's type from *all* of its values (so a
streamed read gives the same dtypes in every chunk, and the same frame as a whole read);
with a :class:`ColumnType` per column they parse the text into the storage dtypes instead
(:func:`parse_typed_column`), and :func:`format_typed_column` writes values in the form that
parser reads back exactly.
"""

from __future__ import annotations

import datetime
import decimal
import os
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from syntho_hive.connectors._arrow_types import decimal_values
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SerializationError

__all__ = ["read_csv", "iter_csv", "parse_typed_column", "format_typed_column"]

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
_READ_OPTIONS = {"dtype": str, "keep_default_na": False, "na_values": [""]}


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
    frame = pd.read_csv(path, **_READ_OPTIONS)
    for position in range(frame.shape[1]):  # by position: column names may repeat
        column = frame.iloc[:, position]
        kind = _column_kind(column)
        if kind == "integer" and not _fits_int64(column):
            kind = "text"
        frame.isetitem(position, _parse_column(column, kind))
    return frame


def iter_csv(path: str | os.PathLike[str], chunk_rows: int,
             column_types: Mapping[str, ColumnType] | None = None) -> Iterator[pd.DataFrame]:
    """Stream a CSV file in chunks of at most ``chunk_rows`` rows, every chunk with the same dtypes.

    A column with a :class:`ColumnType` in ``column_types`` is parsed by :func:`parse_typed_column`;
    every other column gets the type :func:`read_csv` gives it, decided by a first pass over the
    whole file (one chunk in memory at a time), so the chunks put together equal ``read_csv(path)``.
    A file with a header and no rows yields one empty chunk.

    Args:
        path: The CSV file, optionally compressed (inferred from the name).
        chunk_rows: Most rows per chunk.
        column_types: Storage types by column name.

    Yields:
        The chunks, each with a ``RangeIndex`` from 0.

    Raises:
        SerializationError: A cell does not fit its ColumnType (the message names the column).
        ValueError: The file is not valid CSV (pandas' error).
    """
    column_types = dict(column_types or {})
    kinds: list[str | None] = []
    too_wide: list[bool] = []  # an integer beyond int64: text, once the column is known to be integers
    for chunk in pd.read_csv(path, chunksize=chunk_rows, **_READ_OPTIONS):
        if not kinds:
            kinds, too_wide = [None] * chunk.shape[1], [False] * chunk.shape[1]
        for position in range(chunk.shape[1]):
            if str(chunk.columns[position]) not in column_types and kinds[position] != "text":
                column = chunk.iloc[:, position]
                kinds[position] = _column_kind(column, kinds[position], sample=False)
                if kinds[position] == "integer" and not too_wide[position]:
                    too_wide[position] = not _fits_int64(column)
    kinds = ["text" if kind == "integer" and wide else kind for kind, wide in zip(kinds, too_wide)]
    for chunk in pd.read_csv(path, chunksize=chunk_rows, **_READ_OPTIONS):
        chunk = chunk.reset_index(drop=True)
        for position in range(chunk.shape[1]):
            column = chunk.iloc[:, position]
            declared = column_types.get(str(chunk.columns[position]))
            parsed = (parse_typed_column(column, declared, where=str(path)) if declared is not None
                      else _parse_column(column, kinds[position]))
            chunk.isetitem(position, parsed)
        yield chunk


def _missing_cells(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(missing mask, stripped cells)``: empty cells, blanks and NA spellings are missing."""
    stripped = column.str.strip()
    missing = (column.isna() | stripped.isin(_NA_TOKENS) | stripped.eq("")).to_numpy()
    return missing, stripped


def _column_kind(column: pd.Series, guess: str | None = None, *, sample: bool = True) -> str | None:
    """``"integer"``, ``"float"``, ``"boolean"`` or ``"text"`` for a column of text cells, given the kind
    of the column's earlier cells (``guess``, ``None``: none yet); ``guess`` when every cell is missing.
    ``sample``: classify the first values first (one text value there settles the column)."""
    missing, stripped = _missing_cells(column)
    values = stripped[~missing]
    if values.empty:
        return guess
    kind = guess
    if sample and len(values) > _KIND_SAMPLE_ROWS:
        kind = _csv_values_kind(values.iloc[:_KIND_SAMPLE_ROWS], guess)
    if kind != "text":
        kind = _csv_values_kind(values, kind)
    return kind


def _fits_int64(column: pd.Series) -> bool:
    """Whether a column of integer cells fits ``int64`` (beyond it, pandas would give uint64 or text)."""
    missing, stripped = _missing_cells(column)
    try:
        stripped[~missing].astype(np.int64)
    except OverflowError:
        return False
    return True


def _csv_values_kind(values: pd.Series, guess: str | None = None) -> str:
    """``"integer"``, ``"float"``, ``"boolean"`` or ``"text"`` for stripped, non-missing CSV cells.

    ``guess``, the kind of the column's other values, skips the checks it already rules out.
    """
    if guess in (None, "integer") and values.str.fullmatch(_INTEGER_PATTERN).all():
        return "integer"
    if guess in (None, "integer", "float") and values.str.fullmatch(_FLOAT_PATTERN).all():
        return "float"
    if guess in (None, "boolean") and values.isin(_BOOL_TOKENS).all():
        return "boolean"
    return "text"


def _parse_column(column: pd.Series, kind: str | None) -> pd.Series:
    """One column of text cells (NaN for empty ones) as ``kind`` (``None``/``"empty"``: all missing)."""
    present = column.notna()
    if kind == "text":
        return column.astype(object).where(present, None)
    if kind in (None, "empty"):
        return pd.Series(np.nan, index=column.index, dtype="float64", name=column.name)
    missing, stripped = _missing_cells(column)
    values = stripped[~missing]
    if kind == "integer":
        parsed = values.astype(np.int64)  # exact, unlike a detour through floats
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


# --------------------------------------------------------------------------- with ColumnTypes

_TRUE = ("true", "1", "t")
_FALSE = ("false", "0", "f")


def parse_typed_column(column: pd.Series, column_type: ColumnType, *, where: str) -> pd.Series:
    """Text cells (NaN for empty ones) in the storage dtype of ``column_type``.

    Text kinds (``string``, ``enum``, ``json``, ``uuid``) keep every cell as written, ``None`` for an
    empty one (``uuid`` in lower case); in every other kind a blank cell or an NA spelling is missing.
    Integers are exact (``Int64`` etc. when nullable, numpy ints otherwise), decimals ``Decimal``,
    booleans ``true``/``false``/``1``/``0`` in any case, dates and timestamps ISO 8601 (with a time
    zone: converted to UTC), times ``HH:MM:SS[.ffffff]``, binary values hexadecimal.

    Args:
        column: The cells as read (object, NaN for empty cells).
        column_type: The column's storage type.
        where: The file, for error messages.

    Returns:
        The column in its storage dtype.

    Raises:
        SerializationError: A cell does not fit the type, or a NOT NULL column has a missing cell.
    """
    kind = column_type.kind
    name = column.name
    if kind in ("string", "enum", "json", "uuid"):
        text = column.astype(object).where(column.notna(), None)
        return text.map(lambda v: v if v is None else v.lower()) if kind == "uuid" else text
    missing, stripped = _missing_cells(column)
    if missing.any() and not column_type.nullable:
        raise SerializationError(f"Column {name!r} of {where} is NOT NULL in its ColumnType but has "
                                 f"{int(missing.sum())} empty cell(s); declare it nullable=True.")
    values = stripped[~missing]
    try:
        return _typed(column, values, missing, column_type)
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        raise SerializationError(f"Cannot read column {name!r} of {where} as {column_type.describe()}: {exc}. "
                                 "Check the file against the metadata's ColumnType.") from exc


def _typed(column: pd.Series, values: pd.Series, missing: np.ndarray, column_type: ColumnType) -> pd.Series:
    kind, index, name = column_type.kind, column.index, column.name
    if kind == "integer":
        dtype = np.dtype(f"{'u' if column_type.unsigned else ''}int{column_type.bits or 64}")
        numbers = np.zeros(len(column), dtype=dtype)
        numbers[~missing] = [int(v) for v in values]  # exact; out of range: OverflowError
        if not column_type.nullable:
            return pd.Series(numbers, index=index, name=name)
        return pd.Series(pd.arrays.IntegerArray(numbers, missing), index=index, name=name)
    if kind == "float":
        numbers = np.full(len(column), np.nan, dtype="float32" if column_type.bits == 32 else "float64")
        numbers[~missing] = [float(v) for v in values]
        return pd.Series(numbers, index=index, name=name)
    if kind == "boolean":
        lower = values.str.lower()
        bad = ~lower.isin(_TRUE + _FALSE)
        if bad.any():
            raise ValueError(f"{values[bad].iloc[0]!r} is not a boolean")
        flags = np.zeros(len(column), dtype=bool)
        flags[~missing] = lower.isin(_TRUE).to_numpy()
        if not column_type.nullable:
            return pd.Series(flags, index=index, name=name)
        return pd.Series(pd.arrays.BooleanArray(flags, missing), index=index, name=name)
    if kind in ("date", "timestamp"):
        utc = kind == "timestamp" and column_type.timezone
        parsed = pd.to_datetime(values, format="ISO8601", utc=utc)
        dtype = "datetime64[ns, UTC]" if utc else "datetime64[ns]"
        out = pd.Series(pd.NaT, index=index, name=name, dtype=dtype)
        out[~missing] = parsed.dt.normalize() if kind == "date" else parsed
        return out
    if kind == "decimal":
        out_values = [None] * len(column)
        for position, value in zip(np.flatnonzero(~missing), values):
            out_values[position] = decimal.Decimal(value)
        return pd.Series(out_values, index=index, name=name, dtype=object)
    if kind == "time":
        out_values = [None] * len(column)
        for position, value in zip(np.flatnonzero(~missing), values):
            out_values[position] = datetime.time.fromisoformat(value)
        return pd.Series(out_values, index=index, name=name, dtype=object)
    out_values = [None] * len(column)  # binary
    for position, value in zip(np.flatnonzero(~missing), values):
        out_values[position] = bytes.fromhex(value)
    return pd.Series(out_values, index=index, name=name, dtype=object)


def format_typed_column(series: pd.Series, column_type: ColumnType) -> pd.Series:
    """``series`` as the text :func:`parse_typed_column` reads back into the same values.

    Decimals in plain notation (``1234.50``, never ``1.2345E+3``; floats rounded to the scale),
    dates ``YYYY-MM-DD``, timestamps ``YYYY-MM-DD HH:MM:SS.ffffff`` (in UTC with ``+00:00`` when
    time-zone aware), times ISO, binary values hexadecimal; other kinds are left to pandas.

    Args:
        series: The column, in its storage dtype.
        column_type: Its storage type.

    Returns:
        An object column of ``str`` (``None`` for missing values), or ``series`` itself.
    """
    kind = column_type.kind
    missing = series.isna().to_numpy()
    if kind == "decimal":
        values = decimal_values(series, column_type.scale)
        return pd.Series([None if v is None else format(v, "f") for v in values], index=series.index,
                         name=series.name, dtype=object)
    if kind in ("date", "timestamp"):
        utc = kind == "timestamp" and column_type.timezone
        stamps = pd.to_datetime(series, utc=True) if utc else pd.to_datetime(series)
        if not utc and stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        pattern = "%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S.%f"
        text = stamps.dt.strftime(pattern)
        if utc:
            text = text + "+00:00"
        return text.astype(object).where(~missing, None)
    if kind == "time":
        return series.map(lambda v: None if v is None or v is pd.NA else v.isoformat()).astype(object)
    if kind == "binary":
        return series.map(lambda v: None if v is None or v is pd.NA else bytes(v).hex()).astype(object)
    return series
