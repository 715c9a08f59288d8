"""Inference of column semantic types, primary keys and foreign keys from data.

:func:`detect_sdtype` is the single source of truth for "what kind of column is this";
the transformer calls it for every column whose sdtype the user did not declare.
:func:`detect_metadata` builds a whole :class:`~syntho_hive.core.metadata.schema.Metadata`
(used by ``Metadata.detect``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.exceptions import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata.schema import Metadata, SDType

__all__ = ["detect_sdtype", "detect_metadata", "looks_like_id_name"]

#: Share of non-null strings that must parse as dates for a column to be a datetime.
DATE_PARSE_SHARE = 0.95
#: Strings longer than this on average (and mostly unique) are free text.
TEXT_MEAN_LENGTH = 50
#: Short strings are free text too (names, addresses) when at least this share of them is
#: distinct over at least :data:`TEXT_MIN_VALUES` values: no value repeats enough to be a category.
TEXT_DISTINCT_SHARE = 0.9
TEXT_MIN_VALUES = 10
#: Share of a child's non-null key values that must exist in the parent's key.
FK_CONTAINMENT = 0.8
#: Rows inspected when testing string columns (dates, UUIDs, lengths).
_SAMPLE = 2_000

_UUID_RE = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
# A date-ish string: digits with separators (2020-01-31, 31/01/2020, 2020.01.31 12:00), or a
# month name next to digits (Jan 5, 2020 / 5 January 2020). Pure digit strings are not dates, nor
# are times of day without a date ("17:13", "17:13:05", "5:30 pm"): pandas would parse them as
# today at that time, and no datetime format fits them.
_DATE_HINT_RE = (
    r"^\s*(\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?([ T]\d{1,2}:\d{2}.*)?"
    r"|\d{4}-\d{2}-\d{2}T.*"
    r"|.*\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b.*\d.*"
    r"|\d.*\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b.*)\s*$"
)
#: ``infer_dtype`` kinds it gives only when every value is a scalar of that kind (no list, dict, set or array).
_SCALAR_KINDS = frozenset({"empty", "string", "bytes", "integer", "floating", "mixed-integer-float", "decimal",
                           "complex", "boolean", "datetime64", "datetime", "date", "timedelta64", "timedelta", "time",
                           "period", "interval"})
_ID_SUFFIX_RE = re.compile(r"(?:^|[_\-\s.])(?:id|key|uuid|guid|pk|no|nr|num|number)$")
_CAMEL_ID_RE = re.compile(r"[a-z0-9](?:Id|ID|Key|Uuid|UUID|Guid|GUID|Code|No|Nr)$")


def looks_like_id_name(column_name: str) -> bool:
    """Whether a column name reads like an identifier.

    Matches ``id``, ``*_id``, ``*-key``, ``*_uuid``, ``*code`` (``zipcode``, ``product_code``),
    ``*_no``/``*_number`` and camelCase forms (``userId``, ``orderKey``).

    Args:
        column_name: The column name.

    Returns:
        ``True`` when the name looks like an identifier.
    """
    name = str(column_name).strip()
    lower = name.lower()
    if lower in {"id", "key", "uuid", "guid", "pk"}:
        return True
    if lower.endswith("code"):
        return True
    return bool(_ID_SUFFIX_RE.search(lower) or _CAMEL_ID_RE.search(name))


def _sample(values: pd.Series) -> pd.Series:
    """The first ``_SAMPLE`` values (deterministic, no RNG needed)."""
    return values.iloc[:_SAMPLE]


def _is_uuid_column(strings: pd.Series) -> bool:
    sample = _sample(strings)
    if sample.empty:
        return False
    return bool(sample.str.fullmatch(_UUID_RE).mean() >= DATE_PARSE_SHARE)


def _parses_as_dates(strings: pd.Series) -> bool:
    """Whether at least 95% of (a sample of) the non-null strings are dates."""
    sample = _sample(strings).str.strip()
    if sample.empty:
        return False
    hinted = sample.str.fullmatch(_DATE_HINT_RE, case=False)
    if hinted.mean() < DATE_PARSE_SHARE:
        return False
    with warnings.catch_warnings():
        # "Could not infer format" warnings are expected on mixed inputs.
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed", utc=True)  # several UTC offsets: instants
    return bool(parsed.notna().mean() >= DATE_PARSE_SHARE)


def _string_sdtype(strings: pd.Series, column_name: str, n_rows_non_null: int) -> SDType:
    """Classify non-null values that are all strings."""
    distinct = strings.nunique()
    unique_per_row = distinct == n_rows_non_null and n_rows_non_null > 1
    if _is_uuid_column(strings):
        return "id"
    if unique_per_row and looks_like_id_name(column_name):
        return "id"
    if _parses_as_dates(strings):
        return "datetime"
    sample = _sample(strings)
    if sample.str.len().mean() > TEXT_MEAN_LENGTH and sample.nunique() > 0.5 * len(sample):
        return "text"
    if n_rows_non_null >= TEXT_MIN_VALUES and distinct >= TEXT_DISTINCT_SHARE * n_rows_non_null:
        return "text"
    return "categorical"


def unsupported_values(series: pd.Series, column_name: str) -> str | None:
    """Why no engine can model ``series`` (complex numbers, periods, intervals), or ``None``.

    Such values would be mangled: complex numbers lose their imaginary part as floats, and periods
    and intervals come back as text their dtype cannot parse.
    """
    dtype = series.dtype
    return _unsupported(dtype, ptypes.infer_dtype(series.dropna(), skipna=True) if dtype == object else None,
                        column_name)


def _unsupported(dtype: object, inferred: str | None, column_name: str) -> str | None:
    """:func:`unsupported_values` of a column of ``dtype`` (``inferred``: ``infer_dtype`` of an object
    column's non-null values)."""
    if ptypes.is_complex_dtype(dtype):
        kind = "complex"
    elif isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype)):
        kind = "period" if isinstance(dtype, pd.PeriodDtype) else "interval"
    elif inferred is not None:
        kind = inferred
    else:
        return None
    hints = {"complex": "complex numbers (split them into a real and an imaginary column)",
             "period": "periods (convert them with Series.dt.to_timestamp() or astype(str))",
             "interval": "intervals (store their left and right ends as two numerical columns, or astype(str))"}
    if kind not in hints:
        return None
    return f"column {column_name!r} holds {hints[kind].replace(' (', ', which cannot be modelled (', 1)}"


def detect_sdtype(series: pd.Series, column_name: str) -> SDType:
    """Infer the semantic type of one column.

    Rules, in order:

    * bool / ``boolean`` dtype (or objects that are all bools) -> ``"boolean"``;
    * ``datetime64`` (tz-aware too), ``datetime.date`` objects, or strings of which at
      least 95% of the non-null values parse as dates -> ``"datetime"`` (strings need a date
      part: times of day such as ``"17:13"`` follow the string rules below);
    * integers that are unique, non-null and whose name looks like an id -> ``"id"``;
    * other int / float, durations and times of day (``datetime.time``, modelled as the duration
      since midnight) -> ``"numerical"`` (the transformer itself models low-cardinality ints as
      categoricals);
    * strings / objects: UUIDs, or unique-per-row values under an id-like name -> ``"id"``;
      long free text (mean length > 50, mostly unique) -> ``"text"``; so are shorter strings
      of which at least 90% are distinct, over 10 or more values (names, addresses: no value
      repeats enough to be learned as a category);
    * anything else (``category`` dtype included) -> ``"categorical"``.

    Args:
        series: The column.
        column_name: Its name (used for the id heuristics).

    Returns:
        One of ``numerical``, ``categorical``, ``datetime``, ``boolean``, ``id``, ``text``.

    Raises:
        SchemaError: The column holds nested values (lists, dicts, sets, arrays), complex numbers, periods
            or intervals (see :func:`unsupported_values`).
    """
    dtype = series.dtype
    non_null = kind = None
    if dtype == object:  # its values are read once: the inferred kind serves every rule below
        non_null = series.dropna()
        kind = ptypes.infer_dtype(non_null, skipna=True)
    unsupported = _unsupported(dtype, kind, column_name)
    if unsupported:
        raise SchemaError(unsupported[0].upper() + unsupported[1:] + ".")
    if non_null is not None and kind not in _SCALAR_KINDS:  # any other kind is checked value by value
        nested = {type(v).__name__ for v in non_null if isinstance(v, (list, dict, set, np.ndarray))}
        if nested:
            raise SchemaError(
                f"Column {column_name!r} holds nested values ({', '.join(sorted(nested))}; e.g. a Parquet "
                "list or struct column), which cannot be modelled; flatten it into scalar columns or drop it.")
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if ptypes.is_timedelta64_dtype(dtype) or getattr(dtype, "kind", None) == "m":  # also pyarrow durations
        return "numerical"
    if ptypes.is_numeric_dtype(dtype):
        if (
            ptypes.is_integer_dtype(dtype)
            and looks_like_id_name(column_name)
            and len(series) > 1
            and series.notna().all()
            and series.is_unique
        ):
            return "id"
        return "numerical"

    if non_null is None:
        non_null = series.dropna()
    if non_null.empty:
        return "categorical"
    if kind is None:
        kind = ptypes.infer_dtype(non_null, skipna=True)
    if kind == "boolean":
        return "boolean"
    if kind in {"datetime", "datetime64", "date"}:
        return "datetime"
    if kind in {"integer", "floating", "mixed-integer-float", "decimal"}:
        return detect_sdtype(pd.to_numeric(non_null), column_name)
    if kind == "time":  # datetime.time: modelled as the duration since midnight
        return "numerical"
    if kind == "string":
        return _string_sdtype(non_null.astype(str), column_name, len(non_null))
    return "categorical"


# --------------------------------------------------------------------------- whole schema


def _is_int_sequence(series: pd.Series) -> bool:
    if not ptypes.is_integer_dtype(series.dtype) or ptypes.is_bool_dtype(series.dtype):
        return False
    values = series.to_numpy(dtype=np.int64)
    return bool(values.size > 1 and int(values.max()) - int(values.min()) + 1 == values.size)


def _singular(name: str) -> str:
    lower = name.lower()
    if lower.endswith("ies"):
        return lower[:-3] + "y"
    if lower.endswith("s") and not lower.endswith("ss"):
        return lower[:-1]
    return lower


def _detect_pk(table_name: str, df: pd.DataFrame, sdtypes: Mapping[str, str],
               others: Mapping[str, pd.DataFrame]) -> str | None:
    """Choose a primary key: unique, non-null, and id-like by name, UUID content, int
    sequence, or a natural key (a column of the same name in another table mostly holds
    values of this one)."""
    singular = _singular(table_name)
    ranked: list[tuple[int, int, str]] = []
    for position, column in enumerate(df.columns):
        series = df[column]
        if len(series) == 0 or series.isna().any() or not series.is_unique:
            continue
        if ptypes.is_float_dtype(series.dtype) or ptypes.is_bool_dtype(series.dtype):
            continue
        lower = str(column).lower()
        if lower in {"id", f"{singular}_id", f"{table_name.lower()}_id", f"{singular}id"}:
            rank = 0
        elif looks_like_id_name(column) and singular in lower:
            rank = 1
        elif looks_like_id_name(column):
            rank = 2
        elif sdtypes.get(column) == "id":
            rank = 3
        elif _is_int_sequence(series):
            rank = 4
        elif any(column in other.columns and _contained(other[column], series)
                 for other in others.values()):
            rank = 5
        else:
            continue
        ranked.append((rank, position, str(column)))
    return min(ranked)[2] if ranked else None


def _fk_name_matches(column: str, parent: str, parent_pk: str) -> bool:
    lower = column.lower()
    pk = parent_pk.lower()
    if pk != "id":
        return lower == pk
    return lower in {f"{parent.lower()}_id", f"{_singular(parent)}_id", f"{_singular(parent)}id"}


def _contained(child: pd.Series, parent: pd.Series) -> bool:
    values = child.dropna()
    if values.empty:
        return False
    kinds = {ptypes.infer_dtype(values, skipna=True), ptypes.infer_dtype(parent, skipna=True)}
    if len(kinds) > 1 and not kinds <= {"integer", "floating", "mixed-integer-float"}:
        return False
    return bool(values.isin(parent.dropna()).mean() >= FK_CONTAINMENT)


def detect_metadata(
    dataframes: pd.DataFrame | Mapping[str, pd.DataFrame], table_name: str = "table"
) -> Metadata:
    """Infer a :class:`Metadata` (sdtypes, primary keys, foreign keys) from data.

    Args:
        dataframes: One DataFrame, or ``{table_name: DataFrame}``.
        table_name: Name given to a single DataFrame.

    Returns:
        A new :class:`Metadata`; every column has an sdtype, key columns are ``"id"``.

    Raises:
        SchemaError: If the input is not a DataFrame or a mapping of DataFrames.
    """
    from syntho_hive.core.metadata.schema import Metadata

    if isinstance(dataframes, pd.DataFrame):
        tables: dict[str, pd.DataFrame] = {table_name: dataframes}
    elif isinstance(dataframes, Mapping):
        tables = dict(dataframes)
    else:
        raise SchemaError("Metadata.detect expects a pandas DataFrame or a mapping {table_name: DataFrame}, "
                          f"got {type(dataframes).__name__}.")
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            raise SchemaError(f"Metadata.detect: table {name!r} is a {type(df).__name__}, expected a pandas DataFrame.")
        if not df.columns.is_unique:
            dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
            raise SchemaError(f"Table {name!r} has duplicated column names {dupes}; rename them.")

    sdtypes = {
        name: {str(col): detect_sdtype(df[col], str(col)) for col in df.columns}
        for name, df in tables.items()
    }
    pks = {
        name: _detect_pk(name, df, sdtypes[name],
                         {other: frame for other, frame in tables.items() if other != name})
        for name, df in tables.items()
    }

    metadata = Metadata()
    for name, df in tables.items():
        columns = dict(sdtypes[name])
        pk = pks[name]
        fks: dict[str, str] = {}
        for column in map(str, df.columns):
            if column == pk:
                continue
            for parent, parent_pk in pks.items():
                if parent == name or parent_pk is None:
                    continue
                if _fk_name_matches(column, parent, parent_pk) and _contained(
                    df[column], tables[parent][parent_pk]
                ):
                    fks[column] = f"{parent}.{parent_pk}"
                    columns[column] = "id"
                    break
        if pk is not None:
            columns[pk] = "id"
        metadata.add_table(name, pk=pk, fk=fks, columns=columns)
    return metadata
